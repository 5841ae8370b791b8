"""Data, makers and helpers shared by several catalogue modules."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import BadValue
from ._common import np_softmax

Arrays = tuple[np.ndarray, ...]


# Shared data of the catalogue's classification examples.
_LG = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0]])


def _const(*arrays: np.ndarray) -> Callable[[np.random.Generator], Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        return tuple(np.array(a, copy=True) for a in arrays)

    return make


def _arrays(**makers: Callable[[np.random.Generator], np.ndarray]
            ) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {k: m(rng) for k, m in makers.items()}

    return make


def _uniform(shape: tuple[int, ...], lo: float = 0.0, hi: float = 2.0
             ) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.uniform(lo, hi, size=shape)


def _rand_labels(shape: tuple[int, ...], axis: int = -1, ignore: int | None = None,
                 dense: bool = False) -> Callable[..., Arrays]:
    """Logits of ``shape`` with classes on ``axis``; integer labels (a quarter of them
    ``ignore`` when given, at least one kept) or dense soft targets."""

    def make(rng: np.random.Generator) -> Arrays:
        z = rng.normal(size=shape) * 2.0
        c = shape[axis]
        if dense:
            return z, np_softmax(rng.normal(size=shape) * 2.0, axis)
        lshape = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
        y = rng.integers(0, c, size=lshape)
        if ignore is not None:
            drop = rng.uniform(size=lshape) < 0.25
            drop.flat[0] = False
            y = np.where(drop, ignore, y)
        return z, y

    return make


def _sized_class(rng: np.random.Generator, n: int) -> Arrays:
    c = 10
    return rng.normal(size=(max(n // c, 1), c)), rng.integers(0, c, size=(max(n // c, 1),))


def _class_axis(z: np.ndarray, axis: int | tuple[int, ...], *others: np.ndarray
                ) -> tuple[np.ndarray, ...]:
    """Move the class axis of ``z`` (and of same-shape ``others``) to the end; a tuple of
    class axes is moved there in its order and flattened in C order into one."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    k = len(axes)

    def last(a: np.ndarray) -> np.ndarray:
        a = np.moveaxis(a, axes, tuple(range(-k, 0)))
        return a.reshape((*a.shape[:a.ndim - k], math.prod(a.shape[a.ndim - k:])))

    return (last(z), *(last(o) if o.shape == z.shape else o for o in others))


def _torch_classes(pred: Any, target: Any, axis: int) -> tuple[Any, Any]:
    """Move the class axis to torch's dim 1 (and a dense target's with it)."""
    import torch

    dense = tuple(target.shape) == tuple(pred.shape)
    if pred.ndim > 1:
        pred = torch.movedim(pred, axis, 1)
        if dense:
            target = torch.movedim(target, axis, 1)
    return pred, target


def _reduce_any(loss: Any, reduction: str, weight: Any = None, count: Any = None) -> Any:
    """A peer's unreduced loss reduced the arrayloss way (mean over ``count``, default all)."""
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    n = math.prod(loss.shape) if count is None else count
    return loss.sum() if reduction == "sum" else loss.sum() / n


#: the catalogue's labels and soft targets for the 3 x 3 logits ``_LG``
_T = np.array([0, 1, 2])
_SOFT = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [1 / 3, 1 / 3, 1 / 3]])


def _no(*arrays: str, **values: Any) -> Callable[[Mapping[str, Any]], bool]:
    """``accepts``: none of the keyword ``arrays`` / options given, and each option of
    ``values`` at the given value (the default when absent)."""
    return lambda o: (all(n not in o for n in arrays)
                      and all(o.get(k, v) == v for k, v in values.items()))


_BAD_LABELS = (
    BadValue("target", _const(_LG, np.array([0, 3, 1]))),
    BadValue("target", _const(_LG, np.array([0, -1, 1]))),
)


_CLASS_BAD_OPTIONS: tuple[tuple[Mapping[str, Any], str], ...] = (
    ({"axis": 2}, "axis"), ({"ignore_index": 1}, "ignore_index"),
    ({"ignore_index": 1.5}, "ignore_index"),
)


def _class_bad_shape(rng: np.random.Generator) -> Arrays:
    return np.zeros((3, 4)), np.zeros((4,), dtype=np.int64)


def _binary_bad_shape(rng: np.random.Generator) -> Arrays:
    return np.zeros((3, 4)), np.zeros((4,))


_CLASS_INPUTS = ("pred: logits with classes on `axis`; target: integer labels (pred's shape "
                 "without axis)")
