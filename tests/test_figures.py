"""The catalogue's pages: every registered loss has a figure spec whose curves are finite and
show something, its SVG renders, its example runs and prints its golden value, its family page
describes it; the docs build with ``sphinx -W``."""

from __future__ import annotations

import importlib
import inspect
import pathlib
import subprocess
import sys
import time
from types import ModuleType
from xml.etree import ElementTree

import numpy as np
import pytest

from arrayloss import catalog

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECORDS = catalog.records()
MAX_SVG_BYTES = 40_000


def _docs(name: str) -> ModuleType:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


@pytest.mark.parametrize("rec", RECORDS, ids=[r.name for r in RECORDS])
def test_every_loss_has_a_figure(rec: catalog.Record) -> None:
    fig = rec.figure
    assert fig is not None, f"{rec.name}: add figure=Figure(...) to its catalogue record"
    curves = fig.curves(rec.fn)
    assert len(curves) == max(len(fig.values), 1)
    assert len({label for label, _, _ in curves}) == len(curves)
    for label, x, y in curves:
        assert x.shape == y.shape
        assert np.all(np.isfinite(y)), (rec.name, label)
        assert np.ptp(y) > 1e-6, (rec.name, label, "a flat curve shows nothing")


@pytest.mark.parametrize("rec", RECORDS, ids=[r.name for r in RECORDS])
def test_figure_renders(rec: catalog.Record, tmp_path: pathlib.Path) -> None:
    path = _docs("gen_figures").render_loss(rec.name, tmp_path / f"{rec.name}.svg")
    text = path.read_text()
    root = ElementTree.fromstring(text.encode())  # well-formed XML
    assert root.tag.endswith("svg") and text.count("<path") >= 2
    assert 'style="fill: #ffffff' not in text  # transparent: no white background
    assert len(text.encode()) < MAX_SVG_BYTES


def test_galleries_render(tmp_path: pathlib.Path) -> None:
    gen = _docs("gen_figures")
    for key, (family, _, entries) in gen.GALLERIES.items():
        assert catalog.records(family)
        text = gen.render_gallery(key, tmp_path / f"{key}.svg").read_text()
        assert "<svg" in text
        for label, _, _ in entries:
            assert label.replace("&", "&amp;") in text


def test_all_figures_render_quickly(tmp_path: pathlib.Path) -> None:
    """Every figure and gallery, as the docs build draws them, in well under a minute."""
    start = time.perf_counter()
    paths = _docs("gen_figures").render(tmp_path)
    took = time.perf_counter() - start
    assert len(paths) == len(RECORDS) + 4
    assert all(p.stat().st_size > 0 for p in paths)
    assert took < 45.0, f"{took:.1f} s"  # about 11 s on an idle 2-core machine


@pytest.mark.parametrize("rec", RECORDS, ids=[r.name for r in RECORDS])
def test_example_runs(rec: catalog.Record) -> None:
    """The page's example runs as printed and gives the catalogue's golden value."""
    gen = _docs("gen_catalogue")
    code = gen.example(rec)
    scope: dict[str, object] = {}
    exec(compile(code, f"{rec.name} example", "exec"), scope)
    expected = gen.example_case(rec).expected
    np.testing.assert_allclose(np.asarray(scope["loss"]), expected, rtol=1e-5, atol=1e-6)
    assert all(len(line) <= gen.WIDTH for line in code.splitlines())


def test_family_pages_describe_every_loss() -> None:
    gen = _docs("gen_catalogue")
    overview = gen.render()
    for family in gen._families():
        page = gen.render_family(family)
        assert f"losses/{family}" in overview
        for rec in catalog.records(family):
            section = page.split(f"## `{rec.name}`")[1].split("\n## ")[0]
            assert f"figures/{rec.name}.svg" in section
            assert f"al.{rec.name}(" in section
            opening = inspect.cleandoc(rec.fn.__doc__ or "").splitlines()[0].split("``")[0]
            assert opening.strip() in section
            # the docstring is text: its first line is not inside a code block
            first = section.index(opening.strip())
            assert section[:first].count("```") % 2 == 0
            assert all(len(ln) <= gen.WIDTH for ln in gen.signature(rec.name, rec.fn).split("\n"))
            assert "random-" not in section  # no test-case ids


@pytest.mark.slow  # about 35 s on a 2-core machine (20 s of them the figures)
def test_sphinx_builds_without_warnings(tmp_path: pathlib.Path) -> None:
    """``sphinx -W`` builds the docs, generated pages and figures included."""
    import sphinx  # noqa: F401  (required: a missing Sphinx fails, it does not skip)

    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(ROOT / "docs"),
         str(tmp_path / "html")], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    site = tmp_path / "html"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()  # formulas render offline
    for rec in RECORDS:
        # each loss's section of the built family page: its figure (copied into the site),
        # its formula as math and its example
        page = (site / "losses" / f"{rec.family}.html").read_text()
        section = page.split(f'<section id="loss-{rec.name.replace("_", "-")}">')[1]
        section = section.split("<section id=")[0]
        assert f'src="../_images/{rec.name}.svg"' in section, rec.name
        assert (site / "_images" / f"{rec.name}.svg").stat().st_size > 1000
        assert 'class="math' in section, rec.name
        assert f"{rec.name}</span><span" in section, rec.name  # al.<name>( in the example
