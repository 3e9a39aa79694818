"""The patrol and alerts commands end to end on a small simulated fleet: exit codes, JSON
schema (items + summary), ack/silence/resolve, the report, and no password in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcops.cli.main import main
from tests.integration.patrol.conftest import make_sim_patrol

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_patrol_and_alerts_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sp = make_sim_patrol(tmp_path, 20)
    try:
        cfg = tmp_path / "config.yaml"
        cfg.write_text(f"inventory: {sp.inventory}\nstate: sqlite:///{tmp_path}/cli.db\npatrol: {{open_after: 1}}\n")
        base = ("--config", str(cfg))
        code, out, err = _run(capsys, *base, "patrol", "run", "-o", "json")
        assert code == 0, err
        body = json.loads(out)
        assert body["summary"]["hosts"] == 20 and body["summary"]["unreachable"] == 0
        sp.fault("psu_fail", ["sim-0004"], psu="1")
        sp.fault("bmc_unreachable", ["sim-0009"])
        code, out, err = _run(capsys, *base, "patrol", "run", "-o", "json")
        assert code == 4, err  # findings, and a BMC did not answer: incomplete wins
        code, out, err = _run(capsys, *base, "alerts", "list", "-o", "json")
        assert code == 1
        items = json.loads(out)["items"]
        by_host = {i["host"]: i for i in items}
        assert set(by_host) == {"sim-0004", "sim-0009"}
        psu = by_host["sim-0004"]
        assert psu["severity"] == "critical" and psu["serial"] and psu["where"].endswith(f"U{sp.hosts['sim-0004'].location.u}")
        code, out, err = _run(capsys, *base, "patrol", "status", "sim-0004", "sim-0009", "sim-0001", "-o", "json")
        assert code == 1, err  # open incidents; every host read just now: not stale
        status = {i["host"]: i for i in json.loads(out)["items"]}
        assert status["sim-0004"]["open_incidents"] == 1 and status["sim-0004"]["worst"] == "critical"
        assert status["sim-0009"]["bmc"] == "DOWN" and status["sim-0001"]["bmc"] == "up"
        assert status["sim-0001"]["open_incidents"] == 0 and not status["sim-0001"]["stale"]
        code, out, err = _run(capsys, *base, "patrol", "status", "sim-0001", "--stale-after", "0s")
        assert code == 4 and "not read by the patrol within 0s" in err and "sim-0001" in out
        code, out, err = _run(capsys, *base, "alerts", "ack", str(psu["id"]), "-m", "spare on its way")
        assert code == 0, err
        code, out, err = _run(capsys, *base, "alerts", "show", str(psu["id"]))
        assert "acked by" in out and "spare on its way" in out
        assert "S/N" in out and "warranty: until" in out
        code, out, err = _run(capsys, *base, "alerts", "silence", "--host", "sim-0009", "--for", "1h")
        assert code == 0, err
        code, out, err = _run(capsys, *base, "alerts", "resolve", str(by_host["sim-0009"]["id"]))
        assert code == 0, err
        code, out, err = _run(capsys, *base, "patrol", "report", "--since", "1h", "--format", "md")
        assert code == 0 and "## Coverage" in out and "20/20 BMCs patrolled" in out
        code, out, err = _run(capsys, *base, "patrol", "report", "--format", "html")
        assert code == 0 and out.startswith("<!DOCTYPE html>")
        everything = "".join(p.read_text(errors="ignore") for p in tmp_path.glob("*.yaml"))
        assert sp.sim.password not in everything
    finally:
        sp.loop.close()
        sp.sim.close()


def test_no_password_in_output_when_a_bmc_refuses_login(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sp = make_sim_patrol(tmp_path, 3)
    try:
        wrong = "Wr0ng-S3cret-xyz"
        (tmp_path / "password").write_text(wrong + "\n")
        code, out, err = _run(capsys, "-i", str(sp.inventory), "--state", f"sqlite:///{tmp_path}/x.db",
                              "patrol", "run", "--all", "-o", "json", "-vv")
        assert code == 4
        assert wrong not in out and wrong not in err
        assert "login refused" in out
    finally:
        sp.loop.close()
        sp.sim.close()


def test_ack_acknowledges_the_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two incidents about one part (a twin stored before one part meant one incident, or a
    symptom that opened on its own) and one about another part: acking one acks its twin only."""
    import dataclasses

    from dcops.patrol import store as pstore
    from dcops.patrol.model import Condition, PartInfo
    from dcops.store import open_store
    from tests.integration.patrol.helpers import psu_incident

    state = f"sqlite:///{tmp_path}/ack.db"
    store = open_store(state)
    try:
        psu = psu_incident()
        twin = dataclasses.replace(psu, id=2, key=f"{psu.host}|{psu.part}|sensor_health",
                                   condition=Condition.SENSOR_HEALTH)
        other = dataclasses.replace(psu, id=3, key=f"{psu.host}|fan:1:Fan1|health", part="fan:1:Fan1",
                                    info=PartInfo(kind="fan", location="Fan1"))
        for incident in (psu, twin, other):
            pstore.save_incident(store, incident)
    finally:
        store.close()
    code, out, err = _run(capsys, "--state", state, "alerts", "ack", str(psu.id), "-m", "on it", "-o", "json")
    assert code == 0, err
    assert sorted(i["id"] for i in json.loads(out)["items"]) == [psu.id, 2]
    store = open_store(state)
    try:
        acked = {i.id: i.acked_by for i in pstore.list_incidents(store, status="open")}
        assert acked[psu.id] and acked[2] and acked[3] is None
    finally:
        store.close()
