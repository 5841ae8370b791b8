"""What the Keras adapters translate: argument order, label forms, probabilities, and the
shape of the per-sample loss that ``keras.losses.Loss.__call__`` then weights and reduces.

Every translator takes the adapter's spec, its resolved options, and Keras's ``(y_true,
y_pred)`` (tensors of the active backend: NumPy arrays, torch tensors or JAX arrays, already
cast by Keras to the loss's dtype), calls the arrayloss function once and returns the
unreduced loss with the shape a Keras loss returns. The formulas stay in ``arrayloss``; only
``keras.ops`` shape and dtype operations (and the probability-to-logit conversions Keras's
own losses make) happen here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras
from keras import ops

import arrayloss

Array = Any


@dataclass(frozen=True)
class Spec:
    """One adapter class: its Keras-style ``name``, the arrayloss function(s) it calls
    (``core``), its constructor options and their defaults, the translator, the Keras loss
    that computes the same quantity (``peer``, None if none does), option renames (adapter
    name -> arrayloss name), options the translator consumes itself (``adapter_only``), and a
    paragraph on its conventions (``doc``)."""

    name: str
    core: tuple[str, ...]
    options: Mapping[str, Any]
    translate: Callable[[Spec, dict[str, Any], Array, Array], Array]
    peer: str | None = None
    core_names: Mapping[str, str] = field(default_factory=dict)
    adapter_only: tuple[str, ...] = ()
    doc: str = ""

    def core_fn(self, i: int = 0) -> Callable[..., Array]:
        return getattr(arrayloss, self.core[i])

    def core_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The adapter's options under their arrayloss names, without the adapter-only ones."""
        return {self.core_names.get(k, k): v for k, v in options.items()
                if k not in self.adapter_only}


# ---------------------------------------------------------------------------------------
# shapes and label forms


def same_rank(y_true: Array, y_pred: Array) -> tuple[Array, Array]:
    """Keras's rule for same-shape arguments (``LossFunctionWrapper``): when the ranks differ
    by one and the longer one ends in an axis of size 1, that axis is squeezed (or, when the
    shorter one has rank 1, the shorter one gets a trailing axis): ``(N,)`` labels fit an
    ``(N, 1)`` output."""
    rt, rp = len(y_true.shape), len(y_pred.shape)
    if rt == rp + 1 and y_true.shape[-1] == 1:
        if rp == 1:
            y_pred = ops.expand_dims(y_pred, -1)
        else:
            y_true = ops.squeeze(y_true, -1)
    elif rp == rt + 1 and y_pred.shape[-1] == 1:
        if rt == 1:
            y_true = ops.expand_dims(y_true, -1)
        else:
            y_pred = ops.squeeze(y_pred, -1)
    return y_true, y_pred


def _class_axis(axis: int, ndim: int) -> int:
    return axis % ndim if -ndim <= axis < ndim else axis


def int_labels(y_true: Array, y_pred: Array, axis: int) -> Array:
    """Integer class labels from Keras's float ``y_true``: a label tensor with ``y_pred``'s
    rank is squeezed at the class axis (Keras's ``(N, 1)`` labels), then cast to int32
    (truncation, as Keras's sparse losses; a non-integral label cannot be refused under a
    compiler)."""
    if len(y_true.shape) == len(y_pred.shape):
        ax = _class_axis(axis, len(y_pred.shape))
        if isinstance(ax, int) and 0 <= ax < len(y_true.shape) and y_true.shape[ax] == 1:
            y_true = ops.squeeze(y_true, ax)
    return ops.cast(y_true, "int32")


def labels_or_dense(y_true: Array, y_pred: Array, axis: int) -> Array:
    """For losses that take both forms (the overlap losses with a class axis): ``y_true``
    with one axis less than ``y_pred``, or the same rank with size 1 where ``y_pred`` has
    several classes, holds integer labels; otherwise it is a dense target."""
    rt, rp = len(y_true.shape), len(y_pred.shape)
    if rt == rp - 1:
        return ops.cast(y_true, "int32")
    ax = _class_axis(axis, rp)
    if (rt == rp and isinstance(ax, int) and 0 <= ax < rp and y_true.shape[ax] == 1
            and y_pred.shape[ax] != 1):
        return int_labels(y_true, y_pred, axis)
    return y_true


def set_mask(x: Array, mask: Array) -> None:
    """Attach a Keras mask to a per-position loss: ``Loss.__call__`` then leaves the masked
    positions out of the mean (what Keras's ``ignore_class`` does)."""
    try:
        from keras.src.backend import set_keras_mask
    except ImportError:  # pragma: no cover - keras releases before the helper
        x._keras_mask = mask
    else:
        set_keras_mask(x, mask)


# ---------------------------------------------------------------------------------------
# probabilities as logits (the probability forms of Keras's losses)


def log_probabilities(p: Array) -> Array:
    """Probabilities given as logits to a softmax loss: ``log(clip(p, epsilon, 1))``. The
    log-softmax of ``log p`` is ``log(p / sum p)``, Keras's normalisation; the clip at
    ``keras.backend.epsilon()`` is Keras's (a zero probability costs ``-log(epsilon)``)."""
    return ops.log(ops.clip(p, keras.backend.epsilon(), 1.0))


def sigmoid_logits(p: Array) -> Array:
    """Probabilities given as logits to a sigmoid loss: ``logit(clip(p, eps, 1 - eps))``."""
    eps = keras.backend.epsilon()
    q = ops.clip(p, eps, 1.0 - eps)
    return ops.log(q) - ops.log1p(-q)


# ---------------------------------------------------------------------------------------
# translators: (spec, options, y_true, y_pred) -> the unreduced Keras loss


def elementwise(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """Same-shape float inputs; the elementwise loss averaged over the last axis."""
    y_true, y_pred = same_rank(y_true, y_pred)
    loss = spec.core_fn()(y_pred, y_true, **spec.core_options(o), reduction="none")
    return ops.mean(loss, axis=-1)


def binary(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """``from_logits`` picks ``binary_cross_entropy_with_logits`` (True) or
    ``binary_cross_entropy`` (False); mean over the last axis."""
    y_true, y_pred = same_rank(y_true, y_pred)
    fn = spec.core_fn(1 if o["from_logits"] else 0)
    return ops.mean(fn(y_pred, y_true, **spec.core_options(o), reduction="none"), axis=-1)


def binary_focal(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """``sigmoid_focal_loss`` on logits (probabilities converted by ``sigmoid_logits``);
    ``alpha`` applies only with ``apply_class_balancing``; mean over the last axis."""
    y_true, y_pred = same_rank(y_true, y_pred)
    z = y_pred if o["from_logits"] else sigmoid_logits(y_pred)
    kw = spec.core_options(o)
    kw["alpha"] = o["alpha"] if o["apply_class_balancing"] else None
    return ops.mean(spec.core_fn()(z, y_true, **kw, reduction="none"), axis=-1)


def signed(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """Margin losses: Keras's {0, 1} labels become {-1, +1} (0 -> -1; other values pass to
    arrayloss, which refuses them when it can read them); mean over the last axis."""
    y_true, y_pred = same_rank(y_true, y_pred)
    y = ops.where(ops.equal(y_true, 0.0), -ops.ones_like(y_true), y_true)
    loss = spec.core_fn()(y_pred, y, **spec.core_options(o), reduction="none")
    return ops.mean(loss, axis=-1)


def boxes(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """Aligned boxes ``(..., 4)``: one loss per box, shape ``(...)``."""
    return spec.core_fn()(y_pred, y_true, **spec.core_options(o), reduction="none")


def kl(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """``kl_divergence(log(clip(y_pred)), clip(y_true))``, both clipped to ``[epsilon, 1]``
    as Keras does (``log_target=True``: ``y_true`` holds log-probabilities, not clipped);
    one value per distribution."""
    y_true, y_pred = same_rank(y_true, y_pred)
    eps = keras.backend.epsilon()
    p = y_true if o["log_target"] else ops.clip(y_true, eps, 1.0)
    return spec.core_fn()(log_probabilities(y_pred), p, **spec.core_options(o),
                          reduction="none")


def _ignored(o: dict[str, Any], y: Array, out: Array) -> Array:
    ii = o.get("ignore_class", o.get("ignore_index"))
    if ii is not None:
        set_mask(out, ops.not_equal(y, ii))
    return out


def classes(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array,
            sparse: bool) -> Array:
    """Class-axis losses (cross-entropy, softmax focal, multi-class hinge): ``from_logits``
    False converts probabilities with ``log_probabilities``; sparse labels are cast back to
    integers; one value per position (``y_pred`` without the class axis). Ignored labels
    are masked, so Keras's mean leaves them out (Keras's ``ignore_class``)."""
    axis = o.get("axis", -1)
    kw = spec.core_options(o)
    if "alpha" in kw and kw["alpha"] is not None and not isinstance(kw["alpha"], (list, tuple)):
        kw["alpha"] = [float(kw["alpha"])] * int(y_pred.shape[axis])  # Keras: every class
    z = y_pred if o.get("from_logits", True) else log_probabilities(y_pred)
    if not sparse:
        y_true, z = same_rank(y_true, z)
        return spec.core_fn()(z, y_true, **kw, reduction="none")
    y = int_labels(y_true, y_pred, axis)
    return _ignored(o, y, spec.core_fn()(z, y, **kw, reduction="none"))


def dense_classes(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    return classes(spec, o, y_true, y_pred, sparse=False)


def sparse_classes(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    return classes(spec, o, y_true, y_pred, sparse=True)


def overlap(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """Dice, Jaccard, Tversky, focal Tversky, generalised Dice. ``axis=None`` (binary: every
    element, as Keras's ``dice``/``tversky``) or a class axis (integer labels or a dense target).
    ``per_image=False`` returns arrayloss's ``"mean"`` over the batch (a 0-d loss, as
    ``keras.losses.Dice()``); ``per_image=True`` returns one value per image (``(B,)``: the
    mean over classes of the per-(image, class) losses)."""
    axis = o["axis"]
    if axis is None:
        y_true, y_pred = same_rank(y_true, y_pred)
    else:
        y_true = labels_or_dense(y_true, y_pred, axis)
    fn, kw = spec.core_fn(), spec.core_options(o)
    if not o["per_image"]:
        return fn(y_pred, y_true, **kw, reduction="mean")
    out = fn(y_pred, y_true, **kw, reduction="none")
    # (B, C) per class; (B,) without a class axis, micro-averaged or generalised Dice
    return ops.mean(out, axis=-1) if len(out.shape) == 2 else out


def lovasz_hinge(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """Binary labels cast back to integers; ``(B,)`` per image, or the batch's 0-d loss with
    ``per_image=False``."""
    y_true, y_pred = same_rank(y_true, y_pred)
    y = ops.cast(y_true, "int32")
    fn, kw = spec.core_fn(), spec.core_options(o)
    return fn(y_pred, y, **kw, reduction="none" if o["per_image"] else "mean")


def lovasz_softmax(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """Integer labels; ``per_image=False`` (default): the batch's 0-d loss. ``per_image=True``:
    one value per image, the mean of its selected classes' losses (Berman's per-image
    average): the arrayloss ``"none"`` matrix summed over classes, divided by the number of
    selected classes (all C, the listed ones, or those present among the image's
    non-ignored labels)."""
    axis = o["axis"]
    y = int_labels(y_true, y_pred, axis)
    fn, kw = spec.core_fn(), spec.core_options(o)
    if not o["per_image"]:
        return fn(y_pred, y, **kw, reduction="mean")
    out = fn(y_pred, y, **kw, reduction="none")  # (B, C), 0 for classes not selected
    c = int(out.shape[-1])
    sel = o["classes"]
    if sel == "all":
        n = ops.convert_to_tensor(float(c), dtype=out.dtype)
    elif sel == "present":
        hit = ops.equal(ops.expand_dims(y, -1), ops.arange(c, dtype="int32"))
        axes = tuple(range(1, len(hit.shape) - 1))
        present = ops.any(hit, axis=axes) if axes else hit
        n = ops.sum(ops.cast(present, out.dtype), axis=-1)
    else:
        n = ops.convert_to_tensor(float(len(sel)), dtype=out.dtype)
    return ops.divide_no_nan(ops.sum(out, axis=-1), n)


def groups(spec: Spec, o: dict[str, Any], y_true: Array, y_pred: Array) -> Array:
    """Embeddings ``(N, D)`` and integer labels (``(N,)`` or ``(N, 1)``, cast back to int32):
    one loss per anchor, masked where it is 0 as Keras's ``circle`` masks it (anchors without
    a positive or a negative), so Keras's mean is over the other anchors."""
    y = int_labels(y_true, y_pred, -1) if len(y_true.shape) == 2 else ops.cast(y_true, "int32")
    out = spec.core_fn()(y_pred, y, **spec.core_options(o), reduction="none")
    set_mask(out, ops.greater(out, 0.0))
    return out
