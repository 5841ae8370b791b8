"""Namespaces, the shared array-API operations (`_ops`), the checks and the reduction helper,
on every CPU backend."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from arrayloss import _namespace, _ops, _validate
from arrayloss._reduce import start
from arrayloss.testing import backends
from conftest import require_backend

CPU = [b.id for b in backends.CPU_BACKENDS if b.mode not in ("inductor",)]


@pytest.fixture(params=CPU)
def cpu(request: pytest.FixtureRequest) -> backends.Backend:
    return require_backend(backends.by_id(request.param))


def _run(b: backends.Backend, fn, *arrays: np.ndarray, dtype: str = "float64") -> np.ndarray:
    conv, _ = b.convert(arrays, {}, dtype)
    return b.to_numpy(b.call(lambda *xs: fn(_namespace.namespace("t", x=xs[0]), *xs), conv, {}))


X = np.array([[1.0, -2.0, 3.0, 0.5], [-1e4, 1e4, 0.0, 2.0], [-np.inf, 0.0, 1.0, -np.inf]])


def _np_logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def test_logsumexp_and_log_softmax(cpu: backends.Backend) -> None:
    got = _run(cpu, lambda xp, x: _ops.logsumexp(xp, x, axis=-1), X)
    np.testing.assert_allclose(got, _np_logsumexp(X), rtol=1e-12)
    ls = _run(cpu, lambda xp, x: _ops.log_softmax(xp, x, axis=-1), X)
    want = X - _np_logsumexp(X)[:, None]
    np.testing.assert_allclose(ls, want, rtol=1e-12)
    sm = _run(cpu, lambda xp, x: _ops.softmax(xp, x, axis=0), X[:2])
    e = np.exp(X[:2] - X[:2].max(0))
    np.testing.assert_allclose(sm, e / e.sum(0), rtol=1e-12)


def test_logsumexp_all_minus_inf_row_is_minus_inf(cpu: backends.Backend) -> None:
    got = _run(cpu, lambda xp, x: _ops.logsumexp(xp, x), np.full((2, 3), -np.inf))
    assert np.all(got == -np.inf)


def test_softplus_log_sigmoid_mul0(cpu: backends.Backend) -> None:
    z = np.array([-800.0, -30.0, -1.0, 0.0, 2.0, 40.0, 800.0])
    np.testing.assert_allclose(_run(cpu, _ops.softplus, z), np.logaddexp(z, 0), rtol=1e-12)
    np.testing.assert_allclose(_run(cpu, _ops.log_sigmoid, z), -np.logaddexp(-z, 0), rtol=1e-12)
    c, x = np.array([0.0, 0.0, 0.5, 2.0, 0.0]), np.array([-np.inf, 3.0, -2.0, 1.0, np.inf])
    np.testing.assert_allclose(_run(cpu, _ops.mul0, c, x), [0, 0, -1.0, 2.0, 0])


def test_safe_functions(cpu: backends.Backend) -> None:
    x = np.array([0.0, 4.0, -1.0])
    np.testing.assert_allclose(_run(cpu, _ops.safe_sqrt, x), [0, 2, 0])
    np.testing.assert_allclose(_run(cpu, lambda xp, a, b: _ops.safe_div(xp, a, b, 7.0),
                                    np.array([1.0, 2.0]), np.array([0.0, 4.0])), [7.0, 0.5])
    y, xx = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])
    np.testing.assert_allclose(_run(cpu, _ops.safe_atan2, y, xx), [0, np.pi / 2, np.pi])


@pytest.mark.parametrize("bid", ["torch", "jax"])
def test_safe_functions_have_finite_gradients_at_the_singular_point(bid: str) -> None:
    b = require_backend(backends.by_id(bid))

    def f(x, y):
        xp = _namespace.namespace("t", x=x)
        return (_ops.safe_sqrt(xp, x) + _ops.safe_atan2(xp, y, x)
                + _ops.safe_div(xp, y, x) + _ops.mul0(xp, x, _ops.safe_sqrt(xp, x)))

    gx, gy = b.grad(f, (np.zeros(2), np.zeros(2)), {}, (0, 1))
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gy))


@pytest.mark.parametrize("bid", ["torch", "jax"])
def test_stop_gradient(bid: str) -> None:
    b = require_backend(backends.by_id(bid))

    def f(x):
        xp = _namespace.namespace("t", x=x)
        return x * _ops.stop_gradient(xp, x)

    (g,) = b.grad(f, (np.array([3.0, -2.0]),), {}, (0,))
    np.testing.assert_allclose(g, [3.0, -2.0])  # d/dx (x * const) = const


@pytest.mark.parametrize("n", [1, 4, 5])
def test_median_is_the_true_median(cpu: backends.Backend, n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 3))
    np.testing.assert_allclose(_run(cpu, lambda xp, a: _ops.median(xp, a, axis=0), x),
                               np.median(x, axis=0), rtol=1e-12)


def test_take_along_axis_and_one_hot(cpu: backends.Backend) -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    idx = np.array([[[0], [3], [1]], [[2], [2], [0]]])
    conv, _ = cpu.convert((x, idx), {})
    out = cpu.call(lambda a, i: _ops.take_along_axis(_namespace.namespace("t", x=a), a, i, axis=-1),
                   conv, {})
    np.testing.assert_array_equal(cpu.to_numpy(out), np.take_along_axis(x, idx, axis=-1))
    idx1 = np.array([[[0, 2, 1, 0]], [[1, 1, 2, 0]]])
    conv, _ = cpu.convert((x, idx1), {})
    out = cpu.call(lambda a, i: _ops.take_along_axis(_namespace.namespace("t", x=a), a, i, axis=1),
                   conv, {})
    np.testing.assert_array_equal(cpu.to_numpy(out), np.take_along_axis(x, idx1, axis=1))
    lab = np.array([[0, 2], [1, 5]])
    conv, _ = cpu.convert((lab,), {})
    xp = cpu.xp
    oh = cpu.call(lambda y: _ops.one_hot(xp, y, 3, xp.float64, axis=1), conv, {})
    want = np.moveaxis(np.eye(4)[np.minimum(lab, 3)][..., :3], -1, 1)
    np.testing.assert_array_equal(cpu.to_numpy(oh), want)


def test_float_dtypes_policy() -> None:
    xp = _namespace.namespace("t", x=np.zeros(1))
    assert _namespace.float_dtypes(xp, np.zeros(1, np.float16)) == (np.float32, np.float32)
    assert _namespace.coordinate_dtypes(xp, np.zeros(1, np.float16)) == (np.float32, np.float16)
    assert _namespace.float_dtypes(xp, np.zeros(1, np.float32)) == (np.float32, np.float32)
    assert _namespace.float_dtypes(xp, np.zeros(1, np.int8)) == (np.float64, np.float64)
    assert _namespace.float_dtypes(xp, np.zeros(1, bool)) == (np.float64, np.float64)
    with pytest.raises(TypeError, match="f: `pred` must have a real dtype"):
        _namespace.float_dtypes(xp, np.zeros(1, np.complex128), "f")


def test_namespace_errors() -> None:
    with pytest.raises(TypeError, match=r"f: `a` must be an array .* got list"):
        _namespace.namespace("f", a=[1.0])
    with pytest.raises(TypeError, match=r"f: `b` must be an array .* got float"):
        _namespace.namespace("f", a=np.zeros(1), b=1.0)
    assert _namespace.namespace("f", a=np.zeros(1), b=None) is not None
    require_backend(backends.by_id("array_api_strict"))
    import array_api_strict as xs

    with pytest.raises(TypeError, match="f: `a` is a numpy array but `b` is a array_api_strict"):
        _namespace.namespace("f", a=np.zeros(1), b=xs.zeros(1))
    with pytest.raises(ValueError, match=r"f: `a` is on device .* but `b` is on device"):
        _namespace.namespace("f", a=xs.zeros(1), b=xs.zeros(1, device=xs.Device("device1")))


def test_is_concrete_per_backend() -> None:
    assert _namespace.is_concrete(np.zeros(2))
    torch_b = require_backend(backends.by_id("torch"))
    import torch

    seen: list[bool] = []

    def probe(x):
        seen.append(_namespace.is_concrete(x))
        return x * 2

    assert _namespace.is_concrete(torch.zeros(2))
    torch_b.call(probe, [torch.zeros(3)], {})
    backends.by_id("torch:compile").call(probe, [torch.zeros(4)], {})
    jax_b = require_backend(backends.by_id("jax"))
    import jax.numpy as jnp

    assert _namespace.is_concrete(jnp.zeros(2))
    jax_b.call(probe, [jnp.zeros(3)], {})
    dask_b = require_backend(backends.by_id("dask"))
    dask_b.call(probe, dask_b.convert((np.zeros(3),), {})[0], {})
    assert seen == [True, False, False, False]


def test_option_checks() -> None:
    with pytest.raises(ValueError, match=r"f: `mode` must be one of 'a', 'b'; got 'c'"):
        _validate.check_choice("f", "mode", "c", ("a", "b"))
    with pytest.raises(ValueError, match=r"f: `g` must be >= 0"):
        _validate.check_number("f", "g", -1, ge=0)
    with pytest.raises(ValueError, match=r"f: `g` must be >= 0 and <= 1; got inf"):
        _validate.check_number("f", "g", float("inf"), ge=0, le=1)
    with pytest.raises(TypeError, match=r"f: `g` must be a real number"):
        _validate.check_number("f", "g", True)
    with pytest.raises(ValueError, match=r"f: `axis` must be in \[-2, 2\)"):
        _validate.check_axis("f", 2, 2)
    assert _validate.check_axis("f", -1, 3) == 2
    with pytest.raises(ValueError, match=r"f: `ignore_index` must be None or a value outside"):
        _validate.check_ignore_index("f", 1, 3)
    assert _validate.check_ignore_index("f", -100, 3) == -100


@pytest.mark.parametrize("bid", ["numpy", "array_api_strict", "array_api_strict:device1", "torch"])
def test_label_and_probability_checks(bid: str) -> None:
    """Value checks on concrete arrays (the traced/lazy rows are in test_contract.py)."""
    cpu = require_backend(backends.by_id(bid))
    xp = cpu.xp
    (lab,), _ = cpu.convert((np.array([0, 2, -100]),), {})
    _validate.check_labels("f", "target", xp, lab, 3, ignore_index=-100)
    with pytest.raises(ValueError, match=r"f: `target` must hold class labels in \[0, 2\)"):
        _validate.check_labels("f", "target", xp, lab, 2, ignore_index=-100)
    (flt,), _ = cpu.convert((np.array([0.0, 1.5]),), {})
    with pytest.raises(TypeError, match="f: `target` must hold integer class labels"):
        _validate.check_labels("f", "target", xp, flt, 2)
    with pytest.raises(ValueError, match=r"f: `p` must hold probabilities in \[0, 1\]"):
        _validate.check_probabilities("f", "p", xp, flt)


def test_call_vector_and_finish() -> None:
    p = np.zeros((2, 3))
    call = start("f", p, reduction="mean", target=p)
    np.testing.assert_array_equal(call.array_option("class_weight", [1, 2, 3], p, shape=(3,)),
                                  [1.0, 2.0, 3.0])
    assert call.array_option("class_weight", None, p, shape=(3,)) is None
    with pytest.raises(ValueError, match=r"f: `class_weight` must have shape \(3,\)"):
        call.array_option("class_weight", np.ones(2), p, shape=(3,))
    with pytest.raises(ValueError, match=r"f: `pos_weight` of shape \(2,\) does not broadcast"):
        call.array_option("pos_weight", np.ones(2), p, broadcast_to=(2, 3))
    loss = np.array([1.0, 2.0, 0.0])
    np.testing.assert_allclose(call.finish(loss, mask=np.array([True, True, False])), 1.5)
    np.testing.assert_allclose(call.finish(loss * 0, mask=np.zeros(3, bool)), 0.0)
    np.testing.assert_allclose(call.finish(loss, count=np.array([2.0, 1.0, 1.0])), 0.75)
    out = call.finish(loss * 0 - 1.0, count=np.zeros(3))  # a zero count: +0, not -0
    assert out == 0.0 and not np.signbit(out)
    assert type(call.finish(loss)) is np.ndarray


def test_public_options_api() -> None:
    assert {"set_options", "get_options", "options"} <= set(al.__all__)
