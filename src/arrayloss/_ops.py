"""Array-API math shared by the losses: each function takes the namespace ``xp`` first.

Everything here is generic array-API code. Where a library needs its own function (for
correctness under its compiler, or because the standard lacks one) or has a measurably
faster kernel, the function asks ``arrayloss._kernels`` for it; the generic code below is
then the test oracle of that kernel.

- gradients: ``stop_gradient``; masked branches that keep NaN out of gradients (the
  double-``where`` trick): ``safe_sqrt``, ``safe_div``, ``safe_atan2``, ``pow_nonneg``;
- NaN-propagating elementwise helpers: ``relu``, ``clip``, ``fill``, ``mul0``;
- vectors along an axis: ``norm`` (zero gradient at 0), ``unit``, ``cosine``;
- stable kernels: ``logsumexp``, ``log_softmax``, ``softmax`` (a slice holding ``+inf``
  gives its limit), ``softplus``, ``log_sigmoid``, ``sigmoid``;
- reductions and reads: ``mean``, ``value_range``, ``finite_on_host``, ``if_finite``;
- indexing without boolean masks: ``take_along_axis``, ``take``, ``along``, ``one_hot``;
  ``merge_axes`` (several class axes as one);
- order statistics: ``sort``, ``argsort``, ``sort_with_indices``, ``median``,
  ``cumulative_sum``;
- sequential recursions: ``scan``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import _kernels
from ._namespace import Array, Namespace, backend_name, device, is_concrete, is_host, numel

__all__ = [
    "along",
    "argsort",
    "clip",
    "cosine",
    "cumulative_sum",
    "fill",
    "finite_on_host",
    "fused",
    "if_finite",
    "kernel",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "mean",
    "median",
    "merge_axes",
    "mix",
    "mul0",
    "norm",
    "one_hot",
    "pow_nonneg",
    "relu",
    "safe_atan2",
    "safe_div",
    "safe_sqrt",
    "scan",
    "sigmoid",
    "softmax",
    "softplus",
    "sort",
    "sort_with_indices",
    "stop_gradient",
    "take",
    "take_along_axis",
    "unit",
    "value_range",
]


def _adapter_fn(xp: Namespace, name: str) -> Any:
    """The library's own ``name`` function (always used where it exists), or ``None``."""
    adapter = _kernels.adapter(backend_name(xp))
    return None if adapter is None else getattr(adapter, name, None)


def kernel(xp: Namespace, op: str) -> Any:
    """The library's faster kernel for ``op`` (see ``arrayloss._kernels``), or ``None``."""
    return _kernels.kernel(op, backend_name(xp))


def fused(xp: Namespace, name: str, formula: Callable[..., Array], *args: Any) -> Array:
    """``formula(xp, *args)``, or the library's fused kernel ``name`` for it where one exists
    (same value up to rounding and the same sub-gradients; the formula is its test oracle).
    A kernel may decline an input (a 0-d NumPy array) by returning ``None``."""
    fn = kernel(xp, name)
    out = None if fn is None else fn(*args)
    return formula(xp, *args) if out is None else out


# ---------------------------------------------------------------------------------------
# gradients and masked branches


def stop_gradient(xp: Namespace, x: Array) -> Array:
    """The value of ``x`` with no gradient (identity where there is no autodiff)."""
    fn = _adapter_fn(xp, "stop_gradient")
    return x if fn is None else fn(x)


def safe_sqrt(xp: Namespace, x: Array) -> Array:
    """``sqrt(x)`` for ``x > 0`` and 0 elsewhere, with a zero (not infinite) gradient at 0;
    NaN stays NaN."""
    ok = x > 0
    return xp.where(ok, xp.sqrt(xp.where(ok, x, xp.ones_like(x))), fill(xp, x == x, 0.0, x))


def safe_div(xp: Namespace, num: Array, den: Array, fallback: Any = 0.0) -> Array:
    """``num / den`` where ``den != 0``; ``fallback`` elsewhere (gradients stay finite)."""
    ok = den != 0
    q = num / xp.where(ok, den, xp.ones_like(den))
    return xp.where(ok, q, xp.zeros_like(q) + fallback)


def safe_atan2(xp: Namespace, y: Array, x: Array) -> Array:
    """``atan2(y, x)`` with the value 0 and a zero gradient at ``x = y = 0``."""
    ok = (y != 0) | (x != 0)
    return xp.where(
        ok,
        xp.atan2(xp.where(ok, y, xp.zeros_like(y)), xp.where(ok, x, xp.ones_like(x))),
        xp.zeros_like(y),
    )


def pow_nonneg(xp: Namespace, d: Array, gamma: float) -> Array:
    """``d ** gamma`` for ``d >= 0`` and ``gamma > 0`` with a finite gradient at ``d = 0``:
    ``gamma >= 1`` has one already (``gamma = 2``: one product); ``gamma < 1`` masks ``d = 0``
    (the derivative ``gamma d^(gamma - 1)`` is infinite there). NaN propagates."""
    if gamma == 2.0:
        return d * d
    if gamma >= 1.0:
        return d**gamma
    zero = d <= 0
    return xp.where(zero, xp.zeros_like(d), xp.where(zero, xp.ones_like(d), d) ** gamma)


# ---------------------------------------------------------------------------------------
# NaN-propagating elementwise helpers


def clip(xp: Namespace, x: Array, min: Any = None, max: Any = None) -> Array:
    """``clip`` with Python-number bounds (NaN stays NaN)."""
    fn = _adapter_fn(xp, "clip")
    return xp.clip(x, min=min, max=max) if fn is None else fn(x, min=min, max=max)


def fill(xp: Namespace, cond: Array, value: float, x: Array) -> Array:
    """``x`` with ``value`` where ``cond`` holds, in ``x``'s dtype."""
    fn = kernel(xp, "fill")
    if fn is not None:
        return fn(cond, value, x)
    return xp.where(cond, xp.full_like(x, value), x)


def relu(xp: Namespace, x: Array) -> Array:
    """``max(x, 0)`` that propagates NaN (``where(x > 0, x, 0)`` would turn NaN into 0), with
    the sub-gradient 0 at ``x = 0``."""
    fn = kernel(xp, "relu")
    return fill(xp, x <= 0, 0.0, x) if fn is None else fn(x)


def mix(xp: Namespace, a: Array, b: Array, w: Array) -> Array:
    """``(1 - w) a + w b`` (torch: one ``lerp``). For ``a, b >= 0`` a sum of non-negative
    terms, exactly ``a`` at ``w = 0`` and ``b`` at ``w = 1``; an infinite ``a`` or ``b``
    gives NaN where its coefficient is 0 (as the formula does: guard with ``mul0``)."""
    fn = kernel(xp, "mix")
    return (1.0 - w) * a + w * b if fn is None else fn(a, b, w)


def mul0(xp: Namespace, c: Array, x: Array) -> Array:
    """``c * x`` with ``0 * x = 0`` also for ``x = +-inf`` (the limit of a term whose
    coefficient vanishes): a zero coefficient gives a zero value and a zero gradient."""
    return c * fill(xp, c == 0, 0.0, x)


# ---------------------------------------------------------------------------------------
# vectors along an axis


def norm(xp: Namespace, x: Array, axis: int = -1, keepdims: bool = False) -> Array:
    """Euclidean norm ``sqrt(sum_k x_k^2)`` along ``axis``, with a zero gradient at the zero
    vector (``safe_sqrt``)."""
    return safe_sqrt(xp, xp.sum(x * x, axis=axis, keepdims=keepdims))


def unit(xp: Namespace, x: Array, axis: int = -1, eps: float = 1e-8) -> Array:
    """``x / max(|x|, eps)`` along ``axis``: the unit vector, and ``x / eps`` (so 0 at 0)
    where the norm is below ``eps``. This is torch's ``F.cosine_similarity`` floor: each norm,
    not its square, is floored."""
    return x / clip(xp, norm(xp, x, axis, keepdims=True), min=eps)


def cosine(xp: Namespace, x: Array, y: Array, axis: int = -1, eps: float = 1e-8) -> Array:
    """Cosine similarity ``sum_k x_k y_k / (max(|x|, eps) max(|y|, eps))`` along ``axis``
    (``axis`` removed). Finite at a zero vector, where it is 0; for a pairwise ``(N, M)``
    matrix use ``unit`` on each side and a ``matmul``. The floored norms divide the dot
    product, not each vector: three products over the inputs instead of five."""
    den = clip(xp, norm(xp, x, axis), min=eps) * clip(xp, norm(xp, y, axis), min=eps)
    return xp.sum(x * y, axis=axis) / den


# ---------------------------------------------------------------------------------------
# stable kernels


def row_max(xp: Namespace, x: Array, axis: int) -> Array:
    """The gradient-free max of ``x`` along ``axis``, kept (NaN for a slice with NaN)."""
    fn = kernel(xp, "row_max")
    if fn is not None:
        return fn(x, axis)
    shape = list(x.shape)
    if 0 in shape and shape[axis] != 0:  # no slices (Dask's max of an empty chunk raises)
        shape[axis] = 1
        return xp.zeros(tuple(shape), dtype=x.dtype, device=device(x))
    return stop_gradient(xp, xp.max(x, axis=axis, keepdims=True))


def finite_shift(xp: Namespace, m: Array) -> Array:
    """The row max as a shift: 0 where it is not finite (all ``-inf``, or ``+inf`` after the
    limit mapping)."""
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


def _pos_inf_limit(xp: Namespace, x: Array, m: Array) -> Array:
    """``x`` with every slice whose max ``m`` is ``+inf`` replaced by its limit: the slice's
    probability mass shared by its ``+inf`` entries (logit 0 after the shift) and none left
    for the others (``-inf``). Slices without ``+inf`` are unchanged; a NaN slice stays NaN
    (its max is NaN). The replaced slices get a zero gradient (the limit's).

    Skipped when the maxima are readable now (concrete, in host memory) and hold no
    ``+inf``: the mapping costs full-size passes in eager mode; under a compiler or on a GPU
    it always runs, without a host synchronisation."""
    if is_concrete(m) and is_host(m) and bool(xp.all(m < math.inf)):
        return x
    limit = fill(xp, x == math.inf, 0.0, xp.full_like(x, -math.inf))
    return xp.where(m == math.inf, limit, x)


def logsumexp(xp: Namespace, x: Array, axis: int = -1, keepdims: bool = False) -> Array:
    """``log(sum(exp(x), axis))`` with a max shift (no overflow, exact for one dominant
    term). A slice of ``-inf`` gives ``-inf``; a slice holding ``+inf`` gives ``+inf``."""
    fn = kernel(xp, "logsumexp")
    if fn is not None:
        return fn(x, axis, keepdims)
    m = finite_shift(xp, row_max(xp, x, axis))
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


def log_softmax(xp: Namespace, x: Array, axis: int = -1) -> Array:
    """``x - logsumexp(x)`` in the shifted form ``(x - m) - log(sum(exp(x - m)))``.

    ``-inf`` entries (masked classes) give ``-inf``; a slice holding ``+inf`` gives its limit
    (``-log k`` at its ``k`` entries equal to ``+inf``, ``-inf`` elsewhere) instead of the NaN
    of the plain formula (``inf - inf``); NaN propagates to its whole slice.
    """
    fn = kernel(xp, "log_softmax")
    if fn is not None:
        return fn(_pos_inf_limit(xp, x, row_max(xp, x, axis)), axis)
    m = row_max(xp, x, axis)
    shifted = _pos_inf_limit(xp, x, m) - finite_shift(xp, m)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def softmax(xp: Namespace, x: Array, axis: int = -1) -> Array:
    """Max-shifted softmax along ``axis``; ``+inf`` entries share their slice's mass (the
    limit), as in ``log_softmax``."""
    m = row_max(xp, x, axis)
    x = _pos_inf_limit(xp, x, m)
    fn = kernel(xp, "softmax")
    if fn is not None:
        return fn(x, axis)
    e = xp.exp(x - finite_shift(xp, m))
    return e / xp.sum(e, axis=axis, keepdims=True)


def softplus(xp: Namespace, x: Array) -> Array:
    """``log(1 + exp(x))`` without overflow."""
    fn = kernel(xp, "softplus")
    out = None if fn is None else fn(x)
    return xp.logaddexp(x, xp.zeros_like(x)) if out is None else out


def abs0(xp: Namespace, x: Array) -> Array:
    """``|x|`` with the sub-gradient 0 at ``x = 0`` on every backend: ``x sign(x)`` (the
    derivative of JAX's ``abs`` is 1 there), or the library's ``abs`` where its derivative
    already is ``sign(x)``. NaN stays NaN."""
    fn = kernel(xp, "abs0")
    return x * xp.sign(x) if fn is None else fn(x)


def log_sigmoid(xp: Namespace, x: Array) -> Array:
    """``log(sigmoid(x)) = -softplus(-x)``, exact at both tails."""
    fn = kernel(xp, "log_sigmoid")
    out = None if fn is None else fn(x)
    return -xp.logaddexp(-x, xp.zeros_like(x)) if out is None else out


def sigmoid(xp: Namespace, x: Array) -> Array:
    """``1 / (1 + exp(-x))`` as ``exp(log_sigmoid(x))``: exact in both tails (``sigmoid(-x)``
    is the accurate ``1 - sigmoid(x)``) and a finite gradient everywhere (the quotient form
    gives ``inf / inf`` at ``x = -1000``)."""
    fn = kernel(xp, "sigmoid")
    out = None if fn is None else fn(x)
    return xp.exp(log_sigmoid(xp, x)) if out is None else out


# ---------------------------------------------------------------------------------------
# reductions and reads


def mean(xp: Namespace, x: Array) -> Array:
    """Mean of every element of a non-empty ``x``."""
    fn = kernel(xp, "mean")
    out = None if fn is None else fn(x)
    return xp.mean(x) if out is None else out


def value_range(xp: Namespace, x: Array) -> tuple[Array, Array]:
    """``(min(x), max(x))`` of a non-empty array (NaN propagates): the one pass behind the
    value checks' fast path and ``finite_on_host``."""
    fn = kernel(xp, "value_range")
    out = None if fn is None else fn(x)
    if out is None:  # read as numbers by the checks: no gradient (torch warns on reading one)
        x = stop_gradient(xp, x)
        return xp.min(x), xp.max(x)
    return out


def finite_on_host(xp: Namespace, x: Array) -> bool:
    """True when ``x`` is readable now (concrete, in host memory) and holds no infinity or
    NaN: an eager fast path may then skip the guards that infinite values need. False (take
    the guarded path) under a tracer or compiler, on lazy and GPU arrays (no host sync), and
    whenever ``x`` holds ``+-inf`` or NaN."""
    if not (is_concrete(x) and is_host(x)):
        return False
    if numel(x) == 0:
        return True
    mn, mx = value_range(xp, x)
    return bool((mn > -math.inf) & (mx < math.inf))


def if_finite(xp: Namespace, x: Array, finite: bool, plain: Callable[[], Array],
              guarded: Callable[[], Array]) -> Array:
    """``plain()`` where ``x`` holds no infinity or NaN, else ``guarded()`` (the formula with
    the guards infinite values need). ``finite`` (``finite_on_host``) settles eager host
    arrays; elsewhere a kernel may decide at run time (JAX: ``lax.cond``, as XLA's CPU
    loops run several times slower with the guards' selects), or the guards run."""
    if finite:
        return plain()
    fn = kernel(xp, "if_finite")
    return guarded() if fn is None else fn(x, plain, guarded)


# ---------------------------------------------------------------------------------------
# indexing


def take_along_axis(xp: Namespace, x: Array, indices: Array, axis: int = -1) -> Array:
    """Gather ``x`` along ``axis`` at integer ``indices`` (same rank as ``x``)."""
    fn = _adapter_fn(xp, "take_along_axis")
    return xp.take_along_axis(x, indices, axis=axis) if fn is None else fn(x, indices, axis)


def take(xp: Namespace, vec: Array, labels: Array) -> Array:
    """``vec[labels]`` for a 1-D ``vec`` and integer ``labels`` of any shape."""
    flat = xp.take(vec, xp.reshape(labels, (-1,)), axis=0)
    return xp.reshape(flat, (*labels.shape, *vec.shape[1:]))


def along(xp: Namespace, vec: Array, ndim: int, axis: int) -> Array:
    """A length-C vector reshaped to broadcast along ``axis`` of an ``ndim``-D array."""
    shape = [1] * ndim
    shape[axis] = vec.shape[0]
    return xp.reshape(vec, tuple(shape))


def merge_axes(xp: Namespace, x: Array, axes: tuple[int, ...]) -> Array:
    """``x`` with the (non-negative, distinct) ``axes`` moved to the end in the given order
    and merged into one last axis: entry ``k`` of that axis is the C-order flat index of
    the ``axes`` coordinates (optax's tuple ``axis``). The other axes keep their order."""
    k = len(axes)
    x = xp.moveaxis(x, axes, tuple(range(-k, 0)))
    shape = tuple(x.shape)
    return xp.reshape(x, (*shape[:-k], math.prod(shape[-k:])))


def one_hot(xp: Namespace, labels: Array, num_classes: int, dtype: Any, axis: int = -1) -> Array:
    """One-hot encoding of integer ``labels`` with the class axis inserted at ``axis``.

    Labels outside ``[0, num_classes)`` give an all-zero row. The classes are compared in
    the labels' dtype: give labels in a dtype that holds ``num_classes - 1`` (the default
    integer dtype, see ``arrayloss._validate.check_labels``).
    """
    ax = axis % (labels.ndim + 1)
    classes = xp.arange(num_classes, dtype=labels.dtype, device=device(labels))
    if ax != labels.ndim:
        # built with the classes in place: a moved axis would leave a strided array, whose
        # products with contiguous ones run several times slower
        shape = [1] * (labels.ndim + 1)
        shape[ax] = num_classes
        classes = xp.reshape(classes, tuple(shape))
    return xp.astype(xp.expand_dims(labels, axis=ax) == classes, dtype)


# ---------------------------------------------------------------------------------------
# order statistics


def sort(xp: Namespace, x: Array, axis: int = -1, descending: bool = False) -> Array:
    """Sort along ``axis``; unstable where the backend allows it (callers are tie-invariant)."""
    return xp.sort(x, axis=axis, descending=descending, stable=False)


def argsort(xp: Namespace, x: Array, axis: int = -1, descending: bool = False) -> Array:
    """Indices that sort ``x`` along ``axis``; unstable where the backend allows it (callers
    are tie-invariant, and a stable sort is several times slower)."""
    return xp.argsort(x, axis=axis, descending=descending, stable=False)


def sort_with_indices(xp: Namespace, x: Array, axis: int = -1, descending: bool = False
                      ) -> tuple[Array, Array]:
    """``(values, indices)`` of ``x`` sorted along ``axis`` (unstable), the values carrying
    the gradient of ``x``: ``argsort`` then ``take_along_axis``."""
    fn = kernel(xp, "sort_with_indices")
    if fn is not None:
        return fn(x, axis, descending)
    idx = argsort(xp, x, axis=axis, descending=descending)
    return take_along_axis(xp, x, idx, axis=axis), idx


def median(xp: Namespace, x: Array, axis: int = 0) -> Array:
    """The true median along ``axis`` (mean of the two middle values for an even count; a
    sort where the library has no median of its own: ``torch.median`` returns the lower
    middle value)."""
    fn = _adapter_fn(xp, "median")
    if fn is not None:
        return fn(x, axis)
    n = x.shape[axis]
    s = sort(xp, x, axis=axis)
    ax = axis % s.ndim
    # slices, not indices made from host data (on a GPU an upload waits for the device)
    lo = s[(slice(None),) * ax + (slice((n - 1) // 2, (n - 1) // 2 + 1), ...)]
    hi = s[(slice(None),) * ax + (slice(n // 2, n // 2 + 1), ...)]
    return xp.squeeze((lo + hi) / 2, axis=ax)


def cumulative_sum(xp: Namespace, x: Array, axis: int = -1) -> Array:
    """Inclusive cumulative sum along ``axis``."""
    fn = _adapter_fn(xp, "cumulative_sum")
    return xp.cumulative_sum(x, axis=axis) if fn is None else fn(x, axis)


# ---------------------------------------------------------------------------------------
# sequential recursions


def scan(xp: Namespace, step: Callable[[Any, Any], tuple[Any, Any]], carry: Any,
         xs: Array | tuple[Array, ...]) -> tuple[Any, Any]:
    """``jax.lax.scan`` semantics: ``carry, y_t = step(carry, x_t)`` for each slice ``x_t``
    of the leading axis of ``xs`` (an array, or a tuple of arrays sliced together); returns
    the last carry and the ``y_t`` stacked along a new leading axis (``None`` when ``step``
    returns ``None`` for ``y``). ``carry`` may be an array or a tuple of arrays.

    Generic path: a Python loop over the leading axis, correct on every library (under
    ``torch.compile`` it is unrolled: the graph, and the compile time, grow with the
    length). JAX's kernel is ``jax.lax.scan``: one traced step, so the compile time does not
    depend on the length.
    """
    fn = kernel(xp, "scan")
    if fn is not None:
        return fn(step, carry, xs)
    seq = xs if isinstance(xs, tuple) else (xs,)
    ys = []
    for i in range(seq[0].shape[0]):
        x_i = tuple(x[i, ...] for x in seq)
        carry, y = step(carry, x_i if isinstance(xs, tuple) else x_i[0])
        if y is not None:
            ys.append(y)
    return carry, (xp.stack(ys, axis=0) if ys else None)
