"""The pieces the softmax losses share: the class mask (a ``where`` with the class axis removes
classes from the softmax, as optax's class-axis ``where``) of ``cross_entropy``,
``softmax_focal_loss``, ``entropy`` and ``poly_cross_entropy``; the log-probabilities and
the unreduced cross-entropy against dense targets or integer labels (``cross_entropy``,
``linear_cross_entropy``); the focal factor (``softmax_focal_loss``, ``dice_focal_loss``);
the class axes (one, or a tuple merged into one) of the distribution losses."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import _ops
from .._namespace import Array, Namespace, device, is_concrete, is_host
from .._reduce import Call, Labels
from .._validate import check_axes, check_classes, check_values

__all__ = [
    "class_axes",
    "dense_cross_entropy",
    "kept_classes",
    "label_cross_entropy",
    "labels_kept",
    "log_probabilities",
    "log_softmax_kept",
    "logits_label_cross_entropy",
    "pow_one_minus_exp",
]


def class_axes(call: Call, axis: Any, *arrays: Array) -> tuple[int, tuple[Array, ...]]:
    """The class axis and ``arrays``: an int ``axis`` as is, a tuple of class axes merged
    into one last axis (``_ops.merge_axes``; a class-axis ``where`` too); the class count
    must not be 0."""
    fn, xp = call.fn, call.xp
    axes = check_axes(fn, axis, arrays[0].ndim)
    if isinstance(axes, tuple):
        call.merge_class_axes(tuple(arrays[0].shape), axes)
        arrays = tuple(_ops.merge_axes(xp, a, axes) for a in arrays)
        axes = arrays[0].ndim - 1
    check_classes(fn, arrays[0].shape[axes])
    return axes, arrays


def log_softmax_kept(call: Call, z: Array, ax: int) -> tuple[Array, Array | None]:
    """``log_softmax`` of ``z`` over the classes a class-axis ``where`` keeps, 0 at the
    removed classes (so every term of theirs vanishes, whatever the target holds there), and
    the broadcast class mask (``None`` without one). A sample with no class left computes on
    zeros (finite, zero gradient) and leaves the count."""
    xp = call.xp
    cm = call.class_mask(tuple(z.shape), ax)
    if cm is None:
        return _ops.log_softmax(xp, z, axis=ax), None
    row = xp.any(cm, axis=ax, keepdims=True)
    z = xp.where(cm, z, xp.where(row, xp.full_like(z, -math.inf), xp.zeros_like(z)))
    return xp.where(cm, _ops.log_softmax(xp, z, axis=ax), xp.zeros_like(z)), cm


def kept_classes(call: Call, cm: Array | None, c: int, ax: int, keepdims: bool) -> Any:
    """The class count label smoothing spreads over: ``C``, or the classes the mask keeps
    (at least 1, so a sample with none stays finite)."""
    if cm is None:
        return c
    xp = call.xp
    n = xp.sum(xp.astype(cm, call.dtype), axis=ax, keepdims=keepdims)
    return _ops.clip(xp, n, min=1.0)


def labels_kept(call: Call, lab: Labels, cm: Array | None, loss: Array) -> Array:
    """``loss`` with NaN where a counted sample's label is a class the mask removes
    (``ValueError`` when the values can be read)."""
    if cm is None:
        return loss
    xp = call.xp
    assert call.where is not None
    kept = (lab.gather(xp, xp.astype(cm, call.dtype)) > 0) | ~call.where
    if lab.ignored is not None:
        kept = kept | lab.ignored
    check_values(call.fn, "where", xp, kept, lambda v: ~v,
                 "must keep the labelled class of every counted sample (a class-axis mask)")
    return xp.where(kept, loss, xp.full_like(loss, math.nan))


def pow_one_minus_exp(xp: Namespace, log_p: Array, gamma: float) -> Array:
    """The focal factor ``(1 - exp(log_p))^gamma`` for ``log_p <= 0``, in log space.

    ``1 - p = -expm1(log p)`` has no cancellation near ``p = 1``; the power is
    ``exp(gamma * log(1 - p))``, masked to 0 where ``p = 1`` exactly, so its gradient stays
    finite for ``gamma < 1`` (the derivative of ``d^gamma`` is infinite at ``d = 0``).
    """
    one = log_p >= 0  # p = 1 (NaN stays NaN: it is not masked)
    safe = xp.where(one, -xp.ones_like(log_p), log_p)
    return xp.where(one, xp.zeros_like(log_p), xp.exp(gamma * xp.log(-xp.expm1(safe))))


def log_probabilities(call: Call, x: Array, ax: int, from_logits: bool
                       ) -> tuple[Array, Array | None]:
    """``log_softmax`` of logits over the kept classes (``log_softmax_kept``), or
    ``log(clip(p, eps, 1))`` of probabilities (``eps`` the compute dtype's epsilon; 0 at the
    classes a class mask removes): the rest of ``cross_entropy`` is the same for both."""
    xp = call.xp
    if from_logits:
        return log_softmax_kept(call, x, ax)
    log_p = xp.log(_ops.clip(xp, x, min=float(xp.finfo(call.dtype).eps), max=1.0))
    cm = call.class_mask(tuple(x.shape), ax)
    if cm is not None:
        log_p = xp.where(cm, log_p, xp.zeros_like(log_p))
    return log_p, cm


def dense_cross_entropy(xp: Namespace, log_p: Array, q: Array, class_w: Array | None,
                        ls: float, ax: int, n: Any = None) -> Array:
    """The unreduced cross-entropy of ``log_p`` against dense targets ``q`` (smoothing ``ls``
    over ``n`` classes, ``C`` by default; class weights), summed over the class axis ``ax``:
    shared with ``linear_cross_entropy``."""
    if ls != 0.0:
        q = (1.0 - ls) * q + ls / (log_p.shape[ax] if n is None else n)
    if class_w is not None:
        q = q * _ops.along(xp, class_w, q.ndim, ax)
    return -xp.sum(_ops.mul0(xp, q, log_p), axis=ax)


def label_cross_entropy(xp: Namespace, lab: Labels, log_p: Array, class_w: Array | None,
                        ls: float, n: Any = None) -> Array:
    """The unreduced cross-entropy of ``log_p`` against integer labels ``lab`` (smoothing
    ``ls`` over ``n`` classes, ``C`` by default; class weights), before ``lab.reduce``:
    shared with ``linear_cross_entropy``."""
    ax = lab.axis
    nll = 0.0 - lab.gather(xp, log_p)  # +0 (not -0) where p = 1
    if lab.w_y is not None:
        nll = lab.w_y * nll
    if ls != 0.0:
        terms = log_p if class_w is None else _ops.along(xp, class_w, log_p.ndim, ax) * log_p
        nll = (1.0 - ls) * nll - (ls / (log_p.shape[ax] if n is None else n)) * xp.sum(
            terms, axis=ax)
    return nll


def log_softmax_parts(xp: Namespace, x: Array, axis: int = -1
                      ) -> tuple[Array, Array, Callable[[Array], Array], Array | None]:
    """The pieces of ``log_softmax(x)`` along ``axis`` for a consumer that needs only one
    entry per slice and sums over the axis (the label cross-entropy), without the
    log-softmax being formed: ``(shifted, log_s, at, limit)``.

    ``log_softmax(x) = shifted - log_s`` (``log_s`` keeps the axis) in every slice without
    ``+inf``; ``at(v)`` is the log-softmax of entries ``v`` of ``x`` taken one per slice
    (``v`` without the axis), the limits included. ``limit`` marks the slices holding
    ``+inf`` (``None`` when there is none, read on concrete host arrays): there ``log_s`` is
    ``log k`` for their ``k`` such entries, ``shifted`` is finite (0 at the ``+inf``
    entries) but the log-softmax of the others is ``-inf``, which the consumer applies per
    slice. The ``+inf`` entries are clamped to the dtype's largest value rather than
    selected away (a select with a per-slice condition inside the fused reductions makes
    XLA's loop two to three times slower); a library's kernel ``shifted_log_sum_exp(x, m,
    axis)`` may give ``(shift, shifted, log_s)`` with these limits its own way (JAX's:
    without the clamp in the forward pass, which costs XLA's CPU loop half its speed).
    Gradients: those of the log-softmax; zero in a limit slice."""
    m = _ops.row_max(xp, x, axis)
    if is_concrete(m) and is_host(m) and bool(xp.all(m < math.inf)):
        shift = _ops.finite_shift(xp, m)
        limit = None
    else:
        limit = xp.squeeze(m, axis=axis) == math.inf
        fn = _ops.kernel(xp, "shifted_log_sum_exp")
        parts = None if fn is None else fn(x, m, axis)
        if parts is None:
            # minimum, not clip: Dask's clip rechunks (a graph layer pairing blocks); of
            # arrays: array-api-compat promotes a Python float by torch.result_type, which
            # torch.compile cannot trace
            big = xp.asarray(float(xp.finfo(x.dtype).max), dtype=x.dtype,
                             device=device(x))
            shift = _ops.finite_shift(xp, xp.minimum(m, big))
            shifted = xp.minimum(x, big) - shift
            log_s = xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
        else:
            shift, shifted, log_s = parts
        return shifted, log_s, _at(xp, axis, shift, log_s, limit), limit
    shifted = x - shift
    log_s = xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    return shifted, log_s, _at(xp, axis, shift, log_s, None), None


def _at(xp: Namespace, axis: int, shift: Array, log_s: Array, limit: Array | None
        ) -> Callable[[Array], Array]:
    """``log_softmax_parts``' ``at``: the log-softmax of entries taken one per slice."""

    def at(v: Array) -> Array:
        lp = v - xp.squeeze(shift, axis=axis) - xp.squeeze(log_s, axis=axis)
        if limit is None:
            return lp
        inf_lp = _ops.fill(xp, v != math.inf, -math.inf, -xp.squeeze(log_s, axis=axis))
        return xp.where(limit, inf_lp, lp)

    return at


def logits_label_cross_entropy(xp: Namespace, lab: Labels, z: Array, class_w: Array | None,
                               ls: float) -> Array:
    """``label_cross_entropy(log_softmax(z))``: for a library with a one-kernel log-softmax
    that one, gathered; otherwise without forming the log-softmax (``log_softmax_parts``):
    the label's entry taken from ``z`` (the same rounding as the gathered log-softmax), the
    smoothing sum as ``sum_c w_c (z_c - m) - (sum_c w_c) log_s``. Under XLA this reads the
    logits in two fused passes, as optax's loss does. In a slice holding ``+inf`` the
    smoothing sum is its limit, ``-inf`` unless every logit is ``+inf``."""
    ax = lab.axis
    if _ops.kernel(xp, "log_softmax") is not None:
        return label_cross_entropy(xp, lab, _ops.log_softmax(xp, z, axis=ax), class_w, ls)
    shifted, log_s, at, limit = log_softmax_parts(xp, z, ax)
    nll = 0.0 - at(lab.gather(xp, z))  # +0 (not -0) where p = 1
    if lab.w_y is not None:
        nll = lab.w_y * nll
    if ls != 0.0:
        c = z.shape[ax]
        log_s = xp.squeeze(log_s, axis=ax)
        w_sum: Any = c
        if class_w is None:
            total = xp.sum(shifted, axis=ax)
        else:
            total = xp.sum(_ops.along(xp, class_w, z.ndim, ax) * shifted, axis=ax)
            w_sum = xp.sum(class_w)
        total = total - w_sum * log_s
        if limit is not None:  # log_s = log k there: every logit +inf when k = C
            every = xp.exp(log_s) > c - 0.5
            total = xp.where(limit, _ops.fill(xp, ~every, -math.inf, -w_sum * log_s), total)
        nll = (1.0 - ls) * nll - (ls / c) * total
    return nll

