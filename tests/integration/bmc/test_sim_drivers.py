"""BIOS, RAID, firmware and task monitors against ``dcops sim`` (every vendor flavour for BIOS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dcops.bmc.redfish.bodies import simple_update_body, simple_update_target
from dcops.bmc.redfish.tasks import monitor_of
from dcops.bmc.state import BiosState
from dcops.errors import ApplyError
from dcops.sim.testing import ThreadedFleet
from tests.helpers.simfleet import device, fleet, requests, sessions, wait_for

pytestmark = pytest.mark.timeout(120)
PROFILES = ("dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13", "generic-1s")
GENERIC = 4


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedFleet]:
    with fleet(len(PROFILES), PROFILES) as running:
        yield running


def changeable(state: BiosState) -> tuple[str, str]:
    assert state.registry
    for attr in state.registry.values():
        if attr.type == "Enumeration" and not attr.read_only and len(attr.values) > 1 and attr.name in state.current:
            return attr.name, next(v for v in attr.values if v != state.current[attr.name])
    raise AssertionError("no writable enumeration")


@pytest.mark.parametrize("index", range(len(PROFILES)), ids=PROFILES)
def test_bios_read_stage_and_apply_at_reset(sim: ThreadedFleet, index: int) -> None:
    with device(sim, index) as dev:
        state = dev.bios.read()
        assert state.current and state.registry and state.settings_uri
        assert state.pending == {}
        name, value = changeable(state)
        staged = dev.bios.stage({name: value})
        assert staged.apply_time == "OnReset"  # what the BMC lists in SupportedApplyTimes
        assert dev.bios.read(registry=False).pending == {name: value}
        with pytest.raises(ApplyError, match="BMC said"):
            dev.bios.stage({"NoSuchAttribute": "x"})
        dev.power.request("reset")
        wait_for(lambda: dev.bios.attributes().get(name) == value, timeout=10)
        assert dev.bios.read(registry=False).pending == {}
    patch = [r for r in requests(sim, index) if r[2] == "PATCH"][0]
    assert patch[4] == 200
    assert sessions(sim, index) == 0


def test_raid_create_delete_hotspare_one_operation_at_a_time(sim: ThreadedFleet) -> None:
    with device(sim, GENERIC) as dev:
        [ctrl] = dev.raid.controllers()
        used = {d for v in ctrl.volumes for d in v.drives}
        free = [d.id for d in ctrl.drives if d.id not in used and d.hotspare == "none"]
        assert len(free) >= 2 and ctrl.volumes and ctrl.raid_types
        # Started without waiting: the controller is busy with it ...
        first = dev.raid.create_volume(ctrl.id, "RAID1", free[:2], name="SCRATCH", wait=False)
        assert first.state == "running" and first.uri
        # ... so deleting the OS volume waits until it is idle, then runs as a task of its own.
        os_volume = next(v for v in ctrl.volumes if v.name == "OS")
        deleted = dev.raid.delete_volume(os_volume.uri)
        assert deleted.ok
        after = dev.raid.controllers()[0]
        names = {v.name for v in after.volumes}
        assert "SCRATCH" in names and "OS" not in names
        scratch = next(v for v in after.volumes if v.name == "SCRATCH")
        assert scratch.level == "RAID1" and set(scratch.drives) == set(free[:2]) and scratch.capacity_bytes
        with pytest.raises(ApplyError, match="supports"):
            dev.raid.create_volume(ctrl.id, "RAID60", free[:2])
        dev.raid.set_hotspare(os_volume.drives[0], "global")
        assert dev.raid.controllers()[0].drive_by_id(os_volume.drives[0]).hotspare == "global"  # type: ignore[union-attr]
        dev.raid.set_hotspare(os_volume.drives[0], "none")
    log = requests(sim, GENERIC)
    writes = [(r[1], r[2], r[4]) for r in log if r[2] in ("POST", "DELETE") and "Volumes" in r[3]]
    assert [w[1:] for w in writes] == [("POST", 202), ("DELETE", 202)]
    # One controller operation at a time: the delete was sent only once the create had finished.
    busy = sim.call(lambda: sim.fleet.bmc(GENERIC).timings.raid)
    assert writes[1][0] - writes[0][0] >= busy * 0.9
    assert sessions(sim, GENERIC) == 0


def test_hpe_firmware_update_without_a_task_follows_oem_hpe_state(sim: ThreadedFleet) -> None:
    """iLO 5 answers SimpleUpdate with no task monitor: dcops follows UpdateService Oem.Hpe.State
    to Complete and confirms in the inventory, and an Error is reported with the BMC's MessageId."""
    hpe = PROFILES.index("hpe-dl360-gen10p")
    with device(sim, hpe) as dev:
        nic = next(e for e in dev.firmware.entries() if "nic" in e.name.lower() or "ethernet" in e.name.lower())
        result = dev.firmware.update("http://127.0.0.1/fw/nic_fw_26.40.1000.bin", targets=[nic.uri],
                                     expect_version="26.40.1000")
        assert result.confirmed and result.version == "26.40.1000"
        with pytest.raises(ApplyError, match=r"VerificationFailed.*Oem.Hpe.State Error"):
            dev.firmware.update("http://127.0.0.1/fw/nic_corrupt_1.2.3.bin", targets=[nic.uri])
    polls = [r for r in requests(sim, hpe) if r[2] == "GET" and r[3].rstrip("/").endswith("/UpdateService")]
    assert len(polls) >= 2  # the progress was read, not assumed


def test_firmware_update_of_a_nic_is_confirmed_in_the_inventory(sim: ThreadedFleet) -> None:
    with device(sim, GENERIC) as dev:
        nic = next(e for e in dev.firmware.entries() if e.id.startswith("NIC"))
        result = dev.firmware.update("http://127.0.0.1/fw/nic_fw_26.40.1000.bin", targets=[nic.uri],
                                     expect_version="26.40.1000")
        assert result.confirmed and result.version == "26.40.1000" and result.task.ok
        with pytest.raises(ApplyError, match="VerificationFailed|Verification"):
            dev.firmware.update("http://127.0.0.1/fw/nic_corrupt_1.2.3.bin", targets=[nic.uri])
    assert sessions(sim, GENERIC) == 0


def test_bmc_update_waits_for_the_bmc_that_reboots(sim: ThreadedFleet) -> None:
    with device(sim, GENERIC) as dev:
        result = dev.firmware.update("http://127.0.0.1/fw/bmc_9.9.9.bin", component="BMC", expect_version="9.9.9")
        assert result.confirmed and result.version == "9.9.9"
        # A BIOS image is staged until the next host reset.
        staged = dev.firmware.update("http://127.0.0.1/fw/bios_3.4.5.bin", component="BIOS", expect_version="3.4.5")
        assert staged.staged and not staged.confirmed
    assert sim.call(lambda: sim.fleet.bmc(GENERIC).sessions_created) >= 2  # the reboot dropped our session
    wait_for(lambda: sessions(sim, GENERIC) == 0, timeout=5)


def test_a_task_that_vanishes_is_confirmed_from_the_inventory(sim: ThreadedFleet) -> None:
    with device(sim, GENERIC) as dev:
        conn = dev.firmware.s.conn  # type: ignore[attr-defined]
        service = conn.get("/redfish/v1/UpdateService")
        resp = conn.act("POST", simple_update_target(service),
                        simple_update_body("http://127.0.0.1/fw/cpld_7.7.7.bin"), "firmware update")
        monitor = monitor_of(resp)
        assert monitor
        sim.call(lambda: sim.fleet.bmc(GENERIC).tasks.clear())  # the BMC forgets its tasks
        outcome = dev.tasks.wait(monitor)  # type: ignore[union-attr]
        assert outcome.state == "vanished"
        confirmed = dev.firmware.confirm(outcome, "CPLD", "7.7.7")  # type: ignore[attr-defined]
        assert confirmed.confirmed
    assert sessions(sim, GENERIC) == 0


def test_cheap_health_read_costs_about_five_documents(sim: ThreadedFleet) -> None:
    with device(sim, GENERIC) as dev:
        obs = dev.health.health()
    assert obs.identity.power_state.value in ("on", "off") and obs.sensors and not obs.components
    assert obs.requests <= 5, obs.requests
    sim.call(lambda: __import__("dcops.sim.faults", fromlist=["x"]).apply_fault(
        sim.fleet.bmc(GENERIC), "fan_fail", {"fan": "1"}))
    with device(sim, GENERIC) as dev:
        sick = dev.health.health()
    # A rollup not OK: the parts are read, so the failed fan is named.
    assert any(c.kind.value == "fan" and c.health.value == "critical" for c in sick.components)
