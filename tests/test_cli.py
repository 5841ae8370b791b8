"""``python -m arrayloss``: the report runs, says what is missing, and flags mismatches."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from arrayloss import __main__ as cli
from arrayloss.testing import backends


def test_report_numpy_only(capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["--backends", "numpy", "--losses", "huber_loss,l1_loss", "--size", "1000",
                   "--no-adapters"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "huber_loss" in out and "l1_loss" in out
    assert "0 with a mismatch or error" in out
    assert "x NumPy reference" in out  # the timing column ran


def test_report_lists_missing_backends(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """With NumPy alone, the report still runs and says how to install the others."""
    real = backends.Backend.available

    def only_numpy(self: backends.Backend) -> tuple[bool, str]:
        if self.module != "numpy":
            return False, f"{self.module} is not installed ({self.install})"
        return real(self)

    monkeypatch.setattr(backends.Backend, "available", only_numpy)
    rc = cli.main(["--no-timing", "--family", "regression", "--no-adapters"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "missing: torch is not installed" in out
    assert "pip install torch" in out and "pip install jax" in out


def test_report_all_backends_one_loss(capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["--losses", "smooth_l1_loss", "--size", "2000"])
    out = capsys.readouterr().out
    assert rc == 0, out
    for bid in ("numpy", "array_api_strict", "torch", "jax", "dask"):
        if backends.by_id(bid).available()[0]:
            assert re.search(rf"^smooth_l1_loss\s+{re.escape(bid)}\s+ok", out, re.M), bid
    if backends.by_id("torch").available()[0]:
        assert "compile ok" in out
    if backends.by_id("jax").available()[0]:
        assert "jit ok" in out
    # a row per adapter: it imports, covers every registered loss, agrees with the core
    for adapter in ("arrayloss.torch", "arrayloss.keras"):
        row = re.search(rf"^{re.escape(adapter)}\s+yes .*$", out, re.M)
        assert row is not None, out
        assert "MISSING" not in row.group(0) and "MISMATCH" not in row.group(0)
        done = re.search(r"(\d+)/(\d+) with the core", row.group(0))
        assert done is not None and done.group(1) == done.group(2) and int(done.group(1)) > 25


def test_an_adapter_mismatch_fails_the_report(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from arrayloss.testing import adapters

    monkeypatch.setattr(adapters, "_keras_agreement", lambda: (29, 30, ["Huber"]))
    rc = cli.main(["--backends", "numpy", "--no-timing", "--losses", "mse_loss"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "29/30 with the core; MISMATCH: Huber" in out


def test_unknown_loss_is_an_error() -> None:
    with pytest.raises(SystemExit):
        cli.main(["--losses", "nope_loss"])


def test_module_entry_point_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "arrayloss", "--backends", "numpy",
                           "--no-timing", "--losses", "mse_loss", "--no-adapters"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "mse_loss" in proc.stdout and "Backends" in proc.stdout
