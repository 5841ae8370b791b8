"""Operators dispatched per call: arrayloss next to the framework's own loss, on torch.

    python benchmarks/dispatch.py            # a Markdown table on stdout
    python benchmarks/dispatch.py --json F   # and the counts as JSON
    python benchmarks/dispatch.py --docs     # and as docs/benchmarks-dispatch.json (the page)

Per loss with about 1,000 input elements (the catalogue's ``sized`` inputs, the benchmark's
options): the ATen operators one call dispatches, forward and forward + backward, with the
default options on CPU tensors (values checked: the scalar reads are counted too) and under
the device policy (what a CUDA tensor gets: no value checks); and the leanest torch peer's.
On a GPU every operator is a kernel launch of a few microseconds. Counting is deterministic;
``tests/test_dispatch.py`` keeps each loss within its budget.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sys


def main(argv: list[str]) -> int:
    import torch

    from arrayloss import catalog
    from arrayloss.testing import dispatch

    torch.set_num_threads(1)
    rows = [dispatch.counts(r) for r in catalog.records() if r.sized is not None]
    print("| loss | peer | forward: ours (device) / peer | forward + backward: ours (device)"
          " / peer | scalar reads (CPU) |")
    print("|---|---|---|---|---|")
    for c in rows:
        peer_f = "" if c.peer_forward is None else f" / {c.peer_forward}"
        peer_b = "" if c.peer_backward is None else f" / {c.peer_backward}"
        bwd = "—" if c.backward is None else f"{c.backward} ({c.device_backward}){peer_b}"
        print(f"| `{c.loss}` | {c.peer or '—'} | {c.forward} ({c.device_forward}){peer_f} | "
              f"{bwd} | {c.syncs} |")
    data = {"setting": {"torch": torch.__version__.split("+")[0], "elements": 1000},
            "rows": [dataclasses.asdict(c) for c in rows]}
    paths = [argv[argv.index("--json") + 1]] if "--json" in argv else []
    if "--docs" in argv:
        paths.append(str(pathlib.Path(__file__).resolve().parents[1] / "docs"
                         / "benchmarks-dispatch.json"))
    for path in paths:
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
