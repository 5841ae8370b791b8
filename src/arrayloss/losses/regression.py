"""Regression losses: elementwise functions of a prediction and a real-valued target: of the
residual ``r = pred - target`` (L1, MSE, Huber...), of the relative or logarithmic error
(MAPE, MSLE), or the negative log-likelihood of the target under a predicted distribution
(Poisson rate, Gaussian mean and variance).

Every function takes ``pred`` and ``target`` of the same shape (any rank, no broadcasting),
returns the shape of ``pred`` with ``reduction="none"``, and averages over all elements with
``"mean"`` (0 for empty input, with zero gradients). ``weight`` multiplies the unreduced loss
and must broadcast to it. float16/bfloat16 inputs are computed in float32 and give a float32
result; a NaN anywhere gives NaN.

Where a library has a fused kernel for a formula (torch's ``l1_loss``, ``mse_loss``,
``huber_loss``, ``smooth_l1_loss``; NumPy's in-place versions), it is used, with the same values.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import _ops
from .._namespace import Array, Namespace
from .._options import is_bool
from .._reduce import elementwise, start
from .._validate import (
    check_bool,
    check_nonnegative,
    check_number,
    check_same_shape,
    check_values,
)
from ._residuals import _huber, _l1, _log_cosh, _smooth_l1, _squared, residual_loss

__all__ = [
    "gaussian_nll_loss", "huber_loss", "l1_loss", "log_cosh_loss", "mape_loss", "mse_loss",
    "msle_loss", "poisson_nll_loss", "smooth_l1_loss", "tukey_biweight_loss",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_MAD_TO_SIGMA = 1.4826
_MAD_FLOOR = 1e-12
_FLOAT32_TINY = 1.1754943508222875e-38  # float32's smallest normal number


def l1_loss(
    pred: Array,
    target: Array,
    /,
    *,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Absolute error (L1, MAE).

    .. math::

        \ell(r) = |r| \qquad r = \mathrm{pred} - \mathrm{target}

    Shapes: ``pred`` and ``target`` identical, any rank; ``"none"`` returns that shape.
    Gradient: :math:`\operatorname{sign}(r)`, with the sub-gradient 0 at :math:`r = 0` (as torch).
    Edge cases: empty input gives 0 for ``"mean"`` (torch: NaN).
    Reference: ``torch.nn.functional.l1_loss``.
    """
    return residual_loss("l1_loss", _l1, pred, target, reduction, weight, where, replicas)


def mse_loss(
    pred: Array,
    target: Array,
    /,
    *,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Squared error (L2, MSE), without a factor 1/2.

    .. math::

        \ell(r) = r^2 \qquad r = \mathrm{pred} - \mathrm{target}

    Shapes: ``pred`` and ``target`` identical, any rank; ``"none"`` returns that shape.
    Gradient: :math:`2r` (``optax.losses.l2_loss`` is :math:`r^2/2`; ``squared_error`` is this).
    Edge cases: empty input gives 0 for ``"mean"``.
    Reference: ``torch.nn.functional.mse_loss``, ``keras.losses.mean_squared_error``.
    """
    return residual_loss("mse_loss", _squared, pred, target, reduction, weight, where,
                         replicas)


def smooth_l1_loss(
    pred: Array,
    target: Array,
    /,
    *,
    beta: float = 1.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Smooth L1 (Girshick, "Fast R-CNN", ICCV 2015), torch's definition with ``beta``.

    .. math::

        \ell(r) = \begin{cases}
            r^2 / (2\beta) & |r| < \beta \\
            |r| - \tfrac12 \beta & \text{otherwise}
        \end{cases} \qquad r = \mathrm{pred} - \mathrm{target}

    The gradient is :math:`r / \beta` inside and :math:`\operatorname{sign}(r)` outside:
    continuous, bounded by 1. ``huber_loss(delta) == delta * smooth_l1_loss(beta=delta)``.
    Options: ``beta=1.0`` (>= 0; Detectron box heads use 1/9). ``beta < 0`` raises
    ``ValueError``; a ``beta`` below the compute dtype's smallest normal number (subnormal in
    float32, or rounding to 0) is taken as 0: L1 within ``beta / 2``. Shapes as ``l1_loss``.
    Reference: ``torch.nn.functional.smooth_l1_loss``.
    """
    fn = "smooth_l1_loss"
    beta = check_number(fn, "beta", beta, ge=0.0)
    if beta >= _FLOAT32_TINY:  # a normal number in every compute dtype
        return residual_loss(fn, _smooth_l1, pred, target, reduction, weight, where,
                             replicas, beta)
    call, p, t = elementwise(fn, pred, target, reduction=reduction, weight=weight, where=where,
                             replicas=replicas)
    if beta < float(call.xp.finfo(call.dtype).smallest_normal):
        # beta = 0, or below the dtype's normal range (where r^2 / beta loses every digit
        # or divides by a beta rounded to 0): plain L1, within beta / 2 of the exact value
        return call.finish_fused("l1_loss", _l1, p, t)
    return call.finish_fused("smooth_l1_loss", _smooth_l1, p, t, beta)


def huber_loss(
    pred: Array,
    target: Array,
    /,
    *,
    delta: float = 1.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Huber loss (Huber, "Robust Estimation of a Location Parameter", 1964).

    .. math::

        \ell(r) = \begin{cases}
            \tfrac12 r^2 & |r| \le \delta \\
            \delta\,\bigl(|r| - \tfrac12 \delta\bigr) & \text{otherwise}
        \end{cases}
        \qquad r = \mathrm{pred} - \mathrm{target}

    The gradient is the L2 gradient clipped to :math:`[-\delta, \delta]`. Not Pseudo-Huber and not
    log-cosh. Options: ``delta=1.0`` (> 0; ``delta <= 0`` raises ``ValueError``).
    Shapes as ``l1_loss``. References: ``torch.nn.functional.huber_loss``,
    ``optax.losses.huber_loss``, ``keras.losses.huber`` (mean over the last axis).
    """
    fn = "huber_loss"
    delta = check_number(fn, "delta", delta, gt=0.0)
    return residual_loss(fn, _huber, pred, target, reduction, weight, where, replicas, delta)


def tukey_biweight_loss(
    pred: Array,
    target: Array,
    /,
    *,
    c: float = 4.685,
    scale: Any = "mad",
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Tukey's biweight (bisquare) loss, as in Belagiannis et al., "Robust Optimization for
    Deep Regression", ICCV 2015.

    .. math::

        \rho(u) = \begin{cases}
            (c^2 / 6) \bigl(1 - (1 - (u/c)^2)^3\bigr) & |u| \le c \\
            c^2 / 6 & \text{otherwise}
        \end{cases} \qquad u = \frac{r}{s}, \quad r = \mathrm{pred} - \mathrm{target}

    Its derivative :math:`\psi(u) = u\,\bigl(1 - (u/c)^2\bigr)^2` inside, 0 outside, is
    redescending: outliers get no gradient. The scale :math:`s`:

    - ``scale="mad"`` (default): :math:`s_d = 1.4826 \max(\mathrm{MAD}_d, 10^{-12})` per output
      coordinate :math:`d`, with
      :math:`\mathrm{MAD}_d = \operatorname{median}_k |r_{kd} - \operatorname{median}_{k'} r_{k'd}|`
      over axis 0 (the batch), the true median (mean of the two middle values). :math:`s`
      carries no gradient. A zero MAD (one sample, or half the residuals equal) hits the 1e-12
      floor: non-zero residuals then saturate at :math:`c^2/6` with zero gradient; use
      ``scale=None`` or a float for one sample.
    - ``scale=None``: :math:`s = 1`; a positive float: :math:`s` is that constant.

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
            raise ValueError(f"{fn}: `scale` must be 'mad', None or a positive float; "
                             f"got {scale!r}")
    elif scale is not None:
        fixed_scale = check_number(fn, "scale", scale, gt=0.0)
    call, p, t = elementwise(fn, pred, target, reduction=reduction, weight=weight, where=where,
                             replicas=replicas)
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
    pred: Array,
    target: Array,
    /,
    *,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Log-cosh loss: smooth, quadratic for small residuals and linear for large ones.

    .. math::

        \ell(r) = \log\cosh r = |r| + \log\bigl(1 + e^{-2|r|}\bigr) - \log 2
        \qquad r = \mathrm{pred} - \mathrm{target}

    About :math:`r^2/2` near 0 and :math:`|r| - \log 2` far. Computed in the stable second form,
    so large residuals stay finite (``r = 1000`` in float32 gives 999.3069 with gradient 1; the
    naive form overflows past :math:`|r| \approx 89` in float32 and :math:`710` in float64).
    Gradient: :math:`\tanh r`. Shapes as ``l1_loss``. References: ``optax.losses.log_cosh``,
    ``keras.losses.log_cosh`` (mean over the last axis); torch has none.
    """
    call, p, t = elementwise("log_cosh_loss", pred, target, reduction=reduction, weight=weight,
                             where=where, replicas=replicas)
    return call.finish(_ops.fused(call.xp, "log_cosh_loss", _log_cosh, p, t))


def mape_loss(
    pred: Array,
    target: Array,
    /,
    *,
    eps: float = 1e-7,
    percent: bool = True,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Absolute percentage error (MAPE), in percent or as a fraction.

    .. math::

        \ell = s\,\frac{|r|}{\max(|\mathrm{target}|, \varepsilon)}
        \qquad r = \mathrm{pred} - \mathrm{target}, \quad
        s = \begin{cases} 100 & \mathrm{percent} \\ 1 & \text{otherwise} \end{cases}

    Gradient w.r.t. ``pred``: :math:`s\,\mathrm{sign}(r) / \max(|\mathrm{target}|, \varepsilon)`,
    with the sub-gradient 0 at ``pred = target`` (as ``l1_loss``); the denominator depends on
    ``target`` only.
    Options: ``eps=1e-7`` (> 0; raised to the compute dtype's smallest normal number if below
    it) and ``percent=True`` follow ``keras.losses.MeanAbsolutePercentageError``;
    ``percent=False`` gives the fraction (scikit-learn's convention). Shapes as ``l1_loss``
    (Keras averages over the last axis per sample first: the same overall mean for equal
    rows). Edge cases: a zero target gives ``s |pred| / eps`` (``1e9`` per unit error with the
    defaults): finite, and the reason MAPE is avoided on data holding zeros. Empty input
    gives 0. Reference: ``keras.losses.mean_absolute_percentage_error``.
    """
    fn = "mape_loss"
    eps = check_number(fn, "eps", eps, gt=0.0)
    percent = check_bool(fn, "percent", percent)
    call, p, t = elementwise(fn, pred, target, reduction=reduction, weight=weight, where=where,
                             replicas=replicas)
    xp = call.xp
    # an eps that rounds to 0 (or to a subnormal) in the compute dtype would give 0 / 0
    floor = max(eps, float(xp.finfo(call.dtype).smallest_normal))
    r = p - t
    loss = _ops.abs0(xp, r) / _ops.clip(xp, xp.abs(t), min=floor)
    return call.finish(100.0 * loss if percent else loss)


def msle_loss(
    pred: Array,
    target: Array,
    /,
    *,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Squared logarithmic error (MSLE).

    .. math::

        \ell = \bigl(\log(1 + \max(\mathrm{pred}, 0)) - \log(1 + \mathrm{target})\bigr)^2

    Gradient w.r.t. ``pred``: ``2 (log1p(pred) - log1p(target)) / (1 + pred)`` for
    ``pred >= 0`` (at 0 the derivative from the right: a zero output, e.g. of a ReLU head,
    below a positive target is pushed up), 0 for ``pred < 0``: negative predictions (a linear
    head early in training) are clamped at 0, as Keras does, and get no gradient; a softplus
    head avoids that. ``target`` holds values ``>= 0`` (counts, prices): a negative one raises
    ``ValueError`` when the values can be read. ``log1p`` keeps small values exact (Keras
    floors both inputs at 1e-7 and takes ``log(x + 1)``, within
    ``2e-7 |log1p(p) - log1p(y)|`` of this). Shapes as ``l1_loss``. Edge cases:
    ``pred = target = 0`` gives 0 with gradient 0; empty input gives 0. Reference:
    ``keras.losses.mean_squared_logarithmic_error`` (mean over the last axis).
    """
    fn = "msle_loss"
    call, p, t = elementwise(fn, pred, target, reduction=reduction, weight=weight, where=where,
                             replicas=replicas)
    xp = call.xp
    check_nonnegative(fn, "target", xp, target)
    # clamped where negative: at pred = 0 the gradient is the one of the side the clamp keeps
    d = xp.log1p(_ops.fill(xp, p < 0, 0.0, p)) - xp.log1p(_ops.relu(xp, t))
    return call.finish(d * d)


def poisson_nll_loss(
    pred: Array,
    target: Array,
    /,
    *,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Poisson negative log-likelihood of counts ``target`` under a predicted rate.

    .. math::

        \begin{aligned}
            \ell &= \begin{cases}
                e^{z} - y\,z & \mathrm{log\_input}\ (z = \mathrm{pred}, \text{ the log-rate}) \\
                \lambda - y \log(\lambda + \varepsilon) & \text{else}\ (\lambda = \mathrm{pred})
            \end{cases} \qquad y = \mathrm{target} \\
            \ell_{\mathrm{full}} &= \ell + [y > 1] \bigl(y \log y - y + \tfrac12 \log(2\pi y)\bigr)
        \end{aligned}

    ``full=True`` adds Stirling's approximation of :math:`\log y!` where :math:`y > 1` (it is 0 at
    :math:`y = 0` and 1); without it that constant is left out, so values can be negative.
    Gradient: :math:`e^z - y` (log-rate form: no epsilon, bounded below) or
    :math:`1 - y / (\lambda + \varepsilon)` (rate form).
    Options: ``log_input=True``, ``full=False``, ``eps=1e-8`` (>= 0, used by the rate form
    only): torch's defaults; ``keras.losses.poisson`` is the rate form with ``eps=1e-7``.
    Shapes as ``l1_loss``; ``target`` holds counts ``>= 0`` (real values allowed).
    Edge cases: :math:`\lambda = 0` gives :math:`-y \log \varepsilon` (18.4 y at eps 1e-8) with the
    large, finite gradient :math:`1 - y / \varepsilon`; with ``eps=0`` a zero rate gives its limit:
    0 for a zero count (gradient 1), inf otherwise; ``z`` past ``log(finfo.max)`` overflows to inf,
    the value (``z = -inf`` with ``y = 0`` is ``0 * inf``: NaN, as torch). A negative ``target``, or
    with ``log_input=False`` a negative rate (log-rates given to the rate form), raises
    ``ValueError`` when the values can be read. Empty input gives 0 (torch: NaN).
    References: ``torch.nn.functional.poisson_nll_loss``, ``keras.losses.poisson`` (mean
    over the last axis).
    """
    fn = "poisson_nll_loss"
    log_input = check_bool(fn, "log_input", log_input)
    full = check_bool(fn, "full", full)
    eps = check_number(fn, "eps", eps, ge=0.0)
    call, p, t = elementwise(fn, pred, target, reduction=reduction, weight=weight, where=where,
                             replicas=replicas)
    xp = call.xp
    check_nonnegative(fn, "target", xp, target)
    if log_input:
        loss = xp.exp(p) - t * p
    else:
        check_values(fn, "pred", xp, pred, lambda v: v < 0,
                     "must hold rates >= 0 with `log_input=False`", within=(0, math.inf, False),
                     hint=lambda _v: "; for log-rates pass `log_input=True`")
        q = p + eps
        if eps >= float(xp.finfo(call.dtype).smallest_normal):
            loss = p - t * xp.log(q)  # q > 0 for every valid rate
        else:  # eps = 0 (or lost in the dtype): log(0) = -inf, and 0 * -inf would be NaN
            zero = q == 0
            log_q = xp.where(zero, xp.full_like(q, -math.inf),
                             xp.log(xp.where(zero, xp.ones_like(q), q)))
            loss = p - _ops.mul0(xp, t, log_q)
    if full:
        big = t > 1
        ts = xp.where(big, t, xp.ones_like(t))  # the logs never see 0
        stirling = ts * xp.log(ts) - ts + 0.5 * xp.log((2.0 * math.pi) * ts)
        loss = loss + xp.where(big, stirling, xp.zeros_like(stirling))
    return call.finish(loss)


def _gaussian_var(fn: str, xp: Namespace, var: Array, shape: tuple[int, ...]) -> Array:
    """``var`` broadcastable to ``pred``'s ``shape`` by torch's three rules, or ``ValueError``."""
    got = tuple(var.shape)
    if got == shape:
        return var
    if shape and got == shape[:-1]:
        return xp.expand_dims(var, axis=-1)
    if len(got) == len(shape):
        differ = [i for i, (a, b) in enumerate(zip(shape, got)) if a != b]
        if len(differ) == 1 and got[differ[0]] == 1:
            return var
    raise ValueError(
        f"{fn}: `var` of shape {got} does not fit `pred` of shape {shape}: give `pred`'s "
        f"shape, `pred.shape[:-1]` {shape[:-1]} (one variance per sample), `pred`'s shape "
        "with one axis of size 1, or a Python number")


def gaussian_nll_loss(
    pred: Array,
    target: Array,
    var: Any,
    /,
    *,
    full: bool = False,
    eps: float = 1e-6,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Gaussian negative log-likelihood with a predicted variance (Nix and Weigend,
    "Estimating the mean and variance of the target probability distribution", ICNN 1994).

    .. math::

        \ell = \tfrac12 \Bigl(\log v + \frac{r^2}{v}\Bigr)
            \; \bigl[ + \tfrac12 \log 2\pi \text{ with } \mathrm{full} \bigr]
        \qquad r = \mathrm{pred} - \mathrm{target}, \quad v = \max(\mathrm{var}, \varepsilon)

    Gradients: :math:`r / v` and :math:`\tfrac12 (1/v - r^2 / v^2)`, both at the clamped
    :math:`v`, also below ``eps``: a straight-through clamp (on the value only), as torch's, so
    a variance below ``eps`` is not a dead zone.

    ``var`` (third positional argument): the variances, ``>= 0``: an array of ``pred``'s
    shape; of ``pred.shape[:-1]`` (one per sample, shared along the last axis); of
    ``pred``'s rank with exactly one axis of size 1 where ``pred``'s is larger (shared along
    it); or a Python number (one for all, no gradient). Any other shape raises
    ``ValueError``: no other broadcasting. Options: ``full=False``, ``eps=1e-6`` (> 0):
    torch's. Shapes: ``pred`` and ``target`` identical, any rank; ``"none"`` returns
    ``pred``'s shape and ``"mean"`` divides by its number of elements.
    Edge cases: a variance below ``eps`` (0 included) uses ``eps``, with a finite gradient;
    with ``pred = target`` the loss is unbounded below as ``var -> 0`` (-6.9 per element at
    ``eps = 1e-6``); a negative ``var`` raises ``ValueError`` when the values can be read
    (never a host sync or a graph break under a compiler); empty input gives 0 (torch: NaN).
    Reference: ``torch.nn.functional.gaussian_nll_loss`` (values and gradients).
    """
    fn = "gaussian_nll_loss"
    full = check_bool(fn, "full", full)
    eps = check_number(fn, "eps", eps, gt=0.0)
    constant = is_bool(var) or isinstance(var, numbers.Real)
    var_value = check_number(fn, "var", var, ge=0.0) if constant else 0.0
    call = start(fn, pred, reduction=reduction, weight=weight, where=where, replicas=replicas,
                 target=target, var=None if constant else var)
    check_same_shape(fn, pred, target)
    xp = call.xp
    if not constant:
        var = _gaussian_var(fn, xp, var, tuple(pred.shape))
        check_nonnegative(fn, "var", xp, var)
    r = call.float(pred) - call.float(target)
    if constant:
        v_const = max(var_value, eps)
        loss = 0.5 * (r * r / v_const + math.log(v_const))
    else:
        v = call.float(var)
        v = v + _ops.stop_gradient(xp, _ops.clip(xp, v, min=eps) - v)
        loss = 0.5 * (xp.log(v) + r * r / v)
    return call.finish(loss + _HALF_LOG_2PI if full else loss)
