"""segmentation_models_pytorch's own loss test cases, ported to arrayloss.

Every test names its source in ``qubvel-org/segmentation_models.pytorch`` (file
``tests/test_losses.py``). The input arrays and expected numbers are SMP's; SMP itself is not
needed (it is not a test dependency): its literal numbers are asserted, and where its test
compares two of its own calls, both calls are mapped. Where SMP's test has no literal
(random inputs), the SMP value is also computed here from SMP's formulas in float64.

Option mapping (SMP -> arrayloss):

- **modes**: ``"binary"`` -> ``axis=None`` (``pred`` and ``target`` of one shape; SMP's
  ``(N, 1, ...)`` views are reshaped to ``(N, -1)``); ``"multiclass"`` -> ``axis=1`` with integer
  labels ``(N, ...)``; ``"multilabel"`` -> ``axis=1`` with a dense target ``(N, C, ...)``.
- **activation**: ``from_logits=True`` (SMP's default) -> ``activation="softmax"``
  (multiclass) or ``"sigmoid"`` (binary, multilabel); ``from_logits=False`` ->
  ``activation=None``.
- **pooling**: SMP sums over ``dims=(0, 2)``, batch and pixels pooled per class:
  ``per_image=False``. The functional scores with ``dims=None`` pool everything (one image:
  ``axis=None`` on a ``(1, n)`` array); ``dims=[1]`` on ``(2, n)`` is ``per_image=True``, and
  the mean of SMP's per-row scores is 1 - arrayloss's mean loss.
- **smooth / eps**: the same meaning (``smooth`` in numerator and denominator, the
  denominator clamped at ``eps``); SMP's score functions take ``eps=1e-5`` in these tests.
- **absent classes**: SMP multiplies the loss of a class absent from the target by 0;
  arrayloss keeps it (loss 1 when the prediction puts mass on it, 0 when the prediction is
  empty too): intentional, documented in ``dice_loss``. Those rows assert arrayloss's value.
- **class_weights**: SMP normalises, ``sum(w * l) / sum(w)``: arrayloss's ``weight`` (one per
  class, on the ``(C,)`` result) with ``reduction="weighted_mean"``. arrayloss's own
  ``class_weight`` multiplies and divides by the entry count (MONAI semantics), so it is not
  scale invariant (asserted as well).
- **FocalLoss** (multiclass/multilabel) is one-vs-rest: the mean over classes of per-class
  sigmoid focal means, i.e. ``sigmoid_focal_loss`` on the one-hot target (``alpha=None``, SMP's
  class default). SMP's functional ``focal_loss_with_logits`` defaults to ``alpha=0.25``,
  arrayloss's default. ``softmax_focal_loss_with_logits`` is ``softmax_focal_loss``.
- **SoftCrossEntropyLoss(smooth_factor=s)** is ``cross_entropy(label_smoothing=s)``; SMP's mean
  divides by all rows, ignored included, arrayloss's by the non-ignored rows (intentional):
  SMP's value is arrayloss's ``"sum"`` / N.
- **SoftBCEWithLogitsLoss(smooth_factor=s)** moves targets to ``s`` and ``1 - s``: arrayloss's
  ``label_smoothing=2 s`` (the keras rule ``y (1 - ls) + ls / 2``). It has no ``ignore_index``:
  the mask is the ``weight`` (ignored targets set to 0) and SMP's mean over all elements is
  arrayloss's ``"sum"`` / N.

Not ported: ``MCCLoss`` (no arrayloss counterpart); SMP's test file has no Lovász case.
"""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from conftest import torch_or_skip as _torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = "qubvel-org/segmentation_models.pytorch"
F = "tests/test_losses.py::"

def _a(values, dtype=np.float32) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


# ---------------------------------------------------------------------------------------
# focal losses


def _np_sigmoid_focal(z, y, alpha, gamma=2.0):
    """Float64 sigmoid focal loss, elementwise (SMP's focal_loss_with_logits formula)."""
    z, y = np.asarray(z, np.float64), np.asarray(y, np.float64)
    bce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    loss = (1.0 - np.exp(-bce)) ** gamma * bce
    if alpha is not None:
        loss = loss * (alpha * y + (1 - alpha) * (1 - y))
    return loss


def test_focal_loss_from_logits_false_multiclass() -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::
    test_focal_loss_from_logits_false_multiclass: SMP's multiclass FocalLoss on logits, and on
    softmax probabilities with ``from_logits=False`` (which feeds ``log(clamp(p, 1e-7))`` to the
    same one-vs-rest sigmoid focal loss): both finite and within 0.2. The logits value is also
    checked against the float64 formula."""
    logits = _a([[0.0, 10.0, 0.0], [10.0, 0.0, 0.0], [0.0, 0.0, 10.0]], np.float64)
    labels = np.array([1, 0, 2])
    onehot = np.eye(3)[labels]
    e = np.exp(logits - logits.max(1, keepdims=True))
    probs = e / e.sum(1, keepdims=True)
    loss_logits = np.asarray(al.sigmoid_focal_loss(logits, onehot, alpha=None))
    loss_probs = np.asarray(al.sigmoid_focal_loss(np.log(np.clip(probs, 1e-7, 1 - 1e-7)), onehot,
                                                  alpha=None))
    assert np.isfinite(loss_logits) and np.isfinite(loss_probs)
    assert abs(float(loss_logits) - float(loss_probs)) < 0.2
    np.testing.assert_allclose(loss_logits, _np_sigmoid_focal(logits, onehot, None).mean(),
                               rtol=1e-10)


def test_focal_loss_with_logits() -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_focal_loss_with_logits:
    the binary focal loss (alpha 0.25, gamma 2, mean) of good logits [10, -10, 10] is below
    that of bad logits [-1, 2, 0] for targets [1, 0, 1]; values as SMP's formula."""
    target = np.array([1, 0, 1])
    good, bad = _a([10, -10, 10]), _a([-1, 2, 0])
    loss_good = al.sigmoid_focal_loss(good, target.astype(np.float32))
    loss_bad = al.sigmoid_focal_loss(bad, target.astype(np.float32))
    assert float(loss_good) < float(loss_bad)
    np.testing.assert_allclose(float(loss_good), _np_sigmoid_focal(good, target, 0.25).mean(),
                               rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(float(loss_bad), _np_sigmoid_focal(bad, target, 0.25).mean(),
                               rtol=1e-5)


def test_softmax_focal_loss_with_logits() -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::
    test_softmax_focal_loss_with_logits: softmax focal loss (gamma 2, mean over samples) of
    good logits below that of bad logits, labels [1, 0, 2]."""
    target = np.array([1, 0, 2])
    good = _a([[0, 10, 0], [10, 0, 0], [0, 0, 10]])
    bad = _a([[0, -10, 0], [0, 10, 0], [0, 0, 10]])
    loss_good = al.softmax_focal_loss(good, target)
    loss_bad = al.softmax_focal_loss(bad, target)
    assert np.isfinite(np.asarray(loss_bad))
    assert float(loss_good) < float(loss_bad)


# ---------------------------------------------------------------------------------------
# functional scores (score = 1 - loss)


def _score(fn, y_pred, y_true, eps, **kw) -> float:
    pred = _a(y_pred)
    pred = pred[None] if pred.ndim == 1 else pred
    true = _a(y_true)
    true = true[None] if true.ndim == 1 else true
    return 1.0 - float(fn(pred, true, axis=None, eps=eps, **kw))


@pytest.mark.parametrize(("y_true", "y_pred", "expected", "eps"), [
    pytest.param([1, 1, 1, 1], [1, 1, 1, 1], 1.0, 1e-5, id=f"{F}test_soft_jaccard_score-0"),
    pytest.param([0, 1, 1, 0], [0, 1, 1, 0], 1.0, 1e-5, id=f"{F}test_soft_jaccard_score-1"),
    pytest.param([1, 1, 1, 1], [1, 1, 0, 0], 0.5, 1e-5, id=f"{F}test_soft_jaccard_score-2"),
])
def test_soft_jaccard_score(y_true, y_pred, expected, eps) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_soft_jaccard_score
    (everything pooled: one row, ``axis=None``)."""
    assert _score(al.jaccard_loss, y_pred, y_true, eps) == pytest.approx(expected, eps)


@pytest.mark.parametrize(("y_true", "y_pred", "expected", "eps"), [
    pytest.param([[1, 1, 0, 0], [0, 0, 1, 1]], [[1, 1, 0, 0], [0, 0, 1, 1]], 1.0, 1e-5,
                 id=f"{F}test_soft_jaccard_score_2-0"),
    pytest.param([[1, 1, 0, 0], [0, 0, 1, 1]], [[0, 0, 1, 0], [0, 1, 0, 0]], 0.0, 1e-5,
                 id=f"{F}test_soft_jaccard_score_2-1"),
    pytest.param([[1, 1, 0, 0], [0, 0, 0, 1]], [[1, 1, 0, 0], [0, 0, 0, 0]], 0.5, 1e-5,
                 id=f"{F}test_soft_jaccard_score_2-2"),
])
def test_soft_jaccard_score_2(y_true, y_pred, expected, eps) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_soft_jaccard_score_2
    (``dims=[1]``: one score per row, averaged: ``per_image=True`` over the two rows)."""
    got = _score(al.jaccard_loss, y_pred, y_true, eps, per_image=True)
    assert got == pytest.approx(expected, eps)


@pytest.mark.parametrize(("y_true", "y_pred", "expected", "eps"), [
    pytest.param([1, 1, 1, 1], [1, 1, 1, 1], 1.0, 1e-5, id=f"{F}test_soft_dice_score-0"),
    pytest.param([0, 1, 1, 0], [0, 1, 1, 0], 1.0, 1e-5, id=f"{F}test_soft_dice_score-1"),
    pytest.param([1, 1, 1, 1], [1, 1, 0, 0], 2.0 / 3.0, 1e-5, id=f"{F}test_soft_dice_score-2"),
])
def test_soft_dice_score(y_true, y_pred, expected, eps) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_soft_dice_score."""
    assert _score(al.dice_loss, y_pred, y_true, eps) == pytest.approx(expected, eps)


@pytest.mark.parametrize(("y_true", "y_pred", "expected", "eps", "alpha", "beta"), [
    pytest.param([1, 1, 1, 1], [1, 1, 1, 1], 1.0, 1e-5, 0.5, 0.5,
                 id=f"{F}test_soft_tversky_score-0"),
    pytest.param([0, 1, 1, 0], [0, 1, 1, 0], 1.0, 1e-5, 0.5, 0.5,
                 id=f"{F}test_soft_tversky_score-1"),
    pytest.param([1, 1, 1, 1], [1, 1, 0, 0], 2.0 / 3.0, 1e-5, 0.5, 0.5,
                 id=f"{F}test_soft_tversky_score-2"),
])
def test_soft_tversky_score(y_true, y_pred, expected, eps, alpha, beta) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_soft_tversky_score
    (SMP's alpha weights false positives, beta false negatives: arrayloss's letters)."""
    got = _score(al.tversky_loss, y_pred, y_true, eps, alpha=alpha, beta=beta)
    assert got == pytest.approx(expected, eps)


# ---------------------------------------------------------------------------------------
# binary losses (from_logits=False, pooled)

# (case, y_pred, y_true, SMP's expected loss, arrayloss's expected loss)
BINARY_CASES = [
    ("ideal-0", [1.0, 1.0, 1.0], [1, 1, 1], 0.0, 0.0),
    ("ideal-1", [1.0, 0.0, 1.0], [1, 0, 1], 0.0, 0.0),
    ("ideal-2", [0.0, 0.0, 0.0], [0, 0, 0], 0.0, 0.0),
    # the target is empty and the prediction is not: SMP zeroes the absent class; arrayloss
    # keeps it, a false positive with no true pixel scores 0 (loss 1), as documented
    ("worst-0", [1.0, 1.0, 1.0], [0, 0, 0], 0.0, 1.0),
    ("worst-1", [1.0, 0.0, 1.0], [0, 1, 0], 1.0, 1.0),
    ("worst-2", [0.0, 0.0, 0.0], [1, 1, 1], 1.0, 1.0),
]


BINARY_TESTS = [(al.dice_loss, "test_dice_loss_binary"),
                (al.tversky_loss, "test_tversky_loss_binary"),
                (al.jaccard_loss, "test_binary_jaccard_loss")]


@pytest.mark.parametrize(("fn", "y_pred", "y_true", "smp", "ours"), [
    pytest.param(fn, *c[1:], id=f"{F}{test}-{c[0]}") for fn, test in BINARY_TESTS
    for c in BINARY_CASES])
def test_binary_overlap_losses(fn, y_pred, y_true, smp, ours) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_dice_loss_binary,
    test_tversky_loss_binary (alpha = beta = 0.5) and test_binary_jaccard_loss: binary mode,
    ``from_logits=False`` (``activation=None``), pooled (``per_image=False``), abs 1e-5. The
    Jaccard test's first ideal case is a single pixel [1] / [1]. Where SMP zeroes a class absent
    from the target ("worst-0": SMP 0.0), arrayloss's documented value 1.0 is asserted."""
    if fn is al.jaccard_loss and y_pred == [1.0, 1.0, 1.0] and y_true == [1, 1, 1]:
        y_pred, y_true = [1.0], [1]
    kw = dict(alpha=0.5, beta=0.5) if fn is al.tversky_loss else {}
    got = float(fn(_a(y_pred)[None], np.asarray(y_true)[None], axis=None, per_image=False, **kw))
    assert got == pytest.approx(ours, abs=1e-5)
    # float16 input: computed and returned in float32 (the amended dtype rule)
    half = fn(_a(y_pred, np.float16)[None], np.asarray(y_true)[None], axis=None, per_image=False,
              **kw)
    assert half.dtype == np.float32 and float(half) == pytest.approx(ours, abs=1e-5)
    if smp != ours:
        assert (smp, ours) == (0.0, 1.0) and float(np.sum(y_true)) == 0.0


@pytest.mark.parametrize(("y_pred", "y_true", "expected"), [
    pytest.param([[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]], [[0, 0, 1, 1]], 0.0,
                 id=f"{F}test_multiclass_jaccard_loss-ideal"),
    pytest.param([[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]], [[1, 1, 0, 0]], 1.0,
                 id=f"{F}test_multiclass_jaccard_loss-worst"),
    pytest.param([[[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]], [[1, 1, 0, 0]], 1.0 - 1.0 / 3.0,
                 id=f"{F}test_multiclass_jaccard_loss-one_third"),
])
def test_multiclass_jaccard_loss(y_pred, y_true, expected) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_multiclass_jaccard_loss:
    multiclass, ``from_logits=False``, probabilities (1, 2, 4) channels-first, labels (1, 4)."""
    got = al.jaccard_loss(_a(y_pred), np.asarray(y_true), axis=1, per_image=False)
    assert float(got) == pytest.approx(expected, abs=1e-5)


_ML_PRED = [[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]]


@pytest.mark.parametrize(("y_pred", "y_true", "expected"), [
    pytest.param(_ML_PRED, _ML_PRED, 0.0, id=f"{F}test_multilabel_jaccard_loss-ideal"),
    pytest.param(_ML_PRED, (1 - _a(_ML_PRED)).tolist(), 1.0,
                 id=f"{F}test_multilabel_jaccard_loss-worst"),
    pytest.param([[[0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]]],
                 [[[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]], 1.0 - 1.0 / 3.0,
                 id=f"{F}test_multilabel_jaccard_loss-one_third"),
])
def test_multilabel_jaccard_loss(y_pred, y_true, expected) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_multilabel_jaccard_loss:
    multilabel, ``from_logits=False``, dense (1, 2, 4) targets, classes on axis 1."""
    got = al.jaccard_loss(_a(y_pred), _a(y_true), axis=1, per_image=False)
    assert float(got) == pytest.approx(expected, abs=1e-5)


# ---------------------------------------------------------------------------------------
# soft cross-entropy / BCE


def test_soft_ce_loss() -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_soft_ce_loss:
    SoftCrossEntropyLoss(smooth_factor=0.1, ignore_index=-100) on +-9 logits, labels
    [0, 1, -100, 3]: 1.0125 (abs 1e-4). SMP divides by all 4 rows, the ignored one included:
    arrayloss's "sum" / 4; arrayloss's "mean" divides by the 3 counted rows (1.35, the value of
    each non-ignored row: 0.025 * 54; intentional)."""
    y_pred = _a([[+9, -9, -9, -9], [-9, +9, -9, -9], [-9, -9, +9, -9], [-9, -9, -9, +9]])
    y_true = np.array([0, 1, -100, 3])
    kw = dict(label_smoothing=0.1, ignore_index=-100)
    total = al.cross_entropy(y_pred, y_true, reduction="sum", **kw)
    assert float(total) / 4 == pytest.approx(1.0125, abs=1e-4)
    assert float(al.cross_entropy(y_pred, y_true, **kw)) == pytest.approx(1.35, abs=1e-4)


def test_soft_bce_loss() -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::test_soft_bce_loss:
    SoftBCEWithLogitsLoss(smooth_factor=0.1, ignore_index=-100) on logits [-9, 9, 1, 9, -9],
    targets [0, 1, -100, 1, 0]: 0.7201 (abs 1e-4). Mapping: ``label_smoothing=0.2`` (targets
    0.1 / 0.9), the non-ignored mask as ``weight``, SMP's mean over all 5 elements = "sum" / 5.
    The mean over the 4 counted elements is ``reduction="weighted_mean"`` (0.9001234)."""
    y_pred = _a([-9, 9, 1, 9, -9])
    y_true = np.array([0, 1, -100, 1, 0])
    valid = y_true != -100
    target = np.where(valid, y_true, 0).astype(np.float32)
    w = valid.astype(np.float32)
    total = al.binary_cross_entropy_with_logits(y_pred, target, label_smoothing=0.2, weight=w,
                                                reduction="sum")
    assert float(total) / 5 == pytest.approx(0.7201, abs=1e-4)
    wmean = al.binary_cross_entropy_with_logits(y_pred, target, label_smoothing=0.2, weight=w,
                                                reduction="weighted_mean")
    assert float(wmean) == pytest.approx(0.7201 * 5 / 4, abs=2e-4)


# ---------------------------------------------------------------------------------------
# class weights (random inputs, torch.manual_seed(0) as in SMP's tests)

OVERLAP = {"DiceLoss": al.dice_loss, "JaccardLoss": al.jaccard_loss,
           "TverskyLoss": al.tversky_loss}


def _seeded_inputs(multilabel: bool):
    """SMP's tensors: ``torch.manual_seed(0); randn(2, 3, 4, 4); randint(...)`` (float32)."""
    torch = _torch()
    torch.manual_seed(0)
    y_pred = torch.randn(2, 3, 4, 4)
    if multilabel:
        y_true = torch.randint(0, 2, (2, 3, 4, 4)).float()
    else:
        y_true = torch.randint(0, 3, (2, 4, 4))
    return torch, y_pred, y_true


def _smp_overlap(name, y_pred, y_true, multilabel, weights=None) -> float:
    """SMP's Dice/Jaccard/Tversky (from_logits, dims (0, 2), absent classes zeroed, weights
    normalised), float64, from its formulas."""
    z = y_pred.double().numpy().reshape(2, 3, -1)
    if multilabel:
        p = 1.0 / (1.0 + np.exp(-z))
        g = y_true.double().numpy().reshape(2, 3, -1)
    else:
        e = np.exp(z - z.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        g = np.moveaxis(np.eye(3)[y_true.numpy().reshape(2, -1)], -1, 1)
    sp, sg = p.sum((0, 2)), g.sum((0, 2))
    tp = (sp + sg - np.abs(p - g).sum((0, 2))) / 2
    a, b = {"DiceLoss": (0.5, 0.5), "JaccardLoss": (1.0, 1.0), "TverskyLoss": (0.5, 0.5)}[name]
    score = tp / np.maximum(tp + a * (sp - tp) + b * (sg - tp), 1e-7)
    loss = (1.0 - score) * (sg > 0)
    w = np.ones(3) if weights is None else np.asarray(weights, np.float64)
    return float((loss * w).sum() / w.sum())


def _overlap_call(torch, name, y_pred, y_true, multilabel, **kw):
    act = "sigmoid" if multilabel else "softmax"
    out = OVERLAP[name](y_pred, y_true, axis=1, activation=act, per_image=False, **kw)
    return float(out)


@pytest.mark.parametrize("name", list(OVERLAP))
@pytest.mark.parametrize("multilabel", [
    pytest.param(False, id=f"{F}test_class_weights_uniform_equivalent_to_no_weights_multiclass"),
    pytest.param(True, id=f"{F}test_class_weights_uniform_equivalent_to_no_weights_multilabel"),
])
def test_class_weights_uniform(name, multilabel) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::
    test_class_weights_uniform_equivalent_to_no_weights_multiclass / _multilabel: weights
    [1, 1, 1] give the unweighted loss (atol 1e-5), as ``class_weight`` and as SMP's normalised
    ``weight`` + "weighted_mean"; the unweighted value equals SMP's formula (every class is
    present in the seeded target, so SMP's zeroing of absent classes does not apply)."""
    torch, y_pred, y_true = _seeded_inputs(multilabel)
    plain = _overlap_call(torch, name, y_pred, y_true, multilabel)
    uniform = _overlap_call(torch, name, y_pred, y_true, multilabel, class_weight=[1.0, 1.0, 1.0])
    normalised = _overlap_call(torch, name, y_pred, y_true, multilabel,
                               weight=torch.ones(3), reduction="weighted_mean")
    assert uniform == pytest.approx(plain, abs=1e-5)
    assert normalised == pytest.approx(plain, abs=1e-5)
    assert plain == pytest.approx(_smp_overlap(name, y_pred, y_true, multilabel), abs=1e-5)


@pytest.mark.parametrize("name", list(OVERLAP))
def test_class_weights_nonuniform_changes_loss_multiclass(name) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::
    test_class_weights_nonuniform_changes_loss_multiclass: weights [1, 2, 0.5] change the loss
    (by more than 1e-6), as ``class_weight`` and as normalised ``weight``."""
    torch, y_pred, y_true = _seeded_inputs(False)
    plain = _overlap_call(torch, name, y_pred, y_true, False)
    weighted = _overlap_call(torch, name, y_pred, y_true, False, class_weight=[1.0, 2.0, 0.5])
    normalised = _overlap_call(torch, name, y_pred, y_true, False,
                               weight=torch.tensor([1.0, 2.0, 0.5]), reduction="weighted_mean")
    assert abs(weighted - plain) > 1e-6
    assert abs(normalised - plain) > 1e-6


@pytest.mark.parametrize("name", list(OVERLAP))
def test_class_weights_scale_invariant_multiclass(name) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::
    test_class_weights_scale_invariant_multiclass: weights [1, 2, 0.5] and [10, 20, 5] give the
    same loss (atol 1e-5) with SMP's normalisation (``weight`` + "weighted_mean"), equal to
    SMP's formula. arrayloss's ``class_weight`` (multiply, divide by the entry count) scales
    with the weights instead: intentional, asserted too."""
    torch, y_pred, y_true = _seeded_inputs(False)
    w, w10 = [1.0, 2.0, 0.5], [10.0, 20.0, 5.0]
    a = _overlap_call(torch, name, y_pred, y_true, False, weight=torch.tensor(w),
                      reduction="weighted_mean")
    b = _overlap_call(torch, name, y_pred, y_true, False, weight=torch.tensor(w10),
                      reduction="weighted_mean")
    assert b == pytest.approx(a, abs=1e-5)
    assert a == pytest.approx(_smp_overlap(name, y_pred, y_true, False, w), abs=1e-5)
    c = _overlap_call(torch, name, y_pred, y_true, False, class_weight=w)
    c10 = _overlap_call(torch, name, y_pred, y_true, False, class_weight=w10)
    assert c10 == pytest.approx(10 * c, rel=1e-5)


@pytest.mark.parametrize("name", list(OVERLAP))
def test_class_weights_binary_mode_raises(name) -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::
    test_class_weights_binary_mode_raises: class weights in binary mode (``axis=None``) raise
    ValueError."""
    pred = np.full((1, 4), 0.5)
    target = np.array([[1, 0, 1, 0]])
    with pytest.raises(ValueError, match="class_weight"):
        OVERLAP[name](pred, target, axis=None, class_weight=[1.0, 2.0])


def _smp_focal(torch, y_pred, y_true, weights=None, reduction="mean"):
    """SMP's multiclass FocalLoss: one-vs-rest sigmoid focal (alpha None), one-hot target,
    classes on axis 1; class weights as a broadcast ``weight``."""
    onehot = torch.movedim(torch.nn.functional.one_hot(y_true, 3), -1, 1).float()
    kw = {} if weights is None else {"weight": torch.tensor(weights).reshape(1, 3, 1, 1)}
    return float(al.sigmoid_focal_loss(y_pred, onehot, alpha=None, reduction=reduction, **kw))


def test_focal_class_weights_uniform_equivalent_to_no_weights() -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::
    test_focal_class_weights_uniform_equivalent_to_no_weights: weights [1, 1, 1] give the
    unweighted FocalLoss (atol 1e-5); the value equals SMP's formula (mean over classes of the
    per-class sigmoid focal means)."""
    torch, y_pred, y_true = _seeded_inputs(False)
    plain = _smp_focal(torch, y_pred, y_true)
    uniform = _smp_focal(torch, y_pred, y_true, [1.0, 1.0, 1.0], reduction="weighted_mean")
    assert uniform == pytest.approx(plain, abs=1e-5)
    onehot = np.moveaxis(np.eye(3)[y_true.numpy()], -1, 1)
    per_class = _np_sigmoid_focal(y_pred.double().numpy(), onehot, None).mean(axis=(0, 2, 3))
    assert plain == pytest.approx(per_class.mean(), abs=1e-6)


def test_focal_class_weights_scale_invariant() -> None:
    """qubvel-org/segmentation_models.pytorch tests/test_losses.py::
    test_focal_class_weights_scale_invariant: weights [1, 2, 0.5] and [10, 20, 5] give the same
    FocalLoss (atol 1e-5): ``sum_c w_c L_c / sum_c w_c`` is arrayloss's "weighted_mean" with the
    weights broadcast over the pixels; equal to SMP's formula."""
    torch, y_pred, y_true = _seeded_inputs(False)
    a = _smp_focal(torch, y_pred, y_true, [1.0, 2.0, 0.5], reduction="weighted_mean")
    b = _smp_focal(torch, y_pred, y_true, [10.0, 20.0, 5.0], reduction="weighted_mean")
    assert b == pytest.approx(a, abs=1e-5)
    onehot = np.moveaxis(np.eye(3)[y_true.numpy()], -1, 1)
    per_class = _np_sigmoid_focal(y_pred.double().numpy(), onehot, None).mean(axis=(0, 2, 3))
    w = np.array([1.0, 2.0, 0.5])
    assert a == pytest.approx(float((per_class * w).sum() / w.sum()), abs=1e-6)
