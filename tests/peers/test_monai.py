"""MONAI's own loss test cases, ported to arrayloss.

Every test names its source in ``Project-MONAI/MONAI`` (``tests/losses/test_dice_loss.py``,
``test_tversky_loss.py``, ``test_masked_dice_loss.py``, ``test_focal_loss.py``,
``test_giou_loss.py``, ``test_ignore_index_losses.py``). The input arrays and expected numbers
are MONAI's; the calls are arrayloss's, with MONAI's options mapped as follows.

Option mapping (MONAI -> arrayloss):

- **class axis**: MONAI is channels-first, ``(B, C, *spatial)``: every call passes ``axis=1``.
  MONAI's label targets ``(B, 1, *spatial)`` (``to_onehot_y=True``) become integer labels
  ``(B, *spatial)`` (channel axis dropped, cast to int); one-hot targets stay dense.
- **activation**: ``sigmoid=True`` -> ``activation="sigmoid"``; ``softmax=True`` ->
  ``activation="softmax"``; neither -> ``activation=None`` (probabilities). ``other_act``
  (``tanh``, ``log_softmax``) has no counterpart: arrayloss checks that probabilities lie in
  ``[0, 1]`` and raises ``ValueError`` (the tests assert this); with value checks off the
  formula is applied as is and, where the denominator stays positive, gives MONAI's number.
- **smoothing**: ``smooth_nr == smooth_dr == s`` -> ``smooth=s``; MONAI's defaults (1e-5)
  -> ``smooth=1e-5``. ``jaccard=True`` computes ``(2 TP + s) / (2 (Sp + Sg - TP) + s)``, i.e.
  ``jaccard_loss(smooth=s / 2)``. ``smooth_nr != smooth_dr`` has no counterpart: those rows
  call ``smooth=0`` and assert the float64 value of the formula computed here (and that it is
  within 1e-5 of MONAI's number, the smoothing's share).
- **batch / reduction**: ``batch=False`` (default) -> ``per_image=True``; ``batch=True`` ->
  ``per_image=False``. MONAI's ``"mean"``/``"sum"`` over (image, class) entries are
  arrayloss's; MONAI's ``"none"`` keeps singleton spatial axes, ``(B, C, 1, ...)``, arrayloss
  returns ``(B, C)``.
- **include_background=False**: with no activation or a sigmoid, channel 0 is sliced off
  ``pred`` and the dense one-hot target (exact); MONAI drops it after the activation.
- **squared_pred** -> ``squared=True``; **weight** (per class) -> ``class_weight`` for overlap
  losses, ``weight`` of shape ``(1, C, 1, 1)`` for the elementwise sigmoid focal loss.
- **FocalLoss**: ``use_softmax=False`` (default) is ``sigmoid_focal_loss`` on the dense one-hot
  target with ``alpha=None`` (MONAI's default) and the plain elementwise mean.
  ``use_softmax=True`` is ``softmax_focal_loss(axis=1)``; MONAI averages over ``N*C*H*W``
  entries where arrayloss averages over pixels (intentional), so MONAI's mean is arrayloss's
  ``"sum"`` divided by ``N*C*H*W``. MONAI's scalar softmax ``alpha=a`` is the vector
  ``[1 - a, a, ..., a]`` (arrayloss takes no scalar).
- **ignore_index** (MONAI 1.6): a sentinel outside ``[0, C)`` maps directly (integer targets).
  MONAI also accepts a valid class as ``ignore_index``; arrayloss refuses it (``ValueError``,
  intentional), and the same pixels are ignored by relabelling them with a sentinel.
  ``sigmoid_focal_loss`` has no ``ignore_index``: the mask is its ``weight`` (ignored targets
  set to 0), and MONAI's masked mean is ``reduction="weighted_mean"``.
- **MaskedDiceLoss**: its literals come from a MONAI version that masked the *logits* before
  the sigmoid (masked pixels count with p = 0.5 and target 0). Those literals are reproduced by
  feeding arrayloss the masked logits; the masking of the probabilities (MONAI 1.6) is
  arrayloss's ``ignore_index``, asserted against the formula.

Not ported (arrayloss has no counterpart): ``soft_label=True`` Dice/Tversky, the
sigmoid-and-softmax option clash, the single-channel warnings, TorchScript saving, 3-D boxes,
and the generalized Dice, Dice-CE, Dice-focal, Hausdorff, clDice, unified-focal and other
losses arrayloss lacks.
"""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss as al
from conftest import require_module
from conftest import torch_or_skip as _torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = "Project-MONAI/MONAI"

def _onehot_cf(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Channels-first one-hot ``(B, C, *spatial)`` of integer labels ``(B, *spatial)``."""
    return np.moveaxis(np.eye(num_classes)[labels], -1, 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _overlap_ref(p: np.ndarray, g: np.ndarray, *, per_image: bool, s_nr: float, s_dr: float,
                 kind: str = "dice", alpha: float = 0.5, beta: float = 0.5) -> np.ndarray:
    """Float64 formula, channels-first: 1 - score per entry, MONAI's two smoothing terms."""
    axes = tuple(range(2, p.ndim)) if per_image else (0, *range(2, p.ndim))
    tp = (p * g).sum(axes)
    sp, sg = p.sum(axes), g.sum(axes)
    if kind == "dice":
        score = (2 * tp + s_nr) / (sp + sg + s_dr)
    else:
        score = (tp + s_nr) / (tp + alpha * (sp - tp) + beta * (sg - tp) + s_dr)
    return 1.0 - score


# MONAI's shared inputs (float64 here; MONAI runs them in float32)
X_1 = np.array([[[[1.0, -1.0], [-1.0, 1.0]]]])                       # (1, 1, 2, 2) logits
T_1 = np.array([[[[1.0, 0.0], [1.0, 1.0]]]])
X_2 = np.array([[[[1.0, -1.0], [-1.0, 1.0]]], [[[1.0, -1.0], [-1.0, 1.0]]]])   # (2, 1, 2, 2)
T_2 = np.array([[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 0.0], [1.0, 0.0]]]])
SOFT = np.array([[[[0.3, 0.4], [0.7, 0.9]]], [[[1.0, 0.1], [0.5, 0.3]]]])     # (2, 1, 2, 2)
# (2, 2, 3) probabilities and their (2, 1, 3) labels
X_BG = np.array([[[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]])
L_BG = np.array([[0, 0, 1], [0, 1, 0]])                                # MONAI (2, 1, 3) labels
# (2, 2, 3) logits and their (2, 1, 3) labels
X_3 = np.array([[[-1.0, 0.0, 1.0], [1.0, 0.0, -1.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
L_3 = np.array([[1, 0, 0], [1, 1, 0]])                                 # MONAI (2, 1, 3) labels
X_TANH = np.array([[[[1.0, -0.0], [-1.0, 1.0]]], [[[1.0, -1.0], [-1.0, 1.0]]]])

D = "test_dice_loss.py::TestDiceLoss::test_shape"
TV = "test_tversky_loss.py::TestTverskyLoss::test_shape"
MD = "test_masked_dice_loss.py::TestDiceLoss::test_shape"

# (source id, loss, pred, target, arrayloss options, MONAI's expected value)
LITERAL_CASES = [
    (f"{D}_00", al.dice_loss, X_1, T_1, dict(activation="sigmoid", smooth=1e-6), 0.307576),
    (f"{D}_01", al.dice_loss, X_2, T_2, dict(activation="sigmoid", smooth=1e-4), 0.416657),
    # _02 (soft_label=True) has no counterpart; _03 is soft_label=False: plain sum(p*g)
    (f"{D}_03", al.dice_loss, SOFT, SOFT, dict(smooth=1e-4), 0.307773),
    # include_background=False: channel 0 sliced off, dense one-hot target
    (f"{D}_04", al.dice_loss, X_BG[:, 1:], _onehot_cf(L_BG, 2)[:, 1:], dict(smooth=0.0), 0.0),
    (f"{D}_05", al.dice_loss, X_3, L_3, dict(activation="sigmoid", smooth=1e-4), 0.435050),
    (f"{D}_06", al.dice_loss, X_3, L_3, dict(activation="sigmoid", smooth=1e-4, reduction="none"),
     [[0.296529, 0.415136], [0.599976, 0.428559]]),
    (f"{D}_07", al.dice_loss, X_3, L_3, dict(activation="softmax", smooth=1e-4), 0.383713),
    (f"{D}_08", al.dice_loss, X_3, L_3, dict(activation="softmax", smooth=1e-4, reduction="sum"),
     1.534853),
    (f"{D}_09", al.dice_loss, X_1, T_1, dict(activation="sigmoid", smooth=1e-6), 0.307576),
    (f"{D}_10", al.dice_loss, X_1, T_1, dict(activation="sigmoid", squared=True, smooth=1e-5),
     0.178337),
    # jaccard=True with MONAI's default smoothing 1e-5 in (2 TP + s) / (2 U + s): smooth 5e-6
    (f"{D}_11", al.jaccard_loss, X_1, T_1, dict(activation="sigmoid", smooth=5e-6), 0.470451),
    (f"{TV}_00", al.tversky_loss, X_1, T_1, dict(activation="sigmoid", smooth=1e-6), 0.307576),
    (f"{TV}_01", al.tversky_loss, X_2, T_2, dict(activation="sigmoid", smooth=1e-4), 0.416657),
    (f"{TV}_03", al.tversky_loss, SOFT, SOFT, dict(smooth=1e-4), 0.307773),
    (f"{TV}_04", al.tversky_loss, X_BG[:, 1:], _onehot_cf(L_BG, 2)[:, 1:], dict(smooth=0.0), 0.0),
    (f"{TV}_06", al.tversky_loss, X_3, L_3, dict(activation="sigmoid", smooth=1e-4), 0.435050),
    (f"{TV}_07", al.tversky_loss, X_3, L_3, dict(activation="sigmoid", per_image=False,
                                                 smooth=1e-5), 0.422979),
    (f"{TV}_08", al.tversky_loss, X_3, L_3, dict(activation="sigmoid", smooth=1e-4,
                                                 reduction="sum"), 1.74013),
    (f"{TV}_09", al.tversky_loss, X_3, L_3, dict(activation="softmax", smooth=1e-4), 0.383713),
    (f"{TV}_10", al.tversky_loss, X_3, L_3, dict(activation="softmax", smooth=1e-4,
                                                 reduction="none"),
     [[0.210961, 0.295339], [0.599952, 0.428547]]),
    (f"{TV}_11", al.tversky_loss, X_1, T_1, dict(activation="sigmoid", alpha=0.3, beta=0.7,
                                                 smooth=1e-6), 0.3589),
    (f"{TV}_12", al.tversky_loss, X_1, T_1, dict(activation="sigmoid", alpha=0.7, beta=0.3,
                                                 smooth=1e-6), 0.247366),
    # MaskedDiceLoss rows without a mask are plain DiceLoss
    (f"{MD}_4", al.dice_loss, X_3, L_3, dict(activation="sigmoid", smooth=1e-4, reduction="none"),
     [[0.296529, 0.415136], [0.599976, 0.428559]]),
    (f"{MD}_5", al.dice_loss, X_3, L_3, dict(activation="softmax", smooth=1e-4), 0.383713),
    (f"{MD}_6", al.dice_loss, X_3, L_3, dict(activation="softmax", smooth=1e-4, reduction="sum"),
     1.534853),
    (f"{MD}_7", al.dice_loss, X_1, T_1, dict(activation="sigmoid", smooth=1e-6), 0.307576),
    (f"{MD}_8", al.dice_loss, X_1, T_1, dict(activation="sigmoid", squared=True, smooth=1e-5),
     0.178337),
    (f"{MD}_9", al.jaccard_loss, X_1, T_1, dict(activation="sigmoid", smooth=5e-6), 0.470451),
]


def _as(kind: str, x):
    """``x`` as the arrays of one run: float64 or float32 NumPy, or float32 torch (integer
    labels keep their integer dtype)."""
    x = np.asarray(x)
    if kind == "numpy64" or not np.issubdtype(x.dtype, np.floating):
        out = x
    else:
        out = x.astype(np.float32)
    if kind == "torch32":
        return _torch().from_numpy(np.ascontiguousarray(out))
    return out


def _np_out(x) -> np.ndarray:
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


KINDS = ["numpy64", "numpy32", "torch32"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("fn", "pred", "target", "options", "expected"),
                         [pytest.param(*c[1:], id=c[0]) for c in LITERAL_CASES])
def test_overlap_literal(fn, pred, target, options, expected, kind) -> None:
    """Project-MONAI/MONAI tests/losses/{test_dice_loss,test_tversky_loss,
    test_masked_dice_loss}.py test_shape rows with literal expected values (MONAI's rtol),
    on float64 and float32 NumPy and float32 torch (MONAI computes in float32)."""
    got = fn(_as(kind, pred), _as(kind, target), axis=1, **options)
    assert str(got.dtype).endswith("float64" if kind == "numpy64" else "float32")
    np.testing.assert_allclose(_np_out(got), expected,
                               rtol=1e-5 if fn is not al.tversky_loss else 1e-4, atol=1e-7)


# rows whose smooth_nr != smooth_dr:
# (id, loss, pred, MONAI's other_act or None, target, options, (s_nr, s_dr), MONAI value)
UNEQUAL_SMOOTHING = [
    # tanh "probabilities" with negative entries: value checks off (see test_overlap_other_act)
    (f"{D}_15", al.dice_loss, X_TANH, np.tanh, T_2, dict(per_image=False), (0.0, 1e-4), 0.774733),
    (f"{D}_16", al.dice_loss, X_TANH, np.tanh, T_2, dict(per_image=True), (0.0, 1e-4), 0.840058),
    (f"{TV}_05", al.tversky_loss, X_BG[:, 1:], None, _onehot_cf(L_BG, 2)[:, 1:], {}, (0.0, 1e-3),
     0.000999),
    (f"{TV}_14", al.tversky_loss, X_2, np.tanh, T_2, dict(per_image=False), (0.0, 1e-3), 0.999963),
]


@pytest.mark.parametrize(("fn", "pred", "act", "target", "options", "smooths", "monai"),
                         [pytest.param(*c[1:], id=c[0]) for c in UNEQUAL_SMOOTHING])
def test_overlap_unequal_smoothing(fn, pred, act, target, options, smooths, monai) -> None:
    """Project-MONAI/MONAI tests/losses/test_dice_loss.py / test_tversky_loss.py test_shape
    rows with ``smooth_nr=0`` and ``smooth_dr > 0``: no arrayloss counterpart, so arrayloss runs
    with ``smooth=0`` and is compared with the float64 formula computed here; MONAI's number is
    that formula with its two smoothing terms, and differs only by the ``smooth_dr`` share (for
    Tversky ``_05`` the share is the whole value: a perfect prediction scores 1/(1 + 1e-3) in
    MONAI, exactly 1 here)."""
    p = pred if act is None else act(pred)
    kind = "dice" if fn is al.dice_loss else "tversky"
    per_image = options.get("per_image", True)
    expected = _overlap_ref(p, target, per_image=per_image, s_nr=0.0, s_dr=0.0, kind=kind).mean()
    with_monai_smoothing = _overlap_ref(p, target, per_image=per_image, s_nr=smooths[0],
                                        s_dr=smooths[1], kind=kind).mean()
    np.testing.assert_allclose(with_monai_smoothing, monai, rtol=1e-4, atol=1e-6)
    assert abs(expected - monai) < 1.1e-3
    with al.options(validate=False):
        got = np.asarray(fn(p, target, axis=1, smooth=0.0, **options))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


OTHER_ACT = [
    # (id, loss, MONAI's other_act as NumPy, pred, target, options, MONAI value or None)
    (f"{D}_12", al.dice_loss, np.tanh, X_2, T_2, dict(smooth=1e-4), 0.999963),
    (f"{D}_14", al.dice_loss, np.tanh, X_TANH, T_2, dict(smooth=1e-4, per_image=False), 0.774718),
    (f"{TV}_13", al.tversky_loss, np.tanh, X_2, T_2, dict(smooth=1e-4), 0.999963),
    (f"{D}_13", al.dice_loss, "log_softmax", X_3, L_3, dict(smooth=1e-4), None),
    (f"{D}_17", al.dice_loss, "log_softmax", X_3, L_3,
     dict(smooth=1e-4, class_weight=[0.0, 1.0]), None),
    (f"{TV}_15", al.tversky_loss, "log_softmax", X_3, L_3, dict(smooth=1e-4), None),
]


def _log_softmax_cf(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


@pytest.mark.parametrize(("fn", "act", "pred", "target", "options", "monai"),
                         [pytest.param(*c[1:], id=c[0]) for c in OTHER_ACT])
def test_overlap_other_act(fn, act, pred, target, options, monai) -> None:
    """Project-MONAI/MONAI tests/losses/test_dice_loss.py / test_tversky_loss.py test_shape
    rows with ``other_act`` (tanh, log_softmax): arrayloss has no such option and refuses
    "probabilities" outside [0, 1] (intentional: the user passed logits). For tanh the
    denominator stays positive, so with value checks off the formula gives MONAI's number;
    MONAI's negative log_softmax "losses" (-8.52, -8.27) have no meaning and are not asserted."""
    p = _log_softmax_cf(pred) if act == "log_softmax" else act(pred)
    with pytest.raises(ValueError, match="pred"):
        fn(p, target, axis=1, **options)
    if monai is not None:
        with al.options(validate=False):
            got = np.asarray(fn(p, target, axis=1, **options))
        np.testing.assert_allclose(got, monai, rtol=1e-4)


MASKED = [
    # (id, pred logits, target, mask, smooth, literal)
    (f"{MD}_0", X_1, T_1, np.array([[[[0.0, 0.0], [1.0, 1.0]]]]), 1e-6, 0.500),
    (f"{MD}_1", X_2, T_2, np.array([[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 1.0], [0.0, 0.0]]]]),
     1e-4, 0.422969),
]


@pytest.mark.parametrize(("pred", "target", "mask", "smooth", "literal"),
                         [pytest.param(*c[1:], id=c[0]) for c in MASKED])
def test_masked_dice_binary(pred, target, mask, smooth, literal) -> None:
    """Project-MONAI/MONAI tests/losses/test_masked_dice_loss.py TestDiceLoss test_shape rows
    0 and 1 (sigmoid, a spatial mask). The literal comes from masking the logits before the
    sigmoid (a masked pixel counts with p = 0.5, target 0): arrayloss on the masked logits
    reproduces it. Masking the region out of the loss is ``ignore_index``: a label 255 at masked
    pixels, compared with the formula over the unmasked pixels."""
    got = np.asarray(al.dice_loss(pred * mask, target * mask, axis=1, activation="sigmoid",
                                  smooth=smooth))
    np.testing.assert_allclose(got, literal, rtol=1e-5)
    labels = np.where(mask > 0, target, 255).astype(np.int64)
    expected = _overlap_ref(_sigmoid(pred) * mask, target * mask, per_image=True, s_nr=smooth,
                            s_dr=smooth).mean()
    got = np.asarray(al.dice_loss(pred, labels, axis=1, activation="sigmoid", smooth=smooth,
                                  ignore_index=255))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_masked_dice_include_background_false() -> None:
    """Project-MONAI/MONAI tests/losses/test_masked_dice_loss.py TestDiceLoss test_shape_2:
    include_background=False, labels, no activation, mask [[1, 1, 1]], [[0, 1, 0]]; a perfect
    prediction of the foreground gives 0 with the mask applied or with the masked pixels
    ignored."""
    mask = np.array([[[1.0, 1.0, 1.0]], [[0.0, 1.0, 0.0]]])
    fg = _onehot_cf(L_BG, 2)[:, 1:]
    got = al.dice_loss(X_BG[:, 1:] * mask, fg * mask, axis=1, smooth=0.0)
    np.testing.assert_allclose(np.asarray(got), 0.0, atol=1e-12)
    ignored = np.where(mask > 0, fg, 255).astype(np.int64)
    got = al.dice_loss(X_BG[:, 1:], ignored, axis=1, smooth=0.0, ignore_index=255)
    np.testing.assert_allclose(np.asarray(got), 0.0, atol=1e-12)


def test_masked_dice_labels_sigmoid() -> None:
    """Project-MONAI/MONAI tests/losses/test_masked_dice_loss.py TestDiceLoss test_shape_3:
    labels, sigmoid, mask [[1, 1, 0]] shared by the batch, literal 0.47033. The literal masks
    the logits (p = 0.5 at the masked pixel) and the labels (masked label 0 = background):
    reproduced by arrayloss on those arrays. Ignoring the masked pixel (label 255) is compared
    with the formula over the two unmasked pixels."""
    mask = np.array([[[1.0, 1.0, 0.0]]])
    masked_labels = (L_3 * mask[:, 0]).astype(np.int64)
    got = al.dice_loss(X_3 * mask, masked_labels, axis=1, activation="sigmoid", smooth=1e-4)
    np.testing.assert_allclose(np.asarray(got), 0.47033, rtol=1e-5)
    labels = np.where(mask[:, 0] > 0, L_3, 255)
    p, g = _sigmoid(X_3[..., :2]), _onehot_cf(L_3[:, :2], 2)   # the two unmasked pixels
    expected = _overlap_ref(p, g, per_image=True, s_nr=1e-4, s_dr=1e-4).mean()
    got = al.dice_loss(X_3, labels, axis=1, activation="sigmoid", smooth=1e-4, ignore_index=255)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10)


@pytest.mark.parametrize("fn", [al.dice_loss, al.tversky_loss], ids=[
    "test_dice_loss.py::TestDiceLoss::test_ill_shape",
    "test_tversky_loss.py::TestTverskyLoss::test_ill_shape"])
def test_overlap_ill_shape(fn) -> None:
    """Project-MONAI/MONAI tests/losses/test_dice_loss.py::TestDiceLoss::test_ill_shape (also
    test_tversky_loss.py, test_masked_dice_loss.py): pred (1, 2, 3) with target (4, 5, 6) is an
    error (MONAI: AssertionError; arrayloss: ValueError naming both shapes)."""
    with pytest.raises(ValueError, match=r"\(4, 5, 6\)"):
        fn(np.ones((1, 2, 3)), np.ones((4, 5, 6)), axis=1)
    if fn is al.tversky_loss:  # the Tversky test also passes (2, 2, 3)
        with pytest.raises(ValueError, match=r"\(4, 5, 6\)"):
            fn(np.ones((2, 2, 3)), np.ones((4, 5, 6)), axis=1)


@pytest.mark.parametrize("fn", [al.dice_loss, al.tversky_loss, al.sigmoid_focal_loss], ids=[
    "test_dice_loss.py::TestDiceLoss::test_ill_opts",
    "test_tversky_loss.py::TestTverskyLoss::test_ill_shape",
    "test_focal_loss.py::TestFocalLoss::test_ill_opts"])
@pytest.mark.parametrize("reduction", ["unknown", None])
def test_ill_reduction(fn, reduction) -> None:
    """Project-MONAI/MONAI tests/losses/test_dice_loss.py::TestDiceLoss::test_ill_opts,
    test_tversky_loss.py::TestTverskyLoss::test_ill_shape, test_focal_loss.py::TestFocalLoss::
    test_ill_opts: reduction "unknown" or None is refused. MONAI raises ValueError for both;
    arrayloss raises ValueError for an unknown string and TypeError for a non-string (its
    documented option-check rule), both naming ``reduction``."""
    kw = {} if fn is al.sigmoid_focal_loss else {"axis": 1}
    error = ValueError if isinstance(reduction, str) else TypeError
    with pytest.raises(error, match="reduction"):
        fn(np.ones((1, 1, 3)), np.ones((1, 1, 3)), reduction=reduction, **kw)


# ---------------------------------------------------------------------------------------
# FocalLoss

F_X = np.array([[[[1.0, 1.0], [0.5, 0.0]], [[1.0, 1.0], [0.5, 0.0]], [[1.0, 1.0], [0.5, 0.0]]]])
F_L = np.array([[[0, 1], [2, 0]]])         # MONAI (1, 1, 2, 2) labels
F_OH = _onehot_cf(F_L, 3)
FR = "test_focal_loss.py::TestFocalLoss::test_result"


@pytest.mark.parametrize(("pred", "target", "options", "expected"), [
    pytest.param(F_X, F_OH, {}, 0.34959, id=f"{FR}_0"),
    pytest.param(F_X, F_OH, {}, 0.34959, id=f"{FR}_1"),  # to_onehot_y=False, the same target
    pytest.param(F_X[:, 1:], F_OH[:, 1:], {}, 0.36498, id=f"{FR}_2"),  # include_background=False
    pytest.param(F_X, F_OH, {"alpha": 0.8}, 0.08423, id=f"{FR}_3"),
    pytest.param(F_X, F_OH, {"reduction": "none"},
                 [[[[0.02266, 0.70187], [0.37741, 0.17329]],
                   [[0.70187, 0.02266], [0.37741, 0.17329]],
                   [[0.70187, 0.70187], [0.06757, 0.17329]]]], id=f"{FR}_4"),
    pytest.param(F_X, F_OH, {"reduction": "none",
                             "weight": np.array([0.5, 0.1, 0.2]).reshape(1, 3, 1, 1)},
                 [[[[0.01133, 0.35093], [0.18871, 0.08664]],
                   [[0.07019, 0.00227], [0.03774, 0.01733]],
                   [[0.14037, 0.14037], [0.01352, 0.03466]]]], id=f"{FR}_5"),
])
@pytest.mark.parametrize("kind", KINDS)
def test_sigmoid_focal_literal(pred, target, options, expected, kind) -> None:
    """Project-MONAI/MONAI tests/losses/test_focal_loss.py::TestFocalLoss::test_result rows
    0-5 (sigmoid focal, gamma 2, MONAI's default alpha None; per-class weight as a broadcast
    ``weight``), float64/float32 NumPy and float32 torch."""
    options = {"alpha": None, **options}
    if "weight" in options:
        options["weight"] = _as(kind, options["weight"])
    got = al.sigmoid_focal_loss(_as(kind, pred), _as(kind, target), **options)
    np.testing.assert_allclose(_np_out(got), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("alpha", "expected"), [
    pytest.param(None, 0.16276, id=f"{FR}_6"),
    pytest.param([0.2, 0.8, 0.8], 0.08138, id=f"{FR}_7"),  # MONAI alpha=0.8
])
@pytest.mark.parametrize("kind", KINDS)
def test_softmax_focal_literal(alpha, expected, kind) -> None:
    """Project-MONAI/MONAI tests/losses/test_focal_loss.py::TestFocalLoss::test_result rows 6
    and 7 (use_softmax=True). MONAI's mean runs over N*C*H*W entries: arrayloss's "sum"
    divided by that count equals it; arrayloss's "mean" (per pixel, intentional) is C times
    MONAI's."""
    x, lab = _as(kind, F_X), _as(kind, F_L)
    total = al.softmax_focal_loss(x, lab, axis=1, alpha=alpha, reduction="sum")
    np.testing.assert_allclose(_np_out(total) / F_X.size, expected, rtol=1e-4, atol=1e-4)
    mean = al.softmax_focal_loss(x, lab, axis=1, alpha=alpha)
    np.testing.assert_allclose(_np_out(mean), 3 * expected, rtol=1e-4, atol=3e-4)


def _bce_reference(torch, x, y, reduction):
    return torch.nn.functional.binary_cross_entropy_with_logits(x, y, reduction=reduction)


@pytest.mark.parametrize(("case", "reduction"), [
    pytest.param("dense", "mean",
                 id="test_focal_loss.py::TestFocalLoss::test_consistency_with_cross_entropy_2d"),
    pytest.param("dense", "none", id="test_focal_loss.py::TestFocalLoss::"
                                     "test_consistency_with_cross_entropy_2d_no_reduction"),
    pytest.param("labels", "mean", id="test_focal_loss.py::TestFocalLoss::"
                                      "test_consistency_with_cross_entropy_2d_onehot_label"),
    pytest.param("classification", "mean", id="test_focal_loss.py::TestFocalLoss::"
                                              "test_consistency_with_cross_entropy_classification"),
])
def test_focal_gamma0_is_bce(case, reduction) -> None:
    """Project-MONAI/MONAI tests/losses/test_focal_loss.py::TestFocalLoss::
    test_consistency_with_cross_entropy_* : with gamma 0 (and alpha None) the sigmoid focal
    loss is BCE-with-logits (torch's, as MONAI's test), dense or one-hot targets. One seeded
    batch of 16 instead of 100 batches of 128."""
    torch = _torch()
    gen = torch.Generator().manual_seed(0)
    shape = (16, 10) if case == "classification" else (16, 10, 8, 4)
    x = torch.rand(*shape, generator=gen, dtype=torch.float64)
    if case == "dense":
        y = torch.randint(0, 2, shape, generator=gen).to(torch.float64)
    else:
        lab = torch.randint(0, 10, (shape[0], *shape[2:]), generator=gen)
        y = torch.movedim(torch.nn.functional.one_hot(lab, 10), -1, 1).to(torch.float64)
    got = al.sigmoid_focal_loss(x, y, alpha=None, gamma=0.0, reduction=reduction)
    ref = _bce_reference(torch, x, y, reduction)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


def test_focal_gamma01_differs_from_bce() -> None:
    """Project-MONAI/MONAI tests/losses/test_focal_loss.py::TestFocalLoss::
    test_consistency_with_cross_entropy_classification_01: with gamma 0.1 the focal loss
    differs from BCE by more than 5e-4 (not almost equal to 3 places)."""
    torch = _torch()
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(128, 10, generator=gen, dtype=torch.float64)
    lab = torch.randint(0, 10, (128,), generator=gen)
    y = torch.nn.functional.one_hot(lab, 10).to(torch.float64)
    got = al.sigmoid_focal_loss(x, y, alpha=None, gamma=0.1)
    ref = _bce_reference(torch, x, y, "mean")
    assert abs(float(got) - float(ref)) >= 5e-4


def _very_good(labels: np.ndarray, num_classes: int, scale: float) -> np.ndarray:
    return scale * _onehot_cf(labels, num_classes) - scale / 2


_SEG_2D_BIN = np.array([[[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]])
_SEG_2D_EMPTY = np.zeros((1, 4, 4), dtype=np.int64)
_SEG_2D_MULTI = np.array([[[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]]])
_SEG_3D_BIN = np.repeat(_SEG_2D_BIN[:, None], 3, axis=1)       # (1, 3, 4, 4)


@pytest.mark.parametrize(("labels", "num_classes", "scale"), [
    pytest.param(_SEG_2D_BIN, 2, 100.0, id="test_focal_loss.py::TestFocalLoss::test_bin_seg_2d"),
    pytest.param(_SEG_2D_EMPTY, 2, 1000.0,
                 id="test_focal_loss.py::TestFocalLoss::test_empty_class_2d"),
    pytest.param(_SEG_2D_MULTI, 6, 1000.0,
                 id="test_focal_loss.py::TestFocalLoss::test_multi_class_seg_2d"),
    pytest.param(_SEG_3D_BIN, 2, 1000.0, id="test_focal_loss.py::TestFocalLoss::test_bin_seg_3d"),
])
@pytest.mark.parametrize("use_softmax", [False, True], ids=["sigmoid", "softmax"])
def test_focal_very_good_prediction(labels, num_classes, scale, use_softmax) -> None:
    """Project-MONAI/MONAI tests/losses/test_focal_loss.py::TestFocalLoss::test_bin_seg_2d,
    test_empty_class_2d, test_multi_class_seg_2d, test_bin_seg_3d: logits +-scale/2 on the
    one-hot target give a loss ~0 (3 places), with and without alpha 0.5, for labels and one-hot
    targets. MONAI's softmax alpha 0.5 is the vector [0.5, 0.5, ...]."""
    pred = _very_good(labels, num_classes, scale)
    onehot = _onehot_cf(labels, num_classes)
    values = []
    if use_softmax:
        for alpha in (None, [0.5] * num_classes):
            values.append(al.softmax_focal_loss(pred, labels, axis=1, alpha=alpha))
            values.append(al.softmax_focal_loss(pred, onehot, axis=1, alpha=alpha))
    else:
        for alpha in (None, 0.5):
            values.append(al.sigmoid_focal_loss(pred, onehot, alpha=alpha))
    for v in values:
        assert np.isfinite(np.asarray(v))
        assert abs(float(v)) < 5e-4


def test_focal_foreground() -> None:
    """Project-MONAI/MONAI tests/losses/test_focal_loss.py::TestFocalLoss::test_foreground:
    logits equal to a background/foreground one-hot with one pixel swapped in the target:
    0.1116 with the background channel, 0.1733 without (sigmoid, alpha None)."""
    inp = np.concatenate([np.ones((1, 1, 5, 5)), np.zeros((1, 1, 5, 5))], axis=1)
    target = inp.copy()
    target[:, 0, 2, 2] = 0.0
    target[:, 1, 2, 2] = 1.0
    fgbg = al.sigmoid_focal_loss(inp, target, alpha=None)
    fg = al.sigmoid_focal_loss(inp[:, 1:], target[:, 1:], alpha=None)
    assert float(fgbg) == pytest.approx(0.1116, abs=5e-4)
    assert float(fg) == pytest.approx(0.1733, abs=5e-4)


def test_focal_ill_shape() -> None:
    """Project-MONAI/MONAI tests/losses/test_focal_loss.py::TestFocalLoss::test_ill_shape:
    pred (1, 2, 3) with target (1, 3) raises ValueError."""
    with pytest.raises(ValueError, match=r"\(1, 3\)"):
        al.sigmoid_focal_loss(np.ones((1, 2, 3)), np.ones((1, 3)))


def test_focal_ill_class_weight() -> None:
    """Project-MONAI/MONAI tests/losses/test_focal_loss.py::TestFocalLoss::test_ill_class_weight:
    class weights of the wrong length (3 for 4 classes; 4 for the 3 foreground classes) or a
    negative weight raise ValueError (arrayloss: ``softmax_focal_loss(class_weight=...)``)."""
    pred = np.ones((1, 4, 3, 3))
    labels = np.zeros((1, 3, 3), dtype=np.int64)
    with pytest.raises(ValueError, match="class_weight"):
        al.softmax_focal_loss(pred, labels, axis=1, class_weight=[1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="class_weight"):  # include_background=False: 3 left
        al.softmax_focal_loss(pred[:, 1:], labels, axis=1, class_weight=[1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="class_weight"):
        al.softmax_focal_loss(pred[:, 1:], labels, axis=1, class_weight=[1.0, 1.0, -1.0])


# ---------------------------------------------------------------------------------------
# BoxGIoULoss


def test_giou_identical_boxes() -> None:
    """Project-MONAI/MONAI tests/losses/test_giou_loss.py::TestGIoULoss::test_result_0 (and
    test_with_cuda, on the CPU): identical 2-D boxes [1, 1, 2, 2] give 0 (atol 1e-4). The 3-D
    row (6 coordinates) has no counterpart."""
    box = np.array([[1.0, 1.0, 2.0, 2.0]])
    np.testing.assert_allclose(np.asarray(al.giou_loss(box, box)), 0.0, atol=1e-4)
    box32 = box.astype(np.float32)
    np.testing.assert_allclose(np.asarray(al.giou_loss(box32, box32)), 0.0, atol=1e-4)


def test_giou_ill_shape() -> None:
    """Project-MONAI/MONAI tests/losses/test_giou_loss.py::TestGIoULoss::test_ill_shape:
    (1, 2, 3) against (1, 1, 2, 3) raises ValueError (also not boxes of 4 coordinates)."""
    with pytest.raises(ValueError):
        al.giou_loss(np.ones((1, 2, 3)), np.ones((1, 1, 2, 3)))


# ---------------------------------------------------------------------------------------
# ignore_index (MONAI 1.6)

IG = "test_ignore_index_losses.py::TestIgnoreIndexLosses"
_BIN_IGNORED = np.array([[[[1, 0, 1, 0], [0, 1, 0, 1], [255] * 4, [255] * 4]]])   # (1, 1, 4, 4)
_BIN_IGNORED_COLS = np.array([[[[1, 0, 255, 255], [0, 1, 255, 255], [0, 1, 255, 255],
                                [0, 1, 255, 255]]]])


def _binary_call(name: str, pred: np.ndarray, target: np.ndarray, reduction: str = "mean"):
    """MONAI's sigmoid losses with ignore_index=255 on a (B, 1, H, W) target, mapped."""
    if name == "FocalLoss":  # no ignore_index: the mask is the weight, ignored targets -> 0
        valid = target != 255
        return al.sigmoid_focal_loss(pred, np.where(valid, target, 0).astype(np.float64),
                                     alpha=None, weight=valid.astype(np.float64),
                                     reduction=reduction)
    fn = al.dice_loss if name == "DiceLoss" else al.tversky_loss
    return fn(pred, target, axis=1, activation="sigmoid", smooth=1e-5, ignore_index=255,
              reduction=reduction)


@pytest.mark.parametrize("name", ["DiceLoss", "FocalLoss", "TverskyLoss"])
@pytest.mark.parametrize(("test", "target", "region", "shift"), [
    pytest.param("test_loss_ignore_consistency", _BIN_IGNORED, (slice(2, None), slice(None)),
                 5.0, id=f"{IG}::test_loss_ignore_consistency"),
    pytest.param("test_loss_ignore_masked_mean", _BIN_IGNORED_COLS, (slice(None), slice(2, None)),
                 10.0, id=f"{IG}::test_loss_ignore_masked_mean"),
])
def test_ignore_binary_invariance(name, test, target, region, shift) -> None:
    """Project-MONAI/MONAI tests/losses/test_ignore_index_losses.py::TestIgnoreIndexLosses::
    test_loss_ignore_consistency / test_loss_ignore_masked_mean (Dice, Focal, Tversky; sigmoid):
    changing the logits of ignored pixels changes nothing (atol 1e-5), and the loss is finite
    (test_no_ignore_behavior). Seeded normal logits instead of torch.randn."""
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    x_alt = x.copy()
    x_alt[0, 0][region] += shift
    base = np.asarray(_binary_call(name, x, target))
    alt = np.asarray(_binary_call(name, x_alt, target))
    assert np.isfinite(base)
    np.testing.assert_allclose(alt, base, atol=1e-5, rtol=1e-5)
    plain = _binary_call(name, x, np.where(target == 255, 0, target))
    assert np.isfinite(np.asarray(plain))


@pytest.mark.parametrize("name", ["DiceLoss", "FocalLoss", "TverskyLoss"])
def test_ignore_binary_matches_monai(name) -> None:
    """Project-MONAI/MONAI tests/losses/test_ignore_index_losses.py::TestIgnoreIndexLosses::
    test_loss_ignore_masked_mean, checked by value against the installed MONAI: the masked
    Dice/Tversky statistics, and the focal loss averaged over the non-ignored pixels (MONAI's
    masked mean = arrayloss ``reduction="weighted_mean"`` with the mask as weight)."""
    require_module("monai")
    torch = _torch()
    import monai.losses as ml

    x = np.random.default_rng(1).standard_normal((1, 1, 4, 4))
    t = _BIN_IGNORED_COLS
    cls = {"DiceLoss": ml.DiceLoss, "FocalLoss": ml.FocalLoss, "TverskyLoss": ml.TverskyLoss}[name]
    kw = {"use_softmax": False} if name == "FocalLoss" else {"sigmoid": True}
    ref = float(cls(ignore_index=255, **kw)(torch.tensor(x), torch.tensor(t, dtype=torch.float64)))
    reduction = "weighted_mean" if name == "FocalLoss" else "mean"
    got = np.asarray(_binary_call(name, x, t, reduction=reduction))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


def _softmax_call(name: str, pred: np.ndarray, labels: np.ndarray, ignore_index: int):
    if name == "FocalLoss":
        return al.softmax_focal_loss(pred, labels, axis=1, ignore_index=ignore_index)
    fn = al.dice_loss if name == "DiceLoss" else al.tversky_loss
    return fn(pred, labels, axis=1, activation="softmax", smooth=1e-5, ignore_index=ignore_index)


@pytest.mark.parametrize("name", ["DiceLoss", "FocalLoss", "TverskyLoss"])
@pytest.mark.parametrize("ignore_index", [0, 1])
def test_ignore_class_index(name, ignore_index) -> None:
    """Project-MONAI/MONAI tests/losses/test_ignore_index_losses.py::TestIgnoreIndexLosses::
    test_loss_ignore_class_index (softmax, to_onehot_y; ignore_index 0 or 1, a valid class).
    arrayloss refuses a valid class as ``ignore_index`` (intentional: ValueError); ignoring the
    pixels of that class is a relabel to a sentinel, and then shifting the ignored channel's
    logits on those pixels changes nothing."""
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 4))
    labels = np.zeros((1, 4, 4), dtype=np.int64)
    labels[:, 2:, :] = 1
    with pytest.raises(ValueError, match="ignore_index"):
        _softmax_call(name, x, labels, ignore_index)
    rows = slice(0, 2) if ignore_index == 0 else slice(2, 4)
    x_alt = x.copy()
    x_alt[:, ignore_index, rows, :] += 5.0
    relabelled = np.where(labels == ignore_index, 255, labels)
    base = np.asarray(_softmax_call(name, x, relabelled, 255))
    alt = np.asarray(_softmax_call(name, x_alt, relabelled, 255))
    assert np.isfinite(base)
    np.testing.assert_allclose(alt, base, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["DiceLoss", "FocalLoss", "TverskyLoss"])
def test_ignore_sentinel_onehot(name) -> None:
    """Project-MONAI/MONAI tests/losses/test_ignore_index_losses.py::TestIgnoreIndexLosses::
    test_loss_ignore_sentinel_onehot (softmax, 3 classes, sentinel 255 in the bottom rows):
    shifting channel 1's logits on the ignored rows changes nothing; the value equals the
    installed MONAI's (whose masked softmax-focal mean is per valid pixel, as arrayloss's)."""
    x = np.random.default_rng(3).standard_normal((1, 3, 4, 4))
    labels = _BIN_IGNORED[:, 0]
    x_alt = x.copy()
    x_alt[:, 1, 2:, :] += 5.0
    base = np.asarray(_softmax_call(name, x, labels, 255))
    alt = np.asarray(_softmax_call(name, x_alt, labels, 255))
    np.testing.assert_allclose(alt, base, atol=1e-5, rtol=1e-5)
    require_module("monai")
    torch = _torch()
    import monai.losses as ml

    cls = {"DiceLoss": ml.DiceLoss, "FocalLoss": ml.FocalLoss, "TverskyLoss": ml.TverskyLoss}[name]
    kw = {"use_softmax": True} if name == "FocalLoss" else {"softmax": True}
    ref = float(cls(ignore_index=255, to_onehot_y=True, **kw)(torch.tensor(x),
                                                              torch.tensor(labels[:, None])))
    np.testing.assert_allclose(base, ref, rtol=1e-5, atol=1e-7)


def test_ignore_zero_contribution() -> None:
    """Project-MONAI/MONAI tests/losses/test_ignore_index_losses.py::TestIgnoreIndexLosses::
    test_loss_ignore_zero_contribution: sigmoid focal, one-hot of labels with sentinel 255,
    zero logits, "none": ignored pixels give exactly 0 in every channel, the others
    0.25 * log 2 = 0.1732868 (arrayloss: the mask as ``weight``); the softmax form with
    ``ignore_index`` gives 0 there too."""
    labels = np.array([[[255, 0, 1, 0], [1, 255, 0, 1]]])
    valid = labels != 255
    onehot = _onehot_cf(np.where(valid, labels, 0), 3) * valid[:, None]
    got = np.asarray(al.sigmoid_focal_loss(np.zeros((1, 3, 2, 4)), onehot, alpha=None,
                                           weight=valid[:, None].astype(np.float64),
                                           reduction="none"))
    expected = np.where(valid[:, None], 0.25 * np.log(2.0), 0.0) * np.ones((1, 3, 1, 1))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    got = np.asarray(al.softmax_focal_loss(np.zeros((1, 3, 2, 4)), labels, axis=1,
                                           ignore_index=255, reduction="none"))
    assert got.shape == (1, 2, 4)
    assert np.all(got[~valid] == 0.0) and np.all(got[valid] > 0.0)
