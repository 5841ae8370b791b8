"""What one torch call dispatches: every ATen operator (on a GPU each is a kernel launch of a
few microseconds, which decides the time of small and medium batches there) and the scalar
reads that make the host wait for the device (``aten._local_scalar_dense``, ``aten.item``), and
the tensors made from host data (``aten.lift_fresh``: on a GPU an upload the host waits for).

Counted with a ``TorchDispatchMode`` on CPU tensors, after one warm-up call; deterministic,
so the test suite keeps a budget per loss (``tests/test_dispatch.py``) and the benchmark
reports the counts next to the framework's own loss (``python benchmarks/dispatch.py``).

``device_policy()`` treats CPU tensors as device tensors (no value checks, as on CUDA, where
reading values would synchronise): the count a GPU sees.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

#: operators that only make a view or alias (no kernel runs)
VIEWS = frozenset({
    "aten.detach.default", "aten.view.default", "aten._unsafe_view.default",
    "aten.unsqueeze.default", "aten.squeeze.dim", "aten.squeeze.dims", "aten.squeeze.default",
    "aten.expand.default", "aten.t.default", "aten.permute.default", "aten.alias.default",
    "aten.select.int", "aten.slice.Tensor", "aten.as_strided.default", "aten.transpose.int",
    "aten._reshape_alias.default", "aten.reshape.default", "aten.movedim.int",
})
SYNCS = ("aten._local_scalar_dense", "aten.item")
UPLOADS = ("aten.lift_fresh",)


@dataclasses.dataclass(frozen=True)
class Dispatched:
    """The operators one call dispatched, by name."""

    ops: collections.Counter[str]

    @property
    def total(self) -> int:
        """Every operator dispatched."""
        return sum(self.ops.values())

    @property
    def kernels(self) -> int:
        """The operators that run a kernel (views and aliases left out)."""
        return sum(n for op, n in self.ops.items() if op not in VIEWS)

    @property
    def syncs(self) -> int:
        """Scalar reads: each one waits for the device."""
        return sum(n for op, n in self.ops.items() if op.startswith(SYNCS))

    @property
    def uploads(self) -> int:
        """Tensors made from host data (a Python list, a NumPy array): on a GPU each is a
        copy from host memory that waits."""
        return sum(n for op, n in self.ops.items() if op.startswith(UPLOADS))


def record(call: Callable[[], Any]) -> Dispatched:
    """Run ``call()`` once and return what it dispatched."""
    from torch.utils._python_dispatch import TorchDispatchMode

    ops: collections.Counter[str] = collections.Counter()

    class Mode(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            ops[str(func)] += 1
            return func(*args, **(kwargs or {}))

    with Mode():
        call()
    return Dispatched(ops)


@contextlib.contextmanager
def device_policy() -> Iterator[None]:
    """Within the block, CPU tensors are handled as device tensors (no value reads)."""
    from .._kernels import torch as adapter

    saved = adapter.is_host, adapter.eager_host
    adapter.is_host = lambda x: False
    adapter.eager_host = lambda arrays: False  # the small-call lanes' gate
    try:
        yield
    finally:
        adapter.is_host, adapter.eager_host = saved


def tensors(arrays: Sequence[Any], grad_args: Sequence[int] = (),
            device: str = "cpu") -> list[Any]:
    """NumPy arrays as tensors on ``device``: floats as float32, the ``grad_args`` requiring
    grad."""
    import torch

    out = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if np.issubdtype(a.dtype, np.floating):
            t = torch.from_numpy(a.astype(np.float32)).to(device)
            out.append(t.requires_grad_(True) if i in grad_args else t)
        else:
            out.append(torch.from_numpy(a).to(device))
    return out


def device_options(call: Callable[..., Any], options: dict[str, Any],
                   device: str = "cpu") -> dict[str, Any]:
    """``options`` with each array-like value (a list of class weights, a NumPy ``alpha``)
    as a tensor on ``device``, as a GPU user passes them (a host list is the caller's own
    upload); a value ``call`` takes only as a list (``classes``) stays one."""
    import arrayloss

    out = dict(options)
    for k, v in options.items():
        if isinstance(v, (list, tuple, np.ndarray)):
            (t,) = tensors([np.asarray(v)], (), device)
            try:
                with arrayloss.options(validate=False):
                    call(**{**out, k: t})
            except (TypeError, ValueError):
                continue
            out[k] = t
    return out


def count(fn: Callable[..., Any], args: Sequence[Any], backward: bool = False) -> Dispatched:
    """What ``fn(*args)`` dispatches (with ``backward``: and the backward pass of its sum),
    after one warm-up call (first calls fill caches)."""

    def call() -> None:
        out = fn(*args)
        if backward:
            (out if out.ndim == 0 else out.sum()).backward()  # box_iou: a matrix

    call()
    return record(call)


@dataclasses.dataclass(frozen=True)
class Counts:
    """One loss's counts: forward and forward + backward, ours and the leanest peer's."""

    loss: str
    forward: int
    backward: int | None
    device_forward: int
    device_backward: int | None
    syncs: int
    peer: str | None = None
    peer_forward: int | None = None
    peer_backward: int | None = None


def counts(rec: Any, n: int = 1000, peers: bool = True, device: str = "cpu") -> Counts:
    """Counts of a catalogue record on inputs of about ``n`` elements (its ``sized``
    maker) on ``device``, with default options (CPU: values checked) and under the device
    policy; and, with ``peers``, of its torch peers (the one with the fewest forward
    operators)."""
    import importlib.util

    raw = rec.sized(np.random.default_rng(0), n)
    opts = dict(rec.timing_options)

    def ours(*a: Any) -> Any:
        return rec.fn(*a, **opts)

    grad = tuple(i for i in rec.grad_args if np.issubdtype(np.asarray(raw[i]).dtype,
                                                           np.floating))
    fwd = count(ours, tensors(raw, (), device)).total
    bwd = count(ours, tensors(raw, grad, device), True).total if grad else None
    syncs = count(ours, tensors(raw, (), device)).syncs
    with device_policy():
        dfwd = count(ours, tensors(raw, (), device)).total
        dbwd = count(ours, tensors(raw, grad, device), True).total if grad else None
    best: tuple[int, int | None, str] | None = None
    for peer in rec.peers if peers else ():
        if peer.backend != "torch" or not peer.accepts(opts):
            continue
        if importlib.util.find_spec(peer.module) is None:
            continue
        pfn = peer.fn if not opts else (lambda *a, _f=peer.fn: _f(*a, **opts))
        try:
            pf = count(pfn, tensors(raw, (), device)).total
            pb = count(pfn, tensors(raw, grad, device), True).total if grad else None
        except Exception:  # a peer that cannot take these inputs (the benchmark says which)
            continue
        if best is None or pf < best[0]:
            best = (pf, pb, peer.library)
    if best is None:
        return Counts(rec.name, fwd, bwd, dfwd, dbwd, syncs)
    return Counts(rec.name, fwd, bwd, dfwd, dbwd, syncs, best[2], best[0], best[1])
