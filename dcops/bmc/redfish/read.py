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

from dcops.bmc.redfish.docs import (
    Doc,
    FetchError,
    Reader,
    Step,
    expand_supported,
    health_of,
    is_absent,
    last_segment,
    link,
    links_of,
    normalize,
    number,
    power_state,
    state_of,
    text,
)
from dcops.bmc.redfish.keys import (
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
)


def read_observation(
    host: str, *, sections: Iterable[str] = SECTIONS, log_limit: int = 20, expand: bool = False,
) -> Step[Observation]:
    """Read a server into an ``Observation``. Only an unreadable service root is fatal (FetchError).

    ``expand``: read collections with ``$expand=.($levels=1)`` when the service root advertises
    it (ProtocolFeaturesSupported.ExpandQuery), falling back to member GETs at the first refusal."""
    from dcops.bmc.redfish import oem

    wanted = set(sections)
    started = time.monotonic()
    taken_at = dt.datetime.now(dt.UTC)
    reader = Reader()
    root, systems, chassis_docs = yield from _start(reader, expand)
    managers = yield from reader.members(link(root, "Managers"), "managers")
    # A BMC whose Systems or Chassis collection cannot be read may still link its servers and
    # chassis from the manager (ManagerForServers/ManagerForChassis): read those rather than nothing.
    if not systems:
        systems = yield from _linked(reader, managers, "ManagerForServers")
    if not chassis_docs:
        chassis_docs = yield from _linked(reader, managers, "ManagerForChassis")
    systems.sort(key=lambda d: str(d.get("Id", "")))
    quirks = oem.detect(root, systems[0] if systems else None)
    system = systems[0] if systems else {}
    manager = managers[0] if managers else {}
    first_chassis = _system_chassis_id(system, chassis_docs)

    components: list[Component] = []
    sensors: list[Sensor] = []
    firmware: list[FirmwareItem] = []
    conditions: list[Condition] = []
    entries: list[LogEntry] = []
    cursor: str | None = None

    identity = _identity(root, system, manager, chassis_docs, quirks)
    for doc in [*systems, *chassis_docs]:
        conditions.extend(_conditions(doc))
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
        for sys_doc in systems:
            chassis_id = _system_chassis_id(sys_doc, chassis_docs)
            components.extend((yield from _system_parts(reader, sys_doc, chassis_id, quirks)))
    if "components" in wanted or "sensors" in wanted:
        seen_drives = {c.source and normalize(c.source) for c in components if c.kind is ComponentKind.DRIVE}
        for chassis in chassis_docs:
            parts, readings = yield from _chassis_parts(reader, chassis, quirks, seen_drives, wanted)
            components.extend(parts)
            sensors.extend(readings)
    if "components" in wanted:
        components = _with_mainboard(components, chassis_docs, first_chassis, quirks)
    if "firmware" in wanted:
        update = yield from reader.get(link(root, "UpdateService"), "update service")
        inventory_uri = link(update, "FirmwareInventory") if update else None
        if update is not None and inventory_uri is None:
            reader.errors.append(ReadError("firmware inventory", "the BMC lists no FirmwareInventory"))
        for doc in (yield from reader.members(inventory_uri, "firmware inventory")):
            firmware.append(_firmware(doc, quirks))
    if "logs" in wanted and log_limit > 0:
        entries, cursor = yield from _logs(reader, system, manager, log_limit, quirks)

    return Observation(
        host=host,
        taken_at=taken_at,
        protocol="redfish",
        identity=identity,
        components=tuple(_unique(components)),
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


def _start(reader: Reader, expand: bool) -> Step[tuple[Doc, list[Doc], list[Doc]]]:
    """Where every read begins: the service root (raises ``FetchError`` without one), whether to
    use ``$expand``, and the systems and chassis."""
    root = yield from reader.get(ROOT, "service root")
    if not root:
        raise FetchError(ROOT, reader.errors[-1].reason if reader.errors else "no service root")
    reader.expand = expand and expand_supported(root)
    before = len(reader.errors)
    systems = yield from reader.members(link(root, "Systems"), "systems")
    chassis_docs = yield from reader.members(link(root, "Chassis"), "chassis")
    # What the server's health rests on: a system or chassis document that is there but cannot be
    # used (not JSON, truncated, a 5xx, no answer) makes the health unknown (Observation.unreadable),
    # not OK by omission. A 4xx is the BMC saying the resource is not there (real captures: Huawei
    # iBMC 3.12 answers 404 for a collection it does not have): that is what it has, not a failure.
    reader.essential = [f"{e.what}: {e.reason}" for e in reader.errors[before:] if not e.reason.startswith("HTTP 4")]
    return root, systems, chassis_docs


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


def read_health(host: str, *, sensors: bool = True, drill: bool = True, expand: bool = True) -> Step[Observation]:
    """The cheap patrol read: power state, ``Status.Health``/``HealthRollup`` and conditions of
    the systems and chassis, and (``sensors``) their sensor readings -- about five documents for a
    healthy BMC that supports ``$expand`` (service root, Systems and Chassis expanded, the Sensors
    collection expanded or Thermal + Power), seven without. Managers are not read (identity has
    no BMC model/version). Only when a rollup is not OK (``drill``) are the parts read, so the
    observation names the failed component."""
    from dcops.bmc.redfish import oem

    started = time.monotonic()
    taken_at = dt.datetime.now(dt.UTC)
    reader = Reader()
    root, systems, chassis_docs = yield from _start(reader, expand)
    systems.sort(key=lambda d: str(d.get("Id", "")))
    quirks = oem.detect(root, systems[0] if systems else None)
    system = systems[0] if systems else {}
    identity = _identity(root, system, {}, chassis_docs, quirks)
    conditions = [c for doc in [*systems, *chassis_docs] for c in _conditions(doc)]
    readings: list[Sensor] = []
    components: list[Component] = []
    if sensors:
        for chassis in chassis_docs:
            readings.extend((yield from _chassis_sensors(reader, chassis, quirks)))
    rollups = [health_of(d, rollup=True) for d in [*systems, *chassis_docs]]
    if drill and any(h in (Health.WARNING, Health.CRITICAL) for h in rollups):
        for sys_doc in systems:
            chassis_id = _system_chassis_id(sys_doc, chassis_docs)
            components.extend((yield from _system_parts(reader, sys_doc, chassis_id, quirks)))
        seen = {c.source and normalize(c.source) for c in components if c.kind is ComponentKind.DRIVE}
        for chassis in chassis_docs:
            parts, _ = yield from _chassis_parts(reader, chassis, quirks, seen, {"components"})
            components.extend(parts)
    return Observation(
        host=host, taken_at=taken_at, protocol="redfish", identity=identity,
        components=tuple(_unique(components)), sensors=tuple(readings), conditions=tuple(conditions),
        errors=tuple(reader.errors), duration_seconds=round(time.monotonic() - started, 6),
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
        return [_sensor(d, cid, quirks) for d in docs if not is_absent(d)]
    if not (link(chassis, "Thermal") or link(chassis, "Power")):
        return []
    _, readings = yield from _chassis_parts(reader, chassis, quirks, set(), {"sensors"})
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


def _system_chassis_id(system: Doc, chassis_docs: list[Doc]) -> str:
    linked = links_of(system.get("Links") if system else None, "Chassis")
    if linked:
        return last_segment(linked[0])
    return str(chassis_docs[0].get("Id") or "") if chassis_docs else ""


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
        uuid=text(system, "UUID") or text(root, "UUID"),
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
    return fixed


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




def _system_parts(reader: Reader, system: Doc, chassis: str, quirks: Any) -> Step[list[Component]]:
    parts: list[Component] = []
    for doc in (yield from reader.members(link(system, "Processors"), "processors")):
        if is_absent(doc):
            continue
        kind = PROCESSOR_KINDS.get(str(doc.get("ProcessorType") or "CPU").lower(), ComponentKind.ACCELERATOR)
        cores = doc.get("TotalCores")
        parts.append(_component(kind, doc, chassis, quirks, speed=number(doc, "MaxSpeedMHz"),
                                cores=cores if isinstance(cores, int) else None))
    for doc in (yield from reader.members(link(system, "Memory"), "memory")):
        if is_absent(doc):
            continue
        mib = number(doc, "CapacityMiB")
        parts.append(_component(ComponentKind.DIMM, doc, chassis, quirks,
                                capacity_bytes=int(mib) * 1024 * 1024 if mib else None,
                                speed=number(doc, "OperatingSpeedMhz")))
    for storage in (yield from reader.members(link(system, "Storage"), "storage")):
        parts.extend((yield from _storage(reader, storage, chassis, quirks)))
    return parts


def _storage(reader: Reader, storage: Doc, chassis: str, quirks: Any) -> Step[list[Component]]:
    parts: list[Component] = []
    controllers = [c for c in storage.get("StorageControllers") or [] if isinstance(c, dict)]
    if not controllers and link(storage, "Controllers"):
        controllers = yield from reader.members(link(storage, "Controllers"), "storage controllers")
    storage_id = text(storage, "Id") or last_segment(str(storage.get(ODATA_ID, "")))
    for index, ctrl in enumerate(controllers):
        if is_absent(ctrl):
            continue
        where = quirks.location(ComponentKind.STORAGE_CONTROLLER, ctrl) or part_location(ctrl) \
            or f"{storage_id}/{text(ctrl, 'MemberId') or text(ctrl, 'Id') or index}"
        parts.append(_component(ComponentKind.STORAGE_CONTROLLER, ctrl, chassis, quirks, location=where,
                                speed=number(ctrl, "SpeedGbps")))
    for uri in links_of(storage, "Drives"):
        drive = yield from reader.get(uri)
        if drive and not is_absent(drive):
            parts.append(_drive(drive, chassis, quirks))
    if link(storage, "Volumes"):
        for vol in (yield from reader.members(link(storage, "Volumes"), "volumes")):
            where = f"{storage_id}/{text(vol, 'Id') or text(vol, 'Name')}"
            parts.append(_component(ComponentKind.VOLUME, vol, chassis, quirks, location=where,
                                    capacity_bytes=_int(vol.get("CapacityBytes")),
                                    extra=_pick(vol, "RAIDType", "VolumeType")))
    return parts


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


def _chassis_parts(reader: Reader, chassis: Doc, quirks: Any, seen_drives: set[Any],
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
        drive_uris = links_of(chassis.get("Links"), "Drives")
        if link(chassis, "Drives"):
            coll = yield from reader.get(link(chassis, "Drives"))
            drive_uris += [m[ODATA_ID] for m in (coll or {}).get(MEMBERS) or [] if isinstance(m, dict)
                           and ODATA_ID in m]
        for uri in drive_uris:
            if normalize(uri) in seen_drives:
                continue
            seen_drives.add(normalize(uri))
            drive = yield from reader.get(uri)
            if drive and not is_absent(drive):
                parts.append(_drive(drive, cid, quirks))
        for nic in (yield from reader.members(link(chassis, "NetworkAdapters"), f"{cid} network adapters")):
            if is_absent(nic):
                continue
            ctrls = [c for c in nic.get("Controllers") or [] if isinstance(c, dict)]
            fw = text(ctrls[0], "FirmwarePackageVersion") if ctrls else None
            parts.append(_component(ComponentKind.NIC, nic, cid, quirks, extra={"firmware_package": fw}
                                    if fw else {}))
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
    covered = {s.kind for s in modern}
    sensors = modern + [s for s in legacy if s.kind not in covered]
    return parts, sensors


def _legacy_sensor(kind: SensorKind, doc: Doc, chassis: str, reading_key: str, units: str,
                   name_key: str = "Name") -> Sensor:
    values = {k: number(doc, v) for k, v in LEGACY_THRESHOLDS.items()}
    return Sensor(
        kind=kind,
        name=text(doc, "Name") or text(doc, name_key) or text(doc, "MemberId") or "?",
        chassis=chassis,
        reading=number(doc, reading_key),
        units=units,
        thresholds=Thresholds(**values),
        health=health_of(doc),
        state=state_of(doc),
        component=text(doc, "PhysicalContext"),
        source=text(doc, ODATA_ID),
    )


def sensor_kind(doc: Doc) -> SensorKind:
    """Kind from ``ReadingType``, else from ``ReadingUnits``; OTHER when neither says."""
    reading_type = text(doc, "ReadingType")
    if reading_type:
        return READING_TYPES.get(reading_type.lower(), SensorKind.OTHER)
    units = text(doc, "ReadingUnits")
    return UNITS.get(units.lower(), SensorKind.OTHER) if units else SensorKind.OTHER


def _sensor(doc: Doc, chassis: str, quirks: Any) -> Sensor:
    kind: SensorKind = quirks.sensor_kind(doc) or sensor_kind(doc)
    raw_limits = doc.get("Thresholds")
    limits: Doc = raw_limits if isinstance(raw_limits, dict) else {}
    values = {k: number(limits.get(v), "Reading") for k, v in SENSOR_THRESHOLDS.items()}
    return Sensor(
        kind=kind,
        name=text(doc, "Name") or text(doc, "Id") or "?",
        chassis=chassis,
        reading=number(doc, "Reading"),
        units=quirks.sensor_units(doc) or text(doc, "ReadingUnits"),
        thresholds=Thresholds(**values),
        health=health_of(doc),
        state=state_of(doc),
        component=text(doc, "PhysicalContext"),
        source=text(doc, ODATA_ID),
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
