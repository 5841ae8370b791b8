"""Data parallelism on JAX: ``replicas=`` a named axis of ``jax.shard_map`` over the 4 host CPU
devices the test process is given (``arrayloss.testing.backends.configure``). A batch whose
counts differ between the shards (ignored labels, all-ignored images, per-sample weights)
gives, with ``replicas``, the unsharded loss and gradient (to float64 rounding); each
device's own mean, averaged (``pmean``), does not. Every registered loss also traces with
``replicas`` inside ``shard_map`` (a one-device axis, where the value is the plain one).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from arrayloss import catalog
from arrayloss.testing import backends
from conftest import jax_or_skip, require_backend

jax = jax_or_skip()
import jax.numpy as jnp  # noqa: E402
from jax.sharding import Mesh  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import arrayloss as al  # noqa: E402
from adapters._replica_cases import cases  # noqa: E402

B, S, C = 8, 6, 3
DEVICES = 4


def _mesh(n: int) -> Any:
    cpus = jax.devices("cpu")
    assert len(cpus) >= n, (
        f"the test process has {len(cpus)} CPU devices; arrayloss.testing.backends.configure() "
        "gives it 4 (XLA_FLAGS=--xla_force_host_platform_device_count=4) when it runs before "
        "jax is imported")
    return Mesh(np.array(cpus[:n]), ("batch",))


def _data() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    y = rng.integers(0, C, size=(B, S))
    y[:3] = -100  # the first shards: images without a counted pixel
    y[4, :2] = -100
    w = rng.uniform(size=(B, S))
    w[:4] *= 0.1
    return {"z": jnp.asarray(rng.normal(size=(B, S, C))), "y": jnp.asarray(y),
            "y01": jnp.asarray(rng.integers(0, 2, size=(B, S))), "w": jnp.asarray(w),
            "groups": jnp.asarray(np.arange(B) % 3)}


CASES: dict[str, Callable[..., Any]] = {
    **cases(jax.nn.sigmoid),
    "generalized_dice_pooled": lambda z, d, r: al.generalized_dice_loss(
        z, d["y"], activation="softmax", per_image=False, ignore_index=-100, replicas=r),
    "dice_focal_loss": lambda z, d, r: al.dice_focal_loss(
        z, d["y"], per_image=False, ignore_index=-100, replicas=r),
}


@pytest.mark.parametrize("case", list(CASES))
def test_shard_map_with_replicas_is_the_unsharded_loss(case: str) -> None:
    require_backend(backends.by_id("jax"))
    mesh = _mesh(DEVICES)
    data = _data()
    fn = CASES[case]
    rest = {k: v for k, v in data.items() if k != "z"}

    def sharded(replicas: Any) -> Callable[[Any], Any]:
        def local(z: Any, d: dict[str, Any]) -> Any:
            loss = fn(z, d, replicas)
            return loss if replicas is not None else jax.lax.pmean(loss, "batch")

        mapped = jax.shard_map(local, mesh=mesh, in_specs=(P("batch"), P("batch")),
                               out_specs=P())
        return lambda z: mapped(z, rest)

    whole = lambda z: fn(z, data, None)  # noqa: E731
    value, grad = jax.value_and_grad(whole)(data["z"])
    got, got_grad = jax.jit(jax.value_and_grad(sharded("batch")))(data["z"])
    np.testing.assert_allclose(float(got), float(value), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(got_grad), np.asarray(grad), rtol=1e-10,
                               atol=1e-15)
    # each device's own mean, averaged over the devices, is another objective
    _, naive_grad = jax.jit(jax.value_and_grad(sharded(None)))(data["z"])
    g = np.asarray(grad)
    assert np.max(np.abs(np.asarray(naive_grad) - g)) > 1e-2 * np.max(np.abs(g)), case


# the losses (a function with a reduction); box_iou is a metric
RECORDS = [r for r in catalog.records()
           if "reduction" in inspect.signature(r.fn).parameters]


def test_every_loss_has_replicas() -> None:
    assert len(RECORDS) >= 55
    for r in RECORDS:
        assert "replicas" in inspect.signature(r.fn).parameters, r.name


@pytest.mark.parametrize("record", RECORDS, ids=[r.name for r in RECORDS])
def test_every_loss_takes_a_named_axis_inside_shard_map(record: catalog.Record) -> None:
    """``replicas`` reaches the reduction of every registered loss and traces in
    ``shard_map``: over an axis of one device the collective is the identity, so the value
    is the plain call's."""
    backend = require_backend(backends.by_id("jax"))
    reason = record.unsupported.get(backend.id) or record.unsupported.get(backend.module)
    if reason:
        pytest.xfail(reason)
    case = next(c for c in record.cases
                if all(a.size for a in c.inputs()[0]))  # an empty input has no batch
    args, kw = case.inputs()
    opts = dict(case.options)
    want = np.asarray(record.fn(*args, **opts, **kw))
    mesh = _mesh(1)
    jargs = tuple(jnp.asarray(a) for a in args)
    jkw = {k: jnp.asarray(v) for k, v in kw.items()}

    def local(*a: Any) -> Any:
        return record.fn(*a, **opts, **jkw, replicas="batch")

    # "none" of a loss that gathers the batch returns this replica's rows: a sharded result
    rows = opts.get("reduction") == "none" and want.ndim > 0
    mapped = jax.shard_map(local, mesh=mesh, in_specs=tuple(P() for _ in jargs),
                           out_specs=P("batch") if rows else P())
    got = np.asarray(jax.jit(mapped)(*jargs))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
