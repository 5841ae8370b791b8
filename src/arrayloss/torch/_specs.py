"""The table of ``arrayloss.torch``: which module calls which core function, under which
names and defaults. Pure data: ``arrayloss.torch`` builds the classes from it, the docs print
it, and a test checks it against the catalogue (every loss has a module or a reason)."""

from __future__ import annotations

from ._base import ELEMENT_WEIGHT, Spec

__all__ = ["COMPOUNDS", "NOT_ADAPTED", "SPECS"]

_BOX = (("box_format", "xyxy"), ("eps", 1e-7))
_CLASS_W = {"weight": "class_weight"}
_ELEMENT_W = {"weight": ELEMENT_WEIGHT}  # multiplies forward's sample_weight
_OVERLAP = (("activation", None), ("include_background", True), ("per_image", True),
            ("smooth", 0.0), ("smooth_dr", None), ("average", "macro"), ("eps", 1e-7),
            ("weight", None), ("ignore_index", None))
_TVERSKY = (("alpha", 0.5), ("beta", 0.5))

SPECS: tuple[Spec, ...] = (
    # regression: elementwise, any shape
    Spec("L1Loss", "l1_loss", peer="torch.nn.L1Loss"),
    Spec("MSELoss", "mse_loss", peer="torch.nn.MSELoss"),
    Spec("SmoothL1Loss", "smooth_l1_loss", (("beta", 1.0),), peer="torch.nn.SmoothL1Loss"),
    Spec("HuberLoss", "huber_loss", (("delta", 1.0),), peer="torch.nn.HuberLoss"),
    Spec("TukeyBiweightLoss", "tukey_biweight_loss", (("c", 4.685), ("scale", "mad"))),
    Spec("LogCoshLoss", "log_cosh_loss", peer="keras.losses.LogCosh"),
    Spec("PoissonNLLLoss", "poisson_nll_loss", (("log_input", True), ("full", False),
                                                ("eps", 1e-8)),
         positional=("log_input", "full"), peer="torch.nn.PoissonNLLLoss"),
    Spec("GaussianNLLLoss", "gaussian_nll_loss", (("full", False), ("eps", 1e-6)),
         peer="torch.nn.GaussianNLLLoss"),
    Spec("MAPELoss", "mape_loss", (("eps", 1e-7), ("percent", True)),
         peer="keras.losses.MeanAbsolutePercentageError"),
    Spec("MSLELoss", "msle_loss", peer="keras.losses.MeanSquaredLogarithmicError"),
    # boxes: (..., 4), the box axis last as in torchvision
    Spec("IoULoss", "iou_loss", (("mode", "linear"), *_BOX),
         peer="1 - torchvision.ops.box_iou (diagonal)"),
    Spec("GIoULoss", "giou_loss", _BOX, peer="torchvision.ops.generalized_box_iou_loss"),
    Spec("DIoULoss", "diou_loss", _BOX, peer="torchvision.ops.distance_box_iou_loss"),
    Spec("CIoULoss", "ciou_loss", _BOX, peer="torchvision.ops.complete_box_iou_loss"),
    Spec("EIoULoss", "eiou_loss", _BOX),
    Spec("FocalEIoULoss", "focal_eiou_loss", (("gamma", 0.5), ("normalize", False), *_BOX)),
    Spec("CDIoULoss", "cdiou_loss", (("distance_weight", 1.0), *_BOX)),
    # binary: torch's `weight` of BCELoss is a per-element weight (not per class)
    Spec("BCELoss", "binary_cross_entropy",
         (("weight", None), ("pos_weight", None), ("label_smoothing", 0.0)),
         rename=_ELEMENT_W, buffers=("weight", "pos_weight"), positional=("weight",),
         peer="torch.nn.BCELoss"),
    Spec("BCEWithLogitsLoss", "binary_cross_entropy_with_logits",
         (("weight", None), ("pos_weight", None), ("label_smoothing", 0.0)),
         rename=_ELEMENT_W, buffers=("weight", "pos_weight"),
         positional=("weight",), peer="torch.nn.BCEWithLogitsLoss"),
    Spec("SigmoidFocalLoss", "sigmoid_focal_loss",
         (("alpha", 0.25), ("gamma", 2.0), ("pos_weight", None), ("label_smoothing", 0.0)),
         buffers=("pos_weight",),
         peer="kornia.losses.binary_focal_loss_with_logits"),
    Spec("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss", (("weight", None),),
         rename=_CLASS_W, buffers=("weight",), positional=("weight",), axis=1,
         peer="torch.nn.MultiLabelSoftMarginLoss"),
    # categorical: class axis 1, `weight` = class weights, ignore_index=-100 as torch
    Spec("EntropyLoss", "entropy", (("from_logits", False), ("base", None)), axis=1,
         peer="torch.distributions.Categorical(...).entropy()"),
    Spec("CrossEntropyLoss", "cross_entropy",
         (("weight", None), ("ignore_index", -100), ("label_smoothing", 0.0),
          ("from_logits", True)),
         rename=_CLASS_W, buffers=("weight",), positional=("weight",), axis=1,
         labels_only=("ignore_index",), peer="torch.nn.CrossEntropyLoss"),
    Spec("KLDivLoss", "kl_divergence", (("log_target", False),), peer="torch.nn.KLDivLoss"),
    Spec("SoftmaxFocalLoss", "softmax_focal_loss",
         (("gamma", 2.0), ("alpha", None), ("weight", None), ("ignore_index", -100),
          ("label_smoothing", 0.0)),
         rename=_CLASS_W, buffers=("alpha", "weight"), axis=1, labels_only=("ignore_index",),
         peer="kornia.losses.focal_loss"),
    Spec("GeneralizedKLDivLoss", "generalized_kl_divergence", (("log_target", False),), axis=1,
         peer="optax.losses.generalized_kl_divergence"),
    # classifier: as the cross-entropy modules
    Spec("NLLLoss", "nll_loss", (("weight", None), ("ignore_index", -100)), rename=_CLASS_W,
         buffers=("weight",), positional=("weight",), axis=1, peer="torch.nn.NLLLoss"),
    Spec("PolyCrossEntropyLoss", "poly_cross_entropy",
         (("epsilon", 2.0), ("weight", None), ("ignore_index", -100), ("label_smoothing", 0.0)),
         rename=_CLASS_W, buffers=("weight",), axis=1, labels_only=("ignore_index",),
         peer="optax.losses.poly_loss_cross_entropy"),
    Spec("GeneralizedCrossEntropyLoss", "generalized_cross_entropy",
         (("q", 0.5), ("weight", None), ("ignore_index", -100)), rename=_CLASS_W,
         buffers=("weight",), axis=1, peer="keras.losses.CategoricalGeneralizedCrossEntropy"),
    # torch's module owns the projection (`linear`, an nn.Linear) and takes (input, target)
    Spec("LinearCrossEntropyLoss", "linear_cross_entropy",
         (("in_features", None), ("num_classes", None), ("bias", False), ("weight", None),
          ("ignore_index", -100), ("label_smoothing", 0.0), ("chunk_size", None)),
         rename=_CLASS_W, buffers=("weight",), positional=("in_features", "num_classes"),
         labels_only=("ignore_index",), peer="torch.nn.LinearCrossEntropyLoss"),
    # margin
    Spec("HingeLoss", "hinge_loss", (("margin", 1.0),), peer="keras.losses.Hinge"),
    Spec("SquaredHingeLoss", "squared_hinge_loss", (("margin", 1.0),),
         peer="keras.losses.SquaredHinge"),
    Spec("RampLoss", "ramp_loss", (("s", -1.0),)),
    Spec("SoftMarginLoss", "soft_margin_loss", peer="torch.nn.SoftMarginLoss"),
    # multi-hot targets of pred's shape (torch's module takes -1-padded index lists)
    Spec("MultiLabelMarginLoss", "multilabel_margin_loss", (("margin", 1.0),), axis=1,
         peer="torch.nn.MultiLabelMarginLoss"),
    Spec("MultiClassHingeLoss", "multiclass_hinge_loss",
         (("margin", 1.0), ("mode", "crammer_singer"), ("squared", False),
          ("ignore_index", None), ("weight", None)), rename=_CLASS_W, buffers=("weight",),
         axis=1, labels_only=("ignore_index",)),
    Spec("MultiMarginLoss", "multiclass_hinge_loss",
         (("p", 1), ("margin", 1.0), ("weight", None)), buffers=("weight",), axis=1,
         positional=("p", "margin", "weight"), peer="torch.nn.MultiMarginLoss"),
    # sparsemax
    Spec("SparsemaxLoss", "sparsemax_loss", peer="optax.losses.sparsemax_loss"),
    Spec("MultiClassSparsemaxLoss", "multiclass_sparsemax_loss",
         (("weight", None), ("ignore_index", -100)), rename=_CLASS_W, buffers=("weight",),
         positional=("weight",), axis=1, peer="optax.losses.multiclass_sparsemax_loss"),
    # embedding
    Spec("CenterLoss", "center_loss", (("num_classes", None), ("feat_dim", None),
                                       ("update", "sgd"), ("alpha", 0.5),
                                       ("ignore_index", None)),
         positional=("num_classes", "feat_dim")),
    # pairs and triplets: forward(input1, input2, target) / (anchor, positive, negative)
    Spec("CosineDistanceLoss", "cosine_distance_loss", (("eps", 1e-8),), axis=1,
         peer="1 - torch.nn.CosineSimilarity"),
    Spec("CosineEmbeddingLoss", "cosine_embedding_loss", (("margin", 0.0), ("eps", 1e-8)),
         axis=-1, positional=("margin",), peer="torch.nn.CosineEmbeddingLoss"),
    Spec("MarginRankingLoss", "margin_ranking_loss", (("margin", 0.0),), positional=("margin",),
         peer="torch.nn.MarginRankingLoss"),
    Spec("HingeEmbeddingLoss", "hinge_embedding_loss", (("margin", 1.0),),
         positional=("margin",), peer="torch.nn.HingeEmbeddingLoss"),
    Spec("TripletMarginLoss", "triplet_margin_loss",
         (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False), ("distance", None)),
         axis=-1, positional=("margin", "p", "eps", "swap"), peer="torch.nn.TripletMarginLoss"),
    Spec("TripletMarginWithDistanceLoss", "triplet_margin_loss",
         (("distance_function", None), ("margin", 1.0), ("swap", False), ("p", 2.0),
          ("eps", 1e-6)), rename={"distance_function": "distance"}, axis=-1,
         peer="torch.nn.TripletMarginWithDistanceLoss"),
    # contrastive: embeddings (N, D) and group labels (N,); CircleLoss and RankingSoftmaxLoss
    # take their per-call arrays (reference set; item mask and weights) in forward
    Spec("NTXentLoss", "ntxent_loss", (("temperature", 0.07), ("eps", 1e-8)),
         peer="monai.losses.ContrastiveLoss (two views)"),
    Spec("CircleLoss", "circle_loss", (("gamma", 80.0), ("margin", 0.4), ("normalize", True),
                                       ("remove_diagonal", True), ("detach_weights", False)),
         peer="keras.losses.Circle"),
    Spec("RankingSoftmaxLoss", "ranking_softmax_loss", (("axis", -1),),
         peer="optax.losses.ranking_softmax_loss"),
    # overlap: class axis 1, `weight` = class weights (MONAI's name)
    Spec("DiceLoss", "dice_loss", (*_OVERLAP, ("squared", False), ("log", False)),
         rename=_CLASS_W, buffers=("weight",), axis=1, peer="monai.losses.DiceLoss"),
    Spec("JaccardLoss", "jaccard_loss", (*_OVERLAP, ("log", False)), rename=_CLASS_W,
         buffers=("weight",), axis=1, peer="monai.losses.DiceLoss(jaccard=True)"),
    Spec("TverskyLoss", "tversky_loss", (*_TVERSKY, *_OVERLAP), rename=_CLASS_W,
         buffers=("weight",), axis=1, peer="monai.losses.TverskyLoss"),
    Spec("FocalTverskyLoss", "focal_tversky_loss", (*_TVERSKY, ("gamma", 0.75), *_OVERLAP),
         rename=_CLASS_W, buffers=("weight",), axis=1),
    Spec("GeneralizedDiceLoss", "generalized_dice_loss",
         (("activation", None), ("weight_type", "square"), ("include_background", True),
          ("per_image", True), ("smooth", 0.0), ("smooth_dr", None), ("eps", 1e-7),
          ("ignore_index", None)), axis=1, peer="monai.losses.GeneralizedDiceLoss"),
    Spec("LovaszHingeLoss", "lovasz_hinge_loss", (("per_image", True), ("ignore_index", None)),
         peer="kornia.losses.lovasz_hinge_loss"),
    # sequence: torch's forward (log_probs (T, N, C), targets, input_lengths, target_lengths)
    Spec("CTCLoss", "ctc_loss", (("blank", 0), ("zero_infinity", False)),
         positional=("blank",), peer="torch.nn.CTCLoss"),
    Spec("LovaszSoftmaxLoss", "lovasz_softmax_loss",
         (("classes", "present"), ("per_image", False), ("ignore_index", None),
          ("activation", None), ("weight", None)), rename=_CLASS_W, buffers=("weight",),
         axis=1, peer="kornia.losses.lovasz_softmax_loss"),
)

_COMPOUND = (("activation", "softmax"), ("include_background", True), ("squared", False),
             ("log", False), ("per_image", True), ("smooth", 0.0), ("smooth_dr", None),
             ("average", "macro"), ("eps", 1e-7), ("weight", None), ("ignore_index", -100))

#: the compounds: Dice plus a second term, each one core function (``dice_ce_loss``,
#: ``dice_focal_loss``); ``weight`` is MONAI's class weight, ``sample_weight`` per image
COMPOUNDS: tuple[Spec, ...] = (
    Spec("DiceCELoss", "dice_ce_loss",
         (*_COMPOUND, ("label_smoothing", 0.0), ("lambda_dice", 1.0), ("lambda_ce", 1.0)),
         rename=_CLASS_W, buffers=("weight",), axis=1, labels_only=("ignore_index",),
         peer="monai.losses.DiceCELoss"),
    Spec("DiceFocalLoss", "dice_focal_loss",
         (*_COMPOUND, ("gamma", 2.0), ("alpha", None), ("focal", None), ("lambda_dice", 1.0),
          ("lambda_focal", 1.0)),
         rename=_CLASS_W, buffers=("weight", "alpha"), axis=1, labels_only=("ignore_index",),
         peer="monai.losses.DiceFocalLoss"),
)

#: registered functions without a module, and why
NOT_ADAPTED: dict[str, str] = {
    "box_iou": "a metric, not a loss (no reduction): call arrayloss.box_iou on tensors",
    "box_convert": "a coordinate conversion, not a loss: call arrayloss.box_convert",
    "update_centers": "the centre update rule of CenterLoss(update='ema'), which applies it "
                      "in forward; the function is arrayloss.update_centers",
}
