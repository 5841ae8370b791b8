"""The performance page's data: a partial rerun merges into the stored results and the
targets are decided again over every row; the stored targets are those of the stored rows;
the page's operator table holds today's counts."""

from __future__ import annotations

import importlib
import json
import pathlib
import sys
from types import ModuleType
from typing import Any

from arrayloss import catalog
from arrayloss.testing import backends, dispatch
from conftest import require_backend

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _engine() -> ModuleType:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module("engine")
    finally:
        sys.path.pop(0)


def _row(loss: str, ratio: float, **kw: Any) -> dict[str, Any]:
    row = {"loss": loss, "backend": "torch", "mode": "forward", "size": "large", "n": 10**7,
           "peer": f"torch.nn.functional.{loss}", "ours_us": 100.0 * ratio, "peer_us": 100.0,
           "ratio": ratio, "delta_us": 100.0 * (ratio - 1), "reps": 9, "agree": "ok",
           "input_mb": None, "peak_ours_mb": None, "peak_peer_mb": None,
           "bw_multiple": None, "malloc": "pinned", "note": ""}
    return {**row, **kw}


def _target(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(g for g in data["goals"] if g["goal"].startswith(prefix))


def test_merge_replaces_rows_and_decides_the_targets_again() -> None:
    engine = _engine()
    setting = {"version": "0", "threads": 1}
    old = {"setting": setting, "goals": [],
           "rows": [_row("mse_loss", 1.20), _row("l1_loss", 1.00)]}
    f_target = "large: torch eager <= 1.05x torch.nn.functional"
    before = engine.merge(old, {"setting": setting, "rows": []})
    assert _target(before, f_target)["failing"] == [
        "mse_loss (torch, forward, vs F.mse_loss): 1.20x"]
    new = {"setting": {**setting, "version": "1"},
           "rows": [_row("mse_loss", 1.01), _row("huber_loss", 0.98)]}
    merged = engine.merge(old, new)
    assert [(r["loss"], r["ratio"]) for r in merged["rows"]] == [
        ("mse_loss", 1.01), ("l1_loss", 1.00), ("huber_loss", 0.98)]
    assert merged["setting"]["version"] == "1"
    target = _target(merged, f_target)
    assert target["met"] and target["checked"] == 3 and target["failing"] == []
    json.dumps(merged, allow_nan=False)  # strict JSON: no NaN


def test_stored_targets_are_those_of_the_stored_rows() -> None:
    engine = _engine()
    data = json.loads((ROOT / "docs" / "benchmarks.json").read_text())
    again = engine.merge(data, {"setting": data["setting"], "rows": []})
    assert again["goals"] == data["goals"]
    assert {g["goal"] for g in data["goals"]} >= {catalog.GOALS["memory-bound"]}


def test_operator_table_holds_todays_counts() -> None:
    require_backend(backends.by_id("torch"))
    data = json.loads((ROOT / "docs" / "benchmarks-dispatch.json").read_text())
    stored = {r["loss"]: r for r in data["rows"]}
    timed = [r for r in catalog.records() if r.sized is not None]
    assert set(stored) == {r.name for r in timed}
    for rec in timed:
        now = dispatch.counts(rec, peers=False)
        want = stored[rec.name]
        got = {"forward": now.forward, "backward": now.backward,
               "device_forward": now.device_forward, "device_backward": now.device_backward,
               "syncs": now.syncs}
        assert got == {k: want[k] for k in got}, (
            f"{rec.name}: the counts changed; run python benchmarks/dispatch.py --docs")
