"""JAX: the adapter functions and the kernels.

Adapters: ``is_concrete`` is False for tracers and for every array while a JAX
transformation traces (a constant captured from outside the trace is staged too, so reading
its values would be a tracer error); ``is_host``: every device of the array is a CPU;
``stop_gradient`` (``jax.lax.stop_gradient``), ``median`` (``jnp.median``),
``compile_function`` (``jax.jit``).

Kernels: ``jax.nn.logsumexp`` (a cheaper ``value_and_grad`` under ``jit``),
``jax.nn.sigmoid`` and ``jax.nn.relu`` (one primitive each), ``scan`` (``jax.lax.scan``: a
recursion traced once, so its compile time does not grow with the sequence length as the
generic loop's unrolled graph does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp


def _tracing() -> bool:
    try:
        from jax._src import core
    except ImportError:  # pragma: no cover - a JAX without the module: tracers only
        return False
    clean = getattr(core, "trace_state_clean", None)
    return clean is not None and not clean()


def is_concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer) and not _tracing()


def is_host(x: Any) -> bool:
    try:
        return all(d.platform == "cpu" for d in x.devices())
    except Exception:  # pragma: no cover - arrays without committed devices
        return False


def stop_gradient(x: Any) -> Any:
    return jax.lax.stop_gradient(x)


def median(x: Any, axis: int) -> Any:
    return jnp.median(x, axis=axis)


def compile_function(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    return jax.jit(fn, **kwargs)


def _logsumexp(x: Any, axis: int, keepdims: bool) -> Any:
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


def _scan(step: Callable[[Any, Any], tuple[Any, Any]], carry: Any, xs: Any) -> Any:
    return jax.lax.scan(step, carry, xs)


KERNELS: dict[str, Callable[..., Any]] = {
    "logsumexp": _logsumexp,
    "scan": _scan,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
}
