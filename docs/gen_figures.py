"""Draw the docs' loss figures from the registry (``arrayloss.catalog``).

One SVG per registered loss (its :class:`arrayloss.catalog.Figure`: the loss and its derivative
against one natural variable, one curve per value of its main option) and four comparison
galleries. Values come from arrayloss on NumPy float64 inputs; derivatives are central
differences of the drawn curve (``numpy.gradient``), so a kink shows as a step. The Sphinx
build (``docs/conf.py``) draws them at every build into ``docs/losses/figures/`` (not
committed); ``python docs/gen_figures.py`` draws them by hand and prints the time taken.
"""

from __future__ import annotations

import io
import pathlib
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent
OUT = ROOT / "losses" / "figures"

#: Okabe & Ito's colour-blind safe palette, without its black and yellow (one of them is
#: invisible on a light or a dark page)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
GREY = "#8C8C8C"  # axes and text: readable on white and on near-black backgrounds
DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 2)))

#: gallery id -> (family, caption, entries); an entry is (label, loss name, figure options)
GALLERIES: dict[str, tuple[str, str, tuple[tuple[str, str, dict[str, Any]], ...]]] = {
    "robust-regression": (
        "regression",
        "Regression losses against the residual: the robust ones grow linearly (Huber, "
        "smooth L1, log-cosh, L1) or not at all (Tukey's biweight) far from 0.",
        (("MSE", "mse_loss", {}), ("L1", "l1_loss", {}),
         ("smooth L1, beta = 1", "smooth_l1_loss", {}), ("Huber, delta = 1", "huber_loss", {}),
         ("log-cosh", "log_cosh_loss", {}),
         ("Tukey, c = 4.685", "tukey_biweight_loss", {"scale": None}))),
    "focal-vs-cross-entropy": (
        "categorical",
        "Cross-entropy and the focal loss against the probability of the true class: the "
        "focal factor (1 - p)^gamma silences the well-classified examples.",
        (("cross-entropy", "cross_entropy", {}),
         *((f"focal, gamma = {g:g}", "softmax_focal_loss", {"gamma": g})
           for g in (0.5, 1.0, 2.0, 5.0)))),
    "box-losses": (
        "boxes",
        "Box losses for a 1 x 0.8 box sliding horizontally across the unit square: IoU is "
        "flat once the boxes are disjoint; the other losses keep pulling the box back.",
        tuple((name, f"{name.lower()}_loss", {}) for name in ("IoU", "GIoU", "DIoU", "CIoU",
                                                                "EIoU"))),
    "overlap-losses": (
        "overlap",
        "Overlap losses for a predicted mask growing from the target's left edge: 1 is the "
        "exact mask, beyond it the mask spills over the background. Lovász-Softmax equals "
        "the Jaccard loss on such a (nearly hard) mask: its curve lies under Jaccard's.",
        (("Dice", "dice_loss", {"axis": None}), ("Jaccard", "jaccard_loss", {"axis": None}),
         ("Tversky, alpha = 0.3, beta = 0.7", "tversky_loss",
          {"axis": None, "alpha": 0.3, "beta": 0.7}),
         ("Lovász-Softmax, class 1 (under Jaccard)", "lovasz_softmax_loss",
          {"per_image": True, "classes": (1,)}))),
}


def _style() -> dict[str, Any]:
    return {
        "svg.fonttype": "none",  # text stays text: small files, the page's font
        "svg.hashsalt": "arrayloss",  # deterministic ids: the same figure is the same file
        "font.size": 8.5, "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],  # the SVG names them
        "text.color": GREY, "axes.labelcolor": GREY, "axes.edgecolor": GREY,
        "xtick.color": GREY, "ytick.color": GREY,
        "axes.grid": True, "grid.color": GREY, "grid.alpha": 0.3, "grid.linewidth": 0.5,
        "axes.spines.top": False, "axes.spines.right": False,
        "lines.linewidth": 1.6, "legend.frameon": False, "legend.fontsize": 7.5,
        "figure.facecolor": "none", "axes.facecolor": "none", "savefig.transparent": True,
    }


def _draw(curves: Iterable[tuple[str, Any, Any]], x_label: str, y_label: str,
          path: pathlib.Path, ylim: tuple[float, float] | None = None,
          dylim: tuple[float, float] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    curves = list(curves)
    many = sum(bool(label) for label, _, _ in curves) > 4  # the legend goes above the panels
    with matplotlib.rc_context(_style()):
        # fixed margins: a constrained layout would double the drawing time
        fig, (ax, dax) = plt.subplots(1, 2, figsize=(7.2, 2.9 if many else 2.5))
        fig.subplots_adjust(left=0.085, right=0.99, bottom=0.17 if many else 0.2,
                            top=0.8 if many else 0.97, wspace=0.28)
        labelled, slopes = False, []
        for i, (label, x, y) in enumerate(curves):
            style = {"color": PALETTE[i % len(PALETTE)], "linestyle": DASHES[i % len(DASHES)]}
            ax.plot(x, y, label=label or None, **style)
            # rounded: a constant slope must not show its rounding noise
            slopes.append(np.round(np.gradient(y, x), 9))
            dax.plot(x, slopes[-1], **style)
            labelled = labelled or bool(label)
        every = np.concatenate(slopes)
        lo, hi = np.percentile(every, [5, 95])
        if dylim is None and hi > lo and np.ptp(every) > 4 * (hi - lo):
            # a steep end (log 0, a jump) would flatten everything else: show the bulk
            dylim = (lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo))
        for a in (ax, dax):
            a.ticklabel_format(useOffset=False)
        ax.set_ylabel(y_label)
        dax.set_ylabel(f"d {y_label} / dx")
        if ylim:
            ax.set_ylim(*ylim)
        if dylim:
            dax.set_ylim(*dylim)
        if many:
            fig.legend(loc="upper center", ncols=3, bbox_to_anchor=(0.5, 1.0))
        elif labelled:
            ax.legend(loc="best")
        fig.supxlabel(f"x: {x_label}", fontsize=8.5, color=GREY, y=0.01)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    path.write_text(_minify(buf.getvalue()))


def render_loss(name: str, path: pathlib.Path) -> pathlib.Path:
    """Draw one loss's figure to ``path``."""
    from arrayloss import catalog

    rec = catalog.get(name)
    if rec.figure is None:
        raise ValueError(f"{name} has no figure in the catalogue")
    _draw(rec.figure.curves(rec.fn), rec.figure.x, rec.figure.y, path)
    return path


def _short_box(x: Any, v: Any) -> tuple[Any, ...]:
    """A 1 x 0.8 box (its height centred on the target's) sliding horizontally."""
    from arrayloss.catalog import _figures

    pred, target = _figures.box_slide(x, None)
    pred[:, 1], pred[:, 3] = 0.1, 0.9
    return pred, target


def _minify(svg: str) -> str:
    """Matplotlib's SVG without its metadata, group ids, indentation and digits beyond the
    hundredth of a point (a third of the size, the same picture)."""
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'<g id="[^"]*">', "<g>", svg)
    svg = re.sub(r'( (?:d|x|y)=")([^"]*)"',
                 lambda m: m.group(1) + re.sub(r"(\d\.\d\d)\d+", r"\1", m.group(2)) + '"', svg)
    svg = re.sub(r' transform="rotate\(-?0 [^"]*\)"', "", svg)
    svg = re.sub(r">\s+<", "><", svg)
    return re.sub(r"\s*\n\s*", " ", svg).strip() + "\n"


def render_gallery(key: str, path: pathlib.Path) -> pathlib.Path:
    """Draw one comparison gallery (``GALLERIES``) to ``path``."""
    import dataclasses

    from arrayloss import catalog
    from arrayloss.catalog import _figures

    _, _, entries = GALLERIES[key]
    curves, spec = [], None
    for label, name, options in entries:
        rec = catalog.get(name)
        assert rec.figure is not None
        spec = dataclasses.replace(rec.figure, sweep=None, values=(), options=options)
        if key == "box-losses":
            spec = dataclasses.replace(spec, make=_short_box, span=(-2.0, 2.0))
        if key == "robust-regression":
            spec = dataclasses.replace(spec, span=(-6.0, 6.0))
        if key == "overlap-losses":
            spec = dataclasses.replace(spec, make=_figures.class_mask if name.startswith(
                "lovasz") else _figures.binary_mask)
        ((_, x, y),) = spec.curves(rec.fn)
        curves.append((label, x, y))
    assert spec is not None
    limits = {"robust-regression": ((0.0, 6.0), (-2.5, 2.5))}.get(key, (None, None))
    _draw(curves, spec.x, "loss", path, *limits)
    return path


def render(out: pathlib.Path = OUT) -> list[pathlib.Path]:
    """Draw every loss's figure and the galleries into ``out``; returns the files."""
    from arrayloss import catalog

    out.mkdir(parents=True, exist_ok=True)
    paths = [render_loss(r.name, out / f"{r.name}.svg") for r in catalog.records()]
    paths += [render_gallery(k, out / f"gallery-{k}.svg") for k in GALLERIES]
    return paths


def main() -> int:
    sys.path.insert(0, str(ROOT.parent / "src"))
    start = time.perf_counter()
    paths = render()
    took = time.perf_counter() - start
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} figures in {took:.1f} s, {size / 1024:.0f} KiB in all "
          f"(largest {max(p.stat().st_size for p in paths) / 1024:.0f} KiB) -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
