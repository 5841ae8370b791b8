"""Packaging promises: the README's two commands, .ci/run, version, typing marker, exports."""

from __future__ import annotations

import pathlib
import re

import tomllib

import arrayloss as al

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = _bash_blocks(readme)
    assert len(blocks) == 2, blocks
    main_cmd, test_cmd = blocks
    assert "python -m arrayloss" in main_cmd and "pip install" in main_cmd
    assert "pytest" in test_cmd and "torch==2.13.0" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci
    assert "ARRAYLOSS_REQUIRE_BACKENDS=cpu" in ci


def test_version_single_source() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in meta["project"]["dynamic"]
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", al.__version__)


def test_runtime_dependencies_are_numpy_and_compat_only() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {re.split(r"[<>=\[ ]", d)[0] for d in meta["project"]["dependencies"]}
    assert names == {"numpy", "array-api-compat"}
    extras = meta["project"]["optional-dependencies"]
    assert {"torch", "jax", "cupy", "dask", "test", "docs", "all"} <= set(extras)
    assert meta["project"]["scripts"]["arrayloss"] == "arrayloss.__main__:main"


def test_typed_and_exports() -> None:
    assert (ROOT / "src" / "arrayloss" / "py.typed").exists()
    assert len(set(al.__all__)) == len(al.__all__)
    for name in al.__all__:
        assert hasattr(al, name), name
