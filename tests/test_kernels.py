"""Every kernel of ``arrayloss._kernels`` against its generic array-API path (the oracle).

For each operation with a kernel (and each loss with a fused kernel), on every CPU backend
(eager, ``torch.compile``, ``jax.jit``, lazy Dask, array-api-strict): the value equals the
generic path's, and under torch autograd and ``jax.grad`` so do the gradients. Then every
registered loss gives the same value and gradient with the kernels switched off
(``arrayloss._kernels.generic()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import _kernels, _namespace, _ops, catalog
from arrayloss.testing import backends, dispatch
from conftest import require_backend

CPU = [b.id for b in backends.CPU_BACKENDS if b.mode != "inductor"]
RNG = np.random.default_rng(7)
X = np.concatenate([RNG.normal(scale=3.0, size=(4, 5)),
                    np.array([[-1e4, 1e4, 0.0, 2.0, -3.0], [25.0, 30.0, -25.0, 0.0, 1.0]])])
Y = RNG.normal(size=X.shape)
Z = np.array([-800.0, -30.0, -1.0, 0.0, 2.0, 19.5, 21.0, 40.0, 800.0])
P = RNG.uniform(0.05, 0.95, size=X.shape)  # soft binary targets
PW = RNG.uniform(0.5, 3.0, size=X.shape[-1:])  # one pos_weight per column (class)
# logits with +-inf, their targets 0, 1 or soft: each term's limit, 0 where its coefficient is
ZINF = np.array([[np.inf, -np.inf, 1.5], [np.inf, -np.inf, -0.5], [np.inf, 2.0, -np.inf]])
PINF = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.5], [0.4, 1.0, 0.0]])
# rows holding +inf (one and two of them): the limit, mass on the +inf entries
XINF = np.array([[np.inf, 1.0, -2.0, 0.5], [np.inf, np.inf, 0.0, -np.inf], [1.0, 2.0, 3.0, 4.0]])


def _prim(name: str, **kw: Any) -> Callable[..., Any]:
    """``name`` applied with the namespace of its first argument."""

    def f(*xs: Any) -> Any:
        xp = _namespace.namespace("t", x=xs[0])
        return getattr(_ops, name)(xp, *xs, **kw)

    return f


_RESIDUAL = {"l1": (al.l1_loss, None), "squared": (al.mse_loss, None),
             "huber": (al.huber_loss, "delta"), "smooth_l1": (al.smooth_l1_loss, "beta"),
             "log_cosh": (al.log_cosh_loss, None)}


def _residual(kind: str, param: float) -> Callable[..., Any]:
    """The unreduced elementwise loss ``kind`` (its fused kernel, where one exists)."""
    loss, option = _RESIDUAL[kind]
    opts = {} if option is None else {option: param}

    def f(pred: Any, target: Any) -> Any:
        return loss(pred, target, reduction="none", **opts)

    return f


def _bce(**kw: Any) -> Callable[..., Any]:
    def f(z: Any, y: Any, *pw: Any) -> Any:
        extra = {"pos_weight": pw[0]} if pw else {}
        return al.binary_cross_entropy_with_logits(z, y, reduction="none", **kw, **extra)

    return f


def _bce_logits_only(target: np.ndarray) -> Callable[..., Any]:
    def f(z: Any) -> Any:
        xp = _namespace.namespace("t", x=z)
        y = xp.asarray(target, dtype=z.dtype, device=_namespace.device(z))
        return al.binary_cross_entropy_with_logits(z, y, reduction="none")

    return f


def _label_ce(labels: np.ndarray, **kw: Any) -> Callable[..., Any]:
    def f(z: Any) -> Any:
        xp = _namespace.namespace("t", x=z)
        y = xp.asarray(labels, dtype=xp.int32, device=_namespace.device(z))
        return al.cross_entropy(z, y, reduction="none", **kw)

    return f


def _sorted_values(**kw: Any) -> Callable[..., Any]:
    def f(x: Any) -> Any:
        return _ops.sort_with_indices(_namespace.namespace("t", x=x), x, **kw)[0]

    return f


# (id, operation, inputs, float32 rtol): every kernel and its interesting options
PRIMS = [
    ("logsumexp-last", _prim("logsumexp"), (X,), 1e-6),
    ("logsumexp-axis0-keepdims", _prim("logsumexp", axis=0, keepdims=True), (X,), 1e-6),
    ("log_softmax-last", _prim("log_softmax"), (X,), 1e-6),
    ("log_softmax-axis0", _prim("log_softmax", axis=0), (X,), 1e-6),
    ("softmax-last", _prim("softmax"), (X,), 1e-6),
    ("softmax-axis0", _prim("softmax", axis=0), (X,), 1e-6),
    ("softplus", _prim("softplus"), (Z,), 1e-6),
    ("log_sigmoid", _prim("log_sigmoid"), (Z,), 1e-6),
    ("sigmoid", _prim("sigmoid"), (Z,), 1e-6),
    ("relu", _prim("relu"), (Z - 2.0,), 1e-7),
    ("abs0", _prim("abs0"), (Z - 2.0,), 1e-7),
    # weights 0 and 1 (exactly an endpoint), soft ones, and one weight per column
    ("mix", _prim("mix"), (np.abs(X), np.abs(Y), np.where(P < 0.3, 0.0, np.where(P > 0.7, 1.0, P))),
     1e-6),
    ("mix-broadcast-weight", _prim("mix"), (np.abs(X), np.abs(Y), PW / 3.0), 1e-6),
    ("log_softmax-posinf", _prim("log_softmax"), (XINF,), 1e-6),
    ("softmax-posinf", _prim("softmax"), (XINF,), 1e-6),
    # NumPy's in-place path rounds its sum of non-negative terms in another order
    ("bce_with_logits", _bce(), (X, P), 1e-5),
    ("bce_with_logits-pw-number", _bce(pos_weight=2.5), (X, P), 1e-5),
    ("bce_with_logits-pw-array", _bce(), (X, P, PW), 1e-5),
    # infinite logits: the guarded formula (JAX decides at run time under jit)
    # (the gradient for the targets is infinite there: logits only)
    ("bce_with_logits-inf", _bce_logits_only(PINF), (ZINF,), 1e-5),
    # the label cross-entropy's log-sum-exp (JAX under jit: its own, with the +inf limits;
    # a masked class, -inf, at and off the label)
    ("cross_entropy-labels", _label_ce(np.array([0, 3, 2, 1, 0, 2])), (X,), 1e-6),
    ("cross_entropy-labels-smoothing", _label_ce(np.array([0, 3, 2, 1, 0, 2]),
                                                 label_smoothing=0.2), (X,), 1e-6),
    ("cross_entropy-labels-posinf", _label_ce(np.array([0, 1, 3])), (XINF,), 1e-6),
    ("cross_entropy-labels-neginf", _label_ce(np.array([1, 2, 1])), (XINF[[0, 2, 2]] * -1,),
     1e-6),
    ("sort_with_indices-values", _sorted_values(), (X,), 1e-7),
    ("sort_with_indices-values-axis0-desc", _sorted_values(axis=0, descending=True), (X,),
     1e-7),
    *[(f"residual-{kind}-{param:.3g}", _residual(kind, param), (X[:4], Y[:4]), 1e-6)
      for kind, param in (("l1", 1.0), ("squared", 1.0), ("huber", 1.0), ("huber", 0.3),
                          ("smooth_l1", 1.0), ("smooth_l1", 1 / 9), ("log_cosh", 1.0))],
]


def _both(b: backends.Backend, fn: Callable[..., Any], args: tuple[np.ndarray, ...],
          dtype: str) -> tuple[np.ndarray, np.ndarray]:
    conv, _ = b.convert(args, {}, dtype)
    fast = b.to_numpy(b.call(fn, conv, {}))
    with _kernels.generic():
        if b.mode == "compile":
            import torch

            torch._dynamo.reset()  # the flag is a guard; make sure the generic graph is traced
        generic = b.to_numpy(b.call(fn, conv, {}))
    return fast, generic


# torch:compile traces each case twice: float32 only there
ROWS = [(b, d) for b in CPU for d in ("float64", "float32")
        if not (b == "torch:compile" and d == "float64")]


@pytest.mark.parametrize(("pid", "fn", "args", "rtol32"), PRIMS, ids=[p[0] for p in PRIMS])
@pytest.mark.parametrize(("backend_id", "dtype"), ROWS)
def test_kernel_equals_generic(backend_id: str, pid: str, fn: Callable[..., Any],
                               args: tuple[np.ndarray, ...], rtol32: float, dtype: str) -> None:
    b = require_backend(backends.by_id(backend_id))
    fast, generic = _both(b, fn, args, dtype)
    assert fast.shape == generic.shape
    rtol = 1e-12 if dtype == "float64" else rtol32
    np.testing.assert_allclose(fast, generic, rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.parametrize(("pid", "fn", "args", "rtol32"), PRIMS, ids=[p[0] for p in PRIMS])
@pytest.mark.parametrize("backend_id", ["torch", "jax"])
def test_kernel_gradient_equals_generic(backend_id: str, pid: str, fn: Callable[..., Any],
                                        args: tuple[np.ndarray, ...], rtol32: float) -> None:
    b = require_backend(backends.by_id(backend_id))
    w = np.random.default_rng(1).uniform(0.5, 1.5, size=np.shape(fn(*args)))

    def weighted(*xs: Any) -> Any:
        out = fn(*xs)
        xp = _namespace.namespace("t", x=out)
        return out * xp.asarray(w, dtype=out.dtype, device=_namespace.device(out))

    argnums = tuple(range(len(args)))
    fast = b.grad(weighted, args, {}, argnums)
    with _kernels.generic():
        generic = b.grad(weighted, args, {}, argnums)
    for n, g in zip(fast, generic):
        assert np.all(np.isfinite(n))
        np.testing.assert_allclose(n, g, rtol=1e-12, atol=1e-14)


def test_float32_softplus_threshold_is_below_rounding() -> None:
    """torch's softplus returns x past 20: in float32 that is the correctly rounded value."""
    b = require_backend(backends.by_id("torch"))
    z = np.linspace(15.0, 40.0, 101)
    fast, _ = _both(b, _prim("softplus"), (z,), "float32")
    np.testing.assert_array_equal(fast, np.logaddexp(z, 0).astype(np.float32))


def test_generic_context_restores() -> None:
    assert _kernels.kernel("relu", "torch") is not None
    with _kernels.generic():
        assert _kernels.kernel("relu", "torch") is None
        with _kernels.generic():
            assert _kernels.kernel("relu", "numpy") is None
        assert _kernels.kernel("relu", "torch") is None
    assert _kernels.kernel("relu", "numpy") is not None
    assert _kernels.kernel("relu", "array_api_strict") is None


@pytest.mark.parametrize("backend_id", ["numpy", "torch", "torch:compile"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_with_indices_kernel_indices(backend_id: str, descending: bool) -> None:
    """The fast sort gives the generic permutation (no ties in ``X``'s rows)."""
    b = require_backend(backends.by_id(backend_id))

    def idx(x: Any) -> Any:
        return _ops.sort_with_indices(_namespace.namespace("t", x=x), x, descending=descending)[1]

    fast, generic = _both(b, idx, (X,), "float32")
    np.testing.assert_array_equal(fast, generic)
    np.testing.assert_array_equal(fast, np.argsort(-X if descending else X, axis=-1))


@pytest.mark.parametrize("backend_id", [b for b in CPU if b != "dask"])
def test_value_range_kernel_equals_generic(backend_id: str) -> None:
    """min and max (the value checks' fast path), NaN propagating, on every eager backend."""
    b = require_backend(backends.by_id(backend_id))
    nan = X.copy()
    nan[1, 2] = np.nan
    for arr in (X, nan):
        def lo(x: Any) -> Any:
            return _ops.value_range(_namespace.namespace("t", x=x), x)[0]

        def hi(x: Any) -> Any:
            return _ops.value_range(_namespace.namespace("t", x=x), x)[1]

        for f, ref in ((lo, np.min(arr)), (hi, np.max(arr))):
            fast, generic = _both(b, f, (arr,), "float64")
            np.testing.assert_array_equal(fast, generic)
            np.testing.assert_array_equal(fast, ref)


@pytest.mark.parametrize("backend_id", ["torch", "jax"])
def test_mean_kernel_equals_generic(backend_id: str) -> None:
    """The large-input torch mean (``sum / n``): value and gradient as ``xp.mean``."""
    b = require_backend(backends.by_id(backend_id))
    big = np.random.default_rng(3).normal(size=((1 << 16) + 3,))  # past torch's sum / n

    def f(x: Any) -> Any:
        xp = _namespace.namespace("t", x=x)
        return _ops.mean(xp, x * x)

    fast, generic = _both(b, f, (big,), "float64")
    np.testing.assert_allclose(fast, generic, rtol=1e-13)
    gn = b.grad(f, (big,), {}, (0,))
    with _kernels.generic():
        gg = b.grad(f, (big,), {}, (0,))
    np.testing.assert_allclose(gn[0], gg[0], rtol=1e-13)


def test_numpy_bce_keeps_inputs_and_0d() -> None:
    z, y = X.copy(), P.copy()
    for pw in (None, 2.5, PW.copy()):
        al.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction="none")
        np.testing.assert_array_equal(z, X)
        np.testing.assert_array_equal(y, P)
        pw0 = None if pw is None else 2.5
        got = al.binary_cross_entropy_with_logits(np.asarray(-3.0), np.asarray(0.25),
                                                  pos_weight=pw0, reduction="none")
        with _kernels.generic():
            want = al.binary_cross_entropy_with_logits(np.asarray(-3.0), np.asarray(0.25),
                                                       pos_weight=pw0, reduction="none")
        np.testing.assert_allclose(got, want)
    f32 = al.binary_cross_entropy_with_logits(X.astype(np.float32), P.astype(np.float32),
                                              pos_weight=2.5, reduction="none")
    assert f32.dtype == np.float32


def test_numpy_residual_keeps_inputs_and_0d() -> None:
    p, t = X[:4].copy(), Y[:4].copy()
    for kind in _RESIDUAL:
        _residual(kind, 0.5)(p, t)
        np.testing.assert_array_equal(p, X[:4])
        np.testing.assert_array_equal(t, Y[:4])
        got = _residual(kind, 0.5)(np.asarray(2.0), np.asarray(0.5))
        with _kernels.generic():
            want = _residual(kind, 0.5)(np.asarray(2.0), np.asarray(0.5))
        np.testing.assert_allclose(got, want)


RECORDS = [pytest.param(r, id=r.name) for r in catalog.records()]


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("backend_id", ["numpy", "torch"])
def test_loss_with_and_without_kernels(backend_id: str, record: catalog.Record) -> None:
    """Each loss gives the same value (and gradient) through the kernels and without.

    (JAX's one delegation, ``logsumexp``, is covered by the primitive tests above; a jitted
    run of every loss would cost seconds each.)"""
    _same_with_and_without_kernels(backend_id, record)


@pytest.mark.parametrize("record", RECORDS)
def test_device_branches_equal_generic(record: catalog.Record) -> None:
    """The kernels' branches for device tensors (CUDA: no value reads; CTC's lengths read in
    one copy) give the generic path's value and gradient: CPU tensors taken as device
    tensors (``dispatch.device_policy``)."""
    with dispatch.device_policy():
        _same_with_and_without_kernels("torch", record)


def _same_with_and_without_kernels(backend_id: str, record: catalog.Record) -> None:
    b = require_backend(backends.by_id(backend_id))
    reason = record.unsupported.get(b.id) or record.unsupported.get(b.module)
    if reason:
        pytest.xfail(reason)
    case = next((c for c in record.cases if c.grad == "fd"), record.cases[0])
    args, kw = case.inputs()
    opts = {**case.options, **kw}
    conv, ckw = b.convert(args, kw, "float64")
    fast = b.to_numpy(b.call(record.fn, conv, {**case.options, **ckw}))
    with _kernels.generic():
        generic = b.to_numpy(b.call(record.fn, conv, {**case.options, **ckw}))
    np.testing.assert_allclose(fast, generic, rtol=1e-12, atol=1e-14)
    if b.differentiable and record.grad_args:
        gn = b.grad(record.fn, args, opts, record.grad_args)
        with _kernels.generic():
            gg = b.grad(record.fn, args, opts, record.grad_args)
        for n, g in zip(gn, gg):
            np.testing.assert_allclose(n, g, rtol=1e-10, atol=1e-13)
