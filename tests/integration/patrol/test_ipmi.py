"""IPMI: faults injected through ipmi_sim's console become incidents through the same engine
(pyghmi sessions kept open between rounds), for ``ipmi`` hosts and for ``auto`` hosts whose
Redfish is absent or silent; a PSU incident names the PSU's FRU serial and model."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import pytest

from dcops.bmc.ipmi import IpmiSession
from dcops.models import BmcEndpoint, Host, Location, Protocol
from dcops.observation import PowerState
from dcops.patrol.config import load_patrol_config
from dcops.patrol.engine import Patrol
from dcops.store import open_store
from tests.helpers.ipmi_sim import free_port, ipmi_sims
from tests.helpers.timing import PATIENT, ROUND

# Under load the first RMCP+ sessions to ipmi_sim took 30 s; every wait below is a condition with
# a patient ceiling, and pytest's timeout is the backstop above all of them.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(int(ROUND * 3 + 60))]


def _connections(listener: socket.socket) -> int:
    """Connections the kernel completed on a listener nobody serves (accepted and closed here)."""
    listener.setblocking(False)
    count = 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def test_ipmi_sim_faults_become_incidents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPMI_PW", "password")
    with ipmi_sims(tmp_path, 3) as bmcs:
        hosts = [Host(name=f"ipmi-{n}", bmc=BmcEndpoint(address="127.0.0.1", port=b.port, protocol=Protocol.IPMI,
                                                         username="admin", password_ref="env:IPMI_PW"),
                      location=Location(site="lab", room="r1", rack="L01", u=n + 1)) for n, b in enumerate(bmcs)]
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        engine = Patrol(store, hosts, load_patrol_config({"open_after": 1, "close_after": 2, "bmc_deadline": PATIENT,
                                                              "round_deadline": ROUND}))
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
            assert "PSU1" in (by_host["ipmi-1"].info.location or "")
            # Named from the PSU's own FRU (FRU 1, found through the SDR's FRU Device Locator),
            # not from FRU 0: the engineer walks in with the right spare.
            psu = by_host["ipmi-1"].info
            assert (psu.serial, psu.model, psu.manufacturer) == ("PSU1SN0001", "DPS-800AB-5 A", "Delta"), psu
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


def test_auto_hosts_fall_back_to_ipmi_when_redfish_is_absent_or_silent(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto``: Redfish refused (nothing listens) or silent (accepts, never answers within the
    deadline) -> power, health and sensors over IPMI; the silent one is not waited for again."""
    monkeypatch.setenv("IPMI_PW", "password")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshakes; nobody ever answers
    refused = free_port()
    with ipmi_sims(tmp_path, 2) as bmcs, contextlib.closing(silent):
        # An auto host's IPMI is on the standard port 623; here each is mapped to its ipmi_sim.
        ipmi_ports = {"auto-refused": bmcs[0].port, "auto-silent": bmcs[1].port}
        monkeypatch.setattr(IpmiSession, "port", property(lambda s: ipmi_ports[s.host]))
        web = {"auto-refused": refused, "auto-silent": silent.getsockname()[1]}
        hosts = [Host(name=name, bmc=BmcEndpoint(address="127.0.0.1", port=port, scheme="http",
                                                 protocol=Protocol.AUTO, username="admin",
                                                 password_ref="env:IPMI_PW"),
                      location=Location(site="lab", room="r1", rack="L02", u=n + 1))
                 for n, (name, port) in enumerate(web.items())]
        store = open_store(f"sqlite:///{tmp_path}/auto.db")
        # Redfish's deadline is the subject here (short, and waited for once); IPMI's is patient.
        engine = Patrol(store, hosts, load_patrol_config({"open_after": 1, "bmc_deadline": "2s",
                                                          "ipmi_deadline": PATIENT, "round_deadline": ROUND}))
        loop = asyncio.new_event_loop()
        try:
            first = loop.run_until_complete(engine.round())
            by_host = {h.host: h for h in first.hosts}
            assert first.unreachable == 0, [h.error for h in first.hosts]
            for name in web:
                obs = by_host[name].observation
                assert obs is not None and obs.protocol == "ipmi" and obs.identity.serial == "SRVSN0001"
                assert obs.identity.power_state is not PowerState.UNKNOWN and obs.sensors
            assert by_host["auto-silent"].seconds >= 2.0  # it waited for Redfish's deadline once
            assert _connections(silent) >= 1  # ... on a real connection to the silent service
            bmcs[1].console("sensor_set_value 0x20 0 1 47 1")  # Inlet Temp above its critical threshold
            second = loop.run_until_complete(engine.round())
            silent_visit = next(h for h in second.hosts if h.host == "auto-silent")
            # Straight to IPMI this time: the silent Redfish was not even connected to again.
            assert silent_visit.reachable and _connections(silent) == 0
            [incident] = second.result.opened
            assert incident.host == "auto-silent" and incident.info.location == "Inlet Temp"
        finally:
            loop.run_until_complete(engine.close())
            loop.close()
