"""array-api-strict: concrete arrays in host memory; no kernels (it is the standard)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def is_concrete(x: Any) -> bool:
    return True


def is_host(x: Any) -> bool:
    return True


KERNELS: dict[str, Callable[..., Any]] = {}
