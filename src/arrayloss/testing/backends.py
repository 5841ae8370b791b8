"""Backend adapters shared by the test matrix and ``python -m arrayloss``.

A :class:`Backend` turns NumPy example inputs into arrays of one library (and device), runs a
loss the way that backend's users run it (eagerly, under ``torch.compile(fullgraph=True)``,
under ``jax.jit``, lazily on Dask, under array-api-strict's strictest flags), converts results
back to NumPy, and computes gradients with the library's autodiff. Nothing here is imported by
the losses themselves.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "BACKENDS",
    "CPU_BACKENDS",
    "GPU_BACKENDS",
    "HOST_DEVICES",
    "Backend",
    "by_id",
    "finite_difference",
    "with_host_devices",
]

_FLOATS = ("float16", "bfloat16", "float32", "float64")


class _ComputeForbidden(RuntimeError):
    pass


def _forbid_compute(*args: Any, **kwargs: Any) -> Any:
    raise _ComputeForbidden("a Dask graph was computed inside the loss: it must stay lazy")


@dataclass(frozen=True)
class Backend:
    """One row of the backend matrix."""

    id: str
    module: str
    mode: str = "eager"  # eager | compile | inductor | jit | lazy | strictest
    gpu: bool = False
    install: str = ""

    # ---------------------------------------------------------------- availability
    def available(self) -> tuple[bool, str]:
        """(True, "") when the library is installed and, for GPU rows, a GPU is present."""
        if importlib.util.find_spec(self.module) is None:
            return False, f"{self.module} is not installed ({self.install})"
        if not self.gpu:
            return True, ""
        try:
            if self.module == "cupy":
                import cupy

                if cupy.cuda.runtime.getDeviceCount() < 1:
                    return False, "no CUDA device"
            elif self.module == "torch":
                import torch

                if not torch.cuda.is_available():
                    return False, "torch sees no CUDA device"
            elif self.module == "jax":
                import jax

                jax.devices("gpu")
        except Exception as exc:  # no driver, no device, CPU-only build
            return False, f"no GPU: {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
        return True, ""

    @property
    def library(self) -> str:
        return self.module

    @property
    def differentiable(self) -> bool:
        return self.module in ("torch", "jax")

    @functools.cached_property
    def xp(self) -> Any:
        import array_api_compat

        return array_api_compat.array_namespace(self.asarray(np.zeros(1)))

    def supports(self, dtype: str) -> bool:
        """Whether this backend has ``dtype`` (array-api-strict has no half precision, NumPy
        and CuPy no bfloat16, Dask follows NumPy)."""
        if dtype in ("float32", "float64"):
            return True
        if self.module == "array_api_strict":
            return False
        if dtype == "bfloat16":
            return self.module in ("torch", "jax")
        return True

    # ---------------------------------------------------------------- conversion
    @functools.cached_property
    def _device(self) -> Any:
        if self.module == "array_api_strict":
            import array_api_strict as xs

            return xs.Device("device1") if self.id.endswith("device1") else None
        if self.module == "torch":
            return "cuda" if self.gpu else "cpu"
        if self.module == "jax" and self.gpu:
            import jax

            return jax.devices("gpu")[0]
        return None

    def _dtype(self, name: str) -> Any:
        if self.module == "torch":
            import torch

            return getattr(torch, name)
        if self.module == "jax":
            import jax.numpy as jnp

            return getattr(jnp, name)
        if self.module == "array_api_strict":
            import array_api_strict as xs

            return getattr(xs, name)
        return np.dtype(name)

    def asarray(self, a: Any, dtype: str | None = None, requires_grad: bool = False) -> Any:
        """Convert a NumPy array. ``dtype`` applies to floating arrays only (integer and bool
        arrays keep theirs)."""
        a = np.asarray(a)
        floating = np.issubdtype(a.dtype, np.floating)
        name = dtype if (dtype is not None and floating) else None
        if self.module == "numpy":
            return a.astype(name) if name else a.copy()
        if self.module == "array_api_strict":
            import array_api_strict as xs

            out = xs.asarray(a, device=self._device)
            return xs.astype(out, self._dtype(name)) if name else out
        if self.module == "torch":
            import torch

            t = torch.asarray(a.copy(), device=self._device)
            if name:
                t = t.to(self._dtype(name))
            if requires_grad:
                t.requires_grad_(True)
            return t
        if self.module == "jax":
            import jax
            import jax.numpy as jnp

            x = jnp.asarray(a)
            if name:
                x = x.astype(self._dtype(name))
            return jax.device_put(x, self._device) if self._device is not None else x
        if self.module == "dask":
            import dask.array as da

            chunks = tuple(max(1, (s + 1) // 2) for s in a.shape)
            x = da.from_array(a, chunks=chunks)
            return x.astype(name) if name else x
        if self.module == "cupy":
            import cupy

            x = cupy.asarray(a)
            return x.astype(name) if name else x
        raise ValueError(f"unknown backend {self.id}")

    def convert(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], dtype: str | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        """Convert a case's NumPy positional and keyword arrays; non-arrays pass through."""
        conv = [self.asarray(a, dtype) for a in args]
        kw = {k: self.asarray(v, dtype) if isinstance(v, np.ndarray) else v
              for k, v in kwargs.items()}
        return conv, kw

    def to_numpy(self, x: Any) -> np.ndarray:
        """A NumPy copy of a result (half precision widened to float32)."""
        if self.module == "torch":
            import torch

            t = x.detach().cpu()
            if t.dtype in (torch.float16, torch.bfloat16):
                t = t.float()
            return t.numpy()
        if self.module == "jax":
            import jax.numpy as jnp

            if x.dtype == jnp.bfloat16:
                x = x.astype(jnp.float32)
            return np.asarray(x)
        if self.module == "dask":
            return np.asarray(x.compute(scheduler="sync"))
        if self.module == "array_api_strict":
            import array_api_strict as xs

            return np.asarray(xs.asarray(x, device=xs.Device("CPU_DEVICE")))
        if self.module == "cupy":
            return x.get()
        return np.asarray(x)

    def dtype_name(self, x: Any) -> str:
        return str(x.dtype).split(".")[-1]

    def device_of(self, x: Any) -> Any:
        import array_api_compat

        return array_api_compat.device(x)

    # ---------------------------------------------------------------- running
    def _split(self, kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        import array_api_compat

        arrays = {k: v for k, v in kwargs.items() if array_api_compat.is_array_api_obj(v)
                  and not isinstance(v, (bool, int, float))}
        static = {k: v for k, v in kwargs.items() if k not in arrays}
        return arrays, static

    @contextlib.contextmanager
    def context(self) -> Iterator[None]:
        """The mode's context: strict flags, or a Dask scheduler that forbids computing."""
        if self.mode == "strictest":
            import array_api_strict as xs

            with xs.ArrayAPIStrictFlags(boolean_indexing=False, data_dependent_shapes=False):
                yield
        elif self.mode == "lazy":
            import dask

            with dask.config.set(scheduler=_forbid_compute):
                yield
        else:
            yield

    def wrap(self, fn: Callable[..., Any], static: Mapping[str, Any]) -> Callable[..., Any]:
        """``fn`` with ``static`` options bound, compiled or jitted according to the mode."""
        bound = functools.partial(fn, **static)
        if self.mode in ("compile", "inductor"):
            import torch

            backend = "inductor" if self.mode == "inductor" else "aot_eager"
            return torch.compile(bound, fullgraph=True, backend=backend)
        if self.mode == "jit":
            import jax

            return jax.jit(bound)
        return bound

    def call(self, fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        """Run ``fn(*args, **kwargs)`` on converted inputs in this backend's mode."""
        arrays, static = self._split(kwargs)
        with self.context():
            return self.wrap(fn, static)(*args, **arrays)

    def grad(
        self,
        fn: Callable[..., Any],
        args: Sequence[np.ndarray],
        kwargs: Mapping[str, Any],
        argnums: Sequence[int],
        dtype: str = "float64",
    ) -> list[np.ndarray]:
        """Gradients of ``sum(fn(...))`` with respect to the positional ``argnums``."""
        if self.module == "torch":
            import torch

            conv = [self.asarray(a, dtype, requires_grad=(i in argnums)) for i, a in
                    enumerate(args)]
            _, kw = self.convert((), kwargs, dtype)
            out = self.wrap(fn, {})(*conv, **kw)
            grads = torch.autograd.grad(out.sum(), [conv[i] for i in argnums], allow_unused=True)
            return [np.zeros(args[i].shape) if g is None else self.to_numpy(g)
                    for i, g in zip(argnums, grads)]
        if self.module == "jax":
            import jax
            import jax.numpy as jnp

            conv, kw = self.convert(args, kwargs, dtype)
            arrays, static = self._split(kw)

            def scalar(*xs: Any) -> Any:
                return jnp.sum(fn(*xs, **arrays, **static))

            g = jax.grad(scalar, argnums=tuple(argnums))(*conv)
            return [self.to_numpy(v) for v in g]
        raise NotImplementedError(f"{self.id} has no autodiff")


def finite_difference(
    fn: Callable[..., Any],
    args: Sequence[np.ndarray],
    kwargs: Mapping[str, Any],
    argnum: int,
    h: float = 1e-6,
) -> np.ndarray:
    """Central finite differences of ``sum(fn(...))`` in float64 NumPy."""
    base = [np.array(a, dtype=np.float64) if np.issubdtype(np.asarray(a).dtype, np.floating)
            else np.asarray(a) for a in args]
    x = base[argnum]
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        vals = []
        for step in (h, -h):
            xs = [a.copy() for a in base]
            xs[argnum][idx] += step
            vals.append(float(np.sum(fn(*xs, **kwargs))))
        g[idx] = (vals[0] - vals[1]) / (2 * h)
    return g


_T = "pip install torch"
BACKENDS: tuple[Backend, ...] = (
    Backend("numpy", "numpy", install="pip install numpy"),
    Backend("array_api_strict", "array_api_strict", install="pip install array-api-strict"),
    Backend("array_api_strict:device1", "array_api_strict", install="pip install array-api-strict"),
    Backend("array_api_strict:strictest", "array_api_strict", mode="strictest",
            install="pip install array-api-strict"),
    Backend("torch", "torch", install=_T),
    Backend("torch:compile", "torch", mode="compile", install=_T),
    Backend("torch:inductor", "torch", mode="inductor", install=_T),
    Backend("jax", "jax", mode="jit", install="pip install jax"),
    Backend("dask", "dask", mode="lazy", install="pip install 'dask[array]'"),
    Backend("cupy", "cupy", gpu=True, install="pip install cupy-cuda12x (needs a CUDA GPU)"),
    Backend("torch:cuda", "torch", gpu=True, install="a CUDA build of torch and a GPU"),
    Backend("jax:gpu", "jax", mode="jit", gpu=True, install="pip install 'jax[cuda12]' and a GPU"),
)
CPU_BACKENDS = tuple(b for b in BACKENDS if not b.gpu)
GPU_BACKENDS = tuple(b for b in BACKENDS if b.gpu)


def by_id(backend_id: str) -> Backend:
    for b in BACKENDS:
        if b.id == backend_id:
            return b
    raise KeyError(backend_id)


#: host CPU devices JAX gets when :func:`configure` runs before JAX is imported: enough for
#: a ``("batch",)`` mesh of four, the sharded tests' layout
HOST_DEVICES = 4
_HOST_DEVICES_FLAG = "--xla_force_host_platform_device_count"


def with_host_devices(flags: str) -> str:
    """``XLA_FLAGS`` text ``flags`` with ``--xla_force_host_platform_device_count`` set to
    :data:`HOST_DEVICES` appended; unchanged when ``flags`` already sets a count."""
    if _HOST_DEVICES_FLAG in flags:
        return flags
    return f"{flags} {_HOST_DEVICES_FLAG}={HOST_DEVICES}".strip()


def configure() -> None:
    """Process-wide settings the matrix needs: JAX in float64 (it silently downcasts
    otherwise) with :data:`HOST_DEVICES` CPU devices, and room for many ``torch.compile``
    recompilations.

    The device count is an ``XLA_FLAGS`` flag read once, when JAX starts its CPU backend, so
    it is appended only while JAX is not imported yet, to the flags already there, and not
    when they already set a count."""
    if "jax" not in sys.modules:
        os.environ["XLA_FLAGS"] = with_host_devices(os.environ.get("XLA_FLAGS", ""))
    if importlib.util.find_spec("jax") is not None:
        import jax

        jax.config.update("jax_enable_x64", True)
    if importlib.util.find_spec("torch") is not None:
        import torch._dynamo

        cfg = torch._dynamo.config
        for name in ("cache_size_limit", "recompile_limit"):
            if hasattr(cfg, name):
                setattr(cfg, name, 4096)
        if hasattr(cfg, "accumulated_cache_size_limit"):
            cfg.accumulated_cache_size_limit = 1 << 16
        if hasattr(cfg, "accumulated_recompile_limit"):
            cfg.accumulated_recompile_limit = 1 << 16
