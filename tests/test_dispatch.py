"""Operators dispatched per call stay within a budget per loss (``arrayloss.testing.dispatch``:
ATen operators counted with a ``TorchDispatchMode`` on CPU tensors, so deterministic; on a
GPU each one is a kernel launch). A loss that gets leaner lowers its budget here; one that
grows must say why in its commit. ``python benchmarks/dispatch.py`` shows the counts next to
the framework's own loss."""

from __future__ import annotations

import pytest

from arrayloss import catalog
from arrayloss.testing import backends, dispatch
from conftest import require_backend

#: per loss: forward, forward + backward with the default options on CPU tensors (values
#: checked), then the same under the device policy (CUDA tensors: no value checks)
BUDGETS: dict[str, tuple[int, int | None, int, int | None]] = {
    "l1_loss": (3, 9, 3, 9),
    "mse_loss": (1, 4, 1, 4),
    "smooth_l1_loss": (1, 4, 1, 4),
    "huber_loss": (1, 4, 1, 4),
    "tukey_biweight_loss": (31, 59, 31, 59),
    "poisson_nll_loss": (7, 17, 4, 14),
    "gaussian_nll_loss": (14, 30, 11, 27),
    "mape_loss": (7, 15, 7, 15),
    "msle_loss": (11, 21, 8, 18),
    "log_cosh_loss": (8, 21, 8, 21),
    "box_iou": (63, 126, 53, 116),
    "iou_loss": (65, 129, 55, 119),
    "giou_loss": (75, 179, 65, 169),
    "diou_loss": (68, 181, 58, 171),
    "ciou_loss": (104, 242, 94, 232),
    "eiou_loss": (84, 227, 74, 217),
    "focal_eiou_loss": (87, 231, 77, 221),
    "cdiou_loss": (120, 303, 110, 293),
    "binary_cross_entropy": (8, 11, 10, 27),
    "binary_cross_entropy_with_logits": (5, 11, 12, 24),
    "sigmoid_focal_loss": (22, 55, 21, 53),
    "multilabel_soft_margin_loss": (15, 31, 14, 29),
    "entropy": (9, 23, 6, 20),
    "cross_entropy": (6, 12, 16, 30),
    "kl_divergence": (9, 36, 15, 33),
    "softmax_focal_loss": (29, 58, 28, 59),
    "generalized_kl_divergence": (21, 45, 18, 42),
    "nll_loss": (2, 5, 8, 17),
    "poly_cross_entropy": (20, 39, 19, 40),
    "generalized_cross_entropy": (19, 36, 18, 37),
    "linear_cross_entropy": (19, 38, 18, 39),
    "hinge_loss": (8, 17, 4, 13),
    "squared_hinge_loss": (9, 21, 5, 17),
    "ramp_loss": (9, 21, 5, 17),
    "soft_margin_loss": (8, 15, 4, 11),
    "multilabel_margin_loss": (22, 43, 17, 38),
    "multiclass_hinge_loss": (19, 42, 16, 39),
    "sparsemax_loss": (15, 34, 10, 29),
    "multiclass_sparsemax_loss": (54, 70, 53, 71),
    "center_loss": (18, 34, 15, 31),
    "update_centers": (19, None, 16, None),
    "cosine_distance_loss": (26, 61, 26, 61),
    "cosine_embedding_loss": (39, 80, 35, 76),
    "margin_ranking_loss": (9, 20, 5, 16),
    "hinge_embedding_loss": (18, 31, 14, 27),
    "triplet_margin_loss": (22, 69, 22, 69),
    "ntxent_loss": (50, 110, 50, 110),
    "circle_loss": (75, 183, 75, 183),
    "ranking_softmax_loss": (15, 27, 14, 28),
    "dice_loss": (31, 57, 25, 51),
    "jaccard_loss": (31, 58, 25, 52),
    "tversky_loss": (35, 67, 29, 61),
    "focal_tversky_loss": (42, 84, 36, 78),
    "generalized_dice_loss": (54, 89, 53, 90),
    "dice_ce_loss": (55, 99, 54, 100),
    "dice_focal_loss": (67, 135, 65, 134),
    "lovasz_hinge_loss": (31, 46, 26, 41),
    "lovasz_softmax_loss": (50, 73, 49, 74),
    "ctc_loss": (64, 86, 64, 88),
}


def test_every_timed_loss_has_a_budget() -> None:
    assert set(BUDGETS) == {r.name for r in catalog.records() if r.sized is not None}


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_operators_per_call_within_budget(name: str) -> None:
    require_backend(backends.by_id("torch"))
    c = dispatch.counts(catalog.get(name), peers=False)
    got = (c.forward, c.backward, c.device_forward, c.device_backward)
    over = [(what, g, b) for what, g, b in zip(
        ("forward", "forward+backward", "device forward", "device forward+backward"),
        got, BUDGETS[name]) if g is not None and b is not None and g > b]
    assert not over, f"{name}: more operators than its budget (what, got, budget): {over}"
    assert (c.backward is None) == (BUDGETS[name][1] is None)


def test_device_policy_reads_no_scalar() -> None:
    """Under the device policy nothing is read back, for the losses that read on CPU."""
    require_backend(backends.by_id("torch"))
    with dispatch.device_policy():
        c = dispatch.counts(catalog.get("cross_entropy"), peers=False)
    assert c.syncs == 0 and dispatch.counts(catalog.get("cross_entropy")).syncs > 0
