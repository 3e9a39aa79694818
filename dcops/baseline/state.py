"""What a server reports that a baseline is compared with: BIOS current and pending values and the
attribute registry, storage controllers with drives and volumes, the firmware inventory.

The per-concern types are the BMC layer's (``dcops.bmc.state``: one model, filled by the Redfish
drivers); ``HostState`` bundles what one read of a server gave for a baseline. Plain frozen data,
no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from dcops.bmc.state import (
    BiosState,
    ControllerState,
    DriveState,
    FirmwareEntry,
    RegistryAttribute,
    VolumeState,
)

__all__ = ["BiosState", "ControllerState", "DriveState", "FirmwareEntry", "HostState", "RegistryAttribute",
           "VolumeState"]


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
