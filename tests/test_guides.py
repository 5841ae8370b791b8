"""The user guides (``docs/guide-*.md``) run as written and check their own results.

Each page's ```python blocks (fences at the start of a line), concatenated in order, run in
one fresh interpreter whose working directory is a temporary one, so recipes may write
files. The interpreter gets this process's environment without ``KERAS_BACKEND`` (which
conftest.py sets for the tests' own use), plus the variables of an HTML comment on the
page's first line::

    <!-- guide-env: KERAS_BACKEND=jax OTHER=value -->

A missing library fails the page (an ``ImportError`` in its output), it never skips,
except for a page that needs a GPU backend and says so in an HTML comment of its first
line::

    <!-- guide-backend: cupy -->

Such a page runs where that backend row of the matrix is available, and is skipped
elsewhere, or fails when ``ARRAYLOSS_REQUIRE_BACKENDS`` names the row (as the GPU rows of
the matrix).
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from arrayloss.testing import backends
from conftest import require_backend

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
GUIDES = sorted(DOCS.glob("guide-*.md"))
TIMEOUT_S = 300  # each page aims at well under 30 s; the margin is for a loaded CI machine
_NOT_INHERITED = ("KERAS_BACKEND",)  # a page that needs it says so in its guide-env

_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", flags=re.S | re.M)
_ENV = re.compile(r"<!--\s*guide-env:(.*?)-->")
_BACKEND = re.compile(r"<!--\s*guide-backend:(.*?)-->")


def _blocks(page: pathlib.Path) -> list[str]:
    return _BLOCK.findall(page.read_text())


def _env(page: pathlib.Path) -> dict[str, str]:
    """The ``KEY=VALUE`` pairs of the page's first-line ``guide-env`` comment."""
    lines = page.read_text().splitlines()
    found = _ENV.search(lines[0]) if lines else None
    if found is None:
        return {}
    return dict(pair.split("=", 1) for pair in found.group(1).split())


def _backends(page: pathlib.Path) -> list[str]:
    """The backend row ids of the page's first-line ``guide-backend`` comment."""
    lines = page.read_text().splitlines()
    found = _BACKEND.search(lines[0]) if lines else None
    return found.group(1).split() if found else []


def test_there_are_guides() -> None:
    assert GUIDES, f"no guide-*.md page in {DOCS}"


@pytest.mark.parametrize("page", GUIDES, ids=[p.name for p in GUIDES])
def test_guide_runs(page: pathlib.Path, tmp_path: pathlib.Path) -> None:
    code = "\n\n".join(_blocks(page))
    assert code.strip(), f"{page.name} has no ```python block"
    compile(code, page.name, "exec")  # every page is valid Python, also where it cannot run
    for row in _backends(page):
        require_backend(backends.by_id(row))
    script = tmp_path / f"{page.stem}.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED} | _env(page)
    try:
        done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{page.name} ran for more than {TIMEOUT_S} s")
    assert done.returncode == 0, f"{page.name} exited {done.returncode}:\n{done.stderr}"


@pytest.mark.parametrize("page", GUIDES, ids=[p.name for p in GUIDES])
def test_guide_checks_its_results(page: pathlib.Path) -> None:
    assert any(re.search(r"\bassert\b", b) for b in _blocks(page)), (
        f"{page.name}: no ```python block holds an assert"
    )


@pytest.mark.parametrize("page", GUIDES, ids=[p.name for p in GUIDES])
def test_guide_is_in_the_toctree(page: pathlib.Path) -> None:
    index = (DOCS / "index.md").read_text()
    toctree = re.search(r"```\{toctree\}(.*?)```", index, flags=re.S)
    assert toctree is not None, "docs/index.md has no toctree"
    entries = {line.strip() for line in toctree.group(1).splitlines()}
    assert page.stem in entries, f"add `{page.stem}` to the toctree of docs/index.md"
