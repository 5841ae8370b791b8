"""The backend fixture and the switches that turn a missing backend into a failure.

``ARRAYLOSS_REQUIRE_BACKENDS`` (comma-separated backend ids, or ``cpu`` for every CPU row):
a listed backend that is missing fails its tests instead of skipping them.
``ARRAYLOSS_REQUIRE_REFERENCES`` (comma-separated modules, e.g. ``optax,keras,scipy``): the
same for the peer libraries the reference tests compare against. GPU rows (``cupy``,
``torch:cuda``, ``jax:gpu``) skip cleanly without a GPU unless listed.

The end of the file holds helpers that several files of ``tests/losses/`` share: float64
comparison, golden-number dtypes, saturated-logit checks, a one-hot trap, and the segmentation
losses' catalogue examples, all-ignored check and Hypothesis strategy.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "numpy")  # keras reference values only; no training

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import strategies as st

from arrayloss.testing import backends

backends.configure()


def _listed(var: str) -> set[str]:
    raw = os.environ.get(var, "")
    items = {s.strip() for s in raw.split(",") if s.strip()}
    if "cpu" in items:
        items |= {b.id for b in backends.CPU_BACKENDS}
    return items


REQUIRED_BACKENDS = _listed("ARRAYLOSS_REQUIRE_BACKENDS")
REQUIRED_REFERENCES = _listed("ARRAYLOSS_REQUIRE_REFERENCES")


def require_backend(backend: backends.Backend) -> backends.Backend:
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
    require_backend(backends.by_id("torch"))
    return importlib.import_module("torch")


def numpy64(x: object) -> Any:
    """A float64 NumPy copy of an array or a torch tensor (detached, half precision
    widened): for comparing results with expected numbers."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().double()  # type: ignore[attr-defined]
    return np.asarray(x, dtype=np.float64)


def jax_or_skip() -> ModuleType:
    """``jax``, after ``require_backend`` for its row."""
    require_backend(backends.by_id("jax"))
    return importlib.import_module("jax")


def optax_or_skip() -> ModuleType:
    """``optax``, after ``require_module`` and ``require_backend`` for JAX's row."""
    require_module("optax")
    jax_or_skip()
    return importlib.import_module("optax")


def keras_or_skip() -> ModuleType:
    """``keras`` (its NumPy backend unless ``KERAS_BACKEND`` says otherwise), after
    ``require_module``."""
    require_module("keras")
    return importlib.import_module("keras")


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


@pytest.fixture(params=[b.id for b in backends.BACKENDS if b.mode != "inductor"])
def backend(request: pytest.FixtureRequest) -> backends.Backend:
    """Every backend row of the matrix (the inductor row is used selectively)."""
    return require_backend(backends.by_id(request.param))


def pytest_report_header(config: pytest.Config) -> list[str]:
    rows = []
    for b in backends.BACKENDS:
        ok, reason = b.available()
        rows.append(f"{b.id}: {'yes' if ok else 'no (' + reason + ')'}")
    return ["arrayloss backends: " + "; ".join(rows),
            f"required backends: {sorted(REQUIRED_BACKENDS) or 'none'}; "
            f"required references: {sorted(REQUIRED_REFERENCES) or 'none'}"]


# ---------------------------------------------------------------------------------------
# helpers shared by files of tests/losses/


def assert_close(got: Any, want: Any, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """``got`` (an array NumPy can read, or a number) equals ``want``, compared in float64."""
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol, atol=atol)


@pytest.fixture(params=["float64", "float32"])
def golden(request: pytest.FixtureRequest) -> tuple[Callable[[Any], Any], float, float]:
    """``(a, rtol, atol)`` for a loss's golden numbers, in float64 and in float32: ``a`` makes
    a NumPy array of that dtype, ``rtol`` and ``atol`` are the dtype's tolerances."""
    dtype = request.param
    rtol, atol = (1e-6, 1e-7) if dtype == "float64" else (1e-5, 1e-6)
    return functools.partial(np.asarray, dtype=dtype), rtol, atol


def _call(fn: Callable[..., Any], pred: Any, target: Any, opts: dict) -> Any:
    return fn(pred, **opts) if target is None else fn(pred, target, **opts)


def check_saturated_logits_torch(fn: Callable[..., Any], pred: np.ndarray,
                                 target: np.ndarray | None, opts: dict, dtype: str) -> None:
    """Logits of +-100 and +-1e4 in ``dtype`` (float32 or bfloat16), eager torch: finite,
    correct values and gradients (compared with the float64 computation on the same rounded
    inputs); half precision gives a float32 loss. ``target`` None: ``fn`` takes no target."""
    torch = torch_or_skip()
    dt = getattr(torch, dtype)
    z = torch.tensor(pred, dtype=dt, requires_grad=True)
    tgt = None
    if target is not None:
        tgt = torch.tensor(target) if target.dtype.kind == "i" else torch.tensor(target, dtype=dt)
    out = _call(fn, z, tgt, {**opts, "reduction": "none"})
    assert out.dtype == torch.float32  # half precision gives a float32 loss
    (g,) = torch.autograd.grad(out.sum(), z)
    assert torch.all(torch.isfinite(out)) and torch.all(torch.isfinite(g))
    z64 = z.detach().double().requires_grad_(True)
    t64 = None if tgt is None else (tgt if target.dtype.kind == "i" else tgt.double())
    out64 = _call(fn, z64, t64, {**opts, "reduction": "none"})
    (g64,) = torch.autograd.grad(out64.sum(), z64)
    rtol = 1e-5 if dtype == "float32" else 2e-2
    np.testing.assert_allclose(out.float().detach().numpy(), out64.detach().numpy(),
                               rtol=rtol, atol=rtol * 1e-1)
    np.testing.assert_allclose(g.float().numpy(), g64.numpy(), rtol=rtol, atol=rtol * 1e-1)


def check_saturated_logits_jax_float32(fn: Callable[..., Any], pred: np.ndarray,
                                       target: np.ndarray, opts: dict) -> None:
    """The same logits in float32 under JAX: a finite summed value and gradient, the value
    equal to the float64 NumPy computation on the same rounded inputs."""
    jax = jax_or_skip()
    import jax.numpy as jnp

    z = jnp.asarray(pred, dtype=jnp.float32)
    tgt = jnp.asarray(target) if target.dtype.kind == "i" else jnp.asarray(target, jnp.float32)
    val, g = jax.value_and_grad(lambda x: _call(fn, x, tgt, {**opts, "reduction": "sum"}))(z)
    assert np.isfinite(float(val)) and np.all(np.isfinite(np.asarray(g)))
    t64 = np.asarray(tgt) if target.dtype.kind == "i" else np.asarray(tgt, np.float64)
    want = np.sum(_call(fn, np.asarray(z, np.float64), t64, {**opts, "reduction": "none"}))
    assert_close(val, want, rtol=1e-5, atol=1e-6)


@pytest.fixture
def no_one_hot(monkeypatch: pytest.MonkeyPatch) -> None:
    """``arrayloss._ops.one_hot`` raises for the test: integer labels must be gathered."""
    from arrayloss import _ops

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("integer labels must be gathered, not one-hot encoded")

    monkeypatch.setattr(_ops, "one_hot", forbidden)


def check_catalogue_example(name: str, case: Any) -> None:
    """A catalogue example kept out of the matrix (``arrayloss.catalog.overlap.GOLDEN``):
    NumPy float64 equals the golden number and the loss's float64 reference; torch and
    jitted JAX agree in float32."""
    import arrayloss as al
    from arrayloss import catalog

    fn = getattr(al, name)
    args, kw = case.inputs()
    got = np.asarray(fn(*args, **case.options, **kw))
    np.testing.assert_allclose(got, catalog.get(name).reference(*args, **case.options, **kw),
                               rtol=1e-10, atol=1e-12)
    if case.expected is not None:
        np.testing.assert_allclose(got, case.expected, rtol=1e-6, atol=1e-7)
    for backend_id in ("torch", "jax"):
        backend = require_backend(backends.by_id(backend_id))
        conv, ckw = backend.convert(args, kw, "float32")
        out = backend.to_numpy(backend.call(fn, conv, {**case.options, **ckw}))
        np.testing.assert_allclose(out, got, rtol=1e-5, atol=1e-6)


def check_all_ignored_is_zero(fn: Callable[..., Any], backend_id: str, args: tuple,
                              opts: dict) -> None:
    """Every position ignored: the loss is 0 with zero gradients in every reduction."""
    backend = require_backend(backends.by_id(backend_id))
    for reduction in ("mean", "sum", "none"):
        (g,) = backend.grad(fn, args, {**opts, "reduction": reduction}, (0,))
        assert np.all(g == 0.0)
        (x, y), _ = backend.convert(args, {})
        assert np.all(backend.to_numpy(fn(x, y, **opts, reduction=reduction)) == 0.0)


@st.composite
def soft_segmentation(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (B, H, W, C) and labels (B, H, W)."""
    b, h, w, c = (draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4)),
                  draw(st.integers(2, 4)))
    unit = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False, width=64)
    p = draw(hnp.arrays(np.float64, (b, h, w, c), elements=unit))
    lab = draw(hnp.arrays(np.int64, (b, h, w), elements=st.integers(0, c - 1)))
    return p, lab


def first_plain_case(record: Any) -> Any:
    """The first catalogue case of ``record`` with no array option and no empty input."""
    for case in record.cases:
        args, kw = case.inputs()
        if not kw and all(a.size for a in args):
            return case
    raise AssertionError(record.name)
