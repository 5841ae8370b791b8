"""Catalogue records of the binary losses (``arrayloss.losses.binary``): binary
cross-entropy on probabilities and on logits, the sigmoid focal loss and the multi-label
soft-margin loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed, yardstick
from . import _figures as FIG
from ._classes import (
    Arrays,
    _arrays,
    _binary_bad_shape,
    _class_axis,
    _const,
    _no,
    _reduce_any,
    _uniform,
)

_Z = np.array([2.0, -1.0, 0.5, -3.0])


_Y = np.array([1.0, 0.0, 0.0, 1.0])


def _rand_binary_probs(shape: tuple[int, ...], hard: bool = False) -> Callable[..., Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        p = rng.uniform(0.05, 0.95, size=shape)
        y = (rng.uniform(size=shape) < 0.5).astype(np.float64) if hard else \
            rng.uniform(size=shape)
        return p, y

    return make


def _rand_binary_logits(shape: tuple[int, ...], hard: bool = False) -> Callable[..., Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        z = rng.normal(size=shape) * 3.0
        y = (rng.uniform(size=shape) < 0.5).astype(np.float64) if hard else \
            rng.uniform(size=shape)
        return z, y

    return make


def _empty_binary(rng: np.random.Generator) -> Arrays:
    return np.zeros((0,)), np.zeros((0,))


def _sized_binary(rng: np.random.Generator, n: int) -> Arrays:
    return rng.normal(size=(n,)), (rng.uniform(size=(n,)) < 0.5).astype(np.float64)


def _sized_binary_probs(rng: np.random.Generator, n: int) -> Arrays:
    return rng.uniform(0.01, 0.99, size=(n,)), (rng.uniform(size=(n,)) < 0.5).astype(np.float64)


def _perfect_binary_probs(args: Arrays) -> Arrays:
    y = np.round(args[1])
    return y, y


def _ref_binary(logits: bool) -> Callable[..., np.ndarray]:
    def ref(pred: np.ndarray, target: np.ndarray, *, pos_weight: Any = None,
            label_smoothing: float = 0.0, reduction: str = "mean",
            weight: np.ndarray | None = None) -> np.ndarray:
        y = target * (1 - label_smoothing) + 0.5 * label_smoothing
        pw = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
        if logits:
            log_p, log_1mp = -np.logaddexp(0.0, -pred), -np.logaddexp(0.0, pred)
        else:
            q = np.clip(pred, np.finfo(np.float64).eps, 1 - np.finfo(np.float64).eps)
            log_p, log_1mp = np.log(q), np.log(1 - q)
        return np_reduce(-(pw * y * log_p + (1 - y) * log_1mp), reduction, weight)

    return ref


def _ref_sigmoid_focal(pred: np.ndarray, target: np.ndarray, *, alpha: float | None = 0.25,
                       gamma: float = 2.0, pos_weight: Any = None,
                       label_smoothing: float = 0.0, reduction: str = "mean",
                       weight: np.ndarray | None = None) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-pred))
    target = target * (1.0 - label_smoothing) + 0.5 * label_smoothing
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
    bce = pw * np.logaddexp(0.0, -pred) * target + np.logaddexp(0.0, pred) * (1 - target)
    d = target * (1 - p) + (1 - target) * p
    at = 1.0 if alpha is None else alpha * target + (1 - alpha) * (1 - target)
    return np_reduce(at * d**gamma * bce, reduction, weight)


def _torch_bce(logits: bool) -> Callable[..., Any]:
    def fn(pred: Any, target: Any, *, pos_weight: Any = None, weight: Any = None,
           reduction: str = "mean") -> Any:
        import torch
        import torch.nn.functional as F

        if not logits:
            return F.binary_cross_entropy(pred, target, weight=weight, reduction=reduction)
        pw = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=pred.dtype)
        return F.binary_cross_entropy_with_logits(pred, target, weight=weight, pos_weight=pw,
                                                  reduction=reduction)

    return fn


def _keras_bce(logits: bool) -> Callable[..., Any]:
    def fn(pred: Any, target: Any, *, label_smoothing: float = 0.0, reduction: str = "mean"
           ) -> Any:
        import keras

        out = keras.losses.binary_crossentropy(target, pred, from_logits=logits,
                                               label_smoothing=label_smoothing)
        return np.asarray(keras.ops.convert_to_numpy(out), np.float64).mean()

    return fn


def _optax_bce(pred: Any, target: Any, *, weight: Any = None, reduction: str = "mean") -> Any:
    import optax

    return _reduce_any(optax.losses.sigmoid_binary_cross_entropy(pred, target), reduction,
                       weight)


def _optax_sigmoid_focal(pred: Any, target: Any, *, alpha: float | None = 0.25,
                         gamma: float = 2.0, weight: Any = None, reduction: str = "mean") -> Any:
    import optax

    return _reduce_any(optax.losses.sigmoid_focal_loss(pred, target, alpha=alpha, gamma=gamma),
                       reduction, weight)


def _kornia_sigmoid_focal(pred: Any, target: Any, *, alpha: float | None = 0.25,
                          gamma: float = 2.0, weight: Any = None, reduction: str = "mean") -> Any:
    import kornia

    out = kornia.losses.binary_focal_loss_with_logits(pred[None], target[None], alpha=alpha,
                                                      gamma=gamma, reduction="none")[0]
    return _reduce_any(out, reduction, weight)


def _keras_sigmoid_focal(pred: Any, target: Any, *, alpha: float | None = 0.25,
                         gamma: float = 2.0, label_smoothing: float = 0.0,
                         reduction: str = "mean") -> Any:
    import keras

    out = keras.losses.binary_focal_crossentropy(
        target, pred, apply_class_balancing=alpha is not None,
        alpha=0.25 if alpha is None else alpha, gamma=gamma, from_logits=True,
        label_smoothing=label_smoothing)
    return np.asarray(keras.ops.convert_to_numpy(out), np.float64).mean()


_XM = np.array([[0.8, -0.5, 2.0], [0.1, 0.9, -1.2]])


_YM = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])


def _ref_multilabel_soft_margin(pred: np.ndarray, target: np.ndarray, *, axis: int = -1,
                                class_weight: Any = None, reduction: str = "mean",
                                weight: np.ndarray | None = None) -> np.ndarray:
    z, y = _class_axis(np.asarray(pred, np.float64), axis, np.asarray(target, np.float64))
    terms = y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)
    if class_weight is not None:
        terms = terms * np.asarray(class_weight, np.float64)
    return np_reduce(terms.mean(axis=-1), reduction, weight)


def _torch_multilabel_soft_margin(pred: Any, target: Any, *, axis: int = -1,
                                  class_weight: Any = None, weight: Any = None,
                                  reduction: str = "mean") -> Any:
    import torch
    import torch.nn.functional as F

    out = F.multilabel_soft_margin_loss(torch.movedim(pred, axis, -1),
                                        torch.movedim(target, axis, -1), weight=class_weight,
                                        reduction="none")
    return _reduce_any(out, reduction, weight)


def _empty_multilabel(rng: np.random.Generator) -> Arrays:
    return np.zeros((0, 3)), np.zeros((0, 3))


def _sized_multilabel(rng: np.random.Generator, n: int) -> Arrays:
    c = 10
    shape = (max(n // c, 1), c)
    return rng.normal(size=shape), (rng.uniform(size=shape) < 0.3).astype(np.float64)


RECORDS = [
    Record(
        name="binary_cross_entropy",
        family="binary",
        fn=L.binary_cross_entropy,
        inputs="pred: probabilities in [0, 1]; target: same-shape targets in [0, 1]",
        kind="binary_prob",
        cases=(
            Case("catalogue-none", _const(np.array([0.9, 0.2, 0.6]), np.array([1.0, 0, 0])),
                 {"reduction": "none"}, expected=[0.1053605, 0.2231436, 0.9162908]),
            Case("random-pos-weight-smoothing", _rand_binary_probs((4, 3), hard=True),
                 {"label_smoothing": 0.1, "reduction": "none"},
                 arrays=_arrays(pos_weight=_uniform((3,), 0.5, 3.0))),
            Case("random-weight-sum", _rand_binary_probs((2, 3, 2)), {"reduction": "sum"},
                 arrays=_arrays(weight=_uniform((3, 2)))),
            Case("empty", _empty_binary, expected=0.0, peers=False),
        ),
        reference=_ref_binary(logits=False),
        peers=(
            Peer("torch.nn.functional.binary_cross_entropy", "torch", _torch_bce(False),
                 "torch", accepts=_no("pos_weight", label_smoothing=0.0)),
            Peer("keras.losses.binary_crossentropy", "numpy", _keras_bce(False), "keras",
                 rtol=1e-5, accepts=_no("weight", "pos_weight", reduction="mean")),
        ),
        bad_options=(({"label_smoothing": 1.5}, "label_smoothing"),
                     ({"label_smoothing": -0.1}, "label_smoothing"),
                     ({"pos_weight": np.ones(7)}, "pos_weight"),
                     ({"pos_weight": -1.0}, "pos_weight")),
        bad_values=(BadValue("pred", _const(np.array([0.5, 1.2]), np.array([1.0, 0.0]))),
                    BadValue("target", _const(np.array([0.5, 0.2]), np.array([1.0, -0.5])))),
        bad_shape=_binary_bad_shape,
        perfect=_perfect_binary_probs,
        sized=_sized_binary_probs,
    ),
    Record(
        name="binary_cross_entropy_with_logits",
        family="binary",
        fn=L.binary_cross_entropy_with_logits,
        inputs="pred: logits; target: same-shape targets in [0, 1]",
        kind="binary_logits",
        cases=(
            Case("catalogue-none", _const(_Z, _Y), {"reduction": "none"},
                 expected=[0.1269280, 0.3132617, 0.9740770, 3.0485873]),
            Case("catalogue-weight-pos-weight", _const(_Z, _Y), {"pos_weight": 3.0},
                 arrays=_arrays(weight=lambda rng: np.array([1.0, 2.0, 1.0, 0.5])),
                 expected=1.6385663),
            Case("random-pos-weight-array", _rand_binary_logits((3, 4)),
                 {"reduction": "sum", "label_smoothing": 0.1},
                 arrays=_arrays(pos_weight=_uniform((4,), 0.5, 3.0), weight=_uniform((3, 1)))),
            Case("saturated", _const(np.array([100.0, -100.0, 1e4, -1e4]), _Y),
                 {"reduction": "none"}, grad="finite", expected=[0.0, 0.0, 1e4, 1e4]),
            Case("empty", _empty_binary, expected=0.0, peers=False),
        ),
        reference=_ref_binary(logits=True),
        peers=(
            Peer("torch.nn.functional.binary_cross_entropy_with_logits", "torch",
                 _torch_bce(True), "torch", accepts=_no(label_smoothing=0.0)),
            Peer("optax.losses.sigmoid_binary_cross_entropy", "jax", _optax_bce, "optax",
                 accepts=_no("pos_weight", label_smoothing=0.0), jit=True),
            Peer("keras.losses.binary_crossentropy", "numpy", _keras_bce(True), "keras",
                 rtol=1e-5, accepts=_no("weight", "pos_weight", reduction="mean")),
        ),
        bad_options=(({"label_smoothing": 1.5}, "label_smoothing"),
                     ({"pos_weight": np.ones(7)}, "pos_weight"),
                     ({"pos_weight": [1.0, 2.0]}, "pos_weight")),
        bad_values=(BadValue("target", _const(np.array([0.5, 1.2]), np.array([1.0, 1.5]))),),
        bad_shape=_binary_bad_shape,
        sized=_sized_binary,
    ),
    Record(
        name="sigmoid_focal_loss",
        family="binary",
        fn=L.sigmoid_focal_loss,
        inputs="pred: logits; target: same-shape targets in [0, 1]",
        kind="binary_logits",
        cases=(
            Case("catalogue-none", _const(_Z, _Y), {"reduction": "none"},
                 expected=[4.5089112e-04, 1.6993543e-02, 2.8305873e-01, 6.9157016e-01]),
            Case("catalogue-gamma-half", _const(_Z, _Y), {"gamma": 0.5, "reduction": "none"},
                 expected=[1.0955722e-02, 1.2184212e-01, 5.7638150e-01, 7.4385458e-01]),
            Case("random-soft-weight-sum", _rand_binary_logits((3, 4)),
                 {"alpha": 0.4, "gamma": 1.5, "reduction": "sum"},
                 arrays=_arrays(weight=_uniform((4,)))),
            Case("saturated-gamma-half",
                 _const(np.array([40.0, -40.0, 100.0, -100.0, 1e4, -1e4]),
                        np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])),
                 {"gamma": 0.5, "reduction": "none"}, grad="finite", peers=False),
            Case("catalogue-label-smoothing", _const(_Z, _Y), {"label_smoothing": 0.2}),
            Case("random-pos-weight-array", _rand_binary_logits((3, 4)),
                 {"pos_weight": [0.5, 1.0, 2.0, 3.0], "reduction": "sum"}),
        ),
        reference=_ref_sigmoid_focal,
        peers=(
            Peer("optax.losses.sigmoid_focal_loss", "jax", _optax_sigmoid_focal, "optax",
                 jit=True, accepts=_no("pos_weight", label_smoothing=0.0)),
            # kornia weights the two terms of a soft target separately (p^gamma, (1-p)^gamma),
            # unlike torchvision/optax: compared on hard labels only (the weighted case is soft)
            Peer("kornia.losses.binary_focal_loss_with_logits", "torch", _kornia_sigmoid_focal,
                 "kornia", rtol=1e-6, accepts=_no("weight", "pos_weight", label_smoothing=0.0)),
            Peer("keras.losses.binary_focal_crossentropy", "numpy", _keras_sigmoid_focal,
                 "keras", rtol=1e-5, accepts=_no("weight", "pos_weight", reduction="mean")),
        ),
        bad_options=(({"alpha": 1.5}, "alpha"), ({"alpha": -0.25}, "alpha"),
                     ({"gamma": -1.0}, "gamma"), ({"label_smoothing": 1.5}, "label_smoothing"),
                     ({"pos_weight": -1.0}, "pos_weight")),
        bad_values=(BadValue("target", _const(_Z, np.array([1.0, 0.0, 2.0, 1.0]))),),
        bad_shape=_binary_bad_shape,
        sized=_sized_binary,
    ),
    Record(
        name="multilabel_soft_margin_loss",
        family="binary",
        fn=L.multilabel_soft_margin_loss,
        inputs="pred: logits with classes on `axis`; target: same-shape multi-hot targets "
               "in [0, 1]",
        kind="binary_logits",
        cases=(
            Case("catalogue-none", _const(_XM, _YM), {"reduction": "none"},
                 expected=[0.3240352, 0.8496110]),
            Case("catalogue-mean", _const(_XM, _YM), expected=0.5868231),
            Case("catalogue-class-weight", _const(_XM, _YM), {"reduction": "none"},
                 arrays=_arrays(class_weight=lambda rng: np.array([1.0, 2.0, 0.5])),
                 expected=[0.4609062, 0.7194485]),
            Case("random-axis1-soft-weight-sum", _rand_binary_logits((2, 4, 3)),
                 {"axis": 1, "reduction": "sum"},
                 arrays=_arrays(class_weight=_uniform((4,)), weight=_uniform((2, 3)))),
            Case("random-hard-weight", _rand_binary_logits((5, 4), hard=True),
                 arrays=_arrays(weight=_uniform((5,)))),
            Case("saturated", _const(np.array([[100.0, -100.0, 1e4, -1e4]]),
                                     np.array([[1.0, 0.0, 0.0, 1.0]])),
                 {"reduction": "none"}, grad="finite", expected=[5e3]),
            Case("empty", _empty_multilabel, expected=0.0, peers=False),
        ),
        reference=_ref_multilabel_soft_margin,
        peers=(
            Peer("torch.nn.functional.multilabel_soft_margin_loss", "torch",
                 _torch_multilabel_soft_margin, "torch"),
        ),
        bad_options=(({"axis": 2}, "axis"), ({"axis": 1.0}, "axis"),
                     ({"class_weight": np.ones(7)}, "class_weight"),
                     ({"class_weight": np.array([1.0, -1.0, 1.0])}, "class_weight")),
        bad_values=(BadValue("target", _const(_XM, np.array([[1.0, 0.0, 2.0], [0, 1, 1]]))),
                    BadValue("target", _const(_XM, np.array([[1.0, 0.0, 1.0], [0, -1, 1]])))),
        bad_shape=_binary_bad_shape,
        sized=_sized_multilabel,
    ),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_bce_logits(x: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(np.logaddexp(0, x) - x * y)


def _hw_bce(p: np.ndarray, y: np.ndarray) -> Any:
    eps = np.finfo(p.dtype).eps
    q = np.clip(p, eps, 1 - eps)
    return np.mean(-(y * np.log(q) + (1 - y) * np.log1p(-q)))


def _hw_sigmoid_focal(x: np.ndarray, y: np.ndarray, alpha: float = 0.25, gamma: float = 2.0
                   ) -> Any:
    p = 1 / (1 + np.exp(-x))
    ce = np.logaddexp(0, x) - x * y
    p_t = p * y + (1 - p) * (1 - y)
    a_t = alpha * y + (1 - alpha) * (1 - y)
    return np.mean(a_t * ce * (1 - p_t) ** gamma)


def _tv_sigmoid_focal(x: Any, y: Any, alpha: float = 0.25, gamma: float = 2.0) -> Any:
    """torchvision.ops.sigmoid_focal_loss, restated."""
    import torch
    import torch.nn.functional as F

    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return torch.mean(loss)


def _hw_multilabel_soft_margin(x: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(np.mean(np.logaddexp(0, x) - x * y, axis=-1))


RECORDS = timed(RECORDS, {
    "binary_cross_entropy": {"peers": (yardstick(_hw_bce),)},
    "binary_cross_entropy_with_logits": {"peers": (yardstick(_hw_bce_logits),)},
    "sigmoid_focal_loss": {
        "peers": (yardstick(_hw_sigmoid_focal),
                  yardstick(_tv_sigmoid_focal, "torchvision-style sigmoid_focal_loss", "torch"))},
    "multilabel_soft_margin_loss": {"peers": (yardstick(_hw_multilabel_soft_margin),)},
})

_LOGIT = "logit (target 1)"
RECORDS = drawn(RECORDS, {
    "binary_cross_entropy": Figure("predicted probability (target 1)", (0.01, 0.99),
                                   FIG.positive, "label_smoothing", (0.0, 0.1, 0.3)),
    "binary_cross_entropy_with_logits": Figure(_LOGIT, (-6.0, 6.0), FIG.positive, "pos_weight",
                                               (0.5, 1.0, 2.0)),
    "sigmoid_focal_loss": Figure(_LOGIT, (-6.0, 6.0), FIG.positive, "gamma", (0.0, 1.0, 2.0, 5.0),
                                 {"alpha": None}),
    "multilabel_soft_margin_loss": Figure(
        "logit of the positive classes (minus it: the negative class)", (-6.0, 6.0),
        lambda x, v: (x[:, None] * [1.0, -1.0, 1.0], np.tile([1.0, 0.0, 1.0], (len(x), 1)))),
})
