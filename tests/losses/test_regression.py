"""Regression losses (``arrayloss.losses.regression``): what the catalogue's cases cannot say
(gradient goldens, relations between losses, edge cases of the MAD scale, stability), one
class per loss, and the module's shared conventions in ``TestRegressionFamily``."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from arrayloss.testing import backends
from conftest import require_backend

P = np.array([0.5, 2.0, -1.0, 3.0, 0.0])
T = np.array([0.0, 0.0, 0.0, 1.0, 0.2])


def _torch_grad(fn, pred, target, **kw):
    torch_b = require_backend(backends.by_id("torch"))
    return torch_b.grad(fn, (pred, target), kw, (0,))[0]


class TestL1Loss:
    def test_empty_mean_is_zero_with_zero_gradient(self) -> None:
        require_backend(backends.by_id("torch"))
        import torch

        x = torch.zeros(0, dtype=torch.float64, requires_grad=True)
        out = al.l1_loss(x, torch.zeros(0, dtype=torch.float64))
        assert out.item() == 0.0 and not torch.isnan(out)
        out.backward()
        assert x.grad.shape == (0,)


class TestMseLoss:
    def test_weight_semantics(self) -> None:
        """weight multiplies and never enters the count; broadcasts to the unreduced loss."""
        rng = np.random.default_rng(3)
        p, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
        w = rng.uniform(size=(3,))
        none = al.mse_loss(p, t, reduction="none")
        np.testing.assert_allclose(al.mse_loss(p, t, weight=w, reduction="none"), none * w)
        np.testing.assert_allclose(al.mse_loss(p, t, weight=w), (none * w).sum() / 12)
        np.testing.assert_allclose(al.mse_loss(p, t, weight=w, reduction="sum"),
                                   (none * w).sum())
        np.testing.assert_allclose(al.mse_loss(p, t, weight=np.zeros(3)), 0.0)


class TestSmoothL1Loss:
    def test_gradient_at_transition_and_zero(self) -> None:
        g = _torch_grad(al.smooth_l1_loss, np.array([1.0, -1.0, 0.0]), np.zeros(3),
                        reduction="sum")
        np.testing.assert_allclose(g, [1.0, -1.0, 0.0])

    def test_beta_zero_is_l1_and_huber_catalogue(self) -> None:
        np.testing.assert_allclose(al.smooth_l1_loss(P, T, beta=0.0), al.l1_loss(P, T))
        np.testing.assert_allclose(al.huber_loss(P, T, delta=0.5), 0.454, atol=1e-12)
        np.testing.assert_allclose(al.smooth_l1_loss(P, T, beta=0.5), 0.908, atol=1e-12)
        assert al.smooth_l1_loss(P, T, beta=0).dtype == np.float64


class TestHuberLoss:
    @pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
    def test_is_delta_times_smooth_l1(self, delta: float) -> None:
        rng = np.random.default_rng(1)
        p, t = rng.normal(size=50) * 3, rng.normal(size=50)
        np.testing.assert_allclose(
            al.huber_loss(p, t, delta=delta, reduction="none"),
            delta * al.smooth_l1_loss(p, t, beta=delta, reduction="none"), rtol=1e-12)

    def test_float64_is_not_downcast_and_target_follows_pred(self) -> None:
        out = al.huber_loss(P.astype(np.float32), T)
        assert out.dtype == np.float32
        assert al.huber_loss(P, T.astype(np.float32)).dtype == np.float64


class TestTukeyBiweightLoss:
    def test_gradient_goldens(self) -> None:
        """Catalogue gradients of the mean w.r.t. pred (MAD constant for the default scale)."""
        np.testing.assert_allclose(
            _torch_grad(al.tukey_biweight_loss, P, T, scale=None),
            [0.0977350, 0.2674934, -0.1821913, 0.2674934, -0.0398543], atol=5e-8)
        np.testing.assert_allclose(
            _torch_grad(al.tukey_biweight_loss, P, T),
            [0.0201264, 0.0750273, -0.0396973, 0.0750273, -0.0080818], atol=5e-8)

    def test_mad_is_the_true_median(self) -> None:
        """torch.median takes the lower middle value; ours averages the two middle values."""
        r = np.array([0.5, 2.0, -1.0, 2.0])  # true median 1.25, MAD 0.75 (torch.median: 0.5, 1.5)
        s = 1.4826 * 0.75
        want = al.tukey_biweight_loss(r, np.zeros(4), scale=s, reduction="none")
        for bid in ("numpy", "torch", "jax", "array_api_strict", "dask"):
            b = require_backend(backends.by_id(bid))
            conv, _ = b.convert((r, np.zeros(4)), {})
            got = b.to_numpy(b.call(al.tukey_biweight_loss, conv, {"reduction": "none"}))
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=bid)

    def test_zero_mad_saturates_with_zero_gradient(self) -> None:
        """More than half the residuals equal: MAD = 0, the floor keeps values finite and the
        non-zero residuals saturate at c^2/6 with zero gradient."""
        p = np.array([0.0, 0.0, 0.0, 0.5, -2.0])
        out = al.tukey_biweight_loss(p, np.zeros(5), reduction="none")
        c2_6 = 4.685**2 / 6
        np.testing.assert_allclose(out, [0, 0, 0, c2_6, c2_6], rtol=1e-12)
        g = _torch_grad(al.tukey_biweight_loss, p, np.zeros(5))
        assert np.all(np.isfinite(g)) and np.all(g[3:] == 0)

    def test_mad_is_per_column_and_needs_a_batch_axis(self) -> None:
        pr = np.array([[1.0, 0], [2, 1], [0, -1], [5, 0.5]])
        out = al.tukey_biweight_loss(pr, np.zeros((4, 2)), reduction="none")
        np.testing.assert_allclose(
            out, [[0.2227868, 0], [0.8365249, 0.8365249], [0, 0.8365249],
                  [3.2489928, 0.2227868]], atol=5e-8)
        np.testing.assert_allclose(
            al.tukey_biweight_loss(pr, np.zeros((4, 2)), reduction="sum") / 4,
            1.5510353, atol=5e-8)  # the paper's E = sum / S
        with pytest.raises(ValueError, match="tukey_biweight_loss: `scale='mad'`"):
            al.tukey_biweight_loss(np.asarray(1.0), np.asarray(0.0))
        # 0-d input is fine with a fixed scale
        assert np.isfinite(al.tukey_biweight_loss(np.asarray(1.0), np.asarray(0.0), scale=None))


class TestLogCoshLoss:
    @pytest.mark.parametrize("bid", ["torch", "jax"])
    def test_large_residual_float32(self, bid: str) -> None:
        """|r| = 1000 in float32: finite value |r| - log 2 and gradient sign(r) (no overflow)."""
        b = require_backend(backends.by_id(bid))
        p = np.array([1000.0, -1000.0, 0.5])
        t = np.zeros(3)
        conv, _ = b.convert((p, t), {}, "float32")
        out = b.to_numpy(al.log_cosh_loss(*conv, reduction="none"))
        np.testing.assert_allclose(out, [999.3068528, 999.3068528, 0.1201145], rtol=1e-6)
        g = b.grad(al.log_cosh_loss, (p, t), {"reduction": "sum"}, (0,), dtype="float32")[0]
        np.testing.assert_allclose(g, [1.0, -1.0, np.tanh(0.5)], rtol=1e-6)

    def test_gradient_golden(self) -> None:
        np.testing.assert_allclose(
            _torch_grad(al.log_cosh_loss, P, T),
            [0.0924234, 0.1928055, -0.1523188, 0.1928055, -0.0394751], atol=5e-8)


class TestRegressionFamily:
    """Conventions every regression loss shares: dtypes, purity, option checks."""

    def test_integer_inputs_compute_in_default_float(self) -> None:
        out = al.mse_loss(np.array([1, 2, 3]), np.array([1, 1, 1]))
        assert out.dtype == np.float64 and out == pytest.approx(5 / 3)
        require_backend(backends.by_id("torch"))
        import torch

        t = al.l1_loss(torch.tensor([1, 2, 3]), torch.tensor([0, 0, 0]))
        assert t.dtype == torch.get_default_dtype()

    def test_inputs_are_not_modified(self) -> None:
        p, t = P.copy(), T.copy()
        for fn in (al.l1_loss, al.mse_loss, al.smooth_l1_loss, al.huber_loss,
                   al.tukey_biweight_loss, al.log_cosh_loss):
            fn(p, t, weight=np.ones(5))
            np.testing.assert_array_equal(p, P)
            np.testing.assert_array_equal(t, T)

    def test_options_are_checked_before_computing(self) -> None:
        """An invalid option is reported even when the arrays are also wrong."""
        with pytest.raises(ValueError, match="huber_loss: `delta`"):
            al.huber_loss(np.zeros(3), np.zeros(4), delta=-1.0)
        with pytest.raises(TypeError, match="smooth_l1_loss: `beta` must be a real number"):
            al.smooth_l1_loss(P, T, beta="1")
