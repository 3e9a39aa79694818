"""One patrol round with ``open_after: 1`` over every real capture in tests/fixtures/redfish,
replayed by ``dcops sim`` on loopback: incidents open only where a capture holds a real fault,
one per fault; healthy captures open none (issue 12: 12 false critical/emergency incidents out
of 24 before).

The faults below were read from the capture files by hand (SOURCES.md notes them too):

* nvidia-gb200-nvl: the cold-plate leak detector ``Chassis_0_LeakDetector_1_ColdPlate`` is
  Critical (only the detector says so: LeakDetection and the chassis roll up OK); the Grace
  modules ``HGX_CPU_0`` and ``HGX_CPU_1`` are Critical with an EC_STRAP_MISMATCH condition each;
  ``HGX_BMC_0`` is Critical while Starting. The Critical sensors in the capture are Absent (no
  GPU firmware, no DPU port): no fault.
* huawei-2288h-v5-ibmc-3.12-partial: Disk2 is Warning (the system rolls it up Critical: one
  fault, the disk's).
* gigabyte-h262-z63-ami: the chassis' PowerControl says Critical while Disabled: a disabled
  function, no fault -- and dcops reads no health from it.
* supermicro-sys-821ge-tnhr-x13: the Maintenance Event Log *service* says Critical: a log
  service, not hardware; dcops reads no health from log services.
* hpe-cray-ex425: two firmware inventory items Warning/UnavailableOffline: firmware inventory,
  not hardware; dcops reads no health from it.
* the DMTF mockups show faults on purpose: a Warning power supply (liquid-cooled, localstorage,
  rackmount1, smartnic, tower), a Warning CPU temperature at 44 over its 42 caution threshold
  (rackmount1: the sensor, the system and the processor all carry the same condition -- one
  incident), and a stopped enclosure fan with Critical health (bladed: a legacy Thermal fan is a
  part and a reading -- one incident). The bladed mockup's Blade3 Warning belongs to another
  blade (another host), not to the first blade read here.
* every other capture (Dell, HPE ProLiant x2, HPE Cray EX425, Lenovo, Supermicro, Gigabyte):
  healthy for patrol's purposes; none opens anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.models import BmcEndpoint, Host, Location, Protocol
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from tests.integration.patrol.helpers import one_round

pytestmark = [pytest.mark.timeout(300)]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redfish"
CAPTURES = sorted(p.name[: -len(".tar.gz")] for p in FIXTURES.glob("*.tar.gz"))
PASSWORD_ENV = "DCOPS_TEST_CAPTURES_PW"

# capture -> the parts that have a real fault (PartInfo location or part id fragment), one
# incident each.
FAULTS: dict[str, set[str]] = {
    "nvidia-gb200-nvl": {"Chassis 0 LeakDetector 1 ColdPlate", "HGX_CPU_0:", "HGX_CPU_1:", "HGX_BMC_0"},
    "huawei-2288h-v5-ibmc-3.12-partial": {"Disk2"},
    "dmtf-public-bladed": {"System Fan 2"},
    "dmtf-public-liquid-cooled-server": {"PSU 1"},
    "dmtf-public-localstorage": {"Power Supply Bay"},
    "dmtf-public-rackmount1": {"PSU 1", "CPU #1 Temperature"},
    "dmtf-public-smartnic": {"PSU 1"},
    "dmtf-public-tower": {"PSU 1"},
}


@pytest.fixture(scope="module")
def replay() -> Iterator[ThreadedFleet]:
    spec = FleetSpec(hosts=0, mockups=tuple(str(FIXTURES / f"{name}.tar.gz") for name in CAPTURES))
    with ThreadedFleet(spec, control=False) as sim:
        yield sim


def test_one_round_opens_one_incident_per_real_fault_and_none_on_healthy_captures(
        replay: ThreadedFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, replay.password)
    hosts = [Host(name=name, bmc=BmcEndpoint(address="127.0.0.1", port=bmc.port, scheme="http",
                                             protocol=Protocol.REDFISH, username=replay.username,
                                             password_ref=f"env:{PASSWORD_ENV}"),
                  location=Location(site="lab", room="r1", rack=f"R{n:02d}", u=1))
             for n, (name, bmc) in enumerate(zip(CAPTURES, replay.fleet.replays, strict=True))]
    summary = one_round(hosts, tmp_path / "captures.db", open_after=1, bmc_deadline="60s")
    assert summary.unreachable == 0, [h.error for h in summary.hosts if h.error]
    opened: dict[str, list[str]] = {}
    for incident in summary.result.opened:
        opened.setdefault(incident.host, []).append(
            f"{incident.part} {incident.condition.value} {incident.severity.value}: {incident.summary}")
    healthy = {name: found for name, found in opened.items() if name not in FAULTS}
    assert not healthy, healthy
    for name, parts in FAULTS.items():
        found = opened.get(name, [])
        assert len(found) == len(parts), (name, found)
        for part in parts:
            assert sum(part in line for line in found) == 1, (name, part, found)
