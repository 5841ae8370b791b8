"""Catalogue records of the embedding losses (``arrayloss.losses.embedding``): the center
loss and the centre update; the pair and triplet losses (``_pairs``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Record, drawn, np_reduce
from . import _figures as FIG
from ._classes import (
    Arrays,
    _arrays,
    _const,
    _uniform,
)
from ._pairs import RECORDS as _PAIR_RECORDS

_X = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])


_XL = np.array([0, 1, 0])


_CEN = np.array([[1.0, 1.0], [0.0, 0.0]])


def _rand_center(n: int, d: int, k: int, ignore: int | None = None) -> Callable[..., Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        y = rng.integers(0, k, size=(n,))
        if ignore is not None:
            y[1::3] = ignore
        return rng.normal(size=(n, d)), y, rng.normal(size=(k, d))

    return make


def _sized_center(rng: np.random.Generator, n: int) -> Arrays:
    m = max(n // 64, 1)
    return rng.normal(size=(m, 64)), rng.integers(0, 10, size=(m,)), rng.normal(size=(10, 64))


def _perfect_center(args: Arrays) -> Arrays:
    _, y, cen = args
    return cen[y].copy(), y, cen


def _ref_center(x: np.ndarray, y: np.ndarray, cen: np.ndarray, *,
                ignore_index: int | None = None, reduction: str = "mean",
                weight: np.ndarray | None = None) -> np.ndarray:
    loss = np.zeros(len(y))
    n = 0
    for i in range(len(y)):
        if ignore_index is not None and y[i] == ignore_index:
            continue
        n += 1
        loss[i] = 0.5 * np.sum((x[i] - cen[y[i]]) ** 2)
    return np_reduce(loss, reduction, weight, count=n)


def _ref_update_centers(x: np.ndarray, y: np.ndarray, cen: np.ndarray, *, alpha: float = 0.5,
                        ignore_index: int | None = None) -> np.ndarray:
    new = np.array(cen, dtype=np.float64, copy=True)
    for j in range(cen.shape[0]):
        sel = y == j
        delta = np.sum(cen[j] - x[sel], axis=0) / (1 + sel.sum())
        new[j] = cen[j] - alpha * delta
    return new


RECORDS = [
    Record(
        name="center_loss",
        family="embedding",
        fn=L.center_loss,
        inputs="features (N, D); labels (N,) integer in [0, K); centers (K, D)",
        kind="center",
        grad_args=(0, 2),
        cases=(
            Case("catalogue-sum", _const(_X, _XL, _CEN), {"reduction": "sum"}, expected=5.0),
            Case("random-ignore-none", _rand_center(6, 3, 4, ignore=-1),
                 {"ignore_index": -1, "reduction": "none"}),
            Case("random-weight", _rand_center(5, 2, 3), arrays=_arrays(weight=_uniform((5,)))),
            Case("empty", _const(np.zeros((0, 2)), np.zeros((0,), np.int64), _CEN), expected=0.0),
        ),
        reference=_ref_center,
        bad_options=(({"ignore_index": 0}, "ignore_index"),),
        bad_values=(BadValue("labels", _const(_X, np.array([0, 2, 1]), _CEN)),),
        bad_shape=lambda rng: (np.zeros((3, 2)), np.zeros((4,), np.int64), np.zeros((2, 2))),
        perfect=_perfect_center,
        sized=_sized_center,
        notes="golden (formula); keeps the paper's 1/2 factor",
    ),
    Record(
        name="update_centers",
        family="embedding",
        fn=L.update_centers,
        inputs="features (N, D); labels (N,) integer in [0, K); centers (K, D)",
        kind="center",
        grad_args=(),
        nonnegative=False,
        reduces=False,
        cases=(
            Case("catalogue", _const(_X, _XL, _CEN),
                 expected=[[1.3333333, 0.8333333], [0.0, 0.25]]),
            Case("random-ignore-alpha", _rand_center(7, 3, 4, ignore=-1),
                 {"alpha": 0.3, "ignore_index": -1}),
        ),
        reference=_ref_update_centers,
        bad_options=(({"alpha": 1.5}, "alpha"), ({"alpha": -0.1}, "alpha")),
        bad_values=(BadValue("labels", _const(_X, np.array([0, 2, 1]), _CEN)),),
        bad_shape=lambda rng: (np.zeros((3, 2)), np.zeros((4,), np.int64), np.zeros((2, 2))),
        sized=_sized_center,
        notes="an update rule, not a loss: values only",
    ),
    *_PAIR_RECORDS,
]

_COS = "cosine similarity"


def _centre(x: np.ndarray, v: object) -> Arrays:
    return x[:, None], np.zeros(len(x), dtype=np.int64), np.zeros((1, 1))


RECORDS = drawn(RECORDS, {
    "center_loss": Figure("feature minus its class centre", (-3.0, 3.0), _centre),
    "update_centers": Figure("feature (its centre at 0)", (-3.0, 3.0), _centre, "alpha",
                             (0.25, 0.5, 1.0), y="updated centre", batched=False),
    "cosine_distance_loss": Figure(_COS, (-1.0, 1.0), lambda x, v: (
        FIG.unit(x), np.tile([1.0, 0.0], (len(x), 1)))),
    "cosine_embedding_loss": Figure(_COS + " (dissimilar pair, target -1)", (-1.0, 1.0),
                                    lambda x, v: (FIG.unit(x), np.tile([1.0, 0.0], (len(x), 1)),
                                                  -np.ones(len(x))),
                                    "margin", (0.0, 0.25, 0.5)),
    "margin_ranking_loss": Figure("score difference x1 - x2 (target +1)", (-3.0, 3.0),
                                  lambda x, v: (x.copy(), 0 * x, np.ones_like(x)),
                                  "margin", (0.0, 0.5, 1.0)),
    "hinge_embedding_loss": Figure("distance (dissimilar pair, target -1)", (0.0, 3.0),
                                   lambda x, v: (x.copy(), -np.ones_like(x)),
                                   "margin", (0.5, 1.0, 2.0)),
    "triplet_margin_loss": Figure(
        "d(anchor, negative) - d(anchor, positive)", (-1.0, 3.0),
        lambda x, v: (np.zeros((len(x), 2)), np.tile([1.0, 0.0], (len(x), 1)),
                      np.stack([0 * x, 1 + x], axis=-1)),
        "margin", (0.5, 1.0, 2.0)),
})
