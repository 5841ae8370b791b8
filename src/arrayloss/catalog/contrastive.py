"""Catalogue records of the contrastive and ranking losses (``arrayloss.losses.contrastive``):
NT-Xent, the circle loss and the listwise softmax ranking loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed, yardstick
from . import _figures as FIG
from ._classes import Arrays, _arrays, _const, _reduce_any, _uniform
from ._common import np_log_softmax

# Shared data: unit embeddings with two groups, and two lists of four scored items.
_E = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
_G = np.array([0, 0, 1, 1])
_G3 = np.array([0, 0, 0, 1])
_S = np.array([[2.0, 1.0, 0.5, -1.0], [0.3, 0.2, 0.1, 0.0]])
_REL = np.array([[3.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
_MASK = np.array([[True, True, False, True], [True, True, True, True]])
_IW = np.array([[1.0, 1.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0]])


def _np_unit(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    return x / np.maximum(np.sqrt(np.sum(x * x, axis=-1, keepdims=True)), eps)


def _np_lse(v: np.ndarray) -> float:
    """log(sum(exp(v))) of a non-empty 1-D array, max-shifted."""
    m = float(np.max(v))
    return m + float(np.log(np.sum(np.exp(v - m))))


def _softplus(x: float) -> float:
    return float(np.logaddexp(0.0, x))


# --- makers


def _two_views(b: int, d: int) -> Callable[[np.random.Generator], Arrays]:
    """2B embeddings, shuffled, whose labels pair them up (two views of B samples)."""

    def make(rng: np.random.Generator) -> Arrays:
        base = rng.normal(size=(b, d))
        views = np.concatenate([base + 0.5 * rng.normal(size=(b, d)),
                                base + 0.5 * rng.normal(size=(b, d))])
        labels = np.concatenate([np.arange(b), np.arange(b)])
        order = rng.permutation(2 * b)
        return views[order], labels[order]

    return make


def _groups(n: int, d: int, k: int) -> Callable[[np.random.Generator], Arrays]:
    def make(rng: np.random.Generator) -> Arrays:
        return rng.normal(size=(n, d)), rng.integers(0, k, size=(n,))

    return make


def _sized_views(rng: np.random.Generator, n: int) -> Arrays:
    """About ``n`` similarity entries: N = sqrt(n) embeddings of 64 features, two views of
    N / 2 samples (the pairwise losses are quadratic in the batch), N at most 2048: MONAI's
    ``ContrastiveLoss`` materialises an (N, N, D) array (1 GB in float32 there)."""
    b = min(max(int(np.sqrt(n)) // 2, 2), 1024)
    return _two_views(b, 64)(rng)


def _sized_lists(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 32, 1)
    return rng.normal(size=(rows, 32)), rng.integers(0, 4, size=(rows, 32)).astype(np.float64)


def _bad_groups(rng: np.random.Generator) -> Arrays:
    return np.zeros((4, 2)), np.zeros((3,), dtype=np.int64)


def _bad_lists(rng: np.random.Generator) -> Arrays:
    return np.zeros((2, 4)), np.zeros((2, 3))


# --- references (float64 NumPy loops, written from the formulas)


def _ref_reduce(loss: np.ndarray, count: np.ndarray, weight: np.ndarray | None,
                reduction: str) -> np.ndarray:
    """The reduction with per-entry count terms (positive pairs, counted anchors or lists):
    "mean" divides by their sum, "weighted_mean" by the weighted sum."""
    if reduction in ("none", "sum"):
        return np_reduce(loss, reduction, weight)
    w = np.ones_like(loss) if weight is None else np.broadcast_to(weight, loss.shape)
    den = float(np.sum(w * count)) if reduction == "weighted_mean" else float(np.sum(count))
    return np.asarray(float(np.sum(w * loss)) / den if den else 0.0)


def _ref_ntxent(x: np.ndarray, g: np.ndarray, *, temperature: float = 0.07,
                eps: float = 1e-8, weight: np.ndarray | None = None,
                reduction: str = "mean") -> np.ndarray:
    n = len(g)
    u = _np_unit(np.asarray(x, np.float64), eps)
    s = u @ u.T / temperature
    loss = np.zeros(n)
    for i in range(n):
        neg = [s[i, k] for k in range(n) if g[k] != g[i]]
        for j in range(n):
            if j == i or g[j] != g[i]:
                continue
            if neg:
                loss[i] += -s[i, j] + _np_lse(np.array([s[i, j], *neg]))
    counts = np.array([sum(1.0 for j in range(n) if j != i and g[j] == g[i])
                       for i in range(n)])
    return _ref_reduce(loss, counts, weight, reduction)


def _ref_circle(x: np.ndarray, g: np.ndarray, *, gamma: float = 80.0, margin: float = 0.4,
                normalize: bool = True, remove_diagonal: bool = True,
                detach_weights: bool = False, ref_embeddings: np.ndarray | None = None,
                ref_labels: np.ndarray | None = None, weight: np.ndarray | None = None,
                reduction: str = "mean") -> np.ndarray:
    r = x if ref_embeddings is None else np.asarray(ref_embeddings, np.float64)
    rg = g if ref_labels is None else ref_labels
    if normalize:
        x, r = _np_unit(x), _np_unit(r)
    n = len(g)
    loss, valid = np.zeros(n), np.zeros(n)
    for i in range(n):
        p_terms, n_terms = [], []
        for j in range(len(rg)):
            s = float(np.dot(x[i], r[j]))
            if rg[j] == g[i]:
                if not (remove_diagonal and j == i):
                    p_terms.append(-gamma * max(1.0 + margin - s, 0.0) * (s - 1.0 + margin))
            else:
                n_terms.append(gamma * max(s + margin, 0.0) * (s - margin))
        if p_terms and n_terms:
            valid[i] = 1.0
            loss[i] = _softplus(_np_lse(np.array(p_terms)) + _np_lse(np.array(n_terms)))
    return _ref_reduce(loss, valid, weight, reduction)


def _ref_ranking(s: np.ndarray, y: np.ndarray, *, axis: int = -1,
                 where: np.ndarray | None = None, item_weight: np.ndarray | None = None,
                 weight: np.ndarray | None = None, reduction: str = "mean") -> np.ndarray:
    shape = s.shape
    ok = np.ones(shape, bool) if where is None else np.broadcast_to(where, shape)
    iw = np.ones(shape) if item_weight is None else np.broadcast_to(item_weight, shape)
    s, y, ok, iw = (np.moveaxis(np.asarray(a), axis, -1) for a in (s, y, ok, iw))
    out_shape = s.shape[:-1]
    s, y, ok, iw = (a.reshape(-1, shape[axis]) for a in (s, y, ok, iw))
    loss = np.zeros(len(s))
    for k in range(len(s)):
        items = np.nonzero(ok[k])[0]
        if len(items):
            logp = np_log_softmax(s[k, items])
            loss[k] = -np.sum(y[k, items] * iw[k, items] * logp)
    valid = np.any(ok, axis=-1).astype(np.float64).reshape(out_shape)
    return _ref_reduce(loss.reshape(out_shape), valid, weight, reduction)


# --- peers


def _optax_ntxent(pred: Any, target: Any, *, temperature: float = 0.07,
                  reduction: str = "mean") -> Any:
    import optax

    return optax.losses.ntxent(pred, target, temperature=temperature)


def _monai_contrastive(pred: Any, target: Any, *, temperature: float = 0.07) -> Any:
    """MONAI takes two aligned views: the samples of each label (exactly two per label) are
    split into a first and a second view; its mean over the 2B anchors is the mean over
    positive pairs."""
    import torch
    from monai.losses import ContrastiveLoss

    order = torch.argsort(target, stable=True)
    if not bool(torch.all(target[order[0::2]] == target[order[1::2]])) or len(target) % 2:
        raise ValueError("MONAI's ContrastiveLoss needs exactly two samples per label")
    return ContrastiveLoss(temperature=temperature)(pred[order[0::2]], pred[order[1::2]])


def _keras_circle(pred: Any, target: Any, *, gamma: float = 80.0, margin: float = 0.4,
                  normalize: bool = True, remove_diagonal: bool = True,
                  detach_weights: bool = False, ref_embeddings: Any = None,
                  ref_labels: Any = None, reduction: str = "mean") -> Any:
    """keras takes unit-norm embeddings: normalised here when ``normalize``; its per-anchor
    losses (``circle``), or its class's mean over the anchors with a loss > 0."""
    import keras

    x = _np_unit(np.asarray(pred, np.float64)) if normalize else np.asarray(pred)
    ref = None if ref_embeddings is None else np.asarray(ref_embeddings, np.float64)
    if ref is not None and normalize:
        ref = _np_unit(ref)
    kw = {"remove_diagonal": remove_diagonal, "gamma": gamma, "margin": margin}
    if reduction == "mean":  # the class (no reference set): its masked mean
        return np.asarray(keras.ops.convert_to_numpy(keras.losses.Circle(**kw)(target, x)),
                          np.float64)
    out = np.asarray(keras.ops.convert_to_numpy(keras.losses.circle(
        target, x, ref_labels=ref_labels, ref_embeddings=ref, **kw)), np.float64)
    return _reduce_any(out, reduction)


def _optax_ranking(pred: Any, target: Any, *, axis: int = -1, where: Any = None,
                   item_weight: Any = None, weight: Any = None, reduction: str = "mean") -> Any:
    """optax takes the items on the last axis; its own mean (lists with a valid item) where
    no per-list weight is given, else its per-list losses weighted and summed here."""
    import jax.numpy as jnp
    import optax

    s, y = jnp.moveaxis(pred, axis, -1), jnp.moveaxis(target, axis, -1)

    def last(a: Any) -> Any:
        return None if a is None else jnp.moveaxis(jnp.broadcast_to(a, pred.shape), axis, -1)

    kw = {"where": last(where), "weights": last(item_weight)}
    if reduction == "mean" and weight is None:
        return optax.losses.ranking_softmax_loss(s, y, **kw)
    out = optax.losses.ranking_softmax_loss(s, y, **kw, reduce_fn=None)
    return _reduce_any(out, reduction, weight)


def _plain(o: Any) -> bool:
    """No per-sample weight and the mean: what the pair peers return."""
    return "weight" not in o and o.get("reduction", "mean") == "mean"


def _monai_accepts(o: Any) -> bool:
    """The default mean without weight or eps; a case that names ``reduction`` explicitly
    holds labels that are not two views (three positives), which MONAI cannot lay out."""
    return not {"weight", "eps", "reduction"} & set(o)


RECORDS = [
    Record(
        name="ntxent_loss",
        family="contrastive",
        fn=L.ntxent_loss,
        inputs="pred: embeddings (N, D); target: integer group labels (N,)",
        kind="embedding_groups",
        cases=(
            Case("catalogue", _const(_E, _G), expected=0.0279325),
            Case("catalogue-t05", _const(_E, _G), {"temperature": 0.5}, expected=0.4301903),
            Case("catalogue-t1", _const(_E, _G), {"temperature": 1.0}, expected=0.6735768),
            Case("catalogue-three-positives", _const(_E, _G3),
                 {"temperature": 0.5, "reduction": "mean"}, expected=0.5777357),
            Case("random-two-views", _two_views(4, 3), {"temperature": 0.2}),
            Case("random-groups-weight-sum", _groups(6, 3, 3),
                 {"temperature": 0.5, "reduction": "sum"}, arrays=_arrays(weight=_uniform((6,)))),
            Case("empty", _const(np.zeros((0, 3)), np.zeros((0,), np.int64)), expected=0.0,
                 peers=False),
        ),
        reference=_ref_ntxent,
        peers=(
            Peer("optax.losses.ntxent", "jax", _optax_ntxent, "optax",
                 accepts=lambda o: _plain(o) and "eps" not in o, jit=True),
            Peer("monai.losses.ContrastiveLoss", "torch", _monai_contrastive, "monai",
                 accepts=_monai_accepts),
        ),
        bad_options=(({"temperature": 0.0}, "temperature"), ({"temperature": -0.5},
                                                             "temperature"),
                     ({"temperature": "0.1"}, "temperature"), ({"eps": 0.0}, "eps")),
        bad_shape=_bad_groups,
        sized=_sized_views,
        notes="golden (peer): optax float64; MONAI agrees on two views",
    ),
    Record(
        name="circle_loss",
        family="contrastive",
        fn=L.circle_loss,
        inputs="pred: embeddings (N, D); target: integer labels (N,); optional reference set",
        kind="embedding_groups",
        cases=(
            Case("catalogue-none", _const(_E, _G), {"reduction": "none"},
                 expected=[6.772663e-05, 6.401660, 6.401660, 6.772663e-05]),
            Case("catalogue-gamma1", _const(_E, _G),
                 {"gamma": 1.0, "margin": 0.25, "reduction": "none"},
                 expected=[1.063421, 1.174042, 1.174042, 1.063421]),
            Case("catalogue-three-anchors", _const(_E, _G3), {"gamma": 1.0, "margin": 0.25},
                 expected=1.536973),
            Case("random-bank-detach-sum", _groups(5, 3, 2),
                 {"gamma": 4.0, "detach_weights": True, "reduction": "sum"}, grad="autodiff",
                 arrays=_arrays(ref_embeddings=lambda rng: rng.normal(size=(7, 3)),
                                ref_labels=lambda rng: rng.integers(0, 2, size=(7,)))),
            Case("random-weight", _groups(6, 3, 3), {"gamma": 8.0, "margin": 0.25},
                 arrays=_arrays(weight=_uniform((6,)))),
            Case("empty", _const(np.zeros((0, 2)), np.zeros((0,), np.int64)), expected=0.0,
                 peers=False),
        ),
        reference=_ref_circle,
        peers=(
            Peer("keras.losses.circle", "numpy", _keras_circle, "keras", rtol=2e-5,
                 accepts=lambda o: "weight" not in o and not (
                     "ref_labels" in o and o.get("reduction", "mean") == "mean")),
        ),
        bad_options=(({"gamma": 0.0}, "gamma"), ({"margin": 1.5}, "margin"),
                     ({"margin": -0.1}, "margin"), ({"normalize": 1}, "normalize"),
                     ({"remove_diagonal": "yes"}, "remove_diagonal")),
        bad_shape=_bad_groups,
        sized=_sized_views,
        notes="golden (formula) float64; keras float32 agrees to 1e-6",
    ),
    Record(
        name="ranking_softmax_loss",
        family="contrastive",
        fn=L.ranking_softmax_loss,
        inputs="pred: scores (..., L) with items on `axis`; target: relevance >= 0, same shape",
        kind="ranking",
        cases=(
            Case("catalogue-none", _const(_S, _REL), {"reduction": "none"},
                 expected=[3.480728, 0.0]),
            Case("catalogue-where", _const(_S, _REL), arrays=lambda rng: {"where": _MASK},
                 expected=0.5235183),
            Case("catalogue-item-weight-none", _const(_S, _REL), {"reduction": "none"},
                 arrays=lambda rng: {"item_weight": _IW}, expected=[5.475909, 0.0]),
            Case("random-axis0-weight-sum", lambda rng: (
                rng.normal(size=(5, 3)), rng.integers(0, 4, size=(5, 3)).astype(np.float64)),
                 {"axis": 0, "reduction": "sum"}, arrays=_arrays(weight=_uniform((3,)))),
            Case("random-where-empty-list", lambda rng: (
                rng.normal(size=(3, 5)), rng.uniform(0, 3, size=(3, 5))),
                 arrays=lambda rng: {"where": np.array([[True, False, True, True, False],
                                                        [False] * 5, [True] * 5])}),
            Case("empty", _const(np.zeros((0, 4)), np.zeros((0, 4))), expected=0.0,
                 peers=False),
        ),
        reference=_ref_ranking,
        peers=(
            Peer("optax.losses.ranking_softmax_loss", "jax", _optax_ranking, "optax",
                 jit=True),
        ),
        bad_options=(({"axis": 2}, "axis"), ({"where": np.ones((2, 4))}, "where"),
                     ({"where": np.ones((3, 4), bool)}, "where"),
                     ({"item_weight": np.ones((3, 4))}, "item_weight")),
        bad_values=(BadValue("target", _const(_S, -_REL)),),
        bad_shape=_bad_lists,
        sized=_sized_lists,
        notes="golden (peer): optax float64",
    ),
]


# --- timing yardsticks (benchmark only: not references of the tests)


def _hw_ntxent(x: np.ndarray, g: np.ndarray) -> Any:
    u = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)
    s = u @ u.T / 0.07
    same = g[:, None] == g[None, :]
    pos = same & ~np.eye(len(g), dtype=bool)
    neg = np.where(same, -np.inf, s)
    m = neg.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(neg - m).sum(axis=-1, keepdims=True)) + m
    return np.where(pos, np.logaddexp(0.0, lse - s), 0.0).sum() / pos.sum()


def _hw_ranking(s: np.ndarray, y: np.ndarray) -> Any:
    m = s.max(axis=-1, keepdims=True)
    logp = s - m - np.log(np.exp(s - m).sum(axis=-1, keepdims=True))
    return np.mean(-np.sum(y * logp, axis=-1))


RECORDS = timed(RECORDS, {
    "ntxent_loss": {"peers": (yardstick(_hw_ntxent),)},
    "ranking_softmax_loss": {"peers": (yardstick(_hw_ranking),)},
})

_POS = "cosine similarity of the positive pairs (batch of 4, 2 groups)"
RECORDS = drawn(RECORDS, {
    "ntxent_loss": Figure(_POS, (-1.0, 1.0), FIG.similar_pairs, "temperature",
                          (0.07, 0.2, 0.5), batched=False),
    "circle_loss": Figure(_POS, (-1.0, 1.0), FIG.similar_pairs, "gamma", (16.0, 32.0, 80.0),
                          batched=False),
    "ranking_softmax_loss": Figure(
        "score of the relevant item minus the two others'", (-4.0, 4.0),
        lambda x, v: (np.stack([x, 0 * x, 0 * x], axis=-1),
                      np.tile([1.0, 0.0, 0.0], (len(x), 1)))),
})
