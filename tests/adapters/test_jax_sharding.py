"""Every registered loss under ``jax.jit`` with its inputs sharded over a mesh of four devices.

A JAX user who trains on several devices passes global arrays laid out with ``NamedSharding``
and GSPMD partitions the loss. Here the batch-shaped arrays of one case per record go on
``Mesh(devices[:4], ("batch",))`` with ``P("batch")``, the others (class weights, centres, a
vocabulary matrix, a memory bank) replicated with ``P()``; one ``jax.jit`` per record returns
the ``"mean"``, ``"sum"`` and (where the loss has it) ``"none"`` results, which must equal
the unsharded eager float64 NumPy values. A few representative losses also compare their
gradients with the unsharded eager JAX gradients. The four CPU devices come from
``arrayloss.testing.backends.configure`` (``tests/conftest.py`` runs it before JAX starts).

The batch: a case's batch-shaped arrays are the concatenation along axis 0 of ``k`` draws of
the case (``case.inputs(seed)`` for ``seed < k``; fixed catalogue makers repeat their
rows), ``k`` the fewest that give a multiple of four rows and at least eight (two per
device). Concatenating draws keeps every kind's inputs valid: the rows of the elementwise,
class, pair, triplet, box, ranking, sequence and segmentation kinds are independent samples
or images (losses that pool over the batch, ``per_image=False`` or the median scale of
``tukey_biweight_loss``, pool over the concatenation, which the reference does as well);
``center`` and ``linear_logits`` concatenate features and labels and share the centres or
the vocabulary matrix; ``embedding_groups`` offset the labels of draw ``s`` by ``s`` times
(largest label + 1), so each draw keeps its own groups (every anchor keeps exactly its
positives; the other draws only add negatives).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from arrayloss import catalog
from arrayloss.testing import backends
from conftest import jax_or_skip

RECORDS = catalog.records()
DEVICES = backends.HOST_DEVICES
RTOL, ATOL = 1e-12, 1e-14
# XLA ops whose presence shows that the program was partitioned over the mesh
_COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")

# kinds whose inputs are batches of scalars: a 1-D input is a batch (the other kinds carry a
# class, feature, coordinate or time axis, so their batch needs a second axis)
_SCALAR_ROWS = {"elementwise", "nonnegative", "mean_var", "binary_prob", "binary_logits",
                "signed", "signed_distances", "score_pairs"}
# positional arguments that have no batch axis, by kind: the centres (K, D) of center_loss and
# update_centers, the vocabulary matrix (V, D) of linear_cross_entropy
_SHARED_POSITIONAL = {"center": (2,), "linear_logits": (1,)}
# keyword arrays: always per sample, never per sample (per class, a memory bank), or shaped
# like the unreduced loss (per sample when they have its rank and its leading length)
_BATCH_KW = {"input_lengths", "target_lengths"}
_SHARED_KW = {"class_weight", "pos_weight", "alpha", "ref_embeddings", "ref_labels"}
_LOSS_SHAPED_KW = {"weight", "where", "item_weight"}


def _param(fn: Callable[..., Any], name: str) -> inspect.Parameter | None:
    return inspect.signature(fn).parameters.get(name)


def _reductions(record: catalog.Record) -> tuple[str | None, ...]:
    """The reductions to compare (``None``: the function takes no ``reduction``)."""
    if _param(record.fn, "reduction") is None:
        return (None,)
    if not record.reduces:  # the Dice compounds: a mean or a sum over images and classes
        return ("mean", "sum")
    return ("mean", "sum", "none")


def _axis_hits_batch(record: catalog.Record, case: catalog.Case, ndim: int) -> bool:
    """Whether the case's class/feature axis option is the leading axis."""
    p = _param(record.fn, "axis")
    if p is None:
        return False
    axis = case.options.get("axis", p.default)
    if axis is None:
        return False
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return any(a % ndim == 0 for a in axes)


def _eligible(record: catalog.Record, case: catalog.Case) -> str:
    """Why the case has no splittable leading batch axis ("" when it has one)."""
    args, _ = case.inputs()
    if not all(a.size for a in args):
        return "empty input"
    if case.options.get("pairwise"):
        return "pairwise: two unrelated leading axes"
    if args[0].ndim < (1 if record.kind in _SCALAR_ROWS else 2):
        return "no batch axis besides the class/feature axis"
    if _axis_hits_batch(record, case, args[0].ndim):
        return "the class/feature axis is axis 0"
    return ""


def first_case(record: catalog.Record) -> catalog.Case:
    """The record's first case with a leading batch axis that can be split."""
    for case in record.cases:
        if not _eligible(record, case):
            return case
    raise AssertionError(f"{record.name}: no case has a splittable batch axis")


@dataclass
class Batch:
    """NumPy inputs of a sharded call and which of them carry the batch axis."""

    args: list[np.ndarray]
    kw: dict[str, np.ndarray]
    batch_args: list[bool]
    batch_kw: dict[str, bool]
    options: dict[str, Any]


def _loss_rank(record: catalog.Record, case: catalog.Case) -> int:
    """The rank of the unreduced loss (the Dice compounds: a weight per image)."""
    if not record.reduces:
        return 1
    args, kw = case.inputs()
    return int(np.ndim(record.fn(*args, **{**case.options, "reduction": "none"}, **kw)))


def make_batch(record: catalog.Record, case: catalog.Case) -> Batch:
    """The case's inputs concatenated from draws along axis 0 (see the module docstring)."""
    reason = _eligible(record, case)
    assert not reason, f"{record.name}-{case.id}: {reason}"
    args, kw = case.inputs()
    shared = _SHARED_POSITIONAL.get(record.kind, ())
    batch_args = [i not in shared for i in range(len(args))]
    b = args[0].shape[0]
    for a, is_batch in zip(args, batch_args):
        assert not is_batch or a.shape[:1] == (b,), f"{record.name}: leading axes differ"
    rank = _loss_rank(record, case) if set(kw) & _LOSS_SHAPED_KW else 0
    batch_kw = {}
    for name, v in kw.items():
        if name in _BATCH_KW:
            batch_kw[name] = True
        elif name in _SHARED_KW:
            batch_kw[name] = False
        elif name in _LOSS_SHAPED_KW:
            batch_kw[name] = v.ndim == rank and v.ndim > 0 and v.shape[0] == b
        else:
            raise AssertionError(f"{record.name}: keyword array {name!r} has no sharding rule")
        assert not batch_kw[name] or v.shape[0] == b, f"{record.name}: {name} is not per sample"
    k = next(k for k in range(1, 9) if (k * b) % DEVICES == 0 and k * b >= 2 * DEVICES)
    draws = [case.inputs(seed) for seed in range(k)]
    if record.kind == "embedding_groups":
        step = max(int(np.max(d[0][1])) for d in draws) + 1
        draws = [((d[0][0], d[0][1] + s * step, *d[0][2:]), d[1]) for s, d in enumerate(draws)]
    cat_args = [np.concatenate([d[0][i] for d in draws]) if is_batch else a
                for i, (a, is_batch) in enumerate(zip(args, batch_args))]
    cat_kw = {name: np.concatenate([d[1][name] for d in draws]) if batch_kw[name] else v
              for name, v in kw.items()}
    return Batch(cat_args, cat_kw, batch_args, batch_kw, dict(case.options))


@pytest.fixture(scope="module")
def mesh() -> Any:
    """``Mesh(cpu_devices[:4], ("batch",))``; fails (never skips) with fewer devices."""
    jax = jax_or_skip()
    from jax.sharding import Mesh

    devices = jax.devices("cpu")
    if len(devices) < DEVICES:
        pytest.fail(
            f"JAX has {len(devices)} CPU device(s), the sharded tests need {DEVICES}: JAX was "
            "started before arrayloss.testing.backends.configure() could set XLA_FLAGS "
            f"(or XLA_FLAGS sets a smaller --xla_force_host_platform_device_count); "
            f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    return Mesh(np.asarray(devices[:DEVICES]), ("batch",))


def _place(mesh: Any, batch: Batch) -> tuple[list[Any], list[str], list[Any]]:
    """Positional and keyword arrays on the mesh: batch arrays split, the others replicated."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    def put(a: np.ndarray, is_batch: bool) -> Any:
        x = jax.device_put(jnp.asarray(a), NamedSharding(mesh, P("batch") if is_batch else P()))
        assert len(x.sharding.device_set) == DEVICES
        assert x.sharding.is_fully_replicated != is_batch
        return x

    pos = [put(a, s) for a, s in zip(batch.args, batch.batch_args)]
    names = list(batch.kw)
    return pos, names, [put(batch.kw[n], batch.batch_kw[n]) for n in names]


def _options(batch: Batch, reduction: str | None) -> dict[str, Any]:
    opts = {k: v for k, v in batch.options.items() if k != "reduction"}
    return opts if reduction is None else {**opts, "reduction": reduction}


def test_four_host_devices(mesh: Any) -> None:
    """The test process has the four host CPU devices that ``configure`` asks for."""
    assert mesh.devices.size == DEVICES
    assert backends.with_host_devices("") == f"--xla_force_host_platform_device_count={DEVICES}"
    assert backends.with_host_devices("--xla_cpu_enable_fast_math=false") == (
        f"--xla_cpu_enable_fast_math=false --xla_force_host_platform_device_count={DEVICES}")
    kept = "--xla_force_host_platform_device_count=8"
    assert backends.with_host_devices(kept) == kept


def _case(name: str, case_id: str) -> catalog.Case:
    (case,) = [c for c in catalog.get(name).cases if c.id == case_id]
    return case


# besides each record's first case: per-sample keyword arrays split with the batch (CTC
# lengths, a weight per image, a weight per sample next to replicated class weights)
_MORE = [("ctc_loss", "catalogue-rows-none"), ("generalized_dice_loss", "random-labels-weight-sum"),
         ("multiclass_hinge_loss", "random-ww-class-weight")]
VALUE_CASES = [pytest.param(r, first_case(r), id=r.name) for r in RECORDS] + [
    pytest.param(catalog.get(n), _case(n, c), id=f"{n}-{c}") for n, c in _MORE]


@pytest.mark.parametrize(("record", "case"), VALUE_CASES)
def test_sharded_value(mesh: Any, record: catalog.Record, case: catalog.Case) -> None:
    """One jit of the record's reductions on batch-sharded inputs equals eager float64 NumPy on
    the same (unsharded) inputs, and a program that reduces communicates across the mesh."""
    import jax

    batch = make_batch(record, case)
    reductions = _reductions(record)
    pos, names, kwa = _place(mesh, batch)

    def f(*arrays: Any) -> dict[str, Any]:
        p, k = arrays[: len(pos)], dict(zip(names, arrays[len(pos):]))
        return {str(r): record.fn(*p, **_options(batch, r), **k) for r in reductions}

    compiled = jax.jit(f).lower(*pos, *kwa).compile()
    got = compiled(*pos, *kwa)
    hlo = compiled.as_text()
    if reductions != (None,):  # a row-wise result (box_iou) needs no communication
        assert any(op in hlo for op in _COLLECTIVES), "the program was not partitioned"
    for r in reductions:
        want = np.asarray(record.fn(*batch.args, **_options(batch, r), **batch.kw))
        out = np.asarray(got[str(r)])
        assert out.shape == want.shape, f"reduction={r}"
        np.testing.assert_allclose(out, want, rtol=RTOL, atol=ATOL, err_msg=f"reduction={r}")


# (loss, case id): integer labels with ignored entries, a Dice pooled over the batch, a sort
# over the whole batch, a replicated weight, a similarity matrix across shards with a
# per-anchor weight
GRAD_CASES = [("cross_entropy", "catalogue-ignore-smoothing"),
              ("dice_loss", "random-logits-cf-3d"),
              ("lovasz_softmax_loss", "catalogue-none"),
              ("binary_cross_entropy", "random-weight-sum"),
              ("ntxent_loss", "random-groups-weight-sum")]


@pytest.mark.parametrize(("name", "case_id"), GRAD_CASES, ids=[n for n, _ in GRAD_CASES])
def test_sharded_gradient(mesh: Any, name: str, case_id: str) -> None:
    """``jax.grad`` of the ``"mean"`` and ``"sum"`` losses w.r.t. the first input, jitted on
    batch-sharded inputs, equals the same jitted gradient on unsharded inputs."""
    import jax
    import jax.numpy as jnp

    record = catalog.get(name)
    batch = make_batch(record, _case(name, case_id))
    pos, names, kwa = _place(mesh, batch)

    def grads(*arrays: Any) -> dict[str, Any]:
        p, k = arrays[: len(pos)], dict(zip(names, arrays[len(pos):]))
        return {r: jax.grad(lambda x, r=r: jnp.sum(
            record.fn(x, *p[1:], **_options(batch, r), **k)))(p[0]) for r in ("mean", "sum")}

    got = jax.jit(grads)(*pos, *kwa)
    # the same program on one device: the layout is the only difference
    want = jax.jit(grads)(*[jnp.asarray(a) for a in batch.args],
                          *[jnp.asarray(batch.kw[n]) for n in names])
    for r in ("mean", "sum"):
        g = np.asarray(got[r])
        assert np.any(g), f"reduction={r}: zero gradient"
        np.testing.assert_allclose(g, np.asarray(want[r]), rtol=RTOL, atol=ATOL,
                                   err_msg=f"reduction={r}")


# Outside jax.jit, a sharded array's ``device`` is its Sharding. The rows that caught it: two
# layouts of one mesh are one set of devices (linear_cross_entropy: a sharded ``x``, a
# replicated ``w``); index constants cannot take a batch layout (dice_loss: a (C,) range;
# ctc_loss: a (T,) range), nor device 0 of an uncommitted input next to a sharded one.
_EAGER = ["linear_cross_entropy", "dice_loss", "ctc_loss"]


@pytest.mark.parametrize("name", _EAGER)
def test_sharded_eager(mesh: Any, name: str) -> None:
    """An eager call (no jit) on batch-sharded inputs equals eager float64 NumPy."""
    record = catalog.get(name)
    batch = make_batch(record, first_case(record))
    pos, names, kwa = _place(mesh, batch)
    got = record.fn(*pos, **_options(batch, "mean"), **dict(zip(names, kwa)))
    want = record.fn(*batch.args, **_options(batch, "mean"), **batch.kw)
    np.testing.assert_allclose(np.asarray(got), want, rtol=RTOL, atol=ATOL)
