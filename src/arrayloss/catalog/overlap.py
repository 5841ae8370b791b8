"""Catalogue records of the overlap losses (``arrayloss.losses.overlap``): Dice, Jaccard,
Tversky and focal Tversky."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import losses as L
from . import Case, Figure, Peer, Record, drawn, np_reduce, timed, yardstick
from . import _figures as FIG
from ._common import np_softmax
from ._pixels import (
    _LAB_I,
    _LG,
    _LG4,
    _OVERLAP_BAD_VALUES,
    LAB,
    _all_ignored,
    _bad_shape,
    _fixed,
    _perfect_one_hot,
    _random_binary,
    _random_labels,
    _sized_probs,
)

_P = np.array([[[0.9, 0.8, 0.3], [0.6, 0.1, 0.2]]])


_G = np.array([[[1, 1, 1], [0, 0, 0]]])


def _random_dense(shape: tuple[int, ...], classes: int, axis: int = -1) -> Callable[..., Any]:
    """(probabilities, soft dense target), classes on ``axis`` of both."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        pred = np_softmax(rng.normal(size=(*shape, classes)))
        target = np_softmax(2.0 * rng.normal(size=(*shape, classes)))
        return np.moveaxis(pred, -1, axis), np.moveaxis(target, -1, axis)

    return make


def _class_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"class_weight": rng.uniform(0.0, 2.0, size=(3,))}


def _image_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"weight": rng.uniform(0.0, 2.0, size=(2, 1))}


def _ref_inputs(pred: np.ndarray, target: np.ndarray, axis: Any, activation: Any,
                ignore_index: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p, g of shape (B, N, C) and the validity mask (B, N), classes last."""
    pred = np.asarray(pred, np.float64)
    if axis is None:
        p = pred.reshape(pred.shape[0], -1, 1)
        t = np.asarray(target).reshape(target.shape[0], -1, 1)
        valid = np.ones(t.shape[:2], bool) if ignore_index is None else t[..., 0] != ignore_index
        g = np.where(valid[..., None], t, 0).astype(np.float64)
        if activation == "sigmoid":
            p = 1.0 / (1.0 + np.exp(-p))
    else:
        pm = np.moveaxis(pred, axis, -1)
        c = pm.shape[-1]
        p = pm.reshape(pm.shape[0], -1, c)
        if activation == "softmax":
            p = np_softmax(p)
        elif activation == "sigmoid":
            p = 1.0 / (1.0 + np.exp(-p))
        if target.ndim == pred.ndim:
            td = np.moveaxis(np.asarray(target, np.float64), axis, -1).reshape(p.shape)
            valid = np.ones(p.shape[:2], bool)
            if ignore_index is not None:  # a pixel holding ignore_index in any class
                valid = ~np.any(td == ignore_index, axis=-1)
            g = np.where(valid[..., None], td, 0.0)
        else:
            lab = np.asarray(target).reshape(p.shape[0], -1)
            valid = np.ones(lab.shape, bool) if ignore_index is None else lab != ignore_index
            g = np.zeros(p.shape)
            for b, i in np.ndindex(*lab.shape):
                if valid[b, i]:
                    g[b, i, lab[b, i]] = 1.0
    p = np.where(valid[..., None], p, 0.0)
    return p, g, valid


def _ref_stats(p: np.ndarray, g: np.ndarray) -> dict[str, float]:
    """The sums of one (entry, class) pair."""
    return {"tp": float(np.sum(p * g)), "sp": float(np.sum(p)), "sg": float(np.sum(g)),
            "sp2": float(np.sum(p**2)), "sg2": float(np.sum(g**2))}


def _ref_score(num: float, den: float, st: dict[str, float], smooth: float,
               smooth_dr: float, eps: float) -> float:
    """The score rule: smoothing, the eps clamp, 1 for an empty/empty entry at den 0 and 0
    for a miss."""
    num, den = num + smooth, den + smooth_dr
    if den == 0:
        return 1.0 if st["sp"] + st["sg"] == 0 else 0.0
    return num / max(den, eps)


def _ref_overlap(terms: Callable[..., tuple[float, float]], *,
                 gamma: float | None = None) -> Callable[..., Any]:
    def ref(pred: np.ndarray, target: np.ndarray, *, axis: Any = -1, activation: Any = None,
            per_image: bool = True, smooth: float = 0.0, smooth_dr: Any = None,
            average: str = "macro", eps: float = 1e-7, log: bool = False,
            class_weight: Any = None, ignore_index: Any = None, weight: Any = None,
            include_background: bool = True, reduction: str = "mean",
            **options: Any) -> np.ndarray:
        p, g, valid = _ref_inputs(pred, target, axis, activation, ignore_index)
        if not per_image:
            p, g, valid = p.reshape(1, -1, p.shape[-1]), g.reshape(1, -1, g.shape[-1]), \
                valid.reshape(1, -1)
        sdr = smooth if smooth_dr is None else smooth_dr
        classes = list(range(p.shape[-1]))
        if not include_background:
            classes = classes[1:]
        cw = np.ones(p.shape[-1]) if class_weight is None else np.asarray(class_weight, float)

        def loss_of(st: dict[str, float]) -> float:
            sc = _ref_score(*terms(st, **options), st, smooth, sdr, eps)
            value = -np.log(max(sc, eps)) if log else 1.0 - sc
            if gamma is not None:
                value = max(value, 0.0) ** options.get("gamma", gamma)
            return value

        rows: list[Any] = []
        counts: list[float] = []
        for s in range(p.shape[0]):
            stats = [_ref_stats(p[s, :, c], g[s, :, c]) for c in classes]
            if average == "micro" and axis is not None:
                pooled = {k: sum(cw[c] * st[k] for c, st in zip(classes, stats))
                          for k in stats[0]}
                rows.append(loss_of(pooled))
            else:
                rows.append([loss_of(st) * cw[c] for c, st in zip(classes, stats)])
            counts.append(float(valid[s].sum() > 0))
        loss = np.asarray(rows, np.float64)
        counted = np.broadcast_to(np.asarray(counts).reshape(-1, *([1] * (loss.ndim - 1))),
                                  loss.shape)
        if axis is None and loss.ndim == 2:
            loss, counted = loss[:, 0], counted[:, 0]
        if not per_image:
            loss, counted = loss[0], counted[0]
        return np_reduce(loss, reduction, weight, count=float(np.sum(counted)))

    return ref


def _dice_terms(st: dict[str, float], squared: bool = False) -> tuple[float, float]:
    den = st["sp2"] + st["sg2"] if squared else st["sp"] + st["sg"]
    return 2 * st["tp"], den


def _jaccard_terms(st: dict[str, float]) -> tuple[float, float]:
    return st["tp"], st["sp"] + st["sg"] - st["tp"]


def _tversky_terms(st: dict[str, float], alpha: float = 0.5, beta: float = 0.5,
                   gamma: float = 0.75) -> tuple[float, float]:
    tp = st["tp"]
    return tp, tp + alpha * (st["sp"] - tp) + beta * (st["sg"] - tp)


def _channels_first(pred: Any, target: Any, options: Mapping[str, Any]) -> tuple[Any, Any]:
    """MONAI layout: pred (B, C, ...) and a dense target (B, C, ...) in the dtype of pred.

    Labels are one-hot encoded here: MONAI's ``to_onehot_y`` makes a float32 target, whose
    squared norms (``squared_pred=True``) then carry float32 rounding into float64 results.
    """
    import torch

    axis = options.get("axis", -1)
    if axis is None:
        return pred[:, None], target[:, None].to(pred.dtype)
    pred = torch.movedim(pred, axis, 1)
    if target.ndim == pred.ndim:
        return pred, torch.movedim(target, axis, 1).to(pred.dtype)
    onehot = torch.nn.functional.one_hot(target, pred.shape[1])
    return pred, torch.movedim(onehot, -1, 1).to(pred.dtype)


def _monai_accepts(options: Mapping[str, Any], jaccard: bool = False) -> bool:
    ok = ("ignore_index" not in options and "weight" not in options
          and not options.get("log", False) and options.get("average", "macro") == "macro")
    smooth_free = options.get("smooth", 0.0) == 0.0 and not options.get("smooth_dr")
    return ok and (not jaccard or smooth_free)


def _monai_native(name: str, **fixed: Any) -> Peer:
    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        from monai import losses

        p, t = _channels_first(pred, target, options)
        act = options.get("activation")
        smooth = options.get("smooth", 0.0)
        smooth_dr = options.get("smooth_dr")
        kw: dict[str, Any] = {"softmax": act == "softmax",
                              "sigmoid": act == "sigmoid", "smooth_nr": smooth,
                              "smooth_dr": smooth if smooth_dr is None else smooth_dr,
                              "batch": not options.get("per_image", True),
                              "include_background": options.get("include_background", True),
                              "reduction": "none" if reduction == "none" else reduction, **fixed}
        if name == "DiceLoss":
            kw["squared_pred"] = options.get("squared", False)
            if options.get("class_weight") is not None:
                kw["weight"] = options["class_weight"]
        else:
            kw["alpha"] = options.get("alpha", 0.5)
            kw["beta"] = options.get("beta", 0.5)
        out = getattr(losses, name)(**kw)(p, t)
        if reduction == "none":
            lead = p.shape[:2] if kw["batch"] is False else p.shape[1:2]
            if not kw["include_background"]:  # MONAI drops channel 0
                lead = (*lead[:-1], lead[-1] - 1)
            out = out.reshape(lead)
            if options.get("axis", -1) is None:
                out = out[..., 0] if kw["batch"] is False else out[0]
        return out

    jaccard = bool(fixed.get("jaccard"))
    return Peer(f"monai.losses.{name}" + ("(jaccard=True)" if jaccard else ""), "torch", fn,
                "monai", accepts=lambda o: _monai_accepts(o, jaccard) and
                (name == "DiceLoss" or "class_weight" not in o))


def _kornia_dice_micro() -> Peer:
    """kornia's ``dice_loss`` (softmax of channels-first logits inside, integer labels, the
    micro average per image; ``eps`` added to the denominator, 1e-8 apart from the clamp)."""

    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        import kornia
        import torch

        return kornia.losses.dice_loss(torch.movedim(pred, options.get("axis", -1), 1), target,
                                       average=options.get("average", "micro"))

    def accepts(o: Mapping[str, Any]) -> bool:
        plain = {"axis", "activation", "average"}
        return (o.get("activation") == "softmax" and o.get("average") == "micro"
                and set(o) <= plain)

    return Peer("kornia.losses.dice_loss", "torch", fn, "kornia", accepts=accepts, rtol=1e-6)


_OVERLAP_INPUTS = ("pred: probabilities (or logits with activation) (B, *spatial, C) with classes "
                   "on `axis`; target: integer labels (B, *spatial) or dense (B, *spatial, C); "
                   "axis=None: binary, same shapes")


def _overlap_cases(extra: Mapping[str, Any]) -> list[Case]:
    """Random cases shared by the four overlap losses (``extra``: the loss's own options)."""
    o = dict(extra)
    return [
        Case("random-labels-cl-weight", _random_labels((2, 3, 4), 3), {**o, "reduction": "sum"},
             arrays=_image_weight),
        Case("random-logits-cf-3d", _random_labels((2, 2, 3, 2), 3, axis=1, logits=True),
             {**o, "axis": 1, "activation": "softmax", "per_image": False}),
        Case("random-dense-cf", _random_dense((2, 3, 3), 3, axis=1),
             {**o, "axis": 1, "smooth": 1e-5}),
        Case("random-sigmoid-binary", _random_binary((2, 3, 4), logits=True),
             {**o, "axis": None, "activation": "sigmoid", "reduction": "none"}),
        Case("random-ignore-classweight", _random_labels((2, 3, 3), 3, logits=True, ignore=255),
             {**o, "activation": "softmax", "ignore_index": 255}, arrays=_class_weight),
        Case("all-ignored", _all_ignored((2, 2, 2), 3), {**o, "ignore_index": 255},
             expected=0.0, peers=False, grad="finite"),
        Case("no-background-cf", _random_labels((2, 3, 3), 3, axis=1, logits=True),
             {**o, "axis": 1, "activation": "softmax", "include_background": False,
              "reduction": "none"}),
    ]


def _bad_overlap_options() -> tuple[tuple[Mapping[str, Any], str], ...]:
    return (
        ({"smooth": -1.0}, "smooth"), ({"eps": 0.0}, "eps"), ({"activation": "relu"},
                                                               "activation"),
        ({"axis": 0}, "axis"), ({"axis": 4}, "axis"), ({"per_image": 1}, "per_image"),
        ({"ignore_index": 1}, "ignore_index"), ({"class_weight": [1.0, 2.0]}, "class_weight"),
        ({"include_background": 0}, "include_background"),
        ({"axis": None, "include_background": False}, "include_background"),
    )


_MC = {"activation": "softmax"}


def _overlap_record(name: str, fn: Callable[..., Any], cases: list[Case],
                    reference: Callable[..., Any], peers: tuple[Peer, ...],
                    bad: tuple[tuple[Mapping[str, Any], str], ...] = ()) -> Record:
    return Record(
        name=name, family="overlap", fn=fn, inputs=_OVERLAP_INPUTS, cases=tuple(cases),
        reference=reference, kind="segmentation-probabilities", peers=peers,
        bad_options=_bad_overlap_options() + bad, bad_values=_OVERLAP_BAD_VALUES,
        bad_shape=_bad_shape, perfect=_perfect_one_hot, sized=_sized_probs,
    )


_MC_DATA = _fixed(_LG, LAB)


_BIN_DATA = _fixed(_P, _G)


#: Catalogue examples checked in tests/losses/test_overlap.py (NumPy float64, torch and JAX
#: float32) rather than across the whole backend matrix, to keep the matrix small.
GOLDEN: dict[str, tuple[Case, ...]] = {
    "dice_loss": (
        Case("catalogue-ignore", _fixed(_LG, _LAB_I), {**_MC, "ignore_index": 255},
             expected=0.5153664),
        Case("catalogue-softmax-cf", _fixed(_LG4, LAB), {**_MC, "axis": 1},
             expected=0.5051086),
        Case("catalogue-binary", _BIN_DATA, {"axis": None}, expected=0.3220339),
        Case("catalogue-binary-log", _BIN_DATA, {"axis": None, "log": True},
             expected=0.3886580),
        Case("catalogue-batch", _MC_DATA, {**_MC, "per_image": False, "reduction": "none"},
             expected=[0.5399067, 0.4797631, 0.3797653]),
        Case("catalogue-classweight", _MC_DATA,
             {**_MC, "class_weight": [0.0, 1.0, 2.0]}, expected=0.4270656),
        Case("random-squared-batch", _random_labels((2, 3, 3), 3),
             {"squared": True, "per_image": False}),
    ),
    "jaccard_loss": (
        Case("catalogue-binary-log", _BIN_DATA, {"axis": None, "log": True},
             expected=0.6678294),
        Case("catalogue-binary", _BIN_DATA, {"axis": None}, expected=0.4871795),
        Case("catalogue-binary-smooth", _BIN_DATA, {"axis": None, "smooth": 1.0},
             expected=0.3877551),
    ),
    "tversky_loss": (
        Case("catalogue-binary", _BIN_DATA, {"axis": None, "alpha": 0.3, "beta": 0.7},
             expected=0.3265993),
        Case("catalogue-binary-jaccard", _BIN_DATA, {"axis": None, "alpha": 1.0,
                                                      "beta": 1.0}, expected=0.4871795),
    ),
    "focal_tversky_loss": (
        Case("catalogue-binary-gamma", _BIN_DATA,
             {"axis": None, "alpha": 0.3, "beta": 0.7, "gamma": 4 / 3}, expected=0.2249160),
        Case("catalogue-binary", _BIN_DATA, {"axis": None, "alpha": 0.3, "beta": 0.7},
             expected=0.4320276),
        Case("catalogue-binary-smooth", _BIN_DATA,
             {"axis": None, "alpha": 0.3, "beta": 0.7, "smooth": 1.0}, expected=0.3475249),
    ),
}


RECORDS = [
    _overlap_record(
        "dice_loss", L.dice_loss,
        [
            Case("catalogue-softmax-none", _MC_DATA, {**_MC, "reduction": "none"},
                 expected=[[0.2919549, 0.3890968, 0.2237158], [1.0, 0.5259034, 0.5999809]]),
            Case("catalogue-binary-squared", _BIN_DATA, {"axis": None, "squared": True},
                 expected=0.1919192),
            Case("catalogue-micro-cf", _fixed(_LG4, LAB),
                 {**_MC, "axis": 1, "average": "micro"}, expected=0.4538805),
            Case("random-micro-smooth-dr", _random_labels((2, 3, 3), 3, logits=True),
                 {**_MC, "average": "micro", "smooth_dr": 1e-5, "reduction": "none"},
                 arrays=_class_weight),
            *_overlap_cases({}),
        ],
        _ref_overlap(_dice_terms),
        (_monai_native("DiceLoss"), _kornia_dice_micro()),
        (({"squared": 1}, "squared"), ({"log": "yes"}, "log")),
    ),
    _overlap_record(
        "jaccard_loss", L.jaccard_loss,
        [
            Case("catalogue-softmax-none", _MC_DATA, {**_MC, "reduction": "none"},
                 expected=[[0.4519584, 0.5602155, 0.3656336], [1.0, 0.6893011, 0.7499851]]),
            Case("catalogue-batch", _MC_DATA, {**_MC, "per_image": False}, expected=0.6333768),
            *_overlap_cases({}),
        ],
        _ref_overlap(_jaccard_terms),
        (_monai_native("DiceLoss", jaccard=True),),
    ),
    _overlap_record(
        "tversky_loss", L.tversky_loss,
        [
            Case("catalogue-softmax-none", _MC_DATA,
                 {**_MC, "alpha": 0.3, "beta": 0.7, "reduction": "none"},
                 expected=[[0.2628471, 0.3709916, 0.2544864], [1.0, 0.5936569, 0.5610751]]),
            Case("catalogue-batch", _MC_DATA,
                 {**_MC, "alpha": 0.3, "beta": 0.7, "per_image": False}, expected=0.4492503),
            *_overlap_cases({"alpha": 0.3, "beta": 0.7}),
        ],
        _ref_overlap(_tversky_terms),
        (_monai_native("TverskyLoss"),),
        (({"alpha": -0.1}, "alpha"), ({"beta": float("inf")}, "beta")),
    ),
    _overlap_record(
        "focal_tversky_loss", L.focal_tversky_loss,
        [
            Case("catalogue-softmax-none", _MC_DATA, {**_MC, "reduction": "none"},
                 expected=[[0.3971795, 0.4926554, 0.3252913], [1.0, 0.6175605, 0.6817154]]),
            Case("catalogue-batch-recall", _MC_DATA,
                 {**_MC, "alpha": 0.3, "beta": 0.7, "per_image": False}, expected=0.5477054),
            *_overlap_cases({"alpha": 0.3, "beta": 0.7, "gamma": 0.75}),
        ],
        _ref_overlap(_tversky_terms, gamma=0.75),
        (),
        (({"gamma": 0.0}, "gamma"), ({"alpha": -1.0}, "alpha")),
    ),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_dice(p: np.ndarray, labels: np.ndarray, eps: float = 1e-7) -> Any:
    """Soft Dice per (image, class), channels-last probabilities and integer labels."""
    c = p.shape[-1]
    y = (labels[..., None] == np.arange(c)).astype(p.dtype)
    axes = tuple(range(1, p.ndim - 1))
    inter = np.sum(p * y, axis=axes)
    den = np.sum(p, axis=axes) + np.sum(y, axis=axes)
    return np.mean(1 - (2 * inter + eps) / (den + eps))


RECORDS = timed(RECORDS, {
    "dice_loss": {"peers": (yardstick(_hw_dice),)},
    "tversky_loss": {},
})

_MASK = "predicted mass / target mass (a mask growing over the target)"
_BIN = {"axis": None}
RECORDS = drawn(RECORDS, {
    "dice_loss": Figure(_MASK + ", soft edge", (0.0, 2.0), FIG.mask_logits, "squared",
                        (False, True), {"axis": None, "activation": "sigmoid"}),
    "jaccard_loss": Figure(_MASK, (0.0, 2.0), FIG.binary_mask, "smooth", (0.0, 1.0, 5.0),
                           _BIN),
    "tversky_loss": Figure(_MASK, (0.0, 2.0), FIG.binary_mask, "alpha, beta",
                           ({"alpha": 0.3, "beta": 0.7}, {"alpha": 0.5, "beta": 0.5},
                            {"alpha": 0.7, "beta": 0.3}), _BIN),
    "focal_tversky_loss": Figure(_MASK, (0.0, 2.0), FIG.binary_mask, "gamma",
                                 (0.5, 0.75, 1.0, 2.0), _BIN),
})
