"""Input makers of the docs figures (:class:`arrayloss.catalog.Figure`), shared by the
catalogue modules: each maps a grid ``x`` (one example per point) and a swept input value
``v`` to the positional arrays of a call."""

from __future__ import annotations

from typing import Any

import numpy as np

Arrays = tuple[np.ndarray, ...]

#: the growing mask: a 1-D image of PIXELS pixels whose target covers [LEFT, LEFT + SIZE)
PIXELS, LEFT, SIZE = 30, 10, 10


def residual(x: np.ndarray, v: Any = None) -> Arrays:
    """pred = x, target = 0: the residual is x."""
    return x.copy(), np.zeros_like(x)


def versus(x: np.ndarray, v: Any) -> Arrays:
    """pred = x against the target v (1 when not swept)."""
    return x.copy(), np.full_like(x, 1.0 if v is None else v)


def positive(x: np.ndarray, v: Any = None) -> Arrays:
    """A score or logit x of a positive example (target 1)."""
    return x.copy(), np.ones_like(x)


def true_class_logits(x: np.ndarray, classes: int = 3) -> np.ndarray:
    """Logits (n, classes) whose softmax gives class 0 the probability x and shares the
    rest evenly."""
    rest = (1.0 - x) / (classes - 1)
    return np.log(np.stack([x, *([rest] * (classes - 1))], axis=-1))


def true_class(x: np.ndarray, v: Any = None) -> Arrays:
    """Logits giving the label (class 0) the probability x, and the labels."""
    return true_class_logits(x), np.zeros(len(x), dtype=np.int64)


def score_gap(x: np.ndarray, v: Any = None) -> Arrays:
    """Scores (n, 3): x for the label (class 0), 0 for the other classes."""
    z = np.zeros((len(x), 3))
    z[:, 0] = x
    return z, np.zeros(len(x), dtype=np.int64)


def box_slide(x: np.ndarray, v: Any) -> Arrays:
    """A box of width v (1 when not swept) and height 1 whose centre is x to the right of
    the unit square target's (xyxy)."""
    w = 1.0 if v is None else v
    c = 0.5 + x
    pred = np.stack([c - w / 2, np.zeros_like(x), c + w / 2, np.ones_like(x)], axis=-1)
    return pred, np.tile([0.0, 0.0, 1.0, 1.0], (len(x), 1))


def mask(x: np.ndarray) -> np.ndarray:
    """Probabilities (n, PIXELS) of a mask growing from the target's left edge: its mass is
    x times the target's, spilling over the target's right edge past x = 1."""
    i = np.arange(PIXELS)
    return np.clip(LEFT + SIZE * x[:, None] - i, 0.0, 1.0) * (i >= LEFT)


def target_mask(n: int) -> np.ndarray:
    i = np.arange(PIXELS)
    return np.tile(((i >= LEFT) & (i < LEFT + SIZE)).astype(np.float64), (n, 1))


def binary_mask(x: np.ndarray, v: Any = None) -> Arrays:
    """The growing mask and the target as binary maps (axis=None)."""
    return mask(x), target_mask(len(x))


def soft_logits(x: np.ndarray) -> np.ndarray:
    """Logits (n, PIXELS) of a soft mask growing from the target's left edge: a sigmoid
    edge one pixel per logit unit wide at LEFT + SIZE x (smooth in x, unlike a logit of
    ``mask``, whose edge pixel alone moves), -6 left of the target."""
    i = np.arange(PIXELS)
    return np.where(i >= LEFT, LEFT + SIZE * x[:, None] - i - 0.5, -6.0)


def mask_logits(x: np.ndarray, v: Any = None) -> Arrays:
    """The soft growing mask as logits and the binary target."""
    return soft_logits(x), target_mask(len(x))


def class_mask(x: np.ndarray, v: Any = None) -> Arrays:
    """The growing mask as two-class probabilities (n, PIXELS, 2) and integer labels."""
    m = mask(x)
    return np.stack([1.0 - m, m], axis=-1), target_mask(len(x)).astype(np.int64)


def class_mask_logits(x: np.ndarray, v: Any = None) -> Arrays:
    """The soft growing mask as two-class logits (softmax: class 1 has probability
    sigmoid(soft_logits)) and integer labels."""
    z = soft_logits(x)
    return np.stack([np.zeros_like(z), z], axis=-1), target_mask(len(x)).astype(np.int64)


def unit(cos: np.ndarray) -> np.ndarray:
    """Unit vectors (n, 2) at cosine ``cos`` from (1, 0)."""
    return np.stack([cos, np.sqrt(np.clip(1.0 - cos**2, 0.0, None))], axis=-1)


def similar_pairs(x: np.ndarray, v: Any = None) -> Arrays:
    """A batch of four embeddings in two groups, each positive pair at cosine similarity
    x[0] (one call per point: the loss couples the batch)."""
    e = unit(np.full(1, x[0]))[0]
    emb = np.array([[1.0, 0.0], e, [-1.0, 0.0], -e])
    return emb, np.array([0, 0, 1, 1])
