"""Embedding losses (``arrayloss.losses.embedding``) beyond the catalogue's matrix:
``center_loss`` (golden numbers in float64 and float32, gradients, gathered integer labels,
out-of-range labels without validation, messages) and the ``update_centers`` rule.

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend.
"""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from conftest import assert_close as _close
from conftest import torch_or_skip as _torch

X = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
XL = np.array([0, 1, 0])
CEN = np.array([[1.0, 1.0], [0.0, 0.0]])


class TestCenterLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.center_loss(a(X), XL, a(CEN)), 1.6666667, rtol, atol)
        _close(al.center_loss(a(X), XL, a(CEN), reduction="none"), [0.5, 0.5, 4.0], rtol, atol)

    def test_gradients(self) -> None:
        torch = _torch()
        x = torch.tensor(X, requires_grad=True)
        c = torch.tensor(CEN, requires_grad=True)
        gx, gc = torch.autograd.grad(al.center_loss(x, torch.tensor(XL), c, reduction="sum"),
                                     (x, c))
        _close(gx.numpy(), [[0, 1], [0, 1], [2, -2]])
        _close(gc.numpy(), [[-2, 1], [0, -1]])

    @pytest.mark.usefixtures("no_one_hot")
    def test_no_dense_one_hot_for_integer_labels(self) -> None:
        al.center_loss(X, XL, CEN)

    def test_out_of_range_labels_without_validation_give_nan(self) -> None:
        """Unchecked: the sample's loss is NaN, never a silently wrong centre."""
        with al.options(validate=False):
            out = al.center_loss(X, np.array([0, 5, 1]), CEN, reduction="none")
        assert np.isnan(out[1]) and np.all(np.isfinite(out[[0, 2]]))

    def test_bad_input_messages(self) -> None:
        with pytest.raises(ValueError, match=r"center_loss: `centers` must have shape \(K, 2\)"):
            al.center_loss(X, XL, np.zeros((2, 3)))


class TestUpdateCenters:
    def test_rule_and_purity(self) -> None:
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
