"""Paged collections (issue 12, class 1): every ``Members@odata.nextLink`` page is read with its
query string, each member exactly once, whatever the page size; ``Members@odata.count`` is
honoured when a service gives no next link; a next link that points back ends the walk.

Real capture: the Dell iDRAC9 6.00 capture pages its Oem DellSensors collection at 50 of 77
members (``?$skip=50``); the same shape served here at page sizes 2, 50 and 75."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dcops.bmc.redfish.docs import FetchError, Reader, cache_key, normalize, run_sync
from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.bmc.redfish.read import read_observation
from dcops.observation import SensorKind
from dcops.secrets import Secret
from tests.unit.bmc.mockups import Faults, fetcher, load, minimal_system, paged, serve

Doc = dict[str, Any]
SENSORS = 477  # as many as the service in the issue report had


def with_sensors(count: int = SENSORS) -> dict[str, Doc]:
    docs = minimal_system()
    docs[normalize("/redfish/v1/Chassis/1")]["Sensors"] = {"@odata.id": "/redfish/v1/Chassis/1/Sensors"}
    members = []
    for n in range(count):
        uri = f"/redfish/v1/Chassis/1/Sensors/T{n}"
        members.append({"@odata.id": uri})
        docs[normalize(uri)] = {"@odata.id": uri, "@odata.type": "#Sensor.v1_7_0.Sensor", "Id": f"T{n}",
                                "Name": f"Temp {n}", "ReadingType": "Temperature", "Reading": 30.0,
                                "ReadingUnits": "Cel", "Status": {"Health": "OK", "State": "Enabled"}}
    docs[normalize("/redfish/v1/Chassis/1/Sensors")] = {
        "@odata.id": "/redfish/v1/Chassis/1/Sensors", "@odata.type": "#SensorCollection.SensorCollection",
        "Members": members, "Members@odata.count": count}
    return docs


def paging_fetch(docs: dict[str, Doc], size: int, asked: list[str]) -> Any:
    def fetch(path: str) -> Doc:
        asked.append(path)
        doc = docs.get(normalize(path))
        if doc is None:
            raise FetchError(path, "HTTP 404", 404)
        return paged(doc, path, size) if isinstance(doc.get("Members"), list) else doc

    return fetch


@pytest.mark.parametrize("size", [2, 50, 75])
def test_every_member_of_a_paged_collection_once(size: int) -> None:
    asked: list[str] = []
    obs = run_sync(read_observation("h", sections=("sensors",)), paging_fetch(with_sensors(), size, asked))
    names = [s.name for s in obs.sensors_of(SensorKind.TEMPERATURE)]
    assert len(names) == SENSORS and len(set(names)) == SENSORS
    pages = [p for p in asked if p.lower().startswith("/redfish/v1/chassis/1/sensors?")]
    assert len(pages) == -(-SENSORS // size) - 1  # every page after the first, each once
    assert not obs.errors


def test_cache_key_keeps_the_query() -> None:
    assert cache_key("/redfish/v1/Chassis/1/Sensors?$skip=75") != cache_key("/redfish/v1/Chassis/1/Sensors")
    assert cache_key("/redfish/v1/Systems/1/") == cache_key("/redfish/v1/systems/1") == normalize("/redfish/v1/Systems/1")


def test_count_without_next_link_asks_for_the_rest_with_skip() -> None:
    docs = with_sensors(10)
    served: list[str] = []

    def fetch(path: str) -> Doc:
        served.append(path)
        doc = docs[normalize(path)]
        if "Members" in doc:  # lists 4 at a time, says 10, never gives a next link
            page = paged(doc, path, 4)
            page.pop("Members@odata.nextLink", None)
            return page
        return doc

    got = run_sync(Reader().members("/redfish/v1/Chassis/1/Sensors"), fetch)
    assert sorted(d["Id"] for d in got) == sorted(f"T{n}" for n in range(10))


def test_a_next_link_back_to_itself_and_repeated_links_end_in_one_read_each() -> None:
    docs = with_sensors(3)
    coll = docs[normalize("/redfish/v1/Chassis/1/Sensors")]
    coll["Members"] = coll["Members"] + coll["Members"][:1]  # lists T0 twice
    coll["Members@odata.nextLink"] = "/redfish/v1/Chassis/1/Sensors"
    coll["Members@odata.count"] = 3
    asked: list[str] = []

    def fetch(path: str) -> Doc:
        asked.append(path)
        return docs[normalize(path)]

    reader = Reader()
    got = run_sync(reader.members("/redfish/v1/Chassis/1/Sensors"), fetch)
    assert [d["Id"] for d in got] == ["T0", "T1", "T2"]
    assert asked.count("/redfish/v1/Chassis/1/Sensors/T0") == 1 and len(asked) == 4


@pytest.mark.parametrize("size", [2, 75])
def test_the_fleet_reader_pages_over_the_wire(size: int) -> None:
    async def run(url: str) -> int:
        fleet = RedfishFleet(concurrency=4)
        visit = await fleet.visit(Target("h1", url, "admin", Secret("s3cret-pw"), verify_tls=False),
                                  sections=("sensors",), deadline=120)
        await fleet.close()
        assert visit.observation is not None, visit.error
        names = {s.name for s in visit.observation.sensors_of(SensorKind.TEMPERATURE)}
        assert len(names) == len(visit.observation.sensors_of(SensorKind.TEMPERATURE))
        return len(names)

    with serve(with_sensors(), faults=Faults(page_size=size)) as bmc:
        assert asyncio.run(run(bmc.url)) == SENSORS


def test_dell_capture_pages_its_oem_sensors_at_50() -> None:
    """The capture's own shape: page 1 lists 50 of 77 and links ``?$skip=50``, and the capture
    holds that second page under its query; read as a BMC serves it, 77 members, each once."""
    docs = load("dell-poweredge-r750-idrac9-6.00")
    uri = "/redfish/v1/Systems/System.Embedded.1/Oem/Dell/DellSensors"
    first = docs[cache_key(uri)]
    assert len(first["Members"]) == 50 and first["Members@odata.count"] == 77
    assert first["Members@odata.nextLink"].endswith("?$skip=50")
    assert len(docs[cache_key(uri + "?$skip=50")]["Members"]) == 27
    got = run_sync(Reader().members(uri), fetcher(docs))
    assert len(got) == 77 and len({d["@odata.id"] for d in got}) == 77


@pytest.mark.parametrize("style", ["path", "url", "query"])
def test_next_links_as_full_urls_or_bare_queries(style: str) -> None:
    docs = with_sensors(5)
    asked: list[str] = []

    def fetch(path: str) -> Doc:
        asked.append(path)
        doc = docs[normalize(path)]
        if "Members" not in doc:
            return doc
        page = paged(doc, path, 2)
        link = page.get("Members@odata.nextLink")
        if link and style == "url":
            page["Members@odata.nextLink"] = f"https://10.0.0.5{link}"
        elif link and style == "query":
            page["Members@odata.nextLink"] = "?" + link.split("?", 1)[1]
        return page

    got = run_sync(Reader().members("/redfish/v1/Chassis/1/Sensors"), fetch)
    assert sorted(d["Id"] for d in got) == [f"T{n}" for n in range(5)]
    assert all(p.startswith("/redfish/v1/") for p in asked)
