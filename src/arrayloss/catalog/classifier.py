"""Catalogue records of the classifier losses (``arrayloss.losses.classifier``): the negative
log-likelihood, the Poly-1 and generalised cross-entropies, and the linear cross-entropy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed, yardstick
from . import _figures as FIG
from ._classes import (
    _BAD_LABELS,
    _CLASS_BAD_OPTIONS,
    _CLASS_INPUTS,
    _LG,
    _SOFT,
    _T,
    Arrays,
    _arrays,
    _class_axis,
    _class_bad_shape,
    _const,
    _no,
    _rand_labels,
    _reduce_any,
    _sized_class,
    _torch_classes,
    _uniform,
)
from ._common import np_log_softmax, np_softmax

_CW3 = [1.0, 2.0, 0.5]
# the linear cross-entropy example: features (3, 2), projection (3 classes, 2), labels
_X = np.array([[1.0, -0.5], [0.3, 0.8], [-1.0, 2.0]])
_W = np.array([[0.5, 1.0], [-0.2, 0.3], [1.5, -1.0]])
_TL = np.array([0, 2, 1])


def _ref_labels(kind: str) -> Callable[..., np.ndarray]:
    """float64 references, one sample at a time: ``"nll"`` (``pred`` read as it is), ``"poly"``
    (cross-entropy when ``epsilon=0``) and ``"gce"`` on the log-softmax of ``pred``."""

    def ref(pred: np.ndarray, target: np.ndarray, *, axis: int = -1, class_weight: Any = None,
            ignore_index: int | None = None, label_smoothing: float = 0.0,
            epsilon: float = 2.0, q: float = 0.5, reduction: str = "mean",
            weight: np.ndarray | None = None) -> np.ndarray:
        z, t = _class_axis(np.asarray(pred, np.float64), axis, target)
        c = z.shape[-1]
        w = np.ones(c) if class_weight is None else np.asarray(class_weight, np.float64)
        rows = z.reshape(-1, c)
        dense = t.shape == z.shape
        labels = t.reshape(-1, c) if dense else t.reshape(-1)
        loss = np.zeros(rows.shape[0])
        den = 0.0
        for i, row in enumerate(rows):
            if not dense and ignore_index is not None and labels[i] == ignore_index:
                continue
            if kind == "nll":
                loss[i] = -w[labels[i]] * row[labels[i]]
            elif kind == "gce":
                loss[i] = w[labels[i]] * (1.0 - np.exp(np_log_softmax(row)[labels[i]]) ** q) / q
            else:
                onehot = labels[i] if dense else np.eye(c)[labels[i]]
                tq = (1.0 - label_smoothing) * onehot + label_smoothing / c
                lp = np_log_softmax(row)
                per_class = np.where(tq > 0, -np.where(tq > 0, lp, 0.0), 0.0)
                loss[i] = np.sum(w * tq * (per_class + epsilon * (1.0 - np.exp(lp))))
            den += 1.0 if dense or class_weight is None else w[labels[i]]
        return np_reduce(loss.reshape(z.shape[:-1]), reduction, weight, count=den)

    return ref


def _ref_linear(x: np.ndarray, w: np.ndarray, target: np.ndarray, *, bias: Any = None,
                chunk_size: int | None = None, **options: Any) -> np.ndarray:
    z = np.asarray(x, np.float64) @ np.asarray(w, np.float64).T
    if bias is not None:
        z = z + np.asarray(bias, np.float64)
    return _ref_labels("poly")(z, target, epsilon=0.0, **options)


# --- peers


def _torch_nll(pred: Any, target: Any, *, axis: int = -1, class_weight: Any = None,
               ignore_index: int | None = None, reduction: str = "mean") -> Any:
    import torch
    import torch.nn.functional as F

    x, t = _torch_classes(pred, target, axis)
    cw = None if class_weight is None else torch.as_tensor(class_weight, dtype=x.dtype)
    return F.nll_loss(x, t, weight=cw, reduction=reduction,
                      ignore_index=-100 if ignore_index is None else ignore_index)


def _optax_poly(pred: Any, target: Any, *, axis: int = -1, epsilon: float = 2.0,
                label_smoothing: float = 0.0, reduction: str = "mean") -> Any:
    import jax
    import optax

    c = pred.shape[axis]
    if target.shape != pred.shape:
        target = jax.numpy.moveaxis(jax.nn.one_hot(target, c, dtype=pred.dtype), -1, axis)
    if label_smoothing:
        target = (1 - label_smoothing) * target + label_smoothing / c
    loss = optax.losses.poly_loss_cross_entropy(pred, target, epsilon=epsilon, axis=axis)
    return _reduce_any(loss, reduction)


def _keras_gce(pred: Any, target: Any, *, q: float = 0.5, reduction: str = "mean") -> Any:
    """Keras takes probabilities (classes last): the softmax of the logits."""
    import keras

    out = keras.losses.categorical_generalized_cross_entropy(target, np_softmax(pred), q)
    return _reduce_any(np.asarray(keras.ops.convert_to_numpy(out), np.float64), reduction)


def _torch_linear(x: Any, w: Any, target: Any, *, bias: Any = None, class_weight: Any = None,
                  ignore_index: int | None = None, label_smoothing: float = 0.0,
                  chunk_size: int | None = None, reduction: str = "mean") -> Any:
    import torch
    import torch.nn.functional as F

    def t(a: Any) -> Any:
        return None if a is None else torch.as_tensor(a, dtype=x.dtype)

    lead = tuple(x.shape[:-1])  # torch takes 1-D or 2-D input: flatten the samples
    dense = tuple(target.shape) == (*lead, w.shape[0])
    out = F.linear_cross_entropy(
        x.reshape(-1, x.shape[-1]), w, target.reshape(-1, w.shape[0]) if dense else
        target.reshape(-1), linear_bias=t(bias), weight=t(class_weight),
        ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    return out.reshape(lead) if reduction == "none" else out


# --- makers


def _linear(n: tuple[int, ...], d: int, c: int, ignore: int | None = None,
            dense: bool = False) -> Callable[[np.random.Generator], Arrays]:
    """Features ``(*n, d)``, a projection ``(c, d)`` and labels (a quarter ``ignore``, the
    first kept) or dense soft targets."""

    def make(rng: np.random.Generator) -> Arrays:
        x, w = rng.normal(size=(*n, d)), rng.normal(size=(c, d))
        if dense:
            return x, w, np_softmax(rng.normal(size=(*n, c)) * 2.0)
        y = rng.integers(0, c, size=n)
        if ignore is not None:
            drop = rng.uniform(size=n) < 0.25
            drop.flat[0] = False
            y = np.where(drop, ignore, y)
        return x, w, y

    return make


def _sized_linear(rng: np.random.Generator, n: int) -> Arrays:
    c, d = 1000, 64
    rows = max(n // c, 1)
    return rng.normal(size=(rows, d)), rng.normal(size=(c, d)) * 0.1, \
        rng.integers(0, c, size=(rows,))


def _sized_log_probs(rng: np.random.Generator, n: int) -> Arrays:
    z, y = _sized_class(rng, n)
    return np_log_softmax(z), y


_BIAS3 = [0.1, 0.0, -0.1]
_NO_PEER_OPTS = ("weight", "class_weight", "ignore_index")

RECORDS = [
    Record(
        name="nll_loss",
        family="classifier",
        fn=L.nll_loss,
        inputs="pred: log-probabilities (or scores) with classes on `axis`; target: integer "
               "labels (pred's shape without axis)",
        kind="class_logits",
        nonnegative=False,  # raw scores give -z_y
        cases=(
            Case("catalogue-log-probabilities-none", _const(np_log_softmax(_LG), _T),
                 {"reduction": "none"}, expected=[0.4170300, 0.1531782, 1.098612]),
            Case("catalogue-scores-none", _const(_LG, _T), {"reduction": "none"},
                 expected=[-2.0, -2.5, 0.0]),
            Case("catalogue-scores", _const(_LG, _T), expected=-1.5),
            Case("catalogue-class-weight", _const(_LG, _T), {"class_weight": _CW3},
                 expected=-2.0),
            Case("catalogue-ignore", _const(_LG, np.array([0, -100, 2])),
                 {"ignore_index": -100}, expected=-1.0),
            Case("all-ignored", _const(_LG, np.array([-100, -100, -100])),
                 {"ignore_index": -100}, expected=0.0, peers=False),
            Case("random-axis1-ignore-weights", _rand_labels((2, 4, 3), axis=1, ignore=-1),
                 {"axis": 1, "ignore_index": -1}, arrays=_arrays(
                     weight=_uniform((2, 3)), class_weight=_uniform((4,), 0.2, 2.0))),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0,), np.int64)), expected=0.0,
                 peers=False),
        ),
        reference=_ref_labels("nll"),
        peers=(Peer("torch.nn.functional.nll_loss", "torch", _torch_nll, "torch",
                    accepts=_no("weight")),),
        bad_options=(({"class_weight": [1.0, 2.0]}, "class_weight"), *_CLASS_BAD_OPTIONS),
        bad_values=(*_BAD_LABELS, BadValue("class_weight", _const(_LG, _T),
                                           {"class_weight": [1.0, -1.0, 1.0]})),
        bad_shape=_class_bad_shape,
        sized=_sized_log_probs,
    ),
    Record(
        name="poly_cross_entropy",
        family="classifier",
        fn=L.poly_cross_entropy,
        inputs=_CLASS_INPUTS + ", or dense probabilities of pred's shape",
        kind="class_logits",
        cases=(
            Case("catalogue-none", _const(_LG, _T), {"reduction": "none"},
                 expected=[1.099028, 0.4372246, 2.431946]),
            Case("catalogue-mean", _const(_LG, _T), expected=1.322733),
            Case("catalogue-epsilon-1", _const(_LG, _T), {"epsilon": 1.0, "reduction": "none"},
                 expected=[0.7580289, 0.2952014, 1.765279]),
            Case("catalogue-epsilon-minus-1", _const(_LG, _T),
                 {"epsilon": -1.0, "reduction": "none"},
                 expected=[0.0760312, 0.0111550, 0.4319456]),
            Case("catalogue-soft-none", _const(_LG, _SOFT), {"reduction": "none"},
                 expected=[1.767742, 1.302011, 2.431946]),
            Case("random-smoothing", _rand_labels((5, 4)), {"label_smoothing": 0.2}),
            Case("random-axis1-ignore-weights", _rand_labels((2, 4, 3), axis=1, ignore=-1),
                 {"axis": 1, "ignore_index": -1, "label_smoothing": 0.1}, arrays=_arrays(
                     weight=_uniform((2, 3)), class_weight=_uniform((4,), 0.2, 2.0))),
            Case("random-dense-class-weight", _rand_labels((4, 3), dense=True),
                 {"class_weight": _CW3, "label_smoothing": 0.1}),
            Case("all-ignored", _const(_LG, np.array([-1, -1, -1])), {"ignore_index": -1},
                 expected=0.0, peers=False),
        ),
        reference=_ref_labels("poly"),
        peers=(Peer("optax.losses.poly_loss_cross_entropy", "jax", _optax_poly, "optax",
                    accepts=_no(*_NO_PEER_OPTS), jit=True),),
        bad_options=(({"epsilon": -1.5}, "epsilon"), ({"epsilon": "2"}, "epsilon"),
                     ({"label_smoothing": 1.5}, "label_smoothing"),
                     ({"class_weight": [1.0]}, "class_weight"), *_CLASS_BAD_OPTIONS),
        bad_values=(*_BAD_LABELS, BadValue("target", _const(_LG, _SOFT - 0.2))),
        bad_shape=_class_bad_shape,
        sized=_sized_class,
    ),
    Record(
        name="generalized_cross_entropy",
        family="classifier",
        fn=L.generalized_cross_entropy,
        inputs=_CLASS_INPUTS,
        kind="class_logits",
        cases=(
            Case("catalogue-none", _const(_LG, _T), {"reduction": "none"},
                 expected=[0.3764223, 0.1474592, 0.8452995]),
            Case("catalogue-mean", _const(_LG, _T), expected=0.4563937),
            Case("catalogue-q-0.7", _const(_LG, _T), {"q": 0.7, "reduction": "none"},
                 expected=[0.3616750, 0.1452518, 0.7664813]),
            Case("catalogue-q-1", _const(_LG, _T), {"q": 1.0, "reduction": "none"},
                 expected=[0.3409989, 0.1420232, 0.6666667]),
            Case("catalogue-keras-docstring",
                 _const(np.log([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]),
                        np.array([0, 1, 0, 1])), expected=0.3598597),
            Case("random-axis1-ignore-weights", _rand_labels((2, 4, 3), axis=1, ignore=-1),
                 {"axis": 1, "q": 0.3, "ignore_index": -1}, arrays=_arrays(
                     weight=_uniform((2, 3)), class_weight=_uniform((4,), 0.2, 2.0))),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0,), np.int64)), expected=0.0,
                 peers=False),
        ),
        reference=_ref_labels("gce"),
        peers=(Peer("keras.losses.categorical_generalized_cross_entropy", "numpy", _keras_gce,
                    "keras", rtol=1e-6, accepts=_no(*_NO_PEER_OPTS, axis=-1)),),
        bad_options=(({"q": 0.0}, "q"), ({"q": 1.5}, "q"), ({"q": "0.5"}, "q"),
                     ({"class_weight": [1.0]}, "class_weight"), *_CLASS_BAD_OPTIONS),
        bad_values=_BAD_LABELS,
        bad_shape=_class_bad_shape,
        sized=_sized_class,
    ),
    Record(
        name="linear_cross_entropy",
        family="classifier",
        fn=L.linear_cross_entropy,
        inputs="x: features (..., D); w: projection (C, D); target: integer labels "
               "x.shape[:-1] or dense probabilities (..., C)",
        kind="linear_logits",
        grad_args=(0, 1),
        cases=(
            Case("catalogue-none", _const(_X, _W, _TL), {"reduction": "none"},
                 expected=[2.207587, 1.851321, 1.107678]),
            Case("catalogue-mean", _const(_X, _W, _TL), expected=1.722195),
            Case("catalogue-bias-smoothing", _const(_X, _W, _TL),
                 {"bias": _BIAS3, "label_smoothing": 0.1}, expected=1.738144),
            Case("catalogue-chunked", _const(_X, _W, _TL),
                 {"bias": _BIAS3, "label_smoothing": 0.1, "chunk_size": 2}, expected=1.738144),
            Case("random-chunked-ignore-weights", _linear((6,), 4, 5, ignore=-100),
                 {"ignore_index": -100, "label_smoothing": 0.1, "chunk_size": 2},
                 arrays=_arrays(weight=_uniform((6,)), class_weight=_uniform((5,), 0.2, 2.0))),
            Case("random-3d-ignore", _linear((2, 3), 4, 5, ignore=-1), {"ignore_index": -1}),
            Case("random-dense-chunked", _linear((4,), 3, 5, dense=True),
                 {"class_weight": [1.0, 0.5, 2.0, 1.0, 1.5], "label_smoothing": 0.2,
                  "chunk_size": 3}),
            Case("random-dense", _linear((4,), 3, 5, dense=True), {"label_smoothing": 0.2}),
            Case("empty", _const(np.zeros((0, 2)), _W, np.zeros((0,), np.int64)),
                 expected=0.0, peers=False),
        ),
        reference=_ref_linear,
        peers=(Peer("torch.nn.functional.linear_cross_entropy", "torch", _torch_linear,
                    "torch", accepts=_no("weight")),),
        bad_options=(({"chunk_size": 0}, "chunk_size"), ({"chunk_size": 2.0}, "chunk_size"),
                     ({"label_smoothing": -0.1}, "label_smoothing"),
                     ({"bias": [0.0, 1.0]}, "bias"), ({"ignore_index": 1}, "ignore_index"),
                     ({"class_weight": [1.0]}, "class_weight")),
        bad_values=(BadValue("target", _const(_X, _W, np.array([0, 3, 1]))),
                    BadValue("target", _const(_X, _W, np.array([0, -1, 1])))),
        bad_shape=lambda rng: (np.zeros((3, 2)), np.zeros((4, 3)), np.zeros((3,), np.int64)),
        sized=_sized_linear,
    ),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_nll(log_p: np.ndarray, labels: np.ndarray) -> Any:
    return -np.mean(np.take_along_axis(log_p, labels[:, None].astype(np.intp), axis=-1))


def _hw_linear(x: np.ndarray, w: np.ndarray, labels: np.ndarray) -> Any:
    z = x @ w.T
    m = np.max(z, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=-1)) + m[..., 0]
    return np.mean(lse - np.take_along_axis(z, labels[:, None].astype(np.intp), axis=-1)[:, 0])


RECORDS = timed(RECORDS, {
    "nll_loss": {"peers": (yardstick(_hw_nll),)},
    "linear_cross_entropy": {"peers": (yardstick(_hw_linear),)},
})

_PT = "probability of the true class (3 classes)"
RECORDS = drawn(RECORDS, {
    "nll_loss": Figure(_PT + "; pred = its log", (0.01, 0.99), FIG.true_class),
    "poly_cross_entropy": Figure(_PT, (0.01, 0.99), FIG.true_class, "epsilon",
                                 (-1.0, 0.0, 1.0, 2.0)),
    "generalized_cross_entropy": Figure(_PT, (0.01, 0.99), FIG.true_class, "q",
                                        (0.25, 0.5, 0.75, 1.0)),
    "linear_cross_entropy": Figure(
        "feature x (logits x w = [x, -x, 0], label 0)", (-4.0, 4.0),
        lambda x, v: (x[:, None], np.array([[1.0], [-1.0], [0.0]]),
                      np.zeros(len(x), dtype=np.int64)),
        "label_smoothing", (0.0, 0.1, 0.3)),
})
