"""``python -m arrayloss``: which backends are installed, and for every registered loss on every
backend, whether it agrees with the float64 NumPy result, whether gradients and jit/compile
work, and how its time compares with the framework's own implementation.

NumPy alone is enough: missing backends are listed with the command that installs them.
Run ``python -m arrayloss --help`` for the options.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import importlib.util
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import __version__, catalog
from .testing import backends
from .testing.timing import interleaved

_GRAD_BACKENDS = ("torch", "jax")
_ROW_BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "dask", "cupy", "torch:cuda",
                 "jax:gpu")
_MODE_OF = {"torch": "torch:compile", "jax": "jax", "dask": "dask",
            "torch:cuda": "torch:cuda", "jax:gpu": "jax:gpu"}


def _version(module: str) -> str:
    dist = {"array_api_strict": "array-api-strict", "dask": "dask"}.get(module, module)
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _eager(b: backends.Backend) -> backends.Backend:
    """The eager variant of a backend row (jax rows run eagerly for the agreement column)."""
    if b.mode == "jit":
        return backends.Backend(b.id + ":eager", b.module, mode="eager", gpu=b.gpu)
    return b


def _close(a: np.ndarray, b: np.ndarray, dtype: str = "float64") -> bool:
    rtol, atol = (1e-10, 1e-12) if dtype == "float64" else (1e-5, 1e-6)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def _time_against_peer(record: catalog.Record, b: backends.Backend, size: int
                         ) -> tuple[str, float] | None:
    """(peer library, ratio arrayloss / peer) at ``size`` elements, or None."""
    if record.sized is None:
        return None
    backend_key = "torch" if b.module == "torch" else b.module
    for peer in record.peers:
        if (peer.backend != backend_key or backend_key == "numpy" or peer.timing_only
                or not peer.accepts({})):
            continue
        if importlib.util.find_spec(peer.module) is None:
            continue
        args, _ = b.convert(record.sized(np.random.default_rng(0), size), {}, "float32")
        ours_fn: Callable[..., Any] = record.fn
        theirs_fn: Callable[..., Any] = peer.fn
        if peer.jit:
            import jax

            ours_fn, theirs_fn = jax.jit(record.fn), jax.jit(peer.fn)
        ratio = interleaved(functools.partial(ours_fn, *args),
                                   functools.partial(theirs_fn, *args))[2]
        return peer.library, ratio
    if b.module == "numpy":
        args, _ = b.convert(record.sized(np.random.default_rng(0), size), {}, "float64")
        ratio = interleaved(lambda: record.fn(*args),
                                   lambda: record.reference(*args))[2]
        return "NumPy reference", ratio
    return None


def _row(record: catalog.Record, b: backends.Backend, timing: bool, size: int
         ) -> dict[str, Any]:
    """One (loss, backend) row of the report."""
    row: dict[str, Any] = {"loss": record.name, "backend": b.id}
    reason = record.unsupported.get(b.id) or record.unsupported.get(b.module)
    if reason:
        row.update(agree="unsupported", grad="-", jit="-", time="-", note=reason)
        return row
    case = record.cases[0]
    args, kw = case.inputs()
    want = np.asarray(record.fn(*args, **case.options, **kw))
    try:
        eager = _eager(b)
        conv, ckw = eager.convert(args, kw, "float64")
        got = eager.to_numpy(eager.call(record.fn, conv, {**case.options, **ckw}))
        row["agree"] = "ok" if _close(got, want) else "MISMATCH"
    except Exception as exc:  # report, don't crash the whole table
        row["agree"] = f"error: {type(exc).__name__}"
    row["grad"] = "-"
    if b.module in _GRAD_BACKENDS and record.grad_args:
        gcase = next((c for c in record.cases if c.grad == "fd"), None)
        try:
            if gcase is None:
                gcase = case
            gargs, gkw = gcase.inputs()
            opts = {**gcase.options, **gkw}
            grads = _eager(b).grad(record.fn, gargs, opts, record.grad_args)
            ok = all(np.all(np.isfinite(g)) for g in grads)
            if ok and gcase.grad == "fd":
                for i, g in zip(record.grad_args, grads):
                    fd = backends.finite_difference(record.fn, gargs, opts, i)
                    ok = ok and bool(np.allclose(g, fd, rtol=1e-5, atol=1e-8))
            row["grad"] = "ok" if ok else "MISMATCH"
        except Exception as exc:
            row["grad"] = f"error: {type(exc).__name__}"
    row["jit"] = "-"
    mode_id = _MODE_OF.get(b.id)
    if mode_id is not None and backends.by_id(mode_id).mode in ("compile", "jit", "lazy"):
        mb = backends.by_id(mode_id)
        try:
            conv, ckw = mb.convert(args, kw, "float64")
            got = mb.to_numpy(mb.call(record.fn, conv, {**case.options, **ckw}))
            label = {"compile": "compile", "jit": "jit", "lazy": "lazy"}[mb.mode]
            row["jit"] = f"{label} ok" if _close(got, want) else f"{label} MISMATCH"
        except Exception as exc:
            row["jit"] = f"error: {type(exc).__name__}"
    row["time"] = "-"
    if timing:
        try:
            res = _time_against_peer(record, b, size)
            if res is not None:
                row["time"] = f"{res[1]:.2f}x {res[0]}"
                row["ratio"], row["native"] = res[1], res[0]
        except Exception as exc:
            row["time"] = f"error: {type(exc).__name__}"
    return row


def _table(rows: Sequence[dict[str, Any]], cols: Sequence[str]) -> str:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths)))
    return "\n".join(out)


def report(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m arrayloss",
        description="Backend report: agreement with float64 NumPy, gradients, jit/compile "
                    "and time relative to each framework's own loss, for every registered loss.",
    )
    p.add_argument("--backends", help="comma-separated backend ids (default: all installed)")
    p.add_argument("--losses", help="comma-separated loss names (default: all)")
    p.add_argument("--family", help="only this family")
    p.add_argument("--no-timing", action="store_true", help="skip the timing column")
    p.add_argument("--size", type=int, default=100_000,
                   help="elements of the timing inputs (default 100000)")
    p.add_argument("--no-adapters", action="store_true",
                   help="skip the rows of arrayloss.torch and arrayloss.keras")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = p.parse_args(argv)

    warnings.filterwarnings("ignore")
    backends.configure()
    print(f"arrayloss {__version__}: losses written once against the array API")
    print()
    print("Backends")
    rows_b = []
    usable: list[backends.Backend] = []
    wanted = set(args.backends.split(",")) if args.backends else None
    for bid in _ROW_BACKENDS:
        b = backends.by_id(bid)
        ok, reason = b.available()
        if wanted is not None and bid not in wanted:
            continue
        status = f"yes ({_version(b.module)})" if ok else f"missing: {reason[:70]}"
        rows_b.append({"backend": bid, "status": status})
        if ok:
            usable.append(b)
    print(_table(rows_b, ["backend", "status"]))
    print()

    recs = catalog.records(args.family)
    if args.losses:
        names = set(args.losses.split(","))
        unknown = names - {r.name for r in recs}
        if unknown:
            p.error(f"unknown loss names: {', '.join(sorted(unknown))}")
        recs = [r for r in recs if r.name in names]
    rows = []
    t0 = time.perf_counter()
    for record in recs:
        for b in usable:
            rows.append(_row(record, b, not args.no_timing, args.size))
    print(f"Losses ({len(recs)} registered; first catalogue case in float64; timing at "
          f"{args.size} float32 elements, ratio = arrayloss / native, median of interleaved "
          "repeats; jax timed under jit)")
    print(_table(rows, ["loss", "backend", "agree", "grad", "jit", "time"]))
    bad = [r for r in rows if "MISMATCH" in str(r.values()) or "error" in
           " ".join(str(r.get(c, "")) for c in ("agree", "grad", "jit"))]
    print()
    print(f"{len(rows)} rows in {time.perf_counter() - t0:.1f} s; "
          f"{len(bad)} with a mismatch or error.")
    adapter_rows: list[dict[str, str]] = []
    if not args.no_adapters:
        from .testing import adapters

        adapter_rows = adapters.report()
        print()
        print("Adapters (torch modules and Keras losses; each class against its core function "
              "on a catalogue case, float64)")
        print(_table(adapter_rows, ["adapter", "imports", "classes", "agrees"]))
        bad += [r for r in adapter_rows if "MISMATCH" in r["agrees"] + r["classes"]]
    missing = [r for r in rows_b if r["status"].startswith("missing")]
    if missing:
        print("Missing backends are skipped; install them with:")
        for r in missing:
            print(f"  {r['backend']}: {backends.by_id(r['backend']).install}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"version": __version__, "backends": rows_b, "rows": rows,
                       "adapters": adapter_rows}, fh,
                      indent=1, default=lambda o: None if isinstance(o, float) and
                      math.isnan(o) else str(o))
    return 1 if bad else 0


def main(argv: Sequence[str] | None = None) -> int:
    # the Keras adapter row runs Keras on NumPy unless the user chose a backend
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        return _bench(argv[1:])
    return report(argv)


def _bench(argv: list[str]) -> int:
    """``python -m arrayloss bench``: run the benchmark engine of the repository this
    package is installed from (an editable install); the engine is not in the wheel."""
    engine = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "benchmarks", "engine.py")
    if not os.path.isfile(engine):
        print("python -m arrayloss bench: the benchmark engine lives in the arrayloss "
              "repository (benchmarks/engine.py), not in the installed package; from a "
              "checkout run `python benchmarks/run.py` or `nox -s bench`", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, engine, *argv])


if __name__ == "__main__":
    raise SystemExit(main())
