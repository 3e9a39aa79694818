"""IPMI: faults injected through ipmi_sim's console become incidents through the same engine
(pyghmi sessions kept open between rounds)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dcops.models import BmcEndpoint, Host, Location, Protocol
from dcops.patrol.config import load_patrol_config
from dcops.patrol.engine import Patrol
from dcops.store import open_store
from tests.integration.patrol.peers import ipmi_sims

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]


def test_ipmi_sim_faults_become_incidents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPMI_PW", "password")
    with ipmi_sims(tmp_path, 3) as bmcs:
        hosts = [Host(name=f"ipmi-{n}", bmc=BmcEndpoint(address="127.0.0.1", port=b.port, protocol=Protocol.IPMI,
                                                         username="admin", password_ref="env:IPMI_PW"),
                      location=Location(site="lab", room="r1", rack="L01", u=n + 1)) for n, b in enumerate(bmcs)]
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        engine = Patrol(store, hosts, load_patrol_config({"open_after": 1, "close_after": 2, "bmc_deadline": "30s"}))
        loop = asyncio.new_event_loop()
        try:
            first = loop.run_until_complete(engine.round())
            assert first.unreachable == 0, [h.error for h in first.hosts]
            assert not first.open_incidents, [i.summary for i in first.open_incidents]
            sessions = {name: id(st.session.cmd()) for name, st in engine.ipmi.bmcs.items()}  # type: ignore[union-attr]
            bmcs[0].console("sensor_set_value 0x20 0 1 47 1")  # Inlet Temp above its critical threshold
            bmcs[1].console("sensor_set_bit 0x20 0 4 1 1 1")  # PSU1: failure detected
            second = loop.run_until_complete(engine.round())
            by_host = {i.host: i for i in second.result.opened}
            assert set(by_host) == {"ipmi-0", "ipmi-1"}, [i.summary for i in second.result.opened]
            assert by_host["ipmi-0"].info.location == "Inlet Temp"
            assert by_host["ipmi-0"].severity.value in ("critical", "emergency")
            assert "PSU1" in by_host["ipmi-1"].info.location
            assert by_host["ipmi-0"].location["rack"] == "L01"
            # Sessions were kept: the same pyghmi session served both rounds.
            assert {n: id(st.session.cmd()) for n, st in engine.ipmi.bmcs.items()} == sessions  # type: ignore[union-attr]
            bmcs[0].console("sensor_set_value 0x20 0 1 24 1")
            bmcs[1].console("sensor_set_bit 0x20 0 4 1 0 1")
            resolved = []
            for _ in range(3):
                resolved += loop.run_until_complete(engine.round()).result.resolved
            assert {i.host for i in resolved} == {"ipmi-0", "ipmi-1"}
        finally:
            loop.run_until_complete(engine.close())
            loop.close()
