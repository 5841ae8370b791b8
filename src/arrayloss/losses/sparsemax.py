"""Sparsemax losses: the Fenchel-Young losses of the sparsemax mapping, which (unlike the
softmax) gives exact zeros. ``sparsemax_loss`` is its binary form, one logit per element
against binary labels; ``multiclass_sparsemax_loss`` its multi-class form, logits with a
class axis against integer labels.

Both are 0 exactly where the sparse mapping of the logits equals the target, and
continuously differentiable.
"""

from __future__ import annotations

from typing import Any

from .. import _ops
from .._namespace import Array, device, isdtype, numel
from .._reduce import Labels, start, start_classes
from .._validate import check_nonnegative, check_same_shape, check_values

__all__ = ["multiclass_sparsemax_loss", "sparsemax_loss"]


def sparsemax_loss(
    pred: Array,
    target: Array,
    /,
    *,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary sparsemax loss of Blondel, Martins & Niculae, "Learning with Fenchel-Young
    Losses", JMLR 2020 (section 4.4), elementwise.

    .. math::

        \ell = \text{sparse_plus}(s) = \begin{cases}
            0 & s \le -1 \\
            \tfrac14 (s + 1)^2 & -1 < s < 1 \\
            s & s \ge 1
        \end{cases}
        \qquad s = (1 - 2y)\, z

    that is :math:`s = -z` for :math:`y = 1` and :math:`s = z` for :math:`y = 0`. The
    derivative :math:`\partial \ell / \partial s` is 0, :math:`(s + 1) / 2` and 1 on the three
    pieces (continuous: no kinks).

    ``pred``: logits :math:`z`; ``target``: same-shape binary labels, {0, 1} of any numeric dtype or
    bool (other values, soft labels included, raise ``ValueError`` when concrete). The loss is 0
    exactly where ``sparse_sigmoid(z) = y``: :math:`z \ge 1` for :math:`y = 1`, :math:`z \le -1` for
    :math:`y = 0`. ``"mean"`` averages over all elements. Infinite logits give the limit (0 or
    ``+inf``) with finite gradients; NaN propagates.

    References: ``optax.losses.sparsemax_loss``; ``jax.nn.sparse_plus``.
    """
    fn = "sparsemax_loss"
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target)
    check_same_shape(fn, pred, target)
    xp = call.xp
    if not isdtype(xp, target.dtype, "bool"):
        check_values(fn, "target", xp, target, lambda v: (v != 0) & (v != 1),
                     "must hold binary labels 0 or 1 (or bool)")
    # s = -z for y = 1, z for y = 0; arithmetic, so that a NaN label gives NaN
    s = (1.0 - 2.0 * call.float(target)) * call.float(pred)
    # the quadratic piece is evaluated on s clipped to [-1, 1], so its gradient is finite
    # (0 outside) also at s = +-inf, where the other branches are taken
    q = _ops.clip(xp, s, min=-1.0, max=1.0) + 1.0
    return call.finish(xp.where(s > 1.0, s, 0.25 * (q * q)))


def multiclass_sparsemax_loss(
    pred: Array,
    target: Array,
    /,
    *,
    axis: int = -1,
    class_weight: Any = None,
    ignore_index: int | None = None,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Multi-class sparsemax loss of Martins & Astudillo, "From Softmax to Sparsemax", ICML
    2016: the Fenchel-Young loss of the sparsemax mapping.

    .. math::

        \begin{aligned}
            \ell_i &= w_{y_i} \Bigl(\langle p_i, z_i \rangle - z_{i y_i}
                + \tfrac12 \bigl(1 - \lVert p_i \rVert^2\bigr)\Bigr),
            \qquad p_i = \operatorname{sparsemax}(z_i) \\
            \frac{\partial \ell_i}{\partial z_i}
                &= w_{y_i} \bigl(p_i - \mathrm{onehot}(y_i)\bigr) \\
            \operatorname{sparsemax}(z)_c &= \max(0,\, z_c - \tau), \qquad
            \tau = \frac{1}{k^*} \Bigl(\sum_{k=1}^{k^*} z_{(k)} - 1\Bigr) \\
            k^* &= \Bigl\lvert \Bigl\{k : 1 + k\, z_{(k)} > \sum_{j=1}^{k} z_{(j)}\Bigr\}
                \Bigr\rvert
        \end{aligned}

    with :math:`z_{(1)} \ge \dots \ge z_{(C)}` the logits sorted in decreasing order and
    :math:`w_c` = ``class_weight[c]`` (1 if None).

    ``pred``: logits with classes on ``axis``, of any rank; ``target``: integer labels (the
    shape of ``pred`` without ``axis``). ``"none"`` returns one value per sample. Options as
    ``cross_entropy`` for integer labels: ``class_weight`` (length C, >= 0) multiplies a
    sample's loss by its label's weight, and ``"mean"`` divides by the sum of those weights
    over the non-ignored samples; ``ignore_index`` (None or a value outside ``[0, C)``)
    leaves samples out of the sum and the count, with exactly zero gradient.

    The loss is 0 exactly where :math:`\operatorname{sparsemax}(z) = \mathrm{onehot}(y)`, i.e.
    :math:`z_y \ge z_k + 1` for every other class. It is shift-invariant: it is evaluated on
    :math:`z - \max(z)`. Value and gradient are invariant to ties. The gradient is the closed form
    :math:`p - \mathrm{onehot}(y)` (:math:`p` enters as a constant; second derivatives are not
    provided). ``-inf`` logits are masked classes (:math:`p = 0`, no ``0 * inf``); a slice holding
    ``+inf`` gives its limit (the ``+inf`` classes share the mass: :math:`(1 - 1/k) / 2` for a label
    among :math:`k` of them, ``+inf`` for another label); a slice of only ``-inf`` and NaN give NaN.

    Reference: ``optax.losses.multiclass_sparsemax_loss`` (2-D ``(N, C)`` input only).
    """
    fn = "multiclass_sparsemax_loss"
    call, ax, c, _ = start_classes(fn, pred, target, axis=axis, reduction=reduction,
                                   weight=weight, where=where,
                                   replicas=replicas, ignore_index=ignore_index,
                                   dense=False)
    xp = call.xp
    class_w = call.array_option("class_weight", class_weight, pred, shape=(c,))
    check_nonnegative(fn, "class_weight", xp, class_w)
    lab = Labels(fn, "target", xp, target, c, ax, ignore_index, class_w)
    z = lab.mask_logits(xp, call.float(pred))
    # shift by the gradient-free row max (the loss is shift-invariant); a slice holding
    # +inf takes its limit: 0 at its +inf entries, -inf elsewhere
    if numel(z) == 0:  # no sample: a max without identity fails on lazy Dask chunks
        m = xp.sum(z, axis=ax, keepdims=True)
    else:
        m = _ops.stop_gradient(xp, xp.max(z, axis=ax, keepdims=True))
    z = _ops._pos_inf_limit(xp, z, m)
    z = z - xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    # the support and threshold from the sorted logits, without gradient: the envelope
    # theorem makes p a constant of the gradient, which is p - onehot(y)
    zs = _ops.sort(xp, _ops.stop_gradient(xp, z), axis=ax, descending=True)
    cs = _ops.cumulative_sum(xp, zs, axis=ax)
    ks = _ops.along(xp, xp.arange(1, c + 1, dtype=call.dtype, device=device(z)), z.ndim, ax)
    support = xp.astype(1.0 + ks * zs > cs, lab.index.dtype)
    kstar = xp.sum(support, axis=ax, keepdims=True)
    kstar = xp.where(kstar > 0, kstar, xp.ones_like(kstar))  # only for a slice of -inf
    cs_k = _ops.take_along_axis(xp, cs, kstar - 1, axis=ax)
    tau = (cs_k - 1.0) / xp.astype(kstar, call.dtype)
    p = _ops.relu(xp, _ops.stop_gradient(xp, z) - tau)
    # <p, z> over the support only: a masked class (-inf, p = 0) never forms 0 * -inf
    pz = xp.sum(xp.where(p > 0, p * z, xp.zeros_like(z)), axis=ax)
    loss = pz - lab.gather(xp, z) + 0.5 * (1.0 - xp.sum(p * p, axis=ax))
    if lab.w_y is not None:
        loss = lab.w_y * loss
    return lab.reduce(call, loss)

