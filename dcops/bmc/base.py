"""One interface per BMC concern, and "unsupported" null objects.

A ``Bmc`` bundles the concerns of one host. A concern the protocol or the BMC cannot serve is an
``Unsupported*`` object rather than None: calling it raises ``UnsupportedError`` naming the host,
the concern and why, and ``supported`` is False, so callers can ask before acting.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dcops.errors import ApplyError
from dcops.observation import FirmwareItem, LogEntry, Observation, PowerState

POWER_OPERATIONS = ("on", "off", "force-off", "cycle", "reset")
BOOT_TARGETS = ("cd", "pxe", "hdd", "bios", "usb", "none")


class UnsupportedError(ApplyError):
    """The BMC (or the protocol chosen for it) cannot do what was asked."""


class Concern(ABC):  # noqa: B024 - a marker base: each concern adds its abstract methods
    supported = True
    protocol = "?"


class PowerInterface(Concern):
    @abstractmethod
    def status(self) -> PowerState:
        """The current power state."""

    @abstractmethod
    def request(self, operation: str) -> None:
        """Ask for ``on``, ``off`` (graceful), ``force-off``, ``cycle`` or ``reset``; returns once
        the BMC accepted it (the state may change later: poll ``status``)."""


class BootInterface(Concern):
    @abstractmethod
    def set_once(self, target: str) -> None:
        """Boot from ``target`` (cd, pxe, hdd, bios, usb) on the next boot only."""

    @abstractmethod
    def get(self) -> tuple[str | None, str | None]:
        """(override target, enabled: Once/Continuous/Disabled), None where unknown."""


@dataclass(frozen=True)
class MediaSlot:
    id: str
    media_types: tuple[str, ...]
    inserted: bool
    image: str | None


class VirtualMediaInterface(Concern):
    @abstractmethod
    def slots(self) -> list[MediaSlot]: ...

    @abstractmethod
    def insert(self, image: str) -> MediaSlot:
        """Insert an image URL (http/https/nfs the BMC can reach) into the most suitable CD slot."""

    @abstractmethod
    def eject(self) -> list[MediaSlot]:
        """Eject every inserted image; returns the slots that were ejected."""


class InventoryInterface(Concern):
    @abstractmethod
    def observe(self, sections: Iterable[str] | None = None) -> Observation:
        """Read the server into an Observation (what failed to read is in ``errors``)."""


class HealthInterface(Concern):
    @abstractmethod
    def health(self) -> Observation:
        """A cheap read: identity, rollups, current conditions (and sensors on IPMI)."""


class LogsInterface(Concern):
    @abstractmethod
    def entries(self, limit: int = 50) -> list[LogEntry]: ...


class BiosInterface(Concern):
    @abstractmethod
    def attributes(self) -> Mapping[str, Any]: ...

    @abstractmethod
    def set_attributes(self, values: Mapping[str, Any]) -> None: ...


class RaidInterface(Concern):
    @abstractmethod
    def volumes(self) -> list[Mapping[str, Any]]: ...


class FirmwareInterface(Concern):
    @abstractmethod
    def inventory(self) -> list[FirmwareItem]: ...


class ConsoleInterface(Concern):
    @abstractmethod
    def attach(self) -> int:
        """Attach the terminal to the serial console until the user leaves; returns an exit status."""


def _unsupported(concern: str) -> Callable[..., Any]:
    def method(self: _Unsupported, *args: Any, **kwargs: Any) -> Any:
        raise UnsupportedError(f"{self.host}: {concern} is not supported over {self.protocol}: {self.reason}")

    return method


class _Unsupported:
    supported = False

    def __init__(self, host: str, protocol: str, reason: str) -> None:
        self.host = host
        self.protocol = protocol
        self.reason = reason


class UnsupportedPower(_Unsupported, PowerInterface):
    status = _unsupported("power")
    request = _unsupported("power")


class UnsupportedBoot(_Unsupported, BootInterface):
    set_once = _unsupported("boot override")
    get = _unsupported("boot override")


class UnsupportedVirtualMedia(_Unsupported, VirtualMediaInterface):
    slots = _unsupported("virtual media")
    insert = _unsupported("virtual media")
    eject = _unsupported("virtual media")


class UnsupportedInventory(_Unsupported, InventoryInterface):
    observe = _unsupported("inventory")


class UnsupportedHealth(_Unsupported, HealthInterface):
    health = _unsupported("health")


class UnsupportedLogs(_Unsupported, LogsInterface):
    entries = _unsupported("logs")


class UnsupportedBios(_Unsupported, BiosInterface):
    attributes = _unsupported("BIOS settings")
    set_attributes = _unsupported("BIOS settings")


class UnsupportedRaid(_Unsupported, RaidInterface):
    volumes = _unsupported("RAID")


class UnsupportedFirmware(_Unsupported, FirmwareInterface):
    inventory = _unsupported("firmware inventory")


class UnsupportedConsole(_Unsupported, ConsoleInterface):
    attach = _unsupported("serial console")


@dataclass
class Bmc:
    """The concerns of one host's BMC. ``close`` logs out of every session opened."""

    host: str
    protocol: str
    power: PowerInterface
    boot: BootInterface
    vmedia: VirtualMediaInterface
    inventory: InventoryInterface
    health: HealthInterface
    logs: LogsInterface
    bios: BiosInterface
    raid: RaidInterface
    firmware: FirmwareInterface
    console: ConsoleInterface
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        self.closers.clear()

    def __enter__(self) -> Bmc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def unsupported_bmc(host: str, protocol: str, reason: str) -> Bmc:
    args = (host, protocol, reason)
    return Bmc(host, protocol, UnsupportedPower(*args), UnsupportedBoot(*args), UnsupportedVirtualMedia(*args),
               UnsupportedInventory(*args), UnsupportedHealth(*args), UnsupportedLogs(*args),
               UnsupportedBios(*args), UnsupportedRaid(*args), UnsupportedFirmware(*args),
               UnsupportedConsole(*args))
