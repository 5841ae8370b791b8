"""``arrayloss.torch``: every module against its torch / MONAI / kornia counterpart (value and
gradient, channels-first data), against the core function it calls, under
``torch.compile(fullgraph=True)``, through ``state_dict`` and ``.to()``, and in training runs
that must match the same runs with ``torch.nn.CrossEntropyLoss`` and MONAI's ``DiceCELoss``
step by step."""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from arrayloss import catalog, losses
from arrayloss.testing.adapters import torch_module_options
from conftest import require_module, torch_or_skip

torch = torch_or_skip()
import arrayloss.torch as alt  # noqa: E402

F64 = torch.float64


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _t(a: Any, grad: bool = False) -> Any:
    return torch.tensor(np.asarray(a), dtype=F64 if np.asarray(a).dtype.kind == "f" else None,
                        requires_grad=grad)


# ------------------------------------------------------------------------ inputs (rng) -> x, y
def _regression(rng):
    return rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 5))


def _rows2d(rng):
    return rng.normal(size=(3, 4)), rng.normal(size=(3, 4))


def _counts(rng):
    return rng.normal(0.3, 0.8, size=(3, 4, 5)), rng.poisson(2.0, size=(3, 4, 5)) * 1.0


def _rates(rng):
    return rng.uniform(0.0, 4.0, size=(3, 4, 5)), rng.poisson(2.0, size=(3, 4, 5)) * 1.0


def _nonneg(rng):
    return rng.uniform(0.0, 3.0, size=(3, 4)), rng.uniform(0.0, 3.0, size=(3, 4))


def _mean_var(rng, var_shape=(3, 4, 5)):
    # variances from 0, below eps = 1e-6 included: torch's clamp passes the gradient through
    var = rng.uniform(0.0, 2.0, size=var_shape)
    var.flat[:2] = [0.0, 1e-8]
    return rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 5)), var


def _probs(rng):
    return rng.uniform(0.02, 0.98, size=(3, 2, 4)), rng.uniform(size=(3, 2, 4))


def _logits_soft(rng):
    return rng.normal(size=(3, 2, 4)) * 2, rng.uniform(size=(3, 2, 4))


def _labels(rng, ignore: bool = True):
    x = rng.normal(size=(2, 4, 3, 5)) * 2
    y = rng.integers(0, 4, size=(2, 3, 5))
    if ignore:
        y[0, 0, :2] = -100
    return x, y


def _labels_no_ignore(rng):
    return _labels(rng, ignore=False)


def _soft_classes(rng):
    x = rng.normal(size=(2, 4, 3, 5))
    p = rng.dirichlet(np.ones(4), size=(2, 3, 5))
    return x, np.moveaxis(p, -1, 1)


def _kl(rng):
    q = rng.dirichlet(np.ones(4), size=(3, 5))
    p = rng.dirichlet(np.ones(4), size=(3, 5))
    p[0, 0] = [0.0, 0.5, 0.5, 0.0]  # p = 0 terms
    return np.log(np.moveaxis(q, -1, 1)), np.moveaxis(p, -1, 1)


def _prob_labels(rng):
    x, y = _labels(rng)
    e = np.exp(x)
    return e / e.sum(1, keepdims=True), y


def _rows(rng):
    return rng.normal(size=(6, 4)), rng.integers(0, 4, size=(6,))


def _boxes(rng):
    def boxes(n):
        xy = rng.uniform(0, 10, size=(n, 2))
        return np.concatenate([xy, xy + rng.uniform(0.5, 5, size=(n, 2))], axis=1)
    return boxes(5), boxes(5)


def _signs(rng):
    return rng.normal(size=(4, 3)), rng.choice([-1.0, 1.0], size=(4, 3))


def _multi_hot(rng):
    return rng.normal(size=(6, 4)) * 2, rng.integers(0, 2, size=(6, 4)) * 1.0


def _index_lists(y: Any) -> Any:
    """Multi-hot rows as torch's MultiLabelMarginLoss target: positive classes, then -1."""
    order = torch.argsort((y == 0).to(torch.int8), dim=-1, stable=True)
    count = (y != 0).sum(-1, keepdim=True)
    return torch.where(torch.arange(y.shape[-1]) < count, order, -1)


def _vector_pairs(rng):
    return rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 5))


def _signed_pairs(rng):
    return rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.choice([-1.0, 1.0], size=(5,))


def _ranked_scores(rng):
    return rng.normal(size=(6,)), rng.normal(size=(6,)), rng.choice([-1.0, 1.0], size=(6,))


def _signed_distances(rng):
    return rng.uniform(0.0, 3.0, size=(4, 3)), rng.choice([-1.0, 1.0], size=(4, 3))


def _triplets(rng):
    a = rng.normal(size=(5, 3))
    return a, a + 0.5 * rng.normal(size=(5, 3)), a + rng.normal(size=(5, 3))


def _reduced(r: str) -> Callable[[Any], Any]:
    return lambda v: v.mean() if r == "mean" else v.sum() if r == "sum" else v


def _torch_cosine_distance(u: Any, v: Any) -> Any:
    return 1.0 - torch.nn.functional.cosine_similarity(u, v)


def _binary_masks(rng):
    return rng.normal(size=(2, 1, 4, 4)), rng.integers(0, 2, size=(2, 1, 4, 4))


def _centres(rng):
    return rng.normal(size=(6, 3)), rng.integers(0, 4, size=(6,))


def _two_views(rng):
    """Two views of 4 samples, concatenated, with the labels that pair them up."""
    base = rng.normal(size=(4, 3))
    views = np.concatenate([base + 0.3 * rng.normal(size=(4, 3)),
                            base + 0.3 * rng.normal(size=(4, 3))])
    return views, np.concatenate([np.arange(4), np.arange(4)])


def _unit_groups(rng):
    x = rng.normal(size=(8, 3))
    return x / np.linalg.norm(x, axis=-1, keepdims=True), rng.integers(0, 3, size=(8,))


def _ctc(rng):
    """torch's CTC inputs: log-probabilities (T, N, C), padded labels, uneven lengths."""
    z = rng.normal(size=(6, 3, 5))
    lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return lp, rng.integers(1, 5, size=(3, 3)), np.array([6, 5, 4]), np.array([3, 2, 1])


def _cf(x: Any) -> Any:
    """channels-first (B, C, ...) -> channels-last, for the core call."""
    return torch.movedim(x, 1, -1)


# ------------------------------------------------------------------------ peers
def _kornia(name: str) -> Callable[..., Any]:
    require_module("kornia")
    import kornia

    return getattr(kornia.losses, name)


def _monai(name: str, **kw: Any) -> Any:
    require_module("monai")
    from monai import losses as ml

    return getattr(ml, name)(**kw)


def _keras(name: str) -> Callable[..., Any]:
    """A Keras loss (NumPy backend, values only) on tensors, ``(y_true, y_pred)`` order."""
    require_module("keras")
    import keras

    def fn(x: Any, y: Any, reduction: str = "mean") -> Any:
        keras_reduction = "sum_over_batch_size" if reduction == "mean" else reduction
        out = getattr(keras.losses, name)(reduction=keras_reduction)(y.numpy(),
                                                                     x.detach().numpy())
        return torch.tensor(np.asarray(out), dtype=F64)

    return fn


def _keras_gce(q: float, reduction: str) -> Callable[..., Any]:
    """Keras's generalised cross-entropy on the softmax of channels-first logits (values)."""
    require_module("keras")
    import keras

    def fn(x: Any, y: Any) -> Any:
        p = torch.softmax(_cf(x.detach()), -1).numpy()
        keras_reduction = "sum_over_batch_size" if reduction == "mean" else reduction
        out = keras.losses.CategoricalGeneralizedCrossEntropy(q=q, reduction=keras_reduction)(
            y.numpy(), p)
        return torch.tensor(np.asarray(out), dtype=F64)

    return fn


def _keras_circle(**kw: Any) -> Callable[..., Any]:
    """Keras's circle loss (NumPy backend, float32, values) on unit-norm embeddings."""
    require_module("keras")
    import keras

    def fn(x: Any, y: Any) -> Any:
        out = keras.losses.Circle(**kw, dtype="float64")(y.numpy(), x.detach().numpy())
        return torch.tensor(np.asarray(out), dtype=F64)

    return fn


def _same_projection(module: Any) -> Any:
    """A linear cross-entropy module (ours or torch's) with fixed float64 projection weights."""
    g = np.random.default_rng(5)
    with torch.no_grad():
        module.linear.weight.copy_(_t(g.normal(size=tuple(module.linear.weight.shape))))
        module.linear.bias.copy_(_t(g.normal(size=tuple(module.linear.bias.shape))))
    return module.double()


def _features(rng):
    y = rng.integers(0, 4, size=(6,))
    y[2] = -100
    return rng.normal(size=(6, 3)), y


def _onehot(y: Any, c: int) -> Any:
    return torch.nn.functional.one_hot(y, c).movedim(-1, 1).to(F64)


W4 = np.array([0.5, 2.0, 1.0, 1.5])

# (id, module, peer(x, y) -> value, inputs, reductions)
PEERS: list[tuple[str, Callable[[str], Any], Callable[[str], Any], Any, tuple[str, ...]]] = [
    ("L1Loss", lambda r: alt.L1Loss(reduction=r),
     lambda r: torch.nn.L1Loss(reduction=r), _regression, ("mean", "sum", "none")),
    ("MSELoss", lambda r: alt.MSELoss(reduction=r),
     lambda r: torch.nn.MSELoss(reduction=r), _regression, ("mean", "sum", "none")),
    ("SmoothL1Loss", lambda r: alt.SmoothL1Loss(beta=0.4, reduction=r),
     lambda r: torch.nn.SmoothL1Loss(beta=0.4, reduction=r), _regression, ("mean", "none")),
    ("HuberLoss", lambda r: alt.HuberLoss(delta=0.7, reduction=r),
     lambda r: torch.nn.HuberLoss(delta=0.7, reduction=r), _regression, ("mean", "none")),
    ("PoissonNLLLoss", lambda r: alt.PoissonNLLLoss(full=True, reduction=r),
     lambda r: torch.nn.PoissonNLLLoss(full=True, reduction=r), _counts,
     ("mean", "sum", "none")),
    ("PoissonNLLLoss-rate", lambda r: alt.PoissonNLLLoss(False, eps=1e-6, reduction=r),
     lambda r: torch.nn.PoissonNLLLoss(False, eps=1e-6, reduction=r), _rates, ("mean", "none")),
    ("GaussianNLLLoss", lambda r: alt.GaussianNLLLoss(full=True, eps=1e-6, reduction=r),
     lambda r: torch.nn.GaussianNLLLoss(full=True, eps=1e-6, reduction=r), _mean_var,
     ("mean", "sum", "none")),
    ("GaussianNLLLoss-per-sample", lambda r: alt.GaussianNLLLoss(reduction=r),
     lambda r: torch.nn.GaussianNLLLoss(reduction=r), lambda rng: _mean_var(rng, (3, 4)),
     ("mean", "none")),
    ("GaussianNLLLoss-shared-axis", lambda r: alt.GaussianNLLLoss(reduction=r),
     lambda r: torch.nn.GaussianNLLLoss(reduction=r), lambda rng: _mean_var(rng, (3, 1, 5)),
     ("mean", "none")),
    ("BCELoss-weight", lambda r: alt.BCELoss(_t(np.arange(1.0, 5.0)), reduction=r),
     lambda r: torch.nn.BCELoss(_t(np.arange(1.0, 5.0)), reduction=r), _probs,
     ("mean", "sum", "none")),
    ("BCEWithLogitsLoss-pos-weight",
     lambda r: alt.BCEWithLogitsLoss(weight=_t([[1.0], [3.0]]), pos_weight=_t([[2.0], [0.5]]),
                                     reduction=r),
     lambda r: torch.nn.BCEWithLogitsLoss(weight=_t([[1.0], [3.0]]),
                                          pos_weight=_t([[2.0], [0.5]]), reduction=r),
     _logits_soft, ("mean", "sum", "none")),
    ("CrossEntropyLoss-labels",
     lambda r: alt.CrossEntropyLoss(_t(W4), label_smoothing=0.1, reduction=r),
     lambda r: torch.nn.CrossEntropyLoss(_t(W4), label_smoothing=0.1, reduction=r), _labels,
     ("mean", "sum", "none")),
    ("CrossEntropyLoss-probabilities", lambda r: alt.CrossEntropyLoss(_t(W4), reduction=r),
     lambda r: torch.nn.CrossEntropyLoss(_t(W4), reduction=r), _soft_classes,
     ("mean", "sum", "none")),
    # from_logits=False: probabilities, torch's NLLLoss of their log
    ("CrossEntropyLoss-from-probabilities",
     lambda r: alt.CrossEntropyLoss(_t(W4), from_logits=False, reduction=r),
     lambda r: (lambda x, y: torch.nn.NLLLoss(_t(W4), reduction=r)(torch.log(x), y)),
     _prob_labels, ("mean", "sum", "none")),
    ("NLLLoss", lambda r: alt.NLLLoss(_t(W4), reduction=r),
     lambda r: torch.nn.NLLLoss(_t(W4), reduction=r), _labels, ("mean", "sum", "none")),
    ("LinearCrossEntropyLoss", lambda r: _same_projection(alt.LinearCrossEntropyLoss(
        3, 4, bias=True, weight=_t(W4), label_smoothing=0.1, reduction=r)),
     lambda r: _same_projection(torch.nn.LinearCrossEntropyLoss(
         3, 4, bias=True, weight=_t(W4), ignore_index=-100, label_smoothing=0.1, reduction=r)),
     _features, ("mean", "sum", "none")),
    ("LinearCrossEntropyLoss-chunked", lambda r: _same_projection(alt.LinearCrossEntropyLoss(
        3, 4, bias=True, chunk_size=3, reduction=r)),
     lambda r: _same_projection(torch.nn.LinearCrossEntropyLoss(3, 4, bias=True,
                                                                reduction=r)),
     _features, ("mean", "sum")),
    ("GeneralizedCrossEntropyLoss", lambda r: alt.GeneralizedCrossEntropyLoss(q=0.7,
                                                                              reduction=r),
     lambda r: _keras_gce(0.7, r), _labels_no_ignore, ("mean", "sum")),
    ("KLDivLoss", lambda r: alt.KLDivLoss(reduction=r),
     lambda r: torch.nn.KLDivLoss(reduction=r), _kl, ("mean", "sum", "none", "batchmean")),
    ("KLDivLoss-log-target", lambda r: alt.KLDivLoss(log_target=True, reduction=r),
     lambda r: (lambda x, y: torch.nn.KLDivLoss(log_target=True, reduction=r)(x, y)),
     lambda rng: (_kl(rng)[0], _kl(rng)[0]), ("batchmean", "none")),
    ("MultiMarginLoss", lambda r: alt.MultiMarginLoss(margin=0.8, weight=_t(W4), reduction=r),
     lambda r: torch.nn.MultiMarginLoss(margin=0.8, weight=_t(W4), reduction=r), _rows,
     ("mean", "sum", "none")),
    ("MultiMarginLoss-p2", lambda r: alt.MultiMarginLoss(p=2, reduction=r),
     lambda r: torch.nn.MultiMarginLoss(p=2, reduction=r), _rows, ("mean", "none")),
    # the generic module's class weights: torch's "none" and "sum" times C (its mean divides
    # by N, ours by the labels' class-weight sum)
    ("MultiClassHingeLoss-class-weight",
     lambda r: alt.MultiClassHingeLoss(mode="weston_watkins", weight=_t(W4), reduction=r),
     lambda r: (lambda x, y: 4 * torch.nn.MultiMarginLoss(weight=_t(W4), reduction=r)(x, y)),
     _rows, ("sum", "none")),
    ("SoftMarginLoss", lambda r: alt.SoftMarginLoss(reduction=r),
     lambda r: torch.nn.SoftMarginLoss(reduction=r), _signs, ("mean", "sum", "none")),
    ("MultiLabelSoftMarginLoss", lambda r: alt.MultiLabelSoftMarginLoss(_t(W4), reduction=r),
     lambda r: torch.nn.MultiLabelSoftMarginLoss(_t(W4), reduction=r), _multi_hot,
     ("mean", "sum", "none")),
    ("MultiLabelMarginLoss", lambda r: alt.MultiLabelMarginLoss(reduction=r),
     lambda r: (lambda x, y: torch.nn.MultiLabelMarginLoss(reduction=r)(x, _index_lists(y))),
     _multi_hot, ("mean", "sum", "none")),
    ("CosineDistanceLoss", lambda r: alt.CosineDistanceLoss(reduction=r),
     lambda r: (lambda x, y: _reduced(r)(1.0 - torch.nn.CosineSimilarity()(x, y))),
     _vector_pairs, ("mean", "sum", "none")),
    ("CosineEmbeddingLoss", lambda r: alt.CosineEmbeddingLoss(0.2, reduction=r),
     lambda r: torch.nn.CosineEmbeddingLoss(0.2, reduction=r), _signed_pairs,
     ("mean", "sum", "none")),
    ("MarginRankingLoss", lambda r: alt.MarginRankingLoss(0.3, reduction=r),
     lambda r: torch.nn.MarginRankingLoss(0.3, reduction=r), _ranked_scores,
     ("mean", "sum", "none")),
    ("HingeEmbeddingLoss", lambda r: alt.HingeEmbeddingLoss(1.5, reduction=r),
     lambda r: torch.nn.HingeEmbeddingLoss(1.5, reduction=r), _signed_distances,
     ("mean", "sum", "none")),
    ("TripletMarginLoss", lambda r: alt.TripletMarginLoss(0.5, 3.0, swap=True, reduction=r),
     lambda r: torch.nn.TripletMarginLoss(0.5, 3.0, swap=True, reduction=r), _triplets,
     ("mean", "sum", "none")),
    ("TripletMarginWithDistanceLoss",
     lambda r: alt.TripletMarginWithDistanceLoss(distance_function="cosine", reduction=r),
     lambda r: torch.nn.TripletMarginWithDistanceLoss(
         distance_function=_torch_cosine_distance, reduction=r), _triplets,
     ("mean", "sum", "none")),
    ("TripletMarginWithDistanceLoss-callable",
     lambda r: alt.TripletMarginWithDistanceLoss(distance_function=_torch_cosine_distance,
                                                 swap=True, reduction=r),
     lambda r: torch.nn.TripletMarginWithDistanceLoss(
         distance_function=_torch_cosine_distance, swap=True, reduction=r), _triplets,
     ("mean", "none")),
    ("EntropyLoss", lambda r: alt.EntropyLoss(from_logits=True, reduction=r),
     lambda r: (lambda x: (lambda e: e.mean() if r == "mean" else e)(
         torch.distributions.Categorical(logits=_cf(x)).entropy())),
     lambda rng: (rng.normal(size=(2, 4, 3)),), ("mean", "none")),
    ("SigmoidFocalLoss", lambda r: alt.SigmoidFocalLoss(alpha=0.3, gamma=1.5, reduction=r),
     lambda r: (lambda x, y: _kornia("binary_focal_loss_with_logits")(
         x, y, alpha=0.3, gamma=1.5, reduction=r)),
     lambda rng: (rng.normal(size=(3, 2, 4)) * 2, rng.integers(0, 2, (3, 2, 4)) * 1.0),
     ("mean", "sum", "none")),
    ("SoftmaxFocalLoss", lambda r: alt.SoftmaxFocalLoss(alpha=_t([0.7, 0.3, 0.3, 0.3]),
                                                        reduction=r),
     lambda r: (lambda x, y: getattr(_kornia("focal_loss")(x, y, alpha=0.3, reduction="none")
                                     .sum(1), r)()),  # kornia's "none" is per class
     _labels_no_ignore, ("mean", "sum")),
    # Keras averages over the last axis per sample: equal means and sums over 2-D input
    ("LogCoshLoss", lambda r: alt.LogCoshLoss(reduction=r), lambda r: lambda x, y: _keras(
        "LogCosh")(x, y, r) * (4 if r == "sum" else 1), _rows2d,
     ("mean", "sum")),
    ("MAPELoss", lambda r: alt.MAPELoss(reduction=r), lambda r: lambda x, y: _keras(
        "MeanAbsolutePercentageError")(x, y, r) * (4 if r == "sum" else 1), _rows2d,
     ("mean", "sum")),
    ("MSLELoss", lambda r: alt.MSLELoss(reduction=r), lambda r: lambda x, y: _keras(
        "MeanSquaredLogarithmicError")(x, y, r) * (4 if r == "sum" else 1), _nonneg,
     ("mean", "sum")),
    ("HingeLoss", lambda r: alt.HingeLoss(reduction=r), lambda r: lambda x, y: _keras(
        "Hinge")(x, y, r) * (3 if r == "sum" else 1), _signs, ("mean", "sum")),
    ("SquaredHingeLoss", lambda r: alt.SquaredHingeLoss(reduction=r), lambda r: lambda x, y:
     _keras("SquaredHinge")(x, y, r) * (3 if r == "sum" else 1), _signs, ("mean", "sum")),
    # MONAI's ContrastiveLoss takes the two views as two inputs
    ("NTXentLoss", lambda r: alt.NTXentLoss(temperature=0.2, reduction=r),
     lambda r: (lambda x, y: _monai("ContrastiveLoss", temperature=0.2)(x[:4], x[4:])),
     _two_views, ("mean",)),
    ("CircleLoss", lambda r: alt.CircleLoss(gamma=4.0, margin=0.25, reduction=r),
     lambda r: _keras_circle(gamma=4.0, margin=0.25), _unit_groups, ("mean",)),
    ("DiceLoss", lambda r: alt.DiceLoss(activation="softmax", weight=_t(W4), reduction=r),
     lambda r: (lambda x, y: _monai("DiceLoss", softmax=True, weight=_t(W4), smooth_nr=0.0,
                                    smooth_dr=0.0, reduction=r)(x, _onehot(y, 4))),
     _labels_no_ignore, ("mean", "sum")),
    ("DiceLoss-no-background",
     lambda r: alt.DiceLoss(activation="softmax", include_background=False, smooth=1e-5,
                            reduction=r),
     lambda r: (lambda x, y: _monai("DiceLoss", softmax=True, include_background=False,
                                    reduction=r)(x, _onehot(y, 4)).reshape(2, 3)
                if r == "none" else _monai("DiceLoss", softmax=True, include_background=False,
                                           reduction=r)(x, _onehot(y, 4))),
     _labels_no_ignore, ("mean", "none")),
    ("DiceLoss-smooth-dr",
     lambda r: alt.DiceLoss(activation="softmax", smooth_dr=1e-5, reduction=r),
     lambda r: (lambda x, y: _monai("DiceLoss", softmax=True, smooth_nr=0.0, smooth_dr=1e-5,
                                    reduction=r)(x, _onehot(y, 4))),
     _labels_no_ignore, ("mean", "sum")),
    ("GeneralizedDiceLoss", lambda r: alt.GeneralizedDiceLoss(activation="softmax", reduction=r),
     lambda r: (lambda x, y: _monai("GeneralizedDiceLoss", softmax=True, smooth_nr=0.0,
                                    smooth_dr=0.0, reduction=r)(x, _onehot(y, 4)).reshape(
         (-1,) if r == "none" else ())), _labels_no_ignore, ("mean", "sum", "none")),
    ("GeneralizedDiceLoss-simple-batch-no-background",
     lambda r: alt.GeneralizedDiceLoss(activation="softmax", weight_type="simple",
                                       per_image=False, include_background=False, reduction=r),
     lambda r: (lambda x, y: _monai("GeneralizedDiceLoss", softmax=True, w_type="simple",
                                    batch=True, include_background=False, smooth_nr=0.0,
                                    smooth_dr=0.0, reduction=r)(x, _onehot(y, 4))),
     _labels_no_ignore, ("mean",)),
    ("DiceLoss-binary-mask", lambda r: alt.DiceLoss(activation="sigmoid", reduction=r),
     lambda r: (lambda x, y: _monai("DiceLoss", sigmoid=True, smooth_nr=0.0, smooth_dr=0.0,
                                    reduction=r)(x, y.to(F64))),
     _binary_masks, ("mean",)),
    ("JaccardLoss", lambda r: alt.JaccardLoss(activation="softmax", per_image=False,
                                              reduction=r),
     lambda r: (lambda x, y: _monai("DiceLoss", softmax=True, jaccard=True, batch=True,
                                    smooth_nr=0.0, smooth_dr=0.0, reduction=r)(
         x, _onehot(y, 4))), _labels_no_ignore, ("mean",)),
    ("TverskyLoss", lambda r: alt.TverskyLoss(alpha=0.3, beta=0.7, activation="softmax",
                                              reduction=r),
     lambda r: (lambda x, y: _monai("TverskyLoss", softmax=True, alpha=0.3, beta=0.7,
                                    smooth_nr=0.0, smooth_dr=0.0, reduction=r)(
         x, _onehot(y, 4))), _labels_no_ignore, ("mean", "sum")),
    ("CTCLoss", lambda r: alt.CTCLoss(reduction=r), lambda r: torch.nn.CTCLoss(reduction=r),
     _ctc, ("mean", "sum", "none")),
    ("CTCLoss-blank-zero-infinity",
     lambda r: alt.CTCLoss(4, zero_infinity=True, reduction=r),
     lambda r: torch.nn.CTCLoss(4, zero_infinity=True, reduction=r),
     lambda rng: (lambda lp, y, il, tl: (lp, y - 1, np.array([6, 1, 4]), tl))(*_ctc(rng)),
     ("mean", "sum", "none")),
    ("LovaszHingeLoss", lambda r: alt.LovaszHingeLoss(reduction=r),
     lambda r: (lambda x, y: _kornia("lovasz_hinge_loss")(x, y[:, 0])),
     _binary_masks, ("mean",)),
    ("LovaszSoftmaxLoss", lambda r: alt.LovaszSoftmaxLoss(
        activation="softmax", classes="all", per_image=True, weight=_t(W4), reduction=r),
     lambda r: (lambda x, y: _kornia("lovasz_softmax_loss")(x, y, weight=_t(W4))),
     _labels_no_ignore, ("mean",)),
    ("DiceCELoss", lambda r: alt.DiceCELoss(smooth=1e-5, weight=_t(W4), reduction=r),
     lambda r: (lambda x, y: _monai("DiceCELoss", softmax=True, to_onehot_y=True,
                                    weight=_t(W4), reduction=r)(x, y[:, None])),
     _labels_no_ignore, ("mean", "sum")),
    # MONAI's binary-cross-entropy term needs one channel (with more channels it applies a
    # softmax cross-entropy even under sigmoid=True; the module applies BCE per channel)
    ("DiceCELoss-sigmoid-binary-mask",
     lambda r: alt.DiceCELoss(activation="sigmoid", smooth=1e-5, reduction=r),
     lambda r: (lambda x, y: _monai("DiceCELoss", sigmoid=True, reduction=r)(x, y.to(F64))),
     _binary_masks, ("mean",)),
    ("DiceFocalLoss", lambda r: alt.DiceFocalLoss(smooth=1e-5, focal="sigmoid", reduction=r),
     lambda r: (lambda x, y: _monai("DiceFocalLoss", softmax=True, to_onehot_y=True,
                                    reduction=r)(x, y[:, None])),
     _labels_no_ignore, ("mean",)),
    ("DiceFocalLoss-no-background",
     lambda r: alt.DiceFocalLoss(smooth=1e-5, focal="sigmoid", include_background=False,
                                 gamma=1.0, reduction=r),
     lambda r: (lambda x, y: _monai("DiceFocalLoss", softmax=True, to_onehot_y=True,
                                    include_background=False, gamma=1.0, reduction=r)(
         x, y[:, None])), _labels_no_ignore, ("mean",)),
]


def _value_and_grad(f: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, Any]:
    """The value and the gradient w.r.t. the first argument (``None`` for a peer computed
    outside torch, e.g. Keras on NumPy)."""
    x = args[0].detach().clone().requires_grad_(True)
    out = f(x, *args[1:])
    if out.requires_grad:
        out.sum().backward() if out.ndim else out.backward()
    return out.detach(), x.grad


#: the largest differences seen per module (printed by the summary test, for the notes)
LARGEST: dict[str, float] = {}


@pytest.mark.parametrize("case", PEERS, ids=[c[0] for c in PEERS])
def test_module_equals_its_peer(case) -> None:
    """Value and input gradient of the module equal the peer's on channels-first float64."""
    name, module, peer, make, reductions = case
    args = tuple(_t(a) for a in make(_rng()))
    for r in reductions:
        got, g_got = _value_and_grad(module(r), args)
        want, g_want = _value_and_grad(peer(r), args)
        assert got.shape == want.shape, (r, got.shape, want.shape)
        np.testing.assert_allclose(got.double().numpy(), want.double().numpy(), rtol=2e-6,
                                   atol=1e-9, err_msg=f"{name} {r}")
        if g_want is not None:
            np.testing.assert_allclose(g_got.numpy(), g_want.double().numpy(), rtol=2e-6,
                                       atol=1e-9, err_msg=f"{name} {r} gradient")
        diff = float((got.double() - want.double()).abs().max())
        LARGEST[name] = max(LARGEST.get(name, 0.0), diff)


def test_peer_rows_cover_every_peer_named_in_the_table() -> None:
    """Each module whose spec names a torch, MONAI or kornia peer has a row above."""
    rows = {c[0].split("-")[0] for c in PEERS}
    named = {s.cls for s in alt.SPECS if s.peer.startswith(("torch.", "monai", "kornia",
                                                            "keras"))}
    assert named - rows == set()


# ------------------------------------------------------------------------ the registry
_SPECIAL = {"KLDivLoss", "MultiMarginLoss", "CenterLoss", "LinearCrossEntropyLoss",
            "CircleLoss", "RankingSoftmaxLoss", "CTCLoss"}
#: modules whose forward takes the core's array options per call, after the target
FORWARD_ARRAYS = {"CircleLoss": ("ref_embeddings", "ref_labels"),
                  "RankingSoftmaxLoss": ("where", "item_weight")}
GENERIC = [s for s in alt.SPECS if s.cls not in _SPECIAL]


def test_every_registered_loss_has_a_module_or_a_reason() -> None:
    names = {r.name for r in catalog.records()} | {"box_convert"}
    adapted = set(alt.adapted())
    assert adapted | set(alt.NOT_ADAPTED) == names
    assert not adapted & set(alt.NOT_ADAPTED)
    assert all(reason.strip() for reason in alt.NOT_ADAPTED.values())


@pytest.mark.parametrize("spec", GENERIC, ids=[s.cls for s in GENERIC])
def test_options_are_the_core_options(spec) -> None:
    """A generic module exposes every keyword option of its core function (under torch's
    name where renamed) and nothing else, so the module and the core cannot drift."""
    core = inspect.signature(getattr(losses, spec.fn)).parameters
    per_call = {"weight", "where", "reduction"}  # forward's sample_weight and where
    core_kw = {n for n, p in core.items() if p.kind is p.KEYWORD_ONLY} - per_call
    assert "replicas" in core_kw  # every module's process_group, outside the spec
    exposed = {spec.rename.get(n, n) for n in spec.names} - {"reduction"}
    exposed = {n for n in exposed if not n.startswith("*")}
    assert exposed == core_kw - {"replicas"}
    sig = inspect.signature(getattr(alt, spec.cls))
    assert list(sig.parameters) == [*spec.names, "process_group"]


GENERIC_CASES = [(s, c) for s in GENERIC for c in catalog.get(s.fn).cases]


@pytest.mark.parametrize("spec_case", GENERIC_CASES,
                         ids=[f"{s.cls}-{c.id}" for s, c in GENERIC_CASES])
def test_module_equals_the_core_call_on_every_catalogue_case(spec_case) -> None:
    """Every catalogue case of the loss, through the module, gives the core function's value
    and gradient (float64): the translation of options, buffers and weights is exact."""
    spec, case = spec_case
    args, arrays = case.inputs()
    targs = tuple(_t(a) for a in args)
    sample_weight = _t(arrays["weight"]) if "weight" in arrays else None
    module = getattr(alt, spec.cls)(**torch_module_options(spec, case.options, arrays, _t))
    core_kw = {**case.options, **{k: _t(v) for k, v in arrays.items()}}
    core = getattr(losses, spec.fn)
    got, g_got = _value_and_grad(lambda *a: module(*a, sample_weight=sample_weight), targs)
    want, g_want = _value_and_grad(lambda *a: core(*a, **core_kw), targs)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g_got.numpy(), g_want.numpy(), rtol=1e-12, atol=1e-14)


FORWARD_CASES = [(s, c) for s in alt.SPECS if s.cls in FORWARD_ARRAYS
                 for c in catalog.get(s.fn).cases]


@pytest.mark.parametrize("spec_case", FORWARD_CASES,
                         ids=[f"{s.cls}-{c.id}" for s, c in FORWARD_CASES])
def test_forward_arrays_reach_the_core_on_every_catalogue_case(spec_case) -> None:
    """The modules taking per-call arrays in ``forward`` (a reference set; an item mask and
    item weights) give the core's value and gradient on every catalogue case, and expose
    exactly the core's other keyword options."""
    spec, case = spec_case
    core = getattr(losses, spec.fn)
    params = inspect.signature(core).parameters
    core_kw = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY}
    assert (set(spec.names) | set(FORWARD_ARRAYS[spec.cls])
            | {"weight", "where", "replicas"}) == core_kw
    args, arrays = case.inputs()
    targs = tuple(_t(a) for a in args)
    per_call = {k: _t(v) for k, v in arrays.items() if k in FORWARD_ARRAYS[spec.cls]}
    sample_weight = _t(arrays["weight"]) if "weight" in arrays else None
    module = getattr(alt, spec.cls)(**torch_module_options(spec, case.options, {}, _t))
    got, g_got = _value_and_grad(lambda *a: module(*a, **per_call,
                                                   sample_weight=sample_weight), targs)
    want, g_want = _value_and_grad(
        lambda *a: core(*a, **case.options, **{k: _t(v) for k, v in arrays.items()}), targs)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g_got.numpy(), g_want.numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------ module behaviour
def _example(spec) -> tuple[Any, dict[str, Any], tuple[Any, ...]]:
    """A module with non-default buffers where it has some, and inputs for it."""
    rng = _rng(1)
    special = {
        "KLDivLoss": (alt.KLDivLoss(reduction="batchmean"), _kl(rng)),
        "MultiMarginLoss": (alt.MultiMarginLoss(weight=_t(W4)), _rows(rng)),
        "CenterLoss": (alt.CenterLoss(4, 3), _centres(rng)),
        "LinearCrossEntropyLoss": (alt.LinearCrossEntropyLoss(3, 4, bias=True, weight=_t(W4)),
                                   _centres(rng)),
        "DiceCELoss": (alt.DiceCELoss(weight=_t(W4)), _labels(rng)),
        "DiceFocalLoss": (alt.DiceFocalLoss(alpha=_t([0.1, 0.3, 0.3, 0.3])), _labels(rng)),
        "CTCLoss": (alt.CTCLoss(), _ctc(rng)),
    }
    if spec.cls in special:
        module, args = special[spec.cls]
        return module, {}, tuple(_t(a) for a in args)
    core_buffers = {spec.rename.get(b, b) for b in spec.buffers}
    cases = [c for c in catalog.get(spec.fn).cases if c.id != "empty"]
    def arrays_of(c: Any) -> set[str]:  # array options given as arrays or as lists
        return set(c.inputs(1)[1]) | {k for k, v in c.options.items() if isinstance(v, list)}

    case = next((c for c in cases if core_buffers & arrays_of(c)), cases[0])
    args, arrays = case.inputs(1)
    kw = torch_module_options(spec, case.options, arrays, _t)
    return getattr(alt, spec.cls)(**kw), {}, tuple(_t(a) for a in args)


# the compounds reduce two terms of different shapes (per image and class, per pixel): their
# forward takes no mask, like the core compounds
_MASKED = [s for s in alt.SPECS if s.cls not in ("DiceCELoss", "DiceFocalLoss")]


@pytest.mark.parametrize("spec", _MASKED, ids=lambda s: s.cls)
def test_where_is_a_per_call_mask(spec) -> None:
    """``forward(..., where=)`` reaches the core: an all-True mask changes nothing, an
    all-False one gives 0 (nothing counted) with zero gradients, for every module."""
    module, _, args = _example(spec)
    module.eval()
    want, _ = _value_and_grad(lambda *a: module(*a), args)
    got, _ = _value_and_grad(lambda *a: module(*a, where=torch.tensor(True)), args)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    none, grad = _value_and_grad(lambda *a: module(*a, where=torch.tensor(False)), args)
    assert not none.numpy().any()
    assert grad is None or not grad.numpy().any()


@pytest.mark.slow
def test_every_module_compiles_fullgraph_and_matches_eager() -> None:
    """``torch.compile(fullgraph=True)`` of a function calling each module: no graph break
    (fullgraph raises on one), the eager value."""
    for spec in alt.SPECS:
        module, _, args = _example(spec)
        module.eval()  # CenterLoss: no centre update, so eager and compiled see the same
        torch._dynamo.reset()
        compiled = torch.compile(lambda *a, m=module: m(*a), fullgraph=True, backend="aot_eager")
        np.testing.assert_allclose(compiled(*args).detach().numpy(),
                                   module(*args).detach().numpy(), rtol=1e-12,
                                   err_msg=spec.cls)


def _roundtrip(module: Any) -> Any:
    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    buf.seek(0)
    return torch.load(buf)


@pytest.mark.parametrize("spec", [s for s in alt.SPECS if s.buffers or s.cls == "CenterLoss"],
                         ids=lambda s: s.cls)
def test_array_options_are_buffers_saved_and_moved(spec) -> None:
    """Array options are in ``state_dict``; a module built with other values and loaded from
    it computes the same loss; ``.to(float64)`` moves them with the model."""
    module, _, args = _example(spec)
    state = _roundtrip(module)
    names = [n for n in (*spec.buffers, "centers") if getattr(module, n, None) is not None]
    assert names and set(names) <= set(state)
    fresh, _, _ = _example(spec)
    for n in names:
        with torch.no_grad():
            getattr(fresh, n).zero_()
    fresh.load_state_dict(state)
    module.eval()
    fresh.eval()
    np.testing.assert_array_equal(fresh(*args).detach().numpy(), module(*args).detach().numpy())
    holder = torch.nn.ModuleDict({"loss": module}).to(torch.float16)
    assert all(getattr(holder["loss"], n).dtype == torch.float16 for n in names)


def test_center_loss_updates_its_centres_by_the_rule_or_the_optimiser() -> None:
    rng = _rng(2)
    feats, labels = (_t(a) for a in _centres(rng))
    ema = alt.CenterLoss(4, 3, update="ema", alpha=0.3)
    before = ema.centers.clone()
    want_loss = losses.center_loss(feats, labels, before)
    got = ema(feats, labels)
    np.testing.assert_allclose(got.detach().numpy(), want_loss.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ema.centers.numpy(), losses.update_centers(
        feats, labels, before.double(), alpha=0.3).numpy(), rtol=1e-6)
    ema.eval()
    ema(feats, labels)
    np.testing.assert_allclose(ema.centers.numpy(), losses.update_centers(
        feats, labels, before.double(), alpha=0.3).numpy(), rtol=1e-6)
    sgd = alt.CenterLoss(4, 3)
    assert isinstance(sgd.centers, torch.nn.Parameter)
    sgd(feats.float(), labels).backward()
    assert sgd.centers.grad is not None and float(sgd.centers.grad.abs().sum()) > 0


def test_repr_signature_and_docstrings() -> None:
    for spec in alt.SPECS:
        cls = getattr(alt, spec.cls)
        assert f"arrayloss.{spec.fn}" in cls.__doc__
        assert list(inspect.signature(cls).parameters) == [*spec.names, "process_group"]
    text = repr(alt.CrossEntropyLoss(_t(W4), label_smoothing=0.1))
    assert "label_smoothing=0.1" in text and "ignore_index=-100" in text
    assert "weight=tensor(shape=(4,)" in text


def test_modules_live_in_module_containers() -> None:
    crit = torch.nn.ModuleDict({"ce": alt.CrossEntropyLoss(_t(W4)), "dice": alt.DiceLoss()})
    assert set(dict(crit.named_buffers())) == {"ce.weight"}


def test_errors_name_the_module_and_the_user_option() -> None:
    x, y = (_t(a) for a in _labels_no_ignore(_rng()))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: .*`weight` here is the core's "
                                         r"`class_weight`"):
        alt.CrossEntropyLoss(_t([1.0, 2.0]))(x, y)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: .*`reduction`.*'avg'"):
        alt.CrossEntropyLoss(reduction="avg")
    with pytest.raises(TypeError, match="sample_weight"):
        alt.CrossEntropyLoss(sample_weight=_t(W4))
    with pytest.raises(TypeError, match="positional"):
        alt.DiceLoss(_t(W4))
    with pytest.raises(ValueError, match=r"DiceCELoss: activation='softmax' over 1 channel"):
        alt.DiceCELoss()(x[:, :1], y * 0)
    with pytest.raises(ValueError, match=r"target\.long\(\)"):
        alt.DiceCELoss()(x, y[:, None].to(F64))
    with pytest.raises(ValueError, match="`p` must be 1 or 2"):
        alt.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="reduction"):
        alt.DiceCELoss(reduction="none")
    # channels-last data given to a channels-first module: a shape error, never a value
    with pytest.raises(ValueError, match="CrossEntropyLoss"):
        alt.CrossEntropyLoss()(_cf(x), y)


def test_compounds_take_labels_in_a_channel_and_per_image_weights() -> None:
    x, y = (_t(a) for a in _labels(_rng(3)))
    m = alt.DiceCELoss(weight=_t(W4))
    np.testing.assert_array_equal(m(x, y[:, None]).detach().numpy(), m(x, y).detach().numpy())
    w = _t([2.0, 0.5])
    got = m(x, y, sample_weight=w)
    dice = losses.dice_loss(x, y, axis=1, activation="softmax", class_weight=_t(W4),
                            ignore_index=-100, weight=w[:, None])
    ce = losses.cross_entropy(x, y, axis=1, class_weight=_t(W4), ignore_index=-100,
                              weight=w[:, None, None])
    np.testing.assert_allclose(got.detach().numpy(), (dice + ce).numpy(), rtol=1e-12)
    # ignored pixels: out of both terms, zero gradient
    xg = x.clone().requires_grad_(True)
    m(xg, y).backward()
    assert float(xg.grad[0, :, 0, :2].abs().sum()) == 0.0


def test_the_torch_guide_lists_every_module() -> None:
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "guide-torch.md").read_text()
    assert [s.cls for s in alt.SPECS if f"`{s.cls}`" not in guide] == []
