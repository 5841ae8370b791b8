"""Lovász losses (Berman et al., "The Lovász-Softmax loss", CVPR 2018): the Lovász extension
of the Jaccard loss, for binary logits (hinge) and class probabilities (softmax).

The per-pixel errors of each set (an image, or the whole batch) are sorted with an unstable
sort (the values are invariant to the order of ties), the Jaccard-loss increments come from
``cumulative_sum``, and the loss is their dot product: one batched computation over images
and classes, masks instead of boolean indexing, jit-, vmap- and compile-safe. Dask runs them
lazily (its ``argsort`` rechunks each sorted axis into one chunk, so each set must fit in
memory).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import _ops
from .._namespace import Array, Namespace, device, isdtype
from .._reduce import start
from .._validate import (
    check_bool,
    check_choice,
    check_classes,
    check_ignore_index,
    check_label_shape,
    check_labels,
    check_values,
    integer_labels,
    representable,
)
from ._pixels import check_binary_shapes, class_axis, probabilities

__all__ = ["lovasz_hinge_loss", "lovasz_softmax_loss"]


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
    es, idx = _ops.sort_with_indices(xp, errors, axis=-1, descending=True)
    fs = _ops.take_along_axis(xp, fg, idx, axis=-1)
    total = xp.sum(fg, axis=-1, keepdims=True)
    cum = _ops.cumulative_sum(xp, fs, axis=-1)
    rank = xp.arange(1, fs.shape[-1] + 1, dtype=fs.dtype, device=device(fs))
    jac = 1.0 - (total - cum) / (total + rank - cum)
    grad = xp.concat([jac[..., :1], jac[..., 1:] - jac[..., :-1]], axis=-1)
    if relu:
        es = _ops.clip(xp, es, min=0.0)
    return xp.sum(es * grad, axis=-1)


def lovasz_hinge_loss(
    pred: Array,
    target: Array,
    /,
    *,
    per_image: bool = True,
    ignore_index: int | None = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Lovász hinge loss (Berman et al., "The Lovász-Softmax loss", CVPR 2018): the Lovász
    extension of the Jaccard loss evaluated at the hinge margins of binary logits.

    .. math::

        \begin{aligned}
            \ell &= \sum_{k=1}^{n} \max\bigl(0,\ m_{(k)}\bigr)\,(J_k - J_{k-1}),
            \qquad
            m_i = 1 - F_i\,(2 y_i - 1) \\
            J_k &= 1 - \frac{G - \sum_{j \le k} y_{(j)}}
                {G + \sum_{j \le k} \bigl(1 - y_{(j)}\bigr)},
            \qquad
            J_0 = 0,
            \qquad
            G = \sum_i y_i
        \end{aligned}

    per set (an image, or the whole batch), with :math:`F_i` = ``pred`` (logits),
    :math:`y_i` = ``target`` in {0, 1}, :math:`n` the number of non-ignored pixels of the set
    (the sums run over them) and :math:`(k)` the :math:`k`-th pixel in the order of
    decreasing margin :math:`m`. :math:`J_k` is the Jaccard loss of a prediction that gets
    exactly the first :math:`k` pixels wrong.

    Shapes: ``pred`` logits ``(B, ...)`` and ``target`` of the same shape with values in {0, 1}
    (int, bool or float) or ``ignore_index`` (not 0 or 1). Values are checked when concrete.
    ``per_image=True`` (Berman's default; SMP's is False): one loss per image, ``"none"`` has
    shape ``(B,)``; ``False`` pools the batch into one set, ``"none"`` is ``()``.
    Ignored pixels get sort key -inf and error 0 (masks, no boolean indexing); an image whose
    pixels are all ignored has loss 0, zero gradients, and is left out of the mean (Berman
    counts it as 0). ``weight`` multiplies the per-image losses.
    Edge cases: an image without a positive pixel has loss :math:`\max(0,\ 1 + \max_i F_i)`
    (not 0); tied margins give the same value in any order, but the sub-gradient depends on
    it.
    Piecewise linear: no log, no cross-entropy. References:
    ``kornia.losses.lovasz_hinge_loss`` (``(B, 1, H, W)`` logits, per-image mean, no ignore);
    Berman's ``lovasz_hinge`` semantics.
    """
    fn = "lovasz_hinge_loss"
    check_bool(fn, "per_image", per_image)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    xp = call.xp
    check_binary_shapes(fn, pred, target)
    ii = check_ignore_index(fn, ignore_index, 2)
    if isdtype(xp, target.dtype, "integral"):  # compared in the default integer dtype
        target = integer_labels(fn, "target", xp, target)
        ii = ii if representable(xp, ii, target.dtype) else None
    if not isdtype(xp, target.dtype, "bool"):
        allowed = "{0, 1}" + ("" if ignore_index is None else f" or ignore_index={ii}")

        def bad(t: Array) -> Array:
            out = (t != 0) & (t != 1)
            return out if ii is None else out & (t != ii)

        check_values(fn, "target", xp, target, bad, f"must hold binary labels in {allowed}")
    if not per_image:  # one pooled set: over the replicas' batches too
        pred, target = call.gather_batch(pred, target, rows=False)
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
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Lovász-Softmax loss (Berman et al., "The Lovász-Softmax loss", CVPR 2018): per class,
    the Lovász extension of the Jaccard loss at the per-pixel errors of the class
    probabilities.

    .. math::

        \begin{aligned}
            \ell_c &= \sum_{k=1}^{n} e_{(k)}(c)\,\bigl(J_k(c) - J_{k-1}(c)\bigr),
            \qquad
            e_i(c) = \bigl|\,[y_i = c] - p_i(c)\,\bigr| \\
            J_k(c) &= 1 - \frac{G_c - \sum_{j \le k} [y_{(j)} = c]}
                {G_c + \sum_{j \le k} \bigl(1 - [y_{(j)} = c]\bigr)},
            \qquad
            J_0(c) = 0,
            \qquad
            G_c = \sum_i [y_i = c] \\
            \texttt{"mean"} &= \frac{1}{|S|} \sum_{(s, c) \in S} w_c\,\ell_c^{(s)}
        \end{aligned}

    per set :math:`s` (the whole batch, or an image with ``per_image=True``) and class
    :math:`c`, over the :math:`n` non-ignored pixels of the set: :math:`p_i(c)` the
    probability of class :math:`c` (``pred``, or its softmax), :math:`y_i` = ``target``,
    :math:`[y_i = c]` 1 where the label is :math:`c` and 0 otherwise, :math:`(k)` the
    :math:`k`-th pixel in the order of decreasing error :math:`e(c)`, :math:`S` the selected
    (set, class) entries (``classes``) and :math:`w_c` = ``class_weight`` times ``weight``.

    Shapes: ``pred`` probabilities ``(B, *spatial, C)`` with classes on ``axis`` (``axis=1``
    channels-first), or logits with ``activation="softmax"``; ``target`` integer labels
    ``(B, *spatial)`` in ``[0, C)`` or ``ignore_index`` (checked when concrete).
    Options (Berman's defaults): ``classes="present"`` (only classes occurring in the
    non-ignored labels of a set), ``"all"`` (an absent class costs :math:`\max_i p_i(c)`) or a
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
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    xp = call.xp
    ax = class_axis(fn, axis, pred.ndim, binary="lovasz_hinge_loss")
    num_classes = pred.shape[ax]
    check_classes(fn, num_classes)
    call.classes = num_classes
    mode, ids = _class_selection(fn, classes, num_classes)
    ps = tuple(pred.shape)
    check_label_shape(fn, pred, target, ax, dense=False)
    ii = check_ignore_index(fn, ignore_index, num_classes)
    target, ii = check_labels(fn, "target", xp, target, num_classes, ii)
    class_w = call.array_option("class_weight", class_weight, pred, shape=(num_classes,))
    in_pred = None if ii is None else xp.expand_dims(target != ii, axis=ax)
    p = probabilities(fn, call, pred, activation, ax, in_pred)
    batch = ps[0]
    n = math.prod(ps[1:]) // num_classes
    if per_image:
        p = xp.reshape(xp.moveaxis(p, ax, 1), (batch, num_classes, n))
        labels = xp.reshape(target, (batch, 1, n))
    else:  # one pooled set: over the replicas' batches too
        p, target = call.gather_batch(p, target, rows=False)
        batch = p.shape[0]
        p = xp.reshape(xp.moveaxis(p, ax, 0), (1, num_classes, batch * n))
        labels = xp.reshape(target, (1, 1, batch * n))
    ids_all = xp.arange(num_classes, dtype=target.dtype, device=device(target))
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
            # compared on the device: an array made from a host list would be an upload
            ar = xp.arange(num_classes, device=device(target))
            chosen = ar < 0
            for c in ids:
                chosen = chosen | (ar == c)
            selected = selected & chosen
    loss = xp.where(selected, loss, xp.zeros_like(loss))
    if class_w is not None:
        loss = loss * class_w
    counted = xp.astype(selected, call.dtype)
    if not per_image:
        loss = xp.reshape(loss, (num_classes,))
        counted = xp.reshape(counted, (num_classes,))
    return call.finish(loss, mask=counted)
