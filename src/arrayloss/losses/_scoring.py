"""The statistics of one overlap-loss call (``_Stats``), their pooling over the classes
(``_pool``) and over replicas (``over_batch``), the score rule every overlap loss shares
(``_score``) and the loss from the score with the shared reduction (``_overlap_loss``). The
statistics are computed by ``overlap._overlap_stats``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .. import _ops
from .._namespace import Array
from .._reduce import Call


@dataclass
class _Stats:
    """Per-entry sums of one overlap-loss call, what its reduction needs, and the pixel
    arrays the compounds reuse (``x``: logits masked at ignored pixels, ``log_p`` with
    ``log_softmax=True``, ``g`` the target, ``valid`` the pixel mask with a size-1 class
    axis, ``labels`` whether ``target`` held integer labels)."""

    call: Call
    tp: Array
    sp: Array
    sg: Array
    sp2: Array | None
    sg2: Array | None
    counted: Array | None  # 1.0 where the entry holds a non-ignored pixel (None: all)
    class_weight: Array | None
    smooth: float
    smooth_dr: float
    eps: float
    ax: int | None  # the class axis of the pixel arrays (None: binary)
    classes: bool  # the statistics have a class axis (last)
    x: Array
    p: Array
    g: Array
    valid: Array | None
    labels: bool
    log_p: Array | None = None
    full_class_weight: Array | None = None  # before include_background drops class 0
    per_image: bool = True  # False: the sums pool the batch (summed over replicas too)
    y: Array | None = None  # the integer labels (checked; ignore_index where ignored)


def _pool(s: _Stats, w: Array | None) -> _Stats:
    """The statistics summed over the class axis, class ``i`` weighted by ``w[..., i]``
    (micro averaging; the generalised Dice loss's weights). Without a class axis ``w``
    multiplies the statistics."""
    xp = s.call.xp

    def pool(v: Array | None) -> Array | None:
        if v is None:
            return None
        v = v if w is None else v * w
        return xp.sum(v, axis=-1) if s.classes else v

    counted = s.counted
    if counted is not None and s.classes:
        counted = xp.max(counted, axis=-1)
    return replace(s, tp=pool(s.tp), sp=pool(s.sp), sg=pool(s.sg), sp2=pool(s.sp2),
                   sg2=pool(s.sg2), counted=counted, class_weight=None, classes=False)


_POOLED = ("tp", "sp", "sg", "sp2", "sg2", "counted")


def over_batch(s: _Stats, body: Callable[[_Stats], Any]) -> Any:
    """``body(s)``: the loss from the statistics. With ``per_image=False`` and ``replicas``
    the batch's sums are first summed over the replicas (one collective; ``Call.pool``), so
    the entries, and the loss, are the whole group's batch's."""
    call = s.call
    if s.per_image or call.replicas is None:
        return body(s)
    names = [n for n in _POOLED if getattr(s, n) is not None]

    def then(*stats: Array) -> Any:
        new = dict(zip(names, stats, strict=True))
        if "counted" in new:  # 1 where any replica holds a counted pixel of the entry
            new["counted"] = call.xp.astype(new["counted"] > 0, call.dtype)
        return body(replace(s, **new))

    return call.pool(tuple(getattr(s, n) for n in names), then)


def _score(stats: _Stats, num: Array, den: Array) -> Array:
    """The score rule of every overlap loss, with ``smooth`` added to ``num`` and
    ``smooth_dr`` to ``den``:
    ``num / max(den, eps)`` where ``den > 0``; where ``den == 0``, 1 if the entry is empty in
    both prediction and target (``Sp + Sg == 0``: nothing to find, nothing found) and 0
    otherwise (a class present in the target that gets no predicted mass is a miss, e.g.
    Tversky with ``beta = 0``). Masked branches: no NaN in gradients; NaN propagates."""
    xp, eps = stats.call.xp, stats.eps
    num, den = num + stats.smooth, den + stats.smooth_dr
    zero = den == 0
    safe = _ops.clip(xp, xp.where(zero, xp.ones_like(den), den), min=eps)
    empty = (stats.sp + stats.sg) == 0
    degenerate = xp.where(empty, xp.ones_like(num), xp.zeros_like(num))
    return xp.where(zero, degenerate, num / safe)


def _overlap_loss(stats: _Stats, score: Array, *, log: bool = False,
            gamma: float | None = None) -> Array:
    """Loss from the score (``1 - score``, ``-log(max(score, eps))`` or the focal power),
    class weights, then the shared reduction over counted entries."""
    xp = stats.call.xp
    loss = -xp.log(_ops.clip(xp, score, min=stats.eps)) if log else 1.0 - score
    if gamma is not None:
        loss = _ops.pow_nonneg(xp, _ops.clip(xp, loss, min=0.0), gamma)
    if stats.class_weight is not None:
        loss = loss * stats.class_weight
    return stats.call.finish(loss, mask=stats.counted)
