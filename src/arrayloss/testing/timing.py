"""Interleaved timing of two callables: the ratio arrayloss / peer is the median of the
per-pair ratios of repeats that alternate which runs first (the machine's speed drifts;
pairs keep the ratio meaningful). Used by the report and the benchmark."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["interleaved", "sync"]


def sync(x: Any) -> Any:
    """Wait for asynchronous results (JAX arrays, CUDA tensors, CuPy arrays, and tuples or
    lists of them); a no-op for NumPy and CPU torch. Returns ``x``."""
    for leaf in x if isinstance(x, (tuple, list)) else (x,):
        for y in leaf if isinstance(leaf, (tuple, list)) else (leaf,):
            if hasattr(y, "block_until_ready"):
                y.block_until_ready()
            elif getattr(getattr(y, "device", None), "type", None) == "cuda":
                import torch

                torch.cuda.synchronize(y.device)
            elif type(y).__module__.startswith("cupy"):
                import cupy

                cupy.cuda.get_current_stream().synchronize()
    return x


def interleaved(ours: Callable[[], Any], theirs: Callable[[], Any], *, budget_s: float = 0.4,
                min_reps: int = 5, max_reps: int = 50, warmup: int = 1
                ) -> tuple[float, float, float, int]:
    """Time both callables in alternating order until ``budget_s`` has passed (at least
    ``min_reps``, at most ``max_reps`` pairs), after ``warmup`` calls of each (compiles,
    caches). Returns (median seconds of ``ours``, of ``theirs``, median of the per-pair
    ratios ``ours / theirs``, pairs)."""
    for _ in range(warmup):
        sync(ours())
        sync(theirs())
    to: list[float] = []
    tt: list[float] = []
    start = time.perf_counter()
    while len(to) < min_reps or (time.perf_counter() - start < budget_s and len(to) < max_reps):
        order = ((ours, to), (theirs, tt)) if len(to) % 2 == 0 else ((theirs, tt), (ours, to))
        for fn, acc in order:
            t0 = time.perf_counter()
            sync(fn())
            acc.append(time.perf_counter() - t0)
    ratios = [a / max(b, 1e-9) for a, b in zip(to, tt)]
    return statistics.median(to), statistics.median(tt), statistics.median(ratios), len(to)
