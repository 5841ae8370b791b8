"""The small-call fast lanes (``arrayloss._fast``) against the general path.

Every lane, on every layout, dtype and reduction it takes: the call never enters the general
path (creating a ``_reduce.Call`` is made to fail), and its value and gradients equal the general
path's (the lanes switched off with the kernels, ``_kernels.generic()``, which the general
path's own kernels are tested against). Then the calls a lane must hand back: an infinite
logit (arrayloss's limit, NaN in torch's kernel), a bad label or target (arrayloss's error),
and the conditions it does not take (other label dtypes, options, traced or wrapped
tensors), whose results must still be the general path's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import _kernels, _reduce
from arrayloss.testing import backends
from conftest import require_backend

RNG = np.random.default_rng(11)
REDUCTIONS = ("mean", "sum", "none", "weighted_mean")


def _labels(shape: tuple[int, ...], c: int) -> np.ndarray:
    return RNG.integers(0, c, size=shape).astype(np.int64)


# (id, loss, pred, target, options, backends): each case is one lane's call
_X2 = RNG.normal(scale=2.0, size=(6, 5))
_X4 = RNG.normal(scale=2.0, size=(2, 3, 4, 5))  # channels-first: classes on axis 1
_R = RNG.normal(size=(7, 3))
_T = RNG.normal(size=(7, 3))
_P = RNG.uniform(0.0, 1.0, size=(7, 3))
_LQ = np.log(RNG.dirichlet(np.ones(4), size=5))
_Q = RNG.dirichlet(np.ones(4), size=5)
_Q3 = np.moveaxis(RNG.dirichlet(np.ones(3), size=(2, 4)), -1, 0)  # distributions on axis 0
LANES = [
    ("cross_entropy-2d-last", al.cross_entropy, _X2, _labels((6,), 5), {}, ("torch", "numpy")),
    ("cross_entropy-2d-axis1", al.cross_entropy, _X2, _labels((6,), 5), {"axis": 1},
     ("torch", "numpy")),
    ("cross_entropy-4d-axis1", al.cross_entropy, _X4, _labels((2, 4, 5), 3), {"axis": 1},
     ("torch", "numpy")),
    ("cross_entropy-axis0", al.cross_entropy, _X2, _labels((5,), 6), {"axis": 0},
     ("numpy",)),
    ("cross_entropy-smoothing", al.cross_entropy, _X2, _labels((6,), 5),
     {"label_smoothing": 0.2}, ("torch",)),
    ("nll_loss-2d", al.nll_loss, _X2, _labels((6,), 5), {}, ("torch", "numpy")),
    ("nll_loss-4d-axis1", al.nll_loss, _X4, _labels((2, 4, 5), 3), {"axis": 1},
     ("torch", "numpy")),
    ("nll_loss-axis0", al.nll_loss, _X2, _labels((5,), 6), {"axis": 0}, ("numpy",)),
    ("bce_with_logits", al.binary_cross_entropy_with_logits, _R, _P, {}, ("torch", "numpy")),
    ("bce", al.binary_cross_entropy, _P * 0.98 + 0.01, _P[::-1].copy(), {}, ("torch", "numpy")),
    ("kl_divergence", al.kl_divergence, _LQ, _Q, {}, ("torch", "numpy")),
    ("kl_divergence-axis1-log_target", al.kl_divergence, _LQ, np.log(_Q),
     {"axis": 1, "log_target": True}, ("torch", "numpy")),
    ("kl_divergence-3d-axis0", al.kl_divergence, np.log(_Q3), _Q3[::-1].copy(), {"axis": 0},
     ("numpy",)),
    ("mse_loss", al.mse_loss, _R, _T, {}, ("torch", "numpy")),
    ("l1_loss", al.l1_loss, _R, _T, {}, ("torch", "numpy")),
    ("huber_loss", al.huber_loss, _R, _T, {"delta": 0.7}, ("torch", "numpy")),
    ("smooth_l1_loss", al.smooth_l1_loss, _R, _T, {"beta": 1 / 9}, ("torch", "numpy")),
]
# torch's lane reduces only: "none" takes the general path
_REDUCING = {("kl_divergence", "torch")}
CASES = [pytest.param(fn, x, t, kw, b, red, id=f"{cid}-{b}-{red}")
         for cid, fn, x, t, kw, bs in LANES for b in bs for red in REDUCTIONS
         if not ((fn.__name__, b) in _REDUCING and red == "none")]


def _no_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the call left its fast lane for the general path")

    monkeypatch.setattr(_reduce.Call, "__init__", refuse)


def _value_and_grad(b: backends.Backend, fn: Callable[..., Any], x: np.ndarray,
                    t: np.ndarray, kw: dict[str, Any], dtype: str
                    ) -> tuple[np.ndarray, list[np.ndarray]]:
    conv, _ = b.convert((x, t), {}, dtype)
    value = b.to_numpy(fn(*conv, **kw))
    grads: list[np.ndarray] = []
    if b.differentiable:
        # integer labels have no gradient; KL's lane takes a target that needs none
        argnums = [0] if np.issubdtype(t.dtype, np.integer) or fn is al.kl_divergence else [0, 1]
        grads = b.grad(fn, (x, t), kw, argnums, dtype)
    return value, grads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("fn", "x", "t", "kw", "backend_id", "reduction"), CASES)
def test_lane_equals_general_path(fn: Callable[..., Any], x: np.ndarray, t: np.ndarray,
                                  kw: dict[str, Any], backend_id: str, reduction: str,
                                  dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    b = require_backend(backends.by_id(backend_id))
    kw = {**kw, "reduction": reduction}
    with monkeypatch.context() as m:
        _no_general_path(m)
        fast, fast_grads = _value_and_grad(b, fn, x, t, kw, dtype)
    with _kernels.generic():
        general, general_grads = _value_and_grad(b, fn, x, t, kw, dtype)
    rtol = 2e-6 if dtype == "float32" else 1e-12
    assert fast.shape == general.shape and str(fast.dtype) == dtype
    np.testing.assert_allclose(fast, general, rtol=rtol, atol=rtol)
    assert len(fast_grads) == len(general_grads)
    for g, h in zip(fast_grads, general_grads):
        np.testing.assert_allclose(g, h, rtol=rtol, atol=rtol)


def _torch() -> Any:
    require_backend(backends.by_id("torch"))
    import torch

    return torch


@pytest.mark.parametrize("fn", [al.cross_entropy, al.nll_loss])
def test_label_lane_hands_back_infinite_and_bad_labels(fn: Callable[..., Any]) -> None:
    torch = _torch()
    x = torch.tensor(_X2, requires_grad=True)
    y = torch.tensor(_labels((6,), 5))
    xi = x.detach().clone()
    xi[0, 1] = float("inf")
    xi[2, 3] = -float("inf")
    got = fn(xi, y, reduction="none")
    with _kernels.generic():
        want = fn(xi, y, reduction="none")
    assert not torch.isnan(got).any()
    torch.testing.assert_close(got, want)
    for bad in (5, -1, -100, -2**63):  # -2**63: the ignore_index torch's kernel is given
        yb = y.clone()
        yb[3] = bad
        with pytest.raises(ValueError, match=rf"{fn.__name__}: `target`.*found {bad}"):
            fn(x, yb)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_torch_nll_lane_finds_bad_labels_by_its_kernel(reduction: str) -> None:
    """torch's NLL lane has no label pass of its own: its kernel raises for a label outside
    ``[0, C)`` and counts the samples it ignores (2-D and channels-first 4-D)."""
    torch = _torch()
    for x, y in ((_X2, _labels((6,), 5)), (_X4, _labels((2, 4, 5), 3))):
        xt = torch.tensor(x)
        for bad in (x.shape[1], -1, -100, -2**63):
            yb = torch.tensor(y)
            yb.view(-1)[-1] = bad
            with pytest.raises(ValueError, match=rf"nll_loss: `target`.*found {bad}"):
                al.nll_loss(xt, yb, axis=1, reduction=reduction)
            with al.options(validate=False):
                assert torch.isnan(al.nll_loss(xt, yb, axis=1, reduction=reduction)).item()


def test_binary_lane_hands_back_infinite_logits_and_bad_targets() -> None:
    torch = _torch()
    z = torch.tensor([[float("inf"), -float("inf"), 0.5], [1.0, 2.0, -3.0]])
    y = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.5, 0.0]])
    got = al.binary_cross_entropy_with_logits(z, y, reduction="none")
    with _kernels.generic():
        want = al.binary_cross_entropy_with_logits(z, y, reduction="none")
    torch.testing.assert_close(got, want)
    assert got[0, 0].item() == float("inf") and got[0, 1].item() == 0.0
    yb = y.clone()
    yb[1, 2] = float("nan")  # NaN propagates
    assert torch.isnan(al.binary_cross_entropy_with_logits(z, yb)).item()
    yb[1, 2] = 1.5
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: `target`"):
        al.binary_cross_entropy_with_logits(z, yb)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_lane_hands_back_clipped_probabilities(dtype: str) -> None:
    """Probabilities at or beyond the clip (0, 1, epsilon; 1e-13 in float64, inside
    torch's gradient clamp) take the general path: arrayloss's clipped value and gradient,
    not torch's -100 clamp."""
    torch = _torch()
    dt = getattr(torch, dtype)
    y = torch.tensor([1.0, 0.0, 1.0, 0.5], dtype=dt)
    edges = [0.0, 1.0, 1e-30] + ([1e-13] if dtype == "float64" else [])
    for edge in edges:
        p = torch.tensor([edge, 0.3, 0.6, 0.5], dtype=dt, requires_grad=True)
        got = al.binary_cross_entropy(p, y)
        (g,) = torch.autograd.grad(got, [p])
        with _kernels.generic():
            want = al.binary_cross_entropy(p, y)
            (h,) = torch.autograd.grad(want, [p])
        torch.testing.assert_close(got, want)
        torch.testing.assert_close(g, h)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: `pred`.*logits"):
        al.binary_cross_entropy(torch.tensor([2.0, 0.5], dtype=dt), y[:2])
    with pytest.raises(ValueError, match="binary_cross_entropy: `target`"):
        al.binary_cross_entropy(torch.tensor([0.2, 0.5], dtype=dt),
                                torch.tensor([1.5, 0.0], dtype=dt))


def test_kl_lane_hands_back_zero_mass_and_a_target_gradient() -> None:
    torch = _torch()
    log_q = torch.tensor([[-float("inf"), -0.1, -2.4], [-1.0, -1.0, -1.5]])
    p = torch.tensor([[0.0, 0.9, 0.1], [0.3, 0.3, 0.4]])
    got = al.kl_divergence(log_q, p)  # 0 * log 0 / -inf: 0 here, NaN in torch's kernel
    with _kernels.generic():
        want = al.kl_divergence(log_q, p)
    assert torch.isfinite(got).item()
    torch.testing.assert_close(got, want)
    p2 = p.clone().requires_grad_()
    (g,) = torch.autograd.grad(al.kl_divergence(log_q.clamp(min=-5.0), p2), [p2])
    assert torch.isfinite(g).all()


def test_numpy_kl_lane_zero_mass_and_nan() -> None:
    log_q = np.array([[-np.inf, -0.1, -2.4], [-1.0, -1.0, -1.5]])
    p = np.array([[0.0, 0.9, 0.1], [0.3, 0.3, 0.4]])
    for lt in (False, True):
        target = np.log(p, out=np.full_like(p, -np.inf), where=p > 0) if lt else p
        got = al.kl_divergence(log_q, target, log_target=lt, reduction="none")
        with _kernels.generic():
            want = al.kl_divergence(log_q, target, log_target=lt, reduction="none")
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert np.isfinite(got).all()
    nan_q = log_q.copy()
    nan_q[0, 0] = np.nan  # where p = 0: NaN still propagates
    assert np.isnan(al.kl_divergence(nan_q, p, reduction="none")[0])
    nan_p = p.copy()
    nan_p[1, 0] = np.nan
    assert np.isnan(al.kl_divergence(log_q, nan_p, reduction="none")[1])


def test_lanes_decline_what_they_do_not_take(monkeypatch: pytest.MonkeyPatch) -> None:
    """int32 labels, class weights, ``ignore_index``, a ``weight``, float16 logits, empty
    input, a ``torch.func`` transform: each takes the general path (a ``Call`` is made)."""
    torch = _torch()
    x = torch.tensor(_X2, dtype=torch.float32)
    y = torch.tensor(_labels((6,), 5))
    entered: list[str] = []
    real_init = _reduce.Call.__init__

    def spy(self: Any, fn: str, *args: Any, **kwargs: Any) -> None:
        entered.append(fn)
        real_init(self, fn, *args, **kwargs)

    monkeypatch.setattr(_reduce.Call, "__init__", spy)
    calls = [
        lambda: al.cross_entropy(x, y.to(torch.int32)),
        lambda: al.cross_entropy(x, y, class_weight=torch.ones(5)),
        lambda: al.cross_entropy(x, y, ignore_index=-100),
        lambda: al.cross_entropy(x, y, weight=torch.ones(6)),
        lambda: al.cross_entropy(x.half(), y),
        lambda: al.cross_entropy(x[:0], y[:0]),
        lambda: al.mse_loss(x, x.double()),
        lambda: al.mse_loss(x[:0], x[:0]),
        lambda: al.kl_divergence(x.log_softmax(1)[None], x.softmax(1)[None]),  # 3-D
        lambda: al.kl_divergence(x.log_softmax(0), x.softmax(0), axis=0),
        lambda: torch.func.grad(lambda a: al.mse_loss(a, x))(x),
    ]
    for i, call in enumerate(calls):
        entered.clear()
        call()
        assert entered, f"call {i} stayed on a fast lane"
    # with the value checks off the lanes still check (a free read on the host): a bad
    # label then takes the general path, which gives NaN instead of raising
    with al.options(validate=False):
        entered.clear()
        al.cross_entropy(x, y)
        assert not entered
        bad = y.clone()
        bad[2] = 9
        out = al.cross_entropy(x, bad, reduction="none")
        assert entered == ["cross_entropy"]
        assert torch.isnan(out[2]).item() and not torch.isnan(out[:2]).any().item()


def test_numpy_nll_lane_hands_back_bad_labels_and_reads_only_the_label() -> None:
    x = _X2.copy()
    y = _labels((6,), 5)
    x[0, (y[0] + 1) % 5] = np.nan  # not at the label: does not propagate
    x[1, y[1]] = -np.inf  # at the label: +inf
    got = al.nll_loss(x, y, reduction="none")
    with _kernels.generic():
        want = al.nll_loss(x, y, reduction="none")
    np.testing.assert_array_equal(got, want)
    assert got[1] == np.inf and np.isfinite(got[0])
    for value in (7, 5, -1):  # a negative label would count from the end of its row
        bad = y.copy()
        bad[4] = value
        with pytest.raises(ValueError, match=rf"nll_loss: `target`.*found {value}"):
            al.nll_loss(x, bad)


def test_numpy_cross_entropy_lane_hands_back_infinite_logits_and_bad_labels() -> None:
    x = _X2.copy()
    y = _labels((6,), 5)
    x[0, (y[0] + 1) % 5] = np.inf  # the limit: +inf (another class takes the mass)
    x[1, y[1]] = np.inf  # 0
    x[2] = -np.inf  # every class masked: NaN in both
    x[3, y[3]] = -np.inf  # +inf
    x[4, (y[4] + 1) % 5] = -np.inf  # a masked class: finite
    got = al.cross_entropy(x, y, reduction="none")
    with _kernels.generic():
        want = al.cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(got, want)
    assert got[0] == np.inf and got[1] == 0.0 and got[3] == np.inf and np.isfinite(got[4])
    for value in (5, -1):
        bad = y.copy()
        bad[4] = value
        with pytest.raises(ValueError, match=rf"cross_entropy: `target`.*found {value}"):
            al.cross_entropy(_X2, bad)


def test_numpy_binary_lanes_hand_back_infinite_logits_clipped_probabilities_bad_targets(
) -> None:
    z = np.array([[np.inf, -np.inf, 0.5], [1.0, 2.0, -3.0]])
    y = np.array([[0.0, 0.0, 1.0], [1.0, 0.5, 0.0]])
    got = al.binary_cross_entropy_with_logits(z, y, reduction="none")
    with _kernels.generic():
        want = al.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_array_equal(got, want)
    assert got[0, 0] == np.inf and got[0, 1] == 0.0
    for p in ([0.0, 0.3, 1.0], [1e-30, 0.5, 0.7]):  # at or beyond the clip: its limits
        pa, ya = np.array(p), np.array([1.0, 0.0, 1.0])
        with _kernels.generic():
            want = al.binary_cross_entropy(pa, ya, reduction="none")
        np.testing.assert_array_equal(al.binary_cross_entropy(pa, ya, reduction="none"), want)
        assert np.isfinite(want).all()
    bad = y.copy()
    bad[1, 2] = 1.5
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: `target`"):
        al.binary_cross_entropy_with_logits(z, bad)
    with pytest.raises(ValueError, match="binary_cross_entropy: `target`"):
        al.binary_cross_entropy(np.full((2, 3), 0.5), bad)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: `pred`.*logits"):
        al.binary_cross_entropy(np.array([2.0, 0.5]), np.array([1.0, 0.0]))


def test_numpy_lane_result_is_a_0d_array() -> None:
    p, t = RNG.normal(size=5).astype(np.float32), RNG.normal(size=5).astype(np.float32)
    out = al.mse_loss(p, t)
    assert type(out) is np.ndarray and out.shape == () and out.dtype == np.float32
