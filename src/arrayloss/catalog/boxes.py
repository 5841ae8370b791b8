"""Catalogue records of the box family (the catalogue's box part).

The float64 NumPy references below are written from the catalogue's formulas, column by
column (``boxes[..., k]``), independently of ``arrayloss.boxes`` (planar views, masked
branches): torchvision's definitions with ``eps`` in the denominators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed, yardstick
from . import _figures as FIG

# Shared box data (rows A-D): partial overlap, disjoint, identical, identical zero-area.
PRED = np.array([[0.0, 0.0, 4.0, 2.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 3.0, 4.0],
                  [1.0, 1.0, 1.0, 1.0]])
TARGET = np.array([[1.0, 1.0, 3.0, 4.0], [2.0, 2.0, 3.0, 3.0], [1.0, 1.0, 3.0, 4.0],
                    [1.0, 1.0, 1.0, 1.0]])
# Row A in the size formats.
_ROW_A = {"xywh": (np.array([[0.0, 0.0, 4.0, 2.0]]), np.array([[1.0, 1.0, 2.0, 3.0]])),
          "cxcywh": (np.array([[2.0, 1.0, 4.0, 2.0]]), np.array([[2.0, 2.5, 2.0, 3.0]]))}


def _shared(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return PRED.copy(), TARGET.copy()


def _shared_rows(*rows: int) -> Callable[[np.random.Generator], tuple[np.ndarray, ...]]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        return PRED[list(rows)].copy(), TARGET[list(rows)].copy()

    return make


def _row_a(fmt: str) -> Callable[[np.random.Generator], tuple[np.ndarray, ...]]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        p, t = _ROW_A[fmt]
        return p.copy(), t.copy()

    return make


# --- formats (written independently of arrayloss.boxes)


def xyxy_to(boxes: np.ndarray, fmt: str) -> np.ndarray:
    """Corner boxes in format ``fmt`` (float64 NumPy)."""
    b = np.asarray(boxes, dtype=np.float64)
    if fmt == "xyxy":
        return b.copy()
    w, h = b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]
    if fmt == "xywh":
        return np.stack([b[..., 0], b[..., 1], w, h], axis=-1)
    return np.stack([b[..., 0] + w / 2, b[..., 1] + h / 2, w, h], axis=-1)


def to_xyxy(boxes: np.ndarray, fmt: str) -> np.ndarray:
    """Boxes of format ``fmt`` as corners (float64 NumPy)."""
    b = np.asarray(boxes, dtype=np.float64)
    if fmt == "xyxy":
        return b.copy()
    if fmt == "xywh":
        x, y, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
        return np.stack([x, y, x + w, y + h], axis=-1)
    cx, cy, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


# --- random inputs


def _kink_gap(p: np.ndarray, t: np.ndarray) -> float:
    """Smallest distance of a pair to a min/max tie or to the edge of the intersection."""
    gaps = []
    for lo, hi in ((0, 2), (1, 3)):
        for a, b in ((p[..., lo], t[..., lo]), (p[..., hi], t[..., hi]),
                     (p[..., hi], t[..., lo]), (p[..., lo], t[..., hi])):
            gaps.append(np.abs(a - b))
    return float(np.min(gaps)) if p.size else 1.0


def random_pairs(rng: np.random.Generator, shape: tuple[int, ...],
                 gap: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Corner boxes ``shape + (4,)``: targets in [0, 10]^2 of size 0.5-4, predictions
    jittered around them (overlapping, nested and disjoint pairs), every tie at least
    ``gap`` away so that finite differences are valid."""
    while True:
        txy = rng.uniform(0.0, 10.0, size=(*shape, 2))
        twh = rng.uniform(0.5, 4.0, size=(*shape, 2))
        pxy = txy + rng.normal(0.0, 1.0, size=(*shape, 2))
        pwh = twh * np.exp(rng.normal(0.0, 0.4, size=(*shape, 2)))
        p = np.concatenate([pxy, pxy + pwh], axis=-1)
        t = np.concatenate([txy, txy + twh], axis=-1)
        if _kink_gap(p, t) > gap:
            return p, t


def _random(shape: tuple[int, ...], fmt: str = "xyxy") -> Callable[..., Any]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        p, t = random_pairs(rng, shape)
        return xyxy_to(p, fmt), xyxy_to(t, fmt)

    return make


def _sized(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    p, t = random_pairs(rng, (max(n // 4, 1),), gap=0.0)
    return p, t


def _empty(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return np.zeros((0, 4)), np.zeros((0, 4))


def _box_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"weight": rng.uniform(0.0, 2.0, size=(3,))}


def _bad_shape(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return np.zeros((3, 4)), np.zeros((4, 4))


def _inverted_target(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    t = TARGET.copy()
    t[0] = [4.0, 0.0, 0.0, 2.0]  # x2 < x1
    return PRED.copy(), t


def _inverted_target_xywh(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    t = xyxy_to(TARGET, "xywh")
    t[1, 3] = -1.0  # negative height
    return xyxy_to(PRED, "xywh"), t


def _perfect(args: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return args[1].copy(), args[1]


# --- float64 NumPy references (the catalogue's formulas, column slices, torchvision style)


def geometry(pred: np.ndarray, target: np.ndarray, box_format: str = "xyxy",
             eps: float = 1e-7) -> dict[str, np.ndarray]:
    """The common quantities of aligned pairs, float64."""
    p, t = to_xyxy(pred, box_format), to_xyxy(target, box_format)
    w, h = p[..., 2] - p[..., 0], p[..., 3] - p[..., 1]
    wg, hg = t[..., 2] - t[..., 0], t[..., 3] - t[..., 1]
    iw = np.minimum(p[..., 2], t[..., 2]) - np.maximum(p[..., 0], t[..., 0])
    ih = np.minimum(p[..., 3], t[..., 3]) - np.maximum(p[..., 1], t[..., 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = w * h + wg * hg - inter
    cw = np.maximum(p[..., 2], t[..., 2]) - np.minimum(p[..., 0], t[..., 0])
    ch = np.maximum(p[..., 3], t[..., 3]) - np.minimum(p[..., 1], t[..., 1])
    cx, cy = (p[..., 0] + p[..., 2]) / 2, (p[..., 1] + p[..., 3]) / 2
    cxg, cyg = (t[..., 0] + t[..., 2]) / 2, (t[..., 1] + t[..., 3]) / 2
    corner = [np.hypot(p[..., i] - t[..., i], p[..., j] - t[..., j])
              for i, j in ((0, 1), (2, 1), (2, 3), (0, 3))]
    return {"p": p, "t": t, "w": w, "h": h, "wg": wg, "hg": hg, "inter": inter,
            "union": union, "iou": inter / (union + eps), "cw": cw, "ch": ch,
            "area_c": cw * ch, "c2": cw**2 + ch**2,
            "rho2": (cx - cxg) ** 2 + (cy - cyg) ** 2, "corners": sum(corner)}


def _angle(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """atan(w/h) for h > 0, pi/2 for h = 0 < w, 0 for w = h = 0 (ciou_loss's convention)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.arctan(w / h)
    return np.where(h > 0, a, np.where(w > 0, np.pi / 2, 0.0))


def ref_iou(g: dict, eps: float, mode: str = "linear") -> np.ndarray:
    if mode == "log":
        return -np.log(np.maximum(g["iou"], 1e-6))
    return 1 - g["iou"]


def ref_giou(g: dict, eps: float) -> np.ndarray:
    return 1 - (g["iou"] - (g["area_c"] - g["union"]) / (g["area_c"] + eps))


def ref_diou(g: dict, eps: float) -> np.ndarray:
    return 1 - g["iou"] + g["rho2"] / (g["c2"] + eps)


def ref_ciou(g: dict, eps: float) -> np.ndarray:
    v = 4 / np.pi**2 * (_angle(g["wg"], g["hg"]) - _angle(g["w"], g["h"])) ** 2
    alpha = v / (1 - g["iou"] + v + eps)
    return ref_diou(g, eps) + alpha * v


def ref_eiou(g: dict, eps: float) -> np.ndarray:
    return (ref_diou(g, eps) + (g["w"] - g["wg"]) ** 2 / (g["cw"] ** 2 + eps)
            + (g["h"] - g["hg"]) ** 2 / (g["ch"] ** 2 + eps))


def ref_focal_eiou(g: dict, eps: float, gamma: float = 0.5, normalize: bool = False) -> Any:
    return g["iou"] ** gamma * ref_eiou(g, eps)


def ref_cdiou(g: dict, eps: float, distance_weight: float = 1.0) -> np.ndarray:
    return 1 - g["iou"] + distance_weight * g["corners"] / (4 * np.sqrt(g["c2"]) + eps)


def _reference(per_box: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def ref(pred: np.ndarray, target: np.ndarray, *, box_format: str = "xyxy",
            eps: float = 1e-7, reduction: str = "mean", weight: np.ndarray | None = None,
            **options: Any) -> np.ndarray:
        g = geometry(pred, target, box_format, eps)
        loss = per_box(g, eps, **options)
        if options.get("normalize") and reduction == "mean":
            focus = g["iou"] ** options.get("gamma", 0.5)
            if weight is not None:
                focus = focus * weight
            return np_reduce(loss, reduction, weight, count=float(np.sum(focus)))
        return np_reduce(loss, reduction, weight)

    return ref


def _ref_box_iou(pred: np.ndarray, target: np.ndarray, *, box_format: str = "xyxy",
                 eps: float = 1e-7, pairwise: bool = False) -> np.ndarray:
    if pairwise:  # every pair, by broadcasting (..., N, 1, 4) against (..., 1, M, 4)
        pred, target = pred[..., :, None, :], target[..., None, :, :]
    return geometry(pred, target, box_format, eps)["iou"]


def _pairwise(n: int, m: int, lead: tuple[int, ...] = ()) -> Callable[..., Any]:
    """``n`` predicted and ``m`` target boxes (``lead`` leading axes), for every pair."""
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        return random_pairs(rng, (*lead, n))[0], random_pairs(rng, (*lead, m))[1]

    return make


def _monai_pairwise_iou() -> Peer:
    """monai.data.box_utils.box_iou: the N x M matrix, float32 machine epsilon added."""
    def fn(pred: Any, target: Any, **options: Any) -> Any:
        from monai.data.box_utils import box_iou

        return box_iou(pred, target)

    return Peer("monai.data.box_utils.box_iou", "torch", fn, "monai", rtol=1e-6,
                accepts=lambda o: o.get("pairwise", False) is True
                and o.get("box_format", "xyxy") == "xyxy" and "eps" not in o)


# --- peers


def _monai_giou() -> Peer:
    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        from monai.losses import BoxGIoULoss

        return BoxGIoULoss(reduction=reduction)(pred, target)

    return Peer("monai.losses.BoxGIoULoss", "torch", fn, "monai", rtol=1e-5,
                accepts=_monai_accepts)


def _monai_accepts(options: Any) -> bool:
    """MONAI takes (N, 4) corner boxes, its own eps and no per-box weight."""
    return options.get("box_format", "xyxy") == "xyxy" and not {"weight", "eps"} & set(options)


# --- records


_INPUTS = ("pred, target: boxes of shape (..., 4), aligned pairs, in `box_format` "
           "(xyxy, xywh or cxcywh)")
_COMMON_BAD = (({"box_format": "xywhr"}, "box_format"), ({"box_format": None}, "box_format"),
               ({"eps": -1.0}, "eps"), ({"eps": float("nan")}, "eps"))
# inverted *predicted* boxes are measured, not refused (tests/test_policy.py)
_BAD_VALUES = (BadValue("target", _inverted_target),
               BadValue("target", _inverted_target_xywh, {"box_format": "xywh"}))


def _cases(golden: list[float], grad: str = "fd", empty: bool = False,
           **options: Any) -> tuple[Case, ...]:
    """Rows A-D (golden, per box), random cxcywh and weighted sums, and optionally the empty
    mean. The conversions and the empty-mean rule are shared code, so a few records carry
    them through the matrix (``box_iou``: cxcywh golden; ``iou_loss``: xywh golden; empty:
    ``box_iou``, ``giou_loss``) and ``tests/losses/test_boxes.py`` checks every loss in every format
    and on empty input eagerly (time budget: each matrix case costs two torch.compile
    traces)."""
    o = dict(options)
    cases = (
        Case("catalogue", _shared, {**o, "reduction": "none"}, grad="finite", expected=golden),
        Case("random-cxcywh", _random((6,), "cxcywh"), {**o, "box_format": "cxcywh"}, grad=grad),
        Case("random-sum-weight", _random((2, 3)), {**o, "reduction": "sum"}, grad=grad,
             arrays=_box_weight),
    )
    return (*cases, Case("empty", _empty, o, expected=0.0, peers=False)) if empty else cases


def _loss(name: str, per_box: Callable[..., np.ndarray], golden: list[float],
          extra: tuple[Case, ...] = (), grad: str = "fd", empty: bool = False,
          bad: tuple[tuple[dict[str, Any], str], ...] = (),
          peers: tuple[Peer, ...] = (), notes: str = "") -> Record:
    return Record(
        name=name,
        family="boxes",
        fn=getattr(L, name),
        inputs=_INPUTS,
        cases=(*_cases(golden, grad, empty), *extra),
        reference=_reference(per_box),
        kind="boxes",
        peers=peers,
        bad_options=(*_COMMON_BAD, *bad),
        bad_values=_BAD_VALUES,
        bad_shape=_bad_shape,
        perfect=_perfect,
        symmetric=True,
        sized=_sized,
        notes=notes,
    )


_ID = 1.7e-8  # identical boxes: about eps / area (the catalogue prints 1.7e-8)
_LOG_DISJOINT = 13.8155106

RECORDS = [
    Record(
        name="box_iou",
        family="boxes",
        fn=L.box_iou,
        inputs=_INPUTS,
        cases=(
            Case("catalogue", _shared, grad="finite",
                 expected=[0.1666667, 0.0, 0.99999998, 0.0]),
            Case("catalogue-cxcywh", _row_a("cxcywh"), {"box_format": "cxcywh"},
                 expected=[0.1666667]),
            Case("random", _random((5,)), {}),
            Case("empty", _empty, {}, expected=np.zeros((0,)), peers=False),
            Case("random-pairwise", _pairwise(3, 4), {"pairwise": True}),
            Case("random-pairwise-batch-cxcywh", _pairwise(2, 3, (2,)),
                 {"pairwise": True, "box_format": "cxcywh"}),
        ),
        reference=_ref_box_iou,
        kind="boxes",
        peers=(_monai_pairwise_iou(),),
        bad_options=(*_COMMON_BAD, ({"pairwise": 1}, "pairwise")),
        bad_values=_BAD_VALUES,
        bad_shape=_bad_shape,
        reduces=False,
        sized=_sized,
        notes="not a loss: the IoU of aligned pairs (default) or, with pairwise=True, the "
              "N x M matrix of torchvision's and MONAI's box_iou; no reduction",
    ),
    _loss("iou_loss", ref_iou, [0.8333333, 1.0, _ID, 1.0],
          extra=(Case("catalogue-xywh", _row_a("xywh"), {"box_format": "xywh"},
                      expected=0.8333333),
                 Case("catalogue-log", _shared, {"mode": "log", "reduction": "none"},
                      grad="finite", expected=[1.7917595, _LOG_DISJOINT, _ID, _LOG_DISJOINT]),),
          bad=(({"mode": "square"}, "mode"),)),
    _loss("giou_loss", ref_giou, [1.0833333, 1.7777778, _ID, 1.0], empty=True,
          peers=(_monai_giou(),)),
    _loss("diou_loss", ref_diou, [0.9036458, 1.4444444, _ID, 1.0]),
    _loss("ciou_loss", ref_ciou, [0.9163039, 1.4444444, _ID, 1.0], grad="autodiff",
          notes="alpha without gradient (torchvision semantics); angle 0 at w = h = 0"),
    _loss("eiou_loss", ref_eiou, [1.2161458, 1.4444444, _ID, 1.0],
          notes="Zhang et al. 2022, not mmdetection's Extended-IoU"),
    _loss("focal_eiou_loss", ref_focal_eiou, [0.4964895, 0.0, _ID, 0.0], grad="autodiff",
          extra=(Case("catalogue-normalize", _shared, {"normalize": True}, grad="autodiff",
                      expected=0.3525582),
                 Case("random-gamma-normalize", _random((2, 3)),
                      {"gamma": 1.5, "normalize": True}, grad="autodiff",
                      arrays=_box_weight)),
          bad=(({"gamma": -0.5}, "gamma"), ({"normalize": "yes"}, "normalize")),
          notes="IoU^gamma weight without gradient; normalize=True divides by its sum"),
    _loss("cdiou_loss", ref_cdiou, [1.1559757, 1.6666667, _ID, 1.0],
          extra=(Case("catalogue-weight", _shared_rows(0, 1),
                      {"distance_weight": 0.001, "reduction": "none"},
                      expected=[0.8336560, 1.0006667]),),
          bad=(({"distance_weight": -1.0}, "distance_weight"),),
          notes="Euclidean corner distances over 4 x the enclosing diagonal"),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _tv_box_terms(b1: Any, b2: Any, eps: float = 1e-7) -> tuple[Any, ...]:
    """torchvision.ops._utils._loss_inter_union and the enclosing box, restated."""
    import torch

    x1, y1, x2, y2 = b1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
    xkis1 = torch.max(x1, x1g)
    ykis1 = torch.max(y1, y1g)
    xkis2 = torch.min(x2, x2g)
    ykis2 = torch.min(y2, y2g)
    intsct = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsct[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsct
    iou = intsct / (union + eps)
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)
    return iou, union, xc1, yc1, xc2, yc2, (x1, y1, x2, y2), (x1g, y1g, x2g, y2g)


def _tv_giou(b1: Any, b2: Any, eps: float = 1e-7) -> Any:
    """torchvision.ops.generalized_box_iou_loss, restated."""
    iou, union, xc1, yc1, xc2, yc2, _, _ = _tv_box_terms(b1, b2, eps)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return (1 - (iou - (area_c - union) / (area_c + eps))).mean()


def _tv_diou_terms(b1: Any, b2: Any, eps: float) -> tuple[Any, Any, tuple[Any, ...]]:
    iou, _, xc1, yc1, xc2, yc2, a, g = _tv_box_terms(b1, b2, eps)
    diag = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    cx = (a[0] + a[2]) / 2
    cy = (a[1] + a[3]) / 2
    cxg = (g[0] + g[2]) / 2
    cyg = (g[1] + g[3]) / 2
    dist = (cx - cxg) ** 2 + (cy - cyg) ** 2
    return iou, dist / diag, (a, g)


def _tv_diou(b1: Any, b2: Any, eps: float = 1e-7) -> Any:
    """torchvision.ops.distance_box_iou_loss, restated."""
    iou, d, _ = _tv_diou_terms(b1, b2, eps)
    return (1 - iou + d).mean()


def _tv_ciou(b1: Any, b2: Any, eps: float = 1e-7) -> Any:
    """torchvision.ops.complete_box_iou_loss, restated."""
    import torch

    iou, d, (a, g) = _tv_diou_terms(b1, b2, eps)
    w, h = a[2] - a[0], a[3] - a[1]
    wg, hg = g[2] - g[0], g[3] - g[1]
    v = (4 / (torch.pi**2)) * torch.pow(torch.atan(wg / hg) - torch.atan(w / h), 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return (1 - iou + d + alpha * v).mean()


RECORDS = timed(RECORDS, {
    "giou_loss": {"peers": (yardstick(_tv_giou, "torchvision-style generalized_box_iou_loss",
                                      "torch"),)},
    "diou_loss": {"peers": (yardstick(_tv_diou, "torchvision-style distance_box_iou_loss",
                                      "torch"),)},
    "ciou_loss": {"peers": (yardstick(_tv_ciou, "torchvision-style complete_box_iou_loss",
                                      "torch"),)},
})

_S = "centre offset of the predicted box (target: the unit square)"
_W = ("pred width", (0.5, 1.0, 2.0))
RECORDS = drawn(RECORDS, {
    "box_iou": Figure(_S, (-2.0, 2.0), FIG.box_slide, *_W, y="IoU"),
    "iou_loss": Figure(_S, (-2.0, 2.0), FIG.box_slide, *_W),
    "giou_loss": Figure(_S, (-2.0, 2.0), FIG.box_slide, *_W),
    "diou_loss": Figure(_S, (-2.0, 2.0), FIG.box_slide, *_W),
    "ciou_loss": Figure(_S, (-2.0, 2.0), FIG.box_slide, *_W),
    "eiou_loss": Figure(_S, (-2.0, 2.0), FIG.box_slide, *_W),
    "focal_eiou_loss": Figure(_S, (-2.0, 2.0), FIG.box_slide, "gamma", (0.25, 0.5, 1.0)),
    "cdiou_loss": Figure(_S, (-2.0, 2.0), FIG.box_slide, "distance_weight", (0.5, 1.0, 2.0)),
})
