"""Against dcops sim (just landed; a first set): every vendor flavour observes without errors and
leaves no session; slow, erroring and dead BMCs are bounded by the deadline; a fault shows up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from dcops.bmc.redfish.aio import Target, observe_many
from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
from dcops.bmc.redfish.drivers import redfish_bmc
from dcops.errors import UnreachableError
from dcops.models import BmcEndpoint, Protocol
from dcops.observation import ComponentKind, Health
from dcops.secrets import Secret

sim_testing = pytest.importorskip("dcops.sim.testing")
from dcops.sim.faults import apply_fault  # noqa: E402
from dcops.sim.fleet import FleetSpec  # noqa: E402

pytestmark = pytest.mark.timeout(60)
PROFILES = ("dell", "hpe", "lenovo", "supermicro")


@pytest.fixture
def sim() -> Iterator[object]:
    with sim_testing.ThreadedFleet(FleetSpec(hosts=4, profiles=PROFILES), control=False) as fleet:
        yield fleet


def connector(sim: object, index: int, timeouts: Timeouts | None = None) -> RedfishConnector:
    port = sim.port(index)  # type: ignore[attr-defined]
    endpoint = BmcEndpoint(address="127.0.0.1", port=port, scheme="http", protocol=Protocol.REDFISH,
                           username=sim.username)  # type: ignore[attr-defined]
    return RedfishConnector(f"sim-{index}", endpoint, Secret(sim.password),  # type: ignore[attr-defined]
                            timeouts or Timeouts(connect=1, read=3, deadline=10, retries=3, backoff=0.05))


def sessions(sim: object) -> int:
    return sum(sim.call(lambda i=i: len(sim.fleet.bmc(i).sessions))  # type: ignore[attr-defined,misc]
               for i in range(len(PROFILES)))


def test_every_flavour_observes_cleanly_and_logs_out(sim: object) -> None:
    for index in range(len(PROFILES)):
        with redfish_bmc(f"sim-{index}", connector(sim, index)) as dev:
            obs = dev.inventory.observe()
        assert obs.errors == (), (PROFILES[index], obs.errors[:3])
        assert obs.of_kind(ComponentKind.CPU) and obs.of_kind(ComponentKind.DIMM)
    assert sessions(sim) == 0


def test_async_fleet_read_leaves_no_session(sim: object) -> None:
    targets = [Target(f"sim-{i}", sim.url(i), sim.username, Secret(sim.password), verify_tls=False)  # type: ignore[attr-defined]
               for i in range(len(PROFILES))]
    results = asyncio.run(observe_many(targets, deadline=20))
    assert all(r.observation is not None for r in results), [r.error for r in results]
    assert sessions(sim) == 0


def test_fault_shows_in_next_observation(sim: object) -> None:
    sim.call(lambda: apply_fault(sim.fleet.bmc(0), "psu_fail", {"psu": "1"}))  # type: ignore[attr-defined]
    with redfish_bmc("sim-0", connector(sim, 0)) as dev:
        obs = dev.inventory.observe()
    assert obs.health is Health.CRITICAL or obs.health is Health.WARNING
    assert any(p.health is not Health.OK for p in obs.of_kind(ComponentKind.PSU))


@pytest.mark.parametrize(("fault", "args"), [
    ("bmc_slow", {"latency": "30s"}),
    ("bmc_unreachable", {"mode": "hang"}),
    ("bmc_unreachable", {"mode": "refuse"}),
    ("bmc_errors", {"rate": "1.0", "status": "503"}),
])
def test_bad_bmcs_are_bounded_by_the_deadline(sim: object, fault: str, args: dict[str, str]) -> None:
    sim.call(lambda: apply_fault(sim.fleet.bmc(1), fault, args))  # type: ignore[attr-defined]
    timeouts = Timeouts(connect=1, read=1, deadline=3, retries=5, backoff=0.05)
    started = time.monotonic()
    with pytest.raises(UnreachableError), redfish_bmc("sim-1", connector(sim, 1, timeouts)) as dev:
        dev.inventory.observe()
    assert time.monotonic() - started < 20  # bounded by the 3 s deadline, not the 30 s answer


def test_lenovo_sensor_units_are_read_as_ucum(sim: object) -> None:
    """The Lenovo flavour says "C" and "Watts" (as the XCC 2.83 capture does); dcops' Lenovo quirk
    reads them as UCUM "Cel" and "W", like every other vendor's."""
    from dcops.sim.resources import render

    doc = sim.call(lambda: render(sim.fleet.bmc(2), "/redfish/v1/Chassis/1/Sensors/TotalPower"))  # type: ignore[attr-defined]
    assert doc["ReadingUnits"] == "Watts"
    with redfish_bmc("sim-2", connector(sim, 2)) as dev:
        obs = dev.inventory.observe()
    units = {s.units for s in obs.sensors}
    assert "Watts" not in units and "C" not in units and {"Cel", "W"} <= units, units
