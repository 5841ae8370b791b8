"""The losses, one module per input structure:

- ``regression``: elementwise functions of the residual;
- ``binary``: one probability or logit per element, targets in [0, 1];
- ``categorical``: distributions over a class axis (cross-entropy, focal, entropy, KL);
- ``margin``: scores with labels in {-1, +1} or integer labels (hinge losses);
- ``embedding``: feature vectors with integer labels and class centres;
- ``boxes``: aligned pairs of boxes (``_geometry`` holds the shared geometry);
- ``overlap``: segmentation overlap statistics (Dice, Jaccard, Tversky);
- ``lovasz``: the Lovász extension of the Jaccard loss.

The catalogue (``arrayloss.catalog``) holds one module of records per module here.
"""

from ._geometry import box_convert
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits, sigmoid_focal_loss
from .boxes import (
    box_iou,
    cdiou_loss,
    ciou_loss,
    diou_loss,
    eiou_loss,
    focal_eiou_loss,
    giou_loss,
    iou_loss,
)
from .categorical import cross_entropy, entropy, kl_divergence, softmax_focal_loss
from .embedding import center_loss, update_centers
from .lovasz import lovasz_hinge_loss, lovasz_softmax_loss
from .margin import hinge_loss, multiclass_hinge_loss, ramp_loss, squared_hinge_loss
from .overlap import dice_loss, focal_tversky_loss, jaccard_loss, tversky_loss
from .regression import (
    huber_loss,
    l1_loss,
    log_cosh_loss,
    mse_loss,
    smooth_l1_loss,
    tukey_biweight_loss,
)

#: the public losses, module by module (the order of the catalogue)
MODULES = ("regression", "boxes", "binary", "categorical", "margin", "embedding", "overlap",
           "lovasz")

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "box_convert",
    "box_iou",
    "cdiou_loss",
    "center_loss",
    "ciou_loss",
    "cross_entropy",
    "dice_loss",
    "diou_loss",
    "eiou_loss",
    "entropy",
    "focal_eiou_loss",
    "focal_tversky_loss",
    "giou_loss",
    "hinge_loss",
    "huber_loss",
    "iou_loss",
    "jaccard_loss",
    "kl_divergence",
    "l1_loss",
    "log_cosh_loss",
    "lovasz_hinge_loss",
    "lovasz_softmax_loss",
    "mse_loss",
    "multiclass_hinge_loss",
    "ramp_loss",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
    "softmax_focal_loss",
    "squared_hinge_loss",
    "tukey_biweight_loss",
    "tversky_loss",
    "update_centers",
]
