"""Hostile values, for every registered loss: NaN, infinities, label dtypes, ignored positions.

- A NaN in a counted position of any floating argument gives NaN in the result (or, for a
  target whose values are checked, a ``ValueError``): never a finite number.
- ``+inf`` logits give the limit where one exists.
- Integer labels of every integer dtype of every backend, with the class count on both
  sides of the dtype's range, give the int64 result: no wrap-around, no refusal, no
  ``ignore_index`` compared in a narrow dtype.
- Ignored positions get exactly zero gradient even where their logits are inf or NaN.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from arrayloss.testing import backends
from conftest import require_backend

RECORDS = catalog.records()
EAGER = ["numpy", "array_api_strict", "torch", "jax:eager", "dask"]


def _backend(backend_id: str) -> backends.Backend:
    if backend_id == "jax:eager":
        require_backend(backends.by_id("jax"))
        return backends.Backend("jax:eager", "jax")
    return require_backend(backends.by_id(backend_id))


def _plain_case(record: catalog.Record) -> catalog.Case:
    """The first case that ignores nothing and weights nothing to zero (every position of
    its inputs is counted)."""
    for case in record.cases:
        args, kw = case.inputs()
        if "ignore_index" in case.options or kw:
            continue
        if any(a.size == 0 for a in args):
            continue
        return case
    raise AssertionError(f"{record.name} has no plain case")


def _reduced(record: catalog.Record, options: dict[str, Any]) -> dict[str, Any]:
    return {**options, "reduction": "sum"} if record.reduces else dict(options)


# ----------------------------------------------------------------------------- NaN


NAN_ROWS = [
    pytest.param(r, i, b, id=f"{r.name}-arg{i}-{b}")
    for r in RECORDS
    for i, a in enumerate(_plain_case(r).inputs()[0]) if np.issubdtype(a.dtype, np.floating)
    for b in EAGER
]


@pytest.mark.parametrize(("record", "argnum", "backend_id"), NAN_ROWS)
def test_nan_is_never_hidden(record: catalog.Record, argnum: int, backend_id: str) -> None:
    """A NaN at the first element of a floating argument (a counted position) gives a NaN
    result; a target whose values are checked may refuse it instead (``ValueError``)."""
    b = _backend(backend_id)
    case = _plain_case(record)
    args, _ = case.inputs()
    args = [a.copy() for a in args]
    args[argnum].flat[0] = np.nan
    opts = _reduced(record, case.options)
    conv, _ = b.convert(args, {}, "float64")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "invalid value"
            out = b.to_numpy(record.fn(*conv, **opts))
    except ValueError as exc:
        assert argnum > 0, f"the model output must not be refused for a NaN: {exc}"
        assert record.name in str(exc)
        return
    assert np.isnan(out).any(), f"NaN in argument {argnum} gave the finite result {out}"


# ----------------------------------------------------------------------------- infinities


INF = np.inf
LIMITS = [
    # (loss, pred, target, options, expected "none" values)
    ("binary_cross_entropy_with_logits", [INF, INF, -INF, -INF, INF], [1.0, 0.0, 0.0, 1.0, 0.5],
     {}, [0.0, INF, 0.0, INF, INF]),
    ("binary_cross_entropy_with_logits", [INF, -INF], [1.0, 0.0], {"pos_weight": 0.0},
     [0.0, 0.0]),
    ("binary_cross_entropy_with_logits", [-INF], [1.0], {"pos_weight": 0.0}, [0.0]),
    ("sigmoid_focal_loss", [INF, INF, -INF, -INF], [1.0, 0.0, 0.0, 1.0], {}, [0.0, INF, 0.0, INF]),
    ("sigmoid_focal_loss", [INF, -INF], [1.0, 0.0], {"gamma": 0.5, "alpha": None}, [0.0, 0.0]),
    ("cross_entropy", [[INF, 0.0, 1.0], [INF, 0.0, 1.0], [INF, INF, 0.0]], [0, 1, 0], {},
     [0.0, INF, np.log(2.0)]),
    ("cross_entropy", [[INF, 0.0, -INF]], [[1.0, 0.0, 0.0]], {}, [0.0]),
    ("softmax_focal_loss", [[INF, 0.0, 1.0], [INF, 0.0, 1.0]], [0, 1], {}, [0.0, INF]),
    ("entropy", [[INF, 0.0, 1.0], [INF, INF, 0.0]], None, {"from_logits": True},
     [0.0, np.log(2.0)]),
    ("hinge_loss", [INF, -INF, INF], [1.0, 1.0, -1.0], {}, [0.0, INF, INF]),
    ("binary_cross_entropy", [1.0, 0.0], [1.0, 0.0], {}, None),  # clipped: finite, tiny
]


@pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax", "array_api_strict"])
@pytest.mark.parametrize(("name", "pred", "target", "options", "expected"), LIMITS,
                         ids=[f"{row[0]}-{i}" for i, row in enumerate(LIMITS)])
def test_infinite_logits_give_the_limit(backend_id: str, name: str, pred: list, target: Any,
                                        options: dict, expected: Any) -> None:
    b = require_backend(backends.by_id(backend_id))
    fn = getattr(al, name)
    args = [np.asarray(pred, dtype=np.float64)]
    if target is not None:
        t = np.asarray(target)
        args.append(t if t.dtype.kind == "i" else t.astype(np.float64))
    conv, _ = b.convert(args, {}, "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value" from 0 * inf
        out = b.to_numpy(b.call(fn, conv, {**options, "reduction": "none"}))
    if expected is None:
        assert np.all(np.isfinite(out))
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend_id", ["torch", "jax:eager"])
def test_infinite_logit_gradients_are_finite(backend_id: str) -> None:
    """The limit's gradient: 0 for a saturated correct logit, finite elsewhere."""
    b = _backend(backend_id)
    z = np.array([[INF, 0.0, 1.0], [0.5, -1.0, 2.0]])
    y = np.array([0, 2])
    g = b.grad(al.cross_entropy, (z, y), {}, (0,))[0]
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[0], 0.0)
    zb, yb = np.array([INF, -INF, 3.0]), np.array([1.0, 0.0, 1.0])
    g = b.grad(al.binary_cross_entropy_with_logits, (zb, yb), {}, (0,))[0]
    assert np.all(np.isfinite(g))


# ----------------------------------------------------------------------------- ignored


IGNORING = [
    pytest.param(r, c, id=f"{r.name}-{c.id}") for r in RECORDS for c in r.cases
    if "ignore_index" in c.options and r.grad_args
]


@pytest.mark.parametrize(("record", "case"), IGNORING)
@pytest.mark.parametrize("poison", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize(("backend_id", "validate"),
                         [("torch", False), ("torch", True), ("jax:eager", False)])
def test_ignored_positions_get_zero_gradient(backend_id: str, validate: bool, poison: float,
                                             record: catalog.Record,
                                             case: catalog.Case) -> None:
    """The logits of ignored positions may hold anything: the value is unchanged and their
    gradient is exactly 0. With the value checks on (host torch tensors take torch's fused
    kernels there, confirmed by their result, which cannot show a gradient) a loss either
    computes that or rejects the poisoned model output as out of range."""
    b = _backend(backend_id)
    args, kw = case.inputs()
    opts = {**case.options, **kw, "reduction": "sum"}
    ii = case.options["ignore_index"]
    k = next(i for i, a in enumerate(args) if np.issubdtype(np.asarray(a).dtype, np.integer))
    ignored = np.asarray(args[k]) == ii
    ax = case.options.get("axis", -1)
    pred = args[0].copy()
    if record.kind.startswith("segmentation-binary"):
        mask = ignored
    else:
        mask = np.expand_dims(ignored, ax % pred.ndim) & np.ones(pred.shape, bool)
    pred_poisoned = np.where(mask, poison, pred)
    want = np.asarray(record.fn(*args, **opts))
    with al.options(validate=validate), np.errstate(invalid="ignore"):
        conv, ckw = b.convert([pred_poisoned, *args[1:]], opts, "float64")
        try:
            got = b.to_numpy(record.fn(*conv, **ckw))
        except ValueError as exc:
            assert validate and "`pred`" in str(exc)  # a checked probability, not a logit
            return
        g = b.grad(record.fn, [pred_poisoned, *args[1:]], opts, (0,))[0]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[mask], 0.0)


# ----------------------------------------------------------------------------- label dtypes


def _int_dtypes(b: backends.Backend) -> list[str]:
    if b.mode == "compile":  # a compile per dtype: the first narrow one that holds the
        # labels, unsigned first (the ones that wrap; the others run on the eager rows)
        return ["uint8", "int8"]
    return ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def _cast(b: backends.Backend, a: np.ndarray, dtype: str) -> Any:
    """``a`` as integer ``dtype`` on backend ``b``."""
    x = b.asarray(a)
    if b.module == "numpy":
        return a.astype(dtype)
    if b.module == "dask":
        return x.astype(dtype)
    xp = b.xp
    return xp.astype(x, getattr(xp, dtype) if b.module != "torch" else getattr(
        __import__("torch"), dtype))


def _int_arg(case: catalog.Case) -> int | None:
    """The position of a case's integer positional argument (the labels), if any."""
    for i, a in enumerate(case.inputs()[0]):
        if np.issubdtype(a.dtype, np.integer):
            return i
    return None


LABEL_RECORDS = [r for r in RECORDS
                 if any(np.issubdtype(a.dtype, np.integer) for a in r.cases[0].inputs()[0])]
# eager rows on three cases per loss; the compiling and lazy rows (a compile or a graph per
# dtype) on the first; no compiled CTC row (its unrolled recursion compiles for 16 s; its
# labels in every dtype run on the other rows)
LABEL_ROWS = [
    pytest.param(b, r, c, id=f"{b}-{r.name}-{c.id}") for r in LABEL_RECORDS
    for b in ("numpy", "array_api_strict", "torch", "torch:compile", "jax", "dask")
    if not (b == "torch:compile" and r.kind == "sequence")
    for c in ([c for c in r.cases if _int_arg(c) is not None][:1]
              if b in ("torch:compile", "jax", "dask")
              else [c for c in r.cases if _int_arg(c) is not None][:3])
]


@pytest.mark.parametrize(("backend_id", "record", "case"), LABEL_ROWS)
def test_every_integer_label_dtype(backend_id: str, record: catalog.Record,
                                   case: catalog.Case) -> None:
    """Every integer dtype that holds a case's labels gives the int64 result."""
    b = require_backend(backends.by_id(backend_id))
    args, kw = case.inputs()
    k = _int_arg(case)
    assert k is not None
    want = np.asarray(record.fn(*args, **case.options, **kw))
    conv, ckw = b.convert(args, kw, "float64")
    ran = 0
    for dtype in _int_dtypes(b):
        info = np.iinfo(dtype)
        if args[k].size and (args[k].min() < info.min or args[k].max() > info.max):
            continue
        conv[k] = _cast(b, args[k], dtype)
        got = b.to_numpy(b.call(record.fn, conv, {**case.options, **ckw}))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=dtype)
        ran += 1
        if b.mode == "compile":
            break
    assert ran >= (1 if b.mode == "compile" else 4)  # +-1 labels do not fit the unsigned


def _beyond_range_inputs(record: catalog.Record, num_classes: int, top: int,
                         rng: np.random.Generator) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Inputs with ``num_classes`` classes whose labels include ``top`` (and 0)."""
    labels = np.array([[0, top]])
    if record.name in ("center_loss", "update_centers"):
        feats = rng.normal(size=(2, 2))
        centers = rng.normal(size=(num_classes, 2))
        return [feats, labels[0], centers], {}
    if record.name == "linear_cross_entropy":
        return [rng.normal(size=(2, 2)), rng.normal(size=(num_classes, 2)), labels[0]], {}
    if record.kind == "sequence":  # (B, T, C) logits, (B, S) labels; 0 is the blank
        return [rng.normal(size=(1, 4, num_classes)), np.array([[1, top]])], {}
    if record.kind.startswith("segmentation"):
        p = rng.uniform(size=(1, 2, num_classes))
        return [p / p.sum(-1, keepdims=True), labels], {}
    return [rng.normal(size=(2, num_classes)), labels[0]], {}


CLASS_RECORDS = [pytest.param(r, id=r.name) for r in LABEL_RECORDS
                 if r.kind not in ("signed", "segmentation-binary-logits")]
NARROW = [("int8", 200), ("uint8", 256), ("uint8", 300), ("int16", 40000), ("uint16", 70000),
          ("int8", 100), ("uint8", 200)]


@pytest.mark.parametrize(("dtype", "num_classes"), NARROW,
                         ids=[f"{d}-C{c}" for d, c in NARROW])
@pytest.mark.parametrize("record", CLASS_RECORDS)
@pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax", "array_api_strict"])
def test_class_count_beyond_the_label_dtype(backend_id: str, record: catalog.Record,
                                            dtype: str, num_classes: int) -> None:
    """Narrow labels with C on either side of the dtype's range: labels up to the dtype's
    maximum (or C - 1) are valid and give the int64 result."""
    b = require_backend(backends.by_id(backend_id))
    top = min(int(np.iinfo(dtype).max), num_classes - 1)
    args, kw = _beyond_range_inputs(record, num_classes, top, np.random.default_rng(0))
    k = next(i for i, a in enumerate(args) if np.issubdtype(a.dtype, np.integer))
    want = np.asarray(record.fn(*args, **kw))
    conv, _ = b.convert(args, {}, "float64")
    conv[k] = _cast(b, args[k], dtype)
    got = b.to_numpy(b.call(record.fn, conv, {}))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax", "array_api_strict", "dask"])
@pytest.mark.parametrize("name", ["cross_entropy", "softmax_focal_loss", "dice_loss",
                                  "lovasz_softmax_loss", "multiclass_hinge_loss"])
def test_unsigned_label_is_not_an_ignore_index(backend_id: str, name: str) -> None:
    """uint8 label 255 (156) with ignore_index -1 (-100) is a real label, not ignored: the
    comparison is made in the default integer dtype, where -1 does not wrap to 255."""
    b = require_backend(backends.by_id(backend_id))
    fn = getattr(al, name)
    rng = np.random.default_rng(1)
    for top, ii in ((255, -1), (156, -100)):
        if name in ("dice_loss", "lovasz_softmax_loss"):
            p = rng.uniform(size=(1, 2, 256))
            args = [p / p.sum(-1, keepdims=True), np.array([[0, top]])]
        else:
            args = [rng.normal(size=(2, 256)), np.array([0, top])]
        want = np.asarray(fn(*args, ignore_index=ii, reduction="none"))
        conv, _ = b.convert(args, {}, "float64")
        conv[1] = _cast(b, args[1], "uint8")
        got = b.to_numpy(b.call(fn, conv, {"ignore_index": ii, "reduction": "none"}))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        if got.shape == (2,):  # one value per sample: the last one is counted
            assert got[-1] != 0


@pytest.mark.parametrize("record", [pytest.param(r, id=r.name) for r in LABEL_RECORDS
                                    if r.kind not in ("signed",)])
def test_bool_class_labels_are_refused(record: catalog.Record) -> None:
    """Class labels must be integers: bool (and float) labels raise ``TypeError`` with the
    fix; the binary losses that take {0, 1} targets accept bool."""
    case = record.cases[0]
    args, kw = case.inputs()
    k = next(i for i, a in enumerate(args) if np.issubdtype(a.dtype, np.integer))
    if record.kind == "segmentation-binary-logits":
        args = list(args)
        args[k] = args[k].astype(bool)
        out = np.asarray(record.fn(*args, **case.options, **kw))
        assert np.all(np.isfinite(out))
        return
    for bad in (args[k].astype(bool), args[k].astype(np.float64)):
        a = list(args)
        a[k] = bad
        with pytest.raises((TypeError, ValueError), match=rf"{record.name}: `\w+`"):
            record.fn(*a, **case.options, **kw)


ZERO_CLASSES = [
    ("cross_entropy", (np.zeros((2, 0)), np.array([0, 0]))),
    ("cross_entropy", (np.zeros((2, 0)), np.zeros((2, 0)))),
    ("softmax_focal_loss", (np.zeros((2, 0)), np.array([0, 0]))),
    ("multiclass_hinge_loss", (np.zeros((2, 0)), np.array([0, 0]))),
    ("entropy", (np.zeros((2, 0)),)),
    ("kl_divergence", (np.zeros((2, 0)), np.zeros((2, 0)))),
    ("dice_loss", (np.zeros((2, 0)), np.array([0, 0]))),
    ("lovasz_softmax_loss", (np.zeros((2, 0)), np.array([0, 0]))),
    ("center_loss", (np.zeros((2, 0)), np.array([0, 0]), np.zeros((1, 0)))),
    ("center_loss", (np.zeros((2, 3)), np.array([0, 0]), np.zeros((0, 3)))),
    ("update_centers", (np.zeros((2, 3)), np.array([0, 0]), np.zeros((0, 3)))),
]


@pytest.mark.parametrize(("name", "args"), ZERO_CLASSES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(ZERO_CLASSES)])
def test_zero_classes_or_features_are_a_clear_error(name: str, args: tuple) -> None:
    with pytest.raises(ValueError, match=rf"{name}: the .* has size 0"):
        getattr(al, name)(*args)
