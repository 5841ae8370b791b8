"""Write the catalogue from the registry (``arrayloss.catalog``): ``docs/catalogue.md`` (an
overview) and one page per family, ``docs/losses/<family>.md``.

A family page gives, per loss: its signature, its docstring as text, its options with their
defaults, its figure (``gen_figures.py``) and a short NumPy example whose output is computed
here. The Sphinx build (``docs/conf.py``) writes the pages at every build, so they are never
stale and are not committed; ``python docs/gen_catalogue.py`` writes them by hand.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import pathlib
import re
import sys
import textwrap
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent
PAGES = ROOT / "losses"

TITLES = {
    "regression": "Regression", "boxes": "Bounding boxes", "binary": "Binary classification",
    "categorical": "Distributions over classes", "classifier": "Classifier outputs",
    "margin": "Margin", "sparsemax": "Sparsemax", "embedding": "Embeddings",
    "contrastive": "Contrastive and ranking", "overlap": "Overlap (segmentation)",
    "segmentation": "Compound segmentation", "lovasz": "Lovász", "sequence": "Sequences",
}
#: options every loss takes the same way (the conventions page describes them)
COMMON = ("weight", "where", "replicas", "reduction")
WIDTH = 80  # the code blocks of the pages fit 80 columns at 1280 px without scrolling


def _records(family: str | None = None) -> list[Any]:
    from arrayloss import catalog

    return catalog.records(family)


def _families() -> list[str]:
    from arrayloss.losses import MODULES

    return [f for f in MODULES if _records(f)]


def signature(name: str, fn: Any) -> str:
    """``name(a, b, /, *, option=default, ...)`` without annotations, wrapped at WIDTH."""
    sig = inspect.signature(fn)
    sig = sig.replace(parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
                      return_annotation=sig.empty)
    one = f"{name}{sig}"
    if len(one) <= WIDTH:
        return one
    parts = str(sig)[1:-1].split(", ")
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) + 3 > WIDTH - 4:
            lines.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    lines.append(line + ",")
    return "\n".join([f"{name}(", *("    " + ln for ln in lines), ")"])


def options(fn: Any) -> list[str]:
    """The loss's own keyword options with their defaults (not the common ones)."""
    return [f"`{p.name}={p.default!r}`" for p in inspect.signature(fn).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name not in COMMON]


def markdown(doc: str) -> str:
    """A docstring as MyST text: ``code`` spans become `code`, ``:math:`` roles and
    ``.. math::`` blocks become MyST math (rendered by MathJax), and each other ``::`` block
    a fenced text block (kept aligned as written)."""
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        # a line opening with a label ("Shapes:", "Edge cases:", "Reference:"...) starts a
        # paragraph: the docstrings write one such topic per line
        text = re.sub(r"\n(?=[A-Z][\w ,'()-]{0,40}: )", "\n\n", "\n".join(prose))
        text = re.sub(r"``(.+?)``", lambda m: f"`{m.group(1)}`", text, flags=re.S)
        out.append(re.sub(r":math:`(.+?)`", lambda m: f"{{math}}`{m.group(1)}`", text,
                          flags=re.S))
        prose.clear()

    def block(start: int) -> tuple[str, int]:
        # an indented block (blank lines inside it included) from line ``start``
        body, j = [], start
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith(" ")):
            body.append(lines[j])
            j += 1
        return textwrap.dedent("\n".join(body)).strip("\n"), j

    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if line.strip() == ".. math::":
            flush()
            formula, i = block(i + 1)
            out += ["", "```{math}", formula, "```", ""]
            continue
        if not line.endswith("::"):
            prose.append(line)
            i += 1
            continue
        head = line[:-2].rstrip()
        if head:
            prose.append(head + ":")
        flush()
        text, i = block(i + 1)
        out += ["", "```text", text, "```", ""]
    flush()
    return "\n".join(out).strip() + "\n"


def _literal(name: str, a: Any) -> str:
    import numpy as np

    prefix = f"{name} = np.array("
    fmt = {"float_kind": lambda v: repr(float(v))}
    body = np.array2string(np.asarray(a), separator=", ", formatter=fmt,  # type: ignore[arg-type]
                           max_line_width=WIDTH - 1, prefix=prefix, threshold=10_000)
    body = "\n".join(line for line in body.splitlines() if line.strip())
    return f"{prefix}{body})"


def example_case(rec: Any) -> Any:
    """The record's first catalogue case with a golden value (its example)."""
    return next(c for c in rec.cases if c.expected is not None and c.id != "empty")


def example(rec: Any) -> str:
    """A runnable NumPy example of ``rec``'s loss: its catalogue case with a golden value."""
    case = example_case(rec)
    args, kw = case.inputs()
    names = [p.name for p in inspect.signature(rec.fn).parameters.values()
             if p.kind is p.POSITIONAL_ONLY]
    call = ", ".join([*names[:len(args)], *(f"{k}={k}" for k in kw),
                      *(f"{k}={v!r}" for k, v in case.options.items())])
    lines = ["import numpy as np", "", "import arrayloss as al", ""]
    lines += [_literal(n, a) for n, a in zip(names, args)]
    lines += [_literal(k, a) for k, a in kw.items()]
    stmt = f"loss = al.{rec.name}({call})"
    if len(stmt) > WIDTH:
        stmt = f"loss = al.{rec.name}(\n    {call},\n)"
    return "\n".join([*lines, stmt, "print(np.round(loss, 4))"]) + "\n"


def run_example(code: str) -> str:
    """What the example prints."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "<example>", "exec"), {})
    return buf.getvalue()


def _figure(rec: Any) -> list[str]:
    f = rec.figure
    if f is None:
        return []
    what = "The loss" if f.y == "loss" else f"The {f.y}"
    text = f"{what} (left) and its derivative (right) against x, the {f.x}."
    if f.values:
        many = any(isinstance(v, dict) for v in f.values)
        shown = ("; " if many else ", ").join(
            ", ".join(f"{k} = {u}" for k, u in v.items()) if isinstance(v, dict) else str(v)
            for v in f.values)
        text += f" One curve per {f.sweep} ({shown})."
    if f.options:
        text += " Fixed: " + ", ".join(f"`{k}={v!r}`" for k, v in f.options.items()) + "."
    return [f"```{{figure}} figures/{rec.name}.svg", f":alt: {rec.name}: {text.replace('`', '')}",
            ":width: 100%", "",
            text, "```", ""]


def _gen_figures() -> Any:
    """``docs/gen_figures.py``, imported by path (this module is run and imported from
    anywhere)."""
    import importlib.util

    if "gen_figures" not in sys.modules:
        spec = importlib.util.spec_from_file_location("gen_figures", ROOT / "gen_figures.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["gen_figures"] = module
        spec.loader.exec_module(module)
    return sys.modules["gen_figures"]


def _gallery(family: str) -> list[str]:
    out = []
    for key, (fam, caption, _) in _gen_figures().GALLERIES.items():
        if fam == family:
            out += [f"```{{figure}} figures/gallery-{key}.svg", f":alt: {caption}", "",
                    caption, "```", ""]
    return out


def render_family(family: str) -> str:
    """The page of one family."""
    import importlib

    mod = importlib.import_module(f"arrayloss.losses.{family}")
    intro = markdown(mod.__doc__ or "")  # the family's shared rules (formats, averaging...)
    lines = [f"# {TITLES.get(family, family.capitalize())}", "", intro,
             "Every loss on this page also takes the common keyword options its signature "
             "shows (`weight`, `where`, `replicas`, `reduction`), described in "
             "[the conventions](../conventions.md).", "", *_gallery(family)]
    for r in _records(family):
        code = example(r)
        printed = run_example(code).rstrip("\n").splitlines()
        peers = sorted({p.library for p in r.peers if not p.timing_only})
        opts = options(r.fn)
        lines += [f"(loss-{r.name})=", f"## `{r.name}`", "", "```python", signature(r.name, r.fn),
                  "```", "", f"**Inputs:** {markdown(r.inputs).strip()}", ""]
        if opts:
            lines += [f"**Options:** {', '.join(opts)}", ""]
        lines += [markdown(r.fn.__doc__ or ""), *_figure(r), "**Example:**", "",
                  "```python", code.rstrip("\n"), *(f"# {ln}" for ln in printed), "```", ""]
        if peers:
            lines += [f"**Same values as:** {', '.join(f'`{p}`' for p in peers)}.", ""]
        if r.unsupported:
            lines += ["**Not supported:** " + "; ".join(
                f"{k}: {v}" for k, v in r.unsupported.items()) + ".", ""]
    return "\n".join(lines).rstrip() + "\n"


def render() -> str:
    """The overview page: one table per family, linking to the family's page."""
    lines = [
        "# Catalogue", "",
        "Every loss, by the structure of its inputs: one page per family with each loss's "
        "signature, documentation, options, a figure of the loss and its derivative, and a "
        "NumPy example. The pages are generated from the registry in `arrayloss.catalog`.", "",
        "```{toctree}", ":maxdepth: 1", "", *(f"losses/{f}" for f in _families()), "```", "",
    ]
    for family in _families():
        lines += [f"**[{TITLES.get(family, family)}](losses/{family}.md)**", "",
                  "| loss | what | options |", "|---|---|---|"]
        for r in _records(family):
            cells = [f"{{ref}}`{r.name} <loss-{r.name}>`", markdown(r.summary).strip(),
                     ", ".join(options(r.fn)) or "—"]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write() -> list[pathlib.Path]:
    """Write the overview and the family pages; returns the files."""
    PAGES.mkdir(exist_ok=True)
    paths = [ROOT / "catalogue.md"]
    paths[0].write_text(render())
    for family in _families():
        paths.append(PAGES / f"{family}.md")
        paths[-1].write_text(render_family(family))
    return paths


def main() -> int:
    sys.path.insert(0, str(ROOT.parent / "src"))
    sys.path.insert(0, str(ROOT))
    write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
