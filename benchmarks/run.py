"""Run the side-by-side benchmark and refresh the docs page.

    python benchmarks/run.py                 # full run: results in benchmarks/results/
    python benchmarks/run.py --quick         # small and medium sizes only
    python benchmarks/run.py --docs          # also copy bench.json to docs/benchmarks.json

The engine is ``benchmarks/engine.py`` (also ``python -m arrayloss bench`` from a
checkout): every loss
with a peer, small / medium / large inputs, forward and forward+backward, interleaved
repeats, with the allocator pinned (the engine re-executes itself) and an out-of-the-box
row. Extra arguments are passed through (``--losses``, ``--backends``, ``--threads``...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main(argv: list[str]) -> int:
    docs = "--docs" in argv
    args = [a for a in argv if a != "--docs"]
    if "--quick" in args:
        args = [a for a in args if a != "--quick"] + ["--sizes", "small,medium"]
    out = os.path.join(HERE, "results")
    rc = subprocess.call([sys.executable, os.path.join(HERE, "engine.py"), "--out", out, *args],
                         cwd=ROOT)
    if rc == 0 and docs:
        # the docs build draws the performance page's charts and tables from this file
        shutil.copyfile(os.path.join(out, "bench.json"),
                        os.path.join(ROOT, "docs", "benchmarks.json"))
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
