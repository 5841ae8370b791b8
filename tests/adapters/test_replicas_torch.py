"""Data parallelism on torch: two gloo processes (spawned, loopback file rendezvous, bounded
in time) train a DDP model on halves of a batch whose counts differ between the halves
(ignored labels, all-ignored images, per-sample weights). With ``replicas=`` (or a module's
``process_group=``) the loss and DDP's averaged gradient equal the single-process ones on
the full batch, to float64 rounding; without it (each worker's own mean) they do not.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conftest import torch_or_skip

torch = torch_or_skip()
import arrayloss as al  # noqa: E402
import arrayloss.torch as alt  # noqa: E402
from adapters._replica_cases import cases  # noqa: E402

B, S, C, D = 8, 6, 3, 4  # images, pixels per image, classes, input features
WORLD = 2


def _data() -> dict[str, Any]:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(B, S, D, generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (B, S), generator=g)
    y[:3] = -100  # rank 0: three images without a counted pixel
    y[4, :2] = -100
    y01 = torch.randint(0, 2, (B, S), generator=g)
    w = torch.rand(B, S, generator=g, dtype=torch.float64)
    w[:4] *= 0.1  # rank 0's samples weigh less
    groups = torch.arange(B) % 3  # global group ids (the same on every rank)
    return {"x": x, "y": y, "y01": y01, "w": w, "groups": groups}


def _model() -> Any:
    torch.manual_seed(0)
    return torch.nn.Linear(D, C).double()


# each case: (logits (b, S, C), the batch's other arrays, replicas) -> the loss
CASES: dict[str, Callable[..., Any]] = {
    **cases(torch.sigmoid),
    "binary_cross_entropy_sum": lambda z, d, r: al.binary_cross_entropy(
        torch.sigmoid(z[..., 0]), d["y01"], weight=d["w"], reduction="sum", replicas=r),
    "dice_ce_loss": lambda z, d, r: al.dice_ce_loss(
        z, d["y"], per_image=False, ignore_index=-100, replicas=r),
    # the module, channels-first as torch's: process_group instead of replicas
    "DiceCELoss_module": lambda z, d, r: alt.DiceCELoss(
        process_group=r, ignore_index=-100, per_image=True)(z.permute(0, 2, 1), d["y"]),
}


def _step(model: Any, case: str, data: dict[str, Any], replicas: Any) -> tuple[float, Any]:
    model.zero_grad()
    loss = CASES[case](model(data["x"]), data, replicas)
    loss.backward()
    weight = model.module.weight if hasattr(model, "module") else model.weight
    return float(loss.detach()), weight.grad.detach().clone()


def _worker(rank: int, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{os.path.join(out, 'store')}",
                            rank=rank, world_size=WORLD,
                            timeout=datetime.timedelta(seconds=120))
    try:
        group = dist.group.WORLD
        full = _data()
        half = B // WORLD
        data = {k: v[rank * half:(rank + 1) * half] for k, v in full.items()}
        ddp = torch.nn.parallel.DistributedDataParallel(_model())
        result: dict[str, Any] = {}
        for case in CASES:
            result[case] = {"global": _step(ddp, case, data, group),
                            "local": _step(ddp, case, data, None)}
        # under torch.compile (one graph: the collective is traced, not a graph break)
        compiled = torch.compile(
            lambda z, y: al.cross_entropy(z, y, ignore_index=-100, replicas=group),
            fullgraph=True)
        z = ddp.module(data["x"]).detach().requires_grad_(True)
        value = compiled(z, data["y"])
        value.backward()
        result["compiled"] = (float(value.detach()), z.grad.clone())
        # the centre update: every rank moves the centres as the full batch does
        feats = ddp.module(data["x"]).detach()[:, 0]
        result["centers"] = al.update_centers(feats, data["groups"], torch.zeros(3, C,
                                              dtype=torch.float64), replicas=group)
        torch.save(result, os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("ddp")
    torch.multiprocessing.spawn(_worker, args=(str(out),), nprocs=WORLD)
    return [torch.load(out / f"rank{r}.pt") for r in range(WORLD)]


def _full(case: str) -> tuple[float, Any]:
    return _step(_model(), case, _data(), None)


def _rel(a: Any, b: Any) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_ddp_with_replicas_is_the_full_batch(ranks: list[dict[str, Any]], case: str) -> None:
    value, grad = _full(case)
    for r in ranks:
        got_value, got_grad = r[case]["global"]
        np.testing.assert_allclose(got_value, value, rtol=1e-12)
        np.testing.assert_allclose(got_grad.numpy(), grad.numpy(), rtol=1e-11, atol=1e-13)
    # each worker's own mean (what DDP gives without replicas) is another objective
    local_grad = ranks[0][case]["local"][1]  # DDP averaged: the same on both ranks
    np.testing.assert_array_equal(local_grad.numpy(), ranks[1][case]["local"][1].numpy())
    assert _rel(local_grad, grad) > 1e-2, case


@pytest.mark.slow
def test_compiled_replicas_and_synchronised_centres(ranks: list[dict[str, Any]]) -> None:
    data = _data()
    z = _model()(data["x"]).detach().requires_grad_(True)
    value = al.cross_entropy(z, data["y"], ignore_index=-100)
    value.backward()
    half = B // WORLD
    for rank, r in enumerate(ranks):
        got_value, got_grad = r["compiled"]
        np.testing.assert_allclose(got_value, float(value.detach()), rtol=1e-12)
        # a rank's gradient w.r.t. its own logits is the full batch's rows, times the
        # number of ranks (the collective sums the ranks' gradients; DDP divides again)
        rows = z.grad[rank * half:(rank + 1) * half] * WORLD
        np.testing.assert_allclose(got_grad.numpy(), rows.numpy(), rtol=1e-12, atol=1e-15)
    want = al.update_centers(z.detach()[:, 0], data["groups"],
                             torch.zeros(3, C, dtype=torch.float64))
    for r in ranks:
        np.testing.assert_allclose(r["centers"].numpy(), want.numpy(), rtol=1e-12)
