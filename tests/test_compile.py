"""``arrayloss.compile``: equal results and gradients, caching, per-call arrays, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from arrayloss.testing import backends
from conftest import require_backend

AOT = {"backend": "aot_eager"}  # Dynamo's full graph capture, without inductor's codegen


# one loss with Python options, one with integer labels, one box loss (the matrix runs every
# case under torch.compile and jax.jit; these check the wrapper)
NAMES = ("huber_loss", "cross_entropy", "giou_loss")
RECORDS = [pytest.param(r, id=r.name) for r in catalog.records() if r.name in NAMES]


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    arrays = {k: v for k, v in options.items() if isinstance(v, np.ndarray)}
    return {k: v for k, v in options.items() if k not in arrays}, arrays


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax"])
def test_compiled_equals_eager(backend_id: str, record: catalog.Record) -> None:
    b = require_backend(backends.by_id(backend_id))
    if b.module == "jax":
        b = backends.Backend("jax:eager", "jax")
    for case in record.cases[:2]:
        args, kw = case.inputs()
        static, arrays = _split({**case.options, **kw})
        conv, ckw = b.convert(args, arrays, "float64")
        eager = b.to_numpy(record.fn(*conv, **static, **ckw))
        fn = al.compile(record.fn, torch_kwargs=AOT, **static)
        out = fn(*conv, **ckw)
        assert type(out).__module__.split(".")[0] == type(conv[0]).__module__.split(".")[0]
        np.testing.assert_allclose(b.to_numpy(out), eager, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend_id", ["torch", "jax"])
def test_compiled_gradients_equal_eager(backend_id: str) -> None:
    record = catalog.get("huber_loss")
    b = require_backend(backends.by_id(backend_id))
    case = record.cases[3]
    args, _ = case.inputs()
    compiled = al.compile(record.fn, torch_kwargs=AOT, delta=0.5)
    eager = b.grad(record.fn, args, {"delta": 0.5}, (0, 1))
    got = b.grad(lambda *xs: compiled(*xs), args, {}, (0, 1))
    for g, e in zip(got, eager):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_inductor_default_and_per_call_weight() -> None:
    """The default torch path (inductor, fullgraph) with a weight array given per call."""
    b = require_backend(backends.by_id("torch"))
    rng = np.random.default_rng(0)
    p, t, w = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.uniform(size=(6, 1))
    (tp, tt), tw = b.convert((p, t), {"w": w}, "float32")
    fn = al.compile(al.smooth_l1_loss, beta=0.5, reduction="sum")
    got = b.to_numpy(fn(tp, tt, weight=tw["w"]))
    want = b.to_numpy(al.smooth_l1_loss(tp, tt, beta=0.5, reduction="sum", weight=tw["w"]))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_cached_and_traced_once_jax() -> None:
    b = require_backend(backends.by_id("jax"))
    traces = []

    def counting(pred: Any, target: Any, **kw: Any) -> Any:
        traces.append(1)  # runs only while jax traces
        return al.mse_loss(pred, target, **kw)

    fn = al.compile(counting, reduction="sum")
    assert al.compile(counting, reduction="sum") is fn
    assert al.compile(counting, reduction="mean") is not fn
    rng = np.random.default_rng(1)
    for _ in range(3):
        conv, _ = b.convert((rng.normal(size=(5,)), rng.normal(size=(5,))), {}, "float32")
        fn(*conv)
    assert len(traces) == 1
    assert set(fn._compiled) == {"jax"}


def test_cached_and_traced_once_torch() -> None:
    b = require_backend(backends.by_id("torch"))
    import torch._dynamo.utils as du

    fn = al.compile(al.l1_loss, torch_kwargs=AOT, reduction="sum")
    assert al.compile(al.l1_loss, torch_kwargs=AOT, reduction="sum") is fn
    rng = np.random.default_rng(1)
    before = du.counters["stats"]["unique_graphs"]
    for _ in range(3):
        conv, _ = b.convert((rng.normal(size=(5,)), rng.normal(size=(5,))), {}, "float32")
        fn(*conv)
    assert du.counters["stats"]["unique_graphs"] - before == 1
    assert set(fn._compiled) == {"torch"}


def test_errors_and_repr() -> None:
    x = np.zeros(3)
    with pytest.raises(TypeError, match="compile: `loss`"):
        al.compile("huber_loss")  # type: ignore[arg-type]
    fn = al.compile(al.huber_loss, delta=0.5)
    assert repr(fn) == "arrayloss.compile(huber_loss, delta=0.5)"
    assert fn.__name__ == "huber_loss"
    with pytest.raises(TypeError, match="huber_loss: `reduction` given per call"):
        fn(x, x, reduction="sum")
    with pytest.raises(TypeError, match="positional"):
        fn()
    with pytest.raises(ValueError, match="huber_loss: `delta`"):
        al.compile(al.huber_loss, delta=-1.0)(x, x)
    weights = np.ones(3)
    unhashable = al.compile(al.huber_loss, weight=weights)
    assert al.compile(al.huber_loss, weight=weights) is not unhashable
    np.testing.assert_allclose(unhashable(x, x + 1), 0.5)


def test_bad_option_raises_under_torch_compile() -> None:
    b = require_backend(backends.by_id("torch"))
    (x,), _ = b.convert((np.zeros(3),), {}, "float32")
    with pytest.raises(ValueError, match="smooth_l1_loss: `beta`"):
        al.compile(al.smooth_l1_loss, torch_kwargs=AOT, beta=-1.0)(x, x)
