"""Run the side-by-side benchmark and refresh the docs page.

    python benchmarks/run.py                 # full run: results in benchmarks/results/
    python benchmarks/run.py --quick         # small and medium sizes only
    python benchmarks/run.py --docs          # also copy bench.json to docs/benchmarks.json
    python benchmarks/run.py --docs --losses mse_loss   # rerun some rows, merged into it

The engine is ``benchmarks/engine.py`` (also ``python -m arrayloss bench`` from a
checkout): every loss
with a peer, small / medium / large inputs, forward and forward+backward, interleaved
repeats, with the allocator pinned (the engine re-executes itself) and an out-of-the-box
row. Extra arguments are passed through (``--losses``, ``--backends``, ``--threads``...).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main(argv: list[str]) -> int:
    docs = "--docs" in argv
    args = [a for a in argv if a != "--docs"]
    if docs and "--no-validate" in args:
        print("run.py: the docs page times the default options; drop --no-validate or --docs",
              file=sys.stderr)
        return 2
    if "--quick" in args:
        args = [a for a in args if a != "--quick"] + ["--sizes", "small,medium"]
    out = os.path.join(HERE, "results")
    rc = subprocess.call([sys.executable, os.path.join(HERE, "engine.py"), "--out", out, *args],
                         cwd=ROOT)
    if rc == 0 and docs:
        # the docs build draws the performance page's charts and tables from this file
        target = os.path.join(ROOT, "docs", "benchmarks.json")
        partial = any(a in args for a in ("--losses", "--backends", "--sizes", "--modes"))
        if partial and os.path.exists(target):  # a rerun of some rows: merged into the page's
            sys.path.insert(0, HERE)
            import engine

            with open(os.path.join(out, "bench.json")) as f, open(target) as g:
                merged = engine.merge(json.load(g), json.load(f))
            with open(target, "w") as f:
                json.dump(merged, f, indent=1)
        else:
            shutil.copyfile(os.path.join(out, "bench.json"), target)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
