"""Classifier losses (``arrayloss.losses.classifier``) and the generalised KL divergence
beyond the catalogue's matrix, one class per loss: the catalogue's gradients, edge cases
(``-inf`` and saturated logits, everything ignored, unnormalised measures), the peers'
failures we must not reproduce, and the linear cross-entropy's chunked path (values,
gradients, compilers, memory).

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import arrayloss as al
from conftest import jax_or_skip as _jax
from conftest import torch_or_skip as _torch

LG = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0]])
T = np.array([0, 1, 2])
SAT = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [0.5, -0.2, 0.1]])
SAT_Y = np.array([0, 0, 2])


def _grad(fn, *args, wrt=0, **kw):
    """Value and gradient (float64 torch) of ``fn(*args, **kw)`` summed, w.r.t. ``wrt``."""
    torch = _torch()
    ts = [torch.tensor(a, dtype=torch.float64 if np.asarray(a).dtype.kind == "f" else None)
          for a in args]
    ts[wrt].requires_grad_(True)
    out = fn(*ts, **kw)
    out.sum().backward()
    return out.detach().numpy(), ts[wrt].grad.numpy()


def _log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


class TestNllLoss:
    def test_gradient_is_minus_the_class_weight_at_the_label(self) -> None:
        cw = [1.0, 2.0, 0.5]
        _, g = _grad(al.nll_loss, LG * 7.0, T, class_weight=cw, reduction="sum")
        want = -np.eye(3)[T] * np.asarray(cw)[T][:, None]
        np.testing.assert_array_equal(g, want)

    def test_equals_cross_entropy_on_log_probabilities_only(self) -> None:
        lp = _log_softmax(LG)
        np.testing.assert_allclose(al.nll_loss(lp, T), al.cross_entropy(LG, T), rtol=1e-14)
        assert float(al.nll_loss(LG, T)) == -1.5  # raw scores are not normalised

    def test_minus_inf_at_the_label_is_inf_with_a_finite_gradient(self) -> None:
        z = np.array([[-np.inf, 0.0], [0.0, -np.inf]])
        out, g = _grad(al.nll_loss, z, np.array([0, 0]), reduction="none")
        np.testing.assert_array_equal(out, [np.inf, -0.0])
        np.testing.assert_array_equal(g, [[-1.0, 0.0], [-1.0, 0.0]])
        # a class weight of 0 gives 0, not 0 * inf = NaN
        out = al.nll_loss(z, np.array([0, 1]), class_weight=[0.0, 1.0], reduction="none")
        np.testing.assert_array_equal(out, [0.0, np.inf])

    def test_everything_ignored_is_zero_with_zero_gradients(self) -> None:
        """torch's ``nll_loss`` returns NaN here."""
        z = np.array([[np.nan, 1.0], [np.inf, 0.0]])
        out, g = _grad(al.nll_loss, z, np.array([-100, -100]), ignore_index=-100)
        assert float(out) == 0.0
        np.testing.assert_array_equal(g, 0.0)

    def test_dense_targets_are_refused(self) -> None:
        with pytest.raises(ValueError, match="nll_loss: `target` must hold integer labels"):
            al.nll_loss(LG, np.eye(3))


class TestPolyCrossEntropy:
    def test_catalogue_gradient(self) -> None:
        _, g = _grad(al.poly_cross_entropy, LG, T, reduction="sum")
        np.testing.assert_allclose(g[0], [-0.7904361, 0.5619602, 0.2284760], atol=5e-8)

    @pytest.mark.parametrize("options", [
        {}, {"label_smoothing": 0.2}, {"class_weight": [1.0, 2.0, 0.5]},
        {"ignore_index": -1, "label_smoothing": 0.1, "class_weight": [1.0, 2.0, 0.5]}])
    def test_epsilon_zero_is_cross_entropy(self, options) -> None:
        rng = np.random.default_rng(0)
        z, y = rng.normal(size=(7, 3)) * 3, rng.integers(0, 3, 7)
        if "ignore_index" in options:
            y[[1, 4]] = -1
        for target in (y, np.eye(3)[np.maximum(y, 0)] * 0.8 + 0.2 / 3):
            opts = {k: v for k, v in options.items()
                    if not (k == "ignore_index" and target.ndim == 2)}
            np.testing.assert_allclose(al.poly_cross_entropy(z, target, epsilon=0.0, **opts),
                                       al.cross_entropy(z, target, **opts), rtol=1e-13)

    def test_saturated_and_masked_logits_are_finite(self) -> None:
        out, g = _grad(al.poly_cross_entropy, SAT, SAT_Y, reduction="none")
        np.testing.assert_allclose(out[0], 0.0, atol=0)
        np.testing.assert_allclose(out[1], 2e4 + 2.0, rtol=1e-12)  # -log p_t + 2 (1 - p_t)
        assert np.all(np.isfinite(g))
        # a -inf logit with no target mass: optax's softmax cross-entropy gives NaN there
        z = np.array([[1.0, -np.inf, 0.0]])
        out, g = _grad(al.poly_cross_entropy, z, np.array([[0.5, 0.0, 0.5]]))
        assert np.isfinite(out) and np.all(np.isfinite(g)) and g[0, 1] == 0.0

    def test_epsilon_below_minus_one_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"poly_cross_entropy: `epsilon` must be >= -1\.0"):
            al.poly_cross_entropy(LG, T, epsilon=-2.0)
        assert np.all(np.asarray(al.poly_cross_entropy(SAT, SAT_Y, epsilon=-1.0,
                                                       reduction="none")) >= 0)


class TestGeneralizedCrossEntropy:
    def test_catalogue_gradient(self) -> None:
        _, g = _grad(al.generalized_cross_entropy, LG, T, reduction="sum")
        np.testing.assert_allclose(g[0], [-0.2768191, 0.1968044, 0.0800147], atol=5e-8)

    def test_gradient_is_cross_entropy_gradient_times_pt_to_the_q(self) -> None:
        p_t = np.exp(_log_softmax(LG)[np.arange(3), T])
        _, g = _grad(al.generalized_cross_entropy, LG, T, q=0.7, reduction="sum")
        _, g_ce = _grad(al.cross_entropy, LG, T, reduction="sum")
        np.testing.assert_allclose(g, g_ce * p_t[:, None] ** 0.7, rtol=1e-12)

    def test_confidently_wrong_is_one_over_q_with_a_vanishing_gradient(self) -> None:
        for q in (0.3, 0.5, 1.0):
            out, g = _grad(al.generalized_cross_entropy, SAT, SAT_Y, q=q, reduction="none")
            assert out[1] == pytest.approx(1.0 / q, rel=1e-14)
            assert np.all(np.isfinite(g)) and np.max(np.abs(g[1])) < 1e-300
        out = al.generalized_cross_entropy(np.array([[-np.inf, 0.0]]), np.array([0]))
        assert float(out) == 2.0

    def test_limits_in_q(self) -> None:
        lp = _log_softmax(LG)[np.arange(3), T]
        np.testing.assert_allclose(al.generalized_cross_entropy(LG, T, q=1.0, reduction="none"),
                                   1.0 - np.exp(lp), rtol=1e-14)
        np.testing.assert_allclose(al.generalized_cross_entropy(LG, T, q=1e-8),
                                   al.cross_entropy(LG, T), rtol=1e-7)

    def test_q_outside_zero_one_is_refused(self) -> None:
        for q in (0.0, -0.5, 1.01):
            with pytest.raises(ValueError, match=r"generalized_cross_entropy: `q` must be > 0"):
                al.generalized_cross_entropy(LG, T, q=q)


PU = np.array([[1.4, 0.2, 0.1], [0.5, 2.0, 0.0]])
QU = np.array([[0.5, 0.6, 0.2], [1.0, 0.25, 0.5]])


class TestGeneralizedKlDivergence:
    def test_catalogue_gradient_is_q_minus_p(self) -> None:
        _, g = _grad(al.generalized_kl_divergence, np.log(QU), PU, reduction="sum")
        np.testing.assert_allclose(g, [[-0.9, 0.4, 0.1], [0.5, -1.75, 0.5]], rtol=1e-12)

    def test_zero_mass_and_minus_inf(self) -> None:
        """``p = 0`` at ``log q = -inf`` is 0 with zero gradient (optax: NaN); ``p > 0``
        there is ``+inf`` with the gradient ``-p``."""
        lq = np.array([[0.0, -np.inf, -np.inf]])
        p = np.array([[1.0, 0.0, 0.5]])
        out, g = _grad(al.generalized_kl_divergence, lq, p, reduction="none")
        assert out[0] == np.inf
        np.testing.assert_array_equal(g, [[0.0, 0.0, -0.5]])
        out, g = _grad(al.generalized_kl_divergence, lq[:, :2], p[:, :2], reduction="none")
        np.testing.assert_array_equal(out, [0.0])
        np.testing.assert_array_equal(g, 0.0)

    def test_normalised_measures_give_kl_divergence(self) -> None:
        rng = np.random.default_rng(1)
        lq = _log_softmax(rng.normal(size=(4, 5)))
        p = np.exp(_log_softmax(rng.normal(size=(4, 5)) * 2))
        np.testing.assert_allclose(al.generalized_kl_divergence(lq, p, reduction="none"),
                                   al.kl_divergence(lq, p, reduction="none"), atol=1e-15)
        np.testing.assert_allclose(al.generalized_kl_divergence(lq, np.log(p),
                                                                log_target=True),
                                   al.kl_divergence(lq, p), rtol=1e-13)

    def test_scale_mismatch_is_counted(self) -> None:
        """Unlike KL, a measure twice the target is not free: ``2 log 2 - 1`` per unit."""
        p = np.array([[0.25, 0.75]])
        out = al.generalized_kl_divergence(np.log(2 * p), p)
        assert float(out) == pytest.approx(1.0 - np.log(2.0), rel=1e-14)

    def test_negative_measure_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"generalized_kl_divergence: `p` must hold "
                                             r"values >= 0; found -0.1 at index \(0, 1\)"):
            al.generalized_kl_divergence(np.zeros((1, 2)), np.array([[2.0, -0.1]]))


X = np.array([[1.0, -0.5], [0.3, 0.8], [-1.0, 2.0]])
W = np.array([[0.5, 1.0], [-0.2, 0.3], [1.5, -1.0]])
TL = np.array([0, 2, 1])


def _linear_inputs(seed=0, n=(5, 3), d=4, c=7, dense=False):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(*n, d)), rng.normal(size=(c, d)), rng.normal(size=c)
    y = np.exp(_log_softmax(rng.normal(size=(*n, c)))) if dense else rng.integers(0, c, n)
    if not dense:
        y.flat[1] = -1
    return x, w, b, y


class TestLinearCrossEntropy:
    @pytest.mark.parametrize("dense", [False, True])
    @pytest.mark.parametrize("chunk", [1, 2, 3, 7, 50])
    def test_chunked_equals_full_values_and_gradients(self, chunk, dense) -> None:
        torch = _torch()
        x, w, b, y = _linear_inputs(dense=dense)
        opts = {"class_weight": np.linspace(0.5, 2.0, 7), "label_smoothing": 0.1,
                **({} if dense else {"ignore_index": -1})}
        res = []
        for chunk_size in (None, chunk):
            ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
            out = al.linear_cross_entropy(ts[0], ts[1], torch.tensor(y), bias=ts[2],
                                          chunk_size=chunk_size, weight=torch.tensor(
                                              np.linspace(0.1, 1.0, 3)), **{
                                              k: torch.tensor(v) if isinstance(v, np.ndarray)
                                              else v for k, v in opts.items()})
            out.backward()
            res.append([out.detach().numpy()] + [t.grad.numpy() for t in ts])
        for a, b_ in zip(*res):
            np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-14)

    def test_golden_chunked_under_jit_and_compile(self) -> None:
        jax = _jax()
        f = jax.jit(lambda x, w, y: al.linear_cross_entropy(
            x, w, y, bias=[0.1, 0.0, -0.1], label_smoothing=0.1, chunk_size=2))
        assert float(f(jax.numpy.asarray(X), jax.numpy.asarray(W), jax.numpy.asarray(TL))) \
            == pytest.approx(1.738144, abs=5e-7)
        g = jax.grad(lambda w: al.linear_cross_entropy(jax.numpy.asarray(X), w,
                                                       jax.numpy.asarray(TL), chunk_size=2))
        g_full = jax.grad(lambda w: al.linear_cross_entropy(jax.numpy.asarray(X), w,
                                                            jax.numpy.asarray(TL)))
        np.testing.assert_allclose(g(jax.numpy.asarray(W)), g_full(jax.numpy.asarray(W)),
                                   rtol=1e-12)
        torch = _torch()
        torch._dynamo.reset()
        c = torch.compile(lambda x, w, y: al.linear_cross_entropy(x, w, y, chunk_size=2),
                          fullgraph=True, backend="aot_eager")
        out = c(*(torch.tensor(a) for a in (X, W, TL)))
        assert float(out) == pytest.approx(1.722195, abs=5e-7)

    @pytest.mark.parametrize("chunk", [None, 2])
    @pytest.mark.parametrize("poison", [np.inf, -np.inf, np.nan])
    def test_ignored_features_change_nothing(self, chunk, poison) -> None:
        torch = _torch()
        x, w, b, y = _linear_inputs()
        xp = x.copy()
        xp[0, 1] = poison  # y[0, 1] is ignored
        grads = []
        for feats in (x, xp):
            ts = [torch.tensor(a, requires_grad=True) for a in (feats, w, b)]
            out = al.linear_cross_entropy(ts[0], ts[1], torch.tensor(y), bias=ts[2],
                                          ignore_index=-1, chunk_size=chunk)
            out.backward()
            grads.append([out.detach().numpy()] + [t.grad.numpy() for t in ts])
        for a, b_ in zip(*grads):
            np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(grads[1][1][0, 1], 0.0)

    def test_torch_peer_gradients_for_the_projection_and_bias(self) -> None:
        torch = _torch()
        import torch.nn.functional as F

        x, w, b, y = _linear_inputs(n=(6,))
        res = []
        for ours in (True, False):
            ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
            cw = torch.tensor(np.linspace(0.5, 2.0, 7))
            if ours:
                out = al.linear_cross_entropy(*ts[:2], torch.tensor(y), bias=ts[2],
                                              class_weight=cw, ignore_index=-1, chunk_size=3,
                                              label_smoothing=0.2)
            else:
                out = F.linear_cross_entropy(*ts[:2], torch.tensor(y), linear_bias=ts[2],
                                             weight=cw, ignore_index=-1, label_smoothing=0.2)
            out.backward()
            res.append([out.detach().numpy()] + [t.grad.numpy() for t in ts])
        for a, b_ in zip(*res):
            np.testing.assert_allclose(a, b_, rtol=1e-10, atol=1e-13)

    def test_chunked_forward_never_holds_the_logits(self) -> None:
        """NumPy, float64: 2000 x 4000 logits are 64 MB; the chunked forward peaks at a few
        (2000, 250) blocks (4 MB each)."""
        rng = np.random.default_rng(0)
        x, w = rng.normal(size=(2000, 16)), rng.normal(size=(4000, 16)) * 0.1
        y = rng.integers(0, 4000, 2000)
        peaks = {}
        for chunk in (None, 250):
            tracemalloc.start()
            out = al.linear_cross_entropy(x, w, y, chunk_size=chunk)
            peaks[chunk] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            peaks[f"value-{chunk}"] = float(out)
        assert peaks["value-None"] == pytest.approx(peaks["value-250"], rel=1e-12)
        assert peaks[None] > 64e6 and peaks[250] < 24e6, peaks

    def test_shapes_and_options_are_checked(self) -> None:
        with pytest.raises(ValueError, match=r"linear_cross_entropy: `w` must have shape "
                                             r"\(C, D\) with D = x.shape\[-1\]"):
            al.linear_cross_entropy(X, W.T[:, :2].T[:, :1], TL)
        with pytest.raises(ValueError, match=r"`target` must hold integer labels of shape "
                                             r"\(3,\)"):
            al.linear_cross_entropy(X, W, np.zeros((3, 2), np.int64))
        with pytest.raises(ValueError, match="`chunk_size` must be None or a positive int"):
            al.linear_cross_entropy(X, W, TL, chunk_size=0)
        with pytest.raises(ValueError, match="`ignore_index` applies to integer labels"):
            al.linear_cross_entropy(X, W, np.full((3, 3), 1 / 3), ignore_index=-100)
