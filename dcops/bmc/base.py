"""One interface per BMC concern, and "unsupported" null objects.

A ``Bmc`` bundles the concerns of one host. A concern the protocol or the BMC cannot serve is an
``Unsupported*`` object rather than None: calling it raises ``UnsupportedError`` naming the host,
the concern and why, and ``supported`` is False, so callers can ask before acting.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.bmc.state import (
    BiosState,
    BootProgress,
    ControllerState,
    FirmwareEntry,
    RegistryAttribute,
    StagedSettings,
    TaskOutcome,
    UpdateOutcome,
)
from dcops.errors import ApplyError
from dcops.observation import FirmwareItem, Identity, LogEntry, Observation, PowerState

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

    # Waiting for a boot needs the BMC's boot progress (Redfish BootProgress); a protocol without
    # it does not offer these (UnsupportedError).
    def boot_progress(self) -> BootProgress:
        """(power state, BootProgress.LastState, LastStateTime) of the host."""
        raise UnsupportedError(f"power over {self.protocol}: no boot progress")

    def wait_boot(self, before_time: str | None, *, until: str, deadline: float) -> None:
        """After a reset or power-on was requested: wait until the new boot reaches ``until``
        (``post``, ``os-running``, ``powered-on``, ``power-off``); ApplyError past ``deadline``."""
        raise UnsupportedError(f"power over {self.protocol}: no boot progress")

    def reset_and_wait(self, *, graceful: bool = False, until: str = "post", timeout: float | None = None) -> None:
        """Reset (or power on) the host and wait for ``until`` (see ``wait_boot``)."""
        raise UnsupportedError(f"power over {self.protocol}: no boot progress")


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
    def insert(self, image: str, *, media: str = "cd", ca_pem: str | None = None) -> MediaSlot:
        """Insert an image URL (http/https/nfs the BMC can reach) into the most suitable free slot
        of kind ``media``: ``cd`` (a CD/DVD slot) or ``usb`` (a USB stick / removable disk / floppy
        slot that is not the CD one). Raises UnsupportedError when the BMC has no such slot.
        ``ca_pem``: the CA of an https image URL, imported into the slot's certificate store with
        verification on where the BMC offers one."""

    @abstractmethod
    def eject(self) -> list[MediaSlot]:
        """Eject every inserted image; returns the slots that were ejected."""


class InventoryInterface(Concern):
    @abstractmethod
    def observe(self, sections: Iterable[str] | None = None, *, log_limit: int = 20) -> Observation:
        """Read the server into an Observation (what failed to read is in ``errors``), with its
        ``log_limit`` newest log entries."""

    def identity(self) -> Identity:
        """What the server is (manufacturer, model, vendor key), read as cheaply as the protocol allows."""
        return self.observe(()).identity

    def lldp(self) -> list[Any]:
        """The LLDP neighbours the BMC reports for the host's NIC ports (``LldpNeighbour``)."""
        raise UnsupportedError(f"LLDP over {getattr(self, 'protocol', 'this protocol')}: not reported")


class HealthInterface(Concern):
    @abstractmethod
    def health(self) -> Observation:
        """A cheap read: identity, rollups, current conditions (and sensors on IPMI)."""


class LogsInterface(Concern):
    @abstractmethod
    def entries(self, limit: int = 50) -> list[LogEntry]: ...


class BiosInterface(Concern):
    @abstractmethod
    def attributes(self) -> Mapping[str, Any]:
        """The current BIOS attributes."""

    @abstractmethod
    def set_attributes(self, values: Mapping[str, Any]) -> None:
        """Stage ``values`` (applied at the next reset); ``stage`` says more about what it did."""

    @abstractmethod
    def read(self, *, registry: bool = True) -> BiosState:
        """Current and pending attributes, the supported apply times and (``registry``) the
        attribute registry."""

    @abstractmethod
    def registry(self) -> Mapping[str, RegistryAttribute] | None:
        """The BIOS attribute registry (None when the BMC publishes none); cached per registry id."""

    @abstractmethod
    def stage(self, values: Mapping[str, Any], *, apply_time: str | None = None) -> StagedSettings:
        """PATCH the settings object with ``values`` and the apply time (``apply_time``, else
        OnReset when the BMC supports it), honouring ETags. On Dell iDRAC, also schedule the BIOS
        configuration job the values need. Raises ApplyError with the BMC's message."""

    @abstractmethod
    def clear_pending(self) -> None:
        """Drop staged values that were not applied yet (and a pending Dell BIOS job)."""


class RaidInterface(Concern):
    @abstractmethod
    def volumes(self) -> list[Mapping[str, Any]]:
        """Volumes as observed (location, capacity, RAID type): the old, summary form."""

    @abstractmethod
    def controllers(self) -> list[ControllerState]:
        """Every storage controller with its drives (hot-spare type, state) and volumes."""

    @abstractmethod
    def create_volume(self, controller: str, raid_type: str, drives: Sequence[str], *,
                      capacity_bytes: int | None = None, name: str | None = None,
                      read_policy: str | None = None, write_policy: str | None = None,
                      wait: bool = True, strip_size_bytes: int | None = None,
                      apply_time: str | None = None) -> TaskOutcome:
        """Create a volume on ``controller`` (its id or URI) from ``drives`` (ids or URIs).
        ``capacity_bytes`` None: the largest the drives allow. Waits for the controller to be
        idle first and (``wait``) for the task to end. Raises ApplyError on refusal or failure."""

    @abstractmethod
    def delete_volume(self, volume: str, *, wait: bool = True, apply_time: str | None = None) -> TaskOutcome:
        """Delete a volume (its URI, or its id when it is unique across controllers)."""

    def update_volume(self, volume: str, *, name: str | None = None, read_policy: str | None = None,
                      write_policy: str | None = None, wait: bool = True) -> TaskOutcome:
        """Rename a volume and/or change its cache policies."""
        raise UnsupportedError(f"RAID over {self.protocol}: volume changes are not supported")

    def secure_erase_drive(self, drive: str, *, wait: bool = True) -> TaskOutcome:
        """Drive.SecureErase."""
        raise UnsupportedError(f"RAID over {self.protocol}: secure erase is not supported")

    def initialize_volume(self, volume: str, *, wait: bool = True) -> TaskOutcome:
        """Volume.Initialize (Slow: every block)."""
        raise UnsupportedError(f"RAID over {self.protocol}: volume initialization is not supported")

    def set_drive_write_cache(self, drive: str, enabled: bool) -> None:
        """Turn a disk's own write cache on or off (Drive.WriteCacheEnabled)."""
        raise UnsupportedError(f"RAID over {self.protocol}: disk write cache is not supported")

    def convert_drive(self, drive: str, to: str, *, wait: bool = True) -> TaskOutcome:
        """Switch a drive between RAID-capable (``raid``) and pass-through (``non-raid``)."""
        raise UnsupportedError(f"RAID over {self.protocol}: drive conversion is not supported")

    def set_controller_mode(self, controller: str, mode: str) -> None:
        """Stage a controller-wide pass-through mode (``RAID`` | ``Mixed`` | ``HBA``: HPE Smart
        Array), applied at the next reset."""
        raise UnsupportedError(f"RAID over {self.protocol}: controller modes are not supported")

    @abstractmethod
    def set_hotspare(self, drive: str, kind: str) -> None:
        """Make ``drive`` (id or URI) a ``global``, ``dedicated`` or ``chassis`` hot spare, or ``none``."""

    def bind_dedicated_spare(self, drive: str, volume: str, *, wait: bool = True) -> TaskOutcome:
        """Make ``drive`` a dedicated hot spare *of* ``volume`` (a Dedicated type alone serves no
        volume). Raises ApplyError where the BMC has no way to bind one."""
        raise UnsupportedError(f"RAID over {self.protocol}: dedicated spares cannot be bound to a volume")

    def release_spare(self, drive: str, *, wait: bool = True) -> TaskOutcome:
        """Make a hot spare (of any kind) an ordinary drive again."""
        self.set_hotspare(drive, "none")
        return TaskOutcome("completed")

    @abstractmethod
    def wait_idle(self, timeout: float | None = None, *, tasks: bool = False) -> None:
        """Wait until no controller operation runs (one at a time) and, with ``tasks``, no task of
        the BMC; ApplyError after ``timeout``."""


class FirmwareInterface(Concern):
    @abstractmethod
    def inventory(self) -> list[FirmwareItem]:
        """The firmware inventory as observed (for reports)."""

    @abstractmethod
    def entries(self) -> list[FirmwareEntry]:
        """The firmware inventory with URIs (update targets) and install state."""

    @abstractmethod
    def update(self, image: str, *, targets: Sequence[str] = (), component: str | None = None,
               expect_version: str | None = None, timeout: float | None = None,
               wait: bool = True) -> UpdateOutcome:
        """Install ``image`` (a URL the BMC can fetch) with UpdateService.SimpleUpdate, wait for its
        task (tolerating one that vanishes and a BMC that reboots into its new firmware), then
        confirm in the FirmwareInventory that ``component`` (an inventory id, name or target URI)
        runs ``expect_version``. Raises ApplyError when the task fails or the version is not there.
        ``wait=False``: return once the BMC accepted the update, the task monitor in ``task.uri``
        (state ``running``), so the caller can record it before waiting (``TaskInterface.wait``)."""


class TaskInterface(Concern):
    @abstractmethod
    def wait(self, monitor: str | None, timeout: float | None = None) -> TaskOutcome:
        """Poll a task monitor until the task ends (``vanished`` when the BMC forgot it)."""

    @abstractmethod
    def running(self) -> list[Mapping[str, Any]]:
        """Tasks of the BMC that have not ended (to adopt work a killed run started)."""

    @abstractmethod
    def wait_bmc(self, timeout: float | None = None, *, confirm: Callable[[], bool] | None = None,
                 steady: int = 2) -> None:
        """Wait until the BMC answers (and ``confirm()`` holds) ``steady`` times in a row (after it
        rebooted itself)."""

    def all(self) -> list[Mapping[str, Any]]:
        """Every task the BMC lists, ended or not."""
        return list(self.running())


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
    read = _unsupported("BIOS settings")
    registry = _unsupported("BIOS settings")
    stage = _unsupported("BIOS settings")
    clear_pending = _unsupported("BIOS settings")


class UnsupportedRaid(_Unsupported, RaidInterface):
    volumes = _unsupported("RAID")
    controllers = _unsupported("RAID")
    create_volume = _unsupported("RAID")
    delete_volume = _unsupported("RAID")
    set_hotspare = _unsupported("RAID")
    wait_idle = _unsupported("RAID")
    update_volume = _unsupported("RAID")
    convert_drive = _unsupported("RAID")


class UnsupportedFirmware(_Unsupported, FirmwareInterface):
    inventory = _unsupported("firmware inventory")
    entries = _unsupported("firmware inventory")
    update = _unsupported("firmware update")


class UnsupportedTasks(_Unsupported, TaskInterface):
    wait = _unsupported("tasks")
    running = _unsupported("tasks")
    wait_bmc = _unsupported("tasks")
    all = _unsupported("tasks")


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
    tasks: TaskInterface | None = None  # None -> an UnsupportedTasks (set in __post_init__)

    def __post_init__(self) -> None:
        if self.tasks is None:
            self.tasks = UnsupportedTasks(self.host, self.protocol, "no task service over this protocol")

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
               UnsupportedConsole(*args), tasks=UnsupportedTasks(*args))
