"""Catalogue records of the losses over a class axis (``arrayloss.losses.categorical``):
entropy, cross-entropy, KL divergence, the softmax focal loss and the generalised KL
divergence."""

from __future__ import annotations

import math
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
    _uniform,
)
from ._common import np_log_softmax, np_softmax
from ._softmax import (
    _keras_ce,
    _kornia_softmax_focal,
    _one_axis,
    _optax_ce,
    _ref_class_loss,
    _torch_ce,
)

# part D's channels-first segmentation logits (2, 3, 2, 2) and labels (2, 2, 2)
_LG4 = np.array([[[[2.0, 0.1], [0.3, -1.0]], [[0.5, 1.5], [0.2, 0.0]],
                  [[-1.0, 0.2], [1.2, 2.0]]],
                 [[[0.1, 0.2], [0.3, 0.4]], [[1.0, -0.5], [0.0, 0.3]],
                  [[0.2, 0.9], [-0.3, 1.1]]]])


_LAB4 = np.array([[[0, 1], [2, 2]], [[1, 1], [1, 2]]])


def _rand_probs(shape: tuple[int, ...], axis: int = -1) -> Callable[..., Arrays]:
    return lambda rng: (np_softmax(rng.normal(size=shape) * 1.5, axis),)


def _rand_log_dist(shape: tuple[int, ...], axis: int = -1, log_target: bool = False
                   ) -> Callable[..., Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        log_q = np_log_softmax(rng.normal(size=shape), axis)
        lp = np_log_softmax(rng.normal(size=shape) * 1.5, axis)
        return log_q, (lp if log_target else np.exp(lp))

    return make


def _rand_prob_labels(shape: tuple[int, ...], ignore: int) -> Callable[..., Arrays]:
    """Probabilities (rows summing to 1, none near 0) and integer labels, a quarter of them
    ``ignore`` (at least one kept)."""
    def make(rng: np.random.Generator) -> Arrays:
        z, y = _rand_labels(shape, ignore=ignore)(rng)
        return np_softmax(z * 0.5), y

    return make


def _sized_dist(rng: np.random.Generator, n: int) -> Arrays:
    return (np_softmax(rng.normal(size=(max(n // 10, 1), 10))),)


def _sized_log_dist(rng: np.random.Generator, n: int) -> Arrays:
    shape = (max(n // 10, 1), 10)
    return np_log_softmax(rng.normal(size=shape)), np_softmax(rng.normal(size=shape))


def _perfect_kl(args: Arrays) -> Arrays:
    p = args[1]
    with np.errstate(divide="ignore"):
        return np.log(p), p


def _ref_entropy(p: np.ndarray, *, axis: Any = -1, from_logits: bool = False,
                 base: float | None = None, reduction: str = "mean",
                 weight: np.ndarray | None = None) -> np.ndarray:
    (p,) = _class_axis(np.asarray(p, np.float64), axis)
    if from_logits:
        lp = np_log_softmax(p)
        q = np.exp(lp)
        h = -np.sum(np.where(q > 0, q * np.where(q > 0, lp, 0.0), 0.0), axis=-1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)
    if base is not None:
        h = h / np.log(base)
    return np_reduce(h, reduction, weight)


def _ref_kl(log_q: np.ndarray, p: np.ndarray, *, axis: Any = -1, log_target: bool = False,
            reduction: str = "mean", weight: np.ndarray | None = None) -> np.ndarray:
    pp = np.exp(p) if log_target else np.asarray(p, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pp > 0, pp * (np.log(np.where(pp > 0, pp, 1.0)) - log_q), 0.0)
    return np_reduce(np.sum(terms, axis=axis), reduction, weight)


def _entropy_torch(p: Any, *, axis: int = -1, from_logits: bool = False,
                   base: float | None = None, reduction: str = "mean") -> Any:
    import torch

    x = torch.movedim(p, axis, -1)
    if from_logits:
        h = torch.distributions.Categorical(logits=x).entropy()
    else:
        h = torch.special.entr(x).sum(-1)
    if base is not None:
        h = h / math.log(base)
    return _reduce_any(h, reduction)


def _entropy_scipy(p: Any, *, axis: int = -1, base: float | None = None,
                   reduction: str = "mean") -> Any:
    import scipy.stats

    return _reduce_any(np.asarray(scipy.stats.entropy(p, base=base, axis=axis)), reduction)


def _torch_kl(log_q: Any, p: Any, *, axis: int = -1, log_target: bool = False,
              weight: Any = None, reduction: str = "mean") -> Any:
    import torch.nn.functional as F

    per = F.kl_div(log_q, p, reduction="none", log_target=log_target).sum(axis)
    return _reduce_any(per, reduction, weight)


def _scipy_kl(log_q: Any, p: Any, *, axis: int = -1, weight: Any = None,
              reduction: str = "mean") -> Any:
    import scipy.special

    per = scipy.special.rel_entr(p, np.exp(log_q)).sum(axis)
    return _reduce_any(np.asarray(per), reduction, weight)


def _optax_kl(log_q: Any, p: Any, *, axis: int = -1, log_target: bool = False,
              weight: Any = None, reduction: str = "mean") -> Any:
    import optax

    f = optax.losses.kl_divergence_with_log_targets if log_target else \
        optax.losses.kl_divergence
    return _reduce_any(f(log_q, p, axis=axis), reduction, weight)


def _ref_gkl(log_q: np.ndarray, p: np.ndarray, *, axis: int = -1, log_target: bool = False,
             reduction: str = "mean", weight: np.ndarray | None = None) -> np.ndarray:
    pp = np.exp(p) if log_target else np.asarray(p, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pp > 0, pp * (np.log(np.where(pp > 0, pp, 1.0)) - log_q), 0.0)
    return np_reduce(np.sum(terms - pp + np.exp(log_q), axis=axis), reduction, weight)


def _gkl_peer(optax_peer: bool) -> Callable[..., Any]:
    """optax's (last axis) or scipy's ``kl_div(p, q)`` summed over ``axis``."""
    def peer(log_q: Any, p: Any, *, axis: int = -1, weight: Any = None,
             reduction: str = "mean") -> Any:
        if optax_peer:
            import optax

            per = optax.losses.generalized_kl_divergence(log_q, p, axis=axis)
        else:
            import scipy.special

            per = np.asarray(scipy.special.kl_div(p, np.exp(log_q)).sum(axis))
        return _reduce_any(per, reduction, weight)

    return peer


_CW3 = _arrays(class_weight=lambda rng: np.array([1.0, 2.0, 0.5]))


RECORDS = [
    Record(
        name="entropy",
        family="categorical",
        fn=L.entropy,
        inputs="p: probabilities (or logits with from_logits=True), classes on `axis`",
        kind="distribution",
        cases=(
            Case("catalogue-none", _const(np.array([[0.7, 0.2, 0.1], [1.0, 0.0, 0.0]])),
                 {"reduction": "none"}, grad="finite", expected=[0.8018185, 0.0]),
            Case("catalogue-logits", _const(_LG), {"from_logits": True, "reduction": "none"},
                 expected=[0.8467382, 0.4760876, 1.0986123]),
            Case("masked-logit", _const(np.array([0.0, -np.inf, 1.0])), {"from_logits": True},
                 expected=0.5822031),
            Case("random-axis1-base2-weight", _rand_probs((2, 4, 3), axis=1),
                 {"axis": 1, "base": 2.0}, arrays=_arrays(weight=_uniform((2, 3)))),
            Case("random-axes-logits", lambda rng: (rng.normal(size=(3, 2, 4)) * 2,),
                 {"axis": (0, 2), "from_logits": True, "reduction": "none"}),
            Case("empty", _const(np.zeros((0, 3))), expected=0.0, peers=False),
        ),
        reference=_ref_entropy,
        peers=(
            Peer("torch.special.entr / torch.distributions.Categorical", "torch",
                 _entropy_torch, "torch", accepts=lambda o: _no("weight")(o) and _one_axis(o)),
            Peer("scipy.stats.entropy", "numpy", _entropy_scipy, "scipy",
                 accepts=lambda o: _no("weight", from_logits=False)(o) and _one_axis(o)),
        ),
        bad_options=(({"base": 1.0}, "base"), ({"base": -2.0}, "base"), ({"axis": 3}, "axis"),
                     ({"axis": (0, 0)}, "axis"), ({"from_logits": "yes"}, "from_logits")),
        bad_values=(BadValue("p", _const(np.array([[0.5, 1.5, -1.0]]))),),
        sized=_sized_dist,
    ),
    Record(
        name="cross_entropy",
        family="categorical",
        fn=L.cross_entropy,
        inputs=_CLASS_INPUTS + ", or dense probabilities of pred's shape",
        kind="class_logits",
        cases=(
            Case("catalogue-none", _const(_LG, _T), {"reduction": "none"},
                 expected=[0.4170299, 0.1531782, 1.0986123]),
            Case("catalogue-soft-none", _const(_LG, _SOFT), {"reduction": "none"},
                 expected=[0.8070299, 0.7031783, 1.0986123]),
            Case("catalogue-weights", _const(_LG, _T),
                 arrays=_arrays(weight=lambda rng: np.array([1.0, 0.5, 2.0]),
                                class_weight=lambda rng: np.array([1.0, 2.0, 0.5])),
                 expected=0.4768059),
            Case("catalogue-class-weight-smoothing", _const(_LG, _T),
                 {"class_weight": [1.0, 2.0, 0.5], "label_smoothing": 0.1}, expected=0.4467007),
            Case("catalogue-ignore-smoothing", _const(_LG, np.array([0, -100, 2])),
                 {"ignore_index": -100, "label_smoothing": 0.1}, expected=0.8061545),
            Case("catalogue-pixelwise", _const(_LG4, _LAB4), {"axis": 1}, expected=0.7213735),
            Case("all-ignored", _const(_LG, np.array([-100, -100, -100])),
                 {"ignore_index": -100}, expected=0.0, peers=False),
            Case("random-dense-axis1", _rand_labels((2, 4, 3), axis=1, dense=True),
                 {"axis": 1, "label_smoothing": 0.2}, arrays=_arrays(
                     class_weight=_uniform((4,), 0.2, 2.0))),
            # optax's example of its tuple axis (softmax_cross_entropy_with_integer_labels
            # docstring): a label is the flat index into the class axes' (3, 4) slice
            Case("catalogue-axes-none", _const(np.arange(24.0).reshape(1, 2, 3, 4),
                                               np.array([[5, 11]])),
                 {"axis": (2, 3), "reduction": "none"}, expected=[[6.458669, 0.4586690]]),
            Case("random-dense-axes-class-weight", _rand_labels((2, 3, 2, 2), dense=True),
                 {"axis": (3, 1), "label_smoothing": 0.1},
                 arrays=_arrays(class_weight=_uniform((6,), 0.2, 2.0))),
            Case("catalogue-probs-none", _const(np_softmax(_LG), _T),
                 {"from_logits": False, "reduction": "none"},
                 expected=[0.4170299, 0.1531782, 1.0986123]),
            Case("random-probs-ignore", _rand_prob_labels((5, 4), ignore=-1),
                 {"from_logits": False, "ignore_index": -1},
                 arrays=_arrays(class_weight=_uniform((4,), 0.2, 2.0))),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0,), np.int64)), expected=0.0,
                 peers=False),
        ),
        reference=_ref_class_loss(focal=False),
        peers=(
            Peer("torch.nn.functional.cross_entropy", "torch", _torch_ce, "torch",
                 accepts=lambda o: _no("weight")(o) and _one_axis(o)),
            Peer("optax.losses.softmax_cross_entropy[_with_integer_labels]", "jax", _optax_ce,
                 "optax", accepts=lambda o: _no("weight", "class_weight", "ignore_index",
                                                  from_logits=True)(o)
                 and (_one_axis(o) or not o.get("label_smoothing")), jit=True),
            Peer("keras.losses.(sparse_)categorical_crossentropy", "numpy", _keras_ce, "keras",
                 rtol=1e-5, accepts=lambda o: _no("weight", "class_weight")(o) and not (
                       o.get("ignore_index") is not None and o.get("label_smoothing"))
                 and _one_axis(o)),
        ),
        bad_options=(({"class_weight": [1.0, 2.0]}, "class_weight"),
                     ({"class_weight": 2.0}, "class_weight"),
                     ({"label_smoothing": 2.0}, "label_smoothing"),
                     ({"label_smoothing": -0.5}, "label_smoothing"),
                     ({"axis": (1, -1)}, "axis"), ({"axis": (0, 2)}, "axis"),
                     ({"from_logits": "no"}, "from_logits"), *_CLASS_BAD_OPTIONS),
        bad_values=(*_BAD_LABELS,
                    BadValue("pred", _const(_LG, _T), {"from_logits": False}),
                    BadValue("target", _const(_LG, _SOFT - 0.2)),
                    BadValue("class_weight", _const(_LG, _T),
                             {"class_weight": [1.0, -1.0, 1.0]})),
        bad_shape=_class_bad_shape,
        sized=_sized_class,
    ),
    Record(
        name="kl_divergence",
        family="categorical",
        fn=L.kl_divergence,
        inputs="log_q: log-probabilities; p: same-shape probabilities (log P with log_target)",
        kind="log_dist",
        grad_args=(0, 1),
        cases=(
            Case("catalogue-none",
                 _const(np.log([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]]),
                        np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])),
                 {"reduction": "none"}, grad="finite", expected=[0.0851228, 0.6931472]),
            Case("catalogue-masked", _const(np.array([[0.0, -np.inf]]), np.array([[1.0, 0.0]])),
                 {"reduction": "none"}, grad="finite", expected=[0.0], peers=False),
            Case("random-axis1-weight", _rand_log_dist((2, 4, 3), axis=1), {"axis": 1},
                 arrays=_arrays(weight=_uniform((2, 3)))),
            Case("random-log-target-sum", _rand_log_dist((3, 5), log_target=True),
                 {"log_target": True, "reduction": "sum"}),
            Case("random-axes", _rand_log_dist((3, 2, 4)), {"axis": (0, 2)}),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0, 3))), expected=0.0,
                 peers=False),
        ),
        reference=_ref_kl,
        peers=(
            Peer("torch.nn.functional.kl_div", "torch", _torch_kl, "torch"),
            Peer("scipy.special.rel_entr", "numpy", _scipy_kl, "scipy",
                 accepts=_no(log_target=False)),
            Peer("optax.losses.kl_divergence[_with_log_targets]", "jax", _optax_kl, "optax",
                 jit=True),
        ),
        bad_options=(({"log_target": "no"}, "log_target"), ({"axis": 2}, "axis"),
                     ({"axis": (1, 1)}, "axis")),
        bad_values=(BadValue("p", _const(np.log([[0.5, 0.5]]), np.array([[1.1, -0.1]]))),
                    BadValue("p", _const(np.log([[0.5, 0.5]]), np.array([[0.5, -0.5]])),
                             {"log_target": True})),
        bad_shape=lambda rng: (np.zeros((3, 4)), np.zeros((3, 5))),
        perfect=_perfect_kl,
        sized=_sized_log_dist,
    ),
    Record(
        name="softmax_focal_loss",
        family="categorical",
        fn=L.softmax_focal_loss,
        inputs=_CLASS_INPUTS + ", or dense probabilities of pred's shape",
        kind="class_logits",
        cases=(
            Case("catalogue-none", _const(_LG, _T), {"reduction": "none"},
                 expected=[0.0484923, 0.0030897, 0.4882722]),
            Case("catalogue-alpha", _const(_LG, _T), {"alpha": [0.75, 0.25, 0.25],
                                                      "reduction": "none"},
                 expected=[0.0363692, 0.0007724, 0.1220680]),
            Case("catalogue-class-weight", _const(_LG, _T), arrays=_CW3, expected=0.0853737),
            Case("catalogue-soft-none", _const(_LG, _SOFT), {"reduction": "none"},
                 expected=[0.3848716, 0.5173228, 0.4882722], peers=False),
            Case("random-axis1-ignore", _rand_labels((2, 4, 3), axis=1, ignore=-1),
                 {"axis": 1, "gamma": 0.5, "ignore_index": -1},
                 arrays=_arrays(weight=_uniform((2, 3)))),
            Case("random-smoothing-ignore", _rand_labels((5, 3), ignore=-1),
                 {"label_smoothing": 0.2, "ignore_index": -1, "alpha": [0.5, 0.2, 0.3]},
                 arrays=_CW3),
            Case("random-axes-alpha", lambda rng: (rng.normal(size=(4, 2, 3)) * 2,
                                                   rng.integers(0, 6, size=(4,))),
                 {"axis": (2, 1), "gamma": 1.5}, arrays=_arrays(alpha=_uniform((6,), 0.1, 0.9))),
        ),
        reference=_ref_class_loss(focal=True),
        peers=(
            Peer("kornia.losses.focal_loss", "torch", _kornia_softmax_focal, "kornia",
                 rtol=1e-6, accepts=lambda o: _no("class_weight", "ignore_index",
                                                  "label_smoothing")(o) and _one_axis(o)),
        ),
        bad_options=(({"alpha": 0.25}, "alpha"), ({"alpha": [0.5, 0.5]}, "alpha"),
                     ({"axis": (0, 0)}, "axis"),
                     ({"gamma": -1.0}, "gamma"), ({"class_weight": [1.0]}, "class_weight"),
                     ({"label_smoothing": 1.5}, "label_smoothing"),
                     *_CLASS_BAD_OPTIONS),
        bad_values=(*_BAD_LABELS,
                    BadValue("alpha", _const(_LG, _T), {"alpha": [0.5, 1.5, 0.5]})),
        bad_shape=_class_bad_shape,
        sized=_sized_class,
    ),
    Record(
        name="generalized_kl_divergence",
        family="categorical",
        fn=L.generalized_kl_divergence,
        inputs="log_q: log-measure; p: same-shape measure >= 0 (log P with log_target)",
        kind="log_dist",
        grad_args=(0, 1),
        cases=(
            Case("catalogue-none", _const(np.log([[0.5, 0.6, 0.2], [1.0, 0.25, 0.5]]),
                                          np.array([[1.4, 0.2, 0.1], [0.5, 2.0, 0.0]])),
                 {"reduction": "none"}, grad="finite", expected=[0.7524300, 3.062309]),
            Case("catalogue-normalised",
                 _const(np.log([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]]),
                        np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])),
                 {"reduction": "none"}, grad="finite", expected=[0.0851228, 0.6931472]),
            Case("masked", _const(np.array([[0.0, -np.inf]]), np.array([[1.0, 0.0]])),
                 {"reduction": "none"}, grad="finite", expected=[0.0], peers=False),
            Case("random-axis1-weight", lambda rng: (rng.normal(size=(2, 4, 3)), rng.uniform(
                0.1, 2.0, (2, 4, 3))), {"axis": 1}, arrays=_arrays(weight=_uniform((2, 3)))),
            Case("random-log-target-sum", _rand_log_dist((3, 5), log_target=True),
                 {"log_target": True, "reduction": "sum"}),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0, 3))), expected=0.0,
                 peers=False),
        ),
        reference=_ref_gkl,
        peers=(
            Peer("optax.losses.generalized_kl_divergence", "jax", _gkl_peer(True), "optax",
                 accepts=_no(log_target=False), jit=True),
            Peer("scipy.special.kl_div", "numpy", _gkl_peer(False), "scipy",
                 accepts=_no(log_target=False)),
        ),
        bad_options=(({"log_target": "no"}, "log_target"), ({"axis": 2}, "axis")),
        bad_values=(BadValue("p", _const(np.log([[0.5, 0.5]]), np.array([[1.5, -0.1]]))),),
        bad_shape=lambda rng: (np.zeros((3, 4)), np.zeros((3, 5))),
        perfect=_perfect_kl,
        sized=_sized_log_dist,
    ),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _hw_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> Any:
    if labels.shape == logits.shape:
        return np.mean(-np.sum(labels * _hw_log_softmax(logits), axis=-1))
    m = np.max(logits, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(logits - m), axis=-1)) + m[..., 0]
    picked = np.take_along_axis(logits, labels[..., None].astype(np.intp), axis=-1)[..., 0]
    return np.mean(lse - picked)


def _hw_kl(log_q: np.ndarray, p: np.ndarray) -> Any:
    safe = np.where(p > 0, p, 1)
    return np.mean(np.sum(np.where(p > 0, p * (np.log(safe) - log_q), 0), axis=-1))


def _hw_entropy(p: np.ndarray) -> Any:
    safe = np.where(p > 0, p, 1)
    return np.mean(-np.sum(p * np.log(safe), axis=-1))


RECORDS = timed(RECORDS, {
    "entropy": {"peers": (yardstick(_hw_entropy),)},
    "cross_entropy": {"peers": (yardstick(_hw_cross_entropy),)},
    "kl_divergence": {"peers": (yardstick(_hw_kl),)},
    "softmax_focal_loss": {},
})

_PT = "probability of the true class (3 classes)"
RECORDS = drawn(RECORDS, {
    "entropy": Figure("probability of class 0 (two more share the rest)", (0.01, 0.99),
                      lambda x, v: (np.exp(FIG.true_class_logits(x)),), "base",
                      (2.0, math.e, 10.0)),
    "cross_entropy": Figure(_PT, (0.01, 0.99), FIG.true_class, "label_smoothing",
                            (0.0, 0.1, 0.3)),
    "kl_divergence": Figure(
        "predicted probability q of class 0", (0.01, 0.99),
        lambda x, v: (FIG.true_class_logits(x), np.exp(FIG.true_class_logits(x * 0 + v))),
        "p_0", (0.2, 0.5, 0.8)),
    "softmax_focal_loss": Figure(_PT, (0.01, 0.99), FIG.true_class, "gamma",
                                 (0.0, 1.0, 2.0, 5.0)),
    "generalized_kl_divergence": Figure(
        "predicted measure q", (0.05, 4.0),
        lambda x, v: (np.log(x)[:, None], np.full((len(x), 1), v)), "target p", (0.5, 1.0, 2.0)),
})
