"""The loss calls the data-parallel tests share (torch's gloo processes, JAX's shard_map):
each maps (logits ``(b, S, C)``, the batch's other arrays, replicas) to the loss, on a batch
whose counts differ between its shards (ignored labels ``-100``, all-ignored images, weights
``w``, 0/1 targets ``y01``, global group ids ``groups``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import arrayloss as al


def cases(sigmoid: Callable[[Any], Any]) -> dict[str, Callable[..., Any]]:
    """The shared cases; ``sigmoid`` is the framework's (for the probability-form BCE)."""
    return {
        "cross_entropy": lambda z, d, r: al.cross_entropy(z, d["y"], ignore_index=-100,
                                                          replicas=r),
        "softmax_focal_loss": lambda z, d, r: al.softmax_focal_loss(
            z, d["y"], ignore_index=-100, replicas=r),
        "dice_loss_pooled": lambda z, d, r: al.dice_loss(
            z, d["y"], activation="softmax", per_image=False, ignore_index=-100, replicas=r),
        "dice_loss_per_image": lambda z, d, r: al.dice_loss(
            z, d["y"], activation="softmax", per_image=True, ignore_index=-100, replicas=r),
        "lovasz_softmax_loss": lambda z, d, r: al.lovasz_softmax_loss(
            z, d["y"], activation="softmax", per_image=False, ignore_index=-100, replicas=r),
        "binary_cross_entropy_weighted": lambda z, d, r: al.binary_cross_entropy(
            sigmoid(z[..., 0]), d["y01"], weight=d["w"], reduction="weighted_mean",
            replicas=r),
        "ntxent_loss": lambda z, d, r: al.ntxent_loss(z[:, 0], d["groups"], temperature=0.5,
                                                      replicas=r),
    }
