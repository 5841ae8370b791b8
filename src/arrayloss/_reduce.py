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

from collections.abc import Callable
from typing import Any

from . import _fast, _ops
from ._labels import Labels  # the losses over labels import it with the reduction
from ._namespace import (
    Array,
    Namespace,
    astype,
    device,
    float_dtypes,
    isdtype,
    namespace,
    numel,
    to_result,
)
from ._replicas import COLLECT, Parts, all_gather, check_replicas, replica_index
from ._validate import (
    broadcastable_to,
    check_axes,
    check_axis,
    check_classes,
    check_ignore_index,
    check_label_shape,
    check_reduction,
    check_same_shape,
    check_where,
    readable,
)

__all__ = ["Call", "Labels", "elementwise", "start", "start_class_axes", "start_classes"]


class Call:
    """The context of one public call: function name, namespace, dtypes, reduction, weight."""

    __slots__ = ("classes", "defer", "dtype", "fn", "out_dtype", "pooled", "reduction",
                 "replicas", "rows", "weight", "where", "xp")

    def __init__(
        self,
        fn: str,
        xp: Namespace,
        dtype: Any,
        out_dtype: Any,
        reduction: str,
        weight: Array | None,
        where: Array | None = None,
        replicas: Any = None,
    ) -> None:
        self.fn = fn
        self.xp = xp
        self.dtype = dtype
        self.out_dtype = out_dtype
        self.reduction = reduction
        self.weight = weight
        self.where = where
        self.classes: int | None = None  # the class count of a loss over classes (hints)
        # data parallelism (see ``_replicas``): the group the statistics are summed over (or
        # COLLECT); ``pooled``: the entries are the whole group's already (finish locally);
        # ``rows``: (replica index, rows per replica) of inputs gathered over the group;
        # ``defer``: return the statistics of a term of a compound loss, finished later
        self.replicas = replicas
        self.pooled = False
        self.rows: tuple[Any, int] | None = None
        self.defer = False

    def sibling(self, weight: Array | None) -> Call:
        """A call with this one's function, dtypes, reduction and replicas, another
        ``weight`` (a second term of a compound loss)."""
        other = Call(self.fn, self.xp, self.dtype, self.out_dtype, self.reduction, weight,
                     replicas=self.replicas)
        other.defer = self.defer
        return other

    def pool(self, stats: tuple[Array, ...], then: Callable[..., Array]) -> Any:
        """``then(*stats)``, where ``stats`` add up over samples. With ``replicas`` they are
        first summed over the group (and what ``then`` finishes is the group's), or kept as
        a ``Parts`` (``parts``, or a term of a compound loss)."""
        if self.replicas is None or self.pooled:
            return then(*stats)
        self.pooled = True
        return self.resolve(Parts(self.fn, self.xp, stats, then))

    def resolve(self, parts: Parts) -> Any:
        """The loss of ``parts`` over the group, or ``parts`` itself when kept."""
        if self.defer or self.replicas is COLLECT:
            return parts
        return parts.value(self.replicas)

    def combine(self, terms: list[tuple[float, Any]]) -> Any:
        """``sum(lam * term)`` of a compound's terms (arrays, or ``Parts`` with
        ``replicas``: one collective for all of them), in the result dtype."""
        xp, out = self.xp, self.out_dtype
        if self.replicas is None:
            total = terms[0][0] * terms[0][1]
            for lam, term in terms[1:]:
                total = total + lam * term
            return to_result(xp, total, out)
        self.defer = False
        return self.resolve(Parts.combine(self.fn, xp, terms,
                                          lambda v: to_result(xp, v, out)))

    def gather_batch(self, *arrays: Array | None, rows: bool) -> tuple[Any, ...]:
        """The inputs of a loss that couples every sample of its batch, gathered along axis 0
        over ``replicas``, so the loss is the whole group's batch's. ``rows``: the loss has
        one entry per sample (``weight`` and ``where`` are gathered too, and ``"none"``
        returns this replica's rows); otherwise its entries are the batch's already.
        Unchanged without replicas; ``ValueError`` under ``parts``. Every replica must hold
        the same shapes."""
        rep = self.replicas
        if rep is None:
            return arrays
        if rep is COLLECT:
            raise ValueError(
                f"{self.fn}: the loss couples every sample of its batch (each value depends "
                "on the whole batch), so it is not a function of per-part sums and has no "
                "parts: compute it on the whole batch (with `replicas=` across devices)"
            )
        xp = self.xp
        if rows and arrays and arrays[0] is not None:
            self.rows = (replica_index(xp, rep), arrays[0].shape[0])
            self.weight, self.where = (None if a is None else all_gather(xp, rep, a)
                                       for a in (self.weight, self.where))
        self.pooled = True
        return tuple(None if a is None else all_gather(xp, rep, a) for a in arrays)

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

    def _plain_reduction(self) -> str | None:
        """The reduction a fused kernel can apply itself (``"weighted_mean"`` without a
        weight is the mean), or ``None`` with a ``weight``, ``where`` or replicas."""
        return _fast.fused_reduction(self.reduction, self.weight, self.where, self.replicas)

    def fused_checked(self, name: str, *args: Any) -> Array | None:
        """The whole loss, reduction included, by the library's fused kernel ``name``
        (called as ``kernel(reduction, *args)``), whose value is arrayloss's wherever it
        holds no NaN; ``None`` when the general path must run.

        The kernel runs only where its result can be confirmed at no cost: every array
        argument readable on the host, no ``weight``, ``where`` or replicas. A NaN in its
        result (an infinite or NaN input, which the general path turns into limits or NaN;
        an empty mean, which is 0 here) hands the call back (``None``). On a GPU that
        confirmation would be a synchronisation, so device arrays take the general path."""
        xp = self.xp
        fn = _ops.kernel(xp, name)
        red = self._plain_reduction()
        if (fn is None or red is None
                or not all(readable(a) for a in args if hasattr(a, "shape"))):
            return None
        out = fn(red, *args)
        if out is None or _fast.holds_nan(out):
            return None
        return to_result(xp, out, self.out_dtype)

    def finish_fused(self, name: str, formula: Callable[..., Array], *args: Any) -> Array:
        """``finish(_ops.fused(xp, name, formula, *args))``; where the reduction is a plain
        mean or sum (no ``weight``, ``where`` or replicas, a non-empty input) the library's
        kernel for the reduced loss (``<name>_reduced``) computes it (torch: one operator,
        forward and backward; NumPy: its in-place kernel and one reduction)."""
        xp = self.xp
        red = self._plain_reduction()
        if red in ("mean", "sum") and numel(args[0]) > 0:
            fn = _ops.kernel(xp, name + "_reduced")
            out = None if fn is None else fn(red, *args)
            if out is not None:
                return to_result(xp, out, self.out_dtype)
        return self.finish(_ops.fused(xp, name, formula, *args))

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
        reduction, out = self.reduction, self.out_dtype
        group = self.replicas is not None and not self.pooled
        if reduction == "none":
            if self.rows is not None:  # inputs gathered over the replicas: this one's rows
                index, n = self.rows
                rows = xp.arange(n, device=device(loss)) + index * n
                loss = _ops.take(xp, loss, rows)
            return to_result(xp, loss, out)
        if reduction == "sum":
            if group:
                return self.pool((xp.sum(loss),), lambda t: to_result(xp, t, out))
            return to_result(xp, xp.sum(loss), out)
        if weighted is None:
            weighted = reduction == "weighted_mean"
        if count is None and mask is not None:
            count = xp.astype(mask, self.dtype) if isdtype(xp, mask.dtype, "bool") else mask
        if not weighted or w is None:
            w = None
            if count is None and not group:
                # a plain mean: one kernel forward and backward (sum + divide cost +10 us
                # on small torch calls); an empty mean is the (zero) sum, on the graph
                if numel(loss) == 0:
                    return to_result(xp, xp.sum(loss), out)
                return to_result(xp, _ops.mean(xp, loss), out)
        total = xp.sum(loss)
        if w is None:
            den = xp.sum(xp.ones_like(loss) if count is None else count)
        elif count is None:
            den = xp.sum(w * xp.ones_like(loss))
        else:
            den = xp.sum(w * count)
        if group:
            return self.pool((total, den), lambda t, d: to_result(xp, _divide(xp, t, d), out))
        return to_result(xp, _divide(xp, total, den), out)

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
            keep = keep & (mask if isdtype(xp, mask.dtype, "bool") else mask != 0)
        return loss, None, xp.where(keep, xp.ones_like(loss), xp.zeros_like(loss))


def _divide(xp: Namespace, total: Array, den: Array) -> Array:
    """``total / den``, and exactly 0 where ``den`` is 0 (connected to the inputs)."""
    nonzero = den != 0
    return xp.where(nonzero, total, xp.zeros_like(total)) / xp.where(
        nonzero, den, xp.ones_like(den)
    )


def start(
    fn: str,
    pred: Array,
    /,
    *,
    reduction: str,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    pred_name: str = "pred",
    **arrays: Array | None,
) -> Call:
    """Validate ``reduction``, resolve the namespace of every array argument, fix the dtypes.

    The compute dtype follows ``pred`` (see ``arrayloss._namespace.float_dtypes``).
    ``replicas``: see ``arrayloss._replicas``.
    """
    reduction = check_reduction(fn, reduction)
    xp = namespace(fn, **{pred_name: pred}, **arrays, weight=weight, where=where)
    dtype, out_dtype = float_dtypes(xp, pred, fn, pred_name)
    check_where(fn, xp, where)
    if replicas is not None:
        replicas = check_replicas(fn, xp, replicas)
    return Call(fn, xp, dtype, out_dtype, reduction, weight, where, replicas)


def elementwise(
    fn: str,
    pred: Array,
    target: Array,
    /,
    *,
    reduction: str,
    weight: Array | None,
    where: Array | None = None,
    replicas: Any = None,
) -> tuple[Call, Array, Array]:
    """Start an elementwise loss: same-shape ``pred`` and ``target``, both in compute dtype.
    Entries outside ``where`` are replaced by 0 in both, so that whatever they hold (NaN,
    inf) their gradient is exactly 0."""
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
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
    replicas: Any = None,
) -> tuple[Call, int, int, bool]:
    """Start a loss over a class axis: checks the options and the shapes.

    Returns ``(call, axis, C, is_dense)``. Integer labels have the shape of ``pred`` without
    the class axis; dense targets (when ``dense``) the shape of ``pred`` (``ignore_index``
    then raises: it applies to integer labels only).
    """
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
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
    replicas: Any = None,
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
                                       weight=weight, where=where,
                                       replicas=replicas, ignore_index=ignore_index)
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
