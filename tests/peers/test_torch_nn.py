"""PyTorch's own loss test cases, ported to arrayloss.

Sources (repository ``pytorch/pytorch``; torch 2.13 is the installed peer):

- ``torch/testing/_internal/common_nn.py``: the functional "no_reduce" entries of
  ``get_new_module_tests()`` (``BCELoss_no_reduce``, ``NLLLoss2d_no_reduce_weights``, ...) and the
  ``criterion_tests`` "no_batch_dim" entries;
- ``torch/testing/_internal/common_modules.py``: ``module_inputs_torch_nn_<Loss>`` (the
  ModuleInfo cases the old ``criterion_tests`` list moved to) and their error inputs;
- ``torch/testing/_internal/common_methods_invocations.py``: the OpInfo sample, reference and
  error inputs of ``nn.functional.<loss>``;
- ``test/test_nn.py``: ``TestNN`` and ``TestNNDeviceType`` loss tests (literal expectations).

Every row id names its source as ``<file>::<function or test>::<case>``.  torch draws most
inputs at random (``torch.randn``, ``make_tensor`` uniform in [-9, 9], ``torch.rand``); here they
are drawn with the same shapes and ranges from a NumPy generator seeded by the row id, and the
expected value is computed with the installed ``torch.nn.functional`` in float64, as torch's
own tests compare against their reference functions.  Where torch's generator yields values a
loss cannot take (``make_tensor(...).log()`` of negative numbers), valid data of the same shape
is used instead.  ``common_nn.py`` cannot be imported here (it needs ``expecttest``), so its
reference formulas are restated where a case needs one.  The table-driven rows run arrayloss on
the torch tensors and again on NumPy copies (the two results must agree).

Option mapping (torch -> arrayloss):

- class axis: torch's class axis is dim 1 (dim 0 for unbatched 1-D input): pass ``axis=1``
  (``axis=0``/``-1`` for 1-D input).  Integer labels have the shape of ``pred`` without it.
- ``nll_loss(log_softmax(z, 1), t)`` is ``cross_entropy(z, t, axis=1)``: NLL cases feed logits.
- ``weight`` (per-class, cross-entropy / NLL) -> ``class_weight``; ``weight`` (elementwise,
  BCE) -> ``weight``; ``multi_margin_loss(weight=w)`` (per class of the label) -> the per-sample
  ``weight=w[t]``.
- ``ignore_index``: torch defaults to -100, arrayloss to None, so -100 is passed explicitly.
  arrayloss refuses an ``ignore_index`` inside ``[0, C)`` (a valid class); torch's
  ``ignore_index=k`` for ``0 <= k < C`` is ported by relabelling the entries equal to k as -100
  and passing ``ignore_index=-100`` (exact, also with label smoothing and class weights).
- ``kl_div(..., reduction="batchmean")`` -> ``kl_divergence(..., reduction="mean")`` (2-D).
  torch's ``"mean"`` divides by N*C: arrayloss's per-distribution mean is C times it;
  ``"none"`` is elementwise in torch and per distribution in arrayloss, so it is compared with a
  trailing class axis of size 1; a 0-d torch input is reshaped to ``(1,)``.
- ``multi_margin_loss(p=1|2, margin)`` -> ``multiclass_hinge_loss(mode="weston_watkins",
  squared=(p == 2), margin)``; torch divides each sample by C, so arrayloss is C times torch.
- ``multilabel_soft_margin_loss`` is the class mean of ``binary_cross_entropy_with_logits``;
  its ``weight`` of one value per class is ``class_weight``.
- ``soft_margin_loss`` is the same function (labels ``sign(randn)`` in {-1, +1}).
- ``multilabel_margin_loss(x, idx)`` takes lists of class indices read up to the first -1;
  arrayloss takes the multi-hot set ``multi_hot[i, idx[i, :first_minus_one]] = 1``. torch
  counts a repeated index once per repetition, a set once: rows are compared with torch on the
  list without repetitions.
- torch's weighted ``mse_loss``/``l1_loss`` ``"mean"`` divides by ``sum(weight)``: that is
  arrayloss's ``reduction="weighted_mean"``; torch's weighted ``huber_loss`` divides by N (
  arrayloss ``"mean"``).

Intentional differences, asserted as arrayloss's own behaviour (comments say where):
a mean over nothing is 0 (torch NaN); shapes never broadcast (torch broadcasts or warns);
targets outside [0, 1], negative class weights, negative margins and in-range ``ignore_index``
raise ``ValueError`` (torch computes); float16/bfloat16 inputs give float32 results.  Where a
torch case uses values arrayloss refuses, the refusal is asserted and the formula is compared
under ``arrayloss.options(validate=False)``.
"""

from __future__ import annotations

import itertools
import math
import warnings
import zlib
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from conftest import require_module

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CNN = "common_nn.py::get_new_module_tests::"
CRIT = "common_nn.py::criterion_tests::"
CMOD = "common_modules.py::"
CMI = "common_methods_invocations.py::"
TNN = "test_nn.py::TestNN::"
TDEV = "test_nn.py::TestNNDeviceType::"
S, M = 5, 10  # torch.testing._internal.opinfo.core sizes


def _peer() -> tuple[Any, Any]:
    require_module("torch")
    import torch
    import torch.nn.functional as F

    return torch, F


def _rng(key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(key.encode()))


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu()
        if x.is_floating_point():
            x = x.double()
        return x.numpy()
    return np.asarray(x)


def _close(got: Any, want: Any, *, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    g, w = _np(got), _np(want)
    assert g.shape == w.shape, f"shape {g.shape} != {w.shape}"
    np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _on_numpy(v: Any) -> Any:
    return v.detach().cpu().numpy() if hasattr(v, "detach") else v


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn`` on the torch tensors, and again on NumPy copies of every array argument: both
    results must agree (checked here to 1e-12); the torch result is returned."""
    got = fn(*args, **kwargs)
    got_np = fn(*[_on_numpy(a) for a in args], **{k: _on_numpy(v) for k, v in kwargs.items()})
    assert isinstance(got_np, np.ndarray)
    _close(got_np, got, rtol=1e-10, atol=1e-12)
    return got


def _t(torch: Any, a: Any, dtype: Any = None) -> Any:
    arr = np.asarray(a)
    if dtype is None:
        dtype = torch.float64 if arr.dtype.kind == "f" else torch.int64
    return torch.tensor(arr, dtype=dtype)


def _draw(rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> np.ndarray:
    """torch's input generators, by name."""
    if kind == "randn":
        return rng.standard_normal(shape)
    if kind == "u9":  # make_tensor default range for floats
        return rng.uniform(-9.0, 9.0, shape)
    if kind == "rand":
        return rng.uniform(0.0, 1.0, shape)
    if kind == "rand_pos":  # torch.rand, used before .log(): keep away from 0
        return rng.uniform(1e-3, 1.0, shape)
    if kind == "clamp028":  # torch.rand(...).clamp_(2.8e-2, 1 - 2.8e-2)
        return np.clip(rng.uniform(0.0, 1.0, shape), 2.8e-2, 1 - 2.8e-2)
    if kind == "u01":  # make_tensor(low=1e-2, high=1 - 1e-2)
        return rng.uniform(1e-2, 1 - 1e-2, shape)
    if kind == "prob6":  # make_tensor(low=1e-6, high=1)
        return rng.uniform(1e-6, 1.0, shape)
    if kind == "u0_9":  # make_tensor(low=0)
        return rng.uniform(0.0, 9.0, shape)
    if kind == "u9_0":  # make_tensor(high=0)
        return rng.uniform(-9.0, 0.0, shape)
    if kind == "u10":  # make_tensor(low=-10, high=10)
        return rng.uniform(-10.0, 10.0, shape)
    if kind == "binary":  # torch.randn(...).gt(0)
        return (rng.standard_normal(shape) > 0).astype(np.float64)
    if kind == "sigmoid_randn":
        return 1.0 / (1.0 + np.exp(-rng.standard_normal(shape)))
    raise AssertionError(kind)


# ---------------------------------------------------------------------------------------
# regression: l1, mse, smooth_l1 (beta), huber (delta)

_REG = {"l1": ("l1_loss", "l1_loss"), "mse": ("mse_loss", "mse_loss"),
        "smooth_l1": ("smooth_l1_loss", "smooth_l1_loss"), "huber": ("huber_loss", "huber_loss")}


def _reg_rows() -> list[tuple]:
    rows: list[tuple] = [
        (CNN + "L1Loss_no_reduce", "l1", (2, 3, 4), {}, "none", "randn", "randn"),
        (CNN + "L1Loss_no_reduce_scalar", "l1", (), {}, "none", "randn", "randn"),
        (CNN + "MSELoss_no_reduce", "mse", (2, 3, 4, 5), {}, "none", "randn", "randn"),
        (CNN + "MSELoss_no_reduce_scalar", "mse", (), {}, "none", "randn", "randn"),
        (CNN + "SmoothL1Loss_no_reduce", "smooth_l1", (2, 3, 4), {}, "none", "randn", "randn"),
        (CNN + "SmoothL1Loss_no_reduce_scalar", "smooth_l1", (), {}, "none", "randn", "randn"),
        (CNN + "SmoothL1Loss_beta", "smooth_l1", (2, 3, 4), {"beta": 0.5}, "none", "randn",
         "randn"),
        (CNN + "SmoothL1Loss_zero_beta", "smooth_l1", (2, 3, 4), {"beta": 0.0}, "none", "randn",
         "randn"),
        (CNN + "HuberLoss_delta", "huber", (2, 3, 4), {"delta": 0.5}, "none", "randn", "randn"),
    ]
    # peer quirk: the criterion_tests constructor lambdas bind `reduction` late, so every
    # "no_batch_dim_<reduction>" row there (regression, KLDivLoss, BCE, NLL...) really runs
    # with the loop's last value, "sum"; the rows here use the reduction each name states
    for name, loss in (("L1Loss", "l1"), ("MSELoss", "mse"), ("HuberLoss", "huber"),
                       ("SmoothL1Loss", "smooth_l1")):
        for r in ("none", "mean", "sum"):
            rows.append((CRIT + f"{name}_no_batch_dim_{r}", loss, (3,), {}, r, "randn", "randn"))
    cases = (("", "mean"), ("reduction_sum", "sum"), ("reduction_mean", "mean"),
             ("reduction_none", "none"))
    for desc, r in cases:
        rows.append((CMOD + f"module_inputs_torch_nn_MSELoss::{desc}", "mse", (2, 3, 4, 5), {},
                     r, "u9", "u9"))
        rows.append((CMOD + f"module_inputs_torch_nn_MSELoss::{desc}_scalar", "mse", (), {}, r,
                     "u9", "u9"))
        rows.append((CMOD + f"module_inputs_torch_nn_SmoothL1Loss::{desc}", "smooth_l1", (5, 10),
                     {}, r, "u9", "u9"))
        rows.append((CMOD + f"module_inputs_torch_nn_SmoothL1Loss::scalar_{desc}", "smooth_l1",
                     (), {}, r, "u9", "u9"))
        rows.append((CMOD + f"module_inputs_torch_nn_HuberLoss::{desc}", "huber", (5, 10), {}, r,
                     "u9", "u9"))
    rows.append((CMOD + "module_inputs_torch_nn_L1Loss::", "l1", (2, 3, 4), {}, "mean", "u9",
                 "u9"))
    rows.append((CMOD + "module_inputs_torch_nn_L1Loss::scalar", "l1", (), {}, "mean", "u9",
                 "u9"))
    for r in ("none", "mean", "sum"):
        rows.append((CMOD + f"module_inputs_torch_nn_L1Loss::no_batch_dim_{r}", "l1", (4,), {}, r,
                     "u9", "u9"))
    loss_samples = (((), "mean"), ((S,), "mean"), ((S,), "sum"), ((S,), "none"),
                    ((S, S), "mean"), ((S, S, S), "mean"))
    for op, loss in (("l1_loss", "l1"), ("mse_loss", "mse"), ("smooth_l1_loss", "smooth_l1")):
        for i, (shape, r) in enumerate(loss_samples):
            rows.append((CMI + f"sample_inputs_{op}::{i}_{shape}_{r}", loss, shape, {}, r, "u9",
                         "u9"))
    # always the quadratic branch: |input - target| < beta = 5
    rows.append((CMI + "sample_inputs_smooth_l1_loss::beta5", "smooth_l1", (S, S), {"beta": 5.0},
                 "mean", "u0_2", "u2_0"))
    rows.append((CMI + "sample_inputs_smooth_l1_loss::beta0", "smooth_l1", (S, S), {"beta": 0.0},
                 "mean", "u9", "u9"))
    drng = _rng("sample_inputs_huber_loss")
    for shape, r in itertools.product(((S,), (S, S), (S, S, S)), ("none", "mean", "sum")):
        delta = float(drng.uniform(1e-3, 9))  # random.uniform(1e-3, 9) in the peer
        rows.append((CMI + f"sample_inputs_huber_loss::{shape}_{r}", "huber", shape,
                     {"delta": delta}, r, "u9", "u9"))
    return rows


def _draw_reg(rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> np.ndarray:
    if kind == "u0_2":
        return rng.uniform(0.0, 2.0, shape)
    if kind == "u2_0":
        return rng.uniform(-2.0, 0.0, shape)
    return _draw(rng, kind, shape)


@pytest.mark.parametrize("case", _reg_rows(), ids=lambda c: c[0])
def test_regression_cases(case: tuple) -> None:
    """l1 / mse / smooth_l1 / huber rows of common_nn, common_modules and the OpInfo samples."""
    torch, F = _peer()
    cid, loss, shape, opts, reduction, ikind, tkind = case
    rng = _rng(cid)
    x = _t(torch, _draw_reg(rng, ikind, shape))
    y = _t(torch, _draw_reg(rng, tkind, shape))
    al_name, f_name = _REG[loss]
    want = getattr(F, f_name)(x, y, reduction=reduction, **opts)
    got = _call(getattr(al, al_name), x, y, reduction=reduction, **opts)
    _close(got, want)


# ---------------------------------------------------------------------------------------
# binary cross-entropy (probabilities and logits)


def _bce_rows() -> list[tuple]:
    # (id, logits, shape, input kind, target kind, weight (shape, kind), pos_weight, reduction)
    rows: list[tuple] = [
        (CNN + "BCELoss_no_reduce", False, (15, 10), "clamp028", "binary", None, None, "none"),
        (CNN + "BCELoss_no_reduce_scalar", False, (), "clamp028", "binary", None, None, "none"),
        (CNN + "BCELoss_weights_no_reduce", False, (15, 10), "clamp028", "binary",
         ((10,), "rand"), None, "none"),
        (CNN + "BCELoss_weights_no_reduce_scalar", False, (), "clamp028", "binary",
         ((), "rand"), None, "none"),
        (CNN + "BCEWithLogitsLoss_legacy_enum", True, (15, 10), "clamp028", "binary", None, None,
         "none"),
        (CNN + "BCEWithLogitsLoss_no_reduce", True, (15, 10), "clamp028", "binary", None, None,
         "none"),
        (CNN + "BCEWithLogitsLoss_no_reduce_scalar", True, (), "clamp028", "binary", None, None,
         "none"),
    ]
    for r in ("none", "mean", "sum"):
        rows.append((CRIT + f"BCELoss_no_batch_dim_{r}", False, (9,), "sigmoid_randn", "binary",
                     None, None, r))
    mod_cases = (("", "mean"), ("reduction_sum", "sum"), ("reduction_mean", "mean"),
                 ("reduction_none", "none"))
    for desc, r in mod_cases:
        rows.append((CMOD + f"module_inputs_torch_nn_BCELoss::{desc}", False, (15, 10), "u01",
                     "binary", None, None, r))
        rows.append((CMOD + f"module_inputs_torch_nn_BCEWithLogitsLoss::{desc}", True, (15, 10),
                     "u01", "binary", None, None, r))
    rows.append((CMOD + "module_inputs_torch_nn_BCELoss::weights", False, (15, 10), "u01",
                 "binary", ((10,), "u9"), None, "mean"))
    rows.append((CMOD + "module_inputs_torch_nn_BCELoss::scalar_weight", False, (), "u01",
                 "binary", ((), "u9"), None, "mean"))
    rows.append((CMOD + "module_inputs_torch_nn_BCEWithLogitsLoss::weights", True, (15, 10),
                 "u01", "binary", ((10,), "u9"), None, "mean"))
    rows.append((CMOD + "module_inputs_torch_nn_BCEWithLogitsLoss::scalar_weights", True,
                 (15, 10), "u01", "binary", ((), "u9"), None, "mean"))
    shapes = ((), (1,), (S,), (S, S), (S, S, S))
    for logits in (False, True):
        op = "binary_cross_entropy" + ("_with_logits" if logits else "")
        ikind = "u9" if logits else "prob6"
        tkind = "rand" if logits else "prob6"
        for shape in shapes:
            rows.append((CMI + f"sample_inputs_{op}::{shape}", logits, shape, ikind, tkind, None,
                         None, "mean"))
        for r in ("mean", "sum", "none"):
            rows.append((CMI + f"sample_inputs_{op}::(5, 5)_{r}", logits, (S, S), ikind, tkind,
                         None, None, r))
        wshapes = ((1,), (1, S), (S,), (S, S)) if logits else ((S, S),)
        for wshape, r in itertools.product(wshapes, ("mean", "sum", "none")):
            rows.append((CMI + f"sample_inputs_{op}::weight{wshape}_{r}", logits, (S, S), ikind,
                         tkind, (wshape, "u9"), None, r))
        if logits:
            for r in ("mean", "sum", "none"):
                rows.append((CMI + f"sample_inputs_{op}::pos_weight_{r}", True, (S, S), ikind,
                             tkind, None, ((S,), "u0_9"), r))
                rows.append((CMI + f"sample_inputs_{op}::weight_pos_weight_{r}", True, (S, S),
                             ikind, tkind, ((S, S), "u9"), ((S,), "u0_9"), r))
    return rows


@pytest.mark.parametrize("case", _bce_rows(), ids=lambda c: c[0])
def test_bce_cases(case: tuple) -> None:
    """BCE / BCE-with-logits rows: ``weight`` elementwise, ``pos_weight`` per class (torch's
    meaning, same names); ``"mean"`` divides by the number of elements in both."""
    torch, F = _peer()
    cid, logits, shape, ikind, tkind, wspec, pwspec, reduction = case
    rng = _rng(cid)
    x = _t(torch, _draw(rng, ikind, shape))
    y = _t(torch, _draw(rng, tkind, shape))
    w = None if wspec is None else _t(torch, _draw(rng, wspec[1], wspec[0]))
    pw = None if pwspec is None else _t(torch, _draw(rng, pwspec[1], pwspec[0]))
    if logits:
        want = F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw,
                                                  reduction=reduction)
        got = _call(al.binary_cross_entropy_with_logits, x, y, weight=w, pos_weight=pw,
                                                  reduction=reduction)
    else:
        want = F.binary_cross_entropy(x, y, weight=w, reduction=reduction)
        got = _call(al.binary_cross_entropy, x, y, weight=w, reduction=reduction)
    _close(got, want)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_with_logits_no_batch_dim_randn_target(reduction: str) -> None:
    """common_nn.py::criterion_tests::BCEWithLogitsLoss_no_batch_dim_<reduction>.

    torch feeds ``torch.randn(9)`` as the target.  arrayloss checks targets lie in [0, 1]
    (intentional: a target outside it is a wrong call), so the call raises; with value checks
    off the formula is torch's."""
    torch, F = _peer()
    rng = _rng(CRIT + "BCEWithLogitsLoss_no_batch_dim_" + reduction)
    x = _t(torch, rng.standard_normal(9))
    y = _t(torch, rng.standard_normal(9))
    with pytest.raises(ValueError, match="target"):
        al.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    with al.options(validate=False):
        got = al.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    _close(got, F.binary_cross_entropy_with_logits(x, y, reduction=reduction))


def _mlsm_rows() -> list[tuple]:
    rows = [
        (CNN + "MultiLabelSoftMarginLoss_no_reduce", (5, 10), "binary", None, "none"),
        (CNN + "MultiLabelSoftMarginLoss_weights_no_reduce", (5, 10), "binary",
         ((10,), "rand"), "none"),
    ]
    for shape in ((S,), (S, S)):
        rows.append((CMI + f"sample_inputs_multilabel_soft_margin_loss::{shape}", shape, "u9",
                     None, "mean"))
        rows.append((CMI + f"sample_inputs_multilabel_soft_margin_loss::{shape}_weight", shape,
                     "u9", (shape, "u9"), "mean"))
    return rows


@pytest.mark.parametrize("case", _mlsm_rows(), ids=lambda c: c[0])
def test_multilabel_soft_margin_as_class_mean_of_bce_with_logits(case: tuple) -> None:
    """``multilabel_soft_margin_loss`` = the class (last axis) mean of the elementwise
    ``binary_cross_entropy_with_logits``; the OpInfo samples draw targets in [-9, 9], which
    arrayloss refuses (asserted), so their formula is compared with value checks off. Where
    torch's weight is per class, ``multilabel_soft_margin_loss(class_weight=)`` itself is
    compared too."""
    torch, F = _peer()
    cid, shape, tkind, wspec, reduction = case
    rng = _rng(cid)
    x = _t(torch, _draw(rng, "randn" if cid.startswith(CNN) else "u9", shape))
    y = _t(torch, _draw(rng, tkind, shape))
    w = None if wspec is None else _t(torch, _draw(rng, wspec[1], wspec[0]))
    want = F.multilabel_soft_margin_loss(x, y, weight=w, reduction=reduction)
    if tkind != "binary":
        with pytest.raises(ValueError):
            al.binary_cross_entropy_with_logits(x, y, weight=w, reduction="none")
    with al.options(validate=tkind == "binary"):
        per = al.binary_cross_entropy_with_logits(x, y, weight=w, reduction="none")
    per = torch.mean(per, dim=-1)
    got = per if reduction == "none" else torch.mean(per)
    _close(got, want)
    # the loss itself, where torch's weight is one value per class (the last axis)
    if wspec is None or tuple(w.shape) == (shape[-1],):
        with al.options(validate=tkind == "binary"):
            direct = al.multilabel_soft_margin_loss(x, y, class_weight=w, reduction=reduction)
        _close(direct, want)


def test_soft_margin_no_reduce() -> None:
    """``common_nn.py::get_new_module_tests::SoftMarginLoss_no_reduce``: input ``randn(5, 5)``,
    target ``randn(5, 5).sign()``."""
    torch, F = _peer()
    rng = _rng(CNN + "SoftMarginLoss_no_reduce")
    x = _t(torch, rng.standard_normal((5, 5)))
    y = _t(torch, np.sign(rng.standard_normal((5, 5))))
    for reduction in ("none", "mean", "sum"):
        _close(_call(al.soft_margin_loss, x, y, reduction=reduction),
               F.soft_margin_loss(x, y, reduction=reduction))


def _multi_hot_and_unique_lists(idx: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    """torch's index lists (read up to the first -1) as multi-hot rows, and the same sets as
    index lists without repetitions."""
    rows = idx.reshape(-1, idx.shape[-1])
    hot = np.zeros((rows.shape[0], c), dtype=np.int64)
    lists = np.full_like(rows, -1)
    for i, r in enumerate(rows):
        stop = np.flatnonzero(r == -1)
        seen = list(dict.fromkeys(r[:stop[0]] if stop.size else r))
        hot[i, seen] = 1
        lists[i, :len(seen)] = seen
    return hot.reshape(*idx.shape[:-1], c), lists.reshape(idx.shape)


@pytest.mark.parametrize("shape", [(5, 10), (10,)], ids=["no_reduce", "1d_no_reduce"])
def test_multilabel_margin_no_reduce(shape: tuple[int, ...]) -> None:
    """``common_nn.py::get_new_module_tests::MultiLabelMarginLoss_no_reduce`` and
    ``MultiLabelMarginLoss_1d_no_reduce``: input ``randn(shape)``, target
    ``rand(shape).mul(10).floor().long()`` (indices, repetitions included); a -1 is put in
    each row so the lists end early, as a real target does."""
    torch, F = _peer()
    rng = _rng(CNN + f"MultiLabelMarginLoss_{shape}")
    x = _t(torch, rng.standard_normal(shape))
    idx = np.floor(rng.uniform(size=shape) * 10).astype(np.int64)
    idx[..., 4] = -1
    hot, lists = _multi_hot_and_unique_lists(idx, shape[-1])
    for reduction in ("none", "mean", "sum"):
        _close(_call(al.multilabel_margin_loss, x, _t(torch, hot), reduction=reduction),
               F.multilabel_margin_loss(x, _t(torch, lists), reduction=reduction))


# ---------------------------------------------------------------------------------------
# cross-entropy and NLL (NLL on log_softmax(z) is cross_entropy on z)


def _ce_rows() -> list[tuple]:
    # (id, shape, target kind, class weight kind, ignore_index, smoothing, reduction, via_nll)
    rows: list[tuple] = []
    nd = {"NLLLoss": (15, 10), "NLLLoss2d": (2, 3, 5, 5), "NLLLossNd": (2, 3, 5, 5, 2, 2)}
    for base, shape in nd.items():
        rows.append((CNN + f"{base}_no_reduce", shape, "index", None, None, 0.0, "none", True))
        rows.append((CNN + f"{base}_no_reduce_ignore_index", shape, "index", None,
                     2 if base == "NLLLoss" else 1, 0.0, "none", True))
        rows.append((CNN + f"{base}_no_reduce_weights", shape, "index", "rand", None, 0.0,
                     "none", True))
    rows.append((CNN + "NLLLoss_no_reduce_weights_ignore_index", (15, 10), "index", "rand", 2,
                 0.0, "none", True))
    rows.append((CNN + "NLLLoss_no_reduce_weights_ignore_index_neg", (15, 10), "index", "rand",
                 -1, 0.0, "none", True))
    for r in ("none", "mean", "sum"):
        rows.append((CRIT + f"NLLLoss_no_batch_dim_{r}", (3,), "index", None, None, 0.0, r, True))
    # module_inputs_torch_nn_NLLLoss: 7 cases x 4 shapes, C = 4, weights make_weight(4).abs()
    nll_cases = (("", None, None, "mean"), ("reduction_sum", None, None, "sum"),
                 ("reduction_none", None, None, "none"), ("ignore_index", None, 2, "mean"),
                 ("weights", "abs9", None, "mean"), ("weights_ignore_index", "abs9", 2, "mean"),
                 ("weights_ignore_index_neg", "abs9", -1, "mean"))
    for (desc, wk, ii, r), (pre, shape) in itertools.product(
            nll_cases, (("", (15, 4)), ("nd_", (2, 4, 5, 5)), ("higher_dim_", (2, 4, 5, 5, 2, 2)),
                        ("3d_", (2, 4, 5)))):
        rows.append((CMOD + f"module_inputs_torch_nn_NLLLoss::{pre}{desc}", shape, "index", wk,
                     ii, 0.0, r, True))
    # module_inputs_torch_nn_CrossEntropyLoss: make_weight((3,)) is in [-9, 9]: |w| here
    ce_cases = (("", None, None, 0.0), ("weights", "abs9", None, 0.0),
                ("ignore_index", None, 1, 0.0), ("label_smoothing", None, None, 0.15),
                ("ignore_index_label_smoothing", None, 1, 0.15))
    shapes = (("4d", (2, 3, 5, 5)), ("3d", (2, 3, 5)), ("2d", (2, 3)),
              ("higher_dim", (2, 3, 5, 5, 2, 2)))
    prob_shapes = (("4d_prob_target", (5, 3, 4, 2)), ("3d_prob_target", (5, 3, 4)),
                   ("2d_prob_target", (5, 3)), ("higher_dim_prob_target", (2, 3, 5, 5, 2, 2)))
    for r, (desc, wk, ii, ls) in itertools.product(("mean", "sum", "none"), ce_cases):
        for pre, shape in shapes:
            rows.append((CMOD + f"module_inputs_torch_nn_CrossEntropyLoss::{pre}_{desc}_{r}",
                         shape, "index", wk, ii, ls, r, False))
        if ii is None:
            for pre, shape in prob_shapes:
                rows.append((CMOD + f"module_inputs_torch_nn_CrossEntropyLoss::{pre}_{desc}_{r}",
                             shape, "softmax", wk, None, ls, r, False))
            rows.append((CMOD + "module_inputs_torch_nn_CrossEntropyLoss::"
                         f"no_batch_dim_{desc}_{r}", (3,), "index", wk, None, ls, r, False))
    # sample_inputs_cross_entropy: (2, 3) logits, weights make_tensor((3,)) -> |w| here
    ce_samples: list[tuple] = [((2, 3), None, None, "mean"), ((2, 3, 1), None, None, "mean"),
                               ((2, 3, 1, 2), None, None, "mean"),
                               ((2, 3, 1, 2, 3), None, None, "mean")]
    ce_samples += [((2, 3), None, None, r) for r in ("mean", "sum", "none")]
    ce_samples += [((2, 3), "abs9", None, r) for r in ("mean", "sum", "none")]
    ce_samples += [((2, 3), None, 1, "mean")]
    for i, (shape, wk, ii, r) in enumerate(ce_samples):
        for prob in (False, True):
            if prob and ii is not None:
                continue
            rows.append((CMI + f"sample_inputs_cross_entropy::{i}_{shape}_{r}"
                         + ("_prob" if prob else ""), shape, "rand" if prob else "index", wk, ii,
                         0.0, r, False))
    # sample_inputs_nll_loss (the signed weights of make_weight() are a separate test)
    for r, (sname, shape) in itertools.product(("none", "mean", "sum"),
                                               (("2d", (2, 3)), ("nobatch", (3,)),
                                                ("4d", (2, 3, 2, 2)))):
        base = CMI + f"sample_inputs_nll_loss::{sname}_{r}"
        rows.append((base, shape, "index", None, None, 0.0, r, True))
        rows.append((base + "_weight_low0", shape, "index", "u0_9", None, 0.0, r, True))
        rows.append((base + "_ignore1", shape, "index", None, 1, 0.0, r, True))
        rows.append((base + "_ignore1_weight_abs", shape, "index", "abs9", 1, 0.0, r, True))
        if r != "mean":
            rows.append((base + "_all_ignored", shape, "zeros", None, 0, 0.0, r, True))
    rows.append((CMI + "sample_inputs_nll_loss::target_-1_2_ignore-1", (2, 3), "minus1_2", None,
                 -1, 0.0, "mean", True))
    return rows


def _class_weight(torch: Any, rng: np.random.Generator, kind: str | None, c: int) -> Any:
    if kind is None:
        return None
    if kind == "abs9":
        return _t(torch, np.abs(rng.uniform(-9.0, 9.0, c)))
    return _t(torch, _draw(rng, kind, (c,)))


def _ce_target(torch: Any, rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> Any:
    c = shape[0] if len(shape) == 1 else shape[1]
    lab_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    if kind == "index":
        return _t(torch, rng.integers(0, c, lab_shape))
    if kind == "zeros":
        return torch.zeros(lab_shape, dtype=torch.int64)
    if kind == "minus1_2":
        return torch.tensor([-1, 2])
    if kind == "softmax":  # make_input(shape).softmax(dim=1)
        return torch.softmax(_t(torch, rng.uniform(-9.0, 9.0, shape)), dim=1)
    if kind == "rand":  # make_tensor(low=0, high=1): rows need not sum to 1
        return _t(torch, rng.uniform(0.0, 1.0, shape))
    raise AssertionError(kind)


def _al_ignore(torch: Any, t: Any, ii: int | None, c: int) -> tuple[Any, int | None]:
    """torch's ``ignore_index`` -> arrayloss's: an in-range index is relabelled -100."""
    if ii is None:
        return t, None
    if 0 <= ii < c:
        return torch.where(t == ii, torch.full_like(t, -100), t), -100
    return t, ii


@pytest.mark.parametrize("case", _ce_rows(), ids=lambda c: c[0])
def test_cross_entropy_and_nll_cases(case: tuple) -> None:
    """cross_entropy / nll_loss rows (channels-first: ``axis=1``; 1-D unbatched: ``axis=0``)."""
    torch, F = _peer()
    cid, shape, tkind, wk, ii, ls, reduction, via_nll = case
    rng = _rng(cid)
    z = _t(torch, rng.uniform(-9.0, 9.0, shape) if cid.startswith((CMOD, CMI))
           else rng.standard_normal(shape))
    ax = 0 if len(shape) == 1 else 1
    c = shape[ax]
    t = _ce_target(torch, rng, tkind, shape)
    w = _class_weight(torch, rng, wk, c)
    tii = -100 if ii is None else ii
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if via_nll:
            want = F.nll_loss(F.log_softmax(z, dim=ax), t, weight=w, ignore_index=tii,
                              reduction=reduction)
        else:
            want = F.cross_entropy(z, t, weight=w, ignore_index=tii, reduction=reduction,
                                   label_smoothing=ls)
    dense = tuple(t.shape) == tuple(z.shape)
    if reduction == "mean" and not dense:
        counted = t != tii
        wy = torch.ones(t.shape, dtype=z.dtype) if w is None else w[torch.where(counted, t, 0)]
        if float((wy * counted).sum()) == 0.0:
            # everything ignored (or weighted 0): torch NaN, arrayloss 0 (intentional)
            assert bool(torch.isnan(want))
            want = torch.zeros((), dtype=z.dtype)
    t2, ii2 = (t, None) if dense else _al_ignore(torch, t, ii, c)
    got = _call(al.cross_entropy, z, t2, axis=ax, class_weight=w, ignore_index=ii2,
                           label_smoothing=ls, reduction=reduction)
    _close(got, want)


@pytest.mark.parametrize("wkind", ["u9", "u9_0"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nll_signed_class_weights(wkind: str, reduction: str) -> None:
    """common_methods_invocations.py::sample_inputs_nll_loss: ``make_weight()`` (in [-9, 9])
    and ``make_weight(high=0)``.  arrayloss refuses negative class weights (a negative weight
    turns the loss into a reward; ``class_weight`` must hold values >= 0); with value checks
    off the formula is torch's."""
    torch, F = _peer()
    rng = _rng(CMI + f"sample_inputs_nll_loss::signed_{wkind}_{reduction}")
    z = _t(torch, rng.uniform(-9, 9, (2, 3, 2, 2)))
    t = _t(torch, rng.integers(0, 3, (2, 2, 2)))
    w = _t(torch, _draw(rng, wkind, (3,)))
    want = F.nll_loss(F.log_softmax(z, dim=1), t, weight=w, reduction=reduction)
    if bool((w < 0).any()):
        with pytest.raises(ValueError, match="class_weight"):
            al.cross_entropy(z, t, axis=1, class_weight=w, reduction=reduction)
    with al.options(validate=False):
        got = al.cross_entropy(z, t, axis=1, class_weight=w, reduction=reduction)
    _close(got, want, rtol=1e-8)


def test_in_range_ignore_index_is_refused() -> None:
    """common_modules.py::module_inputs_torch_nn_CrossEntropyLoss::*ignore_index* (torch
    ``ignore_index=1`` with C = 3).  arrayloss refuses an ignore_index that is a valid class
    (intentional); the rows above port it by relabelling those entries -100."""
    torch, _ = _peer()
    z = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="ignore_index"):
        al.cross_entropy(z, torch.tensor([1, 2]), axis=1, ignore_index=1)


# ---------------------------------------------------------------------------------------
# KL divergence


def _kl_rows() -> list[tuple]:
    # (id, shape, torch reduction, log_target)
    rows: list[tuple] = [
        (CNN + "KLDivLoss_with_target_no_reduce", (10, 10), "none", False),
        (CNN + "KLDivLoss_no_reduce", (10, 10), "none", False),
        (CNN + "KLDivLoss_no_reduce_scalar", (), "none", False),
        (CNN + "KLDivLoss_with_log_target_no_reduce", (10, 10), "none", True),
        (CNN + "KLDivLoss_no_reduce_log_target", (10, 10), "none", True),
        (CNN + "KLDivLoss_no_reduce_scalar_log_target", (), "none", True),
    ]
    for r in ("none", "mean", "sum"):
        rows.append((CRIT + f"KLDivLoss_no_batch_dim_{r}", (3,), r, False))
    for desc, r, lt in (("", "mean", False), ("reduction_sum", "sum", False),
                        ("reduction_batchmean", "batchmean", False),
                        ("reduction_none", "none", False), ("log_target", "mean", True)):
        rows.append((CMOD + f"module_inputs_torch_nn_KLDivLoss::{desc}", (10, 10), r, lt))
        rows.append((CMOD + f"module_inputs_torch_nn_KLDivLoss::scalar_{desc}", (), r, lt))
    for shape, r, lt in itertools.product(((2,), (2, 3)), ("none", "mean", "batchmean", "sum"),
                                          (True, False)):
        rows.append((CMI + f"sample_inputs_kl_div::{shape}_{r}_log_target={lt}", shape, r, lt))
    return rows


@pytest.mark.parametrize("case", _kl_rows(), ids=lambda c: c[0])
def test_kl_div_cases(case: tuple) -> None:
    """kl_div rows.  Reductions map as the module docstring says: ``"none"`` elementwise
    (trailing class axis of size 1), ``"sum"`` the same, ``"batchmean"`` on 2-D input is
    arrayloss's ``"mean"``; torch's ``"mean"`` (N*C) and its 1-D ``"batchmean"`` (divides by C)
    are arrayloss's per-distribution mean divided by C (intentional, documented)."""
    torch, F = _peer()
    cid, shape, reduction, lt = case
    rng = _rng(cid)
    if cid.startswith(CMI):  # log_softmax / softmax of make_tensor(low=0)
        x = torch.log_softmax(_t(torch, rng.uniform(0, 9, shape)), dim=-1)
        p = torch.softmax(_t(torch, rng.uniform(0, 9, shape)), dim=-1)
    else:  # torch.rand(...).log() and torch.rand(...)
        x = _t(torch, np.log(_draw(rng, "rand_pos", shape)))
        p = _t(torch, _draw(rng, "rand_pos", shape))
    y = torch.log(p) if lt else p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about its 'mean'
        want = F.kl_div(x, y, reduction=reduction, log_target=lt)
    if reduction == "none":
        got = _call(al.kl_divergence, x[..., None], y[..., None], log_target=lt,
                    reduction="none")
        _close(got, want)
        return
    x2, y2 = (x.reshape(1), y.reshape(1)) if x.ndim == 0 else (x, y)
    if reduction == "sum":
        _close(_call(al.kl_divergence, x2, y2, log_target=lt, reduction="sum"), want)
        return
    got = _call(al.kl_divergence, x2, y2, log_target=lt, reduction="mean")
    c = x2.shape[-1]
    if reduction == "batchmean" and x.ndim == 2:
        _close(got, want)
    elif reduction == "batchmean" and x.ndim == 0:
        _close(got, want)  # torch returns the single element
    else:  # torch 'mean' (N*C) or 1-D 'batchmean' (sum / C)
        _close(got, want * c)


# ---------------------------------------------------------------------------------------
# multi_margin_loss -> multiclass_hinge_loss(mode="weston_watkins") = C * torch


def _mm_rows() -> list[tuple]:
    # (id, input shape, target shape, p, margin, weight kind, reduction)
    rows: list[tuple] = [
        (CNN + "MultiMarginLoss_no_reduce", (5, 10), (5,), 1, 1.0, None, "none"),
        (CNN + "MultiMarginLoss_1d_no_reduce", (10,), (1,), 1, 1.0, None, "none"),
        (CNN + "multimarginloss_1d_input_0d_target_no_reduce", (10,), (), 1, 1.0, None, "none"),
        (CNN + "MultiMarginLoss_p_no_reduce", (5, 10), (5,), 2, 1.0, None, "none"),
        (CNN + "MultiMarginLoss_margin_no_reduce", (5, 10), (5,), 1, 0.5, None, "none"),
        (CNN + "MultiMarginLoss_weights_no_reduce", (5, 10), (5,), 1, 1.0, "rand", "none"),
    ]
    for desc, kw in (("", {}), ("reduction_sum", {"r": "sum"}), ("reduction_mean", {"r": "mean"}),
                     ("reduction_none", {"r": "none"}), ("p", {"p": 2}), ("margin", {"m": 0.5}),
                     ("weights", {"w": "u9"})):
        rows.append((CMOD + f"module_inputs_torch_nn_MultiMarginLoss::{desc}", (5, 10), (5,),
                     kw.get("p", 1), kw.get("m", 1.0), kw.get("w"), kw.get("r", "mean")))
    samples = [((), (), 1, 1.0, None, "mean"), ((S,), (), 1, 1.0, None, "mean"),
               ((S,), (1,), 2, 1.0, None, "mean"), ((S, M), (S,), 1, 1.0, None, "mean"),
               ((S, M), (S,), 1, -3.14, None, "mean"), ((M, S), (M,), 1, 1.0, None, "mean"),
               ((M, S), (M,), 1, 1.0, "u10", "mean"), ((M, S), (M,), 1, 1.0, None, "none"),
               ((M, S), (M,), 1, 1.0, None, "mean"), ((M, S), (M,), 1, 1.0, None, "sum")]
    for i, s in enumerate(samples):
        rows.append((CMI + f"sample_inputs_multi_margin_loss::{i}", *s))
    ref_inputs = (((), ()), ((S,), ()), ((S,), (1,)), ((M, S), (M,)))
    for (ishape, tshape), p, margin, weighted, r in itertools.product(
            ref_inputs, (1, 2), (0, 7, -3.14), (False, True), (None, "none", "mean", "sum")):
        rows.append((CMI + f"reference_inputs_multi_margin_loss::{ishape}_p{p}_m{margin}"
                     f"_w{int(weighted)}_{r}", ishape, tshape, p, float(margin),
                     "u10" if weighted else None, r or "mean"))
    return rows


@pytest.mark.parametrize("case", _mm_rows(), ids=lambda c: c[0])
def test_multi_margin_cases(case: tuple) -> None:
    """multi_margin_loss rows.  ``weight`` (per class) -> per-sample ``weight=w[t]``; a 1-D
    input with a ``(1,)`` target is one sample (``pred[None]``), a 0-d input one class.
    A negative margin raises ``ValueError`` in arrayloss (intentional: margin >= 0)."""
    torch, F = _peer()
    cid, ishape, tshape, p, margin, wkind, reduction = case
    rng = _rng(cid)
    x = _t(torch, rng.uniform(-9, 9, ishape))
    if p == 2 and cid.startswith(CNN):
        x = torch.clamp(x, 1e-2, 1 - 1e-2)
    c = 1 if len(ishape) == 0 else ishape[-1]
    t = _t(torch, rng.integers(0, c, tshape))
    w = None if wkind is None else _t(torch, _draw(rng, wkind, (c,)))
    want = F.multi_margin_loss(x, t, p=p, margin=margin, weight=w, reduction=reduction)
    pred = x.reshape(1) if x.ndim == 0 else (x[None] if tuple(t.shape) == (1,) else x)
    sample_w = None if w is None else w[t]
    kw = dict(mode="weston_watkins", squared=p == 2, margin=margin, weight=sample_w,
              reduction=reduction)
    if margin < 0:
        with pytest.raises(ValueError, match="margin"):
            al.multiclass_hinge_loss(pred, t, **kw)
        return
    got = _call(al.multiclass_hinge_loss, pred, t, **kw)
    _close(got, want * c)


# ---------------------------------------------------------------------------------------
# error inputs (common_methods_invocations.py error_inputs_*, common_modules error inputs)


def test_error_inputs_l1_loss() -> None:
    """common_methods_invocations.py::error_inputs_l1_loss: invalid reduction; (5, 4) vs (5,)
    (torch: broadcast error; arrayloss never broadcasts)."""
    torch, _ = _peer()
    a, b = torch.rand(5, 4), torch.rand(5, 4)
    with pytest.raises(ValueError, match="reduction"):
        al.l1_loss(a, b, reduction="abc")
    with pytest.raises(ValueError, match="shape"):
        al.l1_loss(a, torch.rand(5))


def test_error_inputs_huber_loss() -> None:
    """common_methods_invocations.py::error_inputs_huber_loss: invalid reduction, delta 0 and -1
    (torch RuntimeError, arrayloss ValueError)."""
    torch, _ = _peer()
    a, b = torch.rand(5, 4), torch.rand(5, 4)
    with pytest.raises(ValueError, match="reduction"):
        al.huber_loss(a, b, reduction="abc")
    for delta in (0, -1):
        with pytest.raises(ValueError, match="delta"):
            al.huber_loss(a, b, delta=delta)


def test_error_inputs_multi_margin_loss() -> None:
    """common_methods_invocations.py::error_inputs_multi_margin_loss: invalid reduction, empty
    class axis, target of the input's shape, float target."""
    torch, _ = _peer()
    x = torch.rand(5, 4)
    with pytest.raises(ValueError, match="reduction"):
        al.multiclass_hinge_loss(x, torch.zeros(5, dtype=torch.long), reduction="abc")
    with pytest.raises(ValueError):
        al.multiclass_hinge_loss(torch.rand(5, 0), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="shape"):
        al.multiclass_hinge_loss(x, torch.zeros(5, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        al.multiclass_hinge_loss(x, torch.rand(5))


def test_module_error_inputs_cross_entropy() -> None:
    """common_modules.py::module_error_inputs_torch_nn_CrossEntropyLoss."""
    torch, _ = _peer()
    z = torch.randn(2, 3)
    # float labels of the wrong shape; batch size mismatch; class weight of the wrong length
    with pytest.raises(TypeError, match="integer"):
        al.cross_entropy(z, torch.rand(2), axis=1)
    with pytest.raises(ValueError, match="shape"):
        al.cross_entropy(z, torch.tensor([0, 1, 2]), axis=1)
    with pytest.raises(ValueError, match="class_weight"):
        al.cross_entropy(z, torch.tensor([0, 1]), axis=1, class_weight=torch.rand(2))
    # ignore_index with probability targets; label_smoothing 1.5; spatial size mismatch
    with pytest.raises(ValueError, match="ignore_index"):
        al.cross_entropy(z, torch.softmax(torch.randn(2, 3), 1), axis=1, ignore_index=-100)
    with pytest.raises(ValueError, match="label_smoothing"):
        al.cross_entropy(z, torch.tensor([0, 1]), axis=1, label_smoothing=1.5)
    with pytest.raises(ValueError, match="shape"):
        al.cross_entropy(torch.randn(2, 3, 5), torch.zeros(2, 4, dtype=torch.long), axis=1)


def test_module_error_inputs_cross_entropy_integer_dense_target() -> None:
    """common_modules.py::module_error_inputs_torch_nn_CrossEntropyLoss, first case: an
    integer target of the input's shape.  torch refuses it ("Expected floating point type for
    target with class probabilities"); arrayloss reads a target of ``pred``'s shape as dense
    probabilities whatever its dtype (values in [0, 1]), so it equals the float target."""
    torch, _ = _peer()
    z = _t(torch, _rng("ce_int_dense").standard_normal((2, 3)))
    t = torch.tensor([[0, 1, 0], [1, 0, 0]])
    _close(al.cross_entropy(z, t, axis=1), al.cross_entropy(z, t.double(), axis=1))


# ---------------------------------------------------------------------------------------
# test/test_nn.py: TestNN


def test_nn_loss_equal_input_target_shape() -> None:
    """test_nn.py::TestNN::test_loss_equal_input_target_shape: (3, 5) vs (5, 3) raises."""
    torch, _ = _peer()
    x, y = torch.randn(3, 5), torch.randn(5, 3)
    for fn in (al.mse_loss, al.l1_loss, al.smooth_l1_loss, al.huber_loss):
        with pytest.raises(ValueError, match="shape"):
            fn(x, y)
    with pytest.raises(ValueError, match="shape"):
        al.kl_divergence(x, torch.rand(5, 3))


def test_nn_mse_loss_size_warning() -> None:
    """test_nn.py::TestNN::test_mse_loss_size_warning: torch warns on (10, 1) vs (10,) and
    broadcasts; arrayloss raises (intentional: no silent broadcasting)."""
    torch, _ = _peer()
    with pytest.raises(ValueError, match="shape"):
        al.mse_loss(torch.randn(10, 1), torch.randn(10))


def _weighted_inputs(torch: Any) -> tuple[Any, Any, Any]:
    return (torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1.5, 2.5, 3.5, 4.5]),
            torch.tensor([1.0, 2.0, 3.0, 4.0]))


def test_nn_weighted_mse_loss() -> None:
    """test_nn.py::TestNN::test_weighted_mse_loss: expected 0.25.  torch's weighted "mean"
    divides by sum(weight): arrayloss's ``reduction="weighted_mean"`` (its "mean" divides by
    the count: 2.5 / 4)."""
    torch, F = _peer()
    x, y, w = _weighted_inputs(torch)
    _close(al.mse_loss(x, y, weight=w, reduction="weighted_mean"), np.float64(0.25), atol=1e-7)
    _close(al.mse_loss(x, y, weight=w), np.float64(0.625), atol=1e-7)
    _close(F.mse_loss(x, y, weight=w), np.float64(0.25), atol=1e-7)


def test_nn_weighted_l1_loss_with_weights() -> None:
    """test_nn.py::TestNN::test_weighted_l1_loss_with_weights: expected 0.5
    (``weighted_mean`` mapping as above)."""
    torch, F = _peer()
    x, y, w = _weighted_inputs(torch)
    _close(al.l1_loss(x, y, weight=w, reduction="weighted_mean"), np.float64(0.5), atol=1e-7)
    _close(al.l1_loss(x, y, weight=w), np.float64(1.25), atol=1e-7)
    _close(F.l1_loss(x, y, weight=w), np.float64(0.5), atol=1e-7)


def test_nn_weighted_huber_loss() -> None:
    """test_nn.py::TestNN::test_weighted_huber_loss.  The peer's "expected 0.25" is never
    asserted (it only prints) and is not what torch returns: torch's weighted huber "mean"
    divides by N (1.25 / 4 = 0.3125, arrayloss "mean"); the sum(weight) mean is 0.125."""
    torch, F = _peer()
    x, y, w = _weighted_inputs(torch)
    want = F.huber_loss(x, y, weight=w, reduction="mean", delta=1.0)
    _close(want, np.float64(0.3125), atol=1e-7)
    _close(al.huber_loss(x, y, weight=w, delta=1.0), want, atol=1e-7)
    _close(al.huber_loss(x, y, weight=w, delta=1.0, reduction="weighted_mean"),
           np.float64(0.125), atol=1e-7)


@pytest.mark.parametrize("log_target", [False, True], ids=["batch_mean", "batch_mean_log_target"])
def test_nn_kldivloss_batch_mean(log_target: bool) -> None:
    """test_nn.py::TestNN::test_KLDivLoss_batch_mean[_log_target]: (2, 5) log-softmax inputs;
    batchmean == sum / 2 == arrayloss "mean"."""
    torch, F = _peer()
    rng = _rng(f"{TNN}test_KLDivLoss_batch_mean_{log_target}")
    lp1 = torch.log_softmax(_t(torch, rng.standard_normal((2, 5))), 1)
    z2 = _t(torch, rng.standard_normal((2, 5)))
    y = torch.log_softmax(z2, 1) if log_target else torch.softmax(z2, 1)
    want = F.kl_div(lp1, y, reduction="sum", log_target=log_target) / 2
    _close(al.kl_divergence(lp1, y, log_target=log_target), want)
    _close(F.kl_div(lp1, y, reduction="batchmean", log_target=log_target), want)


@pytest.mark.parametrize("log_target", [False, True],
                         ids=["with_diff_type", "with_diff_type_log_target"])
def test_nn_kl_div_with_diff_type(log_target: bool) -> None:
    """test_nn.py::TestNN::test_kl_div_with_diff_type[_log_target]: input [[2, 3, 5], [3, 2,
    1]], target [[1, 2, 3], [4, 5, 6]] (or its log), float32/float64/float16 mixes, atol 1e-3.
    The target is no distribution (values > 1, or logs > 0): arrayloss refuses it (asserted);
    with value checks off its sum matches torch for every dtype pair (torch's CPU float16
    target is skipped by the peer too).  A float16 ``log_q`` gives a float32 result."""
    torch, F = _peer()
    x64 = torch.tensor([[2.0, 3, 5], [3, 2, 1]], dtype=torch.float64)
    y64 = torch.tensor([[1.0, 2, 3], [4, 5, 6]], dtype=torch.float64)
    if log_target:
        y64 = y64.log()
    expected = F.kl_div(x64, y64, reduction="sum", log_target=log_target)
    with pytest.raises(ValueError, match="p"):
        al.kl_divergence(x64, y64, log_target=log_target, reduction="sum")
    dtypes = (torch.float32, torch.float64, torch.float16)
    for xd, yd in itertools.product(dtypes, repeat=2):
        if yd == torch.float16:
            continue
        with al.options(validate=False):
            got = al.kl_divergence(x64.to(xd), y64.to(yd), log_target=log_target, reduction="sum")
        assert got.dtype == (torch.float32 if xd == torch.float16 else xd)
        _close(got, expected, atol=1e-3 * 6, rtol=1e-3)


def test_nn_kl_div_log_softmax_target() -> None:
    """test_nn.py::TestNN::test_kl_div_log_softmax_target: identical log-softmax inputs with
    log_target=True give zeros (torch elementwise; arrayloss per row)."""
    torch, _ = _peer()
    a = torch.tensor([[1.0, 2, 3], [5.0, 5, 5]])
    got = al.kl_divergence(torch.log_softmax(a, 1), torch.log_softmax(a, 1), log_target=True,
                           reduction="none")
    _close(got, np.zeros(2), atol=1e-6)


def test_nn_pointwise_loss_target_grad_none_reduction() -> None:
    """test_nn.py::TestNN::test_pointwise_loss_target_grad_none_reduction: a target that
    requires grad; "none" keeps the target's shape."""
    torch, _ = _peer()
    i = torch.randn(5, 10)
    t = torch.randn(5, 10, requires_grad=True)
    assert al.mse_loss(i, t, reduction="none").shape == t.shape
    assert al.l1_loss(i, t, reduction="none").shape == t.shape


def test_nn_pointwise_loss_broadcast() -> None:
    """test_nn.py::TestNN::test_pointwise_loss_broadcast: torch broadcasts (2, 1) against
    (2, 10); arrayloss raises (intentional: no silent broadcasting between pred and target)."""
    torch, _ = _peer()
    x = torch.randn(2, 1, dtype=torch.double)
    y = torch.randn(2, 10, dtype=torch.double)
    for fn in (al.mse_loss, al.l1_loss, al.smooth_l1_loss, al.huber_loss):
        for r in ("none", "mean", "sum"):
            with pytest.raises(ValueError, match="shape"):
                fn(x, y, reduction=r)


@pytest.mark.parametrize("n", list(range(1, 50, 10)))
def test_nn_l1_loss_correct(n: int) -> None:
    """test_nn.py::TestNN::test_l1_loss_correct: l1 against zeros is
    ``abs().mean()`` for growing batches (the peer's 1024x1024 planes are 64x64 here)."""
    torch, _ = _peer()
    x = _t(torch, _rng(f"l1_correct_{n}").uniform(0, 1, (n, 3, 64, 64)), torch.float32)
    _close(al.l1_loss(x, torch.zeros_like(x)), x.abs().mean(), rtol=1e-5)


@pytest.mark.parametrize("int_dtype", ["uint8", "int8", "int16", "int32", "int64"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_nn_smoothl1loss_intergral_target(int_dtype: str, reduction: str) -> None:
    """test_nn.py::TestNN::test_smoothl1loss_intergral_target: an integer target gives the
    gradient of the same float target (beta = 0.5)."""
    torch, _ = _peer()
    rng = _rng(f"smoothl1_int_{int_dtype}_{reduction}")
    x = _t(torch, rng.standard_normal((2, 2)), torch.float32)
    tgt = torch.tensor(rng.integers(0, 9, (2, 2)), dtype=getattr(torch, int_dtype))

    def grad(target: Any) -> Any:
        xi = x.detach().clone().requires_grad_(True)
        al.smooth_l1_loss(xi, target, beta=0.5, reduction=reduction).sum().backward()
        return xi.grad

    _close(grad(tgt), grad(tgt.float()))


def test_nn_smoothl1loss_negative_beta_not_supported() -> None:
    """test_nn.py::TestNN::test_smoothl1loss_negative_beta_not_supported."""
    torch, _ = _peer()
    with pytest.raises(ValueError, match="beta"):
        al.smooth_l1_loss(torch.randn(2, 2), torch.randn(2, 2), beta=-1.0)


@pytest.mark.parametrize("delta", [-0.5, 0.0])
def test_nn_huber_loss_invalid_delta(delta: float) -> None:
    """test_nn.py::TestNN::test_huber_loss_invalid_delta (negative and zero delta)."""
    torch, _ = _peer()
    with pytest.raises(ValueError, match="delta"):
        al.huber_loss(torch.randn(2, 2), torch.randn(2, 2), delta=delta)


def test_nn_bce_loss_always_nonnegative() -> None:
    """test_nn.py::TestNN::test_bce_loss_always_nonnegative: ones/ones and zeros/zeros."""
    torch, _ = _peer()
    for v in (1.0, 0.0):
        out = al.binary_cross_entropy(torch.full((5,), v), torch.full((5,), v), reduction="none")
        assert bool((out >= 0).all())


def test_nn_bce_with_logits_raises_if_target_and_input_are_different_size() -> None:
    """test_nn.py::TestNN::test_bce_with_logits_raises_if_target_and_input_are_different_size."""
    torch, _ = _peer()
    with pytest.raises(ValueError, match="shape"):
        al.binary_cross_entropy_with_logits(torch.rand(5, 1), torch.rand(5))
    with pytest.raises(ValueError, match="shape"):
        al.binary_cross_entropy_with_logits(torch.rand(5), torch.rand(5, 1))


def test_nn_bce_with_logits_gives_same_result_as_sigmoid_and_bce_loss() -> None:
    """test_nn.py::TestNN::test_bce_with_logits_gives_same_result_as_sigmoid_and_bce_loss
    (float32, the peer's default tolerance atol 1e-5): random, weighted, and logits -100."""
    torch, _ = _peer()
    rng = _rng(TNN + "bce_with_logits_same_as_sigmoid_bce")
    target = _t(torch, rng.uniform(0, 1, (64, 4)), torch.float32)
    output = _t(torch, rng.uniform(0, 1, (64, 4)) - 0.5, torch.float32)
    tol = dict(rtol=1.3e-6, atol=1e-5)
    _close(al.binary_cross_entropy_with_logits(output, target),
           al.binary_cross_entropy(torch.sigmoid(output), target), **tol)
    w = _t(torch, rng.uniform(0, 1, 4), torch.float32)
    _close(al.binary_cross_entropy_with_logits(output, target, weight=w),
           al.binary_cross_entropy(torch.sigmoid(output), target, weight=w), **tol)
    target = torch.zeros(4, 1)
    output = torch.full((4, 1), -100.0)
    for r in ("mean", "none"):
        _close(al.binary_cross_entropy_with_logits(output, target, reduction=r),
               al.binary_cross_entropy(torch.sigmoid(output), target, reduction=r), **tol)
    w = _t(torch, rng.uniform(0, 1, 1), torch.float32)
    _close(al.binary_cross_entropy_with_logits(output, target, weight=w),
           al.binary_cross_entropy(torch.sigmoid(output), target, weight=w), **tol)


def test_nn_bce_loss_input_range() -> None:
    """test_nn.py::TestNN::test_bce_loss_input_range: probabilities outside [0, 1] raise
    (torch RuntimeError 'between 0 and 1', arrayloss ValueError)."""
    torch, _ = _peer()
    target = torch.rand(25, 25)
    valid = torch.rand(25, 25)
    al.binary_cross_entropy(valid, target)
    for bad in (valid - 1.0, valid + 1.0):
        with pytest.raises(ValueError, match="pred"):
            al.binary_cross_entropy(bad, target)


def test_nn_bce_loss_size_mismatch() -> None:
    """test_nn.py::TestNN::test_bce_loss_size_mismatch: (25,) vs (25, 1)."""
    torch, _ = _peer()
    with pytest.raises(ValueError, match="shape"):
        al.binary_cross_entropy(torch.rand(25), torch.rand(25, 1))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nn_bce_with_logits_same_as_sigmoid_bce_large_tensors_with_grad(reduction: str) -> None:
    """test_nn.py::TestNN::test_bce_with_logits_gives_same_result_as_sigmoid_and_bce_loss_large_
    tensors_with_grad: (1024, 256) float32, weight (256,); values and input gradients."""
    torch, _ = _peer()
    rng = _rng(TNN + "bce_large_" + reduction)
    target = _t(torch, rng.uniform(0, 1, (1024, 256)), torch.float32)
    out_sig = _t(torch, rng.uniform(0, 1, (1024, 256)) - 0.5, torch.float32).requires_grad_()
    out_log = out_sig.detach().clone().requires_grad_()
    w = _t(torch, rng.uniform(0, 1, 256), torch.float32)
    l_sig = al.binary_cross_entropy(torch.sigmoid(out_sig), target, weight=w, reduction=reduction)
    l_log = al.binary_cross_entropy_with_logits(out_log, target, weight=w, reduction=reduction)
    _close(l_log, l_sig, rtol=1.3e-6, atol=1e-5)
    if reduction == "none":
        g = _t(torch, rng.uniform(0, 1, (1024, 256)), torch.float32)
        l_sig.backward(g)
        l_log.backward(g)
    else:
        l_sig.backward()
        l_log.backward()
    _close(out_log.grad, out_sig.grad, rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize(
    "pos_weight", [False, True],
    ids=["has_correct_grad_at_zero", "with_pos_weight_has_correct_grad_at_zero"])
def test_nn_bce_with_logits_grad_at_zero(pos_weight: bool) -> None:
    """test_nn.py::TestNN::test_bce_with_logits[_with_pos_weight]_has_correct_grad_at_zero:
    logits 0, target 0, "sum": gradient 0.5 (pos_weight ones(3, 1))."""
    torch, _ = _peer()
    output = torch.zeros(3, 1, requires_grad=True)
    pw = torch.ones(3, 1) if pos_weight else None
    al.binary_cross_entropy_with_logits(output, torch.zeros(3, 1), pos_weight=pw,
                                        reduction="sum").backward()
    _close(output.grad, np.full((3, 1), 0.5))


@pytest.mark.parametrize("logits", [True, False],
                         ids=["bce_with_logits_broadcasts_weights", "bce_loss_broadcasts_weights"])
def test_nn_bce_broadcasts_weights(logits: bool) -> None:
    """test_nn.py::TestNN::test_bce_with_logits_broadcasts_weights and
    test_bce_loss_broadcasts_weights: weight (4,) and (16, 1) equal their expansion."""
    torch, _ = _peer()
    rng = _rng(TNN + f"broadcast_weights_{logits}")
    target = _t(torch, rng.uniform(0, 1, (16, 4)), torch.float32)
    output = _t(torch, rng.uniform(0, 1, (16, 4)) - 0.5, torch.float32)
    if logits:
        def fn(w: Any) -> Any:
            return al.binary_cross_entropy_with_logits(output, target, weight=w)
    else:
        def fn(w: Any) -> Any:
            return al.binary_cross_entropy(torch.sigmoid(output), target, weight=w)
    for wshape in ((4,), (16, 1)):
        w = _t(torch, rng.uniform(0, 1, wshape), torch.float32)
        _close(fn(w), fn(w.expand(16, 4).contiguous()), rtol=1e-6)


def test_nn_bce_with_logits_ones_in_pos_weights_are_the_same_as_none() -> None:
    """test_nn.py::TestNN::test_bce_with_logits_ones_in_pos_weights_are_the_same_as_none."""
    torch, _ = _peer()
    rng = _rng(TNN + "pos_weight_ones")
    target = _t(torch, rng.uniform(0, 1, (64, 4)), torch.float32)
    output = _t(torch, rng.uniform(0, 1, (64, 4)) - 0.5, torch.float32)
    _close(al.binary_cross_entropy_with_logits(output, target),
           al.binary_cross_entropy_with_logits(output, target, pos_weight=torch.ones(64, 4)),
           rtol=1e-6)


def test_nn_bce_with_logits_broadcasts_pos_weights() -> None:
    """test_nn.py::TestNN::test_bce_with_logits_broadcasts_pos_weights: (4,), (1, 4), (64, 4)."""
    torch, _ = _peer()
    rng = _rng(TNN + "pos_weight_broadcast")
    target = _t(torch, rng.uniform(0, 1, (64, 4)), torch.float32)
    output = _t(torch, rng.uniform(0, 1, (64, 4)) - 0.5, torch.float32)
    pw = _t(torch, rng.uniform(0, 1, 4), torch.float32)
    out1 = al.binary_cross_entropy_with_logits(output, target, pos_weight=pw)
    for p in (pw.expand(1, 4), pw.expand(64, 4)):
        _close(al.binary_cross_entropy_with_logits(output, target, pos_weight=p), out1,
               rtol=1e-6)


def test_nn_bce_with_logits_stability() -> None:
    """test_nn.py::TestNN::test_bce_with_logits_stability: logits [0, -120], target [0, 1]
    give a finite value (also with pos_weight [1, 1])."""
    torch, _ = _peer()
    output = torch.tensor([0.0, -120.0])
    target = torch.tensor([0.0, 1.0])
    assert bool(torch.isfinite(al.binary_cross_entropy_with_logits(output, target)))
    assert bool(torch.isfinite(al.binary_cross_entropy_with_logits(
        output, target, pos_weight=torch.tensor([1.0, 1.0]))))


def test_nn_cross_entropy_loss_bfloat16() -> None:
    """test_nn.py::TestNN::test_cross_entropy_loss (bfloat16 vs float, atol 1e-1): (15, 10)
    logits.  arrayloss computes bfloat16 in float32 and returns float32 (amended contract)."""
    torch, _ = _peer()
    rng = _rng(TNN + "test_cross_entropy_loss")
    inputf = _t(torch, rng.standard_normal((15, 10)), torch.float32).requires_grad_()
    inp = inputf.detach().to(torch.bfloat16).requires_grad_()
    target = _t(torch, rng.integers(0, 10, 15))
    outf = al.cross_entropy(inputf, target)
    out = al.cross_entropy(inp, target)
    assert out.dtype == torch.float32
    _close(out, outf, atol=1e-1, rtol=0)
    outf.backward()
    out.backward()
    assert inp.grad.dtype == torch.bfloat16
    _close(inp.grad, inputf.grad, atol=1e-1, rtol=0)


def test_nn_cross_entropy_loss_precision() -> None:
    """test_nn.py::TestNN::test_cross_entropy_loss_precision: float32 equals
    float64 on a large channels-first input (the peer's (128, 2, 768, 768) is (8, 2, 96, 96))."""
    torch, _ = _peer()
    rng = _rng(TNN + "ce_precision")
    inputf = _t(torch, rng.standard_normal((8, 2, 96, 96)), torch.float32)
    target = _t(torch, rng.integers(0, 2, (8, 96, 96)))
    outf = al.cross_entropy(inputf, target, axis=1)
    outd = al.cross_entropy(inputf.double(), target, axis=1)
    _close(outf, outd, rtol=1.3e-6, atol=1e-5)


def test_nn_cross_entropy_loss_zero_div() -> None:
    """test_nn.py::TestNN::test_cross_entropy_loss_zero_div: (5, 0) input and
    (5, 0) probability target must not crash (torch returns NaN).  arrayloss refuses an empty
    class axis with a ValueError (intentional: a softmax needs at least one class)."""
    torch, F = _peer()
    assert bool(torch.isnan(F.cross_entropy(torch.rand(5, 0), torch.rand(5, 0))))
    with pytest.raises(ValueError, match="class"):
        al.cross_entropy(torch.rand(5, 0), torch.rand(5, 0), axis=1)


# ---------------------------------------------------------------------------------------
# test/test_nn.py: TestNNDeviceType (CPU)


def test_dev_nll_loss_mismatched_batch() -> None:
    """test_nn.py::TestNNDeviceType::test_nll_loss_mismatched_batch: (10, 3) with (3,)."""
    torch, _ = _peer()
    with pytest.raises(ValueError, match="shape"):
        al.cross_entropy(torch.randn(10, 3), torch.zeros(3, dtype=torch.long), axis=1)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_dev_nll_loss_out_of_bounds_ignore_index(reduction: str) -> None:
    """test_nn.py::TestNNDeviceType::test_nll_loss_out_of_bounds_ignore_index: label 255 with
    ignore_index=255 works forward and backward; ignored rows get zero gradient."""
    torch, F = _peer()
    x = _t(torch, _rng(TDEV + "oob_ignore").standard_normal((6, 3))).requires_grad_()
    t = torch.tensor([0, 1, 255, 0, 1, 2])
    out = al.cross_entropy(x, t, axis=1, ignore_index=255, reduction=reduction)
    _close(out, F.cross_entropy(x, t, ignore_index=255, reduction=reduction))
    out.sum().backward()
    _close(x.grad[2], np.zeros(3))


def test_dev_nll_loss_invalid_target_dim() -> None:
    """test_nn.py::TestNNDeviceType::test_nll_loss_invalid_target_dim: (10, 3) with (10, 2)."""
    torch, _ = _peer()
    with pytest.raises(ValueError, match="shape"):
        al.cross_entropy(torch.randn(10, 3), torch.zeros(10, 2, dtype=torch.int64), axis=1)


def test_dev_nll_loss_invalid_weights() -> None:
    """test_nn.py::TestNNDeviceType::test_nll_loss_invalid_weights: class weights (4,) and
    (1, 3) for C = 3."""
    torch, _ = _peer()
    x = torch.randn(10, 3)
    t = torch.randint(0, 3, (10,))
    for w in (torch.rand(4), torch.rand(1, 3)):
        with pytest.raises(ValueError, match="class_weight"):
            al.cross_entropy(x, t, axis=1, class_weight=w)


_EMPTY_SHAPES = [(0, 3), (0, 3, 5, 7), (2, 3, 0, 7), (2, 3, 5, 0), (2, 3, 5, 7, 0)]


@pytest.mark.parametrize("shape", _EMPTY_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_dev_nll_loss_empty_tensor(shape: tuple[int, ...], reduction: str) -> None:
    """test_nn.py::TestNNDeviceType::test_nll_loss_empty_tensor_reduction_{none,mean,sum}:
    "none" has the empty label shape, "sum" is 0, "mean" is 0 in arrayloss (torch NaN:
    intentional empty-mean rule); the gradient has the input's shape."""
    torch, _ = _peer()
    x = torch.rand(shape, requires_grad=True)
    t = torch.randint(3, (shape[0], *shape[2:]))
    out = al.cross_entropy(x, t, axis=1, reduction=reduction)
    if reduction == "none":
        assert tuple(out.shape) == (shape[0], *shape[2:])
    else:
        _close(out, np.float64(0.0))  # torch: nan for "mean", 0 for "sum"
    out.sum().backward()
    assert x.grad.shape == x.shape
    assert bool((x.grad == 0).all())


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 5, 7), (2, 3, 5, 7, 9)], ids=str)
def test_dev_nll_loss_total_weight_is_zero(shape: tuple[int, ...]) -> None:
    """test_nn.py::TestNNDeviceType::test_nll_loss_total_weight_is_zero: all class weights 0:
    sum 0, none zeros, mean 0 (torch NaN: intentional empty-mean rule)."""
    torch, _ = _peer()
    x = torch.ones(shape, requires_grad=True)
    t = torch.zeros((shape[0], *shape[2:]), dtype=torch.long)
    w = torch.zeros(shape[1])
    _close(al.cross_entropy(x, t, axis=1, class_weight=w, reduction="sum"), np.float64(0.0))
    _close(al.cross_entropy(x, t, axis=1, class_weight=w, reduction="none"), np.zeros(t.shape))
    out = al.cross_entropy(x, t, axis=1, class_weight=w, reduction="mean")
    _close(out, np.float64(0.0))  # torch: nan
    out.backward()
    assert bool((x.grad == 0).all())


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 5, 7), (2, 3, 5, 7, 9)], ids=str)
def test_dev_nll_loss_all_ignored(shape: tuple[int, ...]) -> None:
    """test_nn.py::TestNNDeviceType::test_nll_loss_all_ignored: every label 0 with torch
    ignore_index=0 (relabelled -100): sum 0, none zeros, mean 0 (torch NaN: intentional)."""
    torch, _ = _peer()
    x = torch.ones(shape)
    t = torch.full((shape[0], *shape[2:]), -100, dtype=torch.long)
    kw = dict(axis=1, ignore_index=-100)
    _close(al.cross_entropy(x, t, reduction="sum", **kw), np.float64(0.0))
    _close(al.cross_entropy(x, t, reduction="none", **kw), np.zeros(t.shape))
    _close(al.cross_entropy(x, t, reduction="mean", **kw), np.float64(0.0))  # torch: nan


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_dev_nll_loss_byte_target_matches_long(reduction: str) -> None:
    """test_nn.py::TestNNDeviceType::test_nll_loss_byte_target_matches_long: uint8 labels
    give the value and gradient of int64 labels."""
    torch, _ = _peer()
    rng = _rng(TDEV + "byte_target")
    x = _t(torch, rng.standard_normal((10, 4)), torch.float32)
    t = _t(torch, rng.integers(0, 4, 10))

    def run(target: Any) -> tuple[Any, Any]:
        xi = x.detach().clone().requires_grad_()
        out = al.cross_entropy(xi, target, reduction=reduction)
        out.sum().backward()
        return out, xi.grad

    (o1, g1), (o2, g2) = run(t), run(t.to(torch.uint8))
    _close(o2, o1)
    _close(g2, g1)


def test_dev_cross_entropy_loss_2d_out_of_bounds_class_index() -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_loss_2d_out_of_bounds_class_index
    (CUDA device assert in torch; here on CPU, planes 8x8): a label 254 that is not the
    ignore_index 255 raises ValueError."""
    torch, _ = _peer()
    pred = torch.randn(10, 3, 8, 8)
    labels = torch.zeros(10, 8, 8, dtype=torch.int64)
    labels[5, 2, 2] = 254
    with pytest.raises(ValueError, match="254"):
        al.cross_entropy(pred, labels, axis=1, ignore_index=255, reduction="none")


def _kdims(rng: np.random.Generator, k: int) -> list[int]:
    return [int(rng.integers(2, 5)) for _ in range(k)]


def _ce_ref_prob(torch: Any, z: Any, q: Any, w: Any, reduction: str, ls: float = 0.0) -> Any:
    """common_nn.py cross_entropy_loss_prob_target_reference, restated."""
    logp = torch.log_softmax(z, 1)
    c = z.shape[1]
    wv = torch.ones(c, dtype=z.dtype) if w is None else w
    wv = wv.view(1, c, *([1] * (z.ndim - 2)))
    if ls > 0:
        q = q * (1 - ls) + ls / c
    out = -(logp * q * wv).sum(1)
    return out.mean() if reduction == "mean" else out.sum() if reduction == "sum" else out


@pytest.mark.parametrize("k", range(5))
def test_dev_cross_entropy_loss_prob_target_all_reductions(k: int) -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_loss_prob_target_all_reductions:
    N=5, C=4, k extra dims, target ``torch.randn`` (not probabilities: arrayloss refuses it,
    asserted; the formula is compared with value checks off), weight |randn(C)|."""
    torch, _ = _peer()
    rng = _rng(TDEV + f"prob_target_all_reductions_{k}")
    shape = (5, 4, *_kdims(rng, k))
    z = _t(torch, rng.standard_normal(shape))
    q = _t(torch, rng.standard_normal(shape))
    weight = _t(torch, np.abs(rng.standard_normal(4)))
    with pytest.raises(ValueError, match="target"):
        al.cross_entropy(z, q, axis=1)
    for reduction, w in itertools.product(("none", "mean", "sum"), (None, weight)):
        with al.options(validate=False):
            got = al.cross_entropy(z, q, axis=1, class_weight=w, reduction=reduction)
        _close(got, _ce_ref_prob(torch, z, q, w, reduction))


@pytest.mark.parametrize("target", ["prob", "index"])
@pytest.mark.parametrize("k", range(5))
def test_dev_cross_entropy_loss_unit_weights(k: int, target: str) -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_loss_{prob,index}_target_unit_weights:
    unit class weights equal no class weights (prob targets: randn, value checks off)."""
    torch, _ = _peer()
    rng = _rng(TDEV + f"unit_weights_{target}_{k}")
    shape = (5, 4, *_kdims(rng, k))
    z = _t(torch, rng.standard_normal(shape))
    if target == "prob":
        t = _t(torch, rng.standard_normal(shape))
    else:
        t = _t(torch, rng.integers(0, 4, (5, *shape[2:])))
    for reduction in ("none", "mean", "sum"):
        with al.options(validate=False):
            a = al.cross_entropy(z, t, axis=1, reduction=reduction)
            b = al.cross_entropy(z, t, axis=1, reduction=reduction, class_weight=torch.ones(4))
        _close(b, a)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_dev_cross_entropy_loss_prob_target_no_batch_dim(reduction: str, weighted: bool) -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_loss_prob_target_no_batch_dim: C=5,
    a 1-D input equals its batch of one.  The peer's weight is ``torch.randn(C)``: arrayloss
    refuses negative class weights (asserted), so |w| is used for the comparison."""
    torch, F = _peer()
    rng = _rng(TDEV + f"prob_no_batch_{reduction}_{weighted}")
    x = torch.log_softmax(_t(torch, rng.standard_normal(5)), -1)
    q = torch.softmax(_t(torch, rng.standard_normal(5)), -1)
    w = _t(torch, rng.standard_normal(5)) if weighted else None
    if weighted:
        if bool((w < 0).any()):
            with pytest.raises(ValueError, match="class_weight"):
                al.cross_entropy(x, q, axis=0, class_weight=w)
        w = w.abs()
    nob = al.cross_entropy(x, q, axis=0, class_weight=w, reduction=reduction)
    bat = al.cross_entropy(x[None], q[None], axis=1, class_weight=w, reduction=reduction)
    _close(nob, bat[0] if reduction == "none" else bat)
    _close(nob, F.cross_entropy(x, q, weight=w, reduction=reduction))


@pytest.mark.parametrize("k", range(5))
def test_dev_cross_entropy_loss_one_hot_target(k: int) -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_loss_one_hot_target: labels equal their
    channels-first one-hot probabilities.  The peer skips "mean" with class weights (the
    two target forms differ there in torch: labels divide by sum w[y], probabilities by N);
    arrayloss keeps the same two denominators (documented), asserted here."""
    torch, F = _peer()
    rng = _rng(TDEV + f"one_hot_{k}")
    shape = (5, 4, *_kdims(rng, k))
    z = _t(torch, rng.standard_normal(shape))
    t = _t(torch, rng.integers(0, 4, (5, *shape[2:])))
    weight = _t(torch, np.abs(rng.standard_normal(4)))
    onehot = F.one_hot(t, 4).movedim(-1, 1).double()
    for reduction, w in itertools.product(("none", "mean", "sum"), (None, weight)):
        a = al.cross_entropy(z, t, axis=1, class_weight=w, reduction=reduction)
        b = al.cross_entropy(z, onehot, axis=1, class_weight=w, reduction=reduction)
        if reduction == "mean" and w is not None:
            _close(a * w[t].sum() / t.numel(), b)
        else:
            _close(a, b)


def test_dev_cross_entropy_label_smoothing_errors() -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_label_smoothing_errors: 1.2 raises for
    label and probability targets."""
    torch, _ = _peer()
    for t in (torch.arange(0, 3), torch.softmax(torch.randn(3, 4), 1)):
        with pytest.raises(ValueError, match="label_smoothing"):
            al.cross_entropy(torch.randn(3, 4), t, axis=1, label_smoothing=1.2)


@pytest.mark.parametrize("ls", [0.05, 0.15])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("k", range(5))
def test_dev_cross_entropy_label_smoothing_consistent_index_target_and_probs(
        k: int, reduction: str, ls: float) -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_label_smoothing_consistent_index_
    target_and_probs: N=10, C=4; labels with smoothing == probabilities 1 - ls + ls/C on the
    label and ls/C elsewhere (rtol 1e-7, atol 1e-5)."""
    torch, F = _peer()
    rng = _rng(TDEV + f"ls_consistent_{k}_{reduction}_{ls}")
    shape = (10, 4, *_kdims(rng, k))
    z = _t(torch, rng.standard_normal(shape))
    t = _t(torch, rng.integers(0, 4, (10, *shape[2:])))
    onehot = F.one_hot(t, 4).movedim(-1, 1).double()
    q = torch.where(onehot == 1, 1 - ls + ls / 4, ls / 4)
    a = al.cross_entropy(z, q, axis=1, reduction=reduction)
    b = al.cross_entropy(z, t, axis=1, reduction=reduction, label_smoothing=ls)
    _close(a, b, rtol=1e-7, atol=1e-5)


@pytest.mark.parametrize("ls", [0.05, 0.15])
@pytest.mark.parametrize("k", range(5))
def test_dev_cross_entropy_label_smoothing_with_probs(k: int, ls: float) -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_label_smoothing_with_probs: smoothing a
    probability target == smoothing it by hand.  The peer's target is ``log_softmax(randn)``
    (negative values): arrayloss refuses it (asserted) and is compared with value checks off."""
    torch, _ = _peer()
    rng = _rng(TDEV + f"ls_with_probs_{k}_{ls}")
    shape = (10, 4, *_kdims(rng, k))
    z = _t(torch, rng.standard_normal(shape))
    q = torch.log_softmax(_t(torch, rng.standard_normal(shape)), 1)
    with pytest.raises(ValueError, match="target"):
        al.cross_entropy(z, q, axis=1, label_smoothing=ls)
    for reduction in ("none", "mean", "sum"):
        with al.options(validate=False):
            a = al.cross_entropy(z, q, axis=1, reduction=reduction, label_smoothing=ls)
            b = al.cross_entropy(z, q * (1 - ls) + ls / 4, axis=1, reduction=reduction)
        _close(a, b)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ls", [0.05, 0.15])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_dev_cross_entropy_label_smoothing_weight_ignore_indices(
        reduction: str, ls: float, weighted: bool) -> None:
    """test_nn.py::TestNNDeviceType::test_cross_entropy_label_smoothing_weight_ignore_indices:
    literal inputs; an ignored row's logits do not matter, and (mean/sum) dropping the ignored
    row changes nothing, for ignore_index -100 (passed explicitly), -2 and 2 (C = 2)."""
    torch, F = _peer()
    wgt = torch.tensor([0.3, 0.6]) if weighted else None
    inp1 = torch.tensor([[0.3, 0.4], [1.0, 2.0]])
    inp2 = torch.tensor([[0.3, 0.6], [1.0, 2.0]])
    for ii, targ in ((-100, torch.tensor([-100, 1])), (-2, torch.tensor([-2, 1])),
                     (2, torch.tensor([2, 1]))):
        def loss(x: Any, t: Any, ii: int = ii) -> Any:
            return al.cross_entropy(x, t, axis=1, class_weight=wgt, ignore_index=ii,
                                    label_smoothing=ls, reduction=reduction)
        l1 = loss(inp1, targ)
        _close(l1, loss(inp2, targ), rtol=1e-6)
        if reduction != "none":
            _close(l1, loss(inp2[1:], targ[1:]), rtol=1e-6)
        _close(l1, F.cross_entropy(inp1, targ, weight=wgt, ignore_index=ii, label_smoothing=ls,
                                   reduction=reduction), rtol=1e-6)


def test_dev_smoothl1loss_backward_zero_beta() -> None:
    """test_nn.py::TestNNDeviceType::test_smoothl1loss_backward_zero_beta: target == input,
    beta = 0, "sum": every gradient is within [-1, 1] (arrayloss: sign(0) = 0)."""
    torch, _ = _peer()
    x = _t(torch, _rng(TDEV + "zero_beta").standard_normal((300, 256)),
           torch.float32).requires_grad_()
    al.smooth_l1_loss(x, x.detach(), beta=0.0, reduction="sum").backward()
    assert float(x.grad.abs().max()) <= 1.0


def test_dev_softmax_forward_64bit_indexing_small() -> None:
    """test_nn.py::TestNNDeviceType::test_softmax_forward_64bit_indexing (CUDA, 70 x 2047 x
    50000 float16 in the peer; here 3 x 7 x 50): uniform float16 logits, labels 0, channels-
    first "none" gives log(V) everywhere, as float32 (amended contract)."""
    torch, _ = _peer()
    logits = torch.ones(3, 7, 50, dtype=torch.float16)
    labels = torch.zeros(3, 7, dtype=torch.long)
    nll = al.cross_entropy(logits.permute(0, 2, 1), labels, axis=1, reduction="none")
    assert nll.dtype == torch.float32
    _close(nll, np.full((3, 7), math.log(50)), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shape", [(5, 6), ()], ids=str)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_dev_nn_scalars_reductions(shape: tuple[int, ...], reduction: str) -> None:
    """test_nn.py::TestNNDeviceType::test_nn_scalars_reductions: BCE, L1, MSE, SmoothL1 on
    ``sigmoid(input)`` and a {0, 1} target: a reduced (or 0-d) result is 0-d, and the gradient
    has the input's shape (SoftMarginLoss: arrayloss has none)."""
    torch, _ = _peer()
    rng = _rng(TDEV + f"scalars_reductions_{shape}_{reduction}")
    for fn in (al.binary_cross_entropy, al.l1_loss, al.mse_loss, al.smooth_l1_loss):
        x = _t(torch, rng.standard_normal(shape), torch.float32).requires_grad_()
        target = _t(torch, rng.integers(0, 2, shape).astype(np.float32), torch.float32)
        out = fn(torch.sigmoid(x), target, reduction=reduction)
        if reduction != "none" or x.dim() == 0:
            assert tuple(out.shape) == ()
        else:
            assert tuple(out.shape) == shape
        out.sum().backward()
        assert x.grad.shape == x.shape


def test_dev_invalid_reduction_strings() -> None:
    """test_nn.py::TestNNDeviceType::test_invalid_reduction_strings: 'none' works, 'invalid'
    raises ValueError (for the losses arrayloss has; nll_loss and multilabel_soft_margin_loss
    through cross_entropy and binary_cross_entropy_with_logits)."""
    torch, _ = _peer()
    x = torch.randn(3, 5)
    target = torch.tensor([1, 0, 4])
    p = torch.sigmoid(x)
    calls = (
        lambda r: al.cross_entropy(x, target, axis=1, reduction=r),
        lambda r: al.kl_divergence(torch.log_softmax(x, 1), torch.softmax(x, 1), reduction=r),
        lambda r: al.huber_loss(x, x, reduction=r),
        lambda r: al.smooth_l1_loss(x, x, reduction=r),
        lambda r: al.l1_loss(x, x, reduction=r),
        lambda r: al.mse_loss(x, x, reduction=r),
        lambda r: al.binary_cross_entropy(p, x.gt(0).float(), reduction=r),
        lambda r: al.binary_cross_entropy_with_logits(x, p, reduction=r),
        lambda r: al.binary_cross_entropy_with_logits(x, torch.zeros_like(x), reduction=r),
    )
    for call in calls:
        call("none")
        with pytest.raises(ValueError, match="reduction"):
            call("invalid")


@pytest.mark.parametrize("beta", [1.0, 0.5, 1.5])
def test_dev_smooth_l1_loss_vs_huber_loss(beta: float) -> None:
    """test_nn.py::TestNNDeviceType::test_smooth_l1_loss_vs_huber_loss: beta = 1 gives equal
    losses, otherwise ``huber(delta=beta) == beta * smooth_l1(beta)``; shapes (2, 2), (64, 64)
    and a non-contiguous (64, 64) view; every reduction."""
    torch, _ = _peer()
    rng = _rng(TDEV + f"smooth_l1_vs_huber_{beta}")

    def make(shape: tuple[int, int], contiguous: bool = True) -> Any:
        if contiguous:
            return _t(torch, rng.standard_normal(shape), torch.float32)
        return _t(torch, rng.standard_normal((shape[0], 2 * shape[1])), torch.float32)[..., ::2]

    for shape, contiguous in (((2, 2), True), ((64, 64), True), ((64, 64), False)):
        x, y = make(shape, contiguous), make(shape, contiguous)
        for reduction in ("mean", "sum", "none"):
            sl1 = al.smooth_l1_loss(x, y, beta=beta, reduction=reduction)
            hub = al.huber_loss(x, y, delta=beta, reduction=reduction)
            _close(sl1 * beta, hub, rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 3, 1, 6), (1, 3, 1, 128), (1, 3, 128, 128)], ids=str)
def test_dev_smooth_l1_loss_bfloat16(shape: tuple[int, ...]) -> None:
    """test_nn.py::TestNNDeviceType::test_smooth_l1_loss_bfloat16: bfloat16 input and target
    against float32 on the same (rounded) values.  torch returns bfloat16; arrayloss computes
    in float32 and returns float32 (amended contract), so its value is the float32 one; the
    gradient keeps the input's dtype (bfloat16 tolerance)."""
    torch, _ = _peer()
    rng = _rng(TDEV + f"smooth_l1_bf16_{shape}")
    xb = _t(torch, rng.standard_normal(shape), torch.bfloat16).requires_grad_()
    tb = _t(torch, rng.standard_normal(shape), torch.bfloat16)
    xf = xb.detach().float().requires_grad_()
    out = al.smooth_l1_loss(xb, tb)
    out2 = al.smooth_l1_loss(xf, tb.float())
    assert out.dtype == torch.float32
    _close(out, out2, rtol=1e-6, atol=1e-7)
    out.sum().backward()
    out2.sum().backward()
    assert xb.grad.dtype == torch.bfloat16
    _close(xb.grad, xf.grad, rtol=1.6e-2, atol=1e-5)


_LOW_OPS = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
            "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div",
            "multi_margin_loss"]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", _LOW_OPS)
def test_opinfo_low_precision_dtypes(op: str, dtype: str) -> None:
    """common_methods_invocations.py OpInfo ``nn.functional.<op>``:
    ``dtypes=floating_types_and(torch.float16, torch.bfloat16)``, (S, S) sample.  arrayloss
    computes float16/bfloat16 in float32 and returns float32 (amended contract; torch returns
    the input dtype): the value is torch's float64 result on the same rounded inputs."""
    torch, F = _peer()
    rng = _rng(CMI + f"low_precision_{op}_{dtype}")
    low = getattr(torch, dtype)

    def rounded(a: np.ndarray) -> tuple[Any, Any]:
        lo = _t(torch, a, low)
        return lo, lo.double()

    x, x64 = rounded(rng.uniform(-9, 9, (S, S)))
    labels = _t(torch, rng.integers(0, S, S))
    if op in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"):
        y, y64 = rounded(rng.uniform(-9, 9, (S, S)))
        got, want = getattr(al, op)(x, y), getattr(F, op)(x64, y64)
    elif op == "binary_cross_entropy":
        x, x64 = rounded(rng.uniform(1e-2, 1 - 1e-2, (S, S)))
        y, y64 = rounded(rng.uniform(0, 1, (S, S)))
        got, want = al.binary_cross_entropy(x, y), F.binary_cross_entropy(x64, y64)
    elif op == "binary_cross_entropy_with_logits":
        y, y64 = rounded(rng.uniform(0, 1, (S, S)))
        got = al.binary_cross_entropy_with_logits(x, y)
        want = F.binary_cross_entropy_with_logits(x64, y64)
    elif op == "cross_entropy":
        got, want = al.cross_entropy(x, labels, axis=1), F.cross_entropy(x64, labels)
    elif op == "nll_loss":
        got = al.cross_entropy(x, labels, axis=1)
        want = F.nll_loss(F.log_softmax(x64, 1), labels)
    elif op == "kl_div":
        lq, lq64 = rounded(np.log(rng.dirichlet(np.ones(S), S)))
        p, p64 = rounded(rng.dirichlet(np.ones(S), S))
        got = al.kl_divergence(lq, p)
        want = F.kl_div(lq64, p64, reduction="batchmean")
    else:
        got = al.multiclass_hinge_loss(x, labels, mode="weston_watkins")
        want = S * F.multi_margin_loss(x64, labels)
    assert got.dtype == torch.float32
    _close(got, want, rtol=2e-6, atol=1e-6)
