"""Regression losses (``arrayloss.losses.regression``): what the catalogue's cases cannot say
(gradient goldens, relations between losses, edge cases of the MAD scale, stability), one
class per loss, and the module's shared conventions in ``TestRegressionFamily``."""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

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
    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    @pytest.mark.parametrize(("name", "options"), [("l1_loss", {}),
                                                   ("smooth_l1_loss", {"beta": 0.0})])
    def test_subgradient_zero_at_zero_residual(self, backend_id: str, name: str,
                                               options: dict) -> None:
        """The documented sub-gradient of |r| at r = 0 is 0 on every backend (JAX's abs
        has derivative 1 there; torch's l1_loss 0)."""
        b = require_backend(backends.by_id(backend_id))
        p = np.array([0.0, 1.5, -2.0])
        (g,) = b.grad(getattr(al, name), (p, np.array([0.0, 0.5, -1.0])), options, (0,))
        np.testing.assert_array_equal(g, [0.0, 1.0 / 3, -1.0 / 3])

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


# the catalogue's likelihood examples
Z = np.array([0.5, -1.0, 2.0, 0.0])
LAM = np.array([2.0, 0.5, 1.0, 0.0])
Y = np.array([1.0, 0.0, 5.0, 3.0])
MU = np.array([0.5, 2.0, -1.0, 3.0])
OBS = np.array([0.0, 0.0, 0.0, 1.0])
VAR = np.array([1.0, 4.0, 0.25, 1e-8])


def _grads(fn, args, argnums, **kw) -> list[list[np.ndarray]]:
    """The gradients of ``sum(fn(...))`` from torch and from JAX (both must be given)."""
    return [require_backend(backends.by_id(bid)).grad(fn, args, kw, argnums)
            for bid in ("torch", "jax")]


class TestPoissonNllLoss:
    def test_gradient_goldens(self) -> None:
        """Catalogue gradients of the mean: ``(exp(z) - y) / n`` and ``(1 - y/(lam+eps)) / n``
        (at ``lam = 0``: ``1 - y / eps``, large and finite)."""
        for (g,) in _grads(al.poisson_nll_loss, (Z, Y), (0,)):
            np.testing.assert_allclose(g, [0.1621803, 0.0919699, 0.5972640, -0.5], atol=5e-8)
        for (g,) in _grads(al.poisson_nll_loss, (LAM, Y), (0,), log_input=False):
            np.testing.assert_allclose(g, [0.1250000006, 0.25, -0.9999999875, -74999999.75],
                                       rtol=1e-9)

    def test_stirling_term_vanishes_at_zero_and_one_counts(self) -> None:
        """``log 0! = log 1! = 0``: ``full`` adds nothing there, and its masked branch gives
        finite gradients w.r.t. the counts at 0 and 1 (the log never sees 0)."""
        z, y = np.array([0.3, -0.2, 0.1, 1.0]), np.array([0.0, 1.0, 2.0, 7.0])
        diff = al.poisson_nll_loss(z, y, full=True, reduction="none") - al.poisson_nll_loss(
            z, y, reduction="none")
        stirling = y * np.log(np.maximum(y, 1)) - y + 0.5 * np.log(2 * np.pi * np.maximum(y, 1))
        np.testing.assert_allclose(diff, np.where(y > 1, stirling, 0.0), rtol=1e-12, atol=0)
        assert diff[0] == 0.0 and diff[1] == 0.0
        for _gz, gy in _grads(al.poisson_nll_loss, (z, y), (0, 1), full=True):
            assert np.all(np.isfinite(gy))

    def test_zero_rate_limits_with_eps_zero(self) -> None:
        """``eps=0``: a zero rate with a zero count contributes its limit 0 with the finite
        gradient 1 (no 0 * log 0 = NaN); with a positive count it is +inf, the value."""
        lam = np.array([0.0, 0.0, 1.0])
        out = al.poisson_nll_loss(lam, np.array([0.0, 2.0, 1.0]), log_input=False, eps=0.0,
                                  reduction="none")
        np.testing.assert_array_equal(out, [0.0, np.inf, 1.0])
        for (g,) in _grads(al.poisson_nll_loss, (lam[::2], np.array([0.0, 1.0])), (0,),
                           log_input=False, eps=0.0, reduction="sum"):
            np.testing.assert_array_equal(g, [1.0, 0.0])

    def test_log_rates_given_to_the_rate_form_say_the_fix(self) -> None:
        with pytest.raises(ValueError, match=r"poisson_nll_loss: `pred` must hold rates >= 0 "
                                             r"with `log_input=False`.*`log_input=True`"):
            al.poisson_nll_loss(Z, Y, log_input=False)
        with pytest.raises(ValueError, match=r"poisson_nll_loss: `target` must hold values "
                                             r">= 0; found -1\.0"):
            al.poisson_nll_loss(Z, -Y)

    def test_overflowing_log_rate_is_inf_not_nan(self) -> None:
        b = require_backend(backends.by_id("torch"))
        conv, _ = b.convert((np.array([100.0, 1.0]), np.array([3.0, 1.0])), {}, "float32")
        out = b.to_numpy(al.poisson_nll_loss(*conv, reduction="none"))
        assert out[0] == np.inf and np.isfinite(out[1])


class TestGaussianNllLoss:
    def test_gradient_goldens_straight_through_below_eps(self) -> None:
        """Catalogue gradients of the sum; the last variance (1e-8) is below eps = 1e-6: its
        value is eps and its gradient ``0.5 (1/eps - r^2/eps^2)`` reaches var (no dead zone)."""
        for g_mu, g_var in _grads(al.gaussian_nll_loss, (MU, OBS, VAR), (0, 2),
                                  reduction="sum"):
            np.testing.assert_allclose(g_mu, [0.5, 0.5, -4.0, 2.0e6], rtol=1e-9)
            np.testing.assert_allclose(g_var, [0.375, 0.0, -6.0, -1.9999995e12], rtol=1e-9)

    def test_values_and_gradients_equal_torch_at_and_below_eps(self) -> None:
        """torch clamps var under ``no_grad``: the same straight-through values and gradients,
        also at var = 0 and exactly at eps."""
        require_backend(backends.by_id("torch"))
        import torch
        import torch.nn.functional as F

        var = [0.0, 1e-9, 1e-6, 0.3, 2.0]
        args = [torch.tensor(a, dtype=torch.float64, requires_grad=True)
                for a in ([0.2, -1.0, 0.5, 3.0, 0.0], [0.0, 0.5, 0.5, 1.0, -2.0], var)]
        ours = al.gaussian_nll_loss(*args, full=True, reduction="sum")
        g_ours = torch.autograd.grad(ours, args)
        theirs = F.gaussian_nll_loss(*args, full=True, reduction="sum")
        g_theirs = torch.autograd.grad(theirs, args)
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-14)
        for a, b in zip(g_ours, g_theirs):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)

    def test_variance_shapes_as_torch_broadcasting_test(self) -> None:
        """The inputs of torch's ``test/test_nn.py::TestNN::test_gaussian_nll_loss_broadcasting``:
        a variance per element, per row ``(2, 1)`` and per sample ``(2,)`` give the same loss;
        a target that would need broadcasting is refused (torch broadcasts it)."""
        x = np.array([[0.5, 1.5, 2.5], [2.0, 4.0, 6.0]])
        t_full = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
        var_full = np.array([[0.5, 0.5, 0.5], [1.5, 1.5, 1.5]])
        want = 0.5 * (np.log(var_full) + (x - t_full) ** 2 / var_full)
        for var in (var_full, np.array([[0.5], [1.5]]), np.array([0.5, 1.5])):
            np.testing.assert_allclose(al.gaussian_nll_loss(x, t_full, var, reduction="none"),
                                       want, rtol=1e-14)
        with pytest.raises(ValueError, match=r"gaussian_nll_loss: .*\(2, 3\).*\(1, 3\)"):
            al.gaussian_nll_loss(x, t_full[:1], var_full)

    @pytest.mark.parametrize("shape", [(3,), (2, 1), (1, 3), (2, 3, 1), (3, 2)])
    def test_other_variance_shapes_raise(self, shape: tuple[int, ...]) -> None:
        x = np.zeros((2, 3))
        if shape == (1, 3):  # one axis of size 1: shared along it
            assert al.gaussian_nll_loss(x, x, np.ones(shape)) == pytest.approx(0.0)
            return
        if shape == (2, 1):
            assert al.gaussian_nll_loss(x, x, np.ones(shape)) == pytest.approx(0.0)
            return
        with pytest.raises(ValueError, match=r"gaussian_nll_loss: `var` of shape "
                                             rf"{re.escape(str(shape))} does not fit"):
            al.gaussian_nll_loss(x, x, np.ones(shape))

    def test_a_number_is_a_constant_variance(self) -> None:
        rng = np.random.default_rng(4)
        p, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
        for v in (0.7, 2, 0.0, 1e-9):
            np.testing.assert_allclose(al.gaussian_nll_loss(p, t, v, full=True),
                                       al.gaussian_nll_loss(p, t, np.full((4, 3), float(v)),
                                                            full=True), rtol=1e-14)
        with pytest.raises(ValueError, match="gaussian_nll_loss: `var` must be"):
            al.gaussian_nll_loss(p, t, -1.0)
        with pytest.raises(TypeError, match="gaussian_nll_loss: `var` must be a real number"):
            al.gaussian_nll_loss(p, t, True)
        b = require_backend(backends.by_id("torch"))
        (g,) = b.grad(lambda a, c: al.gaussian_nll_loss(a, c, 0.5), (p, t), {}, (0,))
        np.testing.assert_allclose(g, (p - t) / 0.5 / p.size, rtol=1e-12)

    def test_unbounded_below_at_a_perfect_mean(self) -> None:
        """``pred = target`` and var -> 0: ``0.5 log(eps)`` per element, -6.9 at eps 1e-6."""
        out = al.gaussian_nll_loss(np.ones(3), np.ones(3), np.zeros(3))
        assert float(out) == pytest.approx(0.5 * np.log(1e-6), rel=1e-12)


class TestMapeLoss:
    def test_zero_target_floors_at_eps(self) -> None:
        """``|y_true|`` floored at 1e-7 (Keras's): 1e9 per unit error, finite."""
        out = al.mape_loss(np.array([1.0, 0.0]), np.zeros(2), reduction="none")
        np.testing.assert_array_equal(out, [1e9, 0.0])
        assert float(al.mape_loss(np.array([1.0]), np.zeros(1), percent=False)) == 1e7

    def test_eps_below_the_dtype_range_gives_no_nan(self) -> None:
        """An eps that rounds to 0 in float32 is raised to the smallest normal number."""
        z = np.zeros(2, np.float32)
        out = al.mape_loss(z, z, eps=1e-45, reduction="none")
        np.testing.assert_array_equal(out, [0.0, 0.0])
        assert out.dtype == np.float32

    def test_gradient(self) -> None:
        """``s sign(r) / max(|y|, eps)``, 0 at ``pred = target`` (as ``l1_loss``)."""
        p, y = np.array([1.5, -1.0, 2.0, 3.0]), np.array([1.0, -2.0, 2.0, 0.0])
        want = 100 * np.sign(p - y) / np.maximum(np.abs(y), 1e-7)
        for (g,) in _grads(al.mape_loss, (p, y), (0,), reduction="sum"):
            np.testing.assert_allclose(g, want, rtol=1e-12)


class TestMsleLoss:
    def test_gradient_golden(self) -> None:
        """Catalogue gradient of the mean; at ``pred = 0`` the derivative of the side the
        clamp keeps (a zero output below a positive target is pushed up)."""
        yy = np.array([[0.0, 1.0, 3.0], [10.0, 0.5, 2.0]])
        pp = np.array([[0.5, 1.0, 2.0], [8.0, 0.0, 0.0]])
        for (g,) in _grads(al.msle_loss, (pp, yy), (0,)):
            np.testing.assert_allclose(
                g, [[0.0901034, 0.0, -0.0319647], [-0.0074322, -0.1351550, -0.3662041]],
                atol=5e-8)

    def test_negative_predictions_are_clamped_with_zero_gradient(self) -> None:
        p, y = np.array([-0.5, -3.0, 0.0]), np.array([1.0, 2.0, 1.0])
        out = al.msle_loss(p, y, reduction="none")
        np.testing.assert_allclose(out, np.log1p(y) ** 2, rtol=1e-14)
        for (g,) in _grads(al.msle_loss, (p, y), (0,), reduction="sum"):
            np.testing.assert_array_equal(g[:2], [0.0, 0.0])
            assert g[2] == pytest.approx(-2 * np.log(2.0))

    @pytest.mark.parametrize("bid", ["numpy", "torch", "jax"])
    def test_small_values_keep_their_digits(self, bid: str) -> None:
        """``log1p`` in the input's dtype: float64 stays float64 (Keras computes MSLE in
        float32 and takes ``log(x + 1)``), and tiny values keep full relative precision."""
        b = require_backend(backends.by_id(bid))
        p, y = np.array([1e-10, 3e-9]), np.array([0.0, 1e-9])
        conv, _ = b.convert((p, y), {}, "float64")
        out = b.to_numpy(al.msle_loss(*conv, reduction="none"))
        assert out.dtype == np.float64
        with localcontext() as ctx:  # 40-digit logarithms: log(1 + x) in Decimal
            ctx.prec = 40
            ln = [(Decimal(1) + Decimal(float(v))).ln() for v in (*p, *y)]
            want = [float((ln[0] - ln[2]) ** 2), float((ln[1] - ln[3]) ** 2)]
        np.testing.assert_allclose(out, want, rtol=1e-12)
        naive = (np.log(p + 1.0) - np.log(y + 1.0)) ** 2  # Keras's form, in float64
        assert np.max(np.abs(naive / want - 1)) > 1e-8

    def test_negative_target_raises(self) -> None:
        with pytest.raises(ValueError, match=r"msle_loss: `target` must hold values >= 0"):
            al.msle_loss(np.ones(3), np.array([1.0, -1.0, 0.0]))


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
                   al.tukey_biweight_loss, al.log_cosh_loss, al.mape_loss, al.msle_loss,
                   al.poisson_nll_loss):
            fn(p, t, weight=np.ones(5))
            np.testing.assert_array_equal(p, P)
            np.testing.assert_array_equal(t, T)

    def test_options_are_checked_before_computing(self) -> None:
        """An invalid option is reported even when the arrays are also wrong."""
        with pytest.raises(ValueError, match="huber_loss: `delta`"):
            al.huber_loss(np.zeros(3), np.zeros(4), delta=-1.0)
        with pytest.raises(TypeError, match="smooth_l1_loss: `beta` must be a real number"):
            al.smooth_l1_loss(P, T, beta="1")
