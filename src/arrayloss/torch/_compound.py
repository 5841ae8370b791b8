"""Dice + cross-entropy and Dice + focal as torch modules: thin wrappers of the core
compounds ``arrayloss.dice_ce_loss`` and ``arrayloss.dice_focal_loss`` (nnU-Net's default
loss is Dice + CE), which hold every formula.

What the modules add is torch's (and MONAI's) way of passing the target: integer labels held
in a channel ``(B, 1, ...)`` (MONAI's ``to_onehot_y`` layout) lose that channel, and a
single-channel softmax is refused with the module's name before any computation (its
cross-entropy would be identically 0; ``activation="sigmoid"`` is the binary mask's form).
The reductions are ``"mean"`` and ``"sum"``; ``sample_weight`` is one weight per image
``(B,)``, the core's ``weight``.
"""

from __future__ import annotations

from typing import Any

import torch

from ._base import AdapterLoss

__all__ = ["DiceCELossBase", "DiceFocalLossBase"]


class _Compound(AdapterLoss):
    """Target handling of the compounds; the value is the core function's."""

    def _reductions(self) -> tuple[str, ...]:
        return ("mean", "sum")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.activation not in ("softmax", "sigmoid"):
            raise ValueError(f"{self.spec.cls}: `activation` must be 'softmax' or 'sigmoid' "
                             f"(the input is logits); got {self.activation!r}")

    def _target(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Integer labels ``(B, ...)`` or a dense target shaped like ``input``; labels held in a
        channel ``(B, 1, ...)`` lose that channel."""
        if self.axis is None or input.ndim < 2:
            return target
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

    def forward(self, input: torch.Tensor, target: torch.Tensor,  # type: ignore[override]
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(input, self._target(input, target), sample_weight)


class DiceCELossBase(_Compound):
    pass


class DiceFocalLossBase(_Compound):
    pass
