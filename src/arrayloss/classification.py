"""Classification losses: cross-entropies, focal, KL, entropy, hinge, ramp and center losses.

Conventions shared by the family:

- Losses over classes take ``axis=-1`` (channels-last); channels-first inputs pass
  ``axis=1``. Integer labels have the shape of ``pred`` without the class axis, dense targets
  the shape of ``pred``. Labels may be any integer dtype; they are gathered with
  ``take_along_axis`` (never turned into a dense one-hot of the logits' size).
- ``ignore_index`` is ``None`` or a value outside ``[0, C)``; ignored samples contribute 0 to
  the loss and exactly 0 to the gradient (their logits are masked before the log-softmax,
  so inf or NaN there changes nothing), and are left out of the ``"mean"``. Labels outside
  ``[0, C)`` that are not ignored raise ``ValueError`` on readable arrays; where they are not
  checked (traced, lazy or GPU arrays) their samples give NaN.
- A NaN in a counted position gives NaN. Infinite logits give the limit: a ``+inf`` logit
  takes all the probability of its slice (shared among several), a ``-inf`` logit none.
- Logits forms are log-space (``log_softmax``, ``log_sigmoid``, ``logsumexp`` with a
  gradient-free max shift): saturated logits (``|z| = 1e4`` in float32) give finite values and
  gradients. Probability forms clip with ``eps = finfo(compute dtype).eps``.
- ``"mean"`` over nothing (empty input, everything ignored, zero class weights) is 0, with zero
  gradients (torch returns NaN there).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from . import _xp
from ._checks import (
    broadcastable_to,
    channels_first_hint,
    check_axis,
    check_bool,
    check_choice,
    check_classes,
    check_ignore_index,
    check_labels,
    check_number,
    check_probabilities,
    check_same_shape,
    check_values,
)
from ._reduce import Call, elementwise, start
from ._xp import Array, Namespace

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "center_loss",
    "cross_entropy",
    "entropy",
    "hinge_loss",
    "kl_divergence",
    "multiclass_hinge_loss",
    "ramp_loss",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "squared_hinge_loss",
    "update_centers",
]


# ---------------------------------------------------------------------------------------
# small helpers (formulas only; reductions and checks live in _reduce / _checks)


def _pow_one_minus_exp(xp: Namespace, log_p: Array, gamma: float) -> Array:
    """The focal factor ``(1 - exp(log_p))^gamma`` for ``log_p <= 0``, in log space.

    ``1 - p = -expm1(log p)`` has no cancellation near ``p = 1``; the power is
    ``exp(gamma * log(1 - p))``, masked to 0 where ``p = 1`` exactly, so its gradient stays
    finite for ``gamma < 1`` (the derivative of ``d^gamma`` is infinite at ``d = 0``).
    """
    one = log_p >= 0  # p = 1 (NaN stays NaN: it is not masked)
    safe = xp.where(one, -xp.ones_like(log_p), log_p)
    return xp.where(one, xp.zeros_like(log_p), xp.exp(gamma * xp.log(-xp.expm1(safe))))


def _mask_product(xp: Namespace, coef: Array, log_p: Array) -> Array:
    """``coef * log_p`` with ``0 * log 0 = 0`` (also for ``log_p = -inf``: masked classes)."""
    zero = coef == 0
    return xp.where(zero, xp.zeros_like(coef), coef * xp.where(zero, xp.zeros_like(log_p), log_p))


def _along(xp: Namespace, vec: Array, ndim: int, axis: int) -> Array:
    """A length-C vector reshaped to broadcast along ``axis`` of an ``ndim``-D array."""
    shape = [1] * ndim
    shape[axis] = vec.shape[0]
    return xp.reshape(vec, tuple(shape))


def _take(xp: Namespace, vec: Array, labels: Array) -> Array:
    """``vec[labels]`` for a 1-D ``vec`` and integer ``labels`` of any shape."""
    flat = xp.take(vec, xp.reshape(labels, (-1,)), axis=0)
    return xp.reshape(flat, (*labels.shape, *vec.shape[1:]))


def _smoothing(fn: str, label_smoothing: Any) -> float:
    return check_number(fn, "label_smoothing", label_smoothing, ge=0.0, le=1.0)


def _check_nonnegative(fn: str, name: str, xp: Namespace, x: Array | None) -> None:
    if x is not None:
        check_values(fn, name, xp, x, lambda v: v < 0, "must hold values >= 0",
                     within=(0, math.inf, False))


# ---------------------------------------------------------------------------------------
# class-axis inputs: integer labels or dense targets


class _Labels:
    """Integer labels, checked and prepared for gathering.

    ``labels``: the labels in the default integer dtype (any integer dtype is accepted; see
    ``check_labels``), with ignored and out-of-range entries pointing at class 0 (so no
    backend's gather fails); ``index``: the same with a size-1 class axis; ``w_y``: the
    per-sample class weight (``None`` without ``class_weight``). Out-of-range labels can only
    reach here when value checks are skipped (tracing, Dask, GPU arrays, ``validate=False``):
    their samples give NaN, never a silently wrong class.
    """

    __slots__ = ("axis", "ignored", "in_range", "index", "labels", "w_y")

    def __init__(self, fn: str, name: str, xp: Namespace, labels: Array, num_classes: int,
                 axis: int, ignore_index: int | None, class_weight: Array | None) -> None:
        y, ii = check_labels(fn, name, xp, labels, num_classes, ignore_index)
        self.axis = axis
        self.ignored = None if ii is None else y == ii
        self.in_range = (y >= 0) & (y < num_classes)
        y = xp.where(self.in_range, y, xp.zeros_like(y))
        self.labels = y
        self.index = xp.expand_dims(y, axis=axis)
        self.w_y = None if class_weight is None else _take(xp, class_weight, y)

    def mask_logits(self, xp: Namespace, z: Array) -> Array:
        """``z`` with the class slices of ignored samples set to 0: whatever they held (inf,
        NaN), ignored samples then get a finite value and exactly zero gradient."""
        if self.ignored is None:
            return z
        return xp.where(xp.expand_dims(self.ignored, axis=self.axis), xp.zeros_like(z), z)

    def gather(self, xp: Namespace, x: Array) -> Array:
        """The entry of ``x`` at the label along the class axis (class axis removed)."""
        return xp.squeeze(_xp.take_along_axis(xp, x, self.index, axis=self.axis),
                          axis=self.axis)

    def finish(self, call: Call, loss: Array) -> Array:
        """Mask ignored samples and reduce with the torch denominator
        ``sum_{not ignored} class_weight[y]`` (the count without class weights)."""
        xp = call.xp
        loss = xp.where(self.in_range, loss, xp.full_like(loss, math.nan))
        valid = None
        if self.ignored is not None:
            valid = ~self.ignored
            loss = xp.where(valid, loss, xp.zeros_like(loss))
        if self.w_y is None:
            return call.finish(loss, mask=valid)
        w = self.w_y
        if valid is not None:
            w = xp.where(valid, w, xp.zeros_like(w))
        return call.finish(loss, count=w)


def _class_inputs(
    fn: str,
    pred: Array,
    target: Array,
    *,
    axis: Any,
    reduction: str,
    weight: Array | None,
    ignore_index: Any,
    dense: bool = True,
) -> tuple[Call, int, int, bool]:
    """Start a loss over a class axis: checks the options, the shapes and the label dtype.

    Returns ``(call, axis, C, is_dense)``. Integer labels have the shape of ``pred`` without
    the class axis; dense targets (when ``dense``) the shape of ``pred``.
    """
    call = start(fn, pred, reduction=reduction, weight=weight, target=target)
    ax = check_axis(fn, axis, pred.ndim)
    c = pred.shape[ax]
    check_classes(fn, c)
    call.classes = c
    ps, ts = tuple(pred.shape), tuple(target.shape)
    if dense and ps == ts:
        if ignore_index is not None:
            raise ValueError(
                f"{fn}: `ignore_index` applies to integer labels only; `target` has the shape "
                f"of `pred` {ps} (dense probabilities): give ignored samples `weight` 0"
            )
        return call, ax, c, True
    want = ps[:ax] + ps[ax + 1:]
    if ts != want:
        dense_txt = f" or dense targets of shape {ps}" if dense else ""
        raise ValueError(
            f"{fn}: `pred` of shape {ps} and `target` of shape {ts} do not fit: integer labels "
            f"need the shape of `pred` without axis {axis}, {want}{dense_txt}"
            f"{channels_first_hint(ps, ts, ax)}"
        )
    check_ignore_index(fn, ignore_index, c)
    return call, ax, c, False


# ---------------------------------------------------------------------------------------
# entropy


def entropy(
    p: Array,
    /,
    *,
    axis: int = -1,
    from_logits: bool = False,
    base: float | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Shannon entropy of categorical distributions along ``axis``.

    ::

        probabilities: H = -sum_c p_c * log(max(p_c, eps))     (0 log 0 = 0 exactly)
        logits z:      H = -sum_c softmax(z)_c * log_softmax(z)_c
        base b:        H / log(b)                              (nats by default)

    ``p``: probabilities (``from_logits=False``, values in ``[0, 1]``, checked when concrete;
    the sum to 1 is not checked) or logits (``from_logits=True``, preferred for training).
    ``"none"`` returns one value per distribution (``p`` without ``axis``), ``"mean"``
    averages over distributions. The range is ``[0, log C]``.

    Edge cases: a one-hot ``p`` gives exactly 0. The derivative of ``-p log p`` is infinite at
    ``p = 0``; the clip at ``eps = finfo(dtype).eps`` makes it ``-log(eps)`` (15.942385 in
    float32). Logits may hold ``-inf`` for masked classes: their term is 0 and value and
    gradient stay finite while one logit is finite (as ``torch.distributions.Categorical``);
    ``k`` logits of ``+inf`` give ``log k`` (the limit: the mass shared among them). NaN
    propagates. ``base`` must be > 0 and != 1.

    References: ``scipy.stats.entropy``, ``torch.special.entr(p).sum(axis)``,
    ``torch.distributions.Categorical(logits=z).entropy()``.
    """
    fn = "entropy"
    check_bool(fn, "from_logits", from_logits)
    scale = 1.0
    if base is not None:
        b = check_number(fn, "base", base, gt=0.0)
        if b == 1.0:
            raise ValueError(f"{fn}: `base` must be > 0 and != 1; got {base!r}")
        scale = 1.0 / math.log(b)
    call = start(fn, p, reduction=reduction, weight=weight, pred_name="p")
    ax = check_axis(fn, axis, p.ndim)
    check_classes(fn, p.shape[ax])
    xp = call.xp
    x = call.float(p)
    if from_logits:
        log_p = _xp.log_softmax(xp, x, axis=ax)
        h = -xp.sum(_mask_product(xp, xp.exp(log_p), log_p), axis=ax)
    else:
        check_probabilities(fn, "p", xp, p)
        eps = float(xp.finfo(call.dtype).eps)
        h = -xp.sum(x * xp.log(_xp.clip(xp, x, min=eps)), axis=ax)
    return call.finish(h * scale if scale != 1.0 else h)


# ---------------------------------------------------------------------------------------
# binary cross-entropies


def _pos_weight(fn: str, call: Call, pos_weight: Any, pred: Array) -> Any:
    """``pos_weight``: None, a number >= 0, a sequence or an array broadcasting to ``pred``
    (usually one value per class of the last axis)."""
    if pos_weight is None:
        return None
    if isinstance(pos_weight, numbers.Real) and not isinstance(pos_weight, bool):
        return check_number(fn, "pos_weight", pos_weight, ge=0.0)
    xp = call.xp
    if isinstance(pos_weight, (list, tuple)):
        arr = xp.asarray(pos_weight, dtype=call.dtype, device=_xp.device(pred))
    else:
        _xp.namespace(fn, pred=pred, pos_weight=pos_weight)
        arr = call.float(pos_weight)
    if not broadcastable_to(tuple(arr.shape), tuple(pred.shape)):
        raise ValueError(
            f"{fn}: `pos_weight` of shape {tuple(arr.shape)} does not broadcast to `pred` of "
            f"shape {tuple(pred.shape)}; give one value per class of the last axis"
        )
    _check_nonnegative(fn, "pos_weight", xp, arr)
    return arr


def _binary_start(
    fn: str, pred: Array, target: Array, pos_weight: Any, label_smoothing: Any,
    weight: Array | None, reduction: str,
) -> tuple[Call, Array, Array, Any]:
    """Options, shapes and target checks shared by the binary losses; returns the call, the
    prediction, the smoothed target ``y (1 - ls) + 0.5 ls`` and ``pos_weight``."""
    ls = _smoothing(fn, label_smoothing)
    call, x, y = elementwise(fn, pred, target, reduction=reduction, weight=weight)
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
    reduction: str = "mean",
) -> Array:
    """Binary cross-entropy on probabilities, elementwise (multi-label: one independent
    probability per element).

    ::

        y' = y (1 - label_smoothing) + 0.5 label_smoothing
        q  = clip(p, eps, 1 - eps),   eps = finfo(compute dtype).eps
        l  = -( pos_weight * y' * log(q) + (1 - y') * log(1 - q) )

    ``pred`` holds probabilities and ``target`` same-shape targets, both in ``[0, 1]``
    (soft targets allowed; checked when concrete). Options: ``pos_weight`` (None = 1; a
    number >= 0 or an array broadcasting to ``pred``, typically one value per class of the
    last axis, ``#neg / #pos``), ``label_smoothing`` in ``[0, 1]`` (keras's binary rule,
    towards 0.5). ``"mean"`` divides by the number of elements (not by ``sum(weight)``).

    Edge cases: never NaN or inf at ``p = 0`` or ``1``: ``p = 0, y = 1`` gives ``-log(eps)``
    (15.942385 in float32, 36.043653 in float64), ``p = 1, y = 1`` gives ``-log(1 - eps)``;
    gradients there are finite (0, from the clip). Inside the clip range the gradient is
    ``(p - y) / (p (1 - p))``, unbounded near 0 and 1: train with the logits form.

    References: ``torch.nn.functional.binary_cross_entropy`` (equal for ``eps <= p <= 1 -
    eps``; torch clamps each log at -100 instead), ``keras.losses.binary_crossentropy``
    (clips at 1e-7, mean over the last axis).
    """
    fn = "binary_cross_entropy"
    call, p, y, pw = _binary_start(fn, pred, target, pos_weight, label_smoothing, weight,
                                   reduction)
    xp = call.xp
    check_probabilities(fn, "pred", xp, pred, hint=(
        "; these look like logits: use binary_cross_entropy_with_logits"))
    eps = float(xp.finfo(call.dtype).eps)
    q = _xp.clip(xp, p, min=eps, max=1.0 - eps)
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
    reduction: str = "mean",
) -> Array:
    """Binary cross-entropy on logits (sigmoid + BCE fused), in the stable log-sigmoid form.

    ::

        y' = y (1 - label_smoothing) + 0.5 label_smoothing
        l  = pos_weight * y' * softplus(-z) + (1 - y') * softplus(z)
        dl/dz = sigma(z) (pos_weight y' + 1 - y') - pos_weight y'       (bounded)

    ``pred`` holds logits, ``target`` same-shape targets in ``[0, 1]`` (soft allowed, checked
    when concrete). ``pos_weight`` multiplies only the positive term (torch semantics); it is
    None, a number >= 0 or an array broadcasting to ``pred`` (one value per class of the last
    axis). ``label_smoothing`` in ``[0, 1]`` follows keras's binary rule. ``"mean"`` =
    ``sum(weight * l) / count`` (torch, not divided by ``sum(weight)``); empty input gives 0.

    Saturated logits (``|z| = 100`` or ``1e4`` in float32 or bfloat16) give finite values and
    gradients; ``log(sigmoid(z))`` is never formed. Infinite logits give the limit: 0 for
    ``z = +inf, y = 1`` and ``z = -inf, y = 0``, ``+inf`` for any other target (each term is
    0 where its coefficient is 0: no ``0 * inf``), with finite gradients. NaN propagates.

    References: ``torch.nn.functional.binary_cross_entropy_with_logits(weight, pos_weight)``,
    ``optax.losses.sigmoid_binary_cross_entropy`` (elementwise),
    ``keras.losses.binary_crossentropy(from_logits=True, label_smoothing=...)`` (mean over
    the last axis).
    """
    fn = "binary_cross_entropy_with_logits"
    call, z, y, pw = _binary_start(fn, pred, target, pos_weight, label_smoothing, weight,
                                   reduction)
    return call.finish(_xp.bce_with_logits(call.xp, z, y, pw))


# ---------------------------------------------------------------------------------------
# cross-entropy and softmax focal loss


def cross_entropy(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    class_weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Softmax cross-entropy with integer labels (sparse) or probability targets (dense).

    ::

        log_p = log_softmax(z) along axis;   w_c = class_weight[c] (1 if None);  ls = smoothing
        integer labels y:
          l_i = (1 - ls) w_{y_i} (-log_p_{i,y_i}) + (ls / C) sum_c w_c (-log_p_{i,c})
          "mean" = sum_i weight_i l_i / sum_{i not ignored} w_{y_i}        (torch semantics)
        dense targets q (values in [0, 1], rows need not sum to 1):
          l_i = -sum_c w_c ((1 - ls) q_{i,c} + ls / C) log_p_{i,c};   "mean" divides by N

    ``pred``: logits with classes on ``axis`` (any rank: pixel-wise cross-entropy is N-D
    input with ``axis=1`` for channels-first). ``target``: integer labels of the shape of
    ``pred`` without ``axis`` (any integer dtype), or dense targets of the shape of ``pred``.
    The label logit is gathered (``take_along_axis``); no one-hot is built. ``"none"``
    returns one value per sample (``pred`` without ``axis``).

    Options: ``class_weight`` (length C), ``ignore_index`` (None or a value outside
    ``[0, C)``; integer labels only; ignored samples give 0 to both smoothing terms and are
    left out of the denominator), ``label_smoothing`` in ``[0, 1]`` (target ``(1 - ls)
    onehot + ls / C``, Szegedy et al. 2016). A per-sample ``weight`` multiplies ``l_i``; with
    ``class_weight`` the mean still divides by the sum of the labels' class weights.

    Edge cases: everything ignored or all present labels weighted 0 give ``"mean"`` 0 with
    zero gradients (torch: NaN). ``-inf`` logits (masked classes) give finite values and
    gradients where the target has no mass on them (with label smoothing every class has
    mass and the loss is +inf). Saturated logits (``|z| = 1e4``) stay finite. A ``+inf``
    logit is the limit of a logit growing without bound: its class takes all the probability
    (``k`` such logits share it), so the loss is 0 (``log k``) for that label and ``+inf``
    for another, with a zero gradient (torch and optax give NaN). NaN propagates; ignored
    samples may hold anything.

    References: ``torch.nn.functional.cross_entropy`` (channels-first: ``axis=1``; pass its
    ``ignore_index=-100`` explicitly), ``optax.losses.softmax_cross_entropy[_with_integer_
    labels]``, ``keras.losses.(sparse_)categorical_crossentropy(from_logits=True)``.
    """
    fn = "cross_entropy"
    ls = _smoothing(fn, label_smoothing)
    call, ax, c, dense = _class_inputs(fn, pred, target, axis=axis, reduction=reduction,
                                       weight=weight, ignore_index=ignore_index)
    xp = call.xp
    cw = call.vector("class_weight", class_weight, c, pred)
    _check_nonnegative(fn, "class_weight", xp, cw)
    if dense:
        check_probabilities(fn, "target", xp, target)
        log_p = _xp.log_softmax(xp, call.float(pred), axis=ax)
        q = call.float(target)
        if ls != 0.0:
            q = (1.0 - ls) * q + ls / c
        if cw is not None:
            q = q * _along(xp, cw, q.ndim, ax)
        return call.finish(-xp.sum(_mask_product(xp, q, log_p), axis=ax))
    lab = _Labels(fn, "target", xp, target, c, ax, ignore_index, cw)
    log_p = _xp.log_softmax(xp, lab.mask_logits(xp, call.float(pred)), axis=ax)
    nll = 0.0 - lab.gather(xp, log_p)  # +0 (not -0) where p = 1
    if lab.w_y is not None:
        nll = lab.w_y * nll
    if ls != 0.0:
        terms = log_p if cw is None else _along(xp, cw, log_p.ndim, ax) * log_p
        nll = (1.0 - ls) * nll - (ls / c) * xp.sum(terms, axis=ax)
    return lab.finish(call, nll)


def softmax_focal_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    gamma: float = 2.0,
    alpha: Any = None,
    class_weight: Any = None,
    ignore_index: int | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Multi-class (softmax) focal loss, the multi-class extension of Lin et al., "Focal Loss
    for Dense Object Detection", ICCV 2017.

    ::

        log_p = log_softmax(z);  1 - p = -expm1(log_p)             (no cancellation)
        integer labels: l_i = -a_{y_i} w_{y_i} (1 - p_{i,y_i})^gamma log_p_{i,y_i}
        dense q:        l_i = -sum_c a_c w_c q_{i,c} (1 - p_{i,c})^gamma log_p_{i,c}
        a = alpha (length C) or 1;   w = class_weight or 1
        "mean": integer labels sum_i weight_i l_i / sum_{i not ignored} w_{y_i};  dense / N

    With ``gamma=0`` and ``alpha=None`` this is exactly ``cross_entropy`` (same
    ``class_weight``, ``ignore_index`` and denominators). ``alpha`` is the paper's alpha_t: it
    multiplies the loss but stays out of the denominator. A scalar ``alpha`` is refused:
    kornia and MONAI map ``a`` to ``[1 - a, a, ..., a]`` (class 0 as background); pass that
    vector explicitly. The mean divides by N, not N*C (kornia's mean is this mean / C).

    Shapes and ``axis``, ``ignore_index``, ``class_weight`` as ``cross_entropy``; ``gamma >=
    0``; ``alpha`` values in ``[0, 1]``. The focal factor is computed in log space and masked
    where ``p = 1``: values and gradients are finite for every ``gamma >= 0``, including
    ``gamma < 1`` at saturated logits. Everything ignored gives 0. Infinite logits and NaN
    as ``cross_entropy``: a ``+inf`` logit gives 0 for its label, ``+inf`` for another.

    References: ``kornia.losses.focal_loss`` (channels-first, per-class ``"none"``, mean over
    N*C), ``monai.losses.FocalLoss(use_softmax=True)``.
    """
    fn = "softmax_focal_loss"
    gamma = check_number(fn, "gamma", gamma, ge=0.0)
    if isinstance(alpha, numbers.Real):
        raise ValueError(
            f"{fn}: `alpha` must be None or one value per class (length C); got the scalar "
            f"{alpha!r}. For kornia/MONAI's scalar alpha pass [1 - a, a, ..., a]"
        )
    call, ax, c, dense = _class_inputs(fn, pred, target, axis=axis, reduction=reduction,
                                       weight=weight, ignore_index=ignore_index)
    xp = call.xp
    a = call.vector("alpha", alpha, c, pred)
    cw = call.vector("class_weight", class_weight, c, pred)
    if a is not None:
        check_probabilities(fn, "alpha", xp, a)
    _check_nonnegative(fn, "class_weight", xp, cw)
    if dense:
        check_probabilities(fn, "target", xp, target)
        log_p = _xp.log_softmax(xp, call.float(pred), axis=ax)
        q = call.float(target)
        for vec in (a, cw):
            if vec is not None:
                q = q * _along(xp, vec, q.ndim, ax)
        if gamma != 0.0:
            q = q * _pow_one_minus_exp(xp, log_p, gamma)
        return call.finish(-xp.sum(_mask_product(xp, q, log_p), axis=ax))
    lab = _Labels(fn, "target", xp, target, c, ax, ignore_index, cw)
    log_p = _xp.log_softmax(xp, lab.mask_logits(xp, call.float(pred)), axis=ax)
    log_pt = lab.gather(xp, log_p)
    loss = -log_pt
    if gamma != 0.0:
        loss = _pow_one_minus_exp(xp, log_pt, gamma) * loss
    if a is not None:
        loss = _take(xp, a, lab.labels) * loss
    if lab.w_y is not None:
        loss = lab.w_y * loss
    return lab.finish(call, loss)


# ---------------------------------------------------------------------------------------
# KL divergence


def kl_divergence(
    log_q: Array,
    p: Array,
    /,
    *,
    axis: int = -1,
    log_target: bool = False,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Kullback-Leibler divergence ``KL(P || Q)`` per distribution, torch's argument order.

    ::

        KL_i = sum_c where(p_c > 0, p_c (log p_c - log_q_c), 0)       (0 log(0/q) = 0)
        log_target=True: the second argument is log P, p = exp(log P)
        dKL/dlog_q_c = -p_c;   w.r.t. the logits of Q: softmax - P

    ``log_q``: the model's log-probabilities; ``p``: the target probabilities (values in
    ``[0, 1]``, checked when concrete) or, with ``log_target=True``, log-probabilities
    (``<= 0``). Same shapes, classes on ``axis``. ``"none"`` returns one value per
    distribution; ``"mean"`` is the per-sample mean (torch ``"batchmean"`` for 2-D input;
    torch's ``"mean"`` divides by N*C, which is almost never wanted).

    Edge cases: entries with ``p_c = 0`` give value 0 and gradient 0 even where ``log_q_c =
    -inf`` (both inputs are masked; torch returns NaN there). ``p_c > 0`` with ``log_q_c =
    -inf`` gives ``+inf``, the correct value, with the finite gradient ``-p_c`` for
    ``log_q``.

    References: ``torch.nn.functional.kl_div(log_q, p, reduction="batchmean",
    log_target=...)``, ``scipy.special.rel_entr(p, q).sum(axis)``,
    ``optax.losses.kl_divergence(log_predictions, targets)`` (sums over the last axis).
    """
    fn = "kl_divergence"
    check_bool(fn, "log_target", log_target)
    call = start(fn, log_q, reduction=reduction, weight=weight, pred_name="log_q", p=p)
    check_same_shape(fn, log_q, p, ("log_q", "p"))
    ax = check_axis(fn, axis, log_q.ndim)
    check_classes(fn, log_q.shape[ax])
    xp = call.xp
    lq = call.float(log_q)
    if log_target:
        check_values(fn, "p", xp, p, lambda v: v > 0,
                     "must hold log-probabilities (<= 0) with log_target=True",
                     within=(-math.inf, 0, False))
        log_pt = call.float(p)
        pt = xp.exp(log_pt)
        log_pt = xp.where(pt == 0, xp.zeros_like(log_pt), log_pt)
    else:
        check_probabilities(fn, "p", xp, p)
        pt = call.float(p)
        log_pt = xp.log(xp.where(pt == 0, xp.ones_like(pt), pt))
    # off the support of P a term is 0 (0 log(0/q) = 0, also for log_q = -inf), unless
    # log_q is NaN: a NaN anywhere propagates
    off = (pt == 0) & (lq == lq)
    # the outer mask is redundant for the values but measured 2x faster under jax.jit
    # (forward and value_and_grad) than without it
    lq = xp.where(off, xp.zeros_like(lq), lq)
    terms = xp.where(off, xp.zeros_like(pt), pt * (log_pt - lq))
    return call.finish(xp.sum(terms, axis=ax))


# ---------------------------------------------------------------------------------------
# sigmoid focal loss


def sigmoid_focal_loss(
    pred: Array,
    target: Array,
    /,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Binary (sigmoid) focal loss of Lin et al., "Focal Loss for Dense Object Detection",
    ICCV 2017, as in RetinaNet, elementwise.

    ::

        d       = 1 - p_t = y sigma(-z) + (1 - y) sigma(z)
        alpha_t = alpha y + (1 - alpha)(1 - y)           (alpha=None: 1)
        l       = alpha_t * d^gamma * BCEwithLogits(z, y)

    ``pred``: logits; ``target``: same-shape targets in ``[0, 1]`` (soft allowed; checked
    when concrete). Options: ``alpha=0.25`` in ``[0, 1]`` or None (torchvision's negative
    alpha is an error here), ``gamma=2.0 >= 0`` (the paper's best pair). ``"mean"`` is the
    plain elementwise mean; RetinaNet sums and divides by the number of foreground anchors
    (``"sum"`` then divide). The factor is not detached.

    ``d`` is the sum of two non-negative terms, each sigmoid evaluated in its exact tail
    (``sigma(-z)``, never ``1 - sigma(z)``): no saturation at large logits (keras's
    from-logits focal loss saturates near 16 with a zero gradient at logit 30), and
    ``d^gamma`` is masked at ``d = 0`` for ``gamma < 1``, so the gradient stays finite at
    saturation (torchvision: NaN at ``z = 40, y = 1, gamma = 0.5``; here the value 2.19e-27
    and a tiny finite gradient). The BCE factor is the shim's ``bce_with_logits``.
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
    call, z, y = elementwise(fn, pred, target, reduction=reduction, weight=weight)
    xp = call.xp
    check_probabilities(fn, "target", xp, target)
    loss = _xp.bce_with_logits(xp, z, y)
    if gamma != 0.0:
        # d = 1 - p_t: a sum of two non-negative terms (no cancellation), each exact in
        # its tail, so d only underflows to 0 where the loss itself does
        d = y * _xp.sigmoid(xp, -z) + (1.0 - y) * _xp.sigmoid(xp, z)
        loss = _xp.pow_nonneg(xp, d, gamma) * loss
    if alpha is not None:  # alpha y + (1 - alpha)(1 - y)
        loss = ((1.0 - alpha) + (2.0 * alpha - 1.0) * y) * loss
    return call.finish(loss)


# ---------------------------------------------------------------------------------------
# hinge family


def _signed_labels(fn: str, pred: Array, target: Array, weight: Array | None,
                   reduction: str) -> tuple[Call, Array, Array]:
    """Scores and labels in {-1, +1} (bool: False -> -1, True -> +1); 0 and any other value
    raise ``ValueError`` when concrete."""
    call = start(fn, pred, reduction=reduction, weight=weight, target=target)
    check_same_shape(fn, pred, target)
    xp = call.xp
    f = call.float(pred)
    if xp.isdtype(target.dtype, "bool"):
        one = xp.ones_like(f)
        return call, f, xp.where(target, one, -one)
    y = call.float(target)
    check_values(fn, "target", xp, y, lambda v: (v != 1) & (v != -1),
                 "must hold labels in {-1, +1} (or bool); convert {0, 1} labels with 2*y - 1")
    return call, f, y


def hinge_loss(
    pred: Array,
    target: Array,
    /,
    *,
    margin: float = 1.0,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Binary hinge loss (SVM): ``l = max(0, margin - y f)``, elementwise.

    ``pred``: scores ``f``; ``target``: same-shape labels in {-1, +1} of any numeric dtype,
    or bool (False -> -1, True -> +1). Any other value, including 0, raises ``ValueError``
    when concrete (keras silently converts all-{0, 1} labels; arrayloss does not guess:
    convert with ``2*y - 1`` or pass bool). ``margin=1.0`` must be >= 0 (0: the perceptron
    criterion). The gradient is ``-y`` where ``y f < margin`` and 0 beyond (sub-gradient 0 at
    the kink). ``"mean"`` averages over all elements. Infinite scores give 0 or ``+inf`` (the
    limit), a NaN score gives NaN (the same holds for the other hinge losses).

    References: ``optax.losses.hinge_loss`` (elementwise), ``keras.losses.hinge`` (mean over
    the last axis).
    """
    fn = "hinge_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    call, f, y = _signed_labels(fn, pred, target, weight, reduction)
    return call.finish(_xp.relu(call.xp, margin - y * f))


def squared_hinge_loss(
    pred: Array,
    target: Array,
    /,
    *,
    margin: float = 1.0,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Squared hinge loss: ``l = max(0, margin - y f)^2``, elementwise.

    Differentiable everywhere, with gradient ``-2 y max(0, margin - y f)``. Labels, shapes and
    ``margin`` (>= 0) as ``hinge_loss``: {-1, +1} or bool, 0 raises ``ValueError`` when
    concrete. ``"mean"`` averages over all elements.

    Reference: ``keras.losses.squared_hinge`` (mean over the last axis).
    """
    fn = "squared_hinge_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    call, f, y = _signed_labels(fn, pred, target, weight, reduction)
    h = _xp.relu(call.xp, margin - y * f)
    return call.finish(h * h)


def ramp_loss(
    pred: Array,
    target: Array,
    /,
    *,
    s: float = -1.0,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Ramp loss (truncated hinge) of Collobert, Sinz, Weston & Bottou, "Trading Convexity for
    Scalability", ICML 2006.

    ::

        z = y f;   R_s(z) = H_1(z) - H_s(z) = min(1 - s, max(0, 1 - z)),   H_s(z) = max(0, s - z)

    Bounded by ``1 - s``; the gradient is ``-y`` for ``s < z < 1`` and 0 elsewhere (flat for
    badly misclassified points: non-convex, robust to label noise). ``s=-1.0`` is Collobert
    et al.'s choice (cap 2); ``s=0`` gives the textbook cap-1 form ``min(1, max(0, 1 - z))``
    (Shalev-Shwartz & Ben-David). ``s`` must be < 1. Labels and shapes as ``hinge_loss``
    ({-1, +1} or bool; 0 raises ``ValueError`` when concrete). No library implements it:
    checked against the catalogue's golden numbers.
    """
    fn = "ramp_loss"
    s = check_number(fn, "s", s, lt=1.0)
    call, f, y = _signed_labels(fn, pred, target, weight, reduction)
    xp = call.xp
    return call.finish(_xp.clip(xp, _xp.relu(xp, 1.0 - y * f), max=1.0 - s))


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
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Multi-class hinge loss, Crammer-Singer or Weston-Watkins.

    ::

        crammer_singer:  l_i = max(0, margin + max_{j != y_i} f_ij - f_{i,y_i})
        weston_watkins:  l_i = sum_{j != y_i} max(0, margin + f_ij - f_{i,y_i})
        squared=True:    crammer_singer squares the hinge; weston_watkins squares each term

    ``pred``: scores with classes on ``axis``; ``target``: integer labels (the shape of
    ``pred`` without ``axis``). ``"none"`` returns one value per sample. Options:
    ``margin=1.0 >= 0``, ``mode="crammer_singer"`` (optax's choice) or ``"weston_watkins"``,
    ``squared=False``, ``ignore_index`` (as ``cross_entropy``). Sub-gradients at the kinks:
    ``relu'(0) = 0``; at ties of the runner-up any maximiser may be chosen.

    The true class is left out with a boolean comparison mask ``j == y_i`` (no float
    one-hot; the label score itself is gathered): Weston-Watkins zeroes its term exactly,
    Crammer-Singer takes the best wrong class.

    References: Crammer-Singer ``optax.losses.multiclass_hinge_loss``; Weston-Watkins
    ``C * torch.nn.functional.multi_margin_loss(..., margin=m, p=1 or 2)`` (torch divides by
    C). ``keras.losses.categorical_hinge`` is not a reference: it lets the masked true class
    compete with value 0.
    """
    fn = "multiclass_hinge_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    check_choice(fn, "mode", mode, ("crammer_singer", "weston_watkins"))
    check_bool(fn, "squared", squared)
    call, ax, c, _ = _class_inputs(fn, pred, target, axis=axis, reduction=reduction,
                                   weight=weight, ignore_index=ignore_index, dense=False)
    xp = call.xp
    lab = _Labels(fn, "target", xp, target, c, ax, ignore_index, None)
    f = lab.mask_logits(xp, call.float(pred))
    f_y = lab.gather(xp, f)
    # the true class's entry, as a boolean comparison mask (no float one-hot)
    shape = [1] * f.ndim
    shape[ax] = c
    classes = xp.reshape(xp.arange(c, dtype=lab.index.dtype, device=_xp.device(lab.index)),
                         tuple(shape))
    is_y = classes == lab.index
    if mode == "weston_watkins":
        h = _xp.relu(xp, margin + f - xp.expand_dims(f_y, axis=ax))
        if squared:
            h = h * h
        loss = xp.sum(xp.where(is_y, xp.zeros_like(h), h), axis=ax)
    else:
        wrong = xp.where(is_y, xp.full_like(f, -math.inf), f)
        loss = _xp.relu(xp, margin + xp.max(wrong, axis=ax) - f_y)
        if squared:
            loss = loss * loss
    return lab.finish(call, loss)


# ---------------------------------------------------------------------------------------
# center loss


def _center_inputs(
    fn: str, xp: Namespace, features: Array, labels: Array, centers: Array, ignore_index: Any,
) -> tuple[tuple[int, ...], tuple[int, ...], int | None]:
    """Shapes and labels of ``center_loss`` / ``update_centers``: features ``(..., D)``,
    labels ``features.shape[:-1]``, centers ``(K, D)``."""
    fs, ls, cs = tuple(features.shape), tuple(labels.shape), tuple(centers.shape)
    if len(fs) < 1 or ls != fs[:-1]:
        raise ValueError(
            f"{fn}: `features` of shape {fs} and `labels` of shape {ls} do not fit: labels "
            f"need the shape of features without the last (feature) axis, {fs[:-1]}"
        )
    if len(cs) != 2 or cs[1] != fs[-1]:
        raise ValueError(
            f"{fn}: `centers` must have shape (K, {fs[-1]}) for `features` of shape {fs}; got "
            f"{cs}"
        )
    check_classes(fn, fs[-1], "feature axis (D) of `features`")
    check_classes(fn, cs[0], "class axis (K) of `centers`")
    ii = check_ignore_index(fn, ignore_index, cs[0])
    return fs, cs, ii


def center_loss(
    features: Array,
    labels: Array,
    centers: Array,
    /,
    *,
    ignore_index: int | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Center loss of Wen et al., "A Discriminative Feature Learning Approach for Deep Face
    Recognition", ECCV 2016.

    ::

        l_i = (1/2) ||x_i - c_{y_i}||_2^2          ("none": one value per sample)
        "sum"  = sum_i l_i  (the paper's Eq. 2);   "mean" = sum_i l_i / N (non-ignored)
        dl_i/dx_i = x_i - c_{y_i};   d"sum"/dc_j = sum_{i: y_i = j} (c_j - x_i)

    ``features``: ``(N, D)`` (any leading shape ``(..., D)``), ``labels``: integer, the shape
    of ``features`` without the last axis, in ``[0, K)``; ``centers``: ``(K, D)``. The squared
    distance is a sum of squared differences (not ``|x|^2 + |c|^2 - 2 x.c``, which cancels
    for large features); the centre of each sample is gathered, no ``(N, K)`` distance
    matrix. Centers are not detached: autodiff gives the gradient above. The paper trains
    them with ``update_centers`` instead: pass non-differentiable centers (or stop their
    gradient) to follow it. The joint objective is ``cross_entropy + lambda * center_loss``
    (the paper: lambda = 0.003). ``ignore_index`` as ``cross_entropy``.

    No installable reference (golden numbers). KaiyangZhou/pytorch-center-loss returns
    ``sum_i ||x_i - c_{y_i}||^2 / N``, twice this ``"mean"``, plus clamping noise.
    """
    fn = "center_loss"
    call = start(fn, features, reduction=reduction, weight=weight, pred_name="features",
                 labels=labels, centers=centers)
    xp = call.xp
    _, _, ii = _center_inputs(fn, xp, features, labels, centers, ignore_index)
    lab = _Labels(fn, "labels", xp, labels, centers.shape[0], labels.ndim, ii, None)
    f = lab.mask_logits(xp, call.float(features))  # ignored rows: zero gradient
    diff = f - _take(xp, call.float(centers), lab.labels)
    return lab.finish(call, 0.5 * xp.sum(diff * diff, axis=-1))


def update_centers(
    features: Array,
    labels: Array,
    centers: Array,
    /,
    *,
    alpha: float = 0.5,
    ignore_index: int | None = None,
) -> Array:
    """The centre update rule of Wen et al. (ECCV 2016), functional: returns new centers.

    ::

        n_j       = sum_i [y_i = j]
        delta_c_j = sum_i [y_i = j] (c_j - x_i) / (1 + n_j)
        c_j_new   = c_j - alpha * delta_c_j        (a class with no sample is unchanged)

    Shapes as ``center_loss``: features ``(N, D)`` (or ``(..., D)``), integer labels, centers
    ``(K, D)``; the result has the shape and dtype of ``centers`` (float16/bfloat16 computed in
    float32) and the inputs are not modified. ``alpha=0.5`` (the paper's centre learning
    rate) must lie in ``[0, 1]``. Ignored samples (``ignore_index``) move no centre. The
    per-class sums are one matrix product with the ``(N, K)`` label indicator, without a
    Python loop over classes. It is an update rule, not a loss: no ``reduction``, and the
    result is meant to replace the centers outside the gradient computation.
    """
    fn = "update_centers"
    alpha = check_number(fn, "alpha", alpha, ge=0.0, le=1.0)
    xp = _xp.namespace(fn, features=features, labels=labels, centers=centers)
    fs, cs, ii = _center_inputs(fn, xp, features, labels, centers, ignore_index)
    y, _ = check_labels(fn, "labels", xp, labels, cs[0], ii)
    dtype, out_dtype = _xp.coordinate_dtypes(xp, centers, fn, "centers")
    x = xp.reshape(_xp.astype(xp, features, dtype), (-1, fs[-1]))
    # the (N, K) membership indicator; ignored labels lie outside [0, K): all-zero rows
    member = _xp.one_hot(xp, xp.reshape(y, (-1,)), cs[0], dtype)
    c = _xp.astype(xp, centers, dtype)
    n = xp.expand_dims(xp.sum(member, axis=0), axis=-1)
    sums = xp.matmul(xp.matrix_transpose(member), x)
    delta = (n * c - sums) / (1.0 + n)
    return _xp.to_result(xp, c - alpha * delta, out_dtype)
