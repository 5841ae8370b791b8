"""Reductions over a group of replicas, and a loss's statistics kept to be finished later.

A reducing loss is a function of statistics that add up over samples: the sum of the
unreduced loss and its count for a mean; the per-class sums TP, Sp, Sg of an overlap loss
over a pooled batch. Two things follow from that, and this module holds both:

- ``replicas=`` (every loss): a ``torch.distributed`` process group or a JAX axis name. The
  statistics are summed over the group (one collective: they are packed into one vector)
  before the final division, so every replica returns the full batch's loss. The collective
  is differentiable and its gradient is the sum of the replicas' gradients: once DDP (or a
  ``pmean``) averages the replicas' gradients, the result is the full batch's gradient.
  A loss that couples every sample of the batch (``ntxent_loss``, ``circle_loss``, Lovász with
  a pooled batch) gathers its inputs instead and computes the full batch's loss.
- ``parts(loss, ...)``: the statistics themselves, as a ``Parts``; parts of micro-batches
  add up, and ``value()`` finishes the loss of their union, exactly. ``share(total)`` gives
  a micro-batch's exact share of the full batch's gradient (gradient accumulation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import _kernels, _ops
from ._namespace import Array, Namespace, backend_name

__all__ = ["COLLECT", "Parts", "all_gather", "all_sum", "check_replicas", "parts",
           "replica_index"]


class _Collect:
    """The ``replicas`` value ``parts`` passes: keep the statistics, do not finish."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "arrayloss.parts"


COLLECT = _Collect()

_GROUP_KINDS = ("a torch.distributed process group (e.g. torch.distributed.group.WORLD) "
                "with torch tensors, or a JAX axis name (a string, or a tuple of them, bound "
                "by shard_map, pmap or vmap) with JAX arrays")


def check_replicas(fn: str, xp: Namespace, replicas: Any) -> Any:
    """``replicas`` when the arrays' library can reduce over it; ``TypeError`` otherwise."""
    if replicas is None or replicas is COLLECT:
        return replicas
    name = backend_name(xp)
    ad = _kernels.adapter(name)
    test = getattr(ad, "is_replica_group", None)
    if test is None:
        raise TypeError(
            f"{fn}: `replicas` is {_GROUP_KINDS}; {name} arrays have no collective (got "
            f"{type(replicas).__name__}): give replicas=None, or, for Dask, one lazy array "
            "over the whole data"
        )
    if not test(replicas):
        raise TypeError(f"{fn}: `replicas` must be {_GROUP_KINDS}; got "
                        f"{type(replicas).__name__} {replicas!r} with {name} arrays")
    return replicas


def _adapter(xp: Namespace) -> Any:
    return _kernels.adapter(backend_name(xp))


def all_sum(xp: Namespace, replicas: Any, stats: Sequence[Array]) -> tuple[Array, ...]:
    """Every array of ``stats`` summed over the replicas, with one collective: they are
    flattened into one vector (in the first one's dtype) and split again."""
    shapes = [tuple(s.shape) for s in stats]
    dtype = stats[0].dtype
    flat = [xp.reshape(xp.astype(s, dtype), (-1,)) for s in stats]
    total = _adapter(xp).all_sum(flat[0] if len(flat) == 1 else xp.concat(flat), replicas)
    out: list[Array] = []
    start = 0
    for s, f, shape in zip(stats, flat, shapes, strict=True):
        n = f.shape[0]
        out.append(xp.astype(xp.reshape(total[start:start + n], shape), s.dtype))
        start += n
    return tuple(out)


def all_gather(xp: Namespace, replicas: Any, x: Array) -> Array:
    """``x`` of every replica concatenated along axis 0 (replica order); every replica must
    hold the same shape."""
    return _adapter(xp).all_gather(x, replicas)


def replica_index(xp: Namespace, replicas: Any) -> Any:
    """This replica's position in the group (an int, or a traced one under JAX)."""
    return _adapter(xp).replica_index(replicas)


class Parts:
    """The statistics of one loss over a set of samples, and how to finish the loss.

    ``stats`` is a tuple of arrays that add up over disjoint sets of samples (for a mean: the
    sum of the weighted unreduced loss and the count; for an overlap loss over a pooled
    batch: its per-class sums). Parts of the same loss with the same options and
    shapes add (``p + q``, ``sum(parts)``); ``value()`` is then the loss of the union of their
    samples, exactly, and its gradient is the union's.

    ``value(replicas=group)`` also sums the statistics over a group of replicas first (see
    ``replicas=`` on the losses). ``share(total)``: the value of ``total`` with the gradient
    of this part's samples only (``total`` carries none): the sum of the shares' gradients
    over parts that add up to ``total`` is ``total.value()``'s gradient, which is exact
    gradient accumulation with one backward pass per micro-batch.
    """

    __slots__ = ("_then", "fn", "stats", "xp")

    def __init__(self, fn: str, xp: Namespace, stats: tuple[Array, ...],
                 then: Callable[..., Array]) -> None:
        self.fn = fn
        self.xp = xp
        self.stats = stats
        self._then = then

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(s.shape)) for s in self.stats)
        return f"Parts({self.fn}, stats of shapes {shapes})"

    def _check(self, other: Any, what: str) -> Parts:
        if not isinstance(other, Parts):
            raise TypeError(f"{self.fn}: {what} needs the Parts of the same loss; got "
                            f"{type(other).__name__}")
        mine = [tuple(s.shape) for s in self.stats]
        theirs = [tuple(s.shape) for s in other.stats]
        if other.fn != self.fn or mine != theirs:
            raise ValueError(
                f"{self.fn}: {what} needs the Parts of the same loss with the same options "
                f"and statistics shapes; got {other.fn} with shapes {theirs} and {self.fn} "
                f"with shapes {mine}"
            )
        return other

    def __add__(self, other: Any) -> Parts:
        if isinstance(other, int) and other == 0:  # sum(parts) starts from 0
            return self
        other = self._check(other, "adding parts")
        stats = tuple(a + b for a, b in zip(self.stats, other.stats, strict=True))
        return Parts(self.fn, self.xp, stats, self._then)

    __radd__ = __add__

    def value(self, replicas: Any = None) -> Array:
        """The loss of these statistics (summed over ``replicas`` first when given)."""
        stats = self.stats
        if replicas is not None:
            if replicas is COLLECT:
                raise TypeError(f"{self.fn}: `replicas` must be a process group or an axis "
                                "name")
            check_replicas(self.fn, self.xp, replicas)
            stats = all_sum(self.xp, replicas, stats)
        return self._then(*stats)

    def share(self, total: Parts) -> Array:
        """``total.value()`` whose gradient is this part's share: ``f(T + s - stop(s))`` with
        ``T = stop(total.stats)`` and ``s`` these statistics, so the gradient is
        ``f'(T) ds``. ``total`` must include this part."""
        total = self._check(total, "share")
        xp = self.xp
        stats = tuple(_ops.stop_gradient(xp, t) + (s - _ops.stop_gradient(xp, s))
                      for t, s in zip(total.stats, self.stats, strict=True))
        return self._then(*stats)

    @staticmethod
    def combine(fn: str, xp: Namespace, terms: Sequence[tuple[float, Parts]],
                finish: Callable[[Array], Array]) -> Parts:
        """One ``Parts`` for a weighted sum of the terms' losses (a compound loss): its
        statistics are the terms' side by side, so a compound costs one collective."""
        sizes = [len(p.stats) for _, p in terms]
        stats = tuple(s for _, p in terms for s in p.stats)

        def then(*st: Array) -> Array:
            total, start = None, 0
            for (lam, p), n in zip(terms, sizes, strict=True):
                v = lam * p._then(*st[start:start + n])
                total = v if total is None else total + v
                start += n
            assert total is not None
            return finish(total)

        return Parts(fn, xp, stats, then)


def parts(loss: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Parts:
    """The statistics of ``loss(*args, **kwargs)`` instead of its value: a ``Parts``.

    ``loss`` is an arrayloss function and ``kwargs`` its options (``reduction`` "mean",
    "weighted_mean" or "sum"; "none" keeps only a pooled overlap loss's statistics).
    ``parts(loss, ...).value()`` equals ``loss(...)``; parts of micro-batches add up to the
    parts of the whole batch, so a mean over counted positions (``ignore_index``, masks,
    class weights) or a pooled Dice is exact over micro-batches, where averaging the
    micro-batches' means is not. Raises ``ValueError`` for a loss whose value is not a
    function of sums (one that couples every sample of the batch, e.g. ``ntxent_loss``) and
    for ``reduction="none"`` where there is nothing to pool.
    """
    name = getattr(loss, "__name__", repr(loss))
    if "replicas" in kwargs:
        raise TypeError(f"parts: give `replicas` to Parts.value(replicas=...), not to {name}")
    out = loss(*args, replicas=COLLECT, **kwargs)
    if not isinstance(out, Parts):
        raise ValueError(f"{name}: reduction {kwargs.get('reduction', 'mean')!r} leaves "
                         "nothing to pool: parts needs 'mean', 'weighted_mean' or 'sum'")
    return out
