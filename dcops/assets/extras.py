"""What asset collection needs from the Redfish documents that ``Observation`` does not carry yet:
the rack placement the BMC reports (``Chassis.Location.Placement``, Dell's ``Location.Info``) and
the mainboard serial that vendors keep in OEM fields of the chassis.

Interim: this belongs in ``dcops.bmc.redfish.resources`` and ``oem/<vendor>.py`` (the Redfish key
names live there), as ``Component.extra`` of the chassis and mainboard. Until the BMC layer carries
them, the collector taps the documents the reader fetches anyway (``tap``): no extra request, and
the same parsing for the sync and the asyncio paths. ``model.snapshot_from_observation`` already
prefers what the observation says, so this module can go once the BMC layer has it.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from typing import Any, TypeVar

from dcops.assets.model import BmcExtras, Placement
from dcops.observation import clean_serial

T = TypeVar("T")
Doc = dict[str, Any]

_CHASSIS = re.compile(r"^/redfish/v1/chassis/[^/]+$")

# Quirk (Supermicro X13, Lenovo XCC, Gigabyte/AMI): the mainboard serial is only in the chassis' Oem.
_BOARD_SERIAL_KEYS = (("Supermicro", "BoardSerialNumber"), ("Lenovo", "SystemBoardSerialNumber"),
                      ("GBTChassisOemProperty", "Board Serial Number"), ("Ami", "BoardSerialNumber"),
                      ("Huawei", "BoardSerialNumber"), ("Inspur", "BoardSerialNumber"))


def _norm(uri: str) -> str:
    return uri.split("#", 1)[0].split("?", 1)[0].rstrip("/").lower()


def tap(step: Generator[str, Doc, T], sink: dict[str, Doc]) -> Generator[str, Doc, T]:
    """Wrap a reading step (``resources.read_observation``): pass every path and document through
    unchanged and keep the chassis documents in ``sink`` (keyed by lower-case path)."""
    try:
        path = next(step)
        while True:
            try:
                doc = yield path
            except GeneratorExit:
                raise
            except BaseException as exc:  # FetchError and friends: hand them to the reader
                path = step.throw(exc)
                continue
            key = _norm(path)
            if isinstance(doc, dict):
                if _CHASSIS.match(key):
                    sink[key] = doc
                for member in doc.get("Members") or () if key == "/redfish/v1/chassis" else ():
                    if isinstance(member, dict) and len(member) > 1 and isinstance(member.get("@odata.id"), str):
                        sink[_norm(member["@odata.id"])] = member  # $expand-style inlined chassis
            path = step.send(doc)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        step.close()


def _text(value: object) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _u(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*U?(\d+)\s*", value, re.I)
        return int(match.group(1)) if match and int(match.group(1)) > 0 else None
    return None


def placement_of(doc: Mapping[str, Any]) -> Placement | None:
    """The placement in one chassis document; None unless it names a rack (a U alone, as Lenovo
    XCC reports by default, places nothing)."""
    location = doc.get("Location")
    if not isinstance(location, dict):
        return None
    raw_place, raw_postal = location.get("Placement"), location.get("PostalAddress")
    place: dict[str, Any] = raw_place if isinstance(raw_place, dict) else {}
    postal: dict[str, Any] = raw_postal if isinstance(raw_postal, dict) else {}
    rack = _text(place.get("Rack"))
    u = _u(place.get("RackOffset")) if place.get("RackOffsetUnits") in (None, "EIA_310", "OpenU") else None
    row = _text(place.get("Row"))
    room = _text(place.get("Room")) or _text(postal.get("Room"))
    site = _text(place.get("FacilityName")) or _text(postal.get("Building"))
    # Quirk (Dell iDRAC): the placement set in the iDRAC UI comes as Location.Info, with its fields
    # named by InfoFormat ("DataCenter;RoomName;Aisle;RackName;RackSlot").
    info, fmt = location.get("Info"), location.get("InfoFormat")
    if not rack and isinstance(info, str) and isinstance(fmt, str):
        values = dict(zip(fmt.split(";"), info.split(";"), strict=False))
        rack = _text(values.get("RackName"))
        u = _u(values.get("RackSlot"))
        row = row or _text(values.get("Aisle"))
        room = room or _text(values.get("RoomName"))
        site = site or _text(values.get("DataCenter"))
    if not rack:
        return None
    return Placement(site=site, room=room, row=row, rack=rack, u=u)


def board_serial_of(doc: Mapping[str, Any]) -> str | None:
    oem = doc.get("Oem")
    if not isinstance(oem, dict):
        return None
    for vendor, key in _BOARD_SERIAL_KEYS:
        block = oem.get(vendor)
        if isinstance(block, dict):
            value = _text(block.get(key))
            if value:
                return value
    return None


def extras_from_docs(chassis_docs: Mapping[str, Doc], system_chassis: str | None = None) -> BmcExtras:
    """Placement and board serial from the chassis documents read for one server; the server's own
    chassis (``system_chassis``, its Id) first, then any other."""
    docs = list(chassis_docs.values())
    if system_chassis:
        docs.sort(key=lambda d: str(d.get("Id") or "") != system_chassis)
    placement = next((p for p in (placement_of(d) for d in docs) if p is not None), None)
    board_raw = next((b for b in (board_serial_of(d) for d in docs) if b), None)
    board_model = None
    for doc in docs:
        # Quirk (Supermicro): Chassis.Model of the system chassis is the mainboard's model (X13DEG-OAD).
        oem = doc.get("Oem")
        if isinstance(oem, dict) and isinstance(oem.get("Supermicro"), dict) and board_raw:
            board_model = _text(doc.get("Model"))
            break
    return BmcExtras(placement=placement, board_serial=board_raw if clean_serial(board_raw) else board_raw,
                     board_model=board_model)
