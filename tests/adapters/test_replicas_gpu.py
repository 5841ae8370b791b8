"""Data parallelism on a GPU (the ``torch:cuda`` and ``jax:gpu`` rows; they skip without a GPU
unless required): ``replicas=`` over a one-process NCCL group for CUDA tensors (eager and
``torch.compile(fullgraph=True)``) and over a mesh axis of the GPU inside ``jax.shard_map``,
with ``NamedSharding`` global arrays under ``jax.jit``: the values and gradients are the plain
ones (a group of one). The CPU tests check groups of several replicas; these check that the
collectives run on the device (NCCL refuses what gloo accepts, e.g. a strided gradient).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss.testing import backends
from conftest import require_backend

B, S, C = 8, 6, 3


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, C, size=(B, S))
    y[:3] = -1
    return rng.normal(size=(B, S, C)), y


CASES: dict[str, Callable[..., Any]] = {
    "cross_entropy": lambda z, y, r: al.cross_entropy(z, y, ignore_index=-1, replicas=r),
    "dice_pooled": lambda z, y, r: al.dice_loss(z, y, activation="softmax", per_image=False,
                                                ignore_index=-1, replicas=r),
    "lovasz_pooled": lambda z, y, r: al.lovasz_softmax_loss(
        z, y, activation="softmax", per_image=False, ignore_index=-1, replicas=r),
    "dice_ce_pooled": lambda z, y, r: al.dice_ce_loss(z, y, per_image=False, ignore_index=-1,
                                                      replicas=r),
    "ntxent": lambda z, y, r: al.ntxent_loss(z[:, 0], y[:, -1] % 3, replicas=r),
}


@pytest.fixture(scope="module")
def nccl_group(tmp_path_factory: pytest.TempPathFactory) -> Any:
    require_backend(backends.by_id("torch:cuda"))
    import torch.distributed as dist

    store = os.path.join(tmp_path_factory.mktemp("nccl"), "store")
    dist.init_process_group("nccl", init_method=f"file://{store}", rank=0, world_size=1,
                            timeout=datetime.timedelta(seconds=60))
    yield dist.group.WORLD
    dist.destroy_process_group()


@pytest.mark.parametrize("case", list(CASES), ids=[f"torch:cuda-{c}" for c in CASES])
def test_cuda_replicas(nccl_group: Any, case: str) -> None:
    import torch

    z0, y0 = _inputs()
    y = torch.tensor(y0, device="cuda")
    z = torch.tensor(z0, device="cuda", requires_grad=True)
    got = CASES[case](z, y, nccl_group)
    (g_got,) = torch.autograd.grad(got, z)
    want = CASES[case](z, y, None)
    (g_want,) = torch.autograd.grad(want, z)
    assert got.device.type == "cuda"
    np.testing.assert_allclose(float(got.detach()), float(want.detach()), rtol=1e-12)
    np.testing.assert_allclose(g_got.cpu().numpy(), g_want.cpu().numpy(), rtol=1e-12,
                               atol=1e-15)
    if case == "cross_entropy":  # the collective is traced into one graph
        compiled = torch.compile(lambda z: CASES[case](z, y, nccl_group), fullgraph=True)
        np.testing.assert_allclose(float(compiled(z).detach()), float(want.detach()),
                                   rtol=1e-12)


@pytest.mark.parametrize("case", list(CASES), ids=[f"jax:gpu-{c}" for c in CASES])
def test_gpu_shard_map_and_global_arrays(case: str) -> None:
    require_backend(backends.by_id("jax:gpu"))
    import jax
    import jax.numpy as jnp
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    gpu = jax.devices("gpu")[0]
    mesh = Mesh(np.array([gpu]), ("batch",))
    z0, y0 = _inputs()
    z, y = jax.device_put(jnp.asarray(z0), gpu), jax.device_put(jnp.asarray(y0), gpu)
    fn = CASES[case]
    mapped = jax.shard_map(lambda z, y: fn(z, y, "batch"), mesh=mesh,
                           in_specs=(P("batch"), P("batch")), out_specs=P())
    value, grad = jax.jit(jax.value_and_grad(mapped))(z, y)
    want, want_grad = jax.value_and_grad(lambda z: fn(z, y, None))(z)
    np.testing.assert_allclose(float(value), float(want), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(want_grad), rtol=1e-12,
                               atol=1e-15)
    spec = NamedSharding(mesh, P("batch"))
    global_value = jax.jit(lambda z, y: fn(z, y, None))(jax.device_put(z, spec),
                                                        jax.device_put(y, spec))
    np.testing.assert_allclose(float(global_value), float(want), rtol=1e-12)
