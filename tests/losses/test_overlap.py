"""Overlap losses (``arrayloss.losses.overlap``: Dice, Jaccard, Tversky, focal Tversky)
beyond the catalogue's matrix, one class per loss and the family in ``TestOverlapFamily``:
the catalogue examples kept out of the matrix, MONAI on random inputs, the contract's edge
cases (absent classes, empty targets, ignored positions, saturated logits, option errors),
and the Hypothesis properties (Dice = F1 of hard masks, Jaccard = Dice / (2 - Dice),
Tversky special cases, channels-first = channels-last).

The backend matrix (every backend, golden numbers, gradients, half precision, vmap) runs
these losses through their catalogue records (``arrayloss.catalog.overlap``).
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arrayloss as al
from arrayloss.catalog import overlap as cat
from conftest import (
    check_all_ignored_is_zero,
    check_catalogue_example,
    require_module,
    soft_segmentation,
)
from conftest import torch_or_skip as _torch

OVERLAP = [al.dice_loss, al.jaccard_loss, al.tversky_loss, al.focal_tversky_loss]
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
GOLDEN = [pytest.param(name, case, id=f"{name}-{case.id}")
          for name, cases in cat.GOLDEN.items()
          for case in cases]


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@st.composite
def _hard_masks(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    bits = st.integers(0, 1)
    return (draw(hnp.arrays(np.int64, shape, elements=bits)),
            draw(hnp.arrays(np.int64, shape, elements=bits)))


class TestDiceLoss:
    def test_partially_ignored_entries_are_not_counted(self) -> None:
        p = _softmax(np.random.default_rng(1).normal(size=(2, 2, 2, 3)))
        lab = np.array([[[0, 1], [2, 1]], [[9, 9], [9, 9]]])  # image 2 fully ignored
        none = al.dice_loss(p, lab, ignore_index=9, reduction="none")
        assert np.all(none[1] == 0.0)
        np.testing.assert_allclose(al.dice_loss(p, lab, ignore_index=9), none[0].mean(), rtol=1e-12)

    def test_sigmoid_of_saturated_logits_is_finite(self) -> None:
        torch = _torch()
        x = torch.asarray(np.array([[[-800.0, 800.0], [30.0, -30.0]]]), requires_grad=True)
        y = torch.asarray(np.array([[[0, 1], [1, 0]]]))
        loss = al.dice_loss(x, y, axis=None, activation="sigmoid")
        loss.backward()
        assert torch.isfinite(loss) and torch.all(torch.isfinite(x.grad))

    def test_binary_ignore_index(self) -> None:
        p = np.array([[0.9, 0.2, 0.7, 0.4]])
        y = np.array([[1, 0, 255, 1]])
        keep = y != 255
        want = al.dice_loss(p[keep][None], y[keep][None], axis=None)
        np.testing.assert_allclose(al.dice_loss(p, y, axis=None, ignore_index=255), want,
                                   rtol=1e-12)

    @SETTINGS
    @given(_hard_masks())
    def test_is_f1_of_hard_masks(self, masks: tuple[np.ndarray, np.ndarray]) -> None:
        pred, target = masks
        tp = (pred * target).sum(axis=(1, 2))
        fp = (pred * (1 - target)).sum(axis=(1, 2))
        fn = ((1 - pred) * target).sum(axis=(1, 2))
        f1 = np.where(tp + fp + fn == 0, 1.0, 2 * tp / np.maximum(2 * tp + fp + fn, 1))
        got = al.dice_loss(pred.astype(np.float64), target, axis=None, reduction="none")
        np.testing.assert_allclose(1.0 - got, f1, rtol=1e-12, atol=1e-12)

    def test_option_errors_name_the_option(self) -> None:
        p = np.full((1, 2, 2), 0.5)
        with pytest.raises(ValueError,
                           match="dice_loss: `activation` 'softmax' needs a class axis"):
            al.dice_loss(p, p, axis=None, activation="softmax")
        with pytest.raises(ValueError, match="dice_loss: `class_weight` needs a class axis"):
            al.dice_loss(p, p, axis=None, class_weight=[1.0])


class TestJaccardLoss:
    def test_float_binary_target_with_ignore_index(self) -> None:
        """A float target may mark ignored elements with ``ignore_index`` as an integer
        target does; other values outside [0, 1] are refused."""
        p = np.array([[0.9, 0.2, 0.7, 0.4]])
        y = np.array([[1.0, 0.0, 255.0, 1.0]])
        np.testing.assert_allclose(al.jaccard_loss(p, y, axis=None, ignore_index=255),
                                   al.jaccard_loss(p, y.astype(np.int64), axis=None,
                                                   ignore_index=255), rtol=1e-12)
        with pytest.raises(ValueError, match=r"jaccard_loss: `target` must hold values in "
                                             r"\[0, 1\] or ignore_index=255"):
            al.jaccard_loss(p, y * 2, axis=None, ignore_index=255)


class TestTverskyLoss:
    @pytest.mark.parametrize(("alpha", "beta", "batch"), [(0.3, 0.7, False), (0.7, 0.3, True),
                                                          (1.0, 1.0, False)])
    def test_matches_monai(self, alpha: float, beta: float, batch: bool) -> None:
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

    def test_option_errors_name_the_option(self) -> None:
        p = np.full((1, 2, 2), 0.5)
        with pytest.raises(ValueError,
                           match="tversky_loss: `target` must hold probabilities in"):
            al.tversky_loss(p, np.full((1, 2, 2), 2), axis=None)


class TestFocalTverskyLoss:
    def test_perfect_entry_has_zero_gradient(self) -> None:
        torch = _torch()
        lab = torch.asarray(np.array([[[0, 1], [1, 1]]]))
        p = torch.nn.functional.one_hot(lab, 2).double().requires_grad_(True)
        loss = al.focal_tversky_loss(p, lab, gamma=0.5)
        loss.backward()
        assert loss.item() == 0.0
        assert torch.all(p.grad == 0)


class TestOverlapFamily:
    """The family's contract, MONAI's ``DiceLoss`` and the identities between the losses."""

    @pytest.mark.parametrize(("name", "case"), GOLDEN)
    def test_catalogue_examples(self, name: str, case) -> None:
        check_catalogue_example(name, case)

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
    def test_dice_and_jaccard_match_monai(self, seed: int, monai_kw: dict, ours: dict) -> None:
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

    @pytest.mark.parametrize("fn", OVERLAP)
    def test_perfect_prediction_is_zero_with_absent_classes(self, fn) -> None:
        lab = np.array([[[0, 0], [2, 2]], [[2, 0], [0, 0]]])  # class 1 absent everywhere
        for per_image in (True, False):
            out = fn(np.eye(3)[lab], lab, per_image=per_image, reduction="none")
            assert np.all(out == 0.0), out

    @pytest.mark.parametrize("fn", OVERLAP)
    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    def test_all_ignored_is_zero_with_zero_gradients(self, fn, backend_id: str) -> None:
        rng = np.random.default_rng(0)
        args = (rng.normal(size=(2, 3, 3, 4)), np.full((2, 3, 3), 255))
        check_all_ignored_is_zero(fn, backend_id, args,
                                  {"ignore_index": 255, "activation": "softmax"})

    @pytest.mark.parametrize("fn", OVERLAP)
    def test_empty_target_with_prediction_is_near_one(self, fn) -> None:
        pred = np.full((1, 4, 4), 0.3)
        target = np.zeros((1, 4, 4))
        np.testing.assert_allclose(fn(pred, target, axis=None), 1.0, atol=1e-12)
        # MONAI-style smoothing lets the cost of a small prediction vanish
        assert fn(np.full((1, 4, 4), 1e-10), target, axis=None, smooth=1e-5) < 1e-3

    @SETTINGS
    @given(soft_segmentation(), st.booleans())
    def test_jaccard_dice_tversky_identities(self, data: tuple, per_image: bool) -> None:
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
    @given(soft_segmentation())
    def test_channels_first_equals_channels_last(self, data: tuple) -> None:
        p, lab = data
        pf = np.moveaxis(p, -1, 1)
        dense = np.eye(p.shape[-1])[lab]
        for fn in OVERLAP:
            for target, target_first in ((lab, lab), (dense, np.moveaxis(dense, -1, 1))):
                a = fn(p, target, reduction="none", activation="softmax")
                b = fn(pf, target_first, axis=1, reduction="none", activation="softmax")
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)

    @pytest.mark.parametrize("seed", [0, 1])
    @pytest.mark.parametrize("name", ["DiceLoss", "TverskyLoss"])
    def test_smooth_dr_matches_monai(self, seed: int, name: str) -> None:
        """MONAI's separate smoothing (nnU-Net style ``smooth_nr=0, smooth_dr=1e-5``), absent
        classes included (a class absent from both then scores 0: loss 1)."""
        torch = _torch()
        require_module("monai")
        import monai.losses as ml

        rng = np.random.default_rng(seed)
        lg = rng.normal(size=(3, 4, 6, 5))
        lab = rng.choice(4, p=[0.4, 0.35, 0.24, 0.01], size=(3, 6, 5))
        onehot = torch.asarray(np.moveaxis(np.eye(4)[lab], -1, 1))
        for smooth, smooth_dr in ((0.0, 1e-5), (1e-3, 0.0), (1e-4, 1e-2)):
            want = getattr(ml, name)(softmax=True, reduction="none", smooth_nr=smooth,
                                     smooth_dr=smooth_dr)(torch.asarray(lg), onehot)
            fn = al.dice_loss if name == "DiceLoss" else al.tversky_loss
            got = fn(lg, lab, axis=1, activation="softmax", smooth=smooth, smooth_dr=smooth_dr,
                     reduction="none")
            np.testing.assert_allclose(got, want.reshape(got.shape).numpy(), rtol=1e-12,
                                       atol=1e-14)

    @pytest.mark.parametrize("seed", [0, 1])
    def test_micro_dice_matches_kornia(self, seed: int) -> None:
        torch = _torch()
        require_module("kornia")
        import kornia

        rng = np.random.default_rng(seed)
        lg, lab = rng.normal(size=(3, 4, 5, 6)), rng.integers(0, 4, size=(3, 5, 6))
        want = kornia.losses.dice_loss(torch.asarray(lg), torch.asarray(lab), average="micro")
        got = al.dice_loss(lg, lab, axis=1, activation="softmax", average="micro")
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-7)

    @pytest.mark.parametrize("fn", OVERLAP)
    def test_micro_pools_weighted_statistics(self, fn) -> None:
        """``average="micro"``: the per-class statistics times ``class_weight``, summed over
        the classes, scored once per image: the binary loss of the pooled (weighted) pixels."""
        rng = np.random.default_rng(2)
        p, lab = _softmax(rng.normal(size=(2, 3, 4, 3))), rng.integers(0, 3, size=(2, 3, 4))
        w = np.array([0.5, 0.0, 2.0])
        got = fn(p, lab, average="micro", class_weight=w, include_background=False,
                 reduction="none")
        # the pooled statistics of classes 1 and 2 with weights 0 and 2: class 2 alone, twice
        # its sums, which leaves every ratio unchanged
        want = fn(p[..., 2], (lab == 2) * 1, axis=None, reduction="none")
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert got.shape == (2,)
        pooled = fn(p, lab, average="micro", per_image=False, reduction="none")
        assert pooled.shape == ()

    @pytest.mark.parametrize("fn", OVERLAP)
    def test_dense_ignore_index_leaves_both_sums(self, fn) -> None:
        """A dense target holding ``ignore_index`` (in a whole row, or in one class of a
        multi-label row) removes that pixel from every class's sums: the same loss as the
        integer labels, and as the pixels dropped."""
        rng = np.random.default_rng(3)
        lg, lab = rng.normal(size=(2, 3, 4, 3)), rng.integers(0, 3, size=(2, 3, 4))
        lab[0, 0] = 255
        onehot = np.eye(3)[np.where(lab == 255, 0, lab)]
        row = np.where((lab == 255)[..., None], 255.0, onehot)
        one = onehot.copy()
        one[0, 0, :, 1] = 255.0
        kw = {"activation": "softmax", "ignore_index": 255, "reduction": "none"}
        want = fn(lg, lab, **kw)
        np.testing.assert_allclose(fn(lg, row, **kw), want, rtol=1e-12)
        np.testing.assert_allclose(fn(lg, one, **kw), want, rtol=1e-12)
        np.testing.assert_allclose(fn(lg[:, 1:], lab[:, 1:], **kw)[0], want[0], rtol=1e-12)

    @pytest.mark.parametrize("fn", OVERLAP)
    def test_new_option_errors(self, fn) -> None:
        p, lab = np.full((1, 2, 2, 3), 1 / 3), np.zeros((1, 2, 2), dtype=np.int64)
        name = fn.__name__
        with pytest.raises(ValueError, match=rf"{name}: `average` must be one of 'macro', "
                                             r"'micro'; got 'weighted'"):
            fn(p, lab, average="weighted")
        with pytest.raises(ValueError, match=rf"{name}: `smooth_dr`"):
            fn(p, lab, smooth_dr=-1e-5)
