"""NumPy: the adapter functions and the in-place kernels.

NumPy has no autograd to keep temporaries for, so its kernels update their own temporaries
in place (one or two full-size arrays instead of four to twelve), and take Python numbers
typed to the array's dtype instead of full-size constants. Each equals its generic path up
to rounding. A 0-d input makes NumPy return scalars, which take no ``out=``: those calls
return ``None`` and the generic path runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

_LOG2 = math.log(2.0)


# ---------------------------------------------------------------------------- adapters


#: the array type of the namespace fast path
ARRAY_TYPE = np.ndarray
#: the float dtypes the fast lanes take as they are (with their epsilon), and the dtype of
#: their class labels
FLOATS = {np.dtype(np.float32): float(np.finfo(np.float32).eps),
          np.dtype(np.float64): float(np.finfo(np.float64).eps)}
LABELS = np.dtype(np.intp)


def is_concrete(x: Any) -> bool:
    return True


def as_array(x: Any) -> Any:
    """A NumPy scalar (what NumPy's full reductions return) as a 0-d array."""
    return np.asarray(x) if isinstance(x, np.generic) else x


def is_host(x: Any) -> bool:
    return True


def refuse_subclass(fn: str, name: str, x: Any) -> None:
    """Masked arrays and matrices are ndarray subclasses whose semantics (a mask that other
    operations ignore or carry along, ``*`` as a matrix product) no loss honours."""
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{fn}: `{name}` is a NumPy masked array, which arrayloss does not honour (the "
            "mask would leak into or be dropped from the result); pass `x.filled(0)` and "
            "leave the masked positions out with `weight=` (0 there) or `ignore_index=`"
        )
    if isinstance(x, np.matrix):
        raise TypeError(f"{fn}: `{name}` is a numpy.matrix; pass `numpy.asarray(x)`")


def median(x: Any, axis: int) -> Any:
    return np.median(x, axis=axis)


def clip(x: Any, min: Any = None, max: Any = None) -> Any:
    """``np.clip`` for float and default-integer arrays (array-api-compat's wrapper costs
    10-20 us a call, which its handling of bounds outside a narrow dtype needs: other
    dtypes keep it); a 0-d result stays an array."""
    if x.dtype.kind != "f" and x.dtype != np.intp:
        import array_api_compat.numpy as xp

        return xp.clip(x, min=min, max=max)  # type: ignore[attr-defined]
    if min is None and max is None:
        return x
    out = np.clip(x, min, max)
    return out if isinstance(out, np.ndarray) else np.asarray(out)


# ---------------------------------------------------------------------------- kernels


def _softplus(x: Any) -> Any:
    return np.logaddexp(x, x.dtype.type(0))


def _log_sigmoid(x: Any) -> Any:
    return -np.logaddexp(-x, x.dtype.type(0))


def _sigmoid(x: Any) -> Any:
    """``e / (1 + e)`` or ``1 / (1 + e)`` with ``e = exp(-|x|)``, in place."""
    e = np.abs(x)
    if not isinstance(e, np.ndarray):
        return None
    np.negative(e, out=e)
    np.exp(e, out=e)  # exp(-|x|) in (0, 1]: no overflow
    r = np.add(e, e.dtype.type(1))
    np.divide(e.dtype.type(1), r, out=r)  # sigmoid(|x|)
    np.multiply(e, r, out=e)  # sigmoid(-|x|)
    return np.where(x >= 0, r, e)


def _relu(x: Any) -> Any:
    return np.maximum(x, x.dtype.type(0))


def _fill(cond: Any, value: float, x: Any) -> Any:
    return np.where(cond, x.dtype.type(value), x)


def _residual(pred: Any, target: Any) -> Any:
    r = np.subtract(pred, target)
    return r if isinstance(r, np.ndarray) else None


def _l1(pred: Any, target: Any) -> Any:
    r = _residual(pred, target)
    return None if r is None else np.abs(r, out=r)


def _mse(pred: Any, target: Any) -> Any:
    r = _residual(pred, target)
    return None if r is None else np.multiply(r, r, out=r)


def _huber(pred: Any, target: Any, delta: float) -> Any:
    """``m (a - m / 2)`` with ``m = min(|r|, delta)``, as ``(m / 2)(2a - m)`` (exact: scaling
    by 2 is exact in binary floats)."""
    r = _residual(pred, target)
    if r is None:
        return None
    a = np.abs(r, out=r)
    m = np.minimum(a, a.dtype.type(delta))
    np.multiply(a, a.dtype.type(2.0), out=a)
    np.subtract(a, m, out=a)
    np.multiply(a, m, out=a)
    return np.multiply(a, a.dtype.type(0.5), out=a)


def _smooth_l1(pred: Any, target: Any, beta: float) -> Any:
    h = _huber(pred, target, beta)
    return None if h is None else np.divide(h, h.dtype.type(beta), out=h)


def _log_cosh(pred: Any, target: Any) -> Any:
    r = _residual(pred, target)
    if r is None:
        return None
    a = np.abs(r, out=r)
    e = np.multiply(a, a.dtype.type(-2.0))
    np.exp(e, out=e)
    np.log1p(e, out=e)
    np.add(e, a, out=e)
    return np.subtract(e, a.dtype.type(_LOG2), out=e)


def _bce_with_logits(z: Any, y: Any, pos_weight: Any, finite: bool, t: Any = None) -> Any:
    """``pw y softplus(-z) + (1 - y) softplus(z)`` with ``softplus(+-z) = log1p(exp(-|z|)) +
    max(+-z, 0)``: a sum of non-negative terms, three temporaries updated in place. Unless
    ``finite``, a term whose coefficient is 0 is 0, also at ``z = +-inf``. ``t``: ``|z|``
    when the caller has it (a temporary this function may overwrite)."""
    t = np.abs(z) if t is None else t
    if not isinstance(t, np.ndarray):
        return None
    one, zero = t.dtype.type(1), t.dtype.type(0)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)  # log1p(exp(-|z|))
    m = np.maximum(z, zero)
    n = np.negative(z)
    np.maximum(n, zero, out=n)  # max(-z, 0)
    np.add(n, t, out=n)  # softplus(-z)
    np.add(m, t, out=m)  # softplus(z)
    coef = y
    if pos_weight is not None:
        pw = pos_weight if isinstance(pos_weight, np.ndarray) else t.dtype.type(pos_weight)
        coef = np.multiply(y, pw)  # pw broadcasts to z: coef has the shape of n
    np.subtract(one, y, out=t)
    if finite:
        np.multiply(n, coef, out=n)
        np.multiply(m, t, out=m)
        return np.add(n, m, out=n)
    with np.errstate(invalid="ignore"):  # 0 * inf, replaced by the limit 0 below
        np.multiply(n, coef, out=n)
        np.copyto(n, 0, where=coef == 0)
        np.multiply(m, t, out=m)
        np.copyto(m, 0, where=t == 0)
    return np.add(n, m, out=n)


def _bce_with_logits_reduced(reduction: str, z: Any, y: Any, pos_weight: Any) -> Any:
    """``_bce_with_logits`` and its mean or sum for finite logits (``None`` otherwise, found
    before any ``0 * inf``, which NumPy warns about: the general path has the limits);
    without ``pos_weight`` in the shorter form ``max(z, 0) - z y + log1p(exp(-|z|))`` (8
    operations instead of 13)."""
    t = np.abs(z)
    # 0-d input gives a scalar (no in-place updates); empty input has no maximum
    if not isinstance(t, np.ndarray) or t.size == 0:
        return None
    if not math.isfinite(np.maximum.reduce(t, axis=None)):
        return None
    if pos_weight is not None:
        return _reduce(reduction, _bce_with_logits(z, y, pos_weight, True, t))
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)  # log1p(exp(-|z|))
    m = np.maximum(z, z.dtype.type(0))
    np.subtract(m, np.multiply(z, y), out=m)
    return _reduce(reduction, np.add(m, t, out=m))


def _bce(reduction: str, p: Any, y: Any) -> Any:
    """``-(y log p + (1 - y) log(1 - p))`` and its mean or sum, for probabilities where
    arrayloss's clip does nothing (``_fast.pair(interior=True)``); declines 0-d input."""
    pos = np.log(p)
    if not isinstance(pos, np.ndarray):  # 0-d input gives a scalar: no in-place updates
        return None
    np.multiply(y, pos, out=pos)
    neg = np.negative(p)
    np.log1p(neg, out=neg)
    np.multiply(np.subtract(p.dtype.type(1), y), neg, out=neg)
    np.add(pos, neg, out=pos)
    return _reduce(reduction, np.negative(pos, out=pos))


def _kl_div(reduction: str, log_q: Any, p: Any, axis: int, log_target: bool) -> Any:
    """``sum_c p (log p - log q)`` along ``axis`` (``p = exp`` of the second argument with
    ``log_target``), 0 where ``p = 0`` whatever ``log q``, and its mean or sum; ``None``
    where ``log_q`` holds NaN (which must propagate: the general path). The caller checks
    ``p`` (``_fast.pair``)."""
    if (type(axis) is not int or not -p.ndim <= axis < p.ndim
            or math.isnan(np.minimum.reduce(log_q, axis=None))):
        return None
    prob = np.exp(p) if log_target else p
    mask = prob > 0
    log_p = p if log_target else np.log(p, out=np.zeros_like(p), where=mask)
    terms = np.subtract(log_p, log_q, out=np.zeros_like(p), where=mask)
    np.multiply(prob, terms, out=terms)
    return _reduce(reduction, terms.sum(axis=axis))


def _value_range(x: Any) -> Any:
    return None if x.dtype == np.bool_ else (x.min(), x.max())


def _nll_loss(reduction: str, x: Any, labels: Any, axis: int, class_weight: Any,
              ignore_index: Any) -> Any:
    """``-x[label]`` along ``axis`` and its mean or sum, for labels the caller has checked
    (``_fast.labels``); options the general path handles decline (``None``)."""
    if class_weight is not None or ignore_index is not None:
        return None
    loss = np.subtract(0.0, _pick(x, labels, axis), dtype=x.dtype)  # +0 (not -0) for 0
    return _reduce(reduction, loss)


def _nll_loss_checking(reduction: str, x: Any, labels: Any, axis: int) -> Any:
    """``_nll_loss`` for labels not yet checked (the small-call lane, ``_fast.labels``):
    ``None`` where a label is not a class."""
    picked = _pick_classes(x, labels, axis)
    return None if picked is None else _reduce(
        reduction, np.subtract(0.0, picked, dtype=x.dtype))  # +0 (not -0) for 0


def _cross_entropy_checking(reduction: str, z: Any, labels: Any, axis: int,
                            smoothing: float) -> Any:
    """Softmax cross-entropy ``logsumexp(z) - z[label]`` along ``axis`` and its mean or
    sum, for labels not yet checked (as ``_nll_loss_checking``); declines label smoothing
    and a row whose max is not finite (``+inf``, only ``-inf``, NaN: the general path has
    the limits)."""
    if smoothing != 0.0:
        return None
    m = z.max(axis=axis, keepdims=True)
    if not np.isfinite(m).all():  # before any inf - inf (warns)
        return None
    shifted = np.subtract(z, m)
    picked = _pick_classes(shifted, labels, axis)
    if picked is None:
        return None
    lse = np.log(np.exp(shifted).sum(axis=axis))
    return _reduce(reduction, np.subtract(lse, picked))


def _pick_classes(x: Any, labels: Any, axis: int) -> Any:
    """``_pick`` for labels not yet checked, or ``None`` where one is not a class: the
    gather raises for a label at or above the axis' length, so only the smallest is looked
    for (a negative one would count from the end)."""
    if labels.min() < 0:
        return None
    try:
        return _pick(x, labels, axis)
    except IndexError:
        return None


def _pick(x: Any, labels: Any, axis: int) -> Any:
    """The entries of ``x`` at ``labels`` along ``axis`` (raises ``IndexError`` for a label
    at or above the axis' length, counts a negative one from its end). A matrix's rows by
    fancy indexing: ``take_along_axis`` costs 4-5 us more for a small batch."""
    if x.ndim == 2 and axis == 1:
        return x[np.arange(x.shape[0]), labels]
    return np.squeeze(np.take_along_axis(x, np.expand_dims(labels, axis), axis), axis)


def _reduce(reduction: str, loss: Any) -> Any:
    """``loss`` as it is (``"none"``), or its mean or sum, as an array (0-d included). The
    mean of float32 or float64 is the sum over the count, in that dtype (what ``mean``
    computes, without its 4 us of Python for a small array)."""
    if reduction == "none":
        return np.asarray(loss)
    if loss.dtype not in FLOATS:  # (mean accumulates float16 in float32)
        return np.asarray(loss.mean() if reduction == "mean" else loss.sum())
    total = np.add.reduce(loss, axis=None)
    if reduction == "mean":
        total = np.true_divide(total, loss.size, dtype=loss.dtype)
    return np.asarray(total)


def _mean(x: Any) -> Any:
    return _reduce("mean", x) if type(x) is np.ndarray and x.size else None


def _reduced(elementwise: Callable[..., Any]) -> Callable[..., Any]:
    """The reduced form ``kernel(reduction, *args)`` of an elementwise kernel: its mean or
    sum as a 0-d array (``None`` where the elementwise kernel declines)."""

    def reduced(reduction: str, *args: Any) -> Any:
        loss = elementwise(*args)
        return None if loss is None else _reduce(reduction, loss)

    return reduced


def _abs0(x: Any) -> Any:
    # no autodiff on NumPy: the plain abs (the generic x * sign(x) is two passes)
    out = np.abs(x)
    return out if isinstance(out, np.ndarray) else np.asarray(out)


KERNELS: dict[str, Callable[..., Any]] = {
    "abs0": _abs0,
    "any": lambda m: m.any(),  # (the namespace's any wraps it: 1-2 us more)
    "softplus": _softplus,
    "log_sigmoid": _log_sigmoid,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "fill": _fill,
    "l1_loss": _l1,
    "mse_loss": _mse,
    "huber_loss": _huber,
    "smooth_l1_loss": _smooth_l1,
    "log_cosh_loss": _log_cosh,
    "bce_with_logits": _bce_with_logits,
    "value_range": _value_range,
    "nll_loss": _nll_loss,
    "nll_loss_checking": _nll_loss_checking,
    "cross_entropy_checking": _cross_entropy_checking,
    "mean": _mean,
    "binary_cross_entropy_with_logits": _bce_with_logits_reduced,
    "binary_cross_entropy": _bce,
    "kl_divergence": _kl_div,
}
KERNELS.update({name + "_reduced": _reduced(KERNELS[name])
                for name in ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss")})
