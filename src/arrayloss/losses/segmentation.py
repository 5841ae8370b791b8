"""Segmentation losses built on the overlap statistics of ``overlap``: the generalised Dice
loss, and the compounds Dice + cross-entropy and Dice + focal.

Inputs, ``axis``, ``activation``, ``per_image``, ``ignore_index``, ``include_background``,
``smooth``/``smooth_dr``/``eps`` and the score rule are those of ``dice_loss`` (see
``arrayloss.losses.overlap``).

- ``generalized_dice_loss`` combines the classes inside one ratio of weighted sums (Sudre et
  al. 2017), with weights from the target alone.
- ``dice_ce_loss`` / ``dice_focal_loss`` return ``lambda_dice * dice + lambda_* * term``,
  each part reduced on its own (``"mean"`` or ``"sum"``; their unreduced shapes differ, so
  there is no ``"none"``). With ``activation="softmax"`` the second term is the softmax
  cross-entropy (focal loss) over the class axis, computed from the same log-softmax as the
  Dice probabilities; a single channel is refused there (a softmax over one class is 1 and
  its cross-entropy identically 0: MONAI's ``DiceCELoss`` silently returns the Dice term
  alone). With ``activation="sigmoid"`` (multi-label, or a binary mask of one channel or
  ``axis=None``) it is the binary cross-entropy (sigmoid focal loss) of every channel
  against the one-hot or dense target, averaged over the counted elements.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._namespace import Array, device
from .._validate import (
    check_axis,
    check_bool,
    check_choice,
    check_nonnegative,
    check_number,
    check_probabilities,
    check_smoothing,
)
from ._scoring import _overlap_loss, _pool, _score, _Stats, over_batch
from ._softmax import pow_one_minus_exp
from .binary import binary_cross_entropy_with_logits, sigmoid_focal_loss
from .overlap import _overlap_stats

__all__ = ["dice_ce_loss", "dice_focal_loss", "generalized_dice_loss"]

WEIGHT_TYPES = ("square", "simple", "uniform")


def generalized_dice_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int | None = -1,
    activation: str | None = None,
    weight_type: str = "square",
    per_image: bool = True,
    smooth: float = 0.0,
    smooth_dr: float | None = None,
    eps: float = 1e-7,
    ignore_index: int | None = None,
    include_background: bool = True,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Generalised Dice loss (Sudre et al., "Generalised Dice overlap as a deep learning loss
    function for highly unbalanced segmentations", DLMIA 2017).

    .. math::

        \begin{aligned}
            \ell &= 1 - \frac{2 \sum_c w_c\,\mathrm{TP}_c + \mathrm{smooth}}
                {\max\bigl(\sum_c w_c\,(S_{p,c} + S_{g,c}) + \mathrm{smooth}_{\mathrm{dr}},\
                    \varepsilon\bigr)} \\
            w_c &= \begin{cases}
                1 / S_{g,c}^2 & \texttt{"square"} \text{ (Sudre)} \\
                1 / S_{g,c} & \texttt{"simple"} \\
                1 & \texttt{"uniform"}
            \end{cases}
            \quad \text{if } S_{g,c} > 0,
            \qquad
            w_c = \max_{c' :\, S_{g,c'} > 0} w_{c'} \quad \text{if } S_{g,c} = 0
        \end{aligned}

    per entry (an image with ``per_image=True``, the batch otherwise), with the per-class
    statistics :math:`\mathrm{TP}_c = \sum_i p_{ic}\,g_{ic}`, :math:`S_{p,c} = \sum_i p_{ic}`
    and :math:`S_{g,c} = \sum_i g_{ic}` of ``dice_loss`` (sums over the entry's non-ignored
    pixels :math:`i`), :math:`w_c` chosen by ``weight_type`` and :math:`\varepsilon` =
    ``eps``. A denominator of 0 (smoothing included) scores 1 (loss 0) where the weighted
    sum of :math:`S_{p,c} + S_{g,c}` is 0, and 0 otherwise.

    The classes are combined inside the ratio (not a class-weighted mean of per-class Dice
    losses). The weights depend on the target only and carry no gradient. An absent class
    gets the entry's largest weight (MONAI's rule), so predicted mass on it is penalised
    strongly. With ``"square"`` or ``"simple"`` an entry with no class present has every
    weight 0 and loss 0 (zero gradient); ``weight_type="uniform"`` keeps the weight 1 on
    every class: it is the micro-averaged Dice (``dice_loss(average="micro")``), also on an
    entry with no class present. With one class, or ``axis=None``, the weight cancels and the
    loss is ``dice_loss`` at ``smooth=0``, except that an empty target gives 0, not 1 (with
    ``axis=None`` for every ``weight_type``; with one class on a class axis for ``"square"``
    and ``"simple"``).

    Shapes and options as ``dice_loss`` (``axis``, ``activation``, ``per_image``,
    ``ignore_index``, ``include_background``: class 0 leaves the sums and the weights' max),
    without ``class_weight`` (the weights are the loss) or ``average``. ``smooth=0.0`` and
    ``smooth_dr=None`` (the numerator's); MONAI uses 1e-5 for both. ``"none"``: ``(B,)``
    with ``per_image=True``, ``()`` otherwise; ``"mean"`` over the entries holding a
    non-ignored pixel. Bad ``weight_type`` raises ``ValueError``.

    Reference: ``monai.losses.GeneralizedDiceLoss(w_type=weight_type, smooth_nr=smooth,
    smooth_dr=smooth, batch=not per_image)`` (channels-first; its weights are computed in
    float32). optax's ``multiclass_generalized_dice_loss`` is a different quantity (a mean
    of per-class Dice losses with batch-level normalised weights).
    """
    fn = "generalized_dice_loss"
    check_choice(fn, "weight_type", weight_type, WEIGHT_TYPES)
    s = _overlap_stats(fn, pred, target, axis=axis, activation=activation, per_image=per_image,
                       smooth=smooth, smooth_dr=smooth_dr, eps=eps, class_weight=None,
                       ignore_index=ignore_index, include_background=include_background,
                       weight=weight, where=where, replicas=replicas, reduction=reduction)
    xp = s.call.xp

    def body(s: _Stats) -> Array:  # the weights need the pooled sums: after the replicas'
        sg = _ops.stop_gradient(xp, s.sg)
        present = sg > 0
        if weight_type == "uniform":
            w = xp.ones_like(sg)
        else:
            safe = xp.where(present, sg, xp.ones_like(sg))
            w = 1.0 / (safe * safe) if weight_type == "square" else 1.0 / safe
            w = xp.where(present, w, xp.zeros_like(w))
        largest = xp.max(w, axis=-1, keepdims=True) if s.classes else xp.zeros_like(w)
        w = xp.where(present, w, largest + xp.zeros_like(w))
        s = _pool(s, w)
        return _overlap_loss(s, _score(s, 2.0 * s.tp, s.sp + s.sg))

    return over_batch(s, body)


# ---------------------------------------------------------------------------------------
# compounds


def _compound_weight(fn: str, s: _Stats, per_image: bool) -> Array | None:
    """The per-image ``weight`` ``(B,)`` (checked) of a compound, as the Dice entries'
    weight; the call's weight is replaced by it."""
    w = s.call.weight
    if w is None:
        return None
    if not per_image:
        raise ValueError(f"{fn}: `weight` is per image and needs per_image=True (per_image="
                         "False pools the batch)")
    b = s.x.shape[0]
    if tuple(w.shape) != (b,):
        raise ValueError(f"{fn}: `weight` must have shape ({b},), one value per image; got "
                         f"{tuple(w.shape)}")
    w = s.call.float(w)
    s.call.weight = s.call.xp.reshape(w, (b, 1) if s.classes else (b,))
    return w


def _softmax_term(s: _Stats, w_img: Array | None, *, ls: float, gamma: float | None,
                  alpha: Array | None) -> Array:
    """Softmax cross-entropy (``gamma`` None) or focal loss over the class axis, from the
    log-softmax the Dice term used, reduced as ``cross_entropy`` / ``softmax_focal_loss``:
    integer labels divide by the class weights of the counted labels, dense targets by the
    number of counted pixels."""
    call, xp, ax = s.call, s.call.xp, s.ax
    assert ax is not None
    log_p = s.log_p if s.log_p is not None else _ops.log_softmax(xp, s.x, axis=ax)
    c = log_p.shape[ax]
    valid = None if s.valid is None else xp.squeeze(s.valid, axis=ax)
    if (s.y is not None and ls == 0.0 and not gamma and alpha is None
            and s.full_class_weight is None):
        # the label's entry, gathered (the one-hot product costs three full passes); a
        # label outside the classes (ignored, or unchecked with validate=False) gathers
        # the nearest class and gives NaN, which the mask below replaces at ignored pixels
        y = _ops.clip(xp, s.y, min=0, max=c - 1)
        loss = -xp.squeeze(_ops.take_along_axis(xp, log_p, xp.expand_dims(y, axis=ax), ax),
                           axis=ax)
        loss = _ops.fill(xp, y != s.y, math.nan, loss)
    else:
        q = s.g if ls == 0.0 else (1.0 - ls) * s.g + ls / c
        if gamma is not None and gamma != 0.0:
            q = q * pow_one_minus_exp(xp, log_p, gamma)
        for vec in (alpha, s.full_class_weight):
            if vec is not None:
                q = q * _ops.along(xp, vec, q.ndim, ax)
        loss = -xp.sum(_ops.mul0(xp, q, log_p), axis=ax)
    if valid is not None:
        loss = xp.where(valid, loss, xp.zeros_like(loss))
    count = None
    if s.labels and s.full_class_weight is not None:  # sum of the counted labels' weights
        count = xp.sum(s.g * _ops.along(xp, s.full_class_weight, s.g.ndim, ax), axis=ax)
    elif valid is not None:
        count = xp.astype(valid, call.dtype)
    w = None if w_img is None else xp.reshape(w_img, (-1, *([1] * (loss.ndim - 1))))
    pix = call.sibling(w)
    if count is None:
        count = xp.ones_like(loss)
    return pix.finish(loss, count=count)


def _sigmoid_term(s: _Stats, w_img: Array | None, background: bool, binary: Any,
                  **options: Any) -> Array:
    """``binary`` (a binary loss on logits) of every channel against the one-hot or dense
    target, times the class weights; ignored pixels and, without the background, channel 0
    leave the sum and the mean's count."""
    call, xp, ax = s.call, s.call.xp, s.ax
    loss = binary(s.x, s.g, **options, reduction="none")
    counted = xp.ones_like(loss) if s.valid is None else \
        xp.zeros_like(loss) + xp.astype(s.valid, call.dtype)
    if ax is not None and s.full_class_weight is not None:
        loss = loss * _ops.along(xp, s.full_class_weight, loss.ndim, ax)
    if ax is not None and not background:
        keep = xp.astype(xp.arange(loss.shape[ax], device=device(loss)) > 0, call.dtype)
        counted = counted * _ops.along(xp, keep, loss.ndim, ax)
    w = None if w_img is None else xp.reshape(w_img, (-1, *([1] * (loss.ndim - 1))))
    pix = call.sibling(w)
    return pix.finish(loss * counted, count=counted)


_COMPOUND_DOC = """
    ``pred``: logits (``activation`` ``"softmax"``, the default, or ``"sigmoid"``); shapes,
    ``axis`` (``-1``; ``1`` channels-first; ``None`` binary with ``"sigmoid"``) and the Dice
    options (``include_background``, ``squared``, ``log``, ``per_image``, ``smooth``,
    ``smooth_dr``, ``average``, ``eps``) as ``dice_loss``. ``class_weight`` (length C)
    weights both terms (the Dice entries; the cross-entropy's classes, with its denominator
    rule for integer labels). ``ignore_index`` (integer labels, or a dense target holding
    it) leaves both terms: ignored pixels give 0 and exactly zero gradient.
    ``include_background=False`` drops class 0 from the Dice term and from the sigmoid
    term; the softmax term always sees every class (its normalisation needs them).
    ``weight``: one value per image, shape ``(B,)`` (``per_image=True`` only), multiplying
    the image's Dice entries and pixels. ``reduction``: ``"mean"`` (each term's mean) or
    ``"sum"`` (each term's sum). ``lambda_dice`` and the second term's lambda are ``>= 0``.
    A single channel with ``activation="softmax"`` raises ``ValueError`` (use ``"sigmoid"``
    for a binary mask).
"""


def _compound_start(fn: str, pred: Array, target: Array, *, activation: Any, axis: Any,
                    reduction: Any, lambdas: dict[str, Any], squared: Any, log: Any,
                    **dice: Any) -> tuple[_Stats, Array | None, dict[str, float]]:
    """Check the compound's options, compute the Dice statistics (one log-softmax)."""
    check_choice(fn, "reduction", reduction, ("mean", "sum"))
    check_choice(fn, "activation", activation, ("softmax", "sigmoid"))
    lam = {k: check_number(fn, k, v, ge=0.0) for k, v in lambdas.items()}
    check_bool(fn, "squared", squared)
    check_bool(fn, "log", log)
    if activation == "softmax" and axis is not None and getattr(pred, "ndim", 0) >= 2:
        ax = check_axis(fn, axis, pred.ndim)
        if pred.shape[ax] == 1:
            raise ValueError(
                f"{fn}: `activation` 'softmax' over 1 channel makes the cross-entropy term "
                "identically 0 (a softmax over one class is 1); use activation='sigmoid' "
                "for a binary mask")
    s = _overlap_stats(fn, pred, target, axis=axis, activation=activation, reduction=reduction,
                       squares=squared, log_softmax=True, **dice)
    s.call.defer = s.call.replicas is not None  # both terms' statistics, one collective
    return s, _compound_weight(fn, s, dice["per_image"]), lam


def _dice_term(s: _Stats, squared: bool, log: bool) -> Array:
    den = s.sp2 + s.sg2 if squared and s.sp2 is not None and s.sg2 is not None else s.sp + s.sg
    return _overlap_loss(s, _score(s, 2.0 * s.tp, den), log=log)


def dice_ce_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int | None = -1,
    activation: str = "softmax",
    include_background: bool = True,
    squared: bool = False,
    log: bool = False,
    per_image: bool = True,
    smooth: float = 0.0,
    smooth_dr: float | None = None,
    average: str = "macro",
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    lambda_dice: float = 1.0,
    lambda_ce: float = 1.0,
    weight: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    fn = "dice_ce_loss"
    ls = check_smoothing(fn, label_smoothing)
    s, w_img, lam = _compound_start(
        fn, pred, target, activation=activation, axis=axis, reduction=reduction,
        lambdas={"lambda_dice": lambda_dice, "lambda_ce": lambda_ce}, squared=squared,
        log=log, per_image=per_image, smooth=smooth, smooth_dr=smooth_dr, average=average,
        eps=eps, class_weight=class_weight, ignore_index=ignore_index,
        include_background=include_background, weight=weight, replicas=replicas)
    check_nonnegative(fn, "class_weight", s.call.xp, s.full_class_weight)
    if activation == "softmax":
        second = _softmax_term(s, w_img, ls=ls, gamma=None, alpha=None)
    else:
        second = _sigmoid_term(s, w_img, include_background,
                               binary_cross_entropy_with_logits, label_smoothing=ls)
    dice = over_batch(s, lambda s: _dice_term(s, squared, log))
    return s.call.combine([(lam["lambda_dice"], dice), (lam["lambda_ce"], second)])


dice_ce_loss.__doc__ = r"""Dice + cross-entropy, a weighted sum of the two losses, nnU-Net's
    default segmentation loss (Isensee et al., Nature Methods 2021).

    .. math::

        \begin{aligned}
            L &= \lambda_{\mathrm{dice}}\,L_{\mathrm{Dice}}
                + \lambda_{\mathrm{ce}}\,L_{\mathrm{CE}},
            \qquad
            L_{\mathrm{CE}} = \frac{\sum_i \ell_i}{\sum_i n_i}
            \quad \bigl(\texttt{"sum"}\text{: } \textstyle\sum_i \ell_i\bigr) \\
            \ell_i &= -\sum_c w_c\,q_{ic} \log p_{ic},
            \qquad
            q_{ic} = (1 - \mathrm{ls})\,g_{ic} + \frac{\mathrm{ls}}{C},
            \qquad
            p_i = \operatorname{softmax}(x_i)
            \quad \text{(softmax)} \\
            \ell_{ic} &= -w_c \bigl(q_{ic} \log \sigma(x_{ic})
                + (1 - q_{ic}) \log \sigma(-x_{ic})\bigr),
            \qquad
            q_{ic} = (1 - \mathrm{ls})\,g_{ic} + \frac{\mathrm{ls}}{2}
            \quad \text{(sigmoid)}
        \end{aligned}

    with :math:`L_{\mathrm{Dice}}` the reduced ``dice_loss``, :math:`x` = ``pred`` (logits),
    :math:`g` the one-hot or dense target, :math:`C` classes, :math:`w_c` = ``class_weight``
    (1 when None), :math:`\mathrm{ls}` = ``label_smoothing``, and :math:`i` the non-ignored
    pixels; the count :math:`n_i` is :math:`w_{y_i}` for integer labels with
    ``class_weight`` and 1 otherwise. With ``activation="sigmoid"`` the mean runs over the
    counted elements :math:`(i, c)`.

    The Dice term is ``dice_loss`` with the same options; the cross-entropy term is
    ``cross_entropy`` (``activation="softmax"``: integer labels or dense targets,
    ``label_smoothing`` and ``class_weight`` with its denominator rule) computed from the
    log-softmax that gives the Dice probabilities, or, with ``activation="sigmoid"``, the
    mean over the counted elements of ``binary_cross_entropy_with_logits`` of every channel
    against the one-hot (or dense) target (``label_smoothing`` towards 1/2).
""" + _COMPOUND_DOC + """
    Reference: ``monai.losses.DiceCELoss(softmax=True, to_onehot_y=True, smooth_nr=smooth,
    smooth_dr=smooth)`` (its ``weight`` is ``class_weight``); with one output channel its
    cross-entropy term is identically 0, here a ``ValueError`` (softmax) or the binary
    cross-entropy (sigmoid).
"""


def dice_focal_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int | None = -1,
    activation: str = "softmax",
    focal: str | None = None,
    gamma: float = 2.0,
    alpha: Any = None,
    include_background: bool = True,
    squared: bool = False,
    log: bool = False,
    per_image: bool = True,
    smooth: float = 0.0,
    smooth_dr: float | None = None,
    average: str = "macro",
    eps: float = 1e-7,
    class_weight: Any = None,
    ignore_index: int | None = None,
    lambda_dice: float = 1.0,
    lambda_focal: float = 1.0,
    weight: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    fn = "dice_focal_loss"
    focal = check_choice(fn, "focal", focal, (None, "softmax", "sigmoid"))
    focal = activation if focal is None else focal
    gamma = check_number(fn, "gamma", gamma, ge=0.0)
    if focal == "sigmoid" and alpha is not None:
        alpha = check_number(fn, "alpha", alpha, ge=0.0, le=1.0)
    elif alpha is not None and isinstance(alpha, (int, float)):
        raise ValueError(f"{fn}: `alpha` with focal='softmax' must be None or one value per "
                         f"class (length C); got the scalar {alpha!r}")
    s, w_img, lam = _compound_start(
        fn, pred, target, activation=activation, axis=axis, reduction=reduction,
        lambdas={"lambda_dice": lambda_dice, "lambda_focal": lambda_focal}, squared=squared,
        log=log, per_image=per_image, smooth=smooth, smooth_dr=smooth_dr, average=average,
        eps=eps, class_weight=class_weight, ignore_index=ignore_index,
        include_background=include_background, weight=weight, replicas=replicas)
    xp = s.call.xp
    check_nonnegative(fn, "class_weight", xp, s.full_class_weight)
    if focal == "softmax":
        if s.ax is None:
            raise ValueError(f"{fn}: `focal` 'softmax' needs a class axis; got axis=None")
        a = s.call.array_option("alpha", alpha, pred, shape=(pred.shape[s.ax],))
        if a is not None:
            check_probabilities(fn, "alpha", xp, a)
        second = _softmax_term(s, w_img, ls=0.0, gamma=gamma, alpha=a)
    else:
        second = _sigmoid_term(s, w_img, include_background, sigmoid_focal_loss,
                               alpha=alpha, gamma=gamma)
    dice = over_batch(s, lambda s: _dice_term(s, squared, log))
    return s.call.combine([(lam["lambda_dice"], dice), (lam["lambda_focal"], second)])


dice_focal_loss.__doc__ = r"""Dice + focal, a weighted sum of the Dice and the focal losses.

    .. math::

        \begin{aligned}
            L &= \lambda_{\mathrm{dice}}\,L_{\mathrm{Dice}}
                + \lambda_{\mathrm{focal}}\,L_{\mathrm{focal}} \\
            \ell_i &= -\sum_c a_c\,w_c\,g_{ic}\,(1 - p_{ic})^{\gamma} \log p_{ic},
            \qquad
            p_i = \operatorname{softmax}(x_i)
            \quad \text{(softmax)} \\
            \ell_{ic} &= -w_c\,\alpha_t\,d_{ic}^{\gamma}
                \bigl(g_{ic} \log \sigma(x_{ic}) + (1 - g_{ic}) \log \sigma(-x_{ic})\bigr)
            \quad \text{(sigmoid)} \\
            d_{ic} &= g_{ic}\,\sigma(-x_{ic}) + (1 - g_{ic})\,\sigma(x_{ic}),
            \qquad
            \alpha_t = \alpha\,g_{ic} + (1 - \alpha)(1 - g_{ic})
        \end{aligned}

    with :math:`L_{\mathrm{Dice}}` the reduced ``dice_loss`` and :math:`L_{\mathrm{focal}}`
    the reduced focal term: with ``focal="softmax"`` :math:`\sum_i \ell_i / \sum_i n_i` (the
    counts :math:`n_i` of ``dice_ce_loss``), with ``focal="sigmoid"`` the mean of
    :math:`\ell_{ic}` over the counted elements :math:`(i, c)`; ``"sum"`` sums instead.
    :math:`x` = ``pred`` (logits), :math:`g` the one-hot or dense target, :math:`w_c` =
    ``class_weight`` (1 when None), :math:`a_c` = ``alpha`` per class (softmax; 1 when None),
    :math:`\alpha` = ``alpha`` (sigmoid; :math:`\alpha_t = 1` when None) and :math:`\gamma` =
    ``gamma``; :math:`d_{ic} = 1 - p_t` is the base of the focal factor.

    The Dice term is ``dice_loss`` with the same options. The focal term (Lin et al., ICCV
    2017) follows ``focal`` (``None``: as ``activation``): ``"softmax"`` is
    ``softmax_focal_loss`` over the class axis (``alpha`` None or one value per class in
    ``[0, 1]``; ``class_weight`` and the denominators of ``cross_entropy``), from the
    log-softmax of the Dice term; ``"sigmoid"`` is ``sigmoid_focal_loss`` of every channel
    against the one-hot (or dense) target (``alpha`` None or a number in ``[0, 1]``),
    averaged over the counted elements. ``gamma=2.0`` (>= 0) for both.
""" + _COMPOUND_DOC + """
    Reference: ``monai.losses.DiceFocalLoss(softmax=True, to_onehot_y=True)`` applies a
    *sigmoid* focal loss to the one-hot target even with a softmax Dice term: that is
    ``focal="sigmoid"`` here (``alpha=None``, MONAI's default); ``focal=None`` keeps the
    two terms consistent (softmax with softmax).
"""
