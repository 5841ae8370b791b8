"""The namespace shim.

This is the only module of arrayloss that imports ``array_api_compat`` or knows about a
particular array library. Everything a loss needs beyond the array-API standard lives here
as a small primitive with one generic implementation (the test oracle) and, where measured
faster or where the standard has no equivalent, a native delegation:

- namespace resolution with clear errors (``namespace``),
- the compute-dtype policy (``float_dtypes``, ``astype``),
- "is this array concrete?" for value checks (``is_concrete``),
- ``stop_gradient``,
- numerically stable kernels: ``logsumexp``, ``log_softmax``, ``softmax``, ``softplus``,
  ``log_sigmoid``, ``xlogy``,
- indexing without boolean masks: ``take_along_axis``, ``one_hot``,
- masked-branch helpers that keep gradients finite: ``safe_sqrt``, ``safe_div``, ``safe_atan2``,
- ``median`` (the true median: mean of the two middle values), ``sort``.

Internal helpers take the namespace as their first argument ``xp``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import array_api_compat as _compat
import numpy as _np

Array = Any
Namespace = Any

__all__ = [
    "GENERIC",
    "Array",
    "Namespace",
    "argsort",
    "astype",
    "backend_name",
    "bce_with_logits",
    "clip",
    "coordinate_dtypes",
    "cumulative_sum",
    "default_float",
    "default_int",
    "device",
    "fill",
    "finite_on_host",
    "float_dtypes",
    "generic_primitives",
    "is_concrete",
    "is_host",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "mean",
    "median",
    "mul0",
    "namespace",
    "numel",
    "one_hot",
    "pow_nonneg",
    "relu",
    "residual_loss",
    "safe_atan2",
    "safe_div",
    "safe_sqrt",
    "sigmoid",
    "softmax",
    "softplus",
    "sort",
    "sort_with_indices",
    "stop_gradient",
    "take_along_axis",
    "to_result",
    "value_range",
    "xlogy",
]

_LIBRARIES = "NumPy, CuPy, PyTorch, JAX, Dask or array-api-strict"


def _library(x: Any) -> str:
    """Top-level module name of an object's type, for error messages."""
    return type(x).__module__.split(".")[0]


# Nothing in this module keeps a cache that a loss reads while ``torch.compile`` traces it:
# Dynamo guards on every global container it reads, so a cache filled by an unrelated eager
# call (another library, another dtype) would invalidate every compiled graph. The fast
# paths below read only types, modules and attributes that never change.


def _is_torch_tensor_type(t: type) -> bool:
    return t.__module__ == "torch" and t.__name__ == "Tensor"


def _refuse_subclass(fn: str, name: str, x: Any) -> None:
    """NumPy's masked arrays and matrices are ndarray subclasses whose semantics (a mask
    that other operations ignore or carry along, ``*`` as matrix product) no loss honours."""
    if isinstance(x, _np.ma.MaskedArray):
        raise TypeError(
            f"{fn}: `{name}` is a NumPy masked array, which arrayloss does not honour (the "
            "mask would leak into or be dropped from the result); pass `x.filled(0)` and "
            "leave the masked positions out with `weight=` (0 there) or `ignore_index=`"
        )
    if isinstance(x, _np.matrix):
        raise TypeError(f"{fn}: `{name}` is a numpy.matrix; pass `numpy.asarray(x)`")


def namespace(fn: str, /, **arrays: Any) -> Namespace:
    """Return the array namespace shared by ``arrays`` (``None`` values are skipped).

    Raises ``TypeError`` naming ``fn`` and the argument when an argument is not an array
    (Python lists and scalars, NumPy masked arrays and matrices are refused) or when arrays
    of two libraries are mixed, and ``ValueError`` when arrays live on different devices.
    """
    present = [(k, v) for k, v in arrays.items() if v is not None]
    fast = _fast_namespace(present)
    if fast is not None:
        return fast
    for name, x in present:
        if not _compat.is_array_api_obj(x) or isinstance(x, (bool, int, float, complex)):
            raise TypeError(
                f"{fn}: `{name}` must be an array ({_LIBRARIES}), got {type(x).__name__}"
            )
        _refuse_subclass(fn, name, x)
    try:
        xp = _compat.array_namespace(*(v for _, v in present))
    except TypeError:
        first_name, first = present[0]
        lib = _library(first)
        for name, x in present[1:]:
            if _library(x) != lib:
                raise TypeError(
                    f"{fn}: `{first_name}` is a {lib} array but `{name}` is a {_library(x)} "
                    "array; pass arrays of one library"
                ) from None
        raise TypeError(f"{fn}: the arrays do not share one array namespace") from None
    if len(present) > 1:
        devs = [(name, _device_or_none(x)) for name, x in present]
        ref_name, ref = devs[0]
        for name, d in devs[1:]:
            if ref is not None and d is not None and d != ref:
                raise ValueError(
                    f"{fn}: `{ref_name}` is on device {ref} but `{name}` is on device {d}"
                )
    return xp


def _fast_namespace(present: list[tuple[str, Any]]) -> Namespace | None:
    """The per-call fast path of ``namespace``: every argument a plain ``numpy.ndarray``, or a
    plain ``torch.Tensor`` on one device (the general path costs several microseconds, more
    than a small loss). It reads no cache, and under ``torch.compile`` it is the only path
    (the general one calls ``functools.lru_cache``-wrapped helpers, which Dynamo warns
    about)."""
    if not present:
        return None
    first = present[0][1]
    t = type(first)
    if t is _np.ndarray:
        for _, v in present:
            if type(v) is not t:
                return None
        import array_api_compat.numpy as np_ns

        return np_ns
    if _is_torch_tensor_type(t):
        dev = first.device
        for _, v in present:
            if type(v) is not t or v.device != dev:
                return None
        import array_api_compat.torch as torch_ns

        return torch_ns
    return None


def _device_or_none(x: Array) -> Any:
    try:
        return _compat.device(x)
    except Exception:  # tracers and other lazy arrays may have no device
        return None


def device(x: Array) -> Any:
    """The device of ``x`` (``None`` under ``jax.jit``)."""
    if _is_torch_tensor_type(type(x)):
        return x.device
    return _device_or_none(x)


#: namespace module name -> short backend name
_BACKEND_NAMES = {
    "array_api_compat.numpy": "numpy",
    "numpy": "numpy",
    "array_api_compat.torch": "torch",
    "jax.numpy": "jax",
    "array_api_compat.cupy": "cupy",
    "cupy": "cupy",
    "array_api_compat.dask.array": "dask",
    "array_api_strict": "array_api_strict",
}


def backend_name(xp: Namespace) -> str:
    """A short name for a namespace: numpy, cupy, torch, jax, dask, array_api_strict, ...

    Read from the namespace module's name (a constant: no ``lru_cache``-wrapped helper,
    nothing for Dynamo to guard on or warn about).
    """
    name = xp.__name__
    return _BACKEND_NAMES.get(name, name)


# ---------------------------------------------------------------------------------------
# dtype policy


def default_float(xp: Namespace, x: Array) -> Any:
    """The namespace's default real floating dtype on the device of ``x``."""
    if backend_name(xp) == "torch":
        import torch

        return torch.get_default_dtype()
    info = xp.__array_namespace_info__()
    return info.default_dtypes(device=_device_or_none(x))["real floating"]


def default_int(xp: Namespace, x: Array) -> Any:
    """The namespace's default integer dtype on the device of ``x`` (int64; int32 on JAX
    without x64): the dtype class labels are compared and gathered in."""
    name = backend_name(xp)
    if name == "torch":
        return xp.int64
    if name == "numpy":
        return xp.intp
    info = xp.__array_namespace_info__()
    return info.default_dtypes(device=_device_or_none(x))["integral"]


def float_dtypes(xp: Namespace, x: Array, fn: str = "", name: str = "pred") -> tuple[Any, Any]:
    """The (compute, result) dtypes for a loss whose prediction is ``x``.

    - float32 / float64 (and wider): computed and returned in that dtype;
    - float16 / bfloat16: computed **and returned** in float32 (as ``torch.autocast``,
      Keras, torchvision and MONAI: a loss value in bfloat16 keeps 3 significant digits);
    - integer or bool: the namespace's default floating dtype.
    Complex input raises ``TypeError``.
    """
    dt = x.dtype
    if xp.isdtype(dt, "real floating"):
        d = xp.float32 if xp.finfo(dt).bits < 32 else dt
        return d, d
    if xp.isdtype(dt, ("integral", "bool")):
        d = default_float(xp, x)
        return d, d
    raise TypeError(f"{fn}: `{name}` must have a real dtype, got {dt}")


def coordinate_dtypes(xp: Namespace, x: Array, fn: str = "", name: str = "pred"
                      ) -> tuple[Any, Any]:
    """The (compute, result) dtypes of a function that returns coordinates rather than a
    loss value (``box_convert``, ``update_centers``): computed as ``float_dtypes`` says, but
    a floating input keeps its dtype in the result."""
    dtype, out = float_dtypes(xp, x, fn, name)
    return dtype, (x.dtype if xp.isdtype(x.dtype, "real floating") else out)


def astype(xp: Namespace, x: Array, dtype: Any) -> Array:
    """Cast without copying when the dtype already matches (keeps autograd graphs)."""
    if x.dtype == dtype:
        return x
    return xp.astype(x, dtype)


def to_result(xp: Namespace, x: Array, dtype: Any) -> Array:
    """Cast a computed loss to the result dtype; NumPy scalars become 0-d arrays."""
    x = astype(xp, x, dtype)
    if isinstance(x, _np.generic):
        x = _np.asarray(x)
    return x


def numel(x: Array) -> Any:
    """Number of elements (a Python int, or a symbolic int under ``torch.compile``)."""
    return math.prod(x.shape)


# ---------------------------------------------------------------------------------------
# concreteness, host arrays and gradients


def _jax_tracing() -> bool:
    """True while JAX traces (``jit``, ``grad``, ``vmap``, ``eval_shape``...): then every
    operation is staged, also on concrete arrays captured from outside the trace, so reading
    a value would be a tracer error."""
    try:
        from jax._src import core
    except ImportError:  # pragma: no cover - a JAX without the module: look at the result
        return False
    clean = getattr(core, "trace_state_clean", None)
    return clean is not None and not clean()


def is_concrete(x: Array) -> bool:
    """True when the values of ``x`` can be read now without tracing, compiling or computing.

    False for JAX tracers and for any JAX array while a JAX transformation traces (``jit``,
    ``grad``, ``vmap``: a captured constant is staged like the traced inputs), arrays seen
    while ``torch.compile`` traces, tensors wrapped by ``torch.func`` transforms, fake/meta
    tensors, and Dask arrays (reading them would trigger a compute).
    """
    mod = _library(x)
    if mod == "numpy" or mod == "cupy" or mod == "array_api_strict":
        return True
    if mod == "torch":
        import torch

        if torch.compiler.is_compiling():
            return False
        if x.device.type == "meta":
            return False
        if torch._C._functorch.is_functorch_wrapped_tensor(x):
            return False
        return type(x) is torch.Tensor or isinstance(x, torch.nn.Parameter)
    if mod in ("jax", "jaxlib"):
        import jax

        return not isinstance(x, jax.core.Tracer) and not _jax_tracing()
    if mod == "dask":
        return False
    return not _compat.is_lazy_array(x)


def is_host(x: Array) -> bool:
    """True when ``x`` lives in host memory (NumPy, array-api-strict, CPU torch, CPU JAX):
    reading its values costs no device-to-host synchronisation."""
    mod = _library(x)
    if mod == "numpy" or mod == "array_api_strict":
        return True
    if mod == "torch":
        return x.device.type == "cpu"
    if mod in ("jax", "jaxlib"):
        try:
            return all(d.platform == "cpu" for d in x.devices())
        except Exception:  # pragma: no cover - arrays without committed devices
            return False
    return False


def stop_gradient(xp: Namespace, x: Array) -> Array:
    """The value of ``x`` with no gradient (torch ``detach``, ``jax.lax.stop_gradient``)."""
    name = backend_name(xp)
    if name == "torch":
        return x.detach()
    if name == "jax":
        import jax

        return jax.lax.stop_gradient(x)
    return x


def clip(xp: Namespace, x: Array, min: Any = None, max: Any = None) -> Array:
    """``clip`` with Python-number bounds.

    On torch this is ``torch.clamp``: compat's ``clip`` calls ``math.isnan`` on the bounds,
    a graph break under ``torch.compile`` once Dynamo treats a float option as symbolic.
    """
    if backend_name(xp) == "torch":
        import torch

        return torch.clamp(x, min=min, max=max)
    return xp.clip(x, min=min, max=max)


# ---------------------------------------------------------------------------------------
# stable kernels


def _shift(xp: Namespace, x: Array, axis: int) -> Array:
    """Max along ``axis`` (kept), gradient-free, and 0 where the whole slice is -inf."""
    m = stop_gradient(xp, xp.max(x, axis=axis, keepdims=True))
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


# Native delegation. Each primitive below has a generic array-API implementation
# (``_generic_<name>``: the fallback on every other library and the test oracle) and, where
# measured faster (``python -m arrayloss bench``, docs/benchmarks.md), a native one. The
# natives give the generic results up to rounding; ``generic_primitives()`` turns them off.

_NATIVE = {"enabled": True}


@contextlib.contextmanager
def generic_primitives() -> Iterator[None]:
    """Within this context every primitive takes its generic array-API path (no native
    delegation): the oracle of the tests and the "before" of the benchmarks."""
    saved = _NATIVE["enabled"]
    _NATIVE["enabled"] = False
    try:
        yield
    finally:
        _NATIVE["enabled"] = saved


def _native(xp: Namespace) -> str:
    """``"torch"``, ``"jax"`` or ``"numpy"`` where native delegation applies, else ``""``."""
    if not _NATIVE["enabled"]:
        return ""
    name = backend_name(xp)
    return name if name in ("torch", "jax", "numpy") else ""


def _generic_logsumexp(xp: Namespace, x: Array, axis: int = -1, keepdims: bool = False
                       ) -> Array:
    m = _shift(xp, x, axis)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


def logsumexp(xp: Namespace, x: Array, axis: int = -1, keepdims: bool = False) -> Array:
    """``log(sum(exp(x), axis))`` with a max shift (no overflow, exact for one dominant term).

    Native: ``torch.logsumexp`` (one kernel, fused backward) and ``jax.nn.logsumexp``
    (a cheaper ``value_and_grad`` under ``jit``).
    """
    lib = _native(xp)
    if lib == "torch":
        import torch

        return torch.logsumexp(x, dim=axis, keepdim=keepdims)
    if lib == "jax":
        import jax

        return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)
    return _generic_logsumexp(xp, x, axis, keepdims)


def fill(xp: Namespace, cond: Array, value: float, x: Array) -> Array:
    """``x`` with ``value`` where ``cond`` holds (``where(cond, value, x)`` in ``x``'s dtype).

    torch and NumPy take the Python number as is (no full-size constant array is written:
    one kernel instead of two); elsewhere a ``full_like`` constant keeps every namespace's
    dtype rules (array-api-strict refuses some scalar mixes).
    """
    name = backend_name(xp)
    if name == "torch":
        import torch

        return torch.where(cond, value, x)
    if name == "numpy":
        return xp.where(cond, x.dtype.type(value), x)
    return xp.where(cond, xp.full_like(x, value), x)


def _pos_inf_limit(xp: Namespace, x: Array, m: Array) -> Array:
    """``x`` with every slice whose max ``m`` is ``+inf`` replaced by its limit: the slice's
    probability mass shared by its ``+inf`` entries (logit 0 after the shift) and none left
    for the others (``-inf``). Slices without ``+inf`` are unchanged; a NaN slice stays NaN
    (its max is NaN). The replaced slices get a zero gradient (the limit's)."""
    limit = fill(xp, x == math.inf, 0.0, xp.full_like(x, -math.inf))
    return xp.where(m == math.inf, limit, x)


def _without_pos_inf(xp: Namespace, m: Array) -> bool:
    """True when the slice maxima ``m`` are readable now (concrete, in host memory) and hold
    no ``+inf``: the limit mapping can be skipped (it costs several full-size passes in
    eager mode; under a compiler or on a GPU it is always applied, at no host sync)."""
    return is_concrete(m) and is_host(m) and bool(xp.all(m < math.inf))


def _generic_log_softmax(xp: Namespace, x: Array, axis: int = -1) -> Array:
    m = stop_gradient(xp, xp.max(x, axis=axis, keepdims=True))
    if not _without_pos_inf(xp, m):
        x = _pos_inf_limit(xp, x, m)
    shifted = x - xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def log_softmax(xp: Namespace, x: Array, axis: int = -1) -> Array:
    """``x - logsumexp(x)`` in the shifted form ``(x - m) - log(sum(exp(x - m)))``.

    ``-inf`` entries (masked classes) give ``-inf``; a slice holding ``+inf`` gives its limit
    (``-log k`` at its ``k`` entries equal to ``+inf``, ``-inf`` elsewhere) instead of the NaN
    of the plain formula (``inf - inf``); NaN propagates to its whole slice.

    Native: ``torch.log_softmax`` (one kernel forward and backward) on the limit-mapped input.
    """
    if _native(xp) == "torch":
        import torch

        m = torch.amax(x.detach(), dim=axis, keepdim=True)
        if not _without_pos_inf(xp, m):
            x = _pos_inf_limit(xp, x, m)
        return torch.log_softmax(x, dim=axis)
    return _generic_log_softmax(xp, x, axis)


def _generic_softmax(xp: Namespace, x: Array, axis: int = -1) -> Array:
    m = stop_gradient(xp, xp.max(x, axis=axis, keepdims=True))
    if not _without_pos_inf(xp, m):
        x = _pos_inf_limit(xp, x, m)
    e = xp.exp(x - xp.where(xp.isfinite(m), m, xp.zeros_like(m)))
    return e / xp.sum(e, axis=axis, keepdims=True)


def softmax(xp: Namespace, x: Array, axis: int = -1) -> Array:
    """Max-shifted softmax along ``axis``; ``+inf`` entries share their slice's mass (the
    limit), as in ``log_softmax``. Native: ``torch.softmax`` on the limit-mapped input."""
    if _native(xp) == "torch":
        import torch

        m = torch.amax(x.detach(), dim=axis, keepdim=True)
        if not _without_pos_inf(xp, m):
            x = _pos_inf_limit(xp, x, m)
        return torch.softmax(x, dim=axis)
    return _generic_softmax(xp, x, axis)


def _generic_softplus(xp: Namespace, x: Array) -> Array:
    return xp.logaddexp(x, xp.zeros_like(x))


def softplus(xp: Namespace, x: Array) -> Array:
    """``log(1 + exp(x))`` without overflow.

    Native: ``torch.nn.functional.softplus`` below float64 (it returns ``x`` past
    ``x = 20``, an error under 2.1e-9, below float32 rounding; float64 keeps the exact
    generic form); NumPy ``logaddexp(x, 0)`` without a zeros temporary.
    """
    lib = _native(xp)
    if lib == "torch":
        import torch

        if x.dtype != torch.float64:
            return torch.nn.functional.softplus(x)
    elif lib == "numpy":
        return xp.logaddexp(x, x.dtype.type(0))
    return _generic_softplus(xp, x)


def _generic_log_sigmoid(xp: Namespace, x: Array) -> Array:
    return -_generic_softplus(xp, -x)


def log_sigmoid(xp: Namespace, x: Array) -> Array:
    """``log(sigmoid(x)) = -softplus(-x)``, exact at both tails.

    Native: ``torch.nn.functional.logsigmoid`` (exact, one kernel forward and backward).
    """
    lib = _native(xp)
    if lib == "torch":
        import torch

        return torch.nn.functional.logsigmoid(x)
    if lib == "numpy":
        return -xp.logaddexp(-x, x.dtype.type(0))
    return _generic_log_sigmoid(xp, x)


def _generic_sigmoid(xp: Namespace, x: Array) -> Array:
    return xp.exp(log_sigmoid(xp, x))


def sigmoid(xp: Namespace, x: Array) -> Array:
    """``1 / (1 + exp(-x))`` as ``exp(log_sigmoid(x))``: exact in both tails (``sigmoid(-x)``
    is the accurate ``1 - sigmoid(x)``) and a finite gradient everywhere (the quotient form
    gives ``inf / inf`` at ``x = -1000``).

    Native: ``torch.sigmoid`` and ``jax.nn.sigmoid`` (one kernel forward and backward);
    NumPy ``e / (1 + e)`` or ``1 / (1 + e)`` with ``e = exp(-|x|)`` in place (NumPy's
    ``logaddexp`` costs several times ``exp``; there is no gradient to keep finite).
    """
    lib = _native(xp)
    if lib == "torch":
        import torch

        return torch.sigmoid(x)
    if lib == "jax":
        import jax

        return jax.nn.sigmoid(x)
    if lib == "numpy":
        import numpy as np

        e = np.abs(x)
        if isinstance(e, np.ndarray):
            np.negative(e, out=e)
            np.exp(e, out=e)  # e = exp(-|x|) in (0, 1]: no overflow
            r = np.add(e, e.dtype.type(1))
            np.divide(e.dtype.type(1), r, out=r)  # 1 / (1 + e): sigmoid(|x|)
            np.multiply(e, r, out=e)  # e / (1 + e): sigmoid(-|x|)
            return np.where(x >= 0, r, e)
    return _generic_sigmoid(xp, x)


_RESIDUAL_KINDS = ("l1", "squared", "huber", "smooth_l1", "log_cosh")
_LOG2 = math.log(2.0)


def _generic_residual_loss(xp: Namespace, kind: str, pred: Array, target: Array,
                           param: float = 1.0) -> Array:
    r = pred - target
    if kind == "squared":
        return r * r
    a = xp.abs(r)
    if kind == "l1":
        return a
    if kind == "log_cosh":
        return a + xp.log1p(xp.exp(-2.0 * a)) - _LOG2
    # huber with knot ``param``, branch-free: with m = min(a, knot), m * (a - m / 2)
    m = clip(xp, a, max=param)
    h = m * (a - 0.5 * m)
    return h / param if kind == "smooth_l1" else h


def _numpy_residual_loss(kind: str, pred: Array, target: Array, param: float) -> Array:
    """The generic formulas with in-place updates of their own temporaries (NumPy has no
    autograd to keep them for): one or two temporaries instead of four or five."""
    import numpy as np

    r = np.subtract(pred, target)
    if not isinstance(r, np.ndarray):  # 0-d inputs give a NumPy scalar: no ``out=``
        return _generic_residual_loss(np, kind, pred, target, param)
    if kind == "squared":
        return np.multiply(r, r, out=r)
    a = np.abs(r, out=r)
    if kind == "l1":
        return a
    if kind == "log_cosh":
        e = np.multiply(a, a.dtype.type(-2.0))
        np.exp(e, out=e)
        np.log1p(e, out=e)
        np.add(e, a, out=e)
        return np.subtract(e, a.dtype.type(_LOG2), out=e)
    k = a.dtype.type(param)
    m = np.minimum(a, k)
    # m * (a - m/2) == (m/2) * (2a - m) exactly (scaling by 2 is exact in binary floats)
    np.multiply(a, a.dtype.type(2.0), out=a)
    np.subtract(a, m, out=a)
    np.multiply(a, m, out=a)
    np.multiply(a, a.dtype.type(0.5), out=a)
    return np.divide(a, k, out=a) if kind == "smooth_l1" else a


def _torch_residual_loss(kind: str, pred: Array, target: Array, param: float) -> Array:
    """torch's fused kernels with reduction "none" (enum 0), called below the Python
    wrappers of ``torch.nn.functional``: their ``broadcast_tensors`` and checks cost more
    than the kernel on small inputs, and arrayloss has checked the shapes already."""
    import torch

    nn = getattr(torch._C, "_nn", None)
    if nn is None or not hasattr(nn, "smooth_l1_loss"):  # pragma: no cover - other builds
        import torch.nn.functional as F

        if kind == "l1":
            return F.l1_loss(pred, target, reduction="none")
        if kind == "squared":
            return F.mse_loss(pred, target, reduction="none")
        if kind == "huber":
            return F.huber_loss(pred, target, reduction="none", delta=param)
        return F.smooth_l1_loss(pred, target, reduction="none", beta=param)
    if kind == "l1":
        return nn.l1_loss(pred, target, 0)
    if kind == "squared":
        return nn.mse_loss(pred, target, 0)
    if kind == "huber":
        return nn.huber_loss(pred, target, 0, param)
    return nn.smooth_l1_loss(pred, target, 0, param)


def residual_loss(xp: Namespace, kind: str, pred: Array, target: Array,
                  param: float = 1.0) -> Array:
    """Unreduced elementwise loss of the residual ``r = pred - target``.

    ``kind``: ``"l1"`` ``|r|``; ``"squared"`` ``r^2``; ``"huber"`` ``0.5 r^2`` inside
    ``|r| <= param``, ``param (|r| - param/2)`` outside (clip form: the gradient of the
    clipped side is 0, so no ``where`` on data); ``"smooth_l1"`` huber / ``param``
    (``param > 0``); ``"log_cosh"`` ``|r| + log1p(exp(-2|r|)) - log 2``.

    Native: torch's fused ``l1_loss`` / ``mse_loss`` / ``huber_loss`` / ``smooth_l1_loss``
    with ``reduction="none"`` (one kernel forward and one backward instead of five to ten);
    NumPy reuses its temporaries in place. Same values and sub-gradients as the generic
    path (0 at ``r = 0`` for l1, the inner branch at ``|r| = param``).
    """
    if kind not in _RESIDUAL_KINDS:
        raise ValueError(f"residual_loss: unknown kind {kind!r}")
    lib = _native(xp)
    if lib == "torch" and kind != "log_cosh":
        return _torch_residual_loss(kind, pred, target, param)
    if lib == "numpy":
        return _numpy_residual_loss(kind, pred, target, param)
    return _generic_residual_loss(xp, kind, pred, target, param)


def mul0(xp: Namespace, c: Array, x: Array) -> Array:
    """``c * x`` with ``0 * x = 0`` also for ``x = +-inf`` (the limit of a term whose
    coefficient vanishes): a zero coefficient gives a zero value and a zero gradient."""
    return c * fill(xp, c == 0, 0.0, x)


def _generic_bce_with_logits(xp: Namespace, z: Array, y: Array, pos_weight: Any = None
                             ) -> Array:
    coef = y if pos_weight is None else pos_weight * y
    a, b = softplus(xp, -z), softplus(xp, z)
    if finite_on_host(xp, z):  # no infinite logit: no 0 * inf to guard against
        return coef * a + (1.0 - y) * b
    return mul0(xp, coef, a) + mul0(xp, 1.0 - y, b)


def _numpy_bce_with_logits(z: Array, y: Array, pos_weight: Any) -> Array:
    """``pw y softplus(-z) + (1 - y) softplus(z)`` with ``softplus(+-z) = log1p(exp(-|z|)) +
    max(+-z, 0)``: every term is non-negative (no cancellation where the loss is tiny), and
    the temporaries are updated in place (the generic form writes about twelve). A term
    whose coefficient is 0 is 0, also at ``z = +-inf``."""
    import numpy as np

    t = np.abs(z)
    if not isinstance(t, np.ndarray):  # 0-d inputs give a NumPy scalar: no ``out=``
        return _generic_bce_with_logits(np, z, y, pos_weight)
    one = t.dtype.type(1)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)  # log1p(exp(-|z|))
    zero = t.dtype.type(0)
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
    if finite_on_host(np, z):
        np.multiply(n, coef, out=n)
        np.multiply(m, t, out=m)
        return np.add(n, m, out=n)
    with np.errstate(invalid="ignore"):  # 0 * inf, replaced by the limit 0 below
        np.multiply(n, coef, out=n)
        np.copyto(n, 0, where=coef == 0)
        np.multiply(m, t, out=m)
        np.copyto(m, 0, where=t == 0)
    return np.add(n, m, out=n)


def bce_with_logits(xp: Namespace, z: Array, y: Array, pos_weight: Any = None) -> Array:
    """Unreduced binary cross-entropy of logits ``z`` and same-shape targets ``y``:
    ``pos_weight * y * softplus(-z) + (1 - y) * softplus(z)`` (``pos_weight``: None, a
    number or an array broadcasting to ``z``).

    Each term is 0 where its coefficient is 0, so infinite logits give the limits: ``z =
    +inf`` gives 0 for ``y = 1`` and ``+inf`` otherwise, ``z = -inf`` 0 for ``y = 0`` and
    ``+inf`` otherwise (torch's fused kernel and the textbook ``max(z, 0) - z y + log1p(
    exp(-|z|))`` give NaN there). Every term is non-negative: no cancellation where the loss
    is small against ``|z|`` (torch's kernel gives 0 instead of 4.2e-18 at ``y = 0, z =
    -40``). The gradient is ``sigmoid(z) (pw y + 1 - y) - pw y``. On readable host arrays
    without an infinite logit (``finite_on_host``) the zero-coefficient guards are skipped.

    NumPy: the same sum with its temporaries updated in place.
    """
    if _native(xp) == "numpy":
        return _numpy_bce_with_logits(z, y, pos_weight)
    return _generic_bce_with_logits(xp, z, y, pos_weight)


def _generic_value_range(xp: Namespace, x: Array) -> tuple[Array, Array]:
    return xp.min(x), xp.max(x)


def value_range(xp: Namespace, x: Array) -> tuple[Array, Array]:
    """``(min(x), max(x))`` of a non-empty array (NaN propagates): the one pass behind the
    value checks' fast path. Native: ``torch.aminmax`` (both from one read, no temporaries;
    the elementwise ``(v < 0) | (v > 1)`` form wrote three full-size masks)."""
    if _native(xp) == "torch":
        import torch

        if x.dtype != torch.bool:
            return tuple(torch.aminmax(x))  # type: ignore[return-value]
    return _generic_value_range(xp, x)


def finite_on_host(xp: Namespace, x: Array) -> bool:
    """True when ``x`` is readable now (concrete, in host memory) and holds no infinity or
    NaN: an eager fast path may then skip the guards that infinite values need. False (take
    the guarded path) under a tracer or compiler, on lazy and GPU arrays (no host sync), and
    whenever ``x`` holds ``+-inf`` or NaN. One min/max pass (``value_range``)."""
    if not (is_concrete(x) and is_host(x)):
        return False
    if numel(x) == 0:
        return True
    mn, mx = value_range(xp, x)
    return bool((mn > -math.inf) & (mx < math.inf))


#: from this many elements a torch mean that needs a gradient is ``sum / n``
_MEAN_AS_SUM = 1 << 16


def _generic_mean(xp: Namespace, x: Array) -> Array:
    return xp.mean(x)


def mean(xp: Namespace, x: Array) -> Array:
    """Mean of every element of a non-empty ``x``.

    Native (torch eager, from 65536 elements, when ``x`` needs a gradient): ``sum(x) / n``.
    ``torch.mean``'s backward writes a full-size ``1/n`` gradient that the next backward
    kernel reads again; ``sum``'s backward is a stride-0 view of one scalar (a 10M-element
    BCE-with-logits forward+backward 148 ms -> 125 ms). Small inputs keep one ``mean``
    node (the extra division node costs more there), and so does ``torch.compile``.
    """
    if _native(xp) == "torch" and x.requires_grad and is_concrete(x):
        n = x.numel()
        if n >= _MEAN_AS_SUM:
            import torch

            return torch.sum(x) / n
    return _generic_mean(xp, x)


def _generic_sort_with_indices(xp: Namespace, x: Array, axis: int = -1,
                               descending: bool = False) -> tuple[Array, Array]:
    idx = argsort(xp, x, axis=axis, descending=descending)
    return take_along_axis(xp, x, idx, axis=axis), idx


def relu(xp: Namespace, x: Array) -> Array:
    """``max(x, 0)`` that propagates NaN (``where(x > 0, x, 0)`` would turn NaN into 0),
    with the sub-gradient 0 at ``x = 0``. Native: ``torch.relu``, ``jax.nn.relu``, NumPy
    ``maximum`` (one kernel; each propagates NaN and has that sub-gradient)."""
    lib = _native(xp)
    if lib == "torch":
        import torch

        return torch.relu(x)
    if lib == "jax":
        import jax

        return jax.nn.relu(x)
    if lib == "numpy":
        return xp.maximum(x, x.dtype.type(0))
    return _generic_relu(xp, x)


def _generic_relu(xp: Namespace, x: Array) -> Array:
    return fill(xp, x <= 0, 0.0, x)


#: the generic implementation of each primitive with a native delegation (test oracle)
GENERIC: dict[str, Callable[..., Any]] = {
    "logsumexp": _generic_logsumexp,
    "log_softmax": _generic_log_softmax,
    "softmax": _generic_softmax,
    "softplus": _generic_softplus,
    "log_sigmoid": _generic_log_sigmoid,
    "sigmoid": _generic_sigmoid,
    "residual_loss": _generic_residual_loss,
    "bce_with_logits": _generic_bce_with_logits,
    "sort_with_indices": _generic_sort_with_indices,
    "value_range": _generic_value_range,
    "mean": _generic_mean,
    "relu": _generic_relu,
}


def cumulative_sum(xp: Namespace, x: Array, axis: int = -1) -> Array:
    """Inclusive cumulative sum along ``axis``: ``torch.cumsum`` on torch (compat's
    wrapper resolves the namespace again, an ``lru_cache`` call Dynamo warns about)."""
    if backend_name(xp) == "torch":
        import torch

        return torch.cumsum(x, dim=axis)
    return xp.cumulative_sum(x, axis=axis)


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


def xlogy(xp: Namespace, x: Array, y: Array) -> Array:
    """``x * log(y)`` with ``0 * log(anything) = 0`` (value and gradient finite)."""
    zero = x == 0
    return xp.where(zero, xp.zeros_like(x), x * xp.log(xp.where(zero, xp.ones_like(y), y)))


# ---------------------------------------------------------------------------------------
# masked branches (the double-``where`` trick keeps unselected NaN out of gradients)


def safe_sqrt(xp: Namespace, x: Array) -> Array:
    """``sqrt(x)`` for ``x > 0`` and 0 elsewhere, with a zero (not infinite) gradient at 0."""
    ok = x > 0
    return xp.where(ok, xp.sqrt(xp.where(ok, x, xp.ones_like(x))), xp.zeros_like(x))


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


# ---------------------------------------------------------------------------------------
# sorting, order statistics, indexing


def sort(xp: Namespace, x: Array, axis: int = -1, descending: bool = False) -> Array:
    """Sort along ``axis``; unstable where the backend allows it (callers are tie-invariant)."""
    return xp.sort(x, axis=axis, descending=descending, stable=False)


def median(xp: Namespace, x: Array, axis: int = 0) -> Array:
    """The true median along ``axis`` (mean of the two middle values for an even count).

    ``torch.median`` returns the lower middle value, so torch and the generic path sort.
    """
    name = backend_name(xp)
    if name in ("numpy", "cupy"):
        return xp.median(x, axis=axis)
    if name == "jax":
        import jax.numpy as jnp

        return jnp.median(x, axis=axis)
    if name == "dask":
        import dask.array as da

        return da.median(x, axis=axis)
    n = x.shape[axis]
    s = sort(xp, x, axis=axis)
    lo = xp.take(s, xp.asarray([(n - 1) // 2], device=device(x)), axis=axis)
    hi = xp.take(s, xp.asarray([n // 2], device=device(x)), axis=axis)
    return xp.squeeze((lo + hi) / 2, axis=axis)


def take_along_axis(xp: Namespace, x: Array, indices: Array, axis: int = -1) -> Array:
    """Gather ``x`` along ``axis`` at integer ``indices`` (same rank as ``x``).

    Native ``torch.gather`` on torch; a flat ``take`` on Dask, whose namespace has no
    ``take_along_axis``; the standard function elsewhere.
    """
    name = backend_name(xp)
    if name == "torch":
        import torch

        return torch.gather(x, axis, indices)
    if name == "dask":
        axis = axis % x.ndim
        xm = xp.moveaxis(x, axis, -1)
        im = xp.moveaxis(indices, axis, -1)
        c = xm.shape[-1]
        k = im.shape[-1]
        rows = xp.reshape(xp.arange(numel(xm) // c if c else 0), (*xm.shape[:-1], 1))
        flat = xp.take(xp.reshape(xm, (-1,)), xp.reshape(rows * c + im, (-1,)))
        return xp.moveaxis(xp.reshape(flat, (*xm.shape[:-1], k)), -1, axis)
    return xp.take_along_axis(x, indices, axis=axis)


def one_hot(xp: Namespace, labels: Array, num_classes: int, dtype: Any, axis: int = -1) -> Array:
    """One-hot encoding of integer ``labels`` with the class axis inserted at ``axis``.

    Labels outside ``[0, num_classes)`` give an all-zero row.
    """
    classes = xp.arange(num_classes, dtype=labels.dtype, device=device(labels))
    oh = xp.astype(xp.expand_dims(labels, axis=-1) == classes, dtype)
    if axis not in (-1, labels.ndim):
        oh = xp.moveaxis(oh, -1, axis)
    return oh


# ---------------------------------------------------------------------------------------
# sorting with indices (Lovász losses)


def argsort(xp: Namespace, x: Array, axis: int = -1, descending: bool = False) -> Array:
    """Indices that sort ``x`` along ``axis``; unstable where the backend allows it (callers
    are tie-invariant: a stable sort made the Lovász losses several times slower)."""
    return xp.argsort(x, axis=axis, descending=descending, stable=False)


def sort_with_indices(
    xp: Namespace, x: Array, axis: int = -1, descending: bool = False
) -> tuple[Array, Array]:
    """``(values, indices)`` of ``x`` sorted along ``axis`` (unstable), the values carrying
    the gradient of ``x``.

    Generic: ``argsort`` then ``take_along_axis``. Native ``torch.sort`` on torch, which
    returns both from one kernel (no extra gather, and a cheaper backward); switched off by
    ``generic_primitives()`` like the other delegations.
    """
    if _native(xp) == "torch":
        import torch

        out = torch.sort(x, dim=axis, descending=descending, stable=False)
        return out.values, out.indices
    return _generic_sort_with_indices(xp, x, axis, descending)
