"""Dask: lazy arrays (never read: reading would compute), the median, and
``take_along_axis``, which Dask's namespace lacks (a flat ``take``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dask.array as da


def is_concrete(x: Any) -> bool:
    return False


def is_host(x: Any) -> bool:
    return False


def median(x: Any, axis: int) -> Any:
    return da.median(x, axis=axis)


def take_along_axis(x: Any, indices: Any, axis: int) -> Any:
    axis = axis % x.ndim
    xm = da.moveaxis(x, axis, -1)
    im = da.moveaxis(indices, axis, -1)
    c = xm.shape[-1]
    k = im.shape[-1]
    n = math.prod(xm.shape) // c if c else 0
    if n * c == 0 or k == 0:  # nothing to gather: Dask cannot reshape an empty range to
        # (0, 1), nor empty arrays of several chunks
        return da.moveaxis(da.zeros((*xm.shape[:-1], k), dtype=x.dtype), -1, axis)
    rows = da.reshape(da.arange(n), (*xm.shape[:-1], 1))
    flat = da.take(da.reshape(xm, (-1,)), da.reshape(rows * c + im, (-1,)))
    return da.moveaxis(da.reshape(flat, (*xm.shape[:-1], k)), -1, axis)


KERNELS: dict[str, Callable[..., Any]] = {}
