"""Dice + cross-entropy and Dice + focal: the compounds segmentation users reach for (nnU-Net's
default loss is Dice + CE), as ``lambda_dice * dice_loss + lambda_ce * <second term>`` of the
core functions on channels-first logits.

The second term sees every class: with ``activation="softmax"`` it is ``cross_entropy`` /
``softmax_focal_loss`` over the class axis (so one channel is refused: a softmax over one
class makes it identically 0); with ``"sigmoid"`` it is the binary loss of each channel
against the one-hot (or dense) target, averaged over the counted elements, and
``include_background=False`` drops channel 0 from it as from the Dice term.
"""

from __future__ import annotations

from typing import Any

import torch

from .. import losses
from ._base import AdapterLoss

__all__ = ["DiceCELossBase", "DiceFocalLossBase"]

_DICE = ("include_background", "squared", "log", "per_image", "smooth", "eps")


class _Compound(AdapterLoss):
    """Shared target handling and the Dice term of the compounds."""

    def _reductions(self) -> tuple[str, ...]:
        return ("mean", "sum")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.activation not in ("softmax", "sigmoid"):
            raise ValueError(f"{self.spec.cls}: `activation` must be 'softmax' or 'sigmoid' "
                             f"(the input is logits); got {self.activation!r}")

    def _target(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Integer labels ``(B, ...)`` or a dense target shaped like ``input``; labels held in a
        channel ``(B, 1, ...)`` (MONAI's ``to_onehot_y`` layout) lose that channel."""
        ax = self.axis % input.ndim
        if (target.ndim == input.ndim and target.shape[ax] == 1 and input.shape[ax] > 1):
            if target.is_floating_point():
                raise ValueError(
                    f"{self.spec.cls}: `target` of shape {tuple(target.shape)} holds labels in "
                    f"a channel but has dtype {target.dtype}: cast it to an integer dtype "
                    "(target.long())")
            return target.squeeze(ax)
        if self.activation == "softmax" and input.shape[ax] == 1:
            raise ValueError(f"{self.spec.cls}: activation='softmax' over 1 channel makes the "
                             "second term identically 0; use activation='sigmoid' for a binary "
                             "mask")
        return target

    def _sample_weight(self, sample_weight: torch.Tensor | None, ndim: int
                       ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """A per-image weight ``(B,)`` as the Dice entries' and the pixels' weights."""
        if sample_weight is None:
            return None, None
        if not self.per_image:
            raise ValueError(f"{self.spec.cls}: `sample_weight` is per image and needs "
                             "per_image=True (per_image=False pools the batch)")
        if sample_weight.ndim != 1:
            raise ValueError(f"{self.spec.cls}: `sample_weight` must have shape (B,); got "
                             f"{tuple(sample_weight.shape)}")
        return sample_weight[:, None], sample_weight.reshape(-1, *([1] * (ndim - 1)))

    def _dice(self, input: torch.Tensor, target: torch.Tensor, labels: bool,
              weight: torch.Tensor | None) -> torch.Tensor:
        ii = {"ignore_index": self.ignore_index} if labels else {}
        options = {k: getattr(self, k) for k in _DICE}
        return self.call_core(losses.dice_loss, input, target, axis=self.axis,
                              activation=self.activation, class_weight=self.weight, **ii,
                              **options, weight=weight, reduction=self.reduction)

    def _binary(self, fn: Any, input: torch.Tensor, target: torch.Tensor, labels: bool,
                weight: torch.Tensor | None, **options: Any) -> torch.Tensor:
        """``fn`` (a binary loss on logits) of every channel against the one-hot or dense
        target, class weights per channel, ignored pixels and (without the background)
        channel 0 left out of the sum and of the mean's count."""
        ax = self.axis % input.ndim
        c = input.shape[ax]
        shape = [1] * input.ndim
        shape[ax] = c
        # the counted elements: every channel (but the background without it), every
        # non-ignored pixel; they carry the class and sample weights
        counted = torch.ones(shape, dtype=input.dtype, device=input.device)
        if not self.include_background:
            counted = counted * (torch.arange(c, device=input.device) > 0).reshape(shape)
        if labels:
            valid = (target != self.ignore_index) if self.ignore_index is not None else None
            safe = target if valid is None else torch.where(valid, target, 0)
            dense = torch.nn.functional.one_hot(safe.long(), c).movedim(-1, ax)
            dense = dense.to(input.dtype)
            if valid is not None:
                counted = counted * valid.unsqueeze(ax)
        else:
            dense = target
        counted = counted.expand(input.shape)
        elem = counted
        if self.weight is not None:
            elem = elem * self.weight.reshape(shape).to(input.dtype)
        if weight is not None:
            elem = elem * weight
        total = self.call_core(fn, input, dense, **options, weight=elem, reduction="sum")
        if self.reduction == "sum":
            return total
        # the mean over counted elements, as the cross-entropy's; none counted gives 0
        return total / counted.sum().clamp(min=1)

    def _forward(self, input: torch.Tensor, target: torch.Tensor,
                 sample_weight: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor,
                                                              bool, Any, Any]:
        target = self._target(input, target)
        labels = target.ndim == input.ndim - 1
        w_dice, w_pix = self._sample_weight(sample_weight, input.ndim - 1)
        dice = self._dice(input, target, labels, w_dice)
        w_elem = None if w_pix is None else w_pix.unsqueeze(self.axis % input.ndim)
        return dice, target, labels, w_pix, w_elem


class DiceCELossBase(_Compound):
    def forward(self, input: torch.Tensor, target: torch.Tensor,  # type: ignore[override]
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        dice, target, labels, w_pix, w_elem = self._forward(input, target, sample_weight)
        if self.activation == "softmax":
            ii = {"ignore_index": self.ignore_index} if labels else {}
            ce = self.call_core(losses.cross_entropy, input, target, axis=self.axis,
                                class_weight=self.weight, label_smoothing=self.label_smoothing,
                                **ii, weight=w_pix, reduction=self.reduction)
        else:
            ce = self._binary(losses.binary_cross_entropy_with_logits, input, target, labels,
                              w_elem, label_smoothing=self.label_smoothing)
        return self.lambda_dice * dice + self.lambda_ce * ce


class DiceFocalLossBase(_Compound):
    focal: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.focal is None:
            self.focal = self.activation
        if self.focal not in ("softmax", "sigmoid"):
            raise ValueError(f"{self.spec.cls}: `focal` must be None (as `activation`), "
                             f"'softmax' or 'sigmoid'; got {self.focal!r}")

    def forward(self, input: torch.Tensor, target: torch.Tensor,  # type: ignore[override]
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        dice, target, labels, w_pix, w_elem = self._forward(input, target, sample_weight)
        if self.focal == "softmax":
            ii = {"ignore_index": self.ignore_index} if labels else {}
            focal = self.call_core(losses.softmax_focal_loss, input, target, axis=self.axis,
                                   gamma=self.gamma, alpha=self.alpha, class_weight=self.weight,
                                   **ii, weight=w_pix, reduction=self.reduction)
        else:
            focal = self._binary(losses.sigmoid_focal_loss, input, target, labels, w_elem,
                                 alpha=self.alpha, gamma=self.gamma)
        return self.lambda_dice * dice + self.lambda_focal * focal
