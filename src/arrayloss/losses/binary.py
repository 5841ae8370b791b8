"""Binary losses: one independent probability (or logit) per element, same-shape targets in
``[0, 1]`` (soft targets allowed): binary cross-entropy on probabilities and on logits, the
sigmoid focal loss, and the multi-label soft-margin loss (the logits' binary cross-entropy
averaged over a class axis).

A NaN in a counted position gives NaN. Infinite logits give the limit: each of the two
terms of the cross-entropy is 0 where its coefficient is 0, so ``z = +inf`` gives 0 for
``y = 1`` and ``+inf`` otherwise, ``z = -inf`` gives 0 for ``y = 0`` and ``+inf``
otherwise (torch's fused kernel and the textbook ``max(z, 0) - z y + log1p(exp(-|z|))``
give NaN there).
"""

from __future__ import annotations

import numbers
from typing import Any

from .. import _fast, _ops
from .._namespace import Array, Namespace
from .._reduce import Call, elementwise
from .._validate import (
    check_axis,
    check_classes,
    check_nonnegative,
    check_number,
    check_probabilities,
    check_smoothing,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "multilabel_soft_margin_loss",
    "sigmoid_focal_loss",
]


def _bce_with_logits(xp: Namespace, z: Array, y: Array, pos_weight: Any = None) -> Array:
    """Unreduced ``pos_weight * y * softplus(-z) + (1 - y) * softplus(z)`` (``pos_weight``:
    None, a number or an array broadcasting to ``z``).

    A sum of non-negative terms: no cancellation where the loss is small against ``|z|``
    (torch's kernel computes ``(1 - y) z + (1 + (pw - 1) y) softplus(-z)``, which gives 0
    instead of 4.2e-18 at ``y = 0, z = -40``). The gradient is ``sigmoid(z) (pw y + 1 - y) -
    pw y``. Each term is 0 where its coefficient is 0 (``_ops.mul0``), also at ``z = +-inf``;
    wherever the logits are all finite that guard is skipped (``_ops.if_finite``: decided
    on the host for readable arrays, at run time under ``jax.jit``). NumPy updates its
    temporaries in place (a kernel).
    """
    finite = _ops.finite_on_host(xp, z)
    fn = _ops.kernel(xp, "bce_with_logits")
    out = None if fn is None else fn(z, y, pos_weight, finite)
    if out is not None:
        return out
    coef = y if pos_weight is None else pos_weight * y

    def plain() -> Array:  # no infinite logit: no 0 * inf to guard against
        fn = _ops.kernel(xp, "bce_with_logits_plain")
        out = None if fn is None else fn(z, y, pos_weight)
        if out is not None:
            return out
        if pos_weight is None:
            return _ops.mix(xp, _ops.softplus(xp, z), _ops.softplus(xp, -z), y)
        return coef * _ops.softplus(xp, -z) + (1.0 - y) * _ops.softplus(xp, z)

    def guarded() -> Array:
        return (_ops.mul0(xp, coef, _ops.softplus(xp, -z))
                + _ops.mul0(xp, 1.0 - y, _ops.softplus(xp, z)))

    return _ops.if_finite(xp, z, finite, plain, guarded)


def _pos_weight(fn: str, call: Call, pos_weight: Any, pred: Array) -> Any:
    """``pos_weight``: None, a number >= 0, or a sequence or array >= 0 broadcasting to
    ``pred`` (usually one value per class of the last axis)."""
    if isinstance(pos_weight, numbers.Real) and not isinstance(pos_weight, bool):
        return check_number(fn, "pos_weight", pos_weight, ge=0.0)
    arr = call.array_option("pos_weight", pos_weight, pred, broadcast_to=tuple(pred.shape))
    check_nonnegative(fn, "pos_weight", call.xp, arr)
    return arr


def _binary_start(
    fn: str, pred: Array, target: Array, pos_weight: Any, label_smoothing: Any,
    weight: Array | None, where: Array | None, reduction: str, replicas: Any = None,
) -> tuple[Call, Array, Array, Any]:
    """Options, shapes and target checks shared by the binary losses; returns the call, the
    prediction, the smoothed target ``y (1 - ls) + 0.5 ls`` and ``pos_weight``."""
    ls = check_smoothing(fn, label_smoothing)
    call, x, y = elementwise(fn, pred, target, reduction=reduction, weight=weight, where=where,
                             replicas=replicas)
    pw = _pos_weight(fn, call, pos_weight, pred)
    check_probabilities(fn, "target", call.xp, target)
    if ls != 0.0:
        y = y * (1.0 - ls) + 0.5 * ls
    return call, x, y, pw


def binary_cross_entropy(
    pred: Array,
    target: Array,
    /,
    *,
    pos_weight: Any = None,
    label_smoothing: float = 0.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary cross-entropy on probabilities, elementwise (multi-label: one independent
    probability per element).

    .. math::

        \begin{aligned}
            \ell &= -\bigl(w_{\mathrm{pos}}\, y' \log q + (1 - y') \log(1 - q)\bigr) \\
            q &= \operatorname{clip}(p, \varepsilon, 1 - \varepsilon), \qquad
            y' = (1 - \mathrm{ls})\, y + \tfrac12 \mathrm{ls}
        \end{aligned}

    with :math:`w_{\mathrm{pos}}` = ``pos_weight``, :math:`\mathrm{ls}` = ``label_smoothing`` and
    :math:`\varepsilon` = ``finfo(compute dtype).eps``. ``pred`` holds probabilities and ``target``
    same-shape targets, both in ``[0, 1]`` (soft targets allowed; checked when concrete). Options:
    ``pos_weight`` (None = 1; a number >= 0 or an array broadcasting to ``pred``, typically one
    value per class of the last axis, ``#neg / #pos``), ``label_smoothing`` in ``[0, 1]`` (keras's
    binary rule, towards 0.5). ``"mean"`` divides by the number of elements (not by
    ``sum(weight)``).

    Edge cases: never NaN or inf at ``p = 0`` or ``1``: ``p = 0, y = 1`` gives
    :math:`-\log\varepsilon` (15.942385 in float32, 36.043653 in float64), ``p = 1, y = 1``
    gives :math:`-\log(1 - \varepsilon)`; gradients there are finite (0, from the clip). Inside
    the clip range the gradient is :math:`(p - y') / \bigl(p (1 - p)\bigr)` (without
    ``pos_weight``), unbounded near 0 and 1: train with the logits form.

    References: ``torch.nn.functional.binary_cross_entropy`` (equal for ``eps <= p <= 1 -
    eps``; torch clamps each log at -100 instead), ``keras.losses.binary_crossentropy``
    (clips at 1e-7, mean over the last axis).
    """
    fn = "binary_cross_entropy"
    if pos_weight is None and type(label_smoothing) is float and label_smoothing == 0.0:
        out = _fast.pair(fn, pred, target, (0.0, 1.0), reduction, weight, where, replicas,
                         interior=True)
        if out is not None:
            return out
    call, p, y, pw = _binary_start(fn, pred, target, pos_weight, label_smoothing, weight, where,
                                   reduction, replicas)
    xp = call.xp
    check_probabilities(fn, "pred", xp, pred, hint=(
        "; these look like logits: use binary_cross_entropy_with_logits"))
    eps = float(xp.finfo(call.dtype).eps)
    q = _ops.clip(xp, p, min=eps, max=1.0 - eps)
    pos = y * xp.log(q)
    if pw is not None:
        pos = pw * pos
    return call.finish(-(pos + (1.0 - y) * xp.log1p(-q)))


def binary_cross_entropy_with_logits(
    pred: Array,
    target: Array,
    /,
    *,
    pos_weight: Any = None,
    label_smoothing: float = 0.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary cross-entropy on logits (sigmoid + BCE fused), in the stable log-sigmoid form.

    .. math::

        \begin{aligned}
            \ell &= w_{\mathrm{pos}}\, y' \log\bigl(1 + e^{-z}\bigr)
                + (1 - y') \log\bigl(1 + e^{z}\bigr),
            \qquad y' = (1 - \mathrm{ls})\, y + \tfrac12 \mathrm{ls} \\
            \frac{\partial \ell}{\partial z}
                &= \sigma(z)\,\bigl(w_{\mathrm{pos}}\, y' + 1 - y'\bigr) - w_{\mathrm{pos}}\, y'
                \qquad \text{(bounded)}
        \end{aligned}

    with :math:`w_{\mathrm{pos}}` = ``pos_weight`` (1 if None) and :math:`\mathrm{ls}` =
    ``label_smoothing``; each :math:`\log(1 + e^{\pm z})` is a ``softplus``.
    ``pred`` holds logits, ``target`` same-shape targets in ``[0, 1]`` (soft allowed, checked
    when concrete). ``pos_weight`` multiplies only the positive term (torch semantics); it is
    None, a number >= 0 or an array broadcasting to ``pred`` (one value per class of the last
    axis). ``label_smoothing`` in ``[0, 1]`` follows keras's binary rule. ``"mean"`` =
    ``sum(weight * l) / count`` (torch, not divided by ``sum(weight)``); empty input gives 0.

    Saturated logits (``|z| = 100`` or ``1e4`` in float32 or bfloat16) give finite values and
    gradients; :math:`\log \sigma(z)` is never formed. Infinite logits give the limit: 0 for
    ``z = +inf, y = 1`` and ``z = -inf, y = 0``, ``+inf`` for any other target (each term is
    0 where its coefficient is 0: no ``0 * inf``), with finite gradients. NaN propagates.

    References: ``torch.nn.functional.binary_cross_entropy_with_logits(weight, pos_weight)``,
    ``optax.losses.sigmoid_binary_cross_entropy`` (elementwise),
    ``keras.losses.binary_crossentropy(from_logits=True, label_smoothing=...)`` (mean over
    the last axis).
    """
    fn = "binary_cross_entropy_with_logits"
    if pos_weight is None and type(label_smoothing) is float and label_smoothing == 0.0:
        out = _fast.pair(fn, pred, target, (0.0, 1.0), reduction, weight, where, replicas,
                         None)
        if out is not None:
            return out
    call, z, y, pw = _binary_start(fn, pred, target, pos_weight, label_smoothing, weight, where,
                                   reduction, replicas)
    out = call.fused_checked(fn, z, y, pw)  # torch's fused loss where it can be confirmed
    return call.finish(_bce_with_logits(call.xp, z, y, pw)) if out is None else out



def sigmoid_focal_loss(
    pred: Array,
    target: Array,
    /,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    pos_weight: Any = None,
    label_smoothing: float = 0.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary (sigmoid) focal loss of Lin et al., "Focal Loss for Dense Object Detection",
    ICCV 2017, as in RetinaNet, elementwise.

    .. math::

        \begin{aligned}
            \ell &= \alpha_t\, d^{\gamma} \Bigl(w_{\mathrm{pos}}\, y' \log\bigl(1 + e^{-z}\bigr)
                + (1 - y') \log\bigl(1 + e^{z}\bigr)\Bigr) \\
            d &= 1 - p_t = y'\, \sigma(-z) + (1 - y')\, \sigma(z), \qquad
            \alpha_t = \alpha\, y' + (1 - \alpha)(1 - y') \\
            y' &= (1 - \mathrm{ls})\, y + \tfrac12 \mathrm{ls}
        \end{aligned}

    with :math:`\alpha_t = 1` for ``alpha=None``, :math:`w_{\mathrm{pos}}` = ``pos_weight`` (1 if
    None) and :math:`\mathrm{ls}` = ``label_smoothing``. ``pred``: logits; ``target``: same-shape
    targets in ``[0, 1]`` (soft allowed; checked when concrete). Options: ``alpha=0.25`` in
    ``[0, 1]`` or None (torchvision's negative alpha is an error here), ``gamma=2.0 >= 0`` (the
    paper's best pair). ``"mean"`` is the plain elementwise mean; RetinaNet sums and divides by the
    number of foreground anchors (``"sum"`` then divide). The factor is not detached.
    ``label_smoothing`` (in ``[0, 1]``) moves the target to :math:`y'` before everything else, as
    ``binary_cross_entropy`` and Keras's ``binary_focal_crossentropy`` do. ``pos_weight`` (None, a
    number or an array broadcasting to ``pred``, ``>= 0``) multiplies the positive term of the BCE
    factor, as in ``binary_cross_entropy_with_logits`` (kornia's ``pos_weight`` on hard labels).

    :math:`d` is the sum of two non-negative terms, each sigmoid evaluated in its exact tail
    (:math:`\sigma(-z)`, never :math:`1 - \sigma(z)`): no saturation at large logits (keras's
    from-logits focal loss saturates near 16 with a zero gradient at logit 30), and
    :math:`d^{\gamma}` is masked at :math:`d = 0` for ``gamma < 1``, so the gradient stays finite at
    saturation (torchvision: NaN at ``z = 40, y = 1, gamma = 0.5``; here the value 2.19e-27
    and a tiny finite gradient). The BCE factor is ``binary_cross_entropy_with_logits``'s.
    ``gamma = 0`` with ``alpha=None`` is ``binary_cross_entropy_with_logits``. Infinite
    logits give the limit (0 for ``+inf`` with target 1 or ``-inf`` with target 0, ``+inf``
    otherwise), NaN propagates.

    References: ``optax.losses.sigmoid_focal_loss``,
    ``kornia.losses.binary_focal_loss_with_logits``, ``monai.losses.FocalLoss``,
    ``keras.losses.binary_focal_crossentropy(apply_class_balancing=True, from_logits=True)``,
    torchvision ``sigmoid_focal_loss`` semantics.
    """
    fn = "sigmoid_focal_loss"
    if alpha is not None:
        alpha = check_number(fn, "alpha", alpha, ge=0.0, le=1.0)
    gamma = check_number(fn, "gamma", gamma, ge=0.0)
    call, z, y, pw = _binary_start(fn, pred, target, pos_weight, label_smoothing, weight, where,
                                   reduction, replicas)
    xp = call.xp
    loss = _bce_with_logits(xp, z, y, pw)
    if gamma != 0.0:
        # d = 1 - p_t: a sum of two non-negative terms (no cancellation), each exact in
        # its tail, so d only underflows to 0 where the loss itself does
        d = _ops.mix(xp, _ops.sigmoid(xp, z), _ops.sigmoid(xp, -z), y)
        loss = _ops.pow_nonneg(xp, d, gamma) * loss
    if alpha is not None:  # alpha y + (1 - alpha)(1 - y)
        loss = ((1.0 - alpha) + (2.0 * alpha - 1.0) * y) * loss
    return call.finish(loss)


def multilabel_soft_margin_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    class_weight: Any = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Multi-label soft-margin loss: one-vs-all logistic loss averaged over the classes of a
    sample.

    .. math::

        \ell_i = \frac{1}{C} \sum_{c=1}^{C} w_c \Bigl(y_{ic} \log\bigl(1 + e^{-z_{ic}}\bigr)
            + (1 - y_{ic}) \log\bigl(1 + e^{z_{ic}}\bigr)\Bigr)

    with :math:`w_c` = ``class_weight[c]`` (1 if None). ``pred``: logits with the C classes on
    ``axis``; ``target``: a multi-hot array of the same shape (soft values in ``[0, 1]`` allowed;
    checked when concrete), not a list of class indices. ``class_weight`` (length C, >= 0; torch's
    ``weight``) multiplies each class's term and does not enter the denominator, which is always C.
    ``"none"`` returns one value per sample (``pred``'s shape without ``axis``); ``"mean"`` averages
    over the samples. Each term is ``binary_cross_entropy_with_logits``'s: saturated logits stay
    finite, infinite logits give the limit (0 or ``+inf``), a zero class weight gives 0 whatever the
    logit, NaN propagates.

    Reference: ``torch.nn.functional.multilabel_soft_margin_loss(weight=class_weight)`` (for
    ``(N, C)`` input).
    """
    fn = "multilabel_soft_margin_loss"
    call, z, y = elementwise(fn, pred, target, reduction=reduction, weight=weight, where=where,
                             replicas=replicas)
    xp = call.xp
    ax = check_axis(fn, axis, pred.ndim)
    c = pred.shape[ax]
    check_classes(fn, c)
    call.classes = c
    class_w = call.array_option("class_weight", class_weight, pred, shape=(c,))
    check_nonnegative(fn, "class_weight", xp, class_w)
    check_probabilities(fn, "target", xp, target)
    terms = _bce_with_logits(xp, z, y)
    if class_w is not None:
        terms = _ops.mul0(xp, _ops.along(xp, class_w, terms.ndim, ax), terms)
    return call.finish(xp.sum(terms, axis=ax) / c)
