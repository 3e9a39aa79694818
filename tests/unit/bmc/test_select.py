"""$select on the inventory's part collections (dcops/bmc/redfish/select.py): who is asked, the
query, the guard that decides whether a selected answer can be used, and that the property lists
(keys.SELECT_MEMBERS) hold everything the parser reads of those documents in every real capture."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.bmc.redfish.docs import run_sync
from dcops.bmc.redfish.keys import SELECT_MEMBERS
from dcops.bmc.redfish.read import read_observation
from dcops.bmc.redfish.select import (
    first_inline,
    member_fields,
    mismatch,
    select_query,
    select_supported,
    usable,
)
from tests.unit.bmc.mockups import CAPTURES, fetcher, load

A = "/redfish/v1/Systems/1/Memory/A1"


@pytest.mark.parametrize(("root", "expected"), [
    ({"ProtocolFeaturesSupported": {"SelectQuery": True}}, True),
    ({"ProtocolFeaturesSupported": {"SelectQuery": False}}, False),  # DMTF public mockups
    ({"ProtocolFeaturesSupported": {"ExpandQuery": {"Levels": True}}}, False),  # not said: not asked
    ({}, False),  # Huawei iBMC 3.12, sushy-tools: no ProtocolFeaturesSupported at all
    ({"ProtocolFeaturesSupported": {"SelectQuery": "true"}}, False),  # not a boolean: not trusted
    (None, False),
])
def test_only_a_service_that_advertises_selectquery_gets_select(root: Any, expected: bool) -> None:
    assert select_supported(root) is expected


def test_the_query_names_the_count_the_next_link_and_member_paths() -> None:
    fields = member_fields("MemoryCollection")
    assert fields is not None and "Status" in fields and "CapacityMiB" in fields and "Oem" not in fields
    query = select_query(fields)
    assert query.startswith("$select=Members@odata.count,Members@odata.nextLink,Members/Id,")
    assert "Members/CapacityMiB" in query and " " not in query
    assert member_fields("SensorCollection") is None  # the minute tier's sensors: read whole
    assert member_fields(None) is None


C = {"@odata.id": "/redfish/v1/Systems/1/Memory", "@odata.type": "#MemoryCollection.MemoryCollection"}
M = {"@odata.id": A, "@odata.type": "#Memory.v1_17_0.Memory", "Id": "A1"}


@pytest.mark.parametrize(("doc", "reason"), [
    ({**C, "Members": [{**M, "Status": {}}], "Members@odata.count": 1}, None),
    ({**C, "Members": [{"@odata.id": A}], "Members@odata.count": 1}, None),  # a link: read on its own
    ({**C, "Members": [], "Members@odata.count": 0}, None),
    # A service that applies $select to the collection's own properties only drops the members.
    ({**C, "Members@odata.count": 2}, "no Members"),
    # bmcweb keeps only @odata annotations unasked: a count not kept could hide more pages.
    ({**C, "Members": [M]}, "no Members@odata.count"),
    ({"@odata.id": C["@odata.id"], "Members": [M], "Members@odata.count": 1}, "no @odata.type"),
    ({"@odata.type": C["@odata.type"], "Members": [M], "Members@odata.count": 1}, "no @odata.id"),
    ({**C, "Members": [{"Id": "A1", "Status": {}}], "Members@odata.count": 1}, "a member without @odata.id"),
    ({**C, "Members": ["x"], "Members@odata.count": 1}, "a member without @odata.id"),
    ({**C, "Members": [{"@odata.id": A, "@odata.type": M["@odata.type"]}], "Members@odata.count": 1},
     f"member {A} without Id or @odata.type"),
    ({**C, "Members": [{"@odata.id": A, "Id": "A1"}], "Members@odata.count": 1},
     f"member {A} without Id or @odata.type"),
    ({**C, "Members": {"@odata.id": A}, "Members@odata.count": 1}, "no Members"),
    ([], "not a JSON object"),
])
def test_guard_refuses_answers_that_cannot_be_used(doc: Any, reason: str | None) -> None:
    assert usable(doc) == reason


FIELDS = ("Id", "SerialNumber", "Status", "Links")
FULL = {"@odata.id": A, "Id": "A1", "SerialNumber": "S1", "Status": {"Health": "OK"}, "Oem": {"big": 1}}


@pytest.mark.parametrize(("selected", "expected"), [
    ({"@odata.id": A, "Id": "A1", "SerialNumber": "S1", "Status": {"Health": "OK"}}, None),
    ({**FULL}, None),  # $select ignored (HPE iLO discards query options it does not implement)
    ({"@odata.id": A, "Id": "A1", "SerialNumber": "S1"}, "Status"),  # a complex property dropped
    ({"@odata.id": A, "Id": "A1", "SerialNumber": "S1", "Status": {}}, "Status"),  # emptied
    ({"@odata.id": A, "Id": "A1", "SerialNumber": "other", "Status": {"Health": "OK"}}, "SerialNumber"),
])
def test_check_against_the_full_member(selected: dict[str, Any], expected: str | None) -> None:
    assert mismatch(selected, FULL, FIELDS) == expected


def test_first_inline_member_is_the_one_checked() -> None:
    doc = {"Members": [{"@odata.id": "/a"}, {"@odata.id": A, "Id": "A1"}]}
    assert first_inline(doc) == {"@odata.id": A, "Id": "A1"}
    assert first_inline({"Members": [{"@odata.id": "/a"}]}) is None


# --------------------------------------------------------------------------- the lists vs the parser

_COLLECTION_OF = {"Memory": "MemoryCollection", "Processor": "ProcessorCollection", "Drive": "DriveCollection",
                  "SoftwareInventory": "SoftwareInventoryCollection"}


class _Seen(dict[str, Any]):
    """A document that records which of its properties the parser looks at."""

    read: dict[str, set[str]] = {}

    def __init__(self, doc: dict[str, Any], kind: str) -> None:
        super().__init__(doc)
        self.kind = kind

    def _note(self, key: object) -> None:
        _Seen.read.setdefault(self.kind, set()).add(str(key))

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


@pytest.mark.parametrize("capture", CAPTURES)
def test_every_property_the_parser_reads_of_a_selected_part_is_asked_for(capture: str) -> None:
    fetch = fetcher(load(capture))
    _Seen.read = {}

    def recording(path: str) -> Any:
        doc = fetch(path)
        kind = str(doc.get("@odata.type") or "").lstrip("#").split(".", 1)[0]
        return _Seen(doc, _COLLECTION_OF[kind]) if kind in _COLLECTION_OF else doc

    obs = run_sync(read_observation("h", sections=("components", "firmware"), log_limit=0), recording)
    assert obs.identity is not None
    for collection, keys in _Seen.read.items():
        extra = {k for k in keys if not k.startswith("@") and k != "error"} - set(SELECT_MEMBERS[collection])
        assert not extra, f"{capture}: the parser reads {sorted(extra)} of {collection} members; add to SELECT_MEMBERS"
