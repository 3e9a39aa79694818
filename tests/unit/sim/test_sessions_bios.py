"""Sessions and authentication, BIOS settings (pending until a reset, validated against the
registry), ETag/If-Match, and the query options $expand, $top/$skip and $select."""

from __future__ import annotations

import pytest

from tests.unit.sim.conftest import Client, FakeClock, make_bmc, schedule_bios_job, system_path

SESSIONS = "/redfish/v1/SessionService/Sessions"


def login(bmc_client: Client, password: str = "sim-test-pw") -> tuple[int, dict[str, str], object]:
    anon = Client(bmc_client.bmc, auth=None)
    reply = anon.post(SESSIONS, {"UserName": "admin", "Password": password})
    return reply.status, reply.headers, reply.json


def test_session_login_use_and_logout() -> None:
    bmc = make_bmc("dell-r750")
    client = Client(bmc, auth=None)
    reply = client.post(SESSIONS, {"UserName": "admin", "Password": "sim-test-pw"})
    assert reply.status == 201
    token, location = reply.headers["X-Auth-Token"], reply.headers["Location"]
    assert location.startswith(SESSIONS + "/") and reply.json["UserName"] == "admin"
    client.token = token
    assert client.get(system_path(bmc)).status == 200
    assert len(bmc.sessions) == 1
    members = client.get(SESSIONS).json["Members"]
    assert [m["@odata.id"] for m in members] == [location]
    assert client.delete(location).status == 204
    assert client.get(system_path(bmc)).status == 401
    assert len(bmc.sessions) == 0 and bmc.sessions_created == 1 and bmc.sessions_deleted == 1


@pytest.mark.parametrize(("profile", "limit", "message_id"), [
    ("dell-r750", 8, "IDRAC.2.8.RAC0218"),
    ("hpe-dl360-gen10p", 16, "iLO.2.15.CreateLimitReachedForResource"),
    ("lenovo-sr650v2", 16, "Base.1.8.SessionLimitExceeded"),
    ("supermicro-x13", 4, "Base.1.4.SessionLimitExceeded"),
    ("generic-1s", 8, "Base.1.16.SessionLimitExceeded"),
])
def test_session_limit_answers_503_with_the_vendors_message(profile: str, limit: int, message_id: str) -> None:
    bmc = make_bmc(profile)
    client = Client(bmc)
    for _ in range(limit):
        assert login(client)[0] == 201
    status, headers, body = login(client)
    assert status == 503 and "Retry-After" in headers
    assert body["error"]["@Message.ExtendedInfo"][0]["MessageId"] == message_id  # type: ignore[index]
    assert len(bmc.sessions) == limit


def test_bad_credentials_and_missing_credentials_get_401() -> None:
    bmc = make_bmc("dell-r750")
    status, _, body = login(Client(bmc), password="wrong")
    assert status == 401
    assert "invalid username and/or password" in body["error"]["@Message.ExtendedInfo"][0]["Message"]  # type: ignore[index]
    anon = Client(bmc, auth=None)
    reply = anon.get(system_path(bmc))
    assert reply.status == 401 and reply.headers["WWW-Authenticate"].startswith("Basic")
    assert anon.get("/redfish/v1").status == 200  # the service root is public
    assert anon.get("/redfish/v1/$metadata").status == 200
    bad_basic = Client(bmc, auth=None).get(system_path(bmc), headers={"Authorization": "Basic YWRtaW46bm9wZQ=="})
    assert bad_basic.status == 401
    stale = Client(bmc, auth=None).get(system_path(bmc), headers={"X-Auth-Token": "0" * 32})
    assert stale.status == 401


def test_idle_sessions_expire_after_the_flavours_timeout(clock: FakeClock) -> None:
    bmc = make_bmc("supermicro-x13", clock)
    client = Client(bmc, auth=None)
    client.token = login(Client(bmc))[1]["X-Auth-Token"]
    clock.advance(bmc.flavour.session_timeout - 1)
    assert client.get(system_path(bmc)).status == 200  # use refreshes it
    clock.advance(bmc.flavour.session_timeout + 1)
    assert client.get(system_path(bmc)).status == 401
    assert bmc.sessions_expired == 1 and not bmc.sessions


def bios_paths(bmc: object) -> tuple[str, str]:
    from dcops.sim.resources import Paths

    paths = Paths(bmc.profile)  # type: ignore[attr-defined]
    return paths.bios, paths.bios_settings


# (profile, attribute, new value)
BIOS_CHANGES = [
    ("dell-r750", "LogicalProc", "Disabled"),
    ("dell-r750", "AcPwrRcvryUserDelay", 300),
    ("hpe-dl360-gen10p", "WorkloadProfile", "LowLatency"),
    ("lenovo-sr650v2", "Processors_HyperThreading", "Disabled"),
    ("supermicro-x13", "QuietBoot_002D", False),
    ("generic-1s", "Sriov", "Enabled"),
]


@pytest.mark.parametrize(("profile", "name", "value"), BIOS_CHANGES)
def test_bios_patch_is_pending_until_a_reset_then_applied(clock: FakeClock, profile: str, name: str,
                                                          value: object) -> None:
    bmc = make_bmc(profile, clock)
    client = Client(bmc)
    bios, settings = bios_paths(bmc)
    before = client.get(bios).json["Attributes"][name]
    assert before != value
    link = client.get(bios).json["@Redfish.Settings"]["SettingsObject"]["@odata.id"]
    etag = client.get(link).headers["ETag"]
    reply = client.patch(link, {"Attributes": {name: value}}, headers={"If-Match": etag})
    assert reply.status == 200, reply
    assert client.get(bios).json["Attributes"][name] == before  # still the old value
    assert client.get(settings).json["Attributes"][name] == value  # pending
    schedule_bios_job(client, bmc)
    bmc.reset("ForceRestart")
    clock.advance(0.5)
    assert client.get(bios).json["Attributes"][name] == value  # applied at POST
    assert name not in client.get(settings).json["Attributes"] or bmc.flavour.bios_settings_full
    assert bmc.bios_pending == {}


# (profile, attributes, expected MessageIds suffixes)
BIOS_ERRORS = [
    ("dell-r750", {"SystemModelName": "X"}, ["PropertyNotWritable"]),
    ("dell-r750", {"LogicalProc": "Maybe"}, ["PropertyValueNotInList"]),
    ("dell-r750", {"AcPwrRcvryUserDelay": 5}, ["PropertyValueOutOfRange"]),
    ("dell-r750", {"AcPwrRcvryUserDelay": "soon"}, ["PropertyValueTypeError"]),
    ("dell-r750", {"NoSuchThing": 1}, ["PropertyUnknown"]),
    ("dell-r750", {"AssetTag": "x" * 80}, ["PropertyValueFormatError"]),
    ("dell-r750", {"LogicalProc": "Maybe", "SystemModelName": "X"}, ["PropertyValueNotInList",
                                                                      "PropertyNotWritable"]),
    ("lenovo-sr650v2", {"NetworkStackSettings_PXEbootwaittime": 6}, ["PropertyValueOutOfRange"]),
    ("supermicro-x13", {"QuietBoot_002D": "yes"}, ["PropertyValueTypeError"]),
    ("generic-1s", {"SerialNumber": "X"}, ["PropertyNotWritable"]),
]


@pytest.mark.parametrize(("profile", "attributes", "messages"), BIOS_ERRORS)
def test_bios_patch_is_validated_against_the_registry(profile: str, attributes: dict[str, object],
                                                      messages: list[str]) -> None:
    bmc = make_bmc(profile)
    client = Client(bmc)
    _, settings = bios_paths(bmc)
    reply = client.patch(settings, {"Attributes": attributes})
    assert reply.status == 400
    ids = reply.message_ids()
    assert [i.rsplit(".", 1)[-1] for i in ids] == messages
    assert bmc.bios_pending == {}
    info = reply.json["error"]["@Message.ExtendedInfo"][0]
    assert info["Message"] and info["Resolution"]


def test_hpe_needs_if_match_on_bios_settings_and_refuses_a_stale_etag() -> None:
    bmc = make_bmc("hpe-dl360-gen10p")
    client = Client(bmc)
    link = client.get("/redfish/v1/systems/1/bios/").json["@Redfish.Settings"]["SettingsObject"]["@odata.id"]
    assert link == "/redfish/v1/systems/1/bios/settings/"  # Quirk (HPE iLO): lower case, trailing slash
    body = {"Attributes": {"ProcHyperthreading": "Disabled"}}
    missing = client.patch(link, body)
    assert missing.status == 428 and missing.message_ids() == ["Base.1.4.PreconditionRequired"]
    assert "Message" not in missing.json["error"]["@Message.ExtendedInfo"][0]  # iLO sends ids only
    etag = client.get(link).headers["ETag"]
    assert client.patch(link, body, headers={"If-Match": etag}).status == 200
    stale = client.patch(link, {"Attributes": {"ProcTurbo": "Disabled"}}, headers={"If-Match": etag})
    assert stale.status == 412 and stale.message_ids() == ["Base.1.4.PreconditionFailed"]
    assert client.get(link).json["@odata.etag"] == client.get(link).headers["ETag"]


def test_dell_takes_bios_patches_without_if_match_but_checks_one_when_given() -> None:
    bmc = make_bmc("dell-r750")
    client = Client(bmc)
    _, settings = bios_paths(bmc)
    assert client.patch(settings, {"Attributes": {"LogicalProc": "Disabled"}}).status == 200
    assert client.patch(settings, {"Attributes": {"ProcTurboMode": "Disabled"}},
                        headers={"If-Match": 'W/"00000000"'}).status == 412


def test_bios_reset_returns_defaults_at_the_next_boot(clock: FakeClock) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    bios, settings = bios_paths(bmc)
    client.patch(settings, {"Attributes": {"LogicalProc": "Disabled"}})
    schedule_bios_job(client, bmc)
    bmc.reset("ForceRestart")
    clock.advance(0.5)
    assert client.get(bios).json["Attributes"]["LogicalProc"] == "Disabled"
    assert client.post(f"{bios}/Actions/Bios.ResetBios", {}).status == 204
    schedule_bios_job(client, bmc)
    bmc.reset("ForceRestart")
    clock.advance(0.5)
    assert client.get(bios).json["Attributes"]["LogicalProc"] == "Enabled"


def test_bios_registry_is_published_and_describes_every_attribute() -> None:
    bmc = make_bmc("dell-r750")
    client = Client(bmc)
    bios = client.get(bios_paths(bmc)[0]).json
    files = client.get("/redfish/v1/Registries").json["Members"]
    registry_file = client.get(files[0]["@odata.id"]).json
    assert registry_file["Registry"] == bios["AttributeRegistry"]
    registry = client.get(registry_file["Location"][0]["Uri"]).json
    names = {a["AttributeName"]: a for a in registry["RegistryEntries"]["Attributes"]}
    assert set(names) == set(bios["Attributes"])
    assert names["AcPwrRcvryUserDelay"]["LowerBound"] == 60 and names["SystemModelName"]["ReadOnly"] is True


def test_etag_on_get_and_if_match_on_system_patch() -> None:
    bmc = make_bmc("generic-1s")
    client = Client(bmc)
    etag = client.get(system_path(bmc)).headers["ETag"]
    assert client.patch(system_path(bmc), {"AssetTag": "rack-a01"}, headers={"If-Match": etag}).status == 200
    assert client.patch(system_path(bmc), {"AssetTag": "again"}, headers={"If-Match": etag}).status == 412
    assert client.get(system_path(bmc)).json["AssetTag"] == "rack-a01"
    fresh = client.get(system_path(bmc)).headers["ETag"]
    assert client.get(system_path(bmc), headers={"If-None-Match": fresh}).status == 304


# ------------------------------------------------------------------------------------ query options

def test_expand_inlines_members_where_supported() -> None:
    bmc = make_bmc("dell-r750")
    client = Client(bmc)
    doc = client.get(f"{system_path(bmc)}/Memory", query={"$expand": ".($levels=1)"}).json
    assert len(doc["Members"]) == 16 and all("CapacityMiB" in m for m in doc["Members"])
    star = client.get(system_path(bmc), query={"$expand": "*"}).json
    assert "Members" in star["Processors"] and "Model" in star["Links"]["Chassis"][0]


@pytest.mark.parametrize(("profile", "query", "status"), [
    ("hpe-dl360-gen10p", {"$expand": "*"}, 501),  # iLO: only $expand=.
    ("hpe-dl360-gen10p", {"$expand": "."}, 200),
    ("generic-1s", {"$filter": "Id eq 1"}, 501),
    ("supermicro-x13", {"$top": "1"}, 200),  # ignored
])
def test_unsupported_query_options(profile: str, query: dict[str, str], status: int) -> None:
    bmc = make_bmc(profile)
    assert Client(bmc).get(f"{system_path(bmc)}/Memory", query=query).status == status


def test_top_and_skip_page_a_collection_with_a_next_link() -> None:
    bmc = make_bmc("generic-1s")
    client = Client(bmc)
    full = client.get(f"{system_path(bmc)}/Memory").json["Members"]
    page = client.get(f"{system_path(bmc)}/Memory", query={"$top": "3", "$skip": "2"}).json
    assert page["Members"] == full[2:5] and page["Members@odata.count"] == len(full)
    assert page["Members@odata.nextLink"].endswith("$skip=5&$top=3")
    ignored = make_bmc("supermicro-x13")
    assert len(Client(ignored).get(f"{system_path(ignored)}/Memory", query={"$top": "1"}).json["Members"]) > 1
    assert client.get(f"{system_path(bmc)}/Memory", query={"$top": "x"}).status == 400


def test_select_keeps_only_the_named_properties() -> None:
    bmc = make_bmc("generic-1s")
    doc = Client(bmc).get(system_path(bmc), query={"$select": "PowerState,SerialNumber"}).json
    assert set(doc) == {"@odata.id", "@odata.type", "Id", "PowerState", "SerialNumber"}


def test_sel_entries_append_as_events_happen_and_page(clock: FakeClock) -> None:
    bmc = make_bmc("generic-1s", clock)
    client = Client(bmc)
    entries = "/redfish/v1/Systems/1/LogServices/SEL/Entries"
    start = client.get(entries).json["Members@odata.count"]
    for _ in range(60):
        bmc.reset("ForceRestart")
        clock.advance(0.5)
    doc = client.get(entries).json
    assert doc["Members@odata.count"] == start + 60  # a power-on entry per restart
    assert len(doc["Members"]) == 50 and "Members@odata.nextLink" in doc
    rest = client.get(entries, query={"$skip": "50"}).json
    assert len(rest["Members"]) == doc["Members@odata.count"] - 50
    first = doc["Members"][0]
    assert client.get(first["@odata.id"]).json["Message"] == first["Message"]
    assert client.post("/redfish/v1/Systems/1/LogServices/SEL/Actions/LogService.ClearLog", {}).status == 204
    assert client.get(entries).json["Members@odata.count"] == 1


def test_unknown_uris_and_methods() -> None:
    bmc = make_bmc("dell-r750")
    client = Client(bmc)
    missing = client.get("/redfish/v1/Systems/Nope")
    assert missing.status == 404 and missing.message_ids() == ["Base.1.12.ResourceMissingAtURI"]
    not_allowed = client.delete(system_path(bmc))
    assert not_allowed.status == 405 and "PATCH" in not_allowed.headers["Allow"]
    bad_json = client.request("PATCH", system_path(bmc), b"{not json")
    assert bad_json.status == 400 and bad_json.message_ids() == ["Base.1.12.MalformedJSON"]
    # URIs match case-insensitively and a trailing slash does not matter
    assert client.get(system_path(bmc).lower() + "/").json["Id"] == "System.Embedded.1"


def test_hpe_refuses_an_action_without_a_json_body() -> None:
    bmc = make_bmc("hpe-dl360-gen10p")
    client = Client(bmc)
    empty = client.request("POST", "/redfish/v1/Managers/1/VirtualMedia/2/Actions/VirtualMedia.EjectMedia", b"")
    assert empty.status == 400 and empty.message_ids() == ["Base.1.4.MalformedJSON"]
    assert client.post("/redfish/v1/Managers/1/VirtualMedia/2/Actions/VirtualMedia.EjectMedia", {}).status == 200
    dell = make_bmc("dell-r750")
    assert Client(dell).request("POST", "/redfish/v1/Managers/iDRAC.Embedded.1/LogServices/Sel/Actions/"
                                "LogService.ClearLog", b"").status == 204


def test_non_ascii_credentials_are_refused_not_crashed() -> None:
    bmc = make_bmc("generic-1s")
    anon = Client(bmc, auth=None)
    assert anon.post(SESSIONS, {"UserName": "ädmin", "Password": "pässword"}).status == 401
    assert anon.post(SESSIONS, {"UserName": 1, "Password": None}).status == 401
    assert Client(bmc, password="pässwörd").get(system_path(bmc)).status == 401


def test_dell_bios_values_apply_only_through_a_job(clock: FakeClock) -> None:
    """iDRAC9: staged values without a configuration job stay pending across reboots; a job (POST
    to the queue, or the PATCH's own when it carries @Redfish.SettingsApplyTime) applies them at
    the next POST and ends Completed; JID_CLEARALL drops the job and the values."""
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    bios, settings = bios_paths(bmc)
    queue = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs"
    assert client.post(queue, {"TargetSettingsURI": settings}).status == 400  # nothing pending: SYS017
    client.patch(settings, {"Attributes": {"LogicalProc": "Disabled"}})
    bmc.reset("ForceRestart")
    clock.advance(0.5)
    assert client.get(bios).json["Attributes"]["LogicalProc"] == "Enabled"  # no job: still pending
    assert bmc.bios_pending == {"LogicalProc": "Disabled"}
    reply = client.patch(settings, {"Attributes": {"ProcCStates": "Disabled"},
                                    "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"}})
    job = reply.headers["Location"]
    assert client.get(job).json["JobState"] == "Scheduled"
    assert client.post(queue, {"TargetSettingsURI": settings}).status == 400  # SYS011: one is queued
    bmc.reset("ForceRestart")
    clock.advance(0.5)
    attrs = client.get(bios).json["Attributes"]
    assert (attrs["LogicalProc"], attrs["ProcCStates"]) == ("Disabled", "Disabled")
    done = client.get(job).json
    assert done["JobState"] == "Completed" and done["PercentComplete"] == 100
    assert client.get(queue).json["Members"] == [{"@odata.id": job}]
    client.patch(settings, {"Attributes": {"LogicalProc": "Enabled"}})
    schedule_bios_job(client, bmc)
    clear = "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DellJobService/Actions/DellJobService.DeleteJobQueue"
    assert client.post(clear, {"JobID": "JID_CLEARALL"}).status == 200
    assert client.get(queue).json["Members"] == [] and bmc.bios_pending == {}


def test_dell_chassis_reset_takes_on_and_forceoff_only(clock: FakeClock) -> None:
    bmc = make_bmc("dell-r750", clock)
    client = Client(bmc)
    chassis = client.get("/redfish/v1/Chassis/System.Embedded.1").json
    action = chassis["Actions"]["#Chassis.Reset"]
    assert action["ResetType@Redfish.AllowableValues"] == ["On", "ForceOff"]
    assert client.post(action["target"], {"ResetType": "GracefulRestart"}).status == 400
    assert client.post(action["target"], {"ResetType": "ForceOff"}).status == 204
    clock.advance(1)
    bmc.tick()
    assert bmc.power == "Off"


@pytest.mark.parametrize(("profile", "has_it"), [("dell-r750", False), ("hpe-dl360-gen10p", False),
                                                 ("lenovo-sr650v2", False), ("supermicro-x13", True),
                                                 ("generic-1s", True)])
def test_boot_progress_only_where_the_firmware_has_it(clock: FakeClock, profile: str, has_it: bool) -> None:
    """The iDRAC9 6.00, iLO 5 3.11 and XCC 2.83 captures have no BootProgress; clients must cope."""
    bmc = make_bmc(profile, clock)
    assert ("BootProgress" in Client(bmc).get(system_path(bmc)).json) is has_it
