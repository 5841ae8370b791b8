"""Test cases ported from kornia's own loss tests (``kornia/kornia``, ``tests/losses/``).

Every test names the kornia test it comes from in its docstring (file, class, test); a
parametrized peer test keeps its rows. The inputs and literal expected numbers are kornia's
test data; where kornia computes its expectation with its own function, the expectation is
computed here with the installed kornia or with a reference written in this file.

Option mapping between kornia and arrayloss:

- **Layout.** kornia takes channels-first logits ``(B, C, H, W)`` and int64 labels
  ``(B, H, W)``; arrayloss takes the same arrays with ``axis=1``.
- **focal_loss -> softmax_focal_loss(axis=1).** kornia's scalar ``alpha=a`` is the vector
  ``[1 - a, a, ..., a]`` (class 0 as background); kornia's ``weight`` is ``class_weight``.
  kornia's ``"none"`` is a ``(B, C, ...)`` map holding each pixel's loss in its target slice;
  arrayloss's ``"none"`` is that map summed over the class axis. ``"sum"`` agrees. kornia's
  ``"mean"`` divides the sum by every element of the map (``C`` times the pixel count,
  ignored pixels included); arrayloss divides by the number of non-ignored pixels, or by
  ``sum(class_weight[y])`` with class weights (torch cross-entropy semantics), on purpose.
- **binary_focal_loss_with_logits -> sigmoid_focal_loss.** Same ``alpha``/``gamma`` and the
  same plain mean. kornia's per-channel ``weight`` ``(C,)`` is arrayloss's ``weight`` reshaped
  to ``(C, 1, ...)``. On hard {0, 1} targets the two agree; on soft targets arrayloss uses
  torchvision's ``alpha_t (1 - p_t)^gamma BCE`` (kornia weights its two terms by ``t`` and
  ``1 - t``). arrayloss's sigmoid focal loss has no ``pos_weight`` and no ``ignore_index``.
- **dice_loss.** kornia's ``average="micro"`` pools the classes and pixels of each image into
  one Dice: arrayloss ``dice_loss(axis=None)`` on the flattened (class x pixel) softmax
  probabilities and one-hot targets (one entry per image, mean over images). kornia's
  ``average="macro"`` and ``tversky_loss`` average, per image, the classes present in that
  image's non-ignored labels (weighted by the normalised ``weight``), then the images: arrayloss
  ``reduction="none"`` gives the ``(B, C)`` entries, averaged the same way here. arrayloss's own
  ``"mean"`` keeps classes absent from the target (MONAI semantics: at ``smooth=0`` such a class
  with any predicted mass scores 0, loss 1) and leaves images whose pixels are all ignored out of
  the count (kornia counts them as loss 1). kornia adds ``eps`` (1e-8) to the denominator;
  arrayloss clamps the denominator at ``eps``: the values differ by about 1e-8.
- **lovasz_hinge_loss.** kornia's ``(B, 1, H, W)`` logits are arrayloss's ``(B, H, W)`` pred.
- **lovasz_softmax_loss.** kornia's loss is ``per_image=True, classes="all",
  activation="softmax", axis=1``; kornia's ``weight`` is ``class_weight`` (it multiplies the
  entries and the mean still divides by ``B*C``, in both).
- **kl_div_loss_2d(pred, target)** is ``KL(target || pred)`` over ``H*W`` per ``(b, n)``:
  ``kl_divergence(log(pred), target)`` with ``H*W`` flattened into the last axis; ``"mean"``
  averages over the ``B*N`` distributions in both.
- Options arrayloss validates (``alpha`` outside [0, 1], ``gamma < 0``, an ``ignore_index`` that
  is a valid class, ``eps <= 0``, probabilities outside [0, 1]) raise ``ValueError`` where kornia
  accepts them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import arrayloss as al
from conftest import numpy64 as _np
from conftest import require_module
from conftest import torch_or_skip as _torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HALF = ("float16", "bfloat16")


def _kornia():
    """The installed kornia (its losses are the reference of the computed cases)."""
    require_module("kornia")
    import kornia.losses

    return kornia


def _close(got, expected, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    g, e = _np(got), _np(expected)
    assert g.shape == e.shape, (g.shape, e.shape)
    np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


def _rand(torch, *shape, seed: int, dtype=None):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=dtype or torch.float64)


def _randint(torch, high: int, shape, seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, shape, generator=g)


def _dtype(torch, name: str):
    return getattr(torch, name)


def _result_dtype(torch, name: str):
    """arrayloss's result dtype for a pred of dtype ``name``: half precision gives float32."""
    return torch.float32 if name in HALF else getattr(torch, name)


def _alpha_vec(alpha, c: int):
    """kornia's scalar alpha as arrayloss's per-class vector (class 0 as background)."""
    return None if alpha is None else [1.0 - alpha] + [alpha] * (c - 1)


def _sigmoid_focal_ref(torch, z, y, alpha, gamma):
    """alpha_t (1 - p_t)^gamma BCE(z, y), elementwise (torchvision's formula)."""
    ce = torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none")
    p = torch.sigmoid(z)
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss


def _reduce(x, reduction: str):
    return x if reduction == "none" else (x.sum() if reduction == "sum" else x.mean())


def _micro_dice(torch, logits, labels, ignore_index=None):
    """kornia's ``average="micro"`` Dice: per image, one Dice over every (class, pixel) cell of
    the softmax probabilities and the one-hot target; the mean over the images."""
    b, c = logits.shape[:2]
    p = torch.softmax(logits, 1)
    lab = labels if ignore_index is None else torch.where(labels == ignore_index, 0, labels)
    g = torch.nn.functional.one_hot(lab, c).movedim(-1, 1)
    if ignore_index is not None:
        g = torch.where((labels == ignore_index)[:, None], ignore_index, g)
    return al.dice_loss(p.reshape(b, -1), g.reshape(b, -1), axis=None, ignore_index=ignore_index)


def _present_macro(torch, none, labels, ignore_index=None, class_weight=None):
    """kornia's macro average of an arrayloss ``(B, C)`` "none" matrix: per image, the mean over
    the classes present in its non-ignored labels (weighted by ``class_weight``), then the mean
    over the images that have such a class (arrayloss leaves the others out)."""
    b, c = none.shape
    lab = labels.reshape(b, -1)
    valid = torch.ones_like(lab, dtype=torch.bool) if ignore_index is None else lab != ignore_index
    present = torch.stack([((lab == k) & valid).any(1) for k in range(c)], 1).to(none.dtype)
    w = present if class_weight is None else present * torch.as_tensor(
        class_weight, dtype=none.dtype)
    den = w.sum(1)
    has = den > 0
    per_image = (none * w).sum(1) / torch.where(has, den, torch.ones_like(den))
    return per_image[has].mean()


def _seg_none(fn, logits, labels, **kw):
    return fn(logits, labels, axis=1, activation="softmax", reduction="none", **kw)


# =========================================================================================
# tests/losses/test_focal_loss.py: TestBinaryFocalLossWithLogits -> sigmoid_focal_loss


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_binary_focal_value_same_as_torch_bce_loss(reduction):
    """kornia tests/losses/test_focal_loss.py::TestBinaryFocalLossWithLogits::
    test_value_same_as_torch_bce_loss (its ignore_index rows hold no ignored label; arrayloss's
    sigmoid focal loss has no ignore_index)."""
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 2, seed=1), _rand(torch, 2, 3, 2, seed=2)
    got = al.sigmoid_focal_loss(logits, labels, alpha=None, gamma=0.0, reduction=reduction)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels,
                                                                    reduction=reduction)
    _close(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_binary_focal_value_same_as_torch_bce_loss_pos_weight_weight(reduction):
    """kornia tests/losses/test_focal_loss.py::TestBinaryFocalLossWithLogits::
    test_value_same_as_torch_bce_loss_pos_weight_weight. The (C, 1) weight goes to
    sigmoid_focal_loss's ``weight``; pos_weight (which the sigmoid focal loss lacks) to
    binary_cross_entropy_with_logits, the loss the focal loss reduces to at gamma 0."""
    torch = _torch()
    F = torch.nn.functional
    logits, labels = _rand(torch, 2, 3, 2, seed=3), _rand(torch, 2, 3, 2, seed=4)
    pos_weight, weight = _rand(torch, 3, 1, seed=5), _rand(torch, 3, 1, seed=6)
    got = al.sigmoid_focal_loss(logits, labels, alpha=None, gamma=0.0, weight=weight,
                                reduction=reduction)
    _close(got, F.binary_cross_entropy_with_logits(logits, labels, weight=weight,
                                                   reduction=reduction), rtol=1e-12, atol=1e-14)
    got = al.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight,
                                              weight=weight, reduction=reduction)
    expected = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight,
                                                  weight=weight, reduction=reduction)
    _close(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("alpha", [None, 0.2, 0.5])
@pytest.mark.parametrize(("reduction", "shape"), [("none", (2, 3, 2)), ("mean", ()), ("sum", ())])
def test_binary_focal_shape_alpha_gamma(reduction, shape, alpha, gamma):
    """kornia tests/losses/test_focal_loss.py::TestBinaryFocalLossWithLogits::
    test_shape_alpha_gamma: the shape, the value on kornia's soft labels (torchvision's
    formula, arrayloss's documented one) and, on the same labels rounded to {0, 1}, kornia's
    value."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 2, seed=7), _rand(torch, 2, 3, 2, seed=8)
    got = al.sigmoid_focal_loss(logits, labels, alpha=alpha, gamma=gamma, reduction=reduction)
    assert tuple(got.shape) == shape
    _close(got, _reduce(_sigmoid_focal_ref(torch, logits, labels, alpha, gamma), reduction),
           rtol=1e-10, atol=1e-12)
    hard = labels.round()
    got = al.sigmoid_focal_loss(logits, hard, alpha=alpha, gamma=gamma, reduction=reduction)
    expected = kornia.losses.binary_focal_loss_with_logits(logits, hard, alpha=alpha,
                                                           gamma=gamma, reduction=reduction)
    _close(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("weight", [None, (0.2, 0.5, 0.8)])
@pytest.mark.parametrize(("reduction", "shape"), [("none", (2, 3, 2)), ("mean", ()), ("sum", ())])
def test_binary_focal_shape_weight(reduction, shape, weight):
    """kornia tests/losses/test_focal_loss.py::TestBinaryFocalLossWithLogits::
    test_shape_pos_weight_weight, rows without pos_weight (the sigmoid focal loss has none):
    kornia's per-channel weight is arrayloss's weight of shape (C, 1)."""
    kornia = _kornia()
    torch = _torch()
    logits = _rand(torch, 2, 3, 2, seed=9)
    labels = _rand(torch, 2, 3, 2, seed=10).round()
    w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    got = al.sigmoid_focal_loss(logits, labels, alpha=0.8, gamma=0.5, reduction=reduction,
                                weight=None if w is None else w.reshape(3, 1))
    assert tuple(got.shape) == shape
    expected = kornia.losses.binary_focal_loss_with_logits(logits, labels, alpha=0.8, gamma=0.5,
                                                           reduction=reduction, weight=w)
    _close(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_binary_focal_gradcheck(gamma):
    """kornia tests/losses/test_focal_loss.py::TestBinaryFocalLossWithLogits::test_gradcheck
    (alpha 0.25, reduction "none", gradients w.r.t. logits and soft labels)."""
    torch = _torch()
    logits = _rand(torch, 2, 3, 2, seed=11).requires_grad_()
    labels = _rand(torch, 2, 3, 2, seed=12).requires_grad_()

    def fn(z, y):
        return al.sigmoid_focal_loss(z, y, alpha=0.25, gamma=gamma, reduction="none")

    assert torch.autograd.gradcheck(fn, (logits, labels))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_binary_focal_numeric_stability(dtype):
    """kornia tests/losses/test_focal_loss.py::TestBinaryFocalLossWithLogits::
    test_numeric_stability: logits +-100 on their correct label give 0 (kornia's default
    reduction is "none"); half precision returns float32."""
    torch = _torch()
    logits = torch.tensor([[100.0, -100.0]], dtype=_dtype(torch, dtype))
    labels = torch.tensor([[1.0, 0.0]], dtype=_dtype(torch, dtype))
    got = al.sigmoid_focal_loss(logits, labels, alpha=0.25, gamma=2.0, reduction="none")
    assert got.dtype == _result_dtype(torch, dtype)
    _close(got, [[0.0, 0.0]], rtol=0, atol=1e-30)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("gamma", [0.25, 0.5, 0.75, 2.0])
def test_binary_focal_numeric_stability_backward(gamma, alpha, reduction, dtype):
    """kornia tests/losses/test_focal_loss.py::TestBinaryFocalLossWithLogits::
    test_numeric_stability_backward: at logits +-1000 the loss is 0 for a correct prediction
    and |logit| for a wrong one, with gradients 0 and +-1 (times alpha_t)."""
    torch = _torch()
    dt = _dtype(torch, dtype)
    logits = torch.tensor([[1000.0, -1000.0], [1000.0, -1000.0]], dtype=dt, requires_grad=True)
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=dt)
    expected = torch.tensor([[0.0, 0.0], [1000.0, 1000.0]], dtype=dt)
    expected_grad = torch.tensor([[0.0, 0.0], [1.0, -1.0]], dtype=dt)
    if alpha is not None:
        factors = torch.tensor([[alpha, 1.0 - alpha], [1.0 - alpha, alpha]], dtype=dt)
        expected, expected_grad = expected * factors, expected_grad * factors
    if reduction == "mean":
        expected, expected_grad = expected.mean(), expected_grad / logits.numel()
    elif reduction == "sum":
        expected = expected.sum()
    got = al.sigmoid_focal_loss(logits, labels, alpha=alpha, gamma=gamma, reduction=reduction)
    _close(got, expected, rtol=1e-6, atol=1e-6)
    grad = torch.autograd.grad(got.sum(), logits)[0]
    _close(grad, expected_grad, rtol=1e-6, atol=1e-7)


def test_binary_focal_matches_sigmoid_focal_loss_on_hard_targets():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_binary_focal_loss_matches_sigmoid_focal_loss_on_hard_targets: its literal
    torchvision values (alpha 0.25, gamma 2, reduction "none")."""
    z = np.array([[[[-2.0, -0.5, 0.0], [0.75, 1.5, 3.0]],
                   [[2.5, -1.25, 0.25], [-3.0, 1.0, -0.75]]]])
    t = np.array([[[[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], [[0.0, 0.0, 1.0], [1.0, 0.0, 1.0]]]])
    expected = [[[[0.41252, 0.0506801, 0.0433217], [0.393315, 0.00167571, 2.73208e-05]],
                 [[1.65185, 0.00937088, 0.0276004], [0.69157, 0.526401, 0.131105]]]]
    got = al.sigmoid_focal_loss(z, t, alpha=0.25, gamma=2.0, reduction="none")
    _close(got, expected, rtol=2e-5, atol=1e-9)
    got32 = al.sigmoid_focal_loss(z.astype(np.float32), t.astype(np.float32), reduction="none")
    _close(got32, expected, rtol=2e-5, atol=1e-8)


def test_binary_focal_fractional_target():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_binary_focal_loss_fractional_target_mixes_the_two_terms: the torchvision
    values it quotes for t = 0.3 (arrayloss follows torchvision on soft targets; kornia's own
    two-term value differs on purpose, e.g. by more than 0.1 at z = 1.5)."""
    z = np.array([[-1.0, 0.0, 1.5]])
    got = al.sigmoid_focal_loss(z, np.full_like(z, 0.3), alpha=0.25, gamma=2.0, reduction="none")
    _close(got, [[0.0611245, 0.1039721, 0.2952082]], rtol=1e-6, atol=1e-8)
    p = 1.0 / (1.0 + np.exp(-z))
    kornia_two_terms = 0.3 * 0.25 * (1 - p) ** 2 * -np.log(p) + 0.7 * 0.75 * p**2 * -np.log(1 - p)
    assert abs(float(np.asarray(got)[0, 2]) - kornia_two_terms[0, 2]) > 0.1


# =========================================================================================
# tests/losses/test_focal_loss.py: TestFocalLoss -> softmax_focal_loss(axis=1)


def _check_focal_vs_kornia(kornia, torch, logits, labels, reduction, *, alpha, gamma,
                           weight=None, ignore_index=None):
    """arrayloss's softmax focal loss against kornia's focal_loss under the module's mapping."""
    c = logits.shape[1]
    kw = dict(alpha=alpha, gamma=gamma, weight=weight)
    k_map = kornia.losses.focal_loss(logits, labels, reduction="none",
                                     ignore_index=-100 if ignore_index is None else ignore_index,
                                     **kw)
    got = al.softmax_focal_loss(logits, labels, axis=1, alpha=_alpha_vec(alpha, c), gamma=gamma,
                                class_weight=weight, ignore_index=ignore_index,
                                reduction=reduction)
    if reduction == "none":
        assert tuple(got.shape) == tuple(k_map.shape[:1]) + tuple(k_map.shape[2:])
        _close(got, k_map.sum(1), rtol=1e-10, atol=1e-12)
        return
    total = k_map.sum()
    if reduction == "sum":
        _close(got, total, rtol=1e-10, atol=1e-12)
        return
    valid = labels != (-100 if ignore_index is None else ignore_index)
    if weight is None:
        den = valid.sum()
    else:
        den = torch.as_tensor(weight, dtype=logits.dtype)[labels.clamp(0, c - 1)][valid].sum()
    _close(got, total / den, rtol=1e-10, atol=1e-12)
    if weight is None and ignore_index is None:
        # kornia's mean divides by B*C*pixels: arrayloss's mean is C times kornia's mean
        k_mean = kornia.losses.focal_loss(logits, labels, reduction="mean", **kw)
        _close(got, c * k_mean, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("alpha", [None, 0.2, 0.5])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_shape_alpha_gamma(reduction, alpha, gamma):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_shape_alpha_gamma: shape
    (kornia (2, 3, 3, 2) per class, arrayloss (2, 3, 2) per pixel) and values vs kornia."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 3, 2, seed=20), _randint(torch, 3, (2, 3, 2), seed=21)
    _check_focal_vs_kornia(kornia, torch, logits, labels, reduction, alpha=alpha, gamma=gamma)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_shape_target_with_only_one_dim(reduction):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_shape_target_with_only_one_dim
    (logits (2, 3), labels (2,), alpha 0.1, gamma 1.5)."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, seed=22), _randint(torch, 3, (2,), seed=23)
    _check_focal_vs_kornia(kornia, torch, logits, labels, reduction, alpha=0.1, gamma=1.5)


@pytest.mark.parametrize("weight", [None, (0.2, 0.5, 0.8)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_shape_weight(reduction, weight):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_shape_weight (alpha 0.8,
    gamma 0.5; weight -> class_weight, whose mean divides by sum(class_weight[y]))."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 3, 2, seed=24), _randint(torch, 3, (2, 3, 2), seed=25)
    w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    _check_focal_vs_kornia(kornia, torch, logits, labels, reduction, alpha=0.8, gamma=0.5,
                           weight=w)


@pytest.mark.parametrize("ignore_index", [-100, 255])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_shape_ignore_index(reduction, ignore_index):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_shape_ignore_index (the mean
    leaves ignored pixels out of the count, kornia keeps them: documented difference)."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 3, 2, seed=26), _randint(torch, 3, (2, 3, 2), seed=27)
    labels[_rand(torch, 2, 3, 2, seed=28) > 0.6] = ignore_index
    _check_focal_vs_kornia(kornia, torch, logits, labels, reduction, alpha=0.8, gamma=0.5,
                           ignore_index=ignore_index)


@pytest.mark.parametrize("ignore_index", [-100, 255])
def test_focal_value_ignore_index(ignore_index):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_value_ignore_index: ignored
    pixels equal kornia's construction with an extra class of -inf logits (0 at the ignored
    pixels)."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 3, 2, seed=29), _randint(torch, 3, (2, 3, 2), seed=30)
    ignore = _rand(torch, 2, 3, 2, seed=31) > 0.6
    labels[ignore] = ignore_index
    labels_extra = labels.clone()
    labels_extra[ignore] = 3
    logits_extra = torch.cat([logits, logits.new_full((2, 1, 3, 2), float("-inf"))], dim=1)
    expected = kornia.losses.focal_loss(logits_extra, labels_extra, alpha=0.8, gamma=0.5,
                                        reduction="none")[:, :-1].sum(1)
    got = al.softmax_focal_loss(logits, labels, axis=1, alpha=_alpha_vec(0.8, 3), gamma=0.5,
                                ignore_index=ignore_index, reduction="none")
    _close(got, expected, rtol=1e-10, atol=1e-12)
    assert bool((got[ignore] == 0).all())


def test_focal_value_non_target_classes_are_zero():
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::
    test_value_non_target_classes_are_zero: kornia's map holds each pixel's loss in its target
    slice only, so its class sum is arrayloss's per-pixel value, positive everywhere."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 3, 2, seed=32), _randint(torch, 3, (2, 3, 2), seed=33)
    k_map = kornia.losses.focal_loss(logits, labels, alpha=0.5, gamma=2.0, reduction="none")
    got = al.softmax_focal_loss(logits, labels, axis=1, alpha=_alpha_vec(0.5, 3), gamma=2.0,
                                reduction="none")
    _close(got, k_map.gather(1, labels[:, None])[:, 0], rtol=1e-10, atol=1e-12)
    assert bool((got > 0).all())


def test_focal_gradcheck():
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_gradcheck (alpha 0.25, gamma
    2, about 20% of the labels ignored with -100)."""
    torch = _torch()
    logits = _rand(torch, 2, 3, 3, 2, seed=34).requires_grad_()
    labels = _randint(torch, 3, (2, 3, 2), seed=35)
    labels[_rand(torch, 2, 3, 2, seed=36) > 0.8] = -100

    def fn(z):
        return al.softmax_focal_loss(z, labels, axis=1, alpha=_alpha_vec(0.25, 3), gamma=2.0,
                                     ignore_index=-100, reduction="none")

    assert torch.autograd.gradcheck(fn, (logits,))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_overflowing_non_target_log_probability_5628(reduction, gamma, alpha, weighted):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::
    test_overflowing_non_target_log_probability_5628 (float32, logit gap 6e38): the value equals
    that of a finite logit gap, finite, with a zero gradient on the saturated row."""
    torch = _torch()
    big = 3e38
    logits = torch.tensor([[big, -big, 0.0], [1.0, 2.0, 3.0]], requires_grad=True)
    control = torch.tensor([[1e4, -1e4, 0.0], [1.0, 2.0, 3.0]], requires_grad=True)
    labels = torch.tensor([0, 2])
    kw = dict(axis=1, alpha=_alpha_vec(alpha, 3), gamma=gamma, reduction=reduction,
              class_weight=[0.5, 1.5, 2.0] if weighted else None)
    expected = al.softmax_focal_loss(control, labels, **kw)
    expected_grad = torch.autograd.grad(expected.sum(), control)[0]
    got = al.softmax_focal_loss(logits, labels, **kw)
    assert bool(torch.isfinite(got).all())
    _close(got, expected, rtol=1e-6, atol=1e-7)
    grad = torch.autograd.grad(got.sum(), logits)[0]
    assert bool(torch.isfinite(grad).all())
    assert bool((grad[0] == 0).all())
    _close(grad[1], expected_grad[1], rtol=1e-5, atol=1e-7)
    if reduction == "none":
        assert float(got[0].detach()) == 0.0


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_finite_loss_and_gradient(reduction, gamma, alpha, weighted):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_finite_loss_and_gradient:
    the formula -alpha_c w_c (1 - p_c)^gamma log p_c at the target class, written out here,
    reduced with arrayloss's denominators."""
    torch = _torch()
    values = [[[1.0, -0.5], [2.0, 0.3], [3.0, 1.5]], [[-1.0, 0.2], [0.5, -0.7], [0.0, 1.0]]]
    logits = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    reference = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([[2, 0], [1, 2]])
    w = torch.tensor([0.5, 1.5, 2.0], dtype=torch.float64) if weighted else None
    logp = reference.log_softmax(1)
    onehot = torch.nn.functional.one_hot(labels, 3).movedim(-1, 1).to(torch.float64)
    per_class = -((1.0 - logp.exp()) ** gamma) * logp * onehot
    if alpha is not None:
        per_class = torch.tensor(_alpha_vec(alpha, 3), dtype=torch.float64).view(3, 1) * per_class
    if w is not None:
        per_class = w.view(3, 1) * per_class
    per_pixel = per_class.sum(1)
    if reduction == "none":
        expected = per_pixel
    elif reduction == "sum":
        expected = per_pixel.sum()
    else:
        expected = per_pixel.sum() / (w[labels].sum() if weighted else labels.numel())
    got = al.softmax_focal_loss(logits, labels, axis=1, alpha=_alpha_vec(alpha, 3), gamma=gamma,
                                class_weight=w, reduction=reduction)
    _close(got, expected, rtol=1e-12, atol=1e-14)
    _close(torch.autograd.grad(got.sum(), logits)[0],
           torch.autograd.grad(expected.sum(), reference)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spatial", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_ignored_extreme_logits(reduction, gamma, weighted, spatial):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_ignored_extreme_logits: a
    pixel labelled -100 with logits +-finfo.max gives the values and gradients of zero logits
    there (exactly 0 gradient at the ignored pixel)."""
    torch = _torch()
    extreme = torch.finfo(torch.float32).max
    logits = torch.tensor([[extreme, -extreme], [0.0, 0.0]])
    labels = torch.tensor([-100, 0])
    if spatial:
        logits, labels = logits.T.reshape(1, 2, 1, 2), labels.reshape(1, 1, 2)
    logits = logits.requires_grad_()
    safe = torch.zeros_like(logits, requires_grad=True)
    kw = dict(axis=1, gamma=gamma, reduction=reduction, ignore_index=-100,
              alpha=_alpha_vec(0.25, 2) if weighted else None,
              class_weight=[0.5, 1.5] if weighted else None)
    expected = al.softmax_focal_loss(safe, labels, **kw)
    got = al.softmax_focal_loss(logits, labels, **kw)
    _close(got, expected, rtol=1e-6, atol=1e-7)
    grad = torch.autograd.grad(got.sum(), logits)[0]
    _close(grad, torch.autograd.grad(expected.sum(), safe)[0], rtol=1e-6, atol=1e-7)
    ignored = grad[0] if not spatial else grad[..., 0]
    assert bool((ignored == 0).all())


@pytest.mark.parametrize("ignore_index", [-100, 255])
def test_focal_all_ignored_extreme_logits(ignore_index):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_all_ignored_extreme_logits."""
    torch = _torch()
    extreme = torch.finfo(torch.float32).max
    logits = torch.tensor([[extreme, -extreme]], requires_grad=True)
    labels = torch.full((1,), ignore_index, dtype=torch.int64)
    got = al.softmax_focal_loss(logits, labels, axis=1, ignore_index=ignore_index,
                                reduction="sum")
    assert float(got.detach()) == 0.0
    assert bool((torch.autograd.grad(got, logits)[0] == 0).all())


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_focal_ignored_non_finite_logits(value):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_ignored_non_finite_logits
    (alpha 0.25 -> [0.75, 0.25], gamma 2, "sum")."""
    torch = _torch()
    logits = torch.tensor([[value, 0.0], [0.3, -0.2]], requires_grad=True)
    safe = torch.tensor([[0.0, 0.0], [0.3, -0.2]], requires_grad=True)
    labels = torch.tensor([-100, 1])
    kw = dict(axis=1, alpha=_alpha_vec(0.25, 2), gamma=2.0, ignore_index=-100, reduction="sum")
    got = al.softmax_focal_loss(logits, labels, **kw)
    expected = al.softmax_focal_loss(safe, labels, **kw)
    _close(got, expected, rtol=1e-6, atol=1e-8)
    grad = torch.autograd.grad(got, logits)[0]
    assert bool((grad[0] == 0).all())
    _close(grad, torch.autograd.grad(expected, safe)[0], rtol=1e-6, atol=1e-8)


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("gamma", [0.0, 0.25, 0.5, 0.75, 1.0, 2.0])
def test_focal_saturated_logits_backward(gamma, alpha, reduction):
    """kornia tests/losses/test_focal_loss.py::TestFocalLoss::test_saturated_logits_backward:
    with every probability 0 or 1 the loss and its gradient are the gamma = 0 ones (no NaN
    inside the backward either: anomaly detection is on)."""
    torch = _torch()
    logits = torch.tensor([[1000.0, 0.0, 0.0], [0.0, 1000.0, 0.0]], requires_grad=True)
    ce_logits = logits.detach().clone().requires_grad_()
    labels = torch.tensor([0, 0])
    kw = dict(axis=1, alpha=_alpha_vec(alpha, 3), reduction=reduction)
    expected = al.softmax_focal_loss(ce_logits, labels, gamma=0.0, **kw)
    expected_grad = torch.autograd.grad(expected.sum(), ce_logits)[0]
    if reduction == "sum":
        _close(expected, 1000.0 * (1.0 - alpha if alpha else 1.0), rtol=1e-6)
    got = al.softmax_focal_loss(logits, labels, gamma=gamma, **kw)
    _close(got, expected, rtol=1e-6, atol=1e-7)
    with torch.autograd.detect_anomaly(check_nan=True):
        grad = torch.autograd.grad(got.sum(), logits)[0]
    _close(grad, expected_grad, rtol=1e-6, atol=1e-7)


def _conv_logits_labels(torch, scale: float = 1.0):
    """Two 4 x 5 images, as kornia's TestConventionsFocalLoss fixture (torch seed 0)."""
    g = torch.Generator().manual_seed(0)
    logits = (scale * torch.randn(2, 3, 4, 5, generator=g)).to(torch.float64)
    labels = torch.randint(0, 3, (2, 4, 5), generator=g)
    return logits, labels


def test_focal_alpha_convention():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_focal_loss_alpha_weights_class_0_by_one_minus_alpha. arrayloss takes the
    vector [1 - a, a, a]: per pixel it is alpha_t times the alpha=None value; relabelling the
    classes (with the vector permuted alike) leaves the sum unchanged."""
    torch = _torch()
    logits, labels = _conv_logits_labels(torch, scale=2.0)
    vec = torch.tensor(_alpha_vec(0.25, 3), dtype=torch.float64)
    with_alpha = al.softmax_focal_loss(logits, labels, axis=1, alpha=vec, reduction="none")
    plain = al.softmax_focal_loss(logits, labels, axis=1, reduction="none")
    _close(with_alpha, vec[labels] * plain, rtol=1e-12, atol=1e-14)
    for order in ([0, 2, 1], [1, 2, 0]):
        perm = torch.tensor(order)  # class c becomes class perm[c]
        relabelled = (logits[:, perm.argsort()], perm[labels])
        for a in (None, vec):
            moved = al.softmax_focal_loss(*relabelled, axis=1, reduction="sum",
                                          alpha=None if a is None else a[perm.argsort()])
            kept = al.softmax_focal_loss(logits, labels, axis=1, reduction="sum", alpha=a)
            _close(moved, kept, rtol=1e-12)


def test_focal_default_reduction_none_layout():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_focal_loss_default_reduction_is_none_in_the_input_layout: arrayloss's
    "none" is per pixel, (1 - p_t)^2 (-log p_t), and follows a spatial transpose."""
    torch = _torch()
    logits, labels = _conv_logits_labels(torch)
    out = al.softmax_focal_loss(logits, labels, axis=1, reduction="none")
    assert tuple(out.shape) == (2, 4, 5)
    log_p_t = logits.log_softmax(1).gather(1, labels[:, None])[:, 0]
    _close(out, (1 - log_p_t.exp()) ** 2 * -log_p_t, rtol=1e-12, atol=1e-14)
    transposed = al.softmax_focal_loss(logits.transpose(-2, -1), labels.transpose(-2, -1),
                                       axis=1, reduction="none")
    _close(transposed, out.transpose(-2, -1), rtol=0, atol=0)


def test_focal_mean_divides_by_pixels_not_classes():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_focal_loss_mean_divides_by_the_class_axis_too. Documented difference:
    arrayloss's mean (gamma 0, alpha None) is the per-pixel cross entropy mean, 3 times kornia's."""
    torch = _torch()
    logits, labels = _conv_logits_labels(torch)
    ce = -logits.log_softmax(1).gather(1, labels[:, None])
    got = al.softmax_focal_loss(logits, labels, axis=1, gamma=0.0, reduction="mean")
    _close(got, ce.mean(), rtol=1e-12)
    _close(al.softmax_focal_loss(logits, labels, axis=1, gamma=0.0, reduction="sum"), ce.sum(),
           rtol=1e-12)


def test_focal_weight_mean_normalisation():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_focal_loss_weight_is_not_normalised_in_the_mean. Documented difference:
    arrayloss's class-weighted mean divides by the summed weights of the target labels (torch
    cross-entropy semantics), kornia's by the element count."""
    torch = _torch()
    logits, labels = _conv_logits_labels(torch)
    weight = torch.tensor([0.2, 1.0, 4.0], dtype=torch.float64)
    w_t = weight[labels][:, None]
    weighted = -w_t * logits.log_softmax(1).gather(1, labels[:, None])
    got = al.softmax_focal_loss(logits, labels, axis=1, gamma=0.0, class_weight=weight)
    _close(got, weighted.sum() / w_t.sum(), rtol=1e-12)
    assert abs(float(got) - float(weighted.sum() / (3 * labels.numel()))) > 0.05 * float(got)


def test_focal_ignored_labels_leave_the_mean():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_focal_losses_ignored_labels_are_zero_weighted_in_the_mean (softmax part; the
    sigmoid focal loss has no ignore_index). Documented difference: ignored pixels give 0 and
    leave arrayloss's mean (kornia keeps them in the count)."""
    torch = _torch()
    logits, labels = _conv_logits_labels(torch)
    labels[0, 0, :4] = -100
    labels[1, 3, 2:] = -100
    ignored = labels == -100
    out = al.softmax_focal_loss(logits, labels, axis=1, gamma=0.0, ignore_index=-100,
                                reduction="none")
    assert bool((out[ignored] == 0).all())
    ce = -logits.log_softmax(1).gather(1, labels.clamp_min(0)[:, None])[:, 0][~ignored]
    got = al.softmax_focal_loss(logits, labels, axis=1, gamma=0.0, ignore_index=-100)
    _close(got, ce.mean(), rtol=1e-12)


def test_focal_two_class_target_slice_is_binary_focal():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_focal_loss_two_class_target_slice_is_binary_focal_loss: with C = 2 and
    alpha [0.75, 0.25], softmax_focal_loss equals sigmoid_focal_loss(z1 - z0, y, alpha=0.25)."""
    torch = _torch()
    logits, labels = _conv_logits_labels(torch, scale=2.0)
    labels = labels.clamp_max(1)
    multi = al.softmax_focal_loss(logits[:, :2], labels, axis=1, alpha=[0.75, 0.25],
                                  reduction="none")
    binary = al.sigmoid_focal_loss(logits[:, 1] - logits[:, 0], labels.to(torch.float64),
                                   alpha=0.25, gamma=2.0, reduction="none")
    _close(multi, binary, rtol=1e-10, atol=1e-14)


def test_focal_options_are_validated():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_focal_loss_does_not_validate_alpha_and_gamma. Documented difference:
    arrayloss raises ValueError for alpha outside [0, 1] and for gamma < 0."""
    torch = _torch()
    logits, labels = _conv_logits_labels(torch, scale=0.5)
    with pytest.raises(ValueError, match="alpha"):
        al.softmax_focal_loss(logits, labels, axis=1, alpha=[-1.0, 2.0, 2.0], gamma=2.0)
    with pytest.raises(ValueError, match="gamma"):
        al.softmax_focal_loss(logits, labels, axis=1, alpha=_alpha_vec(0.25, 3), gamma=-1.0)


def test_focal_overflowing_non_target_log_probability_convention_5628():
    """kornia tests/losses/test_focal_loss.py::TestConventionsFocalLoss::
    test_convention_focal_loss_overflowing_non_target_log_probability_5628 (float32, alpha
    None): the overflowing pixel gives 0 with zero gradient, the other keeps its own value."""
    torch = _torch()
    big = 0.75 * torch.finfo(torch.float32).max
    logits = torch.tensor([[[[big, 1.0]], [[-big, -0.5]], [[0.0, 0.3]]]], requires_grad=True)
    labels = torch.zeros(1, 1, 2, dtype=torch.int64)
    out = al.softmax_focal_loss(logits, labels, axis=1, reduction="none")
    assert float(out[..., 0].detach()) == 0.0
    rest = logits[..., 1:].detach().clone().requires_grad_()
    rest_total = al.softmax_focal_loss(rest, labels[..., 1:], axis=1, reduction="sum")
    _close(out[..., 1:], al.softmax_focal_loss(rest, labels[..., 1:], axis=1, reduction="none"),
           rtol=1e-6)
    total = al.softmax_focal_loss(logits, labels, axis=1, reduction="sum")
    _close(total, rest_total, rtol=1e-6)
    grad = torch.autograd.grad(total, logits)[0]
    assert bool((grad[..., 0] == 0).all())
    _close(grad[..., 1:], torch.autograd.grad(rest_total, rest)[0], rtol=1e-5, atol=1e-8)


# =========================================================================================
# tests/losses/test_dice.py: TestDiceLoss -> dice_loss(axis=1, activation="softmax")


def _dice_none(logits, labels, **kw):
    return _seg_none(al.dice_loss, logits, labels, **kw)


def test_dice_macro_absent_channels_5539():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_macro_absent_channels_5539: extra
    channels at logit -20 leave the macro average unchanged. The entries of the two real classes
    are unchanged in arrayloss too; its own mean keeps the extra classes, which hold predicted
    mass e^-40 and no target, as misses (loss 1 at smooth=0: documented)."""
    torch = _torch()
    labels = torch.zeros((1, 4, 6), dtype=torch.int64)
    labels[0, :, 3:] = 1
    labels[0, 0, 0] = 1
    macros, entries = [], []
    for c in (2, 3, 4):
        logits = torch.full((1, c, 4, 6), -20.0).scatter(1, labels[:, None], 20.0)
        none = _dice_none(logits, labels)
        macros.append(_present_macro(torch, none, labels))
        entries.append(none[:, :2])
        _close(none[:, 2:], torch.ones(1, c - 2), rtol=0, atol=1e-6)
    for m, e in zip(macros[1:], entries[1:]):
        _close(m, macros[0], rtol=0, atol=1e-6)
        _close(e, entries[0], rtol=0, atol=1e-6)


def _dice_reference(torch, probabilities, labels, classes, weight=None, ignore_index=None):
    """Per image, the (weighted) mean over ``classes[b]`` of 1 - 2 TP / (Sp + Sg) over the
    non-ignored pixels; then the mean over the images."""
    losses = []
    for b, cls in enumerate(classes):
        valid = torch.ones_like(labels[b], dtype=torch.bool) if ignore_index is None \
            else labels[b] != ignore_index
        per_class, weights = [], []
        for c in cls:
            p = probabilities[b, c] * valid
            g = (labels[b] == c).to(p.dtype)
            per_class.append(1 - 2 * (p * g).sum() / (p + g).sum())
            weights.append(1.0 if weight is None else float(weight[c]))
        w = torch.tensor(weights, dtype=probabilities.dtype)
        losses.append((torch.stack(per_class) * w).sum() / w.sum())
    return torch.stack(losses).mean()


@pytest.mark.parametrize("weighted", [False, True])
def test_dice_macro_target_presence_per_sample(weighted):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_macro_target_presence_per_sample:
    macro Dice over each image's actual labels (an absent class may win the argmax), values
    and gradients against a reference written here."""
    torch = _torch()
    labels = torch.tensor([[[0, 1, 1, 0]], [[2, 2, 2, 2]]])
    values = [[[[2.0, 0.0, 1.0, -1.0]], [[0.0, 2.0, 0.0, 1.0]], [[1.0, 1.0, 3.0, 2.0]]],
              [[[1.0, 3.0, 2.0, 0.0]], [[2.0, 0.0, 1.0, 3.0]], [[0.0, 2.0, 0.0, 1.0]]]]
    logits = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    reference = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    weight = [0.25, 0.5, 8.0] if weighted else None
    expected = _dice_reference(torch, reference.softmax(1), labels, [(0, 1), (2,)], weight)
    got = _present_macro(torch, _dice_none(logits, labels), labels, class_weight=weight)
    _close(got, expected, rtol=1e-10, atol=1e-12)
    _close(torch.autograd.grad(got, logits)[0], torch.autograd.grad(expected, reference)[0],
           rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(("average", "all_classes", "weighted"),
                         [("micro", False, False), ("micro", True, False),
                          ("macro", True, False), ("macro", True, True)])
def test_dice_unchanged_aggregation(average, all_classes, weighted):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_unchanged_aggregation: the micro
    and macro formulas on logits arange(9)/4."""
    torch = _torch()
    labels = torch.tensor([[[0, 1, 2 if all_classes else 1]]])
    logits = torch.arange(9, dtype=torch.float64).reshape(1, 3, 1, 3) / 4
    p = logits.softmax(1)
    g = torch.nn.functional.one_hot(labels, 3).movedim(-1, 1).to(torch.float64)
    dims = (1, 2, 3) if average == "micro" else (2, 3)
    expected = 1 - 2 * (p * g).sum(dims) / (p + g).sum(dims)
    weight = torch.tensor([0.25, 0.5, 8.0], dtype=torch.float64) if weighted else None
    if weighted:
        expected = (expected * weight).sum(-1) / weight.sum()
    expected = expected.mean()
    if average == "micro":
        got = _micro_dice(torch, logits, labels)
    else:
        got = _present_macro(torch, _dice_none(logits, labels), labels, class_weight=weight)
        if not weighted:  # every class is present: arrayloss's own mean is the macro Dice
            _close(al.dice_loss(logits, labels, axis=1, activation="softmax"), expected,
                   rtol=1e-12)
    _close(got, expected, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 0, 255])
def test_dice_macro_ignored_samples(ignore_index, weighted):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_macro_ignored_samples. Documented
    differences: ignore_index=0 is a valid class (ValueError); an image whose pixels are all
    ignored is left out (kornia: loss 1, so 0.75 and 1.0 there; arrayloss: 0.5 and 0.0). The
    gradient is finite and exactly 0 at every ignored pixel."""
    torch = _torch()
    labels = torch.tensor([[[1, ignore_index]], [[ignore_index, ignore_index]]])
    logits = torch.zeros((2, 3, 1, 2), requires_grad=True)
    weight = [8.0, 0.25, 4.0] if weighted else None
    kw = dict(axis=1, activation="softmax", ignore_index=ignore_index, class_weight=weight)
    if ignore_index == 0:
        with pytest.raises(ValueError, match="ignore_index"):
            al.dice_loss(logits, labels, **kw)
        return
    none = al.dice_loss(logits, labels, axis=1, activation="softmax", ignore_index=ignore_index,
                        reduction="none")
    # one valid class in image 0: Dice = 2 (1/3) / (1 + 1/3) = 1/2
    _close(_present_macro(torch, none, labels, ignore_index, weight), 0.5, rtol=1e-6)
    empty = al.dice_loss(logits[1:], labels[1:], **kw)
    assert float(empty.detach()) == 0.0
    loss = al.dice_loss(logits, labels, **kw)
    grad = torch.autograd.grad(loss, logits)[0]
    assert bool(torch.isfinite(grad).all())
    assert bool((grad[1] == 0).all())
    assert bool((grad[0, :, :, 1] == 0).all())


def test_dice_macro_absent_gradcheck():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_macro_absent_gradcheck (class
    weights [8, 0.25, 4], -100 ignored, an image fully ignored)."""
    torch = _torch()
    logits = (torch.arange(12, dtype=torch.float64).reshape(2, 3, 1, 2) / 4).requires_grad_()
    labels = torch.tensor([[[1, -100]], [[-100, -100]]])

    def fn(z):
        return al.dice_loss(z, labels, axis=1, activation="softmax", ignore_index=-100,
                            class_weight=[8.0, 0.25, 4.0])

    assert torch.autograd.gradcheck(fn, (logits,))


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize(("average", "weighted"),
                         [("micro", False), ("macro", False), ("macro", True)])
@pytest.mark.parametrize("height", [256, 512])
def test_dice_large_image_reduction(height, average, weighted, dtype):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_large_image_reduction (half
    precision rows; weighted micro has no arrayloss counterpart): sums over 2**16 to 2**17
    pixels stay finite, the result is float32 and equals the float32 computation."""
    torch = _torch()
    dt = _dtype(torch, dtype)
    base = torch.full((1, 2, height, 256), -2.0)
    base[:, 0] = 2.0
    labels = torch.zeros((1, height, 256), dtype=torch.int64)
    weight = [1.0, 2.0] if weighted else None
    logits = base.to(dt).requires_grad_()
    if average == "micro":
        # the probabilities in half precision; the expectation is the same values in float32
        probabilities = logits.float().softmax(1).to(dt)
        onehot = torch.nn.functional.one_hot(labels, 2).movedim(-1, 1).reshape(1, -1)
        got = al.dice_loss(probabilities.reshape(1, -1), onehot, axis=None)
        expected = al.dice_loss(probabilities.detach().float().reshape(1, -1), onehot, axis=None)
        tol = 1e-5
    else:
        none = _dice_none(logits, labels)
        assert none.dtype == torch.float32
        got = _present_macro(torch, none, labels, class_weight=weight)
        expected = _present_macro(torch, _dice_none(base.to(dt).float(), labels), labels,
                                  class_weight=weight)
        tol = 1e-3 if dtype == "float16" else 1.6e-2
    assert got.dtype == torch.float32
    assert bool(torch.isfinite(got))
    _close(got, expected, rtol=tol, atol=1e-5)
    grad = torch.autograd.grad(got, logits)[0]
    assert bool(torch.isfinite(grad.float()).all())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_dice_weight_dtype_promotion(dtype):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_weight_dtype_promotion (both
    averages): a float32 class weight; the result is float32 for half and float32 logits,
    float64 for float64 logits."""
    torch = _torch()
    logits = torch.tensor([2.0, -2.0], dtype=_dtype(torch, dtype)).reshape(1, 2, 1, 1)
    labels = torch.zeros((1, 1, 1), dtype=torch.int64)
    weight = torch.tensor([1.0, 2.0], dtype=torch.float32)
    got = al.dice_loss(logits, labels, axis=1, activation="softmax", class_weight=weight)
    assert got.dtype == _result_dtype(torch, dtype)


def test_dice_smoke():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_smoke: kornia's default (micro)
    value on random logits."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 3, 2, seed=40), _randint(torch, 3, (2, 3, 2), seed=41)
    _close(_micro_dice(torch, logits, labels), kornia.losses.dice_loss(logits, labels),
           rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("ignore_index", [-100, None])
def test_dice_all_zeros(ignore_index):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_all_zeros (micro)."""
    torch = _torch()
    logits = torch.zeros(2, 3, 1, 2)
    logits[:, 0], logits[:, 1], logits[:, 2] = 10.0, 1.0, 1.0
    labels = torch.zeros(2, 1, 2, dtype=torch.int64)
    _close(_micro_dice(torch, logits, labels, ignore_index), 0.0, rtol=1e-3, atol=1e-3)


def test_dice_perfect_prediction_of_a_rare_class():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_perfect_prediction_of_a_rare_class:
    a one-pixel class predicted perfectly scores 0 (both classes present: arrayloss's mean
    is the macro Dice)."""
    torch = _torch()
    labels = torch.zeros(1, 128, 192, dtype=torch.int64)
    labels[0, 10, 10] = 1
    logits = torch.full((1, 2, 128, 192), -30.0).scatter(1, labels[:, None], 30.0)
    _close(al.dice_loss(logits, labels, axis=1, activation="softmax"), 0.0, rtol=0, atol=1e-6)
    _close(_present_macro(torch, _dice_none(logits, labels), labels), 0.0, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_dice_gradient_of_an_absent_class_is_finite(dtype):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_gradient_of_an_absent_class_is_finite:
    class 2 is absent from the target and its probabilities underflow."""
    torch = _torch()
    labels = torch.zeros(1, 16, 16, dtype=torch.int64)
    labels[0, :, 8:] = 1
    logits = torch.full((1, 3, 16, 16), -10.0).scatter(1, labels[:, None], 10.0)
    logits = logits.to(_dtype(torch, dtype)).requires_grad_()
    loss = al.dice_loss(logits, labels, axis=1, activation="softmax")
    grad = torch.autograd.grad(loss, logits)[0]
    assert bool(torch.isfinite(grad.float()).all())
    macro = _present_macro(torch, _dice_none(logits, labels), labels)
    assert bool(torch.isfinite(torch.autograd.grad(macro, logits)[0].float()).all())


def test_dice_exception():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_exception: mismatched shapes and
    devices raise ValueError (kornia's 4-D-only rule does not apply: arrayloss is N-D)."""
    torch = _torch()
    kw = dict(axis=1, activation="softmax")
    with pytest.raises(ValueError):
        al.dice_loss(torch.rand(1, 1, 1, 1), torch.rand(1, 1, 1, 2), **kw)
    with pytest.raises(ValueError):
        al.dice_loss(torch.rand(1, 1, 1, 1), torch.rand(1, 1, 1, 1, device="meta"), **kw)
    with pytest.raises(ValueError):
        al.dice_loss(torch.rand(2, 3, 4, 6), torch.randint(0, 3, (1, 4, 6)), **kw)
    with pytest.raises(ValueError):
        al.dice_loss(torch.rand(1, 3, 4, 6), torch.randint(0, 3, (2, 4, 6)), **kw)
    with pytest.raises(ValueError):
        al.dice_loss(torch.rand(1, 3, 4, 6), torch.randint(0, 3, (1, 1, 4, 6)), **kw)


def test_dice_averaging_micro():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_averaging_micro: its closed form."""
    torch = _torch()
    logits = torch.zeros(1, 2, 4, 1, dtype=torch.float64)
    logits[:, 0, 0:3], logits[:, 0, 3:4] = 10.0, 1.0
    logits[:, 1, 0:3], logits[:, 1, 3:4] = 1.0, 10.0
    labels = torch.zeros(1, 4, 1, dtype=torch.int64)
    e1, e10 = math.exp(1.0), math.exp(10.0)
    intersection = (3.0 * e10 + e1) / (e1 + e10)
    _close(_micro_dice(torch, logits, labels), 1.0 - 2.0 * intersection / 8.0, rtol=1e-10)


_WEIGHT_CASES = [
    pytest.param(avg, w, expected, id=f"{avg}-{name}")
    for avg in ("micro", "macro")
    for name, w, expected in (("class0-all-correct", [1.0, 0.0, 0.0], 0.0),
                              ("class1-all-incorrect", [0.0, 1.0, 0.0], 1.0),
                              ("class2-partially-correct", [0.0, 0.0, 1.0], 0.2))
] + [pytest.param("macro", [0.3, 0.7, 0.0], 0.7, id="macro-non-binary-weights")]


@pytest.mark.parametrize(("average", "weight", "expected"), _WEIGHT_CASES)
def test_dice_weight(average, weight, expected):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_weight: a one-hot weight selects one
    class (micro and macro alike: the class's Dice, here its "none" column); macro weights
    [0.3, 0.7, 0] give 0.7. (Weighted micro with several classes and the extra zero-weight
    class rows have no arrayloss counterpart.)"""
    torch = _torch()
    logits = torch.zeros(4, 3, 1, 4)
    logits[:, 0, :, 0] = 100.0
    logits[:, 2, :, 1:] = 100.0
    labels = torch.tensor([0, 1, 2, 2]).expand((4, 1, -1))
    none = _dice_none(logits, labels)
    if average == "micro":
        got = none[:, weight.index(1.0)].mean()
    else:
        got = _present_macro(torch, none, labels, class_weight=weight)
    _close(got, expected, rtol=1e-3, atol=1e-3)


def test_dice_weight_ignore_extra_class():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_weight ("ignore class 3", macro): an
    extra class of weight 0 leaves the macro value unchanged (kornia's 3-class value)."""
    kornia = _kornia()
    torch = _torch()
    logits = torch.zeros(4, 3, 1, 4)
    logits[:, 0, :, 0] = 100.0
    logits[:, 2, :, 1:] = 100.0
    labels = torch.tensor([0, 1, 2, 2]).expand((4, 1, -1))
    expected = kornia.losses.dice_loss(logits, labels, average="macro", eps=1e-8)
    extra = torch.cat([logits, logits.new_zeros((4, 1, 1, 4))], dim=1)
    got = _present_macro(torch, _dice_none(extra, labels), labels,
                         class_weight=[1.0, 1.0, 1.0, 0.0])
    _close(got, expected, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_dice_uniform_weight(scale):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_uniform_weight (macro rows): a
    uniform weight leaves the macro average unchanged; arrayloss's own mean multiplies by it
    (class weights multiply the entries, MONAI semantics: documented); a perfect prediction
    scores 0 either way."""
    torch = _torch()
    logits = torch.randn(2, 3, 4, 6, generator=torch.Generator().manual_seed(42))
    labels = _randint(torch, 3, (2, 4, 6), seed=43)
    w = [scale] * 3
    plain = _dice_none(logits, labels)
    _close(_present_macro(torch, plain, labels, class_weight=w),
           _present_macro(torch, plain, labels), rtol=1e-6)
    _close(al.dice_loss(logits, labels, axis=1, activation="softmax", class_weight=w),
           scale * al.dice_loss(logits, labels, axis=1, activation="softmax"), rtol=1e-6)
    perfect = torch.full_like(logits, -30.0).scatter(1, labels[:, None], 30.0)
    _close(al.dice_loss(perfect, labels, axis=1, activation="softmax", class_weight=w), 0.0,
           rtol=0, atol=1e-3)


def test_dice_averaging_macro():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_averaging_macro: only the present
    class 0 enters kornia's macro mean. arrayloss's own mean also keeps the absent class 1,
    which holds predicted mass: loss 1 (documented), so it is (loss_0 + 1) / 2."""
    torch = _torch()
    logits = torch.zeros(1, 2, 1, 4, dtype=torch.float64)
    logits[:, 0, :, 0:3], logits[:, 0, :, 3:4] = 10.0, 1.0
    logits[:, 1, :, 0:3], logits[:, 1, :, 3:4] = 1.0, 10.0
    labels = torch.zeros(1, 1, 4, dtype=torch.int64)
    e1, e10 = math.exp(1.0), math.exp(10.0)
    intersection = (3.0 * e10 + e1) / (e1 + e10)
    loss_0 = 1.0 - 2.0 * intersection / (4.0 + intersection)
    _close(_present_macro(torch, _dice_none(logits, labels), labels), loss_0, rtol=1e-10)
    _close(al.dice_loss(logits, labels, axis=1, activation="softmax"), (loss_0 + 1.0) / 2,
           rtol=1e-10)


@pytest.mark.parametrize("ignore_index", [-100, 255])
def test_dice_ignore_index(ignore_index):
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_ignore_index (micro): 1/2."""
    torch = _torch()
    logits = torch.zeros(2, 2, 1, 4)
    logits[:, 0, :, 0] = 100.0
    logits[:, 1, :, 1:] = 100.0
    labels = torch.zeros(2, 1, 4, dtype=torch.int64)
    labels[..., 2:] = ignore_index
    _close(_micro_dice(torch, logits, labels, ignore_index), 0.5, rtol=1e-3, atol=1e-3)


def test_dice_gradcheck():
    """kornia tests/losses/test_dice.py::TestDiceLoss::test_gradcheck (kornia's default micro
    average, about 20% of the pixels ignored with -100)."""
    torch = _torch()
    logits = _rand(torch, 2, 3, 3, 2, seed=44).requires_grad_()
    labels = _randint(torch, 3, (2, 3, 2), seed=45)
    labels[_rand(torch, 2, 3, 2, seed=46) > 0.8] = -100
    assert torch.autograd.gradcheck(lambda z: _micro_dice(torch, z, labels, -100), (logits,))
    assert torch.autograd.gradcheck(
        lambda z: al.dice_loss(z, labels, axis=1, activation="softmax", ignore_index=-100),
        (logits,))


# =========================================================================================
# tests/losses/test_tversky.py: TestTverskyLoss -> tversky_loss(axis=1, activation="softmax")


def _tversky_none(logits, labels, alpha, beta, **kw):
    return _seg_none(al.tversky_loss, logits, labels, alpha=alpha, beta=beta, **kw)


@pytest.mark.parametrize(("alpha", "beta", "expected"),
                         [(0.3, 0.7, 0.6015094950), (0.7, 0.3, 0.5990951811),
                          (0.5, 0.5, 0.6037325821)])
def test_tversky_per_class_seeded_fixture(alpha, beta, expected):
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_per_class_issue_5543: its
    torch-seeded fixture (every class present in each image, so arrayloss's own mean is kornia's
    macro value)."""
    torch = _torch()
    g = torch.Generator().manual_seed(1206)
    logits = torch.randn(2, 3, 4, 6, dtype=torch.float64, generator=g) * 2
    labels = torch.randint(0, 3, (2, 4, 6), generator=g)
    labels[1, :, :2] = 2
    logits = logits.to(torch.float32)
    got = al.tversky_loss(logits, labels, alpha=alpha, beta=beta, axis=1, activation="softmax")
    _close(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("alpha", "beta"), [(0.3, 0.7), (0.7, 0.3), (0.5, 0.5), (1.0, 1.0)])
def test_tversky_target_presence_per_sample(alpha, beta):
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_target_presence_per_sample,
    eps=0 rows (kornia's eps=0.25 enters the denominator only; arrayloss's smooth enters both
    and its eps is a clamp, so those rows have no counterpart)."""
    torch = _torch()
    probabilities = torch.tensor(
        [[[[0.5, 0.25, 0.125, 0.5]], [[0.25, 0.5, 0.125, 0.25]], [[0.25, 0.25, 0.75, 0.25]]],
         [[[0.5, 0.25, 0.5, 0.25]], [[0.25, 0.5, 0.25, 0.5]], [[0.25, 0.25, 0.25, 0.25]]]],
        dtype=torch.float64)
    labels = torch.tensor([[[0, 1, 1, 0]], [[2, 2, 2, 2]]])
    score_0 = 1 / (1 + alpha * 0.375 + beta)
    score_1 = 0.625 / (0.625 + alpha * 0.5 + beta * 1.375)
    score_2 = 1 / (1 + beta * 3)
    expected = 1 - ((score_0 + score_1) / 2 + score_2) / 2
    none = _tversky_none(probabilities.log(), labels, alpha, beta)
    assert none.dtype == torch.float64
    _close(_present_macro(torch, none, labels), expected, rtol=1e-12)
    # the probabilities themselves, without the activation
    none = al.tversky_loss(probabilities, labels, alpha=alpha, beta=beta, axis=1,
                           reduction="none")
    _close(_present_macro(torch, none, labels), expected, rtol=1e-12)


def test_tversky_absent_channels():
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_absent_channels: negligible
    extra channels leave the present classes' entries (and kornia's macro value) unchanged;
    arrayloss's own mean also counts the extra classes as misses (documented)."""
    torch = _torch()
    labels = torch.tensor([[[0, 1, 1, 0]]])
    macros, entries = [], []
    for c in (2, 3, 4):
        logits = torch.full((1, c, 1, 4), -40.0)
        logits[:, :2] = torch.tensor([[[[2.0, 0.0, 1.0, 2.0]], [[0.0, 2.0, 2.0, 0.0]]]])
        none = _tversky_none(logits, labels, 0.3, 0.7)
        macros.append(_present_macro(torch, none, labels))
        entries.append(none[:, :2])
        _close(none[:, 2:], torch.ones(1, c - 2), rtol=0, atol=1e-6)
    for m, e in zip(macros[1:], entries[1:]):
        _close(m, macros[0], rtol=0, atol=1e-7)
        _close(e, entries[0], rtol=0, atol=1e-7)


@pytest.mark.parametrize(("alpha", "beta"), [(0.3, 0.7), (1.0, 0.0), (0.0, 1.0)])
def test_tversky_present_class_without_correct_predictions(alpha, beta):
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::
    test_present_class_without_correct_predictions: class 1 is in the target and gets no
    predicted mass (TP = FP = 0, FN = 1): a miss, loss 1, also with beta = 0 where the
    denominator is 0 (a zero denominator scores 1 only for an entry empty in both prediction
    and target). Class 0: TP = FP = 1, FN = 0."""
    torch = _torch()
    logits = torch.tensor([[[[100.0, 100.0]], [[-100.0, -100.0]], [[-100.0, -100.0]]]],
                          requires_grad=True)
    labels = torch.tensor([[[0, 1]]])
    none = _tversky_none(logits, labels, alpha, beta)
    assert float(none[0, 1].detach()) == 1.0
    got = _present_macro(torch, none, labels)
    _close(got, 1 - (1 / (1 + alpha)) / 2, rtol=1e-6)
    assert bool(torch.isfinite(torch.autograd.grad(got, logits)[0]).all())


def test_tversky_exact_target_rare_class():
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_exact_target_rare_class: a
    one-pixel class predicted perfectly (logits +-40) scores 0 with finite gradients."""
    torch = _torch()
    labels = torch.zeros((1, 128, 192), dtype=torch.int64)
    labels[0, 0, 0] = 1
    logits = torch.full((1, 3, 128, 192), -40.0).scatter(1, labels[:, None], 40.0)
    logits.requires_grad_()
    got = _present_macro(torch, _tversky_none(logits, labels, 0.3, 0.7), labels)
    _close(got, 0.0, rtol=0, atol=1e-7)
    assert bool(torch.isfinite(torch.autograd.grad(got, logits)[0]).all())


def test_tversky_macro_dice_correspondence():
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_macro_dice_correspondence,
    eps=0 row: alpha = beta = 0.5 is the macro Dice over each image's labels, -100 ignored
    (values and gradients against a reference written here)."""
    torch = _torch()
    values = torch.arange(18, dtype=torch.float64).reshape(2, 3, 1, 3) / 4
    logits, reference = values.clone().requires_grad_(), values.clone().requires_grad_()
    labels = torch.tensor([[[0, 1, 1]], [[2, 2, -100]]])
    expected = _dice_reference(torch, reference.softmax(1), labels, [(0, 1), (2,)],
                               ignore_index=-100)
    got = _present_macro(torch, _tversky_none(logits, labels, 0.5, 0.5, ignore_index=-100),
                         labels, ignore_index=-100)
    _close(got, expected, rtol=1e-10, atol=1e-12)
    grad = torch.autograd.grad(got, logits)[0]
    assert bool(torch.isfinite(grad).all())
    _close(grad, torch.autograd.grad(expected, reference)[0], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 1e-8])
@pytest.mark.parametrize("ignore_index", [-100, 0, 255])
def test_tversky_ignored_samples(ignore_index, eps):
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_ignored_samples. kornia's eps
    (added to the denominator) maps to arrayloss's eps clamp (eps=0 -> the default; arrayloss
    needs eps > 0). Documented differences: ignore_index=0 is a valid class (ValueError); the
    fully ignored image is left out (kornia counts it as loss 1): arrayloss gives 1 - 1/2.4
    (valid image: TP = 1/3, FP = 0, FN = 2/3) and 0 for the ignored image alone. Gradients are
    exactly 0 at ignored pixels."""
    torch = _torch()
    logits = torch.zeros((2, 3, 1, 2), requires_grad=True)
    labels = torch.tensor([[[1, ignore_index]], [[ignore_index, ignore_index]]])
    kw = dict(alpha=0.3, beta=0.7, axis=1, activation="softmax", ignore_index=ignore_index)
    if eps:
        kw["eps"] = eps
    if ignore_index == 0:
        with pytest.raises(ValueError, match="ignore_index"):
            al.tversky_loss(logits, labels, **kw)
        return
    none = al.tversky_loss(logits, labels, reduction="none", **kw)
    _close(_present_macro(torch, none, labels, ignore_index), 1 - 1 / 2.4, rtol=1e-6)
    assert float(al.tversky_loss(logits[1:], labels[1:], **kw).detach()) == 0.0
    loss = al.tversky_loss(logits, labels, **kw)
    grad = torch.autograd.grad(loss, logits)[0]
    assert bool(torch.isfinite(grad).all())
    assert bool((grad[1] == 0).all())
    assert bool((grad[0, :, :, 1] == 0).all())
    assert int(torch.count_nonzero(grad[0, :, :, 0])) > 0


def test_tversky_absent_and_ignored_gradcheck():
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_absent_and_ignored_gradcheck."""
    torch = _torch()
    logits = (torch.arange(12, dtype=torch.float64).reshape(2, 3, 1, 2) / 4).requires_grad_()
    labels = torch.tensor([[[1, -100]], [[-100, -100]]])
    assert torch.autograd.gradcheck(
        lambda z: al.tversky_loss(z, labels, alpha=0.3, beta=0.7, axis=1, activation="softmax",
                                  ignore_index=-100), (logits,))


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize(("size", "ignore_index", "ignored_rows"),
                         [(256, None, 0), (256, -100, 0), (512, -100, 8)])
def test_tversky_large_image_half_precision(size, ignore_index, ignored_rows, dtype):
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_large_image_half_precision:
    half-precision logits over 2**16 to 2**18 pixels give a finite float32 value equal to the
    float32 one, finite gradients, and zero gradients on ignored rows."""
    torch = _torch()
    base = torch.full((1, 2, size, size), -2.0)
    base[:, 0] = 2.0
    labels = torch.zeros((1, size, size), dtype=torch.int64)
    if ignored_rows:
        labels[:, :ignored_rows] = ignore_index
    logits = base.to(_dtype(torch, dtype)).requires_grad_()
    kw = dict(ignore_index=ignore_index)
    expected = _present_macro(torch, _tversky_none(logits.detach().float(), labels, 0.5, 0.5,
                                                   **kw), labels, ignore_index)
    none = _tversky_none(logits, labels, 0.5, 0.5, **kw)
    assert none.dtype == torch.float32
    got = _present_macro(torch, none, labels, ignore_index)
    assert bool(torch.isfinite(got))
    _close(got, expected, rtol=1e-3 if dtype == "float16" else 1.6e-2, atol=1e-5)
    grad = torch.autograd.grad(got, logits)[0].float()
    assert bool(torch.isfinite(grad).all())
    if ignored_rows:
        assert int(torch.count_nonzero(grad[:, :, :ignored_rows])) == 0


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_tversky_small_loss_ratio_in_float32(dtype):
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_small_loss_ratio_in_float32:
    a loss of about 1e-3 stays accurate (the ratio is formed in float32, not in half)."""
    torch = _torch()
    logits = torch.zeros(1, 2, 128, 128)
    logits[:, 0, :, ::2] = 20.0
    logits[:, 0, :, 1::2] = 6.0
    logits = logits.to(_dtype(torch, dtype))
    labels = torch.zeros(1, 128, 128, dtype=torch.int64)
    p_true = logits.float().softmax(dim=1)[:, 0].double()
    s = p_true.sum()
    expected = 1.0 - s / (s + 0.5 * (p_true.numel() - s))
    none = _tversky_none(logits, labels, 0.5, 0.5)
    assert none.dtype == torch.float32
    _close(_present_macro(torch, none, labels), expected, rtol=1e-2, atol=1e-6)


def test_tversky_smoke():
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_smoke: kornia's value on
    random logits (macro over present classes)."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 3, 2, seed=50), _randint(torch, 3, (2, 3, 2), seed=51)
    expected = kornia.losses.tversky_loss(logits, labels, alpha=0.5, beta=0.5)
    _close(_present_macro(torch, _tversky_none(logits, labels, 0.5, 0.5), labels), expected,
           rtol=1e-6, atol=1e-8)


def test_tversky_exception():
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_exception: a non-array pred
    raises TypeError; bad shapes and mixed devices raise ValueError."""
    torch = _torch()
    kw = dict(alpha=0.5, beta=0.5, axis=1, activation="softmax")
    with pytest.raises(TypeError):
        al.tversky_loss("not a tensor", torch.rand(1), **kw)
    with pytest.raises(ValueError):
        al.tversky_loss(torch.rand(1), torch.rand(1), **kw)
    with pytest.raises(ValueError):
        al.tversky_loss(torch.rand(1, 1, 1, 1), torch.rand(1, 1, 1, 2), **kw)
    with pytest.raises(ValueError):
        al.tversky_loss(torch.rand(1, 1, 1, 1), torch.rand(1, 1, 1, 1, device="meta"), **kw)


@pytest.mark.parametrize("ignore_index", [-100, None])
def test_tversky_all_zeros(ignore_index):
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_all_zeros."""
    torch = _torch()
    logits = torch.zeros(2, 3, 1, 2)
    logits[:, 0], logits[:, 1], logits[:, 2] = 10.0, 1.0, 1.0
    labels = torch.zeros(2, 1, 2, dtype=torch.int64)
    none = _tversky_none(logits, labels, 0.5, 0.5, ignore_index=ignore_index)
    _close(_present_macro(torch, none, labels, ignore_index), 0.0, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("ignore_index", [-100, 255])
def test_tversky_ignore_index(ignore_index):
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_ignore_index: only class 0 is
    present, with TP = 1, FP = 0, FN = 1 after masking: 1/3."""
    torch = _torch()
    logits = torch.zeros(2, 2, 1, 4)
    logits[:, 0, :, 0] = 100.0
    logits[:, 1, :, 1:] = 100.0
    labels = torch.zeros(2, 1, 4, dtype=torch.int64)
    labels[..., 2:] = ignore_index
    none = _tversky_none(logits, labels, 0.5, 0.5, ignore_index=ignore_index)
    _close(_present_macro(torch, none, labels, ignore_index), 1 / 3, rtol=1e-3, atol=1e-3)


def test_tversky_gradcheck():
    """kornia tests/losses/test_tversky.py::TestTverskyLoss::test_gradcheck (alpha = beta =
    0.5, about 20% of the pixels ignored with -100)."""
    torch = _torch()
    logits = _rand(torch, 2, 3, 3, 2, seed=52).requires_grad_()
    labels = _randint(torch, 3, (2, 3, 2), seed=53)
    labels[_rand(torch, 2, 3, 2, seed=54) > 0.8] = -100
    assert torch.autograd.gradcheck(
        lambda z: al.tversky_loss(z, labels, alpha=0.5, beta=0.5, axis=1, activation="softmax",
                                  ignore_index=-100), (logits,))


# =========================================================================================
# Lovász references written here (Berman's algorithm, float64, one image / class at a time)


def _jaccard_increments(torch, fg_sorted):
    """The Jaccard-loss increments g_k of a foreground indicator in decreasing-error order."""
    total = fg_sorted.sum()
    inter = total - fg_sorted.cumsum(0)
    union = total + (1 - fg_sorted).cumsum(0)
    jac = 1 - inter / union
    return torch.cat([jac[:1], jac[1:] - jac[:-1]])


def _lovasz_extension(torch, errors, fg):
    errors_sorted, perm = errors.sort(descending=True)
    return errors_sorted @ _jaccard_increments(torch, fg[perm])


def _hinge_reference(torch, logits, labels):
    """Mean over images of the Lovász hinge of each image."""
    per_image = []
    for b in range(logits.shape[0]):
        y = labels[b].to(torch.float64).flatten()
        errors = (1.0 - logits[b].flatten() * (2.0 * y - 1.0)).relu()
        per_image.append(_lovasz_extension(torch, errors, y))
    return torch.stack(per_image).mean()


def _softmax_reference(torch, logits, labels, weight=None):
    """(C,) per class: the mean over images of the Lovász-Softmax of that class (classes
    "all"), times ``weight``; kornia's loss is its mean."""
    p = logits.softmax(1)
    b, c = p.shape[:2]
    per_class = []
    for k in range(c):
        terms = []
        for i in range(b):
            fg = (labels[i] == k).to(torch.float64).flatten()
            terms.append(_lovasz_extension(torch, (fg - p[i, k].flatten()).abs(), fg))
        per_class.append(torch.stack(terms).mean())
    out = torch.stack(per_class)
    return out if weight is None else out * torch.as_tensor(weight, dtype=out.dtype)


# =========================================================================================
# tests/losses/test_lovaz_hinge.py: TestLovaszHingeLoss -> lovasz_hinge_loss (channel dropped)


def test_lovasz_hinge_smoke():
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::test_smoke: kornia's value
    (labels all 0, as kornia's rand * 1 cast to int)."""
    kornia = _kornia()
    torch = _torch()
    logits = _rand(torch, 2, 1, 1, 1, seed=60)
    labels = torch.zeros(2, 1, 1, dtype=torch.int64)
    _close(al.lovasz_hinge_loss(logits[:, 0], labels),
           kornia.losses.lovasz_hinge_loss(logits, labels), rtol=1e-12)


def test_lovasz_hinge_exception():
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::test_exception: different
    shapes and different devices raise ValueError."""
    torch = _torch()
    with pytest.raises(ValueError):
        al.lovasz_hinge_loss(torch.rand(1, 1, 2), torch.zeros(1, 1, 1, dtype=torch.int64))
    with pytest.raises(ValueError):
        al.lovasz_hinge_loss(torch.rand(1, 1, 1),
                             torch.zeros(1, 1, 1, dtype=torch.int64, device="meta"))


def test_lovasz_hinge_multi_class():
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::test_multi_class: five
    channels of logits for (B, H, W) labels in [0, 5) are refused."""
    torch = _torch()
    with pytest.raises(ValueError):
        al.lovasz_hinge_loss(_rand(torch, 2, 5, 3, 2, seed=61), _randint(torch, 5, (2, 3, 2), 62))


def test_lovasz_hinge_perfect_prediction():
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::test_perfect_prediction."""
    torch = _torch()
    got = al.lovasz_hinge_loss(torch.ones(2, 1, 2), torch.ones(2, 1, 2, dtype=torch.int64))
    _close(got, 0.0, rtol=0, atol=1e-3)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_lovasz_hinge_output_dtype(dtype):
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::
    test_output_dtype_follows_the_prediction (half precision returns float32 here)."""
    torch = _torch()
    logits = torch.randn(2, 4, 5, generator=torch.Generator().manual_seed(63))
    labels = _randint(torch, 2, (2, 4, 5), seed=64)
    got = al.lovasz_hinge_loss(logits.to(_dtype(torch, dtype)), labels)
    assert got.dtype == _result_dtype(torch, dtype)


def test_lovasz_hinge_default_dtype_does_not_change_the_loss():
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::
    test_default_dtype_does_not_change_the_loss."""
    torch = _torch()
    logits = torch.randn(2, 4, 5, generator=torch.Generator().manual_seed(65))
    labels = _randint(torch, 2, (2, 4, 5), seed=66)
    expected = al.lovasz_hinge_loss(logits, labels)
    original = torch.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        got = al.lovasz_hinge_loss(logits, labels)
    finally:
        torch.set_default_dtype(original)
    assert got.dtype == torch.float32
    _close(got, expected, rtol=1e-6)


def test_lovasz_hinge_float64_matches_a_float64_reference():
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::
    test_float64_matches_a_float64_reference: value and gradient (torch seed 0 fixture)."""
    torch = _torch()
    g = torch.Generator().manual_seed(0)
    values = torch.randn(2, 1, 16, 24, dtype=torch.float64, generator=g)
    labels = torch.randint(0, 2, (2, 16, 24), generator=g)
    logits, reference = values[:, 0].clone().requires_grad_(), values[:, 0].clone().requires_grad_()
    expected = _hinge_reference(torch, reference, labels)
    got = al.lovasz_hinge_loss(logits, labels)
    _close(got, expected, rtol=1e-12, atol=1e-12)
    _close(torch.autograd.grad(got, logits)[0], torch.autograd.grad(expected, reference)[0],
           rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_lovasz_hinge_large_foreground_counts(dtype):
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::test_large_foreground_counts:
    66049 foreground pixels with error 1: loss 1 (the Jaccard increments sum to 1)."""
    torch = _torch()
    logits = torch.zeros((1, 257, 257), dtype=_dtype(torch, dtype), requires_grad=True)
    labels = torch.ones((1, 257, 257), dtype=torch.int64)
    got = al.lovasz_hinge_loss(logits, labels)
    assert got.dtype == _result_dtype(torch, dtype)
    _close(got, 1.0, rtol=1e-5)
    assert bool(torch.isfinite(torch.autograd.grad(got, logits)[0].float()).all())


@pytest.mark.parametrize(("logits", "expected"),
                         [pytest.param([[2, -1], [0, 3]], 1 / 3, id="int"),
                          pytest.param([[True, False], [False, True]], 1 / 2, id="bool")])
def test_lovasz_hinge_integer_logits_return_a_float_loss(logits, expected):
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::
    test_integer_logits_return_a_float_loss: integer (and bool) logits give a float32 loss."""
    torch = _torch()
    got = al.lovasz_hinge_loss(torch.tensor([logits]), torch.tensor([[[1, 0], [0, 1]]]))
    assert got.dtype == torch.float32
    _close(got, expected, rtol=1e-6)


def test_lovasz_hinge_gradcheck():
    """kornia tests/losses/test_lovaz_hinge.py::TestLovaszHingeLoss::test_gradcheck (labels all
    0, as kornia's randint(0, 1); w.r.t. the logits: labels must stay in {0, 1})."""
    torch = _torch()
    logits = _rand(torch, 2, 3, 2, seed=67).requires_grad_()
    labels = torch.zeros(2, 3, 2, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda z: al.lovasz_hinge_loss(z, labels), (logits,))


# =========================================================================================
# tests/losses/test_lovaz_softmax.py: TestLovaszSoftmaxLoss
#   -> lovasz_softmax_loss(axis=1, activation="softmax", per_image=True, classes="all")

_LS = dict(axis=1, per_image=True, classes="all")


def _lovasz_softmax(logits, labels, **kw):
    return al.lovasz_softmax_loss(logits, labels, activation="softmax", **_LS, **kw)


def test_lovasz_softmax_smoke():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_smoke: kornia's
    value."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 3, 1, 1, seed=70), _randint(torch, 3, (2, 1, 1), seed=71)
    _close(_lovasz_softmax(logits, labels), kornia.losses.lovasz_softmax_loss(logits, labels),
           rtol=1e-10)


def test_lovasz_softmax_exception():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_exception (integer
    labels of kornia's shapes): a 1-D pred, mismatched shapes and mixed devices raise
    ValueError. kornia also refuses one class; arrayloss accepts it (see the next test)."""
    torch = _torch()

    def labels(*shape, **kw):
        return torch.zeros(*shape, dtype=torch.int64, **kw)

    with pytest.raises(ValueError):
        _lovasz_softmax(torch.rand(1), labels(1))
    with pytest.raises(ValueError):
        _lovasz_softmax(torch.rand(1, 1, 1, 1), labels(1))
    with pytest.raises(ValueError):
        _lovasz_softmax(torch.rand(1, 2, 1, 1), labels(1, 1, 2))
    with pytest.raises(ValueError):
        _lovasz_softmax(torch.rand(1, 2, 1, 1), labels(1, 1, 1, device="meta"))


def test_lovasz_softmax_binary():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_binary: kornia
    raises for a single class. arrayloss computes it: the softmax of one class is 1 and the
    labels are all 0, so the prediction is exact and the loss 0."""
    torch = _torch()
    got = _lovasz_softmax(_rand(torch, 2, 1, 3, 2, seed=72), torch.zeros(2, 3, 2,
                                                                       dtype=torch.int64))
    _close(got, 0.0, rtol=0, atol=0)


def test_lovasz_softmax_all_ones():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_all_ones."""
    torch = _torch()
    prediction = torch.zeros(2, 2, 1, 2)
    prediction[:, 1] = 100.0
    _close(_lovasz_softmax(prediction, torch.ones(2, 1, 2, dtype=torch.int64)), 0.0, rtol=0,
           atol=1e-3)


def test_lovasz_softmax_weight():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_weight: weight
    [1, 0] on a prediction wrong everywhere: 0.5 (the mean divides by C)."""
    torch = _torch()
    prediction = torch.zeros(2, 2, 1, 2)
    prediction[:, 0] = 100.0
    got = _lovasz_softmax(prediction, torch.ones(2, 1, 2, dtype=torch.int64),
                          class_weight=[1.0, 0.0])
    _close(got, 0.5, rtol=1e-3, atol=1e-3)


_FOREGROUND_P = [[[[0.6, 0.21, 0.12]], [[0.29, 0.68, 0.19]], [[0.11, 0.11, 0.69]]]]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("case", "expected_per_class"),
                         [("multiclass", [0.4, 0.32, 0.31]),
                          ("absent_classes", [0.69, 0.68, 0.69]),
                          ("single_pixel", [0.4, 0.29, 0.11])])
def test_lovasz_softmax_foreground_reference(case, expected_per_class, weighted):
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::
    test_foreground_reference: its literal per-class values (Berman, classes "all",
    per_image=True), from the probabilities and from their logs through the softmax."""
    torch = _torch()
    probabilities = torch.tensor(_FOREGROUND_P, dtype=torch.float64)
    labels = torch.tensor([[[0, 1, 2]]])
    if case == "absent_classes":
        labels = torch.zeros_like(labels)
    elif case == "single_pixel":
        probabilities, labels = probabilities[..., :1], labels[..., :1]
    weight = [1.0, 2.0, 3.0] if weighted else None
    expected = torch.tensor(expected_per_class, dtype=torch.float64)
    if weighted:
        expected = expected * torch.tensor(weight, dtype=torch.float64)
    none = al.lovasz_softmax_loss(probabilities, labels, class_weight=weight, reduction="none",
                                  **_LS)
    _close(none[0], expected, rtol=1e-10, atol=1e-12)
    _close(_lovasz_softmax(probabilities.log(), labels, class_weight=weight), expected.mean(),
           rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("absent_classes", [False, True])
@pytest.mark.parametrize("order", [(2, 0, 1), (1, 2, 0), (0, 2, 1)])
def test_lovasz_softmax_class_permutation(order, absent_classes, weighted):
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_class_permutation:
    relabelling the classes (logits, labels and weights alike) changes neither the value nor
    the gradient."""
    torch = _torch()
    logits = torch.tensor([[[[1.2, -0.3, 0.7]], [[0.1, 1.4, -0.2]], [[-0.8, 0.2, 1.6]]]],
                          dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([[[0, 1, 2]]])
    if absent_classes:
        labels = torch.zeros_like(labels)
    perm = torch.tensor(order)
    weight = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) if weighted else None
    original = _lovasz_softmax(logits, labels, class_weight=weight)
    permuted = _lovasz_softmax(logits[:, perm], perm.argsort()[labels],
                               class_weight=None if weight is None else weight[perm])
    _close(permuted, original, rtol=1e-12)
    _close(torch.autograd.grad(permuted, logits)[0], torch.autograd.grad(original, logits)[0],
           rtol=1e-10, atol=1e-14)


def test_lovasz_softmax_foreground_gradient_reference():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::
    test_foreground_gradient_reference: its literal gradient w.r.t. the logits."""
    torch = _torch()
    logits = torch.tensor(_FOREGROUND_P, dtype=torch.float64).log().requires_grad_()
    labels = torch.tensor([[[0, 1, 2]]])
    expected = [[[[-0.08, 0.0476, 0.0276]], [[0.058, -0.0725333333, 0.0437]],
                 [[0.022, 0.0249333333, -0.0713]]]]
    grad = torch.autograd.grad(_lovasz_softmax(logits, labels), logits)[0]
    _close(grad, expected, rtol=0, atol=1e-9)


def test_lovasz_softmax_foreground_value():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_dynamo_foreground
    (its literal value 1.03 / 3; no compilation here)."""
    torch = _torch()
    logits = torch.tensor(_FOREGROUND_P, dtype=torch.float64).log()
    _close(_lovasz_softmax(logits, torch.tensor([[[0, 1, 2]]])), 1.03 / 3, rtol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_lovasz_softmax_large_foreground_counts(dtype):
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::
    test_large_foreground_counts: 66049 pixels of class 0 at uniform logits: 4/9."""
    torch = _torch()
    logits = torch.zeros((1, 3, 257, 257), dtype=_dtype(torch, dtype), requires_grad=True)
    labels = torch.zeros((1, 257, 257), dtype=torch.int64)
    got = _lovasz_softmax(logits, labels)
    assert got.dtype == _result_dtype(torch, dtype)
    _close(got, 4 / 9, rtol=1e-5 if dtype == "float32" else 1e-2)
    assert bool(torch.isfinite(torch.autograd.grad(got, logits)[0].float()).all())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_lovasz_softmax_output_dtype(dtype):
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::
    test_output_dtype_follows_the_prediction (half precision returns float32; a float32 class
    weight does not promote float32 logits)."""
    torch = _torch()
    dt = _dtype(torch, dtype)
    logits = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(73)).to(dt)
    labels = _randint(torch, 3, (2, 4, 5), seed=74)
    assert _lovasz_softmax(logits, labels).dtype == _result_dtype(torch, dtype)
    weight = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32)
    assert _lovasz_softmax(logits, labels, class_weight=weight).dtype == _result_dtype(torch,
                                                                                      dtype)


def test_lovasz_softmax_default_dtype_does_not_change_the_loss():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::
    test_default_dtype_does_not_change_the_loss."""
    torch = _torch()
    logits = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(75))
    labels = _randint(torch, 3, (2, 4, 5), seed=76)
    expected = _lovasz_softmax(logits, labels)
    original = torch.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        got = _lovasz_softmax(logits, labels)
    finally:
        torch.set_default_dtype(original)
    assert got.dtype == torch.float32
    _close(got, expected, rtol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_lovasz_softmax_float64_matches_a_float64_reference(weighted):
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::
    test_float64_matches_a_float64_reference: value and gradient (torch seed 0 fixture)."""
    torch = _torch()
    g = torch.Generator().manual_seed(0)
    values = torch.randn(2, 3, 16, 24, dtype=torch.float64, generator=g)
    labels = torch.randint(0, 3, (2, 16, 24), generator=g)
    logits, reference = values.clone().requires_grad_(), values.clone().requires_grad_()
    weight = [1.0, 2.0, 3.0] if weighted else None
    expected = _softmax_reference(torch, reference, labels, weight).mean()
    got = _lovasz_softmax(logits, labels, class_weight=weight)
    _close(got, expected, rtol=1e-12, atol=1e-12)
    _close(torch.autograd.grad(got, logits)[0], torch.autograd.grad(expected, reference)[0],
           rtol=1e-12, atol=1e-15)


def test_lovasz_softmax_gradcheck():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_gradcheck."""
    torch = _torch()
    logits = _rand(torch, 2, 4, 3, 2, seed=77).requires_grad_()
    labels = _randint(torch, 4, (2, 3, 2), seed=78)
    assert torch.autograd.gradcheck(lambda z: _lovasz_softmax(z, labels), (logits,))


def test_lovasz_softmax_module():
    """kornia tests/losses/test_lovaz_softmax.py::TestLovaszSoftmaxLoss::test_module: kornia's
    value on five classes."""
    kornia = _kornia()
    torch = _torch()
    logits, labels = _rand(torch, 2, 5, 1, 2, seed=79), _randint(torch, 5, (2, 1, 2), seed=80)
    _close(_lovasz_softmax(logits, labels), kornia.losses.lovasz_softmax_loss(logits, labels),
           rtol=1e-10)


def _lovasz_conv_fixture(torch):
    """kornia's TestConventionsLovaszSoftmaxLoss fixture (torch seed 0), in float64."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 4, 6, generator=g)
    labels = torch.randint(0, 3, (2, 4, 6), generator=g)
    labels[1, 1:3, 2:5] = 3  # class 3 is absent from image 0
    logits = logits + 3.0 * (labels[:, None] == torch.arange(4)[:, None, None])
    logits[0, 3, 0, :2] += 6.0  # image 0 predicts the absent class 3 on two pixels
    return logits.to(torch.float64), labels


def test_lovasz_softmax_averages_all_classes_per_image():
    """kornia tests/losses/test_lovaz_softmax.py::TestConventionsLovaszSoftmaxLoss::
    test_convention_lovasz_softmax_loss_averages_all_classes_per_image: each image on its own
    (pooling the batch differs); an absent class enters with the image's largest probability
    for it."""
    torch = _torch()
    logits, labels = _lovasz_conv_fixture(torch)
    per_image = (_lovasz_softmax(logits[:1], labels[:1]) + _lovasz_softmax(logits[1:],
                                                                          labels[1:])) / 2
    _close(_lovasz_softmax(logits, labels), per_image, rtol=1e-12)
    flattened = _lovasz_softmax(torch.cat([logits[0], logits[1]], -1)[None],
                                torch.cat([labels[0], labels[1]], -1)[None])
    assert abs(float(flattened - per_image)) > 0.02
    without_class_3 = _softmax_reference(torch, logits[:1], labels[:1])[:3].sum() / 4
    largest_p_3 = logits[:1].softmax(1)[:, 3].max()
    _close(_lovasz_softmax(logits[:1], labels[:1]), without_class_3 + largest_p_3 / 4,
           rtol=1e-12)


def test_lovasz_softmax_weight_is_not_normalised():
    """kornia tests/losses/test_lovaz_softmax.py::TestConventionsLovaszSoftmaxLoss::
    test_convention_lovasz_softmax_loss_weight_is_not_normalised: a uniform weight 2 doubles
    the loss; a weight vector gives the weighted sum of the one-class losses."""
    torch = _torch()
    logits, labels = _lovasz_conv_fixture(torch)
    plain = _lovasz_softmax(logits, labels)
    _close(_lovasz_softmax(logits, labels, class_weight=[2.0] * 4), 2 * plain, rtol=1e-12)
    weight = [1.0, 2.0, 3.0, 4.0]
    one_class = torch.eye(4, dtype=torch.float64)
    _close(_lovasz_softmax(logits, labels, class_weight=weight),
           sum(w * _lovasz_softmax(logits, labels, class_weight=e)
               for w, e in zip(weight, one_class)), rtol=1e-12)


# =========================================================================================
# tests/losses/test_divergence.py: TestDivergenceLoss (KL part) -> kl_divergence


def _kl2d(torch, pred, target, reduction="mean"):
    """kornia's kl_div_loss_2d(pred, target) = KL(target || pred) over H*W per (b, n)."""
    b, n = pred.shape[:2]
    return al.kl_divergence(torch.log(pred).reshape(b, n, -1), target.reshape(b, n, -1),
                            reduction=reduction)


_KL_ROWS = [
    pytest.param((1, 1, 2, 4), 0.125, 0.125, 0.0, id="same-1ch"),
    pytest.param((1, 7, 2, 4), 0.125, 0.125, 0.0, id="same-7ch"),
    pytest.param((1, 7, 2, 4), 0.125, 0.0, 0.0, id="target-zeros"),
    pytest.param((1, 7, 2, 4), 0.0, 0.125, math.inf, id="pred-zeros"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "pred", "target", "expected"), _KL_ROWS)
def test_kl_div_loss_2d(shape, pred, target, expected, dtype):
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::test_kl_div_loss_2d."""
    torch = _torch()
    dt = _dtype(torch, dtype)
    got = _kl2d(torch, torch.full(shape, pred, dtype=dt), torch.full(shape, target, dtype=dt))
    assert got.dtype == dt
    _close(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("shape", "pred", "target", "expected"), _KL_ROWS)
def test_kl_div_loss_2d_without_reduction(shape, pred, target, expected):
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::
    test_kl_div_loss_2d_without_reduction: one value per (b, n)."""
    torch = _torch()
    got = _kl2d(torch, torch.full(shape, pred), torch.full(shape, target), reduction="none")
    _close(got, np.full(shape[:2], expected), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("shape", "pred", "target", "expected"), _KL_ROWS)
def test_kl_noncontiguous(shape, pred, target, expected):
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::test_noncontiguous_kl:
    transposed views as inputs."""
    torch = _torch()

    def view(value):
        return torch.full(shape, value).view(shape[::-1]).transpose(-2, -1)

    _close(_kl2d(torch, view(pred), view(target)), expected, rtol=1e-6, atol=1e-7)


def test_kl_reduction_sum():
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::test_reduction_sum (KL):
    "none" is (B, N); "sum" and "mean" reduce it."""
    torch = _torch()
    pred = torch.full((2, 3, 2, 4), 0.125, dtype=torch.float64)
    target = torch.zeros((2, 3, 2, 4), dtype=torch.float64)
    target[..., 0, 0] = 1.0
    none = _kl2d(torch, pred, target, "none")
    assert tuple(none.shape) == (2, 3)
    _close(none, np.full((2, 3), math.log(8.0)), rtol=1e-12)
    _close(_kl2d(torch, pred, target, "sum"), none.sum(), rtol=1e-12)
    _close(_kl2d(torch, pred, target, "mean"), none.mean(), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["batchmean", "MEAN", "avg", None])
def test_kl_exception_invalid_reduction(reduction):
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::
    test_exception_invalid_reduction (KL): an unknown reduction string raises ValueError, and
    None (not a string) TypeError (arrayloss's "mean" already is torch's "batchmean")."""
    torch = _torch()
    pred = torch.full((1, 1, 2, 4), 0.125)
    with pytest.raises(TypeError if reduction is None else ValueError, match="reduction"):
        _kl2d(torch, pred, pred, reduction)


def test_kl_exception_shape():
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::test_exception_shape (KL) and
    TestConventionsDivergence::test_convention_kl_div_loss_2d_rejects_a_transposed_pred_5535:
    a transposed pred or a channel subset is refused, not reinterpreted (arrays given as they
    are; arrayloss is N-D, so kornia's 3-D refusal has no counterpart)."""
    torch = _torch()
    target = torch.full((2, 3, 4, 6), 1 / 24)
    with pytest.raises(ValueError):
        al.kl_divergence(target.transpose(-2, -1).contiguous().log(), target)
    with pytest.raises(ValueError):
        al.kl_divergence(target[:, :2].log(), target)


def test_kl_gradcheck():
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::test_gradcheck_kl (w.r.t.
    pred and target)."""
    torch = _torch()
    pred = _rand(torch, 1, 1, 10, 16, seed=90).requires_grad_()
    target = _rand(torch, 1, 1, 10, 16, seed=91).requires_grad_()
    assert torch.autograd.gradcheck(lambda p, t: _kl2d(torch, p, t), (pred, target))


_P_SPARSE = [0.0, 0.25, 0.75, 0.0, 0.0, 0.0]
_Q_FULL = [0.1, 0.2, 0.3, 0.1, 0.2, 0.1]


def test_kl_identical_distributions_with_zero_cells():
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::
    test_identical_distributions_with_zero_cells (KL): 0 log 0 = 0, with finite gradients that
    are exactly 0 at the empty cells (w.r.t. log_q: the log is the caller's)."""
    torch = _torch()
    p = torch.tensor(_P_SPARSE, dtype=torch.float64).view(1, 1, 6)
    log_q = p.log().requires_grad_()
    target = p.clone().requires_grad_()
    got = al.kl_divergence(log_q, target)
    _close(got, 0.0, rtol=0, atol=1e-15)
    g_q, g_t = torch.autograd.grad(got, (log_q, target))
    assert bool(torch.isfinite(g_q).all()) and bool(torch.isfinite(g_t).all())
    assert bool((g_q[p == 0] == 0).all()) and bool((g_t[p == 0] == 0).all())


def test_kl_zero_cell_in_one_input():
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::test_zero_cell_in_one_input:
    a zero in target alone contributes 0; a zero in pred where target > 0 gives +inf."""
    torch = _torch()
    p = torch.tensor(_P_SPARSE, dtype=torch.float64).view(1, 1, 2, 3)
    q = torch.tensor(_Q_FULL, dtype=torch.float64).view(1, 1, 2, 3)
    expected = (p[p > 0] * (p[p > 0].log() - q[p > 0].log())).sum()
    _close(_kl2d(torch, q, p), expected, rtol=1e-12)
    assert float(_kl2d(torch, p, q)) == math.inf


def test_kl_zero_cell_in_target_alone_has_finite_gradients():
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::
    test_zero_cell_in_target_alone_has_finite_gradients (KL)."""
    torch = _torch()
    pred = torch.tensor(_Q_FULL, dtype=torch.float64).view(1, 1, 2, 3).requires_grad_()
    target = torch.tensor(_P_SPARSE, dtype=torch.float64).view(1, 1, 2, 3).requires_grad_()
    g_p, g_t = torch.autograd.grad(_kl2d(torch, pred, target), (pred, target))
    assert bool(torch.isfinite(g_p).all()) and bool(torch.isfinite(g_t).all())


@pytest.mark.parametrize("case", ["target-nan", "target-negative", "pred-nan", "pred-negative"])
def test_kl_invalid_cells_stay_nan(case):
    """kornia tests/losses/test_divergence.py::TestDivergenceLoss::test_invalid_cells_stay_nan
    (KL rows): a NaN in either input, or a negative pred (whose log is NaN), in a cell where the
    target is 0, gives NaN for that distribution, never a finite number, and leaves the other
    distribution of the batch alone. A negative target is a probability outside [0, 1]:
    ValueError here (documented), NaN in kornia. (kornia's +inf pred row has no log-space
    counterpart.)"""
    torch = _torch()
    p = torch.tensor(_P_SPARSE, dtype=torch.float64).view(1, 1, 2, 3)
    q = torch.tensor(_Q_FULL, dtype=torch.float64).view(1, 1, 2, 3)
    pred, target = q.repeat(2, 1, 1, 1), p.repeat(2, 1, 1, 1)
    if case == "target-nan":
        target[1, 0, 0, 0] = math.nan
    elif case == "target-negative":
        target[1, 0, 0, 0] = -0.25
        with pytest.raises(ValueError):
            _kl2d(torch, pred, target, "none")
        return
    elif case == "pred-nan":
        pred[1, 0, 1, 0] = math.nan  # target is 0 in this cell
    else:
        pred[1, 0, 1, 0] = -0.1  # target is 0 in this cell
    got = _kl2d(torch, pred, target, "none")
    _close(got[0], _kl2d(torch, q, p, "none")[0], rtol=1e-12)
    assert bool(torch.isnan(got[1]).all())


_P16 = (12.0 / 16, 2.0 / 16, 1.0 / 16, 0.5 / 16, 0.25 / 16, 0.25 / 16)
_Q16 = (2.0 / 16, 2.0 / 16, 2.0 / 16, 2.0 / 16, 4.0 / 16, 4.0 / 16)


def test_kl_is_kl_of_target_from_pred():
    """kornia tests/losses/test_divergence.py::TestConventionsDivergence::
    test_convention_kl_div_loss_2d_is_kl_of_target_from_pred: KL(target || pred) (1.4223 here,
    not KL(pred || target) = 1.1705), and 1/4 ln 2 + 3/4 ln 3 for a sparse target."""
    torch = _torch()
    pred = torch.tensor(_P16, dtype=torch.float64).view(1, 1, 2, 3)
    target = torch.tensor(_Q16, dtype=torch.float64).view(1, 1, 2, 3)
    kl_target_pred = sum(q * math.log(q / p) for p, q in zip(_P16, _Q16))
    _close(_kl2d(torch, pred, target), kl_target_pred, rtol=1e-12)
    _close(kl_target_pred, 1.4223, rtol=0, atol=5e-5)
    full = torch.tensor([0.125, 0.125, 0.25, 0.25, 0.125, 0.125],
                        dtype=torch.float64).view(1, 1, 2, 3)
    sparse = torch.tensor(_P_SPARSE, dtype=torch.float64).view(1, 1, 2, 3)
    _close(_kl2d(torch, full, sparse), 0.25 * math.log(2.0) + 0.75 * math.log(3.0), rtol=1e-12)


def test_kl_reduces_over_batch_and_channels():
    """kornia tests/losses/test_divergence.py::TestConventionsDivergence::
    test_convention_kl_div_loss_2d_reduces_over_batch_and_channels: "none" (B, N), "mean" over
    the B*N distributions (torch "batchmean" on the (B*N, H*W) reshape), "sum"; nothing is
    normalised; permuting channels permutes "none"."""
    torch = _torch()
    g = torch.Generator().manual_seed(0)
    pred = torch.softmax(torch.randn(2, 3, 24, generator=g, dtype=torch.float64), -1)
    target = torch.softmax(torch.randn(2, 3, 24, generator=g, dtype=torch.float64), -1)
    pred, target = pred.view(2, 3, 4, 6), target.view(2, 3, 4, 6)
    expected = (target * (target.log() - pred.log())).sum((-2, -1))
    none = _kl2d(torch, pred, target, "none")
    _close(none, expected, rtol=1e-12)
    _close(_kl2d(torch, pred, target), expected.mean(), rtol=1e-12)
    batchmean = torch.nn.functional.kl_div(pred.reshape(6, -1).log(), target.reshape(6, -1),
                                           reduction="batchmean")
    _close(_kl2d(torch, pred, target), batchmean, rtol=1e-12)
    _close(_kl2d(torch, pred, target, "sum"), expected.sum(), rtol=1e-12)
    assert float(2 * target.max()) <= 1.0  # doubled targets are still in [0, 1]
    _close(_kl2d(torch, 2 * pred, 2 * target, "none"), 2 * expected, rtol=1e-12)
    perm = [2, 0, 1]
    _close(_kl2d(torch, pred[:, perm], target[:, perm], "none"), none[:, perm], rtol=0, atol=0)


def test_kl_empty_cells_contribute_zero_5554():
    """kornia tests/losses/test_divergence.py::TestConventionsDivergence::
    test_convention_div_loss_2d_empty_cells_contribute_zero_5554 (KL parts)."""
    torch = _torch()
    p = torch.tensor(_P_SPARSE, dtype=torch.float64).view(1, 1, 2, 3)
    full = torch.tensor([0.125, 0.125, 0.25, 0.25, 0.125, 0.125],
                        dtype=torch.float64).view(1, 1, 2, 3)
    _close(_kl2d(torch, p, p), 0.0, rtol=0, atol=1e-15)
    pred = full.clone()
    pred[..., 0, 0] = 0.0
    pred[..., 1, 2] += 0.125
    _close(_kl2d(torch, pred, p), 0.25 * math.log(2.0) + 0.75 * math.log(3.0), rtol=1e-12)
    batch = torch.cat([p, full])
    _close(_kl2d(torch, batch, batch, "none"), np.zeros((2, 1)), rtol=0, atol=1e-15)
    _close(_kl2d(torch, batch, batch), 0.0, rtol=0, atol=1e-15)
