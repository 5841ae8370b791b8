"""Losses evaluated with Dask distributed on data larger than one worker's memory.

A loopback ``LocalCluster`` of two worker processes (one thread each) with a memory limit
below the size of the data. The inputs are built on the workers, block by block: block
``loc`` of an input comes from ``default_rng([seed, *loc])``, so the test process never holds
a whole input; its float64 reference rebuilds the blocks one at a time and accumulates the
sums. Every loss returns a lazy Dask array (its graph is checked: one task per block in each
layer, no layer pairing every block with every other), which the cluster computes; the
workers must survive it (a nanny restarts a worker that goes past its memory limit).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import dask.array as da
import numpy as np
import psutil
import pytest
from dask.distributed import Client, Future, LocalCluster
from distributed.diagnostics.progressbar import TextProgressBar

import arrayloss as al

MEMORY_LIMIT = 256 * 2**20  # bytes per worker: the main case's data exceeds both workers' sum
TIMEOUT = 120  # seconds for one computation or gather
BLOCK = 1_250_000  # float64 elements per block of the large inputs (10 MB)

Values = Callable[[tuple[int, ...], tuple[int, ...]], np.ndarray]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit=MEMORY_LIMIT, dashboard_address=None, host="127.0.0.1",
                      local_directory=str(tmp_path_factory.mktemp("dask-workers")),
                      silence_logs=logging.ERROR,
                      # the scheduler's HTTP routes (health, metrics) on a free loopback port:
                      # clusters of several test processes do not race for 8787
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            Client(cluster, timeout=TIMEOUT) as c:
        c.wait_for_workers(2, timeout=TIMEOUT)
        yield c


def _lazy(seed: int, shape: tuple[int, ...], chunks: tuple[int, ...], kind: str = "normal",
          classes: int = 0) -> tuple[Any, Values]:
    """A Dask array built on the workers and ``values(loc, shape)``, which builds its block
    ``loc`` (of that shape) here. ``kind``: ``"normal"`` (standard normal), ``"uniform"``
    (in [0, 1)) or ``"labels"`` (integers in [-1, classes): -1 is the ignored label).

    Both are closures: Dask's pickling sends them by value, so the workers never import this
    file (checked in ``test_inputs_are_built_on_the_workers``)."""

    def values(loc: tuple[int, ...], block: tuple[int, ...]) -> np.ndarray:
        rng = np.random.default_rng([seed, *loc])
        if kind == "labels":
            return rng.integers(-1, classes, size=block)
        return rng.random(block) if kind == "uniform" else rng.standard_normal(block)

    def build(block_info: dict | None = None) -> np.ndarray:
        assert block_info is not None
        info = block_info[None]
        return values(tuple(info["chunk-location"]), tuple(info["chunk-shape"]))

    dtype = np.dtype(np.int64 if kind == "labels" else np.float64)
    arr = da.map_blocks(build, chunks=da.core.normalize_chunks(chunks, shape), dtype=dtype,
                        meta=np.empty((0,) * len(shape), dtype))
    return arr, values


def _blocks(arr: Any) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
    """``(loc, shape)`` of every block of ``arr``, in C order."""
    for loc in itertools.product(*(range(len(c)) for c in arr.chunks)):
        yield loc, tuple(c[i] for c, i in zip(arr.chunks, loc))


def _lazy_result(loss: Any, blocks: int) -> Any:
    """Check that ``loss`` is a lazy 0-d Dask array whose graph has at most one task per
    input block in each layer (no layer pairs blocks of two inputs all against all)."""
    assert isinstance(loss, da.Array)
    assert loss.shape == ()
    layers = loss.__dask_graph__().layers
    widest = max(len(layer) for layer in layers.values())
    assert widest <= blocks, (widest, blocks)
    return loss


def _compute(client: Client, loss: Any) -> float:
    """Compute ``loss`` on the cluster; the workers must be the same afterwards (none was
    restarted for going past its memory limit)."""
    workers = set(client.scheduler_info()["workers"])
    value = client.compute(loss).result(timeout=TIMEOUT)
    assert set(client.scheduler_info()["workers"]) == workers
    return float(value)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def test_inputs_are_built_on_the_workers(client: Client) -> None:
    x, values = _lazy(7, (4 * BLOCK,), (BLOCK,))
    first = client.compute(x.blocks[1]).result(timeout=TIMEOUT)
    np.testing.assert_array_equal(first, values((1,), (BLOCK,)))

    def imported(name: str = __name__) -> bool:
        return name in sys.modules

    assert not any(client.run(imported).values())


def test_cluster_listens_on_loopback_only(client: Client) -> None:
    info = client.scheduler_info()
    scheduler_ports = {int(info["address"].rsplit(":", 1)[1]), *info["services"].values()}
    workers = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
    nannies = [w.parent() for w in workers]
    sockets = [(p.pid, c.laddr) for p in (*workers, *nannies)
               for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    sockets += [(0, c.laddr) for c in psutil.Process().net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN and c.laddr.port in scheduler_ports]
    assert len(sockets) >= 2 + len(scheduler_ports)  # each worker listens at least once
    assert {a.ip for _, a in sockets} == {"127.0.0.1"}, sockets


def test_mse_loss_on_data_larger_than_a_worker(client: Client,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    n = 5 * 10**7  # two inputs: 10^8 float64 elements, 800 MB
    pred, pv = _lazy(1, (n,), (BLOCK,))
    target, tv = _lazy(2, (n,), (BLOCK,))
    assert pred.nbytes + target.nbytes > 2 * MEMORY_LIMIT  # the whole cluster's memory
    loss = _lazy_result(al.mse_loss(pred, target), pred.numblocks[0])

    future: Future = client.compute(loss)
    bar = TextProgressBar([future], interval="1s", start=False)
    workers = set(client.scheduler_info()["workers"])
    client.sync(bar.listen, callback_timeout=TIMEOUT)
    got = float(future.result(timeout=TIMEOUT))
    assert bar.status == "finished"
    assert "100% Completed" in capsys.readouterr().out
    assert set(client.scheduler_info()["workers"]) == workers

    total = math.fsum(float(np.sum((pv(loc, s) - tv(loc, s)) ** 2)) for loc, s in _blocks(pred))
    want = total / n
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_weighted_bce_with_logits(client: Client) -> None:
    n = 8 * BLOCK  # three inputs of 10^7
    z, zv = _lazy(3, (n,), (BLOCK,))
    y, yv = _lazy(4, (n,), (BLOCK,), "uniform")  # soft targets
    w, wv = _lazy(5, (n,), (BLOCK,), "uniform")
    loss = al.binary_cross_entropy_with_logits(z, y, weight=w, reduction="weighted_mean")
    got = _compute(client, _lazy_result(loss, z.numblocks[0]))

    num, den = [], []
    for loc, s in _blocks(z):
        zb, yb, wb = zv(loc, s), yv(loc, s), wv(loc, s)
        num.append(float(np.sum(wb * (_softplus(zb) - zb * yb))))
        den.append(float(np.sum(wb)))
    np.testing.assert_allclose(got, math.fsum(num) / math.fsum(den), rtol=1e-10)


def test_cross_entropy_with_ignored_labels(client: Client) -> None:
    classes = 10
    chunk = BLOCK // classes
    rows = 16 * chunk  # 2 * 10^6 rows in 16 blocks
    z, zv = _lazy(6, (rows, classes), (chunk, classes))
    y, yv = _lazy(7, (rows,), (chunk,), "labels", classes)
    loss = al.cross_entropy(z, y, ignore_index=-1)
    got = _compute(client, _lazy_result(loss, z.numblocks[0]))

    total, count = [], 0
    for loc, s in _blocks(y):
        zb, yb = zv((*loc, 0), (*s, classes)), yv(loc, s)
        kept = yb != -1
        lse = np.logaddexp.reduce(zb[kept], axis=-1)
        total.append(float(np.sum(lse - zb[kept, yb[kept]])))
        count += int(np.sum(kept))
    assert 0 < count < rows  # some labels are ignored: the mean divides by the others
    np.testing.assert_allclose(got, math.fsum(total) / count, rtol=1e-10)


def test_pooled_dice_loss(client: Client) -> None:
    batch, side, classes = 64, 96, 4  # logits: 2.4 * 10^6 float64 elements
    z, zv = _lazy(8, (batch, side, side, classes), (8, side, side, classes))
    y, yv = _lazy(9, (batch, side, side), (8, side, side), "labels", classes)
    loss = al.dice_loss(z, y, activation="softmax", per_image=False, ignore_index=-1)
    got = _compute(client, _lazy_result(loss, z.numblocks[0]))

    tp, sp, sg = (np.zeros(classes) for _ in range(3))
    for loc, s in _blocks(y):
        zb, yb = zv((*loc, 0), (*s, classes)), yv(loc, s)
        kept = yb != -1
        p = np.exp(zb[kept] - np.logaddexp.reduce(zb[kept], axis=-1, keepdims=True))
        g = yb[kept, None] == np.arange(classes)
        tp += np.sum(p * g, axis=0)
        sp += np.sum(p, axis=0)
        sg += np.sum(g, axis=0)
    want = np.mean(1.0 - 2.0 * tp / (sp + sg))
    np.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.parametrize(("x_shape", "x_chunks", "i_shape", "i_chunks", "axis"), [
    ((400, 6), (5, 6), (400, 1), (8, 1), -1),  # a label per row, chunked otherwise than x
    ((400, 6), (5, 2), (400, 3), (400, 3), 1),  # the class axis in several chunks
    ((6, 400), (3, 10), (2, 400), (1, 8), 0),  # channels-first
    ((1, 6), (1, 6), (400, 2), (10, 2), 1),  # x broadcast along the batch
    ((400, 1, 6), (10, 1, 6), (400, 5, 2), (8, 5, 2), 2),  # a size-1 axis broadcast
])
def test_take_along_axis_is_blockwise(x_shape: tuple[int, ...], x_chunks: tuple[int, ...],
                                      i_shape: tuple[int, ...], i_chunks: tuple[int, ...],
                                      axis: int) -> None:
    """The Dask adapter's gather pairs each block of indices with one block of ``x``: its
    graph grows with the number of blocks, not with their product (a flat ``take`` with a
    Dask index pairs every block with every block: at 32 blocks that quadratic graph made the
    cross-entropy above six times slower)."""
    from arrayloss._kernels.dask import take_along_axis

    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    i = rng.integers(0, x_shape[axis], size=i_shape)
    dx, di = da.from_array(x, chunks=x_chunks), da.from_array(i, chunks=i_chunks)
    got = take_along_axis(dx, di, axis)
    widest = max(len(layer) for layer in got.__dask_graph__().layers.values())
    assert widest <= 2 * (dx.npartitions + di.npartitions)
    np.testing.assert_array_equal(got.compute(scheduler="sync"),
                                  np.take_along_axis(x, i, axis=axis))
