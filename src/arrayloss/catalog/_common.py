"""Float64 NumPy helpers shared by the catalogue modules (and the tests): the softmax and
log-softmax that references, makers and yardsticks are written with."""

from __future__ import annotations

import numpy as np

__all__ = ["np_log_softmax", "np_softmax"]


def np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Max-shifted softmax along ``axis``."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Max-shifted log-softmax along ``axis`` (a slice of ``-inf`` is shifted by 0)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
