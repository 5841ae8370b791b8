"""Catalogue records of the classification family (the catalogue's classification part).

Input kinds (strategies in ``tests/test_properties.py``):

- ``"distribution"``: one array of probabilities, rows (last axis) summing to 1 (``entropy``);
- ``"binary_prob"``: probabilities in (0, 1) and same-shape targets in [0, 1];
- ``"binary_logits"``: logits and same-shape targets in [0, 1];
- ``"class_logits"``: logits ``(N, C)`` and integer labels ``(N,)``;
- ``"log_dist"``: log-probabilities ``log Q`` and probabilities ``P`` of the same shape;
- ``"signed"``: scores and same-shape labels in {-1, +1};
- ``"center"``: features ``(N, D)``, integer labels ``(N,)`` and centers ``(K, D)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import losses as C
from . import BadValue, Case, Native, Record, np_reduce

Arrays = tuple[np.ndarray, ...]

# Shared data of the catalogue's classification examples.
_LG = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0]])
_T = np.array([0, 1, 2])
_SOFT = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [1 / 3, 1 / 3, 1 / 3]])
_Z = np.array([2.0, -1.0, 0.5, -3.0])
_Y = np.array([1.0, 0.0, 0.0, 1.0])
_F = np.array([0.8, -0.5, 2.0, -1.5, 0.0])
_FY = np.array([1, 1, -1, -1, 1])
_S = np.array([[2.0, 1.5, -1.0], [0.2, 0.1, 0.3], [-0.5, -2.0, -1.0]])
_ST = np.array([0, 1, 0])
_X = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
_XL = np.array([0, 1, 0])
_CEN = np.array([[1.0, 1.0], [0.0, 0.0]])
# part D's channels-first segmentation logits (2, 3, 2, 2) and labels (2, 2, 2)
_LG4 = np.array([[[[2.0, 0.1], [0.3, -1.0]], [[0.5, 1.5], [0.2, 0.0]],
                  [[-1.0, 0.2], [1.2, 2.0]]],
                 [[[0.1, 0.2], [0.3, 0.4]], [[1.0, -0.5], [0.0, 0.3]],
                  [[0.2, 0.9], [-0.3, 1.1]]]])
_LAB4 = np.array([[[0, 1], [2, 2]], [[1, 1], [1, 2]]])


def _const(*arrays: np.ndarray) -> Callable[[np.random.Generator], Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        return tuple(np.array(a, copy=True) for a in arrays)

    return make


def _arrays(**makers: Callable[[np.random.Generator], np.ndarray]
            ) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {k: m(rng) for k, m in makers.items()}

    return make


def _uniform(shape: tuple[int, ...], lo: float = 0.0, hi: float = 2.0
             ) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.uniform(lo, hi, size=shape)


def _np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


# --- random input makers (continuous draws: ties and kinks have probability 0)


def _rand_probs(shape: tuple[int, ...], axis: int = -1) -> Callable[..., Arrays]:
    return lambda rng: (_np_softmax(rng.normal(size=shape) * 1.5, axis),)


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


def _rand_labels(shape: tuple[int, ...], axis: int = -1, ignore: int | None = None,
                 dense: bool = False) -> Callable[..., Arrays]:
    """Logits of ``shape`` with classes on ``axis``; integer labels (a quarter of them
    ``ignore`` when given, at least one kept) or dense soft targets."""

    def make(rng: np.random.Generator) -> Arrays:
        z = rng.normal(size=shape) * 2.0
        c = shape[axis]
        if dense:
            return z, _np_softmax(rng.normal(size=shape) * 2.0, axis)
        lshape = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
        y = rng.integers(0, c, size=lshape)
        if ignore is not None:
            drop = rng.uniform(size=lshape) < 0.25
            drop.flat[0] = False
            y = np.where(drop, ignore, y)
        return z, y

    return make


def _rand_log_dist(shape: tuple[int, ...], axis: int = -1, log_target: bool = False
                   ) -> Callable[..., Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        log_q = _np_log_softmax(rng.normal(size=shape), axis)
        lp = _np_log_softmax(rng.normal(size=shape) * 1.5, axis)
        return log_q, (lp if log_target else np.exp(lp))

    return make


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


def _rand_center(n: int, d: int, k: int, ignore: int | None = None) -> Callable[..., Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        y = rng.integers(0, k, size=(n,))
        if ignore is not None:
            y[1::3] = ignore
        return rng.normal(size=(n, d)), y, rng.normal(size=(k, d))

    return make


def _empty_class(rng: np.random.Generator) -> Arrays:
    return np.zeros((0, 3)), np.zeros((0,), dtype=np.int64)


def _empty_binary(rng: np.random.Generator) -> Arrays:
    return np.zeros((0,)), np.zeros((0,))


def _sized_class(rng: np.random.Generator, n: int) -> Arrays:
    c = 10
    return rng.normal(size=(max(n // c, 1), c)), rng.integers(0, c, size=(max(n // c, 1),))


def _sized_binary(rng: np.random.Generator, n: int) -> Arrays:
    return rng.normal(size=(n,)), (rng.uniform(size=(n,)) < 0.5).astype(np.float64)


def _sized_binary_probs(rng: np.random.Generator, n: int) -> Arrays:
    return rng.uniform(0.01, 0.99, size=(n,)), (rng.uniform(size=(n,)) < 0.5).astype(np.float64)


def _sized_signed(rng: np.random.Generator, n: int) -> Arrays:
    return rng.normal(size=(n,)), np.where(rng.uniform(size=(n,)) < 0.5, -1.0, 1.0)


def _sized_dist(rng: np.random.Generator, n: int) -> Arrays:
    return (_np_softmax(rng.normal(size=(max(n // 10, 1), 10))),)


def _sized_log_dist(rng: np.random.Generator, n: int) -> Arrays:
    shape = (max(n // 10, 1), 10)
    return _np_log_softmax(rng.normal(size=shape)), _np_softmax(rng.normal(size=shape))


def _sized_center(rng: np.random.Generator, n: int) -> Arrays:
    m = max(n // 64, 1)
    return rng.normal(size=(m, 64)), rng.integers(0, 10, size=(m,)), rng.normal(size=(10, 64))


# --- perfect predictions (the loss is 0 there)


def _perfect_binary_probs(args: Arrays) -> Arrays:
    y = np.round(args[1])
    return y, y


def _perfect_signed(args: Arrays) -> Arrays:
    y = np.where(args[1] > 0, 1.0, -1.0)
    return 2.0 * y, y


def _perfect_multiclass(args: Arrays) -> Arrays:
    z, y = args
    return 2.0 * np.eye(z.shape[-1])[y], y


def _perfect_kl(args: Arrays) -> Arrays:
    p = args[1]
    with np.errstate(divide="ignore"):
        return np.log(p), p


def _perfect_center(args: Arrays) -> Arrays:
    _, y, cen = args
    return cen[y].copy(), y, cen


# --- float64 NumPy references, written from the catalogue's formulas independently of the module


def _class_axis(z: np.ndarray, axis: int, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Move the class axis of ``z`` (and of same-shape ``others``) to the end."""
    out = [np.moveaxis(z, axis, -1)]
    for o in others:
        out.append(np.moveaxis(o, axis, -1) if o.shape == z.shape else o)
    return tuple(out)


def _ref_entropy(p: np.ndarray, *, axis: int = -1, from_logits: bool = False,
                 base: float | None = None, reduction: str = "mean",
                 weight: np.ndarray | None = None) -> np.ndarray:
    p = np.moveaxis(np.asarray(p, np.float64), axis, -1)
    if from_logits:
        lp = _np_log_softmax(p)
        q = np.exp(lp)
        h = -np.sum(np.where(q > 0, q * np.where(q > 0, lp, 0.0), 0.0), axis=-1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)
    if base is not None:
        h = h / np.log(base)
    return np_reduce(h, reduction, weight)


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


def _ref_class_loss(focal: bool) -> Callable[..., np.ndarray]:
    """cross_entropy (focal=False) and softmax_focal_loss: loops per sample, float64."""

    def ref(pred: np.ndarray, target: np.ndarray, *, axis: int = -1, class_weight: Any = None,
            ignore_index: int | None = None, label_smoothing: float = 0.0, gamma: float = 2.0,
            alpha: Any = None, reduction: str = "mean", weight: np.ndarray | None = None
            ) -> np.ndarray:
        z, t = _class_axis(np.asarray(pred, np.float64), axis, target)
        c = z.shape[-1]
        w = np.ones(c) if class_weight is None else np.asarray(class_weight, np.float64)
        a = np.ones(c) if alpha is None else np.asarray(alpha, np.float64)
        lp = _np_log_softmax(z)
        flat_lp = lp.reshape(-1, c)
        dense = t.shape == z.shape
        rows = t.reshape(-1, c) if dense else t.reshape(-1)
        loss = np.zeros(flat_lp.shape[0])
        den = 0.0
        for i in range(flat_lp.shape[0]):
            if dense:
                q = (1 - label_smoothing) * rows[i] + label_smoothing / c
                g = (1 - np.exp(flat_lp[i])) ** gamma if focal else 1.0
                keep = q > 0
                loss[i] = -np.sum(np.where(keep, a * w * q * g * np.where(keep, flat_lp[i], 0), 0))
                den += 1.0
                continue
            y = int(rows[i])
            if ignore_index is not None and y == ignore_index:
                continue
            if focal:
                pt = np.exp(flat_lp[i, y])
                loss[i] = -a[y] * w[y] * (1 - pt) ** gamma * flat_lp[i, y]
            else:
                loss[i] = -(1 - label_smoothing) * w[y] * flat_lp[i, y]
                if label_smoothing:
                    loss[i] -= label_smoothing / c * np.sum(w * flat_lp[i])
            den += w[y] if class_weight is not None else 1.0
        return np_reduce(loss.reshape(lp.shape[:-1]), reduction, weight, count=den)

    return ref


def _ref_kl(log_q: np.ndarray, p: np.ndarray, *, axis: int = -1, log_target: bool = False,
            reduction: str = "mean", weight: np.ndarray | None = None) -> np.ndarray:
    pp = np.exp(p) if log_target else np.asarray(p, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pp > 0, pp * (np.log(np.where(pp > 0, pp, 1.0)) - log_q), 0.0)
    return np_reduce(np.sum(terms, axis=axis), reduction, weight)


def _ref_sigmoid_focal(pred: np.ndarray, target: np.ndarray, *, alpha: float | None = 0.25,
                       gamma: float = 2.0, reduction: str = "mean",
                       weight: np.ndarray | None = None) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-pred))
    bce = np.logaddexp(0.0, -pred) * target + np.logaddexp(0.0, pred) * (1 - target)
    d = target * (1 - p) + (1 - target) * p
    at = 1.0 if alpha is None else alpha * target + (1 - alpha) * (1 - target)
    return np_reduce(at * d**gamma * bce, reduction, weight)


def _ref_hinge(kind: str) -> Callable[..., np.ndarray]:
    def ref(pred: np.ndarray, target: np.ndarray, *, margin: float = 1.0, s: float = -1.0,
            reduction: str = "mean", weight: np.ndarray | None = None) -> np.ndarray:
        y = np.where(np.asarray(target).astype(np.float64) > 0, 1.0, -1.0)
        m = y * pred
        if kind == "ramp":
            loss = np.maximum(0.0, 1 - m) - np.maximum(0.0, s - m)
        else:
            loss = np.maximum(0.0, margin - m)
            if kind == "squared":
                loss = loss**2
        return np_reduce(loss, reduction, weight)

    return ref


def _ref_multiclass_hinge(pred: np.ndarray, target: np.ndarray, *, axis: int = -1,
                          margin: float = 1.0, mode: str = "crammer_singer",
                          squared: bool = False, ignore_index: int | None = None,
                          reduction: str = "mean", weight: np.ndarray | None = None
                          ) -> np.ndarray:
    (f,) = _class_axis(np.asarray(pred, np.float64), axis)
    c = f.shape[-1]
    rows, labels = f.reshape(-1, c), target.reshape(-1)
    loss = np.zeros(rows.shape[0])
    n = 0
    for i, (r, y) in enumerate(zip(rows, labels)):
        if ignore_index is not None and y == ignore_index:
            continue
        n += 1
        others = np.delete(r, y)
        if mode == "crammer_singer":
            loss[i] = max(0.0, margin + others.max() - r[y]) ** (2 if squared else 1)
        else:
            loss[i] = np.sum(np.maximum(0.0, margin + others - r[y]) ** (2 if squared else 1))
    return np_reduce(loss.reshape(f.shape[:-1]), reduction, weight, count=n)


def _ref_center(x: np.ndarray, y: np.ndarray, cen: np.ndarray, *,
                ignore_index: int | None = None, reduction: str = "mean",
                weight: np.ndarray | None = None) -> np.ndarray:
    loss = np.zeros(len(y))
    n = 0
    for i in range(len(y)):
        if ignore_index is not None and y[i] == ignore_index:
            continue
        n += 1
        loss[i] = 0.5 * np.sum((x[i] - cen[y[i]]) ** 2)
    return np_reduce(loss, reduction, weight, count=n)


def _ref_update_centers(x: np.ndarray, y: np.ndarray, cen: np.ndarray, *, alpha: float = 0.5,
                        ignore_index: int | None = None) -> np.ndarray:
    new = np.array(cen, dtype=np.float64, copy=True)
    for j in range(cen.shape[0]):
        sel = y == j
        delta = np.sum(cen[j] - x[sel], axis=0) / (1 + sel.sum())
        new[j] = cen[j] - alpha * delta
    return new


# --- peers


def _reduce_any(loss: Any, reduction: str, weight: Any = None, count: Any = None) -> Any:
    """A peer's unreduced loss reduced the arrayloss way (mean over ``count``, default all)."""
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    n = math.prod(loss.shape) if count is None else count
    return loss.sum() if reduction == "sum" else loss.sum() / n


def _no(*arrays: str, **values: Any) -> Callable[[Mapping[str, Any]], bool]:
    """``accepts``: none of the keyword ``arrays`` / options given, and each option of
    ``values`` at the given value (the default when absent)."""
    return lambda o: (all(n not in o for n in arrays)
                      and all(o.get(k, v) == v for k, v in values.items()))


def _torch_classes(pred: Any, target: Any, axis: int) -> tuple[Any, Any]:
    """Move the class axis to torch's dim 1 (and a dense target's with it)."""
    import torch

    dense = tuple(target.shape) == tuple(pred.shape)
    if pred.ndim > 1:
        pred = torch.movedim(pred, axis, 1)
        if dense:
            target = torch.movedim(target, axis, 1)
    return pred, target


def _torch_ce(pred: Any, target: Any, *, axis: int = -1, class_weight: Any = None,
              ignore_index: int | None = None, label_smoothing: float = 0.0,
              reduction: str = "mean") -> Any:
    import torch
    import torch.nn.functional as F

    x, t = _torch_classes(pred, target, axis)
    cw = None if class_weight is None else torch.as_tensor(class_weight, dtype=x.dtype)
    return F.cross_entropy(x, t, weight=cw, reduction=reduction, label_smoothing=label_smoothing,
                           ignore_index=-100 if ignore_index is None else ignore_index)


def _optax_ce(pred: Any, target: Any, *, axis: int = -1, label_smoothing: float = 0.0,
              reduction: str = "mean") -> Any:
    import jax
    import optax

    c = pred.shape[axis]
    if target.shape != pred.shape:
        if not label_smoothing:
            loss = optax.losses.softmax_cross_entropy_with_integer_labels(pred, target, axis=axis)
            return _reduce_any(loss, reduction)
        target = jax.numpy.moveaxis(jax.nn.one_hot(target, c, dtype=pred.dtype), -1, axis)
    if label_smoothing:
        target = (1 - label_smoothing) * target + label_smoothing / c
    return _reduce_any(optax.losses.softmax_cross_entropy(pred, target, axis=axis), reduction)


def _keras_ce(pred: Any, target: Any, *, axis: int = -1, ignore_index: int | None = None,
              label_smoothing: float = 0.0, reduction: str = "mean") -> Any:
    import keras

    if target.shape == pred.shape:
        out = keras.losses.categorical_crossentropy(target, pred, from_logits=True,
                                                    label_smoothing=label_smoothing, axis=axis)
        valid = np.ones(out.shape, dtype=bool)
    else:
        z = np.moveaxis(pred, axis, -1)
        out = keras.losses.sparse_categorical_crossentropy(target, z, from_logits=True,
                                                           ignore_class=ignore_index)
        valid = target != ignore_index if ignore_index is not None else np.ones(out.shape, bool)
    out = np.where(valid, np.asarray(keras.ops.convert_to_numpy(out), np.float64), 0.0)
    return _reduce_any(out, reduction, count=max(int(valid.sum()), 1))


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
                         gamma: float = 2.0, reduction: str = "mean") -> Any:
    import keras

    out = keras.losses.binary_focal_crossentropy(
        target, pred, apply_class_balancing=alpha is not None,
        alpha=0.25 if alpha is None else alpha, gamma=gamma, from_logits=True)
    return np.asarray(keras.ops.convert_to_numpy(out), np.float64).mean()


def _kornia_softmax_focal(pred: Any, target: Any, *, axis: int = -1, gamma: float = 2.0,
                          alpha: Any = None, weight: Any = None, reduction: str = "mean") -> Any:
    """kornia's scalar alpha ``a`` is the vector ``[1 - a, a, ..., a]``; its ``"none"`` is
    per class, summed here into per-sample values."""
    import kornia

    a = None
    if alpha is not None:
        a = float(alpha[1])
        assert np.allclose(np.asarray(alpha), [1 - a] + [a] * (len(alpha) - 1))
    x, t = _torch_classes(pred, target, axis)
    if x.ndim == 1:
        x, t = x[None], t[None]
    out = kornia.losses.focal_loss(x, t, alpha=a, gamma=gamma, reduction="none").sum(1)
    return _reduce_any(out.reshape(target.shape), reduction, weight)


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
                        squared: bool = False, weight: Any = None, reduction: str = "mean",
                        mode: str = "weston_watkins") -> Any:
    import torch
    import torch.nn.functional as F

    x = torch.movedim(pred, axis, -1)
    c = x.shape[-1]
    out = c * F.multi_margin_loss(x.reshape(-1, c), target.reshape(-1), p=2 if squared else 1,
                                  margin=margin, reduction="none")
    return _reduce_any(out.reshape(target.shape), reduction, weight)


# --- shared case pieces

_TW = _arrays(weight=_uniform((3,)))
_CW3 = _arrays(class_weight=lambda rng: np.array([1.0, 2.0, 0.5]))
_BAD_LABELS = (
    BadValue("target", _const(_LG, np.array([0, 3, 1]))),
    BadValue("target", _const(_LG, np.array([0, -1, 1]))),
)
_SIGNED_BAD = (
    BadValue("target", _const(_F, np.array([1, 0, -1, 1, 1]))),
    BadValue("target", _const(_F, np.array([1, 2, -1, 1, 1]))),
)
_CLASS_BAD_OPTIONS: tuple[tuple[Mapping[str, Any], str], ...] = (
    ({"axis": 2}, "axis"), ({"ignore_index": 1}, "ignore_index"),
    ({"ignore_index": 1.5}, "ignore_index"),
)


def _class_bad_shape(rng: np.random.Generator) -> Arrays:
    return np.zeros((3, 4)), np.zeros((4,), dtype=np.int64)


def _binary_bad_shape(rng: np.random.Generator) -> Arrays:
    return np.zeros((3, 4)), np.zeros((4,))


_SIGNED_INPUTS = "pred: scores; target: same-shape labels in {-1, +1} (any numeric dtype) or bool"
_SIGNED_REFERENCE = {"hinge_loss": "hinge", "squared_hinge_loss": "squared", "ramp_loss": "ramp"}


def _signed_record(fn: Callable[..., Any], cases: tuple[Case, ...], *,
                   bad_options: tuple[tuple[Mapping[str, Any], str], ...] = (
                       ({"margin": -1.0}, "margin"),),
                   **extra: Any) -> Record:
    """A record of the hinge family: scores and same-shape {-1, +1} / bool labels."""
    return Record(name=fn.__name__, family="classification", fn=fn, inputs=_SIGNED_INPUTS,
                  kind="signed", cases=cases,
                  reference=_ref_hinge(_SIGNED_REFERENCE[fn.__name__]),
                  bad_options=bad_options, bad_values=_SIGNED_BAD, bad_shape=_binary_bad_shape,
                  perfect=_perfect_signed, sized=_sized_signed, **extra)
_CLASS_INPUTS = ("pred: logits with classes on `axis`; target: integer labels (pred's shape "
                 "without axis)")


RECORDS = [
    Record(
        name="entropy",
        family="classification",
        fn=C.entropy,
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
            Case("empty", _const(np.zeros((0, 3))), expected=0.0, natives=False),
        ),
        reference=_ref_entropy,
        natives=(
            Native("torch.special.entr / torch.distributions.Categorical", "torch",
                   _entropy_torch, "torch", accepts=_no("weight")),
            Native("scipy.stats.entropy", "numpy", _entropy_scipy, "scipy",
                   accepts=_no("weight", from_logits=False)),
        ),
        bad_options=(({"base": 1.0}, "base"), ({"base": -2.0}, "base"), ({"axis": 3}, "axis"),
                     ({"from_logits": "yes"}, "from_logits")),
        bad_values=(BadValue("p", _const(np.array([[0.5, 1.5, -1.0]]))),),
        sized=_sized_dist,
    ),
    Record(
        name="binary_cross_entropy",
        family="classification",
        fn=C.binary_cross_entropy,
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
            Case("empty", _empty_binary, expected=0.0, natives=False),
        ),
        reference=_ref_binary(logits=False),
        natives=(
            Native("torch.nn.functional.binary_cross_entropy", "torch", _torch_bce(False),
                   "torch", accepts=_no("pos_weight", label_smoothing=0.0)),
            Native("keras.losses.binary_crossentropy", "numpy", _keras_bce(False), "keras",
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
        family="classification",
        fn=C.binary_cross_entropy_with_logits,
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
            Case("empty", _empty_binary, expected=0.0, natives=False),
        ),
        reference=_ref_binary(logits=True),
        natives=(
            Native("torch.nn.functional.binary_cross_entropy_with_logits", "torch",
                   _torch_bce(True), "torch", accepts=_no(label_smoothing=0.0)),
            Native("optax.losses.sigmoid_binary_cross_entropy", "jax", _optax_bce, "optax",
                   accepts=_no("pos_weight", label_smoothing=0.0), jit=True),
            Native("keras.losses.binary_crossentropy", "numpy", _keras_bce(True), "keras",
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
        name="cross_entropy",
        family="classification",
        fn=C.cross_entropy,
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
                 {"ignore_index": -100}, expected=0.0, natives=False),
            Case("random-dense-axis1", _rand_labels((2, 4, 3), axis=1, dense=True),
                 {"axis": 1, "label_smoothing": 0.2}, arrays=_arrays(
                     class_weight=_uniform((4,), 0.2, 2.0))),
        ),
        reference=_ref_class_loss(focal=False),
        natives=(
            Native("torch.nn.functional.cross_entropy", "torch", _torch_ce, "torch",
                   accepts=_no("weight")),
            Native("optax.losses.softmax_cross_entropy[_with_integer_labels]", "jax", _optax_ce,
                   "optax", accepts=_no("weight", "class_weight", "ignore_index"), jit=True),
            Native("keras.losses.(sparse_)categorical_crossentropy", "numpy", _keras_ce, "keras",
                   rtol=1e-5, accepts=lambda o: _no("weight", "class_weight")(o) and not (
                       o.get("ignore_index") is not None and o.get("label_smoothing"))),
        ),
        bad_options=(({"class_weight": [1.0, 2.0]}, "class_weight"),
                     ({"class_weight": 2.0}, "class_weight"),
                     ({"label_smoothing": 2.0}, "label_smoothing"),
                     ({"label_smoothing": -0.5}, "label_smoothing"), *_CLASS_BAD_OPTIONS),
        bad_values=(*_BAD_LABELS,
                    BadValue("target", _const(_LG, _SOFT - 0.2)),
                    BadValue("class_weight", _const(_LG, _T),
                             {"class_weight": [1.0, -1.0, 1.0]})),
        bad_shape=_class_bad_shape,
        sized=_sized_class,
    ),
    Record(
        name="kl_divergence",
        family="classification",
        fn=C.kl_divergence,
        inputs="log_q: log-probabilities; p: same-shape probabilities (log P with log_target)",
        kind="log_dist",
        grad_args=(0, 1),
        cases=(
            Case("catalogue-none",
                 _const(np.log([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]]),
                        np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])),
                 {"reduction": "none"}, grad="finite", expected=[0.0851228, 0.6931472]),
            Case("catalogue-masked", _const(np.array([[0.0, -np.inf]]), np.array([[1.0, 0.0]])),
                 {"reduction": "none"}, grad="finite", expected=[0.0], natives=False),
            Case("random-axis1-weight", _rand_log_dist((2, 4, 3), axis=1), {"axis": 1},
                 arrays=_arrays(weight=_uniform((2, 3)))),
            Case("random-log-target-sum", _rand_log_dist((3, 5), log_target=True),
                 {"log_target": True, "reduction": "sum"}),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0, 3))), expected=0.0,
                 natives=False),
        ),
        reference=_ref_kl,
        natives=(
            Native("torch.nn.functional.kl_div", "torch", _torch_kl, "torch"),
            Native("scipy.special.rel_entr", "numpy", _scipy_kl, "scipy",
                   accepts=_no(log_target=False)),
            Native("optax.losses.kl_divergence[_with_log_targets]", "jax", _optax_kl, "optax",
                   jit=True),
        ),
        bad_options=(({"log_target": "no"}, "log_target"), ({"axis": 2}, "axis")),
        bad_values=(BadValue("p", _const(np.log([[0.5, 0.5]]), np.array([[1.1, -0.1]]))),
                    BadValue("p", _const(np.log([[0.5, 0.5]]), np.array([[0.5, -0.5]])),
                             {"log_target": True})),
        bad_shape=lambda rng: (np.zeros((3, 4)), np.zeros((3, 5))),
        perfect=_perfect_kl,
        sized=_sized_log_dist,
    ),
    Record(
        name="sigmoid_focal_loss",
        family="classification",
        fn=C.sigmoid_focal_loss,
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
                 {"gamma": 0.5, "reduction": "none"}, grad="finite", natives=False),
        ),
        reference=_ref_sigmoid_focal,
        natives=(
            Native("optax.losses.sigmoid_focal_loss", "jax", _optax_sigmoid_focal, "optax",
                   jit=True),
            # kornia weights the two terms of a soft target separately (p^gamma, (1-p)^gamma),
            # unlike torchvision/optax: compared on hard labels only (the weighted case is soft)
            Native("kornia.losses.binary_focal_loss_with_logits", "torch", _kornia_sigmoid_focal,
                   "kornia", rtol=1e-6, accepts=_no("weight")),
            Native("keras.losses.binary_focal_crossentropy", "numpy", _keras_sigmoid_focal,
                   "keras", rtol=1e-5, accepts=_no("weight", reduction="mean")),
        ),
        bad_options=(({"alpha": 1.5}, "alpha"), ({"alpha": -0.25}, "alpha"),
                     ({"gamma": -1.0}, "gamma")),
        bad_values=(BadValue("target", _const(_Z, np.array([1.0, 0.0, 2.0, 1.0]))),),
        bad_shape=_binary_bad_shape,
        sized=_sized_binary,
    ),
    Record(
        name="softmax_focal_loss",
        family="classification",
        fn=C.softmax_focal_loss,
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
                 expected=[0.3848716, 0.5173228, 0.4882722], natives=False),
            Case("random-axis1-ignore", _rand_labels((2, 4, 3), axis=1, ignore=-1),
                 {"axis": 1, "gamma": 0.5, "ignore_index": -1},
                 arrays=_arrays(weight=_uniform((2, 3)))),
        ),
        reference=_ref_class_loss(focal=True),
        natives=(
            Native("kornia.losses.focal_loss", "torch", _kornia_softmax_focal, "kornia",
                   rtol=1e-6, accepts=_no("class_weight", "ignore_index")),
        ),
        bad_options=(({"alpha": 0.25}, "alpha"), ({"alpha": [0.5, 0.5]}, "alpha"),
                     ({"gamma": -1.0}, "gamma"), ({"class_weight": [1.0]}, "class_weight"),
                     *_CLASS_BAD_OPTIONS),
        bad_values=(*_BAD_LABELS,
                    BadValue("alpha", _const(_LG, _T), {"alpha": [0.5, 1.5, 0.5]})),
        bad_shape=_class_bad_shape,
        sized=_sized_class,
    ),
    _signed_record(
        C.hinge_loss,
        (
            Case("catalogue-none", _const(_F, _FY), {"reduction": "none"},
                 expected=[0.2, 1.5, 3.0, 0.0, 1.0]),
            Case("catalogue-margin", _const(_F, _FY), {"margin": 0.5, "reduction": "none"},
                 expected=[0.0, 1.0, 2.5, 0.0, 0.5]),
            Case("catalogue-bool", _const(_F, _FY > 0), expected=1.14),
            Case("random-weight-sum", _rand_signed((3, 4)), {"reduction": "sum"},
                 arrays=_arrays(weight=_uniform((4,)))),
        ),
        natives=(
            Native("optax.losses.hinge_loss", "jax", _optax_hinge, "optax",
                   accepts=_no(margin=1.0), jit=True),
            Native("keras.losses.hinge", "numpy", _keras_hinge("hinge"), "keras", rtol=1e-6,
                   accepts=_no("weight", margin=1.0, reduction="mean")),
        ),
    ),
    _signed_record(
        C.squared_hinge_loss,
        (
            Case("catalogue-none", _const(_F, _FY), {"reduction": "none"},
                 expected=[0.04, 2.25, 9.0, 0.0, 1.0]),
            Case("catalogue-bool", _const(_F, _FY > 0), expected=2.458),
            Case("random-margin-weight", _rand_signed((3, 4)), {"margin": 0.5},
                 arrays=_arrays(weight=_uniform((3, 4)))),
        ),
        natives=(
            Native("keras.losses.squared_hinge", "numpy", _keras_hinge("squared_hinge"), "keras",
                   rtol=1e-6, accepts=_no("weight", margin=1.0, reduction="mean")),
        ),
    ),
    _signed_record(
        C.ramp_loss,
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
    Record(
        name="multiclass_hinge_loss",
        family="classification",
        fn=C.multiclass_hinge_loss,
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
        ),
        reference=_ref_multiclass_hinge,
        natives=(
            Native("optax.losses.multiclass_hinge_loss", "jax", _optax_multiclass_hinge,
                   "optax", accepts=_no("ignore_index", mode="crammer_singer", margin=1.0,
                                        squared=False), jit=True),
            Native("C * torch.nn.functional.multi_margin_loss", "torch", _torch_multi_margin,
                   "torch", accepts=lambda o: "ignore_index" not in o
                   and o.get("mode") == "weston_watkins"),
        ),
        bad_options=(({"mode": "ovr"}, "mode"), ({"margin": -1.0}, "margin"),
                     ({"squared": "yes"}, "squared"), *_CLASS_BAD_OPTIONS),
        bad_values=_BAD_LABELS,
        bad_shape=_class_bad_shape,
        perfect=_perfect_multiclass,
        sized=_sized_class,
    ),
    Record(
        name="center_loss",
        family="classification",
        fn=C.center_loss,
        inputs="features (N, D); labels (N,) integer in [0, K); centers (K, D)",
        kind="center",
        grad_args=(0, 2),
        cases=(
            Case("catalogue-sum", _const(_X, _XL, _CEN), {"reduction": "sum"}, expected=5.0),
            Case("random-ignore-none", _rand_center(6, 3, 4, ignore=-1),
                 {"ignore_index": -1, "reduction": "none"}),
            Case("random-weight", _rand_center(5, 2, 3), arrays=_arrays(weight=_uniform((5,)))),
            Case("empty", _const(np.zeros((0, 2)), np.zeros((0,), np.int64), _CEN), expected=0.0),
        ),
        reference=_ref_center,
        bad_options=(({"ignore_index": 0}, "ignore_index"),),
        bad_values=(BadValue("labels", _const(_X, np.array([0, 2, 1]), _CEN)),),
        bad_shape=lambda rng: (np.zeros((3, 2)), np.zeros((4,), np.int64), np.zeros((2, 2))),
        perfect=_perfect_center,
        sized=_sized_center,
        notes="golden (formula); keeps the paper's 1/2 factor",
    ),
    Record(
        name="update_centers",
        family="classification",
        fn=C.update_centers,
        inputs="features (N, D); labels (N,) integer in [0, K); centers (K, D)",
        kind="center",
        grad_args=(),
        nonnegative=False,
        reduces=False,
        cases=(
            Case("catalogue", _const(_X, _XL, _CEN),
                 expected=[[1.3333333, 0.8333333], [0.0, 0.25]]),
            Case("random-ignore-alpha", _rand_center(7, 3, 4, ignore=-1),
                 {"alpha": 0.3, "ignore_index": -1}),
        ),
        reference=_ref_update_centers,
        bad_options=(({"alpha": 1.5}, "alpha"), ({"alpha": -0.1}, "alpha")),
        bad_values=(BadValue("labels", _const(_X, np.array([0, 2, 1]), _CEN)),),
        bad_shape=lambda rng: (np.zeros((3, 2)), np.zeros((4,), np.int64), np.zeros((2, 2))),
        sized=_sized_center,
        notes="an update rule, not a loss: values only",
    ),
]
