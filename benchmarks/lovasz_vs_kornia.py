"""Lovász-Softmax, arrayloss against kornia: forward + backward on torch CPU.

Times ``arrayloss.lovasz_softmax_loss(logits, labels, axis=1, activation="softmax",
per_image=True, classes="all")`` against ``kornia.losses.lovasz_softmax_loss(logits,
labels)`` (the same quantity) on a 4 x 3 x 256 x 256 float32 batch, forward and backward,
interleaving the two (alternating which goes first) and printing the median time of each
and the median of the per-pair ratios arrayloss / kornia. The goal is a ratio below 2.

glibc's allocator returns large temporaries to the kernel after every call and page-faults
them back in; ``--pinned`` re-executes the script with ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` pinned, which removes that noise (say which one a number used).

    python benchmarks/lovasz_vs_kornia.py [--repeats 30] [--threads N] [--pinned] [--shape ...]

A benchmark, never a test: the machines are shared and noisy, only the ratio means much.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

PINNED = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def _timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--shape", type=int, nargs=4, default=(4, 3, 256, 256),
                        metavar=("B", "C", "H", "W"))
    parser.add_argument("--pinned", action="store_true",
                        help="re-run with the glibc allocator thresholds pinned")
    args = parser.parse_args(argv)
    if args.pinned and any(os.environ.get(k) != v for k, v in PINNED.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **PINNED})

    import torch
    from kornia.losses import lovasz_softmax_loss as kornia_lovasz

    import arrayloss as al

    if args.threads:
        torch.set_num_threads(args.threads)
    b, c, h, w = args.shape
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(b, c, h, w, generator=gen).requires_grad_(True)
    labels = torch.randint(0, c, (b, h, w), generator=gen)

    def ours() -> None:
        loss = al.lovasz_softmax_loss(logits, labels, axis=1, activation="softmax",
                                      per_image=True, classes="all")
        loss.backward()

    def theirs() -> None:
        kornia_lovasz(logits, labels).backward()

    with torch.no_grad():
        a = al.lovasz_softmax_loss(logits, labels, axis=1, activation="softmax",
                                   per_image=True, classes="all")
        k = kornia_lovasz(logits, labels)
    print(f"values: arrayloss {a.item():.7f}  kornia {k.item():.7f}  "
          f"(difference {abs(a.item() - k.item()):.1e})")

    for _ in range(args.warmup):
        ours()
        theirs()
    t_ours, t_theirs, ratios = [], [], []
    for i in range(args.repeats):
        if i % 2:
            tk, ta = _timed(theirs), _timed(ours)
        else:
            ta, tk = _timed(ours), _timed(theirs)
        t_ours.append(ta)
        t_theirs.append(tk)
        ratios.append(ta / tk)
    allocator = "pinned" if all(os.environ.get(k) == v for k, v in PINNED.items()) else \
        "out of the box"
    print(f"shape {b}x{c}x{h}x{w} float32, forward+backward, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, allocator {allocator}, {args.repeats} repeats")
    print(f"arrayloss  median {statistics.median(t_ours) * 1e3:8.2f} ms")
    print(f"kornia     median {statistics.median(t_theirs) * 1e3:8.2f} ms")
    print(f"ratio arrayloss / kornia (median of interleaved pairs): "
          f"{statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
