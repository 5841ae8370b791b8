"""Data, makers and helpers shared by several catalogue modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import BadValue
from ._common import np_softmax

_LG4 = np.array([[[[2.0, 0.1], [0.3, -1.0]], [[0.5, 1.5], [0.2, 0.0]], [[-1.0, 0.2], [1.2, 2.0]]],
                 [[[0.1, 0.2], [0.3, 0.4]], [[1.0, -0.5], [0.0, 0.3]], [[0.2, 0.9], [-0.3, 1.1]]]])


_LG = np.moveaxis(_LG4, 1, -1)


LAB = np.array([[[0, 1], [2, 2]], [[1, 1], [1, 2]]])


_LAB_I = np.array([[[0, 1], [2, 255]], [[1, 1], [255, 2]]])


_BL = np.array([[[1.5, -0.5], [0.3, -2.0]], [[0.2, 0.4], [-1.0, -0.3]]])


_BT = np.array([[[1, 0], [1, 0]], [[0, 0], [0, 0]]])


PR = np_softmax(_LG)


def _fixed(*arrays: np.ndarray) -> Callable[[np.random.Generator], tuple[np.ndarray, ...]]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        return tuple(a.copy() for a in arrays)

    return make


def _random_labels(shape: tuple[int, ...], classes: int, axis: int = -1,
                   logits: bool = False, ignore: int | None = None) -> Callable[..., Any]:
    """(pred, labels): probabilities (or logits) with classes on ``axis``, random labels
    (a quarter of them ``ignore`` when given)."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        lg = rng.normal(size=(*shape, classes))
        labels = rng.integers(0, classes, size=shape)
        if ignore is not None:
            labels = np.where(rng.uniform(size=shape) < 0.25, ignore, labels)
        pred = lg if logits else np_softmax(lg)
        return np.moveaxis(pred, -1, axis), labels

    return make


def _random_binary(shape: tuple[int, ...], logits: bool = False,
                   ignore: int | None = None) -> Callable[..., Any]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        x = rng.normal(size=shape)
        pred = x if logits else 1.0 / (1.0 + np.exp(-x))
        labels = (rng.uniform(size=shape) < 0.4).astype(np.int64)
        if ignore is not None:
            labels = np.where(rng.uniform(size=shape) < 0.25, ignore, labels)
        return pred, labels

    return make


def _all_ignored(shape: tuple[int, ...], classes: int) -> Callable[..., Any]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        return np_softmax(rng.normal(size=(*shape, classes))), np.full(shape, 255)

    return make


def _perfect_one_hot(args: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    pred, labels = args[0], args[1]
    return np.eye(pred.shape[-1])[labels], labels


def _sized_probs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    side = max(2, int(np.sqrt(n / 12)))
    return _random_labels((4, side, side), 3)(rng)


def _bad_labels(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return PR.copy(), np.where(LAB == 2, 3, LAB)


def _bad_probs(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return PR * 2.0, LAB.copy()


def _bad_shape(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return PR.copy(), LAB[:, :, 0]


_OVERLAP_BAD_VALUES = (BadValue("target", _bad_labels), BadValue("pred", _bad_probs))
