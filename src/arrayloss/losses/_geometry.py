"""Box geometry shared by the box losses: formats, the conversion between them, the checks
of shapes and ordered ground-truth corners, and the per-pair quantities every IoU loss uses
(computed once per call by ``box_terms``).

Formats (``box_format``, x to the right and y down):

- ``"xyxy"``: ``(x1, y1, x2, y2)``, the corners;
- ``"xywh"``: ``(x, y, w, h)``, top-left corner and size (COCO, torchvision ``"xywh"``);
- ``"cxcywh"``: ``(cx, cy, w, h)``, centre and size (what ultralytics and mmyolo call
  ``xywh``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import _ops
from .._namespace import Array, Namespace, astype, coordinate_dtypes, namespace, to_result
from .._reduce import Call, start
from .._validate import check_choice, check_number, check_same_shape, check_values

__all__ = ["BOX_FORMATS", "Terms", "box_convert", "start_boxes"]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


# ---------------------------------------------------------------------------------------
# formats


def _planes(xp: Namespace, boxes: Array) -> tuple[Array, Array, Array, Array]:
    """The four coordinates of ``(..., 4)`` boxes as four ``(...)`` arrays.

    The coordinate axis is moved to the front once and the planes are taken along it: with
    column slices ``boxes[..., k]`` XLA keeps four strided gathers, which is several times
    slower under ``jax.jit``.
    """
    p = xp.moveaxis(boxes, -1, 0)
    return p[0, ...], p[1, ...], p[2, ...], p[3, ...]


def _to_corners(
    a: Array, b: Array, c: Array, d: Array, fmt: str
) -> tuple[Array, Array, Array, Array]:
    """``(x1, y1, x2, y2)`` from the four planes of a box in format ``fmt``."""
    if fmt == "xyxy":
        return a, b, c, d
    if fmt == "xywh":
        return a, b, a + c, b + d
    hw, hh = c / 2, d / 2
    return a - hw, b - hh, a + hw, b + hh


def _from_corners(
    x1: Array, y1: Array, x2: Array, y2: Array, fmt: str
) -> tuple[Array, Array, Array, Array]:
    """The four planes of format ``fmt`` from corners."""
    if fmt == "xyxy":
        return x1, y1, x2, y2
    if fmt == "xywh":
        return x1, y1, x2 - x1, y2 - y1
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1


def _check_box_shape(fn: str, name: str, x: Array) -> None:
    if x.ndim < 1 or x.shape[-1] != 4:
        raise ValueError(
            f"{fn}: `{name}` must have shape (..., 4), one box per row; got {tuple(x.shape)}"
        )


def _check_ordered(fn: str, name: str, xp: Namespace, boxes: Array, fmt: str) -> None:
    """Inverted boxes raise ``ValueError`` (concrete arrays only, see ``check_values``)."""

    def inverted(x: Array) -> Array:
        a, b, c, d = _planes(xp, x)
        if fmt == "xyxy":
            return (c < a) | (d < b)
        return (c < 0) | (d < 0)

    what = "x2 >= x1 and y2 >= y1" if fmt == "xyxy" else "w >= 0 and h >= 0"
    check_values(fn, name, xp, boxes, inverted,
                 f"must hold {fmt} boxes with {what}; found an inverted box")


def box_convert(boxes: Array, /, *, in_fmt: str, out_fmt: str) -> Array:
    """Convert boxes ``(..., 4)`` between the ``"xyxy"``, ``"xywh"`` and ``"cxcywh"`` formats.

    ::

        xyxy   (x1, y1, x2, y2)     corners
        xywh   (x, y, w, h)         top-left corner + size (COCO):  x2 = x + w, y2 = y + h
        cxcywh (cx, cy, w, h)       centre + size:  x1 = cx - w/2, x2 = cx + w/2

    Not a loss: no reduction, no weight, no value check (inverted boxes convert as written).
    Shapes: any ``(..., 4)``; the result has the same shape and is always a new array, also
    when ``in_fmt == out_fmt``. dtype: floating boxes keep their dtype (float16/bfloat16 are
    converted through float32); integer boxes become the namespace's default float dtype
    (the centre form needs halves). Round trips are exact up to float rounding.
    Differentiable, and runs under ``jax.jit`` and ``torch.compile(fullgraph=True)``.
    Reference: torchvision ``ops.box_convert`` (same format names and formulas).
    """
    fn = "box_convert"
    check_choice(fn, "in_fmt", in_fmt, BOX_FORMATS)
    check_choice(fn, "out_fmt", out_fmt, BOX_FORMATS)
    xp = namespace(fn, boxes=boxes)
    dtype, out_dtype = coordinate_dtypes(xp, boxes, fn, "boxes")
    _check_box_shape(fn, "boxes", boxes)
    planes = _planes(xp, astype(xp, boxes, dtype))
    out = _from_corners(*_to_corners(*planes, in_fmt), out_fmt)
    return to_result(xp, xp.stack(out, axis=-1), out_dtype)


# ---------------------------------------------------------------------------------------
# the shared per-pair quantities


class Terms(NamedTuple):
    """Per-box quantities shared by the IoU family (all of shape ``pred.shape[:-1]``)."""

    pred: tuple[Array, Array, Array, Array]  # x1, y1, x2, y2
    target: tuple[Array, Array, Array, Array]
    w: Array
    h: Array
    wg: Array
    hg: Array
    union: Array
    iou: Array
    enc_w: Array  # width of the enclosing box
    enc_h: Array  # height of the enclosing box
    rho2: Array  # squared distance between the centres
    c2: Array  # squared diagonal of the enclosing box


def box_terms(xp: Namespace, pred: Array, target: Array, fmt: str, eps: float) -> Terms:
    """IoU, union, enclosing box, centre distance, widths and heights, computed once."""
    x1, y1, x2, y2 = _to_corners(*_planes(xp, pred), fmt)
    x1g, y1g, x2g, y2g = _to_corners(*_planes(xp, target), fmt)
    # sizes clamped at 0: an inverted box has no area (and a zero gradient through it)
    w, h = _ops.relu(xp, x2 - x1), _ops.relu(xp, y2 - y1)
    wg, hg = _ops.relu(xp, x2g - x1g), _ops.relu(xp, y2g - y1g)
    iw = xp.minimum(x2, x2g) - xp.maximum(x1, x1g)
    ih = xp.minimum(y2, y2g) - xp.maximum(y1, y1g)
    inter = _ops.relu(xp, iw) * _ops.relu(xp, ih)
    union = w * h + wg * hg - inter
    iou = inter / (union + eps)
    enc_w = xp.maximum(x2, x2g) - xp.minimum(x1, x1g)
    enc_h = xp.maximum(y2, y2g) - xp.minimum(y1, y1g)
    dcx = ((x1 + x2) - (x1g + x2g)) / 2
    dcy = ((y1 + y2) - (y1g + y2g)) / 2
    return Terms(
        pred=(x1, y1, x2, y2),
        target=(x1g, y1g, x2g, y2g),
        w=w, h=h, wg=wg, hg=hg,
        union=union,
        iou=iou,
        enc_w=enc_w, enc_h=enc_h,
        rho2=dcx * dcx + dcy * dcy,
        c2=enc_w * enc_w + enc_h * enc_h,
    )


def start_boxes(
    fn: str,
    pred: Array,
    target: Array,
    box_format: str,
    eps: float,
    reduction: str,
    weight: Array | None,
    where: Array | None = None,
    replicas: Any = None,
) -> tuple[Call, Terms]:
    """Check the common options, shapes and values; compute the geometry in compute dtype."""
    check_choice(fn, "box_format", box_format, BOX_FORMATS)
    eps = check_number(fn, "eps", eps, ge=0.0)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    check_same_shape(fn, pred, target)
    _check_box_shape(fn, "pred", pred)
    xp = call.xp
    _check_ordered(fn, "target", xp, target, box_format)
    return call, box_terms(xp, call.float(pred), call.float(target), box_format, eps)


def start_pairs(fn: str, pred: Array, target: Array, box_format: str, eps: float
                ) -> tuple[Call, Terms]:
    """``start_boxes`` for every pair of ``pred`` ``(..., N, 4)`` and ``target`` ``(..., M, 4)``
    (same leading axes): the geometry has shape ``(..., N, M)``."""
    check_choice(fn, "box_format", box_format, BOX_FORMATS)
    eps = check_number(fn, "eps", eps, ge=0.0)
    call = start(fn, pred, reduction="none", weight=None, target=target)
    _check_box_shape(fn, "pred", pred)
    _check_box_shape(fn, "target", target)
    if pred.ndim < 2 or target.ndim < 2 or tuple(pred.shape[:-2]) != tuple(target.shape[:-2]):
        raise ValueError(
            f"{fn}: with pairwise=True `pred` must be (..., N, 4) and `target` (..., M, 4) "
            f"with the same leading axes; got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    xp = call.xp
    _check_ordered(fn, "target", xp, target, box_format)
    p = xp.expand_dims(call.float(pred), axis=-2)
    t = xp.expand_dims(call.float(target), axis=-3)
    return call, box_terms(xp, p, t, box_format, eps)


def distance_penalty(g: Terms, eps: float) -> Array:
    """DIoU's normalised centre distance ``rho2 / (c2 + eps)``."""
    return g.rho2 / (g.c2 + eps)


def eiou(g: Terms, eps: float) -> Array:
    """The EIoU loss per box (shared by ``eiou_loss`` and ``focal_eiou_loss``). The size
    differences use the coordinates as given (an inverted predicted box is pulled back)."""
    (x1, y1, x2, y2), (x1g, y1g, x2g, y2g) = g.pred, g.target
    dw, dh = (x2 - x1) - (x2g - x1g), (y2 - y1) - (y2g - y1g)
    side = dw * dw / (g.enc_w * g.enc_w + eps) + dh * dh / (g.enc_h * g.enc_h + eps)
    return 1 - g.iou + distance_penalty(g, eps) + side
