"""The machinery of ``arrayloss.torch``: one :class:`Spec` per module, and the base class that
turns a spec into an ``nn.Module`` with torch's conventions.

A module only translates: its options are stored as attributes (scalars) or buffers (arrays,
so they are in ``state_dict`` and follow ``.to()``), and ``forward`` calls the core function
with the class axis, the renamed options and the reduction. Every formula stays in
``arrayloss.losses``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .. import losses
from .._kernels.torch import is_replica_group

__all__ = ["ELEMENT_WEIGHT", "REDUCTIONS", "AdapterLoss", "Spec", "build"]

#: the core name of a buffer that is a per-element weight (torch's ``BCELoss(weight=)``):
#: it multiplies the ``sample_weight`` of ``forward`` into the core's ``weight``
ELEMENT_WEIGHT = "*weight"

#: the reductions of the modules: torch's three and the core's ``"weighted_mean"``
REDUCTIONS = ("mean", "sum", "none", "weighted_mean")


@dataclass(frozen=True)
class Spec:
    """How one module maps onto one core function.

    ``options``: the constructor's keyword options in torch's names, with their defaults
    (``reduction`` is added). ``rename``: torch name -> core name (``weight`` ->
    ``class_weight`` where torch's module means class weights). ``buffers``: the options that
    are arrays (registered as buffers). ``positional``: options that may also be passed
    positionally, as torch's own module allows (``CrossEntropyLoss(weight)``). ``axis``: the
    default class axis passed to the core (1, channels-first), or ``None`` for a loss without
    one. ``labels_only``: options passed only when the target holds integer labels
    (``ignore_index``: torch ignores it for probability targets). ``peer``: the counterpart a
    user knows (the tests compare the module with it where it is installed)."""

    cls: str
    fn: str
    options: tuple[tuple[str, Any], ...] = ()
    rename: Mapping[str, str] = field(default_factory=dict)
    buffers: tuple[str, ...] = ()
    positional: tuple[str, ...] = ()
    axis: int | None = None
    labels_only: tuple[str, ...] = ()
    peer: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every constructor option, ``axis`` and ``reduction`` included."""
        axis = ("axis",) if self.axis is not None else ()
        return (*(n for n, _ in self.options), *axis, "reduction")

    @property
    def defaults(self) -> dict[str, Any]:
        axis = {"axis": self.axis} if self.axis is not None else {}
        return {**dict(self.options), **axis, "reduction": "mean"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_buffer(cls: str, name: str, value: Any) -> torch.Tensor | None:
    """An array option as a floating tensor (kept on its device), or ``None``."""
    if value is None:
        return None
    if isinstance(value, (bool, str)) or not (
            isinstance(value, torch.Tensor) or hasattr(value, "__len__")
            or hasattr(value, "__array__")):
        raise TypeError(f"{cls}: `{name}` must be a number, a tensor, an array or a list of "
                        f"numbers; got {type(value).__name__}")
    t = torch.as_tensor(value)
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t.detach()


class AdapterLoss(nn.Module):
    """Base of every module of ``arrayloss.torch``: options from the class's :class:`Spec`,
    array options as buffers, ``forward(input, target, sample_weight=None, where=None)``
    calling the core function (``where``: the core's mask, per call), errors that name the
    module and the option as the user spelled it. ``process_group`` (every module, default
    None: this process only): a ``torch.distributed`` process group, e.g.
    ``torch.distributed.group.WORLD``, over which the loss's sums, counts and pooled
    statistics are reduced (the core's ``replicas``), as ``SyncBatchNorm`` takes one."""

    spec: Spec
    #: the number of positional arguments of ``forward`` besides ``sample_weight``
    arity = 2

    if TYPE_CHECKING:  # the options are attributes set from the spec
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        spec = self.spec
        group = kwargs.pop("process_group", None)
        if group is not None and not is_replica_group(group):
            raise TypeError(f"{spec.cls}: `process_group` must be a torch.distributed "
                            "ProcessGroup (e.g. torch.distributed.group.WORLD, after "
                            f"init_process_group) or None; got {type(group).__name__}")
        self.process_group = group
        if len(args) > len(spec.positional):
            raise TypeError(f"{spec.cls}: takes {len(spec.positional)} positional option(s) "
                            f"({', '.join(spec.positional) or 'none'}); pass the others "
                            f"by keyword; got {len(args)} positional")
        given = dict(zip(spec.positional, args))
        for k in kwargs:
            if k in given:
                raise TypeError(f"{spec.cls}: got two values for `{k}`")
            if k not in spec.names:
                hint = (" (per-sample weights are `sample_weight=` of forward)"
                        if k in ("sample_weight", "class_weight") else "")
                raise TypeError(f"{spec.cls}: unexpected option `{k}`; options: "
                                f"{', '.join(spec.names)}{hint}")
        given.update(kwargs)
        values = {**spec.defaults, **given}
        if values["reduction"] not in self._reductions():
            raise ValueError(f"{spec.cls}: `reduction` must be one of "
                             f"{', '.join(map(repr, self._reductions()))}; got "
                             f"{values['reduction']!r}")
        for name in spec.names:
            value = values[name]
            if name in spec.buffers and not _is_number(value):
                self.register_buffer(name, _as_buffer(spec.cls, name, value))
            else:  # a number stays a Python number (a static option under torch.compile)
                setattr(self, name, value)

    def _reductions(self) -> tuple[str, ...]:
        return REDUCTIONS

    def core_options(self, target: torch.Tensor | None) -> dict[str, Any]:
        """The keyword options of the core call, in the core's names."""
        spec, out = self.spec, {}
        integer = target is not None and not target.is_floating_point() and target.dtype != \
            torch.bool
        for name in spec.names:
            if name == "reduction" or (name in spec.labels_only and not integer):
                continue
            value = getattr(self, name)
            out[spec.rename.get(name, name)] = value
        return out

    def call_core(self, fn: Callable[..., Any], *args: Any, **options: Any) -> Any:
        """Call ``fn``; a ``ValueError``/``TypeError`` from the core gets the module's name
        and, where an option was renamed, how the two names correspond."""
        if self.process_group is not None:
            options["replicas"] = self.process_group
        try:
            return fn(*args, **options)
        except (ValueError, TypeError) as exc:
            renames = "".join(f"; `{k}` here is the core's `{v}`"
                              for k, v in self.spec.rename.items() if v != ELEMENT_WEIGHT)
            raise type(exc)(f"{self.spec.cls}: {exc}{renames}") from exc

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        options = self.core_options(target)
        weight = self.sample_weight(options, sample_weight)
        if where is not None:  # the compounds take none: their core function refuses it
            options["where"] = where
        return self.call_core(getattr(losses, self.spec.fn), input, target, **options,
                              weight=weight, reduction=self.reduction)

    @staticmethod
    def sample_weight(options: dict[str, Any], sample_weight: torch.Tensor | None
                      ) -> torch.Tensor | None:
        """The core's ``weight``: ``sample_weight`` times a per-element weight buffer."""
        buffer = options.pop(ELEMENT_WEIGHT, None)
        if buffer is None:
            return sample_weight
        return buffer if sample_weight is None else buffer * sample_weight

    def extra_repr(self) -> str:
        parts = []
        for name in self.spec.names:
            value = getattr(self, name)
            if isinstance(value, torch.Tensor):
                parts.append(f"{name}=tensor(shape={tuple(value.shape)}, dtype={value.dtype})")
            else:
                parts.append(f"{name}={value!r}")
        if self.process_group is not None:
            parts.append(f"process_group={self.process_group!r}")
        return ", ".join(parts)


def _signature(spec: Spec) -> inspect.Signature:
    params = []
    for name, default in spec.defaults.items():
        kind = (inspect.Parameter.POSITIONAL_OR_KEYWORD if name in spec.positional
                else inspect.Parameter.KEYWORD_ONLY)
        params.append(inspect.Parameter(name, kind, default=default))
    params.append(inspect.Parameter("process_group", inspect.Parameter.KEYWORD_ONLY,
                                    default=None))
    return inspect.Signature(params)


def build(spec: Spec, doc: str, base: type[AdapterLoss] = AdapterLoss) -> type[AdapterLoss]:
    """The module class of ``spec``: ``base`` with the spec, a docstring and the signature of
    its options (``inspect.signature`` of the class, for ``help()`` and the docs)."""
    return type(spec.cls, (base,), {"spec": spec, "__doc__": doc, "__module__": "arrayloss.torch",
                                    "__signature__": _signature(spec)})
