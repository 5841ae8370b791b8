"""Catalogue records of the sequence losses (``arrayloss.losses.sequence``): CTC."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import losses as L
from . import BadValue, Case, Figure, Peer, Record, drawn, np_reduce, timed
from ._classes import Arrays, _arrays, _const, _uniform
from ._common import np_log_softmax

# the catalogue example: (B=2, T=4, C=3) logits, blank 0
_Z = np.array([[[0.5, 1.0, -0.5], [0.2, -0.3, 1.5], [1.0, 0.1, 0.3], [0.0, 0.8, -0.2]],
               [[0.1, 0.4, 0.9], [1.2, -0.7, 0.0], [0.3, 0.3, 0.3], [2.0, -1.0, 0.5]]])
_Y = np.array([[1, 2], [1, 1]])
_IL = np.array([4, 3])
_TL = np.array([2, 2])
# its rows in a batch of four: (0, 1) as above, row 1 with 2 frames, row 0 with no label
_Z4 = _Z[[0, 1, 1, 0]]
_Y4 = _Y[[0, 1, 1, 0]]
_IL4 = [4, 3, 2, 4]
_TL4 = [2, 2, 2, 0]

#: optax's stand-in for an infeasible alignment is about ``-log_epsilon = 1e5``
_OPTAX_INFEASIBLE = 5e4


def _lengths(il: Any = _IL, tl: Any = _TL) -> Callable[[np.random.Generator], dict[str, Any]]:
    return _arrays(input_lengths=lambda rng: np.array(il), target_lengths=lambda rng: np.array(tl))


def _rand_batch(b: int, t: int, c: int, il: list[int], tl: list[int], blank: int = 0
                ) -> Callable[[np.random.Generator], Arrays]:
    """Logits ``(b, t, c)`` and labels ``(b, len)`` whose padding holds junk (``-1``, ``c``);
    ``il`` and ``tl`` are feasible for any labels (``t_b >= 2 l_b``)."""
    s = max(tl)

    def make(rng: np.random.Generator) -> Arrays:
        y = rng.integers(0, c - 1, size=(b, s))
        y = np.where(y >= blank, y + 1, y)  # never the blank
        pad = np.arange(s)[None, :] >= np.array(tl)[:, None]
        return rng.normal(size=(b, t, c)) * 2.0, np.where(pad, np.array([-1, c])[
            np.arange(s) % 2][None, :], y)

    return make


def _sized(rng: np.random.Generator, n: int) -> Arrays:
    """B >= 16 sequences of up to 1000 frames over 30 classes, labels a fifth as long."""
    c = 30
    t = int(min(max(n // (16 * c), 5), 1000))
    b = max(n // (t * c), 1)
    return rng.normal(size=(b, t, c)), rng.integers(1, c, size=(b, max(t // 5, 1)))


# --- the float64 reference: the alpha recursion in probability ratios, one sequence at a time


def _ref_nll(lp: np.ndarray, labels: np.ndarray, blank: int) -> float:
    """``-log p(labels | lp)`` by the scaled forward recursion of Graves et al. (section 4.1:
    each frame's alphas rescaled to sum 1, the log of the scales summed)."""
    ext = [blank]
    for lab in labels:
        ext += [int(lab), blank]
    k, t_len = len(ext), lp.shape[0]
    if t_len == 0:
        return 0.0 if k == 1 else np.inf
    p = np.exp(lp)
    alpha = np.zeros(k)
    alpha[0] = p[0, ext[0]]
    if k > 1:
        alpha[1] = p[0, ext[1]]
    log_scale = 0.0
    for t in range(t_len):
        if t > 0:
            new = np.zeros(k)
            for s in range(k):
                a = alpha[s] + (alpha[s - 1] if s >= 1 else 0.0)
                if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                    a += alpha[s - 2]
                new[s] = a * p[t, ext[s]]
            alpha = new
        total = alpha.sum()
        if total == 0:
            return np.inf
        alpha = alpha / total
        log_scale += np.log(total)
    final = alpha[k - 1] + (alpha[k - 2] if k > 1 else 0.0)
    return np.inf if final == 0 else -(log_scale + np.log(final))


def _ref_ctc(pred: np.ndarray, target: np.ndarray, *, input_lengths: Any = None,
             target_lengths: Any = None, blank: int = 0, zero_infinity: bool = False,
             length_normalize: bool = False, reduction: str = "mean",
             weight: np.ndarray | None = None) -> np.ndarray:
    b, t_max, _ = pred.shape
    il = np.full(b, t_max) if input_lengths is None else np.asarray(input_lengths)
    tl = np.full(b, target.shape[1]) if target_lengths is None else np.asarray(target_lengths)
    loss = np.zeros(b)
    for i in range(b):
        lp = np_log_softmax(np.asarray(pred[i, : il[i]], np.float64))
        v = max(_ref_nll(lp, target[i, : tl[i]], blank), 0.0)
        if zero_infinity and v == np.inf:
            v = 0.0
        loss[i] = v / max(tl[i], 1) if length_normalize else v
    return np_reduce(loss, reduction, weight, count=b)


# --- peers


def _peer_reduce(loss: Any, tl: Any, *, length_normalize: bool, reduction: str,
                 weight: Any) -> Any:
    if length_normalize:
        loss = loss / np.maximum(tl, 1) if isinstance(loss, np.ndarray) else \
            loss / tl.clip(min=1)
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / loss.shape[0]


def _full(x: Any, value: int, n: int) -> Any:
    return x if x is not None else np.full(n, value)


def _torch_ctc(pred: Any, target: Any, *, input_lengths: Any = None, target_lengths: Any = None,
               blank: int = 0, zero_infinity: bool = False, length_normalize: bool = False,
               reduction: str = "mean", weight: Any = None) -> Any:
    """``F.ctc_loss`` on ``log_softmax(pred)`` frames-first; its own ``'mean'`` (divided by
    the target lengths) where ``length_normalize`` asks for it."""
    import torch
    import torch.nn.functional as F

    b, t, _ = pred.shape
    il = torch.as_tensor(_full(input_lengths, t, b))
    tl = torch.as_tensor(_full(target_lengths, target.shape[1], b))
    lp = torch.log_softmax(pred, -1).transpose(0, 1)
    if length_normalize and reduction == "mean" and weight is None:
        return F.ctc_loss(lp, target, il, tl, blank, "mean", zero_infinity)
    loss = F.ctc_loss(lp, target, il, tl, blank, "none", zero_infinity)
    return _peer_reduce(loss, tl.to(loss.dtype), length_normalize=length_normalize,
                        reduction=reduction, weight=weight)


def _optax_ctc(pred: Any, target: Any, *, input_lengths: Any = None, target_lengths: Any = None,
               blank: int = 0, zero_infinity: bool = False, length_normalize: bool = False,
               reduction: str = "mean", weight: Any = None) -> Any:
    """``optax.ctc_loss`` with paddings from the lengths; its ``-log_epsilon`` stand-in for an
    infeasible alignment is read as ``+inf`` (0 under ``zero_infinity``)."""
    import jax.numpy as jnp
    import optax

    b, t, _ = pred.shape
    s = target.shape[1]
    il = jnp.asarray(_full(input_lengths, t, b))
    tl = jnp.asarray(_full(target_lengths, s, b))
    logit_pad = (jnp.arange(t)[None, :] >= il[:, None]).astype(pred.dtype)
    label_pad = (jnp.arange(s)[None, :] >= tl[:, None]).astype(pred.dtype)
    loss = optax.ctc_loss(pred, logit_pad, jnp.where(label_pad > 0, 0, target), label_pad,
                          blank_id=blank)
    loss = jnp.where(loss > _OPTAX_INFEASIBLE, 0.0 if zero_infinity else jnp.inf, loss)
    return _peer_reduce(loss, tl.astype(loss.dtype), length_normalize=length_normalize,
                        reduction=reduction, weight=weight)


def _keras_ctc(pred: Any, target: Any, *, reduction: str = "mean") -> Any:
    """``keras.losses.ctc``: label 0 is the blank and the padding, every frame is used
    (float32 whatever the input)."""
    import keras

    out = keras.losses.ctc(target, pred)
    loss = np.asarray(keras.ops.convert_to_numpy(out), np.float64)
    return _peer_reduce(loss, None, length_normalize=False, reduction=reduction, weight=None)


def _keras_accepts(options: Mapping[str, Any]) -> bool:
    keys = {"input_lengths", "target_lengths", "weight", "zero_infinity", "length_normalize"}
    return options.get("blank", 0) == 0 and not keys & set(options)


RECORDS = [
    Record(
        name="ctc_loss",
        family="sequence",
        fn=L.ctc_loss,
        inputs="pred: logits (B, T, C); target: integer labels (B, S); keyword arrays "
               "input_lengths (B,) in [0, T], target_lengths (B,) in [0, S]",
        kind="sequence",
        cases=(
            # no lengths: every frame and label counts (keras's convention without padding)
            Case("catalogue-all-frames-none", _const(_Z, _Y), {"reduction": "none"},
                 expected=[1.918474, 2.826064]),
            Case("catalogue-lengths-mean", _const(_Z, _Y), arrays=_lengths(),
                 expected=2.304935),
            Case("catalogue-length-normalize", _const(_Z, _Y), {"length_normalize": True},
                 arrays=_lengths(), expected=1.152468),
            # the catalogue's rows with lengths, the second one too short (infeasible), the
            # first one with an empty target
            Case("catalogue-rows-none", _const(_Z4, _Y4), {"reduction": "none"},
                 arrays=_lengths(il=_IL4, tl=_TL4), grad="finite",
                 expected=[1.918474, 2.691396, np.inf, 4.808081]),
            Case("catalogue-rows-zero-infinity-none", _const(_Z4, _Y4),
                 {"zero_infinity": True, "reduction": "none"}, arrays=_lengths(il=_IL4, tl=_TL4),
                 expected=[1.918474, 2.691396, 0.0, 4.808081]),
            # [1.871714, 4.191396] per sequence
            Case("catalogue-blank-2-sum", _const(_Z, np.array([[0, 1], [0, 0]])),
                 {"blank": 2, "reduction": "sum"}, arrays=_lengths(), expected=6.063110),
            Case("random-uneven-weighted-normalized",
                 _rand_batch(4, 6, 5, [6, 5, 2, 4], [3, 2, 1, 0]), {"length_normalize": True},
                 arrays=lambda rng: {"input_lengths": np.array([6, 5, 2, 4]),
                                     "target_lengths": np.array([3, 2, 1, 0]),
                                     "weight": _uniform((4,))(rng)}),
            Case("empty", _const(np.zeros((0, 4, 3)), np.zeros((0, 2), np.int64)),
                 expected=0.0, peers=False),
        ),
        reference=_ref_ctc,
        peers=(
            Peer("torch.nn.functional.ctc_loss", "torch", _torch_ctc, "torch"),
            Peer("optax.ctc_loss", "jax", _optax_ctc, "optax", jit=True),
            Peer("keras.losses.ctc", "numpy", _keras_ctc, "keras", rtol=1e-6,
                 accepts=_keras_accepts),
        ),
        bad_options=(({"blank": 3}, "blank"), ({"blank": -1}, "blank"),
                     ({"blank": 0.0}, "blank"), ({"zero_infinity": 1}, "zero_infinity"),
                     ({"length_normalize": "yes"}, "length_normalize")),
        bad_values=(BadValue("target", _const(_Z, np.array([[1, 0], [1, 1]]))),
                    BadValue("target", _const(_Z, np.array([[1, 3], [1, 1]]))),
                    BadValue("target", _const(_Z, np.array([[1, 2], [-1, 1]])))),
        bad_shape=lambda rng: (np.zeros((2, 4, 3)), np.zeros((3, 2), np.int64)),
        sized=_sized,
        notes="golden (peer): torch and optax float64; infeasible sequences give +inf with "
              "a zero gradient",
    ),
]

# the benchmark times the record's peers: F.ctc_loss (torch eager) and optax.ctc_loss (under
# jax.jit); no goal yet (docs/benchmarks.md: 1.2x to 2x torch's native kernel, 1.5x to 2.6x
# optax's scan on a busy 2-core machine)
RECORDS = timed(RECORDS, {"ctc_loss": {}})


def _ctc_figure(x: np.ndarray, frames: int) -> Arrays:
    """Labels (1, 2): the first half of the frames give 1 the probability x, the others 2;
    the rest is shared by the two other classes."""
    sym = np.where(np.arange(frames) < frames // 2, 1, 2)
    p = np.repeat(((1 - x) / 2)[:, None, None], frames * 3, axis=1).reshape(len(x), frames, 3)
    p[:, np.arange(frames), sym] = x[:, None]
    return np.log(p), np.tile([1, 2], (len(x), 1))


RECORDS = drawn(RECORDS, {
    "ctc_loss": Figure("probability of the label in each frame", (0.05, 0.99), _ctc_figure,
                       "frames", (2, 4, 8)),
})
