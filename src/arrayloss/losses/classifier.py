"""Losses of a classifier's output against integer class labels, beyond softmax
cross-entropy: the negative log-likelihood of given log-probabilities, two robust variants of
cross-entropy on logits (Poly-1 and the generalised cross-entropy), and the cross-entropy of
features through the classifier's output projection.

- Classes lie on ``axis`` (``-1``; ``axis=1`` for channels-first), or on the rows of the
  projection ``w`` for ``linear_cross_entropy``. Labels, ``ignore_index``, ``class_weight``
  and the ``"mean"`` denominator ``sum_{i not ignored} class_weight[y_i]`` follow
  ``cross_entropy`` (see ``arrayloss.losses.categorical``): ignored samples contribute 0
  and exactly 0 to the gradient whatever their inputs hold, labels outside ``[0, C)``
  raise ``ValueError`` on readable arrays and give NaN where they cannot be checked.
- Log-space kernels: ``1 - p`` is ``-expm1(log p)`` and ``p^q`` is ``exp(q log p)``, so
  saturated logits give finite values and gradients.
"""

from __future__ import annotations

from typing import Any

from .. import _fast, _ops
from .._labels import fused_with_labels
from .._namespace import Array, Namespace
from .._reduce import Call, Labels, start, start_classes
from .._validate import (
    check_classes,
    check_ignore_index,
    check_int,
    check_nonnegative,
    check_number,
    check_probabilities,
    check_smoothing,
)
from ._softmax import (
    dense_cross_entropy,
    kept_classes,
    label_cross_entropy,
    labels_kept,
    log_softmax_kept,
    logits_label_cross_entropy,
)

__all__ = ["generalized_cross_entropy", "linear_cross_entropy", "nll_loss",
           "poly_cross_entropy"]



def _class_weight(call: Call, class_weight: Any, like: Array, c: int) -> Array | None:
    w = call.array_option("class_weight", class_weight, like, shape=(c,))
    check_nonnegative(call.fn, "class_weight", call.xp, w)
    return w


def nll_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    class_weight: Any = None,
    ignore_index: int | None = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Negative log-likelihood of integer labels under given log-probabilities (torch's
    ``nll_loss``, the second half of ``cross_entropy = log_softmax + nll_loss``).

    .. math::

        \ell_i = -w_{y_i}\, x_{i y_i}, \qquad
        \operatorname{mean} = \frac{\sum_i \mathrm{weight}_i\, \ell_i}
            {\sum_{i \text{ not ignored}} w_{y_i}}

    with :math:`x` = ``pred``, :math:`w_c` = ``class_weight[c]`` (1 if None) and
    :math:`\ell_i = 0` for an ignored sample. The gradient with respect to ``pred`` is
    :math:`-w_{y_i}` at :math:`(i, y_i)` and 0 elsewhere.

    ``pred``: log-probabilities (or any scores) with classes on ``axis``; nothing is
    normalised, so raw scores give :math:`-z_y`, which can be negative. ``target``: integer
    labels of the shape of ``pred`` without ``axis`` (no dense targets, no label smoothing:
    use ``cross_entropy`` for those). ``cross_entropy(z, y)`` equals ``nll_loss(z, y)`` only
    when ``z`` is already normalised (:math:`\log \operatorname{softmax}(z) = z`).

    Options and denominators as ``cross_entropy``: ``class_weight`` (length C),
    ``ignore_index`` (None or a value outside ``[0, C)``; torch's ``-100`` must be passed).

    Edge cases: :math:`x_{i y_i} = -\infty` gives ``+inf`` with the finite gradient
    :math:`-w_{y_i}` (a class weight of 0 gives 0). Everything ignored gives 0 with
    zero gradients (torch: NaN). Only the label's entry is read: NaN elsewhere in a row does
    not propagate.

    Reference: ``torch.nn.functional.nll_loss(pred, target, weight=class_weight,
    ignore_index=...)`` (classes on axis 1: pass ``axis=1``).
    """
    fn = "nll_loss"
    if class_weight is None and ignore_index is None:
        out = _fast.labels(fn, pred, target, axis, reduction, weight, where, replicas,
                           nan_check=False)
        if out is not None:
            return out
    call, ax, c, _ = start_classes(fn, pred, target, axis=axis, reduction=reduction,
                                   weight=weight, where=where,
                                   replicas=replicas, ignore_index=ignore_index,
                                   dense=False)
    xp = call.xp
    class_w = _class_weight(call, class_weight, pred, c)
    out = fused_with_labels(call, fn, call.float(pred), target, ax, c, ignore_index, class_w,
                            ignore_index)
    if out is not None:
        return out
    lab = Labels(fn, "target", xp, target, c, ax, ignore_index, class_w)
    loss = 0.0 - lab.gather(xp, lab.mask_logits(xp, call.float(pred)))
    if lab.w_y is not None:
        loss = _ops.mul0(xp, lab.w_y, loss)
    return lab.reduce(call, loss)


def poly_cross_entropy(
    pred: Array,
    target: Array,
    /,
    *,
    epsilon: float = 2.0,
    axis: int = -1,
    class_weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Poly-1 cross-entropy: cross-entropy plus ``epsilon`` times the first polynomial term
    ``1 - p`` of its Taylor series (Leng et al., "PolyLoss: A Polynomial Expansion
    Perspective of Classification Loss Functions", ICLR 2022).

    .. math::

        \begin{aligned}
            \ell_i &= \sum_{c=1}^{C} q'_{ic}\, w_c
                \bigl(-\log p_{ic} + \epsilon\, (1 - p_{ic})\bigr),
            \qquad p_i = \operatorname{softmax}(z_i) \\
            q'_{ic} &= (1 - \mathrm{ls})\, \mathrm{onehot}(y_i)_c + \frac{\mathrm{ls}}{C}
                \quad\text{or}\quad (1 - \mathrm{ls})\, q_{ic} + \frac{\mathrm{ls}}{C}
        \end{aligned}

    for integer labels :math:`y_i` or dense targets :math:`q_i`, with :math:`\epsilon` =
    ``epsilon``, :math:`w_c` = ``class_weight[c]`` (1 if None) and :math:`\mathrm{ls}` =
    ``label_smoothing``. Integer labels without smoothing give
    :math:`\ell_i = w_{y_i} \bigl(-\log p_t + \epsilon\, (1 - p_t)\bigr)`,
    :math:`p_t = p_{i y_i}`. :math:`1 - p` is computed as ``-expm1(log p)``
    (no cancellation).

    With ``epsilon=0`` this is ``cross_entropy`` exactly (same options, same denominators).
    ``epsilon=2.0`` is the paper's ImageNet setting and optax's default (the paper uses
    ``-1`` for detection); ``epsilon < -1`` raises ``ValueError``, since below ``-1`` the
    loss can be negative (:math:`-\log p \ge 1 - p`). The name is the paper's; numerical floors in
    arrayloss are called ``eps``.

    Shapes, ``axis``, ``class_weight``, ``ignore_index``, ``label_smoothing``, dense targets
    and ``"mean"`` exactly as ``cross_entropy``. Edge cases as ``cross_entropy``: saturated
    logits stay finite, a ``+inf`` logit takes all the probability of its slice, a ``-inf``
    logit is a masked class (finite where the target has no mass on it), everything ignored
    gives 0.

    Reference: ``optax.losses.poly_loss_cross_entropy(logits, labels, epsilon=...)``
    (dense labels, per sample).
    """
    fn = "poly_cross_entropy"
    eps = check_number(fn, "epsilon", epsilon, ge=-1.0)
    ls = check_smoothing(fn, label_smoothing)
    call, ax, c, dense = start_classes(fn, pred, target, axis=axis, reduction=reduction,
                                       weight=weight, where=where,
                                       replicas=replicas, ignore_index=ignore_index)
    xp = call.xp
    class_w = _class_weight(call, class_weight, pred, c)
    if dense:
        check_probabilities(fn, "target", xp, target)
        log_p, cm = log_softmax_kept(call, call.float(pred), ax)
        # -log p + eps (1 - p) stands in for -log p in the cross-entropy's sum
        poly = log_p + eps * xp.expm1(log_p)
        return call.finish(dense_cross_entropy(xp, poly, call.float(target), class_w, ls, ax,
                                               kept_classes(call, cm, c, ax, True)))
    lab = Labels(fn, "target", xp, target, c, ax, ignore_index, class_w)
    log_p, cm = log_softmax_kept(call, lab.mask_logits(xp, call.float(pred)), ax)
    if ls == 0.0:  # the label's term only: no full-size expm1
        log_pt = lab.gather(xp, log_p)
        loss = (0.0 - log_pt) - eps * xp.expm1(log_pt)
        if lab.w_y is not None:
            loss = lab.w_y * loss
    else:
        loss = label_cross_entropy(xp, lab, log_p + eps * xp.expm1(log_p), class_w, ls,
                                   kept_classes(call, cm, c, ax, False))
    return lab.reduce(call, labels_kept(call, lab, cm, loss))


def generalized_cross_entropy(
    pred: Array,
    target: Array,
    /,
    *,
    q: float = 0.5,
    axis: int = -1,
    class_weight: Any = None,
    ignore_index: int | None = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Generalised cross-entropy, the noise-robust ``L_q`` loss of Zhang & Sabuncu,
    "Generalized Cross Entropy Loss for Training Deep Neural Networks with Noisy Labels",
    NeurIPS 2018.

    .. math::

        \begin{aligned}
            \ell_i &= w_{y_i}\, \frac{1 - p_t^{\,q}}{q},
            \qquad p_t = \operatorname{softmax}(z_i)_{y_i} \\
            \frac{\partial \ell_i}{\partial z_i} &= -w_{y_i}\, p_t^{\,q}
                \bigl(\mathrm{onehot}(y_i) - \operatorname{softmax}(z_i)\bigr)
        \end{aligned}

    with :math:`w_c` = ``class_weight[c]`` (1 if None): cross-entropy's gradient times
    :math:`p_t^{\,q}`. As :math:`q \to 0` it tends to ``cross_entropy``; :math:`q = 1` gives
    :math:`1 - p_t` (the MAE of the probabilities, up to a factor 2). The loss is computed as
    ``-expm1(q * log_pt) / q`` from the log-softmax.

    ``pred``: logits with classes on ``axis``; ``target``: integer labels (``pred``'s shape
    without ``axis``). ``q`` in ``(0, 1]`` (else ``ValueError``); the default 0.5 is
    Keras's, the paper recommends 0.7. ``class_weight`` multiplies :math:`\ell_i` by
    :math:`w_{y_i}`; ``ignore_index`` and the ``"mean"`` denominator as ``cross_entropy``.
    Without class weights the loss lies in :math:`[0, 1/q]`.

    Edge cases: a confidently wrong prediction (:math:`\log p_t = -10^4`, or a ``-inf`` label
    logit) gives :math:`1/q` with a vanishing, finite gradient: the intended robustness to
    mislabelled samples. A ``+inf`` logit takes all the probability (0 for its label,
    :math:`1/q` for another). Everything ignored gives 0. NaN propagates.

    Reference: ``keras.losses.categorical_generalized_cross_entropy(y, p, q)`` takes
    probabilities ``p``; it equals ``generalized_cross_entropy(log(p), y, q=q,
    reduction="none")`` (log-probabilities are valid logits).
    """
    fn = "generalized_cross_entropy"
    qq = check_number(fn, "q", q, gt=0.0, le=1.0)
    call, ax, c, _ = start_classes(fn, pred, target, axis=axis, reduction=reduction,
                                   weight=weight, where=where,
                                   replicas=replicas, ignore_index=ignore_index,
                                   dense=False)
    xp = call.xp
    class_w = _class_weight(call, class_weight, pred, c)
    lab = Labels(fn, "target", xp, target, c, ax, ignore_index, class_w)
    log_p = _ops.log_softmax(xp, lab.mask_logits(xp, call.float(pred)), axis=ax)
    loss = xp.expm1(qq * lab.gather(xp, log_p)) * (-1.0 / qq)
    if lab.w_y is not None:
        loss = lab.w_y * loss
    return lab.reduce(call, loss)


def _project(xp: Namespace, x: Array, w: Array, b: Array | None) -> Array:
    """``x @ w^T + b``: the logits of features ``x (..., D)`` for the rows of ``w (C, D)``."""
    z = xp.matmul(x, xp.permute_dims(w, (1, 0)))
    return z if b is None else z + b


def _chunked(xp: Namespace, x: Array, w: Array, b: Array | None, chunk: int,
             dense_qw: Array | None, class_w: Array | None, smooth: bool
             ) -> tuple[Array, Array | None]:
    """One pass over class chunks of ``w``: the logsumexp of the logits (online max and sum,
    the shift gradient-free) and, where needed, ``sum_c a_c z_c`` for ``a = dense_qw``
    (dense targets times class weights) or ``a = class_w`` (label smoothing; 1 without
    class weights). Only one ``(..., chunk)`` block of logits exists at a time."""
    c = w.shape[0]
    m = s = acc = None
    for k0 in range(0, c, chunk):
        k1 = min(k0 + chunk, c)
        z = _project(xp, x, w[k0:k1, ...], None if b is None else b[k0:k1])
        mk = _ops.stop_gradient(xp, xp.max(z, axis=-1, keepdims=True))
        if m is None:
            m, s = mk, xp.sum(xp.exp(z - mk), axis=-1, keepdims=True)
        else:
            new = xp.maximum(m, mk)
            s = s * xp.exp(m - new) + xp.sum(xp.exp(z - new), axis=-1, keepdims=True)
            m = new
        if dense_qw is not None:
            part = xp.sum(dense_qw[..., k0:k1] * z, axis=-1)
        elif smooth:
            part = xp.sum(z if class_w is None else class_w[k0:k1] * z, axis=-1)
        else:
            continue
        acc = part if acc is None else acc + part
    lse = xp.squeeze(xp.log(s) + m, axis=-1)
    return lse, acc


def _chunk_size(fn: str, chunk_size: Any) -> int | None:
    if chunk_size is None:
        return None
    n = check_int(fn, "chunk_size", chunk_size)
    if n < 1:
        raise ValueError(f"{fn}: `chunk_size` must be None or a positive int; got {n}")
    return n


def linear_cross_entropy(
    x: Array,
    w: Array,
    target: Array,
    /,
    *,
    bias: Any = None,
    class_weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    chunk_size: int | None = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Cross-entropy of the logits ``x @ w^T + bias`` (a classifier's output projection
    fused with its loss, as torch's ``linear_cross_entropy``), optionally without ever
    holding all the logits.

    .. math::

        \begin{aligned}
            z_i &= W x_i + b, \qquad
            \log p_{ic} = z_{ic} - \log \sum_{k=1}^{C} e^{z_{ik}} \\
            \ell_i &= -(1 - \mathrm{ls})\, w_{y_i} \log p_{i y_i}
                - \frac{\mathrm{ls}}{C} \sum_{c=1}^{C} w_c \log p_{ic}
        \end{aligned}

    with features :math:`x_i` of size D (``x (..., D)``), :math:`W` = ``w`` of shape
    ``(C, D)``, :math:`b` = ``bias`` of shape ``(C,)`` (0 if None), :math:`w_c` =
    ``class_weight[c]`` (1 if None) and :math:`\mathrm{ls}` = ``label_smoothing``: the loss is
    ``cross_entropy(z, target, axis=-1, ...)`` of these logits with integer labels
    :math:`y_i` or dense targets, with all its options and denominators.

    ``target``: integer labels of shape ``x.shape[:-1]`` or dense probabilities of shape
    ``(..., C)``. ``"none"`` returns one value per sample (``x.shape[:-1]``).

    ``chunk_size=None`` (default) computes the full logits, then ``cross_entropy``: memory
    peaks at the ``(..., C)`` logits and their log-softmax (both kept for the backward pass
    under autodiff). An int streams over ``ceil(C / chunk_size)`` blocks of classes (a
    static Python loop) with an online max and sum: the logsumexp, the label's logit
    (``sum(x * w[y]) + bias[y]``, gathered rows of ``w``) and, for smoothing or dense
    targets, a weighted sum of the logits are accumulated, so the forward pass holds one
    ``(..., chunk_size)`` block at a time plus :math:`O(N)` accumulators. Under autodiff each
    block's intermediates are saved for the backward pass unless the framework recomputes
    them (``torch.utils.checkpoint``, ``jax.checkpoint`` around the call), so the memory
    saving is the forward's. Both paths give the same value up to rounding.

    torch's names map as ``linear_weight -> w``, ``linear_bias -> bias``, ``weight ->
    class_weight`` (``weight`` here is per sample) and its ``ignore_index=None`` (which
    torch maps to -100) must be passed as ``ignore_index=-100``.

    Edge cases as ``cross_entropy``; the features of ignored samples are masked before the
    projection, so whatever they hold the value and every gradient (``x``, ``w``,
    ``bias``) is unchanged. The chunked path assumes finite logits: an infinite logit gives
    NaN there, where the full path gives ``cross_entropy``'s limit.

    Reference: ``torch.nn.functional.linear_cross_entropy(x, w, target, linear_bias=bias,
    weight=class_weight, ignore_index=..., label_smoothing=...)``.
    """
    fn = "linear_cross_entropy"
    ls = check_smoothing(fn, label_smoothing)
    chunk = _chunk_size(fn, chunk_size)
    call = start(fn, x, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, pred_name="x", w=w,
                 target=target)
    xs, ws, ts = tuple(x.shape), tuple(w.shape), tuple(target.shape)
    if len(xs) < 1 or len(ws) != 2 or ws[1] != xs[-1]:
        raise ValueError(f"{fn}: `w` must have shape (C, D) with D = x.shape[-1]; got `x` "
                         f"{xs} and `w` {ws}")
    c = ws[0]
    check_classes(fn, c, "class axis (the rows of `w`)")
    call.classes = c
    dense = ts == (*xs[:-1], c)
    if not dense and ts != xs[:-1]:
        raise ValueError(f"{fn}: `target` must hold integer labels of shape {xs[:-1]} (`x` "
                         f"without its feature axis) or dense targets of shape "
                         f"{(*xs[:-1], c)}; got {ts}")
    if dense and ignore_index is not None:
        raise ValueError(f"{fn}: `ignore_index` applies to integer labels only; `target` is "
                         "dense: give ignored samples `weight` 0")
    if not dense:
        check_ignore_index(fn, ignore_index, c)
    xp = call.xp
    b = call.array_option("bias", bias, x, shape=(c,))
    class_w = _class_weight(call, class_weight, x, c)
    xf, wf = call.float(x), call.float(w)
    if dense:
        check_probabilities(fn, "target", xp, target)
        q = call.float(target)
        if chunk is None:
            log_p = _ops.log_softmax(xp, _project(xp, xf, wf, b), axis=-1)
            return call.finish(dense_cross_entropy(xp, log_p, q, class_w, ls, xf.ndim - 1))
        if ls != 0.0:
            q = (1.0 - ls) * q + ls / c
        qw = q if class_w is None else q * class_w
        lse, acc = _chunked(xp, xf, wf, b, chunk, qw, None, False)
        return call.finish(xp.sum(qw, axis=-1) * lse - acc)
    lab = Labels(fn, "target", xp, target, c, xf.ndim - 1, ignore_index, class_w)
    if lab.ignored is not None:
        xf = xp.where(xp.expand_dims(lab.ignored, axis=-1), xp.zeros_like(xf), xf)
    if chunk is None:
        z = _project(xp, xf, wf, b)
        return lab.reduce(call, logits_label_cross_entropy(xp, lab, z, class_w, ls))
    z_y = xp.sum(xf * _ops.take(xp, wf, lab.labels), axis=-1)
    if b is not None:
        z_y = z_y + _ops.take(xp, b, lab.labels)
    lse, acc = _chunked(xp, xf, wf, b, chunk, None, class_w, ls != 0.0)
    loss = lse - z_y
    if lab.w_y is not None:
        loss = lab.w_y * loss
    if ls != 0.0:
        total = float(c) if class_w is None else xp.sum(class_w)
        loss = (1.0 - ls) * loss + (ls / c) * (total * lse - acc)
    return lab.reduce(call, loss)

