"""``.ci/gpu`` (the one-command GPU check) runs end to end in its dry-run mode on the CPU:
the test-row step, the host-sync check, the operator counts and the benchmark each leave
their part of the report (the GPU itself is checked where one is lent)."""

from __future__ import annotations

import json
import pathlib
import subprocess

import pytest

from arrayloss.testing import backends
from conftest import require_backend

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow  # about 35 s: a pytest run, the counts and a small benchmark
def test_gpu_check_dry_run(tmp_path: pathlib.Path) -> None:
    require_backend(backends.by_id("torch"))
    require_backend(backends.by_id("jax"))
    run = subprocess.run(["bash", str(ROOT / ".ci" / "gpu"), str(tmp_path), "--dry-run"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "gpu-report.json").read_text())
    assert report["setting"]["dry_run"] is True
    assert report["matrix"]["exit"] == 0
    assert sum(c["passed"] for c in report["matrix"]["rows"].values()) >= 1
    assert report["syncs"]["calls"] > 0 and report["syncs"]["syncing"] == {}
    assert {c["loss"] for c in report["operators"]} == {"mse_loss", "cross_entropy",
                                                         "giou_loss"}
    rows = report["benchmark"]["rows"]
    assert {r["backend"] for r in rows} == {"torch", "jax:jit"} and all(
        r["agree"] == "ok" for r in rows)
    md = (tmp_path / "gpu-report.md").read_text()
    for heading in ("## Test rows", "## Host syncs", "## Operators per call", "## Benchmark"):
        assert heading in md
