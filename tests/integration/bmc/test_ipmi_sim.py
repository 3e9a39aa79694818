"""Power, sensors, SEL (whole and incremental), FRU and health against OpenIPMI's ipmi_sim, and a
fault injected through its console showing up in the next observation."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import pytest

from dcops.bmc.base import Bmc
from dcops.bmc.ipmi import IpmiSession, ipmi_bmc, sel_entries_since, sel_info
from dcops.models import BmcEndpoint, Protocol
from dcops.observation import Health, PowerState, SensorKind
from dcops.secrets import Secret
from tests.helpers.ipmi_sim import IpmiSim
from tests.helpers.simfleet import wait_for
from tests.helpers.timing import PATIENT

pytestmark = pytest.mark.timeout(60)


def dev(sim: IpmiSim) -> Bmc:
    endpoint = BmcEndpoint(address="127.0.0.1", port=sim.port, protocol=Protocol.IPMI, username="admin")
    return ipmi_bmc("bmc1", endpoint, Secret("password"))


def test_power(ipmi_sim: IpmiSim) -> None:
    with dev(ipmi_sim) as bmc:
        assert bmc.power.status() is PowerState.OFF
        bmc.power.request("on")
        assert bmc.power.status() is PowerState.ON
        bmc.power.request("force-off")
        assert bmc.power.status() is PowerState.OFF


def test_observation_sensors_sel_fru(ipmi_sim: IpmiSim) -> None:
    with dev(ipmi_sim) as bmc:
        obs = bmc.inventory.observe()
    assert obs.errors == ()
    # FRU (read in small chunks: ipmi_sim refuses reads over 32 bytes with 0xC8-like codes)
    assert obs.identity.serial == "SRVSN0001"
    assert obs.identity.manufacturer == "Contoso" and obs.identity.model == "dcops Server 1U"
    # FRU 0 (chassis, board) and the power supply's own FRU 1, named by an SDR FRU Device Locator.
    assert {c.serial for c in obs.components} == {"CHSN0001", "MBSN0001", "PSU1SN0001"}
    psu = next(c for c in obs.components if c.kind.value == "psu")
    assert (psu.location, psu.model, psu.manufacturer) == ("PSU1", "DPS-800AB-5 A", "Delta")
    assert {s.source for s in obs.sensors if s.name.startswith("PSU1")} == {"fru:PSU1"}
    temps = {s.name: s for s in obs.sensors_of(SensorKind.TEMPERATURE)}
    assert temps["Inlet Temp"].reading == 24.0 and temps["Inlet Temp"].units == "Cel"
    assert obs.sensors_of(SensorKind.FAN)[0].reading == 4800.0
    assert obs.sensors_of(SensorKind.VOLTAGE)[0].reading == pytest.approx(12.0)
    assert obs.health is Health.OK
    assert [e.id for e in obs.log_entries] == ["1", "2", "3"]
    assert obs.log_cursor == "3"


def test_injected_fault_shows_in_next_observation(ipmi_sim: IpmiSim) -> None:
    with dev(ipmi_sim) as bmc:
        assert bmc.health.health().health is Health.OK
        ipmi_sim.console("sensor_set_value 0x20 0 1 47 1")  # Inlet Temp to 47 C: above upper critical (45)
        deadline = time.monotonic() + PATIENT
        while True:
            obs = bmc.health.health()
            inlet = next(s for s in obs.sensors if s.name == "Inlet Temp")
            if inlet.reading == 47.0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert inlet.reading == 47.0
    assert inlet.health is Health.CRITICAL
    assert obs.health is Health.CRITICAL


def test_sel_entries_since_reads_only_the_newer_records(ipmi_sim: IpmiSim) -> None:
    endpoint = BmcEndpoint(address="127.0.0.1", port=ipmi_sim.port, protocol=Protocol.IPMI, username="admin")
    session = IpmiSession("bmc1", endpoint, Secret("password"))
    sent: list[int] = []
    raw = session.raw

    def counting(netfn: int, command: int, data: Iterable[int] = ()) -> dict[str, Any]:
        sent.append(command)
        return raw(netfn, command, data)

    session.raw = counting  # type: ignore[method-assign]
    try:
        assert [e.id for e in sel_entries_since(session, None)] == ["1", "2", "3"]
        assert [e.id for e in sel_entries_since(session, "2")] == ["3"]
        sent.clear()
        assert sel_entries_since(session, "3") == []
        assert sent == [0x43]  # one Get SEL Entry: record 3 says there is no next one
        ipmi_sim.console("sensor_set_bit 0x20 0 4 1 1 1")  # PSU1 failure, logged in the SEL
        info = sel_info(session)
        assert info.count == 4
        sent.clear()
        [new] = wait_for(lambda: sel_entries_since(session, "3"), 10, "the new SEL record")
        assert new.id == "4" and "PSU1" in new.message and new.severity is not Health.OK
        assert sent.count(0x43) == 2  # record 3 (for its next id) and record 4, not the whole SEL
        # A cursor the SEL no longer has (cleared, wrapped): everything is new.
        assert [e.id for e in sel_entries_since(session, "99")] == ["1", "2", "3", "4"]
        assert [e.id for e in sel_entries_since(session, None, limit=2)] == ["3", "4"]
    finally:
        session.close()


def test_logging_in_again_after_a_logout_works(ipmi_sim: IpmiSim) -> None:
    """pyghmi keeps a logged-out session registered; the next login in the same process must not
    get it back (it used to fail with a TypeError)."""
    for _ in range(3):
        with dev(ipmi_sim) as bmc:
            assert bmc.power.status() in (PowerState.ON, PowerState.OFF)


def test_ipmi_port_overrides_the_web_port(ipmi_sim: IpmiSim) -> None:
    endpoint = BmcEndpoint(address="127.0.0.1", port=443, ipmi_port=ipmi_sim.port, protocol=Protocol.AUTO,
                           username="admin")
    assert IpmiSession("bmc1", endpoint, Secret("password")).port == ipmi_sim.port
    with ipmi_bmc("bmc1", endpoint, Secret("password")) as bmc:
        assert bmc.power.status() in (PowerState.ON, PowerState.OFF)
