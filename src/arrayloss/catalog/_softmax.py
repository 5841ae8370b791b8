"""The float64 reference and the peer calls of the softmax losses over a class axis
(``cross_entropy``, ``softmax_focal_loss``), for their records in ``catalog.categorical``.

``axis`` may be a tuple of class axes (merged in C order by ``_class_axis``); a peer that
takes one class axis only says so in its record's ``accepts``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import np_reduce
from ._classes import _class_axis, _reduce_any, _torch_classes
from ._common import np_log_softmax

__all__ = ["_keras_ce", "_kornia_softmax_focal", "_one_axis", "_optax_ce", "_ref_class_loss",
           "_torch_ce"]


def _one_axis(o: Mapping[str, Any]) -> bool:
    """``accepts``: the call has one class axis (an int ``axis``)."""
    return not isinstance(o.get("axis", -1), tuple)


def _ref_class_loss(focal: bool) -> Callable[..., np.ndarray]:
    """cross_entropy (focal=False) and softmax_focal_loss: loops per sample, float64."""

    def ref(pred: np.ndarray, target: np.ndarray, *, axis: Any = -1, class_weight: Any = None,
            ignore_index: int | None = None, label_smoothing: float = 0.0, gamma: float = 2.0,
            alpha: Any = None, from_logits: bool = True, reduction: str = "mean",
            weight: np.ndarray | None = None) -> np.ndarray:
        z, t = _class_axis(np.asarray(pred, np.float64), axis, target)
        c = z.shape[-1]
        w = np.ones(c) if class_weight is None else np.asarray(class_weight, np.float64)
        a = np.ones(c) if alpha is None else np.asarray(alpha, np.float64)
        lp = np_log_softmax(z) if from_logits else np.log(
            np.clip(z, np.finfo(np.float64).eps, 1.0))
        flat_lp = lp.reshape(-1, c)
        dense = t.shape == z.shape
        rows = t.reshape(-1, c) if dense else t.reshape(-1)
        loss = np.zeros(flat_lp.shape[0])
        den = 0.0
        for i in range(flat_lp.shape[0]):
            if dense:
                q = (1 - label_smoothing) * rows[i] + label_smoothing / c
                g = (1 - np.exp(flat_lp[i])) ** gamma if focal else 1.0
                keep = q > 0
                loss[i] = -np.sum(np.where(keep, a * w * q * g * np.where(keep, flat_lp[i], 0), 0))
                den += 1.0
                continue
            y = int(rows[i])
            if ignore_index is not None and y == ignore_index:
                continue
            if focal:
                g = (1 - np.exp(flat_lp[i])) ** gamma
                loss[i] = -(1 - label_smoothing) * a[y] * w[y] * g[y] * flat_lp[i, y]
                loss[i] -= label_smoothing / c * np.sum(a * w * g * flat_lp[i])
            else:
                loss[i] = -(1 - label_smoothing) * w[y] * flat_lp[i, y]
                if label_smoothing:
                    loss[i] -= label_smoothing / c * np.sum(w * flat_lp[i])
            den += w[y] if class_weight is not None else 1.0
        return np_reduce(loss.reshape(lp.shape[:-1]), reduction, weight, count=den)

    return ref


def _torch_ce(pred: Any, target: Any, *, axis: int = -1, class_weight: Any = None,
              ignore_index: int | None = None, label_smoothing: float = 0.0,
              from_logits: bool = True, reduction: str = "mean") -> Any:
    """``F.cross_entropy``; probabilities (``from_logits=False``, rows summing to 1) as
    ``F.cross_entropy(log p)``, whose log-softmax is then ``log p``: ``F.nll_loss(log p)``
    with label smoothing and probability targets too."""
    import torch
    import torch.nn.functional as F

    x, t = _torch_classes(pred, target, axis)
    if not from_logits:
        x = torch.log(x)
    cw = None if class_weight is None else torch.as_tensor(class_weight, dtype=x.dtype)
    return F.cross_entropy(x, t, weight=cw, reduction=reduction, label_smoothing=label_smoothing,
                           ignore_index=-100 if ignore_index is None else ignore_index)


def _optax_ce(pred: Any, target: Any, *, axis: Any = -1, label_smoothing: float = 0.0,
              reduction: str = "mean") -> Any:
    """optax's two cross-entropies, with a tuple ``axis`` as optax takes it (integer labels
    with label smoothing become one-hot targets: one class axis only)."""
    import jax
    import optax

    c = math.prod(pred.shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))
    if target.shape != pred.shape:
        if not label_smoothing:
            loss = optax.losses.softmax_cross_entropy_with_integer_labels(pred, target, axis=axis)
            return _reduce_any(loss, reduction)
        target = jax.numpy.moveaxis(jax.nn.one_hot(target, c, dtype=pred.dtype), -1, axis)
    if label_smoothing:
        target = (1 - label_smoothing) * target + label_smoothing / c
    return _reduce_any(optax.losses.softmax_cross_entropy(pred, target, axis=axis), reduction)


def _keras_ce(pred: Any, target: Any, *, axis: int = -1, ignore_index: int | None = None,
              label_smoothing: float = 0.0, from_logits: bool = True,
              reduction: str = "mean") -> Any:
    """Keras's (sparse) categorical cross-entropy; with ``from_logits=False`` Keras divides
    each row by its sum and clips to ``[1e-7, 1 - 1e-7]``."""
    import keras

    if target.shape == pred.shape:
        out = keras.losses.categorical_crossentropy(target, pred, from_logits=from_logits,
                                                    label_smoothing=label_smoothing, axis=axis)
        valid = np.ones(out.shape, dtype=bool)
    else:
        z = np.moveaxis(pred, axis, -1)
        out = keras.losses.sparse_categorical_crossentropy(target, z, from_logits=from_logits,
                                                           ignore_class=ignore_index)
        valid = target != ignore_index if ignore_index is not None else np.ones(out.shape, bool)
    out = np.where(valid, np.asarray(keras.ops.convert_to_numpy(out), np.float64), 0.0)
    return _reduce_any(out, reduction, count=max(int(valid.sum()), 1))


def _kornia_softmax_focal(pred: Any, target: Any, *, axis: int = -1, gamma: float = 2.0,
                          alpha: Any = None, weight: Any = None, reduction: str = "mean") -> Any:
    """kornia's scalar alpha ``a`` is the vector ``[1 - a, a, ..., a]``; its ``"none"`` is
    per class, summed here into per-sample values."""
    import kornia

    a = None
    if alpha is not None:
        a = float(alpha[1])
        assert np.allclose(np.asarray(alpha), [1 - a] + [a] * (len(alpha) - 1))
    x, t = _torch_classes(pred, target, axis)
    if x.ndim == 1:
        x, t = x[None], t[None]
    out = kornia.losses.focal_loss(x, t, alpha=a, gamma=gamma, reduction="none").sum(1)
    return _reduce_any(out.reshape(target.shape), reduction, weight)
