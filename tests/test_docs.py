"""The docs: the generated catalogue page is current, the README tour and the landing
page's quick start run."""

from __future__ import annotations

import importlib
import pathlib
import re
import sys

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from arrayloss.testing import backends
from conftest import require_backend

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _catalogue() -> str:
    """The generated overview and family pages."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import gen_catalogue
    finally:
        sys.path.pop(0)
    families = sorted({r.family for r in catalog.records()})
    return "\n".join([gen_catalogue.render(), *map(gen_catalogue.render_family, families)])


def test_catalogue_page_covers_every_record() -> None:
    """The generated pages have a section per loss, with its docstring and example."""
    page = _catalogue()
    for r in catalog.records():
        assert f"## `{r.name}`" in page
        assert f"loss = al.{r.name}(" in page


def test_docs_mention_every_public_name() -> None:
    text = "\n".join([*(p.read_text() for p in (ROOT / "docs").glob("*.md")), _catalogue()])
    missing = [n for n in al.__all__ if not n.startswith("_") and n not in text]
    assert not missing, missing


def test_readme_tour_runs() -> None:
    """The README's tour, up to the CuPy lines (no GPU here), runs as written."""
    require_backend(backends.by_id("torch"))
    require_backend(backends.by_id("jax"))
    readme = (ROOT / "README.md").read_text()
    tour = re.search(r"```python\n(.*?)```", readme, flags=re.S)
    assert tour is not None
    code = tour.group(1).split("import cupy")[0]
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)
    tp = scope["tp"]
    assert scope["loss"].item() == pytest.approx(0.454)  # type: ignore[attr-defined]
    assert tp.grad is not None  # type: ignore[attr-defined]


def test_landing_page_runs() -> None:
    """The quick start of docs/index.md, up to its CuPy block (run on GPU machines by the
    CuPy guide), runs as written and gives the numbers its comments show."""
    require_backend(backends.by_id("torch"))
    require_backend(backends.by_id("jax"))
    page = (ROOT / "docs" / "index.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", page, flags=re.S | re.M)
    code = "\n".join(b for b in blocks if "import cupy" not in b)
    assert len(blocks) == 4 and "cross_entropy" in code
    scope: dict[str, object] = {}
    exec(compile(code, "index.md", "exec"), scope)
    assert float(al.huber_loss(scope["pred"], scope["target"])) == pytest.approx(0.729)
    x = scope["x"]
    assert x.grad is not None  # type: ignore[attr-defined]
    grad = scope["grad_fn"](scope["pred"], scope["target"])  # type: ignore[operator]
    expected = np.tanh(scope["pred"] - scope["target"]) / 5  # type: ignore[operator]
    assert np.allclose(np.asarray(grad), expected, rtol=1e-5, atol=1e-7)


#: the widest code line the pages show without scrolling at 1280 px (docs/_static/arrayloss.css)
CODE_COLUMNS = 92


def test_code_blocks_fit_the_page() -> None:
    """No line of a code block on any page (written or generated) is cut off at the page's
    right edge on a desktop screen."""
    pages = {p.name: p.read_text() for p in (ROOT / "docs").glob("*.md")}
    pages["generated catalogue"] = _catalogue()
    blocks = [(name, lang, body) for name, text in pages.items()
              for lang, body in re.findall(r"^```([^\n]*)\n(.*?)^```", text, flags=re.S | re.M)]
    assert len(blocks) > 100
    long = [(name, line) for name, lang, body in blocks if not lang.startswith("{")
            for line in body.splitlines() if len(line) > CODE_COLUMNS]
    assert not long, long


#: remarks for the developers that have no place in what users read (help(), the site)
_DEV_REMARKS = re.compile(r"\.md\b|\bissue \d|2-core|test matrix|tests/|CATALOGUE|DESIGN"
                          r"|\b_ops\b|_kernels")


@pytest.mark.parametrize("record", catalog.records(), ids=lambda r: r.name)
def test_docstring_states_the_formula_as_math(record: catalog.Record) -> None:
    """Every loss's docstring has its formula as a ``.. math::`` block (rendered on the
    family page), a plain first line (the catalogue tables show it) and no developer
    remarks."""
    doc = record.fn.__doc__ or ""
    assert ".. math::" in doc
    assert ":math:" not in doc.strip().splitlines()[0]
    assert not _DEV_REMARKS.search(doc), _DEV_REMARKS.findall(doc)
    intro = importlib.import_module(f"arrayloss.losses.{record.family}").__doc__ or ""
    assert not _DEV_REMARKS.search(intro), _DEV_REMARKS.findall(intro)  # the page's top
