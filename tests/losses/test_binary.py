"""Binary losses (``arrayloss.losses.binary``) beyond the catalogue's matrix, one class per
loss: golden numbers in float64 and float32, probabilities exactly 0 and 1 (the eps of the
compute dtype), saturated logits in float32 / bfloat16 with gradients, the focal factor at
saturation, the multi-label soft margin's class weights and torch's multi-label module, and,
in ``TestBinaryFamily``, torch, optax and keras on random inputs over many
option combinations.

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import arrayloss as al
from arrayloss.testing import backends
from conftest import assert_close as _close
from conftest import (
    check_saturated_logits_jax_float32,
    check_saturated_logits_torch,
    keras_or_skip,
    optax_or_skip,
    require_backend,
    require_module,
)
from conftest import jax_or_skip as _jax
from conftest import numpy64 as _np
from conftest import torch_or_skip as _torch

Z = np.array([2.0, -1.0, 0.5, -3.0])
Y = np.array([1.0, 0.0, 0.0, 1.0])
# saturated logits (+-100, +-1e4) with hard and soft targets
BZ = np.array([100.0, -100.0, 1e4, -1e4, 100.0, -1e4, 30.0, -30.0])
BY = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
BSOFT = np.array([0.9, 0.1, 1.0, 0.3, 0.0, 0.6, 0.2, 1.0])


class TestBinaryCrossEntropy:
    @pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax", "array_api_strict"])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_at_zero_and_one(self, backend_id: str, dtype: str) -> None:
        backend = require_backend(backends.by_id(backend_id))
        p = np.array([0.9, 0.2, 0.6, 0.0, 1.0])
        y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
        (bp, by), _ = backend.convert((p, y), {}, dtype)
        out = backend.to_numpy(backend.call(al.binary_cross_entropy, (bp, by),
                                            {"reduction": "none"}))
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
    def test_gradients_at_zero_and_one_are_finite(self, dtype: str) -> None:
        torch = _torch()
        p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=getattr(torch, dtype), requires_grad=True)
        y = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=getattr(torch, dtype))
        out = al.binary_cross_entropy(p, y, reduction="sum", pos_weight=2.0, label_smoothing=0.1)
        assert torch.isfinite(out)
        (g,) = torch.autograd.grad(out, p)
        assert torch.all(torch.isfinite(g)) and torch.all(g == 0)

    def test_bad_input_messages(self) -> None:
        with pytest.raises(ValueError,
                           match=r"binary_cross_entropy: `pos_weight` must hold values"):
            al.binary_cross_entropy(np.full((2, 2), 0.5), np.ones((2, 2)),
                                    pos_weight=np.array([1.0, -1.0]))


class TestBinaryCrossEntropyWithLogits:
    SATURATED = (pytest.param(BY, {}, id="hard"),
                 pytest.param(BSOFT, {"pos_weight": 2.0, "label_smoothing": 0.1},
                              id="soft-pos_weight-smoothing"))

    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.binary_cross_entropy_with_logits(a(Z), a(Y), pos_weight=3.0, reduction="none"),
               [0.3807840, 0.3132617, 0.9740770, 9.1457615], rtol, atol)
        _close(al.binary_cross_entropy_with_logits(a(Z), a(Y), label_smoothing=0.1,
                                                   reduction="none"),
               [0.2269280, 0.3632618, 0.9490770, 2.8985872], rtol, atol)
        _close(al.binary_cross_entropy_with_logits(a(Z), a(Y)), 1.1157136, rtol, atol)
        _close(al.binary_cross_entropy_with_logits(a(Z), a(Y), weight=a([1.0, 2.0, 1.0, 0.5]),
                                                   reduction="none"),
               [0.1269280, 0.6265235, 0.9740770, 1.5242937], rtol, atol)

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    @pytest.mark.parametrize(("target", "opts"), SATURATED)
    def test_saturated_logits_torch(self, target, opts, dtype: str) -> None:
        check_saturated_logits_torch(al.binary_cross_entropy_with_logits, BZ, target, opts, dtype)

    @pytest.mark.parametrize(("target", "opts"), SATURATED)
    def test_saturated_logits_jax_float32(self, target, opts) -> None:
        check_saturated_logits_jax_float32(al.binary_cross_entropy_with_logits, BZ, target, opts)

    def test_bad_input_messages(self) -> None:
        with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: `pos_weight` of "
                                             r"shape \(2,\) does not broadcast"):
            al.binary_cross_entropy_with_logits(np.zeros((3, 4)), np.zeros((3, 4)),
                                                pos_weight=np.ones(2))


class TestSigmoidFocalLoss:
    SATURATED = (pytest.param(BY, {}, id="hard"),
                 pytest.param(BSOFT, {"gamma": 0.5, "alpha": None}, id="soft-gamma-0.5"))

    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.sigmoid_focal_loss(a(Z), a(Y), alpha=None, reduction="none"),
               [1.8035645e-03, 2.2658058e-02, 3.7741163e-01, 2.7662807], rtol, atol)
        _close(al.sigmoid_focal_loss(a(Z), a(Y)), 0.2480183, rtol, atol)

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    @pytest.mark.parametrize(("target", "opts"), SATURATED)
    def test_saturated_logits_torch(self, target, opts, dtype: str) -> None:
        check_saturated_logits_torch(al.sigmoid_focal_loss, BZ, target, opts, dtype)

    @pytest.mark.parametrize(("target", "opts"), SATURATED)
    def test_saturated_logits_jax_float32(self, target, opts) -> None:
        check_saturated_logits_jax_float32(al.sigmoid_focal_loss, BZ, target, opts)

    def test_gamma_below_one_at_saturation(self) -> None:
        """torchvision's formula gives a NaN gradient at z = 40, y = 1, gamma = 0.5; arrayloss
        gives the value 2.19e-27 and a finite, tiny gradient (torch and JAX, float32 and 64)."""
        torch = _torch()
        jax = _jax()
        import jax.numpy as jnp

        for dt in (torch.float32, torch.float64):
            z = torch.tensor([40.0], dtype=dt, requires_grad=True)
            out = al.sigmoid_focal_loss(z, torch.tensor([1.0], dtype=dt), gamma=0.5,
                                        reduction="sum")
            (g,) = torch.autograd.grad(out, z)
            _close(out.item(), 2.19e-27, rtol=5e-3, atol=0)
            assert torch.isfinite(g).all() and abs(g.item()) < 1e-20
        for dt in (jnp.float32, jnp.float64):
            ones = jnp.ones(1, dt)
            val, g = jax.value_and_grad(lambda x, y=ones: al.sigmoid_focal_loss(
                x, y, gamma=0.5, reduction="sum"))(jnp.asarray([40.0], dt))
            _close(val, 2.19e-27, rtol=5e-3, atol=0)
            assert np.isfinite(np.asarray(g)).all() and abs(float(g[0])) < 1e-20

    def test_does_not_saturate_like_keras(self) -> None:
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

    def test_gamma_zero_without_alpha_is_bce_with_logits(self) -> None:
        rng = np.random.default_rng(1)
        zb, yb = rng.normal(size=(3, 4)) * 3, rng.uniform(size=(3, 4))
        _close(al.sigmoid_focal_loss(zb, yb, gamma=0.0, alpha=None),
               al.binary_cross_entropy_with_logits(zb, yb))

    def test_matches_kornia(self) -> None:
        torch = _torch()
        require_module("kornia")
        import kornia

        rng = np.random.default_rng(8)
        for shape in [(5, 4), (2, 3, 4, 2)]:
            z = torch.tensor(rng.normal(size=shape) * 3)
            for a, gamma in itertools.product((None, 0.25, 0.6), (0.0, 0.5, 2.0)):
                yb = torch.tensor((rng.uniform(size=shape) < 0.4) * 1.0)
                ours = al.sigmoid_focal_loss(z, yb, alpha=a, gamma=gamma, reduction="none")
                theirs = kornia.losses.binary_focal_loss_with_logits(z, yb, alpha=a, gamma=gamma,
                                                                     reduction="none")
                _close(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)


XM = np.array([[0.8, -0.5, 2.0], [0.1, 0.9, -1.2]])
YM = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])


class TestMultilabelSoftMarginLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.multilabel_soft_margin_loss(a(XM), a(YM), reduction="none"),
               [0.3240352, 0.8496110], rtol, atol)
        _close(al.multilabel_soft_margin_loss(a(XM), a(YM)), 0.5868231, rtol, atol)
        _close(al.multilabel_soft_margin_loss(a(XM), a(YM), class_weight=[1.0, 2.0, 0.5],
                                              reduction="none"),
               [0.4609062, 0.7194485], rtol, atol)

    def test_is_the_class_mean_of_bce_with_logits(self) -> None:
        rng = np.random.default_rng(1)
        z, y = rng.normal(size=(3, 2, 5)) * 3, rng.uniform(size=(3, 2, 5))
        _close(al.multilabel_soft_margin_loss(z, y, axis=1, reduction="none"),
               np.mean(al.binary_cross_entropy_with_logits(z, y, reduction="none"), axis=1))

    def test_class_weight_does_not_enter_the_denominator(self) -> None:
        """torch's rule: the sum over classes is divided by C, whatever the weights."""
        w = np.array([0.0, 0.0, 3.0])
        got = al.multilabel_soft_margin_loss(XM, YM, class_weight=w, reduction="none")
        per_class = al.binary_cross_entropy_with_logits(XM, YM, reduction="none")
        _close(got, 3.0 * per_class[:, 2] / 3)

    def test_zero_class_weight_hides_an_infinite_logit(self) -> None:
        torch = _torch()
        z = torch.tensor([[math.inf, 0.5, -math.inf]], dtype=torch.float64,
                         requires_grad=True)
        y = torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64)
        w = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
        out = al.multilabel_soft_margin_loss(z, y, class_weight=w)
        (g,) = torch.autograd.grad(out, z)
        _close(_np(out), np.logaddexp(0.0, -0.5) / 3)
        assert torch.isfinite(g).all() and g[0, 0] == 0 and g[0, 2] == 0

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    def test_saturated_logits_torch(self, dtype: str) -> None:
        check_saturated_logits_torch(al.multilabel_soft_margin_loss, BZ.reshape(2, 4),
                                     BY.reshape(2, 4), {}, dtype)

    def test_matches_torch_on_random_inputs(self) -> None:
        torch = _torch()
        import torch.nn.functional as tF

        rng = np.random.default_rng(8)
        for shape in [(6, 4), (2, 3, 5)]:
            z, y = rng.normal(size=shape) * 3, rng.uniform(size=shape)
            w = rng.uniform(0.0, 2.0, size=shape[-1])
            for cw in (None, w):
                tw = None if cw is None else torch.tensor(cw)
                zt = torch.tensor(z, requires_grad=True)
                ours = al.multilabel_soft_margin_loss(zt, torch.tensor(y), class_weight=tw,
                                                      reduction="none")
                z2 = torch.tensor(z, requires_grad=True)
                theirs = tF.multilabel_soft_margin_loss(z2, torch.tensor(y), weight=tw,
                                                        reduction="none")
                _close(_np(ours), _np(theirs))
                (g1,) = torch.autograd.grad(ours.sum(), zt)
                (g2,) = torch.autograd.grad(theirs.sum(), z2)
                _close(_np(g1), _np(g2))


class TestBinaryFamily:
    """Peers on random inputs across shapes, dtypes and options, for the family's losses."""

    def test_matches_torch(self) -> None:
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

    def test_matches_optax(self) -> None:
        optax = optax_or_skip()
        import jax.numpy as jnp

        rng = np.random.default_rng(7)
        for shape in [(6, 4), (2, 3, 5)]:
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

    def test_matches_keras(self) -> None:
        keras = keras_or_skip()
        rng = np.random.default_rng(9)
        # keras computes in float32 (float32 tolerance against keras)
        zb, yb = rng.normal(size=(4, 6)) * 3, (rng.uniform(size=(4, 6)) < 0.5) * 1.0
        _close(al.binary_cross_entropy_with_logits(zb, yb, label_smoothing=0.2),
               _np(keras.losses.binary_crossentropy(yb, zb, from_logits=True,
                                                  label_smoothing=0.2)).mean(),
               rtol=1e-5, atol=1e-6)
        _close(al.sigmoid_focal_loss(zb, yb, alpha=0.3, gamma=1.5),
               _np(keras.losses.binary_focal_crossentropy(yb, zb, apply_class_balancing=True,
                                                        alpha=0.3, gamma=1.5,
                                                        from_logits=True)).mean(),
               rtol=1e-5, atol=1e-6)
