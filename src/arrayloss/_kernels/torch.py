"""PyTorch: the adapter functions and the fused kernels.

Adapters (always used):

- ``is_concrete``: False while ``torch.compile`` traces, for meta/fake tensors and for
  tensors wrapped by ``torch.func`` transforms; ``is_host``: a CPU tensor;
- ``stop_gradient`` (``detach``); ``clip`` (``torch.clamp``: compat's ``clip`` calls
  ``math.isnan`` on the bounds, a graph break once Dynamo treats a float option as symbolic);
- ``take_along_axis`` (``torch.gather``), ``cumulative_sum`` (``torch.cumsum``: compat's
  wrapper resolves the namespace again, an ``lru_cache`` call Dynamo warns about);
- ``default_float``, ``compile_function``;
- ``is_replica_group``, ``all_sum``, ``all_gather``, ``replica_index``: the collectives of a
  ``replicas=`` process group (``torch.distributed._functional_collectives``: traced by
  ``torch.compile`` without a graph break, and differentiable: the gradient of a sum over the
  group is the sum of the ranks' gradients, the one of a gather its matching slice summed over
  the ranks, so that DDP's averaged gradient is the full batch's).

Kernels (``KERNELS``; each equals its generic path up to rounding, which is the test):
one-kernel ``logsumexp``, ``log_softmax``, ``softmax``, ``log_sigmoid``, ``sigmoid``,
``relu``, ``mix`` (``lerp``), ``softplus`` (below float64: torch returns ``x`` past 20, an
error under float32 rounding), ``fill`` (``where`` with a Python number: no full-size
constant), ``value_range`` (``aminmax``: one read), ``sort_with_indices`` (``torch.sort``:
values and indices from one kernel), ``mean`` (``sum / n`` for large tensors that need a
gradient: ``mean``'s backward writes a full-size ``1/n`` that the next backward kernel reads
again), and the fused elementwise losses ``l1_loss``, ``mse_loss``, ``huber_loss``,
``smooth_l1_loss`` (torch's kernels with reduction "none", called below
``torch.nn.functional``, whose broadcasting and checks cost more than the kernel on small
inputs; arrayloss has checked the shapes), and ``ctc_loss`` (torch's native CTC
forward-backward instead of the generic loop over frames, eager CPU tensors only: see
``_ctc_loss``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

Tensor = Any

#: from this many elements a mean that needs a gradient is ``sum / n``
_MEAN_AS_SUM = 1 << 16


# ---------------------------------------------------------------------------- adapters


def is_concrete(x: Tensor) -> bool:
    if torch.compiler.is_compiling():
        return False
    if x.device.type == "meta":
        return False
    if torch._C._functorch.is_functorch_wrapped_tensor(x):
        return False
    return type(x) is torch.Tensor or isinstance(x, torch.nn.Parameter)


def is_host(x: Tensor) -> bool:
    return bool(x.device.type == "cpu")


#: the float dtypes the fast lanes take as they are (with their epsilon), and the dtype of
#: their class labels
FLOATS = {torch.float32: torch.finfo(torch.float32).eps,
          torch.float64: torch.finfo(torch.float64).eps}
LABELS = torch.int64


_PLAIN = (torch.Tensor, torch.nn.Parameter)
#: switches gradient recording (``torch.set_grad_enabled`` as a call does the same, slower)
_set_grad_enabled: Callable[[bool], Any] = getattr(torch._C, "_set_grad_enabled",
                                                   torch.set_grad_enabled)
_wrapped = torch._C._functorch.is_functorch_wrapped_tensor


def eager_host(arrays: tuple[Any, ...]) -> bool:
    """Every one of ``arrays`` a ``torch.Tensor`` or ``nn.Parameter`` on the CPU, not wrapped
    by a ``torch.func`` transform (the caller has checked that ``torch.compile`` is not
    tracing)."""
    for x in arrays:  # noqa: SIM110 (a loop: all() of a generator costs a microsecond more)
        if type(x) not in _PLAIN or not x.is_cpu or _wrapped(x):
            return False
    return True


def default_float() -> Any:
    return torch.get_default_dtype()


def is_replica_group(obj: Any) -> bool:
    """A ``torch.distributed`` process group (e.g. ``torch.distributed.group.WORLD``)."""
    dist = torch.distributed
    return bool(dist.is_available()) and isinstance(obj, dist.ProcessGroup)


class _ContiguousGrad(torch.autograd.Function):
    """The identity, whose gradient is made contiguous: the backward of a collective hands
    its gradient to the process group, and NCCL refuses a strided one."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.contiguous()


def all_sum(x: Tensor, group: Any) -> Tensor:
    from torch.distributed import _functional_collectives as fc

    return _ContiguousGrad.apply(fc.all_reduce(x.contiguous(), "sum", group))


def all_gather(x: Tensor, group: Any) -> Tensor:
    from torch.distributed import _functional_collectives as fc

    gather = getattr(fc, "all_gather_single", None) or fc.all_gather_tensor_autograd
    return _ContiguousGrad.apply(gather(x.contiguous(), 0, group))


def replica_index(group: Any) -> int:
    return int(torch.distributed.get_rank(group))


def stop_gradient(x: Tensor) -> Tensor:
    return x.detach()


def clip(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    return torch.clamp(x, min=min, max=max)


def take_along_axis(x: Tensor, indices: Tensor, axis: int) -> Tensor:
    return torch.gather(x, axis, indices)


def cumulative_sum(x: Tensor, axis: int) -> Tensor:
    return torch.cumsum(x, dim=axis)


def compile_function(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    return torch.compile(fn, **kwargs)


# ---------------------------------------------------------------------------- kernels


def _logsumexp(x: Tensor, axis: int, keepdims: bool) -> Tensor:
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


#: below this length torch's CPU (log-)softmax along the innermost axis runs a scalar loop
#: per slice; along an outer axis it is vectorised across the slices: 1.5-7x faster, forward
#: and backward (3 classes of a channels-last image: 25 ms against 3.6 ms for 1M elements)
_NARROW = 8


def _outer(x: Tensor, axis: int) -> bool:
    """Whether ``axis`` is the innermost of a CPU tensor and shorter than ``_NARROW``."""
    return x.ndim >= 2 and axis in (-1, x.ndim - 1) and x.shape[-1] < _NARROW and x.is_cpu


def _log_softmax(x: Tensor, axis: int) -> Tensor:
    if _outer(x, axis):
        return torch.log_softmax(x.movedim(-1, 0), dim=0).movedim(0, -1)
    return torch.log_softmax(x, dim=axis)


def _softmax(x: Tensor, axis: int) -> Tensor:
    if _outer(x, axis):
        return torch.softmax(x.movedim(-1, 0), dim=0).movedim(0, -1)
    return torch.softmax(x, dim=axis)


def _row_max(x: Tensor, axis: int) -> Tensor:
    return torch.amax(x.detach(), dim=axis, keepdim=True)


def _softplus(x: Tensor) -> Tensor | None:
    if x.dtype == torch.float64:
        return None  # the exact generic form
    return torch.nn.functional.softplus(x)


def _log_sigmoid(x: Tensor) -> Tensor:
    return torch.nn.functional.logsigmoid(x)


def _sigmoid(x: Tensor) -> Tensor:
    return torch.sigmoid(x)


def _relu(x: Tensor) -> Tensor:
    return torch.relu(x)


def _fill(cond: Tensor, value: float, x: Tensor) -> Tensor:
    if cond.dim() <= x.dim() and torch.broadcast_shapes(cond.shape, x.shape) == x.shape:
        return x.masked_fill(cond, value)  # one operator (where with a number makes two)
    return torch.where(cond, value, x)


def _value_range(x: Tensor) -> tuple[Tensor, Tensor] | None:
    if x.dtype == torch.bool:
        return None
    if x.requires_grad:  # read by value checks (torch warns when reading grad tensors)
        # gradients off by hand: half the cost of `with torch.no_grad()` on a small call,
        # and no extra operator (a detach would dispatch one)
        prev = torch.is_grad_enabled()
        _set_grad_enabled(False)
        try:
            return torch.aminmax(x)
        finally:
            _set_grad_enabled(prev)
    return torch.aminmax(x)


def _sort_with_indices(x: Tensor, axis: int, descending: bool) -> tuple[Tensor, Tensor]:
    out = torch.sort(x, dim=axis, descending=descending, stable=False)
    return out.values, out.indices


def _abs0(x: Tensor) -> Tensor:
    # torch's abs has the sub-gradient 0 at 0 (its backward multiplies by sgn)
    return torch.abs(x)


def _mean(x: Tensor) -> Tensor | None:
    if x.requires_grad and is_concrete(x) and x.numel() >= _MEAN_AS_SUM:
        return torch.sum(x) / x.numel()
    return None


def _ctc_loss(lp: Tensor, labels: Tensor, input_lengths: Tensor, target_lengths: Tensor,
              blank: int) -> Tensor | None:
    """Per-sequence CTC negative log-likelihood ``(B,)`` of log-probabilities ``lp`` ``(B, T,
    C)`` by ``torch.ctc_loss``, with ``+inf`` and a zero gradient for an infeasible sequence
    (``T_b < L_b + repeats_b``): torch's ``zero_infinity=True`` zeroes the gradient that its
    plain form leaves NaN, and the infeasible rows get back their ``+inf`` from the lengths.
    Lengths outside ``[0, T]`` and ``[0, S]`` (unchecked with ``validate=False`` or on a GPU)
    raise torch's ``RuntimeError``: its kernel checks them where it reads them.

    torch's kernel reads the lengths on the host. For device tensors they are copied there
    in one read together with the finiteness flag below (torch's own ``F.ctc_loss`` makes the
    same one read); the generic scan, which reads nothing, is one to two orders of magnitude
    slower on a GPU.

    Declines (``None``, the generic loop runs) under a compiler or a functorch transform
    (``aten._ctc_loss`` has a data-dependent output shape, and no graph may read values),
    below float32, for an empty batch or no frames (torch refuses them), and when ``lp``
    holds a non-finite value (a ``-inf`` log-probability on the only alignment would be
    zeroed by ``zero_infinity``, where the loss is ``+inf``; NaN stays the generic path's)."""
    if not is_concrete(lp) or lp.dtype not in (torch.float32, torch.float64):
        return None
    if lp.numel() == 0:
        return None
    b, s = lp.shape[0], labels.shape[1]
    finite = torch.isfinite(lp).all()
    if is_host(lp):
        if not bool(finite):
            return None
        il_h, tl_h = input_lengths, target_lengths
    else:
        host = torch.cat([input_lengths, target_lengths, finite.to(input_lengths.dtype)
                          .reshape(1)]).cpu()
        if not bool(host[-1]):
            return None
        # as lists: torch's CUDA kernel takes host lengths in that form only
        il_h, tl_h = host[:b].tolist(), host[b:2 * b].tolist()
    nll = torch.ctc_loss(lp.transpose(0, 1), labels, il_h, tl_h, blank, 0, True)
    inside = torch.arange(1, s, device=labels.device) < target_lengths[:, None]
    repeats = ((labels[:, 1:] == labels[:, :-1]) & inside).sum(dim=1)
    infeasible = input_lengths < target_lengths + repeats
    return torch.where(infeasible, torch.inf, nll)


#: torch's loss kernels below ``torch.nn.functional`` (reduction 0 is "none")
_NN: Any = getattr(torch._C, "_nn", None)


def _l1(pred: Tensor, target: Tensor) -> Tensor:
    return _NN.l1_loss(pred, target, 0)


def _mse(pred: Tensor, target: Tensor) -> Tensor:
    return _NN.mse_loss(pred, target, 0)


def _huber(pred: Tensor, target: Tensor, delta: float) -> Tensor:
    return _NN.huber_loss(pred, target, 0, delta)


def _smooth_l1(pred: Tensor, target: Tensor, beta: float) -> Tensor:
    return _NN.smooth_l1_loss(pred, target, 0, beta)


KERNELS: dict[str, Callable[..., Any]] = {
    "logsumexp": _logsumexp,
    "log_softmax": _log_softmax,
    "softmax": _softmax,
    "row_max": _row_max,
    "softplus": _softplus,
    "log_sigmoid": _log_sigmoid,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "fill": _fill,
    "value_range": _value_range,
    "sort_with_indices": _sort_with_indices,
    "mean": _mean,
    "abs0": _abs0,
    "any": lambda m: m.any(),  # (the namespace's any wraps it: 1-2 us more)
    "mix": torch.lerp,  # one pass for (1 - w) a + w b, exact at w = 0 and 1
    "ctc_loss": _ctc_loss,
}
#: torch's reduction codes
_REDUCTION = {"none": 0, "mean": 1, "sum": 2}


def _cross_entropy(reduction: str, z: Tensor, labels: Tensor, axis: int,
                   class_weight: Tensor | None, ignore_index: int | None, smoothing: float
                   ) -> Tensor | None:
    """``F.cross_entropy`` with the classes on ``axis`` (1, or the last of a matrix); the
    caller checks the labels first and the result after (``Call.fused_checked``,
    ``_fast.labels``)."""
    if z.ndim < 2 or not (axis == 1 or (z.ndim == 2 and axis in (-1, 1))):
        return None
    ii = -100 if ignore_index is None else ignore_index
    return _NN.cross_entropy_loss(z, labels, class_weight, _REDUCTION[reduction], ii,
                                  smoothing)


def _nll_loss(reduction: str, x: Tensor, labels: Tensor, axis: int,
              class_weight: Tensor | None, ignore_index: int | None) -> Tensor | None:
    """``F.nll_loss`` with the classes on ``axis`` (as ``_cross_entropy``)."""
    if x.ndim < 2 or not (axis == 1 or (x.ndim == 2 and axis in (-1, 1))):
        return None
    ii = -100 if ignore_index is None else ignore_index
    return _NN.nll_loss_nd(x, labels, class_weight, _REDUCTION[reduction], ii)


#: the ``ignore_index`` the label-checking kernels give torch's: torch raises for any other
#: label outside ``[0, C)``, and this one shows in the total weight its kernel returns
_NO_LABEL = torch.iinfo(torch.int64).min
#: torch's NLL kernels by rank of the log-probabilities (classes on axis 1); each returns
#: the loss and the total weight of the samples not ignored
_NLL_FORWARD = {2: torch.ops.aten.nll_loss_forward.default,
                4: torch.ops.aten.nll_loss2d_forward.default}


def _labels_are_classes(labels: Tensor, classes: int) -> bool:
    """Whether every label lies in ``[0, classes)``: one min/max pass and two reads."""
    lo, hi = torch.aminmax(labels)
    return bool(lo.item() >= 0 and hi.item() < classes)


def _counted_nll(reduction: str, logp: Tensor, labels: Tensor) -> Tensor | None:
    """torch's mean or sum NLL of log-probabilities of rank 2 or 4 (classes on axis 1) for
    labels not yet checked, or ``None`` where a label is not a class: the kernel raises for
    one outside ``[0, C)`` except its ``ignore_index`` (``_NO_LABEL``), which its total
    weight (the number of samples not ignored) reveals. No pass over the labels of its own,
    and one read."""
    try:
        out, total = _NLL_FORWARD[logp.ndim](logp, labels, None, _REDUCTION[reduction],
                                             _NO_LABEL)
    except IndexError:
        return None
    return out if total.item() == labels.numel() else None


def _cross_entropy_checking(reduction: str, z: Tensor, labels: Tensor, axis: int,
                            smoothing: float) -> Tensor | None:
    """``_cross_entropy`` for labels not yet checked (the small-call lane, ``_fast.labels``):
    ``None`` where a label is not a class. The labels' min/max pass is cheap beside the
    log-softmax (not so for NLL: ``_nll_loss_checking``)."""
    if not _labels_are_classes(labels, z.shape[axis]):
        return None
    return _cross_entropy(reduction, z, labels, axis, None, None, smoothing)


def _nll_loss_checking(reduction: str, x: Tensor, labels: Tensor, axis: int
                       ) -> Tensor | None:
    """``_nll_loss`` for labels not yet checked (as ``_cross_entropy_checking``)."""
    if reduction != "none" and x.ndim in _NLL_FORWARD and axis == 1:
        return _counted_nll(reduction, x, labels)
    if not _labels_are_classes(labels, x.shape[axis]):
        return None
    return _nll_loss(reduction, x, labels, axis, None, None)


def _bce_with_logits(reduction: str, z: Tensor, y: Tensor, pos_weight: Any
                     ) -> Tensor | None:
    """``F.binary_cross_entropy_with_logits`` (the caller checks the result: see
    ``Call.fused_checked``); declines a ``pos_weight`` that needs a gradient (torch's kernel
    has none for it)."""
    if isinstance(pos_weight, torch.Tensor) and pos_weight.requires_grad:
        return None
    if pos_weight is not None and not isinstance(pos_weight, torch.Tensor):
        pos_weight = torch.tensor(pos_weight, dtype=z.dtype)  # a host number: no upload
    return torch.binary_cross_entropy_with_logits(z, y, None, pos_weight,
                                                  _REDUCTION[reduction])


def _bce(reduction: str, p: Tensor, y: Tensor) -> Tensor:
    """``F.binary_cross_entropy`` (the caller keeps ``p`` where its clamps and arrayloss's
    clip do nothing: ``_fast.pair(interior=True)``)."""
    return _NN.binary_cross_entropy(p, y, None, _REDUCTION[reduction])


def _kl_div(reduction: str, log_q: Tensor, p: Tensor, axis: int, log_target: bool
            ) -> Tensor | None:
    """``F.kl_div(reduction="batchmean" or "sum")`` over the rows of a matrix, for a ``p``
    that needs no gradient (torch's gradient for ``p`` is infinite at 0, arrayloss's is
    not); the caller checks the result (a NaN where ``p = 0`` meets ``log q = -inf``)."""
    if (log_q.ndim != 2 or axis not in (-1, 1) or reduction == "none" or p.requires_grad):
        return None
    total = torch.kl_div(log_q, p, _REDUCTION["sum"], log_target=log_target)
    return total / log_q.shape[0] if reduction == "mean" else total


def _l1_reduced(reduction: str, pred: Tensor, target: Tensor) -> Tensor:
    return _NN.l1_loss(pred, target, _REDUCTION[reduction])


def _mse_reduced(reduction: str, pred: Tensor, target: Tensor) -> Tensor:
    return _NN.mse_loss(pred, target, _REDUCTION[reduction])


def _huber_reduced(reduction: str, pred: Tensor, target: Tensor, delta: float) -> Tensor:
    return _NN.huber_loss(pred, target, _REDUCTION[reduction], delta)


def _smooth_l1_reduced(reduction: str, pred: Tensor, target: Tensor, beta: float) -> Tensor:
    return _NN.smooth_l1_loss(pred, target, _REDUCTION[reduction], beta)


if hasattr(_NN, "smooth_l1_loss"):  # the fused losses below torch.nn.functional
    KERNELS.update({"l1_loss": _l1, "mse_loss": _mse, "huber_loss": _huber,
                    "smooth_l1_loss": _smooth_l1, "l1_loss_reduced": _l1_reduced,
                    "mse_loss_reduced": _mse_reduced, "huber_loss_reduced": _huber_reduced,
                    "smooth_l1_loss_reduced": _smooth_l1_reduced,
                    "cross_entropy": _cross_entropy, "nll_loss": _nll_loss,
                    "cross_entropy_checking": _cross_entropy_checking,
                    "nll_loss_checking": _nll_loss_checking,
                    "binary_cross_entropy_with_logits": _bce_with_logits,
                    "kl_divergence": _kl_div, "binary_cross_entropy": _bce})
