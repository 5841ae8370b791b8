"""Catalogue records of the segmentation family (the catalogue's segmentation part).

The float64 NumPy references below are written independently of ``arrayloss.segmentation``:
plain loops over entries for the overlap statistics, and Berman's Lovász extension with
boolean indexing and a stable ``argsort`` per (set, class).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import losses as S
from . import BadValue, Case, Native, Record, np_reduce

# --- shared data of the segmentation examples

_P = np.array([[[0.9, 0.8, 0.3], [0.6, 0.1, 0.2]]])
_G = np.array([[[1, 1, 1], [0, 0, 0]]])
_LG4 = np.array([[[[2.0, 0.1], [0.3, -1.0]], [[0.5, 1.5], [0.2, 0.0]], [[-1.0, 0.2], [1.2, 2.0]]],
                 [[[0.1, 0.2], [0.3, 0.4]], [[1.0, -0.5], [0.0, 0.3]], [[0.2, 0.9], [-0.3, 1.1]]]])
_LG = np.moveaxis(_LG4, 1, -1)
_LAB = np.array([[[0, 1], [2, 2]], [[1, 1], [1, 2]]])
_LAB_I = np.array([[[0, 1], [2, 255]], [[1, 1], [255, 2]]])
_BL = np.array([[[1.5, -0.5], [0.3, -2.0]], [[0.2, 0.4], [-1.0, -0.3]]])
_BT = np.array([[[1, 0], [1, 0]], [[0, 0], [0, 0]]])


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_PR = _softmax(_LG)


def _fixed(*arrays: np.ndarray) -> Callable[[np.random.Generator], tuple[np.ndarray, ...]]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        return tuple(a.copy() for a in arrays)

    return make


def _random_labels(shape: tuple[int, ...], classes: int, axis: int = -1,
                   logits: bool = False, ignore: int | None = None) -> Callable[..., Any]:
    """(pred, labels): probabilities (or logits) with classes on ``axis``, random labels
    (a quarter of them ``ignore`` when given)."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        lg = rng.normal(size=(*shape, classes))
        labels = rng.integers(0, classes, size=shape)
        if ignore is not None:
            labels = np.where(rng.uniform(size=shape) < 0.25, ignore, labels)
        pred = lg if logits else _softmax(lg)
        return np.moveaxis(pred, -1, axis), labels

    return make


def _random_dense(shape: tuple[int, ...], classes: int, axis: int = -1) -> Callable[..., Any]:
    """(probabilities, soft dense target), classes on ``axis`` of both."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        pred = _softmax(rng.normal(size=(*shape, classes)))
        target = _softmax(2.0 * rng.normal(size=(*shape, classes)))
        return np.moveaxis(pred, -1, axis), np.moveaxis(target, -1, axis)

    return make


def _random_binary(shape: tuple[int, ...], logits: bool = False,
                   ignore: int | None = None) -> Callable[..., Any]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        x = rng.normal(size=shape)
        pred = x if logits else 1.0 / (1.0 + np.exp(-x))
        labels = (rng.uniform(size=shape) < 0.4).astype(np.int64)
        if ignore is not None:
            labels = np.where(rng.uniform(size=shape) < 0.25, ignore, labels)
        return pred, labels

    return make


def _all_ignored(shape: tuple[int, ...], classes: int) -> Callable[..., Any]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        return _softmax(rng.normal(size=(*shape, classes))), np.full(shape, 255)

    return make


def _class_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"class_weight": rng.uniform(0.0, 2.0, size=(3,))}


def _image_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"weight": rng.uniform(0.0, 2.0, size=(2, 1))}


def _perfect_one_hot(args: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    pred, labels = args[0], args[1]
    return np.eye(pred.shape[-1])[labels], labels


def _perfect_hinge(args: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    labels = args[1]
    return 2.0 * (2.0 * labels - 1.0), labels


def _sized_probs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    side = max(2, int(np.sqrt(n / 12)))
    return _random_labels((4, side, side), 3)(rng)


def _sized_binary(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    side = max(2, int(np.sqrt(n / 4)))
    return _random_binary((4, side, side), logits=True)(rng)


# --- float64 NumPy references


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
            p = _softmax(p)
        elif activation == "sigmoid":
            p = 1.0 / (1.0 + np.exp(-p))
        if target.ndim == pred.ndim:
            g = np.moveaxis(np.asarray(target, np.float64), axis, -1).reshape(p.shape)
            valid = np.ones(p.shape[:2], bool)
        else:
            lab = np.asarray(target).reshape(p.shape[0], -1)
            valid = np.ones(lab.shape, bool) if ignore_index is None else lab != ignore_index
            g = np.zeros(p.shape)
            for b, i in np.ndindex(*lab.shape):
                if valid[b, i]:
                    g[b, i, lab[b, i]] = 1.0
    p = np.where(valid[..., None], p, 0.0)
    return p, g, valid


def _ref_overlap(score: Callable[..., tuple[float, float]], *,
                 gamma: float | None = None) -> Callable[..., Any]:
    def ref(pred: np.ndarray, target: np.ndarray, *, axis: Any = -1, activation: Any = None,
            per_image: bool = True, smooth: float = 0.0, eps: float = 1e-7, log: bool = False,
            class_weight: Any = None, ignore_index: Any = None, weight: Any = None,
            reduction: str = "mean", **options: Any) -> np.ndarray:
        p, g, valid = _ref_inputs(pred, target, axis, activation, ignore_index)
        if not per_image:
            p, g, valid = p.reshape(1, -1, p.shape[-1]), g.reshape(1, -1, g.shape[-1]), \
                valid.reshape(1, -1)
        loss = np.zeros((p.shape[0], p.shape[-1]))
        for s, c in np.ndindex(*loss.shape):
            pc, gc = p[s, :, c], g[s, :, c]
            num, den = score(pc, gc, smooth=smooth, **options)
            sc = 1.0 if den == 0 else num / max(den, eps)
            value = -np.log(max(sc, eps)) if log else 1.0 - sc
            if gamma is not None:
                value = max(value, 0.0) ** options.get("gamma", gamma)
            loss[s, c] = value
        if class_weight is not None:
            loss = loss * np.asarray(class_weight, np.float64)
        counted = np.broadcast_to((valid.sum(axis=1) > 0)[:, None], loss.shape)
        if axis is None:
            loss, counted = loss[:, 0], counted[:, 0]
        if not per_image:
            loss, counted = loss[0], counted[0]
        return np_reduce(loss, reduction, weight, count=float(np.sum(counted)))

    return ref


def _dice_terms(p: np.ndarray, g: np.ndarray, *, smooth: float,
                squared: bool = False) -> tuple[float, float]:
    tp = float(np.sum(p * g))
    den = float(np.sum(p**2) + np.sum(g**2)) if squared else float(np.sum(p) + np.sum(g))
    return 2 * tp + smooth, den + smooth


def _jaccard_terms(p: np.ndarray, g: np.ndarray, *, smooth: float) -> tuple[float, float]:
    inter = float(np.sum(p * g))
    union = float(np.sum(p) + np.sum(g)) - inter
    return inter + smooth, union + smooth


def _tversky_terms(p: np.ndarray, g: np.ndarray, *, smooth: float, alpha: float = 0.5,
                   beta: float = 0.5, gamma: float = 0.75) -> tuple[float, float]:
    tp = float(np.sum(p * g))
    fp = float(np.sum(p * (1 - g)))
    fn = float(np.sum((1 - p) * g))
    return tp + smooth, tp + alpha * fp + beta * fn + smooth


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
        pm = _softmax(pm)
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


# --- peers (channels-first torch libraries)


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
          and not options.get("log", False))
    return ok and (not jaccard or options.get("smooth", 0.0) == 0.0)


def _monai_native(name: str, **fixed: Any) -> Native:
    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        from monai import losses

        p, t = _channels_first(pred, target, options)
        act = options.get("activation")
        smooth = options.get("smooth", 0.0)
        kw: dict[str, Any] = {"softmax": act == "softmax",
                              "sigmoid": act == "sigmoid", "smooth_nr": smooth,
                              "smooth_dr": smooth, "batch": not options.get("per_image", True),
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
            out = out.reshape(lead)
            if options.get("axis", -1) is None:
                out = out[..., 0] if kw["batch"] is False else out[0]
        return out

    jaccard = bool(fixed.get("jaccard"))
    return Native(f"monai.losses.{name}" + ("(jaccard=True)" if jaccard else ""), "torch", fn,
                  "monai", accepts=lambda o: _monai_accepts(o, jaccard) and
                  (name == "DiceLoss" or "class_weight" not in o))


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


# --- records

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
             expected=0.0, natives=False, grad="finite"),
    ]


def _bad_overlap_options() -> tuple[tuple[Mapping[str, Any], str], ...]:
    return (
        ({"smooth": -1.0}, "smooth"), ({"eps": 0.0}, "eps"), ({"activation": "relu"},
                                                               "activation"),
        ({"axis": 0}, "axis"), ({"axis": 4}, "axis"), ({"per_image": 1}, "per_image"),
        ({"ignore_index": 1}, "ignore_index"), ({"class_weight": [1.0, 2.0]}, "class_weight"),
    )


def _bad_labels(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return _PR.copy(), np.where(_LAB == 2, 3, _LAB)


def _bad_probs(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return _PR * 2.0, _LAB.copy()


def _bad_shape(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return _PR.copy(), _LAB[:, :, 0]


_OVERLAP_BAD_VALUES = (BadValue("target", _bad_labels), BadValue("pred", _bad_probs))
_MC = {"activation": "softmax"}


def _overlap_record(name: str, fn: Callable[..., Any], cases: list[Case],
                    reference: Callable[..., Any], natives: tuple[Native, ...],
                    bad: tuple[tuple[Mapping[str, Any], str], ...] = ()) -> Record:
    return Record(
        name=name, family="segmentation", fn=fn, inputs=_OVERLAP_INPUTS, cases=tuple(cases),
        reference=reference, kind="segmentation-probabilities", natives=natives,
        bad_options=_bad_overlap_options() + bad, bad_values=_OVERLAP_BAD_VALUES,
        bad_shape=_bad_shape, perfect=_perfect_one_hot, sized=_sized_probs,
    )


_MC_DATA = _fixed(_LG, _LAB)
_BIN_DATA = _fixed(_P, _G)

RECORDS = [
    _overlap_record(
        "dice_loss", S.dice_loss,
        [
            Case("catalogue-softmax-none", _MC_DATA, {**_MC, "reduction": "none"},
                 expected=[[0.2919549, 0.3890968, 0.2237158], [1.0, 0.5259034, 0.5999809]]),
            Case("catalogue-binary-squared", _BIN_DATA, {"axis": None, "squared": True},
                 expected=0.1919192),
            *_overlap_cases({}),
        ],
        _ref_overlap(_dice_terms),
        (_monai_native("DiceLoss"),),
        (({"squared": 1}, "squared"), ({"log": "yes"}, "log")),
    ),
    _overlap_record(
        "jaccard_loss", S.jaccard_loss,
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
        "tversky_loss", S.tversky_loss,
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
        "focal_tversky_loss", S.focal_tversky_loss,
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
    Record(
        name="lovasz_hinge_loss", family="segmentation", fn=S.lovasz_hinge_loss,
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
                 {"ignore_index": 255}, expected=0.0, grad="finite", natives=False),
        ),
        reference=_ref_lovasz_hinge,
        kind="segmentation-binary-logits",
        natives=(Native("kornia.losses.lovasz_hinge_loss", "torch", _kornia_hinge, "kornia",
                        accepts=_kornia_hinge_accepts, rtol=1e-10),),
        bad_options=(({"per_image": "yes"}, "per_image"), ({"ignore_index": 1}, "ignore_index"),
                     ({"ignore_index": 2.5}, "ignore_index")),
        bad_values=(BadValue("target", lambda rng: (_BL.copy(), _BT * 2)),),
        bad_shape=lambda rng: (_BL.copy(), _BT[:, 0]),
        perfect=_perfect_hinge,
        sized=_sized_binary,
    ),
    Record(
        name="lovasz_softmax_loss", family="segmentation", fn=S.lovasz_softmax_loss,
        inputs="pred: probabilities (or logits with activation='softmax') (B, *spatial, C) "
               "with classes on `axis`; target: integer labels (B, *spatial)",
        cases=(
            Case("catalogue-none", _fixed(_PR, _LAB), {"reduction": "none"},
                 expected=[0.3416132, 0.5844720, 0.4207345]),
            Case("catalogue-all-cf", _fixed(_LG4, _LAB),
                 {"per_image": True, "classes": "all", "activation": "softmax", "axis": 1},
                 expected=0.4159507),
            Case("catalogue-ignore", _fixed(_PR, _LAB_I),
                 {"ignore_index": 255, "reduction": "none"},
                 expected=[0.2578965, 0.5538139, 0.4987370]),
            Case("random-all-cf-classweight", _random_labels((2, 4, 5), 4, axis=1, logits=True),
                 {"per_image": True, "classes": "all", "activation": "softmax", "axis": 1},
                 arrays=lambda rng: {"class_weight": rng.uniform(0.5, 2.0, size=(4,))}),
            Case("random-3d-ignore-list", _random_labels((2, 2, 3, 2), 3, ignore=255),
                 {"ignore_index": 255, "classes": [0, 2], "per_image": True,
                  "reduction": "none"}),
            Case("all-ignored", _all_ignored((2, 2, 2), 3), {"ignore_index": 255},
                 expected=0.0, grad="finite", natives=False),
        ),
        reference=_ref_lovasz_softmax,
        kind="segmentation-probabilities",
        natives=(Native("kornia.losses.lovasz_softmax_loss", "torch", _kornia_softmax,
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


#: Catalogue examples checked in tests/test_segmentation.py (NumPy float64, torch and JAX
#: float32) rather than across the whole backend matrix, to keep the matrix small.
GOLDEN: dict[str, tuple[Case, ...]] = {
    "dice_loss": (
        Case("catalogue-ignore", _fixed(_LG, _LAB_I), {**_MC, "ignore_index": 255},
             expected=0.5153664),
        Case("catalogue-softmax-cf", _fixed(_LG4, _LAB), {**_MC, "axis": 1},
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
    "lovasz_hinge_loss": (
        Case("catalogue-mean", _fixed(_BL, _BT), expected=0.9166667, grad="finite"),
        Case("catalogue-batch", _fixed(_BL, _BT), {"per_image": False},
             expected=0.8933333, grad="finite"),
    ),
    "lovasz_softmax_loss": (
        Case("catalogue-per-image", _fixed(_PR, _LAB), {"per_image": True},
             expected=0.4117905),
        Case("catalogue-logits", _MC_DATA, {"activation": "softmax"}, expected=0.4489399),
    ),
}
