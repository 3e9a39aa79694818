"""Asset snapshots: what one collection learnt about one server, in a compact, storable form.

An ``AssetSnapshot`` is derived from an ``Observation`` (``snapshot_from_observation``): the BMC
layer reports the rack placement (chassis ``extra["placement"]``), the mainboard (an assembly with
``extra["physical_context"] == "SystemBoard"``, OEM board serials included) and the BMC's MAC
(manager ``extra["mac_address"]``). It keeps only what asset management needs: identity keys,
placement, the parts with their serials, a hardware summary and the firmware versions.

A part's ``slot`` is ``chassis/location`` -- where it sits, never a list index -- so two snapshots of
the same server can be compared slot by slot (see ``dcops.assets.history``).

Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from dcops.observation import Component, ComponentKind, Observation, clean_serial


class PartKind(StrEnum):
    """The kinds of part asset management tracks (fans, volumes and other assemblies are left out:
    fans rarely carry serials, volumes are not parts)."""

    CHASSIS = "chassis"
    MAINBOARD = "mainboard"
    CPU = "cpu"
    DIMM = "dimm"
    STORAGE_CONTROLLER = "storage_controller"
    DRIVE = "drive"
    NIC = "nic"
    PSU = "psu"
    GPU = "gpu"
    ACCELERATOR = "accelerator"
    BMC = "bmc"


_FROM_COMPONENT: dict[ComponentKind, PartKind] = {
    ComponentKind.CHASSIS: PartKind.CHASSIS,
    ComponentKind.CPU: PartKind.CPU,
    ComponentKind.DIMM: PartKind.DIMM,
    ComponentKind.STORAGE_CONTROLLER: PartKind.STORAGE_CONTROLLER,
    ComponentKind.DRIVE: PartKind.DRIVE,
    ComponentKind.NIC: PartKind.NIC,
    ComponentKind.PSU: PartKind.PSU,
    ComponentKind.GPU: PartKind.GPU,
    ComponentKind.ACCELERATOR: PartKind.ACCELERATOR,
    ComponentKind.MANAGER: PartKind.BMC,
}

# An assembly is the mainboard when the BMC says PhysicalContext=SystemBoard, or when its name says
# so (Dell: "SystemPlanar"; IPMI FRU: "system board"). A GPU baseboard is not the mainboard.
_BOARD_WORDS = re.compile(r"system\s*board|systemboard|planar|mother\s*board|main\s*board|mainboard", re.I)
_NOT_BOARD = re.compile(r"gpu|ubb|hgx|backplane|riser", re.I)


@dataclass(frozen=True)
class Part:
    """One part in one slot. ``serial`` is None when unknown or a placeholder (``raw_serial`` keeps
    the placeholder the BMC gave)."""

    kind: PartKind
    slot: str
    serial: str | None = None
    model: str | None = None
    manufacturer: str | None = None
    part_number: str | None = None
    firmware: str | None = None
    capacity_bytes: int | None = None
    speed: float | None = None
    cores: int | None = None
    raw_serial: str | None = None

    def to_row(self) -> list[Any]:
        """Compact form for the store (a list: field names are not repeated 60 times a host)."""
        return [self.kind.value, self.slot, self.serial, self.model, self.manufacturer, self.part_number,
                self.firmware, self.capacity_bytes, self.speed, self.cores, self.raw_serial]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Part:
        kind, slot, serial, model, mfr, pn, fw, cap, speed, cores, raw = (list(row) + [None] * 11)[:11]
        return cls(PartKind(kind), slot, serial, model, mfr, pn, fw, cap, speed, cores, raw)

    def describe(self) -> str:
        """``dimm DIMM A1 (M393A4K40DB3, 32 GiB)`` for people."""
        bits = [b for b in (self.model or self.part_number, _size(self.capacity_bytes)) if b]
        return f"{self.kind.value} {self.slot}" + (f" ({', '.join(bits)})" if bits else "")


@dataclass(frozen=True)
class Placement:
    """Where the BMC says the server stands (Redfish ``Location.Placement``); None fields unknown."""

    site: str | None = None
    room: str | None = None
    row: str | None = None
    rack: str | None = None
    u: int | None = None

    def is_empty(self) -> bool:
        return self.rack is None

    def __str__(self) -> str:
        text = "/".join(p for p in (self.site, self.room, self.rack) if p)
        return text + (f" U{self.u}" if self.u is not None else "")


@dataclass(frozen=True)
class Hardware:
    """Counts and sizes reconciliation compares with a profile."""

    cpus: int = 0
    cpu_models: tuple[str, ...] = ()
    cores: int = 0
    dimms: int = 0
    memory_bytes: int = 0
    drives: int = 0
    drive_sizes: tuple[int, ...] = ()  # bytes, sorted
    gpus: int = 0
    nics: int = 0
    psus: int = 0
    storage_controllers: int = 0

    @classmethod
    def of(cls, parts: Iterable[Part]) -> Hardware:
        by: dict[PartKind, list[Part]] = {}
        for part in parts:
            by.setdefault(part.kind, []).append(part)
        cpus = by.get(PartKind.CPU, [])
        dimms = by.get(PartKind.DIMM, [])
        drives = by.get(PartKind.DRIVE, [])
        return cls(
            cpus=len(cpus),
            cpu_models=tuple(sorted({p.model for p in cpus if p.model})),
            cores=sum(p.cores or 0 for p in cpus),
            dimms=len(dimms),
            memory_bytes=sum(p.capacity_bytes or 0 for p in dimms),
            drives=len(drives),
            drive_sizes=tuple(sorted(p.capacity_bytes or 0 for p in drives)),
            gpus=len(by.get(PartKind.GPU, [])),
            nics=len(by.get(PartKind.NIC, [])),
            psus=len(by.get(PartKind.PSU, [])),
            storage_controllers=len(by.get(PartKind.STORAGE_CONTROLLER, [])),
        )

    def to_json(self) -> dict[str, Any]:
        return {"cpus": self.cpus, "cpu_models": list(self.cpu_models), "cores": self.cores, "dimms": self.dimms,
                "memory_bytes": self.memory_bytes, "drives": self.drives, "drive_sizes": list(self.drive_sizes),
                "gpus": self.gpus, "nics": self.nics, "psus": self.psus,
                "storage_controllers": self.storage_controllers}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Hardware:
        return cls(**{**data, "cpu_models": tuple(data.get("cpu_models") or ()),
                      "drive_sizes": tuple(data.get("drive_sizes") or ())})


@dataclass(frozen=True)
class AssetSnapshot:
    """One server as one collection saw it. ``host`` is the name it was collected under (the
    book's name for that BMC address); ``bmc`` is the address (and port) that answered."""

    host: str
    taken_at: dt.datetime
    protocol: str = "redfish"
    bmc: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    raw_serial: str | None = None
    sku: str | None = None  # Dell: the service tag; HPE/Lenovo: the product number
    uuid: str | None = None
    asset_tag: str | None = None
    hostname: str | None = None
    chassis_serial: str | None = None
    board_serial: str | None = None
    bmc_macs: tuple[str, ...] = ()
    placement: Placement | None = None
    parts: tuple[Part, ...] = ()
    firmware: tuple[tuple[str, str | None], ...] = ()
    errors: tuple[str, ...] = ()
    hardware: Hardware = field(default_factory=Hardware)

    def serials(self) -> dict[str, str]:
        """The identity serials this server reported, by key (placeholders left out)."""
        # Only Dell's SKU is a per-server serial (the service tag books record); elsewhere it is a
        # product number shared by every server of the model.
        service_tag = self.sku if vendor_key(self.manufacturer) == "dell" else None
        keys = {"serial": self.serial, "service_tag": service_tag, "chassis_serial": self.chassis_serial,
                "board_serial": self.board_serial}
        return {k: v for k, v in keys.items() if v}

    def of_kind(self, kind: PartKind) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.kind is kind)

    # -------------------------------------------------------------- storage form
    def summary_json(self) -> dict[str, Any]:
        """Everything but parts and firmware: what reconciliation reads (kept small on purpose)."""
        data: dict[str, Any] = {
            "host": self.host, "taken_at": self.taken_at.isoformat(), "protocol": self.protocol, "bmc": self.bmc,
            "manufacturer": self.manufacturer, "model": self.model, "serial": self.serial,
            "raw_serial": self.raw_serial, "sku": self.sku, "uuid": self.uuid, "asset_tag": self.asset_tag,
            "hostname": self.hostname, "chassis_serial": self.chassis_serial, "board_serial": self.board_serial,
            "bmc_macs": list(self.bmc_macs), "errors": list(self.errors), "hardware": self.hardware.to_json(),
        }
        if self.placement is not None:
            data["placement"] = {k: v for k, v in vars(self.placement).items() if v is not None}
        return data

    def to_json(self) -> dict[str, Any]:
        data = self.summary_json()
        data["parts"] = [p.to_row() for p in self.parts]
        data["firmware"] = [list(f) for f in self.firmware]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AssetSnapshot:
        """Rebuild from ``to_json`` (or from ``summary_json``: then without parts and firmware)."""
        taken = data["taken_at"]
        placement = data.get("placement")
        return cls(
            host=data["host"],
            taken_at=dt.datetime.fromisoformat(taken) if isinstance(taken, str) else taken,
            protocol=data.get("protocol") or "redfish",
            bmc=data.get("bmc"),
            manufacturer=data.get("manufacturer"), model=data.get("model"), serial=data.get("serial"),
            raw_serial=data.get("raw_serial"), sku=data.get("sku"), uuid=data.get("uuid"),
            asset_tag=data.get("asset_tag"), hostname=data.get("hostname"),
            chassis_serial=data.get("chassis_serial"), board_serial=data.get("board_serial"),
            bmc_macs=tuple(data.get("bmc_macs") or ()),
            placement=Placement(**placement) if placement else None,
            parts=tuple(Part.from_row(r) for r in data.get("parts") or ()),
            firmware=tuple((f[0], f[1]) for f in data.get("firmware") or ()),
            errors=tuple(data.get("errors") or ()),
            hardware=Hardware.from_json(data["hardware"]) if data.get("hardware") else Hardware(),
        )


# ------------------------------------------------------------------ from an observation


def is_mainboard(component: Component) -> bool:
    """Whether an assembly is the server's mainboard (see ``_BOARD_WORDS``)."""
    if component.kind is not ComponentKind.ASSEMBLY:
        return False
    context = component.extra.get("physical_context")
    text = " ".join(t for t in (component.location, component.name, component.model) if t)
    if _NOT_BOARD.search(text):
        return False
    return context == "SystemBoard" or bool(_BOARD_WORDS.search(text))


def _part(kind: PartKind, comp: Component) -> Part:
    slot = f"{comp.chassis}/{comp.location}" if comp.chassis and comp.chassis != comp.location else comp.location
    raw = comp.raw_serial if comp.raw_serial and comp.raw_serial != comp.serial else None
    return Part(kind=kind, slot=slot, serial=comp.serial, model=comp.model, manufacturer=comp.manufacturer,
                part_number=comp.part_number, firmware=comp.firmware, capacity_bytes=comp.capacity_bytes,
                speed=comp.speed, cores=comp.cores, raw_serial=raw)


def snapshot_from_observation(obs: Observation, *, bmc: str | None = None) -> AssetSnapshot:
    """The asset view of one observation; ``bmc`` is the endpoint that answered (``bmc_key``).

    The mainboard is an assembly the BMC marks as the system board (OEM board serials included)
    or the IPMI FRU board area. The chassis serial is that of the server's own chassis.
    """
    ident = obs.identity
    parts: list[Part] = []
    board: Part | None = None
    # Several parts the BMC gave one location (Supermicro: every NIC is "Network Adapter View")
    # are told apart by their resource id, which stays put across reads; a list index would not.
    seen_slots: dict[tuple[ComponentKind, str], int] = {}
    for comp in obs.components:
        key = (comp.kind, comp.location)
        seen_slots[key] = seen_slots.get(key, 0) + 1
    for comp in obs.components:
        if seen_slots[(comp.kind, comp.location)] > 1 and comp.source and "#" not in comp.location:
            comp = replace(comp, location=f"{comp.location}#{comp.source.rstrip('/').rsplit('/', 1)[-1]}")
        if comp.kind is ComponentKind.ASSEMBLY:
            if board is None and is_mainboard(comp):
                board = replace(_part(PartKind.MAINBOARD, comp), slot=f"{comp.chassis}/mainboard"
                                if comp.chassis else "mainboard")
            continue
        kind = _FROM_COMPONENT.get(comp.kind)
        if kind is not None:
            parts.append(_part(kind, comp))
    chassis = [p for p in parts if p.kind is PartKind.CHASSIS]
    main_chassis = chassis[0] if chassis else None
    if board is not None:
        parts.insert(len(chassis), board)
    macs = tuple(sorted({mac.lower() for comp in obs.of_kind(ComponentKind.MANAGER)
                         if isinstance(mac := comp.extra.get("mac_address"), str) and mac}))
    # The first chassis (the server's own) that says where it stands (the BMC layer reports only
    # placements naming a rack).
    placement = next((Placement(**{k: place.get(k) for k in ("site", "room", "row", "rack", "u")})
                      for comp in obs.of_kind(ComponentKind.CHASSIS)
                      if isinstance(place := comp.extra.get("placement"), Mapping) and place.get("rack")), None)
    firmware = tuple(sorted({(f.name, f.version) for f in obs.firmware if f.state not in ("Previous", "Available")
                             and not (f.id or "").startswith(("Previous", "Available"))},
                            key=lambda f: (f[0], f[1] or "")))
    return AssetSnapshot(
        host=obs.host, taken_at=obs.taken_at, protocol=obs.protocol, bmc=bmc,
        manufacturer=ident.manufacturer, model=ident.model, serial=ident.serial, raw_serial=ident.raw_serial,
        sku=ident.sku, uuid=(ident.uuid or "").lower() or None, asset_tag=clean_serial(ident.asset_tag),
        hostname=ident.hostname, chassis_serial=main_chassis.serial if main_chassis else None,
        board_serial=board.serial if board else None, bmc_macs=macs,
        placement=placement,
        parts=tuple(parts), firmware=firmware,
        errors=tuple(f"{e.what}: {e.reason}" for e in obs.errors),
        hardware=Hardware.of(parts),
    )


def _size(value: int | None) -> str | None:
    if not value:
        return None
    for unit, scale in (("TB", 1000**4), ("GB", 1000**3)):
        if value >= scale and value % (1024**3) != 0:
            return f"{value / scale:.3g} {unit}"
    gib = value / 1024**3
    return f"{gib:.0f} GiB" if gib >= 1 else f"{value} B"


_VENDORS = (
    ("dell", ("dell",)), ("hpe", ("hpe", "hewlett packard enterprise", "hewlett-packard", "hp")),
    ("lenovo", ("lenovo", "ibm")), ("supermicro", ("supermicro", "super micro")), ("huawei", ("huawei", "华为")),
    ("xfusion", ("xfusion", "超聚变")), ("inspur", ("inspur", "浪潮")),
    ("h3c", ("h3c", "new h3c", "新华三")), ("gigabyte", ("gigabyte", "giga-byte", "技嘉")),
    ("sugon", ("sugon", "曙光")), ("fujitsu", ("fujitsu",)), ("cisco", ("cisco",)), ("asus", ("asus", "asustek")),
)
_SUFFIXES = re.compile(r"[\s,.]*(inc|corp|corporation|co|ltd|llc|technologies|computer|enterprise|"
                       r"international|systems?|company|limited)\.?$", re.I)


def vendor_key(name: str | None) -> str | None:
    """One key per vendor however it is written (``Dell Inc.``, ``DELL`` -> ``dell``;
    ``Hewlett Packard Enterprise``, ``HPE`` -> ``hpe``); other names lower-cased without
    company suffixes."""
    if not name or not name.strip():
        return None
    text = name.strip().lower()
    for key, spellings in _VENDORS:
        for spelling in spellings:
            if text == spelling or text.startswith(spelling + " ") or text.startswith(spelling + ","):
                return key
    previous = None
    while previous != text:
        previous = text
        text = _SUFFIXES.sub("", text).strip()
    return text or None


def size_text(value: int | None) -> str | None:
    """A capacity for people: binary sizes (DIMMs) in GiB, drives in GB/TB as labelled."""
    return _size(value)
