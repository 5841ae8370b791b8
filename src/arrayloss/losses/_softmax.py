"""The class mask of the softmax losses: a ``where`` with the class axis removes classes from
the softmax (optax's class-axis ``where``), shared by ``cross_entropy``, ``softmax_focal_loss``,
``entropy`` and ``poly_cross_entropy``."""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._namespace import Array
from .._reduce import Call, Labels
from .._validate import check_values

__all__ = ["kept_classes", "labels_kept", "log_softmax_kept"]


def log_softmax_kept(call: Call, z: Array, ax: int) -> tuple[Array, Array | None]:
    """``log_softmax`` of ``z`` over the classes a class-axis ``where`` keeps, 0 at the
    removed classes (so every term of theirs vanishes, whatever the target holds there), and
    the broadcast class mask (``None`` without one). A sample with no class left computes on
    zeros (finite, zero gradient) and leaves the count."""
    xp = call.xp
    cm = call.class_mask(tuple(z.shape), ax)
    if cm is None:
        return _ops.log_softmax(xp, z, axis=ax), None
    row = xp.any(cm, axis=ax, keepdims=True)
    z = xp.where(cm, z, xp.where(row, xp.full_like(z, -math.inf), xp.zeros_like(z)))
    return xp.where(cm, _ops.log_softmax(xp, z, axis=ax), xp.zeros_like(z)), cm


def kept_classes(call: Call, cm: Array | None, c: int, ax: int, keepdims: bool) -> Any:
    """The class count label smoothing spreads over: ``C``, or the classes the mask keeps
    (at least 1, so a sample with none stays finite)."""
    if cm is None:
        return c
    xp = call.xp
    n = xp.sum(xp.astype(cm, call.dtype), axis=ax, keepdims=keepdims)
    return _ops.clip(xp, n, min=1.0)


def labels_kept(call: Call, lab: Labels, cm: Array | None, loss: Array) -> Array:
    """``loss`` with NaN where a counted sample's label is a class the mask removes
    (``ValueError`` when the values can be read)."""
    if cm is None:
        return loss
    xp = call.xp
    assert call.where is not None
    kept = (lab.gather(xp, xp.astype(cm, call.dtype)) > 0) | ~call.where
    if lab.ignored is not None:
        kept = kept | lab.ignored
    check_values(call.fn, "where", xp, kept, lambda v: ~v,
                 "must keep the labelled class of every counted sample (a class-axis mask)")
    return xp.where(kept, loss, xp.full_like(loss, math.nan))
