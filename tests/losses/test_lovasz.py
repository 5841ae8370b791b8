"""Lovász losses (``arrayloss.losses.lovasz``: Lovász hinge and Lovász-Softmax) beyond the
catalogue's matrix: the catalogue examples kept out of the matrix, kornia on random inputs,
the Lovász extension against the catalogue's independent float64 reference on images with
ties, the catalogue's tie example, Berman's per-image mean of means, the contract's edge
cases, and the Hypothesis properties (tie-order invariance, channels-first =
channels-last).

The backend matrix (every backend, golden numbers, gradients, half precision, vmap) runs
these losses through their catalogue records (``arrayloss.catalog.lovasz``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arrayloss as al
from arrayloss import catalog
from arrayloss.catalog import lovasz as CL
from arrayloss.testing import backends
from conftest import (
    check_all_ignored_is_zero,
    check_catalogue_example,
    require_backend,
    require_module,
    soft_segmentation,
)
from conftest import torch_or_skip as _torch

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
GOLDEN = [pytest.param(name, case, id=f"{name}-{case.id}")
          for name, cases in CL.GOLDEN.items()
          for case in cases]


def _quantised(rng: np.random.Generator, shape: tuple[int, ...], levels: int) -> np.ndarray:
    """Values on a coarse grid: many exact ties."""
    return rng.integers(0, levels, size=shape) / levels


class TestLovaszHingeLoss:
    def test_catalogue_tie_example(self) -> None:
        # errors [0.5, 0.5, 0.2] with labels [1, 0, 1] or [0, 1, 1] give 0.4 both ways
        for labels in ([1, 0, 1], [0, 1, 1]):
            y = np.array([labels])
            logits = (1.0 - np.array([[0.5, 0.5, 0.2]])) * (2.0 * y - 1.0)  # margins as given
            np.testing.assert_allclose(al.lovasz_hinge_loss(logits, y), 0.4, rtol=1e-12)


class TestLovaszSoftmaxLoss:
    def test_berman_per_image_mean_of_means_from_none(self) -> None:
        """The documented recipe reproduces Berman's per-image mean of means (0.4427645)."""
        none = al.lovasz_softmax_loss(CL.PR, CL.LAB, per_image=True, reduction="none")
        present = np.eye(3)[CL.LAB].reshape(2, -1, 3).any(axis=1)
        per_image = (none * present).sum(1) / present.sum(1)
        np.testing.assert_allclose(per_image.mean(), 0.4427645, atol=1e-7)

    def test_perfect_prediction_is_zero_with_absent_classes(self) -> None:
        lab = np.array([[[0, 0], [2, 2]], [[2, 0], [0, 0]]])  # class 1 absent everywhere
        for per_image in (True, False):
            out = al.lovasz_softmax_loss(np.eye(3)[lab], lab, per_image=per_image,
                                         reduction="none")
            assert np.all(out == 0.0), out

    def test_option_errors_name_the_option(self) -> None:
        with pytest.raises(TypeError, match="lovasz_softmax_loss: `target` must hold integer"):
            al.lovasz_softmax_loss(np.full((1, 2, 3), 0.5), np.zeros((1, 2)))

    @SETTINGS
    @given(soft_segmentation())
    def test_channels_first_equals_channels_last(self, data: tuple) -> None:
        p, lab = data
        pf = np.moveaxis(p, -1, 1)
        for per_image in (True, False):
            a = al.lovasz_softmax_loss(p, lab, per_image=per_image, reduction="none")
            b = al.lovasz_softmax_loss(pf, lab, axis=1, per_image=per_image, reduction="none")
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


class TestLovaszFamily:
    """Both losses: catalogue examples, kornia, the reference with ties, ignored positions
    and tie-order invariance."""

    @pytest.mark.parametrize(("name", "case"), GOLDEN)
    def test_catalogue_examples(self, name: str, case) -> None:
        check_catalogue_example(name, case)

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_matches_kornia(self, seed: int) -> None:
        torch = _torch()
        require_module("kornia")
        from kornia.losses import lovasz_hinge_loss, lovasz_softmax_loss

        rng = np.random.default_rng(seed)
        lg = torch.asarray(rng.normal(size=(3, 5, 7, 6)))
        lab = torch.asarray(rng.integers(0, 5, size=(3, 7, 6)))
        ours = al.lovasz_softmax_loss(lg, lab, axis=1, activation="softmax", per_image=True,
                                      classes="all")
        np.testing.assert_allclose(ours.numpy(), lovasz_softmax_loss(lg, lab).numpy(), rtol=1e-12)
        logits = torch.asarray(rng.normal(size=(3, 7, 6)))
        y = torch.asarray(rng.integers(0, 2, size=(3, 7, 6)))
        np.testing.assert_allclose(al.lovasz_hinge_loss(logits, y).numpy(),
                                   lovasz_hinge_loss(logits[:, None], y).numpy(), rtol=1e-12)

    @pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax", "array_api_strict"])
    @pytest.mark.parametrize("per_image", [True, False])
    def test_with_ties_matches_reference(self, backend_id: str, per_image: bool) -> None:
        backend = require_backend(backends.by_id(backend_id))
        rng = np.random.default_rng(3)
        p = _quantised(rng, (3, 5, 4, 4), 4)
        p = p / p.sum(-1, keepdims=True).clip(min=1e-3)  # ties survive the normalisation
        lab = rng.integers(0, 4, size=(3, 5, 4))
        lab = np.where(rng.uniform(size=lab.shape) < 0.2, -1, lab)
        logits = np.round(rng.normal(size=(3, 5, 4)), 1)  # ties in the margins
        y = rng.integers(0, 2, size=(3, 5, 4))
        for classes in ("present", "all"):
            opts = {"per_image": per_image, "classes": classes, "ignore_index": -1,
                    "reduction": "none"}
            (cp, cl), _ = backend.convert((p, lab), {})
            got = backend.to_numpy(al.lovasz_softmax_loss(cp, cl, **opts))
            want = catalog.get("lovasz_softmax_loss").reference(p, lab, **opts)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        (cx, cy), _ = backend.convert((logits, y), {})
        got = backend.to_numpy(al.lovasz_hinge_loss(cx, cy, per_image=per_image,
                                                    reduction="none"))
        want = catalog.get("lovasz_hinge_loss").reference(logits, y, per_image=per_image,
                                                          reduction="none")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)

    @pytest.mark.parametrize("fn", [al.lovasz_softmax_loss, al.lovasz_hinge_loss])
    @pytest.mark.parametrize("backend_id", ["torch", "jax"])
    def test_all_ignored_is_zero_with_zero_gradients(self, fn, backend_id: str) -> None:
        rng = np.random.default_rng(0)
        if fn is al.lovasz_hinge_loss:
            args = (rng.normal(size=(2, 3, 3)), np.full((2, 3, 3), 255))
            opts = {"ignore_index": 255}
        else:
            args = (rng.normal(size=(2, 3, 3, 4)), np.full((2, 3, 3), 255))
            opts = {"ignore_index": 255, "activation": "softmax"}
        check_all_ignored_is_zero(fn, backend_id, args, opts)

    @SETTINGS
    @given(soft_segmentation(), st.integers(0, 2**32 - 1))
    def test_values_invariant_to_tie_order(self, data: tuple, seed: int) -> None:
        """Coarse values make many tied errors; permuting the pixels of each image reorders the
        ties inside the sort, and must not change any value."""
        p, lab = data
        p = np.round(p * 2) / 2  # values in {0, 0.5, 1}
        logits = np.round(p[..., 0] * 4 - 2)
        y = (lab == 0).astype(np.int64)
        b = p.shape[0]
        perm = np.random.default_rng(seed).permutation(p.shape[1] * p.shape[2])
        flat = (b, 1, -1)
        pp = p.reshape(b, 1, -1, p.shape[-1])[:, :, perm]
        lp = lab.reshape(flat)[:, :, perm]
        for per_image in (True, False):
            for classes in ("present", "all"):
                kw = {"per_image": per_image, "classes": classes, "reduction": "none"}
                np.testing.assert_allclose(al.lovasz_softmax_loss(pp, lp, **kw),
                                           al.lovasz_softmax_loss(p, lab, **kw),
                                           rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(
                al.lovasz_hinge_loss(logits.reshape(flat)[:, :, perm], y.reshape(flat)[:, :, perm],
                                     per_image=per_image, reduction="none"),
                al.lovasz_hinge_loss(logits, y, per_image=per_image, reduction="none"),
                rtol=1e-12, atol=1e-14)
