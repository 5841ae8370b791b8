"""Hypothesis properties of every registered loss, drawn per input kind.

``STRATEGIES`` maps a record's ``kind`` to a strategy of positional-argument tuples (float64
NumPy). Properties: non-negative values, zero at a perfect prediction (``record.perfect``),
symmetry in the first two arguments (``record.symmetric``). Each runs on NumPy, eager torch,
JAX and array-api-strict.
"""

from __future__ import annotations

from collections.abc import Callable

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrayloss import catalog
from arrayloss.testing import backends
from conftest import require_backend

_FLOATS = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False, width=64)


@st.composite
def _elementwise(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    pred = draw(hnp.arrays(np.float64, shape, elements=_FLOATS))
    target = draw(hnp.arrays(np.float64, shape, elements=_FLOATS))
    return pred, target


_NONNEG = st.floats(0.0, 1e3, allow_nan=False, allow_subnormal=False, width=64)


@st.composite
def _nonnegative(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Same-shape predictions and targets in [0, 1e3] (counts, prices: 0 included)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    return (draw(hnp.arrays(np.float64, shape, elements=_NONNEG)),
            draw(hnp.arrays(np.float64, shape, elements=_NONNEG)))


@st.composite
def _mean_var(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Means and observations in [-1e3, 1e3] and same-shape variances in [0, 1e3]."""
    pred, target = draw(_elementwise())
    return pred, target, draw(hnp.arrays(np.float64, pred.shape, elements=_NONNEG))


@st.composite
def _boxes(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Aligned pairs of xyxy boxes ``(..., 4)``: corners in [-1e3, 1e3], sides in
    [0.5, 1e3] (overlapping, nested and disjoint pairs; no zero-area box, so identical
    boxes give about eps / area)."""
    lead = draw(st.sampled_from([(5,), (2, 3)]))  # few shapes: eager JAX compiles per shape
    sides = st.floats(0.5, 1e3, allow_nan=False, allow_subnormal=False, width=64)

    def corners() -> np.ndarray:
        xy = draw(hnp.arrays(np.float64, (*lead, 2), elements=_FLOATS))
        wh = draw(hnp.arrays(np.float64, (*lead, 2), elements=sides))
        return np.concatenate([xy, xy + wh], axis=-1)

    return corners(), corners()


# --- kinds of the binary, categorical, margin and embedding losses

_LOGITS = st.floats(-50.0, 50.0, allow_nan=False, allow_subnormal=False, width=64)
_UNIT = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False, width=64)


def _np_log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


@st.composite
def _class_shape(draw: st.DrawFn) -> tuple[int, int]:
    return draw(st.integers(1, 5)), draw(st.integers(1, 5))


def _rows(draw: st.DrawFn, shape: tuple[int, int]) -> np.ndarray:
    """Probability rows summing to 1 (exact zeros and one-hot rows included)."""
    w = draw(hnp.arrays(np.float64, shape, elements=_UNIT))
    w[:, 0] += 1e-3  # no all-zero row
    return w / w.sum(axis=-1, keepdims=True)


@st.composite
def _distribution(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Probabilities ``(N, C)``, rows summing to 1."""
    return (_rows(draw, draw(_class_shape())),)


@st.composite
def _binary_prob(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Probabilities and same-shape (soft) targets, both in [0, 1] including 0 and 1."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    return (draw(hnp.arrays(np.float64, shape, elements=_UNIT)),
            draw(hnp.arrays(np.float64, shape, elements=_UNIT)))


@st.composite
def _binary_logits(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Logits in [-1e3, 1e3] and same-shape (soft) targets in [0, 1]."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    return (draw(hnp.arrays(np.float64, shape, elements=_FLOATS)),
            draw(hnp.arrays(np.float64, shape, elements=_UNIT)))


@st.composite
def _class_logits(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Logits ``(N, C)`` in [-1e3, 1e3] and integer labels ``(N,)`` in [0, C)."""
    n, c = draw(_class_shape())
    z = draw(hnp.arrays(np.float64, (n, c), elements=_FLOATS))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return z, y


@st.composite
def _log_dist(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """``log Q`` (log-softmax of logits) and ``P`` (softmax, possibly with exact zeros)."""
    shape = draw(_class_shape())
    log_q = _np_log_softmax(draw(hnp.arrays(np.float64, shape, elements=_LOGITS)))
    return log_q, _rows(draw, shape)


@st.composite
def _signed(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Scores in [-1e3, 1e3] and same-shape labels in {-1, +1}."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    f = draw(hnp.arrays(np.float64, shape, elements=_FLOATS))
    y = draw(hnp.arrays(np.int64, shape, elements=st.sampled_from([-1, 1])))
    return f, y


@st.composite
def _multi_hot(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Scores in [-1e3, 1e3] and same-shape binary (multi-hot) labels {0, 1} as floats."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    f = draw(hnp.arrays(np.float64, shape, elements=_FLOATS))
    y = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    return f, y


@st.composite
def _center(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Features ``(N, D)``, integer labels ``(N,)`` in [0, K) and centers ``(K, D)``."""
    n, d, k = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(hnp.arrays(np.float64, (n, d), elements=_FLOATS))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return x, y, draw(hnp.arrays(np.float64, (k, d), elements=_FLOATS))


@st.composite
def _linear_logits(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Features ``(N, D)``, a projection ``(C, D)`` and integer labels ``(N,)`` in [0, C)
    (entries in [-30, 30]: logits up to a few thousand)."""
    n, c = draw(_class_shape())
    d = draw(st.integers(1, 3))
    small = st.floats(-30.0, 30.0, allow_nan=False, allow_subnormal=False, width=64)
    x = draw(hnp.arrays(np.float64, (n, d), elements=small))
    w = draw(hnp.arrays(np.float64, (c, d), elements=small))
    return x, w, draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))


# few shapes for the pair and triplet kinds: eager JAX compiles per shape
_VECTOR_SHAPES = st.sampled_from([(1, 1), (4, 3), (2, 3, 2)])
_SCORE_SHAPES = st.sampled_from([(1,), (5,), (2, 3)])


def _vector_shape(draw: st.DrawFn) -> tuple[int, ...]:
    """``(N, D)`` or ``(B, N, D)``: vectors on the last axis."""
    return draw(_VECTOR_SHAPES)


def _pm1(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    return draw(hnp.arrays(np.int64, shape, elements=st.sampled_from([-1, 1])))


@st.composite
def _vector_pairs(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Two same-shape arrays of vectors ``(..., D)`` in [-1e3, 1e3]."""
    shape = _vector_shape(draw)
    return tuple(draw(hnp.arrays(np.float64, shape, elements=_FLOATS)) for _ in range(2))


@st.composite
def _embedding_pairs(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Two same-shape arrays of vectors ``(..., D)`` in [-1e3, 1e3] and one {-1, +1} label
    per pair."""
    shape = _vector_shape(draw)
    return (draw(hnp.arrays(np.float64, shape, elements=_FLOATS)),
            draw(hnp.arrays(np.float64, shape, elements=_FLOATS)), _pm1(draw, shape[:-1]))


@st.composite
def _score_pairs(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Two same-shape score arrays in [-1e3, 1e3] and same-shape {-1, +1} labels."""
    shape = draw(_SCORE_SHAPES)
    return (draw(hnp.arrays(np.float64, shape, elements=_FLOATS)),
            draw(hnp.arrays(np.float64, shape, elements=_FLOATS)), _pm1(draw, shape))


@st.composite
def _signed_distances(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Distances in [0, 1e3] and same-shape {-1, +1} labels."""
    shape = draw(_SCORE_SHAPES)
    return draw(hnp.arrays(np.float64, shape, elements=_NONNEG)), _pm1(draw, shape)


@st.composite
def _triplets(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Anchors, positives and negatives: same-shape vectors ``(..., D)`` in [-1e3, 1e3]."""
    shape = _vector_shape(draw)
    return tuple(draw(hnp.arrays(np.float64, shape, elements=_FLOATS)) for _ in range(3))
# --- kinds of the contrastive and ranking losses


@st.composite
def _embedding_groups(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Embeddings ``(N, D)`` in [-1e3, 1e3] (zero vectors included) and integer group
    labels ``(N,)`` in [0, 3) (batches with and without positive pairs); a few shapes only
    (eager JAX compiles per shape)."""
    n, d = draw(st.sampled_from([(1, 2), (4, 3), (6, 2)]))
    return (draw(hnp.arrays(np.float64, (n, d), elements=_FLOATS)),
            draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 2))))


@st.composite
def _ranking(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Scores ``(N, L)`` in [-1e3, 1e3] and graded relevance in [0, 1e3] of the same shape."""
    shape = draw(st.sampled_from([(1, 3), (2, 4), (3, 1)]))
    return (draw(hnp.arrays(np.float64, shape, elements=_FLOATS)),
            draw(hnp.arrays(np.float64, shape, elements=_NONNEG)))


# --- kinds of the overlap and Lovász losses


@st.composite
def _segmentation_probabilities(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Probabilities ``(B, H, W, C)`` in [0, 1] (0 and 1 included, rows not normalised) and
    integer labels ``(B, H, W)``; a few shapes only (eager JAX compiles per shape)."""
    b, h, w, c = draw(st.sampled_from([(1, 2, 3, 2), (2, 3, 3, 3), (3, 1, 4, 4)]))
    unit = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False, width=64)
    return (draw(hnp.arrays(np.float64, (b, h, w, c), elements=unit)),
            draw(hnp.arrays(np.int64, (b, h, w), elements=st.integers(0, c - 1))))


@st.composite
def _segmentation_binary_logits(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Logits ``(B, H, W)`` and binary labels of the same shape."""
    shape = draw(st.sampled_from([(1, 2, 3), (2, 3, 3), (3, 1, 4)]))
    return (draw(hnp.arrays(np.float64, shape, elements=_FLOATS)),
            draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 1))))


# --- kind of the sequence losses


@st.composite
def _sequence(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Logits ``(B, T, C)`` in [-50, 50] and labels ``(B, S)`` in [1, C) (blank 0), with
    ``T >= 2 S`` so every sequence has an alignment; a few shapes only (eager JAX compiles
    per shape)."""
    b, t, c, s = draw(st.sampled_from([(1, 4, 3, 2), (2, 5, 4, 2), (3, 3, 2, 1)]))
    return (draw(hnp.arrays(np.float64, (b, t, c), elements=_LOGITS)),
            draw(hnp.arrays(np.int64, (b, s), elements=st.integers(1, c - 1))))


STRATEGIES: dict[str, Callable[[], st.SearchStrategy]] = {
    "elementwise": _elementwise,
    "nonnegative": _nonnegative,
    "mean_var": _mean_var,
    "boxes": _boxes,
    "distribution": _distribution,
    "binary_prob": _binary_prob,
    "binary_logits": _binary_logits,
    "class_logits": _class_logits,
    "log_dist": _log_dist,
    "signed": _signed,
    "multi_hot": _multi_hot,
    "center": _center,
    "linear_logits": _linear_logits,
    "vector_pairs": _vector_pairs,
    "embedding_pairs": _embedding_pairs,
    "score_pairs": _score_pairs,
    "signed_distances": _signed_distances,
    "triplets": _triplets,
    "embedding_groups": _embedding_groups,
    "ranking": _ranking,
    "segmentation-probabilities": _segmentation_probabilities,
    "segmentation-binary-logits": _segmentation_binary_logits,
    "sequence": _sequence,
}

RECORDS = catalog.records()
BACKENDS = ["numpy", "torch", "jax", "array_api_strict"]
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# eager JAX compiles every operation for every new shape: fewer examples there (the same
# properties run with 25 on the other backends)
JAX_SETTINGS = settings(SETTINGS, max_examples=3)


def _settings(backend_id: str) -> settings:
    return JAX_SETTINGS if backend_id == "jax" else SETTINGS


def _run(backend: backends.Backend, record: catalog.Record, args: tuple, **options: object):
    conv, _ = backend.convert(args, {}, "float64")
    return backend.to_numpy(record.fn(*conv, **options))


def test_every_kind_has_a_strategy() -> None:
    missing = {r.kind for r in RECORDS} - set(STRATEGIES)
    assert not missing, f"no Hypothesis strategy for input kinds {missing}"


@pytest.mark.parametrize("record", [pytest.param(r, id=r.name) for r in RECORDS
                                    if r.nonnegative])
@pytest.mark.parametrize("backend_id", BACKENDS)
def test_nonnegative(backend_id: str, record: catalog.Record) -> None:
    backend = require_backend(backends.by_id(backend_id))

    @_settings(backend_id)
    @given(STRATEGIES[record.kind]())
    def check(args: tuple) -> None:
        out = _run(backend, record, args, reduction="none") if record.reduces else \
            _run(backend, record, args)
        assert np.all(out >= -1e-12), out
        assert np.all(np.isfinite(out)), out

    check()


@pytest.mark.parametrize("record", [pytest.param(r, id=r.name) for r in RECORDS if r.perfect])
@pytest.mark.parametrize("backend_id", BACKENDS)
def test_zero_at_perfect_prediction(backend_id: str, record: catalog.Record) -> None:
    backend = require_backend(backends.by_id(backend_id))

    @_settings(backend_id)
    @given(STRATEGIES[record.kind]())
    def check(args: tuple) -> None:
        out = _run(backend, record, record.perfect(args))
        np.testing.assert_allclose(out, 0.0, atol=1e-6)

    check()


@pytest.mark.parametrize("record", [pytest.param(r, id=r.name) for r in RECORDS
                                    if r.symmetric])
@pytest.mark.parametrize("backend_id", BACKENDS)
def test_symmetric(backend_id: str, record: catalog.Record) -> None:
    backend = require_backend(backends.by_id(backend_id))

    @_settings(backend_id)
    @given(STRATEGIES[record.kind]())
    def check(args: tuple) -> None:
        a = _run(backend, record, args, reduction="none")
        b = _run(backend, record, (args[1], args[0], *args[2:]), reduction="none")
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)

    check()


#: kinds whose losses treat the batch as a set (every sample compared with every other)
BATCH_KINDS = ("embedding_groups",)


@pytest.mark.parametrize("record", [pytest.param(r, id=r.name) for r in RECORDS
                                    if r.kind in BATCH_KINDS])
@pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax"])
def test_batch_permutation_equivariance(backend_id: str, record: catalog.Record) -> None:
    """Permuting the embeddings and their labels together permutes the per-anchor losses
    and leaves the mean and the sum unchanged."""
    backend = require_backend(backends.by_id(backend_id))

    @_settings(backend_id)
    @given(STRATEGIES[record.kind](), st.randoms(use_true_random=False))
    def check(args: tuple, rnd: object) -> None:
        perm = np.array(rnd.sample(range(len(args[1])), len(args[1])))  # type: ignore[attr-defined]
        moved = tuple(a[perm] for a in args)
        np.testing.assert_allclose(_run(backend, record, moved, reduction="none"),
                                   _run(backend, record, args, reduction="none")[perm],
                                   rtol=1e-9, atol=1e-9)
        for reduction in ("mean", "sum"):
            np.testing.assert_allclose(_run(backend, record, moved, reduction=reduction),
                                       _run(backend, record, args, reduction=reduction),
                                       rtol=1e-9, atol=1e-9)

    check()
