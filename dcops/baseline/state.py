"""What a server reports that a baseline is compared with: BIOS current and pending values and the
attribute registry, storage controllers with drives and volumes, the firmware inventory.

``Observation`` (dcops.observation) carries identity and parts for patrol; baselines need more
(pending BIOS values, the registry, hot-spare types, volume policies, update targets), so the
baseline reader (``dcops.baseline.redfish``) fills this model. Plain frozen data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RegistryAttribute:
    name: str
    type: str  # Enumeration, Integer, String, Boolean, Password, Number
    values: tuple[str, ...] = ()
    lower: float | None = None
    upper: float | None = None
    max_length: int | None = None
    read_only: bool = False
    reset_required: bool = True


@dataclass(frozen=True)
class BiosState:
    current: Mapping[str, Any]
    pending: Mapping[str, Any] = field(default_factory=dict)  # staged, applied at the next reset
    registry: Mapping[str, RegistryAttribute] | None = None  # None: the BMC publishes none
    apply_times: tuple[str, ...] = ()  # @Redfish.Settings SupportedApplyTimes


@dataclass(frozen=True)
class DriveState:
    id: str
    bay: int  # ordinal on its controller (PhysicalLocation ordinal, else list order)
    uri: str = ""
    location: str = ""
    model: str | None = None
    media: str | None = None  # SSD | HDD
    protocol: str | None = None
    capacity_bytes: int | None = None
    hotspare: str = "none"  # none | global | dedicated
    state: str | None = None  # ready | non-raid | online | None when the BMC does not say
    failed: bool = False
    firmware: str | None = None


@dataclass(frozen=True)
class VolumeState:
    id: str
    uri: str = ""
    name: str | None = None
    level: str | None = None  # RAID1, ...
    capacity_bytes: int | None = None
    drives: tuple[str, ...] = ()  # drive ids
    read_policy: str | None = None  # read-ahead | no-read-ahead | adaptive | None (not reported)
    write_policy: str | None = None  # write-back | write-through | always-write-back | None
    dedicated_spares: tuple[str, ...] = ()


@dataclass(frozen=True)
class ControllerState:
    id: str
    uri: str = ""
    model: str | None = None
    volumes_uri: str = ""
    drives: tuple[DriveState, ...] = ()
    volumes: tuple[VolumeState, ...] = ()
    busy: bool = False

    def drive_by_bay(self, bay: int) -> DriveState | None:
        return next((d for d in self.drives if d.bay == bay), None)

    def drive_by_id(self, did: str) -> DriveState | None:
        return next((d for d in self.drives if d.id == did), None)


@dataclass(frozen=True)
class FirmwareEntry:
    id: str
    name: str
    version: str | None
    uri: str = ""
    updateable: bool = True
    state: str | None = None  # Enabled/Installed; Dell lists Previous-/Available- images too
    software_id: str | None = None

    @property
    def installed(self) -> bool:
        """False for the images a BMC keeps but does not run (Dell Previous-/Available- items)."""
        low = self.id.lower()
        return not (low.startswith("previous-") or low.startswith("available-")
                    or (self.state or "").lower() in ("disabled", "absent"))


@dataclass(frozen=True)
class HostState:
    host: str
    vendor: str | None = None  # dcops' vendor key: dell, hpe, lenovo, supermicro, ...
    manufacturer: str | None = None
    model: str | None = None
    bios: BiosState | None = None
    controllers: tuple[ControllerState, ...] = ()
    firmware: tuple[FirmwareEntry, ...] = ()
    errors: tuple[str, ...] = ()  # what could not be read
