"""``dcops sim`` serves the traits of real Redfish services (issue 12, dcops.sim.traits) and
dcops reads them right over the wire: every page of a paged collection once, the host system
not the GPU baseboard, one drive per physical drive, HBM not a DIMM, placeholder thresholds and
energy counters silent, a leak only a detector reports and a NIC warning only a PCIe function
reports each one incident, an error body a read error. Replay pages where the capture paged."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.models import BmcEndpoint, Host, Location, Protocol
from dcops.observation import ComponentKind, Observation, SensorKind
from dcops.patrol.checks import check_host
from dcops.patrol.converge import ConvergeState, converge
from dcops.patrol.model import HostMemory, Policy
from dcops.secrets import Secret
from dcops.sim.faults import apply_fault
from dcops.sim.fleet import FleetSpec
from dcops.sim.replay import ReplayBmc
from dcops.sim.server import SimRequest
from dcops.sim.state import Credentials
from dcops.sim.testing import ThreadedFleet
from dcops.sim.traits import TRAITS

pytestmark = [pytest.mark.timeout(300)]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redfish"
PROFILES = ("dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13")


@pytest.fixture(scope="module", params=[2, 75])
def traited(request: pytest.FixtureRequest) -> Iterator[ThreadedFleet]:
    spec = FleetSpec(hosts=len(PROFILES), profiles=PROFILES, traits=tuple(TRAITS), page_size=request.param)
    with ThreadedFleet(spec, control=False) as sim:
        yield sim


def visit(sim: ThreadedFleet, index: int, *, health: bool = False) -> Observation:
    async def run() -> Observation:
        fleet = RedfishFleet(concurrency=4)
        target = Target(f"h{index}", sim.url(index), sim.username, Secret(sim.password), verify_tls=False)
        result = await fleet.visit(target, health=health, sections=("components", "sensors"), deadline=120)
        await fleet.close()
        assert result.observation is not None, result.error
        return result.observation

    return asyncio.run(run())


@pytest.mark.parametrize("index", range(len(PROFILES)))
def test_every_trait_read_right_at_every_page_size(traited: ThreadedFleet, index: int) -> None:
    bmc = traited.bmc(index)
    obs = visit(traited, index)
    profile = bmc.profile
    # The host, not HGX_Baseboard_0 listed first; its GPUs join, its HBM is no DIMM.
    assert obs.identity.system_id == profile.flavour.system_id and obs.identity.serial == bmc.serial
    assert len(obs.of_kind(ComponentKind.GPU)) == 4 and len(obs.of_kind(ComponentKind.DEVICE_MEMORY)) == 4
    assert len(obs.of_kind(ComponentKind.DIMM)) == profile.sockets * profile.dimms_per_socket
    assert len(obs.of_kind(ComponentKind.CPU)) == profile.sockets
    # Each drive once though two views list it; each sensor once though every collection pages.
    drives = obs.of_kind(ComponentKind.DRIVE)
    assert len(drives) == len(profile.drives) == len({d.serial for d in drives})
    keys = [s.key for s in obs.sensors]
    assert len(keys) == len(set(keys))
    # The error body is a read error of that link, nothing else is.
    assert [e.what for e in obs.errors if "error body" in e.reason] and \
        all("error body" in e.reason for e in obs.errors), obs.errors
    # Placeholder thresholds and the energy counter: no event on a healthy host.
    check = check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("components", "sensors"))
    assert not check.events, [e.summary for e in check.events]
    assert obs.sensors_of(SensorKind.ENERGY) and all(s.thresholds.is_empty() for s in obs.sensors_of(SensorKind.ENERGY))


def test_a_leak_and_a_pcie_only_nic_warning_are_one_incident_each(traited: ThreadedFleet) -> None:
    index = 0
    traited.call(lambda: apply_fault(traited.fleet.bmc(index), "leak", {"detector": "ColdPlate_1"}))
    traited.call(lambda: apply_fault(traited.fleet.bmc(index), "pcie_nic", {"nic": "1"}))
    try:
        obs = visit(traited, index)
        check = check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("components", "sensors"))
        result = converge(ConvergeState(), [check], Policy().with_hysteresis(open_after=1), obs.taken_at, {})
        parts = sorted(i.part for i in result.opened)
        assert len(parts) == 2, parts
        assert parts[0].startswith("pcie_device:") and "LeakDetector ColdPlate_1" in parts[1]
        # The cheap patrol read sees the leak too (every rollup above it says OK).
        cheap = visit(traited, index, health=True)
        assert [s.name for s in cheap.sensors_of(SensorKind.LEAK) if s.health.value == "critical"] == \
            ["LeakDetector ColdPlate_1"]
    finally:
        from dcops.sim.faults import clear_faults

        traited.call(lambda: clear_faults(traited.fleet.bmc(index)))


def test_the_host_system_is_what_power_and_boot_aim_at(traited: ThreadedFleet) -> None:
    from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
    from dcops.bmc.redfish.drivers import redfish_bmc

    index = 0  # Dell: "HGX_Baseboard_0" sorts before "System.Embedded.1"
    endpoint = BmcEndpoint(address="127.0.0.1", port=traited.port(index), scheme="http",
                           username=traited.username, password_ref="env:X")
    conn = RedfishConnector("h0", endpoint, Secret(traited.password), Timeouts(deadline=60))
    with redfish_bmc("h0", conn) as dev:
        dev.boot.set_once("pxe")
        assert dev.boot.get() == ("Pxe", "Once")
        assert dev.power.status().value == "on"
    assert traited.bmc(index).boot["BootSourceOverrideTarget"] == "Pxe"


def test_patrol_round_over_a_traited_fleet_opens_nothing(traited: ThreadedFleet, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.patrol.helpers import one_round

    monkeypatch.setenv("TRAIT_PW", traited.password)
    hosts = [Host(name=f"t{n}", bmc=BmcEndpoint(address="127.0.0.1", port=traited.port(n), scheme="http",
                                                 protocol=Protocol.REDFISH, username=traited.username,
                                                 password_ref="env:TRAIT_PW"),
                  location=Location(site="lab", room="r1", rack="T01", u=n + 1)) for n in range(len(PROFILES))]
    summary = one_round(hosts, tmp_path / "t.db", open_after=1, bmc_deadline="60s")
    assert summary.unreachable == 0, [h.error for h in summary.hosts if h.error]
    assert not summary.result.opened, [i.summary for i in summary.result.opened]


AUTH = {"Authorization": "Basic " + base64.b64encode(b"admin:pw").decode()}


def test_replay_pages_where_the_capture_paged() -> None:
    bmc = ReplayBmc(FIXTURES / "dell-poweredge-r750-idrac9-6.00.tar.gz", Credentials("admin", "pw"))
    uri = "/redfish/v1/Systems/System.Embedded.1/Oem/Dell/DellSensors"
    first = orjson.loads(bmc.handle(SimRequest("GET", uri, {}, AUTH)).body)
    second = orjson.loads(bmc.handle(SimRequest("GET", uri, {"$skip": "50"}, AUTH)).body)
    assert first["Members@odata.nextLink"].endswith("?$skip=50")
    assert len(first["Members"]) == 50 and len(second["Members"]) == 27
    assert not {m["@odata.id"] for m in first["Members"]} & {m["@odata.id"] for m in second["Members"]}


@pytest.mark.parametrize("size", [2, 50, 75])
def test_replay_at_a_page_size_yields_every_member_once(size: int) -> None:
    async def run(url: str) -> Observation:
        fleet = RedfishFleet(concurrency=4)
        result = await fleet.visit(Target("r", url, "admin", Secret(sim.password), verify_tls=False),
                                   sections=("components", "sensors"), deadline=120)
        await fleet.close()
        assert result.observation is not None, result.error
        return result.observation

    capture = FIXTURES / "lenovo-thinksystem-sr670v2-xcc-2.83.tar.gz"
    with ThreadedFleet(FleetSpec(hosts=0, mockups=(str(capture),)), control=False) as plain:
        whole = asyncio.run(run(f"http://127.0.0.1:{plain.fleet.replays[0].port}")) if (sim := plain) else None
    with ThreadedFleet(FleetSpec(hosts=0, mockups=(str(capture),), page_size=size), control=False) as sim:
        paged = asyncio.run(run(f"http://127.0.0.1:{sim.fleet.replays[0].port}"))
    assert whole is not None
    assert sorted(s.key for s in paged.sensors) == sorted(s.key for s in whole.sensors)
    assert sorted(c.identity for c in paged.components) == sorted(c.identity for c in whole.components)
