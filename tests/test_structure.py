"""The shape of the package, held against the code.

- The computing core (the losses, the shared operations, namespaces, checks, reductions,
  options, compile) imports no framework: only ``arrayloss._kernels`` names torch, JAX,
  NumPy, Dask, CuPy or array-api-strict functions. The catalogue (float64 NumPy references,
  peers), ``arrayloss.testing`` (backend rows), the report and the framework adapters
  (``arrayloss.torch``, ``arrayloss.keras``) are about the frameworks and are exempt.
- No source file over 500 lines; no benchmark engine in the package.
- The repository stands alone: no source, test or doc refers to documents outside it.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "arrayloss"
FRAMEWORKS = {"numpy", "torch", "jax", "jaxlib", "cupy", "dask", "array_api_strict", "keras"}
#: the kernels, the records and test helpers, the CLI report, and the framework adapters
#: (``arrayloss.torch``, ``arrayloss.keras``: their job is to speak one framework)
EXEMPT = ("_kernels", "catalog", "testing", "__main__.py", "torch", "keras")
CORE = sorted(p for p in PKG.rglob("*.py")
              if not any(part in EXEMPT for part in p.relative_to(PKG).parts))


def _imported_roots(path: pathlib.Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", CORE, ids=[str(p.relative_to(PKG)) for p in CORE])
def test_core_imports_no_framework(path: pathlib.Path) -> None:
    assert not _imported_roots(path) & FRAMEWORKS


def test_core_is_not_empty_and_kernels_cover_each_library() -> None:
    names = {str(p.relative_to(PKG)) for p in CORE}
    assert {"losses/categorical.py", "_ops.py", "_reduce.py", "_validate.py"} <= names
    kernels = {p.stem for p in (PKG / "_kernels").glob("*.py")} - {"__init__"}
    assert kernels == {"numpy", "torch", "jax", "dask", "cupy", "array_api_strict"}


def test_no_large_source_file_and_no_benchmark_engine() -> None:
    sizes = {str(p.relative_to(PKG)): len(p.read_text().splitlines())
             for p in PKG.rglob("*.py")}
    assert not {k: v for k, v in sizes.items() if v > 500}
    assert not [k for k in sizes if "bench" in k]
    assert (ROOT / "benchmarks" / "engine.py").is_file()


_OUTSIDE = re.compile(r"\.\./shared|CATALOGUE(-2)?\.md|\bAPI\.md|DESIGN\.md|\bissue \d")


def test_the_repository_stands_alone() -> None:
    files = [*PKG.rglob("*.py"), *(ROOT / "docs").glob("*.md"), *(ROOT / "docs").glob("*.py"),
             *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"),
             ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in files if p.name != "test_structure.py"
            for i, line in enumerate(p.read_text().splitlines(), 1) if _OUTSIDE.search(line)]
    assert not hits
