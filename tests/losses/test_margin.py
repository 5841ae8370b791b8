"""Margin losses (``arrayloss.losses.margin``) beyond the catalogue's matrix, one class per
loss: golden numbers in float64 and float32, saturated and masked scores, the family's
conventions for the multiclass hinge (channels-first, ignored samples, gathered integer
labels), and, in ``TestMarginFamily``, torch, optax and keras on random inputs.

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
