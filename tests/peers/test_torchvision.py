"""Test cases ported from torchvision's own tests (``pytorch/vision``, ``test/test_ops.py``):
box conversion, IoU, the GIoU / DIoU / CIoU losses and the sigmoid focal loss.

Every test names the torchvision test it comes from in its docstring; a parametrized peer
test keeps its rows (dtypes, seeds, options). torchvision is not installed here: the expected
numbers are the literals of its test file, or are written out from the formulas (its focal-loss
tests compare against ``torch.nn.functional.binary_cross_entropy_with_logits``, which is used).

Option mapping between torchvision and arrayloss:

- **Box losses.** ``generalized_box_iou_loss`` -> ``giou_loss``, ``distance_box_iou_loss`` ->
  ``diou_loss``, ``complete_box_iou_loss`` -> ``ciou_loss``. Both compare aligned pairs of
  ``(..., 4)`` xyxy boxes with ``eps=1e-7``; torchvision's ``(boxes1, boxes2)`` are arrayloss's
  ``(pred, target)``. torchvision's default reduction is ``"none"``, arrayloss's ``"mean"``: the
  reduction is always passed. A mean over zero boxes is 0 in both.
- **Pairwise functions.** ``box_iou``, ``generalized_box_iou``, ``distance_box_iou`` and
  ``complete_box_iou`` return the ``N x M`` matrix of every pair; arrayloss's ``box_iou`` and box
  losses take aligned pairs, so every pair is formed explicitly by broadcasting ``boxes1[:, None]``
  and ``boxes2[None, :]`` to ``(N, M, 4)`` (its diagonal holds the aligned pairs). The metrics are
  ``GIoU = 1 - giou_loss``, ``DIoU = 1 - diou_loss``, ``CIoU = 1 - ciou_loss`` (reduction "none").
- **Values checked.** Predicted boxes are never rejected for their values; ground-truth boxes
  with ``x2 < x1`` raise ``ValueError`` when concrete. Every box of these cases is valid.
- **dtypes.** float16 inputs are computed in float32 and return float32 (torchvision returns
  float16); integer boxes are computed in the default float dtype.
- **sigmoid_focal_loss.** Same ``alpha``/``gamma`` defaults; torchvision switches alpha off with a
  negative value, arrayloss with ``alpha=None`` (a negative alpha is a ``ValueError``).
  torchvision skips its float16 rows on the CPU; they run here (computed in float32).
"""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from conftest import numpy64 as _np
from conftest import torch_or_skip as _torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _close(got, expected, rtol: float, atol: float) -> None:
    g, e = _np(got), np.asarray(expected, dtype=np.float64)
    assert g.shape == e.shape, (g.shape, e.shape)
    np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


# =========================================================================================
# TestBoxConvert -> box_convert

_BOXES = [[0, 0, 100, 100], [0, 0, 0, 0], [10, 15, 30, 35], [23, 35, 93, 95]]
_XYWH = [[0, 0, 100, 100], [0, 0, 0, 0], [10, 15, 20, 20], [23, 35, 70, 60]]
_CXCYWH = [[50, 50, 100, 100], [0, 0, 0, 0], [20, 25, 20, 20], [58, 65, 70, 60]]


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
def test_box_convert_same(fmt):
    """torchvision test/test_ops.py::TestBoxConvert::test_bbox_same."""
    boxes = np.array(_BOXES, dtype=np.float32)
    got = al.box_convert(boxes, in_fmt=fmt, out_fmt=fmt)
    np.testing.assert_array_equal(got, boxes)


@pytest.mark.parametrize(("name", "fmt_a", "a", "fmt_b", "b"), [
    ("test_bbox_xyxy_xywh", "xyxy", _BOXES, "xywh", _XYWH),
    ("test_bbox_xyxy_cxcywh", "xyxy", _BOXES, "cxcywh", _CXCYWH),
    ("test_bbox_xywh_cxcywh", "xywh", _XYWH, "cxcywh", _CXCYWH),
])
def test_box_convert_round_trip(name, fmt_a, a, fmt_b, b):
    """torchvision test/test_ops.py::TestBoxConvert::test_bbox_xyxy_xywh,
    test_bbox_xyxy_cxcywh and test_bbox_xywh_cxcywh (``name``): forward and reverse, exact."""
    a, b = np.array(a, dtype=np.float32), np.array(b, dtype=np.float32)
    forward = al.box_convert(a, in_fmt=fmt_a, out_fmt=fmt_b)
    assert forward.shape == (4, 4)
    np.testing.assert_array_equal(forward, b)
    np.testing.assert_array_equal(al.box_convert(forward, in_fmt=fmt_b, out_fmt=fmt_a), a)


@pytest.mark.parametrize("out_fmt", ["xwcx", "xhwcy"])
@pytest.mark.parametrize("in_fmt", ["xwyh", "cxwyh"])
def test_box_convert_invalid(in_fmt, out_fmt):
    """torchvision test/test_ops.py::TestBoxConvert::test_bbox_invalid."""
    with pytest.raises(ValueError):
        al.box_convert(np.array(_XYWH, dtype=np.float32), in_fmt=in_fmt, out_fmt=out_fmt)


# =========================================================================================
# TestBoxIou, TestGeneralizedBoxIou, TestDistanceBoxIoU, TestCompleteBoxIou (pairwise)

_INT_BOXES = [[0, 0, 100, 100], [0, 0, 50, 50], [200, 200, 300, 300], [0, 0, 25, 25]]
_INT_BOXES2 = [[0, 0, 100, 100], [0, 0, 50, 50], [200, 200, 300, 300]]
_FLOAT_BOXES = [[285.3538, 185.5758, 1193.5110, 851.4551],
                [285.1472, 188.7374, 1192.4984, 851.0669],
                [279.2440, 197.9812, 1189.4746, 849.2019]]
_FLOAT_EXPECTED = [[1.0, 0.9933, 0.9673], [0.9933, 1.0, 0.9737], [0.9673, 0.9737, 1.0]]
_INT_EXPECTED = {
    "box_iou": [[1.0, 0.25, 0.0], [0.25, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0625, 0.25, 0.0]],
    "generalized_box_iou": [[1.0, 0.25, -0.7778], [0.25, 1.0, -0.8611],
                            [-0.7778, -0.8611, 1.0], [0.0625, 0.25, -0.8819]],
    "distance_box_iou": [[1.0000, 0.1875, -0.4444], [0.1875, 1.0000, -0.5625],
                         [-0.4444, -0.5625, 1.0000], [-0.0781, 0.1875, -0.6267]],
    "complete_box_iou": [[1.0000, 0.1875, -0.4444], [0.1875, 1.0000, -0.5625],
                         [-0.4444, -0.5625, 1.0000], [-0.0781, 0.1875, -0.6267]],
}
_CLASSES = {"box_iou": "TestBoxIou", "generalized_box_iou": "TestGeneralizedBoxIou",
            "distance_box_iou": "TestDistanceBoxIoU", "complete_box_iou": "TestCompleteBoxIou"}


def _metric(name: str, pred, target):
    """torchvision's pairwise metric ``name`` of aligned pairs, through arrayloss."""
    if name == "box_iou":
        return al.box_iou(pred, target)
    loss = {"generalized_box_iou": al.giou_loss, "distance_box_iou": al.diou_loss,
            "complete_box_iou": al.ciou_loss}[name]
    return 1.0 - loss(pred, target, reduction="none")


def _pairs(boxes1: np.ndarray, boxes2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) pair as aligned (N, M, 4) arrays."""
    n, m = len(boxes1), len(boxes2)
    return (np.broadcast_to(boxes1[:, None], (n, m, 4)),
            np.broadcast_to(boxes2[None, :], (n, m, 4)))


_IOU_ROWS = [
    pytest.param(name, boxes1, boxes2, dtype, atol, expected, id=f"{name}-{dtype}")
    for name in _INT_EXPECTED
    for boxes1, boxes2, dtypes, atol, expected in (
        (_INT_BOXES, _INT_BOXES2, ("int16", "int32", "int64"), 1e-4, _INT_EXPECTED[name]),
        (_FLOAT_BOXES, _FLOAT_BOXES, ("float16",), 0.002, _FLOAT_EXPECTED),
        (_FLOAT_BOXES, _FLOAT_BOXES, ("float32", "float64"), 1e-3, _FLOAT_EXPECTED),
    )
    for dtype in dtypes
]


@pytest.mark.parametrize(("name", "boxes1", "boxes2", "dtype", "atol", "expected"), _IOU_ROWS)
def test_pairwise_iou(name, boxes1, boxes2, dtype, atol, expected):
    """torchvision test/test_ops.py::{TestBoxIou, TestGeneralizedBoxIou, TestDistanceBoxIoU,
    TestCompleteBoxIou}::test_iou (row ``name-dtype``): the literal N x M matrices, every pair
    aligned by broadcasting. Integer boxes give the default float (float64 with NumPy), float16
    boxes float32."""
    pred, target = _pairs(np.array(boxes1, dtype=dtype), np.array(boxes2, dtype=dtype))
    got = _metric(name, pred, target)
    expected_dtype = {"float16": np.float32, "float32": np.float32}.get(dtype, np.float64)
    assert np.asarray(got).dtype == expected_dtype
    _close(got, expected, rtol=0.0, atol=atol)


@pytest.mark.parametrize("name", list(_INT_EXPECTED))
def test_pairwise_iou_cartesian(name):
    """torchvision test/test_ops.py::{TestBoxIou, TestGeneralizedBoxIou, TestDistanceBoxIoU,
    TestCompleteBoxIou}::test_iou_cartesian (``name``): the broadcast (5, 7) grid equals the
    pairs taken one at a time (random valid boxes, float32)."""
    rng = np.random.default_rng(sum(map(ord, name)))

    def gen_box(size):
        xy1 = rng.random((size, 2), dtype=np.float32)
        return np.concatenate([xy1, xy1 + rng.random((size, 2), dtype=np.float32)], axis=-1)

    boxes1, boxes2 = gen_box(5), gen_box(7)
    grid = np.asarray(_metric(name, *_pairs(boxes1, boxes2)))
    one_by_one = np.array([[float(_metric(name, boxes1[i], boxes2[j])) for j in range(7)]
                           for i in range(5)])
    _close(grid, one_by_one, rtol=1.3e-6, atol=1e-5)


# =========================================================================================
# TestGeneralizedBoxIouLoss, TestCompleteBoxIouLoss, TestDistanceBoxIouLoss

_B1, _B2, _B3, _B4 = [-1, -1, 1, 1], [0, 0, 1, 1], [0, 1, 1, 2], [1, 1, 2, 2]

_LOSS_CASES = {
    # (pred, target, reduction, expected): torchvision's literals for each loss
    "generalized_box_iou_loss": (al.giou_loss, "TestGeneralizedBoxIouLoss::test_giou_loss", [
        ("identical", _B1, _B1, "none", 0.0),
        ("quarter-inside", _B1, _B2, "none", 0.75),
        ("side-by-side", _B2, _B3, "none", 1.0),
        ("diagonal", _B2, _B4, "none", 1.5),
        ("batch-sum", [_B2, _B2], [_B3, _B4], "sum", 2.5),
        ("batch-mean", [_B2, _B2], [_B3, _B4], "mean", 1.25),
    ]),
    "complete_box_iou_loss": (al.ciou_loss, "TestCompleteBoxIouLoss::test_ciou_loss", [
        ("identical", _B1, _B1, "none", 0.0),
        ("box1-box2", _B1, _B2, "none", 0.8125),
        ("box1-box3", _B1, _B3, "none", 1.1923),
        ("box1-box4", _B1, _B4, "none", 1.2500),
        ("batch-mean", [_B2, _B2], [_B3, _B4], "mean", 1.2250),
        ("batch-sum", [_B2, _B2], [_B3, _B4], "sum", 2.4500),
    ]),
    "distance_box_iou_loss": (al.diou_loss, "TestDistanceBoxIouLoss::test_distance_iou_loss", [
        ("identical", _B1, _B1, "none", 0.0),
        ("box1-box2", _B1, _B2, "none", 0.8125),
        ("box1-box3", _B1, _B3, "none", 1.1923),
        ("box1-box4", _B1, _B4, "none", 1.2500),
        ("batch-mean", [_B2, _B2], [_B3, _B4], "mean", 1.2250),
        ("batch-sum", [_B2, _B2], [_B3, _B4], "sum", 2.4500),
    ]),
}

_LOSS_ROWS = [
    pytest.param(fn, pred, target, reduction, expected, dtype,
                 id=f"{name}-{case}-{dtype}")
    for name, (fn, _, cases) in _LOSS_CASES.items()
    for case, pred, target, reduction, expected in cases
    for dtype in ("float32", "float16")
]


@pytest.mark.parametrize(("fn", "pred", "target", "reduction", "expected", "dtype"), _LOSS_ROWS)
def test_box_loss_values(fn, pred, target, reduction, expected, dtype):
    """torchvision test/test_ops.py::TestGeneralizedBoxIouLoss::test_giou_loss,
    TestCompleteBoxIouLoss::test_ciou_loss and TestDistanceBoxIouLoss::test_distance_iou_loss
    (rows ``loss-case-dtype``): single (4,) boxes give a 0-d value, a batch of two is reduced;
    float16 boxes return float32. Tolerances are torch's defaults for the dtype, as in
    torchvision (its CIoU/DIoU literals have 4 decimals)."""
    torch = _torch()
    dt = getattr(torch, dtype)
    got = fn(torch.tensor(pred, dtype=dt), torch.tensor(target, dtype=dt), reduction=reduction)
    assert got.dtype == torch.float32
    assert got.shape == ()
    if dtype == "float32":
        _close(got, expected, rtol=1.3e-6, atol=1e-5)
    else:
        _close(got, expected, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", list(_LOSS_CASES))
def test_box_loss_invalid_reduction(name, dtype):
    """torchvision test/test_ops.py::TestGeneralizedBoxIouLoss::test_giou_loss,
    TestCompleteBoxIouLoss::test_ciou_loss, TestDistanceBoxIouLoss::test_distance_iou_loss
    (their reduction="xyz" check)."""
    torch = _torch()
    dt = getattr(torch, dtype)
    fn = _LOSS_CASES[name][0]
    with pytest.raises(ValueError, match="reduction"):
        fn(torch.tensor([_B2, _B2], dtype=dt), torch.tensor([_B3, _B4], dtype=dt),
           reduction="xyz")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", list(_LOSS_CASES))
def test_box_loss_empty_inputs(name, dtype):
    """torchvision test/test_ops.py::TestGeneralizedBoxIouLoss::test_empty_inputs,
    TestCompleteBoxIouLoss::test_empty_inputs, TestDistanceBoxIouLoss::
    test_empty_distance_iou_inputs: zero boxes give a mean of 0 with (empty) gradients on both
    inputs, and an empty "none"."""
    torch = _torch()
    fn = _LOSS_CASES[name][0]
    dt = getattr(torch, dtype)
    box1 = torch.randn([0, 4], dtype=dt).requires_grad_()
    box2 = torch.randn([0, 4], dtype=dt).requires_grad_()
    loss = fn(box1, box2, reduction="mean")
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert box1.grad is not None and box2.grad is not None
    assert fn(box1, box2, reduction="none").numel() == 0


# =========================================================================================
# TestFocalLoss -> sigmoid_focal_loss


def _diverse_inputs(seed: int, dtype: str):
    """Nine (5, 2) blocks: logits of probabilities drawn from "small" (0, 0.2), "big" (0.8, 1)
    and "random" (0, 1), each with all-0, all-1 and random {0, 1} targets (torchvision's
    _generate_diverse_input_target_pair, drawn with NumPy), as float32 or float16 arrays."""
    rng = np.random.default_rng(seed)
    ranges = {"small": (0.0, 0.2), "big": (0.8, 1.0), "random": (0.0, 1.0)}
    inputs, targets = [], []
    for in_range in ("small", "big", "random"):
        for target_kind in ("zeros", "ones", "random_binary"):
            p = rng.uniform(*ranges[in_range], size=(5, 2))
            p = np.clip(p, 1e-6, 1 - 1e-6)  # a probability of exactly 0 or 1 has no logit
            inputs.append(np.log(p / (1 - p)))
            if target_kind == "zeros":
                targets.append(np.zeros((5, 2)))
            elif target_kind == "ones":
                targets.append(np.ones((5, 2)))
            else:
                targets.append(rng.integers(0, 2, size=(5, 2)).astype(np.float64))
    return (np.concatenate(inputs).astype(dtype), np.concatenate(targets).astype(dtype))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("gamma", [0, 2])
@pytest.mark.parametrize("alpha", [-1.0, 0.0, 0.58, 1.0])
def test_focal_correct_ratio(alpha, gamma, dtype, seed):
    """torchvision test/test_ops.py::TestFocalLoss::test_correct_ratio: focal <= BCE, and
    focal / BCE = alpha_t (1 - p_t)^gamma (alpha -1 -> None). torchvision skips float16 on the
    CPU; here it runs and returns float32."""
    torch = _torch()
    x, y = _diverse_inputs(seed, dtype)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
    focal = al.sigmoid_focal_loss(inputs, targets, alpha=None if alpha < 0 else alpha,
                                  gamma=float(gamma), reduction="none")
    assert focal.dtype == torch.float32
    x64, y64 = torch.from_numpy(x.astype(np.float64)), torch.from_numpy(y.astype(np.float64))
    ce = torch.nn.functional.binary_cross_entropy_with_logits(x64, y64, reduction="none")
    # same inequality as torchvision, up to the rounding of a separately computed BCE
    assert bool((focal.double() <= ce * (1 + 1e-6) + 1e-12).all())
    prob = torch.sigmoid(x64)
    p_t = prob * y64 + (1 - prob) * (1 - y64)
    correct_ratio = (1.0 - p_t) ** gamma
    if alpha >= 0:
        correct_ratio = correct_ratio * (alpha * y64 + (1 - alpha) * (1 - y64))
    tol = 1e-3 if dtype == "float16" else 1e-5
    _close(focal.double() / ce, correct_ratio, rtol=tol, atol=tol)


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_focal_equal_ce_loss(reduction, dtype, seed):
    """torchvision test/test_ops.py::TestFocalLoss::test_equal_ce_loss: alpha off (-1 -> None)
    and gamma 0 give BCE with logits, value and gradient (float16 computed in float32 here)."""
    torch = _torch()
    x, y = _diverse_inputs(seed, dtype)
    inputs_fl = torch.from_numpy(x).requires_grad_()
    inputs_ce = torch.from_numpy(x).float().requires_grad_()
    targets = torch.from_numpy(y)
    focal = al.sigmoid_focal_loss(inputs_fl, targets, alpha=None, gamma=0.0, reduction=reduction)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(inputs_ce, targets.float(),
                                                              reduction=reduction)
    assert focal.dtype == torch.float32
    _close(focal, ce.detach(), rtol=1.3e-6, atol=1e-5)
    focal.backward()
    ce.backward()
    _close(inputs_fl.grad, inputs_ce.grad, rtol=1e-3 if dtype == "float16" else 1.3e-6,
           atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_focal_reduction_mode(dtype):
    """torchvision test/test_ops.py::TestFocalLoss::test_reduction_mode: reduction "xyz"
    raises ValueError."""
    torch = _torch()
    x, y = _diverse_inputs(0, dtype)
    with pytest.raises(ValueError, match="reduction"):
        al.sigmoid_focal_loss(torch.from_numpy(x), torch.from_numpy(y), alpha=0.25, gamma=2.0,
                              reduction="xyz")
