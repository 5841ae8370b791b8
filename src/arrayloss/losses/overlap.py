"""Overlap losses of segmentation: Dice, Jaccard, Tversky and focal Tversky.

**Statistics**: every loss of this family is a function of sums over the pixels of an
entry (true positives, predicted and target mass; each loss below defines them).

An entry is an (image, class) pair with ``per_image=True`` (sums over the spatial axes, as
MONAI's default ``batch=False``) or a class with ``per_image=False`` (sums also over the batch,
as MONAI ``batch=True`` and SMP). Shapes:

- ``axis=-1`` (default, channels-last) or any ``axis >= 1`` (``axis=1`` is channels-first):
  ``pred`` is ``(B, *spatial, C)``; ``target`` is integer labels ``(B, *spatial)`` (one-hot
  encoded internally, no Python loop over classes) or dense ``(B, *spatial, C)`` in ``[0, 1]``.
  Axis 0 is always the batch, so ``axis=0`` is refused.
- ``axis=None`` (binary): ``pred`` and ``target`` share a shape ``(B, *spatial)``; targets in
  ``[0, 1]`` (int, bool or float).

``activation``: ``None`` (``pred`` are probabilities, checked in ``[0, 1]`` when readable),
``"sigmoid"`` (independent logits, multi-label) or ``"softmax"`` (logits normalised along
``axis``; not with ``axis=None``).

**Score rule** (every overlap loss), with ``smooth`` added to ``num`` and ``smooth_dr``
(``None``: ``smooth``) to ``den``: ``score = num / max(den, eps)`` if ``den > 0``; if
``den == 0``, 1 when the entry is empty in both prediction and target (nothing to find,
nothing found) and 0 otherwise (a class present in the target that gets no predicted mass
is a miss). So a perfect prediction gives 0, also for
classes absent from both prediction and target, and an empty/empty entry has a zero
gradient. A class absent from the target but predicted scores 0 (loss 1) at ``smooth=0``;
MONAI keeps such classes too (smoothed by 1e-5), SMP zeroes them, kornia's macro average
drops them. A NaN in a counted position gives NaN.

**Averaging**: ``average="macro"`` (default) scores each class and averages the losses;
``"micro"`` pools the classes first (their statistics, times ``class_weight`` where given,
are summed over the class axis and scored once per image, or once per batch), as kornia's
default ``average="micro"`` and Keras's pooled ``dice``.

**Reduction**: ``"none"`` is ``(B, C)`` with ``per_image=True`` and ``(C,)`` otherwise
(``(B,)`` / ``()`` with ``axis=None`` or ``average="micro"``). ``class_weight`` (length C)
and ``weight`` multiply the entries; ``"mean"`` divides their sum by the number of entries
that hold at least one non-ignored pixel (MONAI semantics, not ``cross_entropy``'s division
by the weight sum).

**Ignored pixels** (``ignore_index``) leave every sum, numerator and denominator: with
integer labels the pixels labelled ``ignore_index``; with a dense target the pixels whose
target holds ``ignore_index`` in any class (fill the row of an ignored pixel with it, e.g.
``where(void, 255, one_hot)``; MONAI instead ignores all-zero one-hot rows, which a
multi-label target cannot tell from a pixel of no class); with ``axis=None`` the elements
equal to it. An entry whose pixels are all ignored has loss 0, is not counted, and gets zero
gradients.
"""

from __future__ import annotations

from typing import Any

from .. import _ops
from .._namespace import Array, Namespace
from .._reduce import start
from .._validate import (
    check_bool,
    check_choice,
    check_classes,
    check_ignore_index,
    check_label_shape,
    check_labels,
    check_number,
)
from ._pixels import (
    ACTIVATIONS,
    binary_target,
    check_binary_shapes,
    class_axis,
    probabilities,
)
from ._scoring import _overlap_loss, _pool, _score, _Stats, over_batch

__all__ = ["dice_loss", "focal_tversky_loss", "jaccard_loss", "tversky_loss"]


def _sum(xp: Namespace, x: Array, axes: tuple[int, ...]) -> Array:
    """Sum over ``axes``; no axes means no reduction (torch's ``sum(dim=())`` sums all)."""
    return xp.sum(x, axis=axes) if axes else x


AVERAGES = ("macro", "micro")


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
    include_background: Any,
    weight: Array | None,
    reduction: str,
    where: Array | None = None,
    replicas: Any = None,
    smooth_dr: Any = None,
    average: Any = "macro",
    squares: bool = False,
    log_softmax: bool = False,
) -> _Stats:
    """Validate the shared options and compute TP, Sp, Sg (and Sp2, Sg2) per entry, pooled
    over the classes with ``average="micro"``."""
    smooth = check_number(fn, "smooth", smooth, ge=0.0)
    smooth_dr = smooth if smooth_dr is None else check_number(fn, "smooth_dr", smooth_dr,
                                                              ge=0.0)
    eps = check_number(fn, "eps", eps, gt=0.0)
    check_choice(fn, "activation", activation, ACTIVATIONS)
    check_choice(fn, "average", average, AVERAGES)
    check_bool(fn, "per_image", per_image)
    check_bool(fn, "include_background", include_background)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    xp = call.xp
    ax: int | None
    if axis is None:
        if not include_background:
            raise ValueError(f"{fn}: `include_background` False needs a class axis; got "
                             "axis=None (binary)")
        if activation == "softmax":
            raise ValueError(
                f"{fn}: `activation` 'softmax' needs a class axis; got axis=None (binary)"
            )
        if class_weight is not None:
            raise ValueError(f"{fn}: `class_weight` needs a class axis; got axis=None (binary)")
        check_binary_shapes(fn, pred, target)
        ax, labels, num_classes = None, False, 2
    else:
        ax = class_axis(fn, axis, pred.ndim)
        labels = not check_label_shape(fn, pred, target, ax)
        num_classes = pred.shape[ax]
        check_classes(fn, num_classes)
        if not include_background and num_classes < 2:
            raise ValueError(f"{fn}: `include_background` False drops class 0 and needs at "
                             f"least 2 classes; got {num_classes} on axis {axis}")
        call.classes = num_classes
    ii = check_ignore_index(fn, ignore_index, num_classes)
    class_w = None if ax is None else call.array_option("class_weight", class_weight, pred,
                                                        shape=(num_classes,))
    valid = y = None
    if labels and ax is not None:
        y, ii = check_labels(fn, "target", xp, target, num_classes, ii)
        g = _ops.one_hot(xp, y, num_classes, call.dtype, axis=ax)  # ignored: all-zero row
        if ii is not None:
            valid = xp.expand_dims(y != ii, axis=ax)
    else:
        g, valid = binary_target(fn, call, target, ii)
        if ax is not None and valid is not None:
            # a pixel is ignored where any of its classes holds ignore_index
            valid = xp.all(valid, axis=ax, keepdims=True)
            g = xp.where(valid, g, xp.zeros_like(g))
    x = call.float(pred)
    if valid is not None:
        x = xp.where(valid, x, xp.zeros_like(x))
    log_p = None
    if log_softmax and activation == "softmax" and ax is not None:
        # one log-softmax for the Dice and the cross-entropy terms of the compounds
        log_p = _ops.log_softmax(xp, x, axis=ax)
        p = xp.exp(log_p)
        if valid is not None:
            p = xp.where(valid, p, xp.zeros_like(p))
    else:
        p = probabilities(fn, call, pred, activation, ax, valid)
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
    full_w = class_w
    if not include_background:  # the class is the last axis of every statistic
        tp, sp, sg = tp[..., 1:], sp[..., 1:], sg[..., 1:]
        sp2 = sp2[..., 1:] if sp2 is not None else None
        sg2 = sg2[..., 1:] if sg2 is not None else None
        counted = counted[..., 1:] if counted is not None else None
        class_w = class_w[1:] if class_w is not None else None
    s = _Stats(call, tp, sp, sg, sp2, sg2, counted, class_w, smooth, smooth_dr, eps, ax,
               ax is not None, x, p, g, valid, labels, log_p, full_w, per_image, y)
    return _pool(s, s.class_weight) if average == "micro" else s


_SHARED_DOC = r"""
    The statistics are sums over the non-ignored pixels :math:`i` of one entry (an image and
    a class with ``per_image=True``, a class over the whole batch otherwise), with
    :math:`p_i` the predicted probability, :math:`g_i` the target and :math:`\varepsilon` =
    ``eps``:

    .. math::

        \mathrm{TP} = \sum_i p_i\,g_i,
        \quad
        S_p = \sum_i p_i,
        \quad
        S_g = \sum_i g_i,
        \quad
        \mathrm{FP} = S_p - \mathrm{TP},
        \quad
        \mathrm{FN} = S_g - \mathrm{TP}

    A ratio whose denominator (smoothing included) is 0 scores 1 if :math:`S_p + S_g = 0`
    (nothing to find, nothing found) and 0 otherwise.

    Shapes: ``axis=-1`` (default) ``pred`` ``(B, *spatial, C)`` with integer labels
    ``(B, *spatial)`` or a dense ``(B, *spatial, C)`` target in ``[0, 1]``; ``axis=1`` for
    channels-first; ``axis=None`` for binary input (``pred`` and ``target`` of one shape
    ``(B, *spatial)``). ``activation``: ``None`` (probabilities), ``"sigmoid"`` or
    ``"softmax"`` (logits; softmax needs a class axis). ``per_image=True``: one entry per
    (image, class); ``False`` pools the batch. ``smooth`` (>= 0) is added to the numerator
    and ``smooth_dr`` (>= 0; ``None``: ``smooth``) to the denominator (MONAI's
    ``smooth_nr``/``smooth_dr``; with ``smooth_dr > 0`` and ``smooth=0`` a class absent from
    both scores 0, loss 1, as in MONAI); ``eps`` (> 0) clamps the denominator (and the score
    inside ``log``). ``average="micro"`` pools the classes before the ratio, each statistic
    summed over the classes :math:`c` times ``class_weight`` :math:`w_c` (e.g.
    :math:`\mathrm{TP} = \sum_c w_c\,\mathrm{TP}_c`): one entry per image (``per_image``) or
    one in all. ``ignore_index`` removes pixels from every sum: integer labels equal to it,
    or pixels of a dense target holding it in any class (elements with ``axis=None``).
    ``class_weight`` (length C) and ``weight`` multiply the entries. ``"none"`` returns the
    ``(B, C)`` / ``(C,)`` matrix (``(B,)`` / ``()`` binary or micro); ``"mean"`` is
    :math:`\sum_e w_e\,\ell_e / |E|`, with :math:`w_e` the weights of entry :math:`e` and
    :math:`E` the entries holding a non-ignored pixel (0 when there is none, with zero
    gradients).
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
    smooth_dr: float | None = None,
    average: str = "macro",
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    include_background: bool = True,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    fn = "dice_loss"
    check_bool(fn, "squared", squared)
    check_bool(fn, "log", log)
    s = _overlap_stats(fn, pred, target, axis=axis, activation=activation, per_image=per_image,
                       smooth=smooth, smooth_dr=smooth_dr, average=average, eps=eps,
                       class_weight=class_weight, ignore_index=ignore_index,
                       include_background=include_background, weight=weight, where=where,
                       replicas=replicas,
                       reduction=reduction, squares=squared)

    def body(s: _Stats) -> Array:
        den = (s.sp2 + s.sg2 if squared and s.sp2 is not None and s.sg2 is not None
               else s.sp + s.sg)
        return _overlap_loss(s, _score(s, 2.0 * s.tp, den), log=log)

    return over_batch(s, body)


dice_loss.__doc__ = _doc(
    r"""Soft Dice loss: one minus the soft Dice coefficient of each entry.

    .. math::

        \begin{aligned}
            \ell &= \begin{cases}
                1 - D & \texttt{log=False} \\
                -\log \max(D, \varepsilon) & \texttt{log=True}
            \end{cases}
            \qquad
            D = \frac{2\,\mathrm{TP} + \mathrm{smooth}}
                {\max\bigl(S + \mathrm{smooth}_{\mathrm{dr}},\ \varepsilon\bigr)} \\
            S &= \begin{cases}
                S_p + S_g & \texttt{squared=False} \\
                \sum_i p_i^2 + \sum_i g_i^2 & \texttt{squared=True}
            \end{cases}
        \end{aligned}

    ``squared=True`` uses the V-Net denominator (Milletari et al., "V-Net", 3DV 2016).
    Reference: ``monai.losses.DiceLoss`` with ``smooth_nr=0, smooth_dr=0``
    (``squared_pred=True``, ``batch=True`` for ``per_image=False``, ``weight`` for
    ``class_weight``) gives the same values; MONAI's default smoothing 1e-5 is
    ``smooth=1e-5``. Gradient (linear, one entry, :math:`s` = ``smooth`` = ``smooth_dr``):

    .. math::

        \frac{\partial \ell}{\partial p_j}
        = -\frac{2 g_j\,(S_p + S_g + s) - (2\,\mathrm{TP} + s)}{(S_p + S_g + s)^2}
    """
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
    smooth_dr: float | None = None,
    average: str = "macro",
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    include_background: bool = True,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    fn = "jaccard_loss"
    check_bool(fn, "log", log)
    s = _overlap_stats(fn, pred, target, axis=axis, activation=activation, per_image=per_image,
                       smooth=smooth, smooth_dr=smooth_dr, average=average, eps=eps,
                       class_weight=class_weight, ignore_index=ignore_index,
                       include_background=include_background, weight=weight, where=where,
                       replicas=replicas,
                       reduction=reduction)
    return over_batch(s, lambda s: _overlap_loss(s, _score(s, s.tp, s.sp + s.sg - s.tp),
                                                 log=log))


jaccard_loss.__doc__ = _doc(
    r"""Soft Jaccard (IoU) loss: one minus the soft intersection over union of each entry.

    .. math::

        \ell = \begin{cases}
            1 - J & \texttt{log=False} \\
            -\log \max(J, \varepsilon) & \texttt{log=True}
        \end{cases}
        \qquad
        J = \frac{\mathrm{TP} + \mathrm{smooth}}
            {\max\bigl(S_p + S_g - \mathrm{TP} + \mathrm{smooth}_{\mathrm{dr}},\
                \varepsilon\bigr)}

    With ``smooth=0``, :math:`J = D / (2 - D)` for the linear Dice coefficient :math:`D` of
    ``dice_loss``: same optimum. Reference: ``monai.losses.DiceLoss(jaccard=True,
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

    def body(s: _Stats) -> Array:
        den = s.tp + alpha * (s.sp - s.tp) + beta * (s.sg - s.tp)
        return _overlap_loss(s, _score(s, s.tp, den), gamma=gamma)

    return over_batch(s, body)


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
    smooth_dr: float | None = None,
    average: str = "macro",
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    include_background: bool = True,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    return _tversky("tversky_loss", pred, target, alpha=alpha, beta=beta, gamma=None,
                    axis=axis, activation=activation, per_image=per_image, smooth=smooth,
                    smooth_dr=smooth_dr, average=average, eps=eps,
                    class_weight=class_weight, ignore_index=ignore_index,
                    include_background=include_background, weight=weight, where=where,
                    replicas=replicas,
                    reduction=reduction)


tversky_loss.__doc__ = _doc(
    r"""Tversky loss (Salehi et al., MLMI 2017, arXiv 1706.05721): one minus the Tversky index
    of each entry.

    .. math::

        \ell = 1 - \mathrm{TI},
        \qquad
        \mathrm{TI} = \frac{\mathrm{TP} + \mathrm{smooth}}
            {\max\bigl(\mathrm{TP} + \alpha\,\mathrm{FP} + \beta\,\mathrm{FN}
                + \mathrm{smooth}_{\mathrm{dr}},\ \varepsilon\bigr)}

    **alpha weights false positives, beta false negatives** (the paper's Eq. 2; MONAI, SMP).
    Defaults 0.5/0.5 equal ``dice_loss``; :math:`\alpha = \beta = 1` is ``jaccard_loss``.
    The paper's recommended setting is ``alpha=0.3, beta=0.7`` (recall first). Both must
    be >= 0; their sum need not be 1. Reference:
    ``monai.losses.TverskyLoss(smooth_nr=0, smooth_dr=0)``. keras 3's ``tversky`` swaps the
    two weights."""
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
    smooth_dr: float | None = None,
    average: str = "macro",
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    include_background: bool = True,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    fn = "focal_tversky_loss"
    gamma = check_number(fn, "gamma", gamma, gt=0.0)
    return _tversky(fn, pred, target, alpha=alpha, beta=beta, gamma=gamma, axis=axis,
                    activation=activation, per_image=per_image, smooth=smooth,
                    smooth_dr=smooth_dr, average=average, eps=eps,
                    class_weight=class_weight, ignore_index=ignore_index,
                    include_background=include_background, weight=weight, where=where,
                    replicas=replicas,
                    reduction=reduction)


focal_tversky_loss.__doc__ = _doc(
    r"""Focal Tversky loss (Abraham & Khan, ISBI 2019, arXiv 1810.07842): a power of the
    Tversky loss, per entry.

    .. math::

        \ell = \max(1 - \mathrm{TI},\ 0)^{\gamma},
        \qquad
        \mathrm{TI} = \frac{\mathrm{TP} + \mathrm{smooth}}
            {\max\bigl(\mathrm{TP} + \alpha\,\mathrm{FP} + \beta\,\mathrm{FN}
                + \mathrm{smooth}_{\mathrm{dr}},\ \varepsilon\bigr)}

    :math:`\mathrm{TI}` is the Tversky index of ``tversky_loss``. ``gamma=0.75`` is the
    exponent that is applied (the paper's :math:`1/\gamma` with its best :math:`\gamma` 4/3,
    and its official code). ``gamma <= 0`` raises ``ValueError``; ``gamma=1`` is
    ``tversky_loss``. The paper puts alpha on FN: its ``alpha=0.7, beta=0.3`` is
    ``alpha=0.3, beta=0.7`` here; its code adds ``smooth=1``. The power is masked: 0 with a
    zero gradient at a perfect entry, finite (large) gradients near it. The exponent is
    applied per entry, then the mean (SMP applies it after the class mean)."""
)
