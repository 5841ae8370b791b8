"""Losses over a class axis of distributions: softmax cross-entropy, the softmax focal loss,
the entropy, the KL divergence and its generalisation to unnormalised measures.

- Classes lie on ``axis`` (``-1``, channels-last; ``axis=1`` for channels-first). Integer
  labels have the shape of ``pred`` without the class axis (any integer dtype: they are
  compared and gathered in the default integer dtype); dense targets the shape of ``pred``.
  The label's entry is gathered (``take_along_axis``), never a dense one-hot of the logits.
- ``ignore_index`` is ``None`` or a value outside ``[0, C)``; ignored samples contribute 0 to
  the loss and exactly 0 to the gradient (their logits are masked before the log-softmax, so
  inf or NaN there changes nothing), and are left out of the ``"mean"``. Labels outside
  ``[0, C)`` that are not ignored raise ``ValueError`` on readable arrays; where they are not
  checked (traced, lazy or GPU arrays) their samples give NaN.
- Log-space kernels (``log_softmax`` with a gradient-free max shift): saturated logits
  (``|z| = 1e4`` in float32) give finite values and gradients. A NaN in a counted position
  gives NaN; a ``+inf`` logit takes all the probability of its slice (shared among
  several), a ``-inf`` logit none.
- ``"mean"`` over nothing (empty input, everything ignored, zero class weights) is 0, with
  zero gradients (torch returns NaN there).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import _fast, _ops
from .._labels import fused_with_labels
from .._namespace import Array
from .._reduce import Call, Labels, start, start_class_axes
from .._validate import (
    check_axis,
    check_bool,
    check_classes,
    check_nonnegative,
    check_number,
    check_probabilities,
    check_same_shape,
    check_smoothing,
    check_values,
)
from ._softmax import (
    class_axes,
    dense_cross_entropy,
    kept_classes,
    label_cross_entropy,
    labels_kept,
    log_probabilities,
    log_softmax_kept,
    logits_label_cross_entropy,
    pow_one_minus_exp,
)

__all__ = ["cross_entropy", "entropy", "generalized_kl_divergence", "kl_divergence",
           "softmax_focal_loss"]


def entropy(
    p: Array,
    /,
    *,
    axis: int | tuple[int, ...] = -1,
    from_logits: bool = False,
    base: float | None = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Shannon entropy of categorical distributions along ``axis``.

    .. math::

        \begin{aligned}
            H &= -\frac{1}{\log b} \sum_{c=1}^{C} p_c \log \max(p_c, \varepsilon)
                && \text{probabilities } p \\
            H &= -\frac{1}{\log b} \sum_{c=1}^{C} \operatorname{softmax}(z)_c
                \log \operatorname{softmax}(z)_c && \text{logits } z
        \end{aligned}

    with :math:`b` = ``base`` (:math:`\log b = 1` for ``base=None``: nats), :math:`\varepsilon` =
    ``finfo(dtype).eps`` and :math:`0 \log 0 = 0` exactly. ``p``: probabilities
    (``from_logits=False``, values in ``[0, 1]``, checked when concrete; the sum to 1 is not
    checked) or logits (``from_logits=True``, preferred for training). ``"none"`` returns one value
    per distribution (``p`` without ``axis``), ``"mean"`` averages over distributions. The range is
    :math:`[0, \log C]` (in nats). A tuple ``axis`` holds several class axes: each distribution
    spans all of them (C = the product of their sizes), and ``"none"`` has the shape of ``p``
    without them.

    Edge cases: a one-hot ``p`` gives exactly 0. The derivative of :math:`-p \log p` is infinite at
    :math:`p = 0`; the clip at :math:`\varepsilon` makes it :math:`-\log\varepsilon` (15.942385 in
    float32). Logits may hold ``-inf`` for masked classes: their term is 0 and value and gradient
    stay finite while one logit is finite (as ``torch.distributions.Categorical``); ``k`` logits of
    ``+inf`` give :math:`\log k` (the limit: the mass shared among them). NaN propagates. ``base``
    must be > 0 and != 1.

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
    call = start(fn, p, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, pred_name="p")
    xp = call.xp
    ax, (p,) = class_axes(call, axis, p)
    x = call.float(p)
    if from_logits:
        log_p, _ = log_softmax_kept(call, x, ax)
        h = -xp.sum(_ops.mul0(xp, xp.exp(log_p), log_p), axis=ax)
    else:
        check_probabilities(fn, "p", xp, p)
        eps = float(xp.finfo(call.dtype).eps)
        terms = x * xp.log(_ops.clip(xp, x, min=eps))
        cm = call.class_mask(tuple(x.shape), ax)
        if cm is not None:
            terms = xp.where(cm, terms, xp.zeros_like(terms))
        h = -xp.sum(terms, axis=ax)
    return call.finish(h * scale if scale != 1.0 else h)


def cross_entropy(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int | tuple[int, ...] = -1,
    from_logits: bool = True,
    class_weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Softmax cross-entropy with integer labels (sparse) or probability targets (dense).

    .. math::

        \begin{aligned}
            \ell_i &= (1 - \mathrm{ls})\, f_{i y_i} + \frac{\mathrm{ls}}{C} \sum_{c=1}^{C} f_{ic}
                && \text{integer labels } y_i \\
            \ell_i &= \sum_{c=1}^{C} \Bigl((1 - \mathrm{ls})\, q_{ic} + \frac{\mathrm{ls}}{C}\Bigr)
                f_{ic} && \text{dense targets } q_i \\
            f_{ic} &= -w_c \log p_{ic}, \qquad p_i = \operatorname{softmax}(z_i)
        \end{aligned}

    with :math:`w_c` = ``class_weight[c]`` (1 if None) and :math:`\mathrm{ls}` =
    ``label_smoothing``; dense rows hold values in ``[0, 1]`` and need not sum to 1. With
    dense targets ``"mean"`` divides by N; with integer labels it has torch's denominator (an
    ignored sample has :math:`\ell_i = 0` and is not counted):

    .. math::

        \operatorname{mean} = \frac{\sum_i \mathrm{weight}_i\, \ell_i}
            {\sum_{i \text{ not ignored}} w_{y_i}}

    ``pred``: logits with classes on ``axis`` (any rank: pixel-wise cross-entropy is N-D
    input with ``axis=1`` for channels-first). ``target``: integer labels of the shape of
    ``pred`` without ``axis`` (any integer dtype), or dense targets of the shape of ``pred``.
    The label logit is gathered (``take_along_axis``); no one-hot is built. ``"none"``
    returns one value per sample (``pred`` without ``axis``).

    A tuple ``axis`` holds several class axes (optax's tuple ``axis``): the C = product of
    their sizes classes are numbered in C-order over the axes in the order given (an integer
    label is ``ravel_multi_index`` of its coordinates), ``class_weight`` has length C and
    ``"none"`` the shape of ``pred`` without those axes; ``ignore_index``, smoothing and
    dense targets are unchanged.

    ``from_logits=False``: ``pred`` holds probabilities :math:`p` (values in ``[0, 1]``, checked
    when concrete) and :math:`\log \operatorname{clip}(p, \varepsilon, 1)`, :math:`\varepsilon` =
    ``finfo(compute dtype).eps``, replaces the log-softmax; the rest is unchanged (integer labels:
    ``nll_loss`` of :math:`\log p`). Rows are not renormalised: they should sum to 1 (Keras divides
    each row by its sum first, so the two agree on normalised rows). A zero probability at the label
    costs :math:`-\log\varepsilon` (36.04365 in float64, 15.94239 in float32) with a zero gradient;
    the gradient is :math:`-1 / p` above :math:`\varepsilon`. Keras also clips at ``1 - 1e-7``: a
    probability of 1 gives exactly 0 here, 1e-7 in Keras. Logits are preferred for training (exact
    log-space kernel).

    Options: ``class_weight`` (length C), ``ignore_index`` (None or a value outside
    ``[0, C)``; integer labels only; ignored samples give 0 to both smoothing terms and are
    left out of the denominator), ``label_smoothing`` in ``[0, 1]`` (target
    :math:`(1 - \mathrm{ls})\, \mathrm{onehot}(y) + \mathrm{ls} / C`, Szegedy et al. 2016). A
    per-sample ``weight`` multiplies :math:`\ell_i`; with ``class_weight`` the mean still
    divides by the sum of the labels' class weights.

    Edge cases: everything ignored or all present labels weighted 0 give ``"mean"`` 0 with
    zero gradients (torch: NaN). ``-inf`` logits (masked classes) give finite values and
    gradients where the target has no mass on them (with label smoothing every class has
    mass and the loss is +inf). Saturated logits (``|z| = 1e4``) stay finite. A ``+inf``
    logit is the limit of a logit growing without bound: its class takes all the probability
    (``k`` such logits share it), so the loss is 0 (:math:`\log k`) for that label and ``+inf``
    for another, with a zero gradient (torch and optax give NaN). NaN propagates; ignored
    samples may hold anything.

    References: ``torch.nn.functional.cross_entropy`` (channels-first: ``axis=1``; pass its
    ``ignore_index=-100`` explicitly; ``from_logits=False`` is ``nll_loss(log(p))``),
    ``optax.losses.softmax_cross_entropy[_with_integer_labels]`` (also with a tuple
    ``axis``), ``keras.losses.(sparse_)categorical_crossentropy(from_logits=...)``.
    """
    fn = "cross_entropy"
    check_bool(fn, "from_logits", from_logits)
    ls = check_smoothing(fn, label_smoothing)
    if from_logits and class_weight is None and ignore_index is None:
        out = _fast.labels(fn, pred, target, axis, reduction, weight, where, replicas, ls)
        if out is not None:
            return out
    call, pred, target, ax, c, dense = start_class_axes(
        fn, pred, target, axis=axis, reduction=reduction, weight=weight, where=where,
        replicas=replicas,
        ignore_index=ignore_index)
    xp = call.xp
    class_w = call.array_option("class_weight", class_weight, pred, shape=(c,))
    check_nonnegative(fn, "class_weight", xp, class_w)
    if not from_logits:
        check_probabilities(fn, "pred", xp, pred, hint="; for logits pass from_logits=True "
                            "(the default)")
    if dense:
        check_probabilities(fn, "target", xp, target)
        log_p, cm = log_probabilities(call, call.float(pred), ax, from_logits)
        return call.finish(dense_cross_entropy(xp, log_p, call.float(target), class_w, ls, ax,
                                               kept_classes(call, cm, c, ax, True)))
    if from_logits:
        out = fused_with_labels(call, fn, call.float(pred), target, ax, c, ignore_index,
                                class_w, ignore_index, ls, mask_ignored=True)
        if out is not None:
            return out
    lab = Labels(fn, "target", xp, target, c, ax, ignore_index, class_w)
    z = lab.mask_logits(xp, call.float(pred))
    per_sample = call.where is None or call.where.ndim != z.ndim  # no class-axis mask
    if from_logits and per_sample:  # no class mask: the label's entry of the log-softmax
        return lab.reduce(call, logits_label_cross_entropy(xp, lab, z, class_w, ls))
    log_p, cm = log_probabilities(call, z, ax, from_logits)
    loss = label_cross_entropy(xp, lab, log_p, class_w, ls, kept_classes(call, cm, c, ax, False))
    return lab.reduce(call, labels_kept(call, lab, cm, loss))


def softmax_focal_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int | tuple[int, ...] = -1,
    gamma: float = 2.0,
    alpha: Any = None,
    class_weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Multi-class (softmax) focal loss, the multi-class extension of Lin et al., "Focal Loss
    for Dense Object Detection", ICCV 2017.

    .. math::

        \begin{aligned}
            \ell_i &= (1 - \mathrm{ls})\, f_{i y_i} + \frac{\mathrm{ls}}{C} \sum_{c=1}^{C} f_{ic}
                && \text{integer labels } y_i \\
            \ell_i &= \sum_{c=1}^{C} \Bigl((1 - \mathrm{ls})\, q_{ic} + \frac{\mathrm{ls}}{C}\Bigr)
                f_{ic} && \text{dense targets } q_i \\
            f_{ic} &= -\alpha_c\, w_c\, (1 - p_{ic})^{\gamma} \log p_{ic}, \qquad
            p_i = \operatorname{softmax}(z_i)
        \end{aligned}

    with :math:`\alpha_c` = ``alpha[c]`` and :math:`w_c` = ``class_weight[c]`` (1 if None),
    :math:`\mathrm{ls}` = ``label_smoothing``. :math:`1 - p` is computed as
    ``-expm1(log p)`` (no cancellation). ``"mean"`` as ``cross_entropy``:
    with integer labels
    :math:`\sum_i \mathrm{weight}_i\, \ell_i / \sum_{i \text{ not ignored}} w_{y_i}`, with dense
    targets divided by N.

    With ``gamma=0`` and ``alpha=None`` this is exactly ``cross_entropy`` (same ``class_weight``,
    ``ignore_index`` and denominators). ``alpha`` is the paper's :math:`\alpha_t`: it multiplies the
    loss but stays out of the denominator. A scalar ``alpha`` is refused: kornia and MONAI map ``a``
    to ``[1 - a, a, ..., a]`` (class 0 as background); pass that vector explicitly. The mean divides
    by N, not N*C (kornia's mean is this mean / C).

    Shapes and ``axis`` (a tuple too), ``ignore_index``, ``class_weight`` as
    ``cross_entropy``; ``alpha`` has one value per class, as ``class_weight``; ``gamma >=
    0``; ``alpha`` values in ``[0, 1]``. The focal factor is computed in log space and masked
    where ``p = 1``: values and gradients are finite for every ``gamma >= 0``, including
    ``gamma < 1`` at saturated logits. Everything ignored gives 0. Infinite logits and NaN
    as ``cross_entropy``: a ``+inf`` logit gives 0 for its label, ``+inf`` for another.

    ``label_smoothing`` (in ``[0, 1]``) is ``cross_entropy``'s rule, as in the formula above (the
    same denominators); with ``gamma=0`` and ``alpha=None`` it is
    ``cross_entropy(label_smoothing=ls)``, and on dense targets Keras's
    ``categorical_focal_crossentropy(label_smoothing=ls)``.

    References: ``kornia.losses.focal_loss`` (channels-first, per-class ``"none"``, mean over
    N*C), ``monai.losses.FocalLoss(use_softmax=True)``.
    """
    fn = "softmax_focal_loss"
    ls = check_smoothing(fn, label_smoothing)
    gamma = check_number(fn, "gamma", gamma, ge=0.0)
    if isinstance(alpha, numbers.Real):
        raise ValueError(
            f"{fn}: `alpha` must be None or one value per class (length C); got the scalar "
            f"{alpha!r}. For kornia/MONAI's scalar alpha pass [1 - a, a, ..., a]"
        )
    call, pred, target, ax, c, dense = start_class_axes(
        fn, pred, target, axis=axis, reduction=reduction, weight=weight, where=where,
        replicas=replicas,
        ignore_index=ignore_index)
    xp = call.xp
    a = call.array_option("alpha", alpha, pred, shape=(c,))
    class_w = call.array_option("class_weight", class_weight, pred, shape=(c,))
    if a is not None:
        check_probabilities(fn, "alpha", xp, a)
    check_nonnegative(fn, "class_weight", xp, class_w)
    if dense:
        check_probabilities(fn, "target", xp, target)
        log_p, cm = log_softmax_kept(call, call.float(pred), ax)
        q = call.float(target)
        if ls != 0.0:
            q = (1.0 - ls) * q + ls / kept_classes(call, cm, c, ax, True)
        for vec in (a, class_w):
            if vec is not None:
                q = q * _ops.along(xp, vec, q.ndim, ax)
        if gamma != 0.0:
            q = q * pow_one_minus_exp(xp, log_p, gamma)
        return call.finish(-xp.sum(_ops.mul0(xp, q, log_p), axis=ax))
    lab = Labels(fn, "target", xp, target, c, ax, ignore_index, class_w)
    log_p, cm = log_softmax_kept(call, lab.mask_logits(xp, call.float(pred)), ax)
    log_pt = lab.gather(xp, log_p)
    loss = -log_pt
    if gamma != 0.0:
        loss = pow_one_minus_exp(xp, log_pt, gamma) * loss
    if a is not None:
        loss = _ops.take(xp, a, lab.labels) * loss
    if lab.w_y is not None:
        loss = lab.w_y * loss
    if ls != 0.0:  # every class's focal term, weighted as the labelled one
        every = 0.0 - log_p
        if gamma != 0.0:
            every = pow_one_minus_exp(xp, log_p, gamma) * every
        for vec in (a, class_w):
            if vec is not None:
                every = _ops.along(xp, vec, every.ndim, ax) * every
        loss = (1.0 - ls) * loss + (ls / kept_classes(call, cm, c, ax, False)) * xp.sum(
            every, axis=ax)
    return lab.reduce(call, labels_kept(call, lab, cm, loss))


def _kl_terms(call: Call, log_q: Array, p: Array, log_target: bool) -> tuple[Array, Array]:
    """The terms ``where(p > 0, p (log p - log_q), 0)`` of both KL divergences, and ``p``
    (from ``exp`` of the second argument with ``log_target``). Off the support of P a term
    is 0, also for ``log_q = -inf``, unless ``log_q`` is NaN (a NaN anywhere propagates);
    ``log_q`` is masked there too, which keeps ``-inf`` out of the product's gradient (and
    keeps XLA faster under ``jax.jit`` than the outer mask alone)."""
    xp = call.xp
    lq = call.float(log_q)
    if log_target:
        log_pt = call.float(p)
        pt = xp.exp(log_pt)
        log_pt = xp.where(pt == 0, xp.zeros_like(log_pt), log_pt)
    else:
        pt = call.float(p)
        log_pt = xp.log(xp.where(pt == 0, xp.ones_like(pt), pt))
    off = (pt == 0) & (lq == lq)
    lq = xp.where(off, xp.zeros_like(lq), lq)
    return xp.where(off, xp.zeros_like(pt), pt * (log_pt - lq)), pt


def kl_divergence(
    log_q: Array,
    p: Array,
    /,
    *,
    axis: int | tuple[int, ...] = -1,
    log_target: bool = False,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Kullback-Leibler divergence ``KL(P || Q)`` per distribution, torch's argument order.

    .. math::

        \mathrm{KL}_i(P \,\Vert\, Q) = \sum_{c=1}^{C} p_{ic} \bigl(\log p_{ic} - \log q_{ic}\bigr),
        \qquad 0 \log \tfrac{0}{q} = 0

    The first argument is :math:`\log q`; the second is :math:`p`, or :math:`\log p` with
    ``log_target=True`` (then :math:`p = \exp(\log p)`). The gradient is
    :math:`\partial \mathrm{KL} / \partial \log q_c = -p_c`; with respect to the logits of
    :math:`Q` it is :math:`\operatorname{softmax} - P`.

    ``log_q``: the model's log-probabilities; ``p``: the target probabilities (values in
    ``[0, 1]``, checked when concrete) or, with ``log_target=True``, log-probabilities
    (``<= 0``). Same shapes, classes on ``axis``. ``"none"`` returns one value per
    distribution; ``"mean"`` is the per-sample mean (torch ``"batchmean"`` for 2-D input;
    torch's ``"mean"`` divides by N*C, which is almost never wanted). A tuple ``axis`` holds
    several class axes (each distribution spans all of them, as optax's tuple ``axis``).

    Edge cases: entries with :math:`p_c = 0` give value 0 and gradient 0 even where
    :math:`\log q_c = -\infty` (both inputs are masked; torch returns NaN there).
    :math:`p_c > 0` with :math:`\log q_c = -\infty` gives ``+inf``, the correct value, with the
    finite gradient :math:`-p_c` for ``log_q``.

    References: ``torch.nn.functional.kl_div(log_q, p, reduction="batchmean",
    log_target=...)``, ``scipy.special.rel_entr(p, q).sum(axis)``,
    ``optax.losses.kl_divergence(log_predictions, targets)`` (sums over the last axis).
    """
    fn = "kl_divergence"
    check_bool(fn, "log_target", log_target)
    out = _fast.pair(fn, log_q, p, (-math.inf, 0.0) if log_target else (0.0, 1.0), reduction,
                     weight, where, replicas, axis, log_target)
    if out is not None:
        return out
    call = start(fn, log_q, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, pred_name="log_q", p=p)
    check_same_shape(fn, log_q, p, ("log_q", "p"))
    xp = call.xp
    ax, (log_q, p) = class_axes(call, axis, log_q, p)
    if log_target:
        check_values(fn, "p", xp, p, lambda v: v > 0,
                     "must hold log-probabilities (<= 0) with log_target=True",
                     within=(-math.inf, 0, False))
    else:
        check_probabilities(fn, "p", xp, p)
    terms, _ = _kl_terms(call, log_q, p, log_target)
    cm = call.class_mask(tuple(terms.shape), ax)
    if cm is not None:
        terms = xp.where(cm, terms, xp.zeros_like(terms))
    return call.finish(xp.sum(terms, axis=ax))


def generalized_kl_divergence(
    log_q: Array,
    p: Array,
    /,
    *,
    axis: int = -1,
    log_target: bool = False,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Generalised KL divergence (I-divergence) of non-negative measures that need not sum
    to 1, ``kl_divergence``'s argument order.

    .. math::

        D_i = \sum_{c=1}^{C} \Bigl(p_{ic} \bigl(\log p_{ic} - \log q_{ic}\bigr) - p_{ic}
            + q_{ic}\Bigr), \qquad q_{ic} = \exp(\log q_{ic}), \qquad 0 \log \tfrac{0}{q} = 0

    The second argument is :math:`p`, or :math:`\log p` with ``log_target=True`` (then
    :math:`p = \exp(\log p)`). The gradient :math:`\partial D / \partial \log q_c = q_c - p_c`
    is finite everywhere (:math:`-p_c` at :math:`\log q_c = -\infty`).

    It is the Bregman divergence of :math:`\sum_c x_c \log x_c - x_c`: :math:`\ge 0`, 0 exactly
    where :math:`p = q`, and equal to ``kl_divergence`` when both measures sum to 1. ``log_q``: the
    model's log-measure (e.g. a log-rate or log-intensity); ``p``: the target measure (values
    ``>= 0``, checked when concrete; any size) or, with ``log_target=True``, its log (any real,
    ``-inf`` for 0). Same shapes, classes on ``axis``. ``"none"`` returns one value per distribution
    (the shape without ``axis``); ``"mean"`` averages over distributions.

    Edge cases: :math:`p_c = 0` with :math:`\log q_c = -\infty` gives 0 with zero gradients
    (optax gives NaN from ``0 * -inf``); :math:`p_c = 0` with a finite :math:`\log q_c` gives
    :math:`q_c`; :math:`p_c > 0` with :math:`\log q_c = -\infty` gives ``+inf`` with the
    finite gradient :math:`-p_c`. A NaN propagates. The gradient w.r.t. ``p`` at
    :math:`p_c = 0` is taken as :math:`-1` (its log-term is masked there).

    References: ``optax.losses.generalized_kl_divergence(log_q, p)`` (sums over the last
    axis), ``scipy.special.kl_div(p, q).sum(axis)`` (the same elementwise term).
    """
    fn = "generalized_kl_divergence"
    check_bool(fn, "log_target", log_target)
    call = start(fn, log_q, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, pred_name="log_q", p=p)
    check_same_shape(fn, log_q, p, ("log_q", "p"))
    ax = check_axis(fn, axis, log_q.ndim)
    check_classes(fn, log_q.shape[ax])
    xp = call.xp
    if not log_target:
        check_nonnegative(fn, "p", xp, p)
    terms, pt = _kl_terms(call, log_q, p, log_target)
    return call.finish(xp.sum(terms - pt + xp.exp(call.float(log_q)), axis=ax))
