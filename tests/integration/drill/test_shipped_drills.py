"""Every shipped drill (drills/*.yaml) runs on the simulator, prints its score, and patrol finds
each expected root cause as one incident. Fast timings: the fleet's and the scenario's own.

Not asserted: the detection-time limits and "no unexpected incident" (a drill's pass/fail), which
measure the machine as much as dcops; they are printed with the score for whoever runs CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcops.cli.main import main
from dcops.store import open_store

DRILLS = sorted((Path(__file__).resolve().parents[3] / "drills").glob("*.yaml"))
pytestmark = [pytest.mark.timeout(600)]


def test_the_five_issue_scenarios_ship() -> None:
    names = {p.stem for p in DRILLS}
    assert {"rack-power-loss", "management-switch-loss", "psu-failure-under-load", "disk-failure-rebuild",
            "bmc-hang"} <= names


@pytest.mark.parametrize("scenario", DRILLS, ids=lambda p: p.stem)
def test_drill_on_the_simulator(scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    state = f"sqlite:///{tmp_path / 'state.db'}"
    code = main(["--state", state, "-o", "json", "drill", "run", str(scenario), "--timeout", "300s"])
    out, err = capsys.readouterr()
    result = json.loads(out)
    summary = result["summary"]
    with capsys.disabled():
        print(f"\n{scenario.stem}: score {summary['score']:g}/100 {'PASSED' if summary['passed'] else 'FAILED'}; "
              f"detect {summary['detect_seconds']}s; first notification {summary['notify_seconds']}; "
              f"{summary['rounds']} rounds; problems: {result.get('problems') or '-'}")
    found = [item for item in result["items"] if item["expect"] != "(unexpected)"]
    assert found and all(item["incident"] != "NOT DETECTED" for item in found), (code, out, err)
    assert summary["notify_seconds"]["1"] is not None  # tier 1 was paged about it, over the wire
    if scenario.stem == "management-switch-loss":  # the production lesson: never paged as a power loss
        assert not any("rack_power_loss" in item["incident"] for item in result["items"]), out
    assert code in (0, 1)
    store = open_store(state)
    try:
        from dcops.drill.store import runs_since

        (run,) = runs_since(store)
        assert run["scenario"] == scenario.stem and run["score"] == summary["score"]
    finally:
        store.close()
