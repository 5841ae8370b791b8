"""Train the same small model with an ``arrayloss.keras`` loss and with Keras's own loss.

Run as ``KERAS_BACKEND=jax python tests/adapters/_keras_fit.py`` (or ``torch``) by
``tests/adapters/test_keras.py``: for every case, one Dense model is built with fixed seeds,
cloned with the same weights, and both copies are fitted for a few epochs on the same tiny data
(no shuffling, plain SGD, CPU). Prints one JSON object: case -> the two per-epoch loss
histories, and the backend.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras
import numpy as np

import arrayloss.keras as ak

L = keras.losses
N, D, EPOCHS, BATCH = 48, 6, 3, 16


def _data(kind: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N, D)).astype("float32")
    if kind == "regression":
        y = rng.normal(size=(N, k))
    elif kind == "binary":
        y = rng.integers(0, 2, size=(N, k))
    elif kind == "onehot":
        y = np.eye(k)[rng.integers(0, k, size=N)]
    elif kind == "sparse":
        y = rng.integers(0, k, size=(N, 1))
    elif kind == "sparse-flat":  # (N,) labels, for Keras losses that mishandle (N, 1)
        y = rng.integers(0, k, size=N)
    elif kind == "counts":
        y = rng.poisson(2.0, size=(N, k))
    elif kind == "positive":
        y = rng.uniform(0.5, 3.0, size=(N, k))
    elif kind == "large":  # MAPE's gradient is 100 / |y|: SGD at rate 0.1 needs |y| >> 1
        y = rng.uniform(5.0, 15.0, size=(N, k))
    elif kind == "soft":
        y = rng.dirichlet(np.ones(k), size=N)
    else:
        raise ValueError(kind)
    return x, y.astype("float32")


# (case, arrayloss loss, Keras loss, data kind, output units, output activation)
CASES = [
    ("MeanSquaredError", ak.MeanSquaredError(), L.MeanSquaredError(), "regression", 3, None),
    ("MeanAbsoluteError", ak.MeanAbsoluteError(), L.MeanAbsoluteError(), "regression", 3,
     None),
    ("Huber", ak.Huber(delta=0.5), L.Huber(delta=0.5), "regression", 3, None),
    ("LogCosh", ak.LogCosh(), L.LogCosh(), "regression", 3, None),
    ("Poisson", ak.Poisson(), L.Poisson(), "counts", 3, "softplus"),
    ("MeanAbsolutePercentageError", ak.MeanAbsolutePercentageError(),
     L.MeanAbsolutePercentageError(), "large", 3, None),
    ("MeanSquaredLogarithmicError", ak.MeanSquaredLogarithmicError(),
     L.MeanSquaredLogarithmicError(), "positive", 3, "softplus"),
    ("BinaryCrossentropy", ak.BinaryCrossentropy(), L.BinaryCrossentropy(), "binary", 3,
     "sigmoid"),
    ("BinaryCrossentropy(from_logits)", ak.BinaryCrossentropy(from_logits=True),
     L.BinaryCrossentropy(from_logits=True), "binary", 3, None),
    ("BinaryFocalCrossentropy", ak.BinaryFocalCrossentropy(gamma=1.5),
     L.BinaryFocalCrossentropy(gamma=1.5), "binary", 3, "sigmoid"),
    ("BinaryFocalCrossentropy(from_logits, balanced)",
     ak.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True, alpha=0.3),
     L.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True, alpha=0.3),
     "binary", 3, None),
    ("CategoricalCrossentropy", ak.CategoricalCrossentropy(), L.CategoricalCrossentropy(),
     "onehot", 4, "softmax"),
    ("CategoricalCrossentropy(from_logits, smoothing)",
     ak.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
     L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), "onehot", 4, None),
    ("SparseCategoricalCrossentropy", ak.SparseCategoricalCrossentropy(),
     L.SparseCategoricalCrossentropy(), "sparse", 4, "softmax"),
    ("SparseCategoricalCrossentropy(from_logits)",
     ak.SparseCategoricalCrossentropy(from_logits=True),
     L.SparseCategoricalCrossentropy(from_logits=True), "sparse", 4, None),
    ("KLDivergence", ak.KLDivergence(), L.KLDivergence(), "soft", 4, "softmax"),
    ("CategoricalFocalCrossentropy", ak.CategoricalFocalCrossentropy(),
     L.CategoricalFocalCrossentropy(), "onehot", 4, "softmax"),
    ("CategoricalFocalCrossentropy(from_logits)",
     ak.CategoricalFocalCrossentropy(from_logits=True, alpha=0.5, gamma=1.0),
     L.CategoricalFocalCrossentropy(from_logits=True, alpha=0.5, gamma=1.0), "onehot", 4,
     None),
    ("Hinge", ak.Hinge(), L.Hinge(), "binary", 3, None),
    ("SquaredHinge", ak.SquaredHinge(), L.SquaredHinge(), "binary", 3, None),
    ("Dice", ak.Dice(), L.Dice(), "binary", 5, "sigmoid"),
    ("Dice(per_image)", ak.Dice(per_image=True), L.Dice(axis=(1,)), "binary", 5, "sigmoid"),
    ("Tversky", ak.Tversky(alpha=0.7, beta=0.3), L.Tversky(alpha=0.7, beta=0.3), "binary", 5,
     "sigmoid"),
    ("CategoricalGeneralizedCrossEntropy", ak.CategoricalGeneralizedCrossEntropy(q=0.7),
     L.CategoricalGeneralizedCrossEntropy(q=0.7), "sparse-flat", 4, "softmax"),
    # unit-norm embeddings (Keras's circle expects them) of 4 groups
    ("Circle", ak.Circle(gamma=4.0), L.Circle(gamma=4.0), "sparse-flat", 4, "unit"),
    # integer labels against Keras's loss on the one-hot labels
    ("SparseCategoricalFocalCrossentropy~CategoricalFocalCrossentropy",
     ak.SparseCategoricalFocalCrossentropy(), L.CategoricalFocalCrossentropy(), "sparse", 4,
     "softmax"),
]

# no Keras peer: they must train (finite, decreasing epoch losses) on the backend
RUNS = [
    ("MulticlassHinge", ak.MulticlassHinge(), "sparse", 4, None),
    ("SparseCategoricalPolyCrossentropy", ak.SparseCategoricalPolyCrossentropy(from_logits=True),
     "sparse", 4, None),
    ("Dice(axis=-1, sparse labels)", ak.Dice(axis=-1, per_image=True), "sparse", 4,
     "softmax"),
    ("LovaszSoftmax(per_image)", ak.LovaszSoftmax(per_image=True), "sparse", 4, "softmax"),
    ("LovaszHinge", ak.LovaszHinge(), "binary", 5, None),
    ("FocalTversky", ak.FocalTversky(), "binary", 5, "sigmoid"),
    ("SmoothL1", ak.SmoothL1(beta=0.5), "regression", 3, None),
]


@keras.saving.register_keras_serializable(package="arrayloss_tests")
def _unit(x: object) -> object:
    """Unit-norm rows: the embeddings Keras's circle expects (clone_model serialises it)."""
    return keras.ops.normalize(x, axis=-1)


def _model(units: int, activation: str | None) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((D,))
    h = keras.layers.Dense(8, activation="tanh")(inputs)
    act = _unit if activation == "unit" else activation
    return keras.Model(inputs, keras.layers.Dense(units, activation=act)(h))


def _history(model: keras.Model, loss: object, x: np.ndarray, y: np.ndarray) -> list[float]:
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss)
    hist = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    return [float(v) for v in hist.history["loss"]]


def main() -> None:
    only = set(sys.argv[1:])
    out: dict[str, object] = {"backend": keras.backend.backend()}
    for name, ours, theirs, kind, units, act in CASES:
        if only and name not in only:
            continue
        x, y = _data(kind, units)
        base = _model(units, act)
        weights = base.get_weights()
        twin = keras.models.clone_model(base)
        twin.set_weights(weights)
        y_keras = np.eye(units, dtype="float32")[y[:, 0].astype(int)] if "~" in name else y
        out[name] = {"arrayloss": _history(base, ours, x, y),
                     "keras": _history(twin, theirs, x, y_keras)}
    for name, ours, kind, units, act in RUNS:
        if only and name not in only:
            continue
        x, y = _data(kind, units)
        out[name] = {"arrayloss": _history(_model(units, act), ours, x, y), "keras": None}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
