"""Developer sessions: ``nox -s tests | lint | typecheck | docs | bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"

# Pin torch in test environments: a bare requirement pulls several GB of CUDA wheels.
TORCH = "torch==2.13.0"
CPU_EXTRAS = ".[torch,jax,dask,test]"
REQUIRED = {
    "ARRAYLOSS_REQUIRE_BACKENDS": "cpu",
    "ARRAYLOSS_REQUIRE_REFERENCES": "scipy,optax,keras,monai,kornia",
}


@nox.session
def tests(session: nox.Session) -> None:
    """The full CPU matrix: NumPy, array-api-strict, torch (+compile), JAX (jit), Dask."""
    session.install(TORCH, "-e", CPU_EXTRAS)
    session.run("python", "-m", "pytest", "-n", "2", *session.posargs, env=REQUIRED)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "benchmarks", "docs", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("mypy", "numpy", "array-api-compat")
    session.install("--no-deps", "-e", ".")
    session.run("mypy", "src/arrayloss")


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate the catalogue page from the registry and build the Sphinx site."""
    session.install(TORCH, "-e", ".[docs]")
    session.run("python", "docs/gen_catalogue.py")
    session.run("sphinx-build", "-W", "-b", "html", "docs", "docs/_build/html")


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks against the native implementations."""
    session.install(TORCH, "-e", CPU_EXTRAS)
    session.run("python", "benchmarks/run.py", *session.posargs)
