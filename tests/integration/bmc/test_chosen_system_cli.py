"""The commands a user runs aim at the host system dcops chose, or the one the book pins
(issue 12): on the HPE Cray EX425 capture (two nodes behind one BMC, replayed by ``dcops sim``)
two hosts of the book share the BMC, each pinning its node with ``bmc.system``; `bmc show`,
`assets collect` and `power status` read each node's own system, and a pin that names no system
is an error, never a guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dcops.cli.main import main
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet

CAPTURE = Path(__file__).resolve().parents[2] / "fixtures" / "redfish" / "hpe-cray-ex425.tar.gz"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(args))
    captured = capsys.readouterr()
    result = json.loads(captured.out) if captured.out.strip().startswith("{") else {}
    result["_stderr"] = captured.err[-3000:]
    return code, result


@pytest.mark.timeout(240)
def test_each_node_of_a_blade_is_its_own_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadedFleet(FleetSpec(hosts=0, mockups=(str(CAPTURE),)), control=False) as sim:
        monkeypatch.setenv("EX_PW", sim.password)
        monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
        port = sim.fleet.replays[0].port
        bmc = {"address": "127.0.0.1", "port": port, "scheme": "http", "protocol": "redfish",
               "username": sim.username, "password": "env:EX_PW"}
        book = tmp_path / "book.yaml"
        book.write_text(yaml.safe_dump({"version": 1, "hosts": [
            {"name": "ex-node0", "bmc": {**bmc, "system": "Node0"}},
            {"name": "ex-node1", "bmc": {**bmc, "system": "Node1"}},
            {"name": "ex-wrong", "bmc": {**bmc, "system": "Node7"}}]}))
        code, out = run(capsys, "bmc", "show", "-i", str(book), "ex-node0", "ex-node1", "-o", "json")
        assert code in (0, 1), out["_stderr"]
        ids = {item["host"]: item["identity"]["system_id"] for item in out["items"]}
        assert ids == {"ex-node0": "Node0", "ex-node1": "Node1"}
        dimms = {item["host"]: {c["chassis"] for c in item["components"] if c["kind"] == "dimm"}
                 for item in out["items"]}
        assert dimms == {"ex-node0": {"Node0"}, "ex-node1": {"Node1"}}
        code, out = run(capsys, "assets", "collect", "-i", str(book), "ex-node1", "ex-wrong", "-o", "json")
        status = {item["host"]: (item["status"], item["error"] or "") for item in out["items"]}
        assert status["ex-node1"][0] == "ok" and out["items"][0]["serial"] == "HA19340017"
        # A pin naming no system collects nothing rather than a snapshot without the server.
        assert status["ex-wrong"][0] != "ok" and "Node7" in status["ex-wrong"][1], status
        code, out = run(capsys, "power", "status", "-i", str(book), "ex-node1", "-o", "json")
        assert code == 0 and out["items"][0]["power"] == "on", out["_stderr"]
        # A pin that names no system is said so, never guessed.
        code, out = run(capsys, "bmc", "show", "-i", str(book), "ex-wrong", "-o", "json")
        assert "Node7" in out["_stderr"] and "Node0, Node1" in out["_stderr"]
