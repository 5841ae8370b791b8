"""Contrastive and ranking losses (``arrayloss.losses.contrastive``) beyond the catalogue's
matrix: the gradients of the catalogue examples, the edge cases (no positive pair, no
negative, anchors or lists with nothing to compare, masked items holding inf or NaN), the
reference set and detached weights of the circle loss, and the error messages.

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend,
against the golden numbers, optax, MONAI and Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss.testing import backends
from conftest import assert_close as _close
from conftest import require_backend

E = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
G = np.array([0, 0, 1, 1])
S = np.array([[2.0, 1.0, 0.5, -1.0], [0.3, 0.2, 0.1, 0.0]])
REL = np.array([[3.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
MASK = np.array([[True, True, False, True], [True, True, True, True]])

AUTODIFF = ["torch", "jax"]


def _grad(backend_id: str, fn: Callable[..., Any], args: tuple, opts: dict,
          argnums: tuple[int, ...] = (0,)) -> list[np.ndarray]:
    """The gradient of ``sum(fn(*args, **opts))`` in float64; JAX's under ``jit`` (one
    compile instead of one per operation of an eager trace)."""
    b = require_backend(backends.by_id(backend_id))
    if backend_id != "jax":
        return b.grad(fn, args, opts, argnums)
    import jax

    conv, kw = b.convert(args, opts, "float64")

    def total(*xs: Any) -> Any:
        return fn(*xs, **kw).sum()

    return [np.asarray(g) for g in jax.jit(jax.grad(total, argnums=argnums))(*conv)]


class TestNtxentLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.ntxent_loss(a(E), G), 0.0279325, rtol, atol)
        _close(al.ntxent_loss(a(E), G, temperature=0.5, reduction="none"),
               [0.2332575, 0.6271231, 0.6271231, 0.2332575], rtol, atol)

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_gradient_of_the_catalogue_example(self, backend_id: str) -> None:
        g = _grad(backend_id, al.ntxent_loss, (E, G), {"temperature": 0.5})[0]
        _close(g, [[0.0, -0.0297854], [-0.3734824, 0.4979766], [0.6224707, 0.0],
                   [-0.0238283, -0.0178712]], rtol=1e-6, atol=1e-7)

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_no_positive_pair_is_zero_with_zero_gradient(self, backend_id: str) -> None:
        """optax's ``ntxent`` returns NaN (0/0) for a batch of distinct labels; the mean over
        zero positive pairs is 0 here, with zero gradients."""
        labels = np.array([0, 1, 2, 3])
        assert float(al.ntxent_loss(E, labels)) == 0.0
        _close(al.ntxent_loss(E, labels, reduction="none"), np.zeros(4))
        g = _grad(backend_id, al.ntxent_loss, (E, labels), {})[0]
        np.testing.assert_array_equal(g, 0.0)

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_anchors_without_negatives_add_zero_but_count(self, backend_id: str) -> None:
        """One group only: every pair's loss is 0 (no negative to compete with), finite
        gradients; with another group the pairs count in the mean's denominator."""
        same = np.zeros(4, dtype=np.int64)
        assert float(al.ntxent_loss(E, same)) == 0.0
        g = _grad(backend_id, al.ntxent_loss, (E, same), {})[0]
        np.testing.assert_array_equal(g, 0.0)
        # anchors 0-2 share a group, 3 is alone: 6 positive pairs, all with a negative
        _close(al.ntxent_loss(E, np.array([0, 0, 0, 1]), temperature=0.5), 0.5777357,
               rtol=1e-6)
        total = al.ntxent_loss(E, np.array([0, 0, 0, 1]), temperature=0.5, reduction="sum")
        _close(total / 6, 0.5777357, rtol=1e-6)

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_zero_embedding_has_finite_gradient(self, backend_id: str) -> None:
        x = E.copy()
        x[1] = 0.0
        out = al.ntxent_loss(x, G)
        assert np.isfinite(out)
        g = _grad(backend_id, al.ntxent_loss, (x, G), {})[0]
        assert np.all(np.isfinite(g))

    def test_small_temperature_in_float32_is_finite(self) -> None:
        x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
        y = np.array([0, 0, 1, 1, 2, 2, 3, 3])
        out = al.ntxent_loss(x, y, temperature=1e-3)
        assert out.dtype == np.float32 and np.isfinite(out)
        _close(out, al.ntxent_loss(x.astype(np.float64), y, temperature=1e-3), rtol=1e-4)

    def test_two_views_are_simclr(self) -> None:
        """Two views per sample: each anchor's loss is the cross-entropy of its other view
        among all the 2B - 1 others (SimCLR's NT-Xent)."""
        rng = np.random.default_rng(1)
        x = rng.normal(size=(6, 3))
        y = np.array([0, 1, 2, 0, 1, 2])
        u = x / np.linalg.norm(x, axis=-1, keepdims=True)
        s = u @ u.T / 0.2
        want = []
        for i in range(6):
            j = (i + 3) % 6
            others = np.delete(s[i], i)
            want.append(np.log(np.sum(np.exp(others))) - s[i, j])
        _close(al.ntxent_loss(x, y, temperature=0.2, reduction="none"), want)

    @pytest.mark.parametrize("temperature", [0.0, -0.1])
    def test_temperature_must_be_positive(self, temperature: float) -> None:
        with pytest.raises(ValueError, match=r"ntxent_loss: `temperature` must be > 0"):
            al.ntxent_loss(E, G, temperature=temperature)

    def test_bad_shapes_and_label_dtypes(self) -> None:
        with pytest.raises(ValueError, match=r"ntxent_loss: `target` .*\(4,\).*\(3,\)"):
            al.ntxent_loss(E, G[:3])
        with pytest.raises(ValueError, match=r"ntxent_loss: `target` .*\(4, 1\)"):
            al.ntxent_loss(E, G[:, None])
        with pytest.raises(ValueError, match=r"ntxent_loss: `pred` must be embeddings of "
                                             r"shape \(N, D\)"):
            al.ntxent_loss(E[None], G[None])
        with pytest.raises(TypeError, match=r"ntxent_loss: `target` .*cast them to an "
                                            r"integer dtype"):
            al.ntxent_loss(E, G.astype(np.float64))
        with pytest.raises(TypeError, match=r"ntxent_loss: `target` .*dtype bool"):
            al.ntxent_loss(E, G.astype(bool))
        with pytest.raises(ValueError, match=r"ntxent_loss: the feature axis"):
            al.ntxent_loss(np.zeros((4, 0)), G)

    def test_any_integer_is_a_group(self) -> None:
        """Group labels are compared, not gathered: negative and large values are groups."""
        _close(al.ntxent_loss(E, np.array([-7, -7, 10**12, 10**12])), al.ntxent_loss(E, G))


class TestCircleLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.circle_loss(a(E), G), 3.200864, rtol, atol)
        _close(al.circle_loss(a(E), np.array([0, 0, 0, 1]), gamma=1.0, margin=0.25,
                              reduction="none"),
               [1.511018, 1.083205, 2.016695, 0.0], rtol, atol)

    def test_the_batch_as_reference_set_is_the_default(self) -> None:
        for opts in ({}, {"remove_diagonal": False, "gamma": 2.0}):
            _close(al.circle_loss(E, G, ref_embeddings=E, ref_labels=G, reduction="none",
                                  **opts),
                   al.circle_loss(E, G, reduction="none", **opts))

    def test_a_disjoint_bank(self) -> None:
        """A memory bank that does not hold the batch (no diagonal to remove; normalised like
        the batch): anchor 0 against the other three is its loss within the batch."""
        full = al.circle_loss(E, G, gamma=1.0, margin=0.25, reduction="none")
        got = al.circle_loss(E[:1], G[:1], ref_embeddings=E[1:] * 2.0, ref_labels=G[1:],
                             remove_diagonal=False, gamma=1.0, margin=0.25, reduction="none")
        _close(got, full[:1])

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_detached_weights_change_the_gradient_not_the_value(self, backend_id: str
                                                                ) -> None:
        x = np.random.default_rng(0).normal(size=(6, 3))
        y = np.array([0, 0, 1, 1, 2, 2])
        opts = {"gamma": 4.0, "margin": 0.25}
        _close(al.circle_loss(x, y, detach_weights=True, **opts), al.circle_loss(x, y, **opts))
        g = _grad(backend_id, al.circle_loss, (x, y), opts)[0]
        gd = _grad(backend_id, al.circle_loss, (x, y), {**opts, "detach_weights": True})[0]
        assert np.all(np.isfinite(gd)) and not np.allclose(g, gd)

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_nothing_to_compare_is_zero_with_zero_gradient(self, backend_id: str) -> None:
        """Anchors without a positive (singletons) or without a negative (one group): 0, not
        counted, and an all-empty batch gives a zero mean with zero gradients (its
        log-sum-exps are over nothing)."""
        out = al.circle_loss(E, np.array([0, 1, 2, 2]), gamma=1.0, reduction="none")
        np.testing.assert_array_equal(out[:2], 0.0)
        assert np.all(out[2:] > 0)
        _close(al.circle_loss(E, np.array([0, 1, 2, 2]), gamma=1.0), out[2:].mean())
        for labels in (np.array([0, 1, 2, 3]), np.zeros(4, dtype=np.int64)):
            assert float(al.circle_loss(E, labels)) == 0.0
            g = _grad(backend_id, al.circle_loss, (E, labels), {})[0]
            np.testing.assert_array_equal(g, 0.0)

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_gradient_at_the_negative_weight_kink(self, backend_id: str) -> None:
        """A negative pair at ``s = -margin`` sits where ``alpha_n = relu(s + margin)``
        starts: its term ``gamma alpha_n (s - margin)`` has the one-sided slopes 0 and
        ``-2 gamma margin``; the sub-gradient of ``relu`` at 0 is 0, so the pair passes no
        gradient. Anchor 0 alone (weight [1, 0, 0]): its only negative, x2, gets none."""
        x = np.array([[1.0, 0.0], [0.8, 0.6], [-3.0, 4.0]])  # cos(x0, x2) = -0.6 exactly
        y = np.array([0, 0, 1])
        opts = {"gamma": 2.0, "margin": 0.6, "reduction": "sum",
                "weight": np.array([1.0, 0.0, 0.0])}
        g = _grad(backend_id, al.circle_loss, (x, y), opts)[0]
        assert np.all(np.isfinite(g))
        np.testing.assert_array_equal(g[2], 0.0)
        # just inside the active side the pair pulls x2 (slope -2 gamma margin, not 0)
        inside = x.copy()
        inside[2] = [-2.9, 4.0]
        assert np.abs(_grad(backend_id, al.circle_loss, (inside, y), opts)[0][2]).max() > 0.1

    def test_bad_options_and_reference_sets(self) -> None:
        with pytest.raises(ValueError, match=r"circle_loss: `gamma` must be > 0"):
            al.circle_loss(E, G, gamma=0.0)
        with pytest.raises(ValueError, match=r"circle_loss: `margin` must be >= 0.0 and "
                                             r"<= 1.0"):
            al.circle_loss(E, G, margin=1.5)
        with pytest.raises(ValueError, match=r"circle_loss: `ref_embeddings` and "
                                             r"`ref_labels` go together"):
            al.circle_loss(E, G, ref_embeddings=E)
        with pytest.raises(ValueError, match=r"circle_loss: `ref_embeddings` must have D = 2"):
            al.circle_loss(E, G, ref_embeddings=np.ones((3, 4)), ref_labels=np.zeros(3, int))
        with pytest.raises(ValueError, match=r"circle_loss: `ref_labels` .*\(3,\).*\(2,\)"):
            al.circle_loss(E, G, ref_embeddings=np.ones((3, 2)), ref_labels=np.zeros(2, int))
        with pytest.raises(TypeError, match=r"circle_loss: `ref_labels` .*integer"):
            al.circle_loss(E, G, ref_embeddings=E, ref_labels=G.astype(float))


class TestRankingSoftmaxLoss:
    def test_goldens(self, golden) -> None:
        a, rtol, atol = golden
        _close(al.ranking_softmax_loss(a(S), a(REL)), 1.740364, rtol, atol)
        _close(al.ranking_softmax_loss(a(S), a(REL), where=MASK, reduction="none"),
               [1.047037, 0.0], rtol, atol)

    def test_relevance_all_zero_counts_without_a_valid_item_does_not(self) -> None:
        none = al.ranking_softmax_loss(S, REL, reduction="none")
        assert none[1] == 0.0 and not np.signbit(none[1])
        _close(al.ranking_softmax_loss(S, REL), none.sum() / 2)
        m = MASK.copy()
        m[1] = False
        _close(al.ranking_softmax_loss(S, REL, where=m), al.ranking_softmax_loss(
            S[:1], REL[:1], where=m[:1]))
        _close(al.ranking_softmax_loss(S, REL, where=np.zeros((2, 4), bool)), 0.0)

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    @pytest.mark.parametrize("poison", [np.inf, -np.inf, np.nan])
    def test_invalid_items_get_zero_gradient_whatever_they_hold(self, backend_id: str,
                                                                poison: float) -> None:
        m = MASK.copy()
        m[1] = False  # a list without a valid item
        s = S.copy()
        s[~m] = poison
        want = al.ranking_softmax_loss(S, REL, where=m, reduction="none")
        _close(al.ranking_softmax_loss(s, REL, where=m, reduction="none"), want)
        g = _grad(backend_id, al.ranking_softmax_loss, (s, REL), {"where": m})[0]
        assert np.all(np.isfinite(g))
        np.testing.assert_array_equal(g[~m], 0.0)

    def test_item_weight_scales_the_relevance(self) -> None:
        w = np.array([[1.0, 1.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
        _close(al.ranking_softmax_loss(S, REL, item_weight=w, reduction="none"),
               al.ranking_softmax_loss(S, REL * w, reduction="none"))
        _close(al.ranking_softmax_loss(S, REL, item_weight=[1.0, 1.0, 2.0, 1.0],
                                       reduction="none"), [5.475909, 0.0], rtol=1e-6)

    def test_normalised_relevance_is_dense_cross_entropy(self) -> None:
        rng = np.random.default_rng(0)
        s, r = rng.normal(size=(3, 5)), rng.uniform(size=(3, 5))
        r /= r.sum(-1, keepdims=True)
        _close(al.ranking_softmax_loss(s, r, reduction="none"),
               al.cross_entropy(s, r, reduction="none"))

    def test_axis(self) -> None:
        _close(al.ranking_softmax_loss(S.T, REL.T, axis=0, where=MASK.T, reduction="none"),
               al.ranking_softmax_loss(S, REL, where=MASK, reduction="none"))

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match=r"ranking_softmax_loss: `target` must hold "
                                             r"values >= 0; found -3.0"):
            al.ranking_softmax_loss(S, -REL)
        with pytest.raises(TypeError, match=r"ranking_softmax_loss: `where` must be a bool"):
            al.ranking_softmax_loss(S, REL, where=MASK.astype(float))
        with pytest.raises(ValueError, match=r"ranking_softmax_loss: `where` of shape \(3,\)"):
            al.ranking_softmax_loss(S, REL, where=np.ones(3, bool))
        with pytest.raises(ValueError, match=r"ranking_softmax_loss: `pred` and `target`"):
            al.ranking_softmax_loss(S, REL[:, :3])
