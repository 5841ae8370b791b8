"""Margin losses on scores: the binary hinge, squared hinge, ramp and soft-margin (logistic)
losses with labels in {-1, +1} (or bool), the multi-class hinge (Crammer-Singer,
Weston-Watkins) with integer labels, and the pairwise multi-label hinge with multi-hot labels.

Labels in {-1, +1} may have any numeric dtype or be bool (False -> -1, True -> +1); 0 or any
other value raises ``ValueError`` on readable arrays with the fix (``2*y - 1``). The hinge is
a NaN-propagating ``relu`` with the sub-gradient 0 at the kink; infinite scores give 0 or
``+inf`` (the limit).
"""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._namespace import Array, device, isdtype
from .._reduce import Call, Labels, start, start_classes
from .._validate import (
    check_axis,
    check_bool,
    check_choice,
    check_classes,
    check_nonnegative,
    check_number,
    check_same_shape,
    check_values,
)
from ._pairs import signs

__all__ = [
    "hinge_loss",
    "multiclass_hinge_loss",
    "multilabel_margin_loss",
    "ramp_loss",
    "soft_margin_loss",
    "squared_hinge_loss",
]


def _signed_labels(fn: str, pred: Array, target: Array, weight: Array | None,
                   where: Array | None, reduction: str, replicas: Any = None
                   ) -> tuple[Call, Array, Array]:
    """Scores and labels in {-1, +1} (bool: False -> -1, True -> +1); 0 and any other value
    raise ``ValueError`` when concrete."""
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    check_same_shape(fn, pred, target)
    return call, call.float(pred), signs(call, target)


def hinge_loss(
    pred: Array,
    target: Array,
    /,
    *,
    margin: float = 1.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary hinge loss (SVM), elementwise.

    .. math::

        \ell = \max(0,\, \mathrm{margin} - y f)

    ``pred``: scores :math:`f`; ``target``: same-shape labels in {-1, +1} of any numeric dtype, or
    bool (False -> -1, True -> +1). Any other value, including 0, raises ``ValueError`` when
    concrete (keras silently converts all-{0, 1} labels; arrayloss does not guess: convert with
    ``2*y - 1`` or pass bool). ``margin=1.0`` must be >= 0 (0: the perceptron criterion). The
    gradient is :math:`-y` where :math:`y f < \mathrm{margin}` and 0 beyond (sub-gradient 0 at the
    kink). ``"mean"`` averages over all elements. Infinite scores give 0 or ``+inf`` (the limit), a
    NaN score gives NaN (the same holds for the other hinge losses).

    References: ``optax.losses.hinge_loss`` (elementwise), ``keras.losses.hinge`` (mean over
    the last axis).
    """
    fn = "hinge_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    call, f, y = _signed_labels(fn, pred, target, weight, where, reduction, replicas)
    return call.finish(_ops.relu(call.xp, margin - y * f))


def squared_hinge_loss(
    pred: Array,
    target: Array,
    /,
    *,
    margin: float = 1.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Squared hinge loss, elementwise.

    .. math::

        \ell = \max(0,\, \mathrm{margin} - y f)^2

    Differentiable everywhere, with gradient :math:`-2 y \max(0,\, \mathrm{margin} - y f)`. Labels,
    shapes and ``margin`` (>= 0) as ``hinge_loss``: {-1, +1} or bool, 0 raises ``ValueError`` when
    concrete. ``"mean"`` averages over all elements.

    Reference: ``keras.losses.squared_hinge`` (mean over the last axis).
    """
    fn = "squared_hinge_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    call, f, y = _signed_labels(fn, pred, target, weight, where, reduction, replicas)
    h = _ops.relu(call.xp, margin - y * f)
    return call.finish(h * h)


def ramp_loss(
    pred: Array,
    target: Array,
    /,
    *,
    s: float = -1.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Ramp loss (truncated hinge) of Collobert, Sinz, Weston & Bottou, "Trading Convexity for
    Scalability", ICML 2006.

    .. math::

        \ell = R_s(z) = H_1(z) - H_s(z) = \min\bigl(1 - s,\, \max(0,\, 1 - z)\bigr),
        \qquad H_s(z) = \max(0,\, s - z), \qquad z = y f

    Bounded by :math:`1 - s`; the gradient is :math:`-y` for :math:`s < z < 1` and 0 elsewhere (flat
    for badly misclassified points: non-convex, robust to label noise). ``s=-1.0`` is Collobert et
    al.'s choice (cap 2); ``s=0`` gives the textbook cap-1 form
    :math:`\min\bigl(1,\, \max(0,\, 1 - z)\bigr)` (Shalev-Shwartz & Ben-David). ``s`` must be < 1.
    Labels and shapes as ``hinge_loss`` ({-1, +1} or bool; 0 raises ``ValueError`` when concrete).
    None of the reference libraries implements it.
    """
    fn = "ramp_loss"
    s = check_number(fn, "s", s, lt=1.0)
    call, f, y = _signed_labels(fn, pred, target, weight, where, reduction, replicas)
    xp = call.xp
    return call.finish(_ops.clip(xp, _ops.relu(xp, 1.0 - y * f), max=1.0 - s))


def soft_margin_loss(
    pred: Array,
    target: Array,
    /,
    *,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Soft-margin (two-class logistic) loss, elementwise.

    .. math::

        \ell = \operatorname{softplus}(-y f) = \log\bigl(1 + e^{-y f}\bigr)

    The gradient is :math:`-y\, \sigma(-y f)`, bounded by 1. Labels, shapes and NaN as
    ``hinge_loss``: {-1, +1} of any numeric dtype or bool; 0 raises ``ValueError`` when
    concrete. ``"mean"`` averages over all elements. It equals
    ``binary_cross_entropy_with_logits(f, (y + 1) / 2)``.

    Saturated margins stay finite: ``softplus`` is evaluated without overflow, so ``f =
    -1000, y = 1`` gives 1000 with gradient -1 (also in float32, where ``log1p(exp(-y f))``
    overflows to ``inf`` once :math:`-y f > 88.7`; in float64 beyond 709.8). Infinite scores
    give the limit: 0 for :math:`y f = +\infty`, ``+inf`` for :math:`y f = -\infty`.

    Reference: ``torch.nn.functional.soft_margin_loss`` (equal wherever it does not
    overflow).
    """
    fn = "soft_margin_loss"
    call, f, y = _signed_labels(fn, pred, target, weight, where, reduction, replicas)
    return call.finish(_ops.softplus(call.xp, -(y * f)))


def multilabel_margin_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    margin: float = 1.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Pairwise multi-label hinge loss: every positive class should score ``margin`` above
    every negative class of its sample.

    .. math::

        \ell_i = \frac{1}{C} \sum_{j:\, y_{ij} = 1} \; \sum_{k:\, y_{ik} = 0}
            \max\bigl(0,\, \mathrm{margin} - (f_{ij} - f_{ik})\bigr)

    ``pred``: scores with the C classes on ``axis``; ``target``: a multi-hot array of the same
    shape, bool or {0, 1} of any numeric dtype (other values raise ``ValueError`` when concrete).
    ``margin=1.0`` must be >= 0. ``"none"`` returns one value per sample (``pred``'s shape without
    ``axis``); ``"mean"`` averages over the samples, including those without a positive or without a
    negative class, whose loss is 0. The sub-gradient at the kinks
    :math:`f_{ij} - f_{ik} = \mathrm{margin}` is 0. A NaN score in a compared pair gives NaN;
    infinite scores give the limit of each pair's hinge (0 or ``+inf``).

    The classes form a broadcast ``(..., C, C)`` matrix of pairs weighted by
    :math:`y_{ij} (1 - y_{ik})` (a pair of weight 0 contributes exactly 0, also where its scores
    are infinite): memory grows as :math:`C^2` per sample, fine up to a few thousand classes.

    Reference: ``torch.nn.functional.multilabel_margin_loss``, whose target lists the
    positive class indices of a sample up to the first -1 instead (convert with
    ``multi_hot[i, idx[i, :first_minus_one]] = 1``). torch counts a repeated index twice
    (``[3, 3, -1, 0]`` gives twice the loss of ``[3, -1, 0, 0]``); a multi-hot target is a
    set, so each positive class counts once.
    """
    fn = "multilabel_margin_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    ax = check_axis(fn, axis, pred.ndim)
    c = pred.shape[ax]
    check_classes(fn, c)
    call.classes = c
    check_same_shape(fn, pred, target)
    xp = call.xp
    if not isdtype(xp, target.dtype, "bool"):
        check_values(fn, "target", xp, target, lambda v: (v != 0) & (v != 1),
                     "must be multi-hot, holding 0 or 1 (or bool) per class; torch's lists "
                     "of class indices padded with -1 convert with "
                     "multi_hot[i, idx[i, :first_minus_one]] = 1")
    f = xp.moveaxis(call.float(pred), ax, -1)
    y = xp.moveaxis(call.float(target), ax, -1)
    # pairs (j, k): f_j on axis -2, f_k on axis -1, weighted y_j (1 - y_k) in {0, 1}; a
    # pair of weight 0 contributes 0 whatever its scores hold (mul0), a NaN label gives NaN
    pairs = xp.expand_dims(y, axis=-1) * xp.expand_dims(1.0 - y, axis=-2)
    h = _ops.relu(xp, margin - (xp.expand_dims(f, axis=-1) - xp.expand_dims(f, axis=-2)))
    loss = xp.sum(_ops.mul0(xp, pairs, h), axis=(-2, -1)) / c
    return call.finish(loss)


def multiclass_hinge_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    margin: float = 1.0,
    mode: str = "crammer_singer",
    squared: bool = False,
    ignore_index: int | None = None,
    class_weight: Any = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Multi-class hinge loss, Crammer-Singer or Weston-Watkins.

    .. math::

        \begin{aligned}
            \ell_i &= w_{y_i}\, h\Bigl(\mathrm{margin} + \max_{j \ne y_i} f_{ij} - f_{i y_i}\Bigr)
                && \texttt{mode="crammer_singer"} \\
            \ell_i &= w_{y_i} \sum_{j \ne y_i} h\bigl(\mathrm{margin} + f_{ij} - f_{i y_i}\bigr)
                && \texttt{mode="weston_watkins"} \\
            h(u) &= \max(0, u), \quad\text{or } \max(0, u)^2 \text{ with } \texttt{squared=True}
        \end{aligned}

    with :math:`w_c` = ``class_weight[c]`` (1 if None): Crammer-Singer squares its one hinge,
    Weston-Watkins each term.

    ``pred``: scores with classes on ``axis``; ``target``: integer labels (the shape of
    ``pred`` without ``axis``). ``"none"`` returns one value per sample. Options:
    ``margin=1.0 >= 0``, ``mode="crammer_singer"`` (optax's choice) or ``"weston_watkins"``,
    ``squared=False``, ``ignore_index`` (as ``cross_entropy``). Sub-gradients at the kinks:
    :math:`h'(0) = 0`; at ties of the runner-up any maximiser may be chosen.

    The true class is left out with a boolean comparison mask :math:`j = y_i` (no float
    one-hot; the label score itself is gathered): Weston-Watkins zeroes its term exactly,
    Crammer-Singer takes the best wrong class.

    ``class_weight`` (length C, values >= 0) multiplies :math:`\ell_i` by :math:`w_{y_i}`,
    and the ``"mean"`` divides by :math:`\sum_{i \text{ not ignored}} w_{y_i}`, the
    ``cross_entropy`` rule: the class-weighted average of the per-sample losses, unchanged
    when every class weight is scaled alike; all present labels weighted 0 give 0.

    References: Crammer-Singer ``optax.losses.multiclass_hinge_loss``; Weston-Watkins
    ``C * torch.nn.functional.multi_margin_loss(..., margin=m, p=1 or 2)`` (torch divides by
    C). With ``weight=w`` torch's ``multi_margin_loss`` also scales sample ``i`` by
    ``w[y_i]``, but its ``"mean"`` divides by N: ``multi_margin_loss(x, y, weight=w)`` is
    ``multiclass_hinge_loss(x, y, mode="weston_watkins", class_weight=w, reduction="sum")
    / (N * C)``, or the per-sample ``weight=w[y] / C`` with the default ``"mean"`` (which
    divides by N); its ``"none"`` and ``"sum"`` are ours with ``class_weight=w`` divided by
    C. ``keras.losses.categorical_hinge`` is not a reference: it lets the masked true
    class compete with value 0.
    """
    fn = "multiclass_hinge_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    check_choice(fn, "mode", mode, ("crammer_singer", "weston_watkins"))
    check_bool(fn, "squared", squared)
    call, ax, c, _ = start_classes(fn, pred, target, axis=axis, reduction=reduction,
                                   weight=weight, where=where,
                                   replicas=replicas, ignore_index=ignore_index,
                                   dense=False)
    xp = call.xp
    class_w = call.array_option("class_weight", class_weight, pred, shape=(c,))
    check_nonnegative(fn, "class_weight", xp, class_w)
    lab = Labels(fn, "target", xp, target, c, ax, ignore_index, class_w)
    f = lab.mask_logits(xp, call.float(pred))
    f_y = lab.gather(xp, f)
    # the true class's entry, as a boolean comparison mask (no float one-hot)
    shape = [1] * f.ndim
    shape[ax] = c
    classes = xp.reshape(xp.arange(c, dtype=lab.index.dtype, device=device(lab.index)),
                         tuple(shape))
    is_y = classes == lab.index
    if mode == "weston_watkins":
        h = _ops.relu(xp, margin + f - xp.expand_dims(f_y, axis=ax))
        if squared:
            h = h * h
        loss = xp.sum(xp.where(is_y, xp.zeros_like(h), h), axis=ax)
    else:
        wrong = xp.where(is_y, xp.full_like(f, -math.inf), f)
        loss = _ops.relu(xp, margin + xp.max(wrong, axis=ax) - f_y)
        if squared:
            loss = loss * loss
    if lab.w_y is not None:
        loss = _ops.mul0(xp, lab.w_y, loss)
    return lab.reduce(call, loss)
