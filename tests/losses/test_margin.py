"""Margin losses (``arrayloss.losses.margin``) beyond the catalogue's matrix, one class per
loss: golden numbers in float64 and float32, saturated and masked scores, the family's
conventions for the multiclass hinge (channels-first, ignored samples, gathered integer
labels), the soft margin where torch overflows, the multi-label hinge against torch's
index-list targets, and, in ``TestMarginFamily``, torch, optax and keras on random inputs.

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import arrayloss as al
from conftest import assert_close as _close
from conftest import check_saturated_logits_torch, keras_or_skip, optax_or_skip
from conftest import numpy64 as _np
from conftest import torch_or_skip as _torch

LG = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0]])
T = np.array([0, 1, 2])
# binary scores and {-1, +1} labels, multiclass scores and labels of the catalogue
F, FY = np.array([0.8, -0.5, 2.0, -1.5, 0.0]), np.array([1, 1, -1, -1, 1])
S = np.array([[2.0, 1.5, -1.0], [0.2, 0.1, 0.3], [-0.5, -2.0, -1.0]])
SY = np.array([0, 1, 0])


class TestHingeLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.hinge_loss(a(F), FY), 1.14, rtol, atol)
        _close(al.hinge_loss(a(F), FY, margin=0.5), 0.8, rtol, atol)

    def test_bad_input_messages(self) -> None:
        with pytest.raises(ValueError,
                           match=r"hinge_loss: `target` must hold labels in \{-1, \+1\}"):
            al.hinge_loss(np.zeros(3), np.array([1, 0, -1]))


class TestSquaredHingeLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.squared_hinge_loss(a(F), FY), 2.458, rtol, atol)


class TestRampLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.ramp_loss(a(F), FY), 0.94, rtol, atol)
        _close(al.ramp_loss(a(F), FY, s=0.0, reduction="none"), [0.2, 1.0, 1.0, 0.0, 1.0], rtol,
               atol)


class TestSoftMarginLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.soft_margin_loss(a(F), FY), 0.8733332, rtol, atol)
        _close(al.soft_margin_loss(a(F), FY, reduction="none"),
               [0.3711007, 0.9740770, 2.126928, 0.2014133, 0.6931472], rtol, atol)

    @pytest.mark.parametrize(("dtype", "score"), [("float64", -1000.0), ("float32", -100.0),
                                                  ("float32", -1000.0), ("bfloat16", -1000.0)])
    def test_saturated_margin_is_finite_where_torch_overflows(self, dtype: str,
                                                              score: float) -> None:
        """``log1p(exp(-y f))`` (torch's form) is inf for ``-y f`` beyond 88.7 in float32 and
        709.8 in float64; softplus gives ``-y f`` with gradient ``-y``."""
        torch = _torch()
        f = torch.tensor([score, -score], dtype=getattr(torch, dtype), requires_grad=True)
        y = torch.tensor([1.0, -1.0], dtype=f.dtype)
        out = al.soft_margin_loss(f, y, reduction="none")
        (g,) = torch.autograd.grad(out.sum(), f)
        _close(_np(out), [-score, -score], rtol=1e-6)
        _close(_np(g), [-1.0, 1.0], rtol=1e-6)

    def test_infinite_scores_give_the_limit(self) -> None:
        torch = _torch()
        f = torch.tensor([math.inf, -math.inf, math.inf, -math.inf], dtype=torch.float64,
                         requires_grad=True)
        y = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
        out = al.soft_margin_loss(f, y, reduction="none")
        (g,) = torch.autograd.grad(out.sum(), f)
        _close(_np(out), [0.0, math.inf, math.inf, 0.0])
        assert torch.isfinite(g).all()

    def test_is_bce_with_logits_on_zero_one_targets(self) -> None:
        rng = np.random.default_rng(3)
        f, y = rng.normal(size=(4, 5)) * 4, rng.choice([-1.0, 1.0], size=(4, 5))
        _close(al.soft_margin_loss(f, y, reduction="none"),
               al.binary_cross_entropy_with_logits(f, (y + 1) / 2, reduction="none"))

    def test_bad_labels_message(self) -> None:
        with pytest.raises(ValueError, match=r"soft_margin_loss: `target` .*2\*y - 1"):
            al.soft_margin_loss(np.zeros(3), np.array([1.0, 0.0, 1.0]))


X4 = np.array([[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.9, 0.0]])
Y4 = np.array([[1, 0, 0, 1], [0, 0, 1, 0]])


class TestMultilabelMarginLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.multilabel_margin_loss(a(X4), a(Y4), reduction="none"), [0.85, 0.175], rtol,
               atol)
        _close(al.multilabel_margin_loss(a(X4), Y4 > 0), 0.5125, rtol, atol)

    def test_gradient_golden(self) -> None:
        torch = _torch()
        x = torch.tensor(X4, requires_grad=True)
        out = al.multilabel_margin_loss(x, torch.tensor(Y4), reduction="sum")
        (g,) = torch.autograd.grad(out, x)
        _close(_np(g), [[-0.5, 0.5, 0.5, -0.5], [0.25, 0.0, -0.5, 0.25]])

    def test_target_is_a_set_where_torch_counts_duplicated_indices_twice(self) -> None:
        """torch reads ``[3, 3, -1, 0]`` as class 3 twice; the multi-hot target holds each
        class once: arrayloss equals torch on the list without the duplicate."""
        torch = _torch()
        import torch.nn.functional as tF

        x = torch.tensor(X4[:1])
        ours = al.multilabel_margin_loss(x, torch.tensor([[0, 0, 0, 1]]))
        once = tF.multilabel_margin_loss(x, torch.tensor([[3, -1, 0, 0]]))
        twice = tF.multilabel_margin_loss(x, torch.tensor([[3, 3, -1, 0]]))
        _close(_np(ours), float(once))
        assert float(twice) != pytest.approx(float(ours))

    def test_index_list_target_is_refused_with_the_conversion(self) -> None:
        with pytest.raises(ValueError, match=r"multilabel_margin_loss: `target` must be "
                                             r"multi-hot.*first_minus_one.*found 3"):
            al.multilabel_margin_loss(X4, np.array([[3, 0, -1, 1], [2, -1, 0, 0]]))

    def test_target_dtypes_agree(self) -> None:
        want = al.multilabel_margin_loss(X4, Y4.astype(np.float64), reduction="none")
        for y in (Y4 > 0, Y4.astype(np.int8), Y4.astype(np.uint8), Y4.astype(np.float32)):
            _close(al.multilabel_margin_loss(X4, y, reduction="none"), want)

    def test_channels_first_equals_channels_last(self) -> None:
        rng = np.random.default_rng(4)
        x, y = rng.normal(size=(2, 5, 3)), rng.integers(0, 2, size=(2, 5, 3))
        _close(al.multilabel_margin_loss(x, y, axis=1, reduction="none"),
               al.multilabel_margin_loss(np.moveaxis(x, 1, -1), np.moveaxis(y, 1, -1),
                                         reduction="none"))

    def test_gradient_at_the_kink_is_finite_subgradient_zero(self) -> None:
        """``f_j - f_k = margin`` exactly: the hinge's sub-gradient 0."""
        torch = _torch()
        x = torch.tensor([[1.0, 0.0, 0.5]], dtype=torch.float64, requires_grad=True)
        out = al.multilabel_margin_loss(x, torch.tensor([[1, 0, 1]]), reduction="sum")
        (g,) = torch.autograd.grad(out, x)
        # pairs (0, 1): kink, (2, 1): 0.5 active
        _close(_np(out), 0.5 / 3)
        _close(_np(g), [[0.0, 1 / 3, -1 / 3]])

    def test_infinite_scores_give_the_limit(self) -> None:
        torch = _torch()
        x = torch.tensor([[math.inf, 0.0, -1.0], [0.0, math.inf, 1.0]], dtype=torch.float64,
                         requires_grad=True)
        out = al.multilabel_margin_loss(x, torch.tensor([[1, 0, 0], [1, 0, 0]]),
                                        reduction="none")
        (g,) = torch.autograd.grad(out[0], x)
        _close(_np(out), [0.0, math.inf])
        assert torch.isfinite(g).all()

    def test_matches_torch_on_random_inputs(self) -> None:
        torch = _torch()
        import torch.nn.functional as tF

        rng = np.random.default_rng(5)
        for n, c in [(6, 4), (3, 9), (5, 1)]:
            x, y = rng.normal(size=(n, c)), rng.integers(0, 2, size=(n, c))
            idx = np.full((n, c), -1)
            for i in range(n):
                pos = np.flatnonzero(y[i])
                idx[i, :len(pos)] = pos
            xt = torch.tensor(x, requires_grad=True)
            ours = al.multilabel_margin_loss(xt, torch.tensor(y), reduction="none")
            x2 = torch.tensor(x, requires_grad=True)
            theirs = tF.multilabel_margin_loss(x2, torch.tensor(idx), reduction="none")
            _close(_np(ours), _np(theirs))
            (g1,) = torch.autograd.grad(ours.sum(), xt)
            (g2,) = torch.autograd.grad(theirs.sum(), x2)
            _close(_np(g1), _np(g2))


class TestMulticlassHingeLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        s = a(S)
        _close(al.multiclass_hinge_loss(s, SY), 0.7333333, rtol, atol)
        _close(al.multiclass_hinge_loss(s, SY, mode="weston_watkins"), 1.1, rtol, atol)
        _close(al.multiclass_hinge_loss(s, SY, squared=True, reduction="none"),
               [0.25, 1.44, 0.25], rtol, atol)
        _close(al.multiclass_hinge_loss(s, SY, mode="weston_watkins", squared=True,
                                        reduction="none"), [0.25, 2.65, 0.25], rtol, atol)

    def test_keras_categorical_hinge_is_not_crammer_singer(self) -> None:
        """Row 3 of the catalogue: every wrong score is negative; keras lets the masked true class
        compete with 0 and gives 1.5, Crammer-Singer 0.5."""
        s = np.array([[-0.5, -2.0, -1.0]])
        _close(al.multiclass_hinge_loss(s, np.array([0])), 0.5)

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    def test_saturated_logits_torch(self, dtype: str) -> None:
        sat = np.array([[1e4, 0.0, -1e4], [-100.0, 100.0, 0.0], [-1e4, 1e4, 100.0],
                        [30.0, -30.0, 0.0], [0.5, -0.2, 0.1]])
        check_saturated_logits_torch(al.multiclass_hinge_loss, sat, np.array([0, 2, 1, 1, 0]),
                                     {"mode": "weston_watkins"}, dtype)

    def test_masked_logits_torch(self) -> None:
        """Masked classes (-inf logits replaced by -1e3): finite values and gradients."""
        torch = _torch()
        lg = torch.tensor([[2.0, -math.inf, 0.5], [-math.inf, 1.0, 0.0]], dtype=torch.float64,
                          requires_grad=True)
        y = torch.tensor([0, 2])
        out = al.multiclass_hinge_loss(torch.where(torch.isinf(lg), -1e3, lg), y,
                                       reduction="none")
        (g,) = torch.autograd.grad(out.sum(), lg)
        assert torch.isfinite(out).all() and torch.isfinite(g).all()

    def test_channels_first_equals_channels_last(self) -> None:
        rng = np.random.default_rng(2)
        lg4 = rng.normal(size=(2, 3, 2, 4))
        lab = rng.integers(0, 3, size=(2, 2, 4))
        last = np.moveaxis(lg4, 1, -1)
        _close(al.multiclass_hinge_loss(lg4, lab, axis=1, reduction="none"),
               al.multiclass_hinge_loss(last, lab, reduction="none"))

    def test_all_ignored_gives_zero_with_zero_gradients(self) -> None:
        torch = _torch()
        lg = torch.tensor(LG, requires_grad=True)
        out = al.multiclass_hinge_loss(lg, torch.tensor([-1, -1, -1]), ignore_index=-1)
        (g,) = torch.autograd.grad(out, lg)
        assert out.item() == 0.0 and not torch.any(g)

    @pytest.mark.usefixtures("no_one_hot")
    def test_no_dense_one_hot_for_integer_labels(self) -> None:
        al.multiclass_hinge_loss(LG, T, mode="weston_watkins")


class TestMulticlassHingeClassWeight:
    """``multiclass_hinge_loss(class_weight=)``: ``l_i`` scaled by ``class_weight[y_i]``, the
    mean divided by the labels' class-weight sum (the ``cross_entropy`` rule); torch's
    ``multi_margin_loss(weight=)`` divides by N instead."""

    W = (1.0, 2.0, 0.5)

    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        s = a(S)
        _close(al.multiclass_hinge_loss(s, SY, class_weight=list(self.W), reduction="none"),
               [0.5, 2.4, 0.5], rtol, atol)
        _close(al.multiclass_hinge_loss(s, SY, class_weight=list(self.W)), 0.85, rtol, atol)
        _close(al.multiclass_hinge_loss(s, SY, class_weight=list(self.W), mode="weston_watkins",
                                        reduction="sum"), 5.6, rtol, atol)

    @pytest.mark.parametrize("p", [1, 2])
    def test_maps_to_torch_multi_margin_loss_weight(self, p: int) -> None:
        torch = _torch()
        import torch.nn.functional as F

        rng = np.random.default_rng(21)
        n, c = 7, 4
        s, y = torch.tensor(rng.normal(size=(n, c)) * 2), torch.tensor(rng.integers(0, c, n))
        w = torch.tensor(rng.uniform(0.2, 2.0, size=c))
        kw = {"mode": "weston_watkins", "squared": p == 2, "margin": 0.7}
        theirs = {r: F.multi_margin_loss(s, y, p=p, margin=0.7, weight=w, reduction=r)
                  for r in ("none", "sum", "mean")}
        ours = {r: al.multiclass_hinge_loss(s, y, class_weight=w, reduction=r, **kw)
                for r in ("none", "sum", "mean")}
        _close((ours["none"] / c).numpy(), theirs["none"].numpy())
        _close((ours["sum"] / c).numpy(), theirs["sum"].numpy())
        _close((ours["sum"] / (n * c)).numpy(), theirs["mean"].numpy())
        # torch's mean: per-sample weights w[y] / C with the default (count) mean
        _close(al.multiclass_hinge_loss(s, y, weight=w[y] / c, **kw).numpy(),
               theirs["mean"].numpy())
        # ours: the class-weighted mean of the per-sample losses
        _close(ours["mean"].numpy(), (ours["sum"] / w[y].sum()).numpy())

    def test_mean_is_invariant_to_scaling_the_class_weights(self) -> None:
        rng = np.random.default_rng(22)
        s, y = rng.normal(size=(8, 5)), rng.integers(0, 5, size=8)
        w = rng.uniform(0.2, 2.0, size=5)
        for mode in ("crammer_singer", "weston_watkins"):
            _close(al.multiclass_hinge_loss(s, y, class_weight=w, mode=mode),
                   al.multiclass_hinge_loss(s, y, class_weight=3.0 * w, mode=mode))
            _close(al.multiclass_hinge_loss(s, y, class_weight=np.ones(5), mode=mode),
                   al.multiclass_hinge_loss(s, y, mode=mode))

    def test_ignored_and_zero_weighted_samples(self) -> None:
        """Ignored samples and labels of weight 0 leave the mean's denominator; a weight of
        0 gives 0 even where the score is infinite; nothing counted gives 0 with zero
        gradients."""
        torch = _torch()
        y = np.array([0, -1, 2])
        w = [1.0, 2.0, 0.0]
        s = LG.copy()
        s[2, 0] = math.inf
        out = al.multiclass_hinge_loss(s, y, class_weight=w, ignore_index=-1, reduction="none")
        _close(out, [al.multiclass_hinge_loss(LG[:1], T[:1], reduction="sum"), 0.0, 0.0])
        _close(al.multiclass_hinge_loss(s, y, class_weight=w, ignore_index=-1), out[0])
        lg = torch.tensor(LG, requires_grad=True)
        mean = al.multiclass_hinge_loss(lg, torch.tensor([2, -1, 2]), ignore_index=-1,
                                        class_weight=torch.tensor(w, dtype=torch.float64))
        (g,) = torch.autograd.grad(mean, lg)
        assert mean.item() == 0.0 and not torch.any(g)

    def test_bad_class_weight(self) -> None:
        with pytest.raises(ValueError, match=r"multiclass_hinge_loss: `class_weight` must have "
                                             r"shape \(3,\), one value per class"):
            al.multiclass_hinge_loss(S, SY, class_weight=[1.0, 2.0])
        with pytest.raises(ValueError, match=r"multiclass_hinge_loss: `class_weight` must hold "
                                             r"values >= 0"):
            al.multiclass_hinge_loss(S, SY, class_weight=[1.0, -2.0, 1.0])
        with pytest.raises(ValueError, match=r"multiclass_hinge_loss: `weight` of shape \(3,\) "
                                             r".*`class_weight` holds per-class weights"):
            al.multiclass_hinge_loss(S[:2], SY[:2], weight=np.ones(3))


class TestMarginFamily:
    """Peers on random inputs across shapes and options, for the family's losses."""

    def test_multiclass_hinge_matches_torch_and_optax(self) -> None:
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
        optax = optax_or_skip()
        import jax.numpy as jnp

        s, y = rng.normal(size=(9, 5)), rng.integers(0, 5, size=(9,))
        _close(al.multiclass_hinge_loss(jnp.asarray(s), jnp.asarray(y), reduction="none"),
               optax.losses.multiclass_hinge_loss(jnp.asarray(s), jnp.asarray(y)))
        f, lab = rng.normal(size=(4, 6)) * 2, np.where(rng.uniform(size=(4, 6)) < 0.5, -1.0, 1.0)
        _close(al.hinge_loss(jnp.asarray(f), jnp.asarray(lab), reduction="none"),
               optax.losses.hinge_loss(jnp.asarray(f), jnp.asarray(lab)))

    def test_matches_keras(self) -> None:
        keras = keras_or_skip()
        rng = np.random.default_rng(9)
        # keras computes in float32 (float32 tolerance against keras)
        zb, yb = rng.normal(size=(4, 6)) * 3, (rng.uniform(size=(4, 6)) < 0.5) * 1.0
        sgn = 2 * yb - 1
        _close(al.hinge_loss(zb, sgn), _np(keras.losses.hinge(sgn, zb)).mean(), rtol=1e-5,
               atol=1e-6)
        _close(al.squared_hinge_loss(zb, sgn), _np(keras.losses.squared_hinge(sgn, zb)).mean(),
               rtol=1e-5, atol=1e-6)
