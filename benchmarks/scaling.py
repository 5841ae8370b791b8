"""Time per call against input size, 1e2 to 1e8 elements, for three representative losses
on each CPU backend, next to the framework's own loss: where the fixed cost of a call ends
and memory bandwidth begins.

    python benchmarks/scaling.py               # results/scaling.json and a table on stdout
    python benchmarks/scaling.py --docs        # also copy it to docs/benchmarks-scaling.json

Forward calls, float32, one intra-op thread (the engine's settings), interleaved with the
peer; a size is skipped once a call of arrayloss takes longer than ``MAX_CALL_S``. The docs
build draws the chart from the copied file (``docs/gen_benchmarks.py``).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

LOSSES = ("mse_loss", "cross_entropy", "dice_loss")
BACKENDS = ("numpy", "torch", "jax:jit")
SIZES = tuple(10 ** k for k in range(2, 9))
MAX_CALL_S = 1.5


def measure(log: Any = print) -> dict[str, Any]:
    """Every (loss, backend, size): arrayloss's and its first peer's median time."""
    import importlib.util

    import engine
    from arrayloss import catalog
    from arrayloss.testing import timing

    if importlib.util.find_spec("torch"):
        import torch

        torch.set_num_threads(1)
    rows = []
    for loss in LOSSES:
        rec = catalog.get(loss)
        opts = dict(rec.timing_options)
        ours_fn = functools.partial(rec.fn, **opts) if opts else rec.fn
        for backend in BACKENDS:
            lib = engine.BACKEND_MODES[backend][0]
            if importlib.util.find_spec(lib) is None:
                continue
            # NumPy: the formula written by hand; elsewhere the framework's own loss
            peers = sorted(engine._peers(rec, lib),
                           key=lambda p: p.timing_only != (backend == "numpy"))
            peer = peers[0] if peers else None
            for n in SIZES:
                args = engine._convert(backend, rec.sized(np.random.default_rng(0), n))
                ours = engine._impl(ours_fn, args, (), backend, "arrayloss")
                if peer is None:
                    to, _, _, reps = timing.interleaved(ours.fwd, ours.fwd, budget_s=0.3,
                                                        min_reps=3, max_reps=30)
                    tt = None
                else:
                    pfn = functools.partial(peer.fn, **opts) if opts else peer.fn
                    theirs = engine._impl(pfn, args, (), backend, peer.library)
                    to, tt, _, reps = timing.interleaved(ours.fwd, theirs.fwd, budget_s=0.3,
                                                         min_reps=3, max_reps=30)
                elements = sum(int(np.prod(a.shape)) for a in args)
                rows.append({"loss": loss, "backend": backend, "n": n, "elements": elements,
                             "bytes": sum(int(np.prod(a.shape)) * a.dtype.itemsize
                                          for a in args),
                             "ours_us": to * 1e6, "peer": peer.library if peer else None,
                             "peer_us": None if tt is None else tt * 1e6, "reps": reps})
                log(f"{loss:14s} {backend:8s} {n:>11,} ours {to * 1e6:12.1f} us"
                    + ("" if tt is None else f"  {peer.library if peer else ''} "
                       f"{tt * 1e6:12.1f} us"))
                del args, ours
                if to > MAX_CALL_S:
                    break
    with engine._quiet():
        bandwidth = engine._bandwidth()
    return {"setting": {"libraries": engine._libraries(), "threads": 1,
                        "bandwidth_gbs": bandwidth}, "rows": rows}


def main(argv: list[str]) -> int:
    import engine

    os.environ.setdefault("KERAS_BACKEND", "numpy")  # Keras peers without TensorFlow
    os.environ.update(engine._thread_env(1))  # XLA on one thread, as torch (read at import)
    data = measure()
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "scaling.json")
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1)
    if "--docs" in argv:
        shutil.copyfile(path, os.path.join(os.path.dirname(HERE), "docs",
                                           "benchmarks-scaling.json"))
    print(f"{len(data['rows'])} rows written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
