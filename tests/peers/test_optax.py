"""optax's own loss test cases, ported to arrayloss.

Each test below re-states one test case of google-deepmind/optax (``optax/losses/*_test.py``,
optax 0.2.8) for the arrayloss function that corresponds to the optax loss: the same inputs,
the optax options mapped onto arrayloss's options, and the same expected values (literal
numbers from the optax test, or a reference written here, or the installed optax itself where
the optax test only states properties). The docstring of every test names its source as
``optax/losses/<file>::<TestClass>::<test>``.

Option mapping (optax -> arrayloss):

- Reductions. optax losses are unreduced: they return one value per element (regression,
  ``sigmoid_binary_cross_entropy``, ``hinge_loss``, ``sigmoid_focal_loss``) or per
  distribution (``softmax_cross_entropy[_with_integer_labels]``, ``kl_divergence``,
  ``multiclass_hinge_loss``). These are arrayloss's ``reduction="none"``; an optax test that
  takes ``jnp.mean`` of the result is arrayloss's ``"mean"``.
- Argument order is the same: prediction first (logits, scores, log-predictions), target second.
- ``squared_error(p, t)`` is ``mse_loss``; ``l2_loss`` is ``0.5 * mse_loss`` (optax keeps the
  1/2 factor); ``log_cosh(p)`` without targets is ``log_cosh_loss(p, zeros)``.
- ``perceptron_loss`` is ``hinge_loss(margin=0)`` and ``multiclass_perceptron_loss`` is
  ``multiclass_hinge_loss(margin=0)`` (Crammer-Singer with a zero margin is ``max(s) - s_y``).
- ``kl_divergence_with_log_targets`` is ``kl_divergence(..., log_target=True)``.
- ``sigmoid_focal_loss``: optax's default ``alpha`` is ``None``, arrayloss's is 0.25, so every
  call passes ``alpha`` explicitly.
- ``smooth_labels(y, a)`` is arrayloss's ``label_smoothing=a`` of ``cross_entropy``
  (``(1 - a) y + a / C``), checked through the loss value.
- A ``where=`` sample mask of optax is a 0/1 ``weight`` here (arrayloss's way to drop samples
  of dense targets).
- ``dice_loss``: optax scores ``(TP + s) / (TP + alpha FP + beta FN + s)`` per (image, class)
  (sums over every axis but the first and the last; the last is the class axis) and reduces
  over classes only, returning one value per image. That is arrayloss's
  ``tversky_loss(alpha, beta, smooth=s, axis=-1, per_image=True, reduction="none")`` averaged
  over the last axis. With optax's default ``alpha = beta = 0.5`` it is arrayloss's
  ``dice_loss`` with **twice** the smoothing: ``(TP + s) / ((Sp + Sg) / 2 + s) =
  (2 TP + 2 s) / (Sp + Sg + 2 s)``. optax's ``apply_softmax=True`` means a sigmoid when the
  class axis has size 1 and a softmax otherwise (``activation="sigmoid"`` / ``"softmax"``);
  ``apply_softmax=False`` is ``activation=None``; ``class_weights`` is ``class_weight``.
  ``binary_dice_loss`` on ``(B, ...)`` inputs is ``axis=None`` (binary, no class axis).

Deliberate differences (arrayloss's own behaviour is asserted, with the reason beside it):
optax broadcasts a missing class axis of size 1 in ``dice_loss`` and refuses probabilities
that do not sum to 1 along the class axis; arrayloss never broadcasts ``pred`` against
``target`` (it raises) and accepts any probabilities in ``[0, 1]`` (multi-label input).
"""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from conftest import jax_or_skip as _jax
from conftest import require_module
from conftest import torch_or_skip as _torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

F32 = np.float32


def _optax_losses():
    require_module("optax")
    import optax.losses

    return optax.losses


def _torch_grad(fn, x, *args, **kw):
    """d sum(fn(x, *args, **kw)) / dx with torch autograd in float64, as NumPy."""
    torch = _torch()
    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    targs = [torch.as_tensor(a) for a in args]
    out = fn(xt, *targs, **kw)
    out.sum().backward()
    return xt.grad.numpy()


def _fd_grad(fn, x, *args, h=1e-6, **kw):
    """Central finite differences of sum(fn(x, ...)) in float64 NumPy."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (np.sum(fn(x + e, *args, **kw)) - np.sum(fn(x - e, *args, **kw))) / (2 * h)
    return g


def _softmax(z, axis=-1):
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _bce_logits_ref(z, y):
    """-y log sigma(z) - (1 - y) log sigma(-z), written stably (reference for the tests)."""
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return np.logaddexp(0.0, -z) * y + np.logaddexp(0.0, z) * (1.0 - y)


# =========================================================================================
# optax/losses/_regression_test.py

SQ_YS = np.array([-2.0, -1.0, 0.5, 1.0], dtype=F32)
SQ_TS = np.array([-1.5, 0.0, -1, 1.0], dtype=F32)


def test_squared_error_scalar() -> None:
    """optax/losses/_regression_test.py::SquaredErrorTest::test_scalar"""
    out = al.mse_loss(np.asarray(SQ_YS[0]), np.asarray(SQ_TS[0]), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out, (SQ_TS[0] - SQ_YS[0]) ** 2, rtol=1e-7)


def test_squared_error_batched() -> None:
    """optax/losses/_regression_test.py::SquaredErrorTest::test_batched"""
    np.testing.assert_allclose(al.mse_loss(SQ_YS, SQ_TS, reduction="none"),
                               (SQ_TS - SQ_YS) ** 2, rtol=1e-7)


def test_squared_error_shape_mismatch() -> None:
    """optax/losses/_regression_test.py::SquaredErrorTest::test_shape_mismatch"""
    with pytest.raises(ValueError):
        al.mse_loss(SQ_YS, SQ_TS[:, None], reduction="none")


def test_l2_loss_scalar() -> None:
    """optax/losses/_regression_test.py::L2LossTest::test_scalar (l2_loss = 0.5 * mse_loss)"""
    out = 0.5 * al.mse_loss(np.asarray(SQ_YS[0]), np.asarray(SQ_TS[0]), reduction="none")
    np.testing.assert_allclose(out, 0.5 * (SQ_TS[0] - SQ_YS[0]) ** 2, rtol=1e-7)


def test_l2_loss_batched() -> None:
    """optax/losses/_regression_test.py::L2LossTest::test_batched (l2_loss = 0.5 * mse_loss)"""
    np.testing.assert_allclose(0.5 * al.mse_loss(SQ_YS, SQ_TS, reduction="none"),
                               0.5 * (SQ_TS - SQ_YS) ** 2, rtol=1e-7)


def test_l2_loss_shape_mismatch() -> None:
    """optax/losses/_regression_test.py::L2LossTest::test_shape_mismatch"""
    with pytest.raises(ValueError):
        al.mse_loss(SQ_YS, SQ_TS[:, None])


HUBER_YS = np.array([-2.0, 0.5, 0.0, 0.5, 2.0, 4.0, 132.0])
HUBER_TS = np.array([0.0, -0.5, 0.0, 1.0, 1.0, 2.0, 0.3])
HUBER_EXP = np.array([1.5, 0.5, 0.0, 0.125, 0.5, 1.5, 131.2])


def test_huber_scalar() -> None:
    """optax/losses/_regression_test.py::HuberLossTest::test_scalar"""
    out = al.huber_loss(np.asarray(HUBER_YS[0]), np.asarray(HUBER_TS[0]), delta=1.0,
                        reduction="none")
    np.testing.assert_allclose(out, HUBER_EXP[0], rtol=1e-7)


def test_huber_batched() -> None:
    """optax/losses/_regression_test.py::HuberLossTest::test_batched"""
    out = al.huber_loss(HUBER_YS, HUBER_TS, delta=1.0, reduction="none")
    np.testing.assert_allclose(out, HUBER_EXP, rtol=1e-7)


# inputs in float32 (jnp's default); expected values from the optax test (tf.keras v2.4.1)
LC_YS = np.array([500, -2.0, -1.0, 0.5, 1.0], dtype=F32)
LC_TS = np.array([-200, -1.5, 0.0, -1, 1.0], dtype=F32)
LC_EXP = np.array([699.3068, 0.12011445, 0.4337809, 0.85544014, 0.0])
LC_EXP_YS_ONLY = np.array([499.30685, 1.3250027, 0.4337809, 0.12011451, 0.43378082])


def test_log_cosh_scalar() -> None:
    """optax/losses/_regression_test.py::LogCoshTest::test_scalar (overflow at r = 700)"""
    out = al.log_cosh_loss(np.asarray(LC_YS[0]), np.asarray(LC_TS[0]), reduction="none")
    np.testing.assert_allclose(out, LC_EXP[0], atol=1e-5, rtol=1e-7)


def test_log_cosh_batched() -> None:
    """optax/losses/_regression_test.py::LogCoshTest::test_batched"""
    out = al.log_cosh_loss(LC_YS, LC_TS, reduction="none")
    np.testing.assert_allclose(out, LC_EXP, atol=1e-5, rtol=1e-7)


def test_log_cosh_scalar_predictions_only() -> None:
    """optax/losses/_regression_test.py::LogCoshTest::test_scalar_predictions_only
    (optax's missing targets are zeros)"""
    p = np.asarray(LC_YS[0])
    out = al.log_cosh_loss(p, np.zeros_like(p), reduction="none")
    np.testing.assert_allclose(out, LC_EXP_YS_ONLY[0], atol=1e-5, rtol=1e-7)


def test_log_cosh_batched_predictions_only() -> None:
    """optax/losses/_regression_test.py::LogCoshTest::test_batched_predictions_only"""
    out = al.log_cosh_loss(LC_YS, np.zeros_like(LC_YS), reduction="none")
    np.testing.assert_allclose(out, LC_EXP_YS_ONLY, atol=1e-5, rtol=1e-7)


# =========================================================================================
# optax/losses/_classification_test.py :: softmax cross-entropy

CE_YS = np.array([[10.0, 1.0, -2.0], [1.0, 4.0, 0.2]], dtype=F32)
CE_TS = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=F32)
CE_EXP = np.array([9.00013, 3.0696733], dtype=F32)
CE_MASK = np.array([True, False])


def test_softmax_cross_entropy_scalar() -> None:
    """optax/losses/_classification_test.py::SoftmaxCrossEntropyTest::test_scalar"""
    out = al.cross_entropy(CE_YS[0], CE_TS[0], reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out, CE_EXP[0], atol=1e-4)


def test_softmax_cross_entropy_batched() -> None:
    """optax/losses/_classification_test.py::SoftmaxCrossEntropyTest::test_batched"""
    np.testing.assert_allclose(al.cross_entropy(CE_YS, CE_TS, reduction="none"), CE_EXP,
                               atol=1e-4)


def test_softmax_cross_entropy_gradient() -> None:
    """optax/losses/_classification_test.py::SoftmaxCrossEntropyTest::test_gradient

    Autodiff against finite differences (and the closed form softmax - target); then the
    gradient with a sample mask (optax ``where``, here a 0/1 ``weight``) is finite and zero
    on the masked row."""
    ys, ts = CE_YS.astype(np.float64), CE_TS.astype(np.float64)
    torch = _torch()

    def ce(z, t):
        return al.cross_entropy(z, t, reduction="none")

    g = _torch_grad(ce, ys, ts)
    np.testing.assert_allclose(g, _fd_grad(ce, ys, ts), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(g, _softmax(ys) - ts, rtol=1e-10, atol=1e-12)
    w = torch.tensor(CE_MASK.astype(np.float64))
    gm = _torch_grad(lambda z, t: al.cross_entropy(z, t, weight=w, reduction="sum"), ys, ts)
    assert np.all(np.isfinite(gm))
    np.testing.assert_array_equal(gm[1], 0.0)
    np.testing.assert_allclose(gm[0], g[0], rtol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_softmax_cross_entropy_axis(axis: int) -> None:
    """optax/losses/_classification_test.py::SoftmaxCrossEntropyTest::test_axis"""
    rng = np.random.default_rng(axis)
    shape = (4, 5, 6)
    preds = rng.normal(size=shape)
    targets = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    x = al.cross_entropy(preds, targets, axis=axis, reduction="none")
    y = al.cross_entropy(np.moveaxis(preds, axis, -1), np.moveaxis(targets, axis, -1),
                         reduction="none")
    np.testing.assert_allclose(x, y, atol=1e-4)


SAFE_YS = np.array([[10.0, 1.0, -2.0], [1.0, 4.0, 0.2], [-np.inf, 0.0, 0.0],
                    [-np.inf, 0.0, 0.0], [-np.inf, 0.0, -np.inf]], dtype=F32)
SAFE_TS = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.4, 0.3, 0.3],
                    [0.0, 1.0, 0.0]], dtype=F32)
SAFE_EXP = np.array([9.00013, 3.0696733, 0.693147, np.inf, 0.0], dtype=F32)


def test_safe_softmax_cross_entropy_scalar() -> None:
    """optax/losses/_classification_test.py::SafeSoftmaxCrossEntropyTest::test_scalar"""
    np.testing.assert_allclose(al.cross_entropy(SAFE_YS[0], SAFE_TS[0], reduction="none"),
                               SAFE_EXP[0], atol=1e-4)


def test_safe_softmax_cross_entropy_batched() -> None:
    """optax/losses/_classification_test.py::SafeSoftmaxCrossEntropyTest::test_batched
    (-inf logits: finite where the target has no mass on them, +inf where it has)"""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = al.cross_entropy(SAFE_YS, SAFE_TS, reduction="none")
    np.testing.assert_allclose(out, SAFE_EXP, atol=1e-4)


def test_safe_softmax_cross_entropy_gradient() -> None:
    """optax/losses/_classification_test.py::SafeSoftmaxCrossEntropyTest::test_gradient"""
    ys, ts = SAFE_YS[:2].astype(np.float64), SAFE_TS[:2].astype(np.float64)

    def ce(z, t):
        return al.cross_entropy(z, t, reduction="none")

    np.testing.assert_allclose(_torch_grad(ce, ys, ts), _fd_grad(ce, ys, ts),
                               rtol=1e-5, atol=1e-8)


def test_safe_softmax_cross_entropy_against_plain_implementation() -> None:
    """optax/losses/_classification_test.py::SafeSoftmaxCrossEntropyTest::
    test_against_plain_implementation (value and gradient of row 0 against the plain
    formula logsumexp(z) - t.z and softmax(z) - t)"""
    z, t = SAFE_YS[0].astype(np.float64), SAFE_TS[0].astype(np.float64)
    plain = np.log(np.sum(np.exp(z - z.max()))) + z.max() - np.dot(t, z)
    np.testing.assert_allclose(al.cross_entropy(z, t, reduction="none"), plain, atol=1e-4)
    g = _torch_grad(lambda a, b: al.cross_entropy(a, b, reduction="none"), z, t)
    np.testing.assert_allclose(g, _softmax(z) - t, atol=1e-4)


CEI_TS = np.array([1, 0], dtype=np.int32)


def test_softmax_cross_entropy_with_integer_labels_consistent_scalar() -> None:
    """optax/losses/_classification_test.py::SoftmaxCrossEntropyWithIntegerLabelsTest::
    test_consistent_with_softmax_cross_entropy_scalar"""
    exp = al.cross_entropy(CE_YS[0], np.eye(3, dtype=F32)[CEI_TS[0]], reduction="none")
    out = al.cross_entropy(CE_YS[0], np.asarray(CEI_TS[0]), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out, exp, rtol=1e-6)


def test_softmax_cross_entropy_with_integer_labels_consistent_batched() -> None:
    """optax/losses/_classification_test.py::SoftmaxCrossEntropyWithIntegerLabelsTest::
    test_consistent_with_softmax_cross_entropy_batched"""
    exp = al.cross_entropy(CE_YS, np.eye(3, dtype=F32)[CEI_TS], reduction="none")
    out = al.cross_entropy(CE_YS, CEI_TS, reduction="none")
    np.testing.assert_allclose(out, exp, rtol=1e-6)
    np.testing.assert_allclose(out, [9.00013, 3.0696733], atol=1e-4)


def test_softmax_cross_entropy_with_integer_labels_gradient() -> None:
    """optax/losses/_classification_test.py::SoftmaxCrossEntropyWithIntegerLabelsTest::
    test_gradient (finite differences; then a sample mask as ``weight``: finite gradients)"""
    ys = CE_YS.astype(np.float64)
    torch = _torch()

    def ce(z, y):
        return al.cross_entropy(z, y, reduction="none")

    labels = CEI_TS.astype(np.int64)
    g = _torch_grad(ce, ys, labels)
    np.testing.assert_allclose(g, _fd_grad(ce, ys, labels), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(g, _softmax(ys) - np.eye(3)[labels], rtol=1e-10, atol=1e-12)
    w = torch.tensor(CE_MASK.astype(np.float64))
    gm = _torch_grad(lambda z, y: al.cross_entropy(z, y, weight=w, reduction="sum"),
                     ys, labels)
    assert np.all(np.isfinite(gm))
    np.testing.assert_array_equal(gm[1], 0.0)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_softmax_cross_entropy_with_integer_labels_axis(axis: int) -> None:
    """optax/losses/_classification_test.py::SoftmaxCrossEntropyWithIntegerLabelsTest::
    test_axis"""
    rng = np.random.default_rng(10 + axis)
    shape = (4, 5, 6)
    preds = rng.normal(size=shape)
    targets = rng.integers(shape[axis], size=shape[:axis] + shape[axis + 1:])
    x = al.cross_entropy(preds, targets, axis=axis, reduction="none")
    y = al.cross_entropy(np.moveaxis(preds, axis, -1), targets, reduction="none")
    np.testing.assert_allclose(x, y, atol=1e-4)


# =========================================================================================
# optax/losses/_classification_test.py :: sigmoid binary cross-entropy

SIGMOID_CE_CASES = [
    ([-1e09, -1e-09], [1.0, 0.0], 5e08),
    ([-1e09, -1e-09], [0.0, 1.0], 0.3465736),
    ([1e09, 1e-09], [1.0, 0.0], 0.3465736),
    ([1e09, 1e-09], [0.0, 1.0], 5e08),
    ([-1e09, 1e-09], [1.0, 0.0], 5e08),
    ([-1e09, 1e-09], [0.0, 1.0], 0.3465736),
    ([1e09, -1e-09], [1.0, 0.0], 0.3465736),
    ([1e09, -1e-09], [0.0, 1.0], 5e08),
    ([0.0, 0.0], [1.0, 0.0], 0.6931472),
    ([0.0, 0.0], [0.0, 1.0], 0.6931472),
]


@pytest.mark.parametrize(("preds", "labels", "expected"), SIGMOID_CE_CASES,
                         ids=[f"params{i}" for i in range(len(SIGMOID_CE_CASES))])
def test_sigmoid_cross_entropy(preds, labels, expected) -> None:
    """optax/losses/_classification_test.py::SigmoidCrossEntropyTest::
    test_sigmoid_cross_entropy (jnp.mean of the elementwise loss = "mean")"""
    out = al.binary_cross_entropy_with_logits(np.array(preds), np.array(labels))
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


# =========================================================================================
# optax/losses/_classification_test.py :: hinge and perceptron


def _hinge_ref(label, logit, margin=1.0):
    return np.maximum(margin - logit * (2.0 * label - 1.0), 0.0)


def _cs_ref(label, scores, margin=1.0):
    """Crammer-Singer hinge: max_j(s_j + margin [j != y]) - s_y."""
    onehot = np.eye(scores.shape[-1])[label]
    return np.max(scores + margin * (1.0 - onehot), axis=-1) - np.take_along_axis(
        scores, np.asarray(label)[..., None], axis=-1)[..., 0]


def test_hinge_binary() -> None:
    """optax/losses/_classification_test.py::HingeTest::test_binary"""
    label, score = np.asarray(1), np.asarray(10.0)
    out = al.hinge_loss(score, np.asarray(2.0 * label - 1.0), reduction="none")
    np.testing.assert_allclose(out, _hinge_ref(label, score), atol=1e-4)


def test_hinge_batched_binary() -> None:
    """optax/losses/_classification_test.py::HingeTest::test_batched_binary"""
    labels, scores = np.array([1, 0]), np.array([10.0, 20.0])
    out = al.hinge_loss(scores, 2.0 * labels - 1.0, reduction="none")
    np.testing.assert_allclose(out, _hinge_ref(labels, scores), atol=1e-4)
    np.testing.assert_allclose(out, [0.0, 21.0], atol=1e-4)


def test_hinge_multi_class() -> None:
    """optax/losses/_classification_test.py::HingeTest::test_multi_class"""
    label, scores = np.asarray(1), np.array([10.0, 3.0])
    out = al.multiclass_hinge_loss(scores, label, reduction="none")
    np.testing.assert_allclose(out, _cs_ref(label, scores), atol=1e-4)
    np.testing.assert_allclose(out, 8.0, atol=1e-4)


def test_hinge_batched_multi_class() -> None:
    """optax/losses/_classification_test.py::HingeTest::test_batched_multi_class"""
    labels, scores = np.array([1, 0]), np.array([[10.0, 3.0], [11.0, -2.0]])
    out = al.multiclass_hinge_loss(scores, labels, reduction="none")
    np.testing.assert_allclose(out, _cs_ref(labels, scores), atol=1e-4)
    np.testing.assert_allclose(out, [8.0, 0.0], atol=1e-4)


def test_perceptron_binary() -> None:
    """optax/losses/_classification_test.py::PerceptronTest::test_binary
    (perceptron_loss = hinge_loss(margin=0))"""
    label, score = np.asarray(1), np.asarray(10.0)
    out = al.hinge_loss(score, np.asarray(2.0 * label - 1.0), margin=0.0,
                       reduction="none")
    np.testing.assert_allclose(out, _hinge_ref(label, score, margin=0.0), atol=1e-4)


def test_perceptron_batched_binary() -> None:
    """optax/losses/_classification_test.py::PerceptronTest::test_batched_binary"""
    labels, scores = np.array([1, 0]), np.array([10.0, 20.0])
    out = al.hinge_loss(scores, 2.0 * labels - 1.0, margin=0.0, reduction="none")
    np.testing.assert_allclose(out, [0.0, 20.0], atol=1e-4)


def test_perceptron_multi_class() -> None:
    """optax/losses/_classification_test.py::PerceptronTest::test_multi_class
    (multiclass_perceptron_loss = max(s) - s_y = multiclass_hinge_loss(margin=0))"""
    label, scores = np.asarray(1), np.array([10.0, 3.0])
    out = al.multiclass_hinge_loss(scores, label, margin=0.0, reduction="none")
    np.testing.assert_allclose(out, np.max(scores) - scores[1], atol=1e-4)


def test_perceptron_batched_multi_class() -> None:
    """optax/losses/_classification_test.py::PerceptronTest::test_batched_multi_class"""
    labels, scores = np.array([1, 0]), np.array([[10.0, 3.0], [11.0, -2.0]])
    out = al.multiclass_hinge_loss(scores, labels, margin=0.0, reduction="none")
    np.testing.assert_allclose(out, [7.0, 0.0], atol=1e-4)


# =========================================================================================
# optax/losses/_classification_test.py :: KL divergence

KL_LOG_PS = np.array([[-2.9957, -3.5066, -3.9120, -1.2040, -0.6931, -2.3026],
                      [-1.6094, -1.6094, -1.6094, -2.3026, -1.8971, -1.8971]])
KL_QS = np.array([[0.2, 0.2, 0.2, 0.1, 0.15, 0.15], [0.05, 0.03, 0.02, 0.3, 0.5, 0.0]])
KL_EXP = np.array([0.8875577, 0.7592807])
KL_LOG_QS = np.array([[-1.6094, -1.6094, -1.6094, -2.3026, -1.8971, -1.8971],
                      [-2.9957, -3.5066, -3.9120, -1.2040, -0.6931, -2.3026]])
KL_LOG_EXP = np.array([0.8875625, 0.7187435584901326])


def test_kl_divergence_scalar() -> None:
    """optax/losses/_classification_test.py::KLDivergenceTest::test_scalar"""
    np.testing.assert_allclose(al.kl_divergence(KL_LOG_PS[0], KL_QS[0], reduction="none"),
                               KL_EXP[0], atol=1e-4)


def test_kl_divergence_batched() -> None:
    """optax/losses/_classification_test.py::KLDivergenceTest::test_batched
    (row 2 has a zero target probability: 0 log 0 = 0)"""
    np.testing.assert_allclose(al.kl_divergence(KL_LOG_PS, KL_QS, reduction="none"), KL_EXP,
                               atol=1e-4)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_kl_divergence_axis(axis: int) -> None:
    """optax/losses/_classification_test.py::KLDivergenceTest::test_axis"""
    rng = np.random.default_rng(20 + axis)
    shape = (4, 5, 6)
    preds = rng.normal(size=shape)
    targets = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    x = al.kl_divergence(preds, targets, axis=axis, reduction="none")
    y = al.kl_divergence(np.moveaxis(preds, axis, -1), np.moveaxis(targets, axis, -1),
                         reduction="none")
    np.testing.assert_allclose(x, y, atol=1e-4)


def test_kl_divergence_with_log_targets_scalar() -> None:
    """optax/losses/_classification_test.py::KLDivergenceWithLogTargetsTest::test_scalar"""
    out = al.kl_divergence(KL_LOG_PS[0], KL_LOG_QS[0], log_target=True, reduction="none")
    np.testing.assert_allclose(out, KL_LOG_EXP[0], atol=1e-4)


def test_kl_divergence_with_log_targets_batched() -> None:
    """optax/losses/_classification_test.py::KLDivergenceWithLogTargetsTest::test_batched"""
    out = al.kl_divergence(KL_LOG_PS, KL_LOG_QS, log_target=True, reduction="none")
    np.testing.assert_allclose(out, KL_LOG_EXP, atol=1e-4)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_kl_divergence_with_log_targets_axis(axis: int) -> None:
    """optax/losses/_classification_test.py::KLDivergenceWithLogTargetsTest::test_axis"""
    rng = np.random.default_rng(30 + axis)
    shape = (4, 5, 6)
    preds = rng.normal(size=shape)
    targets = np.log(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
    x = al.kl_divergence(preds, targets, axis=axis, log_target=True, reduction="none")
    y = al.kl_divergence(np.moveaxis(preds, axis, -1), np.moveaxis(targets, axis, -1),
                         log_target=True, reduction="none")
    np.testing.assert_allclose(x, y, atol=1e-4)


# =========================================================================================
# optax/losses/_classification_test.py :: sigmoid focal loss

FOCAL_YS = np.array([[2.0, 0.1, -2.0], [0.3, -0.1, 1.2]], dtype=F32)
FOCAL_TS = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
FOCAL_RTOL = 2e-5


def _logit32(p):
    p = np.asarray(p, dtype=F32)
    return np.log(p / (F32(1.0) - p))


FOCAL_LARGE_YS = _logit32([0.9, 0.98, 0.3, 0.99])
FOCAL_SMALL_YS = _logit32([0.1, 0.02, 0.09, 0.15])
FOCAL_ONES = np.ones(4, dtype=F32)


def _bce(z, y):
    return al.binary_cross_entropy_with_logits(z, y, reduction="none")


def test_sigmoid_focal_equals_ce() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::test_focal_equals_ce
    (gamma=0 and no alpha is the cross-entropy)"""
    out = al.sigmoid_focal_loss(FOCAL_YS, FOCAL_TS, alpha=None, gamma=0.0, reduction="none")
    np.testing.assert_allclose(out, _bce(FOCAL_YS, FOCAL_TS), rtol=FOCAL_RTOL)
    np.testing.assert_allclose(out, _bce_logits_ref(FOCAL_YS, FOCAL_TS), rtol=FOCAL_RTOL)


def test_sigmoid_focal_gamma_zero_matches_binary_cross_entropy() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::
    test_focal_gamma_zero_matches_binary_cross_entropy"""
    z = np.array([[-1.0, 0.0, 1.0], [2.0, -2.0, 0.5]], dtype=F32)
    y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]], dtype=F32)
    out = al.sigmoid_focal_loss(z, y, alpha=None, gamma=0.0, reduction="none")
    np.testing.assert_allclose(out, _bce(z, y), rtol=FOCAL_RTOL)
    np.testing.assert_allclose(out, _bce_logits_ref(z, y), rtol=FOCAL_RTOL)


def test_sigmoid_focal_scale() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::test_scale
    (focal / CE = (1 - p_t)^gamma)"""
    gamma = 2
    focal = al.sigmoid_focal_loss(FOCAL_YS, FOCAL_TS, alpha=None, gamma=gamma,
                                  reduction="none")
    p = _sigmoid(FOCAL_YS.astype(np.float64))
    p_t = p * FOCAL_TS + (1 - p) * (1 - FOCAL_TS)
    np.testing.assert_allclose(focal / _bce(FOCAL_YS, FOCAL_TS), (1 - p_t) ** gamma,
                               rtol=FOCAL_RTOL)


def test_sigmoid_focal_large_logit_fl_less_than_ce() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::
    test_large_logit_fl_less_than_ce (gamma=2, alpha=0.5)"""
    focal = al.sigmoid_focal_loss(FOCAL_LARGE_YS, FOCAL_ONES, gamma=2, alpha=0.5,
                                  reduction="none")
    ratio = _bce(FOCAL_LARGE_YS, FOCAL_ONES) / focal
    expected = 2.0 / (1.0 - _sigmoid(FOCAL_LARGE_YS.astype(np.float64))) ** 2
    np.testing.assert_allclose(ratio, expected, rtol=FOCAL_RTOL)


def test_sigmoid_focal_small_logit_fl_less_than_ce() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::
    test_small_logit_fl_less_than_ce (gamma=2, no alpha)"""
    focal = al.sigmoid_focal_loss(FOCAL_SMALL_YS, FOCAL_ONES, gamma=2, alpha=None,
                                  reduction="none")
    ratio = _bce(FOCAL_SMALL_YS, FOCAL_ONES) / focal
    expected = 1.0 / (1.0 - _sigmoid(FOCAL_SMALL_YS.astype(np.float64))) ** 2
    np.testing.assert_allclose(ratio, expected, rtol=FOCAL_RTOL)


def test_sigmoid_focal_alpha_one() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::test_alpha_one"""
    out = al.sigmoid_focal_loss(FOCAL_YS, FOCAL_TS, gamma=0.0, alpha=1.0, reduction="none")
    np.testing.assert_allclose(out, _bce(FOCAL_YS, FOCAL_TS) * FOCAL_TS, rtol=FOCAL_RTOL)


def test_sigmoid_focal_ignore_positive() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::test_ignore_positive
    (alpha=0: positives weigh nothing)"""
    focal = al.sigmoid_focal_loss(FOCAL_YS, FOCAL_TS, alpha=0.0, reduction="none")
    ce = _bce(FOCAL_YS, FOCAL_TS)
    pos = FOCAL_TS == 1
    assert np.all(ce[pos] > 0)
    assert np.all(focal[pos] == 0)
    assert np.all(focal[~pos] > 0)


def test_sigmoid_focal_ignore_negative() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::test_ignore_negative
    (alpha=1: negatives weigh nothing)"""
    focal = al.sigmoid_focal_loss(FOCAL_YS, FOCAL_TS, alpha=1.0, reduction="none")
    ce = _bce(FOCAL_YS, FOCAL_TS)
    neg = FOCAL_TS == 0
    assert np.all(ce[neg] > 0)
    assert np.all(focal[neg] == 0)
    assert np.all(focal[~neg] > 0)


def test_sigmoid_focal_extreme_logits_finite_gradients() -> None:
    """optax/losses/_classification_test.py::SigmoidFocalLossTest::
    test_extreme_logits_finite_gradients (gamma=0.5, soft labels; value, gradient and
    Hessian finite, float32 under jax.jit as in optax)"""
    jax = _jax()
    import jax.numpy as jnp

    logits = jnp.array([100.0, -100.0, 75.0, -75.0, 50.0, -50.0], dtype=jnp.float32)
    labels = jnp.array([0.9, 0.1, 0.8, 0.2, 1.0, 0.0], dtype=jnp.float32)

    def loss_fn(z):
        return jnp.sum(al.sigmoid_focal_loss(z, labels, alpha=None, gamma=0.5,
                                             reduction="none"))

    # one jit around value, gradient and Hessian (one compilation)
    value, grad, hess = jax.jit(
        lambda z: (loss_fn(z), jax.grad(loss_fn)(z), jax.hessian(loss_fn)(z)))(logits)
    assert bool(jnp.isfinite(value))
    assert bool(jnp.all(jnp.isfinite(grad)))
    assert bool(jnp.all(jnp.isfinite(hess)))


# =========================================================================================
# optax/losses/_smoothing_test.py (smooth_labels, through cross_entropy's label_smoothing)

SMOOTH_TS = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=F32)


def _smoothed(alpha):
    return (1 - alpha) * SMOOTH_TS + alpha / SMOOTH_TS.shape[-1]


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
def test_smooth_labels_scalar(alpha: float) -> None:
    """optax/losses/_smoothing_test.py::SmoothLabelsTest::test_scalar
    (smooth_labels(t, a) as target of cross_entropy == cross_entropy(label_smoothing=a);
    logits from SoftmaxCrossEntropyTest)"""
    out = al.cross_entropy(CE_YS[0], SMOOTH_TS[0], label_smoothing=alpha, reduction="none")
    exp = al.cross_entropy(CE_YS[0], _smoothed(alpha)[0].astype(F32), reduction="none")
    np.testing.assert_allclose(out, exp, atol=1e-4)
    ref = -np.sum(_smoothed(alpha)[0] * np.log(_softmax(CE_YS[0].astype(np.float64))))
    np.testing.assert_allclose(out, ref, atol=1e-4)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
def test_smooth_labels_batched(alpha: float) -> None:
    """optax/losses/_smoothing_test.py::SmoothLabelsTest::test_batched (dense targets and the
    same targets as integer labels)"""
    ref = -np.sum(_smoothed(alpha) * np.log(_softmax(CE_YS.astype(np.float64))), axis=-1)
    dense = al.cross_entropy(CE_YS, SMOOTH_TS, label_smoothing=alpha, reduction="none")
    sparse = al.cross_entropy(CE_YS, np.argmax(SMOOTH_TS, axis=-1), label_smoothing=alpha,
                              reduction="none")
    np.testing.assert_allclose(dense, ref, atol=1e-4)
    np.testing.assert_allclose(sparse, ref, atol=1e-4)


# =========================================================================================
# optax/losses/_segmentation_test.py (optax.losses.dice_loss)


def _activation(pred, apply_softmax=True):
    if not apply_softmax:
        return None
    return "sigmoid" if pred.shape[-1] == 1 else "softmax"


def _al_dice(pred, target, *, smooth=1.0, apply_softmax=True, class_weights=None,
             reduction="none"):
    """arrayloss for optax.losses.dice_loss(pred, target, smooth=s) with alpha = beta = 0.5:
    dice_loss with twice the smoothing, per (image, class)."""
    return al.dice_loss(pred, target, axis=-1, activation=_activation(pred, apply_softmax),
                        per_image=True, smooth=2.0 * smooth, class_weight=class_weights,
                        reduction=reduction)


def _optax_dice(pred, target, *, smooth=1.0, alpha=0.5, beta=0.5, apply_softmax=True,
                class_weights=None, reduction="mean", ignore_background=False):
    """optax.losses.dice_loss written out in float64 NumPy (the reference of these tests;
    ``test_dice_loss_reduction_modes`` checks it against the installed optax)."""
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if apply_softmax:
        p = _sigmoid(p) if p.shape[-1] == 1 else _softmax(p)
    axes = tuple(range(1, p.ndim - 1))
    inter, ps, ts = np.sum(p * t, axis=axes), np.sum(p, axis=axes), np.sum(t, axis=axes)
    loss = 1.0 - (inter + smooth) / (inter + alpha * (ps - inter) + beta * (ts - inter)
                                     + smooth)
    if class_weights is not None:
        loss = loss * np.asarray(class_weights, dtype=np.float64)
    if ignore_background and p.shape[-1] > 1:
        loss = loss[..., 1:]
    return {"mean": loss.mean(-1), "sum": loss.sum(-1), "none": loss}[reduction]


def _onehot(labels, c):
    return np.eye(c, dtype=F32)[labels]


BINARY_SHAPES = [(4, 64, 64, 1), (2, 32, 32, 32, 1), (1, 128, 128, 1)]
MULTICLASS_SHAPES = [(4, 64, 64, 3), (2, 32, 32, 5), (1, 128, 128, 10)]


@pytest.mark.parametrize("shape", BINARY_SHAPES + MULTICLASS_SHAPES,
                         ids=[f"binary{s}" for s in BINARY_SHAPES]
                         + [f"multiclass{s}" for s in MULTICLASS_SHAPES])
def test_dice_loss_shapes(shape) -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_dice_loss_shapes
    ("none" is (B, C); its class mean is optax's (B,) result, finite and equal to optax)"""
    rng = np.random.default_rng(sum(shape))
    pred = rng.normal(size=shape).astype(F32)
    if shape[-1] == 1:
        target = rng.random(shape) < 0.5
    else:
        target = _onehot(rng.integers(0, shape[-1], size=shape[:-1]), shape[-1])
    out = _al_dice(pred, target)
    assert out.shape == (shape[0], shape[-1])
    per_image = out.mean(axis=-1)
    assert per_image.shape == shape[:1]
    assert np.all(np.isfinite(per_image))
    np.testing.assert_allclose(per_image, _optax_dice(pred, target), rtol=1e-5, atol=1e-6)


DICE_T = np.array([[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]]], dtype=F32)[..., None]


def test_dice_loss_perfect_overlap_binary() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_perfect_overlap_binary"""
    logits = np.where(DICE_T > 0, 10.0, -10.0).astype(F32)
    loss = _al_dice(logits, DICE_T, smooth=1.0)
    assert float(np.mean(loss)) < 0.01
    np.testing.assert_allclose(loss.mean(-1), _optax_dice(logits, DICE_T, smooth=1.0),
                               rtol=1e-5, atol=1e-7)


def test_dice_loss_no_overlap_binary() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_no_overlap_binary"""
    logits = np.where(DICE_T > 0, -10.0, 10.0).astype(F32)
    loss = _al_dice(logits, DICE_T, smooth=1.0)
    assert float(np.mean(loss)) > 0.7
    np.testing.assert_allclose(loss.mean(-1), _optax_dice(logits, DICE_T, smooth=1.0),
                               rtol=1e-5, atol=1e-7)


def test_dice_loss_perfect_overlap_multiclass() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_perfect_overlap_multiclass"""
    target = _onehot(np.array([[0, 1, 2], [1, 0, 2], [2, 2, 1]]), 3)[None]
    logits = np.where(target > 0, 10.0, -10.0).astype(F32)
    loss = _al_dice(logits, target, smooth=1.0)
    assert float(np.mean(loss)) < 0.01
    # the same target as integer labels (one-hot encoded inside arrayloss)
    labels = np.array([[[0, 1, 2], [1, 0, 2], [2, 2, 1]]])
    np.testing.assert_allclose(_al_dice(logits, labels, smooth=1.0), loss, rtol=1e-6)
    np.testing.assert_allclose(loss.mean(-1), _optax_dice(logits, target, smooth=1.0),
                               rtol=1e-5, atol=1e-7)


def test_dice_loss_bounds() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_loss_bounds (10 random binary
    and 4-class cases: every entry in [0, 1])"""
    rng = np.random.default_rng(42)
    for _ in range(10):
        pred = rng.normal(size=(2, 16, 16, 1)).astype(F32)
        target = rng.random((2, 16, 16, 1)) < 0.3
        loss = _al_dice(pred, target)
        assert np.all(loss >= 0.0) and np.all(loss <= 1.0)
        np.testing.assert_allclose(loss.mean(-1), _optax_dice(pred, target), rtol=1e-5,
                                   atol=1e-6)
        pred = rng.normal(size=(2, 16, 16, 4)).astype(F32)
        labels = rng.integers(0, 4, size=(2, 16, 16))
        loss = _al_dice(pred, labels)
        assert np.all(loss >= 0.0) and np.all(loss <= 1.0)
        np.testing.assert_allclose(loss.mean(-1), _optax_dice(pred, _onehot(labels, 4)),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("smooth", [0.0, 1.0, 10.0])
def test_dice_loss_smoothing_parameter(smooth: float) -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_smoothing_parameter"""
    rng = np.random.default_rng(int(smooth))
    pred = rng.normal(size=(2, 8, 8, 1)).astype(F32)
    target = rng.random((2, 8, 8, 1)) < 0.5
    loss = _al_dice(pred, target, smooth=smooth)
    assert np.all(np.isfinite(loss))
    assert np.all(loss >= 0.0) and np.all(loss <= 1.0)
    np.testing.assert_allclose(loss.mean(-1), _optax_dice(pred, target, smooth=smooth),
                               rtol=1e-5, atol=1e-6)


def test_dice_loss_class_weights() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_class_weights"""
    rng = np.random.default_rng(3)
    pred = rng.normal(size=(2, 16, 16, 3)).astype(F32)
    target = _onehot(rng.integers(0, 3, size=(2, 16, 16)), 3)
    equal = _al_dice(pred, target, class_weights=np.ones(3, dtype=F32))
    none = _al_dice(pred, target, class_weights=None)
    np.testing.assert_allclose(equal, none, rtol=1e-6)
    custom = np.array([1.0, 2.0, 0.5], dtype=F32)
    weighted = _al_dice(pred, target, class_weights=custom)
    assert not np.allclose(weighted, none)
    np.testing.assert_allclose(weighted, none * custom, rtol=1e-6)
    np.testing.assert_allclose(weighted.mean(-1),
                               _optax_dice(pred, target, class_weights=custom),
                               rtol=1e-5, atol=1e-6)
    # "mean" divides by the number of (image, class) entries, as optax's class mean
    np.testing.assert_allclose(_al_dice(pred, target, class_weights=custom, reduction="mean"),
                               weighted.mean(), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_dice_loss_reduction_modes(reduction: str) -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_reduction_modes
    (optax reduces over classes per image; arrayloss's "none" is the (B, C) matrix, "mean"
    and "sum" reduce over all entries)"""
    rng = np.random.default_rng(5)
    pred = rng.normal(size=(2, 16, 16, 3)).astype(F32)
    target = _onehot(rng.integers(0, 3, size=(2, 16, 16)), 3)
    loss = _al_dice(pred, target, reduction=reduction)
    ref = _optax_dice(pred, target, reduction=reduction)
    np.testing.assert_allclose(
        np.asarray(_optax_losses().dice_loss(pred, target, reduction=reduction)), ref,
        rtol=1e-5, atol=1e-6)  # the NumPy reference is optax's dice_loss
    assert np.all(np.isfinite(loss))
    if reduction == "none":
        assert loss.shape == (2, 3)
        np.testing.assert_allclose(loss, ref, rtol=1e-5, atol=1e-6)
    elif reduction == "mean":
        assert loss.shape == ()
        np.testing.assert_allclose(loss, ref.mean(), rtol=1e-5, atol=1e-6)
    else:
        assert loss.shape == ()
        np.testing.assert_allclose(loss, ref.sum(), rtol=1e-5, atol=1e-6)


def test_dice_loss_gradient_computation() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_gradient_computation"""
    torch = _torch()
    rng = np.random.default_rng(7)
    pred = rng.normal(size=(1, 8, 8, 1))
    target = torch.as_tensor(rng.random((1, 8, 8, 1)) < 0.3)
    g = _torch_grad(lambda p, t: _al_dice(p, t, reduction="mean"), pred, target)
    assert g.shape == pred.shape
    assert np.all(np.isfinite(g))
    assert np.any(g != 0.0)


def test_dice_loss_numerical_stability() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_numerical_stability
    (logits +-100, all-ones target)"""
    target = np.ones((1, 4, 4, 1), dtype=F32)
    for value in (100.0, -100.0):
        pred = np.full((1, 4, 4, 1), value, dtype=F32)
        loss = _al_dice(pred, target)
        assert np.all(np.isfinite(loss))
        np.testing.assert_allclose(loss.mean(-1), _optax_dice(pred, target), rtol=1e-5,
                                   atol=1e-6)


def test_dice_loss_apply_softmax_flag() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_apply_softmax_flag
    (activation="softmax" on logits == activation=None on their softmax)"""
    rng = np.random.default_rng(9)
    logits = rng.normal(size=(1, 8, 8, 3)).astype(F32)
    target = _onehot(rng.integers(0, 3, size=(1, 8, 8)), 3)
    with_softmax = _al_dice(logits, target, apply_softmax=True)
    probs = _softmax(logits.astype(np.float64)).astype(F32)
    without = _al_dice(probs, target, apply_softmax=False)
    np.testing.assert_allclose(with_softmax, without, rtol=1e-6)


def test_binary_dice_loss_convenience() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_binary_dice_loss_convenience
    ((B, H, W) binary input is axis=None; (B, H, W, 1) is a class axis of size 1)"""
    rng = np.random.default_rng(11)
    pred = rng.normal(size=(2, 16, 16)).astype(F32)
    target = rng.random((2, 16, 16)) < 0.3
    loss_2d = al.dice_loss(pred, target, axis=None, activation="sigmoid", smooth=2.0,
                           reduction="none")
    assert loss_2d.shape == (2,)
    assert np.all(np.isfinite(loss_2d))
    loss_3d = _al_dice(pred[..., None], target[..., None])
    np.testing.assert_allclose(loss_2d, loss_3d[:, 0], rtol=1e-5)
    ref = _optax_dice(pred[..., None], target[..., None])  # optax's binary_dice_loss
    np.testing.assert_allclose(loss_2d, ref, rtol=1e-5, atol=1e-6)


def test_dice_loss_edge_cases() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_edge_cases (all-zeros and
    all-ones targets, smooth=1)"""
    rng = np.random.default_rng(13)
    pred = rng.normal(size=(1, 4, 4, 1)).astype(F32)
    for target in (np.zeros((1, 4, 4, 1), dtype=F32), np.ones((1, 4, 4, 1), dtype=F32)):
        loss = _al_dice(pred, target, smooth=1.0)
        assert np.all(np.isfinite(loss))
        np.testing.assert_allclose(loss.mean(-1), _optax_dice(pred, target, smooth=1.0),
                                   rtol=1e-5, atol=1e-6)


def test_dice_loss_shape_mismatch_error() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_shape_mismatch_error"""
    rng = np.random.default_rng(15)
    pred = rng.normal(size=(2, 16, 16, 3)).astype(F32)
    target = rng.random((2, 16, 16, 2)) < 0.5
    with pytest.raises(ValueError):
        _al_dice(pred, target)


def test_dice_loss_jit_compilation() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_jit_compilation"""
    jax = _jax()
    import jax.numpy as jnp

    rng = np.random.default_rng(17)
    pred = jnp.asarray(rng.normal(size=(2, 8, 1)).astype(F32))
    target = jnp.asarray(rng.random((2, 8, 1)) < 0.3)
    eager = _al_dice(pred, target)
    jitted = jax.jit(lambda p, t: _al_dice(p, t))(pred, target)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(eager).mean(-1),
                               _optax_dice(np.asarray(pred), np.asarray(target)), rtol=1e-5,
                               atol=1e-6)


def test_dice_loss_vmap_compatibility() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_vmap_compatibility
    (a one-image loss vmapped over 4 images == the per-image "none" of the batch)"""
    jax = _jax()
    import jax.numpy as jnp

    rng = np.random.default_rng(19)
    pred = jnp.asarray(rng.normal(size=(4, 4, 1)).astype(F32))
    target = jnp.asarray(rng.random((4, 4, 1)) < 0.3)
    batched = jax.jit(jax.vmap(lambda p, t: _al_dice(p[None], t[None])))(pred, target)
    assert batched.shape == (4, 1, 1)
    assert bool(jnp.all(jnp.isfinite(batched)))
    whole = _al_dice(pred, target)  # (4, 1): images on axis 0
    np.testing.assert_allclose(np.asarray(batched)[:, 0, :], np.asarray(whole), rtol=1e-6)


def test_dice_loss_ignore_background_parameter() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_ignore_background_parameter
    (arrayloss has no ignore_background: the per-class matrix without column 0 equals optax's
    ignore_background=True output; a single class is unaffected)"""
    rng = np.random.default_rng(21)
    pred = rng.normal(size=(2, 8, 8, 3)).astype(F32)
    target = _onehot(rng.integers(0, 3, size=(2, 8, 8)), 3)
    with_bg = _al_dice(pred, target)
    assert with_bg.shape == (2, 3)
    no_bg = _optax_dice(pred, target, ignore_background=True, reduction="none")
    assert no_bg.shape == (2, 2)
    np.testing.assert_allclose(with_bg[..., 1:], no_bg, rtol=1e-5, atol=1e-6)
    bpred = rng.normal(size=(2, 8, 8, 1)).astype(F32)
    btarget = rng.random((2, 8, 8, 1)) < 0.5
    np.testing.assert_allclose(_al_dice(bpred, btarget).mean(-1),
                               _optax_dice(bpred, btarget, ignore_background=True),
                               rtol=1e-5, atol=1e-6)


def test_dice_loss_weighting_parameters() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_dice_loss_weighting_parameters
    (optax's alpha/beta dice = arrayloss's tversky_loss: alpha on FP, beta on FN, smoothing
    added as is; the default 0.5/0.5 = dice_loss with twice the smoothing)"""
    probs = np.array([[[0.1, 0.9], [0.8, 0.2]]])  # (1, 2, 2): 2 pixels, 2 classes
    targets = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    smooth, alpha, beta = 1.0, 0.3, 0.7

    def expected(a, b):
        inter = np.sum(probs * targets, axis=1)
        ps, ts = np.sum(probs, axis=1), np.sum(targets, axis=1)
        coeff = (inter + smooth) / (inter + a * (ps - inter) + b * (ts - inter) + smooth)
        return np.mean(1.0 - coeff, axis=-1)

    loss = al.tversky_loss(probs, targets, alpha=alpha, beta=beta, axis=-1, smooth=smooth,
                           reduction="none").mean(-1)
    np.testing.assert_allclose(loss, expected(alpha, beta), rtol=1e-6)
    dice = _al_dice(probs, targets, smooth=smooth, apply_softmax=False).mean(-1)
    np.testing.assert_allclose(dice, expected(0.5, 0.5), rtol=1e-6)
    tv = al.tversky_loss(probs, targets, axis=-1, smooth=smooth, reduction="none").mean(-1)
    np.testing.assert_allclose(tv, expected(0.5, 0.5), rtol=1e-6)


def test_dice_loss_improved_shape_handling() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_improved_shape_handling

    Deliberate difference: optax adds a missing size-1 class axis to whichever input lacks
    it; arrayloss never broadcasts ``pred`` against ``target`` (cases 1 and 2 raise: a
    target with the shape of ``pred`` without the class axis must hold integer labels, and a
    bool one is refused). Case 3 (matching shapes) is computed and equals optax."""
    rng = np.random.default_rng(23)
    pred_no_ch = rng.normal(size=(2, 8, 8)).astype(F32)
    target_ch = rng.random((2, 8, 8, 1)) < 0.5
    with pytest.raises(ValueError):
        _al_dice(pred_no_ch, target_ch)
    pred_ch = rng.normal(size=(2, 8, 8, 1)).astype(F32)
    target_no_ch = rng.random((2, 8, 8)) < 0.5
    with pytest.raises((TypeError, ValueError)):
        _al_dice(pred_ch, target_no_ch)
    target_match = rng.random((2, 8, 8, 1)) < 0.5
    loss = _al_dice(pred_ch, target_match)
    assert loss.mean(-1).shape == (2,)
    assert np.all(np.isfinite(loss))
    np.testing.assert_allclose(loss.mean(-1), _optax_dice(pred_ch, target_match), rtol=1e-5,
                               atol=1e-6)


def test_dice_loss_probability_validation() -> None:
    """optax/losses/_segmentation_test.py::DiceLossTest::test_probability_validation

    Valid probabilities give finite values (equal to optax). Deliberate difference: optax
    refuses probabilities that do not sum to 1 along the class axis; arrayloss accepts any
    values in [0, 1] (multi-label / sigmoid outputs) and computes the Dice of them, checked
    here against the formula."""
    rng = np.random.default_rng(25)
    logits = rng.normal(size=(2, 8, 8, 3))
    valid = _softmax(logits).astype(F32)
    target = rng.random((2, 8, 8, 3)) < 0.3
    loss = _al_dice(valid, target, apply_softmax=False)
    assert np.all(np.isfinite(loss))
    np.testing.assert_allclose(loss.mean(-1),
                               _optax_dice(valid, target, apply_softmax=False),
                               rtol=1e-5, atol=1e-6)
    invalid = rng.random((2, 8, 8, 3)).astype(F32)
    loss = _al_dice(invalid, target, apply_softmax=False)
    p, g = invalid.astype(np.float64), target.astype(np.float64)
    tp, sp, sg = (p * g).sum((1, 2)), p.sum((1, 2)), g.sum((1, 2))
    np.testing.assert_allclose(loss, 1.0 - (2 * tp + 2.0) / (sp + sg + 2.0), rtol=1e-5)
