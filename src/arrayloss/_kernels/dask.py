"""Dask: lazy arrays (never read: reading would compute), the median, and
``take_along_axis``, which Dask's namespace lacks (gathered block by block)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np


def is_concrete(x: Any) -> bool:
    return False


def is_host(x: Any) -> bool:
    return False


def clip(x: Any, min: Any = None, max: Any = None) -> Any:
    # Dask's own clip works block by block (the array-API wrapper broadcasts the bounds to
    # arrays and rechunks them against the input)
    return da.clip(x, min, max)


def median(x: Any, axis: int) -> Any:
    return da.median(x, axis=axis)


def take_along_axis(x: Any, indices: Any, axis: int) -> Any:
    """``take_along_axis`` block by block: ``axis`` is made one chunk in both arrays, the
    other axes are broadcast (NumPy's rule) and chunked alike, and each output block gathers
    from its own block of ``x``. So the graph grows linearly with the number of blocks and no
    block of ``x`` meets another block's indices (a flat ``take`` with a Dask index pairs
    every index block with every block of ``x``: quadratic in the number of blocks)."""
    axis = axis % x.ndim
    k = indices.shape[axis]
    shape = [max(a, b) for a, b in zip(x.shape, indices.shape)]
    for d, (a, b) in enumerate(zip(x.shape, indices.shape)):
        if d != axis and a != b and 1 not in (a, b):
            raise ValueError(f"take_along_axis: shapes {x.shape} and {indices.shape} do not "
                             f"broadcast outside axis {axis}")
    shape[axis] = k
    if math.prod(shape) == 0 or x.shape[axis] == 0:  # nothing to gather: no block to map
        return da.zeros(tuple(shape), dtype=x.dtype)
    # the chunks of the array that spans each axis (x where both do): blocks stay aligned
    chunks = tuple((k,) if d == axis else (x.chunks[d] if x.shape[d] == n else
                                           indices.chunks[d]) for d, n in enumerate(shape))
    xb = _aligned(x, tuple(shape), chunks, axis)
    ib = _aligned(indices, tuple(shape), chunks, axis)
    return da.map_blocks(_take_block, xb, ib, axis=axis, dtype=x.dtype, chunks=chunks,
                         meta=x._meta)


def _aligned(a: Any, shape: tuple[int, ...], chunks: tuple[tuple[int, ...], ...],
             axis: int) -> Any:
    """``a`` broadcast to ``shape`` (its own size and one chunk along ``axis``) in
    ``chunks``: rechunked where it spans an axis, broadcast where it has size 1."""
    n = a.shape[axis]
    own = tuple((n,) if d == axis else (chunks[d] if a.shape[d] == shape[d] else a.chunks[d])
                for d in range(a.ndim))
    full = tuple(n if d == axis else s for d, s in enumerate(shape))
    return da.broadcast_to(a.rechunk(own), full,
                           chunks=tuple((n,) if d == axis else c for d, c in enumerate(chunks)))


def _take_block(x: Any, indices: Any, axis: int) -> Any:
    return np.take_along_axis(x, indices, axis=axis)


KERNELS: dict[str, Callable[..., Any]] = {}
