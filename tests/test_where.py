"""The ``where=`` mask of every reducing loss, on every CPU backend.

False entries give 0 in ``"none"``, add nothing to ``"sum"`` and leave the count of
``"mean"`` and ``"weighted_mean"`` (optax's ``where=``, Keras masks), unlike ``weight=0``
which keeps them in the count. The class-axis form (``cross_entropy`` and the softmax losses)
is checked against optax's ``where``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from arrayloss.testing import backends
from conftest import first_plain_case, require_backend, require_module, torch_or_skip

REDUCING = [pytest.param(r, id=r.name) for r in catalog.records() if r.reduces]
# torch:compile is one compile per loss: its row is the test below on a few losses
BACKEND_IDS = ["numpy", "array_api_strict", "torch", "jax", "dask"]


def _mask(shape: tuple[int, ...], seed: int = 5) -> np.ndarray:
    keep = np.random.default_rng(seed).random(shape) < 0.6
    if keep.size > 1:  # both kinds of entry
        keep.flat[0], keep.flat[-1] = True, False
    return keep


@pytest.mark.parametrize("backend_id", BACKEND_IDS)
@pytest.mark.parametrize("record", REDUCING)
def test_where_leaves_the_count(backend_id: str, record: catalog.Record) -> None:
    backend = require_backend(backends.by_id(backend_id))
    reason = record.unsupported.get(backend.id) or record.unsupported.get(backend.module)
    if reason:
        pytest.xfail(reason)
    case = first_plain_case(record)
    args, _ = case.inputs()
    opts = {k: v for k, v in case.options.items() if k != "reduction"}
    none = np.asarray(record.fn(*args, **opts, reduction="none"))
    mean = np.asarray(record.fn(*args, **opts, reduction="mean"))
    keep = _mask(none.shape)
    conv, ckw = backend.convert(args, {"where": keep}, "float64")

    def run(reduction: str) -> np.ndarray:
        return backend.to_numpy(backend.call(record.fn, conv, {**opts, **ckw,
                                                               "reduction": reduction}))

    # the reduction is one code path: every reduction on NumPy, one call per other backend
    # (each is a compile on the traced ones)
    kept = np.where(keep, none, 0.0)
    if backend_id == "numpy":
        np.testing.assert_allclose(run("none"), kept, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(run("sum"), kept.sum(), rtol=1e-10, atol=1e-12)
    if np.isclose(mean, none.sum() / none.size, rtol=1e-12, atol=1e-15):
        want = kept.sum() / keep.sum()
        np.testing.assert_allclose(run("mean"), want, rtol=1e-10, atol=1e-12)
        if backend_id == "numpy":
            np.testing.assert_allclose(run("weighted_mean"), want, rtol=1e-10, atol=1e-12)
    elif backend_id != "numpy":
        np.testing.assert_allclose(run("sum"), kept.sum(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("record", REDUCING)
def test_where_everything_masked_is_zero(record: catalog.Record) -> None:
    case = first_plain_case(record)
    args, _ = case.inputs()
    opts = {k: v for k, v in case.options.items() if k != "reduction"}
    out = np.asarray(record.fn(*args, **opts, where=np.asarray(False)))
    assert out == 0.0 and not np.signbit(out)
    same = np.asarray(record.fn(*args, **opts, where=np.asarray(True)))
    np.testing.assert_allclose(same, record.fn(*args, **opts), rtol=1e-12, atol=1e-15)


def test_where_is_not_weight_zero() -> None:
    ones, zeros = np.ones(4), np.zeros(4)
    assert al.l1_loss(ones, zeros, weight=np.array([1.0, 1.0, 0.0, 0.0])) == 0.5
    assert al.l1_loss(ones, zeros, where=np.array([True, True, False, False])) == 1.0


def test_masked_entries_may_hold_anything() -> None:
    """A NaN or inf at a masked position gives neither NaN in the value nor in the gradient."""
    torch = torch_or_skip()
    pred = torch.tensor([1.0, float("nan"), float("inf"), 2.0], dtype=torch.float64,
                        requires_grad=True)
    keep = torch.tensor([True, False, False, True])
    out = al.mse_loss(pred, torch.zeros(4, dtype=torch.float64), where=keep)
    out.backward()
    assert out.item() == 2.5
    np.testing.assert_array_equal(pred.grad.numpy(), [1.0, 0.0, 0.0, 2.0])


def test_bad_where() -> None:
    p, t = np.ones((3, 2)), np.zeros((3, 2))
    with pytest.raises(TypeError, match=r"mse_loss: `where` must be a boolean array.*mask > 0"):
        al.mse_loss(p, t, where=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"`where` of shape \(2, 3\) does not broadcast to the "
                                         r"unreduced loss of shape \(3, 2\)"):
        al.mse_loss(p, t, where=np.ones((2, 3), bool))
    with pytest.raises(TypeError, match="where"):
        al.mse_loss(p, t, where=[True, False])
    z, y = np.zeros((3, 4)), np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"class axis.*cross_entropy"):
        al.multiclass_hinge_loss(z, y, where=np.ones((3, 4), bool))
    with pytest.raises(ValueError, match=r"has the rank of `pred` \(a class mask\)"):
        al.cross_entropy(z, y, where=np.ones((3, 5), bool))


# ------------------------------------------------------------------------- class-axis masks

def _classes(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(6, 5))
    y = np.array([0, 1, 2, 3, 4, 1])
    cm = rng.random((6, 5)) > 0.3
    cm[np.arange(6), y] = True
    cm[5] = False  # a sample without classes: 0, and out of the count
    q = rng.random((6, 5))
    return z, y, cm, q / q.sum(1, keepdims=True)


@pytest.mark.parametrize("dense", [False, True])
def test_class_mask_equals_optax(dense: bool) -> None:
    require_module("optax")
    require_backend(backends.by_id("jax"))  # float64 on
    import jax
    import optax

    z, y, cm, q = _classes()
    if dense:
        want = optax.losses.softmax_cross_entropy(z, q, where=cm)
        poly = optax.losses.poly_loss_cross_entropy(z, q, epsilon=2.0, where=cm)
        np.testing.assert_allclose(al.poly_cross_entropy(z, q, where=cm, reduction="none"),
                                   poly, rtol=1e-12, atol=1e-14)
        lq = np.asarray(jax.nn.log_softmax(z))
        np.testing.assert_allclose(al.kl_divergence(lq, q, where=cm, reduction="none"),
                                   optax.losses.kl_divergence(lq, q, where=cm),
                                   rtol=1e-12, atol=1e-14)
    else:
        want = optax.losses.softmax_cross_entropy_with_integer_labels(z, y, where=cm)
    target = q if dense else y
    got = al.cross_entropy(z, target, where=cm, reduction="none")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # the mean counts the samples with a class left (the last has none)
    np.testing.assert_allclose(al.cross_entropy(z, target, where=cm), got[:5].mean(),
                               rtol=1e-12)


def test_class_mask_is_a_smaller_softmax() -> None:
    """Masked classes leave the softmax: the loss equals the one on the kept columns, for
    every softmax loss, with label smoothing spread over the kept classes."""
    z, y, _, q = _classes(1)
    cm = np.ones((6, 5), bool)
    cm[:, 3] = False
    kept = [0, 1, 2, 4]
    y = np.array([0, 1, 2, 4, 4, 1])
    y_small = np.array([0, 1, 2, 3, 3, 1])
    opts: list[tuple[Any, dict[str, Any]]] = [
        (al.cross_entropy, {"label_smoothing": 0.2}),
        (al.softmax_focal_loss, {"gamma": 1.5, "label_smoothing": 0.1}),
        (al.poly_cross_entropy, {"label_smoothing": 0.1}),
    ]
    for fn, kw in opts:
        got = fn(z, y, where=cm, reduction="none", **kw)
        np.testing.assert_allclose(got, fn(z[:, kept], y_small, reduction="none", **kw),
                                   rtol=1e-12, err_msg=fn.__name__)
        qk = q[:, kept] / q[:, kept].sum(1, keepdims=True)
        qm = np.where(cm, q, 0.0) / q[:, kept].sum(1, keepdims=True)
        np.testing.assert_allclose(fn(z, qm, where=cm, reduction="none", **kw),
                                   fn(z[:, kept], qk, reduction="none", **kw), rtol=1e-12,
                                   err_msg=fn.__name__)
    np.testing.assert_allclose(al.entropy(z, from_logits=True, where=cm, reduction="none"),
                               al.entropy(z[:, kept], from_logits=True, reduction="none"),
                               rtol=1e-12)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(al.entropy(p, where=cm, reduction="none"),
                               -(p[:, kept] * np.log(p[:, kept])).sum(1), rtol=1e-12)


@pytest.mark.parametrize("backend_id", ["torch", "torch:compile", "jax", "dask",
                                        "array_api_strict"])
def test_class_mask_on_every_backend(backend_id: str) -> None:
    """Traced, compiled and lazy: the same values, and zero gradient at masked logits (also
    where they are -inf), NaN for a label on a masked class (not checked under a trace)."""
    backend = require_backend(backends.by_id(backend_id))
    z, y, cm, _ = _classes(2)
    z[0, ~cm[0]] = -np.inf
    want = al.cross_entropy(z, y, where=cm, label_smoothing=0.1, reduction="none")
    conv, ckw = backend.convert([z, y], {"where": cm}, "float64")
    got = backend.call(al.cross_entropy, conv, {**ckw, "label_smoothing": 0.1,
                                                "reduction": "none"})
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12, atol=1e-14)
    if backend.module in ("torch", "jax"):
        (g,) = backend.grad(al.cross_entropy, [z, y], {"where": cm, "label_smoothing": 0.1},
                            [0])
        assert np.isfinite(g).all() and not g[~cm].any()


def test_label_on_a_masked_class() -> None:
    z, y, cm, _ = _classes()
    cm[0, y[0]] = False
    with pytest.raises(ValueError, match=r"cross_entropy: `where` must keep the labelled "
                                         r"class of every counted sample.*index \(0,\)"):
        al.cross_entropy(z, y, where=cm)
    with al.options(validate=False):
        out = al.cross_entropy(z, y, where=cm, reduction="none")
    assert np.isnan(out[0]) and np.isfinite(out[1:]).all()
    # an ignored sample may point anywhere
    y2 = y.copy()
    y2[0] = -1
    assert np.isfinite(al.cross_entropy(z, y2, where=cm, ignore_index=-1))


def test_torch_compile_where() -> None:
    torch = torch_or_skip()
    backend = require_backend(backends.by_id("torch:compile"))
    for fn in (al.mse_loss, al.dice_loss, al.sigmoid_focal_loss):
        p = np.random.default_rng(0).random((2, 3, 4))
        t = (np.random.default_rng(1).random((2, 3, 4)) > 0.5).astype(float)
        none = np.asarray(fn(p, t, reduction="none"))
        keep = _mask(none.shape)
        conv, ckw = backend.convert([p, t], {"where": keep}, "float64")
        got = backend.to_numpy(backend.call(fn, conv, ckw))
        np.testing.assert_allclose(got, none[keep].sum() / keep.sum(), rtol=1e-12)
        assert isinstance(backend.call(fn, conv, ckw), torch.Tensor)


def test_class_mask_with_several_class_axes_equals_optax() -> None:
    """A class mask with a tuple ``axis``: its class axes are merged as ``pred``'s."""
    require_module("optax")
    require_backend(backends.by_id("jax"))  # float64 on
    import optax

    rng = np.random.default_rng(4)
    z = rng.normal(size=(3, 2, 4, 5))
    y = rng.integers(0, 8, size=(3, 5))
    cm = rng.random((3, 2, 4, 5)) > 0.3
    flat = np.moveaxis(cm, (1, 2), (-2, -1)).reshape(3, 5, 8)
    i, j = np.meshgrid(np.arange(3), np.arange(5), indexing="ij")
    flat[i, j, y] = True
    cm = np.moveaxis(flat.reshape(3, 5, 2, 4), (-2, -1), (1, 2))
    want = optax.losses.softmax_cross_entropy_with_integer_labels(z, y, axis=(1, 2), where=cm)
    got = al.cross_entropy(z, y, axis=(1, 2), where=cm, reduction="none")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    per_sample = np.ones((3, 5), bool)
    per_sample[0] = False
    np.testing.assert_allclose(al.cross_entropy(z, y, axis=(1, 2), where=per_sample),
                               al.cross_entropy(z[1:], y[1:], axis=(1, 2)), rtol=1e-12)
