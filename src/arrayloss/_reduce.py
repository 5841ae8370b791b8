"""One public call's context and the reduction: weights, masks, counts, the empty-mean rule.

Every loss follows the same three steps::

    call = start("huber_loss", pred, reduction=reduction, weight=weight, target=target)
    ...                                    # the formula, on call.float(...) inputs
    return call.finish(unreduced_loss)     # weight, reduction, dtype, empty mean = 0

``finish`` implements the reduction contract once:

- ``weight`` (optional) must broadcast to the unreduced loss; it multiplies it;
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

from typing import Any

from . import _xp
from ._checks import broadcastable_to, check_reduction, check_same_shape
from ._xp import Array, Namespace

__all__ = ["Call", "elementwise", "start"]


class Call:
    """The context of one public call: function name, namespace, dtypes, reduction, weight."""

    __slots__ = ("classes", "dtype", "fn", "out_dtype", "reduction", "weight", "xp")

    def __init__(
        self,
        fn: str,
        xp: Namespace,
        dtype: Any,
        out_dtype: Any,
        reduction: str,
        weight: Array | None,
    ) -> None:
        self.fn = fn
        self.xp = xp
        self.dtype = dtype
        self.out_dtype = out_dtype
        self.reduction = reduction
        self.weight = weight
        self.classes: int | None = None  # the class count of a loss over classes (hints)

    def float(self, x: Array) -> Array:
        """``x`` in the compute dtype (no copy when it already is)."""
        return _xp.astype(self.xp, x, self.dtype)

    def vector(self, name: str, value: Any, length: int, like: Array) -> Array | None:
        """A per-class option (``class_weight``, ``alpha``...) as a length-``length`` array
        in the compute dtype on the device of ``like``.

        Accepts an array of the call's library or a Python sequence of numbers; ``None``
        passes through. Raises ``TypeError`` for another library or a scalar and
        ``ValueError`` for a wrong length.
        """
        if value is None:
            return None
        xp = self.xp
        if isinstance(value, (list, tuple)):
            arr = xp.asarray(value, dtype=self.dtype, device=_xp.device(like))
        else:
            _xp.namespace(self.fn, pred=like, **{name: value})
            arr = self.float(value)
        if tuple(arr.shape) != (length,):
            raise ValueError(
                f"{self.fn}: `{name}` must have shape ({length},), one value per class; got "
                f"shape {tuple(arr.shape)}"
            )
        return arr

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
        reduction = self.reduction
        if reduction == "none":
            return _xp.to_result(xp, loss, self.out_dtype)
        if reduction == "sum":
            return _xp.to_result(xp, xp.sum(loss), self.out_dtype)
        if weighted is None:
            weighted = reduction == "weighted_mean"
        if count is None and mask is not None:
            count = xp.astype(mask, self.dtype) if xp.isdtype(mask.dtype, "bool") else mask
        if not weighted or w is None:
            w = None
            if count is None:
                # a plain mean: one kernel forward and backward (sum + divide cost +10 us
                # on small torch calls); an empty mean is the (zero) sum, on the graph
                if _xp.numel(loss) == 0:
                    return _xp.to_result(xp, xp.sum(loss), self.out_dtype)
                return _xp.to_result(xp, _xp.mean(xp, loss), self.out_dtype)
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
        return _xp.to_result(xp, mean, self.out_dtype)


def start(
    fn: str,
    pred: Array,
    /,
    *,
    reduction: str,
    weight: Array | None = None,
    pred_name: str = "pred",
    **arrays: Array | None,
) -> Call:
    """Validate ``reduction``, resolve the namespace of every array argument, fix the dtypes.

    The compute dtype follows ``pred`` (see ``_xp.float_dtypes``).
    """
    reduction = check_reduction(fn, reduction)
    xp = _xp.namespace(fn, **{pred_name: pred}, **arrays, weight=weight)
    dtype, out_dtype = _xp.float_dtypes(xp, pred, fn, pred_name)
    return Call(fn, xp, dtype, out_dtype, reduction, weight)


def elementwise(
    fn: str,
    pred: Array,
    target: Array,
    /,
    *,
    reduction: str,
    weight: Array | None,
) -> tuple[Call, Array, Array]:
    """Start an elementwise loss: same-shape ``pred`` and ``target``, both in compute dtype."""
    call = start(fn, pred, reduction=reduction, weight=weight, target=target)
    check_same_shape(fn, pred, target)
    return call, call.float(pred), call.float(target)
