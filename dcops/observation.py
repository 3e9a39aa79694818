"""Observation: an immutable snapshot of what one BMC reported at one time.

Everything past the BMC adapters (patrol checks, asset reconciliation, baseline diffs) reads this
model and nothing else, so it is plain data: frozen dataclasses, enums for states, no I/O, and a
JSON form that round-trips (``Observation.to_json`` / ``Observation.from_json``).

A component's identity is its chassis, its location in that chassis and its serial number -- never
the position in a BMC's list, which changes when a part is added or a BMC is updated. ``slot_key``
(chassis + location) says where a part sits; ``identity`` adds the serial, so a swapped part is a
different identity in the same slot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Health(StrEnum):
    """Health of a part, sensor or server. Order of severity: OK < UNKNOWN < WARNING < CRITICAL."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> int:
        return _HEALTH_SEVERITY[self]


_HEALTH_SEVERITY = {Health.OK: 0, Health.UNKNOWN: 1, Health.WARNING: 2, Health.CRITICAL: 3}


def worst_health(values: Iterable[Health]) -> Health:
    """The most severe health in ``values`` (OK when empty)."""
    result = Health.OK
    for value in values:
        if value.severity > result.severity:
            result = value
    return result


class PowerState(StrEnum):
    ON = "on"
    OFF = "off"
    POWERING_ON = "powering_on"
    POWERING_OFF = "powering_off"
    UNKNOWN = "unknown"


class ComponentKind(StrEnum):
    CHASSIS = "chassis"
    CPU = "cpu"
    GPU = "gpu"
    ACCELERATOR = "accelerator"  # FPGA, DSP, other processors that are not CPU or GPU
    DIMM = "dimm"
    DEVICE_MEMORY = "device_memory"  # memory of a GPU/accelerator (HBM, GDDR, a GPU's DRAM): never a DIMM
    STORAGE_CONTROLLER = "storage_controller"
    DRIVE = "drive"
    VOLUME = "volume"
    NIC = "nic"
    PSU = "psu"
    FAN = "fan"
    ASSEMBLY = "assembly"
    MANAGER = "manager"  # the BMC itself
    PCIE_DEVICE = "pcie_device"  # a PCIe device as the BMC lists it (its health; the part itself is a NIC, GPU...)


class SensorKind(StrEnum):
    TEMPERATURE = "temperature"  # degrees Celsius
    FAN = "fan"  # RPM or percent (see units)
    VOLTAGE = "voltage"  # volts
    CURRENT = "current"  # amperes
    POWER = "power"  # watts
    ENERGY = "energy"  # kWh or joules (see units)
    FREQUENCY = "frequency"  # hertz
    PERCENT = "percent"
    HUMIDITY = "humidity"
    AIRFLOW = "airflow"
    PRESSURE = "pressure"
    LIQUID = "liquid"
    LEAK = "leak"  # a leak detector (state only: its health says whether it detects a leak)
    DISCRETE = "discrete"  # a state sensor with no numeric reading
    OTHER = "other"


@dataclass(frozen=True)
class Thresholds:
    """Sensor thresholds in the sensor's units; None where the BMC gave none."""

    lower_fatal: float | None = None
    lower_critical: float | None = None
    lower_caution: float | None = None
    upper_caution: float | None = None
    upper_critical: float | None = None
    upper_fatal: float | None = None

    def is_empty(self) -> bool:
        return (self.lower_fatal is None and self.lower_critical is None and self.lower_caution is None
                and self.upper_caution is None and self.upper_critical is None and self.upper_fatal is None)


@dataclass(frozen=True)
class Component:
    """One part. ``location`` is what a technician reads on the chassis (slot, bay, socket);
    ``serial`` is None when the BMC gave none or a placeholder (``raw_serial`` keeps what it said)."""

    kind: ComponentKind
    chassis: str
    location: str
    serial: str | None = None
    name: str | None = None
    model: str | None = None
    manufacturer: str | None = None
    part_number: str | None = None
    firmware: str | None = None
    health: Health = Health.UNKNOWN
    state: str | None = None  # Redfish Status.State: Enabled, Disabled, StandbyOffline, ...
    capacity_bytes: int | None = None  # drives, volumes, DIMMs
    speed: float | None = None  # MHz for CPUs/DIMMs, Gbit/s for drives/NICs
    cores: int | None = None
    raw_serial: str | None = None
    source: str | None = None  # the Redfish URI or IPMI record it came from, for people debugging
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def slot_key(self) -> tuple[str, str, str]:
        """Where the part sits: kind, chassis, location."""
        return (self.kind.value, self.chassis, self.location)

    @property
    def identity(self) -> str:
        """Stable identity: kind, chassis, location and serial (``-`` when unknown)."""
        return f"{self.kind.value}:{self.chassis}:{self.location}:{self.serial or '-'}"


@dataclass(frozen=True)
class Sensor:
    kind: SensorKind
    name: str
    chassis: str
    reading: float | None = None
    units: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    health: Health = Health.UNKNOWN
    state: str | None = None
    component: str | None = None  # the part it measures (PhysicalContext or related item), when known
    source: str | None = None
    # Why thresholds the BMC gave were set aside, or why a crossing is not an alarm (the BMC's own
    # verdict disagrees): for people reading the observation.
    note: str | None = None

    @property
    def key(self) -> str:
        # ``{self.kind}`` is the kind's value (a StrEnum formats as its value) without the cost of
        # enum's ``.value`` descriptor: this runs for every sensor of every patrol visit.
        return f"{self.chassis}:{self.kind}:{self.name}"


# Threshold names from the most to the least severe, per direction.
UPPER = ("upper_fatal", "upper_critical", "upper_caution")
LOWER = ("lower_fatal", "lower_critical", "lower_caution")
# Values BMCs put where no threshold is set: -1 and all-ones of 8, 16, 32 and 64 bits (IPMI SDR
# "no threshold" bytes, unset registers), and their signed maxima.
PLACEHOLDER_LIMITS = frozenset({-1.0, 255.0, 65535.0, 4294967295.0, 18446744073709551615.0, 127.0, -128.0,
                                32767.0, -32768.0, 2147483647.0, -2147483648.0})
# Units of cumulative counters: thresholds on them are meaningless (a counter only grows).
COUNTER_UNITS = frozenset({"j", "kj", "mj", "wh", "kwh", "kw.h", "mwh", "kw·h"})


def placeholder_limits(thresholds: Thresholds, reading: float | None, kind: SensorKind, units: str | None,
                       health: Health, counter: bool = False) -> tuple[Thresholds, str | None]:
    """``thresholds`` without the values that are no thresholds, and a note saying what went.

    Set aside (issue 12, seen on HPE iLO 7 and NVIDIA DGX): all-ones and -1 sentinels
    (``PLACEHOLDER_LIMITS``); an upper threshold of 0 or less; every threshold of a cumulative
    counter (energy in J/kWh, ``counter``: the BMC marks it with ``SensorResetTime``); every
    threshold of a sensor that reads exactly 0 while the BMC says OK (an unpopulated sensor
    whose thresholds are zero-filled)."""
    if thresholds.is_empty():
        return thresholds, None
    if kind is SensorKind.ENERGY or counter or (units or "").strip().lower() in COUNTER_UNITS:
        return Thresholds(), "thresholds ignored: a cumulative counter (energy) only grows"
    if reading == 0 and health is Health.OK:
        return Thresholds(), "thresholds ignored: reads 0 and the BMC reports OK (unpopulated)"
    bad = [(name, value) for name in (*LOWER, *UPPER) if (value := getattr(thresholds, name)) is not None
           and (value in PLACEHOLDER_LIMITS or (value <= 0 and name in UPPER))]
    if not bad:
        return thresholds, None
    kept = {name: None if any(name == b for b, _ in bad) else getattr(thresholds, name) for name in (*LOWER, *UPPER)}
    why = ", ".join(f"{name.replace('_', ' ')} {value:g}" for name, value in bad)
    return Thresholds(**kept), f"placeholder thresholds ignored: {why}"


def crossing(sensor: Sensor) -> tuple[str, float] | None:
    """The most severe threshold the reading is past, as (name, limit); None when within all.
    A reading equal to a lower threshold counts only when that threshold is above 0; a fan
    reading 0 at a lower threshold of 0 counts when the BMC does not call it OK (stopped)."""
    return crossing_of(sensor.thresholds, sensor.reading, sensor.kind, sensor.health)


def crossing_of(t: Thresholds, reading: float | None, kind: SensorKind,
                health: Health) -> tuple[str, float] | None:
    """``crossing`` from the parts of a sensor, before it is built."""
    if reading is None:
        return None
    for name in UPPER:
        limit = getattr(t, name)
        if limit is not None and reading >= limit:
            return name, limit
    for name in LOWER:
        limit = getattr(t, name)
        if limit is not None and (reading < limit or (reading == limit and limit > 0)
                                  or (reading == 0 and kind is SensorKind.FAN and limit == 0
                                      and health is not Health.OK)):
            return name, limit
    return None


@dataclass(frozen=True)
class FirmwareItem:
    name: str
    version: str | None
    id: str | None = None  # the BMC's inventory id (e.g. Dell's Installed-159-1.8.2__BIOS.Setup.1-1)
    component: str | None = None  # what it belongs to, when the BMC says
    updateable: bool | None = None
    health: Health = Health.UNKNOWN
    state: str | None = None  # Dell and others list Previous/Available images too: see ``id``
    software_id: str | None = None
    release_date: str | None = None


@dataclass(frozen=True)
class Identity:
    """What the server is."""

    manufacturer: str | None = None
    model: str | None = None
    sku: str | None = None  # Dell: the service tag
    serial: str | None = None
    raw_serial: str | None = None
    uuid: str | None = None
    part_number: str | None = None
    asset_tag: str | None = None
    bios_version: str | None = None
    bmc_model: str | None = None
    bmc_version: str | None = None
    power_state: PowerState = PowerState.UNKNOWN
    health: Health = Health.UNKNOWN  # the BMC's own rollup for the system
    system_id: str | None = None
    hostname: str | None = None
    redfish_version: str | None = None
    vendor: str | None = None  # dcops' vendor key (dell, hpe, lenovo, ...) used for quirks


@dataclass(frozen=True)
class Condition:
    """A problem the BMC reports as current (Redfish ``Status.Conditions``)."""

    message: str
    severity: Health
    message_id: str | None = None
    origin: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True)
class LogEntry:
    id: str
    log: str  # which log: sel, lc, iml, event, ...
    created: str | None
    severity: Health
    message: str
    message_id: str | None = None
    sensor: str | None = None


@dataclass(frozen=True)
class Redundancy:
    """A redundancy group the BMC reports (Redfish ``Power.Redundancy`` or
    ``PowerSubsystem.PowerSupplyRedundancy``): its own verdict on whether the group still has a
    spare. ``health`` Warning/Critical means redundancy is degraded or lost."""

    name: str
    chassis: str
    kind: str = "power"  # what the group is made of: power (supplies)
    health: Health = Health.UNKNOWN
    state: str | None = None  # Status.State: Enabled, Disabled, UnavailableOffline, ...
    mode: str | None = None  # Mode (N+m, Failover, Sharing, ...) or RedundancyType (NPlusM, Failover)
    min_needed: int | None = None  # members needed for the group to work
    max_supported: int | None = None
    members: tuple[str, ...] = ()  # member ids (a PSU's Id, or MemberId in the legacy Power resource)
    source: str | None = None

    @property
    def lost(self) -> bool:
        return self.health in (Health.WARNING, Health.CRITICAL)


# ``ReadError.what`` of a read that found no computer system to speak for (none listed or
# readable, or the book's ``bmc.system`` names none): the server's health is then unknown.
NO_SYSTEM_READ = frozenset({"systems", "bmc.system"})


@dataclass(frozen=True)
class ReadError:
    """Something that could not be read, and why (dangling link, 404, timeout, unsupported)."""

    what: str  # a Redfish path or an IPMI area (``sdr``, ``fru``, ``sel``)
    reason: str


@dataclass(frozen=True)
class Observation:
    host: str
    taken_at: dt.datetime
    protocol: str  # redfish | ipmi
    identity: Identity = field(default_factory=Identity)
    components: tuple[Component, ...] = ()
    sensors: tuple[Sensor, ...] = ()
    firmware: tuple[FirmwareItem, ...] = ()
    conditions: tuple[Condition, ...] = ()
    log_entries: tuple[LogEntry, ...] = ()
    log_cursor: str | None = None  # newest entry id seen; the next read asks only for newer ones
    errors: tuple[ReadError, ...] = ()
    duration_seconds: float | None = None
    requests: int = 0
    redundancy: tuple[Redundancy, ...] = ()  # redundancy groups (power supplies), when the BMC reports them
    # The system or chassis documents that could not be used ("Systems/1: truncated JSON"): the
    # BMC answered, but what it said about the server's health is unknown, never "OK".
    unreadable: tuple[str, ...] = ()

    def of_kind(self, kind: ComponentKind) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.kind is kind)

    def sensors_of(self, kind: SensorKind) -> tuple[Sensor, ...]:
        return tuple(s for s in self.sensors if s.kind is kind)

    @property
    def health(self) -> Health:
        """The worst of the system rollup, every component, sensor and current condition;
        at least UNKNOWN when no computer system could be read, or a system or chassis document was
        unusable (a missing verdict is never "ok"; a part that does say Critical still wins)."""
        values: list[Health] = [self.identity.health] if self.identity.health is not Health.UNKNOWN else []
        if self.unreadable or any(e.what in NO_SYSTEM_READ for e in self.errors):
            values.append(Health.UNKNOWN)
        values += [c.health for c in self.components if c.health is not Health.UNKNOWN]
        values += [s.health for s in self.sensors if s.health is not Health.UNKNOWN]
        values += [c.severity for c in self.conditions]
        return worst_health(values)

    def counts(self) -> dict[str, int]:
        """Components per kind plus temperature sensors and firmware entries (used in summaries)."""
        result = {kind.value: len(self.of_kind(kind)) for kind in ComponentKind}
        result["temperature_sensors"] = len(self.sensors_of(SensorKind.TEMPERATURE))
        result["firmware"] = len(self.firmware)
        return result

    def to_json(self) -> dict[str, Any]:
        from dcops.report import jsonable

        data: dict[str, Any] = jsonable(self)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Observation:
        """Rebuild an observation from ``to_json`` output (stored observations, baselines)."""
        ident = dict(data.get("identity") or {})
        ident["power_state"] = PowerState(ident.get("power_state", "unknown"))
        ident["health"] = Health(ident.get("health", "unknown"))
        components = tuple(
            Component(**{**c, "kind": ComponentKind(c["kind"]), "health": Health(c["health"]),
                         "extra": dict(c.get("extra") or {})})
            for c in data.get("components", ())
        )
        sensors = tuple(
            Sensor(**{**s, "kind": SensorKind(s["kind"]), "health": Health(s["health"]),
                      "thresholds": Thresholds(**(s.get("thresholds") or {}))})
            for s in data.get("sensors", ())
        )
        firmware = tuple(FirmwareItem(**{**f, "health": Health(f["health"])}) for f in data.get("firmware", ()))
        conditions = tuple(Condition(**{**c, "severity": Health(c["severity"])}) for c in data.get("conditions", ()))
        entries = tuple(LogEntry(**{**e, "severity": Health(e["severity"])}) for e in data.get("log_entries", ()))
        errors = tuple(ReadError(**e) for e in data.get("errors", ()))
        redundancy = tuple(Redundancy(**{**r, "health": Health(r.get("health", "unknown")),
                                         "members": tuple(r.get("members") or ())})
                           for r in data.get("redundancy", ()))
        taken = data["taken_at"]
        return cls(
            host=data["host"],
            taken_at=dt.datetime.fromisoformat(taken) if isinstance(taken, str) else taken,
            protocol=data.get("protocol", "redfish"),
            identity=Identity(**ident),
            components=components,
            sensors=sensors,
            firmware=firmware,
            conditions=conditions,
            log_entries=entries,
            log_cursor=data.get("log_cursor"),
            errors=errors,
            duration_seconds=data.get("duration_seconds"),
            requests=data.get("requests", 0),
            redundancy=redundancy,
            unreadable=tuple(data.get("unreadable") or ()),
        )


# Placeholders vendors put where a serial should be. Compared case-insensitively, stripped.
JUNK_SERIALS = frozenset({
    "", "0", "00000000", "0000000000", "000000000000", "0123456789", "01234567890123456789ab",
    "1234567890", "123456789", "default string", "to be filled by o.e.m.", "to be filled by oem",
    "not specified", "not available", "none", "n/a", "na", "null", "unknown", "system serial number",
    "serial number", "chassis serial number", "xxxxxxxxxx", "0xffffffff", "ffffffff", "-", "none.",
    "not applicable", "invalid", "no asset tag",
})


def clean_serial(value: object, field: str = "SerialNumber") -> str | None:
    """A serial number, or None when ``value`` is absent or a known placeholder: blank, all
    zeros or all F (also as hex, ``0x0000000000000000``), or the name of its own field
    (``"SerialNumber"``, ``"Serial Number"``: a template nobody filled in)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    lowered = text.lower()
    if lowered in JUNK_SERIALS or set(text) <= {"0", " "} or set(lowered) <= {"f", " "}:
        return None
    digits = lowered[2:] if lowered.startswith("0x") else lowered
    if not digits or set(digits) <= {"0"} or set(digits) <= {"f"}:
        return None
    squashed = "".join(filter(str.isalnum, lowered))
    if squashed in {"".join(filter(str.isalnum, field.lower())), "serialnumber", "serial", "sn"}:
        return None
    return text
