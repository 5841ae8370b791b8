"""Keras 3's own loss test cases, ported to arrayloss.

Each test below re-states one test case of keras-team/keras
(``keras/src/losses/losses_test.py``, keras 3.15.1) for the arrayloss function that matches
the Keras loss: the same inputs, Keras's options mapped onto arrayloss's, and the same expected
numbers (literals from the Keras test, or the Keras test's NumPy reference formula rewritten
here). Test ids and docstrings name the source as ``<TestClass>::<test>`` of that file.

Mapping (Keras -> arrayloss):

- **Argument order.** Keras calls ``loss(y_true, y_pred)``; arrayloss takes
  ``(pred, target)``.
- **Reductions.** Keras losses first reduce over the last axis (a per-sample *mean* for the
  elementwise losses ``mean_squared_error``, ``mean_absolute_error``, ``hinge``,
  ``squared_hinge``, ``huber``, ``log_cosh``, ``binary_crossentropy``,
  ``binary_focal_crossentropy``; a *sum* over the class axis for ``kl_divergence`` and the
  categorical losses), then apply the ``reduction`` to those per-sample values:

  * ``"sum_over_batch_size"`` (Keras's default) is ``"mean"``: the mean of per-sample means
    equals the mean over all elements when every sample has the same size and weights are
    per sample;
  * ``"sum"`` is ``"sum"`` divided by the size of the last axis for the elementwise losses,
    and ``"sum"`` for the class-axis losses;
  * ``None`` is ``"none"`` averaged over the last axis for the elementwise losses, and
    ``"none"`` for the class-axis losses;
  * ``"mean_with_sample_weight"`` is ``"weighted_mean"`` (``sum(w l) / sum(w)``).

- **sample_weight.** A per-sample weight of shape ``(N,)`` or ``(N, 1)`` becomes ``weight`` of
  shape ``(N, 1)`` (broadcast along the last axis of an elementwise loss) or ``(N,)`` (a loss
  with one value per sample); a scalar becomes a 0-d array; a per-timestep weight of shape
  ``(N, T)`` for ``(N, T, 1)`` inputs becomes ``(N, T, 1)``.
- **Probabilities.** Keras's categorical losses take probabilities (normalised along the
  class axis, then clipped at 1e-7) or logits; arrayloss's ``cross_entropy`` and
  ``softmax_focal_loss`` take logits, so probabilities ``p`` are passed as ``log(p)`` (whose
  log-softmax is ``log(p / sum p)``, Keras's normalisation; a zero probability is a ``-inf``
  logit, a masked class). ``binary_focal_crossentropy`` on probabilities is
  ``sigmoid_focal_loss`` on ``logit(p)`` (probability 1 is logit ``+inf``, whose loss is the
  limit). ``binary_crossentropy`` on probabilities is ``binary_cross_entropy`` (arrayloss
  clips at float32's epsilon 1.19e-7, which is what Keras's 1e-7 clip becomes in float32).
- **Labels.** ``hinge``/``squared_hinge`` take {0, 1} labels that Keras silently converts;
  arrayloss takes {-1, +1} (``2 y - 1``) or bool. Sparse labels with a trailing axis of size 1
  (Keras squeezes it) are passed without that axis; ``ignore_class`` is ``ignore_index``.
- **Options.** ``binary_focal_crossentropy`` without class balancing is
  ``sigmoid_focal_loss(alpha=None)``; ``categorical_focal_crossentropy(alpha=a)`` multiplies
  every class by ``a``: ``softmax_focal_loss(alpha=[a] * C)``, and its ``label_smoothing`` is a
  smoothed dense target ``(1 - ls) y + ls / C``. Keras's ``tversky(alpha, beta)`` puts alpha on
  the false negatives (``sum(y_true (1 - y_pred))``) and beta on the false positives;
  arrayloss's ``tversky_loss`` puts alpha on the false positives, so Keras's ``(alpha, beta)``
  is arrayloss's ``(alpha=beta_keras, beta=alpha_keras)``. Keras's ``dice``/``tversky`` with
  ``axis=None`` pool every element (``axis=None, per_image=False``); ``axis=(1, 2, 3)`` gives one
  value per sample (``axis=None, per_image=True, reduction="none"``).
- **dtype.** Keras's ``dtype="bfloat16"`` computes and returns bfloat16; arrayloss has no dtype
  option: bfloat16 inputs are computed in float32 and the result stays float32 (a loss value
  in bfloat16 has 3 significant digits).

Deliberate differences (arrayloss's behaviour is asserted, with the reason beside it): no
silent broadcasting or squeezing of ``y_true`` against ``y_pred`` (``ValueError``),
probability-form overlap losses refuse values outside ``[0, 1]``.
"""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from arrayloss.testing import backends
from conftest import require_backend

pytestmark = pytest.mark.usefixtures("one_torch_thread")

F32 = np.float32


# Keras's assertion tolerances: assertAlmostEqual(decimal=3) and assertAllClose(1e-6, 1e-6)
def _almost(actual, desired, decimal: int = 3) -> None:
    np.testing.assert_almost_equal(np.asarray(actual, dtype=np.float64), desired,
                                   decimal=decimal)


def _close(actual, desired, atol: float = 1e-6, rtol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), desired, atol=atol,
                               rtol=rtol)


def _w(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _log(p) -> np.ndarray:
    """Probabilities as logits for the softmax losses (0 -> -inf, a masked class)."""
    with np.errstate(divide="ignore"):
        return np.log(p)


def _logit(p) -> np.ndarray:
    """Probabilities as logits for the sigmoid losses (0 -> -inf, 1 -> +inf)."""
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def _elementwise(fn, y_pred, y_true, reduction="sum_over_batch_size", sample_weight=None,
                 **kw):
    """An elementwise arrayloss loss, reduced as Keras reduces its per-sample means."""
    d = np.shape(y_pred)[-1]
    w = None if sample_weight is None else _w(sample_weight)
    if reduction == "sum_over_batch_size":
        return fn(y_pred, y_true, weight=w, reduction="mean", **kw)
    if reduction == "sum":
        return fn(y_pred, y_true, weight=w, reduction="sum", **kw) / d
    if reduction is None:
        return np.mean(fn(y_pred, y_true, weight=w, reduction="none", **kw), axis=-1)
    assert reduction == "mean_with_sample_weight"
    return fn(y_pred, y_true, weight=w, reduction="weighted_mean", **kw)


# =========================================================================================
# MeanSquaredErrorTest / MeanAbsoluteErrorTest

YT = np.array([[1, 9, 2], [-5, -2, 6]])
YP = np.array([[4, 8, 12], [8, 1, 3]], dtype=F32)
YT3 = np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1)
YP3 = np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1)
TIMESTEP_W = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3, 1))  # keras: (2, 3)
ROW_W = np.array([[1.2], [3.4]])

MEAN_ERROR_CASES = [
    # (keras test, arrayloss fn, reduction, sample_weight, expected)
    ("MeanSquaredErrorTest::test_unweighted", "mse", "sum_over_batch_size", None, 49.5),
    ("MeanSquaredErrorTest::test_scalar_weighted", "mse", "sum_over_batch_size", 2.3, 113.85),
    ("MeanSquaredErrorTest::test_sample_weighted", "mse", "sum_over_batch_size", ROW_W,
     767.8 / 6),
    ("MeanSquaredErrorTest::test_zero_weighted", "mse", "sum_over_batch_size", 0, 0.0),
    ("MeanSquaredErrorTest::test_no_reduction", "mse", None, 2.3, [84.3333, 143.3666]),
    ("MeanSquaredErrorTest::test_sum_reduction", "mse", "sum", 2.3, 227.69998),
    ("MeanSquaredErrorTest::test_mean_with_sample_weight_reduction", "mse",
     "mean_with_sample_weight", ROW_W, (110 / 3 * 1.2 + 187 / 3 * 3.4) / (1.2 + 3.4)),
    ("MeanAbsoluteErrorTest::test_unweighted", "mae", "sum_over_batch_size", None, 5.5),
    ("MeanAbsoluteErrorTest::test_scalar_weighted", "mae", "sum_over_batch_size", 2.3, 12.65),
    ("MeanAbsoluteErrorTest::test_sample_weighted", "mae", "sum_over_batch_size", ROW_W,
     81.4 / 6),
    ("MeanAbsoluteErrorTest::test_zero_weighted", "mae", "sum_over_batch_size", 0, 0.0),
    ("MeanAbsoluteErrorTest::test_no_reduction", "mae", None, 2.3, [10.7333, 14.5666]),
    ("MeanAbsoluteErrorTest::test_sum_reduction", "mae", "sum", 2.3, 25.29999),
    ("MeanAbsoluteErrorTest::test_mean_with_sample_weight_reduction", "mae",
     "mean_with_sample_weight", ROW_W, (14 / 3 * 1.2 + 19 / 3 * 3.4) / (1.2 + 3.4)),
]
_MEAN_ERROR_FN = {"mse": al.mse_loss, "mae": al.l1_loss}


@pytest.mark.parametrize(("case", "fn", "reduction", "sample_weight", "expected"),
                         MEAN_ERROR_CASES, ids=[c[0] for c in MEAN_ERROR_CASES])
def test_mean_error(case, fn, reduction, sample_weight, expected) -> None:
    """keras/src/losses/losses_test.py::<case> (MeanSquaredError = mse_loss,
    MeanAbsoluteError = l1_loss)"""
    out = _elementwise(_MEAN_ERROR_FN[fn], YP, YT, reduction, sample_weight)
    _almost(out, expected)


@pytest.mark.parametrize(("fn", "expected"), [("mse", 97.833336), ("mae", 13.833333)],
                         ids=["MeanSquaredErrorTest::test_timestep_weighted",
                              "MeanAbsoluteErrorTest::test_timestep_weighted"])
def test_mean_error_timestep_weighted(fn, expected) -> None:
    """keras/src/losses/losses_test.py::Mean{Squared,Absolute}ErrorTest::
    test_timestep_weighted (inputs (2, 3, 1), weights per time step)"""
    _almost(_MEAN_ERROR_FN[fn](YP3, YT3, weight=_w(TIMESTEP_W)), expected)


@pytest.mark.parametrize("fn", ["mse", "mae"],
                         ids=["MeanSquaredErrorTest::test_all_correct_unweighted",
                              "MeanAbsoluteErrorTest::test_all_correct_unweighted"])
def test_mean_error_all_correct_unweighted(fn) -> None:
    """keras/src/losses/losses_test.py::Mean{Squared,Absolute}ErrorTest::
    test_all_correct_unweighted (integer inputs)"""
    y = np.array([[4, 8, 12], [8, 1, 3]])
    _almost(_MEAN_ERROR_FN[fn](y, y), 0.0)


def test_mean_squared_error_base_function_reduction() -> None:
    """keras/src/losses/losses_test.py::MeanSquaredErrorTest::test_base_function_reduction

    Deliberate difference: Keras squeezes/broadcasts ``y_true`` (3,) against ``y_pred``
    (3, 1) and returns 3 values; arrayloss never broadcasts ``pred`` against ``target``."""
    y_true = np.array([4, 8, 12])
    y_pred = np.array([[3], [0], [1]])
    with pytest.raises(ValueError):
        al.mse_loss(y_pred, y_true, reduction="none")
    assert al.mse_loss(y_pred[:, 0], y_true, reduction="none").shape == (3,)


# =========================================================================================
# MeanAbsolutePercentageErrorTest / MeanSquaredLogarithmicErrorTest

PERCENT_LOG_CASES = [
    # (keras test, arrayloss fn, reduction, sample_weight, expected)
    ("MeanAbsolutePercentageErrorTest::test_unweighted", "mape", "sum_over_batch_size", None,
     211.8518),
    ("MeanAbsolutePercentageErrorTest::test_scalar_weighted", "mape", "sum_over_batch_size",
     2.3, 487.259),
    ("MeanAbsolutePercentageErrorTest::test_sample_weighted", "mape", "sum_over_batch_size",
     ROW_W, 422.8888),
    ("MeanAbsolutePercentageErrorTest::test_zero_weighted", "mape", "sum_over_batch_size", 0,
     0.0),
    ("MeanAbsolutePercentageErrorTest::test_no_reduction", "mape", None, 2.3,
     [621.8518, 352.6666]),
    ("MeanSquaredLogarithmicErrorTest::test_unweighted", "msle", "sum_over_batch_size", None,
     1.4370),
    ("MeanSquaredLogarithmicErrorTest::test_scalar_weighted", "msle", "sum_over_batch_size",
     2.3, 3.3051),
    ("MeanSquaredLogarithmicErrorTest::test_sample_weighted", "msle", "sum_over_batch_size",
     ROW_W, 3.7856),
    ("MeanSquaredLogarithmicErrorTest::test_zero_weighted", "msle", "sum_over_batch_size", 0,
     0.0),
]


@pytest.mark.parametrize(("case", "fn", "reduction", "sample_weight", "expected"),
                         PERCENT_LOG_CASES, ids=[c[0] for c in PERCENT_LOG_CASES])
def test_percentage_and_log_error(case, fn, reduction, sample_weight, expected) -> None:
    """keras/src/losses/losses_test.py::<case> (MeanAbsolutePercentageError = mape_loss,
    MeanSquaredLogarithmicError = msle_loss).

    Deliberate difference: the test's targets -5 and -2 are refused by ``msle_loss``
    (``ValueError``; Keras floors them at 1e-7); with value checks off they count as 0, within
    ``2e-7 |log1p(p) - log1p(y)|`` of Keras's value."""
    if fn == "mape":
        out = _elementwise(al.mape_loss, YP, YT, reduction, sample_weight)
    else:
        with pytest.raises(ValueError, match=r"msle_loss: `target` must hold values >= 0"):
            al.msle_loss(YP, YT)
        with al.options(validate=False):
            out = _elementwise(al.msle_loss, YP, YT, reduction, sample_weight)
    _almost(out, expected)


def test_mean_absolute_percentage_error_all_correct_unweighted() -> None:
    """keras/src/losses/losses_test.py::MeanAbsolutePercentageErrorTest::
    test_all_correct_unweighted (integer inputs)"""
    y = np.array([[4, 8, 12], [8, 1, 3]])
    _almost(al.mape_loss(y, y), 0.0)


# =========================================================================================
# HingeTest / SquaredHingeTest / CategoricalHingeTest

HINGE_T = np.array([[0.0, 1.0], [0.0, 0.0]])
HINGE_P = np.array([[0.6, 0.4], [0.4, 0.6]])
HINGE_W = np.array([1, 0]).reshape(2, 1)  # keras sample_weight [1, 0]

HINGE_CASES = [
    # (keras test, squared, reduction, weighted, expected, decimal)
    ("HingeTest::test_unweighted[sum_over_batch_size]", False, "sum_over_batch_size", False,
     1.3, 3),
    ("HingeTest::test_unweighted[sum]", False, "sum", False, 2.6, 3),
    ("HingeTest::test_unweighted[None]", False, None, False, [1.1, 1.5], 6),
    ("HingeTest::test_weighted[sum_over_batch_size]", False, "sum_over_batch_size", True,
     0.55, 3),
    ("HingeTest::test_weighted[sum]", False, "sum", True, 1.1, 3),
    ("HingeTest::test_weighted[None]", False, None, True, [1.1, 0.0], 3),
    ("SquaredHingeTest::test_unweighted[sum_over_batch_size]", True, "sum_over_batch_size",
     False, 1.86, 3),
    ("SquaredHingeTest::test_unweighted[sum]", True, "sum", False, 3.72, 3),
    ("SquaredHingeTest::test_unweighted[None]", True, None, False, [1.46, 2.26], 6),
    ("SquaredHingeTest::test_weighted[sum_over_batch_size]", True, "sum_over_batch_size",
     True, 0.73, 3),
    ("SquaredHingeTest::test_weighted[sum]", True, "sum", True, 1.46, 3),
    ("SquaredHingeTest::test_weighted[None]", True, None, True, [1.46, 0.0], 3),
]


@pytest.mark.parametrize(("case", "squared", "reduction", "weighted", "expected", "decimal"),
                         HINGE_CASES, ids=[c[0] for c in HINGE_CASES])
def test_hinge(case, squared, reduction, weighted, expected, decimal) -> None:
    """keras/src/losses/losses_test.py::<case> ({0, 1} labels: 2 y - 1 for hinge_loss, bool
    for squared_hinge_loss)"""
    fn = al.squared_hinge_loss if squared else al.hinge_loss
    target = HINGE_T.astype(bool) if squared else 2.0 * HINGE_T - 1.0
    out = _elementwise(fn, HINGE_P, target, reduction, HINGE_W if weighted else None)
    _almost(out, expected, decimal=decimal)


@pytest.mark.parametrize("squared", [False, True],
                         ids=["HingeTest::test_unweighted[bad reduction]",
                              "SquaredHingeTest::test_unweighted[bad reduction]"])
def test_hinge_bad_reduction(squared) -> None:
    """keras/src/losses/losses_test.py::{Hinge,SquaredHinge}Test::test_unweighted
    (reduction="abc" raises ValueError)"""
    fn = al.squared_hinge_loss if squared else al.hinge_loss
    with pytest.raises(ValueError, match="reduction"):
        fn(HINGE_P, 2.0 * HINGE_T - 1.0, reduction="abc")


@pytest.mark.parametrize("squared", [False, True],
                         ids=["HingeTest::test_zero_weighted",
                              "SquaredHingeTest::test_zero_weighted"])
def test_hinge_zero_weighted(squared) -> None:
    """keras/src/losses/losses_test.py::{Hinge,SquaredHinge}Test::test_zero_weighted"""
    fn = al.squared_hinge_loss if squared else al.hinge_loss
    assert float(fn(HINGE_P, 2.0 * HINGE_T - 1.0, weight=_w(0.0))) == 0.0


# Keras's categorical_hinge on one-hot y_true is max(0, 1 + max_{j != y} f_j - f_y) (the
# Crammer-Singer hinge, multiclass_hinge_loss) whenever a wrong-class score is >= 0. Its test
# input has a second row with an all-zero y_true (no class), which integer labels cannot say:
# it is left out where it counts and given weight 0 (any label) where Keras weights it 0.
CH_LABELS = np.array([1, 0])


def test_categorical_hinge_unweighted() -> None:
    """keras/src/losses/losses_test.py::CategoricalHingeTest::test_unweighted (row 0 only:
    row 1 of y_true is all zeros, no label)"""
    out = al.multiclass_hinge_loss(HINGE_P[:1], CH_LABELS[:1], reduction="none")
    _close(out, [1.2])


@pytest.mark.parametrize(("reduction", "expected"),
                         [("mean", 0.6), ("sum", 1.2), ("none", [1.2, 0.0])],
                         ids=["sum_over_batch_size", "sum", "None"])
def test_categorical_hinge_weighted(reduction, expected) -> None:
    """keras/src/losses/losses_test.py::CategoricalHingeTest::test_weighted (sample_weight
    [1, 0]: the label-less row 1 weighs 0)"""
    out = al.multiclass_hinge_loss(HINGE_P, CH_LABELS, weight=_w([1, 0]), reduction=reduction)
    _almost(out, expected)


def test_categorical_hinge_zero_weighted() -> None:
    """keras/src/losses/losses_test.py::CategoricalHingeTest::test_zero_weighted"""
    assert float(al.multiclass_hinge_loss(HINGE_P, CH_LABELS, weight=_w(0.0))) == 0.0


# =========================================================================================
# HuberLossTest / LogCoshTest (Keras computes the expected values with NumPy formulas)

HUBER_P = np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]])
HUBER_T = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def _huber_ref(y_true, y_pred, delta=1.0):
    a = np.abs(np.asarray(y_pred, dtype=np.float64) - y_true)
    q = np.minimum(a, delta)
    return 0.5 * q * q + delta * (a - q)


def _log_cosh_ref(y_true, y_pred):
    e = np.asarray(y_pred, dtype=np.float64) - y_true
    return np.logaddexp(e, -e) - np.log(2.0)


def test_huber_all_correct() -> None:
    """keras/src/losses/losses_test.py::HuberLossTest::test_all_correct"""
    _almost(al.huber_loss(HUBER_T, HUBER_T), 0.0)


def test_huber_unweighted() -> None:
    """keras/src/losses/losses_test.py::HuberLossTest::test_unweighted"""
    _almost(al.huber_loss(HUBER_P, HUBER_T), _huber_ref(HUBER_T, HUBER_P).sum() / 6)


def test_huber_scalar_weighted() -> None:
    """keras/src/losses/losses_test.py::HuberLossTest::test_scalar_weighted (twice: same
    output)"""
    first = al.huber_loss(HUBER_P, HUBER_T, weight=_w(2.3))
    _almost(first, 2.3 * _huber_ref(HUBER_T, HUBER_P).sum() / 6)
    _almost(al.huber_loss(HUBER_P, HUBER_T, weight=_w(2.3)), float(first))


def test_huber_sample_weighted() -> None:
    """keras/src/losses/losses_test.py::HuberLossTest::test_sample_weighted"""
    w = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape((2, 3))
    _almost(al.huber_loss(HUBER_P, HUBER_T, weight=_w(ROW_W)),
            np.sum(_huber_ref(HUBER_T, HUBER_P) * w) / 6)


def test_huber_timestep_weighted() -> None:
    """keras/src/losses/losses_test.py::HuberLossTest::test_timestep_weighted"""
    p, t = HUBER_P.reshape((2, 3, 1)), HUBER_T.reshape((2, 3, 1))
    _almost(al.huber_loss(p, t, weight=_w(TIMESTEP_W)),
            np.sum(_huber_ref(t, p) * TIMESTEP_W) / 6)


def test_huber_zero_weighted() -> None:
    """keras/src/losses/losses_test.py::HuberLossTest::test_zero_weighted"""
    _almost(al.huber_loss(HUBER_P, HUBER_T, weight=_w(0)), 0.0)


def test_huber_non_default_delta() -> None:
    """keras/src/losses/losses_test.py::HuberLossTest::test_non_default_delta (delta=0.8)"""
    _almost(al.huber_loss(HUBER_P, HUBER_T, delta=0.8, weight=_w(2.3)),
            2.3 * _huber_ref(HUBER_T, HUBER_P, 0.8).sum() / 6)


LC_T = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=F32)
LC_P = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=F32)


def test_log_cosh_unweighted() -> None:
    """keras/src/losses/losses_test.py::LogCoshTest::test_unweighted"""
    _almost(al.log_cosh_loss(LC_P, LC_T), _log_cosh_ref(LC_T, LC_P).sum() / 6)


def test_log_cosh_scalar_weighted() -> None:
    """keras/src/losses/losses_test.py::LogCoshTest::test_scalar_weighted (twice: same
    output)"""
    first = al.log_cosh_loss(LC_P, LC_T, weight=_w(2.3))
    _almost(first, 2.3 * _log_cosh_ref(LC_T, LC_P).sum() / 6)
    _almost(al.log_cosh_loss(LC_P, LC_T, weight=_w(2.3)), float(first))


def test_log_cosh_sample_weighted() -> None:
    """keras/src/losses/losses_test.py::LogCoshTest::test_sample_weighted (keras weight
    [1.2, 3.4] per sample)"""
    w = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape((2, 3))
    _almost(al.log_cosh_loss(LC_P, LC_T, weight=_w([1.2, 3.4]).reshape(2, 1)),
            np.sum(_log_cosh_ref(LC_T, LC_P) * w) / 6)


def test_log_cosh_timestep_weighted() -> None:
    """keras/src/losses/losses_test.py::LogCoshTest::test_timestep_weighted (integer
    inputs)"""
    _almost(al.log_cosh_loss(YP3, YT3, weight=_w(TIMESTEP_W)),
            np.sum(_log_cosh_ref(YT3, YP3) * TIMESTEP_W) / 6)


def test_log_cosh_zero_weighted() -> None:
    """keras/src/losses/losses_test.py::LogCoshTest::test_zero_weighted"""
    _almost(al.log_cosh_loss(LC_P, LC_T, weight=_w(0)), 0.0)


# =========================================================================================
# KLDivergenceTest (keras kl_divergence(P, Q) = arrayloss kl_divergence(log Q, P))

KL_P = np.asarray([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], dtype=F32).reshape((2, 3))  # y_pred
KL_T = np.asarray([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], dtype=F32).reshape((2, 3))  # y_true


def _kl_ref(t, p):
    t, p = np.asarray(t, dtype=np.float64), np.asarray(p, dtype=np.float64)
    return t * np.log(t / p)


def test_kl_divergence_unweighted() -> None:
    """keras/src/losses/losses_test.py::KLDivergenceTest::test_unweighted"""
    _almost(al.kl_divergence(np.log(KL_P), KL_T), _kl_ref(KL_T, KL_P).sum() / 2)


def test_kl_divergence_scalar_weighted() -> None:
    """keras/src/losses/losses_test.py::KLDivergenceTest::test_scalar_weighted (twice)"""
    first = al.kl_divergence(np.log(KL_P), KL_T, weight=_w(2.3))
    _almost(first, 2.3 * _kl_ref(KL_T, KL_P).sum() / 2)
    _almost(al.kl_divergence(np.log(KL_P), KL_T, weight=_w(2.3)), float(first))


def test_kl_divergence_sample_weighted() -> None:
    """keras/src/losses/losses_test.py::KLDivergenceTest::test_sample_weighted (keras weight
    (2, 1) -> one weight per distribution, (2,))"""
    w = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape(2, 3)
    _almost(al.kl_divergence(np.log(KL_P), KL_T, weight=_w([1.2, 3.4])),
            np.sum(_kl_ref(KL_T, KL_P) * w) / 2)


def test_kl_divergence_timestep_weighted() -> None:
    """keras/src/losses/losses_test.py::KLDivergenceTest::test_timestep_weighted (inputs
    (2, 3, 1): 6 one-class distributions, weights (2, 3))"""
    t, p = KL_T.reshape(2, 3, 1), KL_P.reshape(2, 3, 1)
    w = np.asarray([3, 6, 5, 0, 4, 2]).reshape(2, 3)
    expected = np.sum(_kl_ref(t, p).sum(-1) * w) / (2 * 3)
    _almost(al.kl_divergence(np.log(p), t, weight=_w(w)), expected)


def test_kl_divergence_zero_weighted() -> None:
    """keras/src/losses/losses_test.py::KLDivergenceTest::test_zero_weighted"""
    _almost(al.kl_divergence(np.log(KL_P), KL_T, weight=_w(0)), 0.0)


# =========================================================================================
# BinaryCrossentropyTest

EYE3 = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=F32)
BCE_T2 = np.array([1, 0, 1, 0]).reshape([2, 2])
BCE_P2 = np.array([1, 1, 1, 0], dtype=F32).reshape([2, 2])
BCE_TL = np.array([[1, 0, 1], [0, 1, 1]])
BCE_LOGITS = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])


def test_binary_crossentropy_all_correct_unweighted() -> None:
    """keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_all_correct_unweighted
    (probabilities equal to the targets; then logits +-10)"""
    _almost(al.binary_cross_entropy(EYE3, EYE3), 0.0)
    logits = np.array([[10.0, -10.0, -10.0], [-10.0, 10.0, -10.0], [-10.0, -10.0, 10.0]])
    _almost(al.binary_cross_entropy_with_logits(logits, EYE3), 0.0)


def test_binary_crossentropy_unweighted() -> None:
    """keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_unweighted (float32:
    p = 1 with y = 0 costs -log(eps_float32) = 15.942385)"""
    p = np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.1], [0.1, 0.2, 0.7]], dtype=F32)
    _close(al.binary_cross_entropy(p, EYE3), 0.20046903)
    _almost(al.binary_cross_entropy(BCE_P2, BCE_T2), 3.98559)
    _almost(al.binary_cross_entropy_with_logits(BCE_LOGITS, BCE_TL), 3.3333)


def test_binary_crossentropy_scalar_weighted() -> None:
    """keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_scalar_weighted"""
    _almost(al.binary_cross_entropy(BCE_P2, BCE_T2, weight=_w(2.3)), 9.1668)
    _almost(al.binary_cross_entropy_with_logits(BCE_LOGITS, BCE_TL, weight=_w(2.3)), 7.666)


def test_binary_crossentropy_sample_weighted() -> None:
    """keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_sample_weighted"""
    _almost(al.binary_cross_entropy(BCE_P2, BCE_T2, weight=_w([1.2, 3.4]).reshape(2, 1)),
            4.7827)
    _almost(al.binary_cross_entropy_with_logits(BCE_LOGITS, BCE_TL,
                                                weight=_w([4, 3]).reshape(2, 1)), 10.0)


def test_binary_crossentropy_no_reduction() -> None:
    """keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_no_reduction"""
    out = al.binary_cross_entropy_with_logits(BCE_LOGITS, BCE_TL, reduction="none")
    _close(out.mean(-1), [0.0, 6.666], atol=1e-3)


def test_binary_crossentropy_label_smoothing() -> None:
    """keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_label_smoothing
    (keras's binary rule y (1 - ls) + ls / 2)"""
    out = al.binary_cross_entropy_with_logits(np.array([[10.0, -10.0, -10.0]]),
                                              np.array([[1, 0, 1]]), label_smoothing=0.1)
    _almost(out, (10.0 + 5.0 * 0.1) / 3.0)


def test_binary_crossentropy_shape_mismatch() -> None:
    """keras/src/losses/losses_test.py::BinaryCrossentropyTest::test_shape_mismatch"""
    y_true = np.array([[0], [1], [2]])
    y_pred = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]])
    with pytest.raises(ValueError, match="shape"):
        al.binary_cross_entropy(y_pred, y_true)


# =========================================================================================
# CategoricalCrossentropyTest / SparseCategoricalCrossentropyTest
# (probabilities p are passed as logits log p)

CCE_T = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
CCE_LABELS = np.array([0, 1, 2])
CCE_P = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], dtype=F32)
CCE_LOGITS = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
CCE_ONEHOT_P = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=F32)
CCE_PERFECT_LOGITS = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
CCE_W = np.array([1.2, 3.4, 5.6])  # keras (3, 1)

# (test, weight, expected for probabilities, expected for logits)
CCE_CASES = [
    ("test_unweighted", None, 0.3239, 0.0573),
    ("test_scalar_weighted", 2.3, 0.7449, 0.1317),
    ("test_sample_weighted", CCE_W, 1.0696, 0.31829),
]


@pytest.mark.parametrize("sparse", [False, True], ids=["CategoricalCrossentropyTest",
                                                       "SparseCategoricalCrossentropyTest"])
@pytest.mark.parametrize(("case", "weight", "exp_probs", "exp_logits"), CCE_CASES,
                         ids=[c[0] for c in CCE_CASES])
def test_categorical_crossentropy(sparse, case, weight, exp_probs, exp_logits) -> None:
    """keras/src/losses/losses_test.py::{,Sparse}CategoricalCrossentropyTest::<case>
    (dense one-hot targets or integer labels; keras's (3, 1) labels without the size-1 axis)"""
    target = CCE_LABELS if sparse else CCE_T
    w = None if weight is None else _w(weight)
    _almost(al.cross_entropy(_log(CCE_P), target, weight=w), exp_probs)
    _almost(al.cross_entropy(CCE_LOGITS, target, weight=w), exp_logits)


@pytest.mark.parametrize("sparse", [False, True], ids=["CategoricalCrossentropyTest",
                                                       "SparseCategoricalCrossentropyTest"])
def test_categorical_crossentropy_all_correct_unweighted(sparse) -> None:
    """keras/src/losses/losses_test.py::{,Sparse}CategoricalCrossentropyTest::
    test_all_correct_unweighted (one-hot probabilities: -inf logits for the zeros)"""
    target = CCE_LABELS.astype(np.int64) if sparse else CCE_T.astype(np.int64)
    _almost(al.cross_entropy(_log(CCE_ONEHOT_P), target), 0.0)
    _almost(al.cross_entropy(CCE_PERFECT_LOGITS, target), 0.0)


@pytest.mark.parametrize("sparse", [False, True], ids=["CategoricalCrossentropyTest",
                                                       "SparseCategoricalCrossentropyTest"])
def test_categorical_crossentropy_no_reduction(sparse) -> None:
    """keras/src/losses/losses_test.py::{,Sparse}CategoricalCrossentropyTest::
    test_no_reduction"""
    target = CCE_LABELS if sparse else CCE_T
    _close(al.cross_entropy(CCE_LOGITS, target, reduction="none"),
           [0.001822, 0.000459, 0.169846])


@pytest.mark.parametrize("case", ["test_label_smoothing", "test_label_smoothing_ndarray"])
def test_categorical_crossentropy_label_smoothing(case) -> None:
    """keras/src/losses/losses_test.py::CategoricalCrossentropyTest::<case>"""
    out = al.cross_entropy(np.asarray([[100.0, -100.0, -100.0]]), np.asarray([[1, 0, 0]]),
                           label_smoothing=0.1)
    _almost(out, 400.0 * 0.1 / 3.0)


def test_categorical_crossentropy_shape_mismatch() -> None:
    """keras/src/losses/losses_test.py::CategoricalCrossentropyTest::test_shape_mismatch"""
    y_true = np.array([[0], [1], [2]])
    y_pred = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]])
    with pytest.raises(ValueError, match="shape"):
        al.cross_entropy(_log(y_pred), y_true)


def test_sparse_categorical_crossentropy_ignore_class() -> None:
    """keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::test_ignore_class
    (ignore_class=-1 -> ignore_index=-1). Keras's second variant gives labels of shape
    (1, 2, 1) and squeezes them; arrayloss never squeezes: that shape raises, the squeezed
    labels give the same values."""
    logits = np.array([[[0.854, 0.698, 0.598], [0.088, 0.86, 0.018]]])
    out = al.cross_entropy(logits, np.array([[-1, 2]]), ignore_index=-1, reduction="none")
    _close(out, [[0.0, 1.480129]])
    with pytest.raises(ValueError):
        al.cross_entropy(logits, np.array([[[-1], [2]]]), ignore_index=-1, reduction="none")


SEG2_T = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
SEG2_PERFECT = np.array([
    [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]],
    [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
    [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
    [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]],
])
SEG2_P = np.array([
    [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.2, 0.8]],
    [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
    [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
    [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.4]],
])
SEG2_EXP = (-np.log(0.2) - np.log(0.4)) / 16.0
SEG3_T = np.array([[0, 1, 2, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
SEG3_PERFECT = np.array([
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
    [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
])
SEG3_P = np.array([
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.0, 0.8]],
    [[0.7, 0.3, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
    [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0]],
])
SEG3_EXP = (-np.log(0.2) - np.log(0.3) - np.log(0.5)) / 16.0


@pytest.mark.parametrize(("labels", "perfect", "probs", "expected"),
                         [(SEG2_T, SEG2_PERFECT, SEG2_P, SEG2_EXP),
                          (SEG3_T, SEG3_PERFECT, SEG3_P, SEG3_EXP)],
                         ids=["SparseCategoricalCrossentropyTest::test_binary_segmentation",
                              "SparseCategoricalCrossentropyTest::"
                              "test_multi_class_segmentation"])
def test_sparse_categorical_crossentropy_segmentation(labels, perfect, probs,
                                                      expected) -> None:
    """keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::
    test_{binary,multi_class}_segmentation (4x4 image, class axis last, mean over 16
    pixels)"""
    _close(al.cross_entropy(_log(perfect), labels), 0.0)
    _close(al.cross_entropy(_log(probs), labels), expected)


@pytest.mark.parametrize(("labels", "perfect", "probs", "expected"),
                         [(SEG2_T, SEG2_PERFECT, SEG2_P, SEG2_EXP),
                          (SEG3_T, SEG3_PERFECT, SEG3_P, SEG3_EXP)],
                         ids=["SparseCategoricalCrossentropyTest::"
                              "test_binary_segmentation_different_axis",
                              "SparseCategoricalCrossentropyTest::"
                              "test_multi_class_segmentation_different_axis"])
def test_sparse_categorical_crossentropy_segmentation_different_axis(labels, perfect, probs,
                                                                     expected) -> None:
    """keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::
    test_{binary,multi_class}_segmentation_different_axis (Keras's torch-backend branch:
    classes on axis 0 of a (C, 4, 4) image, then axis 1 of a batch of 3)"""
    _close(al.cross_entropy(_log(np.moveaxis(perfect, 2, 0)), labels, axis=0), 0.0)
    moved = _log(np.moveaxis(probs, 2, 0))
    _close(al.cross_entropy(moved, labels, axis=0), expected)
    batch = np.array([moved, moved, moved])
    _close(al.cross_entropy(batch, np.array([labels, labels, labels]), axis=1), expected)


def test_sparse_categorical_crossentropy_squeezes_singleton_class_dim_on_user_axis() -> None:
    """keras/src/losses/losses_test.py::SparseCategoricalCrossentropyTest::
    test_squeezes_singleton_class_dim_on_user_axis

    Deliberate difference: Keras squeezes float labels of shape (2, 1, 4, 4) for logits
    (2, 2, 4, 4) with axis=1; arrayloss wants integer labels of the shape of ``pred`` without
    the class axis and raises otherwise. The mapped call returns (2, 4, 4)."""
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(2, 1, 4, 4)).astype(F32)
    y_pred = rng.random((2, 2, 4, 4)).astype(F32)
    with pytest.raises((TypeError, ValueError)):
        al.cross_entropy(y_pred, y_true, axis=1, reduction="none")
    out = al.cross_entropy(y_pred, y_true[:, 0].astype(np.int64), axis=1, reduction="none")
    assert out.shape == (2, 4, 4)


# =========================================================================================
# BinaryFocalCrossentropyTest (sigmoid_focal_loss, alpha=None)

BF_T = np.asarray([1, 0, 1, 0]).reshape([2, 2])
BF_P = np.asarray([0.9, 0.8, 0.7, 0.2], dtype=F32).reshape([2, 2])
BF_TL = np.array([[1, 1, 0], [0, 1, 0]], dtype=F32)
BF_LOGITS = np.array([[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]])


def _bfocal(z, y, gamma, **kw):
    return al.sigmoid_focal_loss(z, y, alpha=None, gamma=gamma, **kw)


def test_binary_focal_crossentropy_all_correct_unweighted() -> None:
    """keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::
    test_all_correct_unweighted (probabilities 0 and 1 are logits -inf and +inf: the loss is
    its limit 0; then logits +-100)"""
    with np.errstate(invalid="ignore"):
        _almost(_bfocal(_logit(EYE3), EYE3, 1.5), 0.0)
    logits = np.array([[100.0, -100.0, -100.0], [-100.0, 100.0, -100.0],
                       [-100.0, -100.0, 100.0]])
    _almost(_bfocal(logits, EYE3, 2.0), 0.0)


# (test, weight, expected for probabilities (gamma 2), expected for logits (gamma 3))
BF_CASES = [
    ("test_unweighted", None, 0.268, 0.799),
    ("test_scalar_weighted", (1.23, 3.21), 0.3296, 2.565),
    ("test_sample_weighted", (ROW_W, ROW_W), 0.34415, 0.95977),
]


@pytest.mark.parametrize(("case", "weights", "exp_probs", "exp_logits"), BF_CASES,
                         ids=[c[0] for c in BF_CASES])
def test_binary_focal_crossentropy(case, weights, exp_probs, exp_logits) -> None:
    """keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::<case>"""
    w_p, w_l = (None, None) if weights is None else (_w(weights[0]), _w(weights[1]))
    _almost(_bfocal(_logit(BF_P), BF_T, 2.0, weight=w_p), exp_probs)
    _almost(_bfocal(BF_LOGITS, BF_TL, 3.0, weight=w_l), exp_logits)


def test_binary_focal_crossentropy_no_reduction() -> None:
    """keras/src/losses/losses_test.py::BinaryFocalCrossentropyTest::test_no_reduction"""
    out = _bfocal(_logit(BF_P), BF_T, 2.0, reduction="none")
    _close(out.mean(-1), [0.515547, 0.020513])


# =========================================================================================
# CategoricalFocalCrossentropyTest (softmax_focal_loss, alpha = [a] * C, default a = 0.25)

A025 = np.full(3, 0.25)


def test_categorical_focal_crossentropy_all_correct_unweighted() -> None:
    """keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::
    test_all_correct_unweighted"""
    y = CCE_T.astype(np.int64)
    _almost(al.softmax_focal_loss(_log(CCE_ONEHOT_P), y, alpha=A025, gamma=2.0), 0.0)
    _almost(al.softmax_focal_loss(CCE_PERFECT_LOGITS, y, alpha=A025, gamma=2.0), 0.0)


# (test, weight, expected for probabilities, expected for logits, decimal for logits)
CF_CASES = [
    ("test_unweighted", None, 0.02059, 0.000345, 3),
    ("test_scalar_weighted", 2.3, 0.047368, 0.000794, 4),
    ("test_sample_weighted", CCE_W, 0.06987, 0.001933, 3),
]


@pytest.mark.parametrize(("case", "weight", "exp_probs", "exp_logits", "decimal"), CF_CASES,
                         ids=[c[0] for c in CF_CASES])
def test_categorical_focal_crossentropy(case, weight, exp_probs, exp_logits,
                                        decimal) -> None:
    """keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::<case> (dense
    one-hot targets, and the same as integer labels)"""
    w = None if weight is None else _w(weight)
    for target in (CCE_T, CCE_LABELS):
        _almost(al.softmax_focal_loss(_log(CCE_P), target, alpha=A025, weight=w), exp_probs)
        _almost(al.softmax_focal_loss(CCE_LOGITS, target, alpha=A025, weight=w), exp_logits,
                decimal=decimal)


def test_categorical_focal_crossentropy_no_reduction() -> None:
    """keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::test_no_reduction"""
    out = al.softmax_focal_loss(CCE_LOGITS, CCE_T, alpha=A025, reduction="none")
    _close(out, [1.5096224e-09, 2.4136547e-11, 1.0360638e-03])


def test_categorical_focal_crossentropy_label_smoothing() -> None:
    """keras/src/losses/losses_test.py::CategoricalFocalCrossentropyTest::
    test_label_smoothing (smoothed dense target (1 - 0.1) y + 0.1 / 3)"""
    y = np.array([[1, 0, 0]])
    smoothed = 0.9 * y + 0.1 / 3
    out = al.softmax_focal_loss(np.array([[4.9, -0.5, 2.05]]), smoothed, alpha=A025)
    _almost(out, 0.06685)


# =========================================================================================
# DiceTest / TverskyTest

DICE_INT_T = np.array([[1, 2], [1, 2]])
DICE_INT_P = np.array([[4, 1], [6, 1]])
DICE_BIN_T = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
DICE_BIN_P = np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1]])
DICE_AX_T = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
DICE_AX_P = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])


def _pooled(fn, pred, target, **kw):
    """Keras dice/tversky with axis=None: everything pooled into one entry."""
    return fn(pred, target, axis=None, per_image=False, **kw)


def _per_sample(fn, pred, target, **kw):
    """Keras dice/tversky with axis=(1, 2, 3), reduction=None: one value per sample."""
    return fn(pred, target, axis=None, per_image=True, reduction="none", **kw)


@pytest.mark.parametrize(("fn", "kw", "expected"), [
    (al.dice_loss, {}, -0.55555546),
    (al.tversky_loss, {}, -0.55555546),
    (al.tversky_loss, {"alpha": 0.8, "beta": 0.2}, -0.29629636),
], ids=["DiceTest::test_correctness", "TverskyTest::test_correctness",
        "TverskyTest::test_correctness_custom_coefficients"])
def test_overlap_correctness(fn, kw, expected) -> None:
    """keras/src/losses/losses_test.py::{Dice,Tversky}Test::test_correctness[_custom_
    coefficients] (Keras alpha=0.2, beta=0.8 is alpha=0.8, beta=0.2 here)

    Deliberate difference: the inputs are not probabilities (values 1, 2, 4, 6); arrayloss
    refuses them (``ValueError``). With value checks off the formula gives Keras's number."""
    with pytest.raises(ValueError):
        _pooled(fn, DICE_INT_P, DICE_INT_T, **kw)
    with al.options(validate=False):
        out = _pooled(fn, DICE_INT_P, DICE_INT_T, **kw)
    _close(out, expected)


@pytest.mark.parametrize(("fn", "kw", "expected"), [
    (al.dice_loss, {}, 0.77777773),
    (al.tversky_loss, {}, 0.77777773),
    (al.tversky_loss, {"alpha": 0.8, "beta": 0.2}, 0.7916667),
], ids=["DiceTest::test_binary_segmentation", "TverskyTest::test_binary_segmentation",
        "TverskyTest::test_binary_segmentation_custom_coefficients"])
def test_overlap_binary_segmentation(fn, kw, expected) -> None:
    """keras/src/losses/losses_test.py::{Dice,Tversky}Test::test_binary_segmentation[_custom_
    coefficients] (integer inputs pooled; Keras alpha=0.2, beta=0.8 -> alpha=0.8, beta=0.2)"""
    _close(_pooled(fn, DICE_BIN_P, DICE_BIN_T, **kw), expected)


@pytest.mark.parametrize(("fn", "kw", "expected"), [
    (al.dice_loss, {}, [0.5, 0.75757575]),
    (al.tversky_loss, {}, [0.5, 0.75757575]),
    (al.tversky_loss, {"alpha": 0.8, "beta": 0.2}, [0.5, 0.7222222]),
], ids=["DiceTest::test_binary_segmentation_with_axis",
        "TverskyTest::test_binary_segmentation_with_axis",
        "TverskyTest::test_binary_segmentation_custom_coefficients_with_axis"])
def test_overlap_binary_segmentation_with_axis(fn, kw, expected) -> None:
    """keras/src/losses/losses_test.py::{Dice,Tversky}Test::test_binary_segmentation[_custom_
    coefficients]_with_axis (axis=(1, 2, 3), reduction=None: one value per sample)"""
    _close(_per_sample(fn, DICE_AX_P, DICE_AX_T, **kw), expected)


# =========================================================================================
# test_dtype_arg of every class above: bfloat16 inputs, float32 result (see the docstring)


def _bf16_cases():
    return [
        ("MeanSquaredErrorTest::test_dtype_arg", al.mse_loss, YP, YT, {}),
        ("MeanAbsoluteErrorTest::test_dtype_arg", al.l1_loss, YP, YT, {}),
        ("HingeTest::test_dtype_arg", al.hinge_loss, HINGE_P, 2.0 * HINGE_T - 1.0, {}),
        ("SquaredHingeTest::test_dtype_arg", al.squared_hinge_loss, HINGE_P,
         2.0 * HINGE_T - 1.0, {}),
        ("CategoricalHingeTest::test_dtype_arg", al.multiclass_hinge_loss, HINGE_P[:1],
         CH_LABELS[:1], {}),
        ("HuberLossTest::test_dtype_arg", al.huber_loss, HUBER_P, HUBER_T, {}),
        ("LogCoshTest::test_dtype_arg", al.log_cosh_loss, LC_P, LC_T, {}),
        ("KLDivergenceTest::test_dtype_arg", al.kl_divergence, np.log(KL_P), KL_T, {}),
        ("BinaryCrossentropyTest::test_dtype_arg", al.binary_cross_entropy,
         np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.1], [0.1, 0.2, 0.7]]), EYE3, {}),
        ("CategoricalCrossentropyTest::test_dtype_arg", al.cross_entropy,
         _log(CCE_ONEHOT_P), CCE_T, {}),
        ("SparseCategoricalCrossentropyTest::test_dtype_arg", al.cross_entropy,
         _log(CCE_ONEHOT_P), CCE_LABELS, {}),
        ("BinaryFocalCrossentropyTest::test_dtype_arg", al.sigmoid_focal_loss, _logit(BF_P),
         BF_T, {"alpha": None}),
        ("CategoricalFocalCrossentropyTest::test_dtype_arg", al.softmax_focal_loss,
         np.array([[4.9, -0.5, 2.05]]), np.array([[1, 0, 0]]), {"alpha": A025}),
        ("DiceTest::test_dtype_arg", al.dice_loss, DICE_INT_P, DICE_INT_T,
         {"axis": None, "per_image": False}),
        ("TverskyTest::test_dtype_arg", al.tversky_loss, DICE_INT_P, DICE_INT_T,
         {"axis": None, "per_image": False}),
    ]


BF16_CASES = _bf16_cases()


@pytest.mark.parametrize(("case", "fn", "pred", "target", "kw"), BF16_CASES,
                         ids=[c[0] for c in BF16_CASES])
def test_dtype_arg(case, fn, pred, target, kw) -> None:
    """keras/src/losses/losses_test.py::<case>

    Keras's ``dtype="bfloat16"`` returns bfloat16. arrayloss has no dtype option; the
    matching call passes bfloat16 inputs, which are computed in float32 and return float32
    (contract), close to the float32 result. Dice/Tversky reuse Keras's non-probability
    inputs, so their value checks are switched off."""
    require_backend(backends.by_id("torch"))
    import torch

    p = torch.tensor(np.asarray(pred, dtype=np.float32)).to(torch.bfloat16)
    t_np = np.asarray(target)
    if t_np.dtype.kind == "f":
        t = torch.tensor(t_np.astype(np.float32)).to(torch.bfloat16)
    else:
        t = torch.tensor(t_np)
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    with al.options(validate=fn not in (al.dice_loss, al.tversky_loss)):
        out = fn(p, t, **kw)
        ref = fn(p.float(), t.float() if t.is_floating_point() else t, **kw)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.double().numpy(), ref.double().numpy(), rtol=1e-2,
                               atol=1e-3)
