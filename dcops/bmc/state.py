"""Configuration state a BMC reports (BIOS, storage, firmware) and the outcome of long operations
(tasks). Plain frozen data, no I/O, shared by the Redfish drivers and their callers.

The field names match ``dcops.baseline.state`` (the baselines engineer's model), so that the
baseline and provisioning code can read these objects as they are; the extra fields at the end
(URIs, ETags, apply times) are what the BMC layer needs to write back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from dcops.observation import PowerState


@dataclass(frozen=True)
class RegistryAttribute:
    """One attribute of a BIOS attribute registry."""

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
    """Current and pending BIOS attributes. ``pending`` holds only the values that differ from
    the current ones (some BMCs repeat every attribute in the settings object, some only the
    staged ones)."""

    current: Mapping[str, Any]
    pending: Mapping[str, Any] = field(default_factory=dict)  # staged, applied at the next reset
    registry: Mapping[str, RegistryAttribute] | None = None  # None: the BMC publishes none
    apply_times: tuple[str, ...] = ()  # @Redfish.Settings SupportedApplyTimes
    uri: str = ""  # the Bios resource
    settings_uri: str | None = None  # where a PATCH goes (None: the BMC has no settings object)
    registry_id: str | None = None
    messages: tuple[str, ...] = ()  # what the BMC said about the last apply (errors show up here)
    last_applied: str | None = None  # @Redfish.Settings Time


@dataclass(frozen=True)
class StagedSettings:
    """What ``BiosInterface.stage`` did: where, with which apply time, and the job that applies it
    (Dell iDRAC: a BIOS configuration job) when there is one."""

    uri: str
    apply_time: str | None  # None: the BMC gave no choice (applies at the next reset)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    job: str | None = None  # Dell JID_..., when a configuration job was scheduled


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
    hotspare: str = "none"  # none | global | dedicated | chassis
    state: str | None = None  # ready | non-raid | online | spare | None when the BMC does not say
    failed: bool = False
    firmware: str | None = None
    volumes: tuple[str, ...] = ()  # ids of the volumes this drive belongs to
    health: str | None = None  # Redfish Status.Health as given
    write_cache: bool | None = None  # Drive.WriteCacheEnabled (None: not reported)
    secure_erase_uri: str | None = None  # the Drive.SecureErase action's target (None: not offered)


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
    health: str | None = None
    state: str | None = None  # Enabled, Degraded, Updating (rebuild), UnavailableOffline
    spares_reported: bool = False  # Links.DedicatedSpareDrives present: the binding can be checked
    spares_writable: bool = False  # Links.DedicatedSpareDrives listed in @Redfish.WriteableProperties
    strip_size: int | None = None  # StripSizeBytes (None: not reported)
    initialize_uri: str | None = None  # the Volume.Initialize action's target (None: not offered)
    identifiers: tuple[tuple[str, str], ...] = ()  # (DurableNameFormat, DurableName): NAA, EUI, UUID...


@dataclass(frozen=True)
class ControllerState:
    """One Storage resource (a RAID controller with its drives and volumes)."""

    id: str
    uri: str = ""
    model: str | None = None
    volumes_uri: str = ""
    drives: tuple[DriveState, ...] = ()
    volumes: tuple[VolumeState, ...] = ()
    busy: bool = False  # the controller reports an operation in progress (Status.State Updating)
    raid_types: tuple[str, ...] = ()  # SupportedRAIDTypes, when said
    # How a dedicated spare is bound to its volume here: ``dmtf`` (Volume Links.DedicatedSpareDrives
    # is writable), ``oem`` (a vendor action, Dell AssignSpare), None (no way: such a plan cannot apply).
    spare_binding: str | None = None
    # @Redfish.OperationApplyTimeSupport of the Volumes collection: SupportedValues (empty: not said,
    # Immediate assumed). A controller offering only OnReset applies a create/delete at the next reset.
    apply_times: tuple[str, ...] = ()
    # A controller that passes disks through per controller, not per disk (HPE Smart Array on iLO 5:
    # SmartStorageConfig Ports[].OperatingModeAfterReboot): its mode ``RAID`` (no disk passed
    # through), ``Mixed`` (disks in no logical drive passed through, yet usable for volumes) or ``HBA``
    # (every disk passed through, no volumes); None: per-disk conversion (Dell) or no way at all.
    passthrough_mode: str | None = None
    mode_uri: str = ""  # where the mode is staged (HPE: the SmartStorageConfig settings object)

    def drive_by_bay(self, bay: int) -> DriveState | None:
        return next((d for d in self.drives if d.bay == bay), None)

    def drive_by_id(self, did: str) -> DriveState | None:
        return next((d for d in self.drives if d.id == did), None)

    def volume_by_id(self, vid: str) -> VolumeState | None:
        return next((v for v in self.volumes if v.id == vid), None)


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
class TaskOutcome:
    """How a long operation (task monitor, Dell job) ended.

    ``state``: ``completed`` (TaskState Completed with TaskStatus OK/Warning), ``failed``
    (Exception, Killed, Cancelled, or Completed with TaskStatus Critical), or ``vanished`` (the
    BMC forgot the task: it rebooted, or pruned finished tasks) -- the caller confirms the result
    another way (re-read the volume, the firmware inventory). ``await_reset``: the change is
    staged until the next host reset (BIOS images, Update.AwaitToActivate)."""

    state: str
    messages: tuple[str, ...] = ()
    await_reset: bool = False
    task_state: str | None = None  # the Redfish TaskState / Dell JobState as last seen
    task_status: str | None = None
    percent: int | None = None
    uri: str | None = None  # the task monitor or job
    message_ids: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return "; ".join(self.messages)

    @property
    def ok(self) -> bool:
        return self.state == "completed"


@dataclass(frozen=True)
class UpdateOutcome:
    """What a firmware update did: the task, whether the new version was confirmed in the
    FirmwareInventory, and the version found there."""

    task: TaskOutcome
    confirmed: bool
    version: str | None = None  # the installed version of the component after the update
    staged: bool = False  # applies at the next host reset (BIOS)
    bmc_rebooted: bool = False  # the BMC went away and came back during the update
    component: str | None = None  # the FirmwareInventory id the version was read from


class BootProgress(NamedTuple):
    """Where a host is in its boot: power state, Redfish ``BootProgress.LastState`` and its
    ``LastStateTime`` -- else the system's ``LastResetTime`` -- (None where the BMC does not say). A
    tuple, so ``power, last, stamp = ...``."""

    power: PowerState
    last_state: str | None
    stamp: str | None
