"""The table the Keras adapter classes are built from: one :class:`Spec` per class."""

from __future__ import annotations

from typing import Any

from . import _convert as c
from ._convert import Spec

_BOX = {"box_format": "xyxy", "eps": 1e-7}
_OVERLAP: dict[str, Any] = {"axis": None, "activation": None, "per_image": False,
                            "smooth": 0.0, "smooth_dr": None, "average": "macro", "eps": 1e-7,
                            "class_weight": None, "ignore_index": None,
                            "include_background": True}
_TVERSKY_NAMES = {"alpha": "beta", "beta": "alpha"}

_ELEMENTWISE = ("Same-shape float ``y_true`` and ``y_pred`` (Keras's rank rule: ``(N,)`` "
                "fits ``(N, 1)``); ``call`` returns the elementwise loss averaged over the "
                "last axis, shape ``y_pred.shape[:-1]``.")
_BOXES = ("``y_true`` and ``y_pred`` are aligned boxes ``(..., 4)`` in ``box_format``; "
          "``call`` returns one loss per box, shape ``(...)``.")
_SIGNED = ("Labels in {0, 1} (converted to {-1, +1} as Keras does) or {-1, +1}; ``call`` "
           "returns the elementwise loss averaged over the last axis.")
_CLASS = ("``y_pred`` has the classes on ``axis`` (last by default); ``call`` returns one "
          "loss per position, ``y_pred``'s shape without the class axis.")
_MULTI_HOT = ("``y_pred`` logits (scores) with the classes on ``axis`` (last by default), "
              "``y_true`` a multi-hot target {0, 1} of the same shape; ``call`` returns one "
              "loss per sample, ``y_pred``'s shape without the class axis.")
_SPARSE = (" ``y_true`` holds integer labels (``y_pred``'s shape without the class axis, or "
           "with a class axis of size 1), which Keras casts to float: they are cast back to "
           "int32 (truncation; under a compiler a non-integral label cannot be refused). "
           "Ignored labels are masked, so Keras's mean leaves them out.")
_PROBS = (" ``from_logits=False`` (Keras's default): ``y_pred`` holds probabilities, passed "
          "as ``log(clip(y_pred, epsilon, 1))`` (normalised by the softmax: Keras's "
          "normalisation and clip); ``True``: logits.")
_OVERLAP_DOC = (
    "``axis=None`` (default): binary, every element of ``y_pred`` is a probability (or "
    "logit with ``activation='sigmoid'``) against the same-shape ``y_true``, as "
    "``keras.losses.Dice``/``Tversky`` pool all channels. ``axis=-1``: per-class scores, "
    "``y_true`` integer labels (one axis less, or a class axis of size 1) or a dense target. "
    "``per_image=False`` (default, as Keras's ``axis=None``): ``call`` returns the batch's "
    "0-d loss (Keras multiplies it by the mean ``sample_weight``); ``per_image=True`` (Keras's "
    "``axis=(1, ..., rank - 1)``): one value per image, the mean over its classes. Scores "
    "divide by ``max(den, eps)`` (Keras adds ``epsilon`` to ``den``); an image empty in both "
    "prediction and target has loss 0 (Keras: 1).")
_TVERSKY_DOC = (" ``alpha`` weighs ``sum(y_true (1 - y_pred))`` (the false negatives) and "
                "``beta`` ``sum((1 - y_true) y_pred)``, as ``keras.losses.tversky`` computes "
                "them (its docstring names them the other way round); arrayloss's "
                "``tversky_loss`` names them by false positives first, so the adapter passes "
                "``alpha`` as its ``beta`` and ``beta`` as its ``alpha``.")

SPECS: tuple[Spec, ...] = (
    # regression
    Spec("MeanAbsoluteError", ("l1_loss",), {}, c.elementwise, "MeanAbsoluteError",
         doc=_ELEMENTWISE),
    Spec("MeanSquaredError", ("mse_loss",), {}, c.elementwise, "MeanSquaredError",
         doc=_ELEMENTWISE),
    Spec("SmoothL1", ("smooth_l1_loss",), {"beta": 1.0}, c.elementwise,
         doc=_ELEMENTWISE + " ``Huber(delta=beta)`` divided by ``beta``."),
    Spec("Huber", ("huber_loss",), {"delta": 1.0}, c.elementwise, "Huber", doc=_ELEMENTWISE),
    Spec("TukeyBiweight", ("tukey_biweight_loss",), {"c": 4.685, "scale": "mad"},
         c.elementwise, doc=_ELEMENTWISE + " With ``scale='mad'`` the scale is the MAD over "
         "the batch axis of each call: it depends on the batch."),
    Spec("LogCosh", ("log_cosh_loss",), {}, c.elementwise, "LogCosh", doc=_ELEMENTWISE),
    Spec("Poisson", ("poisson_nll_loss",), {"log_input": False, "full": False, "eps": 1e-7},
         c.elementwise, "Poisson",
         doc=_ELEMENTWISE + " Keras's defaults: ``y_pred`` holds rates ``>= 0`` and the log "
         "takes ``y_pred + 1e-7``; ``log_input=True`` takes log-rates (no epsilon), "
         "``full=True`` adds Stirling's ``log(y_true!)``."),
    Spec("MeanAbsolutePercentageError", ("mape_loss",), {"eps": 1e-7, "percent": True},
         c.elementwise, "MeanAbsolutePercentageError",
         doc=_ELEMENTWISE + " ``|y_true|`` is floored at ``eps``; ``percent=False`` gives "
         "the fraction instead of the percentage."),
    Spec("MeanSquaredLogarithmicError", ("msle_loss",), {}, c.elementwise,
         "MeanSquaredLogarithmicError",
         doc=_ELEMENTWISE + " Negative ``y_pred`` are clamped at 0 (Keras: at 1e-7), "
                            "``y_true`` must be ``>= 0``; computed in ``log1p``."),
    # boxes
    Spec("IoU", ("iou_loss",), {"mode": "linear", **_BOX}, c.boxes, doc=_BOXES),
    Spec("GIoU", ("giou_loss",), dict(_BOX), c.boxes, doc=_BOXES),
    Spec("DIoU", ("diou_loss",), dict(_BOX), c.boxes, doc=_BOXES),
    Spec("CIoU", ("ciou_loss",), dict(_BOX), c.boxes, doc=_BOXES),
    Spec("EIoU", ("eiou_loss",), dict(_BOX), c.boxes, doc=_BOXES),
    Spec("FocalEIoU", ("focal_eiou_loss",), {"gamma": 0.5, **_BOX}, c.boxes,
         doc=_BOXES + " arrayloss's ``normalize=True`` divides the batch's sum by the sum of "
         "the focal weights, which a per-box Keras loss cannot express: not offered."),
    Spec("CDIoU", ("cdiou_loss",), {"distance_weight": 1.0, **_BOX}, c.boxes, doc=_BOXES),
    # binary
    Spec("BinaryCrossentropy", ("binary_cross_entropy", "binary_cross_entropy_with_logits"),
         {"from_logits": False, "label_smoothing": 0.0, "pos_weight": None}, c.binary,
         "BinaryCrossentropy", adapter_only=("from_logits",),
         doc=_ELEMENTWISE + " ``from_logits=False``: ``binary_cross_entropy`` on "
         "probabilities (clipped at the dtype's epsilon); ``True``: "
         "``binary_cross_entropy_with_logits`` (log-sigmoid form). ``label_smoothing`` moves "
         "targets towards 0.5 (Keras's rule); ``pos_weight`` (arrayloss) weighs positives."),
    Spec("BinaryFocalCrossentropy", ("sigmoid_focal_loss",),
         {"apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0, "from_logits": False,
          "label_smoothing": 0.0, "pos_weight": None},
         c.binary_focal, "BinaryFocalCrossentropy",
         adapter_only=("apply_class_balancing", "from_logits"),
         doc=_ELEMENTWISE + " ``alpha`` weighs class 1 (``1 - alpha`` class 0) only with "
         "``apply_class_balancing=True``, as Keras. ``from_logits=False``: probabilities are "
         "passed as ``logit(clip(y_pred, epsilon, 1 - epsilon))``. ``label_smoothing`` moves "
         "targets towards 0.5 (Keras's rule); ``pos_weight`` (arrayloss) weighs positives."),
    Spec("MultilabelSoftMargin", ("multilabel_soft_margin_loss",),
         {"axis": -1, "class_weight": None}, c.dense_classes,
         doc=_MULTI_HOT + " ``y_true`` may hold soft targets in [0, 1]; ``class_weight`` "
         "(length C) multiplies each class's term, the mean over classes divides by C."),
    # categorical
    Spec("CategoricalCrossentropy", ("cross_entropy",),
         {"from_logits": False, "label_smoothing": 0.0, "axis": -1, "class_weight": None},
         c.dense_classes, "CategoricalCrossentropy", adapter_only=("from_logits",),
         doc=_CLASS + " ``y_true`` is a dense target (one-hot or probabilities) of "
         "``y_pred``'s shape." + _PROBS + " ``label_smoothing``: ``(1 - ls) y + ls / C``; "
         "``class_weight`` (length C) multiplies each class's term."),
    Spec("SparseCategoricalCrossentropy", ("cross_entropy",),
         {"from_logits": False, "ignore_class": None, "axis": -1, "label_smoothing": 0.0,
          "class_weight": None},
         c.sparse_classes, "SparseCategoricalCrossentropy", adapter_only=("from_logits",),
         core_names={"ignore_class": "ignore_index"},
         doc=_CLASS + _SPARSE + _PROBS + " ``ignore_class`` is Keras's name of arrayloss's "
         "``ignore_index``; ``class_weight`` multiplies each position's loss by its label's "
         "weight (the Keras reduction divides by the number of positions)."),
    Spec("KLDivergence", ("kl_divergence",), {"axis": -1, "log_target": False}, c.kl,
         "KLDivergence",
         doc="``KL(y_true || y_pred)`` per distribution (classes on ``axis``): "
         "``kl_divergence(log(clip(y_pred)), clip(y_true))`` with both clipped to "
         "``[epsilon, 1]`` as Keras does; ``call`` returns one value per distribution."),
    Spec("CategoricalFocalCrossentropy", ("softmax_focal_loss",),
         {"alpha": 0.25, "gamma": 2.0, "from_logits": False, "label_smoothing": 0.0,
          "axis": -1, "class_weight": None},
         c.dense_classes, "CategoricalFocalCrossentropy", adapter_only=("from_logits",),
         doc=_CLASS + " ``y_true`` is a dense target of ``y_pred``'s shape." + _PROBS +
         " A scalar ``alpha`` multiplies every class (Keras's rule: passed as ``[alpha] * "
         "C``); a list gives one value per class; None: no alpha. ``label_smoothing`` moves "
         "targets to ``(1 - ls) y + ls / C`` (Keras's rule)."),
    Spec("SparseCategoricalFocalCrossentropy", ("softmax_focal_loss",),
         {"alpha": 0.25, "gamma": 2.0, "from_logits": False, "label_smoothing": 0.0,
          "axis": -1, "class_weight": None, "ignore_index": None},
         c.sparse_classes, adapter_only=("from_logits",),
         doc=_CLASS + _SPARSE + _PROBS + " ``alpha`` as ``CategoricalFocalCrossentropy`` "
         "(this is that loss with integer labels)."),
    # classifier
    Spec("CategoricalPolyCrossentropy", ("poly_cross_entropy",),
         {"epsilon": 2.0, "from_logits": False, "label_smoothing": 0.0, "axis": -1,
          "class_weight": None},
         c.dense_classes, adapter_only=("from_logits",),
         doc=_CLASS + " ``y_true`` is a dense target of ``y_pred``'s shape." + _PROBS +
         " ``epsilon`` weighs the Poly-1 term ``1 - p``; ``label_smoothing`` and "
         "``class_weight`` as ``CategoricalCrossentropy``."),
    Spec("SparseCategoricalPolyCrossentropy", ("poly_cross_entropy",),
         {"epsilon": 2.0, "from_logits": False, "ignore_index": None, "axis": -1,
          "label_smoothing": 0.0, "class_weight": None},
         c.sparse_classes, adapter_only=("from_logits",),
         doc=_CLASS + _SPARSE + _PROBS + " ``epsilon`` weighs the Poly-1 term ``1 - p``."),
    Spec("CategoricalGeneralizedCrossEntropy", ("generalized_cross_entropy",),
         {"q": 0.5, "from_logits": False, "axis": -1, "class_weight": None,
          "ignore_index": None},
         c.sparse_classes, "CategoricalGeneralizedCrossEntropy", adapter_only=("from_logits",),
         doc=_CLASS + _SPARSE + _PROBS + " Keras's own loss reads ``p_t`` from ``y_pred`` "
         "as given (no clip, no normalisation): the two agree on normalised probabilities "
         "above ``epsilon``."),
    # margin
    Spec("Hinge", ("hinge_loss",), {"margin": 1.0}, c.signed, "Hinge", doc=_SIGNED),
    Spec("SquaredHinge", ("squared_hinge_loss",), {"margin": 1.0}, c.signed, "SquaredHinge",
         doc=_SIGNED),
    Spec("Ramp", ("ramp_loss",), {"s": -1.0}, c.signed, doc=_SIGNED),
    Spec("SoftMargin", ("soft_margin_loss",), {}, c.signed, doc=_SIGNED),
    Spec("MultilabelMargin", ("multilabel_margin_loss",), {"axis": -1, "margin": 1.0},
         c.dense_classes,
         doc=_MULTI_HOT + " Each positive class should score ``margin`` above each negative "
         "one; not ``keras.losses.CategoricalHinge`` (one-hot, one margin per sample)."),
    Spec("MulticlassHinge", ("multiclass_hinge_loss",),
         {"axis": -1, "margin": 1.0, "mode": "crammer_singer", "squared": False,
          "ignore_index": None, "class_weight": None},
         c.sparse_classes,
         doc=_CLASS + _SPARSE + " ``class_weight`` multiplies each position's loss by its "
         "label's weight. Not ``keras.losses.CategoricalHinge``: that loss takes "
         "one-hot labels and lets the true class compete with the value 0, so the two "
         "differ when every wrong-class score is negative."),
    # embedding pairs
    Spec("CosineDistance", ("cosine_distance_loss",), {"axis": -1, "eps": 1e-8},
         c.dense_classes,
         doc="``y_true`` and ``y_pred`` are same-shape vectors, features on ``axis`` (last by "
         "default); ``call`` returns ``1 - cos`` per vector, shape ``y_pred`` without "
         "``axis``. ``keras.losses.CosineSimilarity`` returns ``-cos`` (this loss minus 1, "
         "the same gradient) and floors the squared norms at 1e-12 (``eps=1e-6``)."),
    Spec("HingeEmbedding", ("hinge_embedding_loss",), {"margin": 1.0}, c.signed,
         doc="``y_pred`` distances, ``y_true`` same-shape labels in {0, 1} (0 converted to "
         "-1: a dissimilar pair) or {-1, +1}; ``call`` returns the elementwise loss (``x`` "
         "for +1, ``max(0, margin - x)`` for -1) averaged over the last axis."),
    # sparsemax
    Spec("Sparsemax", ("sparsemax_loss",), {}, c.elementwise,
         doc="``y_pred`` logits and a same-shape binary ``y_true`` {0, 1} (Keras's rank rule: "
         "``(N,)`` fits ``(N, 1)``); ``call`` returns the elementwise loss averaged over the "
         "last axis, shape ``y_pred.shape[:-1]``."),
    Spec("MulticlassSparsemax", ("multiclass_sparsemax_loss",),
         {"axis": -1, "class_weight": None, "ignore_index": None}, c.sparse_classes,
         doc=_CLASS + _SPARSE + " ``y_pred`` holds logits; ``class_weight`` multiplies each "
         "position's loss by its label's weight."),
    # contrastive
    Spec("Circle", ("circle_loss",),
         {"gamma": 80.0, "margin": 0.4, "normalize": True, "remove_diagonal": True,
          "detach_weights": False}, c.groups, "Circle",
         doc="``y_pred`` embeddings ``(N, D)`` (normalised inside unless ``normalize=False``; "
         "Keras's own loss expects unit-norm input), ``y_true`` integer labels ``(N,)`` or "
         "``(N, 1)`` cast back to int32; ``call`` returns one loss per anchor, masked where it "
         "is 0 (no positive or no negative in the batch) as Keras does. The loss of an anchor "
         "depends on the whole batch. Keras's reference set (``ref_embeddings``, "
         "``ref_labels``) is not offered: call ``arrayloss.circle_loss`` for a memory bank."),
    # overlap
    Spec("Dice", ("dice_loss",), {**_OVERLAP, "squared": False, "log": False}, c.overlap,
         "Dice", doc=_OVERLAP_DOC),
    Spec("Jaccard", ("jaccard_loss",), {**_OVERLAP, "log": False}, c.overlap,
         doc=_OVERLAP_DOC),
    Spec("Tversky", ("tversky_loss",), {"alpha": 0.5, "beta": 0.5, **_OVERLAP}, c.overlap,
         "Tversky", core_names=_TVERSKY_NAMES, doc=_OVERLAP_DOC + _TVERSKY_DOC),
    Spec("FocalTversky", ("focal_tversky_loss",),
         {"alpha": 0.5, "beta": 0.5, "gamma": 0.75, **_OVERLAP}, c.overlap,
         core_names=_TVERSKY_NAMES, doc=_OVERLAP_DOC + _TVERSKY_DOC),
    Spec("GeneralizedDice", ("generalized_dice_loss",),
         {"axis": -1, "activation": None, "weight_type": "square", "per_image": False,
          "smooth": 0.0, "smooth_dr": None, "eps": 1e-7, "ignore_index": None,
          "include_background": True}, c.overlap,
         doc="``y_pred`` probabilities (or logits with ``activation``) with classes on "
         "``axis`` (last by default), ``y_true`` integer labels (one axis less, or a class "
         "axis of size 1) or a dense target. ``per_image=False`` (default): ``call`` returns "
         "the batch's 0-d loss; ``per_image=True``: one value per image, ``(B,)``."),
    # lovasz
    Spec("LovaszHinge", ("lovasz_hinge_loss",), {"per_image": True, "ignore_index": None},
         c.lovasz_hinge,
         doc="``y_pred`` logits, ``y_true`` binary labels {0, 1} (or ``ignore_index``) of "
         "the same shape, cast back to int32. ``per_image=True`` (default): ``call`` returns "
         "``(B,)``; ``False``: the batch's 0-d loss."),
    Spec("LovaszSoftmax", ("lovasz_softmax_loss",),
         {"axis": -1, "classes": "present", "per_image": False, "ignore_index": None,
          "activation": None, "class_weight": None},
         c.lovasz_softmax,
         doc="``y_pred`` probabilities (or logits with ``activation='softmax'``) with classes "
         "on ``axis``;" + _SPARSE.replace(" Ignored labels are masked, so Keras's mean "
                                          "leaves them out.", "") +
         " ``per_image=False`` (default): ``call`` returns the batch's 0-d loss; ``True``: "
         "``(B,)``, each image's mean over its selected classes (Berman's per-image "
         "average)."),
)

#: arrayloss functions without an adapter, and why
NOT_ADAPTED = {
    "box_iou": "a metric, not a loss: it returns the IoU matrix of aligned boxes and has no "
               "reduction (use IoU, GIoU... for training)",
    "entropy": "takes no target: a regulariser of the prediction alone (add it with "
               "model.add_loss or an activity regulariser), not a (y_true, y_pred) loss",
    "center_loss": "needs the class centres, a state that a stateless keras.losses.Loss "
                   "cannot own or update (keep them in a layer and use add_loss)",
    "update_centers": "returns updated class centres, not a loss value",
    "nll_loss": "Keras models end in probabilities or logits, not log-probabilities: "
                "SparseCategoricalCrossentropy(from_logits=True) is the same loss on "
                "log-probabilities (their log-softmax is themselves)",
    "generalized_kl_divergence": "takes unnormalised measures in log space, for which Keras "
                                 "has no convention (its KLDivergence clips both inputs to "
                                 "[epsilon, 1]); call arrayloss.generalized_kl_divergence "
                                 "in a custom loss",
    "linear_cross_entropy": "needs the output projection (a Dense layer's kernel), which a "
                            "(y_true, y_pred) loss never sees; end the model in that Dense "
                            "layer and use SparseCategoricalCrossentropy(from_logits=True)",
    "gaussian_nll_loss": "takes a third input, the predicted variances, which a (y_true, "
                         "y_pred) loss has no place for (call arrayloss.gaussian_nll_loss in "
                         "a custom train step or through model.add_loss)",
    "cosine_embedding_loss": "takes two embeddings and a pair label, three inputs that a "
                             "(y_true, y_pred) loss has no place for (call "
                             "arrayloss.cosine_embedding_loss in a custom train step)",
    "margin_ranking_loss": "takes two scores and a ranking label, three inputs that a (y_true, "
                           "y_pred) loss has no place for (call arrayloss.margin_ranking_loss "
                           "in a custom train step)",
    "triplet_margin_loss": "takes anchor, positive and negative embeddings and no target (call "
                           "arrayloss.triplet_margin_loss in a custom train step or through "
                           "model.add_loss)",
    "box_convert": "a conversion between box formats, not a loss (call arrayloss.box_convert)",
    "ntxent_loss": "its mean is over positive pairs, not over samples: a per-sample loss "
                   "reduced by Keras (sum over batch size, sample_weight) changes it whenever "
                   "an anchor has several positives (call arrayloss.ntxent_loss in a custom "
                   "train step, or through model.add_loss)",
    "ranking_softmax_loss": "takes its item mask (`where`) and item weights with each batch, "
                            "which a (y_true, y_pred) loss has no place for; without them it is "
                            "CategoricalCrossentropy(from_logits=True) on the relevance, "
                            "unnormalised (call arrayloss.ranking_softmax_loss in a custom "
                            "loss)",
    "dice_ce_loss": "a sum of a per-image Dice term and a per-pixel cross-entropy, with no "
                    "common per-sample loss for Keras's reductions and sample_weight to act "
                    "on; call arrayloss.dice_ce_loss in a custom loss function, or add "
                    "Dice(axis=-1, per_image=True) and SparseCategoricalCrossentropy",
    "dice_focal_loss": "a sum of a per-image Dice term and a per-pixel focal loss, with no "
                       "common per-sample loss for Keras's reductions and sample_weight to act "
                       "on; call arrayloss.dice_focal_loss in a custom loss function, or add "
                       "Dice(axis=-1, per_image=True) and SparseCategoricalFocalCrossentropy",
    "ctc_loss": "keras.losses.CTC computes it in Keras's convention (label 0 is the blank and "
                "the padding, every frame counts: ctc_loss(y_pred, y_true, target_lengths="
                "sum(y_true != 0, axis=1))); the per-sequence input lengths, which are what "
                "arrayloss adds, have no place in a (y_true, y_pred) loss: call "
                "arrayloss.ctc_loss in a custom train step or through model.add_loss",
}
