"""Look at the built site in a headless Chromium, as a reader would, at 1280 and 390 px.

    python -m sphinx -W -b html docs docs/_build/html
    python docs/check_site.py docs/_build/html [--shots DIR]

For every page, at both widths: the page is no wider than the window, no element sticks out
of it (outside a box that scrolls), every image loaded, MathJax rendered every formula without
an error; at 1280 px no code block needs scrolling. Full-page screenshots go to ``--shots``
(default: ``shots/`` next to the site). Exits 1 when a page fails a check.

Needs Playwright (``pip install playwright``) and a Chromium: the system's
(``apt install chromium``, found at ``/usr/bin/chromium``) or ``playwright install chromium``.
Not part of the test suite (the CI machine has no browser); run it after changing the
layout, the CSS or a generated page.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import sys
from typing import Any

WIDTHS = (1280, 390)
SKIP = {"genindex.html", "search.html", "py-modindex.html"}

# what a reader would see wrong, measured in the page once MathJax is done
MEASURE = """() => {
  const W = document.documentElement.clientWidth;
  const scrolls = el => {
    for (let e = el.parentElement; e; e = e.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)) return true;
    }
    return false;
  };
  const out = [...document.querySelectorAll('body *')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width && r.right > W + 1 && !scrolls(el);
  }).map(el => el.tagName.toLowerCase() + ': ' + (el.textContent || '').trim().slice(0, 60));
  const longest = e => (e.textContent || '').split('\\n')
    .reduce((a, b) => (a.length > b.length ? a : b)).slice(0, 100);
  return {
    wide: document.documentElement.scrollWidth > W + 1,
    out: out,
    broken: [...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(
      e => e.getAttribute('data-mjx-error') || 'error'),
    unrendered: [...document.querySelectorAll('div.math, span.math')].filter(
      e => !e.querySelector('mjx-container')).length,
    formulas: document.querySelectorAll('mjx-container').length,
    images: document.images.length,
    scrollingCode: [...document.querySelectorAll('div.body pre')].filter(
      e => e.scrollWidth > e.clientWidth + 1).map(longest),
  };
}"""


def _browser_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None  # Playwright's own download, if installed


def problems(width: int, r: dict[str, Any]) -> list[str]:
    """What is wrong on one page at one width."""
    found = []
    if r["wide"]:
        found.append("the page is wider than the window")
    found += [f"sticks out: {x}" for x in r["out"][:5]]
    found += [f"image not loaded: {x}" for x in r["broken"]]
    found += [f"MathJax error: {x}" for x in r["mathErrors"]]
    if r["unrendered"]:
        found.append(f"{r['unrendered']} formulas not rendered")
    if width >= 1000:
        found += [f"code scrolls: {x}" for x in r["scrollingCode"]]
    return found


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=pathlib.Path)
    parser.add_argument("--shots", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)
    site = args.site.resolve()
    shots = (args.shots or site.parent / "shots").resolve()
    shots.mkdir(parents=True, exist_ok=True)
    pages = sorted(p for p in site.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts
                   and p.name not in SKIP)
    failed = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_browser_path(), args=["--no-sandbox"])
        for width in WIDTHS:
            tab = browser.new_page(viewport={"width": width, "height": 900})
            for page in pages:
                tab.goto(page.as_uri())
                tab.wait_for_load_state("load")
                if tab.evaluate("!!window.MathJax"):
                    tab.wait_for_function("window.MathJax && MathJax.startup"
                                          " && MathJax.startup.promise")
                    tab.evaluate("MathJax.startup.promise")
                r = tab.evaluate(MEASURE)
                name = str(page.relative_to(site))
                found = problems(width, r)
                failed += bool(found)
                print(f"{width:>4} px  {name:<32} {r['images']:>3} images {r['formulas']:>4} "
                      f"formulas  {'ok' if not found else 'FAILED'}")
                for line in found:
                    print(f"          {line}")
                tab.screenshot(path=str(shots / f"{name.replace('/', '_')[:-5]}-{width}.png"),
                               full_page=True)
            tab.close()
        browser.close()
    print(f"{len(pages)} pages at {', '.join(map(str, WIDTHS))} px: "
          f"{failed} failed; screenshots in {shots}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
