"""Sphinx configuration for the arrayloss docs."""

from __future__ import annotations

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))
sys.path.insert(0, str(ROOT))

# the Keras adapters are documented from Keras's NumPy backend (no TensorFlow needed)
os.environ.setdefault("KERAS_BACKEND", "numpy")

import gen_benchmarks  # noqa: E402
import gen_catalogue  # noqa: E402
import gen_figures  # noqa: E402

import arrayloss  # noqa: E402

project = "arrayloss"
author = "the arrayloss developers"
copyright = "2026, the arrayloss developers (BSD 3-Clause licence)"
release = version = arrayloss.__version__
# formulas render with MathJax served from the built site itself (readable offline)
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax",
              "sphinx-mathjax-offline"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated"]
html_theme = "alabaster"
html_theme_options = {"page_width": "1160px", "sidebar_width": "230px"}
html_static_path = ["_static"]
html_css_files = ["arrayloss.css"]
autodoc_member_order = "bysource"

# the catalogue, its family pages and their figures are generated from the registry at
# every build, and the performance page's charts and tables from the benchmark's results
# (docs/benchmarks.json)
gen_catalogue.write()
gen_figures.render()
gen_benchmarks.render(ROOT / "_generated")
