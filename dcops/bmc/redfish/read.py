"""Redfish JSON -> Observation: the sans-I/O reader of a whole server (``read_observation``) and
the cheap health read patrol uses (``read_health``).

What the reader copes with, because real BMCs do it:

* collections whose members are inlined (``$expand`` style) instead of linked, and paged ones
  (``Members@odata.nextLink``);
* links that lead nowhere (a 404, a capture that missed them): recorded in ``Observation.errors``
  as "could not read", never fatal except for the service root;
* URIs that differ only in case or a trailing ``/`` (HPE iLO): one cache key per resource;
* both the deprecated Thermal/Power resources and ThermalSubsystem/PowerSubsystem/Sensors. When a
  chassis has both, the newer model wins per kind: Sensors replace Thermal/Power readings of the
  same kind (names differ between the two models, so merging by name would count twice), and
  ThermalSubsystem/Fans and PowerSubsystem/PowerSupplies replace Thermal.Fans and Power.PowerSupplies;
* placeholder serial numbers (``0123456789``, ``To be filled by O.E.M.``): None, raw value kept.

Vendor-specific behaviour is delegated to ``dcops.bmc.redfish.oem`` (one module per vendor).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Iterable
from typing import Any

from dcops.bmc.redfish import systems
from dcops.bmc.redfish.docs import (
    Doc,
    FetchError,
    Reader,
    Step,
    as_number,
    expand_supported,
    health_and_state,
    health_of,
    is_absent,
    is_error_body,
    last_segment,
    link,
    links_of,
    normalize,
    number,
    power_state,
    state_of,
    text,
)
from dcops.bmc.redfish.inline import InlineDrives, inlined, mismatch, unread
from dcops.bmc.redfish.jsonbody import fingerprint
from dcops.bmc.redfish.keys import (
    EXPAND_ONE_LEVEL,
    HEALTH,
    LEGACY_REDUNDANCY,
    LEGACY_REDUNDANCY_SET,
    LEGACY_THRESHOLDS,
    MEMBERS,
    MEMBERS_COUNT,
    ODATA_ID,
    POWER_REDUNDANCY,
    POWER_REDUNDANCY_GROUP,
    PROCESSOR_KINDS,
    READING_TYPES,
    ROOT,
    SECTIONS,
    SENSOR_THRESHOLDS,
    SEVERITY,
    UNITS,
)
from dcops.bmc.redfish.memo import Memo
from dcops.bmc.redfish.options import may_blame_option
from dcops.bmc.visit import record_order
from dcops.observation import (
    Component,
    ComponentKind,
    Condition,
    FirmwareItem,
    Health,
    Identity,
    LogEntry,
    Observation,
    ReadError,
    Redundancy,
    Sensor,
    SensorKind,
    Thresholds,
    clean_serial,
    crossing_of,
    placeholder_limits,
    worst_health,
)

# A 4xx, however the fetcher words it ("HTTP 404", "404 Not Found"): the BMC saying a resource is
# not there, which is what it has, not an unreadable answer.
_CLIENT_ERROR = re.compile(r"^(HTTP )?4\d\d\b")


def read_observation(
    host: str, *, sections: Iterable[str] = SECTIONS, log_limit: int = 20, expand: bool = False,
    system: str | None = None, inline: InlineDrives | None = None,
) -> Step[Observation]:
    """Read a server into an ``Observation``. Only an unreadable service root is fatal (FetchError).

    ``expand``: read collections with ``$expand=.($levels=1)`` when the service root advertises
    it (ProtocolFeaturesSupported.ExpandQuery), falling back to member GETs at the first refusal.
    ``system``: the book's pin of the host system (``bmc.system``), else it is chosen by evidence
    (``systems.choose``). ``inline``: what is known of the BMC's ``$expand`` on a Storage (its
    drives inline, ``inline.py``; the fleet reader keeps one per BMC and passes it); None: the
    drives are read one by one (the synchronous connector: one host, no memory between reads)."""
    wanted = set(sections)
    started = time.monotonic()
    taken_at = dt.datetime.now(dt.UTC)
    reader = Reader()
    scene = yield from _open(reader, expand, system, managers=True)
    root, managers, chassis_docs, quirks = scene.root, scene.managers, scene.chassis, scene.quirks
    if inline is not None and expand_supported(root):
        reader.inline = inline
    system_doc = scene.choice.host or {}
    manager = systems.manager_of(system_doc, managers)
    first_chassis = systems.chassis_of(system_doc, chassis_docs)

    components: list[Component] = []
    sensors: list[Sensor] = []
    firmware: list[FirmwareItem] = []
    conditions: list[Condition] = []
    entries: list[LogEntry] = []
    cursor: str | None = None

    identity = _identity(root, system_doc, manager, chassis_docs, quirks)
    for doc in [*scene.choice.read, *chassis_docs]:
        conditions.extend(_conditions(doc))
    drives: list[tuple[Doc, str, str]] = []
    if "components" in wanted:
        for chassis in chassis_docs:
            place = placement_of(chassis, quirks)
            components.append(_component(ComponentKind.CHASSIS, chassis, str(chassis.get("Id") or ""),
                                         quirks, location=str(chassis.get("Id") or ""),
                                         extra={"placement": place} if place else {}))
        for mgr in managers:
            mac = yield from _manager_mac(reader, mgr)
            components.append(_component(ComponentKind.MANAGER, mgr, first_chassis, quirks,
                                         location=str(mgr.get("Id") or ""), firmware_key="FirmwareVersion",
                                         extra={"mac_address": mac} if mac else {}))
        components.extend((yield from _systems_parts(reader, scene, quirks, drives)))
    if "components" in wanted or "sensors" in wanted:
        for chassis in chassis_docs:
            parts, readings = yield from _chassis_parts(reader, chassis, quirks, drives, wanted)
            components.extend(parts)
            sensors.extend(readings)
    if "components" in wanted:
        components.extend(_drives(drives, quirks))
        components = _with_mainboard(components, chassis_docs, first_chassis, quirks)
    if "firmware" in wanted:
        update = yield from reader.get(link(root, "UpdateService"), "update service")
        inventory_uri = link(update, "FirmwareInventory") if update else None
        if update is not None and inventory_uri is None:
            reader.errors.append(ReadError("firmware inventory", "the BMC lists no FirmwareInventory"))
        for doc in (yield from reader.members(inventory_uri, "firmware inventory")):
            firmware.append(_firmware(doc, quirks))
    if "logs" in wanted and log_limit > 0:
        entries, cursor = yield from _logs(reader, system_doc, manager, log_limit, quirks)

    return Observation(
        host=host,
        taken_at=taken_at,
        protocol="redfish",
        identity=identity,
        components=tuple(_unique(_storage_rollups(components))),
        sensors=tuple(sensors),
        firmware=tuple(firmware),
        conditions=tuple(conditions),
        log_entries=tuple(entries),
        log_cursor=cursor,
        errors=tuple(reader.errors),
        duration_seconds=round(time.monotonic() - started, 6),
        requests=reader.requests,
        redundancy=tuple(redundancy_of(reader, chassis_docs)),
        unreadable=tuple(reader.essential),
    )


@dataclasses.dataclass(frozen=True)
class Scene:
    """What every read starts from: the service root, the managers (when read), the host system
    chosen among the systems (with its companions), the chassis that are this host's, quirks."""

    root: Doc
    managers: list[Doc]
    choice: systems.Choice
    chassis: list[Doc]
    quirks: Any


def _open(reader: Reader, expand: bool, pin: str | None, *, managers: bool) -> Step[Scene]:
    """The opening step of every read: root, systems, chassis, the host system chosen by
    evidence (managers read when needed for that), the chassis of other hosts left out.

    A service whose Systems collection is missing or unreadable may still link its systems from
    the managers (``ManagerForServers``) or the chassis (``Links.ComputerSystems``): read those."""
    from dcops.bmc.redfish import oem

    root, system_docs, chassis_docs = yield from _start(reader, expand)
    manager_docs: list[Doc] = []
    if managers or len(system_docs) > 1 or not system_docs:
        manager_docs = yield from reader.members(link(root, "Managers"), "managers")
    if not system_docs:
        system_docs = yield from _linked(reader, manager_docs, "ManagerForServers")
    if not chassis_docs:
        chassis_docs = yield from _linked(reader, manager_docs, "ManagerForChassis")
    if not system_docs:
        system_docs = yield from _linked(reader, chassis_docs, "ComputerSystems")
    choice = systems.choose(system_docs, manager_docs, pin)
    if choice.error:
        reader.errors.append(ReadError("bmc.system", choice.error))
    elif choice.host is None:
        reader.errors.append(ReadError("systems", "no computer system could be read: health unknown"))
    foreign = systems.foreign_chassis(choice, chassis_docs)
    chassis_docs = [c for c in chassis_docs if normalize(str(c.get(ODATA_ID) or "")) not in foreign]
    quirks = oem.detect(root, choice.host)
    return Scene(root, manager_docs, choice, chassis_docs, quirks)


def _start(reader: Reader, expand: bool) -> Step[tuple[Doc, list[Doc], list[Doc]]]:
    """The service root (raises ``FetchError`` without one), whether to use ``$expand``, and the
    systems and chassis."""
    root = yield from reader.get(ROOT, "service root")
    if not root:
        raise FetchError(ROOT, reader.errors[-1].reason if reader.errors else "no service root")
    reader.expand = expand and expand_supported(root)
    before = len(reader.errors)
    system_docs = yield from reader.members(link(root, "Systems"), "systems")
    chassis_docs = yield from reader.members(link(root, "Chassis"), "chassis")
    # What the server's health rests on: a system or chassis document that is there but cannot be
    # used (not JSON, truncated, a 5xx, no answer) makes the health unknown (Observation.unreadable),
    # not OK by omission. A 4xx is the BMC saying the resource is not there (real captures: Huawei
    # iBMC 3.12 answers 404 for a collection it does not have): that is what it has, not a failure.
    reader.essential = [f"{e.what}: {e.reason}" for e in reader.errors[before:] if not _CLIENT_ERROR.match(e.reason)]
    return root, system_docs, chassis_docs


def _systems_parts(reader: Reader, scene: Scene, quirks: Any,
                   drives: list[tuple[Doc, str, str]]) -> Step[list[Component]]:
    """The parts of the host system and its companions (a GPU baseboard's GPUs are the server's).
    A part two systems both list -- the same serial, or the same kind at the same location -- is
    one part (NVIDIA GB200: ``System_0`` and ``HGX_Baseboard_0`` both list CPU_0)."""
    parts: list[Component] = []
    serials: set[str] = set()  # of the systems before this one
    places: set[tuple[str, str, str]] = set()
    for index, sys_doc in enumerate(scene.choice.read):
        chassis_id = systems.chassis_of(sys_doc, scene.chassis)
        found = yield from _system_parts(reader, sys_doc, chassis_id, quirks, drives,
                                         companion=index > 0)
        kept = [c for c in found if not ((c.serial and c.serial in serials)
                                         or (c.kind.value, c.chassis, c.location) in places)]
        serials.update(c.serial for c in kept if c.serial)
        places.update((c.kind.value, c.chassis, c.location) for c in kept)
        parts.extend(kept)
    return parts


def _manager_mac(reader: Reader, manager: Doc) -> Step[str | None]:
    """The BMC's MAC address: the first of the manager's EthernetInterfaces that gives one."""
    if not link(manager, "EthernetInterfaces"):
        return None
    for nic in (yield from reader.members(link(manager, "EthernetInterfaces"), "manager ethernet interfaces")):
        mac = text(nic, "MACAddress") or text(nic, "PermanentMACAddress")
        if mac and mac.replace(":", "").replace("-", "").strip("0"):
            return mac
    return None


def _rack_unit(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*U?(\d+)\s*", value, re.I)
        return int(match.group(1)) if match and int(match.group(1)) > 0 else None
    return None


def placement_of(chassis: Doc, quirks: Any) -> dict[str, Any] | None:
    """Where the chassis says it stands: ``Location.Placement`` (Rack, RackOffset, Row, Room;
    FacilityName) and ``PostalAddress`` (Room, Building), else the vendor's own form
    (``quirks.placement``). Keys site, room, row, rack, u (None where not said); None unless it
    names a rack (a U alone, as Lenovo XCC reports by default, places nothing)."""
    location = chassis.get("Location")
    if not isinstance(location, dict):
        return None
    raw_place, raw_postal = location.get("Placement"), location.get("PostalAddress")
    place: Doc = raw_place if isinstance(raw_place, dict) else {}
    postal: Doc = raw_postal if isinstance(raw_postal, dict) else {}
    found: dict[str, Any] = {
        "site": text(place, "FacilityName") or text(postal, "Building"),
        "room": text(place, "Room") or text(postal, "Room"),
        "row": text(place, "Row"),
        "rack": text(place, "Rack"),
        "u": _rack_unit(place.get("RackOffset")) if place.get("RackOffsetUnits") in (None, "EIA_310", "OpenU")
        else None,
    }
    if not found["rack"]:
        vendor = quirks.placement(location)
        if vendor:
            found = {"site": found["site"] or text(vendor, "site"), "room": found["room"] or text(vendor, "room"),
                     "row": found["row"] or text(vendor, "row"), "rack": text(vendor, "rack"),
                     "u": _rack_unit(vendor.get("u"))}
    return found if found["rack"] else None


def _with_mainboard(components: list[Component], chassis_docs: list[Doc], system_chassis: str,
                    quirks: Any) -> list[Component]:
    """Give the mainboard the serial a vendor keeps in the Oem block of a chassis (the system's
    chassis first): on the chassis' SystemBoard assembly when it has none, else as an assembly of
    its own (``location`` Mainboard, ``extra.physical_context`` SystemBoard)."""
    from dcops.bmc.redfish import oem

    docs = sorted(chassis_docs, key=lambda d: str(d.get("Id") or "") != system_chassis)
    for doc in docs:
        raw, model = oem.board_of(doc)
        if not raw and not model:
            continue
        cid = str(doc.get("Id") or last_segment(str(doc.get(ODATA_ID, ""))))
        for index, comp in enumerate(components):
            if comp.kind is ComponentKind.ASSEMBLY and comp.chassis == cid \
                    and comp.extra.get("physical_context") == "SystemBoard":
                if comp.serial is None and clean_serial(raw):
                    components[index] = dataclasses.replace(comp, serial=clean_serial(raw), raw_serial=raw)
                return components
        source = text(doc, ODATA_ID)
        components.append(Component(
            kind=ComponentKind.ASSEMBLY, chassis=cid, location="Mainboard", serial=clean_serial(raw),
            raw_serial=raw, name="Mainboard", model=model, source=f"{source}#/Oem" if source else None,
            extra={"physical_context": "SystemBoard", "from_oem": True}))
        return components
    return components


def _linked(reader: Reader, docs: list[Doc], key: str) -> Step[list[Doc]]:
    result = []
    for doc in docs:
        for uri in links_of(doc.get("Links"), key):
            target = yield from reader.get(uri)
            if target:
                result.append(target)
    return result


def read_health(host: str, *, sensors: bool = True, drill: bool = True, expand: bool = True,
                system: str | None = None) -> Step[Observation]:
    """The cheap patrol read: power state, ``Status.Health``/``HealthRollup`` and conditions of
    the host system (and its companions) and the chassis, and (``sensors``) their sensor
    readings -- about five documents for a healthy BMC that supports ``$expand`` (service root,
    Systems and Chassis expanded, the Sensors collection expanded or Thermal + Power), seven
    without. Managers are read only when there are several systems to choose from. Only when a
    rollup is not OK (``drill``) are the parts read, so the observation names the failed
    component. ``system``: the book's pin of the host system."""
    started = time.monotonic()
    taken_at = dt.datetime.now(dt.UTC)
    reader = Reader()
    scene = yield from _open(reader, expand, system, managers=False)
    root, chassis_docs, quirks = scene.root, scene.chassis, scene.quirks
    identity = _identity(root, scene.choice.host or {}, {}, chassis_docs, quirks)
    conditions = [c for doc in [*scene.choice.read, *chassis_docs] for c in _conditions(doc)]
    readings: list[Sensor] = []
    components: list[Component] = []
    if sensors:
        for chassis in chassis_docs:
            readings.extend((yield from _chassis_sensors(reader, chassis, quirks)))
    rollups = [health_of(d, rollup=True) for d in [*scene.choice.read, *chassis_docs]]
    if drill and any(h in (Health.WARNING, Health.CRITICAL) for h in rollups):
        drives: list[tuple[Doc, str, str]] = []
        components.extend((yield from _systems_parts(reader, scene, quirks, drives)))
        for chassis in chassis_docs:
            parts, _ = yield from _chassis_parts(reader, chassis, quirks, drives, {"components"})
            components.extend(parts)
        components.extend(_drives(drives, quirks))
    return Observation(
        host=host, taken_at=taken_at, protocol="redfish", identity=identity,
        components=tuple(_unique(_storage_rollups(components))), sensors=tuple(readings),
        conditions=tuple(conditions), errors=tuple(reader.errors),
        duration_seconds=round(time.monotonic() - started, 6),
        requests=reader.requests, redundancy=tuple(redundancy_of(reader, chassis_docs)),
        unreadable=tuple(reader.essential),
    )


def redundancy_of(reader: Reader, chassis_docs: list[Doc]) -> list[Redundancy]:
    """The power redundancy groups of every chassis whose Power or PowerSubsystem this read
    fetched (no extra request): ``PowerSubsystem.PowerSupplyRedundancy`` when the chassis has it,
    else ``Power.Redundancy``."""
    groups: list[Redundancy] = []
    for chassis in chassis_docs:
        cid = str(chassis.get("Id") or last_segment(str(chassis.get(ODATA_ID, ""))))
        psub, power = _cached(reader, link(chassis, "PowerSubsystem")), _cached(reader, link(chassis, "Power"))
        found = [g for g in (psub or {}).get(POWER_REDUNDANCY) or [] if isinstance(g, dict)]
        if found:
            for index, group in enumerate(found):
                groups.append(_redundancy(group, cid, f"PowerSupplyRedundancy/{index}", POWER_REDUNDANCY_GROUP,
                                          "RedundancyType", "MinNeededInGroup", "MaxSupportedInGroup", {}))
            continue
        supplies = {str(p.get(ODATA_ID)): p for p in (power or {}).get("PowerSupplies") or [] if isinstance(p, dict)}
        for index, group in enumerate((power or {}).get(LEGACY_REDUNDANCY) or []):
            if isinstance(group, dict):
                groups.append(_redundancy(group, cid, f"Redundancy/{index}", LEGACY_REDUNDANCY_SET, "Mode",
                                          "MinNumNeeded", "MaxNumSupported", supplies))
    return groups


def _cached(reader: Reader, uri: str | None) -> Doc | None:
    return reader.cache.get(normalize(uri)) if uri else None


def _redundancy(group: Doc, chassis: str, default_name: str, members_key: str, mode_key: str, min_key: str,
                max_key: str, supplies: dict[str, Doc]) -> Redundancy:
    members = []
    for uri in links_of(group, members_key):
        inline = supplies.get(uri)
        if inline is not None and (text(inline, "MemberId") or text(inline, "Id")):
            members.append(str(text(inline, "MemberId") or text(inline, "Id")))
        else:  # ".../Power#/PowerSupplies/0" (HPE: "Power#PowerSupplies/0") -> "0"; ".../PSU1" -> "PSU1"
            members.append(uri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1])
    low, high = number(group, min_key), number(group, max_key)
    return Redundancy(
        name=_name(group) or default_name, chassis=chassis, kind="power", health=health_of(group),
        state=state_of(group), mode=text(group, mode_key), min_needed=int(low) if low is not None else None,
        max_supported=int(high) if high is not None else None, members=tuple(members),
        source=text(group, ODATA_ID))


def _chassis_sensors(reader: Reader, chassis: Doc, quirks: Any) -> Step[list[Sensor]]:
    """Sensor readings of one chassis at the least cost: the Sensors collection when the chassis
    has one (one GET with $expand), else the legacy Thermal and Power resources."""
    cid = str(chassis.get("Id") or last_segment(str(chassis.get(ODATA_ID, ""))))
    if link(chassis, "Sensors"):
        docs = yield from reader.members(link(chassis, "Sensors"), f"{cid} sensors")
        tsub = (yield from reader.get(link(chassis, "ThermalSubsystem"))) if link(chassis, "ThermalSubsystem") else None
        leaks = yield from _leak_detectors(reader, tsub, cid)
        return [_sensor(d, cid, quirks) for d in docs if not is_absent(d)] + leaks
    if not (link(chassis, "Thermal") or link(chassis, "Power")):
        return []
    _, readings = yield from _chassis_parts(reader, chassis, quirks, [], {"sensors"})
    return readings


def _unique(components: list[Component]) -> list[Component]:
    """Drop a part read twice (a drive linked from Storage and from its Chassis), and tell apart
    distinct parts that the BMC gave the same location (then the member id is appended)."""
    seen_sources: set[str] = set()
    identities: set[str] = set()
    result = []
    for comp in components:
        source = (comp.source or "").lower().rstrip("/")
        if source and source in seen_sources:
            continue
        seen_sources.add(source)
        if comp.identity in identities and comp.source:
            suffix = comp.source.rsplit("/", 1)[-1]
            comp = dataclasses.replace(comp, location=f"{comp.location}#{suffix}")
        identities.add(comp.identity)
        result.append(comp)
    return result


def identity_of(root: Doc, system: Doc, manager: Doc, chassis_docs: list[Doc], quirks: Any) -> Identity:
    """The server's identity from the service root, its system, manager and chassis documents."""
    return _identity(root, system, manager, chassis_docs, quirks)


def _identity(root: Doc, system: Doc, manager: Doc, chassis_docs: list[Doc], quirks: Any) -> Identity:
    raw_serial = text(system, "SerialNumber")
    ident = Identity(
        manufacturer=text(system, "Manufacturer"),
        model=text(system, "Model"),
        sku=clean_serial(text(system, "SKU")),
        serial=clean_serial(raw_serial),
        raw_serial=raw_serial,
        uuid=_uuid(text(system, "UUID")) or _uuid(text(root, "UUID")),
        part_number=text(system, "PartNumber"),
        asset_tag=text(system, "AssetTag"),
        bios_version=text(system, "BiosVersion"),
        bmc_model=text(manager, "Model"),
        bmc_version=text(manager, "FirmwareVersion"),
        power_state=power_state(system.get("PowerState")),
        health=health_of(system, rollup=True),
        system_id=text(system, "Id"),
        hostname=text(system, "HostName"),
        redfish_version=text(root, "RedfishVersion"),
        vendor=quirks.name,
    )
    fixed: Identity = quirks.identity(ident, root, system, chassis_docs)
    if system and (fixed.serial is None or fixed.manufacturer is None or fixed.model is None):
        # A system that does not say what it is (NVIDIA GB200 ``System_0``: no SerialNumber,
        # Manufacturer or Model): the enclosure it sits in does.
        box = systems.enclosure_of(system, chassis_docs)
        if box is not None:
            raw = fixed.raw_serial if fixed.serial else text(box, "SerialNumber")
            fixed = dataclasses.replace(
                fixed, serial=fixed.serial or clean_serial(text(box, "SerialNumber")), raw_serial=raw,
                manufacturer=fixed.manufacturer or text(box, "Manufacturer"),
                model=fixed.model or text(box, "Model"))
    return fixed


def _uuid(value: str | None) -> str | None:
    """A UUID, or None for the all-zeros / all-F placeholder some BMCs report before POST."""
    digits = (value or "").replace("-", "").lower()
    return None if not digits or set(digits) <= {"0"} or set(digits) <= {"f"} else value


def _conditions(doc: Doc) -> list[Condition]:
    status = doc.get("Status")
    result = []
    for cond in (status.get("Conditions") or []) if isinstance(status, dict) else []:
        if not isinstance(cond, dict):
            continue
        result.append(Condition(
            message=str(cond.get("Message") or cond.get("MessageId") or ""),
            severity=HEALTH.get(str(cond.get("Severity", "")).lower(), Health.UNKNOWN),
            message_id=text(cond, "MessageId"),
            origin=link(cond, "OriginOfCondition"),
            timestamp=text(cond, "Timestamp"),
        ))
    return result


def part_location(doc: Doc) -> str | None:
    """What is printed on the chassis: ``Location.PartLocation.ServiceLabel`` (or the older
    ``PhysicalLocation``), else the older per-type fields."""
    for key in ("Location", "PhysicalLocation"):
        loc = doc.get(key)
        part = loc.get("PartLocation") if isinstance(loc, dict) else None
        label = text(part, "ServiceLabel") if isinstance(part, dict) else None
        if label:
            return label
        info = text(loc, "Info") if isinstance(loc, dict) else None
        if info:
            return info
    return text(doc, "DeviceLocator") or text(doc, "Socket")


# Quirk (AMI MegaRAC, Gigabyte): unpopulated names come as the string "nil".
_NO_NAME = frozenset({"nil", "null", "n/a", "none", "unknown"})


def _name(doc: Doc) -> str | None:
    name = text(doc, "Name")
    return None if name is None or name.lower() in _NO_NAME else name


def _component(kind: ComponentKind, doc: Doc, chassis: str, quirks: Any, *, location: str | None = None,
               firmware_key: str = "FirmwareVersion", **values: Any) -> Component:
    raw_serial = text(doc, "SerialNumber")
    where = location or quirks.location(kind, doc) or part_location(doc) or _name(doc) \
        or text(doc, "MemberId") or last_segment(str(doc.get(ODATA_ID) or "?"))
    return Component(
        kind=kind,
        chassis=chassis,
        location=where,
        serial=clean_serial(raw_serial),
        raw_serial=raw_serial,
        name=_name(doc),
        model=text(doc, "Model"),
        manufacturer=text(doc, "Manufacturer"),
        part_number=text(doc, "PartNumber") or text(doc, "SparePartNumber"),
        firmware=text(doc, firmware_key),
        health=health_of(doc),
        state=state_of(doc),
        source=text(doc, ODATA_ID),
        **values,
    )




def _system_parts(reader: Reader, system: Doc, chassis: str, quirks: Any, drives: list[tuple[Doc, str, str]],
                  *, companion: bool = False) -> Step[list[Component]]:
    """Processors, memory, storage controllers and volumes of one system, and PCIe devices; its
    drives go to ``drives`` (merged with the chassis' view of the same drives by ``_drives``).
    ``companion``: a system that is not the host (a GPU baseboard): memory there without a
    capacity is the accelerators' own."""
    parts: list[Component] = []
    accelerators: set[str] = set()  # URIs of GPU/accelerator processors and of the memory they list
    for doc in (yield from reader.members(link(system, "Processors"), "processors")):
        if is_absent(doc):
            continue
        kind = PROCESSOR_KINDS.get(str(doc.get("ProcessorType") or "CPU").lower(), ComponentKind.ACCELERATOR)
        if companion and kind is ComponentKind.CPU:
            # A DPU's or baseboard's own CPU (a BlueField's Arm cores) is not a host socket; a host
            # CPU the companion lists as well (NVIDIA GB200: Grace on HGX_Baseboard_0) is the
            # host's, and merged with it by serial before this is counted.
            kind = ComponentKind.ACCELERATOR
        if kind is not ComponentKind.CPU:
            accelerators.add(normalize(str(doc.get(ODATA_ID) or "")))
            # Processor.Memory / Links.Memory: the memory this GPU owns (its HBM).
            accelerators.update(normalize(u) for u in [*links_of(doc, "Memory"), *links_of(doc.get("Links"), "Memory")])
        cores = doc.get("TotalCores")
        parts.append(_component(kind, doc, chassis, quirks, speed=number(doc, "MaxSpeedMHz"),
                                cores=cores if isinstance(cores, int) else None))
    for doc in (yield from reader.members(link(system, "Memory"), "memory")):
        if is_absent(doc):
            continue
        mib = number(doc, "CapacityMiB")
        kind = memory_kind(doc, accelerators, companion)
        parts.append(_component(kind, doc, chassis, quirks,
                                capacity_bytes=int(mib) * 1024 * 1024 if mib else None,
                                speed=number(doc, "OperatingSpeedMhz"),
                                extra=_pick(doc, "MemoryDeviceType") if kind is ComponentKind.DEVICE_MEMORY else {}))
    for storage in (yield from reader.members(link(system, "Storage"), "storage")):
        parts.extend((yield from _storage(reader, storage, chassis, quirks, drives)))
    parts.extend((yield from _pcie_devices(reader, system, chassis, quirks)))
    return parts


# MemoryDeviceType values of memory that is a device's own, never a system DIMM (Redfish
# Memory.MemoryDeviceType: HBM, HBM2, HBM2E, HBM3, GDDR*).
_DEVICE_MEMORY = re.compile(r"^(hbm|gddr)", re.I)


def memory_kind(doc: Doc, accelerators: set[str], companion: bool) -> ComponentKind:
    """DIMM, or DEVICE_MEMORY for memory that is not a system DIMM: HBM/GDDR by its
    ``MemoryDeviceType``, memory a GPU/accelerator processor links (``Links.Processors``) or
    that sits under one (``.../Processors/GPU_0/Memory``), a GPU's DRAM without a capacity, and
    any memory of a companion system (a DPU's own DRAM; NVIDIA GB200/HGX:
    ``HGX_Baseboard_0/Memory/GPU_0_DRAM_0`` has no type, no capacity). Host memory a companion
    lists as well (GB200: the Grace LPDDR5 on both systems) is merged by serial first."""
    if _DEVICE_MEMORY.match(str(doc.get("MemoryDeviceType") or "")):
        return ComponentKind.DEVICE_MEMORY
    owners = {normalize(u) for u in links_of(doc.get("Links"), "Processors")}
    if owners and owners <= accelerators:
        return ComponentKind.DEVICE_MEMORY
    uri = normalize(str(doc.get(ODATA_ID) or ""))
    if uri in accelerators or any(uri.startswith(acc + "/") for acc in accelerators):
        return ComponentKind.DEVICE_MEMORY
    if companion:
        return ComponentKind.DEVICE_MEMORY
    if re.search(r"(^|[/_])gpu", last_segment(uri)) and number(doc, "CapacityMiB") is None:
        return ComponentKind.DEVICE_MEMORY
    return ComponentKind.DIMM


def _pcie_devices(reader: Reader, owner: Doc, chassis: str, quirks: Any) -> Step[list[Component]]:
    """PCIe devices of a system or chassis with their health (``PCIeDevices``: a collection link,
    or a list of links in older schemas). A device's functions are read when the device itself
    is not plainly OK: some BMCs report a NIC's warning only on its PCIeFunction."""
    uri = link(owner, "PCIeDevices")
    if uri:
        docs = yield from reader.members(uri, f"{chassis} pcie devices")
    else:
        docs = []
        for target in links_of(owner, "PCIeDevices"):
            doc = yield from reader.get(target)
            if doc:
                docs.append(doc)
    parts: list[Component] = []
    for doc in docs:
        if is_absent(doc):
            continue
        health = worst_health(h for h in (health_of(doc), health_of(doc, rollup=True)) if h is not Health.UNKNOWN) \
            if health_of(doc) is not Health.UNKNOWN or health_of(doc, rollup=True) is not Health.UNKNOWN \
            else Health.UNKNOWN
        function_link = link(doc, "PCIeFunctions") or link(doc.get("Links"), "PCIeFunctions")
        bad: list[str] = []
        if health is not Health.OK and function_link:
            for function in (yield from reader.members(function_link, f"{chassis} pcie functions")):
                fh = health_of(function)
                if fh in (Health.WARNING, Health.CRITICAL):
                    bad.append(text(function, "Id") or "?")
                    health = worst_health((health, fh)) if health is not Health.UNKNOWN else fh
        comp = _component(ComponentKind.PCIE_DEVICE, doc, chassis, quirks,
                          extra={"functions_not_ok": bad} if bad else {})
        parts.append(dataclasses.replace(comp, health=health))
    return parts


def _storage(reader: Reader, storage: Doc, chassis: str, quirks: Any,
             drives: list[tuple[Doc, str, str]]) -> Step[list[Component]]:
    parts: list[Component] = []
    controllers = [c for c in storage.get("StorageControllers") or [] if isinstance(c, dict)]
    if not controllers and link(storage, "Controllers"):
        controllers = yield from reader.members(link(storage, "Controllers"), "storage controllers")
    storage_id = text(storage, "Id") or last_segment(str(storage.get(ODATA_ID, "")))
    drive_uris = list(dict.fromkeys(normalize(u) for u in links_of(storage, "Drives")))
    yield from _inline_drives(reader, storage)
    for index, ctrl in enumerate(controllers):
        if is_absent(ctrl):
            continue
        where = quirks.location(ComponentKind.STORAGE_CONTROLLER, ctrl) or part_location(ctrl) \
            or f"{storage_id}/{text(ctrl, 'MemberId') or text(ctrl, 'Id') or index}"
        parts.append(_component(ComponentKind.STORAGE_CONTROLLER, ctrl, chassis, quirks, location=where,
                                speed=number(ctrl, "SpeedGbps"),
                                extra={"storage_drives": tuple(drive_uris)} if drive_uris else {}))
    for uri in links_of(storage, "Drives"):
        drive = yield from reader.get(uri)
        if drive:
            drives.append((drive, chassis, "system"))
    if link(storage, "Volumes"):
        for vol in (yield from reader.members(link(storage, "Volumes"), "volumes")):
            where = f"{storage_id}/{text(vol, 'Id') or text(vol, 'Name')}"
            parts.append(_component(ComponentKind.VOLUME, vol, chassis, quirks, location=where,
                                    capacity_bytes=_int(vol.get("CapacityBytes")),
                                    extra=_pick(vol, "RAIDType", "VolumeType")))
    return parts


def _inline_drives(reader: Reader, storage: Doc) -> Step[None]:
    """Put a Storage's drives in the reader's cache from one read of the Storage with ``$expand``
    (inline.py: when, what an answer is worth, the first answer checked against a drive read in
    full); the drives it does not bring are then read one by one, as without it. Drives the
    Storage document already carries inline are taken as they are."""
    for drive in storage.get("Drives") or []:
        if isinstance(drive, dict) and len(drive) > 1 and not is_error_body(drive):
            reader.remember(drive)
    memory = reader.inline
    uri = storage.get(ODATA_ID)
    if memory is None or not memory.wanted or not isinstance(uri, str) or "#" in uri:
        return
    missing = unread(links_of(storage, "Drives"), reader.cache)
    if len(missing) < 2:  # one drive: its own GET costs what the expanded Storage would
        return
    reader.requests += 1
    try:
        answer = yield f"{uri.split('?', 1)[0]}?{EXPAND_ONE_LEVEL}"
    except FetchError as exc:
        # The Storage itself was just read: a failed expanded read of it is the option's doing
        # (options.py: Dell iDRAC9 answers 400/404/405, or 500 for a sub-resource's license).
        if may_blame_option(exc.status):
            memory.off(f"refused ({exc.reason})")
        return  # no answer (a timeout, a dropped connection): one by one now, $expand next time
    found = inlined(answer) if not is_error_body(answer) else {}
    if not any(key in found for key in missing):
        memory.off("answered without the drives inline")
        return
    if memory.state is None:
        key = next(k for k in missing if k in found)
        full = yield from reader.get(str(found[key][ODATA_ID]), quiet=True)
        if not full:
            return  # cannot be checked: not trusted either (one by one, checked next time)
        wrong = mismatch(found[key], full)
        if wrong is not None:
            memory.off(f"{found[key][ODATA_ID]}: {wrong} differs from the drive read on its own")
            return
        memory.state = True
    for key, drive in found.items():
        reader.cache.setdefault(key, drive)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pick(doc: Doc, *keys: str) -> dict[str, Any]:
    return {k: doc[k] for k in keys if doc.get(k) is not None and not isinstance(doc.get(k), (dict, list))}


def _drive(drive: Doc, chassis: str, quirks: Any) -> Component:
    owner = links_of(drive.get("Links"), "Chassis")
    return _component(ComponentKind.DRIVE, drive, last_segment(owner[0]) if owner else chassis, quirks,
                      firmware_key="Revision", capacity_bytes=_int(drive.get("CapacityBytes")),
                      speed=number(drive, "CapableSpeedGbs"),
                      extra=_pick(drive, "MediaType", "Protocol", "PredictedMediaLifeLeftPercent",
                                  "FailurePredicted", "Revision"))


def _chassis_parts(reader: Reader, chassis: Doc, quirks: Any, drives: list[tuple[Doc, str, str]],
                   wanted: set[str]) -> Step[tuple[list[Component], list[Sensor]]]:
    cid = str(chassis.get("Id") or last_segment(str(chassis.get(ODATA_ID, ""))))
    parts: list[Component] = []
    legacy: list[Sensor] = []
    modern: list[Sensor] = []
    want_parts = "components" in wanted
    want_sensors = "sensors" in wanted
    thermal = yield from reader.get(link(chassis, "Thermal"))
    power = yield from reader.get(link(chassis, "Power"))
    tsub = yield from reader.get(link(chassis, "ThermalSubsystem"))
    psub = yield from reader.get(link(chassis, "PowerSubsystem"))

    new_fans = (yield from reader.members(link(tsub, "Fans"))) if tsub and want_parts else []
    new_psus = (yield from reader.members(link(psub, "PowerSupplies"))) if psub and want_parts else []
    if want_parts:
        fans = new_fans or [f for f in (thermal or {}).get("Fans") or [] if isinstance(f, dict)]
        psus = new_psus or [p for p in (power or {}).get("PowerSupplies") or [] if isinstance(p, dict)]
        for fan in fans:
            if not is_absent(fan):
                parts.append(_component(ComponentKind.FAN, fan, cid, quirks))
        for psu in psus:
            if not is_absent(psu):
                parts.append(_component(ComponentKind.PSU, psu, cid, quirks,
                                        extra=_pick(psu, "PowerCapacityWatts", "PowerSupplyType")))
        for uri in links_of(chassis.get("Links"), "Drives"):
            drive = yield from reader.get(uri)
            if drive:
                drives.append((drive, cid, "chassis"))
        if link(chassis, "Drives"):
            for drive in (yield from reader.members(link(chassis, "Drives"), f"{cid} drives")):
                drives.append((drive, cid, "chassis"))
        for nic in (yield from reader.members(link(chassis, "NetworkAdapters"), f"{cid} network adapters")):
            if is_absent(nic):
                continue
            ctrls = [c for c in nic.get("Controllers") or [] if isinstance(c, dict)]
            fw = text(ctrls[0], "FirmwarePackageVersion") if ctrls else None
            parts.append(_component(ComponentKind.NIC, nic, cid, quirks, extra={"firmware_package": fw}
                                    if fw else {}))
        parts.extend((yield from _pcie_devices(reader, chassis, cid, quirks)))
        assembly = yield from reader.get(link(chassis, "Assembly"))
        for asm in (assembly or {}).get("Assemblies") or []:
            if isinstance(asm, dict) and not is_absent(asm):
                where = part_location(asm) or text(asm, "Name") or text(asm, "MemberId") or "?"
                context = text(asm, "PhysicalContext")
                parts.append(_component(ComponentKind.ASSEMBLY, asm, cid, quirks, location=where,
                                        firmware_key="Version",
                                        extra={"physical_context": context} if context else {}))
    if want_sensors:
        for temp in (thermal or {}).get("Temperatures") or []:
            if isinstance(temp, dict) and not is_absent(temp):
                legacy.append(_legacy_sensor(SensorKind.TEMPERATURE, temp, cid, "ReadingCelsius", "Cel"))
        for fan in (thermal or {}).get("Fans") or []:
            if isinstance(fan, dict) and not is_absent(fan):
                units = text(fan, "ReadingUnits") or "RPM"
                legacy.append(_legacy_sensor(SensorKind.FAN, fan, cid, "Reading", units, name_key="FanName"))
        for volt in (power or {}).get("Voltages") or []:
            if isinstance(volt, dict) and not is_absent(volt):
                legacy.append(_legacy_sensor(SensorKind.VOLTAGE, volt, cid, "ReadingVolts", "V"))
        for ctl in (power or {}).get("PowerControl") or []:
            if isinstance(ctl, dict) and number(ctl, "PowerConsumedWatts") is not None:
                legacy.append(_legacy_sensor(SensorKind.POWER, ctl, cid, "PowerConsumedWatts", "W"))
        for doc in (yield from reader.members(link(chassis, "Sensors"), f"{cid} sensors")):
            if not is_absent(doc):
                modern.append(_sensor(doc, cid, quirks))
        modern.extend((yield from _leak_detectors(reader, tsub, cid)))
    covered = {s.kind for s in modern}
    sensors = modern + [s for s in legacy if s.kind not in covered]
    return parts, sensors


def _leak_detectors(reader: Reader, tsub: Doc | None, chassis: str) -> Step[list[Sensor]]:
    """Leak detectors of a chassis (``ThermalSubsystem/LeakDetection/LeakDetectors``, Redfish
    2022.3) as state sensors: their health is ``Status.Health``, else ``DetectorState``.

    Real capture (NVIDIA GB200 NVL, OpenBMC GB200Nvl-24.12-8): a cold-plate detector is Critical
    while LeakDetection, ThermalSubsystem and the chassis all roll up OK; only the detector says it."""
    if not tsub or not link(tsub, "LeakDetection"):
        return []
    detection = yield from reader.get(link(tsub, "LeakDetection"))
    if not detection:
        return []
    found = []
    for doc in (yield from reader.members(link(detection, "LeakDetectors"), f"{chassis} leak detectors")):
        if is_absent(doc):
            continue
        health = health_of(doc)
        if health is Health.UNKNOWN:
            health = HEALTH.get(str(doc.get("DetectorState") or "").lower(), Health.UNKNOWN)
        found.append(Sensor(kind=SensorKind.LEAK, name=text(doc, "Name") or text(doc, "Id") or "?", chassis=chassis,
                            health=health, state=text(doc, "DetectorState") or state_of(doc),
                            component=text(doc, "LeakDetectorType"), source=text(doc, ODATA_ID)))
    return found


def _drives(views: list[tuple[Doc, str, str]], quirks: Any) -> list[Component]:
    """One component per physical drive, from every view of it.

    The same drive is often linked from ``Systems/../Storage/../Drives`` and from
    ``Chassis/../Drives`` under different URIs (Dell, Lenovo, HPE iLO 6; NVIDIA GB200), or the
    same link twice: drives are one when their URI is the same, or when two *different views*
    (system storage, chassis) give the same serial, or the same ``ServiceLabel``/``Location``
    with no conflicting serial. A drive one view calls ``Absent`` while the others give neither
    serial nor model is absent: an empty bay, not a part. The first view read (the storage
    controller's) is the one kept."""
    groups: list[list[tuple[Doc, str, str]]] = []
    by_uri: dict[str, int] = {}
    by_serial: dict[str, int] = {}
    by_label: dict[str, int] = {}
    for view in views:
        doc = view[0]
        uri = normalize(str(doc.get(ODATA_ID) or ""))
        serial = clean_serial(text(doc, "SerialNumber"))
        label = part_location(doc)
        index = by_uri.get(uri) if uri else None
        if index is None and serial and serial in by_serial:
            index = by_serial[serial]
        if index is None and label and label.lower() in by_label:
            other = by_label[label.lower()]
            serials = {clean_serial(text(d, "SerialNumber")) for d, _, _ in groups[other]} - {None}
            origins = {o for _, _, o in groups[other]}
            if (not serial or not serials or serial in serials) and view[2] not in origins:
                index = other
        if index is None:
            index = len(groups)
            groups.append([])
        groups[index].append(view)
        if uri:
            by_uri.setdefault(uri, index)
        if serial:
            by_serial.setdefault(serial, index)
        if label:
            by_label.setdefault(label.lower(), index)
    parts = []
    for group in groups:
        present = [v for v in group if not is_absent(v[0])]
        if not present:
            continue
        if len(present) < len(group) and not any(clean_serial(text(d, "SerialNumber")) or text(d, "Model")
                                                 for d, _, _ in present):
            continue  # Absent in one view, nothing to show it exists in the other: an empty bay
        doc, chassis, _ = present[0]
        parts.append(_drive(doc, chassis, quirks))
    return parts


def _storage_rollups(components: list[Component]) -> list[Component]:
    """Parts whose ill health is another part's (one fault, one incident; ``extra.health_from``
    names that part, and patrol makes the event a rollup of it):

    * a storage controller whose drive failed: NVMe makes this common, each drive has its own
      controller and the controller's Status rolls the drive's failure up (Dell iDRAC, Lenovo
      XCC, NVIDIA OpenBMC);
    * a PCIe device that is a part reporting its own ill health (same serial or name)."""
    bad_drives = {normalize(c.source): c for c in components if c.kind is ComponentKind.DRIVE and c.source
                  and c.health in (Health.WARNING, Health.CRITICAL)}
    result = []
    for comp in components:
        if comp.kind is ComponentKind.STORAGE_CONTROLLER and "storage_drives" in comp.extra:
            own = comp.extra["storage_drives"]
            extra = {k: v for k, v in comp.extra.items() if k != "storage_drives"}  # a reading aid only
            culprits = [bad_drives[u] for u in own if u in bad_drives]
            if comp.health in (Health.WARNING, Health.CRITICAL) \
                    and any(d.health.severity >= comp.health.severity for d in culprits):
                extra["health_from"] = culprits[0].location
            comp = dataclasses.replace(comp, extra=extra)
        elif comp.kind is ComponentKind.PCIE_DEVICE and comp.health in (Health.WARNING, Health.CRITICAL):
            # The PCIe view of a part that reports its own ill health (a GPU's Processor, a NIC's
            # adapter, a drive: the same serial or name) is that part's fault, not another one.
            twin = next((c for c in components if c.kind is not ComponentKind.PCIE_DEVICE
                         and c.health.severity >= comp.health.severity and c.health is not Health.UNKNOWN
                         and ((comp.serial and c.serial == comp.serial) or (comp.name and c.name == comp.name))),
                        None)
            if twin is not None:
                comp = dataclasses.replace(comp, extra={**comp.extra, "health_from": twin.location})
        result.append(comp)
    return result


# The threshold keys in ``Thresholds``' field order, so that a sensor's limits are built in one
# pass without a dict per sensor (a steady patrol round reads a dozen of these per BMC).
_LEGACY_LIMIT_KEYS = tuple(LEGACY_THRESHOLDS[f.name] for f in dataclasses.fields(Thresholds))
_SENSOR_LIMIT_KEYS = tuple(SENSOR_THRESHOLDS[f.name] for f in dataclasses.fields(Thresholds))


# Sensors already built (``memo.Memo``): a Sensor is a frozen value and a pure function of the
# sensor's document and of what the caller says around it (kind, chassis, vendor...), so the same
# sensor of the same model with the same reading -- on many BMCs, minute after minute -- is built
# once. The key is that head and the document's exact JSON text (``jsonbody.fingerprint``): every
# member counts, a vendor hook reading Oem included, and values Python calls equal but the parse
# does not (1, 1.0 and true; 0.0 and -0.0) make different keys. Cheaper than picking the inputs
# out one by one (~0.5 us a sensor against ~3 us, bench_parse), and it cannot forget one.
SENSORS: Memo[Sensor] = Memo(limit=16_384)  # ~1.4-1.8 KB an entry: at most ~30 MB, whatever the fleet


def _memo_key(head: tuple[Any, ...], doc: Doc) -> tuple[tuple[Any, ...], bytes] | None:
    text = fingerprint(doc)
    return None if text is None else (head, text)


def _legacy_sensor(kind: SensorKind, doc: Doc, chassis: str, reading_key: str, units: str,
                   name_key: str = "Name") -> Sensor:
    key = _memo_key((kind, chassis, reading_key, units, name_key), doc)
    found = SENSORS.lookup(key) if key is not None else None
    if found is not None:
        return found
    sensor = _build_legacy_sensor(kind, doc, chassis, reading_key, units, name_key)
    return SENSORS.store(key, sensor) if key is not None else sensor


def _build_legacy_sensor(kind: SensorKind, doc: Doc, chassis: str, reading_key: str, units: str,
                         name_key: str) -> Sensor:
    reading, (health, state) = as_number(doc.get(reading_key)), health_and_state(doc)
    # A key the sensor does not have is no threshold (as_number(None)): most have two of the six.
    limits, note = _judged(Thresholds(*[as_number(doc[key]) if key in doc else None for key in _LEGACY_LIMIT_KEYS]),
                           reading, kind, units, health)
    return Sensor(
        kind=kind,
        name=text(doc, "Name") or (name_key != "Name" and text(doc, name_key)) or text(doc, "MemberId") or "?",
        chassis=chassis,
        reading=reading,
        units=units,
        thresholds=limits,
        health=health,
        state=state,
        component=text(doc, "PhysicalContext"),
        source=text(doc, ODATA_ID),
        note=note,
    )


def _judged(limits: Thresholds, reading: float | None, kind: SensorKind, units: str | None, health: Health,
            counter: bool = False) -> tuple[Thresholds, str | None]:
    """A sensor's thresholds with the placeholders set aside (``observation.placeholder_limits``),
    and its note: what was set aside, and whether the reading is past a threshold the BMC itself
    does not call a problem (patrol does not page on its own verdict against the BMC's OK)."""
    if limits.is_empty():
        return limits, None  # nothing to set aside, nothing to be past
    limits, note = placeholder_limits(limits, reading, kind, units, health, counter)
    if health is Health.OK and reading is not None:
        crossed = crossing_of(limits, reading, kind, health)
        if crossed:
            name, limit = crossed
            said = f"reading {reading:g} is past {name.replace('_', ' ')} {limit:g} but the BMC reports OK"
            note = f"{note}; {said}" if note else said
    return limits, note


def sensor_kind(doc: Doc) -> SensorKind:
    """Kind from ``ReadingType``, else from ``ReadingUnits``; OTHER when neither says."""
    reading_type = text(doc, "ReadingType")
    if reading_type:
        return READING_TYPES.get(reading_type.lower(), SensorKind.OTHER)
    units = text(doc, "ReadingUnits")
    return UNITS.get(units.lower(), SensorKind.OTHER) if units else SensorKind.OTHER


def _sensor(doc: Doc, chassis: str, quirks: Any) -> Sensor:
    key = _memo_key((quirks, chassis), doc)
    found = SENSORS.lookup(key) if key is not None else None
    if found is not None:
        return found
    sensor = _build_sensor(doc, chassis, quirks)
    return SENSORS.store(key, sensor) if key is not None else sensor


def _build_sensor(doc: Doc, chassis: str, quirks: Any) -> Sensor:
    kind: SensorKind = quirks.sensor_kind(doc) or sensor_kind(doc)
    raw_limits = doc.get("Thresholds")
    values = Thresholds(*[number(raw_limits[key], "Reading") if key in raw_limits else None
                          for key in _SENSOR_LIMIT_KEYS]) if isinstance(raw_limits, dict) and raw_limits else Thresholds()
    # SensorResetTime: the reading counts from a reset (a cumulative counter, Sensor.v1_x).
    counter = "SensorResetTime" in doc or str(doc.get("ReadingType") or "").lower().startswith("energy")
    reading, (health, state) = number(doc, "Reading"), health_and_state(doc)
    units = quirks.sensor_units(doc) or text(doc, "ReadingUnits")
    bounds, note = _judged(values, reading, kind, units, health, counter)
    return Sensor(
        kind=kind,
        name=text(doc, "Name") or text(doc, "Id") or "?",
        chassis=chassis,
        reading=reading,
        units=units,
        thresholds=bounds,
        health=health,
        state=state,
        component=text(doc, "PhysicalContext"),
        source=text(doc, ODATA_ID),
        note=note,
    )


def _firmware(doc: Doc, quirks: Any) -> FirmwareItem:
    related = links_of(doc, "RelatedItem")
    item = FirmwareItem(
        name=text(doc, "Name") or text(doc, "Id") or "?",
        version=text(doc, "Version"),
        id=text(doc, "Id"),
        component=last_segment(related[0]) if related else None,
        updateable=doc.get("Updateable") if isinstance(doc.get("Updateable"), bool) else None,
        health=health_of(doc),
        state=state_of(doc),
        software_id=text(doc, "SoftwareId"),
        release_date=text(doc, "ReleaseDate"),
    )
    fixed: FirmwareItem = quirks.firmware(item, doc)
    return fixed




def _logs(reader: Reader, system: Doc, manager: Doc, limit: int, quirks: Any) -> Step[tuple[list[LogEntry], str | None]]:
    """The newest ``limit`` entries of the system's first log service (the SEL on most BMCs), oldest
    first.

    Only the Entries collection is read, plus at most ``limit`` member documents when the BMC
    links rather than inlines them: an HPE IML has hundreds of entries. Entries are ordered by id
    (by ``Created`` where ids are not numbers) before the newest are taken: iDRAC lists the newest
    first. When the first page does not hold the whole log (``Members@odata.count`` says more) and
    does not list newest first, the last page is asked for with ``$skip``.
    """
    services = yield from reader.members(link(system, "LogServices"), "log services")
    if not services or quirks.pick_log_service(services) is None:
        # Dell, Lenovo and others keep the SEL under the Manager rather than the System.
        services += yield from reader.members(link(manager, "LogServices"), "manager log services")
    if not services:
        return [], None
    service = quirks.pick_log_service(services) or services[0]
    log_name = text(service, "Id") or "log"
    uri = link(service, "Entries")
    collection = yield from reader.get(uri, f"{log_name} entries")
    members = [m for m in (collection or {}).get(MEMBERS) or [] if isinstance(m, dict)]
    count = (collection or {}).get(MEMBERS_COUNT)
    newest_first = len(members) > 1 and record_order(_member_id(members[0])) > record_order(_member_id(members[-1]))
    if uri and isinstance(count, int) and count > len(members) and not newest_first:
        members += (yield from _last_page(reader, uri, max(0, count - limit)))
    members = _ordered(members)
    entries: list[LogEntry] = []
    for member in members[-limit:] if len(members) > limit else members:
        doc = member if len(member) > 1 else (yield from reader.get(member.get(ODATA_ID)))
        if not doc:
            continue
        entries.append(LogEntry(
            id=text(doc, "Id") or "?",
            log=log_name,
            created=text(doc, "Created"),
            severity=SEVERITY.get(str(doc.get("Severity") or "").lower(), Health.UNKNOWN),
            message=text(doc, "Message") or "",
            message_id=text(doc, "MessageId"),
            sensor=text(doc, "SensorType"),
        ))
    cursor = max((e.id for e in entries), key=record_order, default=None)
    return entries, cursor


def _member_id(member: Doc) -> str:
    return text(member, "Id") or last_segment(str(member.get(ODATA_ID, "")))


def _last_page(reader: Reader, uri: str, skip: int) -> Step[list[Doc]]:
    """The entries from ``skip`` on; none when the BMC refuses ``$skip`` (the first page stays)."""
    try:
        reader.requests += 1
        page = yield f"{uri}?$skip={skip}"
    except FetchError:
        return []
    return [m for m in (page or {}).get(MEMBERS) or [] if isinstance(m, dict)]


def _ordered(members: list[Doc]) -> list[Doc]:
    """Log members oldest first, each once: by numeric id, else by creation time."""
    unique = list({_member_id(m): m for m in members}.values())
    if all(_member_id(m).isdigit() for m in unique):
        return sorted(unique, key=lambda m: int(_member_id(m)))
    return sorted(unique, key=lambda m: (_created(m), record_order(_member_id(m))))


def _created(member: Doc) -> float:
    value = text(member, "Created")
    if value:
        try:
            stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).timestamp()
        except ValueError:
            pass
    return 0.0
