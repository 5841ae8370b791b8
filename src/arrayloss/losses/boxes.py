"""Box regression: IoU, UnitBox, GIoU, DIoU, CIoU, EIoU, Focal-EIoU and CDIoU losses.

Every function compares **aligned pairs** of boxes: ``pred`` and ``target`` have the same
shape ``(..., 4)`` and box ``i`` of ``pred`` is compared with box ``i`` of ``target``
(torchvision's ``*_box_iou_loss`` semantics, not the pairwise ``N x M`` matrix of
``box_iou`` in torchvision and MONAI). ``reduction="none"`` returns ``pred.shape[:-1]``, one
value per box; ``"mean"`` averages over boxes and is 0 (with zero gradients) for zero boxes;
``weight`` multiplies the per-box loss and must broadcast to ``pred.shape[:-1]``.

Formats (``box_format``): ``"xyxy"`` (default, corners), ``"xywh"`` (top-left corner and
size, COCO) and ``"cxcywh"`` (centre and size); see ``box_convert``.

Every box is converted to corners once and the shared geometry is computed once per call,
torchvision's definitions with ``eps`` added to **denominators** only::

    w, h = x2 - x1, y2 - y1               wg, hg for the target
    iw = min(x2, x2g) - max(x1, x1g)      ih likewise;  inter = iw * ih if iw > 0 and ih > 0
    union = w h + wg hg - inter           IoU = inter / (union + eps)
    C = enclosing box (cw x ch)           area_C = cw ch,  c2 = cw^2 + ch^2
    rho2 = squared distance of the centres

Numerics and conventions shared by the family:

- float16/bfloat16 boxes are computed in float32 (areas do not overflow) and the result is
  float32 (``box_convert`` returns the input's dtype); integer boxes are computed in the
  namespace's default float dtype.
- No boolean indexing, no value-dependent Python branches: every loss runs under
  ``jax.jit``, ``jax.vmap`` and ``torch.compile(fullgraph=True)``.
- The intersection uses a masked ``relu`` (sub-gradient 0 at ``iw = 0``), so disjoint and
  edge-touching pairs get ``d inter = 0``. At ``min``/``max`` ties (identical boxes,
  touching edges) the gradient is finite but its value is whatever sub-gradient the backend
  picks.
- **Inverted boxes** (``x2 < x1`` or ``y2 < y1`` after conversion; negative ``w``/``h`` in the
  size formats). A *predicted* box is never rejected for its values: a raw regression head
  produces inverted boxes early in training. Its width and height count as 0 in every area
  (intersection, union, IoU) and in CIoU's aspect ratio, so it has IoU 0, while the distance
  terms (centres, enclosing box, EIoU's width and height differences, CDIoU's corners) use
  its coordinates as given and pull it back; values and gradients stay finite. An inverted
  *ground-truth* box is a data error: ``ValueError`` when the arrays are readable (eager
  host arrays, see ``arrayloss.set_options``); under ``jax.jit``/``torch.compile``, on Dask
  and on GPU arrays it is not checked, and is measured with the same clamped sizes. Boxes
  are never re-ordered silently.
- ``eps=1e-7`` (``>= 0``). With ``eps=0`` a pair whose union (or enclosing box) has zero
  area, e.g. two identical zero-area boxes, gives NaN, as the unguarded formula does.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._namespace import Array
from .._validate import check_bool, check_choice, check_number
from ._geometry import box_convert, distance_penalty, eiou, start_boxes, start_pairs

__all__ = [
    "box_convert",
    "box_iou",
    "cdiou_loss",
    "ciou_loss",
    "diou_loss",
    "eiou_loss",
    "focal_eiou_loss",
    "giou_loss",
    "iou_loss",
]

_UNITBOX_FLOOR = 1e-6  # mmdetection's clamp of the IoU for mode="log"
_FOUR_OVER_PI2 = 4.0 / math.pi**2


def box_iou(
    pred: Array,
    target: Array,
    /,
    *,
    pairwise: bool = False,
    box_format: str = "xyxy",
    eps: float = 1e-7,
) -> Array:
    r"""IoU (intersection over union) of boxes, of aligned pairs or of every pair.

    .. math::

        \mathrm{IoU}(B, B^g) = \frac{|B \cap B^g|}{|B \cup B^g| + \varepsilon}

    with :math:`B` a box of ``pred``, :math:`B^g` one of ``target`` and :math:`|\cdot|` the area.
    ``pairwise=False`` (default): aligned pairs; ``pred`` and ``target`` ``(..., 4)``,
    identical shapes; the result is ``pred.shape[:-1]``. ``pairwise=True``: every box of
    ``pred`` ``(..., N, 4)`` with every box of ``target`` ``(..., M, 4)`` (same leading axes);
    the result is the ``(..., N, M)`` matrix that torchvision's and MONAI's ``box_iou``
    return (N or M may be 0). Values in ``[0, 1)``. Not a loss: no ``reduction`` and no
    ``weight``. Identical boxes give ``area / (area + eps)`` (0.99999998 for area 6),
    disjoint or edge-touching boxes 0, and two zero-area boxes 0 (``0 / (0 + eps)``).
    References: torchvision ``ops.box_iou`` (no ``eps``: ``eps=0`` matches it except for
    zero-area pairs, where it gives NaN) and ``monai.data.box_utils.box_iou`` (float32
    machine epsilon in the denominator). Inverted boxes: see the family's introduction
    (``help(arrayloss.losses.boxes)``; ``ValueError`` for the target's when concrete).
    """
    fn = "box_iou"
    check_bool(fn, "pairwise", pairwise)
    if pairwise:
        call, g = start_pairs(fn, pred, target, box_format, eps)
    else:
        call, g = start_boxes(fn, pred, target, box_format, eps, "none", None)
    return call.finish(g.iou)


def iou_loss(
    pred: Array,
    target: Array,
    /,
    *,
    mode: str = "linear",
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""IoU loss, linear (``mode="linear"``) or UnitBox's logarithmic form (``mode="log"``).

    .. math::

        \ell = \begin{cases}
            1 - \mathrm{IoU} \in [0, 1] & \mathrm{mode} = \text{linear} \\
            -\log \max(\mathrm{IoU}, 10^{-6}) \in [0, 13.815511] & \mathrm{mode} = \text{log}
        \end{cases}
        \qquad \mathrm{IoU} = \frac{|B \cap B^g|}{|B \cup B^g| + \varepsilon}

    with :math:`B` the predicted box, :math:`B^g` the target box and :math:`|\cdot|` the area.

    UnitBox: Yu et al., "UnitBox: An Advanced Object Detection Network", ACM MM 2016; the
    ``1e-6`` clamp is mmdetection's ``iou_loss`` (whose default mode is ``"log"``; its
    ``"square"`` mode is not provided). Any other ``mode`` raises ``ValueError``.
    Edge cases: disjoint boxes give 1 (linear) or 13.815511 (log) with a **zero gradient**
    (no learning signal: the motivation for GIoU); two identical zero-area boxes have IoU 0
    and give the same values; identical boxes of area ``a`` give about ``eps / a``.
    Shapes, formats, reductions and inverted boxes: see the family's introduction
    (``help(arrayloss.losses.boxes)``).
    """
    fn = "iou_loss"
    check_choice(fn, "mode", mode, ("linear", "log"))
    call, g = start_boxes(fn, pred, target, box_format, eps, reduction, weight, where,
                          replicas)
    if mode == "linear":
        return call.finish(1 - g.iou)
    return call.finish(-call.xp.log(_ops.clip(call.xp, g.iou, min=_UNITBOX_FLOOR)))


def giou_loss(
    pred: Array,
    target: Array,
    /,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Generalized IoU loss (Rezatofighi et al., CVPR 2019).

    .. math::

        \begin{aligned}
            \ell &= 1 - \mathrm{GIoU} \in [0, 2), \qquad
                \mathrm{GIoU} = \mathrm{IoU} - \frac{|C| - |B \cup B^g|}{|C| + \varepsilon}
                \in (-1, 1] \\
            \mathrm{IoU} &= \frac{|B \cap B^g|}{|B \cup B^g| + \varepsilon}
        \end{aligned}

    :math:`B` is the predicted box, :math:`B^g` the target box, :math:`C` the smallest box
    enclosing both and :math:`|\cdot|` the area. Symmetric in its arguments; GIoU equals IoU when
    one box contains the other. Disjoint boxes still get a gradient through :math:`|C|`. Two
    identical zero-area boxes give 1 (``0 - 0/(0 + eps)``). Empty input gives 0 for ``"mean"``
    (MONAI: NaN).
    Degenerate enclosing box: where :math:`|C| = 0` (identical zero-area boxes, or two
    segments on one line) the penalty term is computed in a masked branch whose value is
    the formula's (:math:`0 / (0 + \varepsilon) = 0`) and whose gradient is 0; the plain
    formula's sub-gradient there comes from ``min``/``max`` ties divided by ``eps`` (about 1e7,
    an overflow in float16).
    References: torchvision ``generalized_box_iou_loss`` (same eps placement, default eps
    1e-7); ``monai.losses.BoxGIoULoss`` (float32, ``finfo(float32).eps``, default ``"mean"``).
    Shapes, formats, reductions and inverted boxes: see the family's introduction
    (``help(arrayloss.losses.boxes)``).
    """
    call, g = start_boxes("giou_loss", pred, target, box_format, eps, reduction, weight, where,
                          replicas)
    xp = call.xp
    area_c = g.enc_w * g.enc_h
    ok = area_c != 0  # masked: see "Degenerate enclosing box" above
    den = xp.where(ok, area_c, xp.ones_like(area_c)) + eps
    gap = xp.where(ok, (area_c - g.union) / den, xp.zeros_like(area_c))
    return call.finish(1 - g.iou + gap)


def diou_loss(
    pred: Array,
    target: Array,
    /,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Distance IoU loss (Zheng et al., "Distance-IoU Loss", AAAI 2020).

    .. math::

        \begin{aligned}
            \ell &= 1 - \mathrm{IoU} + \frac{\rho^2}{c^2 + \varepsilon} \in [0, 2) \\
            \mathrm{IoU} &= \frac{|B \cap B^g|}{|B \cup B^g| + \varepsilon}, \qquad
            \rho = \lVert \mathbf{b} - \mathbf{b}^g \rVert, \qquad c^2 = c_w^2 + c_h^2
        \end{aligned}

    :math:`\rho` is the distance between the centres :math:`\mathbf{b}`, :math:`\mathbf{b}^g` of the
    predicted box :math:`B` and the target box :math:`B^g`, :math:`c` the diagonal of the smallest
    box enclosing both (:math:`c_w \times c_h`) and :math:`|\cdot|` the area. Scale and translation
    invariant, symmetric; disjoint boxes get a gradient through :math:`\rho`; concentric boxes
    reduce to ``1 - IoU``; two identical zero-area boxes give 1.
    Reference: torchvision ``distance_box_iou_loss`` (same eps placement).
    Shapes, formats, reductions and inverted boxes: see the family's introduction
    (``help(arrayloss.losses.boxes)``).
    """
    call, g = start_boxes("diou_loss", pred, target, box_format, eps, reduction, weight, where,
                          replicas)
    return call.finish(1 - g.iou + distance_penalty(g, eps))


def ciou_loss(
    pred: Array,
    target: Array,
    /,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Complete IoU loss (Zheng et al., AAAI 2020; journal version arXiv 2005.03572).

    .. math::

        \begin{aligned}
            \ell &= 1 - \mathrm{IoU} + \frac{\rho^2}{c^2 + \varepsilon} + \alpha v \\
            v &= \frac{4}{\pi^2} \bigl(\operatorname{atan2}(w^g, h^g)
                - \operatorname{atan2}(w, h)\bigr)^2, \qquad
            \alpha = \operatorname{sg}\Bigl(\frac{v}{1 - \mathrm{IoU} + v + \varepsilon}\Bigr) \\
            \mathrm{IoU} &= \frac{|B \cap B^g|}{|B \cup B^g| + \varepsilon}, \qquad
            \rho = \lVert \mathbf{b} - \mathbf{b}^g \rVert, \qquad c^2 = c_w^2 + c_h^2
        \end{aligned}

    :math:`w \times h` and :math:`w^g \times h^g` are the sizes of the predicted box :math:`B` and
    the target box :math:`B^g` (:math:`\operatorname{atan2}(w, h) = \arctan(w / h)` for
    :math:`h > 0`), :math:`\rho` the distance between their centres :math:`\mathbf{b}`,
    :math:`\mathbf{b}^g`, :math:`c` the diagonal of the smallest box enclosing both
    (:math:`c_w \times c_h`), :math:`|\cdot|` the area and :math:`\operatorname{sg}` a
    stop-gradient: :math:`\alpha` carries no gradient (torchvision ``complete_box_iou_loss``,
    ultralytics, mmdetection 3.x); gradients are plain autodiff (the paper's custom ``1/(w^2+h^2)``
    rescaling is not applied). Unlike mmdetection 3.x, alpha is not gated by ``IoU > 0.5``.
    Degenerate boxes: for ``h = 0 < w`` the angle is ``pi/2`` (torchvision's value; its
    ``atan(w/h)`` has a NaN gradient there, ``atan2`` does not). For ``w = h = 0`` the
    angle is **defined as 0**, through a masked branch with zero gradient, so two identical
    zero-area boxes give 1.0 with finite gradients (torchvision: NaN; mmdetection and
    ultralytics, which add eps to ``h``: 1.0).
    Shapes, formats, reductions and inverted boxes: see the family's introduction
    (``help(arrayloss.losses.boxes)``).
    """
    call, g = start_boxes("ciou_loss", pred, target, box_format, eps, reduction, weight, where,
                          replicas)
    xp = call.xp
    dangle = _ops.safe_atan2(xp, g.wg, g.hg) - _ops.safe_atan2(xp, g.w, g.h)
    v = _FOUR_OVER_PI2 * dangle * dangle
    alpha = _ops.stop_gradient(xp, _ops.safe_div(xp, v, 1 - g.iou + v + eps))
    return call.finish(1 - g.iou + distance_penalty(g, eps) + alpha * v)


def eiou_loss(
    pred: Array,
    target: Array,
    /,
    *,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Efficient IoU loss (Zhang et al., "Focal and Efficient IOU Loss for Accurate Bounding
    Box Regression", Neurocomputing 2022, arXiv 2101.08158).

    .. math::

        \begin{aligned}
            \ell &= 1 - \mathrm{IoU} + \frac{\rho^2}{c^2 + \varepsilon}
                + \frac{(w - w^g)^2}{c_w^2 + \varepsilon}
                + \frac{(h - h^g)^2}{c_h^2 + \varepsilon} \\
            \mathrm{IoU} &= \frac{|B \cap B^g|}{|B \cup B^g| + \varepsilon}, \qquad
            \rho = \lVert \mathbf{b} - \mathbf{b}^g \rVert, \qquad c^2 = c_w^2 + c_h^2
        \end{aligned}

    :math:`w \times h` and :math:`w^g \times h^g` are the sizes of the predicted box :math:`B`
    and the target box :math:`B^g` (:math:`w = x_2 - x_1`, :math:`h = y_2 - y_1` as given, also
    for an inverted box), :math:`\rho` the distance between their centres
    :math:`\mathbf{b}`, :math:`\mathbf{b}^g`, :math:`c_w \times c_h` the size of the smallest
    box enclosing both, :math:`c` its diagonal and :math:`|\cdot|` the area. Not mmdetection's
    ``EIoULoss``, which is a different loss (Extended-IoU, Peng & Yu 2021). Two identical
    zero-area boxes give 1; gradients are finite everywhere.
    Shapes, formats, reductions and inverted boxes: see the family's introduction
    (``help(arrayloss.losses.boxes)``).
    """
    call, g = start_boxes("eiou_loss", pred, target, box_format, eps, reduction, weight, where,
                          replicas)
    return call.finish(eiou(g, eps))


def focal_eiou_loss(
    pred: Array,
    target: Array,
    /,
    *,
    gamma: float = 0.5,
    normalize: bool = False,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Focal-EIoU loss (Zhang et al., Neurocomputing 2022): EIoU re-weighted by a power of the IoU.

    .. math::

        \begin{aligned}
            \ell_i &= a_i\, L^{\mathrm{EIoU}}_i, \qquad
                a_i = \operatorname{sg}(\mathrm{IoU}_i)^{\gamma}
                \quad \text{(high-IoU boxes weigh more)} \\
            \text{mean} &= \begin{cases}
                \frac{1}{N} \sum_i \mathrm{weight}_i\, \ell_i & \text{default} \\
                \sum_i \mathrm{weight}_i\, \ell_i \Big/ \sum_i \mathrm{weight}_i\, a_i
                    & \mathrm{normalize} \quad \text{(0 if that sum is 0)}
            \end{cases}
        \end{aligned}

    over the :math:`N` boxes, with :math:`L^{\mathrm{EIoU}}` the loss of ``eiou_loss``,
    :math:`\operatorname{sg}` a stop-gradient and ``weight`` the common option; ``"sum"`` is
    :math:`\sum_i \mathrm{weight}_i\, \ell_i` and ``"none"`` returns :math:`\ell_i`.

    Options: ``gamma=0.5`` (the paper's best; ``>= 0``, ``gamma < 0`` raises ``ValueError``;
    ``gamma = 0`` is ``eiou_loss``), ``normalize=False`` (the widespread plain mean of YOLO
    forks; ``True`` is the paper's normalisation by the weight sum).
    The weight is a stop-gradient (as every public implementation): this also keeps the
    gradient finite at :math:`\mathrm{IoU} = 0`, where the derivative of
    :math:`\mathrm{IoU}^{0.5}` is infinite. For ``gamma > 0`` disjoint boxes have weight 0, so
    their loss is 0 with zero gradient (low-quality boxes are suppressed by design).
    Shapes, formats, reductions and inverted boxes: see the family's introduction
    (``help(arrayloss.losses.boxes)``).
    """
    fn = "focal_eiou_loss"
    gamma = check_number(fn, "gamma", gamma, ge=0.0)
    check_bool(fn, "normalize", normalize)
    call, g = start_boxes(fn, pred, target, box_format, eps, reduction, weight, where,
                          replicas)
    xp = call.xp
    focus = _ops.stop_gradient(xp, g.iou) ** gamma
    loss = focus * eiou(g, eps)
    if not normalize or reduction not in ("mean", "weighted_mean"):
        return call.finish(loss)
    # the paper's normalisation: sum(weight * l) / sum(weight * focus)
    return call.finish(loss, count=focus, weighted=True)


def cdiou_loss(
    pred: Array,
    target: Array,
    /,
    *,
    distance_weight: float = 1.0,
    box_format: str = "xyxy",
    eps: float = 1e-7,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Control Distance IoU loss (Chen & Miao, arXiv 2103.11696).

    .. math::

        \begin{aligned}
            \ell &= 1 - \mathrm{IoU} + \lambda\, \mathrm{diou}, \qquad
                \lambda = \mathrm{distance\_weight} \\
            \mathrm{diou} &= \frac{1}{4c + \varepsilon} \sum_{k = 1}^{4} \lVert P_k - P^g_k \rVert,
            \qquad \mathrm{IoU} = \frac{|B \cap B^g|}{|B \cup B^g| + \varepsilon}
        \end{aligned}

    :math:`P_1, \dots, P_4` are the corners of the predicted box :math:`B` and
    :math:`P^g_1, \dots, P^g_4` those of the target box :math:`B^g`, in the same order for both (TL,
    TR, BR, BL); :math:`c = \sqrt{c_w^2 + c_h^2}` is the diagonal of the smallest box enclosing both
    (the paper's :math:`|WY|`) and :math:`|\cdot|` the area. The distances are Euclidean (not
    squared); ``0 <= diou <= 1`` and ``diou = 0`` iff the boxes coincide (``diou`` is the paper's
    name, unrelated to ``diou_loss``).
    Options: ``distance_weight=1.0`` (``>= 0``; the paper's loss). The authors' code uses
    ``GIoU loss + 0.001 * diou``: ``giou_loss(p, t) + 0.001 * (cdiou_loss(p, t) -
    iou_loss(p, t))`` reproduces that recipe.
    Edge cases: a coinciding corner has distance 0, where ``sqrt`` has an infinite
    derivative; the norm uses a masked branch (value 0, gradient 0), so identical boxes have
    finite (zero-valued distance) gradients. Two identical zero-area boxes give 1.
    Shapes, formats, reductions and inverted boxes: see the family's introduction
    (``help(arrayloss.losses.boxes)``).
    """
    fn = "cdiou_loss"
    lam = check_number(fn, "distance_weight", distance_weight, ge=0.0)
    call, g = start_boxes(fn, pred, target, box_format, eps, reduction, weight, where,
                          replicas)
    xp = call.xp
    (x1, y1, x2, y2), (x1g, y1g, x2g, y2g) = g.pred, g.target
    dx1, dy1, dx2, dy2 = x1 - x1g, y1 - y1g, x2 - x2g, y2 - y2g
    sx1, sy1, sx2, sy2 = dx1 * dx1, dy1 * dy1, dx2 * dx2, dy2 * dy2
    corners = (_ops.safe_sqrt(xp, sx1 + sy1) + _ops.safe_sqrt(xp, sx2 + sy1)
               + _ops.safe_sqrt(xp, sx2 + sy2) + _ops.safe_sqrt(xp, sx1 + sy2))
    diagonal = _ops.safe_sqrt(xp, g.c2)
    return call.finish(1 - g.iou + lam * (corners / (4 * diagonal + eps)))
