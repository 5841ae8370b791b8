"""Inputs of the losses over pixels (the overlap and Lovász losses): the class axis (never
the batch axis 0), the activation that turns ``pred`` into probabilities, binary targets,
and the masking of ignored pixels before any activation."""

from __future__ import annotations

from typing import Any

from .. import _ops
from .._namespace import Array, isdtype
from .._reduce import Call
from .._validate import (
    check_axis,
    check_probabilities,
    check_values,
    integer_labels,
    representable,
)

__all__ = ["ACTIVATIONS", "binary_target", "check_binary_shapes", "class_axis", "probabilities"]

ACTIVATIONS = (None, "sigmoid", "softmax")


def check_binary_shapes(fn: str, pred: Array, target: Array) -> None:
    """Binary input without a class axis: ``pred`` and ``target`` of one shape, with a batch
    axis (at least 1-D)."""
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(
            f"{fn}: without a class axis `pred` and `target` must have the same shape; got "
            f"{tuple(pred.shape)} and {tuple(target.shape)}"
        )
    if pred.ndim < 1:
        raise ValueError(f"{fn}: `pred` needs a batch axis (at least 1-D); got 0-D")


def class_axis(fn: str, axis: Any, ndim: int, binary: str = "axis=None") -> int:
    """The class axis as a non-negative int; axis 0 (the batch) is refused. ``binary`` names
    what to use for input without a class axis."""
    if ndim < 2:
        raise ValueError(
            f"{fn}: `pred` needs a batch axis and a class axis (at least 2-D); got {ndim}-D "
            f"(for binary input without a class axis use {binary})"
        )
    ax = check_axis(fn, axis, ndim)
    if ax == 0:
        raise ValueError(f"{fn}: `axis` must not be the batch axis 0; got {axis}")
    return ax


_LOGITS_HINT = ("; these look like logits: pass activation='sigmoid' (independent classes) or "
                "activation='softmax' (along the class axis)")


def probabilities(fn: str, call: Call, pred: Array, activation: Any, ax: int | None,
                   valid: Array | None = None) -> Array:
    """``pred`` as probabilities (checked in ``[0, 1]``, or through the activation). At
    pixels outside ``valid`` (ignored) the input is replaced by 0 first and the probability
    by 0 after: whatever an ignored pixel holds (inf, NaN, a value outside [0, 1]) gives no
    value and exactly zero gradient."""
    xp = call.xp
    x = call.float(pred)
    if valid is not None:
        x = xp.where(valid, x, xp.zeros_like(x))
    if activation is None:
        hint = _LOGITS_HINT if ax is not None else _LOGITS_HINT.split(" or ")[0]
        check_probabilities(fn, "pred", xp, x, hint=hint)
        p = x
    elif activation == "sigmoid":
        p = xp.exp(_ops.log_sigmoid(xp, x))  # overflow-free, finite gradients
    else:
        p = _ops.softmax(xp, x, axis=ax if ax is not None else -1)
    return p if valid is None else xp.where(valid, p, xp.zeros_like(p))


def binary_target(fn: str, call: Call, target: Array, ignore_index: int | None
                   ) -> tuple[Array, Array | None]:
    """A binary or dense target in the compute dtype, checked in ``[0, 1]`` when readable
    (elements equal to ``ignore_index`` excepted), and the elementwise mask of the others
    (``None`` without ``ignore_index``). Integer targets are compared in the default integer
    dtype (no wrap-around of ``ignore_index`` in a narrow or unsigned dtype); float targets
    as they are."""
    xp = call.xp
    if isdtype(xp, target.dtype, "bool"):
        return call.float(target), None
    if not isdtype(xp, target.dtype, "integral"):
        t, ii = target, ignore_index
        if ii is None:
            check_probabilities(fn, "target", xp, target)
            return call.float(target), None
    else:
        t = integer_labels(fn, "target", xp, target)
        ii = ignore_index if representable(xp, ignore_index, t.dtype) else None
    if ii is None:
        check_probabilities(fn, "target", xp, t)
        return call.float(t), None
    check_values(fn, "target", xp, t, lambda v: ((v < 0) | (v > 1)) & (v != ii),
                 f"must hold values in [0, 1] or ignore_index={ignore_index}")
    valid = t != ii
    g = call.float(t)
    return xp.where(valid, g, xp.zeros_like(g)), valid
