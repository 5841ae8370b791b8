"""Losses of a sequence model's per-frame class scores against an unaligned label sequence:
the connectionist temporal classification (CTC) loss of Graves et al., "Connectionist
Temporal Classification: Labelling Unsegmented Sequence Data with Recurrent Neural
Networks", ICML 2006.

The recursion runs over the frames one after the other (``jax.lax.scan`` on JAX, a loop
elsewhere). Every step has static shapes (the state is ``(B, 2S + 1)``; the skip rule and
the sequence lengths are masks), so the loss runs under ``jax.jit``, ``jax.vmap`` and
``torch.compile``.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._namespace import Array, Namespace, astype, default_int, device, isdtype
from .._reduce import start
from .._validate import check_bool, check_classes, check_int, check_values, integer_labels

__all__ = ["ctc_loss"]


def _lengths(fn: str, name: str, xp: Namespace, lengths: Array | None, batch: int, top: int,
             like: Array) -> Array:
    """Per-sequence lengths ``(B,)`` in the default integer dtype, each in ``[0, top]``
    (``ValueError`` on readable arrays); ``None`` gives ``top`` for every sequence."""
    if lengths is None:
        return xp.full((batch,), top, dtype=default_int(xp, like), device=device(like))
    if not isdtype(xp, lengths.dtype, "integral"):
        raise TypeError(f"{fn}: `{name}` must hold integer lengths, got dtype {lengths.dtype}; "
                        "cast it to an integer dtype")
    if tuple(lengths.shape) != (batch,):
        raise ValueError(f"{fn}: `{name}` must have shape ({batch},), one length per "
                         f"sequence of the batch; got {tuple(lengths.shape)}")
    n = astype(xp, lengths, default_int(xp, like))
    check_values(fn, name, xp, n, lambda v: (v < 0) | (v > top),
                 f"must hold lengths in [0, {top}]", within=(0, top, False))
    return n


def _logaddexp3(xp: Namespace, a: Array, b: Array, c: Array, consts: tuple[Array, ...]
                ) -> Array:
    """``log(exp(a) + exp(b) + exp(c))`` with a gradient-free max shift; where all three are
    ``-inf`` the result is ``-inf`` with a zero gradient (the shift is 0 there and the log
    takes a masked 1), so unreachable states never make NaN. NaN propagates. ``consts``:
    ``(zeros, ones, -inf)`` of the result's shape, built once per call (Dask tokenises every
    array it creates, and a compiled graph of the unrolled loop grows with each)."""
    zeros, ones, neg = consts
    m = _ops.stop_gradient(xp, xp.maximum(xp.maximum(a, b), c))
    empty = m == -math.inf
    shift = xp.where(empty, zeros, m)
    total = xp.exp(a - shift) + xp.exp(b - shift) + xp.exp(c - shift)
    return xp.where(empty, neg, xp.log(xp.where(empty, ones, total)) + shift)


def ctc_loss(
    pred: Array,
    target: Array,
    /,
    *,
    input_lengths: Array | None = None,
    target_lengths: Array | None = None,
    blank: int = 0,
    zero_infinity: bool = False,
    length_normalize: bool = False,
    weight: Array | None = None,
    where: Array | None = None,
    replicas: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Connectionist temporal classification loss (Graves et al., ICML 2006): the negative
    log-probability of a label sequence summed over all its frame alignments.

    .. math::

        \begin{aligned}
            \ell_b &= \max\Bigl(-\operatorname{lse}\bigl(\alpha_{T_b - 1}(2L_b),\
                \alpha_{T_b - 1}(2L_b - 1)\bigr),\ 0\Bigr) \\
            \alpha_t(s) &= \operatorname{lse}\bigl(\alpha_{t-1}(s),\ \alpha_{t-1}(s-1),\
                \alpha_{t-1}(s-2) \text{ if } \mathrm{skip}_s\bigr) + \log p_t(l'_s) \\
            \alpha_0(s) &= \begin{cases}
                \log p_0(l'_s) & s \in \{0, 1\} \\
                -\infty & \text{otherwise}
            \end{cases} \\
            \mathrm{skip}_s &= \bigl(l'_s \ne \varnothing \text{ and } l'_s \ne l'_{s-2}\bigr) \\
            l' &= (\varnothing, l_1, \varnothing, l_2, \dots, \varnothing, l_{L_b}, \varnothing) \\
            p_t &= \operatorname{softmax}(\mathrm{pred}_{b, t}), \qquad
                \operatorname{lse}(a_1, \dots, a_n) = \log \textstyle\sum_i e^{a_i}
        \end{aligned}

    for sequence :math:`b` with :math:`T_b` frames and the :math:`L_b` labels
    :math:`l_1, \dots, l_{L_b}`: :math:`l'` (length :math:`2L_b + 1`) interleaves them with the
    blank class :math:`\varnothing` (``blank``), :math:`\alpha_t(s)` is the log-probability of
    the paths over frames :math:`0, \dots, t` that end in state :math:`s` of :math:`l'`, and
    :math:`\mathrm{skip}_s` lets a path skip the blank between two different labels. The clamp
    at 0 absorbs the float rounding of a near-certain alignment.

    ``pred``: logits ``(B, T, C)``, batch first and classes last (optax, Keras); the
    log-softmax is taken inside and is idempotent, so torch's ``log_probs`` ``(T, B, C)`` may
    be passed as ``moveaxis(log_probs, 1, 0)``. ``target``: integer labels ``(B, S)`` (any
    integer dtype); entries at positions ``>= target_lengths[b]`` are padding and may hold
    anything. ``input_lengths``: ``(B,)`` integers in ``[0, T]``, the frames of each sequence
    (``None``: all ``T``); ``target_lengths``: ``(B,)`` in ``[0, S]`` (``None``: ``S`` for
    every row). Both are keyword-only arrays of the library of ``pred``.

    Options: ``blank=0`` (the blank class, in ``[0, C)``); ``zero_infinity=False``: when
    True an infeasible sequence gives 0 (torch's option); ``length_normalize=False``: when
    True each loss is divided by :math:`\max(L_b, 1)` before the reduction, which with
    ``"mean"`` is torch's ``reduction='mean'``. ``"none"`` returns ``(B,)``; ``"mean"`` is
    :math:`\frac1B \sum_b \mathrm{weight}_b\, \ell_b` (Keras's ``sum_over_batch_size``; optax's
    per-sequence values averaged).

    Edge cases: an infeasible alignment (``T_b < L_b`` plus the number of repeated
    neighbours in the labels) gives ``+inf`` with a **zero** gradient (torch gives NaN
    gradients unless ``zero_infinity``, optax about ``1e5``); an empty target gives
    :math:`-\sum_t \log p_t(\varnothing)`; :math:`T_b = 0` gives 0 for an empty target and
    ``+inf`` otherwise. Frames :math:`t \ge T_b` keep :math:`\alpha` unchanged and get exactly
    zero gradient, whatever they hold.
    A NaN in a counted frame gives NaN. Labels outside ``[0, C)`` or equal to ``blank``
    inside ``target_lengths``, and lengths out of range, raise ``ValueError`` on readable
    arrays; where they cannot be read (traced, lazy, GPU) such a label makes its sequence NaN.

    Backends: the recursion is a scan over the frames: ``jax.lax.scan`` under JAX (the
    compile time does not depend on ``T``), a Python loop elsewhere; eager CPU torch tensors
    use torch's native CTC kernel (same values and gradients). Under ``torch.compile`` the
    loop is unrolled: exact, but the graph grows with ``T`` and the compile time (forward and
    backward) faster than linearly, so compile CTC for short sequences only (``T`` of a few
    tens at most) and call it eagerly otherwise; torch's own ``F.ctc_loss`` cannot be
    captured with ``fullgraph=True`` at all.
    """
    fn = "ctc_loss"
    blank = check_int(fn, "blank", blank)
    zero_infinity = check_bool(fn, "zero_infinity", zero_infinity)
    length_normalize = check_bool(fn, "length_normalize", length_normalize)
    call = start(fn, pred, reduction=reduction, weight=weight, where=where,
                 replicas=replicas, target=target,
                 input_lengths=input_lengths, target_lengths=target_lengths)
    xp = call.xp
    ps, ts = tuple(pred.shape), tuple(target.shape)
    if len(ps) != 3 or len(ts) != 2 or ts[0] != ps[0]:
        raise ValueError(
            f"{fn}: `pred` must be logits (B, T, C) and `target` labels (B, S) of the same "
            f"batch size B; got `pred` {ps} and `target` {ts}"
            + ("; torch's log_probs (T, B, C) are `moveaxis(log_probs, 1, 0)`"
               if len(ps) == 3 and len(ts) == 2 and ts[0] == ps[1] else "")
        )
    b, t_max, c = ps
    s_max = ts[1]
    check_classes(fn, c)
    if not 0 <= blank < c:
        raise ValueError(f"{fn}: `blank` must be a class in [0, {c}); got {blank}")
    y = integer_labels(fn, "target", xp, target)
    il = _lengths(fn, "input_lengths", xp, input_lengths, b, t_max, y)
    tl = _lengths(fn, "target_lengths", xp, target_lengths, b, s_max, y)
    positions = xp.arange(s_max, dtype=y.dtype, device=device(y))
    inside = positions < xp.expand_dims(tl, axis=-1)  # (B, S): not padding

    def expected() -> str:
        return f"must hold labels in [0, {c}) other than blank={blank} inside target_lengths"

    def blank_hint(value: Any) -> str:
        if value == blank:
            return (f"; {blank} is the blank class, which no label may be (padding beyond "
                    "target_lengths may hold any value)")
        return ""

    check_values(fn, "target", xp, y,
                 lambda v: ((v < 0) | (v >= c) | (v == blank)) & inside, expected,
                 hint=blank_hint)
    # padding reads the blank: every gather stays valid, and states past 2 L_b never reach
    # the states the loss reads; a label that could not be checked (traced, lazy, GPU) and is
    # out of range or the blank makes its sequence NaN, never a silently wrong value
    valid = (y >= 0) & (y < c) & (y != blank)
    invalid = xp.any(inside & ~valid, axis=-1)
    y = xp.where(inside & valid, y, xp.full_like(y, blank))

    # padded frames are set to 0 before the log-softmax: whatever they hold (inf, NaN), they
    # take no part in the value and get exactly zero gradient
    frames = xp.arange(t_max, dtype=il.dtype, device=device(il))
    counted = xp.expand_dims(frames, axis=0) < xp.expand_dims(il, axis=-1)  # (B, T)
    z = call.float(pred)
    z = xp.where(xp.expand_dims(counted, axis=-1), z, xp.zeros_like(z))
    lp = _ops.log_softmax(xp, z, axis=-1)
    nll = None
    kernel = _ops.kernel(xp, "ctc_loss")
    if kernel is not None:
        nll = kernel(lp, y, il, tl, blank)
    if nll is None:
        nll = _forward(xp, lp, y, il, tl, blank)
    loss = _ops.relu(xp, nll)  # NaN stays NaN; a rounding below 0 is 0
    loss = xp.where(invalid, xp.full_like(loss, math.nan), loss)
    if zero_infinity:
        loss = _ops.fill(xp, loss == math.inf, 0.0, loss)
    if length_normalize:
        den = xp.astype(xp.where(tl > 0, tl, xp.ones_like(tl)), loss.dtype)
        loss = loss / den
    return call.finish(loss)


def _forward(xp: Namespace, lp: Array, y: Array, il: Array, tl: Array, blank: int) -> Array:
    """The generic recursion: per-sequence negative log-likelihood ``(B,)`` of the
    log-probabilities ``lp`` ``(B, T, C)`` for the labels ``y`` ``(B, S)`` (padding set to
    ``blank``), ``+inf`` with a zero gradient where no alignment exists."""
    b, t_max, _ = lp.shape
    dev, dt = device(lp), lp.dtype
    k = 2 * y.shape[1] + 1
    blanks = xp.full((b, y.shape[1] + 1), blank, dtype=y.dtype, device=dev)
    # the extended labels (blank, l_1, blank, ..., l_S, blank): (B, 2S + 1)
    ext = xp.concat([xp.reshape(xp.stack([blanks[:, 1:], y], axis=-1), (b, k - 1)),
                     blanks[:, :1]], axis=-1)
    neg = xp.full((b, k), -math.inf, dtype=dt, device=dev)
    zeros = xp.zeros((b, k), dtype=dt, device=dev)
    ones = xp.ones((b, k), dtype=dt, device=dev)
    consts = (zeros, ones, neg)
    # alpha(s - 2) enters state s only where the skip rule allows: 0 there, -inf elsewhere
    skip = (ext != blank) & (ext != xp.concat([blanks[:, :2], ext[:, : k - 2]], axis=-1))
    skip_add = xp.where(skip, zeros, neg)
    # emissions lp_t(l'_s), frames first: (T, B, 2S + 1)
    index = xp.broadcast_to(xp.expand_dims(ext, axis=1), (b, t_max, k))
    emit = xp.permute_dims(_ops.take_along_axis(xp, lp, index, axis=-1), (1, 0, 2))
    frames = xp.arange(t_max, dtype=il.dtype, device=dev)
    active = xp.expand_dims(xp.expand_dims(frames, axis=1) < xp.expand_dims(il, axis=0),
                            axis=-1)  # (T, B, 1)
    pad1, pad2 = neg[:, :1], neg[:, :2]

    def step(alpha: Array, x: tuple[Array, Array]) -> tuple[Array, None]:
        e, on = x
        prev1 = xp.concat([pad1, alpha[:, : k - 1]], axis=-1)
        prev2 = xp.concat([pad2, alpha[:, : k - 2]], axis=-1) + skip_add
        # frames past T_b leave alpha, and take no gradient from the loss
        return xp.where(on, _logaddexp3(xp, alpha, prev1, prev2, consts) + e, alpha), None

    # before frame 0: log-probability 0 on a virtual state that enters s = 0 (stay) and
    # s = 1 (advance), which gives alpha_0 above; T_b = 0 keeps it
    alpha0 = xp.concat([zeros[:, :1], neg[:, 1:]], axis=-1)
    alpha, _ = _ops.scan(xp, step, alpha0, (emit, active))
    last = xp.expand_dims(2 * tl, axis=-1)
    ends = xp.concat([alpha, neg[:, :1]], axis=-1)  # index k: -inf, the absent 2 L - 1 of L = 0
    end = _ops.take_along_axis(xp, ends, last, axis=-1)
    before = _ops.take_along_axis(xp, ends, xp.where(last > 0, last - 1, last * 0 + k), axis=-1)
    pair = (zeros[:, :1], ones[:, :1], neg[:, :1])
    return -xp.squeeze(_logaddexp3(xp, end, before, pair[2], pair), axis=-1)
