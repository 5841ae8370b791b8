"""Integer class labels of one call, prepared for gathering, and the reduction of a loss
over them (``Labels``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from . import _ops
from ._namespace import Array, Namespace
from ._validate import check_labels, readable

if TYPE_CHECKING:
    from ._reduce import Call

__all__ = ["Labels", "fused_with_labels"]


class Labels:
    """Integer class labels of one call, checked and prepared for gathering, and the
    reduction of a loss over them (ignored samples, the torch denominator with class
    weights).

    ``labels``: the labels in the default integer dtype (any integer dtype is accepted; see
    ``check_labels``), with ignored and out-of-range entries clipped into ``[0, C)`` (so no
    backend's gather fails; ``out_of_range`` marks them); ``index``: the same with a size-1
    class axis; ``w_y``: the per-sample class weight (``None`` without ``class_weight``).
    Out-of-range labels can only reach here when value checks are skipped (tracing, Dask, GPU
    arrays, ``validate=False``): their samples give NaN, never a silently wrong class.
    """

    __slots__ = ("axis", "ignored", "index", "labels", "out_of_range", "w_y")

    def __init__(self, fn: str, name: str, xp: Namespace, labels: Array, num_classes: int,
                 axis: int, ignore_index: int | None, class_weight: Array | None) -> None:
        y, ii = check_labels(fn, name, xp, labels, num_classes, ignore_index)
        self.axis = axis
        self.ignored = None if ii is None else y == ii
        safe = _ops.clip(xp, y, min=0, max=num_classes - 1)
        self.out_of_range = safe != y
        # the gather must stay in bounds; which class it reads is irrelevant (NaN there)
        y = safe
        self.labels = y
        self.index = xp.expand_dims(y, axis=axis)
        self.w_y = None if class_weight is None else _ops.take(xp, class_weight, y)

    def mask_logits(self, xp: Namespace, z: Array) -> Array:
        """``z`` with the class slices of ignored samples set to 0: whatever they held (inf,
        NaN), ignored samples then get a finite value and exactly zero gradient."""
        if self.ignored is None:
            return z
        return _ops.fill(xp, xp.expand_dims(self.ignored, axis=self.axis), 0.0, z)

    def gather(self, xp: Namespace, x: Array) -> Array:
        """The entry of ``x`` at the label along the class axis (class axis removed)."""
        return xp.squeeze(_ops.take_along_axis(xp, x, self.index, axis=self.axis),
                          axis=self.axis)

    def reduce(self, call: Call, loss: Array) -> Array:
        """Mask ignored samples and reduce with the torch denominator
        ``sum_{not ignored} class_weight[y]`` (the count without class weights)."""
        xp = call.xp
        loss = _ops.fill(xp, self.out_of_range, math.nan, loss)
        valid = None
        if self.ignored is not None:
            valid = ~self.ignored
            loss = _ops.fill(xp, self.ignored, 0.0, loss)
        if self.w_y is None:
            return call.finish(loss, mask=valid)
        w = self.w_y
        if valid is not None:
            w = _ops.fill(xp, self.ignored, 0.0, w)
        return call.finish(loss, count=w)


def fused_with_labels(call: Call, name: str, x: Array, labels: Array, axis: int,
                      num_classes: int, ignore_index: int | None, *options: Any,
                      mask_ignored: bool = False) -> Array | None:
    """A loss over integer labels by the library's fused kernel ``name`` (torch's
    ``F.cross_entropy``, ``F.nll_loss``: two operators, forward and backward) where
    ``Call.fused_checked`` can confirm it (host arrays; the labels are checked first and
    passed in the default integer dtype), else ``None``. The kernel is called as
    ``kernel(reduction, x, labels, axis, *options)``.

    ``mask_ignored``: the class slices of ignored samples are set to 0 first, for a kernel
    whose gradient reads every entry of a slice (a log-softmax): an ignored sample's NaN or
    infinite logits must get exactly zero gradient, which the result cannot show."""
    xp = call.xp
    if _ops.kernel(xp, name) is None or not (readable(x) and readable(labels)):
        return None
    y, ii = check_labels(call.fn, "target", xp, labels, num_classes, ignore_index)
    if mask_ignored and ii is not None:
        x = _ops.fill(xp, xp.expand_dims(y == ii, axis=axis), 0.0, x)
    return call.fused_checked(name, x, y, axis, *options)
