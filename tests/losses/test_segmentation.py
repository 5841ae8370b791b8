"""Segmentation losses (``arrayloss.losses.segmentation``: the generalised Dice loss and the
Dice + cross-entropy / focal compounds) beyond the catalogue's matrix: the catalogue examples
kept out of the matrix, MONAI on random inputs with absent classes, the edge cases (no class
present, absent classes, one channel, ignored pixels of dense targets), the stop-gradient on
the generalised Dice weights, and the compounds as sums of their terms' core functions.

The backend matrix runs these losses through ``arrayloss.catalog.segmentation``.
"""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from arrayloss.catalog import segmentation as cat
from conftest import check_all_ignored_is_zero, check_catalogue_example, require_module
from conftest import torch_or_skip as _torch

GOLDEN = [pytest.param(name, case, id=f"{name}-{case.id}")
          for name, cases in cat.GOLDEN.items() for case in cases]


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _data(seed: int = 0, c: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Channels-first logits (3, C, 6, 5) and labels where the last class is often absent."""
    rng = np.random.default_rng(seed)
    p = [0.4, 0.35, 0.24, 0.01] if c == 4 else None
    return rng.normal(size=(3, c, 6, 5)), rng.choice(c, p=p, size=(3, 6, 5))


def _onehot_cf(lab: np.ndarray, c: int) -> np.ndarray:
    return np.moveaxis(np.eye(c)[lab], -1, 1)


@pytest.mark.parametrize(("name", "case"), GOLDEN)
def test_catalogue_examples(name: str, case) -> None:
    check_catalogue_example(name, case)


class TestGeneralizedDiceLoss:
    @pytest.mark.parametrize("seed", [0, 1])
    @pytest.mark.parametrize(("monai_kw", "ours"), [
        ({}, {}),
        ({"w_type": "simple", "batch": True}, {"weight_type": "simple", "per_image": False}),
        ({"w_type": "uniform"}, {"weight_type": "uniform"}),
        ({"include_background": False}, {"include_background": False}),
        ({"smooth_nr": 1e-5, "smooth_dr": 1e-3}, {"smooth": 1e-5, "smooth_dr": 1e-3}),
    ])
    def test_matches_monai(self, seed: int, monai_kw: dict, ours: dict) -> None:
        """MONAI's GeneralizedDiceLoss (its weights are float32: 1e-7 relative)."""
        torch = _torch()
        require_module("monai")
        from monai.losses import GeneralizedDiceLoss

        lg, lab = _data(seed)
        kw = {"smooth_nr": 0.0, "smooth_dr": 0.0, **monai_kw}
        want = GeneralizedDiceLoss(softmax=True, reduction="none", **kw)(
            torch.asarray(lg), torch.asarray(_onehot_cf(lab, 4)))
        got = al.generalized_dice_loss(lg, lab, axis=1, activation="softmax", reduction="none",
                                       **ours)
        np.testing.assert_allclose(got, want.reshape(got.shape).numpy(), rtol=1e-6)

    def test_catalogue_gradient(self) -> None:
        """The gradient of the mean w.r.t. the logits of image 0, pixel (0, 0)."""
        torch = _torch()
        from arrayloss.catalog._pixels import _LG4, LAB

        x = torch.asarray(_LG4, requires_grad=True)
        al.generalized_dice_loss(x, torch.asarray(LAB), axis=1, activation="softmax").backward()
        np.testing.assert_allclose(x.grad[0, :, 0, 0].numpy(),
                                   [-0.0304128, 0.0264091, 0.0040036], atol=1e-7)

    def test_uniform_is_micro_dice(self) -> None:
        lg, lab = _data(2)
        for per_image in (True, False):
            np.testing.assert_allclose(
                al.generalized_dice_loss(lg, lab, axis=1, activation="softmax",
                                         weight_type="uniform", per_image=per_image),
                al.dice_loss(lg, lab, axis=1, activation="softmax", average="micro",
                             per_image=per_image), rtol=1e-12)

    def test_one_class_is_dice(self) -> None:
        """One channel (or axis=None): the weight cancels."""
        rng = np.random.default_rng(3)
        p, g = rng.uniform(size=(2, 4, 4)), (rng.uniform(size=(2, 4, 4)) < 0.5) * 1.0
        want = al.dice_loss(p, g, axis=None, reduction="none")
        for kind in ("square", "simple", "uniform"):
            got_binary = al.generalized_dice_loss(p, g, axis=None, weight_type=kind,
                                                  reduction="none")
            got_channel = al.generalized_dice_loss(p[..., None], g[..., None],
                                                   weight_type=kind, reduction="none")
            np.testing.assert_allclose(got_binary, want, rtol=1e-12)
            np.testing.assert_allclose(got_channel, want, rtol=1e-12)

    def test_absent_class_takes_the_largest_weight(self) -> None:
        p = np.array([[[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]])  # (1, 3, C=3)
        lab = np.array([[0, 0, 1]])  # class 2 absent
        tp = np.array([1.2, 0.1, 0.0])
        sp, sg = p[0].sum(0), np.array([2.0, 1.0, 0.0])
        w = np.array([1 / 4, 1.0, 1.0])  # 1/Sg^2; the absent class gets max = 1
        want = 1 - 2 * np.sum(w * tp) / np.sum(w * (sp + sg))
        np.testing.assert_allclose(al.generalized_dice_loss(p, lab), want, rtol=1e-12)

    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    def test_no_class_present_is_zero_with_zero_gradient(self, backend_id: str) -> None:
        """An empty dense target: every weight 0, score 1, loss 0, gradient 0."""
        from arrayloss.testing import backends
        from conftest import require_backend

        backend = require_backend(backends.by_id(backend_id))
        args = (np.random.default_rng(4).uniform(size=(2, 3, 3, 2)), np.zeros((2, 3, 3, 2)))
        for reduction in ("mean", "none"):
            (g,) = backend.grad(al.generalized_dice_loss, args, {"reduction": reduction}, (0,))
            assert np.all(g == 0.0)
            assert np.all(np.asarray(al.generalized_dice_loss(*args, reduction=reduction))
                          == 0.0)

    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    def test_all_ignored_is_zero_with_zero_gradients(self, backend_id: str) -> None:
        args = (np.random.default_rng(0).normal(size=(2, 3, 3, 4)), np.full((2, 3, 3), 255))
        check_all_ignored_is_zero(al.generalized_dice_loss, backend_id, args,
                                  {"ignore_index": 255, "activation": "softmax"})

    def test_weights_carry_no_gradient(self) -> None:
        """A soft target with a gradient: the weights 1/Sg^2 are constants of the loss."""
        torch = _torch()
        rng = np.random.default_rng(5)
        p = torch.asarray(_softmax(rng.normal(size=(2, 8, 3))))
        t = torch.asarray(_softmax(2 * rng.normal(size=(2, 8, 3))), requires_grad=True)
        al.generalized_dice_loss(p, t).backward()
        t2 = t.detach().clone().requires_grad_(True)
        w = 1.0 / t2.detach().sum(1) ** 2
        num = 2 * (w * (p * t2).sum(1)).sum(-1)
        den = (w * (p.sum(1) + t2.sum(1))).sum(-1)
        (1 - num / den).mean().backward()
        np.testing.assert_allclose(t.grad.numpy(), t2.grad.numpy(), rtol=1e-12, atol=1e-15)

    def test_dense_target_with_ignored_rows_equals_labels(self) -> None:
        lg, lab = _data(6, c=3)
        lab[0, :2] = 255
        dense = np.where((lab == 255)[:, None], 255.0, _onehot_cf(np.where(lab == 255, 0, lab),
                                                                   3))
        for fn in (al.generalized_dice_loss, al.dice_loss):
            np.testing.assert_allclose(
                fn(lg, dense, axis=1, activation="softmax", ignore_index=255,
                   reduction="none"),
                fn(lg, lab, axis=1, activation="softmax", ignore_index=255, reduction="none"),
                rtol=1e-12)

    def test_option_errors(self) -> None:
        lg, lab = _data()
        with pytest.raises(ValueError, match=r"generalized_dice_loss: `weight_type` must be "
                                             r"one of 'square', 'simple', 'uniform'"):
            al.generalized_dice_loss(lg, lab, axis=1, weight_type="squared")
        with pytest.raises(TypeError, match="class_weight"):
            al.generalized_dice_loss(lg, lab, axis=1, class_weight=[1.0] * 4)


class TestDiceCeLoss:
    def test_is_dice_plus_cross_entropy(self) -> None:
        """Class weights, ignored labels, smoothing and per-image weights reach both terms as
        ``dice_loss`` and ``cross_entropy`` take them."""
        torch = _torch()
        lg, lab = _data(7)
        lab[1, 0, :3] = -100
        x, y = torch.asarray(lg), torch.asarray(lab)
        cw, w = torch.asarray([0.5, 2.0, 1.0, 1.5]), torch.asarray([2.0, 0.5, 1.0])
        for reduction in ("mean", "sum"):
            got = al.dice_ce_loss(x, y, axis=1, class_weight=cw, ignore_index=-100,
                                  label_smoothing=0.1, smooth=1e-5, weight=w, lambda_dice=0.7,
                                  lambda_ce=1.3, reduction=reduction)
            dice = al.dice_loss(x, y, axis=1, activation="softmax", class_weight=cw,
                                ignore_index=-100, smooth=1e-5, weight=w[:, None],
                                reduction=reduction)
            ce = al.cross_entropy(x, y, axis=1, class_weight=cw, ignore_index=-100,
                                  label_smoothing=0.1, weight=w[:, None, None],
                                  reduction=reduction)
            np.testing.assert_allclose(got.numpy(), (0.7 * dice + 1.3 * ce).numpy(), rtol=1e-12)

    def test_matches_monai(self) -> None:
        torch = _torch()
        require_module("monai")
        from monai.losses import DiceCELoss

        lg, lab = _data(8)
        w = [0.5, 2.0, 1.0, 1.5]
        want = DiceCELoss(softmax=True, to_onehot_y=True, weight=torch.asarray(np.array(w)),
                          lambda_dice=0.4, lambda_ce=1.7, batch=True)(
            torch.asarray(lg), torch.asarray(lab[:, None]))
        got = al.dice_ce_loss(lg, lab, axis=1, class_weight=w, smooth=1e-5, per_image=False,
                              lambda_dice=0.4, lambda_ce=1.7)
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10)

    def test_one_channel(self) -> None:
        """MONAI's DiceCELoss on one channel: its cross-entropy term is identically 0. Here
        softmax raises with the fix, and sigmoid adds the binary cross-entropy."""
        rng = np.random.default_rng(9)
        x, mask = rng.normal(size=(2, 1, 4, 4)) * 2, (rng.uniform(size=(2, 1, 4, 4)) < 0.4) * 1.0
        with pytest.raises(ValueError, match=r"dice_ce_loss: `activation` 'softmax' over 1 "
                                             r"channel .* use activation='sigmoid'"):
            al.dice_ce_loss(x, mask, axis=1)
        got = al.dice_ce_loss(x, mask, axis=1, activation="sigmoid")
        dice = al.dice_loss(x, mask, axis=1, activation="sigmoid")
        bce = al.binary_cross_entropy_with_logits(x, mask)
        assert bce > 0.1
        np.testing.assert_allclose(got, dice + bce, rtol=1e-12)
        np.testing.assert_allclose(al.dice_ce_loss(x[:, 0], mask[:, 0], axis=None,
                                                   activation="sigmoid"), got, rtol=1e-12)

    def test_sigmoid_is_mean_binary_cross_entropy_over_counted_channels(self) -> None:
        lg, lab = _data(10, c=3)
        onehot = _onehot_cf(lab, 3)
        got = al.dice_ce_loss(lg, lab, axis=1, activation="sigmoid", include_background=False)
        dice = al.dice_loss(lg, lab, axis=1, activation="sigmoid", include_background=False)
        bce = al.binary_cross_entropy_with_logits(lg[:, 1:], onehot[:, 1:])
        np.testing.assert_allclose(got, dice + bce, rtol=1e-12)

    def test_dense_target_with_ignored_rows_equals_labels(self) -> None:
        lg, lab = _data(11, c=3)
        lab[2, 3:] = 255
        dense = np.where((lab == 255)[:, None], 255.0, _onehot_cf(np.where(lab == 255, 0, lab),
                                                                   3))
        np.testing.assert_allclose(al.dice_ce_loss(lg, dense, axis=1, ignore_index=255),
                                   al.dice_ce_loss(lg, lab, axis=1, ignore_index=255),
                                   rtol=1e-12)

    def test_option_errors(self) -> None:
        lg, lab = _data()
        with pytest.raises(ValueError, match=r"dice_ce_loss: `reduction` must be one of "
                                             r"'mean', 'sum'; got 'none'"):
            al.dice_ce_loss(lg, lab, axis=1, reduction="none")
        with pytest.raises(ValueError, match=r"dice_ce_loss: `weight` is per image and needs "
                                             r"per_image=True"):
            al.dice_ce_loss(lg, lab, axis=1, per_image=False, weight=np.ones(3))
        with pytest.raises(ValueError, match=r"dice_ce_loss: `weight` must have shape \(3,\)"):
            al.dice_ce_loss(lg, lab, axis=1, weight=np.ones((3, 1)))
        with pytest.raises(TypeError, match=r"dice_ce_loss: `activation` must be one of "
                                            r"'softmax', 'sigmoid'"):
            al.dice_ce_loss(lg, lab, axis=1, activation=None)


class TestDiceFocalLoss:
    def test_terms_are_the_focal_core_functions(self) -> None:
        lg, lab = _data(12)
        a = [0.1, 0.3, 0.3, 0.3]
        got = al.dice_focal_loss(lg, lab, axis=1, gamma=1.5, alpha=a, lambda_focal=2.0)
        want = (al.dice_loss(lg, lab, axis=1, activation="softmax")
                + 2.0 * al.softmax_focal_loss(lg, lab, axis=1, gamma=1.5, alpha=a))
        np.testing.assert_allclose(got, want, rtol=1e-12)
        got = al.dice_focal_loss(lg, lab, axis=1, focal="sigmoid", alpha=0.25)
        want = (al.dice_loss(lg, lab, axis=1, activation="softmax")
                + al.sigmoid_focal_loss(lg, _onehot_cf(lab, 4), alpha=0.25))
        np.testing.assert_allclose(got, want, rtol=1e-12)

    def test_gamma_zero_is_dice_ce(self) -> None:
        lg, lab = _data(13)
        np.testing.assert_allclose(al.dice_focal_loss(lg, lab, axis=1, gamma=0.0),
                                   al.dice_ce_loss(lg, lab, axis=1), rtol=1e-12)

    @pytest.mark.parametrize("include_background", [True, False])
    def test_sigmoid_focal_matches_monai(self, include_background: bool) -> None:
        """MONAI's DiceFocalLoss: softmax Dice with a sigmoid focal term on the one-hot
        target (``focal="sigmoid"``); MONAI's one-hot target is float32 (1e-8 relative)."""
        torch = _torch()
        require_module("monai")
        from monai.losses import DiceFocalLoss

        lg, lab = _data(14)
        want = DiceFocalLoss(softmax=True, to_onehot_y=True, gamma=1.5, smooth_nr=0.0,
                             smooth_dr=0.0, include_background=include_background)(
            torch.asarray(lg), torch.asarray(lab[:, None]))
        got = al.dice_focal_loss(lg, lab, axis=1, focal="sigmoid", gamma=1.5,
                                 include_background=include_background)
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-7)

    def test_option_errors(self) -> None:
        lg, lab = _data()
        with pytest.raises(ValueError, match=r"dice_focal_loss: `alpha` with focal='softmax' "
                                             r"must be None or one value per class"):
            al.dice_focal_loss(lg, lab, axis=1, alpha=0.25)
        with pytest.raises(ValueError, match=r"dice_focal_loss: `alpha` must hold "
                                             r"probabilities in \[0, 1\]"):
            al.dice_focal_loss(lg, lab, axis=1, alpha=[0.5, 1.5, 0.5, 0.5])
        with pytest.raises(ValueError, match=r"dice_focal_loss: `focal` 'softmax' needs a "
                                             r"class axis"):
            al.dice_focal_loss(lg[:, 0], (lab > 0) * 1.0, axis=None, activation="sigmoid",
                               focal="softmax")
