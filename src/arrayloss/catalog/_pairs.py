"""Catalogue records of the pairwise and triplet embedding losses (listed by
``catalog.embedding``): cosine distance, cosine embedding, margin ranking, hinge embedding and
triplet margin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Peer, Record, np_reduce, timed, yardstick
from ._classes import Arrays, _arrays, _const, _no, _reduce_any, _uniform

# the catalogue's pairs of vectors (row 2 of _A is the zero vector) and pair labels
_A = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 2.0]])
_B = np.array([[0.0, 1.0], [2.0, 2.0], [1.0, 0.0], [-1.0, 1.0]])
_YC = np.array([1.0, -1.0, 1.0, -1.0])
# scores and labels of the ranking example, distances and labels of the hinge example
_X1, _X2 = np.array([0.5, 1.0, -0.2, 2.0]), np.array([1.0, 0.2, -0.1, 2.0])
_YR = np.array([1.0, 1.0, -1.0, -1.0])
_XD = np.array([0.3, 1.5, 0.2, 2.0])
# triplets: anchors, positives (row 2 equals its anchor), negatives
_TA = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, -0.5]])
_TP = np.array([[0.1, 0.1], [1.1, 1.1], [0.5, -0.5]])
_TN = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, -0.4]])


# --- makers


def _rand_pairs(shape: tuple[int, ...], labels: str | None = "float", axis: int = -1
                ) -> Callable[..., Arrays]:
    """Two arrays of vectors of ``shape`` and, when ``labels``, one {-1, +1} label per pair
    (``"float"``, ``"int"`` or ``"bool"``); cosines stay away from the hinge's kinks."""

    def make(rng: np.random.Generator) -> Arrays:
        x1, x2 = rng.normal(size=shape), rng.normal(size=shape)
        if labels is None:
            return x1, x2
        lshape = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
        y = np.where(rng.uniform(size=lshape) < 0.5, -1.0, 1.0)
        y = y > 0 if labels == "bool" else y.astype(np.int64) if labels == "int" else y
        return x1, x2, y

    return make


def _rand_ranking(shape: tuple[int, ...], labels: str = "float") -> Callable[..., Arrays]:
    """Scores whose margins ``y (x1 - x2)`` stay >= 0.05 away from the kinks 0 and 0.5."""

    def make(rng: np.random.Generator) -> Arrays:
        y = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
        m = rng.uniform(-2.0, 2.0, size=shape)
        for k in (0.0, 0.5):
            m = np.where(np.abs(m - k) < 0.05, k + 0.1, m)
        x2 = rng.normal(size=shape)
        return x2 + y * m, x2, (y.astype(np.int64) if labels == "int" else y)

    return make


def _rand_distances(shape: tuple[int, ...], labels: str = "int") -> Callable[..., Arrays]:
    """Distances in [0, 3] away from the margins 1 and 0.5; labels in {-1, +1} (``"int"``)
    or bool."""

    def make(rng: np.random.Generator) -> Arrays:
        x = rng.uniform(0.0, 3.0, size=shape)
        for k in (1.0, 0.5):
            x = np.where(np.abs(x - k) < 0.05, k + 0.1, x)
        y = np.where(rng.uniform(size=shape) < 0.5, -1, 1)
        return x, (y > 0 if labels == "bool" else y)

    return make


def _rand_triplets(shape: tuple[int, ...]) -> Callable[..., Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        a = rng.normal(size=shape)
        return a, a + 0.5 * rng.normal(size=shape), a + rng.normal(size=shape)

    return make


def _sized_vectors(k: int, labels: bool = False) -> Callable[[np.random.Generator, int], Arrays]:
    def make(rng: np.random.Generator, n: int) -> Arrays:
        m = max(n // 64, 1)
        out = tuple(rng.normal(size=(m, 64)) for _ in range(k))
        return (*out, np.where(rng.uniform(size=(m,)) < 0.5, -1.0, 1.0)) if labels else out

    return make


def _sized_scores(rng: np.random.Generator, n: int) -> Arrays:
    return (rng.normal(size=(n,)), *_sized_distances(rng, n))  # x2 >= 0 does not matter


def _sized_distances(rng: np.random.Generator, n: int) -> Arrays:
    return rng.uniform(0.0, 2.0, size=(n,)), np.where(rng.uniform(size=(n,)) < 0.5, -1.0, 1.0)


def _nonzero_rows(x: np.ndarray) -> np.ndarray:
    """``x`` with rows too small to square (or zero) replaced by ones."""
    return np.where(np.max(np.abs(x), axis=-1, keepdims=True) < 1e-3, 1.0, x)


def _perfect_cosine(args: Arrays) -> Arrays:
    u = _nonzero_rows(args[1])
    return 2.0 * u, u


def _perfect_cosine_pairs(args: Arrays) -> Arrays:
    u = _nonzero_rows(args[0])
    y = np.where(np.asarray(args[2]) > 0, 1.0, -1.0)
    return u, y[..., None] * u, y


def _perfect_ranking(args: Arrays) -> Arrays:
    y = np.where(np.asarray(args[2]) > 0, 1.0, -1.0)
    return args[1] + y, args[1], y


def _perfect_distances(args: Arrays) -> Arrays:
    y = np.where(np.asarray(args[1]) > 0, 1.0, -1.0)
    return np.where(y > 0, 0.0, 2.0), y


def _perfect_triplets(args: Arrays) -> Arrays:
    return args[0], args[0], args[0] + 10.0


# --- float64 references


def _np_cos(x: np.ndarray, y: np.ndarray, axis: int = -1, eps: float = 1e-8) -> np.ndarray:
    nx = np.maximum(np.sqrt(np.sum(x * x, axis=axis)), eps)
    ny = np.maximum(np.sqrt(np.sum(y * y, axis=axis)), eps)
    return np.sum(x * y, axis=axis) / (nx * ny)


def _signed(y: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(y).astype(np.float64) > 0, 1.0, -1.0)


def _ref_cosine_distance(pred: np.ndarray, target: np.ndarray, *, axis: int = -1,
                         eps: float = 1e-8, reduction: str = "mean",
                         weight: np.ndarray | None = None) -> np.ndarray:
    return np_reduce(1.0 - _np_cos(pred, target, axis, eps), reduction, weight)


def _ref_cosine_embedding(x1: np.ndarray, x2: np.ndarray, target: np.ndarray, *,
                          margin: float = 0.0, axis: int = -1, eps: float = 1e-8,
                          reduction: str = "mean", weight: np.ndarray | None = None
                          ) -> np.ndarray:
    cos = _np_cos(x1, x2, axis, eps)
    loss = np.where(_signed(target) > 0, 1.0 - cos, np.maximum(cos - margin, 0.0))
    return np_reduce(loss, reduction, weight)


def _ref_margin_ranking(x1: np.ndarray, x2: np.ndarray, target: np.ndarray, *,
                        margin: float = 0.0, reduction: str = "mean",
                        weight: np.ndarray | None = None) -> np.ndarray:
    return np_reduce(np.maximum(margin - _signed(target) * (x1 - x2), 0.0), reduction, weight)


def _ref_hinge_embedding(pred: np.ndarray, target: np.ndarray, *, margin: float = 1.0,
                         reduction: str = "mean", weight: np.ndarray | None = None
                         ) -> np.ndarray:
    loss = np.where(_signed(target) > 0, pred, np.maximum(margin - pred, 0.0))
    return np_reduce(loss, reduction, weight)


def _ref_triplet(a: np.ndarray, p_: np.ndarray, n: np.ndarray, *, margin: float = 1.0,
                 p: float = 2.0, eps: float = 1e-6, swap: bool = False, distance: Any = None,
                 axis: int = -1, reduction: str = "mean", weight: np.ndarray | None = None
                 ) -> np.ndarray:
    def d(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        if distance == "cosine":
            return 1.0 - _np_cos(u, v, axis)
        if distance is not None:
            return np.asarray(distance(u, v), np.float64)
        return np.sum(np.abs(u - v + eps) ** p, axis=axis) ** (1.0 / p)

    d_an = np.minimum(d(a, n), d(p_, n)) if swap else d(a, n)
    return np_reduce(np.maximum(d(a, p_) - d_an + margin, 0.0), reduction, weight)


def squared_euclidean(u: Any, v: Any) -> Any:
    """A caller's distance written with the array API: ``sum_k (u_k - v_k)^2`` along the last
    axis (on any backend, under any compiler)."""
    import array_api_compat

    xp = array_api_compat.array_namespace(u, v)
    return xp.sum((u - v) ** 2, axis=-1)


# --- peers


def _torch_label(target: Any, like: Any) -> Any:
    return (2.0 * (target > 0) - 1.0).to(like.dtype)


def _torch_cosine_distance(pred: Any, target: Any, *, axis: int = -1, eps: float = 1e-8,
                           weight: Any = None, reduction: str = "mean") -> Any:
    import torch.nn.functional as F

    out = 1.0 - F.cosine_similarity(pred, target, dim=axis, eps=eps)
    return _reduce_any(out, reduction, weight)


def _optax_cosine_distance(pred: Any, target: Any, *, axis: int = -1, eps: float = 1e-8,
                           weight: Any = None, reduction: str = "mean") -> Any:
    import optax

    out = optax.losses.cosine_distance(pred, target, epsilon=eps**2, axis=axis)
    return _reduce_any(out, reduction, weight)


def _keras_cosine_distance(pred: Any, target: Any, *, axis: int = -1, eps: float = 1e-8,
                           weight: Any = None, reduction: str = "mean") -> Any:
    import keras

    # Keras returns -cos (its loss is minimised at -1)
    out = 1.0 + np.asarray(keras.ops.convert_to_numpy(
        keras.losses.cosine_similarity(target, pred, axis=axis)), np.float64)
    return _reduce_any(out, reduction, weight)


def _torch_cosine_embedding(x1: Any, x2: Any, target: Any, *, margin: float = 0.0,
                            eps: float = 1e-8, axis: int = -1, weight: Any = None,
                            reduction: str = "mean") -> Any:
    import torch.nn.functional as F

    out = F.cosine_embedding_loss(x1, x2, _torch_label(target, x1), margin=margin,
                                  reduction="none")
    return _reduce_any(out, reduction, weight)


def _torch_margin_ranking(x1: Any, x2: Any, target: Any, *, margin: float = 0.0,
                          weight: Any = None, reduction: str = "mean") -> Any:
    import torch.nn.functional as F

    out = F.margin_ranking_loss(x1, x2, _torch_label(target, x1), margin=margin,
                                reduction="none")
    return _reduce_any(out, reduction, weight)


def _torch_hinge_embedding(pred: Any, target: Any, *, margin: float = 1.0, weight: Any = None,
                           reduction: str = "mean") -> Any:
    import torch.nn.functional as F

    out = F.hinge_embedding_loss(pred, _torch_label(target, pred), margin=margin,
                                 reduction="none")
    return _reduce_any(out, reduction, weight)


def _torch_triplet(a: Any, pos: Any, neg: Any, *, margin: float = 1.0, p: float = 2.0,
                   eps: float = 1e-6, swap: bool = False, weight: Any = None,
                   reduction: str = "mean") -> Any:
    import torch.nn.functional as F

    out = F.triplet_margin_loss(a, pos, neg, margin=margin, p=p, eps=eps, swap=swap,
                                reduction="none")
    return _reduce_any(out, reduction, weight)


def _torch_triplet_distance(a: Any, pos: Any, neg: Any, *, distance: Any = None,
                            margin: float = 1.0, swap: bool = False, weight: Any = None,
                            reduction: str = "mean") -> Any:
    import torch.nn.functional as F

    fn = (lambda u, v: 1.0 - F.cosine_similarity(u, v)) if distance == "cosine" else distance
    out = F.triplet_margin_with_distance_loss(a, pos, neg, distance_function=fn, margin=margin,
                                              swap=swap, reduction="none")
    return _reduce_any(out, reduction, weight)


def _optax_triplet(a: Any, pos: Any, neg: Any, *, margin: float = 1.0, p: float = 2.0,
                   eps: float = 1e-6, weight: Any = None, reduction: str = "mean") -> Any:
    import optax

    out = optax.losses.triplet_margin_loss(a, pos, neg, norm_degree=p, margin=margin, eps=eps)
    return _reduce_any(out, reduction, weight)


# --- records

_SIGNED_BAD = "labels in {-1, +1} (any numeric dtype) or bool"


def _label_bad(*arrays: np.ndarray) -> tuple[BadValue, ...]:
    """The last array (the labels) with a 0, then with a 2."""
    *head, y = arrays
    zero, two = np.array(y, copy=True), np.array(y, copy=True)
    zero[1], two[1] = 0, 2
    return BadValue("target", _const(*head, zero)), BadValue("target", _const(*head, two))


RECORDS = [
    Record(
        name="cosine_distance_loss",
        family="embedding",
        fn=L.cosine_distance_loss,
        inputs="pred, target: same-shape vectors (..., D), features on `axis`",
        kind="vector_pairs",
        cases=(
            Case("catalogue-none", _const(_A, _B), {"reduction": "none"}, grad="finite",
                 expected=[1.0, 0.0, 1.0, 0.6837722]),
            Case("catalogue-mean", _const(_A, _B), grad="finite", expected=0.6709431),
            Case("random-axis0-weight", _rand_pairs((5, 3), labels=None), {"axis": 0},
                 arrays=_arrays(weight=_uniform((3,)))),
            Case("random-eps-sum", _rand_pairs((2, 4, 3), labels=None),
                 {"eps": 1e-6, "reduction": "sum"}),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0, 3))), expected=0.0, peers=False),
        ),
        reference=_ref_cosine_distance,
        peers=(
            Peer("1 - torch.nn.functional.cosine_similarity", "torch", _torch_cosine_distance,
                 "torch"),
            # optax floors squared norms (epsilon = eps^2)
            Peer("optax.losses.cosine_distance", "jax", _optax_cosine_distance, "optax",
                 jit=True),
            # Keras computes in float32 (and fails for axis=0 on 2-D input)
            Peer("1 + keras.losses.cosine_similarity", "numpy", _keras_cosine_distance, "keras",
                 accepts=_no(axis=-1), rtol=1e-5),
        ),
        bad_options=(({"eps": 0.0}, "eps"), ({"eps": "1e-8"}, "eps"), ({"axis": 2}, "axis")),
        bad_shape=lambda rng: (np.zeros((3, 2)), np.zeros((4, 2))),
        perfect=_perfect_cosine,
        symmetric=True,
        sized=_sized_vectors(2),
        notes="golden (peer): torch and optax float64",
    ),
    Record(
        name="cosine_embedding_loss",
        family="embedding",
        fn=L.cosine_embedding_loss,
        inputs="x1, x2: same-shape vectors (..., D), features on `axis`; target: one label per "
               "pair, " + _SIGNED_BAD,
        kind="embedding_pairs",
        cases=(
            Case("catalogue-none", _const(_A, _B, _YC), {"reduction": "none"}, grad="finite",
                 expected=[1.0, 1.0, 1.0, 0.3162278]),
            Case("catalogue-margin", _const(_A, _B, _YC), {"margin": 0.5}, grad="finite",
                 expected=0.625),
            Case("random-bool-weight", _rand_pairs((5, 3), labels="bool"),
                 {"margin": -0.2}, arrays=_arrays(weight=_uniform((5,)))),
            Case("random-int-axis0-sum", _rand_pairs((3, 4), labels="int", axis=0),
                 {"axis": 0, "reduction": "sum"}),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0,))),
                 expected=0.0, peers=False),
        ),
        reference=_ref_cosine_embedding,
        peers=(
            Peer("torch.nn.functional.cosine_embedding_loss", "torch", _torch_cosine_embedding,
                 "torch", accepts=_no(axis=-1)),
        ),
        bad_options=(({"margin": 1.5}, "margin"), ({"margin": -2.0}, "margin"),
                     ({"eps": -1.0}, "eps"), ({"axis": 3}, "axis")),
        bad_values=_label_bad(_A, _B, _YC),
        bad_shape=lambda rng: (np.zeros((3, 2)), np.zeros((4, 2)), np.ones((3,))),
        perfect=_perfect_cosine_pairs,
        symmetric=True,
        sized=_sized_vectors(2, labels=True),
        notes="golden (peer): torch float64; labels other than +-1 raise (torch gives 0)",
    ),
    Record(
        name="margin_ranking_loss",
        family="embedding",
        fn=L.margin_ranking_loss,
        inputs="x1, x2: same-shape scores; target: same-shape " + _SIGNED_BAD,
        kind="score_pairs",
        grad_args=(0, 1),
        cases=(
            Case("catalogue-none", _const(_X1, _X2, _YR), {"reduction": "none"},
                 expected=[0.5, 0.0, 0.0, 0.0], grad="finite"),
            Case("catalogue-margin", _const(_X1, _X2, _YR), {"margin": 0.5}, expected=0.475),
            Case("random-int-weight", _rand_ranking((3, 4), labels="int"), {"margin": 0.5},
                 arrays=_arrays(weight=_uniform((4,)))),
            Case("random-sum", _rand_ranking((6,)), {"reduction": "sum"}),
            Case("empty", _const(np.zeros((0,)), np.zeros((0,)), np.zeros((0,))),
                 expected=0.0, peers=False),
        ),
        reference=_ref_margin_ranking,
        peers=(
            Peer("torch.nn.functional.margin_ranking_loss", "torch", _torch_margin_ranking,
                 "torch"),
        ),
        bad_options=(({"margin": -0.5}, "margin"), ({"margin": "0"}, "margin")),
        bad_values=_label_bad(_X1, _X2, _YR),
        bad_shape=lambda rng: (np.zeros((3,)), np.zeros((4,)), np.ones((3,))),
        perfect=_perfect_ranking,
        sized=_sized_scores,
        notes="golden (peer): torch float64",
    ),
    Record(
        name="hinge_embedding_loss",
        family="embedding",
        fn=L.hinge_embedding_loss,
        inputs="pred: distances (>= 0 usually); target: same-shape " + _SIGNED_BAD,
        kind="signed_distances",
        cases=(
            Case("catalogue-none", _const(_XD, _YR), {"reduction": "none"},
                 expected=[0.3, 1.5, 0.8, 0.0]),
            Case("catalogue-margin", _const(_XD, _YR), {"margin": 0.5}, expected=0.525),
            Case("random-int-weight", _rand_distances((3, 4)), {"margin": 2.0},
                 arrays=_arrays(weight=_uniform((3, 1)))),
            Case("random-bool-sum", _rand_distances((5,), labels="bool"), {"reduction": "sum"}),
            Case("empty", _const(np.zeros((0,)), np.zeros((0,))), expected=0.0, peers=False),
        ),
        reference=_ref_hinge_embedding,
        peers=(
            Peer("torch.nn.functional.hinge_embedding_loss", "torch", _torch_hinge_embedding,
                 "torch"),
        ),
        bad_options=(({"margin": -1.0}, "margin"),),
        bad_values=_label_bad(_XD, _YR),
        bad_shape=lambda rng: (np.zeros((3, 4)), np.ones((4,))),
        perfect=_perfect_distances,
        sized=_sized_distances,
        notes="golden (peer): torch float64; labels other than +-1 raise (torch adds both "
              "terms)",
    ),
    Record(
        name="triplet_margin_loss",
        family="embedding",
        fn=L.triplet_margin_loss,
        inputs="anchor, positive, negative: same-shape vectors (..., D), features on `axis`",
        kind="triplets",
        grad_args=(0, 1, 2),
        cases=(
            Case("catalogue-none", _const(_TA, _TP, _TN), {"reduction": "none"}, grad="finite",
                 expected=[0.1414209, 0.1414189, 0.8585815]),
            Case("catalogue-eps0", _const(_TA, _TP, _TN), {"eps": 0.0, "reduction": "none"},
                 grad="finite", expected=[0.1414214, 0.1414214, 0.8585786]),
            Case("catalogue-p1", _const(_TA, _TP, _TN), {"p": 1.0, "reduction": "none"},
                 grad="finite", expected=[0.199998, 0.199996, 0.800004]),
            Case("catalogue-swap", _const(_TA, _TP, _TN), {"swap": True, "reduction": "none"},
                 grad="finite", expected=[0.2358823, 0.1414189, 0.8585815]),
            Case("catalogue-margin", _const(_TA, _TP, _TN), {"margin": 0.2, "reduction": "none"},
                 grad="finite", expected=[0.0, 0.0, 0.0585815]),
            Case("catalogue-cosine", _const(_TA[:2], _TP[:2], _TN[:2]),
                 {"distance": "cosine", "reduction": "none"}, grad="finite",
                 expected=[1.0, 0.7071068]),
            Case("random-p3-swap-weight", _rand_triplets((4, 3)),
                 {"p": 3.0, "swap": True, "margin": 2.0}, arrays=_arrays(weight=_uniform((4,)))),
            Case("random-callable-sum", _rand_triplets((5, 3)),
                 {"distance": squared_euclidean, "margin": 3.0, "reduction": "sum"}),
            Case("empty", _const(*(np.zeros((0, 3)),) * 3), expected=0.0, peers=False),
        ),
        reference=_ref_triplet,
        peers=(
            Peer("torch.nn.functional.triplet_margin_loss", "torch", _torch_triplet, "torch",
                 accepts=lambda o: o.get("distance") is None and o.get("axis", -1) == -1),
            Peer("torch.nn.functional.triplet_margin_with_distance_loss", "torch",
                 _torch_triplet_distance, "torch",
                 accepts=lambda o: o.get("distance") is not None and o.get("axis", -1) == -1),
            # optax adds eps inside the root and omits |.|: equal at eps 0 and even p
            Peer("optax.losses.triplet_margin_loss", "jax", _optax_triplet, "optax",
                 accepts=lambda o: o.get("eps", 1e-6) == 0.0 and o.get("p", 2.0) % 2 == 0
                 and not o.get("swap") and o.get("distance") is None, jit=True),
        ),
        bad_options=(({"margin": -1.0}, "margin"), ({"p": 0.5}, "p"), ({"eps": -1e-6}, "eps"),
                     ({"swap": 1}, "swap"), ({"distance": "euclidean"}, "distance"),
                     ({"distance": 2}, "distance"), ({"axis": 2}, "axis")),
        bad_shape=lambda rng: (np.zeros((3, 2)), np.zeros((4, 2)), np.zeros((3, 2))),
        perfect=_perfect_triplets,
        sized=_sized_vectors(3),
        notes="golden (peer): torch float64; optax agrees at eps=0 and even p",
    ),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_cosine_distance(x: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(1 - np.sum(x * y, -1) / (np.linalg.norm(x, axis=-1)
                                            * np.linalg.norm(y, axis=-1)))


def _hw_margin_ranking(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(np.maximum(-y * (x1 - x2), 0))


def _hw_triplet(a: np.ndarray, p: np.ndarray, n: np.ndarray) -> Any:
    d_ap = np.linalg.norm(a - p, axis=-1)
    d_an = np.linalg.norm(a - n, axis=-1)
    return np.mean(np.maximum(d_ap - d_an + 1.0, 0))


RECORDS = timed(RECORDS, {
    "cosine_distance_loss": {"peers": (yardstick(_hw_cosine_distance),)},
    "margin_ranking_loss": {"peers": (yardstick(_hw_margin_ranking),)},
    # eps 0: the optax peer computes the same distance
    "triplet_margin_loss": {"peers": (yardstick(_hw_triplet),), "options": {"eps": 0.0}},
})
