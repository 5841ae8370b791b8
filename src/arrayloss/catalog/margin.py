"""Catalogue records of the margin losses (``arrayloss.losses.margin``): hinge, squared
hinge, ramp, soft margin, multi-class hinge and multi-label (pairwise) hinge."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed, yardstick
from . import _figures as FIG
from ._classes import (
    _BAD_LABELS,
    _CLASS_BAD_OPTIONS,
    _CLASS_INPUTS,
    Arrays,
    _arrays,
    _binary_bad_shape,
    _class_axis,
    _class_bad_shape,
    _const,
    _no,
    _rand_labels,
    _reduce_any,
    _sized_class,
    _uniform,
)

_F = np.array([0.8, -0.5, 2.0, -1.5, 0.0])


_FY = np.array([1, 1, -1, -1, 1])


_S = np.array([[2.0, 1.5, -1.0], [0.2, 0.1, 0.3], [-0.5, -2.0, -1.0]])


_ST = np.array([0, 1, 0])


def _rand_signed(shape: tuple[int, ...], kinks: tuple[float, ...] = (1.0, -1.0, 0.5, 0.0)
                 ) -> Callable[..., Arrays]:
    """Scores whose margins ``y f`` stay >= 0.05 away from ``kinks``; labels in {-1, +1}."""

    def make(rng: np.random.Generator) -> Arrays:
        m = rng.uniform(-3.0, 3.0, size=shape)
        for k in kinks:
            m = np.where(np.abs(m - k) < 0.05, k + 0.1, m)
        y = np.where(rng.uniform(size=shape) < 0.5, -1, 1)
        return m * y, y

    return make


def _sized_signed(rng: np.random.Generator, n: int) -> Arrays:
    return rng.normal(size=(n,)), np.where(rng.uniform(size=(n,)) < 0.5, -1.0, 1.0)


def _perfect_signed(args: Arrays) -> Arrays:
    y = np.where(args[1] > 0, 1.0, -1.0)
    return 2.0 * y, y


def _perfect_multiclass(args: Arrays) -> Arrays:
    z, y = args
    return 2.0 * np.eye(z.shape[-1])[y], y


def _ref_hinge(kind: str) -> Callable[..., np.ndarray]:
    def ref(pred: np.ndarray, target: np.ndarray, *, margin: float = 1.0, s: float = -1.0,
            reduction: str = "mean", weight: np.ndarray | None = None) -> np.ndarray:
        y = np.where(np.asarray(target).astype(np.float64) > 0, 1.0, -1.0)
        m = y * pred
        if kind == "ramp":
            loss = np.maximum(0.0, 1 - m) - np.maximum(0.0, s - m)
        elif kind == "soft":
            loss = np.logaddexp(0.0, -m)
        else:
            loss = np.maximum(0.0, margin - m)
            if kind == "squared":
                loss = loss**2
        return np_reduce(loss, reduction, weight)

    return ref


def _ref_multiclass_hinge(pred: np.ndarray, target: np.ndarray, *, axis: int = -1,
                          margin: float = 1.0, mode: str = "crammer_singer",
                          squared: bool = False, ignore_index: int | None = None,
                          class_weight: Any = None, reduction: str = "mean",
                          weight: np.ndarray | None = None) -> np.ndarray:
    (f,) = _class_axis(np.asarray(pred, np.float64), axis)
    c = f.shape[-1]
    w = np.ones(c) if class_weight is None else np.asarray(class_weight, np.float64)
    rows, labels = f.reshape(-1, c), target.reshape(-1)
    loss = np.zeros(rows.shape[0])
    n = 0.0
    for i, (r, y) in enumerate(zip(rows, labels)):
        if ignore_index is not None and y == ignore_index:
            continue
        n += w[y]
        others = np.delete(r, y)
        if mode == "crammer_singer":
            loss[i] = max(0.0, margin + others.max() - r[y]) ** (2 if squared else 1)
        else:
            loss[i] = np.sum(np.maximum(0.0, margin + others - r[y]) ** (2 if squared else 1))
        loss[i] *= w[y]
    return np_reduce(loss.reshape(f.shape[:-1]), reduction, weight, count=n)


def _signed_numpy(target: Any) -> Any:
    return np.where(np.asarray(target) > 0, 1.0, -1.0)


def _optax_hinge(pred: Any, target: Any, *, weight: Any = None, reduction: str = "mean") -> Any:
    import jax.numpy as jnp
    import optax

    y = jnp.where(target > 0, 1.0, -1.0)
    return _reduce_any(optax.losses.hinge_loss(pred, y), reduction, weight)


def _keras_hinge(name: str) -> Callable[..., Any]:
    def fn(pred: Any, target: Any, *, reduction: str = "mean") -> Any:
        import keras

        out = getattr(keras.losses, name)(_signed_numpy(target), pred)
        return np.asarray(keras.ops.convert_to_numpy(out), np.float64).mean()

    return fn


def _optax_multiclass_hinge(pred: Any, target: Any, *, axis: int = -1, weight: Any = None,
                            reduction: str = "mean") -> Any:
    import jax.numpy as jnp
    import optax

    out = optax.losses.multiclass_hinge_loss(jnp.moveaxis(pred, axis, -1), target)
    return _reduce_any(out, reduction, weight)


def _torch_multi_margin(pred: Any, target: Any, *, axis: int = -1, margin: float = 1.0,
                        squared: bool = False, class_weight: Any = None, weight: Any = None,
                        reduction: str = "mean", mode: str = "weston_watkins") -> Any:
    """``C * F.multi_margin_loss(weight=class_weight)`` per sample; the mean divides by the
    sum of the labels' class weights (torch's own mean divides by N)."""
    import torch
    import torch.nn.functional as F

    x = torch.movedim(pred, axis, -1)
    c = x.shape[-1]
    cw = None if class_weight is None else torch.as_tensor(class_weight, dtype=x.dtype)
    out = c * F.multi_margin_loss(x.reshape(-1, c), target.reshape(-1), p=2 if squared else 1,
                                  margin=margin, weight=cw, reduction="none")
    count = None if cw is None else cw[target].sum()
    return _reduce_any(out.reshape(target.shape), reduction, weight, count=count)


def _torch_soft_margin(pred: Any, target: Any, *, weight: Any = None,
                       reduction: str = "mean") -> Any:
    import torch
    import torch.nn.functional as F

    y = torch.where(target > 0, 1.0, -1.0).to(pred.dtype)
    return _reduce_any(F.soft_margin_loss(pred, y, reduction="none"), reduction, weight)


def _ref_multilabel_margin(pred: np.ndarray, target: np.ndarray, *, axis: int = -1,
                           margin: float = 1.0, reduction: str = "mean",
                           weight: np.ndarray | None = None) -> np.ndarray:
    f, y = _class_axis(np.asarray(pred, np.float64), axis, np.asarray(target))
    c = f.shape[-1]
    rows, labels = f.reshape(-1, c), y.reshape(-1, c).astype(bool)
    loss = np.zeros(rows.shape[0])
    for i, (r, pos) in enumerate(zip(rows, labels)):
        for j in np.flatnonzero(pos):
            for k in np.flatnonzero(~pos):
                loss[i] += max(0.0, margin - (r[j] - r[k]))
    return np_reduce(loss.reshape(f.shape[:-1]) / c, reduction, weight)


def _torch_multilabel_margin(pred: Any, target: Any, *, axis: int = -1, weight: Any = None,
                             reduction: str = "mean") -> Any:
    """torch's target lists each sample's positive classes, padded with -1."""
    import torch
    import torch.nn.functional as F

    x = torch.movedim(pred, axis, -1)
    c = x.shape[-1]
    y = torch.movedim(target, axis, -1).reshape(-1, c) != 0
    order = torch.argsort((~y).to(torch.int8), dim=-1, stable=True)  # positives first
    idx = torch.where(torch.arange(c) < y.sum(-1, keepdim=True), order, -1)
    out = F.multilabel_margin_loss(x.reshape(-1, c), idx, reduction="none")
    return _reduce_any(out.reshape(x.shape[:-1]), reduction, weight)


_XM = np.array([[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.9, 0.0]])


_YM = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])


def _rand_multi_hot(shape: tuple[int, ...], axis: int = -1) -> Callable[..., Arrays]:
    """Scores and multi-hot {0, 1} targets (float) of ``shape``."""

    def make(rng: np.random.Generator) -> Arrays:
        return rng.normal(size=shape), (rng.uniform(size=shape) < 0.4).astype(np.float64)

    return make


def _sized_multi_hot(rng: np.random.Generator, n: int) -> Arrays:
    c = 10
    shape = (max(n // c, 1), c)
    return rng.normal(size=shape), (rng.uniform(size=shape) < 0.3).astype(np.float64)


def _perfect_multi_hot(args: Arrays) -> Arrays:
    return 2.0 * args[1], args[1]


_SIGNED_BAD = (
    BadValue("target", _const(_F, np.array([1, 0, -1, 1, 1]))),
    BadValue("target", _const(_F, np.array([1, 2, -1, 1, 1]))),
)


_SIGNED_INPUTS = "pred: scores; target: same-shape labels in {-1, +1} (any numeric dtype) or bool"


_SIGNED_REFERENCE = {"hinge_loss": "hinge", "squared_hinge_loss": "squared", "ramp_loss": "ramp",
                     "soft_margin_loss": "soft"}


def _signed_record(fn: Callable[..., Any], cases: tuple[Case, ...], *,
                   bad_options: tuple[tuple[Mapping[str, Any], str], ...] = (
                       ({"margin": -1.0}, "margin"),),
                   perfect: Callable[[Arrays], Arrays] | None = _perfect_signed,
                   **extra: Any) -> Record:
    """A record of the hinge family: scores and same-shape {-1, +1} / bool labels."""
    return Record(name=fn.__name__, family="margin", fn=fn, inputs=_SIGNED_INPUTS,
                  kind="signed", cases=cases,
                  reference=_ref_hinge(_SIGNED_REFERENCE[fn.__name__]),
                  bad_options=bad_options, bad_values=_SIGNED_BAD, bad_shape=_binary_bad_shape,
                  perfect=perfect, sized=_sized_signed, **extra)


RECORDS = [
    _signed_record(
        L.hinge_loss,
        (
            Case("catalogue-none", _const(_F, _FY), {"reduction": "none"},
                 expected=[0.2, 1.5, 3.0, 0.0, 1.0]),
            Case("catalogue-margin", _const(_F, _FY), {"margin": 0.5, "reduction": "none"},
                 expected=[0.0, 1.0, 2.5, 0.0, 0.5]),
            Case("catalogue-bool", _const(_F, _FY > 0), expected=1.14),
            Case("random-weight-sum", _rand_signed((3, 4)), {"reduction": "sum"},
                 arrays=_arrays(weight=_uniform((4,)))),
        ),
        peers=(
            Peer("optax.losses.hinge_loss", "jax", _optax_hinge, "optax",
                 accepts=_no(margin=1.0), jit=True),
            Peer("keras.losses.hinge", "numpy", _keras_hinge("hinge"), "keras", rtol=1e-6,
                 accepts=_no("weight", margin=1.0, reduction="mean")),
        ),
    ),
    _signed_record(
        L.squared_hinge_loss,
        (
            Case("catalogue-none", _const(_F, _FY), {"reduction": "none"},
                 expected=[0.04, 2.25, 9.0, 0.0, 1.0]),
            Case("catalogue-bool", _const(_F, _FY > 0), expected=2.458),
            Case("random-margin-weight", _rand_signed((3, 4)), {"margin": 0.5},
                 arrays=_arrays(weight=_uniform((3, 4)))),
        ),
        peers=(
            Peer("keras.losses.squared_hinge", "numpy", _keras_hinge("squared_hinge"), "keras",
                 rtol=1e-6, accepts=_no("weight", margin=1.0, reduction="mean")),
        ),
    ),
    _signed_record(
        L.ramp_loss,
        (
            Case("catalogue-none", _const(_F, _FY), {"reduction": "none"},
                 expected=[0.2, 1.5, 2.0, 0.0, 1.0]),
            Case("catalogue-s0", _const(_F, _FY), {"s": 0.0}, grad="finite", expected=0.64),
            Case("random-s-weight-sum", _rand_signed((3, 4)), {"s": -0.5, "reduction": "sum"},
                 arrays=_arrays(weight=_uniform((3, 1)))),
        ),
        bad_options=(({"s": 1.0}, "s"), ({"s": 2.0}, "s")),
        notes="golden (formula): no library implements the ramp loss",
    ),
    _signed_record(
        L.soft_margin_loss,
        (
            Case("catalogue-none", _const(_F, _FY), {"reduction": "none"},
                 expected=[0.3711007, 0.9740770, 2.126928, 0.2014133, 0.6931472]),
            Case("catalogue-bool", _const(_F, _FY > 0), expected=0.8733332),
            # torch evaluates log1p(exp(-y f)): inf here (float32 already at -y f = 100)
            Case("saturated", _const(np.array([-1000.0, 1000.0, -100.0, 100.0]),
                                     np.array([1, -1, 1, -1])),
                 {"reduction": "none"}, grad="finite", expected=[1000.0, 1000.0, 100.0, 100.0],
                 peers=False),
            Case("random-weight-sum", _rand_signed((3, 4)), {"reduction": "sum"},
                 arrays=_arrays(weight=_uniform((4,)))),
            Case("empty", _const(np.zeros((0,)), np.zeros((0,))), expected=0.0, peers=False),
        ),
        bad_options=(), perfect=None,
        peers=(
            Peer("torch.nn.functional.soft_margin_loss", "torch", _torch_soft_margin, "torch"),
        ),
    ),
    Record(
        name="multilabel_margin_loss",
        family="margin",
        fn=L.multilabel_margin_loss,
        inputs="pred: scores with classes on `axis`; target: same-shape multi-hot labels "
               "({0, 1} or bool)",
        kind="multi_hot",
        cases=(
            Case("catalogue-none", _const(_XM, _YM), {"reduction": "none"},
                 expected=[0.85, 0.175]),
            Case("catalogue-bool", _const(_XM, _YM > 0), expected=0.5125),
            Case("rows-without-pairs", _const(_XM, np.array([[0.0, 0, 0, 0], [1, 1, 1, 1]])),
                 {"reduction": "none"}, expected=[0.0, 0.0]),
            Case("random-axis1-margin-weight", _rand_multi_hot((2, 5, 3)),
                 {"axis": 1, "margin": 0.5, "reduction": "sum"},
                 arrays=_arrays(weight=_uniform((2, 3)))),
            Case("random-margin-2", _rand_multi_hot((4, 6)), {"margin": 2.0},
                 arrays=_arrays(weight=_uniform((4,)))),
            Case("empty", _const(np.zeros((0, 4)), np.zeros((0, 4))), expected=0.0,
                 peers=False),
        ),
        reference=_ref_multilabel_margin,
        peers=(
            Peer("torch.nn.functional.multilabel_margin_loss", "torch",
                 _torch_multilabel_margin, "torch", accepts=_no(margin=1.0)),
        ),
        bad_options=(({"margin": -1.0}, "margin"), ({"axis": 2}, "axis"),
                     ({"margin": "1"}, "margin")),
        bad_values=(
            # torch's index-list target
            BadValue("target", _const(_XM, np.array([[3.0, 0.0, -1.0, 1.0],
                                                     [2.0, -1.0, 0.0, 0.0]]))),
            BadValue("target", _const(_XM, np.array([[1.0, 0.0, 0.5, 1.0], [0, 0, 1, 0]]))),
        ),
        bad_shape=_binary_bad_shape,
        perfect=_perfect_multi_hot,
        sized=_sized_multi_hot,
    ),
    Record(
        name="multiclass_hinge_loss",
        family="margin",
        fn=L.multiclass_hinge_loss,
        inputs=_CLASS_INPUTS.replace("logits", "scores"),
        kind="class_logits",
        cases=(
            Case("catalogue-cs-none", _const(_S, _ST), {"reduction": "none"},
                 expected=[0.5, 1.2, 0.5]),
            Case("catalogue-ww-none", _const(_S, _ST),
                 {"mode": "weston_watkins", "reduction": "none"}, expected=[0.5, 2.3, 0.5]),
            Case("catalogue-ww-squared", _const(_S, _ST),
                 {"mode": "weston_watkins", "squared": True}, expected=1.05),
            Case("random-axis1-ignore", _rand_labels((2, 4, 3), axis=1, ignore=-1),
                 {"axis": 1, "margin": 0.5, "ignore_index": -1, "squared": True},
                 arrays=_arrays(weight=_uniform((2, 3)))),
            Case("random-ww-margin", _rand_labels((5, 4)),
                 {"mode": "weston_watkins", "margin": 2.0, "reduction": "sum"}),
            # golden (formula): [0.5, 1.2, 0.5] weighted [1, 2, 1], divided by 1 + 2 + 1
            Case("catalogue-cs-class-weight", _const(_S, _ST),
                 {"class_weight": [1.0, 2.0, 0.5]}, expected=0.85),
            Case("random-ww-class-weight", _rand_labels((6, 4)), {"mode": "weston_watkins"},
                 arrays=_arrays(class_weight=_uniform((4,), 0.2, 2.0),
                                weight=_uniform((6,)))),
        ),
        reference=_ref_multiclass_hinge,
        peers=(
            Peer("optax.losses.multiclass_hinge_loss", "jax", _optax_multiclass_hinge,
                 "optax", accepts=_no("ignore_index", "class_weight", mode="crammer_singer",
                                        margin=1.0, squared=False), jit=True),
            Peer("C * torch.nn.functional.multi_margin_loss", "torch", _torch_multi_margin,
                 "torch", accepts=lambda o: "ignore_index" not in o
                 and o.get("mode") == "weston_watkins"),
        ),
        bad_options=(({"mode": "ovr"}, "mode"), ({"margin": -1.0}, "margin"),
                     ({"squared": "yes"}, "squared"), ({"class_weight": [1.0, 2.0]},
                                                        "class_weight"), *_CLASS_BAD_OPTIONS),
        bad_values=(*_BAD_LABELS, BadValue("class_weight", _const(_S, _ST),
                                           {"class_weight": [1.0, -1.0, 1.0]})),
        bad_shape=_class_bad_shape,
        perfect=_perfect_multiclass,
        sized=_sized_class,
    ),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_hinge(s: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(np.maximum(1 - y * s, 0))


def _hw_squared_hinge(s: np.ndarray, y: np.ndarray) -> Any:
    h = np.maximum(1 - y * s, 0)
    return np.mean(h * h)


def _hw_soft_margin(s: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(np.logaddexp(0, -y * s))


def _hw_multilabel_margin(s: np.ndarray, y: np.ndarray) -> Any:
    pairs = (y[:, :, None] > 0) & (y[:, None, :] == 0)
    h = np.maximum(1 - (s[:, :, None] - s[:, None, :]), 0)
    return np.mean(np.sum(np.where(pairs, h, 0), axis=(1, 2)) / s.shape[1])


RECORDS = timed(RECORDS, {
    "hinge_loss": {"peers": (yardstick(_hw_hinge),)},
    "soft_margin_loss": {"peers": (yardstick(_hw_soft_margin),)},
    "multilabel_margin_loss": {"peers": (yardstick(_hw_multilabel_margin),)},
    "squared_hinge_loss": {"peers": (yardstick(_hw_squared_hinge),)},
})

_M = "margin y f (target +1)"
_GAP = "score of the label minus the other classes'"
RECORDS = drawn(RECORDS, {
    "hinge_loss": Figure(_M, (-3.0, 3.0), FIG.positive, "margin", (0.5, 1.0, 2.0)),
    "squared_hinge_loss": Figure(_M, (-3.0, 3.0), FIG.positive, "margin", (0.5, 1.0, 2.0)),
    "ramp_loss": Figure(_M, (-3.0, 3.0), FIG.positive, "s", (-2.0, -1.0, 0.0)),
    "soft_margin_loss": Figure(_M, (-4.0, 4.0), FIG.positive),
    "multilabel_margin_loss": Figure(
        "score of the positive class minus the negative's", (-3.0, 3.0),
        lambda x, v: (np.stack([x, 0 * x], axis=-1), np.tile([1, 0], (len(x), 1))),
        "margin", (0.5, 1.0, 2.0)),
    "multiclass_hinge_loss": Figure(_GAP, (-3.0, 3.0), FIG.score_gap, "mode",
                                    ("crammer_singer", "weston_watkins")),
})
