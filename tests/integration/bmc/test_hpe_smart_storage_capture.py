"""HPE iLO 5 passes disks through per controller (SmartStorageConfig Ports[].OperatingModeAfterReboot),
read from the real DL360 Gen10 Plus capture (iLO 5 3.11) replayed by `dcops sim` on loopback: the
capture's controller is in Mixed mode; its two disks are in the boot logical drive (online), and a
disk in none would be passed through -- states the DMTF Drive alone does not give. On iLO 6 (DL380a
Gen11 capture) SmartStorageConfig is gone: the disk states stay unknown (unverified), never guessed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.baseline.diff import diff_raid
from dcops.baseline.models import DiskState, RaidTemplate, VirtualDisk
from dcops.bmc.redfish.connector import RedfishConnector
from dcops.bmc.redfish.drivers import redfish_bmc
from dcops.models import BmcEndpoint, Protocol
from dcops.secrets import Secret
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from tests.helpers.simfleet import FAST, PACING

pytestmark = pytest.mark.timeout(120)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redfish"
ILO5 = "hpe-proliant-dl360-gen10plus-ilo5-3.11"
ILO6 = "hpe-proliant-dl380a-gen11-ilo6-1.66"


@pytest.fixture(scope="module")
def replay() -> Iterator[ThreadedFleet]:
    captures = tuple(str(FIXTURES / f"{name}.tar.gz") for name in (ILO5, ILO6))
    with ThreadedFleet(FleetSpec(hosts=0, mockups=captures), control=False) as sim:
        yield sim


def _controllers(sim: ThreadedFleet, n: int) -> list:  # type: ignore[type-arg]
    ep = BmcEndpoint(address="127.0.0.1", port=sim.fleet.replays[n].port, scheme="http", protocol=Protocol.REDFISH,
                     username=sim.username)
    conn = RedfishConnector("r", ep, Secret(sim.password), FAST)
    bmc = redfish_bmc("r", conn, pacing=PACING)
    try:
        return bmc.raid.controllers()
    finally:
        bmc.close()


def test_ilo5_capture_mixed_mode_gives_the_disk_states(replay: ThreadedFleet) -> None:
    ctrls = [c for c in _controllers(replay, 0) if c.drives]
    (ctrl,) = ctrls
    assert ctrl.passthrough_mode == "Mixed"
    assert ctrl.mode_uri == "/redfish/v1/systems/1/smartstorageconfig/settings/"
    assert [(d.bay, d.state) for d in ctrl.drives] == [(1, "online"), (2, "online")]
    # So a big-data template (OS mirror on them, every other disk passed through) is met as it stands.
    template = RaidTemplate("jbod", (VirtualDisk("BootVolume", "RAID1", (1, 2)),), unused_disks=DiskState.NON_RAID)
    changes, problems, unverified = diff_raid(template, [ctrl])
    assert [c.action for c in changes if c.action in ("mode", "convert")] == [] and not unverified, (changes, unverified)


def test_ilo6_capture_has_no_smart_storage_config_and_guesses_nothing(replay: ThreadedFleet) -> None:
    ctrls = [c for c in _controllers(replay, 1) if c.drives]
    assert ctrls and all(c.passthrough_mode is None for c in ctrls)
    assert all(d.state is None for c in ctrls for d in c.drives)
