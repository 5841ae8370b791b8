"""Checks of the framework adapters against the core functions, shared by the adapter tests
and ``python -m arrayloss``: how a catalogue case is called through a torch module or a Keras
loss, what the core says it must give, and a one-row summary per adapter.

Nothing here is imported by the losses or by the adapters themselves.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import catalog, losses

__all__ = [
    "KERAS_EPS",
    "keras_class_for",
    "keras_expected",
    "keras_options",
    "keras_reduce",
    "per_image",
    "report",
    "torch_module_options",
]

KERAS_EPS = 1e-7  # keras.backend.epsilon()


def core_defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    """The keyword-only options of a core function with their defaults."""
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


# ---------------------------------------------------------------------------------- torch
def torch_module_options(spec: Any, options: Mapping[str, Any], arrays: Mapping[str, Any],
                         tensor: Callable[[Any], Any]) -> dict[str, Any]:
    """The options of ``spec``'s module that reproduce a core call with ``options`` and the
    class-level ``arrays`` (through ``tensor``): torch's names, and the core's defaults for
    the options the call leaves out (``ignore_index=None``, not the module's -100)."""
    core = core_defaults(getattr(losses, spec.fn))
    kw: dict[str, Any] = {}
    for name in spec.names:
        core_name = spec.rename.get(name, name)
        if name == "reduction" or core_name.startswith("*"):
            continue
        if core_name in arrays:
            kw[name] = tensor(arrays[core_name])
        elif core_name in options:
            value = options[core_name]
            # a buffer given as a list: in the call's precision (a buffer built from a list
            # takes torch's default float dtype)
            kw[name] = tensor(value) if name in spec.buffers and isinstance(value, list) \
                else value
        else:
            kw[name] = core[core_name]
    kw["reduction"] = options.get("reduction", "mean")
    return kw


def _torch_agreement() -> tuple[int, int, list[str]]:
    """Every module without a special ``forward`` against its core function on the first
    non-empty catalogue case (float64): (agreeing, checked, disagreeing names)."""
    import torch

    import arrayloss.torch as alt

    special = {"KLDivLoss", "MultiMarginLoss", "CenterLoss", "LinearCrossEntropyLoss", "CTCLoss"}

    def tensor(a: Any) -> Any:
        a = np.asarray(a)
        return torch.tensor(a, dtype=torch.float64 if a.dtype.kind == "f" else None)

    ok, checked, bad = 0, 0, []
    for spec in alt.SPECS:
        if spec.cls in special:
            continue
        case = next(c for c in catalog.get(spec.fn).cases if c.id != "empty")
        args, arrays = case.inputs()
        targs = [tensor(a) for a in args]
        sw = tensor(arrays["weight"]) if "weight" in arrays else None
        try:
            module = getattr(alt, spec.cls)(**torch_module_options(spec, case.options, arrays,
                                                                    tensor))
            got = module(*targs, sample_weight=sw).numpy()
            want = getattr(losses, spec.fn)(*targs, **case.options,
                                            **{k: tensor(v) for k, v in arrays.items()}).numpy()
            same = got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-10))
        except Exception:  # reported as a disagreement, not a crash of the report
            same = False
        checked += 1
        ok += same
        if not same:
            bad.append(spec.cls)
    return ok, checked, bad


# ---------------------------------------------------------------------------------- keras
def keras_reduce(values: np.ndarray, sw: np.ndarray | None, mask: np.ndarray | None,
                 reduction: str | None) -> np.ndarray:
    """What ``keras.losses.Loss`` does with unreduced losses (NumPy, float64)."""
    v = np.asarray(values, np.float64)
    w = None if sw is None else np.asarray(sw, np.float64)
    if mask is not None:
        m = np.asarray(mask, np.float64)
        if reduction in ("mean", "sum_over_batch_size"):
            m = m * (m.size / m.sum() if m.sum() else 0.0)
        w = m if w is None else w * m
    if w is not None:
        v = v * w
    if reduction is None or v.shape == ():
        return v
    total = v.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and w is not None:
        return total / w.sum() if w.sum() else np.float64(0.0)
    return total / v.size


def keras_class_for(record: catalog.Record, target: np.ndarray) -> str | None:
    """The Keras class that calls ``record``'s function for this kind of target (dense or
    sparse labels), or None."""
    import arrayloss.keras as ak

    adapters = ak.adapted().get(record.name, [])
    if record.name in ("cross_entropy", "softmax_focal_loss", "poly_cross_entropy"):
        dense_name, sparse_name = adapters
        return sparse_name if target.dtype.kind in "iu" else dense_name
    return adapters[0] if adapters else None


def keras_options(spec: Any, record: catalog.Record, opts: Mapping[str, Any]
                  ) -> dict[str, Any] | None:
    """The Keras class options giving the core call with ``opts``, or None if it has none."""
    if isinstance(opts.get("axis"), tuple):
        return None  # a Keras class takes one class axis (a tuple there is Keras's reduction)
    inverse = {v: k for k, v in spec.core_names.items()}
    defaults = core_defaults(record.fn)
    out: dict[str, Any] = {}
    for name in spec.options:
        core = spec.core_names.get(name, name)
        if core in defaults:
            out[name] = opts.get(core, defaults[core])
    if any(inverse.get(k, k) not in spec.options for k in opts):
        return None
    if "from_logits" in spec.options:
        out["from_logits"] = opts.get("from_logits", record.name != "binary_cross_entropy")
    if spec.name == "BinaryFocalCrossentropy":
        out["apply_class_balancing"] = out["alpha"] is not None
        out["alpha"] = 0.25 if out["alpha"] is None else out["alpha"]
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in out.items()}


def per_image(fn: Any, pred: np.ndarray, target: np.ndarray, kw: Mapping[str, Any]
              ) -> np.ndarray:
    """The core's mean over each image of a batch, one call per image."""
    return np.array([np.asarray(fn(pred[b:b + 1], target[b:b + 1], **kw, reduction="mean"))
                     for b in range(pred.shape[0])])


def keras_expected(spec: Any, record: catalog.Record, pred: np.ndarray, target: np.ndarray,
                   kw: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """The unreduced Keras loss from core calls on a case's arrays (and the mask of ignored
    positions)."""
    from arrayloss.keras import _convert as cv

    fn, t = record.fn, spec.translate
    if t in (cv.elementwise, cv.binary, cv.binary_focal, cv.signed):
        return np.mean(np.asarray(fn(pred, target, **kw, reduction="none")), axis=-1), None
    if t is cv.boxes:
        return np.asarray(fn(pred, target, **kw, reduction="none")), None
    if t is cv.groups:  # one loss per anchor, masked where 0 (no positive or negative)
        out = np.asarray(fn(pred, target, **kw, reduction="none"))
        return out, out > 0
    if t is cv.kl:
        q = np.log(np.clip(np.exp(pred), KERAS_EPS, 1.0))
        p = target if kw.get("log_target") else np.clip(target, KERAS_EPS, 1.0)
        return np.asarray(fn(q, p, **kw, reduction="none")), None
    if t in (cv.dense_classes, cv.sparse_classes):
        ii = kw.get("ignore_index")
        mask = None if ii is None else target != ii
        return np.asarray(fn(pred, target, **kw, reduction="none")), mask
    if not kw.get("per_image", True):
        return np.asarray(fn(pred, target, **kw, reduction="mean")), None
    return per_image(fn, pred, target, kw), None


def keras_case(spec: Any, record: catalog.Record, case: catalog.Case
               ) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray,
                          np.ndarray | None] | None:
    """(class options, y_true, y_pred, the expected unreduced loss, its mask) of a catalogue
    case through ``spec``'s class, or None when the class cannot express the case."""
    args, arrays = case.inputs()
    if len(args) != 2 or any(np.asarray(a).size == 0 for a in args):
        return None
    pred, target = args
    opts = {k: v for k, v in case.options.items() if k != "reduction"}
    opts.update({k: v for k, v in arrays.items() if k != "weight"})
    options = keras_options(spec, record, opts)
    if options is None:
        return None
    kw = spec.core_options(options)
    if spec.name == "BinaryFocalCrossentropy":
        kw["alpha"] = options["alpha"] if options["apply_class_balancing"] else None
    from arrayloss.keras import _convert as cv

    y_pred = np.exp(pred) if spec.translate is cv.kl else pred
    if options.get("from_logits") is False and spec.translate in (cv.dense_classes,
                                                                  cv.sparse_classes):
        pred = np.log(np.clip(pred, KERAS_EPS, 1.0))  # the class's conversion (Keras's)
    want, mask = keras_expected(spec, record, pred, target, kw)
    return options, np.asarray(target, np.float64), y_pred, want, mask


def _keras_agreement() -> tuple[int, int, list[str]]:
    """Every Keras class against the core on its first usable catalogue case, reduction
    ``"sum"`` (float64)."""
    import arrayloss.keras as ak

    done: dict[str, bool] = {}
    for record in catalog.records():
        for case in record.cases:
            args, _ = case.inputs()
            if len(args) != 2:
                continue
            name = keras_class_for(record, np.asarray(args[1]))
            if name is None or name in done:
                continue
            spec = next(s for s in ak.SPECS if s.name == name)
            found = keras_case(spec, record, case)
            if found is None:
                continue
            options, y_true, y_pred, want, mask = found
            try:
                got = ak.CLASSES[name](**options, reduction="sum", dtype="float64")(y_true,
                                                                                   y_pred)
                done[name] = bool(np.allclose(np.asarray(got, np.float64),
                                              keras_reduce(want, None, mask, "sum"),
                                              rtol=1e-6, atol=1e-7))
            except Exception:  # reported as a disagreement
                done[name] = False
    bad = sorted(n for n, same in done.items() if not same)
    missing = sorted(set(ak.CLASSES) - set(done))
    return sum(done.values()), len(done) + len(missing), bad + missing


# ---------------------------------------------------------------------------------- report
def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def report() -> list[dict[str, str]]:
    """One row per adapter: whether it imports, its classes, the registered functions it
    leaves out, and its agreement with the core."""
    rows = []
    for module, framework, check in (("arrayloss.torch", "torch", _torch_agreement),
                                     ("arrayloss.keras", "keras", _keras_agreement)):
        row = {"adapter": module}
        try:
            adapter = importlib.import_module(module)
        except Exception as exc:  # a missing framework, or a Keras backend it does not take
            row.update(imports=f"no: {type(exc).__name__}: {str(exc).splitlines()[0][:60]}",
                       classes="-", agrees="-")
            rows.append(row)
            continue
        backend = ""
        if framework == "keras":
            keras = importlib.import_module("keras")
            backend = f", backend {keras.backend.backend()}"
        row["imports"] = f"yes ({framework} {_version(framework)}{backend})"
        names = {r.name for r in catalog.records()} | {"box_convert"}
        covered = set(adapter.adapted()) | set(adapter.NOT_ADAPTED)
        row["classes"] = (f"{sum(len(v) for v in adapter.adapted().values())}; "
                          f"{len(adapter.NOT_ADAPTED)} functions documented as not adapted"
                          + ("" if covered >= names else
                             f"; MISSING {', '.join(sorted(names - covered))}"))
        ok, checked, bad = check()
        row["agrees"] = (f"{ok}/{checked} with the core" +
                         (f"; MISMATCH: {', '.join(bad)}" if bad else ""))
        rows.append(row)
    return rows
