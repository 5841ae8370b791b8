"""Checks of options, shapes and values, each raising an error that names the function and
the argument, and for the common mistakes the fix.

- **options** (Python values: ``reduction``, ``delta``, ``mode``...): always checked, before
  any computation. One rule for every option: a value of the wrong *type* raises
  ``TypeError`` (a string where a number is expected, ``1`` where a bool is), a value of the
  right type that is not allowed raises ``ValueError`` naming the allowed values;
- **shapes**: static, always checked (no silent broadcasting), ``ValueError``;
- **values** that need reading the data (labels in range, probabilities in [0, 1], ordered
  ground-truth boxes): checked only when the arrays are concrete and in host memory, and the
  ``validate`` option (``arrayloss._options``) is on. Under ``jax.jit``, ``jax.grad``,
  ``jax.vmap``, ``torch.compile`` and ``torch.func`` they are skipped (never a graph break, a
  host sync or a tracer error, also for concrete arrays captured from outside the trace), and
  so they are for Dask, which must stay lazy. GPU arrays (CUDA torch, CuPy, JAX on GPU) are
  checked only with ``validate="always"``: reading them is a device-to-host synchronisation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from . import _ops
from ._namespace import (
    Array,
    Namespace,
    astype,
    default_int,
    is_concrete,
    is_host,
    isdtype,
    numel,
)
from ._options import is_bool, validate_mode

__all__ = [
    "REDUCTIONS",
    "broadcastable_to",
    "check_axes",
    "check_axis",
    "check_bool",
    "check_choice",
    "check_classes",
    "check_ignore_index",
    "check_int",
    "check_label_shape",
    "check_labels",
    "check_nonnegative",
    "check_number",
    "check_probabilities",
    "check_reduction",
    "check_same_shape",
    "check_smoothing",
    "check_values",
    "check_where",
    "integer_labels",
    "readable",
    "representable",
]

REDUCTIONS = ("mean", "sum", "none", "weighted_mean")


def check_reduction(fn: str, reduction: Any) -> str:
    return check_choice(fn, "reduction", reduction, REDUCTIONS)


def check_choice(fn: str, name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """``value`` must be one of ``allowed``: strings (subclasses such as ``numpy.str_``
    accepted and returned as ``str``), and ``None`` where allowed. Another type raises
    ``TypeError``, another string ``ValueError``; both list the allowed values."""
    if type(value) is str and value in allowed:
        return value
    shown = ", ".join(repr(a) for a in allowed)
    if value is None:
        if None in allowed:
            return None
    elif isinstance(value, str):
        v = str(value)
        if v in allowed:
            return v
        raise ValueError(f"{fn}: `{name}` must be one of {shown}; got {value!r}")
    raise TypeError(
        f"{fn}: `{name}` must be one of {shown}; got {type(value).__name__} {value!r}"
    )


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
    """``value`` must be a finite real Python (or NumPy) number within the given bounds."""
    t = type(value)
    if t is not float and t is not int and (is_bool(value)
                                            or not isinstance(value, numbers.Real)):
        hint = ""
        if "Tracer" in type(value).__name__:
            hint = ("; options are Python numbers fixed when a function is traced: close "
                    "over the value or mark it static (jax.jit static_argnames)")
        elif hasattr(value, "shape"):
            hint = "; pass a Python number (float(x) for a one-element array)"
        raise TypeError(
            f"{fn}: `{name}` must be a real number, got {type(value).__name__} {value!r}"
            f"{hint}"
        )
    v = float(value)
    ok = v == v and abs(v) != math.inf  # math.isfinite is a graph break under dynamo
    ok = ok and (gt is None or v > gt) and (ge is None or v >= ge)
    ok = ok and (lt is None or v < lt) and (le is None or v <= le)
    if not ok:
        raise ValueError(f"{fn}: `{name}` must be {_describe(gt, ge, lt, le)}; got {value!r}")
    return v


def check_where(fn: str, xp: Namespace, where: Array | None) -> None:
    """``where`` is ``None`` or a boolean array (a float 0/1 mask is refused: it would be
    read as weights by one reader and as a mask by another)."""
    if where is not None and not isdtype(xp, where.dtype, "bool"):
        raise TypeError(
            f"{fn}: `where` must be a boolean array (True = counted); got dtype {where.dtype}: "
            "pass e.g. `mask > 0`, or `weight=` for weights"
        )


def check_smoothing(fn: str, label_smoothing: Any) -> float:
    """``label_smoothing``: a number in ``[0, 1]``."""
    return check_number(fn, "label_smoothing", label_smoothing, ge=0.0, le=1.0)


def check_bool(fn: str, name: str, value: Any) -> bool:
    """``value`` must be a bool (Python or NumPy); ``TypeError`` otherwise: 0/1 are not
    guessed."""
    if not is_bool(value):
        raise TypeError(f"{fn}: `{name}` must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_int(fn: str, name: str, value: Any) -> int:
    """``value`` must be a Python (or NumPy) integer, not a bool."""
    if is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: `{name}` must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def check_axis(fn: str, axis: Any, ndim: int, name: str = "axis") -> int:
    """``axis`` must be an int in ``[-ndim, ndim)``; returns it as a non-negative int."""
    a = check_int(fn, name, axis)
    if not -ndim <= a < ndim:
        raise ValueError(f"{fn}: `{name}` must be in [{-ndim}, {ndim}) for {ndim}-D input; got {a}")
    return a % ndim


def check_axes(fn: str, axis: Any, ndim: int) -> int | tuple[int, ...]:
    """``axis`` of a loss over classes: an int, or a tuple of distinct ints (several class
    axes, in the order whose C-order flattening numbers the classes). Returns the
    non-negative int, or the tuple of non-negative ints when it has two or more (a tuple of
    one is that int). ``TypeError`` for another type, ``ValueError`` for an empty tuple, an
    axis out of range or a repeated axis."""
    if not isinstance(axis, tuple):
        if isinstance(axis, list):
            raise TypeError(f"{fn}: `axis` must be an int or a tuple of ints; got the list "
                            f"{axis!r}: pass tuple(axis)")
        return check_axis(fn, axis, ndim)
    if not axis:
        raise ValueError(f"{fn}: `axis` must name at least one class axis; got ()")
    axes = tuple(check_axis(fn, a, ndim) for a in axis)
    # pairwise `==`, not a set or `in`: under torch.compile the axes may be symbolic ints,
    # which Dynamo neither hashes nor tests for membership correctly
    if any(a == b for i, a in enumerate(axes) for b in axes[i + 1:]):
        raise ValueError(f"{fn}: `axis` must not repeat an axis; got {axis!r} (axes {axes} "
                         f"of {ndim}-D input)")
    return axes[0] if len(axes) == 1 else axes


def check_classes(fn: str, num_classes: Any, what: str = "class axis") -> None:
    """A class (or feature) axis must not be empty: a loss over zero classes is undefined."""
    if num_classes == 0:
        raise ValueError(f"{fn}: the {what} has size 0; at least one class is needed")


def _channels_first_hint(pred_shape: tuple[Any, ...], target_shape: tuple[Any, ...],
                         axis: int) -> str:
    """The fix when labels fit ``pred`` without axis 1 but the class axis is another one."""
    if axis != 1 and len(pred_shape) > 2 and target_shape == pred_shape[:1] + pred_shape[2:]:
        return ("; the labels fit `pred` without axis 1: for channels-first input (N, C, ...) "
                "pass axis=1")
    return ""


def check_label_shape(fn: str, pred: Array, target: Array, axis: int, *,
                      dense: bool = True) -> bool:
    """The target of a loss over the class ``axis`` of ``pred``: integer labels of ``pred``'s
    shape without that axis (returns False) or, when ``dense``, values of ``pred``'s shape
    (returns True). Any other shape raises ``ValueError`` naming both shapes, with the
    ``axis=1`` fix for channels-first labels."""
    ps, ts = tuple(pred.shape), tuple(target.shape)
    if dense and ts == ps:
        return True
    want = ps[:axis] + ps[axis + 1:]
    if ts == want:
        return False
    dense_txt = f" or dense targets of shape {ps}" if dense else ""
    raise ValueError(
        f"{fn}: `target` must hold integer labels of shape {want} (`pred` without axis "
        f"{axis}){dense_txt}; got `pred` {ps} and `target` {ts}"
        f"{_channels_first_hint(ps, ts, axis)}"
    )


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


# ---------------------------------------------------------------------------------------
# values


def readable(x: Array) -> bool:
    """Whether the values of ``x`` may be read now: concrete (not traced, compiled or lazy)
    first, so that no option is read while a compiler traces; then the ``validate`` option
    and, unless it is ``"always"``, host memory."""
    if not is_concrete(x):
        return False
    mode = validate_mode()
    if mode is False:
        return False
    return mode == "always" or is_host(x)


def _first_bad(xp: Namespace, x: Array, mask: Array) -> tuple[tuple[int, ...], Any]:
    """The position (index tuple) and value of the first element of ``x`` where ``mask``
    holds (error messages only: runs after a check has failed)."""
    k = int(xp.argmax(xp.astype(xp.reshape(mask, (-1,)), xp.int32)))
    # without its gradient: torch warns when a tensor that needs one is read
    value = xp.reshape(_ops.stop_gradient(xp, x), (-1,))[k]
    if isdtype(xp, value.dtype, "real floating"):
        v: Any = float(value)
    elif isdtype(xp, value.dtype, "bool"):
        v = bool(value)
    else:
        v = int(value)
    pos = []
    for s in reversed(tuple(x.shape)):
        pos.append(k % s)
        k //= s
    return tuple(reversed(pos)), v


def check_values(
    fn: str,
    name: str,
    xp: Namespace,
    x: Array,
    bad: Callable[[Array], Array],
    expected: str | Callable[[], str],
    within: tuple[float, float, bool] | None = None,
    hint: Callable[[Any], str] | None = None,
) -> None:
    """Raise ``ValueError`` when ``bad(x)`` holds anywhere (readable arrays only).

    The message is ``"<fn>: `<name>` <expected>; found <value> at <position>"`` plus
    ``hint(value)`` when given (the fix for a common mistake). Pass ``expected`` as a
    callable when formatting it touches an option that may be symbolic under
    ``torch.compile``. ``within=(lo, hi, hi_open)``: every value in ``[lo, hi]`` (``[lo,
    hi)`` when ``hi_open``) implies ``bad`` holds nowhere; then one min/max pass
    (``_ops.value_range``) settles the common valid case and ``bad`` runs only otherwise
    (a value outside, or a NaN), so the messages and NaN handling stay those of ``bad``.

    Skipped when the values cannot be read now (see the module docstring).
    """
    if not readable(x) or numel(x) == 0:
        return
    if within is not None:
        lo, hi, hi_open = within
        mn, mx = (_scalar(xp, v) for v in _ops.value_range(xp, x))  # two reads, no ops
        if mn >= lo and (mx < hi if hi_open else mx <= hi):  # False for NaN
            return
    mask = bad(x)
    if _holds(xp, mask):
        what = expected if isinstance(expected, str) else expected()
        where, value = _first_bad(xp, x, mask)
        at = f" at index {where}" if where else ""
        extra = hint(value) if hint is not None else ""
        raise ValueError(f"{fn}: `{name}` {what}; found {value!r}{at}{extra}")


def _holds(xp: Namespace, mask: Array) -> bool:
    """Whether the readable boolean ``mask`` holds anywhere (the library's own ``any`` where
    it is cheaper than the namespace's, which wraps it)."""
    fn = _ops.kernel(xp, "any")
    return bool(xp.any(mask) if fn is None else fn(mask))


def _scalar(xp: Namespace, v: Array) -> int | float:
    """A readable 0-d array as a Python number (exact for 64-bit integers)."""
    return int(v) if isdtype(xp, v.dtype, "integral") else float(v)


def check_ignore_index(fn: str, ignore_index: Any, num_classes: int) -> int | None:
    """``ignore_index`` is ``None`` or an int that is *not* a valid class in ``[0, C)``.

    To drop a real class, give it ``class_weight`` 0 instead.
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


def integer_labels(fn: str, name: str, xp: Namespace, labels: Array) -> Array:
    """Integer class labels in the namespace's default integer dtype (int64; int32 on JAX
    without x64), the dtype they are compared and gathered in: every integer dtype is
    accepted (int8...int64, uint8...uint64), and no comparison with the class count or
    ``ignore_index`` can wrap around in a narrow dtype. Non-integer labels raise
    ``TypeError`` with the fix (bool included: class labels are not truth values)."""
    dt = labels.dtype
    if not isdtype(xp, dt, "integral"):
        kind = "bool" if isdtype(xp, dt, "bool") else str(dt)
        raise TypeError(
            f"{fn}: `{name}` must hold integer class labels, got dtype {kind}; cast them to "
            "an integer dtype (e.g. `y.astype(int)`, `y.long()`), or give dense targets of "
            "the shape of the prediction"
        )
    return astype(xp, labels, default_int(xp, labels))


def representable(xp: Namespace, value: int | None, dtype: Any) -> bool:
    """Whether the Python int ``value`` fits ``dtype`` (an ``ignore_index`` that does not fit
    equals no label, and comparing with it could overflow)."""
    if value is None:
        return False
    info = xp.iinfo(dtype)
    return bool(info.min <= value <= info.max)


def check_labels(
    fn: str,
    name: str,
    xp: Namespace,
    labels: Array,
    num_classes: int,
    ignore_index: int | None = None,
) -> tuple[Array, int | None]:
    """Integer class labels, prepared for the loss: returns ``(labels, ignore_index)`` with
    the labels in the default integer dtype (see ``integer_labels``) and ``ignore_index``
    set to ``None`` when no label can equal it.

    Values must lie in ``[0, num_classes)`` or equal ``ignore_index`` (``ValueError`` on
    readable arrays, naming the first offending value and its index; a negative value
    without ``ignore_index`` suggests passing it, e.g. torch's ``-100``)."""
    y = integer_labels(fn, name, xp, labels)
    ii = ignore_index if representable(xp, ignore_index, y.dtype) else None

    def bad(v: Array) -> Array:
        out = (v < 0) | (v >= num_classes)
        return out if ii is None else out & (v != ii)

    def expected() -> str:  # formatted only when raising: under torch.compile an int option
        # seen with several values is symbolic, and formatting it would be a graph break
        extra = "" if ignore_index is None else f" or ignore_index={ignore_index}"
        return f"must hold class labels in [0, {num_classes}){extra}"

    def hint(value: Any) -> str:
        if value < 0 and ignore_index is None:
            return (f"; if {value} marks positions to ignore, pass ignore_index={value}"
                    + (" (torch's default)" if value == -100 else ""))
        if value == num_classes and ignore_index is None:
            return "; labels count from 0"
        if value == 255 and ignore_index is None:
            return ("; if 255 marks void pixels (segmentation datasets' usual label), pass "
                    "ignore_index=255")
        return ""

    check_values(fn, name, xp, y, bad, expected, within=(0, num_classes, True), hint=hint)
    return y, ii


def check_nonnegative(fn: str, name: str, xp: Namespace, x: Array | None) -> None:
    """Values ``>= 0`` (readable arrays only; ``None`` passes)."""
    if x is not None:
        check_values(fn, name, xp, x, lambda v: v < 0, "must hold values >= 0",
                     within=(0, math.inf, False))


def check_probabilities(fn: str, name: str, xp: Namespace, x: Array,
                        hint: str = "") -> None:
    """Values in ``[0, 1]`` (readable arrays only). ``hint`` completes the message when the
    array is a model output that may hold logits (the fix: the logits variant)."""
    check_values(fn, name, xp, x, lambda v: (v < 0) | (v > 1),
                 "must hold probabilities in [0, 1]", within=(0, 1, False),
                 hint=(lambda _v: hint) if hint else None)
