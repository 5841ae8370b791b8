"""Embedding losses on feature vectors with integer labels: the center loss and the centre
update rule of Wen et al., "A Discriminative Feature Learning Approach for Deep Face
Recognition", ECCV 2016."""

from __future__ import annotations

from typing import Any

from .. import _ops
from .._namespace import Array, Namespace, astype, coordinate_dtypes, namespace, to_result
from .._reduce import Labels, start
from .._validate import check_classes, check_ignore_index, check_labels, check_number

__all__ = ["center_loss", "update_centers"]


def _center_inputs(
    fn: str, xp: Namespace, features: Array, labels: Array, centers: Array, ignore_index: Any,
) -> tuple[tuple[int, ...], tuple[int, ...], int | None]:
    """Shapes and labels of ``center_loss`` / ``update_centers``: features ``(..., D)``,
    labels ``features.shape[:-1]``, centers ``(K, D)``."""
    fs, ls, cs = tuple(features.shape), tuple(labels.shape), tuple(centers.shape)
    if len(fs) < 1 or ls != fs[:-1]:
        raise ValueError(
            f"{fn}: `features` of shape {fs} and `labels` of shape {ls} do not fit: labels "
            f"need the shape of features without the last (feature) axis, {fs[:-1]}"
        )
    if len(cs) != 2 or cs[1] != fs[-1]:
        raise ValueError(
            f"{fn}: `centers` must have shape (K, {fs[-1]}) for `features` of shape {fs}; got "
            f"{cs}"
        )
    check_classes(fn, fs[-1], "feature axis (D) of `features`")
    check_classes(fn, cs[0], "class axis (K) of `centers`")
    ii = check_ignore_index(fn, ignore_index, cs[0])
    return fs, cs, ii


def center_loss(
    features: Array,
    labels: Array,
    centers: Array,
    /,
    *,
    ignore_index: int | None = None,
    weight: Array | None = None,
    where: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Center loss of Wen et al., "A Discriminative Feature Learning Approach for Deep Face
    Recognition", ECCV 2016.

    ::

        l_i = (1/2) ||x_i - c_{y_i}||_2^2          ("none": one value per sample)
        "sum"  = sum_i l_i  (the paper's Eq. 2);   "mean" = sum_i l_i / N (non-ignored)
        dl_i/dx_i = x_i - c_{y_i};   d"sum"/dc_j = sum_{i: y_i = j} (c_j - x_i)

    ``features``: ``(N, D)`` (any leading shape ``(..., D)``), ``labels``: integer, the shape
    of ``features`` without the last axis, in ``[0, K)``; ``centers``: ``(K, D)``. The squared
    distance is a sum of squared differences (not ``|x|^2 + |c|^2 - 2 x.c``, which cancels
    for large features); the centre of each sample is gathered, no ``(N, K)`` distance
    matrix. Centers are not detached: autodiff gives the gradient above. The paper trains
    them with ``update_centers`` instead: pass non-differentiable centers (or stop their
    gradient) to follow it. The joint objective is ``cross_entropy + lambda * center_loss``
    (the paper: lambda = 0.003). ``ignore_index`` as ``cross_entropy``.

    No installable reference (golden numbers). KaiyangZhou/pytorch-center-loss returns
    ``sum_i ||x_i - c_{y_i}||^2 / N``, twice this ``"mean"``, plus clamping noise.
    """
    fn = "center_loss"
    call = start(fn, features, reduction=reduction, weight=weight, where=where,
                 pred_name="features", labels=labels, centers=centers)
    xp = call.xp
    _, _, ii = _center_inputs(fn, xp, features, labels, centers, ignore_index)
    lab = Labels(fn, "labels", xp, labels, centers.shape[0], labels.ndim, ii, None)
    f = lab.mask_logits(xp, call.float(features))  # ignored rows: zero gradient
    diff = f - _ops.take(xp, call.float(centers), lab.labels)
    return lab.reduce(call, 0.5 * xp.sum(diff * diff, axis=-1))


def update_centers(
    features: Array,
    labels: Array,
    centers: Array,
    /,
    *,
    alpha: float = 0.5,
    ignore_index: int | None = None,
) -> Array:
    """The centre update rule of Wen et al. (ECCV 2016), functional: returns new centers.

    ::

        n_j       = sum_i [y_i = j]
        delta_c_j = sum_i [y_i = j] (c_j - x_i) / (1 + n_j)
        c_j_new   = c_j - alpha * delta_c_j        (a class with no sample is unchanged)

    Shapes as ``center_loss``: features ``(N, D)`` (or ``(..., D)``), integer labels, centers
    ``(K, D)``; the result has the shape and dtype of ``centers`` (float16/bfloat16 computed in
    float32) and the inputs are not modified. ``alpha=0.5`` (the paper's centre learning
    rate) must lie in ``[0, 1]``. Ignored samples (``ignore_index``) move no centre. The
    per-class sums are one matrix product with the ``(N, K)`` label indicator, without a
    Python loop over classes. It is an update rule, not a loss: no ``reduction``, and the
    result is meant to replace the centers outside the gradient computation.
    """
    fn = "update_centers"
    alpha = check_number(fn, "alpha", alpha, ge=0.0, le=1.0)
    xp = namespace(fn, features=features, labels=labels, centers=centers)
    fs, cs, ii = _center_inputs(fn, xp, features, labels, centers, ignore_index)
    y, _ = check_labels(fn, "labels", xp, labels, cs[0], ii)
    dtype, out_dtype = coordinate_dtypes(xp, centers, fn, "centers")
    x = xp.reshape(astype(xp, features, dtype), (-1, fs[-1]))
    # the (N, K) membership indicator; ignored labels lie outside [0, K): all-zero rows
    member = _ops.one_hot(xp, xp.reshape(y, (-1,)), cs[0], dtype)
    c = astype(xp, centers, dtype)
    n = xp.expand_dims(xp.sum(member, axis=0), axis=-1)
    sums = xp.matmul(xp.matrix_transpose(member), x)
    delta = (n * c - sums) / (1.0 + n)
    return to_result(xp, c - alpha * delta, out_dtype)
