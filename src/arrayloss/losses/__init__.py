"""The losses, one module per input structure:

- ``regression``: elementwise functions of a prediction and a real target (the residual,
  relative and logarithmic errors, Poisson and Gaussian likelihoods);
- ``binary``: one probability or logit per element, targets in [0, 1];
- ``categorical``: distributions over a class axis (cross-entropy, focal, entropy, KL);
- ``classifier``: a classifier's log-probabilities, logits or features against integer
  labels (NLL, Poly-1 and generalised cross-entropy, linear cross-entropy);
- ``margin``: scores with labels in {-1, +1} or integer labels (hinge losses);
- ``embedding``: feature vectors with integer labels and class centres;
- ``contrastive``: a batch of embeddings with group labels (NT-Xent, circle loss) and lists
  of scored items (listwise softmax ranking);
- ``boxes``: aligned pairs of boxes (``_geometry`` holds the shared geometry);
- ``overlap``: segmentation overlap statistics (Dice, Jaccard, Tversky);
- ``segmentation``: the generalised Dice loss and the Dice + cross-entropy / focal compounds;
- ``lovasz``: the Lovász extension of the Jaccard loss;
- ``sparsemax``: the sparsemax losses (binary and multi-class);
- ``sequence``: per-frame class scores against unaligned label sequences (CTC).

The catalogue (``arrayloss.catalog``) holds one module of records per module here.
"""

from . import (
    binary,
    boxes,
    categorical,
    classifier,
    contrastive,
    embedding,
    lovasz,
    margin,
    overlap,
    regression,
    segmentation,
    sequence,
    sparsemax,
)
from .binary import *  # noqa: F403
from .boxes import *  # noqa: F403
from .categorical import *  # noqa: F403
from .classifier import *  # noqa: F403
from .contrastive import *  # noqa: F403
from .embedding import *  # noqa: F403
from .lovasz import *  # noqa: F403
from .margin import *  # noqa: F403
from .overlap import *  # noqa: F403
from .regression import *  # noqa: F403
from .segmentation import *  # noqa: F403
from .sequence import *  # noqa: F403
from .sparsemax import *  # noqa: F403

#: the modules of losses, in the catalogue's order (each has a catalogue module of the
#: same name in ``arrayloss.catalog``)
MODULES = ("regression", "boxes", "binary", "categorical", "classifier", "margin", "sparsemax",
           "embedding", "contrastive", "overlap", "segmentation", "lovasz", "sequence")

#: every public loss: the ``__all__`` of each module (a new loss is added there only)
__all__ = sorted({*regression.__all__, *boxes.__all__, *binary.__all__,
                  *categorical.__all__, *classifier.__all__, *margin.__all__, *embedding.__all__,
                  *contrastive.__all__,
                  *overlap.__all__, *segmentation.__all__, *lovasz.__all__,
                  *sparsemax.__all__,
                  *sequence.__all__})
