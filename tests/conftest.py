"""The backend fixture and the switches that turn a missing backend into a failure.

``ARRAYLOSS_REQUIRE_BACKENDS`` (comma-separated backend ids, or ``cpu`` for every CPU row):
a listed backend that is missing fails its tests instead of skipping them.
``ARRAYLOSS_REQUIRE_REFERENCES`` (comma-separated modules, e.g. ``optax,keras,scipy``): the
same for the peer libraries the reference tests compare against. GPU rows (``cupy``,
``torch:cuda``, ``jax:gpu``) skip cleanly without a GPU unless listed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "numpy")  # keras reference values only; no training

import pytest

from arrayloss import _backends

_backends.configure()


def _listed(var: str) -> set[str]:
    raw = os.environ.get(var, "")
    items = {s.strip() for s in raw.split(",") if s.strip()}
    if "cpu" in items:
        items |= {b.id for b in _backends.CPU_BACKENDS}
    return items


REQUIRED_BACKENDS = _listed("ARRAYLOSS_REQUIRE_BACKENDS")
REQUIRED_REFERENCES = _listed("ARRAYLOSS_REQUIRE_REFERENCES")


def require_backend(backend: _backends.Backend) -> _backends.Backend:
    """Skip (or fail, when required) if ``backend`` cannot run here."""
    ok, reason = backend.available()
    if not ok:
        # a listed row id, or a listed library for its CPU rows ("torch" covers torch and
        # torch:compile, not torch:cuda: GPU rows are required only by their own id)
        if backend.id in REQUIRED_BACKENDS or (
            not backend.gpu and backend.module in REQUIRED_BACKENDS
        ):
            pytest.fail(f"required backend {backend.id} is unavailable: {reason}")
        pytest.skip(f"{backend.id}: {reason}")
    return backend


def require_module(module: str) -> None:
    """Skip (or fail, when required) if a reference library is not installed."""
    if importlib.util.find_spec(module) is None:
        if module in REQUIRED_REFERENCES:
            pytest.fail(f"required reference library {module} is not installed")
        pytest.skip(f"{module} is not installed")


def torch_or_skip() -> ModuleType:
    """``torch``, after ``require_backend`` for its eager row."""
    require_backend(_backends.by_id("torch"))
    return importlib.import_module("torch")


def numpy64(x: object) -> Any:
    """A float64 NumPy copy of an array or a torch tensor (detached, half precision
    widened): for comparing results with expected numbers."""
    import numpy as np

    if hasattr(x, "detach"):
        x = x.detach().cpu().double()  # type: ignore[attr-defined]
    return np.asarray(x, dtype=np.float64)


def jax_or_skip() -> ModuleType:
    """``jax``, after ``require_backend`` for its row."""
    require_backend(_backends.by_id("jax"))
    return importlib.import_module("jax")


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run a module of tiny torch calls single-threaded (torch's intra-op thread pool only
    adds wake-up latency there: tens of milliseconds per call on a busy 2-core machine
    instead of microseconds); the setting is restored afterwards."""
    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@pytest.fixture(params=[b.id for b in _backends.BACKENDS if b.mode != "inductor"])
def backend(request: pytest.FixtureRequest) -> _backends.Backend:
    """Every backend row of the matrix (the inductor row is used selectively)."""
    return require_backend(_backends.by_id(request.param))


def pytest_report_header(config: pytest.Config) -> list[str]:
    rows = []
    for b in _backends.BACKENDS:
        ok, reason = b.available()
        rows.append(f"{b.id}: {'yes' if ok else 'no (' + reason + ')'}")
    return ["arrayloss backends: " + "; ".join(rows),
            f"required backends: {sorted(REQUIRED_BACKENDS) or 'none'}; "
            f"required references: {sorted(REQUIRED_REFERENCES) or 'none'}"]
