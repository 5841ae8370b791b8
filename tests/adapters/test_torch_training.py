"""``arrayloss.torch`` in training: a small CNN trained 20 steps with an arrayloss module
follows the same run with torch's / MONAI's module step by step; inside a DDP model (two gloo
processes) the loss's buffers are broadcast with the model's and the run equals the
single-process run on the full batch."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conftest import require_module, torch_or_skip

torch = torch_or_skip()
import arrayloss.torch as alt  # noqa: E402

STEPS = 20


def _net(classes: int = 3) -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(8, classes, 1))


def _data(ignore: bool) -> tuple[Any, Any]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 1, 12, 12, generator=g)
    y = (x[:, 0] > 0.3).long() + (x[:, 0] > 1.0).long()  # learnable 3-class labels
    if ignore:
        y[:, :2, :] = -100
    return x, y


def _train(criterion: Callable[[Any, Any], Any], target_of: Callable[[Any], Any],
           ignore: bool) -> tuple[list[float], list[Any]]:
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9)
    x, y = _data(ignore)
    history = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = criterion(net(x), target_of(y))
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
    return history, [p.detach().clone() for p in net.parameters()]


def _same_run(a: tuple[list[float], list[Any]], b: tuple[list[float], list[Any]]) -> None:
    np.testing.assert_allclose(a[0], b[0], rtol=2e-5, atol=1e-7)
    for pa, pb in zip(a[1], b[1]):
        np.testing.assert_allclose(pa.numpy(), pb.numpy(), rtol=1e-4, atol=1e-6)
    assert a[0][-1] < 0.7 * a[0][0]  # it learned


def test_cross_entropy_training_follows_torch_step_by_step() -> None:
    w = torch.tensor([0.5, 1.0, 2.0])
    ours = _train(alt.CrossEntropyLoss(w, label_smoothing=0.05), lambda y: y, ignore=True)
    theirs = _train(torch.nn.CrossEntropyLoss(w, label_smoothing=0.05), lambda y: y,
                    ignore=True)
    _same_run(ours, theirs)


def test_dice_ce_training_follows_monai_step_by_step() -> None:
    require_module("monai")
    from monai.losses import DiceCELoss

    w = torch.tensor([0.5, 1.0, 2.0])
    ours = _train(alt.DiceCELoss(weight=w, smooth=1e-5, lambda_dice=0.7),
                  lambda y: y, ignore=False)
    theirs = _train(DiceCELoss(softmax=True, to_onehot_y=True, weight=w, lambda_dice=0.7),
                    lambda y: y[:, None], ignore=False)
    _same_run(ours, theirs)


# ------------------------------------------------------------------------ DDP
class _Segmenter(torch.nn.Module):
    """A model that owns its criterion, so that DDP broadcasts the loss's buffers too."""

    def __init__(self, weight: Any) -> None:
        super().__init__()
        self.net = _net()
        self.criterion = alt.DiceCELoss(weight=weight)

    def forward(self, x: Any, y: Any) -> Any:
        return self.criterion(self.net(x), y)


def _ddp_worker(rank: int, out: str) -> None:
    import torch.distributed as dist

    # the ranks meet through a file (no free port to race for); a rank that never joins is an
    # error after two minutes, not a hang of gloo's default 30
    dist.init_process_group("gloo", init_method=f"file://{os.path.join(out, 'store')}",
                            rank=rank, world_size=2, timeout=datetime.timedelta(seconds=120))
    try:
        # rank 1 starts from other class weights: DDP's broadcast gives it rank 0's
        model = _Segmenter(torch.ones(3) if rank == 0 else torch.tensor([0.5, 1.0, 2.0]))
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.2)
        x, y = _data(ignore=False)
        shard = slice(2 * rank, 2 * rank + 2)
        for _ in range(5):
            opt.zero_grad()
            ddp(x[shard], y[shard]).backward()
            opt.step()
        torch.save({"weight": model.criterion.weight,
                    "params": [p.detach() for p in model.net.parameters()]},
                   os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_broadcasts_the_loss_buffers_and_matches_the_full_batch(tmp_path) -> None:
    torch.multiprocessing.spawn(_ddp_worker, args=(str(tmp_path),), nprocs=2)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    np.testing.assert_array_equal(r1["weight"].numpy(), [1.0, 1.0, 1.0])
    for a, b in zip(r0["params"], r1["params"]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # the per-image Dice mean and the pixel CE mean over equal shards average to the
    # full-batch means (no ignored pixels here), so DDP equals one process on the batch
    ref = _Segmenter(torch.ones(3))
    opt = torch.optim.SGD(ref.parameters(), lr=0.2)
    x, y = _data(ignore=False)
    for _ in range(5):
        opt.zero_grad()
        ref(x, y).backward()
        opt.step()
    for a, b in zip(r0["params"], ref.net.parameters()):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
