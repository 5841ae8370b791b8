"""The contract's policies, for every registered loss where they apply.

- the ``validate`` switch is context-local (threads do not see each other's setting);
- value checks cost no device-to-host synchronisation unless asked for: under the GPU policy
  no ``aten._local_scalar_dense`` is dispatched (counted by ``arrayloss.testing.dispatch``);
- ``reduction="weighted_mean"``; float16/bfloat16 give float32 results;
- predicted boxes are never rejected for their values; ground-truth boxes are;
- the overlap score rule for entries with a zero denominator;
- error messages carry the fix for the common mistakes;
- smaller rules: masked arrays, option types, subnormal and huge options, signed zeros.
"""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss as al
from arrayloss import catalog
from arrayloss.testing import backends, dispatch
from conftest import first_plain_case, require_backend

RECORDS = catalog.records()
REDUCING = [pytest.param(r, id=r.name) for r in RECORDS if r.reduces]


# ----------------------------------------------------------------------------- the switch


def test_validate_switch_is_thread_local() -> None:
    """A thread inside ``options(validate=False)`` does not turn validation off for another,
    and interleaved contexts restore their own state."""
    bad = (np.zeros((2, 3)), np.array([0, 7]))
    inside, checked = threading.Barrier(2), threading.Barrier(2)
    errors: list[BaseException] = []

    def quiet() -> None:
        try:
            with al.options(validate=False):
                inside.wait(timeout=30)
                al.cross_entropy(*bad)  # not checked here
                checked.wait(timeout=30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def strict() -> None:
        try:
            inside.wait(timeout=30)
            with pytest.raises(ValueError, match="cross_entropy: `target`"):
                al.cross_entropy(*bad)
            checked.wait(timeout=30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=quiet), threading.Thread(target=strict)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert al.get_options()["validate"] is True


def test_interleaved_contexts_restore_their_state() -> None:
    states: list[Any] = []

    def worker(n: int) -> None:
        for _ in range(n):
            with al.options(validate=False):
                with al.options(validate="always"):
                    pass
                states.append(al.get_options()["validate"])
        states.append(al.get_options()["validate"])

    threads = [threading.Thread(target=worker, args=(300,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert states.count(False) == 1200 and states.count(True) == 4
    assert al.get_options()["validate"] is True


def test_set_options_is_the_default_of_every_thread() -> None:
    seen: list[Any] = []
    al.set_options(validate="always")
    try:
        t = threading.Thread(target=lambda: seen.append(al.get_options()["validate"]))
        t.start()
        t.join()
        with al.options(validate=False):
            al.set_options(validate=True)  # the default changes; this context keeps False
            assert al.get_options()["validate"] is False
    finally:
        al.set_options(validate=True)
    assert seen == ["always"]
    with pytest.raises(ValueError, match="set_options: `validate`"):
        al.set_options(validate="sometimes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="options: `validate`"), al.options(
            validate=1):  # type: ignore[arg-type]
        pass


# ----------------------------------------------------------------------------- host syncs


#: losses that read the device once per call, as the framework's own loss does: torch's CTC
#: kernel reads the lengths on the host (ours reads them with a finiteness flag in one copy)
READS_LIKE_THE_PEER = {"ctc_loss": 1}


@pytest.mark.parametrize("record", [pytest.param(r, id=r.name) for r in RECORDS])
def test_no_host_sync_under_the_gpu_policy(record: catalog.Record) -> None:
    """With arrays treated as device arrays (the policy of CUDA torch, CuPy, JAX on GPU), a
    call dispatches no scalar read and makes no tensor from host data (an upload), with
    every catalogue case's options; with ``validate="always"`` the value checks run (and
    read), which shows the counter sees them."""
    b = require_backend(backends.by_id("torch"))
    reads: dict[Any, int] = {}
    uploads: dict[str, int] = {}
    for mode in (True, "always"):
        total = 0
        for case in record.cases:
            args, kw = case.inputs()
            conv, ckw = b.convert(args, kw, "float32")
            opts = dispatch.device_options(functools.partial(record.fn, *conv, **ckw),
                                           case.options)
            call = functools.partial(record.fn, *conv, **opts, **ckw)
            with al.options(validate=mode), dispatch.device_policy():
                seen = dispatch.record(call)
            total += seen.syncs
            if mode is True and seen.uploads:
                uploads[case.id] = seen.uploads
        reads[mode] = total
    assert uploads == {}
    expected = READS_LIKE_THE_PEER.get(record.name, 0)
    assert reads[True] == expected * sum(1 for c in record.cases if c.inputs()[0][0].size)
    if record.bad_values:
        assert reads["always"] > 0


# ----------------------------------------------------------------------------- weighted mean


@pytest.mark.parametrize("record", REDUCING)
def test_weighted_mean(record: catalog.Record) -> None:
    """``sum(w * l) / sum(w over the counted positions)``: equal to the mean for uniform
    weights, invariant to the weights' scale, and the explicit formula where every position
    is counted. Without ``weight`` it is the mean."""
    case = first_plain_case(record)
    args, _ = case.inputs()
    opts = {k: v for k, v in case.options.items() if k != "reduction"}
    none = np.asarray(record.fn(*args, **opts, reduction="none"))
    mean = np.asarray(record.fn(*args, **opts, reduction="mean"))
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=none.shape)
    got = np.asarray(record.fn(*args, **opts, weight=w, reduction="weighted_mean"))
    np.testing.assert_allclose(record.fn(*args, **opts, reduction="weighted_mean"), mean,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(record.fn(*args, **opts, weight=np.full(none.shape, 2.5),
                                         reduction="weighted_mean"), mean, rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(record.fn(*args, **opts, weight=3 * w,
                                         reduction="weighted_mean"), got, rtol=1e-12,
                               atol=1e-15)
    if np.isclose(mean, none.sum() / none.size, rtol=1e-12, atol=1e-15) and not (
            record.name == "focal_eiou_loss" and opts.get("normalize")):
        np.testing.assert_allclose(got, (w * none).sum() / w.sum(), rtol=1e-12, atol=1e-15)


def test_weighted_mean_leaves_ignored_positions_out() -> None:
    z = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0], [2.0, -1.0, 0.0]])
    y = np.array([0, -100, 2])
    w = np.array([2.0, 5.0, 1.0])
    none = al.cross_entropy(z, y, ignore_index=-100, reduction="none")
    got = al.cross_entropy(z, y, ignore_index=-100, weight=w, reduction="weighted_mean")
    np.testing.assert_allclose(got, (w * none).sum() / 3.0, rtol=1e-12)
    cw = np.array([1.0, 2.0, 4.0])
    got = al.cross_entropy(z, y, ignore_index=-100, class_weight=cw, weight=w,
                           reduction="weighted_mean")
    wy = np.array([1.0, 0.0, 4.0])  # class weights of the counted labels
    none = al.cross_entropy(z, y, ignore_index=-100, class_weight=cw, reduction="none")
    np.testing.assert_allclose(got, (w * none).sum() / (w * wy).sum(), rtol=1e-12)
    zero = al.mse_loss(np.ones(3), np.zeros(3), weight=np.zeros(3), reduction="weighted_mean")
    assert zero == 0.0 and not np.signbit(zero)


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize("record", [pytest.param(r, id=r.name) for r in RECORDS])
def test_half_precision_gives_float32(record: catalog.Record, half: str) -> None:
    b = require_backend(backends.by_id("torch"))
    case = record.cases[0]
    args, kw = case.inputs()
    conv, ckw = b.convert(args, kw, half)
    out = record.fn(*conv, **case.options, **ckw)
    want = "float32" if record.name != "update_centers" else half  # new centers keep theirs
    assert b.dtype_name(out) == want


# ----------------------------------------------------------------------------- boxes

BOX_LOSSES = [pytest.param(r, id=r.name) for r in catalog.records("boxes")
              if r.name != "box_convert"]
_INVERTED = np.array([[4.0, 4.0, 1.0, 2.0], [0.0, 0.0, 2.0, 2.0], [3.0, 1.0, 2.0, 5.0]])
_TARGET = np.array([[1.0, 1.0, 3.0, 3.0], [0.5, 0.5, 2.5, 2.0], [1.0, 1.0, 2.0, 4.0]])


@pytest.mark.parametrize("backend_id", ["numpy", "torch", "jax", "array_api_strict", "dask"])
@pytest.mark.parametrize("record", BOX_LOSSES)
def test_inverted_predicted_boxes_are_measured(backend_id: str,
                                               record: catalog.Record) -> None:
    """An inverted predicted box is not an error: its area is 0 (IoU 0), values and
    gradients are finite. An inverted ground-truth box raises when readable."""
    b = require_backend(backends.by_id(backend_id))
    opts = {"reduction": "none"} if record.reduces else {}
    conv, _ = b.convert((_INVERTED, _TARGET), {}, "float64")
    out = b.to_numpy(b.call(record.fn, conv, opts))
    assert np.all(np.isfinite(out))
    iou = b.to_numpy(b.call(al.box_iou, conv, {}))
    np.testing.assert_array_equal(iou[[0, 2]], 0.0)
    if b.differentiable:
        for g in b.grad(record.fn, (_INVERTED, _TARGET), opts, (0,)):
            assert np.all(np.isfinite(g))
    if b.module in ("numpy", "torch", "array_api_strict"):
        swapped, _ = b.convert((_TARGET, _INVERTED), {}, "float64")
        with pytest.raises(ValueError, match=rf"{record.name}: `target` must hold xyxy"):
            record.fn(*swapped, **opts)


# ----------------------------------------------------------------------------- score rule


def test_overlap_zero_denominator_is_a_miss_unless_both_are_empty() -> None:
    """Tversky with alpha=1, beta=0 has den = TP + FP: a class present in the target that
    gets no predicted mass has den = 0 and is a miss (loss 1), not a perfect score."""
    logits = np.array([[[[100.0, 100.0]], [[-100.0, -100.0]], [[-100.0, -100.0]]]])
    labels = np.array([[[0, 1]]])
    out = al.tversky_loss(logits, labels, axis=1, activation="softmax", alpha=1.0, beta=0.0,
                          reduction="none")
    # class 0: TI = TP / Sp = 1/2; class 1: den 0, present in the target: a miss; class 2:
    # absent from the target but given (tiny) mass: TI = 0 at smooth = 0
    np.testing.assert_allclose(out[0], [0.5, 1.0, 1.0], atol=1e-12)
    out = al.tversky_loss(logits, labels, axis=1, activation="softmax", alpha=1.0, beta=0.0,
                          smooth=1e-5, reduction="none")
    # with smooth > 0 no denominator is 0: class 1 scores smooth / smooth = 1 (beta = 0
    # does not count its false negatives), class 2 about smooth / (smooth + tiny) = 1
    np.testing.assert_allclose(out[0], [0.5, 0.0, 0.0], atol=1e-5)
    # empty in both: a perfect entry, with a zero gradient
    p, t = np.zeros((2, 3)), np.zeros((2, 3))
    for fn in (al.dice_loss, al.jaccard_loss, al.tversky_loss, al.focal_tversky_loss):
        np.testing.assert_array_equal(fn(p, t, axis=None, reduction="none"), 0.0)
    b = require_backend(backends.by_id("torch"))
    g = b.grad(al.dice_loss, (p, t), {"axis": None}, (0,))[0]
    assert np.all(np.isfinite(g))


# ----------------------------------------------------------------------------- messages


HINTS = [
    ("cross_entropy", (np.zeros((2, 3, 4, 4)), np.zeros((2, 4, 4), dtype=np.int64)), {},
     "pass axis=1"),
    ("dice_loss", (np.full((2, 3, 4), 0.3), np.zeros((2, 4), dtype=np.int64)), {},
     "pass axis=1"),
    ("lovasz_softmax_loss", (np.full((2, 3, 4), 0.3), np.zeros((2, 4), dtype=np.int64)), {},
     "pass axis=1"),
    ("cross_entropy", (np.zeros((2, 3)), np.array([0, -100])), {},
     r"found -100 at index \(1,\); if -100 marks positions to ignore, pass ignore_index=-100"),
    ("cross_entropy", (np.zeros((4, 3)), np.array([0, 1, 7, 0])), {}, r"found 7 at index \(2,\)"),
    ("softmax_focal_loss", (np.zeros((2, 3)), np.array([0, -1])), {}, "ignore_index=-1"),
    ("binary_cross_entropy", (np.array([2.0, -1.0]), np.array([1.0, 0.0])), {},
     "use binary_cross_entropy_with_logits"),
    ("dice_loss", (np.array([[2.0, -1.0]]), np.array([0])), {}, "activation='softmax'"),
    ("dice_loss", (np.array([[2.0, -1.0]]), np.array([[1.0, 0.0]])), {"axis": None},
     "activation='sigmoid'"),
    ("cross_entropy", (np.zeros((4, 3)), np.array([0, 1, 2, 0])), {"weight": np.ones(3)},
     "`class_weight` holds per-class weights"),
    ("cross_entropy", (np.zeros((4, 3)), np.array([0.0, 1, 2, 0])), {},
     "cast them to an integer dtype"),
    ("hinge_loss", (np.zeros(3), np.array([0.0, 1.0, 1.0])), {}, "2\\*y - 1"),
    ("lovasz_softmax_loss", (np.array([0.5, 0.5]), np.array([0])), {}, "lovasz_hinge_loss"),
    ("dice_loss", (np.full((1, 2, 3), 0.5), np.array([[0, 255]])), {}, "ignore_index=255"),
    ("huber_loss", (np.zeros(2), np.ones(2)), {"delta": np.ones(1)}, r"float\(x\)"),
]


def test_a_traced_option_names_the_fix() -> None:
    b = require_backend(backends.by_id("jax"))
    import jax

    x = b.xp.asarray(np.zeros(3))
    with pytest.raises(TypeError, match=r"huber_loss: `delta`.*mark it static"):
        jax.jit(lambda p, t, d: al.huber_loss(p, t, delta=d))(x, x, 0.5)


@pytest.mark.parametrize(("name", "args", "options", "fix"), HINTS,
                         ids=[f"{h[0]}-{i}" for i, h in enumerate(HINTS)])
def test_common_mistakes_name_the_fix(name: str, args: tuple, options: dict, fix: str) -> None:
    with pytest.raises((ValueError, TypeError), match=rf"{name}: .*{fix}"):
        getattr(al, name)(*args, **options)


LABEL_LOSSES = [pytest.param(r, id=r.name) for r in RECORDS
                if r.kind in ("class_logits", "segmentation-probabilities", "center")]


@pytest.mark.parametrize("record", LABEL_LOSSES)
def test_torch_ignore_label_without_ignore_index_names_the_fix(record: catalog.Record) -> None:
    case = next(c for c in record.cases if "ignore_index" not in c.options)
    args, kw = case.inputs()
    k = next(i for i, a in enumerate(args) if np.issubdtype(a.dtype, np.integer))
    args = list(args)
    args[k] = args[k].copy()
    args[k].flat[0] = -100
    with pytest.raises(ValueError, match=rf"{record.name}: .*pass ignore_index=-100"):
        record.fn(*args, **case.options, **kw)


# ----------------------------------------------------------------------------- small rules


def test_masked_arrays_are_refused() -> None:
    m = np.ma.masked_array([1.0, 2.0], mask=[0, 1])
    with pytest.raises(TypeError, match="mse_loss: `pred` is a NumPy masked array"):
        al.mse_loss(m, np.zeros(2))
    with pytest.raises(TypeError, match="mse_loss: `target` is a NumPy masked array"):
        al.mse_loss(np.zeros(2), m)
    with pytest.raises(TypeError, match="mse_loss: `weight` is a NumPy masked array"):
        al.mse_loss(np.zeros(2), np.zeros(2), weight=m)


def test_option_types_follow_one_rule() -> None:
    """A wrong type raises TypeError, a wrong value of the right type ValueError, in every
    family; NumPy strings, integers and bools are accepted like Python's."""
    x = np.zeros((2, 3))
    y = np.array([0, 1])
    for call in (lambda: al.multiclass_hinge_loss(x, y, squared=1),
                 lambda: al.dice_loss(x, y, squared=1),
                 lambda: al.entropy(x + 0.3, from_logits=1),
                 lambda: al.kl_divergence(x, x, log_target="no"),
                 lambda: al.focal_eiou_loss(np.ones((1, 4)), np.ones((1, 4)), normalize=0),
                 lambda: al.mse_loss(x, x, reduction=None),
                 lambda: al.huber_loss(x, x, delta="1")):
        with pytest.raises(TypeError):
            call()
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        al.mse_loss(x, x, reduction="avg")
    np.testing.assert_allclose(al.mse_loss(x, x + 1, reduction=np.str_("mean")), 1.0)
    np.testing.assert_allclose(al.huber_loss(x, x + 1, delta=np.float32(0.5)), 0.375)
    np.testing.assert_allclose(al.multiclass_hinge_loss(x, y, squared=np.bool_(True)), 1.0)


def test_subnormal_beta_and_huge_c() -> None:
    r = np.array([0.0, 1e-3, -2.0], dtype=np.float32)
    for beta in (1e-40, 1e-46, 1e-300):
        out = al.smooth_l1_loss(r, np.zeros(3, np.float32), beta=beta, reduction="none")
        np.testing.assert_allclose(out, np.abs(r), rtol=1e-6)
    u = np.array([0.5, 1.0, -3.0])
    out = al.tukey_biweight_loss(u, np.zeros(3), c=1e300, scale=None, reduction="none")
    np.testing.assert_allclose(out, u * u / 2, rtol=1e-12)
    out = al.tukey_biweight_loss(u.astype(np.float32), np.zeros(3, np.float32), c=1e30,
                                 scale=None, reduction="none")
    np.testing.assert_allclose(out, u * u / 2, rtol=1e-6)


def test_empty_weighted_means_are_positive_zero() -> None:
    out = al.focal_eiou_loss(np.array([[0.0, 0, 1, 1]]), np.array([[2.0, 2, 3, 3]]),
                             normalize=True, weight=np.array([-1.0]))
    assert out == 0.0 and not np.signbit(out)


def test_ciou_eps_zero_warns_nothing() -> None:
    """Identical boxes with eps = 0: CIoU's alpha is 0 / 0, taken as 0 (no NumPy warning)."""
    boxes = np.array([[0.0, 0.0, 2.0, 1.0], [1.0, 1.0, 3.0, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = al.ciou_loss(boxes, boxes, eps=0.0, reduction="none")
    np.testing.assert_allclose(out, 0.0, atol=1e-15)
