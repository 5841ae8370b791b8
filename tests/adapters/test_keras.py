"""``arrayloss.keras``: the Keras 3 adapter classes.

- every adapter equals its arrayloss function on the catalogue's cases (argument order,
  label casts, per-sample shape), for every Keras reduction, with ``sample_weight``;
- every adapter with a Keras peer equals ``keras.losses.<peer>`` (values, reductions,
  ``sample_weight``, masks): the largest difference per class is printed (``-s``);
- ``compile`` + ``fit`` on the JAX and torch backends gives the epoch losses of the same model
  trained with Keras's own loss (``_keras_fit.py``, one subprocess per backend);
- ``get_config``/``from_config`` and ``model.save``/``load_model`` round-trip;
- other Keras backends raise, every catalogue record is adapted or listed in ``NOT_ADAPTED``,
  every class documents its function, conventions and peer, ``import arrayloss`` stays
  keras-free.

The session runs Keras on its NumPy backend (``tests/conftest.py``).
"""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from conftest import keras_or_skip

keras = keras_or_skip()
import arrayloss.keras as ak  # noqa: E402
from arrayloss.testing.adapters import (  # noqa: E402
    keras_case,
    keras_class_for,
    keras_reduce,
    per_image,
)

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REDUCTIONS = (None, "sum", "sum_over_batch_size", "mean", "mean_with_sample_weight")


def _set_mask(x: Any, mask: Any) -> None:
    from keras.src.backend import set_keras_mask

    set_keras_mask(x, mask)


# ---------------------------------------------------------------------------------------
# 1. every adapter equals its arrayloss function on the catalogue's cases

_SPECS = {s.name: s for s in ak.SPECS}


def _core_cases() -> list[Any]:
    out = []
    for rec in catalog.records():
        for case in rec.cases:
            args, _ = case.inputs()
            name = keras_class_for(rec, args[1]) if len(args) == 2 else None
            if name is not None and keras_case(_SPECS[name], rec, case) is not None:
                out.append(pytest.param(name, rec.name, case.id,
                                        id=f"{name}-{rec.name}-{case.id}"))
    return out


CORE_CASES = _core_cases()


def test_core_cases_cover_every_adapter() -> None:
    assert {p.values[0] for p in CORE_CASES} == set(ak.CLASSES)


@pytest.mark.parametrize(("name", "record", "case_id"), CORE_CASES)
def test_adapter_equals_core(name: str, record: str, case_id: str) -> None:
    rec = catalog.get(record)
    case = next(c for c in rec.cases if c.id == case_id)
    found = keras_case(_SPECS[name], rec, case)
    assert found is not None
    options, y_true, y_pred, want, mask = found
    pred = case.inputs()[0][0]
    rng = np.random.default_rng(3)
    sw = rng.uniform(0.5, 2.0, size=want.shape if want.ndim else (pred.shape[0],))
    cls = ak.CLASSES[name]
    # float64 inputs (keras.ops.mean on the NumPy backend returns float32, hence rtol 1e-6)
    for reduction in REDUCTIONS:
        loss = cls(**options, reduction=reduction, dtype="float64")
        for weight in (None, sw):
            got = loss(y_true, y_pred, sample_weight=weight)
            np.testing.assert_allclose(np.asarray(got, np.float64),
                                       keras_reduce(want, weight, mask, reduction),
                                       rtol=1e-6, atol=1e-7, err_msg=f"{reduction}")


def test_sum_over_batch_size_is_the_core_mean_with_per_sample_weights() -> None:
    """Keras's default reduction of an elementwise adapter is arrayloss's ``"mean"`` with the
    sample weights broadcast along the last axis; ``"mean_with_sample_weight"`` is
    ``"weighted_mean"`` (computed by arrayloss's own reductions, not by the helper above)."""
    rng = np.random.default_rng(0)
    p, t, sw = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.uniform(size=5)
    for cls, fn in ((ak.MeanSquaredError, al.mse_loss), (ak.Huber, al.huber_loss),
                    (ak.LogCosh, al.log_cosh_loss)):
        got = cls(dtype="float64")(t, p, sample_weight=sw)
        np.testing.assert_allclose(got, fn(p, t, weight=sw[:, None]), rtol=1e-6)
        got = cls(dtype="float64", reduction="mean_with_sample_weight")(t, p, sample_weight=sw)
        np.testing.assert_allclose(got, fn(p, t, weight=sw[:, None], reduction="weighted_mean"),
                                   rtol=1e-6)


def test_argument_order_is_y_true_y_pred() -> None:
    """Swapping the arguments of an asymmetric loss changes (or rejects) the value."""
    y_true, y_pred = np.array([[1.0, 0.0, 1.0]]), np.array([[0.9, 0.2, 0.6]])
    want = al.binary_cross_entropy(y_pred, y_true)
    assert float(ak.BinaryCrossentropy()(y_true, y_pred)) == pytest.approx(float(want))
    assert float(al.binary_cross_entropy(y_true, y_pred)) != pytest.approx(float(want))


def test_sparse_labels_with_a_trailing_axis_and_ignored_labels_are_masked() -> None:
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(6, 4)), np.array([0, 3, -1, 2, -1, 1])
    want = al.cross_entropy(z, y, ignore_index=-1)  # mean over the non-ignored labels
    loss = ak.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, dtype="float64")
    np.testing.assert_allclose(loss(y[:, None].astype(float), z), want, rtol=1e-6)
    np.testing.assert_allclose(loss(y.astype(float), z), want, rtol=1e-6)


# ---------------------------------------------------------------------------------------
# 2. every adapter with a Keras peer equals Keras's own loss

def _u(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(0.02, 0.98, size=shape)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _peer_cases() -> dict[str, list[tuple[str, Any, Any, np.ndarray, np.ndarray]]]:
    """class -> [(id, arrayloss options, keras options, y_true, y_pred)]."""
    r = np.random.default_rng(7)
    reg = (r.normal(size=(5, 4)), r.normal(size=(5, 4)))
    bits, probs, logits = r.integers(0, 2, (5, 4)).astype(float), _u(r, 5, 4), \
        3 * r.normal(size=(5, 4))
    onehot, scores = np.eye(4)[r.integers(0, 4, 6)], 2 * r.normal(size=(6, 4))
    seg_p, seg_t = _u(r, 3, 4, 4, 1), r.integers(0, 2, (3, 4, 4, 1)).astype(float)
    img = (np.eye(3)[r.integers(0, 3, (2, 3, 3))], _softmax(r.normal(size=(2, 3, 3, 3))))
    labels = r.integers(0, 4, 6).astype(float)
    with_ignored = labels.copy()
    with_ignored[[1, 4]] = -1
    regression = [("random", {}, {}, *reg), ("N-vs-Nx1", {}, {}, reg[0][:, 0], reg[1][:, :1])]
    counts, rates = r.poisson(2.0, (5, 4)).astype(float), r.uniform(0.0, 4.0, (5, 4))
    rates[0, :2] = 0.0  # a zero rate: y log(eps)
    nonneg = (r.uniform(0.0, 3.0, (5, 4)), r.uniform(0.0, 3.0, (5, 4)))
    emb = r.normal(size=(8, 3))
    emb /= np.linalg.norm(emb, axis=-1, keepdims=True)  # Keras's circle takes unit vectors
    groups = r.integers(0, 3, 8).astype(float)
    return {
        "MeanSquaredError": regression,
        "MeanAbsoluteError": regression,
        "Huber": [*regression, ("delta", {"delta": 0.3}, {"delta": 0.3}, *reg)],
        "LogCosh": regression,
        "Poisson": [("rates", {}, {}, counts, rates),
                    ("N-vs-Nx1", {}, {}, counts[:, 0], rates[:, :1])],
        "MeanAbsolutePercentageError": regression,
        "MeanSquaredLogarithmicError": [("random", {}, {}, *nonneg),
                                        ("zeros", {}, {}, 0 * nonneg[0], nonneg[1])],
        "BinaryCrossentropy": [
            ("probs", {}, {}, bits, probs),
            ("soft-smoothing", {"label_smoothing": 0.2}, {"label_smoothing": 0.2}, probs,
             _u(r, 5, 4)),
            ("logits", {"from_logits": True}, {"from_logits": True}, bits, logits)],
        "BinaryFocalCrossentropy": [
            ("probs", {}, {}, bits, probs),
            ("logits-balanced", {"from_logits": True, "apply_class_balancing": True,
                                 "alpha": 0.4, "gamma": 1.5},
             {"from_logits": True, "apply_class_balancing": True, "alpha": 0.4,
              "gamma": 1.5}, bits, logits)],
        "CategoricalCrossentropy": [
            ("probs", {}, {}, onehot, _softmax(scores)),
            ("logits-smoothing", {"from_logits": True, "label_smoothing": 0.1},
             {"from_logits": True, "label_smoothing": 0.1}, onehot, scores),
            ("segmentation", {}, {}, *img)],
        "SparseCategoricalCrossentropy": [
            ("probs", {}, {}, labels, _softmax(scores)),
            ("logits-Nx1", {"from_logits": True}, {"from_logits": True}, labels[:, None],
             scores),
            ("ignore_class", {"from_logits": True, "ignore_class": -1},
             {"from_logits": True, "ignore_class": -1}, with_ignored, scores)],
        "KLDivergence": [("probs", {}, {}, _softmax(r.normal(size=(6, 4))),
                          _softmax(scores))],
        "CategoricalFocalCrossentropy": [
            ("probs", {}, {}, onehot, _softmax(scores)),
            ("logits", {"from_logits": True, "alpha": 0.5, "gamma": 1.0},
             {"from_logits": True, "alpha": 0.5, "gamma": 1.0}, onehot, scores)],
        "CategoricalGeneralizedCrossEntropy": [
            ("probs", {}, {}, labels, _softmax(scores)),
            # (N,) labels only: Keras's own loss broadcasts (N, 1) labels to an (N, N) loss
            ("q-0.7", {"q": 0.7}, {"q": 0.7}, labels, _softmax(2 * scores))],
        "Hinge": [("01", {}, {}, bits, logits), ("pm1", {}, {}, 2 * bits - 1, logits)],
        "SquaredHinge": [("01", {}, {}, bits, logits), ("pm1", {}, {}, 2 * bits - 1, logits)],
        "Circle": [("unit", {}, {}, groups, emb),
                   ("gamma-margin", {"gamma": 4.0, "margin": 0.25},
                    {"gamma": 4.0, "margin": 0.25}, groups[:, None], emb),
                   ("diagonal-kept", {"gamma": 8.0, "remove_diagonal": False},
                    {"gamma": 8.0, "remove_diagonal": False}, groups, emb)],
        "Dice": [("pooled", {}, {}, seg_t, seg_p),
                 ("per_image", {"per_image": True}, {"axis": (1, 2, 3)}, seg_t, seg_p)],
        "Tversky": [("pooled", {"alpha": 0.7, "beta": 0.3}, {"alpha": 0.7, "beta": 0.3}, seg_t,
                     seg_p),
                    ("per_image", {"alpha": 0.2, "beta": 0.8, "per_image": True},
                     {"alpha": 0.2, "beta": 0.8, "axis": (1, 2, 3)}, seg_t, seg_p)],
    }


PEER_CASES = _peer_cases()


def test_peer_table_matches_the_specs() -> None:
    assert set(PEER_CASES) == {s.name for s in ak.SPECS if s.peer}


def _compare(ours: Any, theirs: Any, y_true: np.ndarray, y_pred: np.ndarray, sw: Any,
             mask: Any) -> float:
    yt, yp = y_true.astype("float32"), y_pred.astype("float32")
    if mask is not None:
        _set_mask(yp, mask)
    a = np.asarray(ours(yt, yp, sample_weight=sw), np.float64)
    b = np.asarray(theirs(yt, yp, sample_weight=sw), np.float64)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    return float(np.max(np.abs(a - b), initial=0.0))


@pytest.mark.parametrize("name", sorted(PEER_CASES))
def test_adapter_equals_keras_peer(name: str) -> None:
    """Values, every reduction, sample_weight and masks of y_pred against keras.losses."""
    spec = _SPECS[name]
    worst = 0.0
    for _cid, ours_kw, keras_kw, y_true, y_pred in PEER_CASES[name]:
        per_sample = ak.CLASSES[name](**ours_kw, reduction=None)(y_true.astype("float32"),
                                                                  y_pred.astype("float32"))
        shape = np.shape(per_sample) or (y_pred.shape[0],)
        rng = np.random.default_rng(1)
        sw = rng.uniform(0.2, 2.0, size=shape).astype("float32")
        mask = rng.uniform(size=shape) > 0.3
        mask[0] = True
        for reduction in REDUCTIONS:
            ours = ak.CLASSES[name](**ours_kw, reduction=reduction)
            theirs = getattr(keras.losses, spec.peer)(**keras_kw, reduction=reduction)
            for weight, m in ((None, None), (sw, None), (None, mask), (sw, mask)):
                worst = max(worst, _compare(ours, theirs, y_true, y_pred, weight, m))
    print(f"\n{name} vs keras.losses.{spec.peer}: largest difference {worst:.3g}")


def test_multiclass_hinge_is_categorical_hinge_where_a_wrong_score_is_positive() -> None:
    """``MulticlassHinge`` has no Keras name: ``CategoricalHinge`` lets the true class compete
    with the value 0; they agree when some wrong-class score is >= 0 and differ otherwise."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 6)
    onehot = np.eye(4)[y].astype("float32")
    scores = rng.uniform(0.0, 2.0, size=(6, 4)).astype("float32")
    ours = ak.MulticlassHinge()(y.astype("float32"), scores)
    np.testing.assert_allclose(ours, keras.losses.CategoricalHinge()(onehot, scores), rtol=1e-6)
    neg = -scores - 1.0
    assert float(ak.MulticlassHinge()(y.astype("float32"), neg)) != pytest.approx(
        float(keras.losses.CategoricalHinge()(onehot, neg)))


def test_cosine_distance_is_one_plus_keras_cosine_similarity() -> None:
    """Keras's ``CosineSimilarity`` is ``-cos``: ``CosineDistance`` is it plus 1 per sample
    and in the unweighted mean (the sign matters; a weighted sum differs by the weights)."""
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    y_pred[2] = 0.0  # a zero vector: cosine 0 in both
    for reduction, extra in ((None, 1.0), ("sum_over_batch_size", 1.0)):
        ours = ak.CosineDistance(reduction=reduction, dtype="float64")(y_true, y_pred)
        theirs = keras.losses.CosineSimilarity(reduction=reduction)(y_true, y_pred)
        np.testing.assert_allclose(np.asarray(ours, np.float64),
                                   np.asarray(theirs, np.float64) + extra, rtol=1e-6, atol=1e-6)
    assert float(ak.CosineDistance()(y_true, y_true)) == pytest.approx(0.0, abs=1e-6)


def test_sparse_focal_equals_keras_categorical_focal_on_one_hot() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, (2, 3, 3))
    p = _softmax(rng.normal(size=(2, 3, 3, 4))).astype("float32")
    ours = ak.SparseCategoricalFocalCrossentropy()(y.astype("float32"), p)
    theirs = keras.losses.CategoricalFocalCrossentropy()(np.eye(4)[y].astype("float32"), p)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


# ---------------------------------------------------------------------------------------
# 3. compile + fit on the JAX and torch backends, against Keras's own loss

@pytest.fixture(scope="module")
def fits() -> dict[str, subprocess.Popen]:
    """Both backends' training runs, started together (one subprocess each)."""
    procs = {}
    for backend in ("jax", "torch"):
        env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu",
               "CUDA_VISIBLE_DEVICES": ""}
        procs[backend] = subprocess.Popen(
            [sys.executable, str(HERE / "_keras_fit.py")], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
    yield procs
    for p in procs.values():
        if p.poll() is None:
            p.kill()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_fit_matches_keras_loss(fits: dict[str, subprocess.Popen], backend: str) -> None:
    out, err = fits[backend].communicate(timeout=600)
    assert fits[backend].returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result.pop("backend") == backend
    names = {s.peer for s in ak.SPECS if s.peer}
    compared = {k.split("(")[0].split("~")[-1] for k, v in result.items() if v["keras"]}
    assert compared == names
    lines = []
    for case, hist in result.items():
        a = np.array(hist["arrayloss"])
        assert len(a) == 3 and np.all(np.isfinite(a)), case
        assert a[-1] < a[0], case  # it trains
        if hist["keras"] is None:  # no Keras peer: runs under the backend's trainer
            continue
        b = np.array(hist["keras"])
        np.testing.assert_allclose(a, b, rtol=1e-5, err_msg=case)
        lines.append(f"{case}: {np.max(np.abs(a - b) / np.abs(b)):.2g}")
    print(f"\n[{backend}] largest relative difference of the epoch losses:\n  "
          + "\n  ".join(lines))


# ---------------------------------------------------------------------------------------
# 4. configuration and saving

NON_DEFAULT = {"axis": 1, "per_image": True, "from_logits": True, "delta": 0.5, "beta": 0.3,
               "margin": 0.5, "gamma": 1.5, "box_format": "cxcywh", "c": 3.0, "s": -0.5,
               "classes": "all", "ignore_index": 255, "ignore_class": 255}


@pytest.mark.parametrize("name", sorted(ak.CLASSES))
def test_config_round_trip(name: str) -> None:
    cls = ak.CLASSES[name]
    opts = {k: v for k, v in NON_DEFAULT.items() if k in cls.spec.options}
    loss = cls(**opts, reduction="sum", name="my_loss")
    config = loss.get_config()
    assert json.loads(json.dumps(config)) == config
    again = cls.from_config(config)
    assert again.options == loss.options and again.reduction == "sum"
    assert again.name == "my_loss"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is cls and restored.options == loss.options
    assert repr(loss).startswith(f"{name}(")


def test_model_save_and_load_keep_the_loss(tmp_path: pathlib.Path) -> None:
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss=ak.Huber(delta=0.25, reduction="sum"))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.loss, ak.Huber)
    assert loaded.loss.options == {"delta": 0.25} and loaded.loss.reduction == "sum"
    y = np.ones((2, 2), "float32")
    assert float(loaded.loss(y, 0 * y)) == pytest.approx(2 * 2 * (0.25 - 0.25**2 / 2) / 2)


def test_unknown_options_and_keras_axis_raise() -> None:
    with pytest.raises(TypeError, match="unknown option"):
        ak.Huber(beta=1.0)
    with pytest.raises(TypeError, match="per_image=True"):
        ak.Dice(axis=(1, 2, 3))


# ---------------------------------------------------------------------------------------
# 5. backends, coverage, documentation, lazy import

def test_other_backends_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    loss = ak.MeanSquaredError()
    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    for make in (ak.MeanSquaredError, lambda: loss(np.ones((2, 2)), np.zeros((2, 2)))):
        with pytest.raises(RuntimeError, match="tensorflow") as info:
            make()
        assert all(b in str(info.value) for b in ("'jax'", "'torch'", "'numpy'"))


def test_every_record_is_adapted_or_documented() -> None:
    names = {r.name for r in catalog.records()} | {"box_convert"}
    adapted = set(ak.adapted())
    assert adapted <= names
    assert not adapted & set(ak.NOT_ADAPTED)
    assert adapted | set(ak.NOT_ADAPTED) == names, names - adapted - set(ak.NOT_ADAPTED)
    assert all(len(reason) > 20 for reason in ak.NOT_ADAPTED.values())


@pytest.mark.parametrize("name", sorted(ak.CLASSES))
def test_class_docstrings(name: str) -> None:
    cls = ak.CLASSES[name]
    doc = cls.__doc__ or ""
    for fn in cls.spec.core:
        assert f"arrayloss.{fn}" in doc
    assert "y_true, y_pred" in doc and "Keras peer:" in doc
    if cls.spec.peer:
        assert f"keras.losses.{cls.spec.peer}" in doc
        assert hasattr(keras.losses, cls.spec.peer)
    assert list(inspect.signature(cls).parameters)[-3:] == ["reduction", "name", "dtype"]
    assert issubclass(cls, keras.losses.Loss)
    assert keras.saving.get_registered_name(cls) == f"arrayloss>{name}"


def test_import_arrayloss_does_not_import_keras() -> None:
    code = "import sys, arrayloss; assert 'keras' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "ok"


def test_lovasz_softmax_per_image_present_classes() -> None:
    """``per_image=True, classes="present"``: each image's mean over the classes present in
    its non-ignored labels (arrayloss on that image alone)."""
    rng = np.random.default_rng(2)
    p = _softmax(rng.normal(size=(3, 4, 4, 5)))
    y = rng.integers(0, 3, size=(3, 4, 4))
    y[1, :2] = 255
    y[2] = 4  # one class only
    got = ak.LovaszSoftmax(per_image=True, ignore_index=255, reduction=None,
                           dtype="float64")(y.astype(float), p)
    want = per_image(al.lovasz_softmax_loss, p, y, {"per_image": True, "ignore_index": 255})
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_the_keras_guide_lists_every_class() -> None:
    guide = (ROOT / "docs" / "guide-keras.md").read_text()
    assert [s.name for s in ak.SPECS if f"`{s.name}`" not in guide] == []
