"""Charts and tables of the performance page, drawn from ``docs/benchmarks.json``.

``benchmarks.json`` is the ``bench.json`` that ``python benchmarks/run.py --docs`` writes
(``{"setting": ..., "rows": [...]}``, one row per loss, backend, mode, peer and size).
``render(out_dir)`` writes one PNG per backend and ``benchmarks-results.md`` into
``out_dir``; ``docs/conf.py`` calls it at every build and the page includes the result.
"""

from __future__ import annotations

import json
import math
import pathlib
import re
from collections.abc import Sequence
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE / "benchmarks.json"

BACKENDS = {
    "numpy": "NumPy",
    "torch": "PyTorch (CPU, eager)",
    "jax:jit": "JAX under jax.jit",
    "jax:eager": "JAX, eager",
}
MODES = {"forward": "forward", "forward+backward": "forward + backward"}
SIZES = {"small": "1k elements", "medium": "100k", "large": "10M (1M for a few)"}
COLOURS = {"small": "#9ecae1", "medium": "#4292c6", "large": "#08306b"}
MARKERS = {"small": "o", "medium": "s", "large": "D"}
_PREFIXES = {"torch.nn.functional.": "F.", "optax.losses.": "optax.", "monai.losses.": "monai.",
             "kornia.losses.": "kornia.", "keras.losses.": "keras.", "torchvision.ops.": "tv."}


def short_peer(peer: str) -> str:
    """The peer's name without its package path or call options."""
    peer = re.sub(r"\s*\(.*\)$", "", peer)
    peer = re.sub(r"\[.*?\]", "", peer)
    for long, short in _PREFIXES.items():
        if peer.startswith(long):
            return short + peer[len(long):]
    return peer


def load(path: pathlib.Path = DATA) -> dict[str, Any]:
    with open(path) as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _ratio(x: Any) -> float:
    return math.nan if x is None else float(x)


def _series(rows: Sequence[dict[str, Any]], backend: str
            ) -> dict[str, list[tuple[str, dict[str, dict[str, Any]]]]]:
    """Per mode: (label, {size: row}) in the benchmark's order, pinned allocator only."""
    out: dict[str, list[tuple[str, dict[str, dict[str, Any]]]]] = {}
    for mode in MODES:
        keys = dict.fromkeys((r["loss"], r["peer"]) for r in rows
                             if r["backend"] == backend and r["mode"] == mode
                             and r["size"] in SIZES and r.get("malloc") == "pinned")
        out[mode] = [(f"{loss}  vs {short_peer(peer)}",
                      {r["size"]: r for r in rows
                       if (r["backend"], r["mode"], r["loss"], r["peer"], r.get("malloc"))
                       == (backend, mode, loss, peer, "pinned")})
                     for loss, peer in keys]
        if not out[mode]:
            del out[mode]
    return out


def chart(rows: Sequence[dict[str, Any]], backend: str, path: pathlib.Path) -> None:
    """One dot per size: the ratio arrayloss / peer on a log axis, 1.0 drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter

    series = _series(rows, backend)
    height = max(len(s) for s in series.values())
    fig, axes = plt.subplots(1, len(series), sharey=True, squeeze=False,
                             figsize=(4.2 * len(series) + 3.2, 0.28 * height + 1.6))
    labels = list(dict.fromkeys(label for items in series.values() for label, _ in items))
    for ax, (mode, items) in zip(axes[0], series.items(), strict=True):
        index = {label: i for i, label in enumerate(labels)}
        for size in SIZES:
            ys, xs = [], []
            for label, cell in items:
                if size in cell and label in index:
                    ys.append(index[label])
                    xs.append(_ratio(cell[size].get("ratio")))
            ax.scatter(xs, ys, s=26, marker=MARKERS[size], color=COLOURS[size],
                       label=SIZES[size], zorder=3)
        ax.axvline(1.0, color="#d62728", lw=1.2, zorder=2)
        ax.set_xscale("log")
        ax.set_xlim(0.08, 12)
        ax.xaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.5, 1, 2, 5, 10]))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(axis="x", which="major", color="#dddddd", zorder=0)
        ax.set_title(MODES[mode], fontsize=10)
        ax.set_xlabel("time of arrayloss / time of peer (log scale, < 1 is faster)", fontsize=8)
    axes[0][0].set_yticks(range(len(labels)), labels, fontsize=8)
    axes[0][0].set_ylim(len(labels) - 0.5, -0.5)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, loc="lower center", ncol=3, frameon=False)
    fig.suptitle(BACKENDS.get(backend, backend), fontsize=11)
    fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell(row: dict[str, Any] | None) -> str:
    if row is None or row.get("ratio") is None:
        return "–"
    text = f"{row['ratio']:.2f}"
    if row["size"] == "large" and row.get("n") and row["n"] != 10_000_000:
        text += f" ({row['n']:.0e})".replace("e+0", "e")
    return text


def table(rows: Sequence[dict[str, Any]], backend: str) -> list[str]:
    modes = {"forward": "fwd", "forward+backward": "fwd+bwd"}
    lines = ["| loss | peer | mode | 1k | 100k | 10M |", "|---|---|---|--:|--:|--:|"]
    for mode, items in _series(rows, backend).items():
        for label, cell in items:
            loss, peer = label.split("  vs ")
            lines.append(f"| `{loss}` | {peer} | {modes[mode]} | {_cell(cell.get('small'))} | "
                         f"{_cell(cell.get('medium'))} | {_cell(cell.get('large'))} |")
    return lines


def render(out_dir: pathlib.Path, data: dict[str, Any] | None = None) -> str:
    """Write the charts and ``benchmarks-results.md`` into ``out_dir``; return the page text."""
    data = load() if data is None else data
    rows, setting = data["rows"], data["setting"]
    out_dir.mkdir(parents=True, exist_ok=True)
    libs = ", ".join(f"{k} {v}" for k, v in setting["libraries"].items())
    lines = [f"Measured with arrayloss {setting['version']} on {setting['machine']} "
             f"(Python {setting['python']}; {libs}), torch and XLA with "
             f"{setting['threads']} thread, float32 inputs. GPU: {setting['gpu']}.", ""]
    lines += goals_section(data.get("goals", []))
    for backend, title in BACKENDS.items():
        if not any(r["backend"] == backend for r in rows):
            continue
        name = "bench-" + backend.replace(":", "-") + ".png"
        chart(rows, backend, out_dir / name)
        lines += [f"### {title}", "", f"![{title}: ratio to each peer]({out_dir.name}/{name})",
                  "", *table(rows, backend), ""]
    lines += scaling_section(out_dir)
    lines += dispatch_section()
    lines += gpu_section()
    vocab = [r for r in rows if r["size"] == "vocab"]
    if vocab:
        lines += ["### Memory: cross-entropy over 50,000 classes", "",
                  "Peak extra memory of one call on 128 rows of logits (25.6 MB): the integer "
                  "labels are never expanded to a one-hot array.", "",
                  "| backend | mode | arrayloss MB | peer | peer MB |", "|---|---|--:|---|--:|"]
        lines += [f"| {r['backend']} | {r['mode']} | {r['peak_ours_mb']:.1f} | "
                  f"{short_peer(r['peer'])} | {r['peak_peer_mb']:.1f} |" for r in vocab]
        lines.append("")
    return _write(out_dir, "\n".join(lines))


def goals_section(goals: Sequence[dict[str, Any]]) -> list[str]:
    """The performance targets decided over these rows: met, or the rows that miss them."""
    if not goals:
        return []
    lines = ["### Targets, row by row", "",
             "Each target over the rows above it applies to (the reasons for the misses are "
             "under [Targets](#targets)):", "",
             "| target | rows | met | rows that miss it (measured) |", "|---|--:|---|---|"]
    for g in goals:
        miss = "; ".join(g["failing"])
        lines.append(f"| {g['goal']} | {g['checked']} | {'yes' if g['met'] else 'no'} | "
                     f"{miss or '–'} |")
    return [*lines, ""]


SCALING = HERE / "benchmarks-scaling.json"
_BACKEND_COLOURS = {"numpy": "#0072b2", "torch": "#d55e00", "jax:jit": "#009e73"}


def scaling_chart(data: dict[str, Any], path: pathlib.Path) -> None:
    """Time per call against input size, log-log, one panel per loss: arrayloss solid, the
    peer dashed, per backend; the dotted line is the input's bytes read at the bandwidth
    of a plain sum measured on the machine (a bandwidth-bound call is near it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data["rows"]
    losses = list(dict.fromkeys(r["loss"] for r in rows))
    bandwidth = max(data["setting"]["bandwidth_gbs"].values())
    fig, axes = plt.subplots(1, len(losses), figsize=(3.6 * len(losses), 3.6), squeeze=False)
    for ax, loss in zip(axes[0], losses, strict=True):
        mine = [r for r in rows if r["loss"] == loss]
        for backend, title in BACKENDS.items():
            pts = sorted((r["elements"], r) for r in mine if r["backend"] == backend)
            if not pts:
                continue
            x = [e for e, _ in pts]
            colour = _BACKEND_COLOURS.get(backend, "#555555")
            ax.plot(x, [r["ours_us"] for _, r in pts], "-o", ms=3, color=colour,
                    label=f"arrayloss, {title}")
            peer = [(e, r["peer_us"]) for e, r in pts if r.get("peer_us") is not None]
            if peer:
                ax.plot(*zip(*peer, strict=True), "--", color=colour, lw=1.2,
                        label=f"peer, {title}")
        lim = sorted({(r["elements"], r["bytes"]) for r in mine})
        ax.plot([e for e, _ in lim], [b / (bandwidth * 1e3) for _, b in lim], ":",
                color="#888888", label="input bytes at the read bandwidth")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{loss} (forward)", fontsize=10)
        ax.set_xlabel("input elements", fontsize=8)
        ax.grid(which="major", color="#dddddd")
        ax.tick_params(labelsize=8)
    axes[0][0].set_ylabel("microseconds per call", fontsize=8)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.75 / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def scaling_section(out_dir: pathlib.Path, path: pathlib.Path = SCALING) -> list[str]:
    """The scaling chart and its explanation, when ``benchmarks-scaling.json`` exists."""
    if not path.exists():
        return []
    data = load(path)
    scaling_chart(data, out_dir / "bench-scaling.png")
    peers = sorted({f"{r['backend']}: {short_peer(r['peer'])}" for r in data["rows"]
                    if r.get("peer")})
    return ["### Time against input size", "",
            "Forward calls from 100 to 100 million elements (solid: arrayloss; dashed: the "
            "peer, " + "; ".join(peers) + "). At the left the fixed cost of a call dominates "
            "(flat lines); to the right the time grows with the input. The dotted line is the "
            "time to read the input once at the bandwidth of a plain sum measured on the same "
            "machine: a loss that only reads its inputs once runs near it. "
            "Reproduce with `python benchmarks/scaling.py --docs`.", "",
            f"![Time per call against input size]({out_dir.name}/bench-scaling.png)", ""]


DISPATCH = HERE / "benchmarks-dispatch.json"


def dispatch_section(path: pathlib.Path = DISPATCH) -> list[str]:
    """The operators per call (``python benchmarks/dispatch.py --docs`` writes
    ``benchmarks-dispatch.json``): arrayloss's on CPU tensors and under the device policy,
    next to the torch peer with the fewest."""
    if not path.exists():
        return []
    data = load(path)
    lines = ["### Operators per call (torch)", "",
             f"ATen operators one call dispatches on about {data['setting']['elements']:,} "
             f"elements (torch {data['setting']['torch']}), forward and forward + backward: "
             "arrayloss on CPU tensors with its value checks (the scalar reads are counted), "
             "in brackets what a CUDA tensor gets (no value checks, no reads), then the torch "
             "peer with the fewest. On a GPU every operator is a kernel launch of a few "
             "microseconds, which decides the time of small batches there; on the CPU the "
             "checked host calls of the fused losses use torch's own kernel. The test suite "
             "keeps each count within a budget. Reproduce with "
             "`python benchmarks/dispatch.py --docs`.", "",
             "| loss | peer | forward: arrayloss (device) / peer "
             "| forward + backward: arrayloss (device) / peer | scalar reads (CPU) |",
             "|---|---|--:|--:|--:|"]
    for r in data["rows"]:
        peer_f = "" if r["peer_forward"] is None else f" / {r['peer_forward']}"
        peer_b = "" if r["peer_backward"] is None else f" / {r['peer_backward']}"
        bwd = ("–" if r["backward"] is None
               else f"{r['backward']} ({r['device_backward']}){peer_b}")
        peer = short_peer(r["peer"]) if r["peer"] else "–"
        lines.append(f"| `{r['loss']}` | {peer} | {r['forward']} ({r['device_forward']})"
                     f"{peer_f} | {bwd} | {r['syncs']} |")
    return [*lines, ""]


GPU = HERE / "benchmarks-gpu.json"
_GPU_PEER = {"torch:cuda": "`torch.nn.functional` or the torchvision formula, CUDA",
             "jax:gpu": "optax under `jax.jit`, GPU", "cupy": "the CUDA torch peer, same GPU"}


def gpu_section(path: pathlib.Path = GPU) -> list[str]:
    """The GPU check's results (``.ci/gpu``'s ``gpu-report.json``, copied to
    ``benchmarks-gpu.json``): the card, the test rows, host reads and the ratios."""
    if not path.exists():
        return []
    report = load(path)
    s = report["setting"]
    lines = ["### GPU", "",
             f"Measured by `.ci/gpu` on one {s['card']} (torch {s['torch']}, JAX {s['jax']}, "
             f"CuPy {s['cupy']}, optax {s['optax']}). Each call is followed by a "
             "synchronisation, so a call costs at least the launch and wait of one kernel "
             "(tens of microseconds): at small sizes the ratio compares the number of kernels "
             "each side launches.", ""]
    m = report.get("matrix")
    if m:
        rows = {k: v for k, v in m["rows"].items() if k != "other"}
        lines += ["Test rows on the GPU: " + "; ".join(
            f"{k} {v['passed']} passed, {v['failed']} failed" for k, v in sorted(rows.items()))
            + ".", ""]
    h = report.get("syncs")
    if h:
        lines += [f"Host synchronisations ({h['calls']} calls of the catalogue's cases, "
                  "`torch.cuda.set_sync_debug_mode('error')`): "
                  + (", ".join(f"`{k}`" for k in sorted(h["syncing"])) or "none") + "."
                  + "".join(f" `{k}` {v}." for k, v in sorted(h.get("like_peer", {}).items())),
                  ""]
    bench = report.get("benchmark", {}).get("rows", [])
    if bench and report.get("benchmark_note"):
        lines += [report["benchmark_note"], ""]
    for backend in ("torch:cuda", "jax:gpu", "cupy"):
        sel = [r for r in bench if r["backend"] == backend]
        if not sel:
            continue
        sizes = sorted({r["n"] for r in sel})
        lines += [f"Ratio arrayloss / {_GPU_PEER[backend]} (`{backend}`):", "",
                  "| loss | mode | " + " | ".join(f"{n:,}" for n in sizes) + " |",
                  "|---|---|" + "--:|" * len(sizes)]
        keys = list(dict.fromkeys((r["loss"], r["mode"]) for r in sel))
        for loss, mode in keys:
            cells = []
            for n in sizes:
                r = next((r for r in sel if (r["loss"], r["mode"], r["n"]) == (loss, mode, n)),
                         None)
                cells.append("–" if r is None else f"{r['ratio']:.2f}")
            lines.append(f"| `{loss}` | {mode} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _write(out_dir: pathlib.Path, text: str) -> str:
    (out_dir / "benchmarks-results.md").write_text(text)
    return text


if __name__ == "__main__":
    print(render(HERE / "_generated"))
