"""`dcops sim` usage errors end with exit code 2 and a one-line message, without a running fleet."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcops.cli.main import main


@pytest.mark.parametrize("args", [
    ["sim", "up", "--profile", "cray-xc40"],
    ["sim", "up", "--latency", "fast"],
    ["sim", "up", "--timing", "boot"],
    ["sim", "up", "--timing", "warp=1"],
    ["sim", "up", "--mockup", "/nonexistent/capture"],
    ["sim", "fault", "sim-0001"],
    ["sim", "fault", "psu_fail"],
    ["sim", "fault", "sim-0001", "psu_fail", "psu=1", "extra"],
    ["sim", "status"],
    ["sim", "clear"],
])
def test_usage_errors(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*args, "--dir", str(tmp_path / "none")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("dcops: error: ") or "Error:" in err


def test_down_without_a_fleet_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "down", "--dir", str(tmp_path)]) == 0
    assert "no simulator was running" in capsys.readouterr().out
