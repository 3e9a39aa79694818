"""`dcops patrol run` shows hosts done / total on a terminal, on stderr: stdout keeps the results
only, so `dcops patrol run -o json > round.json` stays valid JSON."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from dcops.cli.main import main
from tests.helpers.simfleet import PASSWORD, fleet

pytestmark = pytest.mark.timeout(120)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_patrol_run_shows_progress_on_a_terminal_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCOPS_TEST_BMC_PW", PASSWORD)
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    with fleet(3) as sim:
        inventory = str(sim.fleet.write_inventory(tmp_path / "site.yaml", "env:DCOPS_TEST_BMC_PW"))
        out, err = io.StringIO(), _Tty()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        code = main(["patrol", "run", "--all", "-i", inventory, "-o", "json"])
    assert code in (0, 1), err.getvalue()
    assert len(json.loads(out.getvalue())["items"]) == 3  # stdout: the result, nothing else
    assert "patrol round" in err.getvalue() and "3/3" in err.getvalue()
