"""Validation of options, shapes and values; the global ``validate`` switch.

Three kinds of checks, each raising an error that names the function and the argument:

- **options** (Python values: ``reduction``, ``delta``, ``mode``...): always checked, before
  any computation, ``ValueError`` naming the option and the allowed values;
- **shapes**: static, always checked (no silent broadcasting), ``ValueError``;
- **values** that need reading the data (labels in range, probabilities in [0, 1], box
  corners ordered): checked only when the arrays are concrete (eager NumPy, CuPy, torch, JAX,
  array-api-strict) and the ``validate`` option is on. Under ``jax.jit``, ``jax.grad``,
  ``jax.vmap`` and ``torch.compile`` they are skipped (never a graph break or a host sync),
  and so they are for Dask, which must stay lazy. Turn them off for speed with
  ``arrayloss.set_options(validate=False)`` or ``with arrayloss.options(validate=False):``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from . import _xp
from ._xp import Array, Namespace

__all__ = [
    "REDUCTIONS",
    "check_axis",
    "check_bool",
    "check_choice",
    "check_ignore_index",
    "check_int",
    "check_labels",
    "check_number",
    "check_probabilities",
    "check_reduction",
    "check_same_shape",
    "check_values",
    "get_options",
    "options",
    "set_options",
]

REDUCTIONS = ("mean", "sum", "none")

_OPTIONS: dict[str, Any] = {"validate": True}


def set_options(*, validate: bool | None = None) -> None:
    """Set global options.

    ``validate`` (default True): run the value checks (labels in range, probabilities in
    [0, 1], ordered box corners) on concrete arrays. Each check reads the data once and, on a
    GPU, synchronises with the host; turn them off in hot training loops once inputs are
    known to be valid. Options and shapes are always checked.
    """
    if validate is not None:
        if not isinstance(validate, bool):
            raise TypeError(f"set_options: `validate` must be a bool, got {validate!r}")
        _OPTIONS["validate"] = validate


def get_options() -> dict[str, Any]:
    """A copy of the current global options."""
    return dict(_OPTIONS)


@contextlib.contextmanager
def options(*, validate: bool | None = None) -> Iterator[None]:
    """Context manager that sets options (see ``set_options``) and restores them on exit."""
    saved = dict(_OPTIONS)
    try:
        set_options(validate=validate)
        yield
    finally:
        _OPTIONS.clear()
        _OPTIONS.update(saved)


def check_reduction(fn: str, reduction: Any) -> None:
    check_choice(fn, "reduction", reduction, REDUCTIONS)


def check_choice(fn: str, name: str, value: Any, allowed: Sequence[Any]) -> None:
    """``value`` must be one of ``allowed`` (compared by equality, strings case-sensitive)."""
    for a in allowed:
        if type(value) is type(a) and value == a:
            return
        if a is None and value is None:
            return
    shown = ", ".join(repr(a) for a in allowed)
    raise ValueError(f"{fn}: `{name}` must be one of {shown}; got {value!r}")


def _describe(gt: Any, ge: Any, lt: Any, le: Any) -> str:
    parts = []
    if gt is not None:
        parts.append(f"> {gt}")
    if ge is not None:
        parts.append(f">= {ge}")
    if lt is not None:
        parts.append(f"< {lt}")
    if le is not None:
        parts.append(f"<= {le}")
    return " and ".join(parts) if parts else "finite"


def check_number(
    fn: str,
    name: str,
    value: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> float:
    """``value`` must be a finite real Python number within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{fn}: `{name}` must be a real number, got {type(value).__name__} {value!r}"
        )
    v = float(value)
    ok = v == v and abs(v) != math.inf  # math.isfinite is a graph break under dynamo
    ok = ok and (gt is None or v > gt) and (ge is None or v >= ge)
    ok = ok and (lt is None or v < lt) and (le is None or v <= le)
    if not ok:
        raise ValueError(f"{fn}: `{name}` must be {_describe(gt, ge, lt, le)}; got {value!r}")
    return v


def check_bool(fn: str, name: str, value: Any) -> bool:
    """``value`` must be a Python bool (``TypeError`` otherwise: 0/1 are not guessed)."""
    if not isinstance(value, bool):
        raise TypeError(f"{fn}: `{name}` must be a bool, got {type(value).__name__} {value!r}")
    return value


def check_int(fn: str, name: str, value: Any) -> int:
    """``value`` must be a Python (or NumPy) integer, not a bool."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: `{name}` must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def check_axis(fn: str, axis: Any, ndim: int, name: str = "axis") -> int:
    """``axis`` must be an int in ``[-ndim, ndim)``; returns it as a non-negative int."""
    a = check_int(fn, name, axis)
    if not -ndim <= a < ndim:
        raise ValueError(f"{fn}: `{name}` must be in [{-ndim}, {ndim}) for {ndim}-D input; got {a}")
    return a % ndim


def check_same_shape(
    fn: str, a: Array, b: Array, names: tuple[str, str] = ("pred", "target")
) -> None:
    """No silent broadcasting: both arrays must have the same shape."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{fn}: `{names[0]}` and `{names[1]}` must have the same shape; got "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )


def broadcastable_to(shape: tuple[Any, ...], target: tuple[Any, ...]) -> bool:
    """True when an array of ``shape`` broadcasts to exactly ``target``."""
    if len(shape) > len(target):
        return False
    # `s == 1 or s == t`, not `s in (1, t)`: Dynamo answers the tuple test wrongly for
    # symbolic sizes (weight cases failed under torch.compile once shapes went dynamic)
    return all(s == 1 or s == t for s, t in zip(reversed(shape), reversed(target)))


def check_values(
    fn: str,
    name: str,
    xp: Namespace,
    x: Array,
    bad: Callable[[Array], Array],
    expected: str | Callable[[], str],
    within: tuple[float, float, bool] | None = None,
) -> None:
    """Raise ``ValueError`` when ``bad(x)`` holds anywhere (concrete arrays only).

    ``expected`` completes the message (``"<fn>: `<name>` <expected>"``); pass a callable
    when formatting it touches an option that may be symbolic under ``torch.compile``.
    ``within=(lo, hi, hi_open)``: every value in ``[lo, hi]`` (``[lo, hi)`` when
    ``hi_open``) implies ``bad`` holds nowhere; then one min/max pass
    (``_xp.value_range``) settles the common valid case and ``bad`` runs only otherwise
    (a value outside, or a NaN), so the messages and NaN handling stay those of ``bad``.

    Skipped when the ``validate`` option is off, when ``x`` is being traced or compiled, and
    for lazy (Dask) arrays.
    """
    if not _OPTIONS["validate"] or not _xp.is_concrete(x):
        return
    if _xp.numel(x) == 0:
        return
    if within is not None:
        lo, hi, hi_open = within
        mn, mx = _xp.value_range(xp, x)
        if bool((mn >= lo) & ((mx < hi) if hi_open else (mx <= hi))):
            return
    if bool(xp.any(bad(x))):
        what = expected if isinstance(expected, str) else expected()
        raise ValueError(f"{fn}: `{name}` {what}")


def check_ignore_index(fn: str, ignore_index: Any, num_classes: int) -> int | None:
    """``ignore_index`` is ``None`` or an int that is *not* a valid class in ``[0, C)``.

    To drop a real class, give it ``class_weight`` 0 instead (CATALOGUE.md decisions).
    """
    if ignore_index is None:
        return None
    ii = check_int(fn, "ignore_index", ignore_index)
    if 0 <= ii < num_classes:
        raise ValueError(
            f"{fn}: `ignore_index` must be None or a value outside the classes [0, "
            f"{num_classes}) (to drop a real class give it class_weight 0); got {ii}"
        )
    return ii


def check_labels(
    fn: str,
    name: str,
    xp: Namespace,
    labels: Array,
    num_classes: int,
    ignore_index: int | None = None,
) -> None:
    """Integer class labels: integer dtype (``TypeError`` otherwise, always) and values in
    ``[0, num_classes)`` or equal to ``ignore_index`` (``ValueError``, concrete arrays only)."""
    if not xp.isdtype(labels.dtype, "integral"):
        raise TypeError(
            f"{fn}: `{name}` must hold integer class labels, got dtype {labels.dtype} "
            "(dense float targets must have the shape of the prediction)"
        )

    def bad(y: Array) -> Array:
        out = (y < 0) | (y >= num_classes)
        return out if ignore_index is None else out & (y != ignore_index)

    def expected() -> str:  # formatted only when raising: under torch.compile an int option
        # seen with several values is symbolic, and formatting it would be a graph break
        extra = "" if ignore_index is None else f" or ignore_index={ignore_index}"
        return f"must hold class labels in [0, {num_classes}){extra}"

    check_values(fn, name, xp, labels, bad, expected, within=(0, num_classes, True))


def check_probabilities(fn: str, name: str, xp: Namespace, x: Array) -> None:
    """Values in ``[0, 1]`` (concrete arrays only)."""
    check_values(fn, name, xp, x, lambda v: (v < 0) | (v > 1),
                 "must hold probabilities in [0, 1]", within=(0, 1, False))
