"""Baseline models: profiles, firmware, BIOS, RAID and OS baselines, and the Plan a diff yields.

Plain frozen data, no I/O. Loaded and validated by ``dcops.baseline.load``; compared with what a
BMC reports (``dcops.baseline.state``) by ``dcops.baseline.diff``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dcops.models import SourceRef


class FirmwareClass(StrEnum):
    """Component classes a firmware baseline names. The default update order is the order here."""

    BMC = "bmc"
    BIOS = "bios"
    CPLD = "cpld"
    RAID = "raid"
    HBA = "hba"
    NIC = "nic"
    DRIVE = "drive"
    PSU = "psu"


DEFAULT_UPDATE_ORDER: tuple[FirmwareClass, ...] = tuple(FirmwareClass)
# Which classes need a host reset before the new image runs, unless a baseline says otherwise.
# The BMC restarts itself; drives and NICs of most vendors activate at once or at the next reset we
# do anyway for the BIOS.
DEFAULT_REBOOT: frozenset[FirmwareClass] = frozenset({FirmwareClass.BIOS, FirmwareClass.CPLD})


class VersionRule(StrEnum):
    EXACT = "exact"
    MINIMUM = "minimum"


@dataclass(frozen=True)
class FirmwareRequirement:
    """One component class's required firmware. ``match`` (a regex on the inventory entry's name and
    id) narrows which entries it covers, e.g. only the 25 GbE NIC or one drive model."""

    component: FirmwareClass
    version: str
    rule: VersionRule = VersionRule.MINIMUM
    image: str | None = None  # the image URI the BMC downloads (http/https/nfs...)
    match: str | None = None
    reboot: bool = False
    required: bool = True  # a server without any such component is a finding
    source: SourceRef = field(default_factory=SourceRef)


@dataclass(frozen=True)
class FirmwareBaseline:
    name: str
    components: tuple[FirmwareRequirement, ...]
    order: tuple[FirmwareClass, ...] = DEFAULT_UPDATE_ORDER
    description: str = ""
    source: SourceRef = field(default_factory=SourceRef)

    def ordered(self) -> list[FirmwareRequirement]:
        """Requirements in update order (BMC -> BIOS -> controllers -> drives by default)."""
        rank = {c: i for i, c in enumerate(self.order)}
        return sorted(self.components, key=lambda r: rank.get(r.component, len(rank)))


@dataclass(frozen=True)
class BiosBaseline:
    """Attribute values per scenario. ``attributes`` apply to every vendor; ``by_vendor`` adds or
    overrides per vendor key (dell, hpe, lenovo, supermicro, ...), since BIOS names are vendor's."""

    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    by_vendor: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""
    source: SourceRef = field(default_factory=SourceRef)

    def for_vendor(self, vendor: str | None) -> dict[str, Any]:
        values = dict(self.attributes)
        if vendor:
            values.update(self.by_vendor.get(vendor.lower(), {}))
        return values


class ReadPolicy(StrEnum):
    READ_AHEAD = "read-ahead"
    NO_READ_AHEAD = "no-read-ahead"
    ADAPTIVE = "adaptive"


class WritePolicy(StrEnum):
    WRITE_BACK = "write-back"
    WRITE_THROUGH = "write-through"
    ALWAYS_WRITE_BACK = "always-write-back"


class DiskState(StrEnum):
    READY = "ready"  # unconfigured good, usable in a VD
    NON_RAID = "non-raid"  # passed through to the OS (JBOD)


RAID_LEVELS = ("RAID0", "RAID1", "RAID5", "RAID6", "RAID10", "RAID50", "RAID60")


@dataclass(frozen=True)
class VirtualDisk:
    """One VD of a RAID template. ``disks`` are bay ordinals on the controller (first..last or a
    list); ``capacity_bytes`` None means the maximum (the request then omits the capacity)."""

    name: str
    level: str
    disks: tuple[int, ...]
    capacity_bytes: int | None = None
    read_policy: ReadPolicy | None = None
    write_policy: WritePolicy | None = None
    os: bool = False
    dedicated_spares: tuple[int, ...] = ()
    source: SourceRef = field(default_factory=SourceRef)
    strip_size_bytes: int | None = None  # Volume.StripSizeBytes (None: the controller's default)


@dataclass(frozen=True)
class RaidTemplate:
    name: str
    virtual_disks: tuple[VirtualDisk, ...]
    global_spares: tuple[int, ...] = ()
    controller: str | None = None  # regex on the controller's id/model; None: the first one
    clear_existing: bool = False  # delete VDs the template does not have (destroys data)
    unused_disks: DiskState | None = None  # state of disks in no VD and not a spare (None: leave)
    disk_states: Mapping[int, DiskState] = field(default_factory=dict)  # explicit per bay
    description: str = ""
    source: SourceRef = field(default_factory=SourceRef)
    disk_write_cache: bool | None = None  # Drive.WriteCacheEnabled of the VDs' disks (None: leave)

    @property
    def os_disk(self) -> VirtualDisk | None:
        return next((vd for vd in self.virtual_disks if vd.os), None)


@dataclass(frozen=True)
class SwitchPort:
    """The switch port a host's production NIC is cabled to, and the VLAN it gets there."""

    switch: str
    port: str
    vlan: int | None = None  # untagged (access) VLAN; None: trunk the host's own tagged VLAN


@dataclass(frozen=True)
class Switch:
    """A switch the production-network step changes (through its switch playbook)."""

    name: str
    api: str  # the management API URL (e.g. Arista eAPI https://leaf-a01/)
    username: str | None = None
    password: str | None = None  # a secret reference (env:, file:, cmd:)
    validate_certs: bool = True


@dataclass(frozen=True)
class NetworkValues:
    """Static network values of one host for its answer file."""

    hostname: str
    ip: str
    prefix: int
    gateway: str | None = None
    dns: tuple[str, ...] = ()
    vlan: int | None = None
    interface: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    # The address the host has while it is being provisioned (installer, post-install playbooks);
    # the values above are its production address, first touched by the network step.
    provisioning: NetworkValues | None = None
    switch: SwitchPort | None = None  # where the host's production NIC is cabled (from the book)

    @property
    def install(self) -> NetworkValues:
        """What the installer configures: the provisioning address when the book has one."""
        return self.provisioning or self


@dataclass(frozen=True)
class OsBaseline:
    name: str
    iso: str  # installer ISO URL the BMC can reach
    answer_kind: str  # kickstart | autoinstall
    answer_template: str  # path of the template file (resolved)
    network: Mapping[str, NetworkValues] = field(default_factory=dict)  # host -> values
    network_defaults: Mapping[str, Any] = field(default_factory=dict)
    completion: str = "callback"  # callback | power-off | os-running | powered-on
    timeout_seconds: float = 3600.0
    publish_dir: str | None = None  # where rendered answer files are written (served to installers)
    publish_url: str | None = None
    iso_sha256: str | None = None
    description: str = ""
    source: SourceRef = field(default_factory=SourceRef)
    deploy_user: str = "dcops"  # the account the post-install playbooks log in as
    ssh_key: str | None = None  # a secret reference (env:, file:, cmd:) to its SSH public key
    switches: Mapping[str, Switch] = field(default_factory=dict)
    switch_playbook: str | None = None  # moves the host's switch port to production (pluggable per NOS)
    reach_port: int = 22  # the production address counts as reachable when this TCP port answers (0: no gate)
    # A per-host installer ISO carrying the answer and its kernel arguments: True / False, or None
    # (automatic: autoinstall always, since subiquity asks "Continue with autoinstall?" without
    # ``autoinstall`` on the kernel command line; kickstart only on a BMC with one media slot).
    remaster: bool | None = None
    iso_source: str | None = None  # where dcops reads the stock ISO to remaster (a path or URL; default iso)


@dataclass(frozen=True)
class ExpectedGroup:
    """A group of like parts: ``count`` of them, optionally with a model pattern (glob), media,
    size (GB, decimal, within ``tolerance``) or speed."""

    count: int
    model: str | None = None
    media: str | None = None
    protocol: str | None = None
    size_gb: float | None = None
    watts: int | None = None
    speed_mbps: int | None = None
    line: int = 0


@dataclass(frozen=True)
class ExpectedHardware:
    cpu_model: str | None = None
    cpu_count: int | None = None
    cpu_cores: int | None = None
    memory_gib: int | None = None
    dimm_count: int | None = None
    drives: tuple[ExpectedGroup, ...] = ()
    drive_count: int | None = None
    nics: tuple[ExpectedGroup, ...] = ()
    psus: tuple[ExpectedGroup, ...] = ()
    size_tolerance: float = 0.02


@dataclass(frozen=True)
class Profile:
    """A class of servers: which ones it matches, what hardware they must have and which baselines
    apply, plus the post-install playbooks and the production-network playbook."""

    name: str
    manufacturer: tuple[str, ...] = ()  # glob patterns
    model: tuple[str, ...] = ()
    expected: ExpectedHardware = field(default_factory=ExpectedHardware)
    firmware: str | None = None
    bios: str | None = None
    raid: str | None = None
    os: str | None = None
    playbooks: tuple[str, ...] = ()  # post-install, in order
    network_playbook: str | None = None
    description: str = ""
    source: SourceRef = field(default_factory=SourceRef)


@dataclass(frozen=True)
class Baselines:
    """Everything under one baselines/ directory, validated and cross-checked."""

    root: str
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    firmware: Mapping[str, FirmwareBaseline] = field(default_factory=dict)
    bios: Mapping[str, BiosBaseline] = field(default_factory=dict)
    raid: Mapping[str, RaidTemplate] = field(default_factory=dict)
    os: Mapping[str, OsBaseline] = field(default_factory=dict)


# ------------------------------------------------------------------------------------ the plan

class ChangeKind(StrEnum):
    FIRMWARE = "firmware"
    BIOS = "bios"
    RAID = "raid"


KINDS: tuple[ChangeKind, ...] = (ChangeKind.FIRMWARE, ChangeKind.BIOS, ChangeKind.RAID)


@dataclass(frozen=True)
class Change:
    """One difference between a baseline and a server, and what applying it means.

    ``action``: firmware ``update``; BIOS ``set`` or ``pending`` (the value is already staged and
    only needs a reboot) or ``pending-foreign`` (someone else's staged value a reboot would apply);
    RAID ``delete``, ``create``, ``rename``, ``spare``, ``unspare``, ``convert``, ``policy``.
    """

    kind: ChangeKind
    target: str
    action: str
    old: Any
    new: Any
    reboot: bool = False
    destructive: bool = False
    note: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        text = f"{self.kind.value} {self.target}: {_show(self.old)} -> {_show(self.new)} ({self.action})"
        if self.note:
            text += f" [{self.note}]"
        return text


def _show(value: Any) -> str:
    if value is None:
        return "-"
    return str(value)


@dataclass(frozen=True)
class Plan:
    """The pure diff of one host against its baselines."""

    host: str
    profile: str | None
    changes: tuple[Change, ...] = ()
    problems: tuple[str, ...] = ()  # the baseline is invalid for this server (exit 3)
    unverified: tuple[str, ...] = ()  # wanted values the BMC does not report (cannot be checked)
    baselines: Mapping[str, str] = field(default_factory=dict)  # kind -> baseline name

    def of(self, kind: ChangeKind) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind is kind)

    @property
    def reboots(self) -> list[str]:
        """The kinds whose changes need a host reset."""
        return [k.value for k in KINDS if any(c.reboot for c in self.of(k))]

    @property
    def destructive(self) -> bool:
        return any(c.destructive for c in self.changes)

    @property
    def compliant(self) -> bool:
        return not self.changes and not self.problems
