"""Segmentation family: peer comparisons on random inputs, the Lovász extension against an
independent float64 reference on images with ties, the contract's edge cases, and the
Hypothesis properties of the family (Dice = F1 of hard masks, Jaccard = Dice / (2 - Dice),
Tversky special cases, tie-order invariance, channels-first = channels-last).

The backend matrix (every backend, golden numbers, gradients, half precision, vmap) runs
these losses through their catalogue records (``arrayloss.catalog.segmentation``).
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arrayloss as al
from arrayloss import _backends
from arrayloss.catalog import segmentation as cat
from conftest import require_backend, require_module
from conftest import torch_or_skip as _torch

OVERLAP = [al.dice_loss, al.jaccard_loss, al.tversky_loss, al.focal_tversky_loss]
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)

GOLDEN = [pytest.param(name, case, id=f"{name}-{case.id}")
          for name, cases in cat.GOLDEN.items() for case in cases]


@pytest.mark.parametrize(("name", "case"), GOLDEN)
def test_catalogue_examples(name: str, case) -> None:
    """The catalogue examples kept out of the matrix: NumPy float64 equals the golden number
    and the float64 reference; torch and jitted JAX agree in float32."""
    fn = getattr(al, name)
    args, kw = case.inputs()
    got = np.asarray(fn(*args, **case.options, **kw))
    record = next(r for r in cat.RECORDS if r.name == name)
    np.testing.assert_allclose(got, record.reference(*args, **case.options, **kw), rtol=1e-10,
                               atol=1e-12)
    if case.expected is not None:
        np.testing.assert_allclose(got, case.expected, rtol=1e-6, atol=1e-7)
    for backend_id in ("torch", "jax"):
        backend = require_backend(_backends.by_id(backend_id))
        conv, ckw = backend.convert(args, kw, "float32")
        out = backend.to_numpy(backend.call(fn, conv, {**case.options, **ckw}))
        np.testing.assert_allclose(out, got, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------
# peers on random inputs (float64, channels-first as MONAI and kornia expect)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    ("monai_kw", "ours"),
    [
        ({}, {}),
        ({"jaccard": True}, {"loss": "jaccard"}),
        ({"squared_pred": True}, {"squared": True}),
        ({"batch": True}, {"per_image": False}),
        ({"batch": True, "squared_pred": True, "weight": [0.5, 1.0, 2.0, 0.0]},
         {"per_image": False, "squared": True, "class_weight": [0.5, 1.0, 2.0, 0.0]}),
        ({"smooth_nr": 1e-5, "smooth_dr": 1e-5}, {"smooth": 1e-5}),
    ],
)
def test_dice_matches_monai(seed: int, monai_kw: dict, ours: dict) -> None:
    torch = _torch()
    require_module("monai")
    from monai.losses import DiceLoss

    rng = np.random.default_rng(seed)
    lg = rng.normal(size=(3, 4, 6, 5))  # (B, C, H, W), class 3 often absent in an image
    lab = rng.choice(4, p=[0.4, 0.35, 0.24, 0.01], size=(3, 6, 5))
    kw = {"smooth_nr": 0.0, "smooth_dr": 0.0, **monai_kw}
    # one-hot in float64 here: MONAI's to_onehot_y gives float32, which rounds its squared
    # norms (squared_pred=True) at 1e-7
    onehot = torch.asarray(np.moveaxis(np.eye(4)[lab], -1, 1))
    want = DiceLoss(softmax=True, reduction="none", **kw)(torch.asarray(lg), onehot)
    opts = dict(ours)
    fn = al.jaccard_loss if opts.pop("loss", "dice") == "jaccard" else al.dice_loss
    got = fn(torch.asarray(lg), torch.asarray(lab), axis=1, activation="softmax",
             reduction="none", **opts)
    np.testing.assert_allclose(got.numpy(), want.reshape(got.shape).numpy(), rtol=1e-12,
                               atol=1e-14)
    mean = fn(torch.asarray(lg), torch.asarray(lab), axis=1, activation="softmax", **opts)
    want_mean = DiceLoss(softmax=True, **kw)(torch.asarray(lg), onehot)
    np.testing.assert_allclose(mean.numpy(), want_mean.numpy(), rtol=1e-12)


@pytest.mark.parametrize(("alpha", "beta", "batch"), [(0.3, 0.7, False), (0.7, 0.3, True),
                                                      (1.0, 1.0, False)])
def test_tversky_matches_monai(alpha: float, beta: float, batch: bool) -> None:
    torch = _torch()
    require_module("monai")
    from monai.losses import TverskyLoss

    rng = np.random.default_rng(7)
    p = _softmax(rng.normal(size=(2, 3, 4, 4, 3)), axis=1)  # 3-D, channels-first probabilities
    lab = rng.integers(0, 3, size=(2, 4, 4, 3))
    want = TverskyLoss(to_onehot_y=True, alpha=alpha, beta=beta, smooth_nr=0.0, smooth_dr=0.0,
                       batch=batch, reduction="none")(torch.asarray(p),
                                                      torch.asarray(lab)[:, None])
    got = al.tversky_loss(torch.asarray(p), torch.asarray(lab), axis=1, alpha=alpha, beta=beta,
                          per_image=not batch, reduction="none")
    np.testing.assert_allclose(got.numpy(), want.reshape(got.shape).numpy(), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lovasz_matches_kornia(seed: int) -> None:
    torch = _torch()
    require_module("kornia")
    from kornia.losses import lovasz_hinge_loss, lovasz_softmax_loss

    rng = np.random.default_rng(seed)
    lg = torch.asarray(rng.normal(size=(3, 5, 7, 6)))
    lab = torch.asarray(rng.integers(0, 5, size=(3, 7, 6)))
    ours = al.lovasz_softmax_loss(lg, lab, axis=1, activation="softmax", per_image=True,
                                  classes="all")
    np.testing.assert_allclose(ours.numpy(), lovasz_softmax_loss(lg, lab).numpy(), rtol=1e-12)
    logits = torch.asarray(rng.normal(size=(3, 7, 6)))
    y = torch.asarray(rng.integers(0, 2, size=(3, 7, 6)))
    np.testing.assert_allclose(al.lovasz_hinge_loss(logits, y).numpy(),
                               lovasz_hinge_loss(logits[:, None], y).numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# the Lovász extension against the independent float64 reference, with ties


def _quantised(rng: np.random.Generator, shape: tuple[int, ...], levels: int) -> np.ndarray:
    """Values on a coarse grid: many exact ties."""
    return rng.integers(0, levels, size=shape) / levels


@pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax", "array_api_strict"])
@pytest.mark.parametrize("per_image", [True, False])
def test_lovasz_with_ties_matches_reference(backend_id: str, per_image: bool) -> None:
    backend = require_backend(_backends.by_id(backend_id))
    rng = np.random.default_rng(3)
    p = _quantised(rng, (3, 5, 4, 4), 4)
    p = p / p.sum(-1, keepdims=True).clip(min=1e-3)  # ties survive the normalisation
    lab = rng.integers(0, 4, size=(3, 5, 4))
    lab = np.where(rng.uniform(size=lab.shape) < 0.2, -1, lab)
    logits = np.round(rng.normal(size=(3, 5, 4)), 1)  # ties in the margins
    y = rng.integers(0, 2, size=(3, 5, 4))
    for classes in ("present", "all"):
        opts = {"per_image": per_image, "classes": classes, "ignore_index": -1,
                "reduction": "none"}
        (cp, cl), _ = backend.convert((p, lab), {})
        got = backend.to_numpy(al.lovasz_softmax_loss(cp, cl, **opts))
        np.testing.assert_allclose(got, cat._ref_lovasz_softmax(p, lab, **opts), rtol=1e-12,
                                   atol=1e-14)
    (cx, cy), _ = backend.convert((logits, y), {})
    got = backend.to_numpy(al.lovasz_hinge_loss(cx, cy, per_image=per_image, reduction="none"))
    want = cat._ref_lovasz_hinge(logits, y, per_image=per_image, reduction="none")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_lovasz_catalogue_tie_example() -> None:
    # errors [0.5, 0.5, 0.2] with labels [1, 0, 1] or [0, 1, 1] give 0.4 both ways
    for labels in ([1, 0, 1], [0, 1, 1]):
        y = np.array([labels])
        logits = (1.0 - np.array([[0.5, 0.5, 0.2]])) * (2.0 * y - 1.0)  # margins as given
        np.testing.assert_allclose(al.lovasz_hinge_loss(logits, y), 0.4, rtol=1e-12)


def test_berman_per_image_mean_of_means_from_none() -> None:
    """The documented recipe reproduces Berman's per-image mean of means (0.4427645)."""
    none = al.lovasz_softmax_loss(cat._PR, cat._LAB, per_image=True, reduction="none")
    present = np.eye(3)[cat._LAB].reshape(2, -1, 3).any(axis=1)
    per_image = (none * present).sum(1) / present.sum(1)
    np.testing.assert_allclose(per_image.mean(), 0.4427645, atol=1e-7)


# ---------------------------------------------------------------------------------------
# edge cases of the contract


@pytest.mark.parametrize("fn", [*OVERLAP, al.lovasz_softmax_loss])
def test_perfect_prediction_is_zero_with_absent_classes(fn) -> None:
    lab = np.array([[[0, 0], [2, 2]], [[2, 0], [0, 0]]])  # class 1 absent everywhere
    for per_image in (True, False):
        out = fn(np.eye(3)[lab], lab, per_image=per_image, reduction="none")
        assert np.all(out == 0.0), out


@pytest.mark.parametrize("fn", OVERLAP)
def test_empty_target_with_prediction_is_near_one(fn) -> None:
    pred = np.full((1, 4, 4), 0.3)
    target = np.zeros((1, 4, 4))
    np.testing.assert_allclose(fn(pred, target, axis=None), 1.0, atol=1e-12)
    # MONAI-style smoothing lets the cost of a small prediction vanish
    assert fn(np.full((1, 4, 4), 1e-10), target, axis=None, smooth=1e-5) < 1e-3


@pytest.mark.parametrize("fn", [*OVERLAP, al.lovasz_softmax_loss, al.lovasz_hinge_loss])
@pytest.mark.parametrize("backend_id", ["torch", "jax"])
def test_all_ignored_is_zero_with_zero_gradients(fn, backend_id: str) -> None:
    backend = require_backend(_backends.by_id(backend_id))
    rng = np.random.default_rng(0)
    if fn is al.lovasz_hinge_loss:
        args = (rng.normal(size=(2, 3, 3)), np.full((2, 3, 3), 255))
        opts = {"ignore_index": 255}
    else:
        args = (rng.normal(size=(2, 3, 3, 4)), np.full((2, 3, 3), 255))
        opts = {"ignore_index": 255, "activation": "softmax"}
    for reduction in ("mean", "sum", "none"):
        (g,) = backend.grad(fn, args, {**opts, "reduction": reduction}, (0,))
        assert np.all(g == 0.0)
        (x, y), _ = backend.convert(args, {})
        assert np.all(backend.to_numpy(fn(x, y, **opts, reduction=reduction)) == 0.0)


def test_partially_ignored_entries_are_not_counted() -> None:
    p = _softmax(np.random.default_rng(1).normal(size=(2, 2, 2, 3)))
    lab = np.array([[[0, 1], [2, 1]], [[9, 9], [9, 9]]])  # image 2 fully ignored
    none = al.dice_loss(p, lab, ignore_index=9, reduction="none")
    assert np.all(none[1] == 0.0)
    np.testing.assert_allclose(al.dice_loss(p, lab, ignore_index=9), none[0].mean(), rtol=1e-12)


def test_focal_tversky_perfect_entry_has_zero_gradient() -> None:
    torch = _torch()
    lab = torch.asarray(np.array([[[0, 1], [1, 1]]]))
    p = torch.nn.functional.one_hot(lab, 2).double().requires_grad_(True)
    loss = al.focal_tversky_loss(p, lab, gamma=0.5)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.all(p.grad == 0)


def test_sigmoid_of_saturated_logits_is_finite() -> None:
    torch = _torch()
    x = torch.asarray(np.array([[[-800.0, 800.0], [30.0, -30.0]]]), requires_grad=True)
    y = torch.asarray(np.array([[[0, 1], [1, 0]]]))
    loss = al.dice_loss(x, y, axis=None, activation="sigmoid")
    loss.backward()
    assert torch.isfinite(loss) and torch.all(torch.isfinite(x.grad))


def test_option_errors_name_the_option() -> None:
    p = np.full((1, 2, 2), 0.5)
    with pytest.raises(ValueError, match="dice_loss: `activation` 'softmax' needs a class axis"):
        al.dice_loss(p, p, axis=None, activation="softmax")
    with pytest.raises(ValueError, match="dice_loss: `class_weight` needs a class axis"):
        al.dice_loss(p, p, axis=None, class_weight=[1.0])
    with pytest.raises(ValueError, match="jaccard_loss: `ignore_index` needs integer labels"):
        al.jaccard_loss(np.full((1, 2, 3), 0.5), np.full((1, 2, 3), 0.5), ignore_index=255)
    with pytest.raises(TypeError, match="lovasz_softmax_loss: `target` must hold integer"):
        al.lovasz_softmax_loss(np.full((1, 2, 3), 0.5), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="tversky_loss: `target` must hold probabilities in"):
        al.tversky_loss(p, np.full((1, 2, 2), 2), axis=None)


def test_binary_overlap_ignore_index() -> None:
    p = np.array([[0.9, 0.2, 0.7, 0.4]])
    y = np.array([[1, 0, 255, 1]])
    keep = y != 255
    want = al.dice_loss(p[keep][None], y[keep][None], axis=None)
    np.testing.assert_allclose(al.dice_loss(p, y, axis=None, ignore_index=255), want,
                               rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Hypothesis properties


@st.composite
def _soft_segmentation(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (B, H, W, C) and labels (B, H, W)."""
    b, h, w, c = (draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4)),
                  draw(st.integers(2, 4)))
    unit = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False, width=64)
    p = draw(hnp.arrays(np.float64, (b, h, w, c), elements=unit))
    lab = draw(hnp.arrays(np.int64, (b, h, w), elements=st.integers(0, c - 1)))
    return p, lab


@st.composite
def _hard_masks(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    bits = st.integers(0, 1)
    return (draw(hnp.arrays(np.int64, shape, elements=bits)),
            draw(hnp.arrays(np.int64, shape, elements=bits)))


@SETTINGS
@given(_hard_masks())
def test_dice_is_f1_of_hard_masks(masks: tuple[np.ndarray, np.ndarray]) -> None:
    pred, target = masks
    tp = (pred * target).sum(axis=(1, 2))
    fp = (pred * (1 - target)).sum(axis=(1, 2))
    fn = ((1 - pred) * target).sum(axis=(1, 2))
    f1 = np.where(tp + fp + fn == 0, 1.0, 2 * tp / np.maximum(2 * tp + fp + fn, 1))
    got = al.dice_loss(pred.astype(np.float64), target, axis=None, reduction="none")
    np.testing.assert_allclose(1.0 - got, f1, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(_soft_segmentation(), st.booleans())
def test_jaccard_dice_tversky_identities(data: tuple, per_image: bool) -> None:
    p, lab = data
    kw = {"per_image": per_image, "reduction": "none", "eps": 1e-300}
    dice = al.dice_loss(p, lab, **kw)
    jac = al.jaccard_loss(p, lab, **kw)
    d = 1.0 - dice
    np.testing.assert_allclose(1.0 - jac, d / (2.0 - d), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(al.tversky_loss(p, lab, alpha=0.5, beta=0.5, **kw), dice,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(al.tversky_loss(p, lab, alpha=1.0, beta=1.0, **kw), jac,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(al.focal_tversky_loss(p, lab, gamma=1.0, **kw),
                               al.tversky_loss(p, lab, **kw), rtol=1e-10, atol=1e-12)


@SETTINGS
@given(_soft_segmentation(), st.integers(0, 2**32 - 1))
def test_channels_first_equals_channels_last(data: tuple, seed: int) -> None:
    p, lab = data
    pf = np.moveaxis(p, -1, 1)
    dense = np.eye(p.shape[-1])[lab]
    for fn in OVERLAP:
        for target, target_first in ((lab, lab), (dense, np.moveaxis(dense, -1, 1))):
            a = fn(p, target, reduction="none", activation="softmax")
            b = fn(pf, target_first, axis=1, reduction="none", activation="softmax")
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    for per_image in (True, False):
        a = al.lovasz_softmax_loss(p, lab, per_image=per_image, reduction="none")
        b = al.lovasz_softmax_loss(pf, lab, axis=1, per_image=per_image, reduction="none")
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(_soft_segmentation(), st.integers(0, 2**32 - 1))
def test_lovasz_values_invariant_to_tie_order(data: tuple, seed: int) -> None:
    """Coarse values make many tied errors; permuting the pixels of each image reorders the
    ties inside the sort, and must not change any value."""
    p, lab = data
    p = np.round(p * 2) / 2  # values in {0, 0.5, 1}
    logits = np.round(p[..., 0] * 4 - 2)
    y = (lab == 0).astype(np.int64)
    b = p.shape[0]
    perm = np.random.default_rng(seed).permutation(p.shape[1] * p.shape[2])
    flat = (b, 1, -1)
    pp = p.reshape(b, 1, -1, p.shape[-1])[:, :, perm]
    lp = lab.reshape(flat)[:, :, perm]
    for per_image in (True, False):
        for classes in ("present", "all"):
            kw = {"per_image": per_image, "classes": classes, "reduction": "none"}
            np.testing.assert_allclose(al.lovasz_softmax_loss(pp, lp, **kw),
                                       al.lovasz_softmax_loss(p, lab, **kw),
                                       rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(
            al.lovasz_hinge_loss(logits.reshape(flat)[:, :, perm], y.reshape(flat)[:, :, perm],
                                 per_image=per_image, reduction="none"),
            al.lovasz_hinge_loss(logits, y, per_image=per_image, reduction="none"),
            rtol=1e-12, atol=1e-14)
