"""Embedding losses on feature vectors: the center loss and the centre update rule of Wen et
al., "A Discriminative Feature Learning Approach for Deep Face Recognition", ECCV 2016 (integer
labels, class centres); the pairwise losses on pairs of vectors or scores with labels in
{-1, +1} (cosine distance, cosine embedding, margin ranking, hinge embedding) and the triplet
margin loss on (anchor, positive, negative) vectors.

Labels in {-1, +1} may have any numeric dtype or be bool (False -> -1, True -> +1); 0 or any
other value raises ``ValueError`` on readable arrays. Cosines floor each norm at ``eps``
(torch's ``F.cosine_similarity``), so a zero vector has cosine 0 and a finite gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _ops
from .._namespace import (
    Array,
    Namespace,
    astype,
    coordinate_dtypes,
    namespace,
    to_result,
)
from .._reduce import Labels, start
from .._replicas import all_sum, check_replicas
from .._validate import (
    check_bool,
    check_classes,
    check_ignore_index,
    check_labels,
    check_number,
    check_same_shape,
)
from ._pairs import p_distance, same_shape_vectors, signs

__all__ = [
    "center_loss",
    "cosine_distance_loss",
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "triplet_margin_loss",
    "update_centers",
]


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
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Center loss of Wen et al., "A Discriminative Feature Learning Approach for Deep Face
    Recognition", ECCV 2016.

    .. math::

        \ell_i = \tfrac12\,\bigl\lVert x_i - c_{y_i} \bigr\rVert_2^2,
        \qquad
        \frac{\partial \ell_i}{\partial x_i} = x_i - c_{y_i},
        \qquad
        \frac{\partial}{\partial c_j} \sum_i \ell_i = \sum_{i:\,y_i = j} (c_j - x_i)

    :math:`x_i` is the feature vector of sample :math:`i`, :math:`y_i` its label and
    :math:`c_j` the centre of class :math:`j`. ``"none"`` gives one value per sample,
    ``"sum"`` is :math:`\sum_i \ell_i` (the paper's Eq. 2) and ``"mean"`` divides it by the
    number :math:`N` of non-ignored samples.

    ``features``: ``(N, D)`` (any leading shape ``(..., D)``), ``labels``: integer, the shape
    of ``features`` without the last axis, in ``[0, K)``; ``centers``: ``(K, D)``. The squared
    distance is a sum of squared differences (not ``|x|^2 + |c|^2 - 2 x.c``, which cancels
    for large features); the centre of each sample is gathered, no ``(N, K)`` distance
    matrix. Centers are not detached: autodiff gives the gradient above. The paper trains
    them with ``update_centers`` instead: pass non-differentiable centers (or stop their
    gradient) to follow it. The joint objective is ``cross_entropy + lambda * center_loss``
    (the paper: :math:`\lambda = 0.003`). ``ignore_index`` as ``cross_entropy``.

    No installable reference implementation. KaiyangZhou/pytorch-center-loss returns
    :math:`\sum_i \lVert x_i - c_{y_i} \rVert^2 / N`, twice this ``"mean"``, plus clamping
    noise.
    """
    fn = "center_loss"
    call = start(fn, features, reduction=reduction, weight=weight, where=where, replicas=replicas,
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
    replicas: Any = None,
) -> Array:
    r"""The centre update rule of the center loss (Wen et al., ECCV 2016), functional: returns
    new centers.

    .. math::

        c_j^{\mathrm{new}} = c_j - \alpha\,\Delta c_j,
        \qquad
        \Delta c_j = \frac{\sum_i [y_i = j]\,(c_j - x_i)}{1 + n_j},
        \qquad
        n_j = \sum_i [y_i = j]

    :math:`[y_i = j]` is 1 where sample :math:`i` has label :math:`j` and 0 otherwise, so a
    class with no sample is unchanged; :math:`\alpha` is ``alpha``.

    Shapes as ``center_loss``: features ``(N, D)`` (or ``(..., D)``), integer labels, centers
    ``(K, D)``; the result has the shape and dtype of ``centers`` (float16/bfloat16 computed in
    float32) and the inputs are not modified. ``alpha=0.5`` (the paper's centre learning
    rate) must lie in ``[0, 1]``. Ignored samples (``ignore_index``) move no centre. The
    per-class sums are one matrix product with the ``(N, K)`` label indicator, without a
    Python loop over classes. It is an update rule, not a loss: no ``reduction``, and the
    result is meant to replace the centers outside the gradient computation.
    ``replicas`` (a torch process group or a JAX axis name, as on the losses): :math:`n_j` and
    the class sums are summed over the group first (one collective), so every replica
    makes the same update, the one of the group's whole batch (as ``SyncBatchNorm`` keeps
    its statistics in step).
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
    if replicas is not None:
        n, sums = all_sum(xp, check_replicas(fn, xp, replicas), (n, sums))
    delta = (n * c - sums) / (1.0 + n)
    return to_result(xp, c - alpha * delta, out_dtype)


# ---------------------------------------------------------------------------------------
# pairs and triplets


def cosine_distance_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    eps: float = 1e-8,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Cosine distance between vectors along ``axis``, in [0, 2].

    .. math::

        \ell = 1 - \cos(x, y),
        \qquad
        \cos(x, y) = \frac{\sum_k x_k\,y_k}{\max(\lVert x \rVert, \varepsilon)\,
            \max(\lVert y \rVert, \varepsilon)}

    with :math:`x` = ``pred``, :math:`y` = ``target`` and :math:`\varepsilon` = ``eps``.

    ``pred`` and ``target``: same-shape vectors ``(..., D)`` (features on ``axis``);
    ``"none"`` gives one value per vector (``pred`` without ``axis``), ``"mean"`` averages
    over vectors. ``eps=1e-8`` (torch's ``F.cosine_similarity``) floors each norm and must
    be > 0. A zero vector :math:`x` has cosine 0, loss 1, and the finite gradient
    :math:`-y / (\varepsilon \lVert y \rVert)` (large: a zero vector has no direction).
    Empty input: 0.

    References: ``1 - torch.nn.functional.cosine_similarity(pred, target, dim=axis,
    eps=eps)``; ``optax.losses.cosine_distance(pred, target, epsilon=eps**2)`` (optax floors
    the squared norms, by default at 0: NaN at a zero vector); ``keras.losses.
    cosine_similarity(target, pred)`` returns :math:`-\cos = \ell - 1` and floors the squared
    norms at 1e-12 (``eps=1e-6``).
    """
    fn = "cosine_distance_loss"
    eps = check_number(fn, "eps", eps, gt=0.0)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    ax = same_shape_vectors(fn, {"pred": pred, "target": target}, axis)
    xp = call.xp
    return call.finish(1.0 - _ops.cosine(xp, call.float(pred), call.float(target), ax, eps))


def cosine_embedding_loss(
    x1: Array,
    x2: Array,
    target: Array,
    /,
    *,
    margin: float = 0.0,
    axis: int = -1,
    eps: float = 1e-8,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Cosine embedding loss of pairs of vectors (torch's ``CosineEmbeddingLoss``).

    .. math::

        \ell = \begin{cases}
            1 - \cos(x_1, x_2) & y = +1 \text{ (similar pair)} \\
            \max\bigl(0,\ \cos(x_1, x_2) - \mathrm{margin}\bigr) & y = -1
                \text{ (dissimilar pair)}
        \end{cases}

    with :math:`x_1` = ``x1``, :math:`x_2` = ``x2``, :math:`y` = ``target`` and the cosine of
    ``cosine_distance_loss`` (each norm floored at ``eps``).

    ``x1``, ``x2``: same-shape vectors ``(..., D)`` (features on ``axis``); ``target``: one
    label per pair (``x1`` without ``axis``) in {-1, +1} or bool. Any other label, 0
    included, raises ``ValueError`` when concrete (torch silently gives 0 for it).
    ``margin=0.0`` must lie in [-1, 1] (torch suggests 0 to 0.5); ``eps`` and the cosine as
    ``cosine_distance_loss`` (a zero vector has cosine 0; torch adds 1e-12 to each squared
    norm instead, same values, another large gradient there). ``"none"``: one value per
    pair; ``"mean"``: over pairs. Sub-gradient 0 at the kink
    :math:`\cos(x_1, x_2) = \mathrm{margin}`.

    Reference: ``torch.nn.functional.cosine_embedding_loss(x1, x2, target, margin=margin)``.
    """
    fn = "cosine_embedding_loss"
    margin = check_number(fn, "margin", margin, ge=-1.0, le=1.0)
    eps = check_number(fn, "eps", eps, gt=0.0)
    call = start(fn, x1, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, pred_name="x1", x2=x2,
                 target=target)
    ax = same_shape_vectors(fn, {"x1": x1, "x2": x2}, axis)
    want = tuple(x1.shape[:ax]) + tuple(x1.shape[ax + 1:])
    if tuple(target.shape) != want:
        raise ValueError(
            f"{fn}: `target` must hold one label per pair, shape {want} (`x1` {tuple(x1.shape)} "
            f"without axis {ax}); got {tuple(target.shape)}"
        )
    xp = call.xp
    y = signs(call, target)
    cos = _ops.cosine(xp, call.float(x1), call.float(x2), ax, eps)
    # coefficients 0 or 1 rather than a where on y: an unchecked NaN label gives NaN
    pos, neg = (1.0 + y) * 0.5, (1.0 - y) * 0.5
    return call.finish(pos * (1.0 - cos) + neg * _ops.relu(xp, cos - margin))


def margin_ranking_loss(
    x1: Array,
    x2: Array,
    target: Array,
    /,
    *,
    margin: float = 0.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Margin ranking loss of pairs of scores (torch's ``MarginRankingLoss``), elementwise.

    .. math::

        \ell = \max\bigl(0,\ \mathrm{margin} - y\,(x_1 - x_2)\bigr)

    with :math:`x_1` = ``x1``, :math:`x_2` = ``x2`` and :math:`y` = ``target``.

    ``x1``, ``x2``: same-shape scores; ``target``: same-shape labels in {-1, +1} or bool,
    +1 meaning ``x1`` should rank above ``x2`` by ``margin``. Other labels, 0 included, raise
    ``ValueError`` when concrete. ``margin=0.0`` must be >= 0 (torch allows negative
    margins). The gradient is :math:`-y` (``x1``) and :math:`+y` (``x2``) inside the hinge, 0
    outside and at the kink :math:`y\,(x_1 - x_2) = \mathrm{margin}`. ``"mean"`` averages
    over all elements.

    Reference: ``torch.nn.functional.margin_ranking_loss(x1, x2, target, margin=margin)``.
    """
    fn = "margin_ranking_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    call = start(fn, x1, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, pred_name="x1", x2=x2,
                 target=target)
    check_same_shape(fn, x1, x2, ("x1", "x2"))
    check_same_shape(fn, x1, target, ("x1", "target"))
    y = signs(call, target)
    return call.finish(_ops.relu(call.xp, margin - y * (call.float(x1) - call.float(x2))))


def hinge_embedding_loss(
    pred: Array,
    target: Array,
    /,
    *,
    margin: float = 1.0,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Hinge embedding loss (torch's ``HingeEmbeddingLoss``), a contrastive hinge on given
    distances, elementwise.

    .. math::

        \ell = \begin{cases}
            x & y = +1 \\
            \max(0,\ \mathrm{margin} - x) & y = -1
        \end{cases}

    with :math:`x` = ``pred`` and :math:`y` = ``target``.

    ``pred``: distances :math:`x` (usually >= 0; not checked: a negative distance with ``y = +1``
    gives a negative loss, as in torch); ``target``: same-shape labels in {-1, +1} or bool.
    Any other label, 0 included, raises ``ValueError`` when concrete (torch adds both terms
    for it: ``x = 0.7, y = 0`` gives 1.0). ``margin=1.0`` must be >= 0. An infinite distance
    gives ``+inf`` for ``y = +1`` and 0 for ``y = -1``. ``"mean"`` averages over all
    elements.

    Reference: ``torch.nn.functional.hinge_embedding_loss(pred, target, margin=margin)``.
    """
    fn = "hinge_embedding_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    check_same_shape(fn, pred, target)
    xp = call.xp
    y = signs(call, target)
    x = call.float(pred)
    pos, neg = (1.0 + y) * 0.5, (1.0 - y) * 0.5
    # mul0: the other label's term is exactly 0 even where it is infinite
    return call.finish(_ops.mul0(xp, pos, x) + _ops.mul0(xp, neg, _ops.relu(xp, margin - x)))


def triplet_margin_loss(
    anchor: Array,
    positive: Array,
    negative: Array,
    /,
    *,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    distance: str | Callable[[Array, Array], Array] | None = None,
    axis: int = -1,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Triplet margin loss of Balntas et al., "Learning local feature descriptors with
    triplets and shallow convolutional neural networks", BMVC 2016 (with its swap).

    .. math::

        \begin{aligned}
            \ell &= \max\bigl(0,\ d(a, x^+) - d^- + \mathrm{margin}\bigr),
            \qquad
            d^- = \begin{cases}
                \min\bigl(d(a, x^-),\ d(x^+, x^-)\bigr) & \texttt{swap=True} \\
                d(a, x^-) & \texttt{swap=False}
            \end{cases} \\
            d(u, v) &= \begin{cases}
                \Bigl(\sum_k |u_k - v_k + \varepsilon|^p\Bigr)^{1/p}
                    & \texttt{distance=None} \text{ (torch's } p\text{-norm)} \\
                1 - \cos(u, v) & \texttt{distance="cosine"} \\
                \mathrm{distance}(u, v) & \text{a callable}
            \end{cases}
        \end{aligned}

    with :math:`a` = ``anchor``, :math:`x^+` = ``positive``, :math:`x^-` = ``negative``,
    :math:`p` = ``p`` and :math:`\varepsilon` = ``eps``.

    ``anchor``, ``positive``, ``negative``: same-shape vectors ``(..., D)`` (features on
    ``axis``); ``"none"``: one value per triplet (``anchor`` without ``axis``); ``"mean"``:
    over triplets. Defaults are torch's: ``margin=1.0`` (>= 0), ``p=2.0`` (>= 1, a norm; odd
    degrees take ``|.|``), ``eps=1e-6`` (>= 0, added to the difference as torch's
    ``pairwise_distance``), ``swap=False``. The root is masked: where the sum is 0 (identical
    vectors with ``eps=0``) the distance is 0 with gradient 0. With the default ``eps``
    identical vectors are :math:`\varepsilon D^{1/p}` apart and their gradient points along
    (1, ..., 1), as in torch. ``distance`` (torch's ``triplet_margin_with_distance_loss``):
    ``"cosine"`` uses the cosine of ``cosine_distance_loss`` with torch's ``eps=1e-8`` (``p``
    and ``eps`` unused); a callable receives the arrays in the compute dtype and must return
    the shape of ``anchor`` without ``axis`` (written with the array API, it runs on every
    backend and compiler).
    Sub-gradient 0 at the kink :math:`d(a, x^+) - d^- + \mathrm{margin} = 0`.

    References: ``torch.nn.functional.triplet_margin_loss`` (identical);
    ``optax.losses.triplet_margin_loss`` adds ``eps`` inside the root and omits ``|.|``
    (wrong for odd ``norm_degree``): it agrees at ``eps=0`` and even ``p``.
    """
    fn = "triplet_margin_loss"
    margin = check_number(fn, "margin", margin, ge=0.0)
    p = check_number(fn, "p", p, ge=1.0)
    eps = check_number(fn, "eps", eps, ge=0.0)
    swap = check_bool(fn, "swap", swap)
    if isinstance(distance, str):
        if distance != "cosine":
            raise ValueError(f"{fn}: `distance` must be None, 'cosine' or a callable d(u, v); "
                             f"got {distance!r}")
    elif distance is not None and not callable(distance):
        raise TypeError(f"{fn}: `distance` must be None, 'cosine' or a callable d(u, v); got "
                        f"{type(distance).__name__} {distance!r}")
    call = start(fn, anchor, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, pred_name="anchor",
                 positive=positive, negative=negative)
    ax = same_shape_vectors(
        fn, {"anchor": anchor, "positive": positive, "negative": negative}, axis)
    xp = call.xp
    want = tuple(anchor.shape[:ax]) + tuple(anchor.shape[ax + 1:])

    def d(u: Array, v: Array) -> Array:
        if distance is None:
            return p_distance(xp, u, v, p, eps, ax)
        if distance == "cosine":
            return 1.0 - _ops.cosine(xp, u, v, ax)
        out = distance(u, v)  # type: ignore[operator]
        if tuple(out.shape) != want:
            raise ValueError(f"{fn}: `distance` must return one value per triplet, shape "
                             f"{want}; got shape {tuple(out.shape)}")
        return call.float(out)

    a, pos, neg = call.float(anchor), call.float(positive), call.float(negative)
    d_an = d(a, neg)
    if swap:
        d_an = xp.minimum(d_an, d(pos, neg))
    return call.finish(_ops.relu(xp, d(a, pos) - d_an + margin))
