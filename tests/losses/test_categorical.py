"""Categorical losses (``arrayloss.losses.categorical``) beyond the catalogue's matrix, one
class per loss: golden numbers in float64 and float32, saturated and masked logits in
float32 / bfloat16 with gradients, probabilities exactly 0, peers (torch, scipy, optax,
kornia, keras) on random inputs over many option combinations, and, in
``TestCategoricalFamily``, the family's own conventions (masked classes, channels-first,
ignored samples, gathered integer labels).

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest

import arrayloss as al
from conftest import assert_close as _close
from conftest import (
    check_saturated_logits_jax_float32,
    check_saturated_logits_torch,
    keras_or_skip,
    optax_or_skip,
    require_module,
)
from conftest import jax_or_skip as _jax
from conftest import numpy64 as _np
from conftest import torch_or_skip as _torch

LG = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0]])
T = np.array([0, 1, 2])
# saturated logits (+-100, +-1e4) with integer and dense targets
SAT = np.array([[1e4, 0.0, -1e4], [-100.0, 100.0, 0.0], [-1e4, 1e4, 100.0],
                [30.0, -30.0, 0.0], [0.5, -0.2, 0.1]])
SAT_Y = np.array([0, 2, 1, 1, 0])
SAT_SOFT = np.array([[0.9, 0.1, 0.0], [0.2, 0.0, 0.8], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0],
                     [0.2, 0.3, 0.5]])
# random cases for the peers: shape and class axis
SHAPES = [((6, 5), -1), ((2, 4, 3, 3), 1), ((3, 2, 4), -1), ((5,), 0)]


def _rand_case(rng, shape, axis, dense):
    z = rng.normal(size=shape) * 3
    if dense:
        return z, rng.dirichlet(np.ones(shape[axis]), size=np.delete(shape, axis % len(shape))
                                .tolist() or None).reshape(np.moveaxis(z, axis, -1).shape)
    lshape = tuple(np.delete(shape, axis % len(shape)))
    return z, rng.integers(0, shape[axis], size=lshape)


class TestEntropy:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.entropy(a([0.7, 0.2, 0.1]), base=2), 1.1567796, rtol, atol)
        _close(al.entropy(a([[0.7, 0.2, 0.1], [1.0, 0.0, 0.0]])), 0.4009093, rtol, atol)

    def test_one_hot_and_bounds(self) -> None:
        p = np.array([[1.0, 0.0, 0.0], [0.25, 0.25, 0.5], [1 / 3, 1 / 3, 1 / 3]])
        h = al.entropy(p, reduction="none")
        assert h[0] == 0.0
        _close(h[2], math.log(3))
        assert np.all(h <= math.log(3) + 1e-12)

    def test_probability_gradient_at_zero_is_minus_log_eps(self) -> None:
        torch = _torch()
        p = torch.tensor([0.0, 0.5, 0.5], dtype=torch.float32, requires_grad=True)
        (g,) = torch.autograd.grad(al.entropy(p), p)
        _close(g[0].item(), 15.942385, rtol=1e-6, atol=0)

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    def test_saturated_logits_torch(self, dtype: str) -> None:
        check_saturated_logits_torch(al.entropy, SAT, None, {"from_logits": True}, dtype)

    def test_matches_scipy_and_torch(self) -> None:
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


class TestCrossEntropy:
    SATURATED = (pytest.param(SAT_Y, {}, id="labels"),
                 pytest.param(SAT_Y, {"label_smoothing": 0.1, "class_weight": [1.0, 2.0, 0.5]},
                              id="labels-smoothing-class_weight"))

    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
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

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    @pytest.mark.parametrize(("target", "opts"),
                             [*SATURATED, pytest.param(SAT_SOFT, {}, id="dense")])
    def test_saturated_logits_torch(self, target, opts, dtype: str) -> None:
        check_saturated_logits_torch(al.cross_entropy, SAT, target, opts, dtype)

    @pytest.mark.parametrize(("target", "opts"), SATURATED)
    def test_saturated_logits_jax_float32(self, target, opts) -> None:
        check_saturated_logits_jax_float32(al.cross_entropy, SAT, target, opts)

    def test_gradient_is_softmax_minus_target(self) -> None:
        torch = _torch()
        lg = torch.tensor(LG, requires_grad=True)
        soft = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.2]],
                            dtype=torch.float64)
        (g,) = torch.autograd.grad(al.cross_entropy(lg, soft, reduction="sum"), lg)
        sm = torch.softmax(lg.detach(), -1)
        _close(g.numpy(), (sm * soft.sum(-1, keepdim=True) - soft).numpy())

    def test_label_dtypes(self) -> None:
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

    def test_out_of_range_labels_under_jit_give_nan(self) -> None:
        """Unchecked under tracing: the sample's loss is NaN, never a silently wrong class."""
        jax = _jax()
        import jax.numpy as jnp

        out = jax.jit(lambda z, y: al.cross_entropy(z, y, reduction="none"))(
            jnp.asarray(LG), jnp.asarray([0, 7, 2]))
        out = np.asarray(out)
        assert np.isnan(out[1]) and np.all(np.isfinite(out[[0, 2]]))

    def test_bad_input_messages(self) -> None:
        with pytest.raises(ValueError, match=r"cross_entropy: `target` must hold class labels "
                                             r"in \[0, 3\)"):
            al.cross_entropy(LG, np.array([0, 3, 1]))
        with pytest.raises(TypeError, match=r"cross_entropy: `target` must hold integer class"):
            al.cross_entropy(LG, np.array([0.0, 1.0, 2.0]))
        with pytest.raises(ValueError,
                           match=r"cross_entropy: `class_weight` must have shape \(3,\)"):
            al.cross_entropy(LG, T, class_weight=np.ones(4))
        with pytest.raises(ValueError, match=r"cross_entropy: `label_smoothing` must be >= 0.0 "
                                             r"and <= 1.0"):
            al.cross_entropy(LG, T, label_smoothing=1.5)
        with pytest.raises(ValueError,
                           match=r"cross_entropy: `ignore_index` must be None or a value"):
            al.cross_entropy(LG, T, ignore_index=0)
        with pytest.raises(ValueError, match=r"cross_entropy: `ignore_index` applies to integer"):
            al.cross_entropy(LG, np.eye(3), ignore_index=-100)
        torch = _torch()
        with pytest.raises(ValueError, match=r"cross_entropy: `target` must hold class labels"):
            al.cross_entropy(torch.tensor(LG), torch.tensor([0, -5, 1]))

    @pytest.mark.parametrize(("shape", "axis"), SHAPES)
    def test_matches_torch(self, shape, axis) -> None:
        torch = _torch()
        import torch.nn.functional as F

        rng = np.random.default_rng(3)
        for dense, cw, ign, ls, red in itertools.product((False, True), (False, True),
                                                         (False, True), (0.0, 0.15),
                                                         ("mean", "sum", "none")):
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

    def test_matches_optax(self) -> None:
        optax = optax_or_skip()
        import jax
        import jax.numpy as jnp

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

    def test_matches_keras(self) -> None:
        keras = keras_or_skip()
        rng = np.random.default_rng(9)
        # keras computes in float32 (float32 tolerance against keras)
        z, y = rng.normal(size=(6, 5)) * 2, rng.integers(0, 5, size=(6,))
        y[[1, 4]] = -1
        per = _np(keras.losses.sparse_categorical_crossentropy(y, z, from_logits=True,
                                                             ignore_class=-1))
        _close(al.cross_entropy(z, y, ignore_index=-1, reduction="none"), per, rtol=1e-5,
               atol=1e-6)
        _close(al.cross_entropy(z, y, ignore_index=-1), per.sum() / 4, rtol=1e-5, atol=1e-6)
        q = rng.dirichlet(np.ones(5), size=6)
        _close(al.cross_entropy(z, q, label_smoothing=0.1, reduction="none"),
               _np(keras.losses.categorical_crossentropy(q, z, from_logits=True,
                                                       label_smoothing=0.1)),
               rtol=1e-5, atol=1e-6)


class TestKlDivergence:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        lq = np.log(a([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]]))
        _close(al.kl_divergence(lq, a([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])), 0.3891350, rtol,
               atol)

    def test_infinite_value_finite_gradient(self) -> None:
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

    def test_matches_torch_scipy_optax(self) -> None:
        torch = _torch()
        import torch.nn.functional as F

        rng = np.random.default_rng(5)
        for shape, axis in [((4, 6), -1), ((2, 3, 5), 1)]:
            lq = np.log(rng.dirichlet(np.ones(shape[axis]), size=None if len(shape) == 1 else
                                      int(np.prod(shape) // shape[axis])))
            lq = np.moveaxis(lq.reshape(*np.delete(shape, axis % len(shape)), shape[axis]), -1,
                             axis)
            p = np.moveaxis(rng.dirichlet(np.ones(shape[axis]) * 0.5,
                                          size=tuple(np.delete(shape, axis % len(shape)))),
                            -1, axis)
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
        optax = optax_or_skip()
        import jax.numpy as jnp

        lq, p = np.log(rng.dirichlet(np.ones(4), size=5)), rng.dirichlet(np.ones(4), size=5)
        _close(al.kl_divergence(jnp.asarray(lq), jnp.asarray(p), reduction="none"),
               optax.losses.kl_divergence(jnp.asarray(lq), jnp.asarray(p)))


class TestSoftmaxFocalLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.softmax_focal_loss(a(LG), T), 0.1799514, rtol, atol)
        _close(al.softmax_focal_loss(a(LG), T, alpha=[0.75, 0.25, 0.25]), 0.0530699, rtol, atol)

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    @pytest.mark.parametrize(("target", "opts"), [
        pytest.param(SAT_Y, {"gamma": 0.5}, id="labels-gamma-0.5"),
        pytest.param(SAT_SOFT, {"gamma": 2.0}, id="dense-gamma-2")])
    def test_saturated_logits_torch(self, target, opts, dtype: str) -> None:
        check_saturated_logits_torch(al.softmax_focal_loss, SAT, target, opts, dtype)

    def test_gamma_zero_is_cross_entropy(self) -> None:
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

    def test_matches_kornia(self) -> None:
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
                    _close(al.softmax_focal_loss(z, y, axis=1, gamma=gamma,
                                                 alpha=alpha).numpy() / c,
                           mean.numpy(), rtol=1e-9, atol=1e-12)

    def test_bad_input_messages(self) -> None:
        with pytest.raises(ValueError, match=r"softmax_focal_loss: `alpha` must be None or one"):
            al.softmax_focal_loss(LG, T, alpha=0.25)


class TestCategoricalFamily:
    """Conventions the family's losses share."""

    def test_masked_logits_torch(self) -> None:
        """-inf logits (masked classes): finite values and gradients where the target puts no
        mass on them; the same value as torch's cross-entropy."""
        torch = _torch()
        import torch.nn.functional as F

        lg = torch.tensor([[2.0, -math.inf, 0.5], [-math.inf, 1.0, 0.0]], dtype=torch.float64,
                          requires_grad=True)
        y = torch.tensor([0, 2])
        dense = torch.tensor([[0.7, 0.0, 0.3], [0.0, 0.4, 0.6]], dtype=torch.float64)
        for target, fn in [(y, al.cross_entropy), (dense, al.cross_entropy),
                           (y, al.softmax_focal_loss), (dense, al.softmax_focal_loss)]:
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

    def test_channels_first_equals_channels_last(self) -> None:
        rng = np.random.default_rng(2)
        lg4 = rng.normal(size=(2, 3, 2, 4))
        lab = rng.integers(0, 3, size=(2, 2, 4))
        last = np.moveaxis(lg4, 1, -1)
        for fn in (al.cross_entropy, al.softmax_focal_loss):
            _close(fn(lg4, lab, axis=1, reduction="none"), fn(last, lab, reduction="none"))
        soft = rng.dirichlet(np.ones(3), size=(2, 2, 4))
        _close(al.cross_entropy(lg4, np.moveaxis(soft, -1, 1), axis=1),
               al.cross_entropy(last, soft))
        _close(al.entropy(lg4, axis=1, from_logits=True), al.entropy(last, from_logits=True))

    def test_all_ignored_and_zero_class_weight_give_zero_with_zero_gradients(self) -> None:
        torch = _torch()
        lg = torch.tensor(LG, requires_grad=True)
        for fn in (al.cross_entropy, al.softmax_focal_loss):
            out = fn(lg, torch.tensor([-1, -1, -1]), ignore_index=-1)
            (g,) = torch.autograd.grad(out, lg)
            assert out.item() == 0.0 and not torch.any(g)
        out = al.cross_entropy(lg, torch.tensor([1, 1, 1]), class_weight=[1.0, 0.0, 1.0])
        (g,) = torch.autograd.grad(out, lg)
        assert out.item() == 0.0 and not torch.any(g)

    @pytest.mark.usefixtures("no_one_hot")
    def test_no_dense_one_hot_for_integer_labels(self) -> None:
        al.cross_entropy(LG, T, label_smoothing=0.1, class_weight=[1.0, 2.0, 3.0])
        al.softmax_focal_loss(LG, T, alpha=[0.2, 0.3, 0.5])


def _merged(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """NumPy: ``axes`` moved to the end in their order and flattened in C order."""
    k = len(axes)
    x = np.moveaxis(x, axes, tuple(range(-k, 0)))
    return x.reshape((*x.shape[:-k], -1))


def _unmerged(xm: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``_merged`` for an array of ``shape``."""
    k = len(axes)
    x = xm.reshape((*xm.shape[:-1], *(shape[a] for a in axes)))
    return np.moveaxis(x, tuple(range(-k, 0)), axes)


class TestClassAxes:
    """A tuple ``axis`` (several class axes, optax's convention) in ``cross_entropy``,
    ``softmax_focal_loss``, ``entropy`` and ``kl_divergence``: the loss over the merged
    axis, labels as flat C-order indices, per-class options of length prod(class dims)."""

    @pytest.mark.parametrize("axes", [(1, 3), (3, 1), (-1, 1, 2)])
    def test_equals_the_loss_over_the_merged_axis(self, axes) -> None:
        rng = np.random.default_rng(11)
        z = rng.normal(size=(2, 3, 2, 4)) * 2
        zm = _merged(z, axes)
        c = zm.shape[-1]
        y = rng.integers(0, c, size=zm.shape[:-1])
        y.flat[1] = -1
        q = rng.dirichlet(np.ones(c), size=zm.shape[:-1])
        q_full = _unmerged(q, z.shape, axes)
        cw, alpha = rng.uniform(0.2, 2.0, size=c), rng.uniform(0.1, 0.9, size=c)
        for fn, extra in ((al.cross_entropy, {}), (al.softmax_focal_loss, {"alpha": alpha})):
            for red in ("none", "mean", "sum"):
                kw = {"class_weight": cw, "label_smoothing": 0.1, "reduction": red, **extra}
                got = fn(z, y, axis=axes, ignore_index=-1, **kw)
                assert got.shape == (zm.shape[:-1] if red == "none" else ())
                _close(got, fn(zm, y, ignore_index=-1, **kw))
                _close(fn(z, q_full, axis=axes, **kw), fn(zm, q, **kw))
        _close(al.entropy(z, axis=axes, from_logits=True, reduction="none"),
               al.entropy(zm, from_logits=True, reduction="none"))
        _close(al.entropy(q_full, axis=axes, base=2.0), al.entropy(q, base=2.0))
        log_q = np.log(rng.dirichlet(np.ones(c), size=zm.shape[:-1]))
        lq_full = _unmerged(log_q, z.shape, axes)
        for lt in (False, True):
            _close(al.kl_divergence(lq_full, np.log(q_full) if lt else q_full, axis=axes,
                                    log_target=lt, reduction="none"),
                   al.kl_divergence(log_q, np.log(q) if lt else q, log_target=lt,
                                    reduction="none"))

    def test_matches_optax(self) -> None:
        """optax's tuple ``axis`` numbers the classes over the axes in the order given
        (arrayloss on NumPy: the backends agree in the matrix; optax jitted once per axes)."""
        optax = optax_or_skip()
        import jax

        rng = np.random.default_rng(12)
        z = rng.normal(size=(3, 2, 4, 3)) * 2
        q = rng.dirichlet(np.ones(24), size=3).reshape(z.shape)
        log_q = np.log(rng.dirichlet(np.ones(24), size=3).reshape(z.shape))
        for axes in ((2, 1), (3, 1, 2)):
            zm = _merged(z, axes)
            y = rng.integers(0, zm.shape[-1], size=zm.shape[:-1])

            @jax.jit
            def theirs(z, y, q, log_q, axes=axes):
                losses = optax.losses
                return (losses.softmax_cross_entropy_with_integer_labels(z, y, axis=axes),
                        losses.softmax_cross_entropy(z, q, axis=axes),
                        losses.kl_divergence(log_q, q, axis=axes),
                        losses.kl_divergence_with_log_targets(log_q, jax.numpy.log(q),
                                                              axis=axes))

            ce_y, ce_q, kl, kl_log = theirs(z, y, q, log_q)
            _close(al.cross_entropy(z, y, axis=axes, reduction="none"), ce_y)
            _close(al.cross_entropy(z, q, axis=axes, reduction="none"), ce_q)
            _close(al.kl_divergence(log_q, q, axis=axes, reduction="none"), kl)
            _close(al.kl_divergence(log_q, np.log(q), axis=axes, log_target=True,
                                    reduction="none"), kl_log)

    def test_ignored_samples_get_zero_gradient(self) -> None:
        torch = _torch()
        rng = np.random.default_rng(13)
        z = rng.normal(size=(4, 2, 3))
        y = np.array([5, -1, 0, 3])
        poisoned = z.copy()
        poisoned[1] = np.nan
        for fn in (al.cross_entropy, al.softmax_focal_loss):
            tz = torch.tensor(poisoned, requires_grad=True)
            out = fn(tz, torch.tensor(y), axis=(2, 1), ignore_index=-1, reduction="sum")
            (g,) = torch.autograd.grad(out, tz)
            _close(out.item(), fn(z[[0, 2, 3]], y[[0, 2, 3]], axis=(2, 1), reduction="sum"))
            assert torch.isfinite(g).all() and not g[1].any()

    def test_bad_axes(self) -> None:
        z, y = np.zeros((2, 3, 4)), np.zeros((2,), dtype=int)
        for fn in (al.cross_entropy, al.softmax_focal_loss):
            name = fn.__name__
            with pytest.raises(ValueError, match=rf"{name}: `axis` must not repeat an axis; "
                                                 r"got \(1, -2\)"):
                fn(z, y, axis=(1, -2))
            with pytest.raises(ValueError, match=rf"{name}: `axis` must be in \[-3, 3\)"):
                fn(z, y, axis=(1, 3))
            with pytest.raises(ValueError, match=rf"{name}: `axis` must name at least one"):
                fn(z, y, axis=())
            with pytest.raises(TypeError, match=rf"{name}: `axis` must be an int or a tuple of "
                                                r"ints; got the list \[1, 2\]: pass tuple"):
                fn(z, y, axis=[1, 2])
            with pytest.raises(TypeError, match=rf"{name}: `axis` must be an int"):
                fn(z, y, axis=(1, 2.0))
            with pytest.raises(ValueError, match=rf"{name}: `target` must hold integer labels of "
                               r"shape \(2,\) \(`pred` without the class axes \(1, 2\)\)"):
                fn(z, np.zeros((2, 3), dtype=int), axis=(1, 2))
            with pytest.raises(ValueError, match=rf"{name}: `class_weight` must have shape "
                                                 r"\(12,\)"):
                fn(z, y, axis=(1, 2), class_weight=np.ones(4))
            with pytest.raises(ValueError, match=rf"{name}: `ignore_index` must be None or a "
                                                 r"value outside the classes \[0, 12\)"):
                fn(z, y, axis=(1, 2), ignore_index=5)
            with pytest.raises(ValueError, match=rf"{name}: `target` must hold class labels "
                                                 r"in \[0, 12\)"):
                fn(z, np.array([0, 12]), axis=(1, 2))
        with pytest.raises(ValueError, match=r"entropy: `axis` must not repeat"):
            al.entropy(z, axis=(0, 0))
        with pytest.raises(ValueError, match=r"kl_divergence: `axis` must not repeat"):
            al.kl_divergence(z, z, axis=(2, -1))
        # a tuple of one axis is that axis
        y2 = np.array([[0, 1, 2, 0], [2, 2, 1, 0]])
        z2 = np.random.default_rng(0).normal(size=z.shape)
        _close(al.cross_entropy(z2, y2, axis=(1,)), al.cross_entropy(z2, y2, axis=1))


class TestCrossEntropyProbabilities:
    """``cross_entropy(from_logits=False)``: probabilities, ``log(clip(p, eps, 1))`` in place
    of the log-softmax."""

    P = np.exp(LG) / np.exp(LG).sum(-1, keepdims=True)

    def test_goldens_are_those_of_the_logits(self, golden) -> None:
        a, rtol, atol = golden
        p = a(self.P)
        soft = a([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [1 / 3, 1 / 3, 1 / 3]])
        ce = functools.partial(al.cross_entropy, from_logits=False)
        _close(ce(p, T, reduction="none"), [0.4170299, 0.1531782, 1.0986123], rtol, atol)
        _close(ce(p, soft, reduction="none"), [0.8070299, 0.7031783, 1.0986123], rtol, atol)
        _close(ce(p, T, class_weight=[1.0, 2.0, 0.5]), 0.3636265, rtol, atol)
        _close(ce(p, np.array([0, -100, 2]), ignore_index=-100), 0.7578211, rtol, atol)
        _close(ce(p, T, label_smoothing=0.1, reduction="none"),
               [0.5136966, 0.3365116, 1.0986123], rtol, atol)

    def test_matches_torch_nll_loss_of_log_p(self) -> None:
        torch = _torch()
        import torch.nn.functional as F

        rng = np.random.default_rng(15)
        p = rng.dirichlet(np.ones(5), size=(4, 3))  # (N, d, C), classes last
        y = rng.integers(0, 5, size=(4, 3))
        y[0, 1] = -100
        w = rng.uniform(0.2, 2.0, size=5)
        tp, ty, tw = torch.tensor(p, requires_grad=True), torch.tensor(y), torch.tensor(w)
        for red in ("mean", "sum", "none"):
            ours = al.cross_entropy(tp, ty, from_logits=False, class_weight=tw,
                                    ignore_index=-100, reduction=red)
            theirs = F.nll_loss(torch.log(tp).movedim(-1, 1), ty, weight=tw, reduction=red)
            _close(ours.detach().numpy(), theirs.detach().numpy())
            g1, g2 = (torch.autograd.grad(o.sum(), tp)[0] for o in (ours, theirs))
            _close(g1.numpy(), g2.numpy())

    def test_keras_renormalises_rows(self) -> None:
        """Keras divides each row by its sum: equal on normalised rows; rows summing to 1/2
        cost log 2 more here (the probabilities are taken as given)."""
        keras = keras_or_skip()
        rng = np.random.default_rng(16)
        p = rng.dirichlet(np.ones(4) * 2, size=6)
        y = rng.integers(0, 4, size=6)
        q = rng.dirichlet(np.ones(4), size=6)
        sparse = _np(keras.losses.sparse_categorical_crossentropy(y, p))
        dense = _np(keras.losses.categorical_crossentropy(q, p))
        _close(al.cross_entropy(p, y, from_logits=False, reduction="none"), sparse, 1e-6, 1e-7)
        _close(al.cross_entropy(p, q, from_logits=False, reduction="none"), dense, 1e-6, 1e-7)
        half = _np(keras.losses.sparse_categorical_crossentropy(y, p / 2))
        _close(al.cross_entropy(p / 2, y, from_logits=False, reduction="none") - half,
               np.full(6, math.log(2.0)), 1e-6, 1e-7)

    @pytest.mark.parametrize(("dtype", "floor"), [("float64", 36.04365338911715),
                                                  ("float32", 15.942385)])
    def test_zero_and_one_probabilities(self, dtype: str, floor: float) -> None:
        """A zero probability at the label costs -log(eps) with a zero gradient (the clip);
        a probability of 1 costs exactly 0; values stay finite."""
        torch = _torch()
        p = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=getattr(torch, dtype),
                         requires_grad=True)
        out = al.cross_entropy(p, torch.tensor([0, 0]), from_logits=False, reduction="none")
        (g,) = torch.autograd.grad(out.sum(), p)
        _close(out.detach().double().numpy(), [floor, 0.0], 1e-6, 0)
        assert out[1].item() == 0.0 and torch.isfinite(g).all() and g[0, 0].item() == 0.0
        _close(g[1].double().numpy(), [-1.0, 0.0, 0.0], 1e-6, 0)

    def test_bad_options_and_values(self) -> None:
        with pytest.raises(TypeError, match=r"cross_entropy: `from_logits` must be a bool, got "
                                            r"int 0"):
            al.cross_entropy(LG, T, from_logits=0)
        with pytest.raises(ValueError, match=r"cross_entropy: `pred` must hold probabilities in "
                                             r"\[0, 1\]; found 2.0 at index \(0, 0\); for "
                                             r"logits pass from_logits=True \(the default\)"):
            al.cross_entropy(LG, T, from_logits=False)
        with al.options(validate=False):  # unchecked: clipped into [eps, 1]
            assert np.isfinite(al.cross_entropy(LG, T, from_logits=False))
