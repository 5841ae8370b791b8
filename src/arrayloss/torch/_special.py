"""Modules whose ``forward`` is more than one core call with renamed options: a loss without
a target (entropy), one with a third input (the Gaussian NLL's variance), torch's
elementwise KL divergence and its ``"batchmean"``, torch's ``MultiMarginLoss`` (class weights
gathered per sample, the sum divided by C), a ``CenterLoss`` that owns its centres, a
``LinearCrossEntropyLoss`` that owns its projection, the pair and triplet losses (three
inputs), the losses whose ``forward`` takes per-call arrays besides the target
(``CircleLoss``'s reference set, ``RankingSoftmaxLoss``'s item mask and item weights), and
``CTCLoss``, whose ``forward`` takes torch's frames-first log-probabilities and the two length
arrays."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .. import losses
from ._base import REDUCTIONS, AdapterLoss

__all__ = ["CTCLossBase", "CenterLossBase", "CircleLossBase", "EntropyLossBase",
           "GaussianNLLLossBase", "KLDivLossBase", "LinearCrossEntropyLossBase",
           "MultiMarginLossBase", "RankingSoftmaxLossBase", "ThreeInputLossBase"]


class EntropyLossBase(AdapterLoss):
    arity = 1

    def forward(self, input: torch.Tensor,  # type: ignore[override]
                sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        return self.call_core(losses.entropy, input, **self.core_options(None),
                              weight=sample_weight, where=where, reduction=self.reduction)


class GaussianNLLLossBase(AdapterLoss):
    """torch's ``forward(input, target, var)``: the variances (a tensor of one of the shapes
    ``arrayloss.gaussian_nll_loss`` takes, or a number) are the third input."""

    arity = 3

    def forward(self, input: torch.Tensor, target: torch.Tensor,  # type: ignore[override]
                var: torch.Tensor | float, sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        return self.call_core(losses.gaussian_nll_loss, input, target, var,
                              **self.core_options(target), weight=sample_weight, where=where,
                              reduction=self.reduction)


class KLDivLossBase(AdapterLoss):
    """Elementwise as torch: ``"none"`` keeps the input's shape, ``"mean"`` averages over every
    element, ``"batchmean"`` divides the sum by the batch size (the KL divergence per sample
    when the class axis is summed), ``"sum"`` sums."""

    def _reductions(self) -> tuple[str, ...]:
        return (*REDUCTIONS, "batchmean")

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        # a trailing axis of size 1 makes the core's per-distribution sum the identity, so
        # the core's "none" is torch's elementwise term, with the core's limit rules
        batchmean = self.reduction == "batchmean"
        out = self.call_core(losses.kl_divergence, input[..., None], target[..., None],
                             axis=-1, log_target=self.log_target,
                             weight=None if sample_weight is None else sample_weight[..., None],
                             where=None if where is None else where[..., None],
                             reduction="sum" if batchmean else self.reduction)
        if batchmean:
            return out / (input.shape[0] if input.ndim else 1)
        return out


class MultiMarginLossBase(AdapterLoss):
    """torch's multi-class margin loss: the Weston-Watkins hinge summed over the other classes
    and divided by C, ``p=2`` squaring each term, ``weight[y]`` scaling each sample."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.p not in (1, 2):
            raise ValueError(f"{self.spec.cls}: `p` must be 1 or 2; got {self.p!r}")

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        classes = input.shape[self.axis] if input.ndim > self.axis else 1
        per_sample = torch.full((), 1.0 / classes, dtype=input.dtype, device=input.device)
        if self.weight is not None:
            # clamped so that an out-of-range label reaches the core's clear error
            per_sample = self.weight[target.clamp(0, classes - 1)] / classes
        if sample_weight is not None:
            per_sample = per_sample * sample_weight
        return self.call_core(losses.multiclass_hinge_loss, input, target, axis=self.axis,
                              margin=self.margin, mode="weston_watkins", squared=self.p == 2,
                              weight=per_sample, where=where, reduction=self.reduction)


class CenterLossBase(AdapterLoss):
    """Owns the centres ``(num_classes, feat_dim)``: a parameter learned by the optimiser
    (``update="sgd"``) or a buffer moved by the paper's rule in ``forward`` while training
    (``update="ema"``, rate ``alpha``, as ``arrayloss.update_centers``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cls = self.spec.cls
        for name in ("num_classes", "feat_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{cls}: `{name}` must be a positive int; got {value!r}")
        if self.update not in ("sgd", "ema"):
            raise ValueError(f"{cls}: `update` must be 'sgd' (centres are a parameter) or "
                             f"'ema' (the paper's update in forward); got {self.update!r}")
        centers = torch.randn(self.num_classes, self.feat_dim)
        if self.update == "sgd":
            self.centers = nn.Parameter(centers)
        else:
            self.register_buffer("centers", centers)

    def forward(self, features: torch.Tensor, labels: torch.Tensor,
                sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        loss = self.call_core(losses.center_loss, features, labels, self.centers,
                              ignore_index=self.ignore_index, weight=sample_weight, where=where,
                              reduction=self.reduction)
        if self.update == "ema" and self.training:
            with torch.no_grad():
                new = self.call_core(losses.update_centers, features.detach(), labels,
                                     self.centers, alpha=self.alpha,
                                     ignore_index=self.ignore_index)
                self.centers.copy_(new)
        return loss


class LinearCrossEntropyLossBase(AdapterLoss):
    """torch's ``LinearCrossEntropyLoss``: owns the projection ``linear`` (an ``nn.Linear(
    in_features, num_classes, bias=bias)``, the same ``state_dict`` keys as torch's module)
    and calls ``linear_cross_entropy(input, linear.weight, target, bias=linear.bias)``;
    ``input`` is ``(..., in_features)``, the classes are the rows of the projection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cls = self.spec.cls
        for name in ("in_features", "num_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{cls}: `{name}` must be a positive int; got {value!r}")
        if not isinstance(self.bias, bool):
            raise TypeError(f"{cls}: `bias` must be a bool (whether the projection has one); "
                            f"got {type(self.bias).__name__} {self.bias!r}")
        self.linear = nn.Linear(self.in_features, self.num_classes, bias=self.bias)

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        options = {"class_weight": self.weight, "label_smoothing": self.label_smoothing,
                   "chunk_size": self.chunk_size}
        if not target.is_floating_point():
            options["ignore_index"] = self.ignore_index
        return self.call_core(losses.linear_cross_entropy, input, self.linear.weight, target,
                              bias=self.linear.bias, **options, weight=sample_weight, where=where,
                              reduction=self.reduction)


class ThreeInputLossBase(AdapterLoss):
    """torch's three-input ``forward``: ``(input1, input2, target)`` of ``CosineEmbeddingLoss``
    and ``MarginRankingLoss``, ``(anchor, positive, negative)`` of the triplet losses; the
    three are the core function's positional arrays, in that order."""

    arity = 3

    def forward(self, input1: torch.Tensor, input2: torch.Tensor,  # type: ignore[override]
                target: torch.Tensor, sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        return self.call_core(getattr(losses, self.spec.fn), input1, input2, target,
                              **self.core_options(target), weight=sample_weight,
                              where=where, reduction=self.reduction)


class CircleLossBase(AdapterLoss):
    """``forward(input, target, ref_embeddings=None, ref_labels=None, sample_weight=None,
    where=None)``:
    the reference set (e.g. a memory bank, updated every step) is an input of each call, not
    a constructor option."""

    def forward(self, input: torch.Tensor, target: torch.Tensor,  # type: ignore[override]
                ref_embeddings: torch.Tensor | None = None,
                ref_labels: torch.Tensor | None = None,
                sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        return self.call_core(losses.circle_loss, input, target, **self.core_options(target),
                              ref_embeddings=ref_embeddings, ref_labels=ref_labels,
                              weight=sample_weight, where=where, reduction=self.reduction)


class RankingSoftmaxLossBase(AdapterLoss):
    """``forward(input, target, where=None, item_weight=None, sample_weight=None)``: the mask
    of valid items and the item weights belong to each batch of lists; ``sample_weight``
    weighs whole lists."""

    def forward(self, input: torch.Tensor, target: torch.Tensor,  # type: ignore[override]
                where: torch.Tensor | None = None, item_weight: torch.Tensor | None = None,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        return self.call_core(losses.ranking_softmax_loss, input, target,
                              **self.core_options(target), where=where,
                              item_weight=item_weight, weight=sample_weight,
                              reduction=self.reduction)


class CTCLossBase(AdapterLoss):
    """torch's ``CTCLoss``: ``forward(log_probs, targets, input_lengths, target_lengths)`` with
    ``log_probs`` ``(T, N, C)`` (or ``(T, C)`` unbatched), ``targets`` padded ``(N, S)`` or
    concatenated ``(sum(target_lengths),)`` (or ``(S,)`` unbatched), the lengths as tensors
    or sequences of ints. Calls ``arrayloss.ctc_loss`` on ``moveaxis(log_probs, 0, 1)`` (its
    log-softmax leaves log-probabilities unchanged). ``"mean"`` (and ``"weighted_mean"``)
    divide each loss by its target length first, as torch's ``'mean'``; ``"sum"`` and
    ``"none"`` do not. An infeasible sequence gives ``+inf`` with a zero gradient (torch: NaN
    gradients) unless ``zero_infinity``."""

    arity = 4

    def forward(self, log_probs: torch.Tensor, targets: torch.Tensor,  # type: ignore[override]
                input_lengths: Any, target_lengths: Any,
                sample_weight: torch.Tensor | None = None,
                where: torch.Tensor | None = None) -> torch.Tensor:
        dev = log_probs.device
        il = torch.as_tensor(input_lengths, device=dev)
        tl = torch.as_tensor(target_lengths, device=dev)
        unbatched = log_probs.ndim == 2
        if unbatched:
            log_probs, targets, il, tl = log_probs[:, None], targets[None], il.reshape(1), \
                tl.reshape(1)
        elif targets.ndim == 1:  # concatenated: row b starts at the sum of the lengths before
            n = targets.shape[0]
            start = torch.cumsum(tl, 0) - tl
            index = (start[:, None] + torch.arange(n, device=dev)).clamp(max=max(n - 1, 0))
            targets = targets[index] if n else targets.reshape(tl.shape[0], 0)
        normalize = self.reduction in ("mean", "weighted_mean")
        out = self.call_core(losses.ctc_loss, torch.movedim(log_probs, 0, 1), targets,
                             input_lengths=il, target_lengths=tl, blank=self.blank,
                             zero_infinity=self.zero_infinity, length_normalize=normalize,
                             weight=sample_weight, where=where, reduction=self.reduction)
        return out[0] if unbatched and self.reduction == "none" else out
