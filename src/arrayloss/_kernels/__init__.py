"""Native kernels: the only code of arrayloss that names a framework's own functions.

Every loss is written once against the array-API standard (``arrayloss._ops``). Where the
standard has no equivalent, where a framework's own function is needed for correctness
under its compiler, or where a framework's fused kernel is measurably faster, the generic
code asks this package for the library's version:

- ``adapter(name)``: the module of one library (``numpy``, ``torch``, ``jax``, ``dask``,
  ``cupy``, ``array_api_strict``), or ``None``. Its functions (``is_concrete``,
  ``is_host``, ``stop_gradient``, ``clip``, ``take_along_axis``...) are always used: they
  are the library's way of doing what the standard cannot say;
- ``kernel(op, name)``: a faster path for one operation or loss (``log_softmax``,
  ``huber_loss``...), listed in that module's ``KERNELS``. Each has a generic
  implementation in ``arrayloss._ops`` or in its loss module, which is its test oracle;
  ``generic()`` switches every kernel off (the tests' oracle, the benchmarks' "before").

No container is read while ``torch.compile`` traces: Dynamo guards on the containers a
traced function reads, so a registry filled by an unrelated eager call would invalidate
compiled graphs. Traced code imports the adapters with ``import`` statements, which Dynamo
folds; eager code reads the ones imported so far from a dict (``adapter``).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

__all__ = ["adapter", "compiling", "eager_host", "generic", "kernel", "library", "plain_torch"]

# NumPy's and array-api-strict's adapters import nothing heavy: loaded with the package, so
# their lookup is a name (the others are imported on first use, by an ``import`` statement)
from . import array_api_strict as _strict_adapter
from . import numpy as _numpy_adapter

#: the kernel switch; changed only by ``generic()`` (a compiled graph that read it is
#: retraced when it changes, which is what the oracle wants)
_KERNELS_ON = {"on": True}


def plain_torch(x: Any) -> bool:
    """True for a ``torch.Tensor`` or an ``nn.Parameter`` (not another subclass). Reads torch
    from ``sys.modules`` (never imports it): the check costs a lookup, and ``torch.compile``
    traces it without a graph break, also for parameters."""
    torch = sys.modules.get("torch")
    return torch is not None and type(x) in (torch.Tensor, torch.nn.Parameter)


def library(x: Any) -> str:
    """The library of an array by the top-level module of its type (``jaxlib`` is ``jax``);
    any ``torch.Tensor`` subclass is torch (checked first: under ``torch.compile`` the module
    name of a subclass is not readable)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return "torch"
    mod = type(x).__module__.split(".")[0]
    return "jax" if mod == "jaxlib" else mod


def compiling() -> bool:
    """Whether ``torch.compile`` is tracing (torch read from ``sys.modules``, never imported):
    eager code may then read dicts that a traced function must not (Dynamo would guard on
    their contents)."""
    torch = sys.modules.get("torch")
    return torch is not None and bool(torch.compiler.is_compiling())


#: the adapters imported so far, read only outside ``torch.compile`` (see ``adapter``)
_LOADED: dict[str, ModuleType | None] = {"numpy": _numpy_adapter,
                                         "array_api_strict": _strict_adapter}


def adapter(name: str) -> ModuleType | None:
    """The adapter module of the backend ``name`` (see ``arrayloss._namespace.backend_name``),
    or ``None`` for a library that needs none.

    Eager calls read the adapters imported so far from a dict (an ``import`` statement
    costs a microsecond, and a loss looks up a dozen adapters). While ``torch.compile``
    traces, the dict is neither read nor written: Dynamo would guard on its contents, and
    the first eager call of another library would then recompile the graph; the traced
    path is the ``import`` statements, which Dynamo folds."""
    if name == "numpy":
        return _numpy_adapter
    eager = not compiling()
    if eager and name in _LOADED:
        return _LOADED[name]
    module = _import_adapter(name)
    if eager:
        _LOADED[name] = module
    return module


def _import_adapter(name: str) -> ModuleType | None:
    if name == "torch":
        from . import torch as torch_adapter

        return torch_adapter
    if name == "jax":
        from . import jax as jax_adapter

        return jax_adapter
    if name == "dask":
        from . import dask as dask_adapter

        return dask_adapter
    if name == "array_api_strict":
        return _strict_adapter
    if name == "cupy":
        from . import cupy as cupy_adapter

        return cupy_adapter
    return None


def kernel(op: str, name: str) -> Callable[..., Any] | None:
    """The library ``name``'s faster path for ``op``, or ``None`` (use the generic one)."""
    if not _KERNELS_ON["on"]:
        return None
    if name == "numpy":
        return _numpy_adapter.KERNELS.get(op)
    module = adapter(name)
    if module is None:
        return None
    return module.KERNELS.get(op)


def eager_host(*arrays: Any) -> ModuleType | None:
    """The adapter of the arrays' library when every one is a plain host array of that one
    library used eagerly, and the kernels are on; else ``None``. NumPy: exactly
    ``numpy.ndarray``; torch: ``torch.Tensor`` or ``nn.Parameter`` on the CPU, outside
    ``torch.compile`` and not wrapped by ``torch.func`` (the torch adapter's
    ``eager_host``). The gate of the small-call fast lanes (``arrayloss._fast``)."""
    if not _KERNELS_ON["on"]:
        return None
    t = type(arrays[0])
    if t is _numpy_adapter.ARRAY_TYPE:
        for x in arrays:
            if type(x) is not t:
                return None
        return _numpy_adapter
    if not plain_torch(arrays[0]) or compiling():
        return None
    mod = _LOADED.get("torch") or adapter("torch")
    return mod if mod.eager_host(arrays) else None  # type: ignore[union-attr]


@contextlib.contextmanager
def generic() -> Iterator[None]:
    """Within this context no kernel is used: every operation takes its generic array-API
    path (the tests' oracle and the benchmarks' "before")."""
    saved = _KERNELS_ON["on"]
    _KERNELS_ON["on"] = False
    try:
        yield
    finally:
        _KERNELS_ON["on"] = saved
