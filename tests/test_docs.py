"""The docs: the generated catalogue page is current, the README tour and the landing
page's quick start run."""

from __future__ import annotations

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
