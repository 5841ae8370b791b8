"""Tools shared by the test suite, the report (``python -m arrayloss``) and the benchmark
(``benchmarks/``): the backend rows of the matrix and interleaved timing.

- ``backends``: one :class:`~arrayloss.testing.backends.Backend` per row of the matrix
  (NumPy, array-api-strict, torch eager and compiled, JAX under ``jit``, lazy Dask, and the
  GPU rows), converting NumPy inputs, running a loss the way that backend's users run it,
  converting results back and computing gradients;
- ``timing``: interleaved repeats of two callables and the median of their time ratios.

Unlike the losses, this package is about the frameworks themselves and names their
functions freely.
"""

from . import backends, timing

__all__ = ["backends", "timing"]
