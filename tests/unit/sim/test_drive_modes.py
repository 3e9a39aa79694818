"""Drive states Ready / Non-RAID (Dell: Oem.Dell.DellPhysicalDisk.RaidStatus and the DellRaidService
ConvertToRAID / ConvertToNonRAID actions; HPE iLO 5: the controller-wide mode of SmartStorageConfig,
staged in its settings object and applied at the next reset; the other flavours: the simulator's
simple form, a PATCH of ``Oem.DcopsSim.RaidStatus``), and the Volume ReadCachePolicy / WriteCachePolicy."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.sim.resources import Paths
from dcops.sim.state import Bmc
from tests.unit.sim.conftest import Client, FakeClock, make_bmc

PROFILES = ["dell-r750", "lenovo-sr650v2", "supermicro-x13", "generic-1s"]  # per disk (HPE: below)
RAID_SERVICE = "/redfish/v1/Systems/System.Embedded.1/Oem/Dell/DellRaidService"


def settle(bmc: Bmc, clock: FakeClock, seconds: float = 0.5) -> None:
    clock.advance(seconds)
    bmc.tick()


def drive_uri(bmc: Bmc, bay: int) -> str:
    return f"{Paths(bmc.profile).drives}/{bmc.storage.drive_ids()[bay]}"


def raid_status(client: Client, bmc: Bmc, bay: int) -> str:
    oem = client.get(drive_uri(bmc, bay)).json["Oem"]
    if bmc.flavour.name == "dell":
        return str(oem["Dell"]["DellPhysicalDisk"]["RaidStatus"])
    return str(oem["DcopsSim"]["RaidStatus"])


def free_bay(client: Client, bmc: Bmc, clock: FakeClock) -> int:
    """A Ready drive: delete the last volume when every drive is in use."""
    for bay in range(len(bmc.storage.drives)):
        if bmc.storage.raid_status(bay) == "Ready":
            return bay
    vol = bmc.storage.volumes[-1]
    assert client.delete(f"{Paths(bmc.profile).volumes}/{vol.id}").status == 202
    settle(bmc, clock)
    return vol.drives[0]


def set_mode(client: Client, bmc: Bmc, bay: int, mode: str) -> Any:
    """Ready -> NonRAID or back, the way the flavour does it."""
    if bmc.flavour.name == "dell":
        action = "ConvertToNonRAID" if mode == "NonRAID" else "ConvertToRAID"
        return client.post(f"{RAID_SERVICE}/Actions/DellRaidService.{action}",
                           {"PDArray": [bmc.storage.drive_ids()[bay]]})
    uri = drive_uri(bmc, bay)
    etag = client.get(uri).headers["ETag"]
    return client.patch(uri, {"Oem": {"DcopsSim": {"RaidStatus": mode}}}, headers={"If-Match": etag})


@pytest.mark.parametrize("profile", PROFILES)
def test_drive_states_ready_online_non_raid(clock: FakeClock, profile: str) -> None:
    bmc = make_bmc(profile, clock)
    client = Client(bmc)
    in_volume = bmc.storage.volumes[0].drives[0]
    assert raid_status(client, bmc, in_volume) == "Online"
    bay = free_bay(client, bmc, clock)
    assert raid_status(client, bmc, bay) == "Ready"
    sel_before = len(bmc.sel)

    reply = set_mode(client, bmc, bay, "NonRAID")
    if bmc.flavour.name == "dell":
        assert reply.status == 202 and "/TaskService/Tasks/JID_" in reply.headers["Location"]  # iDRAC: the Task
        assert raid_status(client, bmc, bay) == "Ready"  # until the job is done
        busy = set_mode(client, bmc, bay, "NonRAID")
        assert busy.status == 409 and "Retry-After" in busy.headers  # one controller operation at a time
        settle(bmc, clock)
        assert client.get(reply.headers["Location"]).json["TaskState"] == "Completed"
    else:
        assert reply.status == 200, reply
    assert raid_status(client, bmc, bay) == "NonRAID"
    assert len(bmc.sel) == sel_before + 1 and "RAID" in bmc.sel[-1].message

    # A Non-RAID drive joins no volume and is no hot spare until converted back.
    create = client.post(Paths(bmc.profile).volumes, {"RAIDType": "RAID0", "Links": {"Drives": [
        {"@odata.id": drive_uri(bmc, bay)}]}})
    assert create.status == 400, create
    if bmc.flavour.name == "dell":
        assert create.message_ids() == ["IDRAC.2.8.STOR011"]
    spare = client.patch(drive_uri(bmc, bay), {"HotspareType": "Global"},
                         headers={"If-Match": client.get(drive_uri(bmc, bay)).headers["ETag"]})
    assert spare.status == 400

    # Only Ready drives go Non-RAID, only Non-RAID drives go back.
    assert set_mode(client, bmc, in_volume, "NonRAID").status == 400
    assert set_mode(client, bmc, bay, "Ready").status in (200, 202)
    settle(bmc, clock)
    assert raid_status(client, bmc, bay) == "Ready"
    if bmc.flavour.name == "dell":
        assert set_mode(client, bmc, bay, "Ready").status == 400  # not a Non-RAID disk


@pytest.mark.parametrize(("body", "status"), [
    ({"PDArray": ["Disk.Bay.99:Enclosure.Internal.0-1:RAID.Integrated.1-1"]}, 400),
    ({"PDArray": "Disk.Bay.0"}, 400),
    ({}, 400),
    ({"PDArray": [], "Extra": 1}, 400),
])
def test_dell_conversion_is_validated(body: dict[str, Any], status: int) -> None:
    bmc = make_bmc("dell-r750")
    assert Client(bmc).post(f"{RAID_SERVICE}/Actions/DellRaidService.ConvertToNonRAID", body).status == status


def test_dell_raid_service_lists_the_conversion_actions() -> None:
    doc = Client(make_bmc("dell-r750")).get(RAID_SERVICE).json
    assert set(doc["Actions"]) == {"#DellRaidService.ConvertToNonRAID", "#DellRaidService.ConvertToRAID",
                                   "#DellRaidService.AssignSpare", "#DellRaidService.UnassignSpare"}
    assert Client(make_bmc("generic-1s")).get("/redfish/v1/Systems/1/Oem/Dell/DellRaidService").status == 404


def test_the_simple_form_is_refused_on_dell_and_checked_elsewhere() -> None:
    for vendor in ("dell-r750", "hpe-dl360-gen10p"):  # they have their own ways
        bmc = make_bmc(vendor)
        assert Client(bmc).patch(drive_uri(bmc, 0), {"Oem": {"DcopsSim": {"RaidStatus": "NonRAID"}}}).status == 400
    bmc = make_bmc("generic-1s")
    client = Client(bmc)
    assert client.patch(drive_uri(bmc, 2), {"Oem": {"DcopsSim": {"RaidStatus": "JBOD"}}}).status == 400
    assert client.patch(drive_uri(bmc, 2), {"Oem": {"Other": {}}}).status == 400


SSC = "/redfish/v1/Systems/1/smartstorageconfig"


def _ssc_mode(client: Client, path: str) -> set[str]:
    return {p["OperatingModeAfterReboot"] for p in client.get(path).json["Ports"]}


def _stage(client: Client, mode: str) -> Any:
    return client.patch(f"{SSC}/settings", {"Ports": [{"PortIndex": 0, "OperatingModeAfterReboot": mode},
                                                      {"PortIndex": 1, "OperatingModeAfterReboot": mode}]})


def test_hpe_passes_disks_through_per_controller_at_the_next_reset(clock: FakeClock) -> None:
    """iLO 5: SmartStorageConfig Ports[].OperatingModeAfterReboot, staged in the settings object named
    by @Redfish.Settings, in effect after a reset. Mixed passes every unconfigured disk through and
    still lets it join a logical drive; HBA takes no logical drive."""
    bmc = make_bmc("hpe-dl360-gen10p", clock)
    client = Client(bmc)
    system = client.get("/redfish/v1/Systems/1").json
    assert system["Oem"]["Hpe"]["SmartStorageConfig"] == [{"@odata.id": "/redfish/v1/systems/1/smartstorageconfig"}]
    doc = client.get(SSC).json
    assert doc["@Redfish.Settings"]["SettingsObject"]["@odata.id"] == "/redfish/v1/systems/1/smartstorageconfig/settings/"
    assert _ssc_mode(client, SSC) == {"RAID"}
    bay = free_bay(client, bmc, clock)
    assert "Oem" not in client.get(drive_uri(bmc, bay)).json  # iLO 5's DMTF Drive says nothing of it
    assert _stage(client, "Mixed").status == 200
    assert _ssc_mode(client, f"{SSC}/settings") == {"Mixed"} and _ssc_mode(client, SSC) == {"RAID"}
    assert bmc.storage.raid_status(bay) == "Ready"  # not before the reset
    sel_before = len(bmc.sel)
    bmc.storage.apply_staged(clock())
    assert _ssc_mode(client, SSC) == {"Mixed"} and bmc.storage.raid_status(bay) == "NonRAID"
    assert len(bmc.sel) > sel_before and "Non-RAID" in bmc.sel[-1].message
    # Mixed: the passed-through disk may still join a logical drive.
    create = client.post(Paths(bmc.profile).volumes, {"RAIDType": "RAID0", "Links": {"Drives": [
        {"@odata.id": drive_uri(bmc, bay)}]}})
    assert create.status in (201, 202), create
    # HBA with logical drives present: refused at the reset, and said in @Redfish.Settings.Messages.
    assert _stage(client, "HBA").status == 200
    bmc.storage.apply_staged(clock())
    assert _ssc_mode(client, SSC) == {"Mixed"}
    assert client.get(SSC).json["@Redfish.Settings"]["Messages"][0]["MessageId"].endswith("LogicalDrivesExist")
    # Bad values and split ports are refused.
    assert _stage(client, "JBOD").status == 400
    assert client.patch(f"{SSC}/settings", {"Ports": [{"PortIndex": 0, "OperatingModeAfterReboot": "HBA"},
                                                       {"PortIndex": 1, "OperatingModeAfterReboot": "RAID"}]}).status == 400


# (profile, PATCH body, status, MessageId suffix or None)
CACHE_PATCHES = [
    ("dell-r750", {"WriteCachePolicy": "WriteThrough"}, 200, None),
    ("dell-r750", {"ReadCachePolicy": "Off", "WriteCachePolicy": "UnprotectedWriteBack"}, 200, None),
    ("lenovo-sr650v2", {"ReadCachePolicy": "AdaptiveReadAhead"}, 200, None),
    ("supermicro-x13", {"WriteCachePolicy": "Off"}, 200, None),
    ("generic-1s", {"WriteCachePolicy": "WriteBack"}, 400, "PropertyValueNotInList"),
    ("generic-1s", {"ReadCachePolicy": 1}, 400, "PropertyValueTypeError"),
    ("generic-1s", {"RAIDType": "RAID0"}, 400, "PropertyNotWritable"),
    ("generic-1s", {"Colour": "blue"}, 400, "PropertyUnknown"),
    ("hpe-dl360-gen10p", {"WriteCachePolicy": "WriteThrough"}, 200, None),
    ("dell-r750", {"DisplayName": "BOOT", "Name": "BOOT", "ReadCachePolicy": "Off"}, 200, None),
    ("generic-1s", {"DisplayName": "a", "Name": "b"}, 400, "PropertyValueFormatError"),
]


@pytest.mark.parametrize(("profile", "body", "status", "message"), CACHE_PATCHES)
def test_volume_cache_policies_read_and_patch(profile: str, body: dict[str, Any], status: int,
                                              message: str | None) -> None:
    bmc = make_bmc(profile)
    client = Client(bmc)
    uri = f"{Paths(bmc.profile).volumes}/{bmc.storage.volumes[0].id}"
    before = client.get(uri)
    assert before.json["ReadCachePolicy"] == "ReadAhead" and before.json["WriteCachePolicy"] == "ProtectedWriteBack"
    assert "PATCH" in before.headers["Allow"]
    reply = client.patch(uri, body, headers={"If-Match": before.headers["ETag"]})
    assert reply.status == status, reply
    after = client.get(uri).json
    if status == 200:
        assert {k: after[k] for k in body} == body
        assert client.patch(uri, body, headers={"If-Match": before.headers["ETag"]}).status == 412  # stale
    else:
        assert message is not None and reply.message_ids()[0].endswith(message)
        assert (after["ReadCachePolicy"], after["WriteCachePolicy"]) == ("ReadAhead", "ProtectedWriteBack")


def test_hpe_needs_if_match_on_a_volume_and_every_flavour_waits_for_an_idle_controller(clock: FakeClock) -> None:
    hpe = make_bmc("hpe-dl360-gen10p", clock)
    client = Client(hpe)
    uri = f"{Paths(hpe.profile).volumes}/{hpe.storage.volumes[0].id}"
    assert client.patch(uri, {"WriteCachePolicy": "WriteThrough"}).status == 428
    generic = make_bmc("generic-1s", clock)
    client = Client(generic)
    uri = f"{Paths(generic.profile).volumes}/{generic.storage.volumes[0].id}"
    assert client.post(Paths(generic.profile).volumes, {"RAIDType": "RAID1", "Links": {"Drives": [
        {"@odata.id": drive_uri(generic, 2)}, {"@odata.id": drive_uri(generic, 3)}]},
        "WriteCachePolicy": "WriteThrough"}).status == 202
    busy = client.patch(uri, {"WriteCachePolicy": "WriteThrough"})
    assert busy.status == 409 and "Retry-After" in busy.headers
    settle(generic, clock)
    assert client.patch(uri, {"WriteCachePolicy": "WriteThrough"}).status == 200
    created = generic.storage.volumes[-1]
    assert (created.read_cache, created.write_cache) == ("ReadAhead", "WriteThrough")  # taken at create


def test_volume_create_refuses_a_bad_cache_policy() -> None:
    bmc = make_bmc("generic-1s")
    reply = Client(bmc).post(Paths(bmc.profile).volumes, {"RAIDType": "RAID1", "ReadCachePolicy": "Always",
                                                          "Links": {"Drives": [{"@odata.id": drive_uri(bmc, 2)},
                                                                               {"@odata.id": drive_uri(bmc, 3)}]}})
    assert reply.status == 400 and reply.message_ids()[0].endswith("PropertyValueNotInList")


def test_dedicated_spares_are_bound_to_their_volume_dmtf(clock: FakeClock) -> None:
    """HPE (as its iLO 5/6 captures publish it): Volume Links.DedicatedSpareDrives is writable; the
    Drive's HotspareType takes no Dedicated on its own; deleting the volume frees its spares."""
    bmc = make_bmc("hpe-dl360-gen10p", clock)
    client = Client(bmc)
    paths = Paths(bmc.profile)
    coll = client.get(paths.volumes).json
    caps = client.get(coll["@Redfish.CollectionCapabilities"]["Capabilities"][0]["CapabilitiesObject"]["@odata.id"])
    assert caps.json["Links"]["DedicatedSpareDrives@Redfish.UpdatableAfterCreate"] is True
    vol = bmc.storage.volumes[0]
    bay = free_bay(client, bmc, clock)
    uri = drive_uri(bmc, bay)
    etag = client.get(uri).headers["ETag"]
    assert client.patch(uri, {"HotspareType": "Dedicated"}, headers={"If-Match": etag}).status == 400
    vuri = f"{paths.volumes}/{vol.id}"
    doc = client.get(vuri)
    assert doc.json["Links"]["@Redfish.WriteableProperties"] == ["DedicatedSpareDrives"]
    resp = client.patch(vuri, {"Links": {"DedicatedSpareDrives": [{"@odata.id": uri}]}},
                        headers={"If-Match": doc.headers["ETag"]})
    assert resp.status == 200, resp.json
    assert client.get(vuri).json["Links"]["DedicatedSpareDrives"] == [{"@odata.id": uri}]
    assert client.get(uri).json["HotspareType"] == "Dedicated"
    # A drive in a volume cannot be a spare.
    other = drive_uri(bmc, vol.drives[0])
    doc = client.get(vuri)
    assert client.patch(vuri, {"Links": {"DedicatedSpareDrives": [{"@odata.id": other}]}},
                        headers={"If-Match": doc.headers["ETag"]}).status == 400
    assert client.delete(vuri).status == 202
    settle(bmc, clock)
    assert client.get(uri).json["HotspareType"] == "None"


def test_dedicated_spares_on_dell_use_assign_spare(clock: FakeClock) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    vol = bmc.storage.volumes[0]
    bay = free_bay(client, bmc, clock)
    did = bmc.storage.drive_ids()[bay]
    # iDRAC9: HotspareType is read-only on the Drive.
    assert client.patch(drive_uri(bmc, bay), {"HotspareType": "Global"}).status == 400
    resp = client.post(f"{RAID_SERVICE}/Actions/DellRaidService.AssignSpare",
                       {"TargetFQDD": did, "VirtualDiskArray": [vol.id]})
    assert resp.status == 202
    settle(bmc, clock)
    vdoc = client.get(f"{Paths(bmc.profile).volumes}/{vol.id}").json
    assert vdoc["Links"]["DedicatedSpareDrives"] == [{"@odata.id": drive_uri(bmc, bay)}]
    assert client.post(f"{RAID_SERVICE}/Actions/DellRaidService.UnassignSpare", {"TargetFQDD": did}).status == 202
    settle(bmc, clock)
    assert client.get(drive_uri(bmc, bay)).json["HotspareType"] == "None"
    assert client.post(f"{RAID_SERVICE}/Actions/DellRaidService.UnassignSpare", {"TargetFQDD": did}).status == 400
