"""Regression losses: elementwise functions of the residual ``r = pred - target``.

Every function takes ``pred`` and ``target`` of the same shape (any rank, no broadcasting),
returns the shape of ``pred`` with ``reduction="none"``, and averages over all elements with
``"mean"`` (0 for empty input, with zero gradients). ``weight`` multiplies the unreduced loss
and must broadcast to it. float16/bfloat16 inputs are computed in float32 and give a float32
result; a NaN anywhere gives NaN.

The formulas are the functions below; where a library has a fused kernel for one
(torch's ``l1_loss``, ``mse_loss``, ``huber_loss``, ``smooth_l1_loss``; NumPy's in-place
versions), ``arrayloss._kernels`` supplies it and the formula is its test oracle.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._namespace import Array, Namespace
from .._reduce import elementwise
from .._validate import check_number

__all__ = [
    "huber_loss",
    "l1_loss",
    "log_cosh_loss",
    "mse_loss",
    "smooth_l1_loss",
    "tukey_biweight_loss",
]

_LOG2 = math.log(2.0)


def _l1(xp: Namespace, pred: Array, target: Array) -> Array:
    """``|r|``, with the sub-gradient 0 at ``r = 0``."""
    return xp.abs(pred - target)


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


_MAD_TO_SIGMA = 1.4826
_MAD_FLOOR = 1e-12


def l1_loss(
    pred: Array, target: Array, /, *, weight: Array | None = None, reduction: str = "mean"
) -> Array:
    """Absolute error (L1, MAE): ``l_i = |pred_i - target_i|``.

    Shapes: ``pred`` and ``target`` identical, any rank; ``"none"`` returns that shape.
    Gradient: ``sign(r)``, with the sub-gradient 0 at ``r = 0`` (as torch).
    Edge cases: empty input gives 0 for ``"mean"`` (torch: NaN).
    Reference: ``torch.nn.functional.l1_loss``.
    """
    call, p, t = elementwise("l1_loss", pred, target, reduction=reduction, weight=weight)
    return call.finish(_ops.fused(call.xp, "l1_loss", _l1, p, t))


def mse_loss(
    pred: Array, target: Array, /, *, weight: Array | None = None, reduction: str = "mean"
) -> Array:
    """Squared error (L2, MSE): ``l_i = (pred_i - target_i)^2``, no 1/2 factor.

    Shapes: ``pred`` and ``target`` identical, any rank; ``"none"`` returns that shape.
    Gradient: ``2 r``. (``optax.losses.l2_loss`` is ``0.5 r^2``; ``squared_error`` is this.)
    Edge cases: empty input gives 0 for ``"mean"``.
    Reference: ``torch.nn.functional.mse_loss``, ``keras.losses.mean_squared_error``.
    """
    call, p, t = elementwise("mse_loss", pred, target, reduction=reduction, weight=weight)
    return call.finish(_ops.fused(call.xp, "mse_loss", _squared, p, t))


def smooth_l1_loss(
    pred: Array,
    target: Array,
    /,
    *,
    beta: float = 1.0,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Smooth L1 (Girshick, "Fast R-CNN", ICCV 2015), torch's definition with ``beta``.

    ::

        l(r) = 0.5 r^2 / beta      if |r| < beta
               |r| - 0.5 beta      otherwise;        beta == 0: l(r) = |r|

    The gradient is ``r / beta`` inside and ``sign(r)`` outside: continuous, bounded by 1.
    ``huber_loss(delta) == delta * smooth_l1_loss(beta=delta)``.

    Options: ``beta=1.0`` (>= 0; Detectron box heads use 1/9). ``beta < 0`` raises
    ``ValueError``; a ``beta`` below the compute dtype's smallest normal number (subnormal in
    float32, or rounding to 0) is taken as 0: L1 within ``beta / 2``. Shapes as ``l1_loss``.
    Reference: ``torch.nn.functional.smooth_l1_loss``.
    """
    fn = "smooth_l1_loss"
    beta = check_number(fn, "beta", beta, ge=0.0)
    call, p, t = elementwise(fn, pred, target, reduction=reduction, weight=weight)
    if beta < float(call.xp.finfo(call.dtype).smallest_normal):
        # beta = 0, or below the dtype's normal range (where r^2 / beta loses every digit
        # or divides by a beta rounded to 0): plain L1, within beta / 2 of the exact value
        return call.finish(_ops.fused(call.xp, "l1_loss", _l1, p, t))
    return call.finish(_ops.fused(call.xp, "smooth_l1_loss", _smooth_l1, p, t, beta))


def huber_loss(
    pred: Array,
    target: Array,
    /,
    *,
    delta: float = 1.0,
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Huber loss (Huber, "Robust Estimation of a Location Parameter", 1964).

    ::

        l(r) = 0.5 r^2                    if |r| <= delta
               delta (|r| - 0.5 delta)    otherwise

    The gradient is the L2 gradient clipped to ``[-delta, delta]``. Not Pseudo-Huber and not
    log-cosh. Options: ``delta=1.0`` (> 0; ``delta <= 0`` raises ``ValueError``).
    Shapes as ``l1_loss``. References: ``torch.nn.functional.huber_loss``,
    ``optax.losses.huber_loss``, ``keras.losses.huber`` (mean over the last axis).
    """
    fn = "huber_loss"
    delta = check_number(fn, "delta", delta, gt=0.0)
    call, p, t = elementwise(fn, pred, target, reduction=reduction, weight=weight)
    return call.finish(_ops.fused(call.xp, "huber_loss", _huber, p, t, delta))


def tukey_biweight_loss(
    pred: Array,
    target: Array,
    /,
    *,
    c: float = 4.685,
    scale: Any = "mad",
    weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Tukey's biweight (bisquare) loss, as in Belagiannis et al., "Robust Optimization for
    Deep Regression", ICCV 2015.

    ::

        u      = r / s
        rho(u) = (c^2 / 6) * (1 - (1 - (u/c)^2)^3)   if |u| <= c,   c^2 / 6 otherwise
        psi(u) = u (1 - (u/c)^2)^2 inside, 0 outside  (redescending: outliers get no gradient)

    The scale ``s``:

    - ``scale="mad"`` (default): ``s_d = 1.4826 * max(MAD_d, 1e-12)`` per output coordinate
      ``d``, with ``MAD_d = median_k |r_kd - median_k' r_k'd|`` over axis 0 (the batch), the
      true median (mean of the two middle values). ``s`` carries no gradient. A zero MAD
      (one sample, or half the residuals equal) hits the 1e-12 floor: non-zero residuals then
      saturate at ``c^2/6`` with zero gradient; use ``scale=None`` or a float for one sample.
    - ``scale=None``: ``s = 1``; a positive float: ``s`` is that constant.

    Shapes: ``(S,)`` or ``(S, N, ...)``; ``"none"`` is per element and ``"mean"`` divides by
    all ``S * N`` elements (the paper's objective is ``"sum" / S``). ``c=4.685`` gives 95 %
    asymptotic efficiency under Gaussian noise; ``c <= 0`` or a non-positive ``scale`` raise
    ``ValueError``. Empty input gives 0. The outside branch is the clipped form
    ``min((u/c)^2, 1)``, so no NaN or gradient leaks from it.
    """
    fn = "tukey_biweight_loss"
    c = check_number(fn, "c", c, gt=0.0)
    fixed_scale: float | None = None
    if isinstance(scale, str):
        if scale != "mad":
            raise ValueError(
                f"{fn}: `scale` must be 'mad', None or a positive float; got {scale!r}"
            )
    elif scale is not None:
        fixed_scale = check_number(fn, "scale", scale, gt=0.0)
    call, p, t = elementwise(fn, pred, target, reduction=reduction, weight=weight)
    xp = call.xp
    r = p - t
    if scale == "mad":
        if r.ndim == 0:
            raise ValueError(f"{fn}: `scale='mad'` needs at least 1-D input (the batch axis 0)")
        if r.shape[0] == 0:
            u = r
        else:
            rs = _ops.stop_gradient(xp, r)
            mad = _ops.median(xp, xp.abs(rs - _ops.median(xp, rs, axis=0)), axis=0)
            u = r / (_MAD_TO_SIGMA * _ops.clip(xp, mad, min=_MAD_FLOOR))
    elif fixed_scale is not None:
        u = r / fixed_scale
    else:
        u = r
    # rho = (c^2/6)(1 - (1 - q)^3) = (u^2/6) q' with q = (u/c)^2 and q' = 3 - 3q + q^2: c^2
    # is only formed where |u| >= c (it overflows for c ~ 1e155 in float64), and the clip
    # of q and of u^2 gives the flat outside branch with a zero gradient
    q = _ops.clip(xp, (u / c) ** 2, max=1.0)
    u2 = _ops.clip(xp, u * u, max=c * c)
    return call.finish((u2 / 6.0) * (3.0 - 3.0 * q + q * q))


def log_cosh_loss(
    pred: Array, target: Array, /, *, weight: Array | None = None, reduction: str = "mean"
) -> Array:
    """Log-cosh loss: ``l(r) = log(cosh(r))``, about ``r^2/2`` near 0 and ``|r| - log 2`` far.

    Computed in the stable form ``|r| + log1p(exp(-2|r|)) - log 2``, so large residuals stay
    finite (``r = 1000`` in float32 gives 999.3069 with gradient 1; the naive form overflows
    past ``|r| ~ 89`` in float32 and ``~ 710`` in float64). Gradient: ``tanh(r)``.
    Shapes as ``l1_loss``. References: ``optax.losses.log_cosh``, ``keras.losses.log_cosh``
    (mean over the last axis); torch has none.
    """
    call, p, t = elementwise("log_cosh_loss", pred, target, reduction=reduction, weight=weight)
    return call.finish(_ops.fused(call.xp, "log_cosh_loss", _log_cosh, p, t))

