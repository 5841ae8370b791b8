"""Sparsemax losses (``arrayloss.losses.sparsemax``) beyond the catalogue's matrix, one class
per loss: golden values and gradients in float64 and float32, the zero set, infinite and
masked logits, ties, any rank (optax takes 2-D scores only), and optax on random inputs.

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import arrayloss as al
from conftest import assert_close as _close
from conftest import check_saturated_logits_torch, optax_or_skip
from conftest import jax_or_skip as _jax
from conftest import numpy64 as _np
from conftest import torch_or_skip as _torch

Z = np.array([2.0, -1.0, 0.5, -3.0, 0.2])
YB = np.array([1, 0, 0, 1, 1])
S = np.array([[2.0, 1.5, -1.0], [0.2, 0.1, 0.3], [-0.5, -2.0, -1.0], [0.0, 0.0, 0.0]])
YS = np.array([0, 1, 0, 2])


def _grad_sum(fn, pred: np.ndarray, target: np.ndarray, **kw) -> tuple[np.ndarray, np.ndarray]:
    torch = _torch()
    x = torch.tensor(pred, requires_grad=True)
    out = fn(x, torch.tensor(target), reduction="none", **kw)
    (g,) = torch.autograd.grad(out.sum(), x)
    return _np(out), _np(g)


class TestSparsemaxLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.sparsemax_loss(a(Z), a(YB), reduction="none"), [0.0, 0.0, 0.5625, 3.0, 0.16],
               rtol, atol)
        _close(al.sparsemax_loss(a(Z), YB > 0), 0.7445, rtol, atol)

    def test_gradient_golden(self) -> None:
        _, g = _grad_sum(al.sparsemax_loss, Z, YB.astype(np.float64))
        _close(g, [0.0, 0.0, 0.75, -1.0, -0.4])

    def test_zero_exactly_where_sparse_sigmoid_equals_the_label(self) -> None:
        z = np.array([1.0, 3.0, 0.999, -1.0, -5.0, -0.999])
        y = np.array([1, 1, 1, 0, 0, 0])
        out = np.asarray(al.sparsemax_loss(z, y, reduction="none"))
        assert np.all(out[[0, 1, 3, 4]] == 0.0) and np.all(out[[2, 5]] > 0.0)

    def test_continuous_derivative_at_the_joints(self) -> None:
        """sparse_plus is C^1: the one-sided derivatives agree at s = -1 and s = 1."""
        for s0, slope in ((-1.0, 0.0), (1.0, 1.0)):
            z = np.array([s0 - 1e-9, s0, s0 + 1e-9])
            _, g = _grad_sum(al.sparsemax_loss, z, np.zeros(3))
            _close(g, [slope] * 3, atol=1e-8)

    def test_infinite_logits_give_the_limit(self) -> None:
        z = np.array([math.inf, -math.inf, math.inf, -math.inf])
        out, g = _grad_sum(al.sparsemax_loss, z, np.array([1.0, 0.0, 0.0, 1.0]))
        _close(out, [0.0, 0.0, math.inf, math.inf])
        assert np.all(np.isfinite(g))

    def test_soft_labels_are_refused(self) -> None:
        with pytest.raises(ValueError, match=r"sparsemax_loss: `target` must hold binary labels "
                                             r"0 or 1.*found 0.5"):
            al.sparsemax_loss(Z, np.array([1.0, 0.0, 0.5, 1.0, 0.0]))

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    def test_saturated_logits_torch(self, dtype: str) -> None:
        z = np.array([100.0, -100.0, 1e4, -1e4, 30.0, -30.0])
        check_saturated_logits_torch(al.sparsemax_loss, z, np.array([1.0, 0, 0, 1, 0, 1]), {},
                                     dtype)

    def test_matches_optax(self) -> None:
        optax = optax_or_skip()
        jax = _jax()
        import jax.numpy as jnp

        rng = np.random.default_rng(2)
        z, y = rng.normal(size=(4, 6)) * 2, rng.integers(0, 2, size=(4, 6))
        _close(al.sparsemax_loss(jnp.asarray(z), jnp.asarray(y), reduction="none"),
               optax.losses.sparsemax_loss(jnp.asarray(z), jnp.asarray(y)))
        g_ours = jax.grad(lambda v: al.sparsemax_loss(v, jnp.asarray(y), reduction="sum"))(
            jnp.asarray(z))
        g_optax = jax.grad(lambda v: optax.losses.sparsemax_loss(v, jnp.asarray(y)).sum())(
            jnp.asarray(z))
        _close(g_ours, g_optax)


class TestMulticlassSparsemaxLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.multiclass_sparsemax_loss(a(S), YS, reduction="none"),
               [0.0625, 0.4433333, 0.0625, 0.3333333], rtol, atol)
        _close(al.multiclass_sparsemax_loss(a(S), YS), 0.2254167, rtol, atol)

    def test_gradient_golden_is_sparsemax_minus_one_hot(self) -> None:
        _, g = _grad_sum(al.multiclass_sparsemax_loss, S, YS)
        _close(g, [[-0.25, 0.25, 0.0], [0.3333333, -0.7666667, 0.4333333], [-0.25, 0.0, 0.25],
                   [0.3333333, 0.3333333, -0.6666667]], rtol=1e-6, atol=1e-7)

    def test_zero_exactly_at_a_one_hot_sparsemax(self) -> None:
        s = np.array([[3.0, 2.0, -1.0], [3.0, 2.5, 0.0]])
        out = np.asarray(al.multiclass_sparsemax_loss(s, np.array([0, 0]), reduction="none"))
        assert out[0] == 0.0 and out[1] > 0.0

    def test_shift_invariant_and_ties(self) -> None:
        rng = np.random.default_rng(3)
        s, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=(5,))
        _close(al.multiclass_sparsemax_loss(s + 1e3, y, reduction="none"),
               al.multiclass_sparsemax_loss(s, y, reduction="none"), rtol=1e-9, atol=1e-9)
        tied = np.array([[1.0, 1.0, 0.0]])
        out, g = _grad_sum(al.multiclass_sparsemax_loss, tied, np.array([1]))
        _close(out, [0.25])
        _close(g, [[0.5, -0.5, 0.0]])

    def test_masked_and_infinite_logits(self) -> None:
        """``-inf`` classes get p = 0 with no ``0 * -inf``; a ``+inf`` logit takes the mass
        (shared by several): loss ``(1 - 1/k) / 2`` for a label among them, ``+inf`` else."""
        s = np.array([[2.0, -math.inf, 0.5], [math.inf, 0.0, 1.0], [math.inf, math.inf, 0.0],
                      [math.inf, 0.0, 1.0], [1.0, 0.0, -math.inf]])
        y = np.array([0, 0, 1, 2, 2])
        out, g = _grad_sum(al.multiclass_sparsemax_loss, s, y)
        _close(out, [0.0, 0.0, 0.25, math.inf, math.inf])
        assert np.all(np.isfinite(g))
        _close(g[0], [0.0, 0.0, 0.0])

    def test_any_rank_where_optax_takes_2d(self) -> None:
        rng = np.random.default_rng(4)
        s, y = rng.normal(size=(2, 4, 3, 5)), rng.integers(0, 4, size=(2, 3, 5))
        flat = np.moveaxis(s, 1, -1).reshape(-1, 4)
        got = al.multiclass_sparsemax_loss(s, y, axis=1, reduction="none")
        _close(np.asarray(got).reshape(-1),
               al.multiclass_sparsemax_loss(flat, y.reshape(-1), reduction="none"))

    def test_ignored_and_class_weighted_mean(self) -> None:
        w = np.array([1.0, 2.0, 0.5])
        y = np.array([0, -100, 0, 2])
        per = np.asarray(al.multiclass_sparsemax_loss(S, np.array([0, 1, 0, 2]),
                                                      reduction="none"))
        want = (per[0] + per[2] + 0.5 * per[3]) / 2.5
        _close(al.multiclass_sparsemax_loss(S, y, class_weight=w, ignore_index=-100), want)

    @pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
    def test_saturated_logits_torch(self, dtype: str) -> None:
        sat = np.array([[1e4, 0.0, -1e4], [-100.0, 100.0, 0.0], [-1e4, 1e4, 100.0],
                        [30.0, -30.0, 0.0], [0.5, -0.2, 0.1]])
        check_saturated_logits_torch(al.multiclass_sparsemax_loss, sat,
                                     np.array([0, 2, 1, 1, 0]), {}, dtype)

    def test_matches_optax(self) -> None:
        optax = optax_or_skip()
        jax = _jax()
        import jax.numpy as jnp

        rng = np.random.default_rng(5)
        for n, c in [(8, 4), (5, 9), (3, 1)]:
            s, y = jnp.asarray(rng.normal(size=(n, c)) * 2), jnp.asarray(rng.integers(0, c, n))
            _close(al.multiclass_sparsemax_loss(s, y, reduction="none"),
                   optax.losses.multiclass_sparsemax_loss(s, y), rtol=1e-9, atol=1e-12)
            # under jit: eager JAX dispatches the sort-based sparsemax op by op (slow)
            g_ours = jax.jit(jax.grad(
                lambda v, y=y: al.multiclass_sparsemax_loss(v, y, reduction="sum")))(s)
            g_optax = jax.jit(jax.grad(
                lambda v, y=y: optax.losses.multiclass_sparsemax_loss(v, y).sum()))(s)
            _close(g_ours, g_optax, rtol=1e-9, atol=1e-12)
