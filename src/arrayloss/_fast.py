"""Small-call fast lanes: a loss computed by its library's fused kernel without the general
path, for the common eager call on host arrays.

A small loss (a batch of 32 logits, a thousand elements) costs little more than its own
fixed overhead, and the general path's overhead is several dozen Python calls: resolving the
namespace, the compute and result dtypes, the tracing state of every array, the options.
A lane takes the calls where none of that can change the answer, and goes straight to the
fused kernel that the general path would reach in the end:

- every array a plain host array of one library used eagerly (``_kernels.eager_host``:
  NumPy's ``ndarray``; a CPU ``torch.Tensor`` or ``nn.Parameter`` outside ``torch.compile``
  and ``torch.func``), ``pred`` in float32 or float64, the kernels switched on;
- no ``weight``, ``where`` or replicas, and a reduction the kernel applies itself;
- the loss's own conditions (same shape and dtype, integer labels of the default dtype, no
  option that needs the general path), and the value checks the general path would make,
  read as one min/max pass (or, for class labels, by the kernel itself: torch's NLL bounds
  check, a NumPy gather's): a value outside the valid range sends the call to the general
  path, which raises its error (or, with ``validate=False``, gives its NaN). On host arrays
  the read costs no synchronisation, so the lanes check whatever the ``validate`` option:
  turning the checks off must not send a small call back to the slower general path;
- for kernels whose value differs from arrayloss's at infinite inputs (cross-entropy,
  BCE-with-logits: NaN where arrayloss has a limit), a result holding NaN is not returned:
  the general path recomputes it.

Each lane returns ``None`` when it does not apply, and the loss continues on the general
path; a lane's result equals the general path's up to rounding (tested for every lane).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from . import _kernels
from ._namespace import Array

__all__ = ["elementwise", "fused_reduction", "holds_nan", "labels", "lane", "pair"]

#: the reductions a fused kernel applies itself ("weighted_mean" without a weight is the mean)
_FUSED_REDUCTIONS = {"mean": "mean", "weighted_mean": "mean", "sum": "sum", "none": "none"}


def fused_reduction(reduction: Any, weight: Any, where: Any, replicas: Any) -> str | None:
    """The reduction a fused kernel applies itself for a call's ``reduction``, or ``None``
    with a ``weight``, ``where`` or replicas (or a reduction that is not one of the four:
    the general path raises for it)."""
    if weight is not None or where is not None or replicas is not None:
        return None
    return _FUSED_REDUCTIONS.get(reduction) if type(reduction) is str else None


class Lane(NamedTuple):
    """A fused kernel (called as ``kernel(reduction, *arrays, *options)``), the reduction it
    applies and the adapter module of the arrays' library."""

    kernel: Callable[..., Any]
    reduction: str
    adapter: Any


def lane(name: str, reduction: Any, weight: Any, where: Any, replicas: Any, pred: Array,
         *others: Array) -> Lane | None:
    """The lane to the library's kernel ``name`` for a call on ``pred`` and ``others``, or
    ``None`` (see the module docstring for the conditions checked here)."""
    red = fused_reduction(reduction, weight, where, replicas)
    if red is None:
        return None
    mod = _kernels.eager_host(pred, *others)
    if mod is None or pred.dtype not in mod.FLOATS:
        return None
    fn = mod.KERNELS.get(name)
    return None if fn is None else Lane(fn, red, mod)


def holds_nan(out: Array) -> bool:
    """Whether a host result (a torch tensor or a NumPy array) holds a NaN."""
    if out.ndim == 0:
        return math.isnan(out.item())  # (float() warns on a tensor that needs a gradient)
    return bool((out != out).any())


def within(ln: Lane, x: Array, lo: float, hi: float, hi_open: bool = False) -> bool:
    """Whether every value of the non-empty host array ``x`` lies in ``[lo, hi]`` (``[lo,
    hi)`` when ``hi_open``): one min/max pass and two reads; False for NaN."""
    value_range = ln.adapter.KERNELS.get("value_range")
    pair = None if value_range is None else value_range(x)
    if pair is None:
        return False
    mn, mx = float(pair[0]), float(pair[1])
    return mn >= lo and (mx < hi if hi_open else mx <= hi)


def elementwise(name: str, pred: Array, target: Array, reduction: Any, weight: Any,
                where: Any, replicas: Any, *options: Any) -> Array | None:
    """An elementwise loss of a residual (MSE, L1, Huber, smooth L1) by the library's
    kernels: ``<name>_reduced`` for its mean or sum, ``<name>`` with ``"none"``; ``pred``
    and ``target`` of one shape and dtype, not empty (an empty mean is 0 here, NaN in
    torch). A kernel may decline (NumPy's, for 0-d input)."""
    ln = lane(name + "_reduced", reduction, weight, where, replicas, pred, target)
    if (ln is None or target.dtype != pred.dtype or target.shape != pred.shape
            or math.prod(pred.shape) == 0):
        return None
    if ln.reduction == "none":
        fn = ln.adapter.KERNELS.get(name)
        return None if fn is None else fn(pred, target, *options)
    return ln.kernel(ln.reduction, pred, target, *options)


def labels(name: str, pred: Array, target: Array, axis: Any, reduction: Any, weight: Any,
           where: Any, replicas: Any, *options: Any, nan_check: bool = True) -> Array | None:
    """A loss over integer class labels (cross-entropy, NLL) by the library's fused kernel
    that checks the labels itself (``<name>_checking``, called as ``kernel(reduction, pred,
    target, axis, *options)``; ``None`` where a label is not a class): labels of the default
    integer dtype with the shape of ``pred`` without its class ``axis`` (an int), and with
    ``nan_check`` a result without NaN (NLL's kernel and general path agree at every input:
    a NaN at a label is NaN in both)."""
    ln = lane(name + "_checking", reduction, weight, where, replicas, pred, target)
    if ln is None or type(axis) is not int:
        return None
    shape = tuple(pred.shape)
    nd = len(shape)
    if not -nd <= axis < nd or target.dtype != ln.adapter.LABELS:
        return None
    ax = axis % nd
    if tuple(target.shape) != shape[:ax] + shape[ax + 1:] or math.prod(shape) == 0:
        return None
    out = ln.kernel(ln.reduction, pred, target, ax, *options)
    return None if out is None or (nan_check and holds_nan(out)) else out


#: below this a probability's clamps differ: torch's BCE gradient divides by max(p (1 - p),
#: 1e-12), arrayloss's clip is at the dtype's epsilon (float64: 2.2e-16)
_PROBABILITY_FLOOR = 2e-12


def pair(name: str, pred: Array, target: Array, bounds: tuple[float, float], reduction: Any,
         weight: Any, where: Any, replicas: Any, *options: Any,
         interior: bool = False) -> Array | None:
    """A loss of ``pred`` and a same-shape ``target`` whose values lie within ``bounds``
    (``[lo, hi]``: BCE's targets in ``[0, 1]``, KL's probabilities) by the library's fused
    kernel: ``target`` of the dtype of ``pred``, checked, and a result without NaN. Called
    as ``kernel(reduction, pred, target, *options)``, before the checks where ``pred`` is
    not ``interior`` (those kernels take any values, and may decline the call: then nothing
    has been read).

    ``interior``: ``pred`` holds probabilities that must lie in ``[e, 1 - e]``, ``e`` the
    larger of the dtype's epsilon and 2e-12: there arrayloss's clip at epsilon and torch's
    clamps (each log at -100, the gradient's denominator at 1e-12) do nothing, so the two
    agree in value and gradient; a prediction outside takes the general path."""
    ln = lane(name, reduction, weight, where, replicas, pred, target)
    if (ln is None or target.dtype != pred.dtype or target.shape != pred.shape
            or math.prod(pred.shape) == 0):
        return None
    if interior:  # checked first: torch's kernel raises for a probability outside [0, 1]
        e = max(ln.adapter.FLOATS[pred.dtype], _PROBABILITY_FLOOR)
        if not (within(ln, pred, e, 1.0 - e) and within(ln, target, *bounds)):
            return None
        out = ln.kernel(ln.reduction, pred, target, *options)
    else:
        out = ln.kernel(ln.reduction, pred, target, *options)
        if out is None or not within(ln, target, *bounds):
            return None
    return None if out is None or holds_nan(out) else out
