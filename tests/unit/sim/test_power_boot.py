"""Power state machine, BootProgress, boot override and virtual media, through the Redfish API."""

from __future__ import annotations

import pytest

from tests.unit.sim.conftest import Client, FakeClock, make_bmc, system_path

# (profile, start power, ResetType, HTTP status, [(seconds to advance, PowerState after)])
# Timings are the "fast" preset: power_on 0.1 s, power_off 0.1 s, restart_gap 0.05 s.
RESET_CASES = [
    ("generic-1s", "Off", "On", 204, [(0, "PoweringOn"), (0.11, "On")]),
    ("generic-1s", "Off", "ForceOn", 204, [(0, "PoweringOn"), (0.11, "On")]),
    ("generic-1s", "On", "ForceOff", 204, [(0, "Off")]),
    ("generic-1s", "On", "GracefulShutdown", 204, [(0, "PoweringOff"), (0.11, "Off")]),
    ("generic-1s", "On", "GracefulRestart", 204, [(0, "PoweringOff"), (0.11, "Off"), (0.06, "PoweringOn"),
                                                  (0.11, "On")]),
    ("generic-1s", "On", "ForceRestart", 204, [(0, "Off"), (0.06, "PoweringOn"), (0.11, "On")]),
    ("generic-1s", "On", "PowerCycle", 204, [(0, "Off"), (0.1, "Off"), (0.06, "PoweringOn"), (0.11, "On")]),
    ("generic-1s", "On", "PushPowerButton", 204, [(0, "PoweringOff"), (0.11, "Off")]),
    ("generic-1s", "Off", "PushPowerButton", 204, [(0, "PoweringOn"), (0.11, "On")]),
    ("generic-1s", "On", "Nmi", 204, [(0, "On"), (1, "On")]),
    ("generic-1s", "On", "On", 204, [(0, "On")]),  # already on: nothing to do
    ("generic-1s", "Off", "ForceRestart", 204, [(0, "PoweringOn"), (0.11, "On")]),
    ("dell-r750", "On", "On", 409, [(0, "On")]),  # iDRAC: "already powered ON"
    ("dell-r750", "Off", "ForceOff", 409, [(0, "Off")]),
    ("dell-r750", "Off", "GracefulRestart", 409, [(0, "Off")]),
    ("hpe-dl360-gen10p", "On", "ForceOff", 200, [(0, "Off")]),  # iLO answers 200 with Base.Success
    ("hpe-dl360-gen10p", "On", "PowerCycle", 400, [(0, "On")]),  # not in iLO's allowable values
    ("generic-1s", "On", "Explode", 400, [(0, "On")]),
]


@pytest.mark.parametrize(("profile", "start", "reset_type", "status", "timeline"), RESET_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in RESET_CASES])
def test_reset_types_drive_the_power_state_machine(profile: str, start: str, reset_type: str, status: int,
                                                    timeline: list[tuple[float, str]]) -> None:
    clock = FakeClock()
    bmc = make_bmc(profile, clock)
    client = Client(bmc)
    if start == "Off":
        bmc.reset("ForceOff")
    reply = client.post(f"{system_path(bmc)}/Actions/ComputerSystem.Reset", {"ResetType": reset_type})
    assert reply.status == status, reply
    for seconds, power in timeline:
        clock.advance(seconds)
        assert client.get(system_path(bmc)).json["PowerState"] == power


def test_reset_errors_carry_extended_info_with_the_flavours_message() -> None:
    bmc = make_bmc("dell-r750")
    reply = Client(bmc).post(f"{system_path(bmc)}/Actions/ComputerSystem.Reset", {"ResetType": "On"})
    assert reply.status == 409
    info = reply.json["error"]["@Message.ExtendedInfo"][0]
    assert info["MessageId"].startswith("IDRAC.") and "already powered ON" in info["Message"]
    missing = Client(bmc).post(f"{system_path(bmc)}/Actions/ComputerSystem.Reset", {})
    assert missing.status == 400 and missing.message_ids() == ["Base.1.12.ActionParameterMissing"]


def test_boot_progress_walks_to_os_running_and_reset_time_moves(clock: FakeClock) -> None:
    bmc = make_bmc("generic-1s", clock)
    client = Client(bmc)
    before = client.get(system_path(bmc)).json["LastResetTime"]
    bmc.reset("ForceRestart")
    seen: list[str] = []
    for _ in range(40):
        state = client.get(system_path(bmc)).json.get("BootProgress", {}).get("LastState", bmc.boot_progress)
        if not seen or seen[-1] != state:
            seen.append(state)
        clock.advance(0.02)
    assert seen == ["None", "PrimaryProcessorInitializationStarted", "SystemHardwareInitializationComplete",
                    "OSBootStarted", "OSRunning"]
    assert client.get(system_path(bmc)).json["LastResetTime"] != before


# (target, enabled, after the next boot: (target, enabled), boot source recorded)
BOOT_CASES = [
    ("Pxe", "Once", ("None", "Disabled"), "Pxe"),
    ("Cd", "Once", ("None", "Disabled"), "Cd"),
    ("Hdd", "Continuous", ("Hdd", "Continuous"), "Hdd"),
    ("UefiHttp", "Once", ("None", "Disabled"), "UefiHttp"),
    ("Pxe", "Disabled", ("Pxe", "Disabled"), "Hdd"),
]


@pytest.mark.parametrize(("target", "enabled", "after", "source"), BOOT_CASES)
def test_boot_override_is_used_by_the_next_boot(clock: FakeClock, target: str, enabled: str,
                                                after: tuple[str, str], source: str) -> None:
    bmc = make_bmc("generic-1s", clock)
    client = Client(bmc)
    reply = client.patch(system_path(bmc), {"Boot": {"BootSourceOverrideTarget": target,
                                                     "BootSourceOverrideEnabled": enabled,
                                                     "BootSourceOverrideMode": "UEFI"}})
    assert reply.status == 200, reply
    boot = client.get(system_path(bmc)).json["Boot"]
    assert (boot["BootSourceOverrideTarget"], boot["BootSourceOverrideEnabled"]) == (target, enabled)
    bmc.reset("ForceRestart")
    clock.advance(0.5)
    boot = client.get(system_path(bmc)).json["Boot"]
    assert (boot["BootSourceOverrideTarget"], boot["BootSourceOverrideEnabled"]) == after
    assert bmc.last_boot["source"] == source


@pytest.mark.parametrize(("body", "message"), [
    ({"Boot": {"BootSourceOverrideTarget": "Tape"}}, "PropertyValueNotInList"),
    ({"Boot": {"BootSourceOverrideEnabled": "Sometimes"}}, "PropertyValueNotInList"),
    ({"PowerState": "Off"}, "PropertyNotWritable"),
    ({"Colour": "blue"}, "PropertyUnknown"),
])
def test_bad_system_patches_are_refused(body: dict[str, object], message: str) -> None:
    bmc = make_bmc()
    reply = Client(bmc).patch(system_path(bmc), body)
    assert reply.status == 400
    assert reply.message_ids()[0].endswith(message)


def test_boot_from_virtual_cd_records_the_image(clock: FakeClock) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    cd = "/redfish/v1/Managers/iDRAC.Embedded.1/VirtualMedia/CD"
    assert client.post(f"{cd}/Actions/VirtualMedia.InsertMedia",
                       {"Image": "http://10.0.0.1/images/rhel9.iso", "Inserted": True}).status == 204
    client.patch(system_path(bmc), {"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}})
    bmc.reset("GracefulRestart")
    clock.advance(1)
    bmc.tick()
    assert bmc.last_boot["source"] == "Cd" and bmc.last_boot["image"].endswith("rhel9.iso")


# (profile, media URI, insert body, status)
VMEDIA_CASES = [
    ("dell-r750", "/redfish/v1/Managers/iDRAC.Embedded.1/VirtualMedia/CD",
     {"Image": "http://10.0.0.1/a.iso", "Inserted": True, "WriteProtected": True}, 204),
    ("hpe-dl360-gen10p", "/redfish/v1/Managers/1/VirtualMedia/2", {"Image": "https://10.0.0.1/a.iso"}, 200),
    ("lenovo-sr650v2", "/redfish/v1/Managers/1/VirtualMedia/EXT1", {"Image": "http://10.0.0.1/a.iso"}, 204),
    ("supermicro-x13", "/redfish/v1/Managers/1/VirtualMedia/VirtualMedia1", {"Image": "http://10.0.0.1/a.iso"},
     204),
    # Quirk (Supermicro X12/X13): Inserted and WriteProtected are refused.
    ("supermicro-x13", "/redfish/v1/Managers/1/VirtualMedia/VirtualMedia1",
     {"Image": "http://10.0.0.1/a.iso", "Inserted": True}, 400),
    ("generic-1s", "/redfish/v1/Systems/1/VirtualMedia/Cd", {"Image": "nfs://10.0.0.1/export/a.iso"}, 204),
    ("generic-1s", "/redfish/v1/Systems/1/VirtualMedia/Cd", {"Inserted": True}, 400),
    ("generic-1s", "/redfish/v1/Systems/1/VirtualMedia/Cd", {"Image": "a.iso"}, 400),
    ("generic-1s", "/redfish/v1/Systems/1/VirtualMedia/Usb", {"Image": "http://x/a.iso"}, 400),  # no CD type
]


@pytest.mark.parametrize(("profile", "media", "body", "status"), VMEDIA_CASES)
def test_virtual_media_insert_and_eject(profile: str, media: str, body: dict[str, object], status: int) -> None:
    bmc = make_bmc(profile)
    client = Client(bmc)
    reply = client.post(f"{media}/Actions/VirtualMedia.InsertMedia", body)
    assert reply.status == status, reply
    doc = client.get(media).json
    if status >= 400:
        assert doc["Inserted"] is False
        return
    assert doc["Inserted"] is True and doc["Image"] == body["Image"] and doc["ConnectedVia"] == "URI"
    again = client.post(f"{media}/Actions/VirtualMedia.InsertMedia", body)
    assert again.status == 409
    assert client.post(f"{media}/Actions/VirtualMedia.EjectMedia", {}).status in (200, 204)
    assert client.get(media).json["Inserted"] is False


def test_virtual_media_lives_where_each_vendor_puts_it() -> None:
    for profile, owner in (("dell-r750", "Managers"), ("hpe-dl360-gen10p", "Managers"),
                           ("lenovo-sr650v2", "Managers"), ("supermicro-x13", "Managers"), ("generic-1s", "Systems")):
        bmc = make_bmc(profile)
        client = Client(bmc)
        doc = client.get(f"/redfish/v1/{owner}/{bmc.flavour.manager_id if owner == 'Managers' else '1'}").json
        assert doc["VirtualMedia"]["@odata.id"].startswith(f"/redfish/v1/{owner}/"), profile
