"""Embedding losses (``arrayloss.losses.embedding``) beyond the catalogue's matrix:
``center_loss`` (golden numbers in float64 and float32, gradients, gathered integer labels,
out-of-range labels without validation, messages) and the ``update_centers`` rule; the pair and
triplet losses: gradients at their edge cases (zero vectors, ``a == p``, kinks), labels other
than +-1, invariance to a common rotation, and the peers' bugs they do not have (optax's
triplet without ``|.|`` and NaN at a zero vector, torch's hinge embedding adding both terms
for label 0 and cosine embedding returning 0 for bad labels).

The backend matrix (``test_matrix.py``) already runs every catalogue case on every backend.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arrayloss as al
from arrayloss.testing import backends
from conftest import assert_close as _close
from conftest import require_backend
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


# --------------------------------------------------------------------------- pairs, triplets

A = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 2.0]])  # row 2: the zero vector
B = np.array([[0.0, 1.0], [2.0, 2.0], [1.0, 0.0], [-1.0, 1.0]])
YC = np.array([1, -1, 1, -1])
TA = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, -0.5]])
TP = np.array([[0.1, 0.1], [1.1, 1.1], [0.5, -0.5]])  # row 2 equals its anchor
TN = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, -0.4]])
AUTODIFF = ["torch", "jax"]


def _grads(backend_id: str, fn, args: tuple, opts: dict, argnums=(0,)) -> list[np.ndarray]:
    b = require_backend(backends.by_id(backend_id))
    return b.grad(fn, args, opts, argnums)


def _rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


_SMALL = st.floats(-10.0, 10.0, allow_nan=False, allow_subnormal=False, width=64)


@st.composite
def _rotated(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Three ``(N, D)`` arrays of vectors and an orthogonal ``(D, D)`` matrix."""
    n, d = draw(st.sampled_from([(1, 2), (4, 3), (3, 5)]))
    xs = tuple(draw(hnp.arrays(np.float64, (n, d), elements=_SMALL)) for _ in range(3))
    return (*xs, _rotation(np.random.default_rng(draw(st.integers(0, 2**16))), d))


@pytest.mark.parametrize(("name", "opts"), [
    ("cosine_distance_loss", {}), ("cosine_embedding_loss", {"margin": 0.3}),
    ("triplet_margin_loss", {"distance": "cosine", "swap": True}),
    ("triplet_margin_loss", {"eps": 0.0}),  # the Euclidean norm without the eps offset
])
@settings(max_examples=25, deadline=None)
@given(data=_rotated())
def test_invariant_to_a_common_rotation(name: str, opts: dict, data: tuple) -> None:
    """Cosines and Euclidean distances depend on the vectors only through their inner
    products: rotating every embedding by the same orthogonal matrix changes nothing."""
    x1, x2, x3, q = data
    fn = getattr(al, name)
    if name == "cosine_distance_loss":
        args, rotated = (x1, x2), (x1 @ q, x2 @ q)
    elif name == "cosine_embedding_loss":
        y = np.where(x3[:, 0] > 0, 1, -1)
        args, rotated = (x1, x2, y), (x1 @ q, x2 @ q, y)
    else:
        args, rotated = (x1, x2, x3), (x1 @ q, x2 @ q, x3 @ q)
    np.testing.assert_allclose(fn(*rotated, **opts, reduction="none"),
                               fn(*args, **opts, reduction="none"), rtol=1e-9, atol=1e-9)


class TestCosineDistanceLoss:
    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_gradient_and_zero_vector(self, backend_id: str) -> None:
        """The golden gradient of row 3; the zero vector (row 2) has the finite gradient
        ``target / (eps |target|)`` (optax's default epsilon 0 gives NaN there)."""
        (g,) = _grads(backend_id, al.cosine_distance_loss, (A, B), {"reduction": "sum"})
        _close(g[3], [0.3794733, -0.1897367], rtol=1e-6)
        assert np.all(np.isfinite(g))
        _close(g[2], -B[2] / (1e-8 * np.linalg.norm(B[2])), rtol=1e-9)
        _close(al.cosine_distance_loss(A[2:3], B[2:3]), 1.0)

    def test_both_zero_and_bad_input(self) -> None:
        _close(al.cosine_distance_loss(np.zeros((2, 3)), np.zeros((2, 3)), reduction="none"),
               [1.0, 1.0])
        with pytest.raises(ValueError, match=r"cosine_distance_loss: `eps` must be > 0"):
            al.cosine_distance_loss(A, B, eps=0.0)
        with pytest.raises(ValueError, match=r"cosine_distance_loss: the feature axis"):
            al.cosine_distance_loss(np.zeros((3, 0)), np.zeros((3, 0)))


class TestCosineEmbeddingLoss:
    def test_labels_other_than_pm1_raise(self) -> None:
        """torch returns 0 for a label 0 or 2; here it is an error naming the fix."""
        for bad in (0, 2):
            y = YC.copy()
            y[1] = bad
            with pytest.raises(ValueError, match=r"cosine_embedding_loss: `target` must hold "
                                                 r"labels in \{-1, \+1\}.*2\*y - 1; found"):
                al.cosine_embedding_loss(A, B, y)
        _close(al.cosine_embedding_loss(A, B, YC > 0), al.cosine_embedding_loss(A, B, YC))

    def test_mismatched_pairs_and_labels(self) -> None:
        with pytest.raises(ValueError, match=r"`x1` and `x2` must have the same shape"):
            al.cosine_embedding_loss(A, B[:3], YC)
        with pytest.raises(ValueError, match=r"`target` must hold one label per pair, shape "
                                             r"\(4,\).*got \(3,\)"):
            al.cosine_embedding_loss(A, B, YC[:3])

    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_gradient_at_the_zero_vector_is_finite(self, backend_id: str) -> None:
        g1, g2 = _grads(backend_id, al.cosine_embedding_loss, (A, B, YC), {"margin": 0.5},
                        (0, 1))
        assert np.all(np.isfinite(g1)) and np.all(np.isfinite(g2))
        _close(g1[3], 0.0)  # cos = 0.316 < margin: outside the hinge


class TestMarginRankingLoss:
    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_gradient_inside_outside_and_at_the_kink(self, backend_id: str) -> None:
        x1, x2 = np.array([0.5, 1.0, 2.0]), np.array([1.0, 0.2, 2.0])
        y = np.array([1.0, 1.0, -1.0])  # inside, outside, at the kink (x1 = x2, margin 0)
        g1, g2 = _grads(backend_id, al.margin_ranking_loss, (x1, x2, y), {"reduction": "sum"},
                        (0, 1))
        _close(g1, [-1.0, 0.0, 0.0])
        _close(g2, [1.0, 0.0, 0.0])

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match=r"margin_ranking_loss: `margin` must be >= 0"):
            al.margin_ranking_loss(A[:, 0], B[:, 0], YC, margin=-1.0)
        with pytest.raises(ValueError, match=r"margin_ranking_loss: `target` must hold"):
            al.margin_ranking_loss(A[:, 0], B[:, 0], np.array([1, 0, 1, -1]))
        with pytest.raises(ValueError, match=r"`x1` and `target` must have the same shape"):
            al.margin_ranking_loss(A[:, 0], B[:, 0], YC[:3])


class TestHingeEmbeddingLoss:
    def test_label_zero_raises_instead_of_adding_both_terms(self) -> None:
        """torch gives 1.0 for x = 0.7, y = 0 (both terms); a label must be -1 or +1."""
        with pytest.raises(ValueError, match=r"hinge_embedding_loss: `target` must hold "
                                             r"labels in \{-1, \+1\}.*found 0"):
            al.hinge_embedding_loss(np.array([0.7]), np.array([0]))
        _close(al.hinge_embedding_loss(np.array([0.7, 0.7]), np.array([1, -1]),
                                       reduction="none"), [0.7, 0.3])

    def test_infinite_and_negative_distances(self) -> None:
        x = np.array([np.inf, np.inf, -0.5])
        with np.errstate(all="raise"):  # no 0 * inf on the way
            out = al.hinge_embedding_loss(x, np.array([1, -1, 1]), reduction="none")
        _close(out, [np.inf, 0.0, -0.5])  # a negative distance gives a negative loss, as torch


class TestTripletMarginLoss:
    @pytest.mark.parametrize("backend_id", AUTODIFF)
    def test_golden_gradients_and_a_equal_p(self, backend_id: str) -> None:
        """The golden gradient w.r.t. the anchors; with eps 0, ``a == p`` has distance 0 and
        gradient 0 (optax: NaN), so row 3 is the negative's pull alone."""
        (g,) = _grads(backend_id, al.triplet_margin_loss, (TA, TP, TN), {"reduction": "sum"})
        _close(g, [[0.2928932, -0.7071078], [-1.707107, -0.7071078], [1.414214, 1.414214]],
               rtol=1e-6)
        g = _grads(backend_id, al.triplet_margin_loss, (TA, TP, TN),
                   {"eps": 0.0, "reduction": "sum"}, (0, 1, 2))
        _close(g[0][2], [0.7071068, 0.7071068], rtol=1e-6)
        _close(g[1][2], 0.0)
        # the other powers: finite, 0 at a == p (p = 1 is |.|, whose JAX derivative at 0
        # would be 1 without the sign form)
        for p in (1.0, 3.0) if backend_id == "torch" else (1.0,):
            gp = _grads(backend_id, al.triplet_margin_loss, (TA, TP, TN),
                        {"eps": 0.0, "p": p, "reduction": "sum"}, (1,))[0]
            assert np.all(np.isfinite(gp)) and not np.any(gp[2])

    def test_odd_degree_takes_the_absolute_value(self) -> None:
        """optax omits |.|: its p = 1 gives [1.8, 0.0, 1.2] here; torch and arrayloss the
        norm's values."""
        out = al.triplet_margin_loss(TA, TP, TN, p=1.0, reduction="none")
        _close(out, [0.199998, 0.199996, 0.800004], rtol=1e-6)
        assert not np.allclose(out, [1.8, 0.0, 1.2])

    def test_eps_is_added_to_the_difference_not_inside_the_root(self) -> None:
        """Identical vectors are ``eps * D^(1/p)`` apart (optax: ``sqrt(eps)`` = 1e-3)."""
        far = TA + 10.0
        out = al.triplet_margin_loss(TA, TA, far, margin=20.0, reduction="none")
        d_an = np.linalg.norm(TA - far + 1e-6, axis=-1)
        _close(out, 1e-6 * np.sqrt(2.0) - d_an + 20.0, rtol=1e-12)

    def test_distance_option(self) -> None:
        with pytest.raises(ValueError, match=r"triplet_margin_loss: `distance` must be None, "
                                             r"'cosine' or a callable"):
            al.triplet_margin_loss(TA, TP, TN, distance="euclidean")
        with pytest.raises(TypeError, match=r"triplet_margin_loss: `distance`"):
            al.triplet_margin_loss(TA, TP, TN, distance=2)
        with pytest.raises(ValueError, match=r"`distance` must return one value per triplet, "
                                             r"shape \(3,\); got shape \(3, 2\)"):
            al.triplet_margin_loss(TA, TP, TN, distance=lambda u, v: u - v)
        # a callable that is the default p-norm gives the default loss
        _close(al.triplet_margin_loss(TA, TP, TN, distance=lambda u, v: np.linalg.norm(
            u - v + 1e-6, axis=-1)), al.triplet_margin_loss(TA, TP, TN))
