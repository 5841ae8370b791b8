"""Peers for the benchmark that the catalogue records do not carry.

Hand-written NumPy (what a NumPy user would write for the loss's default options, float32
in, float32 out) and torchvision-style formulas written in torch (torchvision's box and
focal losses, re-stated here so the benchmark needs no torchvision). Each takes the
positional arrays of ``Record.sized`` and returns the default ``"mean"`` reduction; the
benchmark checks that it agrees with arrayloss before timing it. Used only by
``arrayloss._bench``; not part of the reference tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .catalog import Native

__all__ = ["NATIVES", "extra"]

_HW = "hand-written NumPy"
_LOG2 = math.log(2.0)


def _np(fn: Callable[..., Any]) -> Native:
    return Native(_HW, "numpy", fn, "numpy")


def _torch(label: str, fn: Callable[..., Any]) -> Native:
    return Native(label, "torch", fn, "torch")


# --------------------------------------------------------------------------- regression


def _l1(p: np.ndarray, t: np.ndarray) -> Any:
    return np.mean(np.abs(p - t))


def _mse(p: np.ndarray, t: np.ndarray) -> Any:
    r = p - t
    return np.mean(r * r)


def _smooth_l1(p: np.ndarray, t: np.ndarray) -> Any:
    a = np.abs(p - t)
    return np.mean(np.where(a < 1.0, 0.5 * a * a, a - 0.5))


def _huber(p: np.ndarray, t: np.ndarray) -> Any:
    a = np.abs(p - t)
    return np.mean(np.where(a <= 1.0, 0.5 * a * a, a - 0.5))


def _log_cosh(p: np.ndarray, t: np.ndarray) -> Any:
    a = np.abs(p - t)
    return np.mean(a + np.log1p(np.exp(-2.0 * a)) - np.float32(_LOG2))


def _tukey(p: np.ndarray, t: np.ndarray, c: float = 4.685) -> Any:
    r = p - t
    mad = np.median(np.abs(r - np.median(r, axis=0)), axis=0)
    u = r / (np.float32(1.4826) * np.maximum(mad, np.float32(1e-12)))
    q = np.minimum((u / np.float32(c)) ** 2, np.float32(1.0))
    return np.mean(np.float32(c * c / 6.0) * (1.0 - (1.0 - q) ** 3))


# --------------------------------------------------------------------------- classification


def _np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> Any:
    if labels.shape == logits.shape:
        return np.mean(-np.sum(labels * _np_log_softmax(logits), axis=-1))
    m = np.max(logits, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(logits - m), axis=-1)) + m[..., 0]
    picked = np.take_along_axis(logits, labels[..., None].astype(np.intp), axis=-1)[..., 0]
    return np.mean(lse - picked)


def _bce_logits(x: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(np.logaddexp(0, x) - x * y)


def _bce(p: np.ndarray, y: np.ndarray) -> Any:
    eps = np.finfo(p.dtype).eps
    q = np.clip(p, eps, 1 - eps)
    return np.mean(-(y * np.log(q) + (1 - y) * np.log1p(-q)))


def _sigmoid_focal(x: np.ndarray, y: np.ndarray, alpha: float = 0.25, gamma: float = 2.0
                   ) -> Any:
    p = 1 / (1 + np.exp(-x))
    ce = np.logaddexp(0, x) - x * y
    p_t = p * y + (1 - p) * (1 - y)
    a_t = alpha * y + (1 - alpha) * (1 - y)
    return np.mean(a_t * ce * (1 - p_t) ** gamma)


def _torch_sigmoid_focal(x: Any, y: Any, alpha: float = 0.25, gamma: float = 2.0) -> Any:
    """torchvision.ops.sigmoid_focal_loss, restated."""
    import torch
    import torch.nn.functional as F

    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return torch.mean(loss)


def _kl(log_q: np.ndarray, p: np.ndarray) -> Any:
    safe = np.where(p > 0, p, 1)
    return np.mean(np.sum(np.where(p > 0, p * (np.log(safe) - log_q), 0), axis=-1))


def _hinge(s: np.ndarray, y: np.ndarray) -> Any:
    return np.mean(np.maximum(1 - y * s, 0))


def _squared_hinge(s: np.ndarray, y: np.ndarray) -> Any:
    h = np.maximum(1 - y * s, 0)
    return np.mean(h * h)


def _entropy(p: np.ndarray) -> Any:
    safe = np.where(p > 0, p, 1)
    return np.mean(-np.sum(p * np.log(safe), axis=-1))


def _dice(p: np.ndarray, labels: np.ndarray, eps: float = 1e-7) -> Any:
    """Soft Dice per (image, class), channels-last probabilities and integer labels."""
    c = p.shape[-1]
    y = (labels[..., None] == np.arange(c)).astype(p.dtype)
    axes = tuple(range(1, p.ndim - 1))
    inter = np.sum(p * y, axis=axes)
    den = np.sum(p, axis=axes) + np.sum(y, axis=axes)
    return np.mean(1 - (2 * inter + eps) / (den + eps))


# --------------------------------------------------------------------------- boxes


def _torch_box_terms(b1: Any, b2: Any, eps: float = 1e-7) -> tuple[Any, ...]:
    """torchvision.ops._utils._loss_inter_union and the enclosing box, restated."""
    import torch

    x1, y1, x2, y2 = b1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
    xkis1 = torch.max(x1, x1g)
    ykis1 = torch.max(y1, y1g)
    xkis2 = torch.min(x2, x2g)
    ykis2 = torch.min(y2, y2g)
    intsct = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsct[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsct
    iou = intsct / (union + eps)
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)
    return iou, union, xc1, yc1, xc2, yc2, (x1, y1, x2, y2), (x1g, y1g, x2g, y2g)


def _torch_giou(b1: Any, b2: Any, eps: float = 1e-7) -> Any:
    """torchvision.ops.generalized_box_iou_loss, restated."""
    iou, union, xc1, yc1, xc2, yc2, _, _ = _torch_box_terms(b1, b2, eps)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return (1 - (iou - (area_c - union) / (area_c + eps))).mean()


def _torch_diou_terms(b1: Any, b2: Any, eps: float) -> tuple[Any, Any, tuple[Any, ...]]:
    iou, _, xc1, yc1, xc2, yc2, a, g = _torch_box_terms(b1, b2, eps)
    diag = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    cx = (a[0] + a[2]) / 2
    cy = (a[1] + a[3]) / 2
    cxg = (g[0] + g[2]) / 2
    cyg = (g[1] + g[3]) / 2
    dist = (cx - cxg) ** 2 + (cy - cyg) ** 2
    return iou, dist / diag, (a, g)


def _torch_diou(b1: Any, b2: Any, eps: float = 1e-7) -> Any:
    """torchvision.ops.distance_box_iou_loss, restated."""
    iou, d, _ = _torch_diou_terms(b1, b2, eps)
    return (1 - iou + d).mean()


def _torch_ciou(b1: Any, b2: Any, eps: float = 1e-7) -> Any:
    """torchvision.ops.complete_box_iou_loss, restated."""
    import torch

    iou, d, (a, g) = _torch_diou_terms(b1, b2, eps)
    w, h = a[2] - a[0], a[3] - a[1]
    wg, hg = g[2] - g[0], g[3] - g[1]
    v = (4 / (torch.pi**2)) * torch.pow(torch.atan(wg / hg) - torch.atan(w / h), 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return (1 - iou + d + alpha * v).mean()


NATIVES: dict[str, tuple[Native, ...]] = {
    "l1_loss": (_np(_l1),),
    "mse_loss": (_np(_mse),),
    "smooth_l1_loss": (_np(_smooth_l1),),
    "huber_loss": (_np(_huber),),
    "log_cosh_loss": (_np(_log_cosh),),
    "tukey_biweight_loss": (_np(_tukey),),
    "cross_entropy": (_np(_cross_entropy),),
    "binary_cross_entropy_with_logits": (_np(_bce_logits),),
    "binary_cross_entropy": (_np(_bce),),
    "kl_divergence": (_np(_kl),),
    "hinge_loss": (_np(_hinge),),
    "squared_hinge_loss": (_np(_squared_hinge),),
    "entropy": (_np(_entropy),),
    "dice_loss": (_np(_dice),),
    "sigmoid_focal_loss": (_np(_sigmoid_focal),
                           _torch("torchvision-style sigmoid_focal_loss", _torch_sigmoid_focal)),
    "giou_loss": (_torch("torchvision-style generalized_box_iou_loss", _torch_giou),),
    "diou_loss": (_torch("torchvision-style distance_box_iou_loss", _torch_diou),),
    "ciou_loss": (_torch("torchvision-style complete_box_iou_loss", _torch_ciou),),
}


#: options both arrayloss and its peers are called with in the benchmark, for a loss whose
#: peers only implement a variant of it (kornia's Lovász-Softmax: softmax of logits, every
#: class, per image)
OPTIONS: dict[str, dict[str, Any]] = {
    "lovasz_softmax_loss": {"per_image": True, "classes": "all", "activation": "softmax"},
}


def options(name: str) -> dict[str, Any]:
    """The benchmark options of the loss ``name`` (empty: its defaults)."""
    return dict(OPTIONS.get(name, {}))


def extra(name: str) -> tuple[Native, ...]:
    """The benchmark-only peers of the loss ``name``."""
    return NATIVES.get(name, ())
