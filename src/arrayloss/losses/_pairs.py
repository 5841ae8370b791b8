"""What the pair and triplet losses share: labels in {-1, +1}, same-shape vector arguments
with a feature axis, and the p-norm distance with a finite gradient at 0."""

from __future__ import annotations

from typing import Any

from .. import _ops
from .._namespace import Array, Namespace, device, isdtype
from .._reduce import Call
from .._validate import check_axis, check_classes, check_same_shape, check_values

__all__ = ["p_distance", "same_shape_vectors", "signs"]


def signs(call: Call, target: Array) -> Array:
    """Labels in {-1, +1} in the compute dtype (bool: False -> -1, True -> +1); any other
    value raises ``ValueError`` when concrete."""
    xp = call.xp
    if isdtype(xp, target.dtype, "bool"):
        one = xp.ones(target.shape, dtype=call.dtype, device=device(target))
        return xp.where(target, one, -one)
    y = call.float(target)
    check_values(call.fn, "target", xp, y, lambda v: xp.abs(v) != 1,  # NaN too
                 "must hold labels in {-1, +1} (or bool); convert {0, 1} labels with 2*y - 1")
    return y


def same_shape_vectors(fn: str, arrays: dict[str, Array], axis: Any) -> int:
    """Same-shape vector arguments with a non-empty feature ``axis``; returns it >= 0."""
    (n0, a0), *rest = arrays.items()
    for name, a in rest:
        check_same_shape(fn, a0, a, (n0, name))
    ax = check_axis(fn, axis, max(a0.ndim, 1))
    if a0.ndim == 0:
        raise ValueError(f"{fn}: `{n0}` must have a feature axis (at least 1-D); got a 0-d "
                         "array")
    check_classes(fn, a0.shape[ax], f"feature axis of `{n0}`")  # axis may be symbolic
    return ax


def p_distance(xp: Namespace, u: Array, v: Array, p: float, eps: float, axis: int) -> Array:
    """``(sum_k |u_k - v_k + eps|^p)^(1/p)`` with a zero gradient where the sum is 0; NaN
    propagates (``_ops.norm`` would map it to 0)."""
    diff = u - v + eps if eps else u - v  # (adding 0 would be one more pass)
    if p == 2.0:
        s = xp.sum(diff * diff, axis=axis)
    else:
        a = _ops.abs0(xp, diff)
        if p == 1.0:
            return xp.sum(a, axis=axis)
        s = xp.sum(_ops.pow_nonneg(xp, a, p), axis=axis)
    ok = s > 0
    safe = xp.where(ok, s, xp.ones_like(s))
    root = xp.sqrt(safe) if p == 2.0 else safe ** (1.0 / p)
    return xp.where(ok, root, s * 0.0)
