"""Catalogue records of ``arrayloss.losses.segmentation``: the generalised Dice loss and the
Dice + cross-entropy / focal compounds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed
from . import _figures as FIG
from ._common import np_log_softmax
from ._pixels import (
    _LAB_I,
    _LG,
    _LG4,
    _OVERLAP_BAD_VALUES,
    LAB,
    _all_ignored,
    _bad_labels,
    _bad_shape,
    _fixed,
    _perfect_one_hot,
    _random_binary,
    _random_labels,
)
from .overlap import _channels_first, _dice_terms, _ref_inputs, _ref_overlap

_INPUTS = ("pred: probabilities (or logits with activation) (B, *spatial, C) with classes on "
           "`axis`; target: integer labels (B, *spatial) or dense (B, *spatial, C); "
           "axis=None: binary, same shapes")
_COMPOUND_INPUTS = ("pred: logits (B, *spatial, C) with classes on `axis` (softmax or "
                    "sigmoid); target: integer labels (B, *spatial) or dense (B, *spatial, C); "
                    "axis=None with sigmoid: binary, same shapes")
_SM = {"activation": "softmax"}
_CF = {"axis": 1, "activation": "softmax"}


def _image_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"weight": rng.uniform(0.0, 2.0, size=(2,))}


def _class_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"class_weight": rng.uniform(0.0, 2.0, size=(3,))}


def _sized_cf(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Channels-first logits (4, 3, H, W) and labels for timing with ``axis=1`` (torch's
    layout; torch's CPU softmax over a trailing axis of 3 classes is 15x slower)."""
    side = max(2, int(np.sqrt(n / 12)))
    return _random_labels((4, side, side), 3, axis=1, logits=True)(rng)


def _multi_hot(shape: tuple[int, ...], classes: int) -> Callable[..., Any]:
    """(logits, a multi-hot float target), classes last."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        x = rng.normal(size=(*shape, classes))
        return x, (rng.uniform(size=x.shape) < 0.4).astype(np.float64)

    return make


# ---------------------------------------------------------------------------------------
# generalized_dice_loss


def _ref_gdl(pred: np.ndarray, target: np.ndarray, *, axis: Any = -1, activation: Any = None,
             weight_type: str = "square", per_image: bool = True, smooth: float = 0.0,
             smooth_dr: Any = None, eps: float = 1e-7, ignore_index: Any = None,
             include_background: bool = True, weight: Any = None,
             reduction: str = "mean") -> np.ndarray:
    p, g, valid = _ref_inputs(pred, target, axis, activation, ignore_index)
    if not per_image:
        p, g, valid = (p.reshape(1, -1, p.shape[-1]), g.reshape(1, -1, g.shape[-1]),
                       valid.reshape(1, -1))
    sdr = smooth if smooth_dr is None else smooth_dr
    first = 0 if include_background else 1
    rows, counts = [], []
    for s in range(p.shape[0]):
        tp = (p[s] * g[s]).sum(axis=0)[first:]
        sp, sg = p[s].sum(axis=0)[first:], g[s].sum(axis=0)[first:]
        raw = {"square": lambda v: 1.0 / v**2, "simple": lambda v: 1.0 / v,
               "uniform": lambda v: np.ones_like(v)}[weight_type]
        w = np.array([raw(v) if v > 0 else 0.0 for v in sg])
        w = np.where(sg > 0, w, w.max() if w.size else 0.0)
        num = 2.0 * np.sum(w * tp) + smooth
        den = np.sum(w * (sp + sg)) + sdr
        rows.append(0.0 if den == 0 else 1.0 - num / max(den, eps))
        counts.append(float(valid[s].sum() > 0))
    loss, counted = np.asarray(rows), np.asarray(counts)
    if not per_image:
        loss, counted = loss[0], counted[0]
    return np_reduce(loss, reduction, weight, count=float(np.sum(counted)))


def _monai_gdl() -> Peer:
    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        from monai import losses

        p, t = _channels_first(pred, target, options)
        act = options.get("activation")
        smooth = options.get("smooth", 0.0)
        smooth_dr = options.get("smooth_dr")
        per_image = options.get("per_image", True)
        out = losses.GeneralizedDiceLoss(
            softmax=act == "softmax", sigmoid=act == "sigmoid",
            w_type=options.get("weight_type", "square"), smooth_nr=smooth,
            smooth_dr=smooth if smooth_dr is None else smooth_dr, batch=not per_image,
            include_background=options.get("include_background", True),
            reduction=reduction)(p, t)
        return out.reshape(-1) if reduction == "none" and per_image else out.reshape(())

    # its weights are computed in float32 (`ground_o.float()`): about 1e-8 relative
    return Peer("monai.losses.GeneralizedDiceLoss", "torch", fn, "monai", rtol=1e-6,
                accepts=lambda o: "ignore_index" not in o and "weight" not in o)


_GDL_BAD = (
    ({"weight_type": "cubic"}, "weight_type"), ({"smooth": -1.0}, "smooth"),
    ({"smooth_dr": -1.0}, "smooth_dr"), ({"eps": 0.0}, "eps"),
    ({"activation": "relu"}, "activation"), ({"axis": 0}, "axis"),
    ({"per_image": 1}, "per_image"), ({"ignore_index": 1}, "ignore_index"),
    ({"include_background": 0}, "include_background"),
)

#: Catalogue examples checked in tests/losses/test_segmentation.py (NumPy float64, torch and
#: JAX float32) rather than across the whole backend matrix
GOLDEN: dict[str, tuple[Case, ...]] = {
    "generalized_dice_loss": (
        Case("catalogue-simple", _fixed(_LG4, LAB),
             {**_CF, "weight_type": "simple", "reduction": "none"},
             expected=[0.3057960, 0.6721894]),
        Case("catalogue-uniform", _fixed(_LG4, LAB),
             {**_CF, "weight_type": "uniform", "reduction": "none"},
             expected=[0.2871952, 0.6205657]),
        Case("catalogue-no-background", _fixed(_LG4, LAB),
             {**_CF, "include_background": False, "reduction": "none"},
             expected=[0.3401306, 0.5885149]),
        Case("catalogue-monai-smoothing", _fixed(_LG4, LAB), {**_CF, "smooth": 1e-5},
             expected=0.5122865),
    ),
    "dice_ce_loss": (
        Case("catalogue-sigmoid", _fixed(_LG4, LAB), {"axis": 1, "activation": "sigmoid"},
             expected=1.166990),
        Case("catalogue-ignore", _fixed(_LG, _LAB_I), {"ignore_index": 255}),
    ),
    "dice_focal_loss": (
        Case("catalogue-softmax-cf", _fixed(_LG4, LAB), {"axis": 1}, expected=0.8076072),
    ),
}


# ---------------------------------------------------------------------------------------
# the compounds


def _ref_pixels(pred: np.ndarray, target: np.ndarray, axis: Any, ignore_index: Any
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Logits and targets as (B, N, C) with the pixel mask (B, N); whether labels."""
    x = np.asarray(pred, np.float64)
    if axis is None:
        x = x.reshape(x.shape[0], -1, 1)
        t = np.asarray(target, np.float64).reshape(x.shape)
        valid = np.ones(x.shape[:2], bool) if ignore_index is None else t[..., 0] != ignore_index
        return x, np.where(valid[..., None], t, 0.0), valid, False
    x = np.moveaxis(x, axis, -1)
    c = x.shape[-1]
    x = x.reshape(x.shape[0], -1, c)
    labels = np.asarray(target).ndim < np.asarray(pred).ndim
    _, g, valid = _ref_inputs(np.moveaxis(pred, axis, -1), target if labels else
                              np.moveaxis(target, axis, -1), -1, None, ignore_index)
    return x, g, valid, labels


def _ref_second(pred: np.ndarray, target: np.ndarray, *, focal: bool, axis: Any = -1,
                activation: str = "softmax", gamma: float = 2.0, alpha: Any = None,
                class_weight: Any = None, ignore_index: Any = None,
                label_smoothing: float = 0.0, include_background: bool = True,
                weight: Any = None, reduction: str = "mean") -> float:
    """The cross-entropy (focal) term, float64, written from the formulas."""
    x, g, valid, labels = _ref_pixels(pred, target, axis, ignore_index)
    b, n, c = x.shape
    cw = np.ones(c) if class_weight is None else np.asarray(class_weight, np.float64)
    wi = np.ones(b) if weight is None else np.asarray(weight, np.float64)
    ls = label_smoothing
    total, count = 0.0, 0.0
    for i, j in np.ndindex(b, n):
        if not valid[i, j]:
            continue
        if activation == "softmax":
            logp = np_log_softmax(x[i, j])
            q = (1 - ls) * g[i, j] + ls / c
            a = np.ones(c) if alpha is None else np.asarray(alpha, np.float64)
            f = (1 - np.exp(logp)) ** gamma if focal else np.ones(c)
            total += wi[i] * -np.sum(a * cw * q * f * logp)
            count += float(np.sum(cw * g[i, j])) if labels and class_weight is not None \
                else 1.0
        else:
            for k in range(c):
                if k == 0 and not include_background and axis is not None:
                    continue
                y = g[i, j, k] * (1 - ls) + ls / 2
                z = x[i, j, k]
                bce = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
                if focal:
                    s = 1 / (1 + np.exp(-z))
                    d = y * (1 - s) + (1 - y) * s
                    at = 1.0 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
                    bce = at * d**gamma * bce
                total += wi[i] * cw[k] * bce
                count += 1.0
    if reduction == "sum":
        return total
    return total / count if count else 0.0


def _ref_compound(second: str) -> Callable[..., Any]:
    dice_ref = _ref_overlap(_dice_terms)
    dice_opts = ("axis", "activation", "include_background", "squared", "log", "per_image",
                 "smooth", "smooth_dr", "average", "eps", "class_weight", "ignore_index")

    def ref(pred: np.ndarray, target: np.ndarray, *, lambda_dice: float = 1.0,
            weight: Any = None, reduction: str = "mean", focal: Any = None,
            **options: Any) -> np.ndarray:
        lam = options.pop(f"lambda_{second}", 1.0)
        act = options.get("activation", "softmax")
        dkw = {k: v for k, v in options.items() if k in dice_opts}
        dkw["activation"] = act
        axis = options.get("axis", -1)
        w_dice = None if weight is None else (np.asarray(weight)[:, None] if axis is not None
                                              else np.asarray(weight))
        dice = float(dice_ref(pred, target, **dkw, weight=w_dice, reduction=reduction))
        skw = {k: v for k, v in options.items()
               if k in ("axis", "gamma", "alpha", "class_weight", "ignore_index",
                        "label_smoothing", "include_background")}
        kind = act if focal is None else focal
        other = _ref_second(pred, target, focal=second == "focal", activation=kind,
                            weight=weight, reduction=reduction, **skw)
        return np.asarray(lambda_dice * dice + lam * other)

    return ref


def _monai_compound(name: str) -> Peer:
    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        import torch
        from monai import losses

        p = torch.movedim(pred, options.get("axis", -1), 1)
        smooth = options.get("smooth", 0.0)
        sdr = options.get("smooth_dr")
        kw: dict[str, Any] = {
            "softmax": True, "to_onehot_y": True, "smooth_nr": smooth,
            "smooth_dr": smooth if sdr is None else sdr,
            "batch": not options.get("per_image", True),
            "lambda_dice": options.get("lambda_dice", 1.0), "reduction": reduction}
        if name == "DiceCELoss":
            kw["lambda_ce"] = options.get("lambda_ce", 1.0)
            if options.get("class_weight") is not None:
                kw["weight"] = options["class_weight"]
        else:
            kw["lambda_focal"] = options.get("lambda_focal", 1.0)
            kw["gamma"] = options.get("gamma", 2.0)
        return getattr(losses, name)(**kw)(p, target[:, None])

    allowed = {"axis", "per_image", "smooth", "smooth_dr", "lambda_dice",
               "lambda_ce" if name == "DiceCELoss" else "lambda_focal", "reduction"}
    allowed |= {"class_weight"} if name == "DiceCELoss" else {"gamma", "focal"}

    def accepts(o: Mapping[str, Any]) -> bool:
        focal_ok = name == "DiceCELoss" or o.get("focal") == "sigmoid"
        return (o.get("activation", "softmax") == "softmax" and focal_ok
                and set(o) - {"activation"} <= allowed and o.get("reduction", "mean") == "mean")

    return Peer(f"monai.losses.{name}", "torch", fn, "monai", accepts=accepts, rtol=1e-6)


_COMPOUND_BAD = (
    ({"reduction": "none"}, "reduction"), ({"activation": None}, "activation"),
    ({"lambda_dice": -1.0}, "lambda_dice"), ({"smooth_dr": -1.0}, "smooth_dr"),
    ({"average": "weighted"}, "average"), ({"axis": 0}, "axis"),
    ({"class_weight": [1.0, 2.0]}, "class_weight"), ({"squared": 1}, "squared"),
)


def _compound_record(name: str, fn: Callable[..., Any], cases: list[Case], second: str,
                     bad: tuple[tuple[Mapping[str, Any], str], ...]) -> Record:
    return Record(
        name=name, family="segmentation", fn=fn, inputs=_COMPOUND_INPUTS, cases=tuple(cases),
        reference=_ref_compound(second), kind="segmentation-probabilities",
        peers=(_monai_compound("DiceCELoss" if second == "ce" else "DiceFocalLoss"),),
        bad_options=_COMPOUND_BAD + bad, bad_values=(BadValue("target", _bad_labels),),
        bad_shape=_bad_shape, sized=_sized_cf, reduces=False,
        notes="reductions 'mean' and 'sum' only (the two terms' unreduced shapes differ)",
    )


RECORDS = [
    Record(
        name="generalized_dice_loss", family="segmentation", fn=L.generalized_dice_loss,
        inputs=_INPUTS,
        cases=(
            Case("catalogue-softmax-cf", _fixed(_LG4, LAB), {**_CF, "reduction": "none"},
                 expected=[0.3198858, 0.7046895]),
            Case("catalogue-batch", _fixed(_LG4, LAB), {**_CF, "per_image": False},
                 expected=0.5100902),
            Case("random-labels-weight-sum", _random_labels((2, 3, 4), 3),
                 {"reduction": "sum"}, arrays=_image_weight),
            Case("random-ignore-simple-smooth-dr",
                 _random_labels((2, 3, 3), 3, logits=True, ignore=255),
                 {**_SM, "ignore_index": 255, "weight_type": "simple", "smooth_dr": 1e-5}),
            Case("all-ignored", _all_ignored((2, 2, 2), 3), {"ignore_index": 255},
                 expected=0.0, peers=False, grad="finite"),
        ),
        reference=_ref_gdl, kind="segmentation-probabilities", peers=(_monai_gdl(),),
        bad_options=_GDL_BAD, bad_values=_OVERLAP_BAD_VALUES, bad_shape=_bad_shape,
        perfect=_perfect_one_hot, sized=_sized_cf,
    ),
    _compound_record(
        "dice_ce_loss", L.dice_ce_loss,
        [
            Case("catalogue-cf", _fixed(_LG4, LAB), {"axis": 1}, expected=1.226482),
            Case("random-ignore-classweight-sum",
                 _random_labels((2, 3, 3), 3, logits=True, ignore=255),
                 {"ignore_index": 255, "label_smoothing": 0.1, "include_background": False,
                  "lambda_ce": 0.5, "reduction": "sum"}, arrays=_class_weight),
            Case("random-sigmoid-multilabel-weight", _multi_hot((2, 3, 2), 3),
                 {"activation": "sigmoid", "smooth": 1e-5, "smooth_dr": 1e-3},
                 arrays=_image_weight),
            Case("random-binary-axis-none", _random_binary((2, 3, 4), logits=True),
                 {"axis": None, "activation": "sigmoid", "average": "micro"}),
        ],
        "ce", (({"lambda_ce": -0.5}, "lambda_ce"), ({"label_smoothing": 1.5},
                                                     "label_smoothing")),
    ),
    _compound_record(
        "dice_focal_loss", L.dice_focal_loss,
        [
            Case("catalogue-sigmoid-focal-cf", _fixed(_LG4, LAB), {"axis": 1, "focal": "sigmoid"},
                 expected=0.6921063),
            Case("random-alpha-ignore-sum",
                 _random_labels((2, 3, 3), 3, logits=True, ignore=255),
                 {"ignore_index": 255, "alpha": [0.2, 0.5, 0.3], "gamma": 1.5,
                  "reduction": "sum"}, arrays=_class_weight),
            Case("random-sigmoid-weight", _multi_hot((2, 3, 2), 3),
                 {"activation": "sigmoid", "alpha": 0.25, "include_background": False,
                  "lambda_focal": 2.0}, arrays=_image_weight),
        ],
        "focal", (({"lambda_focal": -0.5}, "lambda_focal"), ({"gamma": -1.0}, "gamma"),
                  ({"focal": "relu"}, "focal"), ({"alpha": 1.5}, "alpha")),
    ),
]


RECORDS = timed(RECORDS, {
    "generalized_dice_loss": {"options": _CF},
    "dice_ce_loss": {"options": {"axis": 1}},
    "dice_focal_loss": {"options": {"axis": 1, "focal": "sigmoid"}},
})

_MASK = "predicted mass / target mass (a mask growing over the target)"
RECORDS = drawn(RECORDS, {
    "generalized_dice_loss": Figure(_MASK, (0.0, 2.0), FIG.class_mask, "weight_type",
                                    ("square", "simple", "uniform")),
    "dice_ce_loss": Figure(_MASK + ", soft edge", (0.0, 2.0), FIG.class_mask_logits, "lambda_ce",
                           (0.0, 0.5, 1.0), batched=False),
    "dice_focal_loss": Figure(_MASK + ", soft edge", (0.0, 2.0), FIG.class_mask_logits, "gamma",
                              (0.0, 2.0, 5.0), batched=False),
})
