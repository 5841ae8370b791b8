"""One public call's context and the reduction: weights, masks, counts, the empty-mean rule.

Every loss follows the same three steps::

    call = start("huber_loss", pred, reduction=reduction, weight=weight, target=target)
    ...                                    # the formula, on call.float(...) inputs
    return call.finish(unreduced_loss)     # weight, reduction, dtype, empty mean = 0

``finish`` implements the reduction contract once:

- ``weight`` (optional) must broadcast to the unreduced loss; it multiplies it;
- ``where`` (optional, boolean) must broadcast to the unreduced loss: False entries give 0
  (whatever the loss holds there) and leave the count of every mean (optax's ``where=``,
  a Keras mask); a loss over a class axis may take it with the class axis instead
  (``Call.class_mask``): masked classes then leave the softmax as well;
- ``"none"`` returns ``weight * loss``; ``"sum"`` its sum;
- ``"mean"`` divides that sum by the count: the number of elements, of ``mask``-ed
  (non-ignored) elements, or the sum of explicit per-entry ``count`` terms (e.g. the class
  weights of the non-ignored labels); ``weight`` never enters the count;
- ``"weighted_mean"`` divides by the sum of ``weight`` times those count terms over the
  counted positions (scikit-learn's ``sample_weight``, Keras's ``mean_with_sample_weight``);
  without ``weight`` it is ``"mean"``;
- a mean over a zero count is exactly 0, connected to the inputs (gradients are zeros, never
  NaN);
- the result has the result dtype (float16/bfloat16 inputs give float32).
"""

from __future__ import annotations

import math
from typing import Any

from . import _ops
from ._namespace import (
    Array,
    Namespace,
    astype,
    device,
    float_dtypes,
    namespace,
    numel,
    to_result,
)
from ._validate import (
    broadcastable_to,
    check_axes,
    check_axis,
    check_classes,
    check_ignore_index,
    check_label_shape,
    check_labels,
    check_reduction,
    check_same_shape,
    check_where,
)

__all__ = ["Call", "Labels", "elementwise", "start", "start_class_axes", "start_classes"]


class Call:
    """The context of one public call: function name, namespace, dtypes, reduction, weight."""

    __slots__ = ("classes", "dtype", "fn", "out_dtype", "reduction", "weight", "where", "xp")

    def __init__(
        self,
        fn: str,
        xp: Namespace,
        dtype: Any,
        out_dtype: Any,
        reduction: str,
        weight: Array | None,
        where: Array | None = None,
    ) -> None:
        self.fn = fn
        self.xp = xp
        self.dtype = dtype
        self.out_dtype = out_dtype
        self.reduction = reduction
        self.weight = weight
        self.where = where
        self.classes: int | None = None  # the class count of a loss over classes (hints)

    def float(self, x: Array) -> Array:
        """``x`` in the compute dtype (no copy when it already is)."""
        return astype(self.xp, x, self.dtype)

    def array_option(self, name: str, value: Any, like: Array, *,
                     shape: tuple[int, ...] | None = None,
                     broadcast_to: tuple[int, ...] | None = None) -> Array | None:
        """An array option (``class_weight``, ``alpha``, ``pos_weight``...) in the compute
        dtype on the device of ``like``: an array of the call's library or a Python sequence
        of numbers; ``None`` passes through. Its shape must equal ``shape`` (one value per
        class) or broadcast to ``broadcast_to``. Raises ``TypeError`` for another library or
        a scalar and ``ValueError`` for a wrong shape.
        """
        if value is None:
            return None
        xp = self.xp
        if isinstance(value, (list, tuple)):
            arr = xp.asarray(value, dtype=self.dtype, device=device(like))
        else:
            namespace(self.fn, pred=like, **{name: value})
            arr = self.float(value)
        got = tuple(arr.shape)
        if shape is not None and got != shape:
            raise ValueError(
                f"{self.fn}: `{name}` must have shape {shape}, one value per class; got "
                f"shape {got}"
            )
        if broadcast_to is not None and not broadcastable_to(got, broadcast_to):
            raise ValueError(
                f"{self.fn}: `{name}` of shape {got} does not broadcast to `pred` of shape "
                f"{broadcast_to}; give one value per class of the last axis"
            )
        return arr

    def class_mask(self, shape: tuple[int, ...], axis: int) -> Array | None:
        """The class mask of a loss over a class axis that honours one: ``where`` given with
        the rank of ``pred`` (``shape``) broadcasts to it and is returned, broadcast, and the
        per-sample mask becomes "any class kept" (a sample without classes leaves the
        count). ``None`` when ``where`` is absent or per-sample (of the unreduced rank)."""
        w = self.where
        if w is None or w.ndim != len(shape):
            return None
        w = _class_mask(self.fn, self.xp, w, shape)
        self.where = self.xp.any(w, axis=axis)
        return w

    def merge_class_axes(self, shape: tuple[int, ...], axes: tuple[int, ...]) -> None:
        """Merge the class ``axes`` of a class-axis ``where`` (of the rank of ``pred``, whose
        shape is ``shape``) as ``pred``'s are merged; a per-sample ``where`` is unchanged."""
        if self.where is not None and self.where.ndim == len(shape):
            self.where = _merged_mask(self.fn, self.xp, self.where, shape, axes)

    def finish(
        self,
        loss: Array,
        *,
        mask: Array | None = None,
        count: Array | None = None,
        weighted: bool | None = None,
    ) -> Array:
        """Apply ``weight`` and the reduction to the unreduced ``loss``; cast the result.

        ``mask`` marks the counted (non-ignored) entries of ``loss`` (bool or 0/1, broadcasting
        to it); entries outside it must already be 0 in ``loss``. ``count`` gives per-entry
        count terms instead (0 at ignored entries). ``weighted`` forces the
        ``"weighted_mean"`` denominator for a ``"mean"`` (a loss whose mean is normalised by
        its weights by definition).
        """
        xp = self.xp
        w = self.weight
        if w is not None:
            if not broadcastable_to(tuple(w.shape), tuple(loss.shape)):
                hint = ""
                if self.classes is not None and tuple(w.shape) == (self.classes,):
                    hint = ("; `class_weight` holds per-class weights (torch's `weight=`), "
                            "`weight` per-sample ones")
                raise ValueError(
                    f"{self.fn}: `weight` of shape {tuple(w.shape)} does not broadcast to the "
                    f"unreduced loss of shape {tuple(loss.shape)}{hint}"
                )
            w = self.float(w)
            loss = loss * w
        if self.where is not None:
            loss, mask, count = self._apply_where(loss, mask, count)
        reduction = self.reduction
        if reduction == "none":
            return to_result(xp, loss, self.out_dtype)
        if reduction == "sum":
            return to_result(xp, xp.sum(loss), self.out_dtype)
        if weighted is None:
            weighted = reduction == "weighted_mean"
        if count is None and mask is not None:
            count = xp.astype(mask, self.dtype) if xp.isdtype(mask.dtype, "bool") else mask
        if not weighted or w is None:
            w = None
            if count is None:
                # a plain mean: one kernel forward and backward (sum + divide cost +10 us
                # on small torch calls); an empty mean is the (zero) sum, on the graph
                if numel(loss) == 0:
                    return to_result(xp, xp.sum(loss), self.out_dtype)
                return to_result(xp, _ops.mean(xp, loss), self.out_dtype)
        total = xp.sum(loss)
        if w is None:
            den = xp.sum(count)
        elif count is None:
            den = xp.sum(w * xp.ones_like(loss))
        else:
            den = xp.sum(w * count)
        nonzero = den != 0
        mean = xp.where(nonzero, total, xp.zeros_like(total)) / xp.where(
            nonzero, den, xp.ones_like(den)
        )
        return to_result(xp, mean, self.out_dtype)


    def _apply_where(self, loss: Array, mask: Array | None, count: Array | None
                     ) -> tuple[Array, Array | None, Array | None]:
        """``loss`` with 0 outside ``where``, and the count terms with those entries removed."""
        xp = self.xp
        keep = self.where
        assert keep is not None
        shape = tuple(loss.shape)
        if not broadcastable_to(tuple(keep.shape), shape):
            hint = ""
            if keep.ndim == loss.ndim + 1:
                hint = ("; a mask with the class axis (the shape of `pred`) is taken by "
                        "cross_entropy, softmax_focal_loss, poly_cross_entropy, entropy and "
                        "kl_divergence only")
            raise ValueError(
                f"{self.fn}: `where` of shape {tuple(keep.shape)} does not broadcast to the "
                f"unreduced loss of shape {shape} (the result of reduction='none'){hint}"
            )
        loss = xp.where(keep, loss, xp.zeros_like(loss))
        if count is not None:
            return loss, None, xp.where(keep, count, xp.zeros_like(count))
        if mask is not None:
            keep = keep & (mask if xp.isdtype(mask.dtype, "bool") else mask != 0)
        return loss, None, xp.where(keep, xp.ones_like(loss), xp.zeros_like(loss))


def start(
    fn: str,
    pred: Array,
    /,
    *,
    reduction: str,
    weight: Array | None = None,
    where: Array | None = None,
    pred_name: str = "pred",
    **arrays: Array | None,
) -> Call:
    """Validate ``reduction``, resolve the namespace of every array argument, fix the dtypes.

    The compute dtype follows ``pred`` (see ``arrayloss._namespace.float_dtypes``).
    """
    reduction = check_reduction(fn, reduction)
    xp = namespace(fn, **{pred_name: pred}, **arrays, weight=weight, where=where)
    dtype, out_dtype = float_dtypes(xp, pred, fn, pred_name)
    check_where(fn, xp, where)
    return Call(fn, xp, dtype, out_dtype, reduction, weight, where)


def elementwise(
    fn: str,
    pred: Array,
    target: Array,
    /,
    *,
    reduction: str,
    weight: Array | None,
    where: Array | None = None,
) -> tuple[Call, Array, Array]:
    """Start an elementwise loss: same-shape ``pred`` and ``target``, both in compute dtype.
    Entries outside ``where`` are replaced by 0 in both, so that whatever they hold (NaN,
    inf) their gradient is exactly 0."""
    call = start(fn, pred, reduction=reduction, weight=weight, where=where, target=target)
    check_same_shape(fn, pred, target)
    p, t = call.float(pred), call.float(target)
    if where is not None and broadcastable_to(tuple(where.shape), tuple(p.shape)):
        xp = call.xp
        p = xp.where(where, p, xp.zeros_like(p))
        t = xp.where(where, t, xp.zeros_like(t))
    return call, p, t


def start_classes(
    fn: str,
    pred: Array,
    target: Array,
    *,
    axis: Any,
    reduction: str,
    weight: Array | None,
    ignore_index: Any,
    dense: bool = True,
    where: Array | None = None,
) -> tuple[Call, int, int, bool]:
    """Start a loss over a class axis: checks the options and the shapes.

    Returns ``(call, axis, C, is_dense)``. Integer labels have the shape of ``pred`` without
    the class axis; dense targets (when ``dense``) the shape of ``pred`` (``ignore_index``
    then raises: it applies to integer labels only).
    """
    call = start(fn, pred, reduction=reduction, weight=weight, where=where, target=target)
    ax = check_axis(fn, axis, pred.ndim)
    c = pred.shape[ax]
    check_classes(fn, c)
    call.classes = c
    is_dense = check_label_shape(fn, pred, target, ax, dense=dense)
    if is_dense:
        if ignore_index is not None:
            raise ValueError(
                f"{fn}: `ignore_index` applies to integer labels only; `target` has the shape "
                f"of `pred` {tuple(pred.shape)} (dense probabilities): give ignored samples "
                "`weight` 0"
            )
    else:
        check_ignore_index(fn, ignore_index, c)
    return call, ax, c, is_dense


def start_class_axes(
    fn: str,
    pred: Array,
    target: Array,
    *,
    axis: Any,
    reduction: str,
    weight: Array | None,
    ignore_index: Any,
    where: Array | None = None,
) -> tuple[Call, Array, Array, int, int, bool]:
    """``start_classes`` where ``axis`` may also be a tuple of class axes (see
    ``_validate.check_axes``): their C = the product of their sizes classes are merged
    into one last axis of ``pred`` (and of a dense ``target``) by ``_ops.merge_axes``, so an
    integer label is the C-order flat index into them and ``"none"`` has the shape of
    ``pred`` without them. Returns ``(call, pred, target, axis, C, is_dense)`` with the
    arrays the loss continues with (unchanged for an int ``axis``)."""
    if isinstance(axis, (tuple, list)):
        check_reduction(fn, reduction)
        xp = namespace(fn, pred=pred, target=target, weight=weight, where=where)
        axes = check_axes(fn, axis, pred.ndim)
        if isinstance(axes, int):
            axis = axes
        else:
            ps, ts = tuple(pred.shape), tuple(target.shape)
            want = tuple(s for i, s in enumerate(ps) if not any(i == a for a in axes))
            if ts != ps and ts != want:
                raise ValueError(
                    f"{fn}: `target` must hold integer labels of shape {want} (`pred` "
                    f"without the class axes {axes}) or dense targets of shape {ps}; got "
                    f"`pred` {ps} and `target` {ts}"
                )
            pred = _ops.merge_axes(xp, pred, axes)
            if ts == ps:
                target = _ops.merge_axes(xp, target, axes)
            if where is not None and where.ndim == len(ps):  # a class mask: merged alike
                where = _merged_mask(fn, xp, where, ps, axes)
            axis = pred.ndim - 1
    call, ax, c, dense = start_classes(fn, pred, target, axis=axis, reduction=reduction,
                                       weight=weight, where=where, ignore_index=ignore_index)
    return call, pred, target, ax, c, dense


def _class_mask(fn: str, xp: Namespace, where: Array, shape: tuple[int, ...]) -> Array:
    """A class-axis ``where`` (of the rank of ``pred``, whose shape is ``shape``) broadcast
    to ``pred``; ``ValueError`` when it does not broadcast."""
    if not broadcastable_to(tuple(where.shape), shape):
        raise ValueError(
            f"{fn}: `where` of shape {tuple(where.shape)} has the rank of `pred` (a class "
            f"mask) but does not broadcast to `pred` of shape {shape}"
        )
    return xp.broadcast_to(where, shape)


def _merged_mask(fn: str, xp: Namespace, where: Array, shape: tuple[int, ...],
                 axes: tuple[int, ...]) -> Array:
    """A class-axis ``where``, broadcast (``_class_mask``) and with the class ``axes``
    merged as ``pred``'s."""
    return _ops.merge_axes(xp, _class_mask(fn, xp, where, shape), axes)


class Labels:
    """Integer class labels of one call, checked and prepared for gathering, and the
    reduction of a loss over them (ignored samples, the torch denominator with class
    weights).

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
        self.w_y = None if class_weight is None else _ops.take(xp, class_weight, y)

    def mask_logits(self, xp: Namespace, z: Array) -> Array:
        """``z`` with the class slices of ignored samples set to 0: whatever they held (inf,
        NaN), ignored samples then get a finite value and exactly zero gradient."""
        if self.ignored is None:
            return z
        return xp.where(xp.expand_dims(self.ignored, axis=self.axis), xp.zeros_like(z), z)

    def gather(self, xp: Namespace, x: Array) -> Array:
        """The entry of ``x`` at the label along the class axis (class axis removed)."""
        return xp.squeeze(_ops.take_along_axis(xp, x, self.index, axis=self.axis),
                          axis=self.axis)

    def reduce(self, call: Call, loss: Array) -> Array:
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
