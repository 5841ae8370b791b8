"""Classification family: golden numbers, edge cases, stability and peer comparisons.

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend;
this file holds what does not fit a case: dtype-dependent edge values (p = 0 or 1), saturated
and masked logits in float32 / bfloat16 with gradients, peers on random inputs over many
option combinations, and the family's own conventions.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import arrayloss as al
from arrayloss import _backends
from conftest import jax_or_skip as _jax
from conftest import require_backend, require_module
from conftest import torch_or_skip as _torch

LG = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0]])
T = np.array([0, 1, 2])
Z = np.array([2.0, -1.0, 0.5, -3.0])
Y = np.array([1.0, 0.0, 0.0, 1.0])
X = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
XL = np.array([0, 1, 0])
CEN = np.array([[1.0, 1.0], [0.0, 0.0]])
F32 = (1e-5, 1e-6)


def _close(got, want, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------
# golden numbers of the classification catalogue not covered by a matrix case


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_goldens(dtype: str) -> None:
    rtol, atol = (1e-6, 1e-7) if dtype == "float64" else F32

    def a(x):
        return np.asarray(x, dtype=dtype)

    _close(al.entropy(a([0.7, 0.2, 0.1]), base=2), 1.1567796, rtol, atol)
    _close(al.entropy(a([[0.7, 0.2, 0.1], [1.0, 0.0, 0.0]])), 0.4009093, rtol, atol)
    _close(al.binary_cross_entropy_with_logits(a(Z), a(Y), pos_weight=3.0, reduction="none"),
           [0.3807840, 0.3132617, 0.9740770, 9.1457615], rtol, atol)
    _close(al.binary_cross_entropy_with_logits(a(Z), a(Y), label_smoothing=0.1,
                                               reduction="none"),
           [0.2269280, 0.3632618, 0.9490770, 2.8985872], rtol, atol)
    _close(al.binary_cross_entropy_with_logits(a(Z), a(Y)), 1.1157136, rtol, atol)
    _close(al.binary_cross_entropy_with_logits(a(Z), a(Y), weight=a([1.0, 2.0, 1.0, 0.5]),
                                               reduction="none"),
           [0.1269280, 0.6265235, 0.9740770, 1.5242937], rtol, atol)
    _close(al.sigmoid_focal_loss(a(Z), a(Y), alpha=None, reduction="none"),
           [1.8035645e-03, 2.2658058e-02, 3.7741163e-01, 2.7662807], rtol, atol)
    _close(al.sigmoid_focal_loss(a(Z), a(Y)), 0.2480183, rtol, atol)
    soft = a([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [1 / 3, 1 / 3, 1 / 3]])
    _close(al.cross_entropy(a(LG), T), 0.5562735, rtol, atol)
    _close(al.cross_entropy(a(LG), a(np.eye(3)[T])), 0.5562735, rtol, atol)
    _close(al.cross_entropy(a(LG), soft, class_weight=[1.0, 2.0, 0.5]), 0.9664536, rtol, atol)
    _close(al.cross_entropy(a(LG), T, class_weight=[1.0, 2.0, 0.5]), 0.3636265, rtol, atol)
    _close(al.cross_entropy(a(LG), T, weight=a([1.0, 0.5, 2.0])), 0.8969479, rtol, atol)
    _close(al.cross_entropy(a(LG), np.array([0, -100, 2]), ignore_index=-100), 0.7578211,
           rtol, atol)
    _close(al.cross_entropy(a(LG), T, label_smoothing=0.1, reduction="none"),
           [0.5136966, 0.3365116, 1.0986123], rtol, atol)
    _close(al.cross_entropy(a(LG), soft, label_smoothing=0.1, reduction="none"),
           [0.8646966, 0.8315116, 1.0986123], rtol, atol)
    lq = np.log(a([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]]))
    _close(al.kl_divergence(lq, a([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])), 0.3891350, rtol, atol)
    _close(al.softmax_focal_loss(a(LG), T), 0.1799514, rtol, atol)
    _close(al.softmax_focal_loss(a(LG), T, alpha=[0.75, 0.25, 0.25]), 0.0530699, rtol, atol)
    f, fy = a([0.8, -0.5, 2.0, -1.5, 0.0]), np.array([1, 1, -1, -1, 1])
    _close(al.hinge_loss(f, fy), 1.14, rtol, atol)
    _close(al.hinge_loss(f, fy, margin=0.5), 0.8, rtol, atol)
    _close(al.squared_hinge_loss(f, fy), 2.458, rtol, atol)
    _close(al.ramp_loss(f, fy), 0.94, rtol, atol)
    _close(al.ramp_loss(f, fy, s=0.0, reduction="none"), [0.2, 1.0, 1.0, 0.0, 1.0], rtol, atol)
    s = a([[2.0, 1.5, -1.0], [0.2, 0.1, 0.3], [-0.5, -2.0, -1.0]])
    yt = np.array([0, 1, 0])
    _close(al.multiclass_hinge_loss(s, yt), 0.7333333, rtol, atol)
    _close(al.multiclass_hinge_loss(s, yt, mode="weston_watkins"), 1.1, rtol, atol)
    _close(al.multiclass_hinge_loss(s, yt, squared=True, reduction="none"), [0.25, 1.44, 0.25],
           rtol, atol)
    _close(al.multiclass_hinge_loss(s, yt, mode="weston_watkins", squared=True,
                                    reduction="none"), [0.25, 2.65, 0.25], rtol, atol)
    _close(al.center_loss(a(X), XL, a(CEN)), 1.6666667, rtol, atol)
    _close(al.center_loss(a(X), XL, a(CEN), reduction="none"), [0.5, 0.5, 4.0], rtol, atol)


def test_entropy_of_one_hot_and_bounds() -> None:
    p = np.array([[1.0, 0.0, 0.0], [0.25, 0.25, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    h = al.entropy(p, reduction="none")
    assert h[0] == 0.0
    _close(h[2], math.log(3))
    assert np.all(h <= math.log(3) + 1e-12)


def test_keras_categorical_hinge_is_not_crammer_singer() -> None:
    """Row 3 of the catalogue: every wrong score is negative; keras lets the masked true class
    compete with 0 and gives 1.5, Crammer-Singer 0.5."""
    s = np.array([[-0.5, -2.0, -1.0]])
    _close(al.multiclass_hinge_loss(s, np.array([0])), 0.5)


# ---------------------------------------------------------------------------------------
# edge values: probabilities exactly 0 and 1, the eps of the compute dtype


@pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax", "array_api_strict"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_at_zero_and_one(backend_id: str, dtype: str) -> None:
    backend = require_backend(_backends.by_id(backend_id))
    p = np.array([0.9, 0.2, 0.6, 0.0, 1.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    (bp, by), _ = backend.convert((p, y), {}, dtype)
    out = backend.to_numpy(backend.call(al.binary_cross_entropy, (bp, by), {"reduction": "none"}))
    eps = np.finfo(dtype).eps
    want = [0.1053605, 0.2231436, 0.9162908, -math.log(eps), -math.log1p(-eps)]
    _close(out, want, rtol=1e-6, atol=0)
    if dtype == "float32":
        _close(out[3:], [15.942385, 1.1920929e-07], rtol=1e-6, atol=0)
    else:
        _close(out[3:], [36.043653, 2.220446e-16], rtol=1e-6, atol=0)
    # p = 0 with y = 0 and p = 1 with y = 0: finite too
    (bp, by), _ = backend.convert((np.array([0.0, 1.0]), np.array([0.0, 0.0])), {}, dtype)
    out = backend.to_numpy(al.binary_cross_entropy(bp, by, reduction="none"))
    _close(out, [-math.log1p(-eps), -math.log(eps)], rtol=1e-6, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_bce_gradients_at_zero_and_one_are_finite(dtype: str) -> None:
    torch = _torch()
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=getattr(torch, dtype), requires_grad=True)
    y = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=getattr(torch, dtype))
    out = al.binary_cross_entropy(p, y, reduction="sum", pos_weight=2.0, label_smoothing=0.1)
    assert torch.isfinite(out)
    (g,) = torch.autograd.grad(out, p)
    assert torch.all(torch.isfinite(g)) and torch.all(g == 0)


def test_entropy_probability_gradient_at_zero_is_minus_log_eps() -> None:
    torch = _torch()
    p = torch.tensor([0.0, 0.5, 0.5], dtype=torch.float32, requires_grad=True)
    (g,) = torch.autograd.grad(al.entropy(p), p)
    _close(g[0].item(), 15.942385, rtol=1e-6, atol=0)


# ---------------------------------------------------------------------------------------
# stability: logits of +-100 and +-1e4 in float32 and bfloat16, values and gradients

SAT = np.array([[1e4, 0.0, -1e4], [-100.0, 100.0, 0.0], [-1e4, 1e4, 100.0],
                [30.0, -30.0, 0.0], [0.5, -0.2, 0.1]])
SAT_Y = np.array([0, 2, 1, 1, 0])
SAT_SOFT = np.array([[0.9, 0.1, 0.0], [0.2, 0.0, 0.8], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0],
                     [0.2, 0.3, 0.5]])
BZ = np.array([100.0, -100.0, 1e4, -1e4, 100.0, -1e4, 30.0, -30.0])
BY = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
BSOFT = np.array([0.9, 0.1, 1.0, 0.3, 0.0, 0.6, 0.2, 1.0])

STABLE = [
    ("binary_cross_entropy_with_logits", BZ, BY, {}),
    ("binary_cross_entropy_with_logits", BZ, BSOFT,
     {"pos_weight": 2.0, "label_smoothing": 0.1}),
    ("sigmoid_focal_loss", BZ, BY, {}),
    ("sigmoid_focal_loss", BZ, BSOFT, {"gamma": 0.5, "alpha": None}),
    ("cross_entropy", SAT, SAT_Y, {}),
    ("cross_entropy", SAT, SAT_Y, {"label_smoothing": 0.1, "class_weight": [1.0, 2.0, 0.5]}),
    ("cross_entropy", SAT, SAT_SOFT, {}),
    ("softmax_focal_loss", SAT, SAT_Y, {"gamma": 0.5}),
    ("softmax_focal_loss", SAT, SAT_SOFT, {"gamma": 2.0}),
    ("entropy", SAT, None, {"from_logits": True}),
    ("multiclass_hinge_loss", SAT, SAT_Y, {"mode": "weston_watkins"}),
]


def _call(name: str, pred, target, opts):
    fn = getattr(al, name)
    return fn(pred, **opts) if target is None else fn(pred, target, **opts)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize(("name", "pred", "target", "opts"), STABLE,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(STABLE)])
def test_saturated_logits_torch(name: str, pred, target, opts, dtype: str) -> None:
    """Finite, correct values and gradients (compared with the float64 computation on the
    same rounded inputs)."""
    torch = _torch()
    dt = getattr(torch, dtype)
    z = torch.tensor(pred, dtype=dt, requires_grad=True)
    tgt = None
    if target is not None:
        tgt = torch.tensor(target) if target.dtype.kind == "i" else torch.tensor(target, dtype=dt)
    out = _call(name, z, tgt, {**opts, "reduction": "none"})
    assert out.dtype == torch.float32  # half precision gives a float32 loss
    (g,) = torch.autograd.grad(out.sum(), z)
    assert torch.all(torch.isfinite(out)) and torch.all(torch.isfinite(g))
    z64 = z.detach().double().requires_grad_(True)
    t64 = None if tgt is None else (tgt if target.dtype.kind == "i" else tgt.double())
    out64 = _call(name, z64, t64, {**opts, "reduction": "none"})
    (g64,) = torch.autograd.grad(out64.sum(), z64)
    rtol = 1e-5 if dtype == "float32" else 2e-2
    np.testing.assert_allclose(out.float().detach().numpy(), out64.detach().numpy(),
                               rtol=rtol, atol=rtol * 1e-1)
    np.testing.assert_allclose(g.float().numpy(), g64.numpy(), rtol=rtol, atol=rtol * 1e-1)


@pytest.mark.parametrize(("name", "pred", "target", "opts"), STABLE[:6],
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(STABLE[:6])])
def test_saturated_logits_jax_float32(name: str, pred, target, opts) -> None:
    jax = _jax()
    import jax.numpy as jnp

    z = jnp.asarray(pred, dtype=jnp.float32)
    tgt = jnp.asarray(target) if target.dtype.kind == "i" else jnp.asarray(target, jnp.float32)
    val, g = jax.value_and_grad(lambda x: _call(name, x, tgt, {**opts, "reduction": "sum"}))(z)
    assert np.isfinite(float(val)) and np.all(np.isfinite(np.asarray(g)))
    t64 = np.asarray(tgt) if target.dtype.kind == "i" else np.asarray(tgt, np.float64)
    want = np.sum(_call(name, np.asarray(z, np.float64), t64, {**opts, "reduction": "none"}))
    _close(val, want, rtol=1e-5, atol=1e-6)


def test_sigmoid_focal_gamma_below_one_at_saturation() -> None:
    """torchvision's formula gives a NaN gradient at z = 40, y = 1, gamma = 0.5; arrayloss
    gives the value 2.19e-27 and a finite, tiny gradient (torch and JAX, float32 and 64)."""
    torch = _torch()
    jax = _jax()
    import jax.numpy as jnp

    for dt in (torch.float32, torch.float64):
        z = torch.tensor([40.0], dtype=dt, requires_grad=True)
        out = al.sigmoid_focal_loss(z, torch.tensor([1.0], dtype=dt), gamma=0.5, reduction="sum")
        (g,) = torch.autograd.grad(out, z)
        _close(out.item(), 2.19e-27, rtol=5e-3, atol=0)
        assert torch.isfinite(g).all() and abs(g.item()) < 1e-20
    for dt in (jnp.float32, jnp.float64):
        ones = jnp.ones(1, dt)
        val, g = jax.value_and_grad(lambda x, y=ones: al.sigmoid_focal_loss(
            x, y, gamma=0.5, reduction="sum"))(jnp.asarray([40.0], dt))
        _close(val, 2.19e-27, rtol=5e-3, atol=0)
        assert np.isfinite(np.asarray(g)).all() and abs(float(g[0])) < 1e-20


def test_sigmoid_focal_does_not_saturate_like_keras() -> None:
    """keras's from-logits focal loss saturates near 16 with a zero gradient at logit 30; the
    log-space factor gives the true value and gradient in float32."""
    torch = _torch()
    z = torch.tensor([-30.0, 30.0], dtype=torch.float32, requires_grad=True)
    y = torch.tensor([1.0, 0.0])
    out = al.sigmoid_focal_loss(z, y, reduction="none")
    (g,) = torch.autograd.grad(out.sum(), z)
    # (1 - p_t) = sigma(30) ~ 1: value alpha_t * softplus(30), gradient about -/+ alpha_t
    _close(out.detach().numpy(), [0.25 * 30.0, 0.75 * 30.0], rtol=1e-6, atol=0)
    _close(g.numpy(), [-0.25, 0.75], rtol=1e-5, atol=0)


def test_masked_logits_torch() -> None:
    """-inf logits (masked classes): finite values and gradients where the target puts no
    mass on them; the same value as torch's cross-entropy."""
    torch = _torch()
    import torch.nn.functional as F

    lg = torch.tensor([[2.0, -math.inf, 0.5], [-math.inf, 1.0, 0.0]], dtype=torch.float64,
                      requires_grad=True)
    y = torch.tensor([0, 2])
    dense = torch.tensor([[0.7, 0.0, 0.3], [0.0, 0.4, 0.6]], dtype=torch.float64)
    for target, fn in [(y, al.cross_entropy), (dense, al.cross_entropy),
                       (y, al.softmax_focal_loss), (dense, al.softmax_focal_loss),
                       (y, al.multiclass_hinge_loss)]:
        if fn is al.multiclass_hinge_loss:
            out = fn(torch.where(torch.isinf(lg), -1e3, lg), target, reduction="none")
        else:
            out = fn(lg, target, reduction="none")
        (g,) = torch.autograd.grad(out.sum(), lg)
        assert torch.isfinite(out).all() and torch.isfinite(g).all(), fn.__name__
    _close(al.cross_entropy(lg, y, reduction="none").detach().numpy(),
           F.cross_entropy(lg, y, reduction="none").detach())
    # torch's dense form gives NaN (0 * -inf): compare with a large finite mask instead
    finite = torch.where(torch.isinf(lg), -1e30, lg).detach()
    _close(al.cross_entropy(lg, dense, reduction="none").detach().numpy(),
           F.cross_entropy(finite, dense, reduction="none"))
    # with label smoothing every class carries mass: +inf, as torch
    assert math.isinf(al.cross_entropy(lg, y, label_smoothing=0.1).item())
    # entropy of logits with -inf
    (g,) = torch.autograd.grad(al.entropy(lg, from_logits=True), lg)
    assert torch.isfinite(g).all()


def test_kl_divergence_infinite_value_finite_gradient() -> None:
    torch = _torch()
    lq = torch.tensor([[0.0, -math.inf], [math.log(0.5), math.log(0.5)]], dtype=torch.float64,
                      requires_grad=True)
    p = torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    out = al.kl_divergence(lq, p, reduction="none")
    assert math.isinf(out[0].item()) and out[0].item() > 0
    _close(out[1].item(), math.log(2.0))
    (g,) = torch.autograd.grad(out.sum(), lq)
    _close(g.numpy(), -p.numpy())
    # p = 0 with log_q = -inf: 0, gradient 0, for log_target as well (torch: NaN)
    lq2 = torch.tensor([[0.0, -math.inf]], dtype=torch.float64, requires_grad=True)
    for target, lt in [(torch.tensor([[1.0, 0.0]], dtype=torch.float64), False),
                       (torch.tensor([[0.0, -math.inf]], dtype=torch.float64), True)]:
        out = al.kl_divergence(lq2, target, log_target=lt, reduction="sum")
        (g,) = torch.autograd.grad(out, lq2)
        assert out.item() == 0.0
        _close(g.numpy(), [[-1.0, 0.0]])


# ---------------------------------------------------------------------------------------
# gradients stated by the catalogue


def test_cross_entropy_gradient_is_softmax_minus_target() -> None:
    torch = _torch()
    lg = torch.tensor(LG, requires_grad=True)
    soft = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.2]], dtype=torch.float64)
    (g,) = torch.autograd.grad(al.cross_entropy(lg, soft, reduction="sum"), lg)
    sm = torch.softmax(lg.detach(), -1)
    _close(g.numpy(), (sm * soft.sum(-1, keepdim=True) - soft).numpy())


def test_center_loss_gradients() -> None:
    torch = _torch()
    x = torch.tensor(X, requires_grad=True)
    c = torch.tensor(CEN, requires_grad=True)
    gx, gc = torch.autograd.grad(al.center_loss(x, torch.tensor(XL), c, reduction="sum"), (x, c))
    _close(gx.numpy(), [[0, 1], [0, 1], [2, -2]])
    _close(gc.numpy(), [[-2, 1], [0, -1]])


def test_update_centers_rule_and_purity() -> None:
    x, lab, cen = X.copy(), XL.copy(), np.array([[1.0, 1.0], [0.0, 0.0], [5.0, 5.0]])
    new = al.update_centers(x, lab, cen, alpha=0.5)
    _close(new, [[1.3333333333, 0.8333333333], [0.0, 0.25], [5.0, 5.0]], rtol=1e-9)
    np.testing.assert_array_equal(cen, [[1.0, 1.0], [0.0, 0.0], [5.0, 5.0]])
    np.testing.assert_array_equal(x, X)
    # ignored samples move no centre; alpha 0 moves nothing
    new = al.update_centers(x, np.array([0, -1, -1]), cen, ignore_index=-1)
    _close(new[1:], cen[1:])
    _close(al.update_centers(x, lab, cen, alpha=0.0), cen)
    # float16 centers stay float16
    out = al.update_centers(x.astype(np.float16), lab, cen.astype(np.float16))
    assert out.dtype == np.float16


# ---------------------------------------------------------------------------------------
# conventions and identities


def test_focal_reduces_to_cross_entropy() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4, 5, 3)) * 2
    y = rng.integers(0, 5, size=(4, 3))
    y[0, 0] = -1
    w = rng.uniform(0.1, 2.0, size=5)
    for kw in ({}, {"class_weight": w}, {"ignore_index": -1, "class_weight": w}):
        for red in ("none", "mean", "sum"):
            yy = y if "ignore_index" in kw else np.abs(y)
            _close(al.softmax_focal_loss(z, yy, axis=1, gamma=0.0, reduction=red, **kw),
                   al.cross_entropy(z, yy, axis=1, reduction=red, **kw))
    zb, yb = rng.normal(size=(3, 4)) * 3, rng.uniform(size=(3, 4))
    _close(al.sigmoid_focal_loss(zb, yb, gamma=0.0, alpha=None),
           al.binary_cross_entropy_with_logits(zb, yb))


def test_channels_first_equals_channels_last() -> None:
    rng = np.random.default_rng(2)
    lg4 = rng.normal(size=(2, 3, 2, 4))
    lab = rng.integers(0, 3, size=(2, 2, 4))
    last = np.moveaxis(lg4, 1, -1)
    for fn in (al.cross_entropy, al.softmax_focal_loss, al.multiclass_hinge_loss):
        _close(fn(lg4, lab, axis=1, reduction="none"), fn(last, lab, reduction="none"))
    soft = rng.dirichlet(np.ones(3), size=(2, 2, 4))
    _close(al.cross_entropy(lg4, np.moveaxis(soft, -1, 1), axis=1), al.cross_entropy(last, soft))
    _close(al.entropy(lg4, axis=1, from_logits=True), al.entropy(last, from_logits=True))


def test_all_ignored_and_zero_class_weight_give_zero_with_zero_gradients() -> None:
    torch = _torch()
    lg = torch.tensor(LG, requires_grad=True)
    for fn in (al.cross_entropy, al.softmax_focal_loss, al.multiclass_hinge_loss):
        out = fn(lg, torch.tensor([-1, -1, -1]), ignore_index=-1)
        (g,) = torch.autograd.grad(out, lg)
        assert out.item() == 0.0 and not torch.any(g)
    out = al.cross_entropy(lg, torch.tensor([1, 1, 1]), class_weight=[1.0, 0.0, 1.0])
    (g,) = torch.autograd.grad(out, lg)
    assert out.item() == 0.0 and not torch.any(g)


def test_label_dtypes() -> None:
    want = al.cross_entropy(LG, T, reduction="none")
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64):
        _close(al.cross_entropy(LG, T.astype(dt), reduction="none"), want)
    torch = _torch()
    for dt in (torch.uint8, torch.int16, torch.int32, torch.int64):
        out = al.cross_entropy(torch.tensor(LG), torch.tensor(T).to(dt), reduction="none",
                               class_weight=[1.0, 1.0, 1.0])
        _close(out.numpy(), want)
    # uint8 labels with the usual void label 255
    y = np.array([0, 255, 2], dtype=np.uint8)
    _close(al.cross_entropy(LG, y, ignore_index=255), 0.7578211, rtol=1e-6)


def test_no_dense_one_hot_for_integer_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    from arrayloss import _ops

    def forbidden(*args, **kwargs):
        raise AssertionError("integer labels must be gathered, not one-hot encoded")

    monkeypatch.setattr(_ops, "one_hot", forbidden)
    al.cross_entropy(LG, T, label_smoothing=0.1, class_weight=[1.0, 2.0, 3.0])
    al.softmax_focal_loss(LG, T, alpha=[0.2, 0.3, 0.5])
    al.multiclass_hinge_loss(LG, T, mode="weston_watkins")
    al.center_loss(X, XL, CEN)


def test_out_of_range_labels_under_jit_give_nan() -> None:
    """Unchecked under tracing: the sample's loss is NaN, never a silently wrong class."""
    jax = _jax()
    import jax.numpy as jnp

    out = jax.jit(lambda z, y: al.cross_entropy(z, y, reduction="none"))(
        jnp.asarray(LG), jnp.asarray([0, 7, 2]))
    out = np.asarray(out)
    assert np.isnan(out[1]) and np.all(np.isfinite(out[[0, 2]]))
    with al.options(validate=False):
        out = al.center_loss(X, np.array([0, 5, 1]), CEN, reduction="none")
    assert np.isnan(out[1]) and np.all(np.isfinite(out[[0, 2]]))


# ---------------------------------------------------------------------------------------
# bad input: clear errors naming the argument


def test_bad_input_messages() -> None:
    with pytest.raises(ValueError, match=r"cross_entropy: `target` must hold class labels in "
                                         r"\[0, 3\)"):
        al.cross_entropy(LG, np.array([0, 3, 1]))
    with pytest.raises(TypeError, match=r"cross_entropy: `target` must hold integer class"):
        al.cross_entropy(LG, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: `class_weight` must have shape \(3,\)"):
        al.cross_entropy(LG, T, class_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"cross_entropy: `label_smoothing` must be >= 0.0 and "
                                         r"<= 1.0"):
        al.cross_entropy(LG, T, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: `pos_weight` of "
                                         r"shape \(2,\) does not broadcast"):
        al.binary_cross_entropy_with_logits(np.zeros((3, 4)), np.zeros((3, 4)),
                                            pos_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: `pos_weight` must hold values"):
        al.binary_cross_entropy(np.full((2, 2), 0.5), np.ones((2, 2)),
                                pos_weight=np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"hinge_loss: `target` must hold labels in \{-1, \+1\}"):
        al.hinge_loss(np.zeros(3), np.array([1, 0, -1]))
    with pytest.raises(ValueError, match=r"cross_entropy: `ignore_index` must be None or a value"):
        al.cross_entropy(LG, T, ignore_index=0)
    with pytest.raises(ValueError, match=r"cross_entropy: `ignore_index` applies to integer"):
        al.cross_entropy(LG, np.eye(3), ignore_index=-100)
    with pytest.raises(ValueError, match=r"softmax_focal_loss: `alpha` must be None or one"):
        al.softmax_focal_loss(LG, T, alpha=0.25)
    with pytest.raises(ValueError, match=r"center_loss: `centers` must have shape \(K, 2\)"):
        al.center_loss(X, XL, np.zeros((2, 3)))
    torch = _torch()
    with pytest.raises(ValueError, match=r"cross_entropy: `target` must hold class labels"):
        al.cross_entropy(torch.tensor(LG), torch.tensor([0, -5, 1]))


# ---------------------------------------------------------------------------------------
# peers on random inputs across shapes, dtypes and options

SHAPES = [((6, 5), -1), ((2, 4, 3, 3), 1), ((3, 2, 4), -1), ((5,), 0)]


def _rand_case(rng, shape, axis, dense):
    z = rng.normal(size=shape) * 3
    if dense:
        return z, rng.dirichlet(np.ones(shape[axis]), size=np.delete(shape, axis % len(shape))
                                .tolist() or None).reshape(np.moveaxis(z, axis, -1).shape)
    lshape = tuple(np.delete(shape, axis % len(shape)))
    return z, rng.integers(0, shape[axis], size=lshape)


@pytest.mark.parametrize(("shape", "axis"), SHAPES)
def test_cross_entropy_matches_torch(shape, axis) -> None:
    torch = _torch()
    import torch.nn.functional as F

    rng = np.random.default_rng(3)
    for dense, cw, ign, ls, red in itertools.product((False, True), (False, True), (False, True),
                                                     (0.0, 0.15), ("mean", "sum", "none")):
        if dense and ign:
            continue
        z, t = _rand_case(rng, shape, axis, dense)
        if dense:
            t = np.moveaxis(t, -1, axis)
        if ign and t.ndim:
            t = np.where(rng.uniform(size=t.shape) < 0.3, -100, t)
            t.flat[0] = 0
        w = rng.uniform(0.2, 2.0, size=shape[axis]) if cw else None
        kw = {"label_smoothing": ls, "reduction": red}
        if ign:
            kw["ignore_index"] = -100
        for dt in (torch.float64, torch.float32):
            kw["class_weight"] = None if w is None else torch.tensor(w, dtype=dt)
            tz = torch.tensor(z, dtype=dt)
            tt = torch.tensor(t, dtype=dt) if dense else torch.tensor(t)
            ours = al.cross_entropy(tz, tt, axis=axis, **kw)
            x = torch.movedim(tz, axis, 1) if tz.ndim > 1 else tz
            tgt = torch.movedim(tt, axis, 1) if dense and tt.ndim > 1 else tt
            tw = None if w is None else torch.tensor(w, dtype=dt)
            theirs = F.cross_entropy(x, tgt, weight=tw, label_smoothing=ls, reduction=red,
                                     ignore_index=-100)
            tol = (1e-10, 1e-12) if dt == torch.float64 else (1e-5, 1e-6)
            _close(ours.numpy(), theirs.numpy(), *tol)


def test_binary_cross_entropies_match_torch() -> None:
    torch = _torch()
    import torch.nn.functional as F

    rng = np.random.default_rng(4)
    for shape in [(7,), (4, 3), (2, 3, 5)]:
        c = shape[-1]
        for pw, wt, red in itertools.product((None, 2.5, "vec"), (False, True),
                                             ("mean", "sum", "none")):
            p = rng.uniform(1e-3, 1 - 1e-3, size=shape)
            z = rng.normal(size=shape) * 4
            y = rng.uniform(size=shape)
            w = rng.uniform(0, 2, size=shape[-1:]) if wt else None
            pos = rng.uniform(0.5, 3, size=(c,)) if pw == "vec" else pw
            for dt in (torch.float64, torch.float32):
                tol = (1e-10, 1e-12) if dt == torch.float64 else (1e-5, 1e-6)

                def t(a, dt=dt):
                    return None if a is None else torch.tensor(a, dtype=dt)

                tpos = None if pos is None else torch.as_tensor(pos, dtype=dt)
                ours = al.binary_cross_entropy_with_logits(t(z), t(y), pos_weight=tpos,
                                                           weight=t(w), reduction=red)
                theirs = F.binary_cross_entropy_with_logits(t(z), t(y), weight=t(w),
                                                            pos_weight=tpos, reduction=red)
                _close(ours.numpy(), theirs.numpy(), *tol)
                if pos is None:
                    ours = al.binary_cross_entropy(t(p), t(y), weight=t(w), reduction=red)
                    theirs = F.binary_cross_entropy(t(p), t(y), weight=t(w), reduction=red)
                    _close(ours.numpy(), theirs.numpy(), *tol)


def test_kl_divergence_matches_torch_scipy_optax() -> None:
    torch = _torch()
    import torch.nn.functional as F

    rng = np.random.default_rng(5)
    for shape, axis in [((4, 6), -1), ((2, 3, 5), 1)]:
        lq = np.log(rng.dirichlet(np.ones(shape[axis]), size=None if len(shape) == 1 else
                                  int(np.prod(shape) // shape[axis])))
        lq = np.moveaxis(lq.reshape(*np.delete(shape, axis % len(shape)), shape[axis]), -1, axis)
        p = np.moveaxis(rng.dirichlet(np.ones(shape[axis]) * 0.5,
                                      size=tuple(np.delete(shape, axis % len(shape)))), -1, axis)
        n = int(np.prod(shape) // shape[axis])
        for lt in (False, True):  # torch gives NaN where log P = -inf: p > 0 here
            tgt = np.log(p) if lt else p
            ours = al.kl_divergence(torch.tensor(lq), torch.tensor(tgt), axis=axis,
                                    log_target=lt)
            theirs = F.kl_div(torch.tensor(lq), torch.tensor(tgt), reduction="sum",
                              log_target=lt) / n
            _close(ours.numpy(), theirs.numpy())
        p = np.where(p < 0.05, 0.0, p)  # exact zeros: scipy's rel_entr gives 0 there too
        if len(shape) == 2:
            _close(al.kl_divergence(torch.tensor(lq), torch.tensor(p)).numpy(),
                   F.kl_div(torch.tensor(lq), torch.tensor(p), reduction="batchmean").numpy())
        require_module("scipy")
        import scipy.special

        _close(al.kl_divergence(lq, p, axis=axis, reduction="none"),
               scipy.special.rel_entr(p, np.exp(lq)).sum(axis))
    require_module("optax")
    _jax()
    import jax.numpy as jnp
    import optax

    lq, p = np.log(rng.dirichlet(np.ones(4), size=5)), rng.dirichlet(np.ones(4), size=5)
    _close(al.kl_divergence(jnp.asarray(lq), jnp.asarray(p), reduction="none"),
           optax.losses.kl_divergence(jnp.asarray(lq), jnp.asarray(p)))


def test_multiclass_hinge_matches_torch_and_optax() -> None:
    torch = _torch()
    import torch.nn.functional as F

    rng = np.random.default_rng(6)
    for n, c in [(8, 4), (5, 7)]:
        s, y = rng.normal(size=(n, c)) * 2, rng.integers(0, c, size=(n,))
        for margin, sq in itertools.product((1.0, 0.3, 2.0), (False, True)):
            ours = al.multiclass_hinge_loss(torch.tensor(s), torch.tensor(y), margin=margin,
                                            squared=sq, mode="weston_watkins", reduction="none")
            theirs = c * F.multi_margin_loss(torch.tensor(s), torch.tensor(y), margin=margin,
                                             p=2 if sq else 1, reduction="none")
            _close(ours.numpy(), theirs.numpy())
    require_module("optax")
    _jax()
    import jax.numpy as jnp
    import optax

    s, y = rng.normal(size=(9, 5)), rng.integers(0, 5, size=(9,))
    _close(al.multiclass_hinge_loss(jnp.asarray(s), jnp.asarray(y), reduction="none"),
           optax.losses.multiclass_hinge_loss(jnp.asarray(s), jnp.asarray(y)))
    f, lab = rng.normal(size=(4, 6)) * 2, np.where(rng.uniform(size=(4, 6)) < 0.5, -1.0, 1.0)
    _close(al.hinge_loss(jnp.asarray(f), jnp.asarray(lab), reduction="none"),
           optax.losses.hinge_loss(jnp.asarray(f), jnp.asarray(lab)))


def test_optax_cross_entropy_and_focal() -> None:
    require_module("optax")
    _jax()
    import jax
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(7)
    for shape in [(6, 4), (2, 3, 5)]:
        z = jnp.asarray(rng.normal(size=shape) * 3)
        y = jnp.asarray(rng.integers(0, shape[-1], size=shape[:-1]))
        q = jnp.asarray(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
        _close(al.cross_entropy(z, y, reduction="none"),
               optax.losses.softmax_cross_entropy_with_integer_labels(z, y))
        for ls in (0.0, 0.2):
            _close(al.cross_entropy(z, q, label_smoothing=ls, reduction="none"),
                   optax.losses.softmax_cross_entropy(z, optax.smooth_labels(q, ls)))
            hard = jax.nn.one_hot(y, shape[-1], dtype=z.dtype)
            _close(al.cross_entropy(z, y, label_smoothing=ls, reduction="none"),
                   optax.losses.softmax_cross_entropy(z, optax.smooth_labels(hard, ls)))
        zb = jnp.asarray(rng.normal(size=shape) * 4)
        for soft, alpha, gamma in itertools.product((False, True), (None, 0.25, 0.8),
                                                    (0.0, 0.5, 2.0, 3.5)):
            yb = rng.uniform(size=shape) if soft else (rng.uniform(size=shape) < 0.5) * 1.0
            yb = jnp.asarray(yb)
            _close(al.sigmoid_focal_loss(zb, yb, alpha=alpha, gamma=gamma, reduction="none"),
                   optax.losses.sigmoid_focal_loss(zb, yb, alpha=alpha, gamma=gamma),
                   rtol=1e-9, atol=1e-12)
        yb = jnp.asarray(rng.uniform(size=shape))
        _close(al.binary_cross_entropy_with_logits(zb, yb, reduction="none"),
               optax.losses.sigmoid_binary_cross_entropy(zb, yb))


def test_kornia_focal_losses() -> None:
    torch = _torch()
    require_module("kornia")
    import kornia

    rng = np.random.default_rng(8)
    for shape in [(5, 4), (2, 3, 4, 2)]:
        z = torch.tensor(rng.normal(size=shape) * 3)
        c = shape[1]
        y = torch.tensor(rng.integers(0, c, size=(shape[0], *shape[2:])))
        for a, gamma in itertools.product((None, 0.25, 0.6), (0.0, 0.5, 2.0)):
            alpha = None if a is None else [1 - a] + [a] * (c - 1)
            ours = al.softmax_focal_loss(z, y, axis=1, gamma=gamma, alpha=alpha,
                                         reduction="none")
            theirs = kornia.losses.focal_loss(z, y, alpha=a, gamma=gamma, reduction="none")
            _close(ours.numpy(), theirs.sum(1).numpy(), rtol=1e-9, atol=1e-12)
            if a is not None:
                mean = kornia.losses.focal_loss(z, y, alpha=a, gamma=gamma, reduction="mean")
                _close(al.softmax_focal_loss(z, y, axis=1, gamma=gamma, alpha=alpha).numpy() / c,
                       mean.numpy(), rtol=1e-9, atol=1e-12)
            yb = torch.tensor((rng.uniform(size=shape) < 0.4) * 1.0)
            ours = al.sigmoid_focal_loss(z, yb, alpha=a, gamma=gamma, reduction="none")
            theirs = kornia.losses.binary_focal_loss_with_logits(z, yb, alpha=a, gamma=gamma,
                                                                 reduction="none")
            _close(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_keras_where_correct() -> None:
    require_module("keras")
    import keras

    rng = np.random.default_rng(9)
    # keras computes in float32 (float32 tolerance against keras)

    def k(x):
        return np.asarray(keras.ops.convert_to_numpy(x), np.float64)

    z, y = rng.normal(size=(6, 5)) * 2, rng.integers(0, 5, size=(6,))
    y[[1, 4]] = -1
    per = k(keras.losses.sparse_categorical_crossentropy(y, z, from_logits=True,
                                                         ignore_class=-1))
    _close(al.cross_entropy(z, y, ignore_index=-1, reduction="none"), per, rtol=1e-5, atol=1e-6)
    _close(al.cross_entropy(z, y, ignore_index=-1), per.sum() / 4, rtol=1e-5, atol=1e-6)
    q = rng.dirichlet(np.ones(5), size=6)
    _close(al.cross_entropy(z, q, label_smoothing=0.1, reduction="none"),
           k(keras.losses.categorical_crossentropy(q, z, from_logits=True, label_smoothing=0.1)),
           rtol=1e-5, atol=1e-6)
    zb, yb = rng.normal(size=(4, 6)) * 3, (rng.uniform(size=(4, 6)) < 0.5) * 1.0
    _close(al.binary_cross_entropy_with_logits(zb, yb, label_smoothing=0.2),
           k(keras.losses.binary_crossentropy(yb, zb, from_logits=True,
                                              label_smoothing=0.2)).mean(), rtol=1e-5, atol=1e-6)
    _close(al.sigmoid_focal_loss(zb, yb, alpha=0.3, gamma=1.5),
           k(keras.losses.binary_focal_crossentropy(yb, zb, apply_class_balancing=True,
                                                    alpha=0.3, gamma=1.5,
                                                    from_logits=True)).mean(),
           rtol=1e-5, atol=1e-6)
    sgn = 2 * yb - 1
    _close(al.hinge_loss(zb, sgn), k(keras.losses.hinge(sgn, zb)).mean(), rtol=1e-5, atol=1e-6)
    _close(al.squared_hinge_loss(zb, sgn), k(keras.losses.squared_hinge(sgn, zb)).mean(),
           rtol=1e-5, atol=1e-6)


def test_entropy_matches_scipy_and_torch() -> None:
    require_module("scipy")
    import scipy.stats

    rng = np.random.default_rng(10)
    p = rng.dirichlet(np.ones(5) * 0.3, size=(3, 4))
    p = np.where(p < 1e-3, 0.0, p)
    p = p / p.sum(-1, keepdims=True)
    for base in (None, 2.0, 10.0):
        _close(al.entropy(p, base=base, reduction="none"),
               scipy.stats.entropy(p, base=base, axis=-1))
        _close(al.entropy(np.moveaxis(p, -1, 0), axis=0, base=base, reduction="none"),
               scipy.stats.entropy(p, base=base, axis=-1))
    torch = _torch()
    z = torch.tensor(rng.normal(size=(4, 6)) * 5)
    _close(al.entropy(z, from_logits=True, reduction="none").numpy(),
           torch.distributions.Categorical(logits=z).entropy().numpy())
