"""The backend matrix: every registered loss, every case, every backend.

New families plug in by registering records in ``arrayloss.catalog``; nothing here names a
loss. Tolerances: float64 1e-10 relative, float32 1e-5 (golden numbers 1e-6).
"""

from __future__ import annotations

import numpy as np
import pytest
from array_api_extra.testing import assert_close

from arrayloss import catalog
from arrayloss.testing import backends
from conftest import require_backend, require_module

RECORDS = catalog.records()
CASES = [pytest.param(r, c, id=f"{r.name}-{c.id}") for r in RECORDS for c in r.cases]
FIRST_CASES = [pytest.param(r, r.cases[0], id=r.name) for r in RECORDS]
BACKEND_IDS = [b.id for b in backends.BACKENDS if b.mode != "inductor"]

TOL = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-6)}
GOLDEN_TOL = {"float64": (1e-6, 1e-7), "float32": (1e-5, 1e-6)}


def _numpy_result(record: catalog.Record, case: catalog.Case) -> np.ndarray:
    args, kw = case.inputs()
    return np.asarray(record.fn(*args, **case.options, **kw))


def _supported(record: catalog.Record, backend: backends.Backend) -> None:
    reason = record.unsupported.get(backend.id) or record.unsupported.get(backend.module)
    if reason:
        pytest.xfail(f"{record.name} on {backend.id}: {reason}")


# a compiled or lazy row checks that the loss traces and builds the same graph: one dtype does
# it (float32, what users compile); float64 precision is the eager rows' job
_ONE_DTYPE = {"torch:compile": "float32", "dask": "float64"}
# (the traced JAX row runs every case in float64 and the distinct graphs in float32)


def _graphs(record: catalog.Record, most: int = 5) -> list[catalog.Case]:
    """The cases of ``record`` that build different graphs under a compiler: one per set of
    option names and array arguments (cases that differ in values only trace alike), at
    most ``most``; every case runs on the eager rows. Under ``torch.compile``, whose compile
    per case is the matrix's costliest row (about 2 s), the agreement row takes the second
    graph only: the first case compiles with inductor against the reference in
    ``test_inductor`` and with aot_eager in ``test_traces``."""
    seen, out = set(), []
    for case in record.cases:
        args, kw = case.inputs()
        key = (frozenset(case.options), frozenset(kw), tuple(a.ndim for a in args))
        if key not in seen and len(out) < most:
            seen.add(key)
            out.append(case)
    return out


AGREEMENT = [pytest.param(b, r, c, d, id=f"{b}-{r.name}-{c.id}-{d}")
             for d in ("float64", "float32") for r in RECORDS for c in r.cases
             for b in BACKEND_IDS if _ONE_DTYPE.get(b, d) == d
             and (b not in ("torch:compile", "jax") or d == "float64"
                  or c in (_graphs(r, 2)[1:] if b == "torch:compile" else _graphs(r)))]


@pytest.mark.parametrize(("backend_id", "record", "case", "dtype"), AGREEMENT)
def test_agreement(backend_id: str, record: catalog.Record, case: catalog.Case,
                   dtype: str) -> None:
    """Each backend agrees with arrayloss on float64 NumPy, and with the golden numbers."""
    backend = require_backend(backends.by_id(backend_id))
    _supported(record, backend)
    expected = _numpy_result(record, case)
    args, kw = case.inputs()
    conv, ckw = backend.convert(args, kw, dtype)
    out = backend.call(record.fn, conv, {**case.options, **ckw})
    rtol, atol = TOL[dtype]
    if dtype == "float32":
        rtol = max(rtol, case.rtol32)
    # namespace, dtype, shape, device (and, on NumPy, a 0-d ndarray rather than a scalar)
    assert_close(out, backend.asarray(expected, dtype), rtol=rtol, atol=atol,
                 check_scalar=True)
    got = backend.to_numpy(out)
    if case.expected is not None:
        rtol, atol = GOLDEN_TOL[dtype]
        np.testing.assert_allclose(got, np.asarray(case.expected, dtype=np.float64),
                                   rtol=max(rtol, case.rtol32 if dtype == "float32" else 0),
                                   atol=atol)


@pytest.mark.parametrize(("record", "case"), FIRST_CASES)
def test_inductor(record: catalog.Record, case: catalog.Case) -> None:
    """One full inductor compile per loss (the broad matrix uses aot_eager)."""
    backend = require_backend(backends.by_id("torch:inductor"))
    args, kw = case.inputs()
    conv, ckw = backend.convert(args, kw, "float32")
    out = backend.call(record.fn, conv, {**case.options, **ckw})
    np.testing.assert_allclose(backend.to_numpy(out), _numpy_result(record, case),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("record", "case"), CASES)
def test_reference(record: catalog.Record, case: catalog.Case) -> None:
    """arrayloss on float64 NumPy equals the record's independent float64 reference."""
    args, kw = case.inputs()
    got = _numpy_result(record, case)
    ref = np.asarray(record.reference(*args, **case.options, **kw))
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


PEER_CASES = [
    pytest.param(r, c, n, id=f"{r.name}-{c.id}-{n.library}")
    for r in RECORDS for c in r.cases for n in r.peers
    if c.peers and not n.timing_only and n.accepts({**c.options, **dict.fromkeys(c.inputs()[1])})
]


@pytest.mark.parametrize(("record", "case", "peer"), PEER_CASES)
def test_peer_reference(record: catalog.Record, case: catalog.Case,
                        peer: catalog.Peer) -> None:
    """arrayloss equals the peer implementation (torch, optax, keras...) on its backend."""
    require_module(peer.module)
    backend = require_backend(backends.by_id(peer.backend))
    args, kw = case.inputs()
    conv, ckw = backend.convert(args, kw, "float64")
    ours = backend.to_numpy(record.fn(*conv, **case.options, **ckw))
    theirs = np.asarray(peer.fn(*conv, **case.options, **ckw))
    if peer.backend != "numpy":
        theirs = backend.to_numpy(peer.fn(*conv, **case.options, **ckw))
    np.testing.assert_allclose(ours, theirs, rtol=peer.rtol, atol=max(peer.rtol * 1e-2, 1e-9))


GRAD_CASES = [pytest.param(r, c, id=f"{r.name}-{c.id}") for r in RECORDS if r.grad_args
              for c in r.cases]


@pytest.mark.parametrize(("record", "case"), GRAD_CASES)
def test_gradients(record: catalog.Record, case: catalog.Case) -> None:
    """torch autograd and jax.grad are finite, agree with each other and, away from kinks,
    with float64 central finite differences."""
    torch_b = require_backend(backends.by_id("torch"))
    jax_b = require_backend(backends.by_id("jax"))
    args, kw = case.inputs()
    opts = {**case.options, **kw}
    gt = torch_b.grad(record.fn, args, opts, record.grad_args)
    gj = jax_b.grad(record.fn, args, opts, record.grad_args)
    for a, b in zip(gt, gj):
        assert np.all(np.isfinite(a)), "torch gradient not finite"
        assert np.all(np.isfinite(b)), "jax gradient not finite"
        if case.grad in ("fd", "autodiff"):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    if case.grad == "fd":
        for i, g in zip(record.grad_args, gt):
            fd = backends.finite_difference(record.fn, args, opts, i)
            np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)
    if case.expected is not None and np.ndim(case.expected) == 0 and case.expected == 0.0:
        for g in gt:  # an empty / fully-ignored mean has zero gradients
            assert not np.any(g), "the gradient of an empty mean must be zero"


# every (backend, half dtype) pair that exists: NumPy and Dask have no bfloat16, strict no half
HALF = [("numpy", "float16"), ("dask", "float16"), ("torch", "float16"), ("torch", "bfloat16"),
        ("jax", "float16"), ("jax", "bfloat16")]


# the promotion to float32 happens once, when a call starts: the first cases of each loss
# show it (the traced JAX rows, a compile per case, and the lazy Dask row on fewer)
_HALF_CASES = {"jax": 2, "dask": 1}
HALF_ROWS = [pytest.param(b, h, r, c, id=f"{b}-{h}-{r.name}-{c.id}") for b, h in HALF
             for r in RECORDS for c in r.cases[:_HALF_CASES.get(b, 3)]]


@pytest.mark.parametrize(("backend_id", "half", "record", "case"), HALF_ROWS)
def test_half_precision(backend_id: str, half: str, record: catalog.Record,
                        case: catalog.Case) -> None:
    """float16/bfloat16 inputs are computed in float32 and give a float32 result (functions
    that return coordinates, ``box_convert`` and ``update_centers``, keep the input dtype)."""
    backend = require_backend(backends.by_id(backend_id))
    _supported(record, backend)
    args, kw = case.inputs()
    conv, ckw = backend.convert(args, kw, half)
    out = backend.call(record.fn, conv, {**case.options, **ckw})
    coordinates = record.name in ("box_convert", "update_centers")
    assert backend.dtype_name(out) == (half if coordinates else "float32")
    # the float32 result on the same (rounded) inputs: equal up to float32 rounding for a
    # loss, up to the half dtype's rounding for coordinates
    as32 = [backend.to_numpy(a).astype(np.float32) if np.issubdtype(np.asarray(a0).dtype,
            np.floating) else a0 for a, a0 in zip(conv, args)]
    kw32 = {k: backend.to_numpy(ckw[k]).astype(np.float32) if np.issubdtype(v.dtype, np.floating)
            else v for k, v in kw.items()}
    ref32 = np.asarray(record.fn(*as32, **case.options, **kw32), dtype=np.float32)
    rtol = (1e-3 if half == "float16" else 1e-2) if coordinates else max(1e-5, case.rtol32)
    np.testing.assert_allclose(backend.to_numpy(out), ref32, rtol=rtol, atol=rtol * 1e-2)


VMAP_CASES = [pytest.param(r, c, id=f"{r.name}-{c.id}") for r in RECORDS
              for c in r.cases[:4] if not c.arrays]


@pytest.mark.parametrize(("record", "case"), VMAP_CASES)
def test_jax_vmap(record: catalog.Record, case: catalog.Case) -> None:
    """The loss runs under jax.vmap (and jit) over a new leading axis."""
    backend = require_backend(backends.by_id("jax"))
    import jax

    args, _ = case.inputs()
    stacked = [np.stack([a, a[::-1] if a.ndim and np.issubdtype(a.dtype, np.floating) else a])
               for a in args]
    conv, _ = backend.convert(stacked, {}, "float64")
    batched = jax.jit(jax.vmap(lambda *xs: record.fn(*xs, **case.options)))(*conv)
    for k in range(2):
        want = np.asarray(record.fn(*[s[k] for s in stacked], **case.options))
        np.testing.assert_allclose(backend.to_numpy(batched)[k], want, rtol=1e-10, atol=1e-12)
