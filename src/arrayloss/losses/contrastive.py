"""Contrastive and ranking losses over a batch: NT-Xent (InfoNCE) and the circle loss on
embeddings with integer group labels (one ``(N, N)`` or ``(N, M)`` cosine matrix, label
masks, masked log-sum-exps), and the listwise softmax ranking loss on lists of scores.

The pair losses compare every sample of the batch with every other one: the batch is the
unit, so ``"none"`` returns one value per anchor, and a value depends on the whole batch.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._namespace import Array, Namespace, device, numel
from .._reduce import Call, start
from .._validate import (
    check_axis,
    check_bool,
    check_nonnegative,
    check_number,
    check_same_shape,
    integer_labels,
)

__all__ = ["circle_loss", "ntxent_loss", "ranking_softmax_loss"]


def _group_inputs(fn: str, xp: Namespace, pred: Array, target: Array,
                  pred_name: str = "pred", target_name: str = "target") -> Array:
    """Embeddings ``(N, D)`` and integer group labels ``(N,)``: the labels in the default
    integer dtype (any value is a group; only equality matters)."""
    ps, ts = tuple(pred.shape), tuple(target.shape)
    if len(ps) != 2:
        raise ValueError(f"{fn}: `{pred_name}` must be embeddings of shape (N, D); got shape "
                         f"{ps} and `{target_name}` of shape {ts}")
    if ts != ps[:1]:
        raise ValueError(
            f"{fn}: `{target_name}` must hold one integer group label per row of "
            f"`{pred_name}`, shape {ps[:1]}; got `{pred_name}` {ps} and `{target_name}` {ts}"
        )
    if ps[1] == 0:
        raise ValueError(f"{fn}: the feature axis (D) of `{pred_name}` has size 0; at least "
                         "one feature is needed")
    return integer_labels(fn, target_name, xp, target)


def _eye(xp: Namespace, n: Any, m: Any, like: Array) -> Array:
    """The bool ``(n, m)`` matrix of ``i == j`` (no host read: built from ``arange``)."""
    dev = device(like)
    i = xp.arange(n, device=dev)
    j = xp.arange(m, device=dev)
    return xp.expand_dims(i, axis=1) == xp.expand_dims(j, axis=0)


def _masked_lse(xp: Namespace, x: Array, mask: Array) -> tuple[Array, Array]:
    """``(logsumexp over the True entries of each row, whether the row has one)``: rows
    without an entry get a finite placeholder (the caller masks them), so neither their value
    nor their gradient is ``log 0``; masked entries get exactly zero gradient."""
    any_ = xp.any(mask, axis=-1)
    if x.shape[-1] == 0:  # no reference at all (an empty batch or bank): a static shape
        return xp.sum(x, axis=-1), any_
    inner = xp.where(mask, x, xp.full_like(x, -math.inf))
    inner = xp.where(xp.expand_dims(any_, axis=-1), inner, xp.zeros_like(x))
    return _ops.logsumexp(xp, inner, axis=-1), any_


def ntxent_loss(
    pred: Array,
    target: Array,
    /,
    *,
    temperature: float = 0.07,
    eps: float = 1e-8,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""NT-Xent (normalised temperature-scaled cross-entropy, InfoNCE with group labels) of
    Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations"
    (SimCLR), ICML 2020.

    .. math::

        \begin{aligned}
            \ell_i &= \sum_{j \in \mathcal{P}(i)} \ell_{ij} \\
            \ell_{ij} &= -s_{ij} + \log\Bigl(\exp(s_{ij})
                + \sum_{k \in \mathcal{N}(i)} \exp(s_{ik})\Bigr)
            = \operatorname{softplus}\Bigl(
                \log \sum_{k \in \mathcal{N}(i)} \exp(s_{ik}) - s_{ij}\Bigr) \\
            s_{ij} &= \frac{1}{\tau}\,
                \frac{e_i \cdot e_j}{\max(\lVert e_i \rVert, \varepsilon)\,
                    \max(\lVert e_j \rVert, \varepsilon)},
            \qquad
            \mathcal{P}(i) = \{\, j \ne i : g_j = g_i \,\},
            \qquad
            \mathcal{N}(i) = \{\, k : g_k \ne g_i \,\} \\
            \texttt{"mean"} &= \frac{\sum_i w_i\,\ell_i}{\sum_i |\mathcal{P}(i)|}
            \quad \text{(the mean over positive pairs)}
        \end{aligned}

    with :math:`e_i` the rows of ``pred``, :math:`g_i` the group labels ``target``,
    :math:`\tau` = ``temperature``, :math:`\varepsilon` = ``eps`` and :math:`w_i` = ``weight``;
    ``"none"`` gives :math:`\ell_i`, shape ``(N,)``.

    ``pred``: embeddings ``(N, D)`` (normalised inside:
    :math:`e / \max(\lVert e \rVert, \varepsilon)`), ``target``:
    integer group labels ``(N,)`` of any integer dtype; samples with equal labels are
    positives of each other (other positives stay out of each denominator). With two views
    per sample, ``pred = concat(view1, view2)`` and ``target = concat(arange(B),
    arange(B))``, every anchor has one positive and this is SimCLR's loss (MONAI's
    ``ContrastiveLoss``). ``temperature=0.07`` (optax's default; SimCLR used 0.1 to 0.5) must
    be > 0; ``eps=1e-8`` (> 0) floors each norm, as torch's ``cosine_similarity``.
    ``"weighted_mean"`` divides by :math:`\sum_i w_i\,|\mathcal{P}(i)|`.

    Edge cases: a batch without a positive pair gives 0 with zero gradients (optax's
    ``ntxent`` returns NaN, 0/0); an anchor without negatives has :math:`\ell_{ij} = 0`; a
    zero embedding has cosine 0 with everything. The similarity matrix is ``(N, N)``: memory
    grows as :math:`N^2`. Equals ``optax.losses.ntxent``.
    """
    fn = "ntxent_loss"
    t = check_number(fn, "temperature", temperature, gt=0.0)
    e = check_number(fn, "eps", eps, gt=0.0)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    xp = call.xp
    g = _group_inputs(fn, xp, pred, target)
    pred, g = call.gather_batch(pred, g, rows=True)  # with replicas: the group's batch
    u = _ops.unit(xp, call.float(pred), axis=-1, eps=e)
    s = xp.matmul(u, xp.matrix_transpose(u)) / t
    n = pred.shape[0]
    same = xp.expand_dims(g, axis=1) == xp.expand_dims(g, axis=0)
    pos = same & ~_eye(xp, n, n, g)
    lse, has_neg = _masked_lse(xp, s, ~same)
    pair = _ops.softplus(xp, xp.expand_dims(lse, axis=-1) - s)
    keep = pos & xp.expand_dims(has_neg, axis=-1)
    loss = xp.sum(xp.where(keep, pair, xp.zeros_like(pair)), axis=-1)
    return call.finish(loss, count=xp.sum(xp.astype(pos, call.dtype), axis=-1))


def _reference_set(fn: str, call: Call, pred: Array, g: Array, ref_embeddings: Any,
                   ref_labels: Any) -> tuple[Array, Array]:
    """The reference embeddings and labels: the batch itself, or both ``ref_*`` given."""
    if (ref_embeddings is None) != (ref_labels is None):
        raise ValueError(f"{fn}: `ref_embeddings` and `ref_labels` go together: give both "
                         "(a reference set, e.g. a memory bank) or neither")
    if ref_embeddings is None:
        return pred, g
    xp = call.xp
    rg = _group_inputs(fn, xp, ref_embeddings, ref_labels, "ref_embeddings", "ref_labels")
    if ref_embeddings.shape[1] != pred.shape[1]:
        raise ValueError(f"{fn}: `ref_embeddings` must have D = {pred.shape[1]} features as "
                         f"`pred` {tuple(pred.shape)}; got {tuple(ref_embeddings.shape)}")
    return call.float(ref_embeddings), rg


def circle_loss(
    pred: Array,
    target: Array,
    /,
    *,
    gamma: float = 80.0,
    margin: float = 0.4,
    normalize: bool = True,
    remove_diagonal: bool = True,
    detach_weights: bool = False,
    ref_embeddings: Array | None = None,
    ref_labels: Array | None = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Circle loss of Sun et al., "Circle Loss: A Unified Perspective of Pair Similarity
    Optimization", CVPR 2020 (the pair-label form, as ``keras.losses.Circle``).

    .. math::

        \begin{aligned}
            \ell_i &= \operatorname{softplus}\Bigl(
                \log \sum_{j \in \mathcal{P}(i)}
                    \exp\bigl(-\gamma\,\alpha^p_{ij}\,(s_{ij} - \Delta_p)\bigr)
                + \log \sum_{j \in \mathcal{N}(i)}
                    \exp\bigl(\gamma\,\alpha^n_{ij}\,(s_{ij} - \Delta_n)\bigr)\Bigr) \\
            \alpha^p_{ij} &= \max(0,\ 1 + m - s_{ij}),
            \qquad
            \alpha^n_{ij} = \max(0,\ s_{ij} + m),
            \qquad
            \Delta_p = 1 - m,
            \qquad
            \Delta_n = m \\
            s_{ij} &= \hat e_i \cdot \hat r_j,
            \qquad
            \hat x = \begin{cases}
                x / \max(\lVert x \rVert, 10^{-8}) & \texttt{normalize=True} \\
                x & \texttt{normalize=False}
            \end{cases}
        \end{aligned}

    with :math:`e_i` the rows of ``pred``, :math:`r_j` the references (the batch itself, or
    ``ref_embeddings``), :math:`\gamma` = ``gamma`` and :math:`m` = ``margin``; so
    :math:`s_{ij}` is the cosine of :math:`e_i` and :math:`r_j`.

    ``pred``: embeddings ``(N, D)``, ``target``: integer labels ``(N,)``.
    :math:`\mathcal{P}(i)`: the references with :math:`i`'s label, without :math:`j = i` when
    ``remove_diagonal`` (the batch is its own reference set: an anchor is not its own
    positive); :math:`\mathcal{N}(i)`: the others.
    ``ref_embeddings`` ``(M, D)`` and ``ref_labels`` ``(M,)`` (both or neither): a reference
    set, e.g. a memory bank; ``remove_diagonal`` then removes the entries ``j = i`` of the
    ``(N, M)`` matrix, which is right when the bank starts with the batch (pass False for a
    disjoint bank). Options: ``gamma=80.0`` (> 0) and ``margin=0.4`` (in [0, 1]), Keras's
    defaults (the paper: 256 and 0.25 for faces); ``normalize=True`` divides each embedding
    by :math:`\max(\lVert x \rVert, 10^{-8})` first (False: ``pred`` is taken as unit-norm, as
    Keras does); ``detach_weights=True`` stops the gradient through :math:`\alpha^p`,
    :math:`\alpha^n` (the common PyTorch ports), False (default) differentiates them as Keras.

    ``"none"``: ``(N,)``, 0 for an anchor without a positive or without a negative (its
    log-sum-exp is over nothing: :math:`\operatorname{softplus}(-\infty) = 0`, with zero
    gradient). ``"mean"``:
    over the anchors with at least one of each (Keras's class mean counts anchors with a
    loss > 0: the same except where a loss underflows to 0). Keras computes in float32.
    """
    fn = "circle_loss"
    gm = check_number(fn, "gamma", gamma, gt=0.0)
    m = check_number(fn, "margin", margin, ge=0.0, le=1.0)
    norm = check_bool(fn, "normalize", normalize)
    diag = check_bool(fn, "remove_diagonal", remove_diagonal)
    detach = check_bool(fn, "detach_weights", detach_weights)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target,
                 ref_embeddings=ref_embeddings, ref_labels=ref_labels)
    xp = call.xp
    g = _group_inputs(fn, xp, pred, target)
    if ref_embeddings is None:  # with replicas: the group's batch is the reference set
        pred, g = call.gather_batch(pred, g, rows=True)
    x = call.float(pred)
    r, rg = _reference_set(fn, call, x, g, ref_embeddings, ref_labels)
    if norm:
        x = _ops.unit(xp, x)
        r = _ops.unit(xp, r)
    s = xp.matmul(x, xp.matrix_transpose(r))
    same = xp.expand_dims(g, axis=1) == xp.expand_dims(rg, axis=0)
    pos = same & ~_eye(xp, x.shape[0], r.shape[0], g) if diag else same
    a_p = _ops.relu(xp, 1.0 + m - s)
    a_n = _ops.relu(xp, s + m)
    if detach:
        a_p, a_n = _ops.stop_gradient(xp, a_p), _ops.stop_gradient(xp, a_n)
    lse_p, has_p = _masked_lse(xp, -gm * a_p * (s - (1.0 - m)), pos)
    lse_n, has_n = _masked_lse(xp, gm * a_n * (s - m), ~same)
    valid = has_p & has_n
    loss = _ops.softplus(xp, xp.where(valid, lse_p + lse_n, xp.zeros_like(lse_p)))
    loss = xp.where(valid, loss, xp.zeros_like(loss))
    return call.finish(loss, mask=valid)


def ranking_softmax_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    where: Array | None = None,
    replicas: Any = None,
    item_weight: Array | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    r"""Listwise softmax cross-entropy ranking loss (the ListNet family; Cao et al., "Learning
    to Rank: From Pairwise Approach to Listwise Approach", ICML 2007; optax's
    ``ranking_softmax_loss``, from rax).

    .. math::

        \ell = -\sum_{i \in V} w_i\,y_i \log \frac{\exp(s_i)}{\sum_{k \in V} \exp(s_k)}

    per list, with :math:`s_i` = ``pred`` (the scores), :math:`y_i` = ``target`` (the
    relevance), :math:`w_i` = ``item_weight`` (1 when None) and :math:`V` the valid items of
    the list (those inside ``where``; every item when ``where`` is None): the softmax is over
    the valid items only.

    ``pred``: scores ``(..., L)`` with the L items of each list on ``axis`` (last by
    default); ``target``: graded relevance ``>= 0`` of the same shape (not normalised; values
    above 1 allowed; negative values raise ``ValueError`` on readable arrays). ``where``:
    bool mask of the valid items, of the rank of ``pred`` and broadcastable to it (optax's
    ``where``); invalid items leave the softmax and the sum, and receive zero gradient
    whatever their score (inf, NaN). A ``where`` of one rank less masks whole lists, as on
    every loss. ``item_weight``:
    per-item weights (an array or a list) broadcastable to ``pred`` (optax's ``weights``),
    multiplying the relevance; ``weight`` is the per-list weight (``pred`` without ``axis``).

    ``"none"``: one value per list. ``"mean"``: over the lists with at least one valid item
    (optax's mean with its ``where`` rule); a list whose relevance is all 0 counts and
    contributes 0; a list without a valid item gives 0 and is not counted. Equals
    ``cross_entropy`` with dense targets when ``where`` is None and each list's relevance
    sums to 1.
    """
    fn = "ranking_softmax_loss"
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    xp = call.xp
    ax = check_axis(fn, axis, pred.ndim)
    check_same_shape(fn, pred, target)
    shape = tuple(pred.shape)
    # an item mask (the rank of pred) leaves the softmax; a list without a valid item
    # leaves the count (call.where becomes "any item valid")
    ok = call.class_mask(shape, ax)
    w_item = call.array_option("item_weight", item_weight, pred, broadcast_to=shape)
    check_nonnegative(fn, "target", xp, target)
    s = call.float(pred)
    y = call.float(target)
    if numel(s) == 0:  # no list or no item (static shapes): no softmax to take (Dask cannot
        # reduce an empty block), the zero losses stay connected to the inputs
        return call.finish(xp.sum(s * y, axis=ax))
    if w_item is not None:
        y = y * w_item
    if ok is None:
        return call.finish(xp.sum(_ops.mul0(xp, y, -_ops.log_softmax(xp, s, axis=ax)),
                                   axis=ax))
    valid = xp.any(ok, axis=ax)
    y = xp.where(ok, y, xp.zeros_like(y))
    # invalid items leave the softmax (-inf); a list without a valid item gets zeros
    # instead, so that its log-softmax (and its gradient) stays finite
    s = xp.where(ok, s, xp.full_like(s, -math.inf))
    s = xp.where(xp.expand_dims(valid, axis=ax), s, xp.zeros_like(s))
    return call.finish(xp.sum(_ops.mul0(xp, y, -_ops.log_softmax(xp, s, axis=ax)), axis=ax))
