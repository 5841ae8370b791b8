"""The conventions (docs/conventions.md) for every registered loss: bad input raises the
documented error, naming the function and the argument; value checks run on concrete arrays
only and can be turned off.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from arrayloss.testing import backends
from conftest import require_backend

RECORDS = catalog.records()
ALL = [pytest.param(r, id=r.name) for r in RECORDS]
REDUCING = [pytest.param(r, id=r.name) for r in RECORDS if r.reduces]


def _first(record: catalog.Record) -> tuple[list[np.ndarray], dict]:
    case = record.cases[0]
    args, kw = case.inputs()
    return list(args), {**case.options, **kw}


def test_every_public_name_is_registered() -> None:
    """The registry and ``__all__`` agree: every loss is in the matrix."""
    names = {r.name for r in RECORDS}
    assert names <= set(al.__all__)
    for r in RECORDS:
        assert getattr(al, r.name) is r.fn
        assert r.fn.__doc__ and len(r.fn.__doc__) > 200, f"{r.name} needs a real docstring"


@pytest.mark.parametrize("record", REDUCING)
@pytest.mark.parametrize("reduction", ["avg", "MEAN", None, 1])
def test_unknown_reduction(record: catalog.Record, reduction: object) -> None:
    """An unknown string raises ValueError, another type TypeError; both list the values."""
    args, kw = _first(record)
    kw["reduction"] = reduction
    error = ValueError if isinstance(reduction, str) else TypeError
    with pytest.raises(error, match=rf"{record.name}: `reduction` must be one of"):
        record.fn(*args, **kw)


@pytest.mark.parametrize("record", ALL)
def test_python_list_is_refused(record: catalog.Record) -> None:
    args, kw = _first(record)
    args[0] = args[0].tolist()
    with pytest.raises(TypeError, match=rf"{record.name}: `\w+` must be an array"):
        record.fn(*args, **kw)


@pytest.mark.parametrize("record", ALL)
def test_python_scalar_is_refused(record: catalog.Record) -> None:
    """A number as the target (or the only array) is refused; a third input may take one
    (``gaussian_nll_loss``'s constant variance)."""
    args, kw = _first(record)
    args[min(1, len(args) - 1)] = 1.0
    with pytest.raises(TypeError, match=rf"{record.name}: `\w+` must be an array"):
        record.fn(*args, **kw)


@pytest.mark.parametrize("record", ALL)
def test_mixed_libraries(record: catalog.Record) -> None:
    require_backend(backends.by_id("torch"))
    import torch

    args, kw = _first(record)
    if len(args) > 1:
        mixed = [args[0], *(torch.asarray(a) for a in args[1:])]
    else:  # one positional array (entropy): mix through `weight`
        mixed, kw = args, {**kw, "weight": torch.ones(())}
    with pytest.raises(TypeError, match=rf"{record.name}: .*numpy.*torch"):
        record.fn(*mixed, **kw)


@pytest.mark.parametrize("record", [pytest.param(r, id=r.name) for r in RECORDS if r.bad_shape])
def test_shape_mismatch(record: catalog.Record) -> None:
    args = record.bad_shape(np.random.default_rng(0))
    _, kw = _first(record)
    shapes = [re.escape(str(tuple(a.shape))) for a in args[:2]]
    with pytest.raises(ValueError, match=rf"{record.name}: .*{shapes[0]}.*{shapes[1]}"):
        record.fn(*args, **kw)


@pytest.mark.parametrize("record", REDUCING)
def test_weight_must_broadcast(record: catalog.Record) -> None:
    args, kw = _first(record)
    kw["weight"] = np.ones((7, 3, 5))
    kw["reduction"] = "mean"
    with pytest.raises(ValueError, match=rf"{record.name}: `weight`"):
        record.fn(*args, **kw)


@pytest.mark.parametrize("record", REDUCING)
def test_weight_must_share_the_library(record: catalog.Record) -> None:
    require_backend(backends.by_id("torch"))
    import torch

    args, kw = _first(record)
    kw["weight"] = torch.ones(())
    with pytest.raises(TypeError, match=rf"{record.name}: .*`weight`"):
        record.fn(*args, **kw)


BAD_OPTIONS = [pytest.param(r, opts, name, id=f"{r.name}-{name}-{next(iter(opts.values()))!r}")
               for r in RECORDS for opts, name in r.bad_options]


@pytest.mark.parametrize(("record", "opts", "name"), BAD_OPTIONS)
def test_bad_option(record: catalog.Record, opts: dict, name: str) -> None:
    args, kw = _first(record)
    with pytest.raises((ValueError, TypeError), match=rf"{record.name}: `{name}`"):
        record.fn(*args, **{**kw, **opts})


EAGER = ["numpy", "array_api_strict", "torch", "jax"]
BAD_VALUES = [pytest.param(r, bv, id=f"{r.name}-{bv.name}-{i}")
              for r in RECORDS for i, bv in enumerate(r.bad_values)]


@pytest.mark.parametrize(("record", "bad"), BAD_VALUES)
@pytest.mark.parametrize("backend_id", EAGER)
def test_bad_values_raise_when_concrete(backend_id: str, record: catalog.Record,
                                        bad: catalog.BadValue) -> None:
    backend = require_backend(backends.by_id(backend_id))
    args, _ = backend.convert(bad.make(np.random.default_rng(0)), {})
    if backend_id == "torch":  # reading the bad value warns nothing for a tensor needing grad
        args = [a.requires_grad_() if a.is_floating_point() else a for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"{record.name}: `{bad.name}`"):
            record.fn(*args, **bad.options)
    with al.options(validate=False):  # the switch turns value checks off
        record.fn(*args, **bad.options)


# every bad value traced by JAX and lazy on Dask; under torch.compile (a compile per row,
# the costliest) the first of each loss: the checks share one gate (``_validate.readable``)
TRACED = [pytest.param(b, r, bv, id=f"{b}-{r.name}-{bv.name}-{i}")
          for r in RECORDS for i, bv in enumerate(r.bad_values)
          for b in ("jax", "torch:compile", "dask") if b != "torch:compile" or i == 0]


@pytest.mark.parametrize(("backend_id", "record", "bad"), TRACED)
def test_bad_values_are_not_checked_when_traced(backend_id: str, record: catalog.Record,
                                                bad: catalog.BadValue) -> None:
    """Under jit / compile and on Dask the checks are skipped: no error, no graph break, no
    compute (the matrix's Dask scheduler forbids computing)."""
    backend = require_backend(backends.by_id(backend_id))
    args, _ = backend.convert(bad.make(np.random.default_rng(0)), {})
    out = backend.call(record.fn, args, dict(bad.options))
    assert out.shape is not None


def test_value_checks_switch() -> None:
    assert al.get_options()["validate"] is True
    with al.options(validate=False):
        assert al.get_options()["validate"] is False
    assert al.get_options()["validate"] is True
    al.set_options(validate=False)
    try:
        assert al.get_options()["validate"] is False
    finally:
        al.set_options(validate=True)
    with pytest.raises(ValueError, match="validate"):
        al.set_options(validate="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="validate"):
        al.set_options(validate=1)  # type: ignore[arg-type]
