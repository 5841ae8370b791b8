"""Box losses, ``box_iou`` and ``box_convert`` (``arrayloss.losses.boxes``) beyond the
catalogue's matrix, one class per function with loss-specific tests, then the family:

- ``TestBoxConvert``: ``box_convert`` (not a loss, so not in the catalogue) on every backend,
  goldens, dtypes, errors and its gradient;
- ``TestBoxIou``, ``TestGiouLoss``, ``TestCiouLoss``, ``TestFocalEiouLoss``,
  ``TestCdiouLoss``: the zoo reference and MONAI's ``box_iou`` (float32 tolerance), MONAI's
  ``BoxGIoULoss`` on random pairs, integer boxes, CIoU's degenerate values, Focal-EIoU's
  reductions, the CDIoU recipe;
- ``TestBoxLossFamily``: the independent float64 references on thousands of aligned pairs
  (overlapping, nested, disjoint, identical, touching, shared corner, zero-width,
  zero-height, zero-area), which carries torchvision's semantics for GIoU/DIoU/CIoU, the
  same pairs in every format and on torch and JAX; the catalogue's gradients of row A,
  zero/non-zero gradients where the catalogue says so, finite values and gradients on
  degenerate pairs in float32 and float16; empty input, half-precision overflow, option
  checks;
- ``TestInvertedBoxes``: eager ``ValueError``, documented behaviour under ``jax.jit``;
- ``TestBoxLossProperties`` (Hypothesis): translation and scale invariance, ``0 <= L < 2``
  for GIoU/DIoU, symmetry of ``box_iou``, the three formats giving the same loss, identical
  boxes giving about 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arrayloss as al
from arrayloss.catalog import boxes as CB
from arrayloss.testing import backends
from conftest import require_backend, require_module

LOSSES = ["iou_loss", "giou_loss", "diou_loss", "ciou_loss", "eiou_loss", "focal_eiou_loss",
          "cdiou_loss"]
REFS = {"iou_loss": CB.ref_iou, "giou_loss": CB.ref_giou, "diou_loss": CB.ref_diou,
        "ciou_loss": CB.ref_ciou, "eiou_loss": CB.ref_eiou, "focal_eiou_loss": CB.ref_focal_eiou,
        "cdiou_loss": CB.ref_cdiou}
FORMATS = ("xyxy", "xywh", "cxcywh")
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _fn(name: str) -> Any:
    return getattr(al, name)


# ---------------------------------------------------------------------------------------
# a zoo of aligned pairs


def pair_zoo(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``9 n`` aligned xyxy pairs covering every geometric situation of the catalogue."""
    rng = np.random.default_rng(seed)
    parts = []
    p, t = CB.random_pairs(rng, (n,), gap=0.0)  # overlapping / partly disjoint
    parts.append((p, t))
    # nested: pred strictly inside the target, and the reverse
    lo, hi = rng.uniform(0.05, 0.45, (n, 2)), rng.uniform(0.05, 0.45, (n, 2))
    wh = t[:, 2:] - t[:, :2]
    inner = np.concatenate([t[:, :2] + lo * wh, t[:, 2:] - hi * wh], axis=1)
    parts += [(inner, t), (t, inner)]
    # disjoint: shifted by more than the union of widths
    shift = (wh + rng.uniform(0.1, 5.0, (n, 2))) * np.where(rng.uniform(size=(n, 2)) < 0.5, -1, 1)
    parts.append((t + np.concatenate([shift, shift], axis=1), t))
    parts.append((t.copy(), t))  # identical
    # touching edges (pred's x1 is the target's x2) and a shared top-left corner
    touch = t.copy()
    touch[:, 0], touch[:, 2] = t[:, 2], t[:, 2] + wh[:, 0]
    parts.append((touch, t))
    corner = np.concatenate([t[:, :2], t[:, :2] + rng.uniform(0.5, 4.0, (n, 2))], axis=1)
    parts.append((corner, t))
    # degenerate: zero width, zero height, zero area (points), against boxes and themselves
    deg = t.copy()
    k = rng.integers(0, 3, n)
    deg[:, 2] = np.where(k != 1, deg[:, 0], deg[:, 2])
    deg[:, 3] = np.where(k != 0, deg[:, 1], deg[:, 3])
    parts += [(deg, t), (deg, deg.copy())]
    return (np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts]))


ZOO = pair_zoo()


def _reference(name: str, p: np.ndarray, t: np.ndarray, fmt: str = "xyxy",
               **options: Any) -> np.ndarray:
    g = CB.geometry(p, t, fmt, options.pop("eps", 1e-7))
    return REFS[name](g, 1e-7, **options)


# ---------------------------------------------------------------------------------------
# gradients: the catalogue's row A, and degenerate pairs

ROW_A = (np.array([[0.0, 0.0, 4.0, 2.0]]), np.array([[1.0, 1.0, 3.0, 4.0]]))
GOLDEN_GRAD_A = {
    "giou_loss": [-0.0902778, 0.0069444, 0.0902778, -0.2638889],
    "diou_loss": [-0.0101997, -0.0848524, 0.0101997, -0.1857639],
    "ciou_loss": [-0.0150762, -0.0750994, 0.0150762, -0.1955169],
    "eiou_loss": [-0.1351997, 0.0713976, 0.1351997, -0.3107639],
    "cdiou_loss": [-0.0384617, -0.0777253, 0.0384617, -0.2179458],
}


def _torch_grads(name: str, p: np.ndarray, t: np.ndarray, dtype: str,
                 **options: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import torch

    pt = torch.asarray(p).to(getattr(torch, dtype)).requires_grad_(True)
    tt = torch.asarray(t).to(getattr(torch, dtype)).requires_grad_(True)
    out = _fn(name)(pt, tt, **options)
    gp, gt = torch.autograd.grad(out.sum(), [pt, tt], allow_unused=True)
    return (out.detach().float().numpy(), gp.float().numpy(), gt.float().numpy())


# degenerate pairs: identical, identical zero-area, zero height (h = 0 < w), zero width,
# disjoint, touching edges, a shared corner, nested
DEGENERATE = (
    np.array([[1.0, 1, 3, 4], [1, 1, 1, 1], [0, 1, 3, 1], [2, 0, 2, 3], [0, 0, 1, 1],
              [0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 4, 4], [1, 1, 3, 1]]),
    np.array([[1.0, 1, 3, 4], [1, 1, 1, 1], [1, 0, 2, 2], [2, 0, 2, 3], [2, 2, 3, 3],
              [1, 0, 2, 1], [0, 0, 1, 3], [1, 1, 2, 2], [1, 1, 3, 1]]),
)


# ---------------------------------------------------------------------------------------
# box_convert and Hypothesis strategies


def _conversions(boxes: Any) -> tuple[Any, ...]:
    """All six conversions from xyxy, the round trips back and the identity."""
    out = []
    for fmt in ("xywh", "cxcywh"):
        b = al.box_convert(boxes, in_fmt="xyxy", out_fmt=fmt)
        out.append(b)
        out.append(al.box_convert(b, in_fmt=fmt, out_fmt="xyxy"))
    cx = al.box_convert(boxes, in_fmt="xyxy", out_fmt="cxcywh")
    out.append(al.box_convert(cx, in_fmt="cxcywh", out_fmt="xywh"))
    out.append(al.box_convert(al.box_convert(cx, in_fmt="cxcywh", out_fmt="xywh"),
                              in_fmt="xywh", out_fmt="cxcywh"))
    out.append(al.box_convert(boxes, in_fmt="xyxy", out_fmt="xyxy"))
    return tuple(out)


_COORD = st.floats(-100.0, 100.0, allow_nan=False, allow_subnormal=False)
_SIDE = st.floats(0.5, 50.0, allow_nan=False, allow_subnormal=False)


@st.composite
def _pairs(draw: st.DrawFn, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    def boxes() -> np.ndarray:
        xy = np.array(draw(st.lists(_COORD, min_size=2 * n, max_size=2 * n))).reshape(n, 2)
        wh = np.array(draw(st.lists(_SIDE, min_size=2 * n, max_size=2 * n))).reshape(n, 2)
        return np.concatenate([xy, xy + wh], axis=1)

    return boxes(), boxes()


def _all_losses(p: np.ndarray, t: np.ndarray, **options: Any) -> dict[str, np.ndarray]:
    out = {name: _fn(name)(p, t, reduction="none", **options) for name in LOSSES}
    out["iou_loss-log"] = al.iou_loss(p, t, mode="log", reduction="none", **options)
    return out


# ---------------------------------------------------------------------------------------
# one class per function


class TestBoxConvert:
    """Not a loss, so not in the catalogue: every backend, goldens, dtypes, errors, gradient."""

    @pytest.mark.parametrize("dtype", ["float64", "float32"])
    def test_on_every_backend(self, backend: backends.Backend, dtype: str) -> None:
        p, _ = CB.random_pairs(np.random.default_rng(2), (2, 3), gap=0.0)
        conv, _ = backend.convert((p,), {}, dtype)
        with backend.context():
            outs = backend.wrap(_conversions, {})(*conv)
        wh, cx = CB.xyxy_to(p, "xywh"), CB.xyxy_to(p, "cxcywh")
        wants = (wh, p, cx, p, wh, cx, p)
        rtol, atol = (1e-12, 1e-12) if dtype == "float64" else (1e-6, 1e-5)
        for out, want in zip(outs, wants):
            assert backend.dtype_name(out) == dtype and tuple(out.shape) == p.shape
            if backend.module != "dask":
                assert backend.device_of(out) == backend.device_of(conv[0])
            np.testing.assert_allclose(backend.to_numpy(out), want, rtol=rtol, atol=atol)

    def test_golden_and_dtypes(self) -> None:
        np.testing.assert_array_equal(
            al.box_convert(np.array([2.0, 1, 4, 2]), in_fmt="cxcywh", out_fmt="xyxy"), [0, 0, 4, 2])
        np.testing.assert_array_equal(
            al.box_convert(np.array([1.0, 1, 2, 3]), in_fmt="xywh", out_fmt="xyxy"), [1, 1, 3, 4])
        ints = al.box_convert(np.array([[0, 0, 3, 2]]), in_fmt="xyxy", out_fmt="cxcywh")
        assert ints.dtype == np.float64
        np.testing.assert_array_equal(ints, [[1.5, 1.0, 3.0, 2.0]])
        half = np.array([[0.0, 0, 3, 2]], dtype=np.float16)
        assert al.box_convert(half, in_fmt="xyxy", out_fmt="xywh").dtype == np.float16
        same = np.array([[0.0, 0, 3, 2]])
        out = al.box_convert(same, in_fmt="xyxy", out_fmt="xyxy")
        assert out is not same and np.array_equal(out, same)
        inverted = np.array([[3.0, 0, 1, 2]])  # no value check: converted as written
        np.testing.assert_array_equal(al.box_convert(inverted, in_fmt="xyxy", out_fmt="xywh"),
                                      [[3.0, 0, -2, 2]])

    def test_errors(self) -> None:
        boxes = np.zeros((2, 4))
        with pytest.raises(ValueError, match=r"box_convert: `in_fmt` must be one of"):
            al.box_convert(boxes, in_fmt="ltrb", out_fmt="xyxy")
        with pytest.raises(TypeError, match=r"box_convert: `out_fmt` must be one of"):
            al.box_convert(boxes, in_fmt="xyxy", out_fmt=None)
        with pytest.raises(ValueError, match=r"box_convert: `boxes` must have shape \(\.\.\., 4\)"):
            al.box_convert(np.zeros((2, 5)), in_fmt="xyxy", out_fmt="xywh")
        with pytest.raises(TypeError, match=r"box_convert: `boxes` must be an array"):
            al.box_convert([[0.0, 0, 1, 1]], in_fmt="xyxy", out_fmt="xywh")
        with pytest.raises(TypeError, match=r"missing 2 required keyword-only arguments"):
            al.box_convert(boxes)  # type: ignore[call-arg]

    def test_gradient(self) -> None:
        backend = require_backend(backends.by_id("torch"))
        p = np.array([[0.0, 1, 4, 3]])

        def width_plus_centre(b: Any) -> Any:
            return al.box_convert(b, in_fmt="xyxy", out_fmt="cxcywh")[..., ::2]

        (g,) = backend.grad(width_plus_centre, (p,), {}, (0,))
        np.testing.assert_allclose(g, [[-0.5, 0.0, 1.5, 0.0]])


class TestBoxIou:
    def test_reference_on_thousands_of_pairs(self) -> None:
        p, t = ZOO
        np.testing.assert_allclose(al.box_iou(p, t), CB.geometry(p, t)["iou"], rtol=1e-10,
                                   atol=1e-12)

    def test_matches_monai_diagonal(self) -> None:
        require_module("monai")
        import torch
        from monai.data.box_utils import box_iou

        p, t = CB.random_pairs(np.random.default_rng(3), (300,), gap=0.0)
        p, t = np.concatenate([CB.PRED[:3], p]), np.concatenate([CB.TARGET[:3], t])
        theirs = torch.diagonal(torch.as_tensor(box_iou(torch.asarray(p), torch.asarray(t))))
        np.testing.assert_allclose(al.box_iou(p, t), theirs.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(theirs[:3].numpy(), [0.1666667, 0.0, 1.0], atol=1e-6)

    def test_pairwise_is_the_matrix_whose_diagonal_is_the_aligned_iou(self) -> None:
        p, t = CB.PRED, CB.TARGET
        m = al.box_iou(p, t, pairwise=True)
        assert m.shape == (len(p), len(t))
        np.testing.assert_array_equal(np.diagonal(m), al.box_iou(p, t))
        np.testing.assert_allclose(m[0], CB.geometry(p[:1], t)["iou"], rtol=1e-12)
        assert al.box_iou(p[:0], t, pairwise=True).shape == (0, len(t))
        assert al.box_iou(p[None], t[None, :2], pairwise=True).shape == (1, len(p), 2)

    def test_pairwise_shapes_are_checked(self) -> None:
        p, t = CB.PRED, CB.TARGET
        with pytest.raises(ValueError, match=r"box_iou: with pairwise=True .*\(\.\.\., N, 4\)"):
            al.box_iou(p[None], t, pairwise=True)
        with pytest.raises(ValueError, match="box_iou"):
            al.box_iou(p[0], t[0], pairwise=True)


class TestGiouLoss:
    def test_matches_monai_on_random_pairs(self) -> None:
        """MONAI computes in float32 with finfo(float32).eps: float32 tolerance."""
        require_module("monai")
        require_backend(backends.by_id("torch"))
        import torch
        from monai.losses import BoxGIoULoss

        p, t = ZOO
        ours = al.giou_loss(torch.asarray(p), torch.asarray(t), reduction="none")
        theirs = BoxGIoULoss(reduction="none")(torch.asarray(p), torch.asarray(t))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
        mean = al.giou_loss(torch.asarray(p, dtype=torch.float32), torch.asarray(t,
                            dtype=torch.float32))
        np.testing.assert_allclose(mean.numpy(), BoxGIoULoss()(torch.asarray(p),
                                   torch.asarray(t)).numpy(), rtol=1e-5)

    def test_integer_boxes_use_the_default_float(self) -> None:
        p, t = CB.PRED.astype(np.int64), CB.TARGET.astype(np.int32)
        out = al.giou_loss(p, t, reduction="none")
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, [1.0833333, 1.7777778, 1.7e-8, 1.0], atol=1e-7)


class TestCiouLoss:
    def test_degenerate_values(self) -> None:
        """h = 0 < w uses the angle pi/2 (torchvision's value); w = h = 0 is defined as 0."""
        p = np.array([[0.0, 1, 3, 1], [1, 1, 1, 1], [0, 0, 2, 2]])
        t = np.array([[0.0, 0, 3, 2], [1, 1, 1, 1], [0, 0, 2, 0]])
        got = al.ciou_loss(p, t, reduction="none")
        g = CB.geometry(p, t)
        v = 4 / math.pi**2 * (math.atan(1.5) - math.pi / 2) ** 2
        iou0 = g["iou"][0]
        want0 = 1 - iou0 + g["rho2"][0] / (g["c2"][0] + 1e-7) + v * v / (1 - iou0 + v + 1e-7)
        np.testing.assert_allclose(got, [want0, 1.0, _reference("ciou_loss", p, t)[2]], rtol=1e-12)


class TestFocalEiouLoss:
    def test_reductions(self) -> None:
        p, t = CB.PRED, CB.TARGET
        np.testing.assert_allclose(al.focal_eiou_loss(p, t), 0.1241224, atol=1e-7)
        np.testing.assert_allclose(al.focal_eiou_loss(p[[0, 2]], t[[0, 2]]), 0.2482447, atol=1e-7)
        for rows in ([0, 2], [0, 1, 2, 3]):
            np.testing.assert_allclose(al.focal_eiou_loss(p[rows], t[rows], normalize=True),
                                       0.3525582, atol=1e-7)
        # normalize only changes "mean"; gamma = 0 is eiou_loss
        np.testing.assert_allclose(al.focal_eiou_loss(p, t, normalize=True, reduction="sum"),
                                   al.focal_eiou_loss(p, t, reduction="sum"), rtol=1e-15)
        np.testing.assert_allclose(al.focal_eiou_loss(p, t, gamma=0.0, reduction="none"),
                                   al.eiou_loss(p, t, reduction="none"), rtol=1e-15)
        # a weighted normalised mean divides by sum(weight * IoU^gamma)
        w = np.array([2.0, 1.0, 0.5, 3.0])
        iou = al.box_iou(p, t)
        want = np.sum(w * al.focal_eiou_loss(p, t, reduction="none")) / np.sum(w * iou**0.5)
        np.testing.assert_allclose(al.focal_eiou_loss(p, t, normalize=True, weight=w), want,
                                   rtol=1e-12)

    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    def test_normalize_with_zero_weight_sum(self, backend_id: str) -> None:
        """All boxes disjoint: every IoU^gamma is 0, the normalised mean is 0 (not NaN) with zero
        gradients."""
        backend = require_backend(backends.by_id(backend_id))
        pair = (np.array([[0.0, 0, 1, 1], [5, 5, 6, 7]]), np.array([[2.0, 2, 3, 3], [0, 0, 1, 1]]))
        conv, _ = backend.convert(pair, {}, "float64")
        assert backend.to_numpy(al.focal_eiou_loss(*conv, normalize=True)) == 0.0
        (g,) = backend.grad(al.focal_eiou_loss, pair, {"normalize": True}, (0,))
        assert not np.any(g)


class TestCdiouLoss:
    def test_authors_recipe(self) -> None:
        """The docstring's recipe: GIoU loss + 0.001 * corner-distance term."""
        p, t = CB.PRED[:2], CB.TARGET[:2]
        g = CB.geometry(p, t)
        recipe = al.giou_loss(p, t, reduction="none") + 0.001 * (
            al.cdiou_loss(p, t, reduction="none") - al.iou_loss(p, t, reduction="none"))
        want = CB.ref_giou(g, 1e-7) + 0.001 * g["corners"] / (4 * np.sqrt(g["c2"]) + 1e-7)
        np.testing.assert_allclose(recipe, want, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# the family


class TestBoxLossFamily:
    """Every box loss: the references on the zoo, formats, backends, gradients, reductions."""

    @pytest.mark.parametrize("name", LOSSES)
    def test_reference_on_thousands_of_pairs(self, name: str) -> None:
        """float64 NumPy equals the independent reference on every kind of pair."""
        p, t = ZOO
        got = _fn(name)(p, t, reduction="none")
        assert got.shape == (p.shape[0],)
        np.testing.assert_allclose(got, _reference(name, p, t), rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize(("name", "options"), [
        ("iou_loss", {"mode": "log"}),
        ("focal_eiou_loss", {"gamma": 0.0}),
        ("focal_eiou_loss", {"gamma": 2.0}),
        ("cdiou_loss", {"distance_weight": 0.001}),
    ])
    def test_reference_with_options(self, name: str, options: dict) -> None:
        p, t = ZOO
        got = _fn(name)(p, t, reduction="none", **options)
        np.testing.assert_allclose(got, _reference(name, p, t, **options), rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
    @pytest.mark.parametrize("name", LOSSES)
    def test_formats_agree_on_thousands_of_pairs(self, name: str, fmt: str) -> None:
        p, t = ZOO
        want = _fn(name)(p, t, reduction="none")
        got = _fn(name)(CB.xyxy_to(p, fmt), CB.xyxy_to(t, fmt), box_format=fmt, reduction="none")
        # touching edges: the conversion's rounding leaves IoU ~ 1e-16 instead of 0, which
        # Focal-EIoU's IoU^0.5 weight turns into ~ 1e-8
        atol = 1e-7 if name == "focal_eiou_loss" else 1e-9
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=atol)

    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    def test_zoo_on_autodiff_backends(self, backend_id: str) -> None:
        """Eager torch and jitted JAX agree with NumPy on the whole zoo, in float64."""
        backend = require_backend(backends.by_id(backend_id))
        p, t = ZOO
        conv, _ = backend.convert((p, t), {}, "float64")
        for name in [*LOSSES, "box_iou"]:
            opts = {} if name == "box_iou" else {"reduction": "none"}
            got = backend.to_numpy(backend.call(_fn(name), conv, opts))
            np.testing.assert_allclose(got, _fn(name)(p, t, **opts), rtol=1e-10, atol=1e-12,
                                       err_msg=name)

    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    @pytest.mark.parametrize("name", list(GOLDEN_GRAD_A))
    def test_golden_gradient_row_a(self, name: str, backend_id: str) -> None:
        backend = require_backend(backends.by_id(backend_id))
        (g,) = backend.grad(_fn(name), ROW_A, {"reduction": "sum"}, (0,))
        np.testing.assert_allclose(g[0], GOLDEN_GRAD_A[name], rtol=1e-6, atol=1e-7)

    @pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
    @pytest.mark.parametrize("name", [*LOSSES, "box_iou"])
    def test_degenerate_pairs_have_finite_values_and_gradients(self, name: str, dtype: str) -> None:
        require_backend(backends.by_id("torch"))
        opts = {} if name == "box_iou" else {"reduction": "none"}
        out, gp, gt = _torch_grads(name, *DEGENERATE, dtype, **opts)
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(gp)) and np.all(np.isfinite(gt))
        ref = al.box_iou(*DEGENERATE) if name == "box_iou" else _reference(name, *DEGENERATE)
        np.testing.assert_allclose(out, ref, rtol=1e-3 if dtype == "float16" else 1e-6,
                                   atol=1e-3 if dtype == "float16" else 1e-6)

    @pytest.mark.parametrize("name", [*LOSSES, "box_iou"])
    def test_degenerate_pairs_jax_gradients(self, name: str) -> None:
        backend = require_backend(backends.by_id("jax"))
        opts = {} if name == "box_iou" else {"reduction": "sum"}
        for dtype in ("float64", "float32"):
            for g in backend.grad(_fn(name), DEGENERATE, opts, (0, 1), dtype=dtype):
                assert np.all(np.isfinite(g)), (name, dtype, g)

    def test_zero_and_nonzero_gradients_where_the_catalogue_says(self) -> None:
        """Disjoint boxes: IoU losses (linear and log) and Focal-EIoU have zero gradient; GIoU,
        DIoU, CIoU, EIoU and CDIoU still pull the boxes together."""
        backend = require_backend(backends.by_id("torch"))
        pair = (np.array([[0.0, 0, 1, 1]]), np.array([[2.0, 2, 3, 3]]))
        for name, opts in [("iou_loss", {}), ("iou_loss", {"mode": "log"}),
                           ("focal_eiou_loss", {})]:
            (g,) = backend.grad(_fn(name), pair, opts, (0,))
            assert not np.any(g), (name, opts, g)
        for name in ("giou_loss", "diou_loss", "ciou_loss", "eiou_loss", "cdiou_loss"):
            (g,) = backend.grad(_fn(name), pair, {}, (0,))
            assert np.all(np.isfinite(g)) and np.any(g != 0), name
        assert al.focal_eiou_loss(*pair) == 0.0

    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    def test_ciou_alpha_and_focal_weight_have_no_gradient(self, backend_id: str) -> None:
        """The gradient of CIoU is the gradient of DIoU plus alpha * dv (alpha constant), and
        Focal-EIoU's gradient is IoU^gamma times EIoU's."""
        backend = require_backend(backends.by_id(backend_id))
        p, t = CB.random_pairs(np.random.default_rng(5), (6,))
        (gc,) = backend.grad(al.ciou_loss, (p, t), {"reduction": "sum"}, (0,))
        (gd,) = backend.grad(al.diou_loss, (p, t), {"reduction": "sum"}, (0,))
        g = CB.geometry(p, t)

        def v_of(pp: np.ndarray) -> np.ndarray:
            gg = CB.geometry(pp, t)
            return 4 / np.pi**2 * (np.arctan(gg["wg"] / gg["hg"])
                                   - np.arctan(gg["w"] / gg["h"])) ** 2

        v = v_of(p)
        alpha = v / (1 - g["iou"] + v + 1e-7)
        dv = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            hi, lo = p.copy(), p.copy()
            hi[idx] += 1e-6
            lo[idx] -= 1e-6
            dv[idx] = (v_of(hi)[idx[0]] - v_of(lo)[idx[0]]) / 2e-6
        np.testing.assert_allclose(gc, gd + alpha[:, None] * dv, rtol=1e-5, atol=1e-8)
        (gf,) = backend.grad(al.focal_eiou_loss, (p, t), {"reduction": "none", "gamma": 1.5}, (0,))
        (ge,) = backend.grad(al.eiou_loss, (p, t), {"reduction": "none"}, (0,))
        np.testing.assert_allclose(gf, g["iou"][:, None] ** 1.5 * ge, rtol=1e-9, atol=1e-12)

    @pytest.mark.parametrize("name", LOSSES)
    @pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax"])
    def test_empty_input(self, name: str, backend_id: str) -> None:
        """Zero boxes: "mean" and "sum" are 0, "none" has shape (0,), gradients are zeros."""
        backend = require_backend(backends.by_id(backend_id))
        empty = (np.zeros((0, 4)), np.zeros((0, 4)))
        conv, _ = backend.convert(empty, {}, "float64")
        for reduction in ("mean", "sum"):
            assert backend.to_numpy(_fn(name)(*conv, reduction=reduction)) == 0.0
        assert tuple(_fn(name)(*conv, reduction="none").shape) == (0,)
        if backend.differentiable:
            (g,) = backend.grad(_fn(name), empty, {}, (0,))
            assert g.shape == (0, 4)

    def test_half_precision_areas_do_not_overflow(self) -> None:
        """float16 boxes of side 400 have areas above float16's max (65504): computed in float32,
        the result is exact and returned as float32."""
        p = np.array([[0.0, 0.0, 400.0, 400.0]], dtype=np.float16)
        t = np.array([[100.0, 0.0, 500.0, 400.0]], dtype=np.float16)
        for name in LOSSES:
            out = _fn(name)(p, t)
            assert out.dtype == np.float32
            want = _reference(name, p.astype(np.float64), t.astype(np.float64))[0]
            np.testing.assert_allclose(float(out), want, rtol=1e-6, err_msg=name)

    def test_bad_shapes_and_options(self) -> None:
        p, t = CB.PRED, CB.TARGET
        with pytest.raises(ValueError, match=r"giou_loss: `pred` must have shape \(\.\.\., 4\)"):
            al.giou_loss(p[:, :3], t[:, :3])
        with pytest.raises(ValueError, match=r"box_iou: `pred` must have shape"):
            al.box_iou(np.zeros(()), np.zeros(()))
        with pytest.raises(ValueError, match=r"iou_loss: `box_format` must be one of 'xyxy'"):
            al.iou_loss(p, t, box_format="XYXY")
        with pytest.raises(TypeError, match=r"focal_eiou_loss: `gamma` must be a real number"):
            al.focal_eiou_loss(p, t, gamma="2")
        with pytest.raises(ValueError, match=r"ciou_loss: `weight`"):
            al.ciou_loss(p, t, weight=np.ones(3))
        with pytest.raises(ValueError, match=r"focal_eiou_loss: `weight`"):
            al.focal_eiou_loss(p, t, weight=np.ones(3), normalize=True)


class TestInvertedBoxes:
    @pytest.mark.parametrize(("fmt", "bad"), [
        ("xyxy", [3.0, 0, 1, 2]), ("xyxy", [0.0, 2, 1, 1]), ("xywh", [0.0, 0, -1, 2]),
        ("cxcywh", [1.0, 1, 2, -2])])
    def test_raise_when_concrete(self, fmt: str, bad: list[float]) -> None:
        """An inverted ground-truth box raises; an inverted predicted box is measured (zero
        area, IoU 0)."""
        good = CB.xyxy_to(np.array([[0.0, 0, 1, 2]]), fmt)
        bad_arr = np.array([bad])
        for name in [*LOSSES, "box_iou"]:
            assert np.all(np.isfinite(_fn(name)(bad_arr, good, box_format=fmt)))
            with pytest.raises(ValueError, match=rf"{name}: `target` must hold {fmt} boxes"):
                _fn(name)(good, bad_arr, box_format=fmt)
        assert al.box_iou(bad_arr, good, box_format=fmt)[0] == 0.0
        with al.options(validate=False):
            assert np.isfinite(al.giou_loss(good, bad_arr, box_format=fmt))

    def test_under_jit_use_the_formula_as_written(self) -> None:
        """Under jax.jit the ground-truth check is skipped; an inverted box (predicted or not)
        counts zero width in areas: the values are finite and equal eager ones."""
        backend = require_backend(backends.by_id("jax"))
        p, t = np.array([[4.0, 0, 0, 2]]), np.array([[1.0, 1, 3, 4]])
        conv, _ = backend.convert((p, t), {}, "float64")
        for name in LOSSES:
            got = backend.to_numpy(backend.call(_fn(name), conv, {"reduction": "none"}))
            assert np.all(np.isfinite(got)), name
            with al.options(validate=False):
                np.testing.assert_allclose(got, _fn(name)(p, t, reduction="none"), rtol=1e-12)


class TestBoxLossProperties:
    """Hypothesis properties of every box loss (and ``box_iou``)."""

    @SETTINGS
    @given(_pairs(), st.floats(-200.0, 200.0), st.floats(-200.0, 200.0),
           st.floats(0.05, 20.0))
    def test_translation_and_scale_invariance(self, pair: tuple, dx: float, dy: float,
                                              s: float) -> None:
        """With eps = 0 every loss is exactly invariant to moving and uniformly scaling both
        boxes (the default eps only adds about eps / area)."""
        p, t = pair
        shift = np.array([dx, dy, dx, dy])
        base = _all_losses(p, t, eps=0.0)
        moved = _all_losses(p + shift, t + shift, eps=0.0)
        scaled = _all_losses(p * s, t * s, eps=0.0)
        for name in base:
            np.testing.assert_allclose(moved[name], base[name], rtol=1e-7, atol=1e-9, err_msg=name)
            np.testing.assert_allclose(scaled[name], base[name], rtol=1e-7, atol=1e-9, err_msg=name)

    @SETTINGS
    @given(_pairs())
    def test_bounds_symmetry_identity_and_formats(self, pair: tuple) -> None:
        p, t = pair
        for name in ("giou_loss", "diou_loss"):
            v = _fn(name)(p, t, reduction="none")
            assert np.all(v >= 0) and np.all(v < 2), (name, v)
        iou = al.box_iou(p, t)
        assert np.all(iou >= 0) and np.all(iou < 1)
        np.testing.assert_array_equal(iou, al.box_iou(t, p))
        for name, v in _all_losses(t, t).items():
            np.testing.assert_allclose(v, 0.0, atol=1e-6, err_msg=name)
        base = _all_losses(p, t)
        for fmt in ("xywh", "cxcywh"):
            other = _all_losses(CB.xyxy_to(p, fmt), CB.xyxy_to(t, fmt), box_format=fmt)
            for name in base:  # Focal-EIoU: see test_formats_agree_on_thousands_of_pairs
                atol = 1e-7 if name == "focal_eiou_loss" else 1e-9
                np.testing.assert_allclose(other[name], base[name], rtol=1e-9, atol=atol,
                                           err_msg=f"{name} {fmt}")
