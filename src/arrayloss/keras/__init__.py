"""Keras 3 losses that call arrayloss: ``model.compile(loss=arrayloss.keras.Dice())``.

Each class is a ``keras.losses.Loss`` that translates Keras's conventions and calls one
arrayloss function on the backend's own tensors; the formulas stay in arrayloss.

- **Argument order**: Keras calls ``loss(y_true, y_pred, sample_weight=None)``; arrayloss
  takes ``(pred, target)``. Passing an arrayloss function itself to ``compile`` swaps them.
- **Reduction, sample_weight, masks**: ``call`` returns the unreduced loss with the shape
  Keras's own losses return (the mean over the last axis for elementwise losses, one value
  per position for class losses, per box, per image or per batch for the overlap and Lovász
  losses); ``keras.losses.Loss.__call__`` applies ``sample_weight``, the mask of ``y_pred``
  and the ``reduction`` (``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
  ``"mean_with_sample_weight"``, None).
- **Labels**: Keras casts ``y_true`` to the loss's float dtype; the classes taking integer
  labels cast them back to int32 (non-integral labels cannot be refused under a compiler).
- **Probabilities**: ``from_logits`` where Keras has it (see each class).
- **Backends**: JAX, torch and NumPy (``keras.backend.backend()``); any other raises
  ``RuntimeError`` when a class is constructed or called.

:data:`NOT_ADAPTED` lists the arrayloss functions without an adapter, with the reason.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import keras

from ._convert import Spec
from ._specs import NOT_ADAPTED, SPECS

__all__ = ["BACKENDS", "NOT_ADAPTED", "ArraylossLoss", "adapted", *(s.name for s in SPECS)]

#: the Keras backends whose tensors arrayloss takes
BACKENDS = ("jax", "torch", "numpy")


def check_backend(owner: str) -> None:
    """Raise ``RuntimeError`` unless Keras runs on a backend arrayloss supports."""
    name = keras.backend.backend()
    if name not in BACKENDS:
        raise RuntimeError(
            f"arrayloss.keras.{owner}: the Keras backend is {name!r}; arrayloss losses run "
            f"on the Keras backends {', '.join(repr(b) for b in BACKENDS)} (set "
            f"KERAS_BACKEND=jax, torch or numpy before importing keras)"
        )


def _plain(value: Any) -> Any:
    """A JSON-friendly option value (arrays and tuples become lists)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class ArraylossLoss(keras.losses.Loss):
    """Base of the adapters: options from the class's :class:`Spec`, Keras's ``reduction``,
    ``name`` and ``dtype``; ``call(y_true, y_pred)`` returns the unreduced loss."""

    spec: ClassVar[Spec]

    def __init__(self, *, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype: Any = None, **options: Any) -> None:
        cls = type(self).__name__
        check_backend(cls)
        unknown = sorted(set(options) - set(self.spec.options))
        if unknown:
            allowed = ", ".join(self.spec.options) or "none"
            raise TypeError(f"arrayloss.keras.{cls}: unknown option(s) {unknown}; its options "
                            f"are {allowed} (and reduction, name, dtype)")
        axis = options.get("axis")
        if isinstance(axis, (tuple, list)):
            raise TypeError(
                f"arrayloss.keras.{cls}: `axis` is the class axis (an int, or None for binary "
                f"input), got {axis!r}; Keras's reduction axes (1, ..., rank - 1), one value "
                "per sample, are per_image=True"
            )
        self.options = {**self.spec.options, **options}
        self._dtype_arg = dtype
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        check_backend(type(self).__name__)
        return self.spec.translate(self.spec, dict(self.options), y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update({k: _plain(v) for k, v in self.options.items()})
        if isinstance(self._dtype_arg, str):
            config["dtype"] = self._dtype_arg
        return config

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        sep = ", " if opts else ""
        return f"{type(self).__name__}({opts}{sep}reduction={self.reduction!r})"


def _docstring(spec: Spec) -> str:
    core = " / ".join(f"``arrayloss.{n}``" for n in spec.core)
    fn = spec.core_fn()
    first = (fn.__doc__ or "").strip().split("\n\n")[0]
    summary = " ".join(line.strip() for line in first.splitlines())
    opts = ", ".join(f"``{k}={v!r}``" for k, v in spec.options.items()) or "none"
    renamed = "".join(f" ``{k}`` is arrayloss's ``{v}``." for k, v in spec.core_names.items()
                      if v != k and (k, v) not in (("alpha", "beta"), ("beta", "alpha")))
    peer = (f"``keras.losses.{spec.peer}`` computes the same quantity (the test suite "
            "checks that both agree)." if spec.peer else
            "Keras has no loss computing this quantity.")
    return (
        f"Keras loss calling {core}: {summary}\n\n"
        f"Called as ``loss(y_true, y_pred, sample_weight=None)`` and passed to arrayloss as "
        f"``(y_pred, y_true)``. {spec.doc}\n\n"
        f"Options (keyword-only, with their defaults): {opts};{renamed} plus Keras's "
        "``reduction=\"sum_over_batch_size\"``, ``name`` and ``dtype``. ``sample_weight`` "
        "and masks are applied by ``keras.losses.Loss``; arrayloss's ``weight`` and "
        "``reduction`` are not used. Option values are checked by arrayloss at the first "
        f"call.\n\nKeras peer: {peer}\n"
    )


def _signature(spec: Spec) -> inspect.Signature:
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(k, kw, default=v) for k, v in spec.options.items()]
    params += [inspect.Parameter("reduction", kw, default="sum_over_batch_size"),
               inspect.Parameter("name", kw, default=None),
               inspect.Parameter("dtype", kw, default=None)]
    return inspect.Signature(params)


def _build(spec: Spec) -> type[ArraylossLoss]:
    def __init__(self: ArraylossLoss, **kwargs: Any) -> None:
        ArraylossLoss.__init__(self, **kwargs)

    __init__.__signature__ = _signature(spec)  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{spec.name}.__init__"
    cls = type(spec.name, (ArraylossLoss,), {
        "spec": spec, "__init__": __init__, "__doc__": _docstring(spec),
        "__module__": __name__, "__qualname__": spec.name,
    })
    return keras.saving.register_keras_serializable(package="arrayloss")(cls)


CLASSES: dict[str, type[ArraylossLoss]] = {spec.name: _build(spec) for spec in SPECS}
globals().update(CLASSES)


def adapted() -> dict[str, list[str]]:
    """arrayloss function name -> the adapter classes that call it."""
    out: dict[str, list[str]] = {}
    for spec in SPECS:
        for name in spec.core:
            out.setdefault(name, []).append(spec.name)
    return out


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(CLASSES))
