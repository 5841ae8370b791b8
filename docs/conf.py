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

import gen_catalogue  # noqa: E402
import gen_figures  # noqa: E402

import arrayloss  # noqa: E402

project = "arrayloss"
release = version = arrayloss.__version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
autodoc_member_order = "bysource"

# the catalogue, its family pages and their figures are generated from the registry at
# every build
gen_catalogue.write()
gen_figures.render()
