"""torch modules for every arrayloss loss, with torch's conventions.

``arrayloss.torch.CrossEntropyLoss`` is used like ``torch.nn.CrossEntropyLoss``; each module
calls one core function of ``arrayloss`` and only translates its conventions:

- **class axis 1** (channels-first ``(B, C, *spatial)``; ``axis=`` changes it), where the core
  functions default to the last axis;
- **``weight=`` means class weights** where torch's (or MONAI's) module means that
  (``CrossEntropyLoss``, ``NLLLoss``, ``LinearCrossEntropyLoss``, ``MultiMarginLoss``,
  ``MultiLabelSoftMarginLoss``, ``MultiClassSparsemaxLoss``, ``SoftmaxFocalLoss``, the overlap
  losses and the compounds); on ``BCELoss`` and ``BCEWithLogitsLoss`` it is torch's
  per-element weight. Weights per sample or per element are
  ``forward(input, target, sample_weight=None)``, and the core's mask is
  ``forward(..., where=None)`` (a boolean tensor: False entries give 0 and leave the mean's
  count);
- ``ignore_index=-100`` by default on the cross-entropy modules (and
  ``MultiClassSparsemaxLoss``), as torch (applied to integer targets only; probability
  targets ignore it, as torch);
- ``reduction`` ``"mean"`` (default), ``"sum"``, ``"none"`` (and the core's
  ``"weighted_mean"``; ``"batchmean"`` for ``KLDivLoss``);
- **array options are buffers** (class weights, ``pos_weight``, ``alpha`` vectors): they are in
  ``state_dict``, follow ``.to(device)``/``.half()`` and are saved with the model; numbers stay
  Python numbers (static under ``torch.compile``).

Every module runs under ``torch.compile(fullgraph=True)`` and inside DDP models; ``repr``
shows its options. ``SPECS`` is the table the classes are built from (module, core function,
options, peer); ``NOT_ADAPTED`` lists the registered functions without a module and why.
``LinearCrossEntropyLoss`` owns its projection (``linear``) as torch's module does.
``CosineEmbeddingLoss``, ``MarginRankingLoss`` and the triplet modules take three inputs, as
torch's. ``CircleLoss`` takes its reference set and ``RankingSoftmaxLoss`` its item mask and
item weights as inputs of ``forward``. ``DiceCELoss`` and ``DiceFocalLoss`` are the compounds
(``arrayloss.dice_ce_loss``, ``arrayloss.dice_focal_loss``: ``lambda_dice * Dice + lambda_ce *
CE``); they also take labels in a channel ``(B, 1, ...)`` as MONAI does.
"""

from __future__ import annotations

from .. import losses
from ._base import AdapterLoss, Spec, build
from ._compound import DiceCELossBase, DiceFocalLossBase
from ._special import (
    CenterLossBase,
    CircleLossBase,
    CTCLossBase,
    EntropyLossBase,
    GaussianNLLLossBase,
    KLDivLossBase,
    LinearCrossEntropyLossBase,
    MultiMarginLossBase,
    RankingSoftmaxLossBase,
    ThreeInputLossBase,
)
from ._specs import COMPOUNDS, NOT_ADAPTED
from ._specs import SPECS as _SINGLE

__all__ = [
    "NOT_ADAPTED",
    "SPECS",
    "AdapterLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CDIoULoss",
    "CIoULoss",
    "CTCLoss",
    "CenterLoss",
    "CircleLoss",
    "CosineDistanceLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "DIoULoss",
    "DiceCELoss",
    "DiceFocalLoss",
    "DiceLoss",
    "EIoULoss",
    "EntropyLoss",
    "FocalEIoULoss",
    "FocalTverskyLoss",
    "GIoULoss",
    "GaussianNLLLoss",
    "GeneralizedCrossEntropyLoss",
    "GeneralizedDiceLoss",
    "GeneralizedKLDivLoss",
    "HingeEmbeddingLoss",
    "HingeLoss",
    "HuberLoss",
    "IoULoss",
    "JaccardLoss",
    "KLDivLoss",
    "L1Loss",
    "LinearCrossEntropyLoss",
    "LogCoshLoss",
    "LovaszHingeLoss",
    "LovaszSoftmaxLoss",
    "MAPELoss",
    "MSELoss",
    "MSLELoss",
    "MarginRankingLoss",
    "MultiClassHingeLoss",
    "MultiClassSparsemaxLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "NTXentLoss",
    "PoissonNLLLoss",
    "PolyCrossEntropyLoss",
    "RampLoss",
    "RankingSoftmaxLoss",
    "SigmoidFocalLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "SoftmaxFocalLoss",
    "SparsemaxLoss",
    "SquaredHingeLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "TukeyBiweightLoss",
    "TverskyLoss",
    "adapted",
]

#: every module's spec, the compounds last
SPECS: tuple[Spec, ...] = (*_SINGLE, *COMPOUNDS)

_BASES: dict[str, type[AdapterLoss]] = {
    "EntropyLoss": EntropyLossBase,
    "GaussianNLLLoss": GaussianNLLLossBase,
    "KLDivLoss": KLDivLossBase,
    "MultiMarginLoss": MultiMarginLossBase,
    "CenterLoss": CenterLossBase,
    "CTCLoss": CTCLossBase,
    "LinearCrossEntropyLoss": LinearCrossEntropyLossBase,
    "CosineEmbeddingLoss": ThreeInputLossBase,
    "MarginRankingLoss": ThreeInputLossBase,
    "TripletMarginLoss": ThreeInputLossBase,
    "TripletMarginWithDistanceLoss": ThreeInputLossBase,
    "CircleLoss": CircleLossBase,
    "RankingSoftmaxLoss": RankingSoftmaxLossBase,
    "DiceCELoss": DiceCELossBase,
    "DiceFocalLoss": DiceFocalLossBase,
}


def _doc(spec: Spec) -> str:
    core = getattr(losses, spec.fn)
    summary = (core.__doc__ or "").strip().split("\n\n")[0]
    lines = [f"{spec.cls}: ``arrayloss.{spec.fn}`` as a torch module.", "",
             " ".join(line.strip() for line in summary.splitlines()), ""]
    options = ", ".join(f"{k}={v!r}" for k, v in spec.defaults.items())
    lines.append(f"Options (defaults): {options}.")
    if spec.axis is not None:
        lines.append(f"Class axis {spec.axis} (channels-first) unless ``axis=`` says otherwise.")
    for torch_name, core_name in spec.rename.items():
        meaning = ("torch's per-element weight, multiplied into ``sample_weight``"
                   if core_name.startswith("*") else f"the core's ``{core_name}``")
        lines.append(f"``{torch_name}`` is {meaning}.")
    if spec.buffers:
        lines.append(f"Buffers (in ``state_dict``, moved by ``.to()``): "
                     f"{', '.join(spec.buffers)}.")
    if spec.peer:
        lines.append(f"Counterpart: ``{spec.peer}``.")
    return "\n".join(lines)


def _build(name: str) -> type[AdapterLoss]:
    spec = next(s for s in SPECS if s.cls == name)
    return build(spec, _doc(spec), _BASES.get(name, AdapterLoss))


L1Loss = _build("L1Loss")
MSELoss = _build("MSELoss")
SmoothL1Loss = _build("SmoothL1Loss")
HuberLoss = _build("HuberLoss")
TukeyBiweightLoss = _build("TukeyBiweightLoss")
LogCoshLoss = _build("LogCoshLoss")
PoissonNLLLoss = _build("PoissonNLLLoss")
GaussianNLLLoss = _build("GaussianNLLLoss")
MAPELoss = _build("MAPELoss")
MSLELoss = _build("MSLELoss")
IoULoss = _build("IoULoss")
GIoULoss = _build("GIoULoss")
DIoULoss = _build("DIoULoss")
CIoULoss = _build("CIoULoss")
EIoULoss = _build("EIoULoss")
FocalEIoULoss = _build("FocalEIoULoss")
CDIoULoss = _build("CDIoULoss")
BCELoss = _build("BCELoss")
BCEWithLogitsLoss = _build("BCEWithLogitsLoss")
SigmoidFocalLoss = _build("SigmoidFocalLoss")
MultiLabelSoftMarginLoss = _build("MultiLabelSoftMarginLoss")
EntropyLoss = _build("EntropyLoss")
CrossEntropyLoss = _build("CrossEntropyLoss")
KLDivLoss = _build("KLDivLoss")
SoftmaxFocalLoss = _build("SoftmaxFocalLoss")
GeneralizedKLDivLoss = _build("GeneralizedKLDivLoss")
NLLLoss = _build("NLLLoss")
PolyCrossEntropyLoss = _build("PolyCrossEntropyLoss")
GeneralizedCrossEntropyLoss = _build("GeneralizedCrossEntropyLoss")
LinearCrossEntropyLoss = _build("LinearCrossEntropyLoss")
HingeLoss = _build("HingeLoss")
SquaredHingeLoss = _build("SquaredHingeLoss")
RampLoss = _build("RampLoss")
SoftMarginLoss = _build("SoftMarginLoss")
MultiLabelMarginLoss = _build("MultiLabelMarginLoss")
MultiClassHingeLoss = _build("MultiClassHingeLoss")
MultiMarginLoss = _build("MultiMarginLoss")
SparsemaxLoss = _build("SparsemaxLoss")
MultiClassSparsemaxLoss = _build("MultiClassSparsemaxLoss")
CenterLoss = _build("CenterLoss")
CosineDistanceLoss = _build("CosineDistanceLoss")
CosineEmbeddingLoss = _build("CosineEmbeddingLoss")
MarginRankingLoss = _build("MarginRankingLoss")
HingeEmbeddingLoss = _build("HingeEmbeddingLoss")
TripletMarginLoss = _build("TripletMarginLoss")
TripletMarginWithDistanceLoss = _build("TripletMarginWithDistanceLoss")
NTXentLoss = _build("NTXentLoss")
CircleLoss = _build("CircleLoss")
RankingSoftmaxLoss = _build("RankingSoftmaxLoss")
DiceLoss = _build("DiceLoss")
JaccardLoss = _build("JaccardLoss")
TverskyLoss = _build("TverskyLoss")
FocalTverskyLoss = _build("FocalTverskyLoss")
GeneralizedDiceLoss = _build("GeneralizedDiceLoss")
LovaszHingeLoss = _build("LovaszHingeLoss")
LovaszSoftmaxLoss = _build("LovaszSoftmaxLoss")
CTCLoss = _build("CTCLoss")
DiceCELoss = _build("DiceCELoss")
DiceFocalLoss = _build("DiceFocalLoss")


def adapted() -> dict[str, list[str]]:
    """Core function name -> the modules that call it."""
    out: dict[str, list[str]] = {}
    for spec in SPECS:
        out.setdefault(spec.fn, []).append(spec.cls)
    return out
