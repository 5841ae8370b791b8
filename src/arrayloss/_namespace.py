"""Namespaces, devices and dtypes: which library a call runs on, and in which dtype.

- ``namespace(fn, **arrays)``: the array-API namespace shared by a call's arrays, with
  errors naming the function and the argument (lists, scalars, masked arrays, mixed
  libraries, mixed devices);
- ``backend_name(xp)``: a short name (``numpy``, ``torch``, ``jax``, ``dask``, ``cupy``,
  ``array_api_strict``) that selects the library's adapter in ``arrayloss._kernels``;
- the dtype policy: ``float_dtypes`` (compute and result dtype of a loss),
  ``coordinate_dtypes`` (of functions returning coordinates), ``default_int``;
- ``is_concrete`` / ``is_host``: whether a value may be read now, and without a
  device-to-host synchronisation.

Nothing here keeps a cache that a loss reads while ``torch.compile`` traces it (Dynamo
guards on every global container a traced function reads): ``isdtype`` remembers its
answers for eager calls only.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat as _compat

from . import _kernels

Array = Any
Namespace = Any

__all__ = [
    "Array",
    "Namespace",
    "astype",
    "backend_name",
    "coordinate_dtypes",
    "default_int",
    "device",
    "float_dtypes",
    "is_concrete",
    "is_host",
    "isdtype",
    "namespace",
    "numel",
    "to_result",
]

_LIBRARIES = "NumPy, CuPy, PyTorch, JAX, Dask or array-api-strict"
_NDARRAY = _kernels.adapter("numpy").ARRAY_TYPE  # type: ignore[union-attr]


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
        if _kernels.library(x) == "numpy":
            _kernels.adapter("numpy").refuse_subclass(fn, name, x)  # type: ignore[union-attr]
    try:
        xp = _compat.array_namespace(*(v for _, v in present))
    except TypeError:
        first_name, first = present[0]
        lib = _kernels.library(first)
        for name, x in present[1:]:
            if _kernels.library(x) != lib:
                raise TypeError(
                    f"{fn}: `{first_name}` is a {lib} array but `{name}` is a "
                    f"{_kernels.library(x)} array; pass arrays of one library"
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
    ``torch.Tensor`` or ``nn.Parameter`` on one device (the general path costs several
    microseconds, more than a small loss). It reads only types, and under ``torch.compile``
    it is the only path taken (the general one calls ``functools.lru_cache``-wrapped
    helpers, which Dynamo warns about)."""
    if not present:
        return None
    first = present[0][1]
    t = type(first)
    if t is _NDARRAY:
        for _, v in present:
            if type(v) is not t:
                return None
        import array_api_compat.numpy as np_ns

        return np_ns
    if _kernels.plain_torch(first):
        dev = first.device
        for _, v in present:
            if not _kernels.plain_torch(v) or v.device != dev:
                return None
        import array_api_compat.torch as torch_ns

        return torch_ns
    return None


def _device_or_none(x: Array) -> Any:
    try:
        d = _compat.device(x)
    except Exception:  # tracers and other lazy arrays may have no device
        return None
    # (only JAX has a Sharding for a device, or uncommitted arrays: no library lookup here)
    if d is not None and (hasattr(d, "device_set") or getattr(x, "committed", True) is False):
        # a JAX array over several devices reports its Sharding: new arrays of other shapes
        # cannot take its layout, and two layouts of one mesh are not two devices; the
        # device of an uncommitted array would commit new arrays to it, which a sharded
        # operand then refuses. JAX places arrays made without a device itself.
        return None
    return d


def device(x: Array) -> Any:
    """The device of ``x`` (``None`` under ``jax.jit``)."""
    if _kernels.plain_torch(x):
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


def _default_float(xp: Namespace, x: Array) -> Any:
    """The namespace's default real floating dtype on the device of ``x``."""
    adapter = _kernels.adapter(backend_name(xp))
    if adapter is not None and hasattr(adapter, "default_float"):
        return adapter.default_float()
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


#: eager answers about dtypes, by (type of dtype, dtype, question)
_KINDS: dict[tuple[Any, Any, Any], bool] = {}


def _dtype_fact(xp: Namespace, dtype: Any, question: Any, answer: Any) -> bool:
    """``answer()``, a fact about ``dtype``, remembered for eager calls (array-api-compat's
    ``isdtype`` and ``finfo`` cost a microsecond or two, and a loss asks a few times);
    traced by ``torch.compile`` as the plain call."""
    if _kernels.compiling():
        return bool(answer())
    key = (type(dtype), dtype, question)  # (dtypes of two libraries are never compared)
    try:
        return _KINDS[key]
    except KeyError:
        out = _KINDS[key] = bool(answer())
        return out
    except TypeError:  # an unhashable dtype
        return bool(answer())


def isdtype(xp: Namespace, dtype: Any, kind: Any) -> bool:
    """``xp.isdtype(dtype, kind)`` (see ``_dtype_fact``)."""
    return _dtype_fact(xp, dtype, kind, lambda: xp.isdtype(dtype, kind))


def float_dtypes(xp: Namespace, x: Array, fn: str = "", name: str = "pred") -> tuple[Any, Any]:
    """The (compute, result) dtypes for a loss whose prediction is ``x``.

    - float32 / float64 (and wider): computed and returned in that dtype;
    - float16 / bfloat16: computed **and returned** in float32 (as ``torch.autocast``,
      Keras, torchvision and MONAI: a loss value in bfloat16 keeps 3 significant digits);
    - integer or bool: the namespace's default floating dtype.
    Complex input raises ``TypeError``.
    """
    dt = x.dtype
    if isdtype(xp, dt, "real floating"):
        d = xp.float32 if _dtype_fact(xp, dt, "narrow", lambda: xp.finfo(dt).bits < 32) else dt
        return d, d
    if isdtype(xp, dt, ("integral", "bool")):
        d = _default_float(xp, x)
        return d, d
    raise TypeError(f"{fn}: `{name}` must have a real dtype, got {dt}")


def coordinate_dtypes(xp: Namespace, x: Array, fn: str = "", name: str = "pred"
                      ) -> tuple[Any, Any]:
    """The (compute, result) dtypes of a function that returns coordinates rather than a
    loss value (``box_convert``, ``update_centers``): computed as ``float_dtypes`` says, but
    a floating input keeps its dtype in the result."""
    dtype, out = float_dtypes(xp, x, fn, name)
    return dtype, (x.dtype if isdtype(xp, x.dtype, "real floating") else out)


def astype(xp: Namespace, x: Array, dtype: Any) -> Array:
    """Cast without copying when the dtype already matches (keeps autograd graphs)."""
    if x.dtype == dtype:
        return x
    return xp.astype(x, dtype)


def to_result(xp: Namespace, x: Array, dtype: Any) -> Array:
    """Cast a computed loss to the result dtype; NumPy scalars become 0-d arrays."""
    x = astype(xp, x, dtype)
    if backend_name(xp) == "numpy":
        x = _kernels.adapter("numpy").as_array(x)  # type: ignore[union-attr]
    return x


def numel(x: Array) -> Any:
    """Number of elements (a Python int, or a symbolic int under ``torch.compile``)."""
    return math.prod(x.shape)


# ---------------------------------------------------------------------------------------
# concreteness and host memory


def is_concrete(x: Array) -> bool:
    """True when the values of ``x`` can be read now without tracing, compiling or computing.

    False for JAX tracers and for any JAX array while a JAX transformation traces (a
    captured constant is staged like the traced inputs), arrays seen while
    ``torch.compile`` traces, tensors wrapped by ``torch.func`` transforms, fake/meta
    tensors, and Dask arrays (reading them would trigger a compute).
    """
    if type(x) is _NDARRAY:
        return True
    adapter = _kernels.adapter(_kernels.library(x))
    if adapter is not None:
        return bool(adapter.is_concrete(x))
    return not _compat.is_lazy_array(x)


def is_host(x: Array) -> bool:
    """True when ``x`` lives in host memory (NumPy, array-api-strict, CPU torch, CPU JAX):
    reading its values costs no device-to-host synchronisation."""
    if type(x) is _NDARRAY:
        return True
    adapter = _kernels.adapter(_kernels.library(x))
    return adapter is not None and bool(adapter.is_host(x))
