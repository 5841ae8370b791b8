"""The benchmark engine: arrayloss side by side with each framework's own losses.

    python benchmarks/engine.py [--losses ...] [--sizes small,medium] [--out DIR] ...

(also ``python -m arrayloss bench`` from a checkout, ``python benchmarks/run.py`` and
``nox -s bench``). It lives in the repository, not in the installed package.

For every registered loss with a ``sized`` input maker, on every installed CPU backend
(NumPy, eager torch, JAX eager and under ``jax.jit``) and against every peer of its
catalogue record (other libraries' losses and the timing-only yardsticks: hand-written
NumPy, torchvision-style torch), called with the record's ``timing_options``, the engine times
small / medium / large inputs, forward and forward+backward, with interleaved repeats
(alternating which of the pair goes first), and reports medians and the median of the
per-pair ratios arrayloss / peer. Before timing, both results are compared: a peer that
disagrees is reported as such and its ratio is not used for the goals.

Large inputs are memory-bound: their forward time is also reported as a multiple of
"input bytes read once / measured read bandwidth" (the best of ``sum`` over a large array
in NumPy, torch and jitted JAX), and the peak extra resident memory of one call is
measured (``malloc_trim``, then the kernel's peak-RSS counter reset through
``/proc/self/clear_refs``). The sparse cross-entropy over a 50k-class vocabulary is
measured separately against the "at most twice the logits" goal. The goals and the losses
each one covers come from the records (``Record.goals``).

glibc's default allocator returns large temporaries to the kernel after every call, so
each call page-faults them in again by amounts that change with unrelated imports. The
benchmark re-executes itself with ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_``
pinned (``PINNED`` below) and also runs an "out-of-the-box" child without them for a few
large cases: that row is what users get by default.

Results: a table on screen and ``bench.json`` / ``bench.md`` in ``--out`` (default
``benchmarks/results``). Never run from the tests: timing is not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import gc
import importlib.util
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from arrayloss import __version__, catalog
from arrayloss.testing import timing

__all__ = ["PINNED", "SIZES", "main", "run"]

PINNED = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}
_CHILD = "ARRAYLOSS_BENCH_CHILD"
SIZES = {"small": 1_000, "medium": 100_000, "large": 10_000_000}
#: one forward call of arrayloss at "large" is kept under about this many seconds: slower
#: losses (sorts, pairwise terms) get a smaller large size, shown in the table
LARGE_CALL_S = 0.25
BUDGET_S = {"small": 0.25, "medium": 0.3, "large": 1.0}
MIN_REPS = {"small": 15, "medium": 9, "large": 5}
MAX_REPS = 400
VOCAB = (128, 50_000)


@dataclass
class Row:
    """One measured (loss, backend, mode, peer, size)."""

    loss: str
    backend: str
    mode: str
    peer: str
    size: str
    n: int
    ours_us: float = math.nan
    peer_us: float = math.nan
    ratio: float = math.nan
    delta_us: float = math.nan
    reps: int = 0
    agree: str = "-"
    input_mb: float = math.nan
    peak_ours_mb: float = math.nan
    peak_peer_mb: float = math.nan
    bw_multiple: float = math.nan
    malloc: str = "pinned"
    note: str = ""


@dataclass
class Setting:
    """The machine and process the numbers come from."""

    version: str = __version__
    python: str = platform.python_version()
    machine: str = f"{platform.machine()}, {os.cpu_count()} CPUs"
    malloc: dict[str, str] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    bandwidth_gbs: dict[str, float] = field(default_factory=dict)
    gpu: str = "unavailable"
    threads: int = 1
    validate: bool = True


# ---------------------------------------------------------------------------------------
# timing and memory


def _pair(ours: Callable[[], Any], theirs: Callable[[], Any], size: str
          ) -> tuple[float, float, float, int]:
    """Interleaved repeats (``arrayloss.testing.timing``) within the size's time budget:
    (median ours s, median peer s, median of the per-pair ratios, repeats)."""
    return timing.interleaved(ours, theirs, budget_s=BUDGET_S[size], min_reps=MIN_REPS[size],
                              max_reps=MAX_REPS, warmup=2)


_LIBC: Any = None


def _libc() -> Any:
    global _LIBC
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL("libc.so.6")
        except OSError:
            _LIBC = False
    return _LIBC


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_extra_mb(fn: Callable[[], Any]) -> float:
    """Peak resident memory added by one call of ``fn`` (MB), or NaN where the kernel's
    counters are not available (non-Linux).

    Free heap is first returned to the kernel (``malloc_trim``) and the peak-RSS counter
    reset (``/proc/self/clear_refs``), so the allocator cannot hide the call's temporaries
    in pages it already holds.
    """
    libc = _libc()
    timing.sync(fn())  # compile / warm up outside the measurement
    gc.collect()
    if libc:
        libc.malloc_trim(0)
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return math.nan
    base = _status_kb("VmRSS")
    out = timing.sync(fn())
    peak = _status_kb("VmHWM")
    del out
    if base is None or peak is None:
        return math.nan
    return max(peak - base, 0) / 1024.0


def _bandwidth() -> dict[str, float]:
    """Read bandwidth (GB/s) of a sum over 256 MB of float32, per installed library."""
    n = 64 * 1024 * 1024
    out: dict[str, float] = {}
    x = np.ones(n, dtype=np.float32)
    fns: dict[str, Callable[[], Any]] = {"numpy": lambda: np.add.reduce(x)}
    if importlib.util.find_spec("torch") is not None:
        import torch

        tx = torch.from_numpy(x)
        fns["torch"] = lambda: torch.sum(tx)
    if importlib.util.find_spec("jax") is not None:
        import jax
        import jax.numpy as jnp

        jx = jnp.asarray(x)
        jsum = jax.jit(jnp.sum)
        fns["jax"] = lambda: jsum(jx)
    for name, f in fns.items():
        timing.sync(f())
        ts = []
        for _ in range(7):
            t0 = time.perf_counter()
            timing.sync(f())
            ts.append(time.perf_counter() - t0)
        out[name] = round(x.nbytes / float(np.median(ts)) / 1e9, 2)
    return out


# ---------------------------------------------------------------------------------------
# implementations under test


@dataclass
class Impl:
    """A loss or a peer bound to one backend's inputs: forward and forward+backward."""

    label: str
    fwd: Callable[[], Any]
    fb: Callable[[], Any] | None


def _float_like(a: Any) -> bool:
    dt = str(getattr(a, "dtype", ""))
    return "float" in dt


def _jax_impls(fn: Callable[..., Any], args: list[Any], grad_args: Sequence[int], jit: bool,
               label: str) -> Impl:
    import jax

    gargs = tuple(i for i in grad_args if i < len(args) and _float_like(args[i]))
    f = jax.jit(fn) if jit else fn

    def scalar(*xs: Any) -> Any:
        return fn(*xs)

    fb = None
    if gargs:
        vg = jax.value_and_grad(scalar, argnums=gargs)
        vg = jax.jit(vg) if jit else vg
        fb = lambda: vg(*args)  # noqa: E731
    return Impl(label, lambda: f(*args), fb)


def _torch_impls(fn: Callable[..., Any], args: list[Any], grad_args: Sequence[int],
                 label: str) -> Impl:
    import torch

    leaves = []
    targs = list(args)
    for i in grad_args:
        if i < len(targs) and _float_like(targs[i]):
            targs[i] = targs[i].detach().clone().requires_grad_(True)
            leaves.append(targs[i])
    fb = None
    if leaves:
        def fb() -> Any:
            out = fn(*targs)
            return torch.autograd.grad(out, leaves, allow_unused=True)

    def fwd() -> Any:
        with torch.no_grad():
            return fn(*args)

    return Impl(label, fwd, fb)


def _numpy_of(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    elif type(x).__module__.startswith("cupy"):
        x = x.get()  # CuPy refuses an implicit copy to the host
    return np.asarray(x, dtype=np.float64)


def _agree(ours: Any, theirs: Any) -> str:
    a, b = _numpy_of(ours), _numpy_of(theirs)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if np.allclose(a, b, rtol=2e-4, atol=1e-6 * max(1.0, float(np.max(np.abs(b), initial=0)))):
        return "ok"
    return f"MISMATCH {float(np.max(np.abs(a - b))):.2g}"


def _peers(record: catalog.Record, backend: str) -> list[catalog.Peer]:
    """The record's peers on ``backend`` that take its timing options and are installed."""
    out = []
    opts = dict(record.timing_options)
    for peer in record.peers:
        if peer.backend != backend or not peer.accepts(opts):
            continue
        if importlib.util.find_spec(peer.module) is None:
            continue
        out.append(peer)
    return out


# ---------------------------------------------------------------------------------------
# the measurement loop


def _convert(backend: str, arrays: Sequence[np.ndarray]) -> list[Any]:
    """float32 copies of ``arrays`` for a backend id (or a library name), on its device."""
    out: list[Any] = []
    for a in arrays:
        a = np.asarray(a)
        if np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float32)
        if backend.startswith("torch"):
            import torch

            t = torch.from_numpy(np.ascontiguousarray(a))
            out.append(t.cuda() if backend == "torch:cuda" else t)
        elif backend.startswith("jax"):
            import jax

            dev = jax.devices("gpu")[0] if backend == "jax:gpu" else jax.devices("cpu")[0]
            out.append(jax.device_put(a, dev))
        elif backend == "cupy":
            import cupy

            out.append(cupy.asarray(a))
        else:
            out.append(a)
    return out


def _input_mb(arrays: Sequence[Any]) -> float:
    return sum(np.asarray(a).nbytes if isinstance(a, np.ndarray) else
               math.prod(a.shape) * a.dtype.itemsize for a in arrays) / 1e6


BACKEND_MODES = {
    # backend id -> (library, modes)
    "numpy": ("numpy", ("forward",)),
    "torch": ("torch", ("forward", "forward+backward")),
    "jax:jit": ("jax", ("forward", "forward+backward")),
    "jax:eager": ("jax", ("forward",)),
}
#: the GPU backends (``--backends``; not in the default CPU run): CUDA torch against
#: ``torch.nn.functional`` on CUDA, JAX under ``jit`` on the GPU against optax, and
#: arrayloss on CuPy arrays against the CUDA torch peers (the same data on the same GPU)
GPU_MODES = {
    "torch:cuda": ("torch", ("forward", "forward+backward")),
    "jax:gpu": ("jax", ("forward", "forward+backward")),
    "cupy": ("cupy", ("forward",)),
}
#: where each GPU backend's peers run
PEER_BACKEND = {"cupy": "torch:cuda"}


def _large_n(ours_medium_s: float, medium_n: int) -> int:
    """The large size: 10M elements, or the largest power of ten (at least ``medium_n``)
    where one call of arrayloss stays under ``LARGE_CALL_S``."""
    n = SIZES["large"]
    if ours_medium_s * n / medium_n > LARGE_CALL_S:
        fit = medium_n * LARGE_CALL_S / max(ours_medium_s, 1e-9)
        n = max(medium_n, 10 ** math.floor(math.log10(fit)))
    return n


def _measure_loss(record: catalog.Record, backend_id: str, sizes: Sequence[str],
                  modes: Sequence[str], memory: bool, bw: float, log: Callable[[str], None]
                  ) -> list[Row]:
    _, bmodes = {**BACKEND_MODES, **GPU_MODES}[backend_id]
    peer_backend = PEER_BACKEND.get(backend_id, backend_id)
    peers = _peers(record, {**BACKEND_MODES, **GPU_MODES}[peer_backend][0])
    opts = dict(record.timing_options)  # the options both sides are called with
    ours_fn = functools.partial(record.fn, **opts) if opts else record.fn
    shown = ", ".join(f"{k}={v!r}" for k, v in opts.items())
    if backend_id == "jax:eager":
        peers = [p for p in peers if p.jit]  # optax eager only (keras is a NumPy peer here)
    rows: list[Row] = []
    if not peers or record.sized is None:
        return rows
    medium_s: float | None = None
    for size in sizes:
        n = SIZES[size]
        if size == "large":
            if medium_s is None:
                args0 = _convert(backend_id,
                                 record.sized(np.random.default_rng(0), SIZES["medium"]))
                f0 = jax_or_plain(ours_fn, backend_id)
                timing.sync(f0(*args0))
                t0 = time.perf_counter()
                timing.sync(f0(*args0))
                medium_s = time.perf_counter() - t0
            n = _large_n(medium_s, SIZES["medium"])
        raw = record.sized(np.random.default_rng(0), n)
        args = _convert(backend_id, raw)
        peer_args = args if peer_backend == backend_id else _convert(peer_backend, raw)
        in_mb = _input_mb(args)
        ours = _impl(ours_fn, args, record.grad_args, backend_id, "arrayloss")
        for peer in peers:
            peer_fn = functools.partial(peer.fn, **opts) if opts else peer.fn
            theirs = _impl(peer_fn, peer_args, record.grad_args, peer_backend, peer.library)
            try:
                agree = _agree(timing.sync(ours.fwd()), timing.sync(theirs.fwd()))
            except Exception as exc:  # a peer that cannot run these inputs
                log(f"  {record.name} {backend_id} {peer.library}: {type(exc).__name__}: {exc}")
                continue
            for mode in modes:
                if mode not in bmodes:
                    continue
                fo = ours.fwd if mode == "forward" else ours.fb
                ft = theirs.fwd if mode == "forward" else theirs.fb
                if fo is None or ft is None:
                    continue
                try:
                    to, tt, ratio, reps = _pair(fo, ft, size)
                except Exception as exc:
                    log(f"  {record.name} {backend_id} {peer.library} {mode}: "
                        f"{type(exc).__name__}: {exc}")
                    continue
                if size == "medium" and mode == "forward" and medium_s is None:
                    medium_s = to
                label = f"{peer.library} ({shown})" if shown else peer.library
                row = Row(record.name, backend_id, mode, label, size, n,
                          ours_us=to * 1e6, peer_us=tt * 1e6, ratio=ratio,
                          delta_us=(to - tt) * 1e6, reps=reps, agree=agree, input_mb=in_mb)
                if size == "large" and mode == "forward":
                    if backend_id not in GPU_MODES:  # the host's bandwidth
                        row.bw_multiple = to / (in_mb * 1e6 / (bw * 1e9)) if bw else math.nan
                    if memory and backend_id not in GPU_MODES:
                        row.peak_ours_mb = peak_extra_mb(fo)
                        row.peak_peer_mb = peak_extra_mb(ft)
                rows.append(row)
                log(_line(row))
        del ours, args, peer_args
    return rows


def jax_or_plain(fn: Callable[..., Any], backend_id: str) -> Callable[..., Any]:
    if backend_id in ("jax:jit", "jax:gpu"):
        import jax

        return jax.jit(fn)
    return fn


def _impl(fn: Callable[..., Any], args: list[Any], grad_args: Sequence[int], backend_id: str,
          label: str) -> Impl:
    if backend_id.startswith("torch"):
        return _torch_impls(fn, args, grad_args, label)
    if backend_id.startswith("jax"):
        return _jax_impls(fn, args, grad_args, backend_id in ("jax:jit", "jax:gpu"), label)
    return Impl(label, lambda: fn(*args), None)


def _vocab_rows(backends: Sequence[str], log: Callable[[str], None]) -> list[Row]:
    """Sparse cross-entropy over a 50k vocabulary: peak extra memory vs the logits' size."""
    try:
        record = catalog.get("cross_entropy")
    except KeyError:
        return []
    rng = np.random.default_rng(0)
    b, v = VOCAB
    logits = rng.normal(size=(b, v)).astype(np.float32)
    labels = rng.integers(0, v, size=(b,))
    rows = []
    for backend_id in backends:
        if backend_id == "jax:eager" or backend_id not in BACKEND_MODES:
            continue  # peak memory is measured on the host
        lib = BACKEND_MODES[backend_id][0]
        args = _convert(lib, [logits, labels])
        peers = _peers(record, lib)
        impls = [_impl(record.fn, args, (0,), backend_id, "arrayloss")]
        impls += [_impl(p.fn, args, (0,), backend_id, p.library) for p in peers[:1]]
        for mode in BACKEND_MODES[backend_id][1]:
            peaks = []
            for im in impls:
                f = im.fwd if mode == "forward" else im.fb
                peaks.append(peak_extra_mb(f) if f is not None else math.nan)
            row = Row("cross_entropy (50k vocab)", backend_id, mode,
                      impls[1].label if len(impls) > 1 else "-", "vocab", logits.size,
                      input_mb=logits.nbytes / 1e6, peak_ours_mb=peaks[0],
                      peak_peer_mb=peaks[1] if len(peaks) > 1 else math.nan,
                      note=f"logits {b}x{v} float32")
            rows.append(row)
            log(f"  {row.loss} {backend_id} {mode}: peak extra {peaks[0]:.1f} MB "
                f"(logits {row.input_mb:.1f} MB)")
    return rows


def _line(r: Row) -> str:
    extra = ""
    if not math.isnan(r.bw_multiple):
        extra = f"  {r.bw_multiple:.2f}x bw"
    if not math.isnan(r.peak_ours_mb):
        extra += f"  peak {r.peak_ours_mb:.0f}/{r.peak_peer_mb:.0f} MB"
    return (f"  {r.loss:28s} {r.backend:9s} {r.mode:16s} {r.size:6s} {r.n:>9d} "
            f"{r.ratio:6.2f}x {r.peer:34s} {r.ours_us:10.1f} us {r.delta_us:+9.1f} us "
            f"[{r.agree}]{extra}")


# ---------------------------------------------------------------------------------------
# goals


def _fmt(x: float, spec: str = ".2f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def _goal_losses(goal: str) -> set[str]:
    """The losses whose records take part in ``goal``."""
    return {r.name for r in catalog.records() if goal in r.goals}


def _short(peer: str) -> str:
    """A peer's name without its package path and call options."""
    peer = re.sub(r"\s*\(.*\)$", "", peer)
    for long, short in (("torch.nn.functional.", "F."), ("optax.losses.", "optax."),
                        ("monai.losses.", "monai."), ("kornia.losses.", "kornia."),
                        ("keras.losses.", "keras.")):
        peer = peer.replace(long, short)
    return peer


#: peers that are formulas written with torch operators (the target there is <= 1.0x)
FORMULA_PEERS = ("kornia.", "monai.", "torchvision")


def goals(rows: Sequence[Row], setting: Setting) -> list[dict[str, Any]]:
    """Each performance target, met or not, with the rows that decide it."""
    ok = [r for r in rows if r.agree == "ok" and r.malloc == "pinned"]
    out: list[dict[str, Any]] = []

    def goal(name: str, checked: list[Row], bad: list[Row], how: Callable[[Row], str]) -> None:
        out.append({"goal": name, "checked": len(checked),
                    "met": bool(checked) and not bad,
                    "failing": [f"{r.loss} ({r.backend}, {r.mode}, vs {_short(r.peer)}): "
                                f"{how(r)}" for r in bad]})

    def ratio(r: Row) -> str:
        return f"{r.ratio:.2f}x"

    large = [r for r in ok if r.size == "large"]
    tf = [r for r in large if r.backend == "torch" and r.peer.startswith("torch.nn.functional")]
    goal("large: torch eager <= 1.05x torch.nn.functional (forward and forward + backward)",
         tf, [r for r in tf if r.ratio > 1.05], ratio)
    jx = [r for r in large if r.backend == "jax:jit" and r.peer.startswith("optax")]
    goal("large: JAX under jit <= 1.05x optax (forward and value_and_grad)", jx,
         [r for r in jx if r.ratio > 1.05], ratio)
    hw = [r for r in large if r.backend == "numpy" and r.peer.startswith("hand-written")]
    goal("large: NumPy <= 1.05x the hand-written NumPy formula", hw,
         [r for r in hw if r.ratio > 1.05], ratio)
    fp = [r for r in large if r.backend == "torch" and r.peer.startswith(FORMULA_PEERS)]
    goal("large: torch eager <= 1.0x the formula peers (kornia, MONAI, torchvision formulas)",
         fp, [r for r in fp if r.ratio > 1.0], ratio)
    ts = [r for r in ok if r.backend == "torch" and r.size == "small" and r.mode == "forward"]
    goal("small: torch eager forward <= +10 us per call", ts,
         [r for r in ts if r.delta_us > 10], lambda r: f"{r.delta_us:+.1f} us")
    small = [r for r in ok if r.backend == "numpy" and r.size == "small"
             and r.peer.startswith("hand-written")]
    goal("small: NumPy <= +5 us per call (hand-written NumPy)", small,
         [r for r in small if r.delta_us > 5], lambda r: f"{r.delta_us:+.1f} us")
    mb = [r for r in large if r.backend in ("torch", "jax:jit") and r.mode == "forward"
          and r.n >= SIZES["large"] and not math.isnan(r.bw_multiple)
          and r.loss in _goal_losses("memory-bound")]
    seen: dict[tuple[str, str], Row] = {}
    for r in mb:
        seen.setdefault((r.loss, r.backend), r)
    mb = list(seen.values())
    goal(catalog.GOALS["memory-bound"], mb, [r for r in mb if r.bw_multiple > 1.5],
         lambda r: f"{r.bw_multiple:.2f}x")
    vv = [r for r in rows if r.size == "vocab" and r.mode == "forward"]
    goal("sparse cross-entropy, 50k classes: peak extra memory <= 2x the logits (forward)", vv,
         [r for r in vv if not r.peak_ours_mb <= 2 * r.input_mb],
         lambda r: f"{r.peak_ours_mb:.1f} MB for {r.input_mb:.1f} MB of logits")
    return out


def _key(r: dict[str, Any]) -> tuple[str, ...]:
    return (r["loss"], r["backend"], r["mode"], r["size"], r["peer"], r.get("malloc", ""))


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` results (a ``bench.json``) with the rows of the partial run ``new`` in place
    of theirs (same loss, backend, mode, size, peer and allocator), new rows appended, the
    setting updated by the newer one, and the goals decided again over every row."""
    fresh = {_key(r): r for r in new["rows"]}
    rows = [fresh.pop(_key(r), r) for r in old["rows"]] + list(fresh.values())
    fields = set(Row.__dataclass_fields__)
    both = {**old["setting"], **{k: {**old["setting"].get(k, {}), **v} if isinstance(v, dict)
                                  else v for k, v in new["setting"].items()}}
    setting = Setting(**{k: v for k, v in both.items() if k in Setting.__dataclass_fields__})
    decided = goals([Row(**{k: math.nan if v is None else v for k, v in r.items()
                            if k in fields}) for r in rows], setting)
    return _jsonable({"setting": asdict(setting), "goals": decided, "rows": rows})


# ---------------------------------------------------------------------------------------
# output


def markdown(rows: Sequence[Row], setting: Setting, goal_list: Sequence[dict[str, Any]]) -> str:
    """The results as Markdown: setting, goals, one table per backend."""
    lines = [f"Measured with arrayloss {setting.version}, Python {setting.python}, "
             f"{setting.machine}; " + ", ".join(f"{k} {v}" for k, v in setting.libraries.items())
             + ".", "",
             "Allocator: " + (", ".join(f"`{k}={v}`" for k, v in setting.malloc.items())
                              or "glibc defaults") + " (rows marked *default malloc* ran "
             "without). Read bandwidth (sum over 256 MB): "
             + ", ".join(f"{k} {v} GB/s" for k, v in setting.bandwidth_gbs.items())
             + f". Intra-op threads of torch and XLA: {setting.threads}. GPU: {setting.gpu}.",
             "",
             "Ratio = arrayloss / peer, the median of interleaved per-pair ratios (below 1 "
             "is faster); Δ = difference of the median times; `xbw` = forward time as a "
             "multiple of input bytes / best read bandwidth; peak = extra resident memory of "
             "one forward call, arrayloss / peer. float32 inputs.", "",
             "### Goals", "", "| goal | rows | met | failing (measured) |", "|---|---|---|---|"]
    for g in goal_list:
        fail = "; ".join(g["failing"][:12]) + (" …" if len(g["failing"]) > 12 else "")
        lines.append(f"| {g['goal']} | {g['checked']} | {'yes' if g['met'] else 'no'} | "
                     f"{fail or '-'} |")
    lines.append("")
    for backend in dict.fromkeys(r.backend for r in rows):
        sub = [r for r in rows if r.backend == backend and r.size != "vocab"]
        if not sub:
            continue
        lines += [f"### {backend}", "",
                  "| loss | mode | peer | small ratio (Δ µs) | medium ratio | large ratio "
                  "(n) | large µs ours / peer | xbw | peak MB | agree |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        keys = dict.fromkeys((r.loss, r.mode, r.peer, r.malloc) for r in sub)
        for loss, mode, peer, malloc in keys:
            cell = {r.size: r for r in sub if (r.loss, r.mode, r.peer, r.malloc)
                    == (loss, mode, peer, malloc)}
            s, m, lg = cell.get("small"), cell.get("medium"), cell.get("large")
            name = loss + (" *default malloc*" if malloc != "pinned" else "")
            agree = next(iter(cell.values())).agree
            lines.append(
                f"| {name} | {mode} | {peer} | "
                + (f"{s.ratio:.2f} ({s.delta_us:+.1f})" if s else "-") + " | "
                + (f"{m.ratio:.2f}" if m else "-") + " | "
                + (f"{lg.ratio:.2f} ({lg.n:.0e})" if lg else "-") + " | "
                + (f"{lg.ours_us:.0f} / {lg.peer_us:.0f}" if lg else "-") + " | "
                + (_fmt(lg.bw_multiple) if lg else "-") + " | "
                + (f"{_fmt(lg.peak_ours_mb, '.0f')} / {_fmt(lg.peak_peer_mb, '.0f')}"
                   if lg and not math.isnan(lg.peak_ours_mb) else "-") + f" | {agree} |")
        lines.append("")
    vocab = [r for r in rows if r.size == "vocab"]
    if vocab:
        lines += ["### Sparse cross-entropy, 50k-class vocabulary (peak extra memory)", "",
                  "| backend | mode | logits MB | arrayloss MB | peer | peer MB |",
                  "|---|---|---|---|---|---|"]
        for r in vocab:
            lines.append(f"| {r.backend} | {r.mode} | {r.input_mb:.1f} | "
                         f"{_fmt(r.peak_ours_mb, '.1f')} | {r.peer} | "
                         f"{_fmt(r.peak_peer_mb, '.1f')} |")
        lines.append("")
    return "\n".join(lines)


def _libraries() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for mod in ("numpy", "torch", "jax", "optax", "keras", "monai", "kornia"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[mod] = md.version(mod)
    return out


def _gpu() -> str:
    reasons = []
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            return f"torch sees {torch.cuda.get_device_name(0)} (GPU rows not implemented here)"
        reasons.append("torch sees no CUDA device")
    if importlib.util.find_spec("cupy") is None:
        reasons.append("CuPy not installed")
    return "unavailable (" + "; ".join(reasons) + ")"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def run(losses: Sequence[str] | None = None, backends: Sequence[str] | None = None,
        sizes: Sequence[str] = ("small", "medium", "large"),
        modes: Sequence[str] = ("forward", "forward+backward"), memory: bool = True,
        vocab: bool = True, log: Callable[[str], None] = print) -> tuple[list[Row], Setting]:
    """Measure; returns the rows and the setting."""
    setting = Setting(malloc={k: os.environ[k] for k in PINNED if k in os.environ},
                      libraries=_libraries(), gpu=_gpu())
    avail = [b for b in BACKEND_MODES if importlib.util.find_spec(BACKEND_MODES[b][0])]
    avail += [b for b in GPU_MODES if backends and b in backends]  # asked for: must run
    backends = [b for b in (backends or avail) if b in avail]
    recs = [r for r in catalog.records() if losses is None or r.name in losses]
    with _quiet():
        # the host's read bandwidth (GPU rows do not use it)
        setting.bandwidth_gbs = _bandwidth() if any(b not in GPU_MODES for b in backends) else {}
        bw = max(setting.bandwidth_gbs.values(), default=0.0)
        log(f"read bandwidth (GB/s): {setting.bandwidth_gbs}")
        rows: list[Row] = []
        for record in recs:
            for b in backends:
                try:
                    rows += _measure_loss(record, b, sizes, modes, memory, bw, log)
                except Exception as exc:  # one broken loss must not lose the whole table
                    log(f"  {record.name} {b}: {type(exc).__name__}: {exc}")
        if vocab and (losses is None or "cross_entropy" in losses):
            rows += _vocab_rows(backends, log)
    return rows, setting


def _out_of_the_box(argv: Sequence[str], log: Callable[[str], None]) -> list[Row]:
    """Re-run a few large cases in a child process with glibc's default allocator."""
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    env[_CHILD] = "1"
    threads = argv[1] if len(argv) > 1 else "1"
    names = [r.name for r in catalog.records() if r.name in
             ("mse_loss", "smooth_l1_loss", "cross_entropy", "binary_cross_entropy_with_logits")]
    if not names:
        return []
    out = os.path.join(argv[0], "default-malloc") if argv else "default-malloc"
    cmd = [sys.executable, os.path.abspath(__file__), "--losses", ",".join(names),
           "--sizes", "large", "--backends", "numpy,torch,jax:jit", "--no-memory",
           "--no-vocab", "--no-default-malloc", "--out", out, "--quiet",
           "--threads", str(threads)]
    log("out-of-the-box allocator: " + " ".join(cmd[2:]))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        log(proc.stderr[-2000:])
        return []
    with open(os.path.join(out, "bench.json")) as fh:
        data = json.load(fh)
    rows = [Row(**{k: math.nan if v is None else v for k, v in r.items()})  # type: ignore[arg-type]
            for r in data["rows"]]
    for r in rows:
        r.malloc = "default"
    return rows


def _thread_env(threads: int) -> dict[str, str]:
    """XLA reads its thread settings at import: they go through the environment."""
    if threads != 1:
        return {}
    flags = os.environ.get("XLA_FLAGS", "")
    if "multi_thread_eigen" in flags:
        return {}
    return {"XLA_FLAGS": (flags + " --xla_cpu_multi_thread_eigen=false "
                          "intra_op_parallelism_threads=1").strip()}


def _jsonable(obj: Any) -> Any:
    """NaN becomes null (strict JSON)."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python benchmarks/engine.py",
        description="Time arrayloss against each framework's own losses, side by side.")
    p.add_argument("--losses", help="comma-separated loss names (default: every registered "
                   "loss with a peer)")
    p.add_argument("--backends", help="comma-separated: " + ", ".join(
        [*BACKEND_MODES, *GPU_MODES]) + " (default: the CPU backends installed)")
    p.add_argument("--sizes", default="small,medium,large",
                   help="comma-separated of small (1k), medium (100k), large (10M)")
    p.add_argument("--modes", default="forward,forward+backward")
    p.add_argument("--out", default=os.path.join("benchmarks", "results"),
                   help="directory for bench.json and bench.md")
    p.add_argument("--no-memory", action="store_true", help="skip peak-memory measurements")
    p.add_argument("--no-vocab", action="store_true", help="skip the 50k-vocabulary case")
    p.add_argument("--no-default-malloc", action="store_true",
                   help="skip the out-of-the-box allocator rows")
    p.add_argument("--no-pin", action="store_true",
                   help="do not re-execute with the pinned allocator settings")
    p.add_argument("--threads", type=int, default=1,
                   help="intra-op threads of torch and XLA (default 1: stable ratios on a "
                   "shared machine; NumPy is single-threaded anyway)")
    p.add_argument("--no-validate", action="store_true",
                   help="time arrayloss with its value checks off (set_options(validate="
                   "False)): what the checks cost, next to a default run")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(list(argv or []))

    if not args.no_pin and os.environ.get(_CHILD) is None and any(
            os.environ.get(k) != v for k, v in PINNED.items()):
        env = {**os.environ, **PINNED, **_thread_env(args.threads), _CHILD: "pinned"}
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__),
                                   *list(argv or [])], env)
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    log = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    t0 = time.perf_counter()
    losses = args.losses.split(",") if args.losses else None
    if losses:
        unknown = set(losses) - {r.name for r in catalog.records()}
        if unknown:
            p.error("unknown loss names: " + ", ".join(sorted(unknown)))
    backends = args.backends.split(",") if args.backends else None
    if args.no_validate:
        import arrayloss

        arrayloss.set_options(validate=False)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(args.threads)
    rows, setting = run(losses, backends, args.sizes.split(","), args.modes.split(","),
                        memory=not args.no_memory, vocab=not args.no_vocab, log=log)
    setting.threads = args.threads
    setting.validate = not args.no_validate
    if not args.no_default_malloc and os.environ.get(_CHILD) != "1":
        rows += _out_of_the_box([args.out, str(args.threads)], log)
    goal_list = goals(rows, setting)
    md = markdown(rows, setting, goal_list)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench.json"), "w") as fh:
        json.dump(_jsonable({"setting": asdict(setting), "goals": goal_list,
                             "rows": [asdict(r) for r in rows]}), fh, indent=1)
    with open(os.path.join(args.out, "bench.md"), "w") as fh:
        fh.write(md + "\n")
    if not args.quiet:
        print()
        print(md)
        print(f"{len(rows)} rows in {time.perf_counter() - t0:.0f} s; written to "
              f"{os.path.join(args.out, 'bench.json')} and bench.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
