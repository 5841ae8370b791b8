"""The GPU check in one command (``.ci/gpu OUT`` calls it on a GPU machine):

1. the ``cupy``, ``torch:cuda`` and ``jax:gpu`` rows of the test suite (4 workers);
2. host syncs: every loss's catalogue cases on CUDA tensors under
   ``torch.cuda.set_sync_debug_mode("error")`` (a call that waits for the device fails);
3. operators (kernel launches) per call on CUDA tensors, next to the leanest torch peer;
4. the GPU benchmark: arrayloss against ``torch.nn.functional`` on CUDA, against optax
   under ``jit`` on the GPU, and on CuPy against the CUDA torch peers;

and writes ``gpu-report.json`` and ``gpu-report.md`` (with the test log, the JUnit file and
the benchmark's own tables) into OUT. Each step has a share of the time budget (``--budget-s``,
default 460 s) and the report says what did not finish.

``--dry-run`` runs the same steps on the CPU (torch CPU tensors under the device policy, JAX
on the CPU, a few losses, small inputs): it checks the script, not a GPU.

    python benchmarks/gpu.py OUT [--dry-run] [--budget-s 460]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROWS = ("cupy", "torch:cuda", "jax:gpu")
#: losses the GPU benchmark times (those with a torch.nn.functional or optax peer first)
BENCH_LOSSES = (
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_divergence", "ctc_loss",
    "sigmoid_focal_loss", "softmax_focal_loss", "giou_loss", "dice_loss", "hinge_loss",
    "triplet_margin_loss", "cosine_embedding_loss", "lovasz_softmax_loss",
)
# test workers sharing the card (each holds a CUDA context and a JAX client, ~1 GiB)
WORKERS = max(2, min(8, (os.cpu_count() or 2) // 2))
DRY_LOSSES = ("mse_loss", "cross_entropy", "giou_loss")


def _log(msg: str) -> None:
    print(f"[gpu {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def setting(dry: bool) -> dict[str, Any]:
    """The card and the libraries."""
    out: dict[str, Any] = {"dry_run": dry, "python": sys.version.split()[0]}
    for lib in ("numpy", "torch", "jax", "cupy", "optax", "arrayloss"):
        try:
            out[lib] = __import__(lib).__version__
        except Exception as exc:  # not installed on this image
            out[lib] = f"unavailable ({type(exc).__name__})"
    try:
        import torch

        out["card"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except Exception:
        out["card"] = "none"
    return out


def matrix_rows(out: pathlib.Path, dry: bool, timeout_s: float) -> dict[str, Any]:
    """Run the GPU rows of the test suite; pass/fail/skip counts per row from JUnit."""
    junit = out / "gpu-junit.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
           "--junitxml", str(junit)]
    env = dict(os.environ)
    if dry:
        cmd += [str(ROOT / "tests" / "test_dispatch.py"), "-n", "0", "-k", "device_policy"]
    else:
        cmd += [str(ROOT / "tests"), "-n", str(WORKERS), "-k", " or ".join(("cupy", "cuda", "gpu")),
                "--ignore", str(ROOT / "tests" / "adapters" / "test_keras.py"),
                "--ignore", str(ROOT / "tests" / "adapters" / "test_dask_distributed.py")]
        env["ARRAYLOSS_REQUIRE_BACKENDS"] = ",".join(ROWS)
    t0 = time.perf_counter()
    try:
        run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=timeout_s)
        (out / "gpu-tests.log").write_text(run.stdout + run.stderr)
        rc: int | str = run.returncode
    except subprocess.TimeoutExpired as exc:
        (out / "gpu-tests.log").write_text(str(exc.stdout or "") + str(exc.stderr or ""))
        rc = f"timed out after {timeout_s:.0f} s"
    result: dict[str, Any] = {"exit": rc, "seconds": round(time.perf_counter() - t0, 1),
                              "rows": {}}
    if junit.exists():
        for case in ElementTree.parse(junit).iter("testcase"):
            name = case.get("name", "")
            row = next((r for r in ROWS if r in name), "other")
            state = ("failed" if case.find("failure") is not None or case.find("error")
                     is not None else "skipped" if case.find("skipped") is not None
                     else "passed")
            counts = result["rows"].setdefault(row, {"passed": 0, "failed": 0, "skipped": 0})
            counts[state] += 1
    return result


#: losses that read the device once per call, as the framework's own loss does
READS_LIKE_THE_PEER = {"ctc_loss": "reads the lengths on the host, as torch's F.ctc_loss does"}


def host_syncs(dry: bool, losses: list[str] | None) -> dict[str, Any]:
    """The losses whose call waits for the device, with default options on device arrays."""
    import numpy as np
    import torch

    from arrayloss import catalog
    from arrayloss.testing import dispatch

    syncing: dict[str, str] = {}
    checked = 0
    for rec in catalog.records():
        if losses is not None and rec.name not in losses:
            continue
        for case in rec.cases:
            args, kw = case.inputs()
            if any(np.asarray(a).size == 0 for a in args):
                continue  # empty inputs: nothing to launch
            checked += 1
            device = "cpu" if dry else "cuda"
            t = dispatch.tensors(args, (), device)
            tkw = dict(zip(kw, dispatch.tensors(list(kw.values()), (), device)))
            opts = dispatch.device_options(functools.partial(rec.fn, *t, **tkw), case.options,
                                           device)
            call = functools.partial(rec.fn, *t, **opts, **tkw)
            try:
                if dry:
                    with dispatch.device_policy():
                        n = dispatch.record(call).syncs
                    if n:
                        raise RuntimeError(f"{n} scalar reads")
                else:
                    torch.cuda.set_sync_debug_mode("error")
                    try:
                        call()
                    finally:
                        torch.cuda.set_sync_debug_mode("default")
            except Exception as exc:  # the sync debug mode raises a RuntimeError
                syncing.setdefault(rec.name, f"{case.id}: {type(exc).__name__}: {exc}"[:200])
    like_peer = {k: READS_LIKE_THE_PEER[k] for k in syncing if k in READS_LIKE_THE_PEER}
    return {"calls": checked, "like_peer": like_peer,
            "syncing": {k: v for k, v in syncing.items() if k not in like_peer}}


def operators(dry: bool, losses: list[str] | None) -> list[dict[str, Any]]:
    """Operators per call on the device, ours and the leanest torch peer's."""
    import dataclasses

    from arrayloss import catalog
    from arrayloss.testing import dispatch

    rows = []
    for rec in catalog.records():
        if rec.sized is None or (losses is not None and rec.name not in losses):
            continue
        c = dispatch.counts(rec, device="cpu" if dry else "cuda")
        rows.append(dataclasses.asdict(c))
    return rows


def benchmark(out: pathlib.Path, dry: bool, timeout_s: float) -> dict[str, Any]:
    """The engine (``benchmarks/engine.py``) on each GPU backend in turn, each in its own
    process with an equal share of the time left (one that runs out loses only its rows),
    into ``out/bench-<backend>``."""
    if dry:
        plan = [("torch", "small"), ("jax:jit", "small")]
        losses = DRY_LOSSES[:1]
    else:
        plan = [(b, "small,medium,large") for b in ("torch:cuda", "jax:gpu", "cupy")]
        losses = BENCH_LOSSES
    deadline = time.perf_counter() + timeout_s
    rows: list[dict[str, Any]] = []
    exits: dict[str, int | str] = {}
    for i, (backend, sizes) in enumerate(plan):
        share = (deadline - time.perf_counter()) / (len(plan) - i)
        folder = out / f"bench-{backend.replace(':', '-')}"
        cmd = [sys.executable, str(ROOT / "benchmarks" / "engine.py"), "--backends", backend,
               "--sizes", sizes, "--losses", ",".join(losses), "--no-memory", "--no-vocab",
               "--no-default-malloc", "--no-pin", "--out", str(folder)]
        try:
            run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                                 timeout=max(share, 10.0))
            exits[backend] = run.returncode
            (out / f"{folder.name}.log").write_text(run.stdout + run.stderr)
        except subprocess.TimeoutExpired:
            exits[backend] = f"timed out after {share:.0f} s"
        data = folder / "bench.json"
        if data.exists():
            rows += json.loads(data.read_text())["rows"]
    return {"exit": exits, "rows": rows}


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    s = report["setting"]
    lines = ["# GPU check" + (" (dry run on the CPU)" if s["dry_run"] else ""), "",
             f"Card: {s['card']}; " + ", ".join(
                 f"{k} {s[k]}" for k in ("torch", "jax", "cupy", "optax", "numpy")) + ".", ""]
    m = report.get("matrix")
    if m:
        lines += [f"## Test rows (exit {m['exit']}, {m['seconds']} s)", "",
                  "| row | passed | failed | skipped |", "|---|---|---|---|"]
        lines += [f"| {row} | {c['passed']} | {c['failed']} | {c['skipped']} |"
                  for row, c in sorted(m["rows"].items())]
        lines.append("")
    h = report.get("syncs")
    if h and "error" in h:
        lines += ["## Host syncs", "", h["error"], ""]
        h = None
    if h:
        lines += ["## Host syncs", "",
                  f"{h['calls']} calls with default options on device arrays; "
                  f"{len(h['syncing'])} losses wait for the device.", ""]
        lines += [f"- `{k}`: {v}" for k, v in sorted(h["syncing"].items())]
        lines += [f"- `{k}` {v}" for k, v in sorted(h.get("like_peer", {}).items())]
        lines.append("")
    ops = report.get("operators")
    if isinstance(ops, dict):
        lines += ["## Operators per call", "", ops["error"], ""]
        ops = None
    if ops:
        lines += ["## Operators per call (about 1,000 elements)", "",
                  "| loss | forward: ours / peer | forward + backward: ours / peer | peer |",
                  "|---|---|---|---|"]
        for c in ops:
            pf = "" if c["peer_forward"] is None else f" / {c['peer_forward']}"
            pb = "" if c["peer_backward"] is None else f" / {c['peer_backward']}"
            lines.append(f"| `{c['loss']}` | {c['device_forward']}{pf} | "
                         f"{c['device_backward']}{pb} | {c['peer'] or '—'} |")
        lines.append("")
    b = report.get("benchmark")
    if b:
        lines += ["## Benchmark (ratio = arrayloss / peer; exit per backend: "
                  + ", ".join(f"{k} {v}" for k, v in b["exit"].items()) + ")", "",
                  "| loss | backend | mode | size | peer | ours (µs) | peer (µs) | ratio |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| `{r['loss']}` | {r['backend']} | {r['mode']} | {r['n']:,} | {r['peer']} "
                  f"| {r['ours_us']:.1f} | {r['peer_us']:.1f} | {r['ratio']:.2f} |"
                  for r in b["rows"]]
        lines.append("")
    if report.get("skipped_steps"):
        lines += ["Not run (time budget): " + ", ".join(report["skipped_steps"]) + ".", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/gpu.py", description=__doc__)
    p.add_argument("out", type=pathlib.Path)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--budget-s", type=float, default=460.0)
    p.add_argument("--no-tests", action="store_true",
                   help="skip the test rows (a rerun of the measurements only)")
    args = p.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    dry = args.dry_run
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # share the GPU
    deadline = time.perf_counter() + args.budget_s
    losses = list(DRY_LOSSES) if dry else None
    report: dict[str, Any] = {"setting": setting(dry), "skipped_steps": []}

    def left() -> float:
        return deadline - time.perf_counter()

    def save() -> None:
        (out / "gpu-report.json").write_text(json.dumps(report, indent=1, default=str))
        (out / "gpu-report.md").write_text(markdown(report))

    _log(f"card: {report['setting']['card']}; budget {args.budget_s:.0f} s")
    if args.no_tests:
        report["skipped_steps"].append("matrix")
        report["matrix"] = {"exit": 0, "seconds": 0, "rows": {}}
    else:
        report["matrix"] = matrix_rows(out, dry, timeout_s=max(min(0.45 * left(), 240.0), 30.0))
    _log(f"test rows: {report['matrix']['rows']} (exit {report['matrix']['exit']})")
    save()
    for name, step in (("syncs", lambda: host_syncs(dry, losses)),
                       ("operators", lambda: operators(dry, losses))):
        if left() < 60:
            report["skipped_steps"].append(name)
            continue
        try:
            report[name] = step()
        except Exception as exc:  # one broken step must not lose the others
            report[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        _log(f"{name}: done")
        save()
    if left() > 45:
        report["benchmark"] = benchmark(out, dry, timeout_s=left() - 15)
        _log(f"benchmark: {len(report['benchmark']['rows'])} rows")
    else:
        report["skipped_steps"].append("benchmark")
    save()
    _log(f"written: {out / 'gpu-report.md'} and gpu-report.json")
    failed = any(c["failed"] for c in report["matrix"]["rows"].values())
    return 1 if failed or report["matrix"]["exit"] not in (0, 5) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
