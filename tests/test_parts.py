"""``arrayloss.parts``: a loss's statistics, finished later. Parts of uneven micro-batches add
up to the batch's (every CPU backend), ``share`` gives each micro-batch its exact share of the
batch's gradient (torch and JAX: gradient accumulation), every registered loss either has
parts whose value is its own or refuses with a clear error; and ``replicas`` refuses what it
cannot reduce over.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from arrayloss.testing import backends
from conftest import jax_or_skip, require_backend, torch_or_skip

B, S, C = 8, 5, 3
SPLITS = (0, 3, 4, 6, 8)  # four micro-batches of 3, 1, 2 and 2 images


def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    y = rng.integers(0, C, size=(B, S))
    y[:3] = -1  # the first micro-batch holds no counted label
    y[6, 1:] = -1
    w = rng.uniform(size=(B, S))
    w[3] *= 0.05
    return {"z": rng.normal(size=(B, S, C)), "y": y, "y01": rng.integers(0, 2, size=(B, S)),
            "w": w, "t": rng.normal(size=(B, S))}


# each: (logits, the batch's other arrays, namespace) -> call of the loss (its kwargs)
LOSSES: dict[str, Callable[..., tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]] = {
    "cross_entropy": lambda z, d, xp: (al.cross_entropy, (z, d["y"]), {"ignore_index": -1}),
    "softmax_focal_loss": lambda z, d, xp: (al.softmax_focal_loss, (z, d["y"]),
                                            {"ignore_index": -1, "class_weight": [1, 2, 3]}),
    "dice_loss_pooled": lambda z, d, xp: (al.dice_loss, (z, d["y"]), {
        "activation": "softmax", "per_image": False, "ignore_index": -1}),
    "dice_loss_per_image": lambda z, d, xp: (al.dice_loss, (z, d["y"]), {
        "activation": "softmax", "ignore_index": -1}),
    "jaccard_loss_micro": lambda z, d, xp: (al.jaccard_loss, (z, d["y"]), {
        "activation": "softmax", "per_image": False, "average": "micro", "ignore_index": -1}),
    "generalized_dice_pooled": lambda z, d, xp: (al.generalized_dice_loss, (z, d["y"]), {
        "activation": "softmax", "per_image": False, "ignore_index": -1}),
    "dice_ce_pooled": lambda z, d, xp: (al.dice_ce_loss, (z, d["y"]), {
        "per_image": False, "ignore_index": -1}),
    "bce_weighted_mean": lambda z, d, xp: (al.binary_cross_entropy_with_logits,
                                           (z[..., 0], d["y01"]),
                                           {"weight": d["w"], "reduction": "weighted_mean"}),
    "mse_sum": lambda z, d, xp: (al.mse_loss, (z[..., 1], d["t"]), {"reduction": "sum"}),
    "mse_mean": lambda z, d, xp: (al.mse_loss, (z[..., 1], d["t"]), {}),
}

# the eager, lazy and jit rows, GPU rows included (they skip without a GPU unless required)
EAGER = [b.id for b in backends.BACKENDS if b.mode in ("eager", "lazy", "jit")]


def _batch(backend: backends.Backend, lo: int = 0, hi: int = B) -> tuple[Any, dict[str, Any]]:
    d = {k: backend.asarray(v[lo:hi]) for k, v in _data().items()}
    return d.pop("z"), d


# eager JAX compiles every operation for each micro-batch's shape, and Dask builds graphs:
# there, the four losses that cover each kind of statistic (count, pooled, compound, weights)
TRACED = ("cross_entropy", "dice_loss_pooled", "dice_ce_pooled", "bce_weighted_mean")
ROWS = [(b, n) for b in EAGER for n in LOSSES
        if backends.by_id(b).module not in ("jax", "dask") or n in TRACED]


@pytest.mark.parametrize(("backend_id", "name"), ROWS, ids=[f"{n}-{b}" for b, n in ROWS])
def test_parts_of_uneven_micro_batches_add_up_to_the_batch(backend_id: str, name: str) -> None:
    backend = require_backend(backends.by_id(backend_id))
    z, d = _batch(backend)
    fn, args, kw = LOSSES[name](z, d, None)
    want = backend.to_numpy(fn(*args, **kw))
    parts, means = [], []
    for lo, hi in itertools.pairwise(SPLITS):
        zk, dk = _batch(backend, lo, hi)
        fn, args, kw = LOSSES[name](zk, dk, None)
        parts.append(al.parts(fn, *args, **kw))
        means.append(backend.to_numpy(fn(*args, **kw)))
    total = sum(parts)
    assert isinstance(total, al.Parts)
    np.testing.assert_allclose(backend.to_numpy(total.value()), want, rtol=1e-12, atol=1e-14)
    if name != "mse_sum":  # sums add up; the mean of the micro-batches' means does not
        assert abs(np.mean(means) - want) > 1e-3 * abs(want), name


def _loss(name: str, z: Any, d: dict[str, Any]) -> Any:
    """The value of the loss ``name`` on logits ``z`` and the batch's arrays ``d``."""
    fn, args, kw = LOSSES[name](z, d, None)
    return fn(*args, **kw)


def _grad_torch(fn: Callable[[Any], Any], z: Any) -> Any:
    z = z.detach().clone().requires_grad_(True)
    fn(z).backward()
    assert z.grad is not None
    return z.grad.detach().clone()


@pytest.mark.parametrize("name", list(LOSSES))
def test_gradient_accumulation_with_shares_is_exact_torch(name: str) -> None:
    torch = torch_or_skip()
    backend = backends.by_id("torch")
    z, d = _batch(backend)
    total_grad = _grad_torch(lambda x: _loss(name, x, d), z)

    def micro(x: Any, lo: int, hi: int) -> al.Parts:
        dk = {k: v[lo:hi] for k, v in d.items()}
        fn, args, kw = LOSSES[name](x[lo:hi], dk, None)
        return al.parts(fn, *args, **kw)

    # pass 1: the batch's statistics, without a graph; pass 2: one backward per micro-batch
    with torch.no_grad():
        total = sum(micro(z, lo, hi) for lo, hi in itertools.pairwise(SPLITS))
    x = z.detach().clone().requires_grad_(True)
    values = []
    for lo, hi in itertools.pairwise(SPLITS):
        share = micro(x, lo, hi).share(total)
        share.backward()
        values.append(float(share.detach()))
    np.testing.assert_allclose(values, float(total.value()), rtol=1e-12)
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), total_grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["cross_entropy", "dice_loss_pooled", "dice_ce_pooled",
                                  "generalized_dice_pooled", "bce_weighted_mean"])
def test_gradient_accumulation_with_shares_is_exact_jax(name: str) -> None:
    jax = jax_or_skip()
    backend = require_backend(backends.by_id("jax"))
    z, d = _batch(backend)

    def micro(x: Any, lo: int, hi: int) -> al.Parts:
        fn, args, kw = LOSSES[name](x[lo:hi], {k: v[lo:hi] for k, v in d.items()}, None)
        return al.parts(fn, *args, **kw)

    pairs = list(itertools.pairwise(SPLITS))
    # pass 1 under jit: Parts is a pytree
    total = jax.jit(lambda x: sum(micro(x, lo, hi) for lo, hi in pairs))(z)
    grad = sum(jax.grad(lambda x, lo=lo, hi=hi: micro(x, lo, hi).share(total))(z)
               for lo, hi in pairs)
    want = jax.grad(lambda x: _loss(name, x, d))(z)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(want), rtol=1e-10, atol=1e-14)


# the losses whose value couples every sample of the batch: no parts
COUPLED = {"ntxent_loss", "circle_loss", "lovasz_hinge_loss", "lovasz_softmax_loss"}
RECORDS = [r for r in catalog.records() if "reduction" in inspect.signature(r.fn).parameters]


@pytest.mark.parametrize("record", RECORDS, ids=[r.name for r in RECORDS])
def test_every_loss_has_parts_or_says_why_not(record: catalog.Record) -> None:
    for case in record.cases:
        args, kw = case.inputs()
        opts = dict(case.options)
        want = np.asarray(record.fn(*args, **opts, **kw))
        try:
            parts = al.parts(record.fn, *args, **opts, **kw)
        except ValueError as exc:
            msg = str(exc)
            assert msg.startswith(record.name), msg
            pooled = opts.get("per_image") is False or record.name.startswith("lovasz")
            if "couples every sample" in msg:
                assert record.name in COUPLED and (pooled or "ref_embeddings" not in kw)
            else:
                assert opts.get("reduction") == "none" and "parts needs" in msg, msg
            continue
        np.testing.assert_allclose(np.asarray(parts.value()), want, rtol=1e-12, atol=1e-14)


def test_parts_and_replicas_refuse_what_they_cannot_do() -> None:
    x, y = np.zeros((4, 3)), np.array([0, 1, 2, 1])
    with pytest.raises(TypeError, match=r"cross_entropy: `replicas` is a torch\.distributed "
                                        r"process group .* numpy arrays have no collective"):
        al.cross_entropy(x, y, replicas="batch")
    with pytest.raises(TypeError, match=r"give `replicas` to Parts\.value"):
        al.parts(al.cross_entropy, x, y, replicas="batch")
    with pytest.raises(ValueError, match="nothing to pool"):
        al.parts(al.cross_entropy, x, y, reduction="none")
    with pytest.raises(ValueError, match=r"ntxent_loss: the loss couples every sample"):
        al.parts(al.ntxent_loss, x, y)
    a = al.parts(al.cross_entropy, x, y)
    with pytest.raises(ValueError, match="same loss"):
        _ = a + al.parts(al.mse_loss, x, x)
    with pytest.raises(TypeError, match="needs the Parts"):
        _ = a + 1.0
    torch = torch_or_skip()
    with pytest.raises(TypeError, match=r"must be a torch\.distributed process group"):
        al.cross_entropy(torch.zeros(4, 3), torch.tensor(y), replicas="batch")
    import arrayloss.torch as alt

    with pytest.raises(TypeError, match=r"CrossEntropyLoss: `process_group` must be"):
        alt.CrossEntropyLoss(process_group="world")
