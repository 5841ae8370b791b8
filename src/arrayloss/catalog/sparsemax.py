"""Catalogue records of the sparsemax losses (``arrayloss.losses.sparsemax``): the binary
sparsemax loss and the multi-class sparsemax loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed, yardstick
from . import _figures as FIG
from ._classes import (
    _BAD_LABELS,
    _CLASS_BAD_OPTIONS,
    _CLASS_INPUTS,
    Arrays,
    _arrays,
    _binary_bad_shape,
    _class_axis,
    _class_bad_shape,
    _const,
    _no,
    _rand_labels,
    _reduce_any,
    _sized_class,
    _uniform,
)

_Z = np.array([2.0, -1.0, 0.5, -3.0, 0.2])


_YB = np.array([1.0, 0.0, 0.0, 1.0, 1.0])


_S = np.array([[2.0, 1.5, -1.0], [0.2, 0.1, 0.3], [-0.5, -2.0, -1.0], [0.0, 0.0, 0.0]])


_YS = np.array([0, 1, 0, 2])


def _ref_sparsemax(pred: np.ndarray, target: np.ndarray, *, reduction: str = "mean",
                   weight: np.ndarray | None = None) -> np.ndarray:
    s = np.where(np.asarray(target) != 0, -pred, pred)
    loss = np.piecewise(s, [s <= -1, (s > -1) & (s < 1), s >= 1],
                        [0.0, lambda v: (v + 1) ** 2 / 4, lambda v: v])
    return np_reduce(loss, reduction, weight)


def _np_sparsemax_threshold(row: np.ndarray) -> float:
    """tau of sparsemax: the largest support size k with 1 + k z_(k) > sum of the top k."""
    zs = np.sort(row)[::-1]
    k = max(i + 1 for i in range(len(zs)) if 1 + (i + 1) * zs[i] > zs[:i + 1].sum())
    return float((zs[:k].sum() - 1) / k)


def _ref_multiclass_sparsemax(pred: np.ndarray, target: np.ndarray, *, axis: int = -1,
                              class_weight: Any = None, ignore_index: int | None = None,
                              reduction: str = "mean", weight: np.ndarray | None = None
                              ) -> np.ndarray:
    # the support form 0.5 sum_{j in S} (z_j^2 - tau^2) - z_y + 0.5
    (z,) = _class_axis(np.asarray(pred, np.float64), axis)
    c = z.shape[-1]
    rows, labels = z.reshape(-1, c), np.asarray(target).reshape(-1)
    cw = np.ones(c) if class_weight is None else np.asarray(class_weight, np.float64)
    loss = np.zeros(rows.shape[0])
    count = 0.0
    for i, (r, y) in enumerate(zip(rows, labels)):
        if ignore_index is not None and y == ignore_index:
            continue
        tau = _np_sparsemax_threshold(r)
        sup = r[r > tau]
        loss[i] = cw[y] * (0.5 * np.sum(sup**2 - tau**2) - r[y] + 0.5)
        count += cw[y]
    return np_reduce(loss.reshape(z.shape[:-1]), reduction, weight, count=count)


def _optax_sparsemax(pred: Any, target: Any, *, weight: Any = None,
                     reduction: str = "mean") -> Any:
    import optax

    return _reduce_any(optax.losses.sparsemax_loss(pred, target), reduction, weight)


def _optax_multiclass_sparsemax(pred: Any, target: Any, *, axis: int = -1, weight: Any = None,
                                reduction: str = "mean") -> Any:
    """optax takes 2-D scores only: the other axes are flattened into rows."""
    import jax.numpy as jnp
    import optax

    z = jnp.moveaxis(pred, axis, -1)
    c = z.shape[-1]
    out = optax.losses.multiclass_sparsemax_loss(z.reshape(-1, c), target.reshape(-1))
    return _reduce_any(out.reshape(target.shape), reduction, weight)


def _rand_binary_labels(shape: tuple[int, ...]) -> Callable[..., Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        return rng.normal(size=shape) * 2.0, (rng.uniform(size=shape) < 0.5).astype(np.float64)

    return make


def _sized_binary_labels(rng: np.random.Generator, n: int) -> Arrays:
    return rng.normal(size=(n,)), (rng.uniform(size=(n,)) < 0.5).astype(np.float64)


def _perfect_binary_labels(args: Arrays) -> Arrays:
    return 2.0 * (2.0 * args[1] - 1.0), args[1]


def _perfect_multiclass(args: Arrays) -> Arrays:
    z, y = args
    return 2.0 * np.eye(z.shape[-1])[y], y


RECORDS = [
    Record(
        name="sparsemax_loss",
        family="sparsemax",
        fn=L.sparsemax_loss,
        inputs="pred: logits; target: same-shape binary labels ({0, 1} or bool)",
        kind="multi_hot",
        cases=(
            # z = -1 with y = 0 sits where the quadratic piece starts: the first derivative
            # is continuous there, a central difference is not exact
            Case("catalogue-none", _const(_Z, _YB), {"reduction": "none"}, grad="autodiff",
                 expected=[0.0, 0.0, 0.5625, 3.0, 0.16]),
            Case("catalogue-bool", _const(_Z, _YB > 0), grad="autodiff", expected=0.7445),
            Case("random-weight-sum", _rand_binary_labels((3, 4)), {"reduction": "sum"},
                 arrays=_arrays(weight=_uniform((4,)))),
            Case("saturated", _const(np.array([1e4, -1e4, 1e4, -1e4]),
                                     np.array([1.0, 0.0, 0.0, 1.0])),
                 {"reduction": "none"}, grad="finite", expected=[0.0, 0.0, 1e4, 1e4]),
            Case("empty", _const(np.zeros((0,)), np.zeros((0,))), expected=0.0, peers=False),
        ),
        reference=_ref_sparsemax,
        peers=(
            Peer("optax.losses.sparsemax_loss", "jax", _optax_sparsemax, "optax", jit=True),
        ),
        bad_values=(BadValue("target", _const(_Z, np.array([1.0, 0.0, 0.5, 1.0, 0.0]))),
                    BadValue("target", _const(_Z, np.array([1.0, -1.0, 0.0, 1.0, 0.0])))),
        bad_shape=_binary_bad_shape,
        perfect=_perfect_binary_labels,
        sized=_sized_binary_labels,
    ),
    Record(
        name="multiclass_sparsemax_loss",
        family="sparsemax",
        fn=L.multiclass_sparsemax_loss,
        inputs=_CLASS_INPUTS,
        kind="class_logits",
        cases=(
            Case("catalogue-none", _const(_S, _YS), {"reduction": "none"},
                 expected=[0.0625, 0.4433333, 0.0625, 0.3333333]),
            Case("catalogue-mean", _const(_S, _YS), expected=0.2254167),
            Case("random-axis1-ignore-class-weight", _rand_labels((2, 4, 3), axis=1, ignore=-1),
                 {"axis": 1, "ignore_index": -1},
                 arrays=_arrays(class_weight=_uniform((4,), 0.5, 2.0),
                                weight=_uniform((2, 3)))),
            Case("random-rank3-sum", _rand_labels((2, 3, 5)), {"reduction": "sum"}),
            Case("ties", _const(np.array([[1.0, 1.0, 0.0], [3.0, 3.0, 3.0]]), np.array([0, 2])),
                 {"reduction": "none"}, grad="finite", expected=[0.25, 1.0 / 3.0]),
            Case("saturated", _const(np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4]]),
                                     np.array([0, 2])),
                 {"reduction": "none"}, grad="finite", expected=[0.0, 2e4]),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0,), dtype=np.int64)),
                 expected=0.0, peers=False),
        ),
        reference=_ref_multiclass_sparsemax,
        peers=(
            Peer("optax.losses.multiclass_sparsemax_loss", "jax", _optax_multiclass_sparsemax,
                 "optax", accepts=_no("ignore_index", "class_weight"), jit=True),
        ),
        bad_options=(({"class_weight": np.ones(7)}, "class_weight"),
                     ({"class_weight": np.array([1.0, -1.0, 1.0])}, "class_weight"),
                     *_CLASS_BAD_OPTIONS),
        bad_values=_BAD_LABELS,
        bad_shape=_class_bad_shape,
        perfect=_perfect_multiclass,
        sized=_sized_class,
    ),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_sparsemax(z: np.ndarray, y: np.ndarray) -> Any:
    s = np.where(y != 0, -z, z)
    return np.mean(np.where(s >= 1, s, (np.clip(s, -1, 1) + 1) ** 2 / 4))


def _hw_multiclass_sparsemax(z: np.ndarray, y: np.ndarray) -> Any:
    zs = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    cs = np.cumsum(zs, axis=-1)
    kstar = np.sum(1 + k * zs > cs, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cs, kstar - 1, axis=-1) - 1) / kstar
    p = np.maximum(z - tau, 0)
    zy = np.take_along_axis(z, y[:, None], axis=-1)[:, 0]
    return np.mean(np.sum(p * z, axis=-1) - zy + 0.5 * (1 - np.sum(p * p, axis=-1)))


RECORDS = timed(RECORDS, {
    "sparsemax_loss": {"peers": (yardstick(_hw_sparsemax),)},
    "multiclass_sparsemax_loss": {"peers": (yardstick(_hw_multiclass_sparsemax),)},
})

RECORDS = drawn(RECORDS, {
    "sparsemax_loss": Figure("logit (target 1)", (-3.0, 3.0), FIG.positive),
    "multiclass_sparsemax_loss": Figure("score of the label minus the other classes'",
                                        (-3.0, 3.0), FIG.score_gap),
})
