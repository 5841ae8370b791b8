"""JAX: the adapter functions and the kernels.

Adapters: ``is_concrete`` is False for tracers and for every array while a JAX
transformation traces (a constant captured from outside the trace is staged too, so reading
its values would be a tracer error); ``is_host``: every device of the array is a CPU;
``stop_gradient`` (``jax.lax.stop_gradient``), ``median`` (``jnp.median``),
``compile_function`` (``jax.jit``); ``is_replica_group``, ``all_sum``, ``all_gather``,
``replica_index``: the collectives over a ``replicas=`` named axis (an axis name of
``shard_map``, ``pmap`` or ``vmap``): ``jax.lax.psum``, ``jax.lax.all_gather(tiled=True)``
and ``jax.lax.axis_index``, differentiable by JAX's own rules.

Kernels: ``jax.nn.logsumexp`` (a cheaper ``value_and_grad`` under ``jit``), the label
cross-entropy's log-sum-exp with its ``+inf`` limits (``shifted_log_sum_exp``),
``jax.nn.sigmoid`` and ``jax.nn.relu`` (one primitive each), the BCE-with-logits terms
for finite logits under a trace (``bce_with_logits_plain``: one ``exp`` and ``log1p`` for
both softplus terms, and the gradient ``sigmoid(z) - y`` by its rule), ``scan`` (``jax.lax.scan``: a
recursion traced once, so its compile time does not grow with the sequence length as the
generic loop's unrolled graph does).
"""

from __future__ import annotations

import contextlib
import functools
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


def is_replica_group(obj: Any) -> bool:
    """A named axis: a non-empty string, or a non-empty tuple of them."""
    if isinstance(obj, str):
        return bool(obj)
    return isinstance(obj, tuple) and bool(obj) and all(isinstance(a, str) and a for a in obj)


def all_sum(x: Any, axis: Any) -> Any:
    return jax.lax.psum(x, axis)


def all_gather(x: Any, axis: Any) -> Any:
    # the invariant gather: its result is the same on every replica, and shard_map's
    # replication check knows it (a loss of gathered inputs may then be returned with
    # out_specs P()); JAX without it has the plain gather
    try:
        from jax._src.lax.parallel import all_gather_invariant as gather
    except ImportError:  # pragma: no cover - older JAX
        gather = jax.lax.all_gather
    return gather(x, axis, axis=0, tiled=True)


def replica_index(axis: Any) -> Any:
    return jax.lax.axis_index(axis)


def median(x: Any, axis: int) -> Any:
    return jnp.median(x, axis=axis)


def compile_function(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    return jax.jit(fn, **kwargs)


def _logsumexp(x: Any, axis: int, keepdims: bool) -> Any:
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


def _scan(step: Callable[[Any, Any], tuple[Any, Any]], carry: Any, xs: Any) -> Any:
    return jax.lax.scan(step, carry, xs)


@jax.custom_jvp
def _softplus_rule(x: Any) -> Any:
    """``max(x, 0) + log1p(exp(-|x|))``, for traced code: ``logaddexp(x, 0)`` (what
    ``jax.nn.softplus`` and ``log_sigmoid`` compute) handles infinities with selects, and
    an XLA CPU loop that fuses them with the rest of a loss runs about three times slower.
    Exact in both tails; +-inf give the limits, NaN stays NaN."""
    return jnp.maximum(x, 0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


@_softplus_rule.defjvp
def _softplus_jvp(primals: Any, tangents: Any) -> Any:
    # the derivative is sigmoid(x), also at x = 0, where max and |x| have kinks (XLA's
    # logistic: a select on the sign would slow the loop down)
    (x,), (t,) = primals, tangents
    return _softplus_rule(x), jax.nn.sigmoid(x) * t


def _softplus(x: Any) -> Any:
    # traced code only: one eager op, logaddexp runs as fast as this loop
    return _softplus_rule(x) if isinstance(x, jax.core.Tracer) else None


def _log_sigmoid(x: Any) -> Any:
    return -_softplus_rule(-x) if isinstance(x, jax.core.Tracer) else None


@jax.custom_jvp
def _bce_rule(z: Any, y: Any) -> Any:
    """``y softplus(-z) + (1 - y) softplus(z)`` for finite ``z``: the two softplus terms
    share one ``exp`` and one ``log1p`` (two softplus rules compute them twice, and their
    gradients two sigmoids); a sum of non-negative terms, as the generic formula."""
    neg, pos = _softplus_pair(z)
    return y * neg + (1 - y) * pos


@_bce_rule.defjvp
def _bce_jvp(primals: Any, tangents: Any) -> Any:
    (z, y), (dz, dy) = primals, tangents
    neg, pos = _softplus_pair(z)
    return y * neg + (1 - y) * pos, (jax.nn.sigmoid(z) - y) * dz + (neg - pos) * dy


@jax.custom_jvp
def _bce_pw_rule(z: Any, y: Any, pw: Any) -> Any:
    """``_bce_rule`` with ``pos_weight`` ``pw`` on the positive term."""
    neg, pos = _softplus_pair(z)
    return pw * y * neg + (1 - y) * pos


@_bce_pw_rule.defjvp
def _bce_pw_jvp(primals: Any, tangents: Any) -> Any:
    (z, y, pw), (dz, dy, dpw) = primals, tangents
    neg, pos = _softplus_pair(z)
    dz_coef = jax.nn.sigmoid(z) * (pw * y + 1 - y) - pw * y
    return (pw * y * neg + (1 - y) * pos,
            dz_coef * dz + (pw * neg - pos) * dy + y * neg * dpw)


def _softplus_pair(z: Any) -> tuple[Any, Any]:
    """``(softplus(-z), softplus(z))`` from one ``log1p(exp(-|z|))``."""
    shared = jnp.log1p(jnp.exp(-jnp.abs(z)))
    return jnp.maximum(-z, 0) + shared, jnp.maximum(z, 0) + shared


def _bce_with_logits_plain(z: Any, y: Any, pos_weight: Any) -> Any:
    # traced code only (eagerly each operation is dispatched on its own: the generic
    # formula's fewer operations are faster there)
    if not isinstance(z, jax.core.Tracer):
        return None
    return _bce_rule(z, y) if pos_weight is None else _bce_pw_rule(z, y, pos_weight)


def _clamped_log_sum_exp(x: Any, shift: Any, axis: int) -> Any:
    """``log(sum(exp(min(x, big) - shift)))`` along ``axis`` (kept), ``big`` the dtype's
    largest value: ``log k`` in a slice holding ``k`` entries ``+inf`` (shifted by ``big``),
    finite gradients everywhere."""
    big = jnp.finfo(x.dtype).max
    return jnp.log(jnp.sum(jnp.exp(jnp.minimum(x, big) - shift), axis=axis, keepdims=True))


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _log_sum_exp_rule(x: Any, shift: Any, axis: int) -> Any:
    """``_clamped_log_sum_exp`` in value wherever a slice is finite (``+inf`` in a slice
    holding ``+inf``, which the caller replaces), without the clamp: its elementwise
    ``min`` in the fused reduction costs XLA's CPU loop a third of its speed. Differentiated
    (``jvp``, ``grad``), it is ``_clamped_log_sum_exp``, whose gradient XLA fuses well."""
    return jnp.log(jnp.sum(jnp.exp(x - shift), axis=axis, keepdims=True))


@_log_sum_exp_rule.defjvp
def _log_sum_exp_jvp(axis: int, primals: Any, tangents: Any) -> Any:
    return jax.jvp(functools.partial(_clamped_log_sum_exp, axis=axis), primals, tangents)


def _shifted_log_sum_exp(x: Any, m: Any, axis: int) -> Any:
    """``(shift, x - shift, log_s)`` of the label cross-entropy's ``log_softmax_parts``
    (``losses._softmax``) for traced code, with its limits (``log_s = log k`` in a slice
    holding ``k`` entries ``+inf``) and without
    the clamp of ``x`` in an undifferentiated forward pass (``_log_sum_exp_rule``); ``log
    k`` is counted only when a slice holds ``+inf`` (``lax.cond``), and the shift, one
    value per slice, is kept out of the fused loop (``optimization_barrier``: XLA would
    recompute its selects per element). Eager arrays take the generic formula."""
    if not isinstance(x, jax.core.Tracer):
        return None
    big = jnp.finfo(x.dtype).max
    mc = jnp.minimum(m, big)
    shift = jax.lax.optimization_barrier(jnp.where(jnp.isfinite(mc), mc, 0))
    log_s = _log_sum_exp_rule(x, shift, axis)
    limit = m == jnp.inf
    log_k = jax.lax.cond(
        jnp.any(limit),
        lambda: jnp.log(jnp.sum(x == jnp.inf, axis=axis, keepdims=True).astype(x.dtype)),
        lambda: jnp.zeros_like(log_s))
    return shift, x - shift, jnp.where(limit, log_k, log_s)


def _if_finite(x: Any, plain: Callable[[], Any], guarded: Callable[[], Any]) -> Any:
    """``lax.cond``: the plain formula unless ``sum(x * 0)`` is NaN (an entry of ``x`` is
    infinite or NaN). The sum is one vectorised pass; under ``vmap`` both branches run."""
    return jax.lax.cond(jnp.isnan(jnp.sum(x * 0)), guarded, plain)


KERNELS: dict[str, Callable[..., Any]] = {
    "logsumexp": _logsumexp,
    "if_finite": _if_finite,
    "shifted_log_sum_exp": _shifted_log_sum_exp,
    "softplus": _softplus,
    "log_sigmoid": _log_sigmoid,
    "bce_with_logits_plain": _bce_with_logits_plain,
    "scan": _scan,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
}


def _register_parts() -> None:
    """``Parts`` is a pytree: its statistics are the leaves, so a jitted function may
    return or take one (pass one of gradient accumulation under ``jax.jit``)."""
    from .._replicas import Parts

    def flatten(p: Parts) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return p.stats, (p.fn, p.xp, p._then)

    def unflatten(aux: tuple[Any, ...], stats: Any) -> Parts:
        fn, xp, then = aux
        return Parts(fn, xp, tuple(stats), then)

    with contextlib.suppress(ValueError):  # already registered (the module was reloaded)
        jax.tree_util.register_pytree_node(Parts, flatten, unflatten)


_register_parts()
