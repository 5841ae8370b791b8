"""Segmentation (overlap) losses: Dice, Jaccard, Tversky, focal Tversky, Lovász hinge and
Lovász-Softmax.

**Overlap statistics** (``dice_loss``, ``jaccard_loss``, ``tversky_loss``,
``focal_tversky_loss``) come from one helper. With probabilities ``p`` and targets ``g`` (both
zeroed at ignored pixels), per entry::

    TP = sum p*g,   Sp = sum p,   Sg = sum g,   FP = Sp - TP,   FN = Sg - TP
    Sp2 = sum p^2,  Sg2 = sum g^2                (squared Dice only)

An entry is an (image, class) pair with ``per_image=True`` (sums over the spatial axes, as
MONAI's default ``batch=False``) or a class with ``per_image=False`` (sums also over the batch,
as MONAI ``batch=True`` and SMP). Shapes:

- ``axis=-1`` (default, channels-last) or any ``axis >= 1`` (``axis=1`` is channels-first):
  ``pred`` is ``(B, *spatial, C)``; ``target`` is integer labels ``(B, *spatial)`` (one-hot
  encoded internally, no Python loop over classes) or dense ``(B, *spatial, C)`` in ``[0, 1]``.
  Axis 0 is always the batch, so ``axis=0`` is refused.
- ``axis=None`` (binary): ``pred`` and ``target`` share a shape ``(B, *spatial)``; targets in
  ``[0, 1]`` (int, bool or float).

``activation``: ``None`` (``pred`` are probabilities, checked in ``[0, 1]`` when concrete),
``"sigmoid"`` (independent logits, multi-label) or ``"softmax"`` (logits normalised along
``axis``; not with ``axis=None``).

**Score rule** (every overlap loss): ``score = num / max(den, eps)`` if ``den > 0``, else 1,
with ``smooth`` added to both ``num`` and ``den``. So a perfect prediction gives 0, also for
classes absent from both prediction and target, and an empty/empty entry has a zero gradient.
A class absent from the target but predicted scores 0 (loss 1) at ``smooth=0``; MONAI keeps
such classes too (smoothed by 1e-5), SMP zeroes them, kornia's macro average drops them.

**Reduction**: ``"none"`` is ``(B, C)`` with ``per_image=True`` and ``(C,)`` otherwise (``(B,)``
/ ``()`` with ``axis=None``). ``class_weight`` (length C) and ``weight`` multiply the entries;
``"mean"`` divides their sum by the number of entries that hold at least one non-ignored pixel
(MONAI semantics, not ``cross_entropy``'s division by the weight sum). ``ignore_index``
(integer labels only) removes pixels from every sum; an entry whose pixels are all ignored has
loss 0, is not counted, and gets zero gradients.

**Lovász losses** (Berman et al., CVPR 2018) sort the per-pixel errors of each set (image, or
the whole batch) with an unstable sort (their values are invariant to the order of ties),
compute the Jaccard-loss increments with ``cumulative_sum`` and take the dot product: one
batched computation over images and classes, masks instead of boolean indexing, jit-, vmap-
and compile-safe. Dask runs them lazily (its ``argsort`` rechunks each sorted axis into one
chunk, so each set must fit in memory).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _xp
from ._checks import (
    channels_first_hint,
    check_axis,
    check_bool,
    check_choice,
    check_classes,
    check_ignore_index,
    check_labels,
    check_number,
    check_probabilities,
    check_values,
    integer_labels,
    representable,
)
from ._reduce import Call, start
from ._xp import Array, Namespace

__all__ = [
    "dice_loss",
    "focal_tversky_loss",
    "jaccard_loss",
    "lovasz_hinge_loss",
    "lovasz_softmax_loss",
    "tversky_loss",
]

_ACTIVATIONS = (None, "sigmoid", "softmax")


# ---------------------------------------------------------------------------------------
# shared input handling


def _class_axis(fn: str, axis: Any, ndim: int, binary: str = "axis=None") -> int:
    """The class axis as a non-negative int; axis 0 (the batch) is refused. ``binary`` names
    what to use for input without a class axis."""
    if ndim < 2:
        raise ValueError(
            f"{fn}: `pred` needs a batch axis and a class axis (at least 2-D); got {ndim}-D "
            f"(for binary input without a class axis use {binary})"
        )
    ax = check_axis(fn, axis, ndim)
    if ax == 0:
        raise ValueError(f"{fn}: `axis` must not be the batch axis 0; got {axis}")
    return ax


def _label_shape_or_dense(fn: str, pred: Array, target: Array, ax: int) -> bool:
    """True when ``target`` holds integer labels (``pred``'s shape without ``ax``), False
    when it is dense (``pred``'s shape); ``ValueError`` naming both shapes otherwise."""
    ps, ts = tuple(pred.shape), tuple(target.shape)
    if ts == ps:
        return False
    if ts == ps[:ax] + ps[ax + 1:]:
        return True
    raise ValueError(
        f"{fn}: `target` must hold integer labels of shape {ps[:ax] + ps[ax + 1:]} or dense "
        f"values of the shape of `pred`; got `pred` {ps} and `target` {ts}"
        f"{channels_first_hint(ps, ts, ax)}"
    )


def _sum(xp: Namespace, x: Array, axes: tuple[int, ...]) -> Array:
    """Sum over ``axes``; no axes means no reduction (torch's ``sum(dim=())`` sums all)."""
    return xp.sum(x, axis=axes) if axes else x


_LOGITS_HINT = ("; these look like logits: pass activation='sigmoid' (independent classes) or "
                "activation='softmax' (along the class axis)")


def _probabilities(fn: str, call: Call, pred: Array, activation: Any, ax: int | None,
                   valid: Array | None = None) -> Array:
    """``pred`` as probabilities (checked in ``[0, 1]``, or through the activation). At
    pixels outside ``valid`` (ignored) the input is replaced by 0 first and the probability
    by 0 after: whatever an ignored pixel holds (inf, NaN, a value outside [0, 1]) gives no
    value and exactly zero gradient."""
    xp = call.xp
    x = call.float(pred)
    if valid is not None:
        x = xp.where(valid, x, xp.zeros_like(x))
    if activation is None:
        hint = _LOGITS_HINT if ax is not None else _LOGITS_HINT.split(" or ")[0]
        check_probabilities(fn, "pred", xp, x, hint=hint)
        p = x
    elif activation == "sigmoid":
        p = xp.exp(_xp.log_sigmoid(xp, x))  # overflow-free, finite gradients
    else:
        p = _xp.softmax(xp, x, axis=ax if ax is not None else -1)
    return p if valid is None else xp.where(valid, p, xp.zeros_like(p))


def _binary_target(fn: str, call: Call, target: Array, ignore_index: int | None
                   ) -> tuple[Array, Array | None]:
    """A binary or dense target in the compute dtype, checked in ``[0, 1]`` when readable
    (ignored pixels excepted), and the mask of non-ignored pixels (``None`` without
    ``ignore_index``). Integer targets are compared in the default integer dtype (no
    wrap-around of ``ignore_index`` in a narrow or unsigned dtype)."""
    xp = call.xp
    if xp.isdtype(target.dtype, "bool"):
        return call.float(target), None
    if not xp.isdtype(target.dtype, "integral"):  # ignore_index needs integers (checked)
        check_probabilities(fn, "target", xp, target)
        return call.float(target), None
    t = integer_labels(fn, "target", xp, target)
    ii = ignore_index if representable(xp, ignore_index, t.dtype) else None
    if ii is None:
        check_probabilities(fn, "target", xp, t)
        return call.float(t), None
    check_values(fn, "target", xp, t, lambda v: ((v < 0) | (v > 1)) & (v != ii),
                 f"must hold values in [0, 1] or ignore_index={ignore_index}")
    valid = t != ii
    g = call.float(t)
    return xp.where(valid, g, xp.zeros_like(g)), valid


# ---------------------------------------------------------------------------------------
# overlap statistics (Dice, Jaccard, Tversky, focal Tversky)


@dataclass
class _Stats:
    """Per-entry sums of one overlap-loss call, and what its reduction needs."""

    call: Call
    tp: Array
    sp: Array
    sg: Array
    sp2: Array | None
    sg2: Array | None
    counted: Array | None  # 1.0 where the entry holds a non-ignored pixel (None: all)
    class_weight: Array | None
    smooth: float
    eps: float


def _overlap_stats(
    fn: str,
    pred: Array,
    target: Array,
    *,
    axis: Any,
    activation: Any,
    per_image: Any,
    smooth: Any,
    eps: Any,
    class_weight: Any,
    ignore_index: Any,
    weight: Array | None,
    reduction: str,
    squares: bool = False,
) -> _Stats:
    """Validate the shared options and compute TP, Sp, Sg (and Sp2, Sg2) per entry."""
    smooth = check_number(fn, "smooth", smooth, ge=0.0)
    eps = check_number(fn, "eps", eps, gt=0.0)
    check_choice(fn, "activation", activation, _ACTIVATIONS)
    check_bool(fn, "per_image", per_image)
    call = start(fn, pred, reduction=reduction, weight=weight, target=target)
    xp = call.xp
    ax: int | None
    if axis is None:
        if activation == "softmax":
            raise ValueError(
                f"{fn}: `activation` 'softmax' needs a class axis; got axis=None (binary)"
            )
        if class_weight is not None:
            raise ValueError(f"{fn}: `class_weight` needs a class axis; got axis=None (binary)")
        if tuple(pred.shape) != tuple(target.shape):
            raise ValueError(
                f"{fn}: with axis=None `pred` and `target` must have the same shape; got "
                f"{tuple(pred.shape)} and {tuple(target.shape)}"
            )
        if pred.ndim < 1:
            raise ValueError(f"{fn}: `pred` needs a batch axis (at least 1-D); got 0-D")
        ax, labels, num_classes = None, False, 2
    else:
        ax = _class_axis(fn, axis, pred.ndim)
        labels = _label_shape_or_dense(fn, pred, target, ax)
        num_classes = pred.shape[ax]
        check_classes(fn, num_classes)
        call.classes = num_classes
    ii = check_ignore_index(fn, ignore_index, num_classes)
    if ii is not None and not xp.isdtype(target.dtype, "integral"):
        raise ValueError(
            f"{fn}: `ignore_index` needs integer labels; got a `target` of dtype {target.dtype}"
        )
    cw = None if ax is None else call.vector("class_weight", class_weight, num_classes, pred)
    valid = None
    if labels and ax is not None:
        y, ii = check_labels(fn, "target", xp, target, num_classes, ii)
        g = _xp.one_hot(xp, y, num_classes, call.dtype, axis=ax)  # ignored: all-zero row
        if ii is not None:
            valid = xp.expand_dims(y != ii, axis=ax)
    else:
        g, valid = _binary_target(fn, call, target, ii)
    p = _probabilities(fn, call, pred, activation, ax, valid)
    # sum over the spatial axes (and the batch unless per_image); keep (batch,) class
    keep = {ax} if ax is not None else set()
    if per_image:
        keep.add(0)
    axes = tuple(a for a in range(p.ndim) if a not in keep)
    pg = p * g
    tp, sp, sg = _sum(xp, pg, axes), _sum(xp, p, axes), _sum(xp, g, axes)
    sp2 = _sum(xp, p * p, axes) if squares else None
    sg2 = _sum(xp, g * g, axes) if squares else None
    counted = None
    if valid is not None:
        nvalid = _sum(xp, xp.astype(valid, call.dtype), axes)  # class axis of size 1 if any
        counted = xp.zeros_like(tp) + xp.astype(nvalid > 0, call.dtype)
    return _Stats(call, tp, sp, sg, sp2, sg2, counted, cw, smooth, eps)


def _score(stats: _Stats, num: Array, den: Array) -> Array:
    """The score rule of every overlap loss, with ``smooth`` added to ``num`` and ``den``:
    ``num / max(den, eps)`` where ``den > 0``; where ``den == 0``, 1 if the entry is empty in
    both prediction and target (``Sp + Sg == 0``: nothing to find, nothing found) and 0
    otherwise (a class present in the target that gets no predicted mass is a miss, e.g.
    Tversky with ``beta = 0``). Masked branches: no NaN in gradients; NaN propagates."""
    xp, eps = stats.call.xp, stats.eps
    num, den = num + stats.smooth, den + stats.smooth
    zero = den == 0
    safe = _xp.clip(xp, xp.where(zero, xp.ones_like(den), den), min=eps)
    empty = (stats.sp + stats.sg) == 0
    degenerate = xp.where(empty, xp.ones_like(num), xp.zeros_like(num))
    return xp.where(zero, degenerate, num / safe)


def _finish(stats: _Stats, score: Array, *, log: bool = False,
            gamma: float | None = None) -> Array:
    """Loss from the score (``1 - score``, ``-log(max(score, eps))`` or the focal power),
    class weights, then the shared reduction over counted entries."""
    xp = stats.call.xp
    loss = -xp.log(_xp.clip(xp, score, min=stats.eps)) if log else 1.0 - score
    if gamma is not None:
        loss = _xp.pow_nonneg(xp, _xp.clip(xp, loss, min=0.0), gamma)
    if stats.class_weight is not None:
        loss = loss * stats.class_weight
    return stats.call.finish(loss, mask=stats.counted)


_SHARED_DOC = """
    Shapes: ``axis=-1`` (default) ``pred`` ``(B, *spatial, C)`` with integer labels
    ``(B, *spatial)`` or a dense ``(B, *spatial, C)`` target in ``[0, 1]``; ``axis=1`` for
    channels-first; ``axis=None`` for binary input (``pred`` and ``target`` of one shape
    ``(B, *spatial)``). ``activation``: ``None`` (probabilities), ``"sigmoid"`` or
    ``"softmax"`` (logits; softmax needs a class axis). ``per_image=True``: one entry per
    (image, class); ``False`` pools the batch. ``smooth`` (>= 0) is added to numerator and
    denominator; ``eps`` (> 0) clamps the denominator (and the score inside ``log``).
    ``ignore_index`` (integer targets only, not a valid class) removes pixels from every sum.
    ``class_weight`` (length C) and ``weight`` multiply the entries. ``"none"`` returns the
    ``(B, C)`` / ``(C,)`` (``(B,)`` / ``()`` binary) matrix; ``"mean"`` divides by the number of
    entries holding a non-ignored pixel (0 when there is none, with zero gradients).
    Edge cases: a perfect prediction gives 0, including classes absent from both prediction
    and target (an empty/empty entry scores 1, with zero gradient); an empty target with a
    non-empty prediction gives a loss near 1 at ``smooth=0``.
"""


def _doc(text: str) -> str:
    return text.rstrip() + "\n" + _SHARED_DOC


# ---------------------------------------------------------------------------------------
# overlap losses


def dice_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int | None = -1,
    activation: str | None = None,
    squared: bool = False,
    log: bool = False,
    per_image: bool = True,
    smooth: float = 0.0,
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    fn = "dice_loss"
    check_bool(fn, "squared", squared)
    check_bool(fn, "log", log)
    s = _overlap_stats(fn, pred, target, axis=axis, activation=activation, per_image=per_image,
                       smooth=smooth, eps=eps, class_weight=class_weight,
                       ignore_index=ignore_index, weight=weight, reduction=reduction,
                       squares=squared)
    den = (s.sp2 + s.sg2 if squared and s.sp2 is not None and s.sg2 is not None
           else s.sp + s.sg)
    return _finish(s, _score(s, 2.0 * s.tp, den), log=log)


dice_loss.__doc__ = _doc(
    """Soft Dice loss: ``1 - D`` with ``D = (2 TP + smooth) / (Sp + Sg + smooth)``.

    ``squared=True`` uses the V-Net denominator ``Sp2 + Sg2`` (Milletari et al., "V-Net", 3DV
    2016); ``log=True`` returns ``-log(max(D, eps))``. Reference: ``monai.losses.DiceLoss``
    with ``smooth_nr=0, smooth_dr=0`` (``squared_pred=True``, ``batch=True`` for
    ``per_image=False``, ``weight`` for ``class_weight``) gives the same values; MONAI's
    default smoothing 1e-5 is ``smooth=1e-5``. Gradient (linear, one entry):
    ``dL/dp_j = -(2 g_j (Sp + Sg + s) - (2 TP + s)) / (Sp + Sg + s)^2``."""
)


def jaccard_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int | None = -1,
    activation: str | None = None,
    log: bool = False,
    per_image: bool = True,
    smooth: float = 0.0,
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    fn = "jaccard_loss"
    check_bool(fn, "log", log)
    s = _overlap_stats(fn, pred, target, axis=axis, activation=activation, per_image=per_image,
                       smooth=smooth, eps=eps, class_weight=class_weight,
                       ignore_index=ignore_index, weight=weight, reduction=reduction)
    return _finish(s, _score(s, s.tp, s.sp + s.sg - s.tp), log=log)


jaccard_loss.__doc__ = _doc(
    """Soft Jaccard (IoU) loss: ``1 - J`` with ``J = (TP + smooth) / (Sp + Sg - TP + smooth)``.

    ``log=True`` returns ``-log(max(J, eps))``. With ``smooth=0``, ``J = D / (2 - D)`` for the
    linear Dice ``D``: same optimum. Reference: ``monai.losses.DiceLoss(jaccard=True,
    smooth_nr=0, smooth_dr=0)`` (MONAI's default smoothing is effectively halved there); SMP
    ``JaccardLoss`` semantics for ``per_image=False`` when every class is present."""
)


def _tversky(fn: str, pred: Array, target: Array, *, alpha: Any, beta: Any,
             gamma: float | None, **shared: Any) -> Array:
    """Tversky index ``TP / (TP + alpha FP + beta FN)`` (smoothed), then ``1 - TI`` or its
    focal power; ``shared``: the options of ``_overlap_stats``."""
    alpha = check_number(fn, "alpha", alpha, ge=0.0)
    beta = check_number(fn, "beta", beta, ge=0.0)
    s = _overlap_stats(fn, pred, target, **shared)
    den = s.tp + alpha * (s.sp - s.tp) + beta * (s.sg - s.tp)
    return _finish(s, _score(s, s.tp, den), gamma=gamma)


def tversky_loss(
    pred: Array,
    target: Array,
    /,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    axis: int | None = -1,
    activation: str | None = None,
    per_image: bool = True,
    smooth: float = 0.0,
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    return _tversky("tversky_loss", pred, target, alpha=alpha, beta=beta, gamma=None,
                    axis=axis, activation=activation, per_image=per_image, smooth=smooth,
                    eps=eps, class_weight=class_weight, ignore_index=ignore_index,
                    weight=weight, reduction=reduction)


tversky_loss.__doc__ = _doc(
    """Tversky loss (Salehi et al., MLMI 2017, arXiv 1706.05721): ``1 - TI`` with
    ``TI = (TP + smooth) / (TP + alpha FP + beta FN + smooth)``.

    **alpha weights false positives, beta false negatives** (the paper's Eq. 2; MONAI, SMP).
    Defaults 0.5/0.5 equal ``dice_loss``; alpha = beta = 1 is ``jaccard_loss``. The paper's
    recommended setting is ``alpha=0.3, beta=0.7`` (recall first). Both must be >= 0; their
    sum need not be 1. Reference: ``monai.losses.TverskyLoss(smooth_nr=0, smooth_dr=0)``.
    keras 3's ``tversky`` swaps the two weights."""
)


def focal_tversky_loss(
    pred: Array,
    target: Array,
    /,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    gamma: float = 0.75,
    axis: int | None = -1,
    activation: str | None = None,
    per_image: bool = True,
    smooth: float = 0.0,
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    fn = "focal_tversky_loss"
    gamma = check_number(fn, "gamma", gamma, gt=0.0)
    return _tversky(fn, pred, target, alpha=alpha, beta=beta, gamma=gamma, axis=axis,
                    activation=activation, per_image=per_image, smooth=smooth, eps=eps,
                    class_weight=class_weight, ignore_index=ignore_index, weight=weight,
                    reduction=reduction)


focal_tversky_loss.__doc__ = _doc(
    """Focal Tversky loss (Abraham & Khan, ISBI 2019, arXiv 1810.07842):
    ``max(1 - TI, 0) ** gamma`` per entry, ``TI`` as in ``tversky_loss``.

    ``gamma=0.75`` is the exponent that is applied (the paper's ``1/gamma`` with its best
    gamma 4/3, and its official code). ``gamma <= 0`` raises ``ValueError``; ``gamma=1`` is
    ``tversky_loss``. The paper puts alpha on FN: its ``alpha=0.7, beta=0.3`` is
    ``alpha=0.3, beta=0.7`` here; its code adds ``smooth=1``. The power is masked: 0 with a
    zero gradient at a perfect entry, finite (large) gradients near it. The exponent is
    applied per entry, then the mean (SMP applies it after the class mean)."""
)


# ---------------------------------------------------------------------------------------
# Lovász losses


def _lovasz(xp: Namespace, errors: Array, fg: Array, *, relu: bool) -> Array:
    """The Lovász extension of the Jaccard loss along the last axis.

    ``errors``: the per-pixel errors (sort keys); ``fg``: the foreground indicator, 0 at
    ignored pixels. Returns ``sum_k e_(k) g_k`` (``relu(e_(k))`` with ``relu=True``), ``g`` the
    Jaccard-loss increments of the foreground taken in decreasing-error order.

    Ignored pixels need no weight in the cumulative sum: the caller gives them an error below
    or equal to every real error that can contribute (-inf before a ``relu``, or 0 for
    non-negative errors), so they sort into the tail where every contribution is 0, and no
    earlier ``J_k`` sees them. ``union_k = G + k - cumsum(fg)_k >= 1``: no division by 0.
    """
    es, idx = _xp.sort_with_indices(xp, errors, axis=-1, descending=True)
    fs = _xp.take_along_axis(xp, fg, idx, axis=-1)
    total = xp.sum(fg, axis=-1, keepdims=True)
    cum = _xp.cumulative_sum(xp, fs, axis=-1)
    rank = xp.arange(1, fs.shape[-1] + 1, dtype=fs.dtype, device=_xp.device(fs))
    jac = 1.0 - (total - cum) / (total + rank - cum)
    grad = xp.concat([jac[..., :1], jac[..., 1:] - jac[..., :-1]], axis=-1)
    if relu:
        es = _xp.clip(xp, es, min=0.0)
    return xp.sum(es * grad, axis=-1)


def lovasz_hinge_loss(
    pred: Array,
    target: Array,
    /,
    *,
    per_image: bool = True,
    ignore_index: int | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Lovász hinge loss (Berman et al., "The Lovász-Softmax loss", CVPR 2018): the Lovász
    extension of the Jaccard loss evaluated at the hinge margins of binary logits.

    ::

        s_i = 2 y_i - 1,   m_i = 1 - F_i s_i
        sort m decreasing, y_s = y in that order, G = sum y
        J_k = 1 - (G - cumsum(y_s)_k) / (G + cumsum(1 - y_s)_k)
        loss = sum_k relu(m_(k)) (J_k - J_(k-1))

    Shapes: ``pred`` logits ``(B, ...)`` and ``target`` of the same shape with values in {0, 1}
    (int, bool or float) or ``ignore_index`` (not 0 or 1). Values are checked when concrete.
    ``per_image=True`` (Berman's default; SMP's is False): one loss per image, ``"none"`` has
    shape ``(B,)``; ``False`` pools the batch into one set, ``"none"`` is ``()``.
    Ignored pixels get sort key -inf and error 0 (masks, no boolean indexing); an image whose
    pixels are all ignored has loss 0, zero gradients, and is left out of the mean (Berman
    counts it as 0). ``weight`` multiplies the per-image losses.
    Edge cases: an image without a positive pixel has loss ``relu(1 + max F)`` (not 0); tied
    margins give the same value in any order, but the sub-gradient depends on it.
    Piecewise linear: no log, no cross-entropy. References:
    ``kornia.losses.lovasz_hinge_loss`` (``(B, 1, H, W)`` logits, per-image mean, no ignore);
    Berman's ``lovasz_hinge`` semantics.
    """
    fn = "lovasz_hinge_loss"
    check_bool(fn, "per_image", per_image)
    call = start(fn, pred, reduction=reduction, weight=weight, target=target)
    xp = call.xp
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(
            f"{fn}: `pred` and `target` must have the same shape; got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}"
        )
    if pred.ndim < 1:
        raise ValueError(f"{fn}: `pred` needs a batch axis (at least 1-D); got 0-D")
    ii = check_ignore_index(fn, ignore_index, 2)
    if xp.isdtype(target.dtype, "integral"):  # compared in the default integer dtype
        target = integer_labels(fn, "target", xp, target)
        ii = ii if representable(xp, ii, target.dtype) else None
    if not xp.isdtype(target.dtype, "bool"):
        allowed = "{0, 1}" + ("" if ignore_index is None else f" or ignore_index={ii}")

        def bad(t: Array) -> Array:
            out = (t != 0) & (t != 1)
            return out if ii is None else out & (t != ii)

        check_values(fn, "target", xp, target, bad, f"must hold binary labels in {allowed}")
    batch = pred.shape[0]
    n = math.prod(pred.shape[1:])
    shape = (batch, n) if per_image else (1, batch * n)
    logits = xp.reshape(call.float(pred), shape)
    y = xp.reshape(call.float(target), shape)
    margins = 1.0 - logits * (2.0 * y - 1.0)
    counted = None
    if ii is not None:
        valid = xp.reshape(target != ii, shape)
        y = xp.where(valid, y, xp.zeros_like(y))
        margins = xp.where(valid, margins, xp.full_like(margins, -math.inf))
        nvalid = xp.sum(xp.astype(valid, call.dtype), axis=-1)
        counted = xp.astype(nvalid > 0, call.dtype)
    loss = _lovasz(xp, margins, y, relu=True)
    if not per_image:
        loss = xp.reshape(loss, ())
        counted = None if counted is None else xp.reshape(counted, ())
    return call.finish(loss, mask=counted)


_CLASSES = ("present", "all")


def _class_selection(fn: str, classes: Any, num_classes: int) -> tuple[str, tuple[int, ...]]:
    """``("present" | "all", ())`` or ``("list", ids)`` for a sequence of class ids."""
    if isinstance(classes, str):
        check_choice(fn, "classes", classes, _CLASSES)
        return classes, ()
    if isinstance(classes, Sequence):
        ids = []
        for c in classes:
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < num_classes:
                raise ValueError(
                    f"{fn}: `classes` must be 'present', 'all' or a sequence of class ids in "
                    f"[0, {num_classes}); got {classes!r}"
                )
            ids.append(c)
        return "list", tuple(sorted(set(ids)))
    raise ValueError(
        f"{fn}: `classes` must be 'present', 'all' or a sequence of class ids; got {classes!r}"
    )


def lovasz_softmax_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    classes: Any = "present",
    per_image: bool = False,
    ignore_index: int | None = None,
    activation: str | None = None,
    class_weight: Any = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Lovász-Softmax loss (Berman et al., "The Lovász-Softmax loss", CVPR 2018): per class,
    the Lovász extension of the Jaccard loss at the errors ``e_i = |[y_i = c] - p_i(c)|``.

    ::

        fg_i = [y_i = c],  e_i = |fg_i - p_i(c)|   over the non-ignored pixels of a set
        loss_c = sum_k e_(k) g_k(c)               (errors decreasing; g as in lovasz_hinge_loss)

    Shapes: ``pred`` probabilities ``(B, *spatial, C)`` with classes on ``axis`` (``axis=1``
    channels-first), or logits with ``activation="softmax"``; ``target`` integer labels
    ``(B, *spatial)`` in ``[0, C)`` or ``ignore_index`` (checked when concrete).
    Options (Berman's defaults): ``classes="present"`` (only classes occurring in the
    non-ignored labels of a set), ``"all"`` (an absent class costs ``max_i p_i(c)``) or a
    sequence of class ids; ``per_image=False`` (one set: the whole batch; ``True``: one set
    per image). ``class_weight`` (length C) and ``weight`` multiply the entries.
    ``"none"``: ``(B, C)`` with ``per_image=True``, ``(C,)`` otherwise, 0 for classes not
    selected; ``"mean"``: the sum over selected entries / their number. Berman with
    ``per_image=True, classes="present"`` averages per-image means instead; the two agree when
    every image selects as many classes (always with ``"all"``).
    Edge cases: no selected class (e.g. everything ignored) gives 0 with zero gradients;
    values are invariant to the order of tied errors (an unstable sort is used), gradients
    are a valid sub-gradient. References: ``kornia.losses.lovasz_softmax_loss`` equals
    ``per_image=True, classes="all", activation="softmax", axis=1``; Berman's
    ``lovasz_softmax`` and SMP ``LovaszLoss("multiclass")`` semantics.
    """
    fn = "lovasz_softmax_loss"
    check_choice(fn, "activation", activation, (None, "softmax"))
    check_bool(fn, "per_image", per_image)
    call = start(fn, pred, reduction=reduction, weight=weight, target=target)
    xp = call.xp
    ax = _class_axis(fn, axis, pred.ndim, binary="lovasz_hinge_loss")
    num_classes = pred.shape[ax]
    check_classes(fn, num_classes)
    call.classes = num_classes
    mode, ids = _class_selection(fn, classes, num_classes)
    ps = tuple(pred.shape)
    ts = tuple(target.shape)
    if ts != ps[:ax] + ps[ax + 1:]:
        raise ValueError(
            f"{fn}: `target` must hold integer labels of shape {ps[:ax] + ps[ax + 1:]}; got "
            f"`pred` {ps} and `target` {ts}{channels_first_hint(ps, ts, ax)}"
        )
    ii = check_ignore_index(fn, ignore_index, num_classes)
    target, ii = check_labels(fn, "target", xp, target, num_classes, ii)
    cw = call.vector("class_weight", class_weight, num_classes, pred)
    in_pred = None if ii is None else xp.expand_dims(target != ii, axis=ax)
    p = _probabilities(fn, call, pred, activation, ax, in_pred)
    batch = ps[0]
    n = math.prod(ps[1:]) // num_classes
    if per_image:
        p = xp.reshape(xp.moveaxis(p, ax, 1), (batch, num_classes, n))
        labels = xp.reshape(target, (batch, 1, n))
    else:
        p = xp.reshape(xp.moveaxis(p, ax, 0), (1, num_classes, batch * n))
        labels = xp.reshape(target, (1, 1, batch * n))
    ids_all = xp.arange(num_classes, dtype=target.dtype, device=_xp.device(target))
    fg = xp.astype(labels == xp.reshape(ids_all, (1, num_classes, 1)), call.dtype)
    errors = xp.abs(fg - p)
    valid = None
    if ii is not None:
        valid = labels != ii
        errors = xp.where(valid, errors, xp.zeros_like(errors))
    loss = _lovasz(xp, errors, fg, relu=False)  # (S, C)
    if mode == "present":
        selected = xp.sum(fg, axis=-1) > 0
    else:
        selected = xp.ones_like(loss) > 0
        if valid is not None:
            selected = selected & (xp.sum(xp.astype(valid, call.dtype), axis=-1) > 0)
        if mode == "list":
            chosen = [c in ids for c in range(num_classes)]
            selected = selected & xp.asarray(chosen, device=_xp.device(target))
    loss = xp.where(selected, loss, xp.zeros_like(loss))
    if cw is not None:
        loss = loss * cw
    counted = xp.astype(selected, call.dtype)
    if not per_image:
        loss = xp.reshape(loss, (num_classes,))
        counted = xp.reshape(counted, (num_classes,))
    return call.finish(loss, mask=counted)
