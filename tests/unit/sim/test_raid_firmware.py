"""RAID volumes (create/delete with validation, one operation at a time, hot spares, rebuild) and
firmware updates (SimpleUpdate -> task -> new version; BMC reboot; BIOS staged until a reset)."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.sim.resources import Paths
from dcops.sim.state import Bmc
from tests.unit.sim.conftest import Client, FakeClock, make_bmc, system_path


def drive_ref(bmc: Bmc, bay: int) -> dict[str, str]:
    return {"@odata.id": f"{Paths(bmc.profile).drives}/{bmc.storage.drive_ids()[bay]}"}


def volumes_path(bmc: Bmc) -> str:
    return Paths(bmc.profile).volumes


def wait_task(client: Client, clock: FakeClock, monitor: str, limit: float = 5.0) -> dict[str, Any]:
    """Poll a task monitor (202 while running) until it answers 200 with the task ended; return the
    task. (iDRAC's Location is the Task itself: 200 with TaskState Running until it ends.)"""
    waited = 0.0
    while True:
        reply = client.get(monitor)
        if reply.status == 200 and reply.json["TaskState"] != "Running":
            return reply.json  # type: ignore[no-any-return]
        assert reply.status in (200, 202) and reply.json["TaskState"] == "Running"
        assert waited < limit, "task did not finish"
        clock.advance(0.05)
        waited += 0.05


def test_create_volume_runs_as_a_task_and_the_volume_appears(clock: FakeClock) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    before = client.get(volumes_path(bmc)).json["Members@odata.count"]
    # dell-r750: bays 0-1 RAID1 (OS), 2-6 RAID5 (DATA), 7 hot spare. Free a pair first.
    data = bmc.storage.volumes[1].id
    reply = client.delete(f"{volumes_path(bmc)}/{data}")
    assert reply.status == 202
    wait_task(client, clock, reply.headers["Location"])
    reply = client.post(volumes_path(bmc), {"RAIDType": "RAID1", "Name": "scratch",
                                            "Links": {"Drives": [drive_ref(bmc, 2), drive_ref(bmc, 3)]}})
    assert reply.status == 202, reply
    monitor = reply.headers["Location"]
    assert monitor.startswith("/redfish/v1/TaskService/Tasks/JID_")  # iDRAC: the Task itself
    busy = client.post(volumes_path(bmc), {"RAIDType": "RAID0", "Links": {"Drives": [drive_ref(bmc, 4)]}})
    assert busy.status == 409 and "Retry-After" in busy.headers  # one controller operation at a time
    task = wait_task(client, clock, monitor)
    assert task["TaskState"] == "Completed" and task["PercentComplete"] == 100
    vols = client.get(volumes_path(bmc)).json["Members"]
    assert len(vols) == before
    new = client.get(vols[-1]["@odata.id"]).json
    assert new["Name"] == "scratch" and new["RAIDType"] == "RAID1"
    assert new["CapacityBytes"] == bmc.profile.drives[2].capacity_bytes
    assert [d["@odata.id"] for d in new["Links"]["Drives"]] == [drive_ref(bmc, 2)["@odata.id"],
                                                                drive_ref(bmc, 3)["@odata.id"]]
    drive = client.get(drive_ref(bmc, 2)["@odata.id"]).json
    assert drive["Links"]["Volumes"] == [{"@odata.id": vols[-1]["@odata.id"]}]


def _free(bmc: Bmc, clock: FakeClock, client: Client) -> None:
    """Delete every volume of ``bmc`` so every drive is free."""
    for vol in list(bmc.storage.volumes):
        wait_task(client, clock, client.delete(f"{volumes_path(bmc)}/{vol.id}").headers["Location"])


# (body factory, status, message suffix); profile generic-1s (4 SATA SSDs), all drives freed first.
VOLUME_ERRORS = [
    (lambda b: {"RAIDType": "RAID5", "Links": {"Drives": [drive_ref(b, 0), drive_ref(b, 1)]}}, 400,
     "PropertyValueConflict"),
    (lambda b: {"RAIDType": "RAID1", "Links": {"Drives": [drive_ref(b, 0), drive_ref(b, 1), drive_ref(b, 2)]}},
     400, "PropertyValueConflict"),
    (lambda b: {"RAIDType": "RAID10", "Links": {"Drives": [drive_ref(b, 0), drive_ref(b, 1), drive_ref(b, 2)]}},
     400, "PropertyValueConflict"),
    (lambda b: {"RAIDType": "RAID7", "Links": {"Drives": [drive_ref(b, 0)]}}, 400, "PropertyValueNotInList"),
    (lambda b: {"Links": {"Drives": [drive_ref(b, 0)]}}, 400, "PropertyMissing"),
    (lambda b: {"RAIDType": "RAID0"}, 400, "PropertyMissing"),
    (lambda b: {"RAIDType": "RAID0", "Links": {"Drives": [{"@odata.id": "/redfish/v1/Nope"}]}}, 400,
     "ResourceMissingAtURI"),
    (lambda b: {"RAIDType": "RAID0", "Links": {"Drives": [drive_ref(b, 0), drive_ref(b, 0)]}}, 400,
     "PropertyValueConflict"),
    (lambda b: {"RAIDType": "RAID1", "CapacityBytes": 10**15,
                "Links": {"Drives": [drive_ref(b, 0), drive_ref(b, 1)]}}, 400, "PropertyValueOutOfRange"),
    (lambda b: {"RAIDType": "RAID1", "CapacityBytes": "big",
                "Links": {"Drives": [drive_ref(b, 0), drive_ref(b, 1)]}}, 400, "PropertyValueTypeError"),
    (lambda b: {"RAIDType": "RAID1", "CapacityBytes": 100 * 10**9,
                "Links": {"Drives": [drive_ref(b, 0), drive_ref(b, 1)]}}, 202, ""),
    (lambda b: {"RAIDType": "RAID5", "Links": {"Drives": [drive_ref(b, i) for i in range(4)]}}, 202, ""),
]


@pytest.mark.parametrize(("body", "status", "message"), VOLUME_ERRORS)
def test_volume_creation_is_validated(clock: FakeClock, body: Any, status: int, message: str) -> None:
    bmc = make_bmc("generic-1s", clock)
    client = Client(bmc)
    _free(bmc, clock, client)
    reply = client.post(volumes_path(bmc), body(bmc))
    assert reply.status == status, reply
    if message:
        assert reply.message_ids()[0].endswith(message)
        assert bmc.storage.volumes == []
    else:
        wait_task(client, clock, reply.headers["Location"])
        assert len(bmc.storage.volumes) == 1


def test_drives_in_use_or_spares_cannot_join_a_volume_and_mixed_media_is_refused(clock: FakeClock) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    in_use = client.post(volumes_path(bmc), {"RAIDType": "RAID0", "Links": {"Drives": [drive_ref(bmc, 0)]}})
    assert in_use.status == 400 and in_use.message_ids() == ["IDRAC.2.8.STOR016"]
    spare = client.post(volumes_path(bmc), {"RAIDType": "RAID0", "Links": {"Drives": [drive_ref(bmc, 7)]}})
    assert spare.status == 400
    _free(bmc, clock, client)
    mixed = client.post(volumes_path(bmc), {"RAIDType": "RAID1", "Links": {"Drives": [drive_ref(bmc, 1),
                                                                                        drive_ref(bmc, 2)]}})
    assert mixed.status == 400 and mixed.message_ids()[0].endswith("PropertyValueConflict")


def test_hot_spare_takes_over_a_failed_drive_and_the_volume_rebuilds(clock: FakeClock) -> None:
    from dcops.sim.faults import apply_fault

    bmc = make_bmc("hpe-dl360-gen10p", clock)  # bays 0-1 RAID1, 2-5 RAID10, 6 spare, 7 free
    client = Client(bmc)
    free = drive_ref(bmc, 7)["@odata.id"]
    in_volume = drive_ref(bmc, 0)["@odata.id"]
    assert client.patch(free, {"HotspareType": "Global"}).status == 200
    assert client.get(free).json["HotspareType"] == "Global"
    assert client.patch(in_volume, {"HotspareType": "Global"}).status == 400
    assert client.patch(free, {"HotspareType": "Sometimes"}).status == 400
    apply_fault(bmc, "drive_fail", {"drive": "2"})
    vol = bmc.storage.volumes[1]
    doc = client.get(f"{volumes_path(bmc)}/{vol.id}").json
    assert doc["Status"]["Health"] == "Warning" and doc["Operations"][0]["Operation"] == "Rebuild"
    assert 2 not in vol.drives and 6 in vol.drives  # the first spare joined the array
    clock.advance(bmc.timings.rebuild + 0.01)
    doc = client.get(f"{volumes_path(bmc)}/{vol.id}").json
    assert doc["Status"] == {"State": "Enabled", "Health": "OK"} and "Operations" not in doc
    messages = [r.message_id for r in bmc.sel]
    assert messages[-3:] == ["iLO.LogicalDriveDegraded", "iLO.LogicalDriveRebuilding", "iLO.LogicalDriveOK"]
    failed = client.get(drive_ref(bmc, 2)["@odata.id"]).json
    assert failed["Status"]["Health"] == "Critical" and failed["Links"]["Volumes"] == []


# ------------------------------------------------------------------------------------ firmware

UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"


def fw_versions(client: Client) -> dict[str, str]:
    out = {}
    for member in client.get("/redfish/v1/UpdateService/FirmwareInventory").json["Members"]:
        doc = client.get(member["@odata.id"]).json
        if doc["Status"]["State"] == "Enabled":
            out[doc["Name"]] = doc["Version"]
    return out


def test_bmc_update_runs_a_task_reboots_the_bmc_and_changes_the_version(clock: FakeClock) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    client.token = None
    session = Client(bmc, auth=None).post("/redfish/v1/SessionService/Sessions",
                                          {"UserName": "admin", "Password": "sim-test-pw"})
    assert session.status == 201
    reply = client.post(UPDATE, {"ImageURI": "http://repo/iDRAC-with-Lifecycle-Controller_Firmware_7.00.00.00_A00.EXE"})
    assert reply.status == 202
    monitor = reply.headers["Location"]
    clock.advance(bmc.timings.task / 2)
    running = client.get(monitor)
    assert running.status == 200 and running.json["TaskState"] == "Running"  # iDRAC: the Task, 200
    assert 0 < running.json["PercentComplete"] < 100
    second = client.post(UPDATE, {"ImageURI": "http://repo/BIOS_1.13.2.bin"})
    assert second.status == 409  # one update at a time
    clock.advance(bmc.timings.task / 2 + 0.01)
    bmc.tick()
    assert not bmc.net.reachable and "reboot" in bmc.net.down  # the BMC restarts with its new firmware
    assert bmc.sessions == {}  # and forgets every session
    clock.advance(bmc.timings.bmc_reboot + 0.01)
    bmc.tick()
    assert bmc.net.reachable
    task = client.get(monitor)
    assert task.status == 200 and task.json["TaskState"] == "Completed"
    versions = fw_versions(client)
    assert versions["Integrated Dell Remote Access Controller"] == "7.00.00.00"
    ids = [m["@odata.id"] for m in client.get("/redfish/v1/UpdateService/FirmwareInventory").json["Members"]]
    # Quirk (Dell): inventory ids carry the version, and the old one stays as Previous-...
    assert any("Installed-25227-7.00.00.00__iDRAC" in i for i in ids)
    assert any("Previous-25227-6.00.30.00__iDRAC" in i for i in ids)
    assert client.get("/redfish/v1/Managers/iDRAC.Embedded.1").json["FirmwareVersion"] == "7.00.00.00"
    assert [r.message_id for r in bmc.sel][-2:] == ["SUP0518", "RAC0182"]


def test_bios_update_is_staged_until_the_host_resets(clock: FakeClock) -> None:
    bmc = make_bmc("lenovo-sr650v2", clock)
    client = Client(bmc)
    reply = client.post(UPDATE, {"ImageURI": "https://repo/lnvgy_fw_uefi_u8e130j-1.60_anyos_32-64.uxz",
                                 "Targets": ["/redfish/v1/UpdateService/FirmwareInventory/UEFI"]})
    assert reply.status == 202
    task = wait_task(client, clock, reply.headers["Location"])
    assert task["TaskState"] == "Completed"
    assert task["Messages"][-2]["MessageId"] == "Update.1.1.AwaitToActivate"
    assert client.get(system_path(bmc)).json["BiosVersion"] == bmc.profile.bios_version
    bmc.reset("ForceRestart")
    clock.advance(0.5)
    assert client.get(system_path(bmc)).json["BiosVersion"] == "1.60"


@pytest.mark.parametrize(("body", "status", "task_state"), [
    ({"ImageURI": "http://repo/bmc_corrupt_1.2.3.bin"}, 202, "Exception"),
    ({"ImageURI": "http://repo/mystery.bin"}, 202, "Exception"),  # the BMC cannot tell what it is for
    ({"ImageURI": "http://repo/raid_52.30.0-5000.bin"}, 202, "Completed"),
    ({}, 400, None),
    ({"ImageURI": "not a uri"}, 400, None),
    ({"ImageURI": "gopher://repo/bios.bin"}, 400, None),
    ({"ImageURI": "http://repo/bios.bin", "Targets": ["/redfish/v1/UpdateService/FirmwareInventory/NOPE"]}, 400,
     None),
])
def test_simple_update_validation_and_failures(clock: FakeClock, body: dict[str, Any], status: int,
                                               task_state: str | None) -> None:
    bmc = make_bmc("supermicro-x13", clock)
    client = Client(bmc)
    reply = client.post(UPDATE, body)
    assert reply.status == status, reply
    if task_state:
        task = wait_task(client, clock, reply.headers["Location"])
        assert task["TaskState"] == task_state
        if task_state == "Completed":
            assert bmc.firmware.version("raid") == "52.30.0-5000"


def test_manager_reset_makes_the_bmc_unreachable_for_a_while(clock: FakeClock) -> None:
    bmc = make_bmc("generic-1s", clock)
    client = Client(bmc)
    assert client.post("/redfish/v1/Managers/BMC/Actions/Manager.Reset", {"ResetType": "GracefulRestart"}).status \
        == 204
    clock.advance(0.1)
    bmc.tick()
    assert not bmc.net.reachable
    clock.advance(bmc.timings.bmc_reboot)
    bmc.tick()
    assert bmc.net.reachable and bmc.sel[-1].message_id == "BMC.Reset"


def test_hpe_reports_update_progress_in_oem_hpe_state(clock: FakeClock) -> None:
    """iLO 5: UpdateService Oem.Hpe.State (Idle in the DL360 capture) goes through the flash's
    phases with FlashProgressPercent, then Complete or Error with the outcome's MessageId."""
    bmc = make_bmc("hpe-dl360-gen10p", clock)
    client = Client(bmc)

    def hpe() -> dict[str, Any]:
        return dict(client.get("/redfish/v1/UpdateService").json["Oem"]["Hpe"])

    assert hpe()["State"] == "Idle"
    reply = client.post(UPDATE, {"ImageURI": "http://repo/ilo5_310.fwpkg"})
    assert reply.status == 200 and "Location" not in reply.headers  # no task monitor on iLO 5
    assert hpe()["State"] == "Uploading" and hpe()["FlashProgressPercent"] == 0
    clock.advance(bmc.timings.task * 0.6)
    assert hpe()["State"] == "Writing" and 50 <= hpe()["FlashProgressPercent"] < 100
    clock.advance(bmc.timings.task * 0.5)
    bmc.tick()
    clock.advance(bmc.timings.bmc_reboot + 0.01)  # the iLO restarts into its new image
    bmc.tick()
    done = hpe()
    assert done["State"] == "Complete" and done["Result"]["MessageId"] == "Update.1.1.UpdateSuccessful"
    client.post(UPDATE, {"ImageURI": "http://repo/bios_corrupt_2.40.bin"})
    clock.advance(bmc.timings.task + 0.01)
    bmc.tick()
    failed = hpe()
    assert failed["State"] == "Error" and failed["Result"]["MessageId"] == "Update.1.1.VerificationFailed"


@pytest.mark.parametrize(("profile", "times"), [
    ("dell-r650-boss", ["OnReset"]),  # BOSS-S2: as the R750 capture's BOSS/AHCI Volumes collections
    ("dell-r750", ["Immediate", "OnReset"]),  # PERC H755
    ("hpe-dl360-gen10p", ["Immediate", "OnReset"]),
])
def test_operation_apply_time_is_the_controllers(clock: FakeClock, profile: str, times: list[str]) -> None:
    """OperationApplyTimeSupport comes from the controller of the profile, not only from a fault;
    an OnReset-only controller stages a delete until the next reset."""
    bmc = make_bmc(profile, clock)
    client = Client(bmc)
    volumes = Paths(bmc.profile).volumes
    assert client.get(volumes).json["@Redfish.OperationApplyTimeSupport"]["SupportedValues"] == times
    if times == ["OnReset"]:
        vol = bmc.storage.volumes[0]
        staged = client.delete(f"{volumes}/{vol.id}")
        assert staged.status == 202 and bmc.storage.volume(vol.id) is not None  # waits for the reset
        bmc.reset("ForceRestart")
        clock.advance(bmc.timings.raid + 1.0)
        bmc.tick()
        assert bmc.storage.volume(vol.id) is None


def test_idrac_location_is_the_task_and_finished_tasks_disappear(clock: FakeClock) -> None:
    """iDRAC9: the Location of a 202 is /redfish/v1/TaskService/Tasks/JID_... (200 with TaskState
    while it runs); a finished task stays readable for task_linger seconds, then answers 404 and
    leaves the task list."""
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    reply = client.delete(f"{volumes_path(bmc)}/{bmc.storage.volumes[1].id}")
    assert reply.status == 202
    task_uri = reply.headers["Location"]
    assert task_uri.startswith("/redfish/v1/TaskService/Tasks/JID_")
    assert client.get(task_uri).json["TaskState"] == "Running"
    done = wait_task(client, clock, task_uri)
    assert done["TaskState"] == "Completed"
    clock.advance(bmc.timings.task_linger + 0.1)
    bmc.tick()
    assert client.get(task_uri).status == 404
    assert task_uri not in [m["@odata.id"] for m in client.get("/redfish/v1/TaskService/Tasks").json["Members"]]
