"""Every registered loss under the tracers and compilers the way their users write programs.

- ``jax.jit`` with the target and every array option **captured** from outside the trace (a
  closure constant: JAX stages every operation on it, so a value check that reads it would
  be a tracer error), and ``jax.jit(jax.vmap(f, in_axes=(0, None, ...)))``;
- ``torch.compile(fullgraph=True)``: one graph per compiled call, kept valid across eager
  calls of other losses, libraries, dtypes and option settings (the library keeps no state
  Dynamo guards on), and no warning from Dynamo or JAX on the first compile;
- ``arrayloss.compile``: twenty compiled losses and option sets in one program under torch's
  default recompilation limit, and option keys that tell ``True`` from ``1``.
"""

from __future__ import annotations

import gc
import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from arrayloss.testing import backends
from conftest import require_backend

RECORDS = catalog.records()
CASES = [pytest.param(r, c, id=f"{r.name}-{c.id}") for r in RECORDS for c in r.cases]
FIRST = [pytest.param(r, r.cases[0], id=r.name) for r in RECORDS]


def _split(kw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    arrays = {k: v for k, v in kw.items() if isinstance(v, np.ndarray)}
    return arrays, {k: v for k, v in kw.items() if k not in arrays}


def _eager(record: catalog.Record, case: catalog.Case) -> np.ndarray:
    args, kw = case.inputs()
    return np.asarray(record.fn(*args, **case.options, **kw))


# --------------------------------------------------------------------------- JAX


@pytest.mark.parametrize(("record", "case"), CASES)
def test_jax_jit_captured_arrays(record: catalog.Record, case: catalog.Case) -> None:
    """Only the first argument is traced; the others and every array option are closure
    constants (concrete JAX arrays staged by the trace)."""
    b = require_backend(backends.by_id("jax"))
    import jax

    args, kw = case.inputs()
    conv, ckw = b.convert(args, kw, "float64")
    options = dict(case.options)

    def f(first: Any) -> Any:
        return record.fn(first, *conv[1:], **options, **ckw)

    got = np.asarray(jax.jit(f)(conv[0]))
    np.testing.assert_allclose(got, _eager(record, case), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("record", "case"), CASES)
def test_jax_vmap_in_axes_none(record: catalog.Record, case: catalog.Case) -> None:
    """``jax.jit(jax.vmap(f, in_axes=(0, None, ...)))``: the first argument batched, the others
    (and the array options, passed as arguments) shared by every slice."""
    b = require_backend(backends.by_id("jax"))
    import jax

    args, kw = case.inputs()
    arrays, static = _split(kw)
    first = np.stack([args[0], args[0] * 0.5 if np.issubdtype(args[0].dtype, np.floating)
                      else args[0]])
    conv, carr = b.convert((first, *args[1:]), arrays, "float64")
    names = list(carr)

    def f(x: Any, *rest: Any) -> Any:
        pos, opt = rest[: len(args) - 1], rest[len(args) - 1:]
        return record.fn(x, *pos, **case.options, **static, **dict(zip(names, opt)))

    in_axes = (0,) + (None,) * (len(args) - 1 + len(names))
    got = np.asarray(jax.jit(jax.vmap(f, in_axes=in_axes))(*conv, *carr.values()))
    for k in range(2):
        want = np.asarray(record.fn(first[k], *args[1:], **case.options, **kw))
        np.testing.assert_allclose(got[k], want, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- torch.compile


def _other_calls() -> None:
    """Eager calls of other losses, libraries, dtypes and option settings."""
    import jax.numpy as jnp
    import torch

    x = np.linspace(-1.0, 1.0, 6)
    al.huber_loss(x, x[::-1])
    al.cross_entropy(np.zeros((3, 4)), np.array([0, 1, 3], dtype=np.uint8))
    al.mse_loss(torch.tensor(x), torch.tensor(x[::-1].copy()))  # float64 torch
    al.mse_loss(torch.tensor(x, dtype=torch.float16), torch.tensor(x, dtype=torch.float16))
    al.dice_loss(torch.rand(2, 3, 4), torch.randint(0, 4, (2, 3)))
    al.giou_loss(jnp.asarray([[0.0, 0.0, 1.0, 1.0]]), jnp.asarray([[0.0, 0.0, 2.0, 1.0]]))
    with al.options(validate=False):
        al.l1_loss(torch.zeros(3), torch.ones(3))
    with al.options(validate="always"):
        al.l1_loss(torch.zeros(3), torch.ones(3))


@pytest.mark.parametrize(("record", "case"), FIRST)
def test_torch_compile_one_graph_no_warnings(record: catalog.Record,
                                             case: catalog.Case) -> None:
    """A compiled call compiles once, without any warning, equals the eager call, and its
    graph stays valid: after eager calls of other losses, libraries, dtypes and option
    settings, calling it again compiles nothing. Every floating argument is an
    ``nn.Parameter`` (learned centres, learned class weights, a parameter as the
    prediction): a parameter's type must not be read by its module name, which Dynamo
    cannot trace. (Plain tensors compile in ``test_matrix``: every loss with inductor.)"""
    b = require_backend(backends.by_id("torch"))
    import torch
    import torch._dynamo.utils as du

    def param(x: Any) -> Any:
        return torch.nn.Parameter(x) if isinstance(x, torch.Tensor) and \
            x.is_floating_point() else x

    args, kw = case.inputs()
    conv, ckw = b.convert(args, kw, "float32")
    conv = [param(x) for x in conv]
    arrays = {k: param(v) for k, v in {**case.options, **ckw}.items()
              if isinstance(v, torch.Tensor)}
    static = {k: v for k, v in case.options.items() if k not in arrays}
    compiled = torch.compile(lambda *xs, **a: record.fn(*xs, **static, **a), fullgraph=True,
                             backend="aot_eager")
    before = du.counters["stats"]["unique_graphs"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = compiled(*conv, **arrays)
    assert not [str(w.message) for w in caught]
    assert du.counters["stats"]["unique_graphs"] - before == 1
    want = record.fn(*conv, **static, **arrays)
    np.testing.assert_allclose(b.to_numpy(first), b.to_numpy(want), rtol=1e-6)
    _other_calls()
    again = compiled(*conv, **arrays)
    assert du.counters["stats"]["unique_graphs"] - before == 1, "recompiled"
    np.testing.assert_array_equal(b.to_numpy(again), b.to_numpy(first))


@pytest.mark.parametrize(("record", "case"), FIRST)
def test_jax_jit_no_warnings(record: catalog.Record, case: catalog.Case) -> None:
    b = require_backend(backends.by_id("jax"))
    import jax

    args, kw = case.inputs()
    conv, ckw = b.convert(args, kw, "float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jax.block_until_ready(jax.jit(lambda *xs: record.fn(*xs, **case.options, **ckw))(*conv))
    assert not [str(w.message) for w in caught]


# --------------------------------------------------------------------------- al.compile


def test_twenty_compiled_losses_under_the_default_recompile_limit() -> None:
    """Twenty compiled losses and option sets in one program: each has its own Dynamo cache
    entry, so none counts against another's recompilation limit (8 by default)."""
    b = require_backend(backends.by_id("torch"))
    import torch
    import torch._dynamo.config as cfg

    limits = {k: 8 for k in ("recompile_limit", "cache_size_limit") if hasattr(cfg, k)}
    rng = np.random.default_rng(0)
    p, t = b.convert((rng.normal(size=(6, 4)), rng.normal(size=(6, 4))), {}, "float32")[0]
    fns = [al.compile(al.huber_loss, torch_kwargs={"backend": "aot_eager"}, delta=0.1 * k)
           for k in range(1, 13)]
    fns += [al.compile(getattr(al, n), torch_kwargs={"backend": "aot_eager"})
            for n in ("l1_loss", "mse_loss", "log_cosh_loss", "smooth_l1_loss")]
    fns += [al.compile(al.smooth_l1_loss, torch_kwargs={"backend": "aot_eager"}, beta=b_)
            for b_ in (0.25, 0.5, 2.0, 4.0)]
    assert len({id(f) for f in fns}) == 20
    with torch._dynamo.config.patch(**limits):
        for f in fns:
            want = f.loss(p, t, **f.options)
            torch.testing.assert_close(f(p, t), want)
            torch.testing.assert_close(f(p * 2, t), f.loss(p * 2, t, **f.options))


def test_compile_cache_keys_are_typed_and_weak() -> None:
    one = al.compile(al.huber_loss, delta=1)
    assert al.compile(al.huber_loss, delta=1) is one
    assert al.compile(al.huber_loss, delta=1.0) is not one
    assert al.compile(al.huber_loss, delta=True) is not one
    assert al.compile(al.lovasz_softmax_loss, classes=(1, 2)) is not al.compile(
        al.lovasz_softmax_loss, classes=(True, 2))
    from arrayloss import _compile

    key = _compile._key(al.huber_loss, {"delta": 0.25}, {}, {})
    held = al.compile(al.huber_loss, delta=0.25)
    assert key in _compile._CACHE
    del held
    gc.collect()
    assert key not in _compile._CACHE


