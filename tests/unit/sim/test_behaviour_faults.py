"""The behaviour faults: ``bios_refuse`` (a BIOS value accepted, then dropped at POST),
``task_vanish`` (a task monitor disappears while the operation completes) and ``install_poweroff``
(an OS install from virtual media powers the host off when it is done). Checked through the Redfish
documents a client reads, on every flavour."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.sim.faults import apply_fault, clear_faults
from dcops.sim.resources import Paths
from dcops.sim.state import Bmc
from tests.unit.sim.conftest import Client, FakeClock, make_bmc, schedule_bios_job, system_path


def settle(bmc: Bmc, clock: FakeClock, seconds: float, step: float = 0.05) -> None:
    """Let simulated time pass in small steps (as a client polling would)."""
    end = clock.t + seconds
    while clock.t < end:
        clock.advance(step)
        bmc.tick()


def patch_settings(client: Client, bmc: Bmc, attributes: dict[str, Any]) -> int:
    bios = Paths(bmc.profile).bios
    link = client.get(bios).json["@Redfish.Settings"]["SettingsObject"]["@odata.id"]
    etag = client.get(link).headers["ETag"]  # HPE requires If-Match; the others accept it
    status = client.patch(link, {"Attributes": attributes}, headers={"If-Match": etag}).status
    schedule_bios_job(client, bmc)
    return status


# (profile, refused attribute and the value asked for, another attribute that applies, SEL MessageId)
BIOS_REFUSE = [
    ("dell-r750", ("LogicalProc", "Disabled"), ("ProcCStates", "Disabled"), "SYS053"),
    ("hpe-dl360-gen10p", ("ProcHyperthreading", "Disabled"), ("ProcTurbo", "Disabled"), "iLO.BiosSettingNotApplied"),
    ("lenovo-sr650v2", ("Processors_HyperThreading", "Disabled"), ("Processors_TurboMode", "Disabled"),
     "FQXSPSE4038I"),
    ("supermicro-x13", ("Hyper_Threading_ALL__F27F", "Disable"), ("TurboMode_3D06", "Disable"), "BIOS.ConfigFailed"),
    ("generic-1s", ("ProcHyperThreading", "Disabled"), ("Sriov", "Enabled"), "BIOS.ConfigFailed"),
]


@pytest.mark.parametrize(("profile", "refused", "other", "message_id"), BIOS_REFUSE,
                         ids=[c[0] for c in BIOS_REFUSE])
def test_bios_refuse_accepts_the_patch_and_drops_the_value_at_post(
        clock: FakeClock, profile: str, refused: tuple[str, Any], other: tuple[str, Any], message_id: str) -> None:
    bmc = make_bmc(profile, clock)
    client = Client(bmc)
    bios = Paths(bmc.profile).bios
    before = client.get(bios).json["Attributes"]
    apply_fault(bmc, "bios_refuse", {"attribute": refused[0]})
    assert patch_settings(client, bmc, dict([refused, other])) == 200  # the BMC takes it
    assert bmc.bios_pending == dict([refused, other])
    bmc.reset("ForceRestart")
    settle(bmc, clock, 0.5)
    doc = client.get(bios).json
    assert doc["Attributes"][refused[0]] == before[refused[0]]  # current value unchanged
    assert doc["Attributes"][other[0]] == other[1]  # the rest applied
    assert bmc.bios_pending == {}  # the pending value is gone too
    settings = client.get(doc["@Redfish.Settings"]["SettingsObject"]["@odata.id"]).json["Attributes"]
    assert settings.get(refused[0], before[refused[0]]) == before[refused[0]]
    messages = doc["@Redfish.Settings"]["Messages"]
    assert [m["MessageId"].rsplit(".", 1)[-1] for m in messages] == ["PropertyNotUpdated"]
    assert messages[0]["RelatedProperties"] == [f"#/Attributes/{refused[0]}"]
    assert [r.message_id for r in bmc.sel if refused[0] in r.message] == [message_id]
    # Cleared, the same change applies at the next reset, and the settings report success again.
    clear_faults(bmc)
    assert patch_settings(client, bmc, dict([refused])) == 200
    bmc.reset("ForceRestart")
    settle(bmc, clock, 0.5)
    doc = client.get(bios).json
    assert doc["Attributes"][refused[0]] == refused[1]
    assert doc["@Redfish.Settings"]["Messages"][0]["MessageId"].endswith("Success")


def _firmware_update(client: Client, bmc: Bmc) -> Any:
    return client.post("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
                       {"ImageURI": "http://repo/nic_22.71.3.bin"})


def _volume_delete(client: Client, bmc: Bmc) -> Any:
    return client.delete(f"{Paths(bmc.profile).volumes}/{bmc.storage.volumes[-1].id}")


def _firmware_done(client: Client, bmc: Bmc) -> bool:
    items = client.get(Paths(bmc.profile).firmware, query={"$expand": "."}).json["Members"]
    versions = [client.get(m["@odata.id"]).json.get("Version") if "Version" not in m else m["Version"]
                for m in items]
    return "22.71.3" in versions


def _volume_gone(client: Client, bmc: Bmc) -> bool:
    return client.get(Paths(bmc.profile).volumes).json["Members@odata.count"] == len(bmc.profile.volumes) - 1


# (profile, operation, completed?)
# (HPE is not here: iLO 5 answers SimpleUpdate without a task monitor, so there is none to lose.)
TASK_VANISH = [
    ("dell-r750", _firmware_update, _firmware_done),
    ("lenovo-sr650v2", _volume_delete, _volume_gone),
    ("supermicro-x13", _firmware_update, _firmware_done),
    ("generic-1s", _volume_delete, _volume_gone),
]


@pytest.mark.parametrize(("profile", "operation", "completed"), TASK_VANISH,
                         ids=[f"{c[0]}-{c[1].__name__.strip('_')}" for c in TASK_VANISH])
def test_task_vanish_loses_the_monitor_but_the_operation_completes(
        clock: FakeClock, profile: str, operation: Any, completed: Any) -> None:
    bmc = make_bmc(profile, clock)
    client = Client(bmc)
    apply_fault(bmc, "task_vanish")
    reply = operation(client, bmc)
    assert reply.status == 202, reply
    monitor = reply.headers["Location"]
    tid = monitor.rsplit("/", 1)[-1]
    assert "task_vanish" not in bmc.faults  # one-shot: spent on this task
    assert client.get(monitor).status == 404
    assert client.get(f"/redfish/v1/TaskService/Tasks/{tid}").status == 404
    assert tid not in [m["@odata.id"].rsplit("/", 1)[-1]
                       for m in client.get("/redfish/v1/TaskService/Tasks").json["Members"]]
    assert not completed(client, bmc)
    settle(bmc, clock, 1.0)
    assert completed(client, bmc)  # the operation went on without its task
    # The next task keeps its monitor.
    again = client.post("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
                        {"ImageURI": "http://repo/cpld_1.0.9.bin"})
    assert again.status == 202 and client.get(again.headers["Location"]).json["TaskState"] == "Running"


def test_task_vanish_count_and_a_forgotten_update_no_longer_blocks_the_next(clock: FakeClock) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    apply_fault(bmc, "task_vanish", {"count": "2"})
    first = _firmware_update(client, bmc)
    assert client.get(first.headers["Location"]).status == 404 and "task_vanish" in bmc.faults
    second = client.post("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
                         {"ImageURI": "http://repo/cpld_1.0.9.bin"})
    assert second.status == 202  # the BMC forgot the first update's lock with its task
    assert client.get(second.headers["Location"]).status == 404 and bmc.faults == {}
    third = client.post("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
                        {"ImageURI": "http://repo/bios_1.13.2.bin"})
    assert third.status == 202 and client.get(third.headers["Location"]).json["TaskState"] == "Running"  # spent
    settle(bmc, clock, 0.2)  # the third still runs and holds the lock
    assert _firmware_update(client, bmc).status == 409
    settle(bmc, clock, 1.0)
    assert bmc.firmware.versions()["nic1"] == "22.71.3" and bmc.firmware.versions()["cpld"] == "1.0.9"


def _cd_path(bmc: Bmc) -> str:
    vid = next(v for v, types in bmc.flavour.vmedia if "CD" in types)
    return f"{Paths(bmc.profile).vmedia}/{vid}"


def _install_boot(client: Client, bmc: Bmc, *, insert: bool = True, target: str = "Cd") -> None:
    if insert:
        body: dict[str, Any] = {"Image": "http://10.0.0.1/images/rhel9.iso"}
        if bmc.flavour.name != "supermicro":
            body["Inserted"] = True
        assert client.post(f"{_cd_path(bmc)}/Actions/VirtualMedia.InsertMedia", body).status in (200, 204)
    client.patch(system_path(bmc), {"Boot": {"BootSourceOverrideTarget": target,
                                             "BootSourceOverrideEnabled": "Once"}})
    client.post(f"{system_path(bmc)}/Actions/ComputerSystem.Reset", {"ResetType": "ForceOff"})
    assert client.post(f"{system_path(bmc)}/Actions/ComputerSystem.Reset", {"ResetType": "On"}).status in (200, 204)


def watch(client: Client, bmc: Bmc, clock: FakeClock, seconds: float) -> list[tuple[str, str]]:
    """(PowerState, BootProgress.LastState) as a client polling every 50 ms sees them, deduplicated."""
    seen: list[tuple[str, str]] = []
    end = clock.t + seconds
    while clock.t < end:
        doc = client.get(system_path(bmc)).json
        # The simulator's own boot state where the flavour publishes no BootProgress (Dell, HPE, Lenovo).
        state = (doc["PowerState"], doc.get("BootProgress", {}).get("LastState", bmc.boot_progress))
        if not seen or seen[-1] != state:
            seen.append(state)
        clock.advance(0.05)
    return seen


# (profile, fault args, install seconds)
INSTALLS = [("dell-r750", {}, 0.3), ("hpe-dl360-gen10p", {"duration": "1s"}, 1.0),
            ("lenovo-sr650v2", {}, 0.3), ("supermicro-x13", {"duration": "500ms"}, 0.5), ("generic-1s", {}, 0.3)]


@pytest.mark.parametrize(("profile", "args", "seconds"), INSTALLS, ids=[c[0] for c in INSTALLS])
def test_install_from_virtual_media_powers_the_host_off_when_done(
        clock: FakeClock, profile: str, args: dict[str, str], seconds: float) -> None:
    bmc = make_bmc(profile, clock)
    client = Client(bmc)
    apply_fault(bmc, "install_poweroff", args)
    _install_boot(client, bmc)
    t = bmc.timings
    seen = watch(client, bmc, clock, t.power_on + t.boot + seconds + t.power_off + 0.5)
    assert seen[-1] == ("Off", "None")
    assert ("On", "OSBootStarted") in seen and ("On", "OSRunning") in seen
    assert seen.index(("On", "OSRunning")) < seen.index(("PoweringOff", "OSRunning")) < len(seen) - 1
    assert bmc.install["image"].endswith("rhel9.iso") and bmc.install["finished"]
    assert bmc.sel[-2].entry_code == "Assert" and bmc.sel[-2].sensor_type == "OS Stop/Shutdown"
    # Nothing more happens: the host stays off until someone powers it on (the override was Once).
    assert watch(client, bmc, clock, 1.0) == [("Off", "None")]


@pytest.mark.parametrize(("case", "insert", "target"), [
    ("no image inserted", False, "Cd"), ("booted from disk", True, "Hdd"), ("booted from PXE", True, "Pxe"),
])
def test_only_an_install_from_virtual_media_powers_off(clock: FakeClock, case: str, insert: bool,
                                                       target: str) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    apply_fault(bmc, "install_poweroff")
    _install_boot(client, bmc, insert=insert, target=target)
    assert watch(client, bmc, clock, 2.0)[-1] == ("On", "OSRunning")
    assert bmc.install == {}


def test_without_the_fault_the_installer_keeps_running_and_a_reset_cancels_an_install(clock: FakeClock) -> None:
    bmc = make_bmc("generic-1s", clock)
    client = Client(bmc)
    _install_boot(client, bmc)
    assert watch(client, bmc, clock, 2.0)[-1] == ("On", "OSRunning")
    apply_fault(bmc, "install_poweroff", {"duration": "1s"})
    _install_boot(client, bmc, insert=False)  # the image is still inserted
    settle(bmc, clock, 0.4)
    bmc.reset("ForceRestart")  # the install is interrupted; this boot is from disk (Once was consumed)
    assert watch(client, bmc, clock, 2.0)[-1] == ("On", "OSRunning")
    assert bmc.install["finished"] is None
