"""Catalogue records of the Lovász losses (``arrayloss.losses.lovasz``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed
from . import _figures as FIG
from ._common import np_softmax
from ._pixels import (
    _BL,
    _BT,
    _LAB_I,
    _LG,
    _LG4,
    _OVERLAP_BAD_VALUES,
    LAB,
    PR,
    _all_ignored,
    _bad_shape,
    _fixed,
    _perfect_one_hot,
    _random_binary,
    _random_labels,
    _sized_probs,
)


def _perfect_hinge(args: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    labels = args[1]
    return 2.0 * (2.0 * labels - 1.0), labels


def _sized_binary(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    side = max(2, int(np.sqrt(n / 4)))
    return _random_binary((4, side, side), logits=True)(rng)


def _ref_lovasz_grad(gt_sorted: np.ndarray) -> np.ndarray:
    """Berman's Jaccard-loss increments for foreground sorted by decreasing error."""
    gts = gt_sorted.sum()
    inter = gts - np.cumsum(gt_sorted)
    union = gts + np.cumsum(1.0 - gt_sorted)
    jac = 1.0 - inter / union
    jac[1:] = jac[1:] - jac[:-1].copy()
    return jac


def _ref_lovasz_flat(errors: np.ndarray, fg: np.ndarray) -> float:
    if errors.size == 0:
        return 0.0
    order = np.argsort(-errors, kind="stable")
    return float(np.dot(errors[order], _ref_lovasz_grad(fg[order])))


def _ref_lovasz_hinge(pred: np.ndarray, target: np.ndarray, *, per_image: bool = True,
                      ignore_index: Any = None, weight: Any = None,
                      reduction: str = "mean") -> np.ndarray:
    logits = np.asarray(pred, np.float64).reshape(pred.shape[0], -1)
    labels = np.asarray(target).reshape(target.shape[0], -1)
    if not per_image:
        logits, labels = logits.reshape(1, -1), labels.reshape(1, -1)
    loss, counted = np.zeros(logits.shape[0]), np.zeros(logits.shape[0])
    for i in range(logits.shape[0]):
        keep = np.ones(labels.shape[1], bool) if ignore_index is None else \
            labels[i] != ignore_index
        y = labels[i][keep].astype(np.float64)
        margins = 1.0 - logits[i][keep] * (2.0 * y - 1.0)
        loss[i] = _ref_lovasz_flat(np.maximum(margins, 0.0), y)
        counted[i] = ignore_index is None or keep.any()
    if not per_image:
        loss, counted = loss[0], counted[0]
    return np_reduce(loss, reduction, weight, count=float(np.sum(counted)))


def _ref_lovasz_softmax(pred: np.ndarray, target: np.ndarray, *, axis: int = -1,
                        classes: Any = "present", per_image: bool = False,
                        ignore_index: Any = None, activation: Any = None,
                        class_weight: Any = None, weight: Any = None,
                        reduction: str = "mean") -> np.ndarray:
    pm = np.moveaxis(np.asarray(pred, np.float64), axis, -1)
    c = pm.shape[-1]
    if activation == "softmax":
        pm = np_softmax(pm)
    p = pm.reshape(pm.shape[0], -1, c)
    lab = np.asarray(target).reshape(p.shape[0], -1)
    if not per_image:
        p, lab = p.reshape(1, -1, c), lab.reshape(1, -1)
    loss, sel = np.zeros((p.shape[0], c)), np.zeros((p.shape[0], c), bool)
    for s in range(p.shape[0]):
        keep = np.ones(lab.shape[1], bool) if ignore_index is None else lab[s] != ignore_index
        for k in range(c):
            fg = (lab[s][keep] == k).astype(np.float64)
            if classes == "present":
                chosen = fg.sum() > 0
            elif classes == "all":
                chosen = keep.any()
            else:
                chosen = keep.any() and k in classes
            if chosen:
                sel[s, k] = True
                loss[s, k] = _ref_lovasz_flat(np.abs(fg - p[s][keep][:, k]), fg)
    if class_weight is not None:
        loss = loss * np.asarray(class_weight, np.float64)
    if not per_image:
        loss, sel = loss[0], sel[0]
    return np_reduce(loss, reduction, weight, count=float(np.sum(sel)))


def _kornia_hinge(pred: Any, target: Any, **options: Any) -> Any:
    from kornia.losses import lovasz_hinge_loss

    b = pred.shape[0]  # kornia wants (B, 1, H, W): flatten each image into one row
    return lovasz_hinge_loss(pred.reshape(b, 1, 1, -1), target.reshape(b, 1, -1))


def _kornia_softmax(pred: Any, target: Any, *, class_weight: Any = None, **options: Any) -> Any:
    import torch
    from kornia.losses import lovasz_softmax_loss

    return lovasz_softmax_loss(torch.movedim(pred, options.get("axis", -1), 1), target,
                               weight=class_weight)


def _kornia_hinge_accepts(o: Mapping[str, Any]) -> bool:
    return (o.get("per_image", True) and o.get("ignore_index") is None
            and o.get("reduction", "mean") == "mean" and "weight" not in o)


def _kornia_softmax_accepts(o: Mapping[str, Any]) -> bool:
    return (o.get("per_image") is True and o.get("classes") == "all"
            and o.get("activation") == "softmax" and o.get("ignore_index") is None
            and o.get("reduction", "mean") == "mean" and "weight" not in o)


#: Catalogue examples checked in tests/losses/test_lovasz.py (NumPy float64, torch and JAX
#: float32) rather than across the whole backend matrix, to keep the matrix small.
GOLDEN: dict[str, tuple[Case, ...]] = {
    "lovasz_hinge_loss": (
        Case("catalogue-mean", _fixed(_BL, _BT), expected=0.9166667, grad="finite"),
        Case("catalogue-batch", _fixed(_BL, _BT), {"per_image": False},
             expected=0.8933333, grad="finite"),
    ),
    "lovasz_softmax_loss": (
        Case("catalogue-per-image", _fixed(PR, LAB), {"per_image": True},
             expected=0.4117905),
        Case("catalogue-logits", _fixed(_LG, LAB), {"activation": "softmax"}, expected=0.4489399),
    ),
}


RECORDS = [
    Record(
        name="lovasz_hinge_loss", family="lovasz", fn=L.lovasz_hinge_loss,
        inputs="pred: logits (B, ...); target: binary labels of the same shape",
        cases=(
            # margins of exactly 0 (relu kink) and a tie (0.7): assert finiteness only
            Case("catalogue-none", _fixed(_BL, _BT), {"reduction": "none"},
                 expected=[0.4333333, 1.4], grad="finite"),
            Case("catalogue-row", _fixed(np.array([[1.5, -0.5, 0.3]]), np.array([[1, 0, 1]])),
                 expected=0.4333333),
            Case("random-2d", _random_binary((3, 4, 5), logits=True)),
            Case("random-3d-ignore-none", _random_binary((2, 2, 3, 4), logits=True, ignore=255),
                 {"ignore_index": 255, "reduction": "none"}),
            Case("random-batch-weight", _random_binary((2, 3, 4), logits=True),
                 {"per_image": False, "reduction": "sum"},
                 arrays=lambda rng: {"weight": np.asarray(1.5)}),
            Case("all-ignored", lambda rng: (rng.normal(size=(2, 3, 3)), np.full((2, 3, 3), 255)),
                 {"ignore_index": 255}, expected=0.0, grad="finite", peers=False),
        ),
        reference=_ref_lovasz_hinge,
        kind="segmentation-binary-logits",
        peers=(Peer("kornia.losses.lovasz_hinge_loss", "torch", _kornia_hinge, "kornia",
                        accepts=_kornia_hinge_accepts, rtol=1e-10),),
        bad_options=(({"per_image": "yes"}, "per_image"), ({"ignore_index": 1}, "ignore_index"),
                     ({"ignore_index": 2.5}, "ignore_index")),
        bad_values=(BadValue("target", lambda rng: (_BL.copy(), _BT * 2)),),
        bad_shape=lambda rng: (_BL.copy(), _BT[:, 0]),
        perfect=_perfect_hinge,
        sized=_sized_binary,
    ),
    Record(
        name="lovasz_softmax_loss", family="lovasz", fn=L.lovasz_softmax_loss,
        inputs="pred: probabilities (or logits with activation='softmax') (B, *spatial, C) "
               "with classes on `axis`; target: integer labels (B, *spatial)",
        cases=(
            Case("catalogue-none", _fixed(PR, LAB), {"reduction": "none"},
                 expected=[0.3416132, 0.5844720, 0.4207345]),
            Case("catalogue-all-cf", _fixed(_LG4, LAB),
                 {"per_image": True, "classes": "all", "activation": "softmax", "axis": 1},
                 expected=0.4159507),
            Case("catalogue-ignore", _fixed(PR, _LAB_I),
                 {"ignore_index": 255, "reduction": "none"},
                 expected=[0.2578965, 0.5538139, 0.4987370]),
            Case("random-all-cf-classweight", _random_labels((2, 4, 5), 4, axis=1, logits=True),
                 {"per_image": True, "classes": "all", "activation": "softmax", "axis": 1},
                 arrays=lambda rng: {"class_weight": rng.uniform(0.5, 2.0, size=(4,))}),
            Case("random-3d-ignore-list", _random_labels((2, 2, 3, 2), 3, ignore=255),
                 {"ignore_index": 255, "classes": [0, 2], "per_image": True,
                  "reduction": "none"}),
            Case("all-ignored", _all_ignored((2, 2, 2), 3), {"ignore_index": 255},
                 expected=0.0, grad="finite", peers=False),
        ),
        reference=_ref_lovasz_softmax,
        kind="segmentation-probabilities",
        peers=(Peer("kornia.losses.lovasz_softmax_loss", "torch", _kornia_softmax,
                        "kornia", accepts=_kornia_softmax_accepts, rtol=1e-10),),
        bad_options=(({"classes": "some"}, "classes"), ({"classes": [0, 7]}, "classes"),
                     ({"activation": "sigmoid"}, "activation"), ({"axis": 0}, "axis"),
                     ({"per_image": None}, "per_image"), ({"ignore_index": 0}, "ignore_index"),
                     ({"class_weight": [1.0]}, "class_weight")),
        bad_values=_OVERLAP_BAD_VALUES,
        bad_shape=_bad_shape,
        perfect=_perfect_one_hot,
        sized=_sized_probs,
    ),
]


RECORDS = timed(RECORDS, {
    "lovasz_hinge_loss": {},
    # kornia's Lovász-Softmax is one variant: the softmax of logits, every class, per image
    "lovasz_softmax_loss": {"options": {"per_image": True, "classes": "all",
                                        "activation": "softmax"}},
})

_MASK = "predicted mass / target mass (a mask growing over the target)"
RECORDS = drawn(RECORDS, {
    "lovasz_hinge_loss": Figure(_MASK + ", soft edge", (0.0, 2.0), FIG.mask_logits),
    "lovasz_softmax_loss": Figure(_MASK, (0.0, 2.0), FIG.class_mask, "classes",
                                  ("present", "all", (1,)), {"per_image": True},
                                  batched=False),
})
