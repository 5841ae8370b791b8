"""Catalogue records of the two likelihood losses of the regression family,
``poisson_nll_loss`` and ``gaussian_nll_loss``: their inputs (counts, variances), float64
references, peers and timing yardsticks. ``catalog.regression`` lists them in its
``RECORDS``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Peer, Record, np_reduce, yardstick

# the catalogue's examples: log-rates z (or rates lam) and counts y; means, observations and
# variances (the last one below eps = 1e-6)
_Z = np.array([0.5, -1.0, 2.0, 0.0])
_LAM = np.array([2.0, 0.5, 1.0, 0.0])
_Y = np.array([1.0, 0.0, 5.0, 3.0])
_MU = np.array([0.5, 2.0, -1.0, 3.0])
_OBS = np.array([0.0, 0.0, 0.0, 1.0])
_VAR = np.array([1.0, 4.0, 0.25, 1e-8])

Maker = Callable[[np.random.Generator], tuple[np.ndarray, ...]]


def _fixed(*arrays: np.ndarray) -> Maker:
    return lambda rng: tuple(a.copy() for a in arrays)


def _no_weight(o: Any) -> bool:
    return "weight" not in o


# --- Poisson


def _counts(shape: tuple[int, ...], log_input: bool = True, real: bool = False) -> Maker:
    """Log-rates (or rates in [0.1, 4]) and Poisson counts (or real values in [0, 6])."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        pred = rng.normal(0.3, 0.8, size=shape) if log_input else rng.uniform(0.1, 4.0, shape)
        y = rng.uniform(0.0, 6.0, shape) if real else rng.poisson(2.0, shape).astype(float)
        return pred, y

    return make


def _row_weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"weight": rng.uniform(0.0, 2.0, size=(4,))}


def _ref_poisson(pred: np.ndarray, target: np.ndarray, *, log_input: bool = True,
                 full: bool = False, eps: float = 1e-8, reduction: str = "mean",
                 weight: np.ndarray | None = None) -> np.ndarray:
    x, y = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    if log_input:
        loss = np.exp(x) - y * x
    else:
        with np.errstate(divide="ignore"):
            loss = x - np.where(y == 0, 0.0, y * np.log(x + eps))
    if full:
        # log(y!) by Stirling's series where y > 1 (log 0! = log 1! = 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y)
        loss = loss + np.where(y > 1, s, 0.0)
    return np_reduce(loss, reduction, weight)


def _torch_poisson(pred: Any, target: Any, *, reduction: str = "mean", **options: Any) -> Any:
    import torch.nn.functional as F

    return F.poisson_nll_loss(pred, target, reduction=reduction, **options)


def _keras_poisson(pred: Any, target: Any, **options: Any) -> Any:
    """keras's rate form with eps 1e-7, averaged over the last axis, then over samples."""
    import keras

    out = keras.losses.poisson(target, pred)
    return np.asarray(keras.ops.convert_to_numpy(out)).mean()


def _keras_poisson_accepts(o: Any) -> bool:
    return (o.get("log_input") is False and o.get("eps") == 1e-7 and not o.get("full")
            and o.get("reduction", "mean") == "mean" and "weight" not in o)


def _bad_shape(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return np.zeros((3, 4)), np.zeros((4,))


def _sized_poisson(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return rng.normal(0.3, 0.8, size=(n,)), rng.poisson(2.0, size=(n,)).astype(float)


def _hw_poisson(z: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(np.exp(z) - y * z)


POISSON = Record(
    name="poisson_nll_loss",
    family="regression",
    fn=L.poisson_nll_loss,
    inputs="pred: log-rates (or rates >= 0 with log_input=False); target: counts >= 0 of the "
           "same shape (any rank)",
    kind="nonnegative",
    cases=(
        Case("catalogue", _fixed(_Z, _Y), {"reduction": "none"},
             expected=[1.148721, 0.3678794, -2.610944, 1.0]),
        Case("catalogue-mean", _fixed(_Z, _Y), expected=-0.0235858),
        Case("catalogue-full", _fixed(_Z, _Y), {"full": True, "reduction": "none"},
             expected=[1.148721, 0.3678794, 2.159903, 2.764082]),
        Case("catalogue-full-mean", _fixed(_Z, _Y), {"full": True}, expected=1.610146),
        Case("catalogue-rate", _fixed(_LAM, _Y), {"log_input": False, "reduction": "none"},
             grad="autodiff", expected=[1.306853, 0.5, 0.99999995, 55.26204]),
        Case("catalogue-rate-keras", _fixed(_LAM, _Y), {"log_input": False, "eps": 1e-7},
             grad="autodiff", expected=12.79028),
        Case("rate-eps0", _fixed(np.array([0.0, 0.5, 2.0]), np.array([0.0, 1.0, 3.0])),
             {"log_input": False, "eps": 0.0, "reduction": "none"}, grad="finite",
             expected=[0.0, 1.193147, -0.0794415], peers=False),  # torch: 0 log 0 = NaN
        Case("random-mean", _counts((6, 4))),
        Case("random-none-full", _counts((3, 2, 4), real=True),
             {"full": True, "reduction": "none"}),
        Case("random-rate-sum", _counts((5, 4), log_input=False),
             {"log_input": False, "eps": 1e-7, "reduction": "sum"}),
        Case("random-rate-keras", _counts((5, 4), log_input=False),
             {"log_input": False, "eps": 1e-7}),
        Case("random-sum-weight", _counts((5, 4)), {"reduction": "sum"}, arrays=_row_weight),
        Case("random-mean-weight", _counts((5, 4), log_input=False),
             {"log_input": False, "full": True}, arrays=_row_weight),
        Case("empty", _fixed(np.zeros((0,)), np.zeros((0,))), expected=0.0, peers=False),
    ),
    reference=_ref_poisson,
    peers=(Peer("torch.nn.functional.poisson_nll_loss", "torch", _torch_poisson, "torch",
                accepts=_no_weight),
           Peer("keras.losses.poisson", "numpy", _keras_poisson, "keras", rtol=1e-5,
                accepts=_keras_poisson_accepts)),
    bad_options=(({"eps": -1.0}, "eps"), ({"eps": float("nan")}, "eps"),
                 ({"log_input": 1}, "log_input"), ({"full": "yes"}, "full")),
    bad_values=(
        BadValue("target", _fixed(_Z, np.array([1.0, -2.0, 0.0, 3.0]))),
        BadValue("pred", _fixed(-_LAM, _Y), {"log_input": False}),
    ),
    bad_shape=_bad_shape,
    nonnegative=False,
    sized=_sized_poisson,
    notes="the log(y!) constant is dropped unless full=True: values can be negative",
)


# --- Gaussian


def _gaussian(shape: tuple[int, ...], var_shape: tuple[int, ...] | None = None,
              low: float = 0.2) -> Maker:
    """Means, observations and variances in [low, 3] of ``var_shape`` (default: ``shape``)."""

    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        mu, obs = rng.normal(size=shape), rng.normal(size=shape)
        return mu, obs, rng.uniform(low, 3.0, size=var_shape or shape)

    return make


def _ref_gaussian(pred: np.ndarray, target: np.ndarray, var: np.ndarray, *,
                  full: bool = False, eps: float = 1e-6, reduction: str = "mean",
                  weight: np.ndarray | None = None) -> np.ndarray:
    p, t, v = (np.asarray(a, np.float64) for a in (pred, target, var))
    if v.shape != p.shape and v.shape == p.shape[:-1]:
        v = v[..., None]
    v = np.maximum(v, eps)
    loss = 0.5 * (np.log(v) + (p - t) ** 2 / v) + (0.5 * math.log(2 * math.pi) if full else 0)
    return np_reduce(np.broadcast_to(loss, p.shape), reduction, weight)


def _torch_gaussian(pred: Any, target: Any, var: Any, *, reduction: str = "mean",
                    **options: Any) -> Any:
    import torch.nn.functional as F

    return F.gaussian_nll_loss(pred, target, var, reduction=reduction, **options)


def _bad_shape_gaussian(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return np.zeros((3, 4)), np.zeros((4,)), np.ones((4,))


def _sized_gaussian(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return rng.normal(size=(n,)), rng.normal(size=(n,)), rng.uniform(0.2, 3.0, size=(n,))


def _hw_gaussian(p: np.ndarray, t: np.ndarray, v: np.ndarray) -> Any:
    v = np.maximum(v, np.float32(1e-6))
    return np.mean(0.5 * (np.log(v) + (p - t) ** 2 / v))


_M2 = np.array([[0.5, 2.0], [-1.0, 3.0]])
_T2 = np.array([[0.0, 0.0], [0.0, 1.0]])

GAUSSIAN = Record(
    name="gaussian_nll_loss",
    family="regression",
    fn=L.gaussian_nll_loss,
    inputs="pred: predicted means; target: observations of the same shape; var: variances "
           ">= 0 of pred's shape, of pred.shape[:-1], of pred's shape with one axis of size "
           "1, or a Python number",
    kind="mean_var",
    cases=(
        Case("catalogue", _fixed(_MU, _OBS, _VAR), {"reduction": "none"}, grad="autodiff",
             expected=[0.125, 1.193147, 1.306853, 1999993.0]),
        Case("catalogue-3", _fixed(_MU[:3], _OBS[:3], _VAR[:3]), expected=0.875),
        Case("catalogue-full", _fixed(_MU, _OBS, _VAR), {"full": True}, grad="autodiff",
             expected=499999.8),
        Case("catalogue-mean", _fixed(_MU, _OBS, _VAR), grad="autodiff", expected=499998.9),
        Case("catalogue-per-row", _fixed(_M2, _T2, np.array([1.0, 2.0])),
             {"reduction": "none"}, expected=[[0.125, 2.0], [0.5965736, 1.346574]]),
        Case("catalogue-per-row-mean", _fixed(_M2, _T2, np.array([1.0, 2.0])),
             expected=1.017037),
        Case("random-mean", _gaussian((6, 4))),
        Case("random-none-full", _gaussian((3, 2, 4)), {"full": True, "reduction": "none"}),
        Case("random-per-sample", _gaussian((5, 4), (5,)), {"reduction": "sum"}),
        Case("random-shared-axis", _gaussian((3, 2, 4), (3, 1, 4)), {"reduction": "none"}),
        Case("random-below-eps", _gaussian((4, 3), low=0.0), {"eps": 0.3}, grad="autodiff"),
        Case("random-sum-weight", _gaussian((5, 4)), {"reduction": "sum"}, arrays=_row_weight),
        Case("random-mean-weight", _gaussian((5, 4)), arrays=_row_weight),
        Case("empty", _fixed(np.zeros((0,)), np.zeros((0,)), np.zeros((0,))), expected=0.0,
             peers=False),
    ),
    reference=_ref_gaussian,
    peers=(Peer("torch.nn.functional.gaussian_nll_loss", "torch", _torch_gaussian, "torch",
                accepts=_no_weight),),
    grad_args=(0, 2),
    bad_options=(({"eps": 0.0}, "eps"), ({"eps": -1.0}, "eps"), ({"full": 1}, "full")),
    bad_values=(BadValue("var", _fixed(_MU, _OBS, np.array([1.0, -0.5, 1.0, 1.0]))),),
    bad_shape=_bad_shape_gaussian,
    nonnegative=False,
    symmetric=True,
    sized=_sized_gaussian,
    notes="var clamped at eps with a straight-through gradient (torch's)",
)

RECORDS = [POISSON, GAUSSIAN]

#: the benchmark entries of the two records (``timed`` in ``catalog.regression``)
TIMING: dict[str, dict[str, Any]] = {
    "poisson_nll_loss": {"peers": (yardstick(_hw_poisson),)},
    "gaussian_nll_loss": {"peers": (yardstick(_hw_gaussian),)},
}
