"""The machine-readable catalogue: one record per loss.

The CLI (``python -m arrayloss``), the docs, the benchmark and the test matrix all read this
registry, so a new loss is registered in one place: the module of this package named like
its ``arrayloss.losses`` module exposes ``RECORDS``, a list of :class:`Record`; the modules
are found from ``arrayloss.losses.MODULES``.

A record holds the loss function, its family (its ``losses`` module), a description of its
inputs, a few example :class:`Case` objects (makers of float64/int NumPy inputs that the
backend adapters convert to any library), a float64 NumPy reference implementation written
independently of the loss, its peers (:class:`Peer`: other libraries' implementations, used
for reference tests and timing, and yardsticks written for timing only), the options and
goals of its benchmark, the bad options and bad values that must raise, and the properties
the Hypothesis tests check.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "GOALS",
    "BadValue",
    "Case",
    "Figure",
    "Peer",
    "Record",
    "drawn",
    "get",
    "np_reduce",
    "records",
    "timed",
    "yardstick",
]

#: benchmark goals a record may take part in (``Record.goals``)
GOALS = {
    "memory-bound": "memory-bound: forward at 10M within 1.5x the time of one read of the "
                    "inputs at the measured bandwidth (torch, JAX under jit)",
}

Maker = Callable[[np.random.Generator], tuple[np.ndarray, ...]]


@dataclass(frozen=True)
class Case:
    """One example call: positional arrays from ``make(rng)``, keyword options, and keyword
    arrays from ``arrays(rng)`` (``weight``, ``class_weight``...), all NumPy float64 or int.

    ``grad`` says what the gradient tests assert for this case: ``"fd"`` autodiff equals
    central finite differences (the case keeps away from kinks); ``"autodiff"`` torch and
    JAX agree with each other (a term without gradient makes finite differences differ);
    ``"finite"`` only finiteness (kinks, ties, saturation, edge cases).
    ``expected`` is a golden value of the call (from the loss's reference or paper, also
    printed in ``docs/catalogue.md``), checked on every backend.
    ``peers=False`` keeps peers off a case (e.g. empty input, where torch returns NaN).
    """

    id: str
    make: Maker
    options: Mapping[str, Any] = field(default_factory=dict)
    arrays: Callable[[np.random.Generator], dict[str, np.ndarray]] | None = None
    grad: str = "fd"
    expected: Any = None
    rtol32: float = 1e-5
    peers: bool = True

    def inputs(self, seed: int = 0) -> tuple[tuple[np.ndarray, ...], dict[str, np.ndarray]]:
        """The positional and keyword arrays of this case, reproducibly from ``seed``."""
        rng = np.random.default_rng(seed)
        args = self.make(rng)
        kw = self.arrays(rng) if self.arrays is not None else {}
        return args, kw


@dataclass(frozen=True)
class Peer:
    """A peer's implementation of the same quantity.

    ``fn(*args, **options_and_arrays)`` receives arrays of ``backend`` (``"torch"``,
    ``"jax"``, ``"numpy"``) converted from a case, and returns what arrayloss returns for the
    same call. ``accepts(options)`` says whether it covers a case's options (e.g. a peer
    without ``weight``). ``library`` names the peer (``torch.nn.functional``, ``optax``...),
    ``module`` the import it needs. ``jit`` marks peers to be timed under ``jax.jit``.
    ``timing_only`` marks a yardstick written here for the benchmark (what a NumPy user would
    write for the default options, or a torchvision-style formula restated in torch): it is
    timed, after an agreement check, but is not a reference of the tests.
    """

    library: str
    backend: str
    fn: Callable[..., Any]
    module: str
    accepts: Callable[[Mapping[str, Any]], bool] = lambda options: True
    rtol: float = 1e-7
    jit: bool = False
    timing_only: bool = False


@dataclass(frozen=True)
class BadValue:
    """Inputs whose values are invalid: the call must raise ``ValueError`` naming ``name``
    when the arrays are concrete."""

    name: str
    make: Maker
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    """How the docs draw a loss: its value against one natural variable (a residual, the
    probability of the true class, the offset of a sliding box, the mass of a growing mask...).

    ``make(x, v)`` builds the positional arrays from a 1-D float64 grid ``x``, one example per
    point along axis 0, given the swept value ``v`` (``None`` unless the sweep is an input
    parameter); with ``batched=False`` it is called once per point (with ``x`` of length 1),
    for calls that couple a batch or return one value. A point's value is the mean of the
    call's result over every axis but the batch (``reduction="none"``, or ``"mean"`` in one
    call per point, where the loss takes a reduction). ``sweep`` names what each
    of ``values`` sets, one curve each: a keyword option of the loss, an input parameter
    passed to ``make``, or (for a mapping value) several options at once. ``options`` hold
    for every curve. ``x`` and ``y`` label the axes, ``span`` bounds ``x``.
    """

    x: str
    span: tuple[float, float]
    make: Callable[[np.ndarray, Any], tuple[np.ndarray, ...]]
    sweep: str | None = None
    values: tuple[Any, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    y: str = "loss"
    batched: bool = True

    def curves(self, fn: Callable[..., Any], n: int = 201
               ) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(label, x, value)`` per swept value (one unlabelled curve without a sweep), the
        values computed by ``fn`` on NumPy float64 inputs."""
        params = {n for n, p in inspect.signature(fn).parameters.items()
                  if p.kind is p.KEYWORD_ONLY}
        x = np.linspace(*self.span, n if self.batched else max(n // 2, 2))
        out = []
        for v in self.values or (None,):
            options, given, label = dict(self.options), None, ""
            if isinstance(v, Mapping):
                options.update(v)
                label = ", ".join(f"{k} = {_fmt(u)}" for k, u in v.items())
            elif v is not None:
                label = f"{self.sweep} = {_fmt(v)}"
                if self.sweep is not None and self.sweep in params:
                    options[self.sweep] = v
                else:
                    given = v
            if "reduction" in params:
                options["reduction"] = "none" if self.batched else "mean"
            if self.batched:
                y = np.asarray(fn(*self.make(x, given), **options), dtype=np.float64)
                y = y.reshape(len(x), -1).mean(axis=1)
            else:
                y = np.array([np.mean(np.asarray(fn(*self.make(x[i:i + 1], given), **options),
                                                 dtype=np.float64)) for i in range(len(x))])
            out.append((label, x, y))
        return out


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class Record:
    """Everything the tests, the CLI and the docs need to know about one loss.

    ``grad_args``: positional arguments that are differentiable. ``bad_options``: pairs of
    (options, option name) that must raise ``ValueError`` naming that option.
    ``bad_shape``: a maker of positional arrays whose shapes do not fit. ``perfect``: maps a
    case's arrays to a perfect prediction (the loss is 0 there). ``symmetric``: swapping the
    first two arguments leaves the value unchanged. ``reduces``: takes ``reduction`` and
    ``weight``. ``unsupported``: backend id -> reason (documented, shown by the CLI).
    ``sized(rng, n)``: inputs with about ``n`` elements, for timing. ``kind`` names the
    input structure (``"elementwise"``: two same-shape float arrays); the property tests draw
    inputs per kind (``tests/test_properties.py``). ``timing_options``: the options the
    benchmark calls both arrayloss and its peers with (for peers that implement one variant);
    ``goals``: the benchmark goals (``GOALS``) the loss takes part in. ``figure``: how the
    docs draw it (:class:`Figure`).
    """

    name: str
    family: str
    fn: Callable[..., Any]
    inputs: str
    cases: tuple[Case, ...]
    reference: Callable[..., np.ndarray]
    kind: str = "elementwise"
    peers: tuple[Peer, ...] = ()
    grad_args: tuple[int, ...] = (0,)
    bad_options: tuple[tuple[Mapping[str, Any], str], ...] = ()
    bad_values: tuple[BadValue, ...] = ()
    bad_shape: Maker | None = None
    nonnegative: bool = True
    perfect: Callable[[tuple[np.ndarray, ...]], tuple[np.ndarray, ...]] | None = None
    symmetric: bool = False
    reduces: bool = True
    unsupported: Mapping[str, str] = field(default_factory=dict)
    sized: Callable[[np.random.Generator, int], tuple[np.ndarray, ...]] | None = None
    notes: str = ""
    timing_options: Mapping[str, Any] = field(default_factory=dict)
    goals: tuple[str, ...] = ()
    figure: Figure | None = None

    @property
    def summary(self) -> str:
        """The first sentence of the docstring."""
        para = (self.fn.__doc__ or "").strip().split("\n\n")[0]
        text = " ".join(line.strip() for line in para.splitlines())
        return text.split(". ")[0].rstrip(".") + "." if text else self.name


_REGISTRY: dict[str, Record] | None = None


def _load() -> dict[str, Record]:
    global _REGISTRY
    if _REGISTRY is None:
        from .. import losses

        reg: dict[str, Record] = {}
        for fam in losses.MODULES:
            mod = importlib.import_module(f"{__name__}.{fam}")
            for rec in mod.RECORDS:
                if rec.name in reg:
                    raise RuntimeError(f"catalogue: {rec.name} registered twice")
                if rec.family != fam:
                    raise RuntimeError(f"catalogue: {rec.name} is in {fam}, says {rec.family}")
                unknown = set(rec.goals) - set(GOALS)
                if unknown:
                    raise RuntimeError(f"catalogue: {rec.name} has unknown goals {unknown}")
                reg[rec.name] = rec
        public = {name for name in losses.__all__ if name != "box_convert"}
        if set(reg) != public:
            raise RuntimeError(f"catalogue and arrayloss.losses differ: {set(reg) ^ public}")
        _REGISTRY = reg
    return _REGISTRY


def yardstick(fn: Callable[..., Any], library: str = "hand-written NumPy",
              backend: str = "numpy") -> Peer:
    """A timing-only peer written here: what a NumPy user would write for the loss's default
    options, or a torchvision-style formula restated in torch. It takes the positional arrays
    of ``Record.sized`` and returns the default ``"mean"``."""
    return Peer(library, backend, fn, backend, timing_only=True)


def timed(records: list[Record], timing: Mapping[str, Mapping[str, Any]]) -> list[Record]:
    """``records`` with their benchmark entries: per loss name, ``peers`` (yardsticks added
    to the record's peers), ``goals`` and ``options`` (``Record.timing_options``)."""
    out = []
    for rec in records:
        t = timing.get(rec.name, {})
        out.append(dataclasses.replace(
            rec, peers=(*rec.peers, *t.get("peers", ())), goals=tuple(t.get("goals", ())),
            timing_options=dict(t.get("options", {}))))
    return out


def drawn(records: list[Record], figures: Mapping[str, Figure]) -> list[Record]:
    """``records`` with their docs figures (:class:`Figure`), per loss name."""
    return [dataclasses.replace(r, figure=figures.get(r.name, r.figure)) for r in records]


def np_reduce(
    loss: np.ndarray,
    reduction: str = "mean",
    weight: np.ndarray | None = None,
    count: float | None = None,
) -> np.ndarray:
    """Float64 NumPy reduction used by the reference implementations (independent of
    ``arrayloss._reduce``): weight multiplies, ``"mean"`` divides by ``count`` (default: the
    number of elements) and is 0 for a zero count."""
    loss = np.asarray(loss, dtype=np.float64)
    if weight is not None:
        loss = loss * np.asarray(weight, dtype=np.float64)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return np.asarray(total)
    n = loss.size if count is None else count
    return np.asarray(total / n if n else 0.0)


def records(family: str | None = None) -> list[Record]:
    """All registered records (optionally of one family), in catalogue order."""
    return [r for r in _load().values() if family is None or r.family == family]


def get(name: str) -> Record:
    """The record of one loss by name."""
    try:
        return _load()[name]
    except KeyError:
        raise KeyError(f"catalogue: no loss named {name!r}") from None
