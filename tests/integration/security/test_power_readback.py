"""A power action the BMC carried out but whose read-back failed (issue 15, item 2): reported as
"unverified" (exit 4, never "failed"), audited as intent then outcome, and the BMC received exactly
one reset, against ``dcops sim`` with its ``readback_fails`` fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcops.cli.main import main
from dcops.sim.faults import apply_fault
from dcops.store import audit, open_store
from tests.helpers.simfleet import PASSWORD, fleet


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DCOPS_TEST_BMC_PW", PASSWORD)
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    return tmp_path


def _resets(sim, index: int) -> int:  # type: ignore[no-untyped-def]
    log = sim.call(lambda: list(sim.fleet.bmc(index).requests))
    return sum(1 for r in log if r[2] == "POST" and r[3].endswith("ComputerSystem.Reset"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("operation", ["cycle", "on"])
def test_executed_but_unread_power_action_is_unverified_not_failed(
        env: Path, capsys: pytest.CaptureFixture[str], operation: str) -> None:
    with fleet(1, ("generic-1s",), request_log=512) as sim:
        if operation == "on":
            sim.call(lambda: sim.fleet.bmc(0).reset("ForceOff"))
        inv = str(sim.fleet.write_inventory(env / "site.yaml", "env:DCOPS_TEST_BMC_PW"))
        name = sim.fleet.hosts[0].name
        sim.call(lambda: apply_fault(sim.fleet.bmc(0), "readback_fails", {"status": "500"}))
        before = _resets(sim, 0)
        code = main(["power", operation, "-i", inv, name, "--yes", "-o", "json", "--timeout", "5"])
        captured = capsys.readouterr()
        out = json.loads(captured.out)
        assert code == 4, captured.err
        item = out["items"][0]
        assert item["result"] == "unverified" and item["after"] == "unknown"
        assert "accepted the request" in item["error"]
        assert "before retrying" in captured.err
        assert _resets(sim, 0) - before == 1  # the BMC was asked once
        assert sim.call(lambda: sim.fleet.bmc(0).power) in ("On", "PoweringOn", "Off")
    store = open_store(f"sqlite:///{env}/state.db")
    try:
        entries = list(reversed(audit.query(store, action="power")))
        assert [(e.action, e.result) for e in entries] == [(f"power.{operation}", "started"),
                                                            (f"power.{operation}", "unverified")]
        assert entries[1].intent_id == entries[0].id
        assert audit.verify(store).unfinished == []
    finally:
        store.close()


@pytest.mark.timeout(120)
def test_batch_apply_reports_unverified_and_audits_intent(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    with fleet(3, ("generic-1s",), request_log=512) as sim:
        sim.call(lambda: [sim.fleet.bmc(i).reset("ForceOff") for i in range(3)])
        inv = str(sim.fleet.write_inventory(env / "site.yaml", "env:DCOPS_TEST_BMC_PW"))
        names = [h.name for h in sim.fleet.hosts]
        sim.call(lambda: apply_fault(sim.fleet.bmc(1), "readback_fails", {"status": "500"}))
        policy = env / "policy.yaml"
        policy.write_text(yaml.safe_dump({"concurrency": {"global": 3, "per_rack": 3}, "pause_seconds": 0,
                                          "verify_timeout_seconds": 20, "poll_seconds": 0.05}))
        code = main(["power", "apply", "open", "-i", inv, "-l", "sim-*", "--policy", str(policy), "--yes", "-o", "json"])
        captured = capsys.readouterr()
        assert code == 4, (captured.err, captured.out[:2000])
        out = json.loads(captured.out)
        results = {i["host"]: i["result"] for i in out["items"]}
        assert results == {names[0]: "ok", names[1]: "unverified", names[2]: "ok"}
        assert "before retrying" in captured.err
        assert _resets(sim, 1) == 1  # one power-on request: never a second
    store = open_store(f"sqlite:///{env}/state.db")
    try:
        mine = [(e.result, e.intent_id is not None) for e in reversed(audit.query(store, host=names[1]))]
        assert mine == [("started", False), ("unverified", True)]
        assert audit.verify(store).unfinished == []
    finally:
        store.close()
