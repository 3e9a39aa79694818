"""The simulator's $select (dcops/sim/server.py ``_select``): applied last, after $expand, with
paths into complex properties and into each member of an expanded collection; advertised per
flavour as the real captures do; the OpenBMC refusal of $select with $expand as a trait."""

from __future__ import annotations

from tests.unit.sim.conftest import Client, make_bmc

EXPAND = ".($levels=1)"


def _memory(client: Client) -> str:
    system = client.get("/redfish/v1/Systems").json["Members"][0]["@odata.id"]
    return str(client.get(system).json["Memory"]["@odata.id"])


def test_member_paths_select_inside_an_expanded_collection() -> None:
    client = Client(make_bmc("dell-r750"))
    memory = _memory(client)
    full = client.get(memory, query={"$expand": EXPAND}).json
    doc = client.get(memory, query={"$expand": EXPAND,
                                    "$select": "Members@odata.count,Members/Id,Members/SerialNumber"}).json
    assert doc["Members@odata.count"] == full["Members@odata.count"] == len(doc["Members"]) > 4
    assert "Name" not in doc  # the collection's own properties not named go
    for member, whole in zip(doc["Members"], full["Members"], strict=True):
        assert set(member) - {"@odata.id", "@odata.type", "@odata.context"} == {"Id", "SerialNumber"}
        assert member["SerialNumber"] == whole["SerialNumber"] and "CapacityMiB" in whole


def test_a_path_into_a_complex_property() -> None:
    client = Client(make_bmc("generic-1s"))
    doc = client.get("/redfish/v1/Systems/1", query={"$select": "Status/Health,PowerState"}).json
    assert set(doc["Status"]) == {"Health"} and "PowerState" in doc and "Model" not in doc


def test_a_flavour_without_selectquery_does_not_advertise_it_and_ignores_it() -> None:
    # Huawei iBMC 3.12 (capture): no ProtocolFeaturesSupported; query options it lacks are ignored.
    client = Client(make_bmc("huawei-2288hv5"))
    assert client.get("/redfish/v1").json["ProtocolFeaturesSupported"]["SelectQuery"] is False
    doc = client.get("/redfish/v1/Systems/1", query={"$select": "PowerState"}).json
    assert "Model" in doc
    for profile in ("dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13"):
        assert Client(make_bmc(profile)).get("/redfish/v1").json["ProtocolFeaturesSupported"]["SelectQuery"] is True


def test_trait_select_no_expand_refuses_the_combination_only() -> None:
    client = Client(make_bmc("generic-1s+select-no-expand"))
    memory = _memory(client)
    refused = client.get(memory, query={"$expand": EXPAND, "$select": "Members/Id"})
    assert refused.status == 400 and refused.message_ids()[-1].endswith("QueryCombinationInvalid")
    assert client.get(memory, query={"$expand": EXPAND}).status == 200
    assert client.get("/redfish/v1/Systems/1", query={"$select": "PowerState"}).status == 200
