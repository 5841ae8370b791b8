"""Write ``docs/catalogue.md`` from the registry (``arrayloss.catalog``).

The Sphinx build (``docs/conf.py``) writes the page at every build, so it is never stale and
is not committed; ``python docs/gen_catalogue.py`` writes it by hand.
"""

from __future__ import annotations

import inspect
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent


def _options(fn: object) -> str:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    opts = [f"`{p.name}={p.default!r}`" for p in sig.parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name not in ("weight", "where", "reduction")]
    return ", ".join(opts) or "—"


_TITLES = {"lovasz": "Lovász"}


def render() -> str:
    from arrayloss import catalog

    lines = [
        "# Catalogue",
        "",
        "Generated from the registry in `arrayloss.catalog` by `docs/gen_catalogue.py`; the test",
        "matrix and `python -m arrayloss` read the same records. Formulas, edge cases and",
        "references are in each function's docstring (below).",
        "",
    ]
    from arrayloss.losses import MODULES

    for family in MODULES:
        recs = catalog.records(family)
        if not recs:
            continue
        lines += [f"## {_TITLES.get(family, family.capitalize())}", "",
                  "| function | what | options | checked against | not supported on |",
                  "|---|---|---|---|---|"]
        for r in recs:
            peers = ", ".join(sorted({n.library for n in r.peers if not n.timing_only}
                                  | {"NumPy reference"}))
            unsup = "; ".join(f"{k}: {v}" for k, v in r.unsupported.items()) or "—"
            cells = [f"`{r.name}`", r.summary, _options(r.fn), peers, unsup]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
        for r in recs:
            doc = inspect.cleandoc(r.fn.__doc__ or "")
            sig = str(inspect.signature(r.fn))
            lines += [f"### `{r.name}`", "", "```text", f"{r.name}{sig}", "", doc, "```", "",
                      f"Inputs: {r.inputs}. Cases in the test matrix: "
                      + ", ".join(f"`{c.id}`" for c in r.cases) + ".", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    sys.path.insert(0, str(ROOT.parent / "src"))
    (ROOT / "catalogue.md").write_text(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
