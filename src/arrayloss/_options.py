"""The ``validate`` option: which value checks run, per thread or task.

``set_options(validate=...)`` sets the process-wide default; ``with options(validate=...):``
overrides it for the current thread or task only (a ``contextvars.ContextVar``), so one
thread turning checks off never turns them off for another, and nested or interleaved
contexts restore their own state.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["VALIDATE", "get_options", "is_bool", "options", "set_options", "validate_mode"]

#: the values of the ``validate`` option
VALIDATE = (True, False, "always")

_DEFAULTS: dict[str, Any] = {"validate": True}
_CONTEXT: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "arrayloss_options", default=None
)


def _check_validate(fn: str, validate: Any) -> Any:
    if isinstance(validate, str):
        if validate == "always":
            return "always"
        raise ValueError(f"{fn}: `validate` must be True, False or 'always'; got {validate!r}")
    if not is_bool(validate):
        raise TypeError(
            f"{fn}: `validate` must be True, False or 'always', got {type(validate).__name__} "
            f"{validate!r}"
        )
    return bool(validate)


def set_options(*, validate: bool | str | None = None) -> None:
    """Set the process-wide default options (every thread and task without an
    ``options(...)`` context of its own uses them).

    ``validate``:

    - ``True`` (default): run the value checks (labels in range, probabilities in [0, 1],
      ordered ground-truth box corners) on concrete arrays in host memory (NumPy,
      array-api-strict, CPU torch, CPU JAX);
    - ``"always"``: also on GPU arrays (CUDA torch, CuPy, JAX on GPU), where each check is a
      device-to-host synchronisation;
    - ``False``: never.

    Options and shapes are always checked. Traced calls (``jax.jit``, ``torch.compile``...)
    and Dask arrays are never value-checked.
    """
    if validate is not None:
        _DEFAULTS["validate"] = _check_validate("set_options", validate)


def get_options() -> dict[str, Any]:
    """The options in effect here (the current context's, else the process-wide default)."""
    ctx = _CONTEXT.get()
    return dict(_DEFAULTS if ctx is None else ctx)


@contextlib.contextmanager
def options(*, validate: bool | str | None = None) -> Iterator[None]:
    """Set options (see ``set_options``) for the current thread or task only, restored on
    exit; other threads keep theirs."""
    new = get_options()
    if validate is not None:
        new["validate"] = _check_validate("options", validate)
    token = _CONTEXT.set(new)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def validate_mode() -> Any:
    ctx = _CONTEXT.get()
    return (_DEFAULTS if ctx is None else ctx)["validate"]



def is_bool(value: Any) -> bool:
    """A Python or NumPy bool (``numpy.bool_`` is not a subclass of ``bool``)."""
    t = type(value)
    return isinstance(value, bool) or (t.__module__ == "numpy" and t.__name__ in ("bool",
                                                                                   "bool_"))
