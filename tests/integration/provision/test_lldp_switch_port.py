"""The production-network step finds the host's switch port over LLDP as the BMC reports it
(Port ``Ethernet.LLDPReceive``, HPE iLO 6 style, taught to the simulator as ``lldp_neighbor``):
a host the book gives no port is moved on the port LLDP names and the hand-off records it; a host
whose cabling contradicts the book fails before the switch is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from tests.helpers.receivers import webhook
from tests.helpers.standins import Events, eapi_switch, production_listeners
from tests.integration.provision.conftest import FAST
from tests.integration.provision.lab import cli, sim_baselines, write_inventory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]


def test_switch_port_from_lldp_and_a_cabling_mismatch(state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    events = Events()
    monkeypatch.setenv("DCOPS_TEST_SW_PW", "sw-secret")
    with ThreadedFleet(FleetSpec(hosts=2, profiles=("dell-r750",), timings=FAST, request_log=4096)) as sim, \
            eapi_switch(events, "sw-secret") as switch, production_listeners(["127.0.1.2"], events) as port, \
            webhook() as hook:
        inv = write_inventory(sim, tmp_path / "inv.yaml", monkeypatch)
        base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False, switch_api=switch.url,
                             reach_port=port)
        net_file = base / "os" / "network" / "sim.yaml"
        book = yaml.safe_load(net_file.read_text())
        del book["hosts"]["sim-0001"]["switch"]  # the book does not know where sim-0001 is cabled
        book["hosts"]["sim-0001"]["vlan"] = 120
        net_file.write_text(yaml.safe_dump(book))
        # The switch answers LLDP on the first NIC port of each host (sim-0002: not where the book says).
        for host, sw_port in (("sim-0001", "Ethernet7"), ("sim-0002", "Ethernet9")):
            sim.control.post("/v1/faults", {"hosts": [host], "kind": "lldp_neighbor",
                                            "args": {"switch": "leaf-a01.sim.example.net", "switch_port": sw_port}})
        code, data, err = cli(capsys, "provision", "run", "sim-0001", "sim-0002", "-i", str(inv), "--baselines",
                              str(base), "--poll", "0.05", "--wait-limit", "60", "--yes", "--delivered-hook", f"{hook.url}/cmdb", "-v")
    assert code == 5, err
    status = {i["host"]: i for i in data["items"]}
    assert status["sim-0001"]["status"] == "delivered", status
    assert status["sim-0002"]["status"] == "failed" and status["sim-0002"]["step"] == "network"
    assert ("the cabling differs from the book: the network file says leaf-a01 port Ethernet2, LLDP sees "
            "leaf-a01 port Ethernet9") in status["sim-0002"]["message"]
    # Only the port LLDP named for sim-0001 was changed; sim-0002's were not touched.
    # (no access VLAN in the book: the port trunks the host's own production VLAN, 120)
    assert set(switch.ports) == {"Ethernet7"}, switch.ports
    assert switch.ports["Ethernet7"]["mode"] == "trunk" and switch.ports["Ethernet7"]["trunkAllowedVlans"] == "120"
    (path, facts), = hook.received
    assert facts["host"] == "sim-0001"
    assert facts["switch_port"] == {"switch": "leaf-a01", "port": "Ethernet7", "source": "lldp"}
    assert "network: switch port: LLDP: leaf-a01 port Ethernet7" in err
