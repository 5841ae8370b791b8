"""Catalogue records of the regression family (the catalogue's regression part)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed, yardstick
from . import _figures as FIG
from ._likelihood import RECORDS as _LIKELIHOOD
from ._likelihood import TIMING as _LIKELIHOOD_TIMING

# Shared data of the regression examples: r = [0.5, 2.0, -1.0, 2.0, -0.2].
_P = np.array([0.5, 2.0, -1.0, 3.0, 0.0])
_T = np.array([0.0, 0.0, 0.0, 1.0, 0.2])


def _shared(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return _P.copy(), _T.copy()


def _residuals(shape: tuple[int, ...], kinks: tuple[float, ...]) -> Callable[..., Any]:
    """A maker of (pred, target) whose residual magnitudes stay >= 0.05 away from ``kinks``
    (and from 0), so finite differences are valid."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        target = rng.normal(size=shape)
        mag = rng.uniform(0.05, 3.0, size=shape)
        for k in kinks:
            close = np.abs(mag - k) < 0.05
            mag = np.where(close, k + 0.1, mag)
        sign = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
        return target + sign * mag, target

    return make


def _sized(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return rng.normal(size=(n,)), rng.normal(size=(n,))


def _empty(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return np.zeros((0,)), np.zeros((0,))


def _row_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"weight": rng.uniform(0.0, 2.0, size=(4,))}


def _bad_shape(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return np.zeros((3, 4)), np.zeros((4,))


def _common_cases(kinks: tuple[float, ...], options: Mapping[str, Any]) -> list[Case]:
    o = dict(options)
    return [
        Case("random-mean", _residuals((6, 4), kinks), o),
        Case("random-none", _residuals((3, 2, 2), kinks), {**o, "reduction": "none"}),
        Case("random-sum-weight", _residuals((5, 4), kinks), {**o, "reduction": "sum"},
             arrays=_row_weight),
        Case("random-mean-weight", _residuals((5, 4), kinks), o, arrays=_row_weight),
        Case("empty", _empty, o, expected=0.0, peers=False),
    ]


def _perfect(args: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return args[1].copy(), args[1]


def _torch_native(name: str, **rename: str) -> Peer:
    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        import torch.nn.functional as F

        kw = {rename.get(k, k): v for k, v in options.items()}
        return getattr(F, name)(pred, target, reduction=reduction, **kw)

    return Peer(f"torch.nn.functional.{name}", "torch", fn, "torch",
                accepts=lambda o: "weight" not in o)


def _reduce_any(loss: Any, reduction: str, weight: Any) -> Any:
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _optax_native(name: str, **rename: str) -> Peer:
    def fn(pred: Any, target: Any, *, reduction: str = "mean", weight: Any = None,
           **options: Any) -> Any:
        import optax

        kw = {rename.get(k, k): v for k, v in options.items()}
        return _reduce_any(getattr(optax.losses, name)(pred, target, **kw), reduction, weight)

    return Peer(f"optax.losses.{name}", "jax", fn, "optax", jit=True)


def _keras_native(name: str, **rename: str) -> Peer:
    """keras reduces over the last axis per sample: the mean of those is arrayloss's mean."""

    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        import keras

        kw = {rename.get(k, k): v for k, v in options.items()}
        out = getattr(keras.losses, name)(target, pred, **kw)
        return np.asarray(keras.ops.convert_to_numpy(out)).mean()

    return Peer(f"keras.losses.{name}", "numpy", fn, "keras", rtol=1e-5,
                accepts=lambda o: o.get("reduction", "mean") == "mean" and "weight" not in o)


# --- float64 NumPy references, written directly from the formulas (piecewise, not clipped)


def _ref(elementwise: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def ref(pred: np.ndarray, target: np.ndarray, *, reduction: str = "mean",
            weight: np.ndarray | None = None, **options: Any) -> np.ndarray:
        r = np.asarray(pred, np.float64) - np.asarray(target, np.float64)
        return np_reduce(elementwise(r, **options), reduction, weight)

    return ref


def _ref_smooth_l1(r: np.ndarray, beta: float = 1.0) -> np.ndarray:
    a = np.abs(r)
    if beta == 0:
        return a
    return np.where(a < beta, 0.5 * r**2 / beta, a - 0.5 * beta)


def _ref_huber(r: np.ndarray, delta: float = 1.0) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta))


def _ref_tukey(r: np.ndarray, c: float = 4.685, scale: Any = "mad") -> np.ndarray:
    if isinstance(scale, str):
        if r.shape[0] == 0:
            return r
        mad = np.median(np.abs(r - np.median(r, axis=0)), axis=0)
        s = 1.4826 * np.maximum(mad, 1e-12)
    else:
        s = 1.0 if scale is None else scale
    u = r / s
    inside = (c**2 / 6) * (1 - (1 - (u / c) ** 2) ** 3)
    return np.where(np.abs(u) <= c, inside, c**2 / 6)


def _ref_log_cosh(r: np.ndarray) -> np.ndarray:
    # log(cosh r) = logaddexp(r, -r) - log 2: an independent stable form
    return np.logaddexp(r, -r) - np.log(2.0)


def _ref_mape(pred: np.ndarray, target: np.ndarray, *, eps: float = 1e-7,
              percent: bool = True, reduction: str = "mean",
              weight: np.ndarray | None = None) -> np.ndarray:
    p, t = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    frac = np.abs(p - t) / np.maximum(np.abs(t), eps)
    return np_reduce(100.0 * frac if percent else frac, reduction, weight)


def _ref_msle(pred: np.ndarray, target: np.ndarray, *, reduction: str = "mean",
              weight: np.ndarray | None = None) -> np.ndarray:
    p, t = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    # log(1 + x) of the clamped values, written as a log of a ratio
    return np_reduce(np.log((1.0 + np.maximum(p, 0.0)) / (1.0 + t)) ** 2, reduction, weight)


def _nonnegative(shape: tuple[int, ...]) -> Callable[..., Any]:
    """Targets in [0, 3] and predictions in [-1, 4] kept >= 0.05 away from 0 (the clamp)."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        pred = rng.uniform(-1.0, 4.0, size=shape)
        return np.where(np.abs(pred) < 0.05, 0.1, pred), rng.uniform(0.0, 3.0, size=shape)

    return make


def _sized_nonnegative(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return rng.uniform(0.0, 4.0, size=(n,)), rng.uniform(0.0, 4.0, size=(n,))


def _keras_default(name: str, defaults: Mapping[str, Any], rtol: float = 1e-5) -> Peer:
    """A keras function that has no options: it covers the cases whose options are its
    built-in ones."""
    peer = _keras_native(name)

    def fn(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
        return peer.fn(pred, target, reduction=reduction)

    def accepts(o: Mapping[str, Any]) -> bool:
        rest = {k: v for k, v in o.items() if k != "reduction"}
        return peer.accepts(o) and all(rest.get(k, v) == v for k, v in defaults.items()) \
            and set(rest) <= set(defaults)

    return dataclasses.replace(peer, fn=fn, accepts=accepts, rtol=rtol)


_MP = np.array([[1.5, -1.0, 0.0], [3.0, 0.2, 2.0]])
_MY = np.array([[1.0, -2.0, 0.5], [4.0, 0.0, 2.0]])
_LY = np.array([[0.0, 1.0, 3.0], [10.0, 0.5, 2.0]])
_LP = np.array([[0.5, 1.0, 2.0], [8.0, 0.0, 0.0]])


def _fixed(*arrays: np.ndarray) -> Callable[..., tuple[np.ndarray, ...]]:
    return lambda rng: tuple(a.copy() for a in arrays)


_SHARED = "pred, target: floating arrays of the same shape (any rank)"

RECORDS = [
    Record(
        name="l1_loss",
        family="regression",
        fn=L.l1_loss,
        inputs=_SHARED,
        cases=(
            Case("catalogue", _shared, expected=1.14),
            Case("catalogue-none", _shared, {"reduction": "none"},
                 expected=[0.5, 2.0, 1.0, 2.0, 0.2]),
            *_common_cases((), {}),
            Case("kink", lambda rng: (np.array([1.0, -1.0, 0.0]), np.zeros(3)), grad="finite"),
        ),
        reference=_ref(np.abs),
        peers=(_torch_native("l1_loss"), _keras_native("mean_absolute_error")),
        bad_shape=_bad_shape,
        perfect=_perfect,
        symmetric=True,
        sized=_sized,
    ),
    Record(
        name="mse_loss",
        family="regression",
        fn=L.mse_loss,
        inputs=_SHARED,
        cases=(
            Case("catalogue", _shared, expected=1.858),
            Case("catalogue-none", _shared, {"reduction": "none"},
                 expected=[0.25, 4.0, 1.0, 4.0, 0.04]),
            *_common_cases((), {}),
        ),
        reference=_ref(lambda r: r * r),
        peers=(_torch_native("mse_loss"), _optax_native("squared_error"),
                 _keras_native("mean_squared_error")),
        bad_shape=_bad_shape,
        perfect=_perfect,
        symmetric=True,
        sized=_sized,
    ),
    Record(
        name="smooth_l1_loss",
        family="regression",
        fn=L.smooth_l1_loss,
        inputs=_SHARED,
        cases=(
            Case("catalogue", _shared, expected=0.729),
            Case("catalogue-beta", _shared, {"beta": 0.5, "reduction": "none"},
                 expected=[0.25, 1.75, 0.75, 1.75, 0.04]),
            Case("catalogue-beta0", _shared, {"beta": 0.0}, expected=1.14),
            *_common_cases((1.0,), {}),
            *_common_cases((1.0 / 9.0,), {"beta": 1.0 / 9.0})[:2],
            Case("kink", lambda rng: (np.array([1.0, -1.0, 0.0]), np.zeros(3)),
                 {"reduction": "sum"}, grad="finite"),
        ),
        reference=_ref(_ref_smooth_l1),
        peers=(_torch_native("smooth_l1_loss"),),
        bad_options=(({"beta": -1.0}, "beta"), ({"beta": float("nan")}, "beta")),
        bad_shape=_bad_shape,
        perfect=_perfect,
        symmetric=True,
        sized=_sized,
    ),
    Record(
        name="huber_loss",
        family="regression",
        fn=L.huber_loss,
        inputs=_SHARED,
        cases=(
            Case("catalogue", _shared, expected=0.729),
            Case("catalogue-delta", _shared, {"delta": 0.5, "reduction": "none"},
                 expected=[0.125, 0.875, 0.375, 0.875, 0.02]),
            *_common_cases((1.0,), {}),
            *_common_cases((0.5,), {"delta": 0.5})[:2],
        ),
        reference=_ref(_ref_huber),
        peers=(_torch_native("huber_loss"), _optax_native("huber_loss"),
                 _keras_native("huber")),
        bad_options=(({"delta": 0.0}, "delta"), ({"delta": -1.0}, "delta")),
        bad_shape=_bad_shape,
        perfect=_perfect,
        symmetric=True,
        sized=_sized,
    ),
    Record(
        name="tukey_biweight_loss",
        family="regression",
        fn=L.tukey_biweight_loss,
        inputs=_SHARED + "; axis 0 is the batch over which the MAD scale is taken",
        cases=(
            Case("catalogue-unscaled", _shared, {"scale": None, "reduction": "none"},
                 expected=[0.1235817, 1.6576631, 0.4775661, 1.6576631, 0.0199636]),
            Case("catalogue-mad", _shared, {"reduction": "none"}, grad="autodiff",
                 expected=[0.0252162, 0.3896714, 0.1001688, 0.3896714, 0.0040424]),
            Case("catalogue-scale2", _shared, {"scale": 2.0}, expected=0.2229745),
            Case("catalogue-outlier",
                 lambda rng: (np.array([0.1, -0.2, 0.15, 10.0]), np.zeros(4)),
                 {"scale": None, "reduction": "none"}, grad="finite",
                 expected=[0.0049977, 0.0199636, 0.0112385, 3.6582042]),
            Case("catalogue-2d",
                 lambda rng: (np.array([[1.0, 0], [2, 1], [0, -1], [5, 0.5]]), np.zeros((4, 2))),
                 grad="finite", expected=0.7755177),
            Case("random-mad-even", _residuals((6, 3), ()), grad="autodiff"),
            Case("random-mad-odd", _residuals((7, 2, 2), ()), {"reduction": "none"},
                 grad="autodiff"),
            *_common_cases((), {"scale": 1.5}),
            Case("empty-mad", _empty, expected=0.0),
        ),
        reference=_ref(_ref_tukey),
        bad_options=(({"c": 0.0}, "c"), ({"c": -1.0}, "c"), ({"scale": 0.0}, "scale"),
                     ({"scale": -2.0}, "scale"), ({"scale": "std"}, "scale")),
        bad_shape=_bad_shape,
        perfect=_perfect,
        symmetric=True,
        sized=_sized,
        notes="MAD scale per output coordinate over axis 0, without gradient",
    ),
    *_LIKELIHOOD,
    Record(
        name="mape_loss",
        family="regression",
        fn=L.mape_loss,
        inputs=_SHARED,
        cases=(
            Case("catalogue", _fixed(np.array([90.0, 210.0, 310.0]),
                                     np.array([100.0, 200.0, 300.0])), expected=6.111111),
            Case("catalogue-none", _fixed(_MP, _MY), {"reduction": "none"}, grad="finite",
                 expected=[[50.0, 50.0, 100.0], [25.0, 2.0e8, 0.0]]),
            Case("catalogue-row", _fixed(_MP[:1], _MY[:1]), expected=66.66667),
            Case("catalogue-fraction", _fixed(_MP[:1], _MY[:1]), {"percent": False},
                 expected=0.6666667),
            *_common_cases((), {}),
            Case("random-fraction-eps", _residuals((4, 3), ()),
                 {"percent": False, "eps": 0.5, "reduction": "none"}),
        ),
        reference=_ref_mape,
        peers=(_keras_default("mean_absolute_percentage_error", {"eps": 1e-7, "percent": True}),),
        bad_options=(({"eps": 0.0}, "eps"), ({"eps": -1.0}, "eps"), ({"percent": 1}, "percent")),
        bad_shape=_bad_shape,
        perfect=_perfect,
        sized=_sized,
    ),
    Record(
        name="msle_loss",
        family="regression",
        fn=L.msle_loss,
        inputs="pred: floating array (clamped at 0); target: values >= 0 of the same shape",
        kind="nonnegative",
        cases=(
            Case("catalogue", _fixed(_LP, _LY), {"reduction": "none"}, grad="finite",
                 expected=[[0.1644020, 0.0, 0.0827610], [0.0402687, 0.1644020, 1.206949]]),
            Case("catalogue-mean", _fixed(_LP, _LY), grad="finite", expected=0.2764638),
            Case("random-mean", _nonnegative((6, 4))),
            Case("random-none", _nonnegative((3, 2, 2)), {"reduction": "none"}),
            Case("random-sum-weight", _nonnegative((5, 4)), {"reduction": "sum"},
                 arrays=_row_weight),
            Case("random-mean-weight", _nonnegative((5, 4)), arrays=_row_weight),
            Case("empty", _empty, expected=0.0, peers=False),
        ),
        reference=_ref_msle,
        peers=(_keras_default("mean_squared_logarithmic_error", {}),),
        bad_values=(BadValue("target", _fixed(_LP, -_LY)),),
        bad_shape=_bad_shape,
        perfect=_perfect,
        symmetric=True,
        sized=_sized_nonnegative,
        notes="negative predictions are clamped at 0 (zero gradient), as Keras",
    ),
    Record(
        name="log_cosh_loss",
        family="regression",
        fn=L.log_cosh_loss,
        inputs=_SHARED,
        cases=(
            Case("catalogue", _shared, expected=0.6447538),
            Case("catalogue-none", _shared, {"reduction": "none"},
                 expected=[0.1201145, 1.3250027, 0.4337808, 1.3250027, 0.0198681]),
            Case("large-residual", lambda rng: (np.array([800.0, -1000.0, 1000.0]), np.zeros(3)),
                 {"reduction": "none"}, expected=[799.3068528, 999.3068528, 999.3068528]),
            *_common_cases((), {}),
        ),
        reference=_ref(_ref_log_cosh),
        peers=(_optax_native("log_cosh"), _keras_native("log_cosh")),
        bad_shape=_bad_shape,
        perfect=_perfect,
        symmetric=True,
        sized=_sized,
    ),
]


_LOG2 = math.log(2.0)


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_l1(p: np.ndarray, t: np.ndarray) -> Any:
    return np.mean(np.abs(p - t))


def _hw_mse(p: np.ndarray, t: np.ndarray) -> Any:
    r = p - t
    return np.mean(r * r)


def _hw_smooth_l1(p: np.ndarray, t: np.ndarray) -> Any:
    a = np.abs(p - t)
    return np.mean(np.where(a < 1.0, 0.5 * a * a, a - 0.5))


def _hw_huber(p: np.ndarray, t: np.ndarray) -> Any:
    a = np.abs(p - t)
    return np.mean(np.where(a <= 1.0, 0.5 * a * a, a - 0.5))


def _hw_log_cosh(p: np.ndarray, t: np.ndarray) -> Any:
    a = np.abs(p - t)
    return np.mean(a + np.log1p(np.exp(-2.0 * a)) - np.float32(_LOG2))


def _hw_tukey(p: np.ndarray, t: np.ndarray, c: float = 4.685) -> Any:
    r = p - t
    mad = np.median(np.abs(r - np.median(r, axis=0)), axis=0)
    u = r / (np.float32(1.4826) * np.maximum(mad, np.float32(1e-12)))
    q = np.minimum((u / np.float32(c)) ** 2, np.float32(1.0))
    return np.mean(np.float32(c * c / 6.0) * (1.0 - (1.0 - q) ** 3))


def _hw_mape(p: np.ndarray, t: np.ndarray) -> Any:
    return np.mean(100.0 * np.abs(p - t) / np.maximum(np.abs(t), np.float32(1e-7)))


def _hw_msle(p: np.ndarray, t: np.ndarray) -> Any:
    d = np.log1p(np.maximum(p, 0.0)) - np.log1p(t)
    return np.mean(d * d)


RECORDS = timed(RECORDS, {
    **_LIKELIHOOD_TIMING,
    "mape_loss": {"peers": (yardstick(_hw_mape),)},
    "msle_loss": {"peers": (yardstick(_hw_msle),)},
    "l1_loss": {"peers": (yardstick(_hw_l1),), "goals": ("memory-bound",)},
    "mse_loss": {"peers": (yardstick(_hw_mse),), "goals": ("memory-bound",)},
    "smooth_l1_loss": {"peers": (yardstick(_hw_smooth_l1),), "goals": ("memory-bound",)},
    "huber_loss": {"peers": (yardstick(_hw_huber),), "goals": ("memory-bound",)},
    "log_cosh_loss": {"peers": (yardstick(_hw_log_cosh),)},
    "tukey_biweight_loss": {"peers": (yardstick(_hw_tukey),)},
})

_R = "residual pred - target"
RECORDS = drawn(RECORDS, {
    "l1_loss": Figure(_R, (-3.0, 3.0), FIG.residual),
    "mse_loss": Figure(_R, (-3.0, 3.0), FIG.residual),
    "smooth_l1_loss": Figure(_R, (-3.0, 3.0), FIG.residual, "beta", (0.5, 1.0, 2.0)),
    "huber_loss": Figure(_R, (-3.0, 3.0), FIG.residual, "delta", (0.5, 1.0, 2.0)),
    "tukey_biweight_loss": Figure(_R, (-6.0, 6.0), FIG.residual, "c", (2.0, 3.0, 4.685),
                                  {"scale": None}),
    "poisson_nll_loss": Figure("predicted log-rate", (-3.0, 3.0), FIG.versus, "target",
                               (0.0, 1.0, 3.0)),
    "gaussian_nll_loss": Figure(_R, (-3.0, 3.0), lambda x, v: (*FIG.residual(x),
                                                               np.full_like(x, v)),
                                "var", (0.25, 1.0, 4.0)),
    "mape_loss": Figure("pred (target 1)", (-1.0, 3.0), FIG.versus),
    "msle_loss": Figure("pred", (0.0, 5.0), FIG.versus, "target", (0.5, 1.0, 3.0)),
    "log_cosh_loss": Figure(_R, (-3.0, 3.0), FIG.residual),
})
