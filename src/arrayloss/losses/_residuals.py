"""The pointwise residual functions of the regression losses (their generic paths; the
torch kernels of ``arrayloss._kernels`` are checked against them)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import _fast, _ops
from .._namespace import Array, Namespace
from .._reduce import elementwise

_LOG2 = math.log(2.0)


def residual_loss(name: str, formula: Callable[..., Array], pred: Array, target: Array,
                  reduction: str, weight: Any, where: Any, replicas: Any,
                  *options: Any) -> Array:
    """The loss ``name`` whose elementwise ``formula(xp, pred, target, *options)`` has fused
    kernels: the small-call lane (``_fast.elementwise``), else the general path
    (``Call.finish_fused``)."""
    out = _fast.elementwise(name, pred, target, reduction, weight, where, replicas, *options)
    if out is not None:
        return out
    call, p, t = elementwise(name, pred, target, reduction=reduction, weight=weight,
                             where=where, replicas=replicas)
    return call.finish_fused(name, formula, p, t, *options)


def _l1(xp: Namespace, pred: Array, target: Array) -> Array:
    """``|r|`` with the sub-gradient 0 at ``r = 0`` on every backend (``_ops.abs0``)."""
    return _ops.abs0(xp, pred - target)


def _squared(xp: Namespace, pred: Array, target: Array) -> Array:
    r = pred - target
    return r * r


def _huber(xp: Namespace, pred: Array, target: Array, delta: float) -> Array:
    """``0.5 r^2`` inside ``|r| <= delta``, ``delta (|r| - delta/2)`` outside, branch-free:
    with ``m = min(|r|, delta)``, ``m (|r| - m/2)`` (the clipped side has a zero gradient,
    and the inner branch holds at ``|r| = delta``)."""
    a = xp.abs(pred - target)
    m = _ops.clip(xp, a, max=delta)
    return m * (a - 0.5 * m)


def _smooth_l1(xp: Namespace, pred: Array, target: Array, beta: float) -> Array:
    return _huber(xp, pred, target, beta) / beta


def _log_cosh(xp: Namespace, pred: Array, target: Array) -> Array:
    """``|r| + log1p(exp(-2|r|)) - log 2``: no overflow for large residuals."""
    a = xp.abs(pred - target)
    return a + xp.log1p(xp.exp(-2.0 * a)) - _LOG2
