"""RAID: drives, volumes, hot spares and a controller that does one operation at a time.

Volume create and delete return a task and keep the controller busy for ``timings.raid`` seconds;
a failed drive degrades (or fails) its volume, and a global hot spare takes its place with a rebuild.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dcops.sim.messages import RedfishError
from dcops.sim.profiles import drive_id, drive_locator, volume_id

if TYPE_CHECKING:
    from dcops.sim.state import Bmc, Task

RAID_RULES: dict[str, tuple[int, int | None, bool, int]] = {
    # type: (min drives, max drives, even count required, drives of redundancy)
    "RAID0": (1, None, False, 0),
    "RAID1": (2, 2, False, 1),
    "RAID5": (3, None, False, 1),
    "RAID6": (4, None, False, 2),
    "RAID10": (4, None, True, 1),
}


def usable_bytes(raid_type: str, drives: int, drive_bytes: int) -> int:
    """Usable capacity of a volume of ``drives`` drives of ``drive_bytes`` each."""
    if raid_type == "RAID0":
        return drives * drive_bytes
    if raid_type == "RAID1":
        return drive_bytes
    if raid_type == "RAID5":
        return (drives - 1) * drive_bytes
    if raid_type == "RAID6":
        return (drives - 2) * drive_bytes
    if raid_type == "RAID10":
        return drives // 2 * drive_bytes
    raise ValueError(raid_type)


@dataclass
class DriveState:
    bay: int
    failed: bool = False
    predicted: bool = False
    hotspare: str = "None"  # None, Global, Dedicated
    non_raid: bool = False  # Non-RAID (JBOD, pass-through) rather than Ready for a volume
    write_cache: bool = True  # Drive.WriteCacheEnabled
    erased: int = 0  # times Drive.SecureErase completed (what a test checks)


@dataclass
class Volume:
    n: int
    id: str
    name: str
    raid_type: str
    drives: list[int]
    capacity_bytes: int
    forced_degraded: bool = False
    rebuild_until: float | None = None
    rebuild_start: float | None = None
    encrypted: bool = False
    read_cache: str = "ReadAhead"
    write_cache: str = "ProtectedWriteBack"
    spares: list[int] = field(default_factory=list)  # bays of its dedicated hot spares
    strip_size: int = 65536  # StripSizeBytes
    initialized: list[str] = field(default_factory=list)  # InitializeType of each Volume.Initialize done
    wwn: str = ""  # NAA durable name (Volume.Identifiers), what the OS sees as /dev/disk/by-id/wwn-0x...

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "raid_type": self.raid_type, "drives": list(self.drives),
                "capacity_bytes": self.capacity_bytes, "read_cache": self.read_cache,
                "write_cache": self.write_cache, "wwn": self.wwn}


def volume_wwn(flavour: str, serial: str, n: int, salt: float) -> str:
    """An NAA-6 (Registered Extended) name, 32 hex digits: '6', the controller maker's OUI, then
    a value unique to the volume. HPE iLO 6 1.66 (captured) shows ``600062B2...`` for a SmartArray
    RAID1 volume (Microchip OUI 00062B); the other flavours use the same form with a Broadcom
    (MegaRAID/PERC) OUI. A new volume gets a new name, as a recreated volume does on hardware."""
    oui = "00062B" if flavour == "hpe" else "0605B0"
    digest = hashlib.sha256(f"{serial}:{n}:{salt}".encode()).hexdigest().upper()
    return f"6{oui}{digest[:25]}"


READ_CACHE = ("ReadAhead", "AdaptiveReadAhead", "Off")
# StripSizeBytes a controller takes (the HPE iLO 6 capture's AllowableNumbers).
STRIP_SIZES = (65536, 131072, 262144, 524288, 1048576)
WRITE_CACHE = ("WriteThrough", "ProtectedWriteBack", "UnprotectedWriteBack", "Off")


@dataclass
class StorageState:
    bmc: Bmc
    drives: list[DriveState] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    busy_until: float = 0.0
    busy_with: str = ""
    _next_n: int = 0
    on_reset_only: bool = False  # fault raid_onreset: creates/deletes wait for the next host reset
    staged: list[Any] = field(default_factory=list)  # (task, effect) applied at the next POST
    # HPE Smart Array (iLO 5 SmartStorageConfig Ports[].OperatingModeAfterReboot): the controller-wide
    # pass-through mode in effect and the one staged in the settings object for the next reset. The
    # capture (DL360 Gen10 Plus, iLO 5 3.11) shows Mixed; the simulator starts in RAID so a Non-RAID
    # baseline has something to do.
    hpe_mode: str = "RAID"
    hpe_mode_staged: str | None = None
    hpe_mode_message: str = "Base.1.0.Success"

    def apply_times(self) -> list[str]:
        """Per controller (the profile's ``raid_apply_times``); the raid_onreset fault narrows it."""
        return ["OnReset"] if self.on_reset_only else list(self.bmc.profile.raid_apply_times)

    def _when(self, body: dict[str, Any]) -> str:
        """The request's @Redfish.OperationApplyTime, checked against what the controller supports."""
        when = body.get("@Redfish.OperationApplyTime", "OnReset" if self.on_reset_only else "Immediate")
        if when not in self.apply_times():
            raise RedfishError(400, "PropertyValueNotInList", (str(when), "@Redfish.OperationApplyTime"))
        return str(when)

    def apply_staged(self, at: float) -> None:
        """At POST: operations staged OnReset start (each a task that was Pending until now), and a
        staged HPE controller mode takes effect."""
        if self.hpe_mode_staged is not None:
            self._apply_hpe_mode(self.hpe_mode_staged, at)
        staged, self.staged = self.staged, []
        for task, effect in staged:
            task.state = "Running"
            task.start, task.duration = at, self.bmc.timings.raid
            self.busy_until = at + self.bmc.timings.raid
            self.busy_with = task.id
            self.bmc.schedule(self.bmc.timings.raid, effect, at=at + self.bmc.timings.raid)

    def __post_init__(self) -> None:
        profile = self.bmc.profile
        self.on_reset_only = tuple(profile.raid_apply_times) == ("OnReset",)
        self.drives = [DriveState(bay) for bay in range(len(profile.drives))]
        for bay in profile.hot_spares:
            self.drives[bay].hotspare = "Global"
        for spec in profile.volumes:
            self._add_volume(spec.name, spec.raid_type, list(spec.drives), None)

    # ------------------------------------------------------------------ lookup
    def drive_ids(self) -> list[str]:
        return [drive_id(self.bmc.flavour, d.bay) for d in self.drives]

    def drive_index(self, did: str) -> int | None:
        ids = self.drive_ids()
        return ids.index(did) if did in ids else None

    def volume(self, vid: str) -> Volume | None:
        return next((v for v in self.volumes if v.id == vid), None)

    def volume_of(self, bay: int) -> Volume | None:
        return next((v for v in self.volumes if bay in v.drives), None)

    @property
    def per_controller(self) -> bool:
        """HPE Smart Array: disks are passed through per controller mode, not per disk."""
        return self.bmc.flavour.name == "hpe"

    def is_non_raid(self, bay: int) -> bool:
        """Whether a drive in no volume and no spare is passed through to the OS."""
        if self.per_controller:
            return self.hpe_mode in ("Mixed", "HBA")
        return self.drives[bay].non_raid

    def _joins_volume_refused(self, bay: int) -> bool:
        """A pass-through drive must be made RAID-capable before it joins a volume or becomes a
        spare -- except on a Smart Array in Mixed mode, where unconfigured disks are both."""
        if self.per_controller:
            return self.hpe_mode == "HBA"
        return self.drives[bay].non_raid

    def stage_hpe_mode(self, mode: str) -> None:
        """PATCH of SmartStorageConfig settings Ports[].OperatingModeAfterReboot: staged until the
        next reset (HPE: "will not take effect until the system is reset")."""
        self.hpe_mode_staged = None if mode == self.hpe_mode else mode

    def _apply_hpe_mode(self, mode: str, at: float) -> None:
        self.hpe_mode_staged = None
        if mode == "HBA" and self.volumes:
            # Smart Array refuses HBA mode while logical drives exist; the reset reports it.
            self.hpe_mode_message = "SmartStorageMessages.2.0.LogicalDrivesExist"
            return
        self.hpe_mode, self.hpe_mode_message = mode, "Base.1.0.Success"
        for bay in range(len(self.drives)):
            if self.volume_of(bay) is None and self.drives[bay].hotspare == "None":
                self.bmc.add_sel("drive_mode", at=at, name=drive_locator(self.bmc.flavour, bay),
                                 mode="Non-RAID" if mode != "RAID" else "RAID")

    def raid_status(self, bay: int) -> str:
        """The drive's RAID state as Dell's RaidStatus names it: Failed, Online (in a volume or a hot
        spare), NonRAID (pass-through) or Ready (free for a volume)."""
        drive = self.drives[bay]
        if drive.failed:
            return "Failed"
        if self.volume_of(bay) is not None or drive.hotspare != "None":
            return "Online"
        return "NonRAID" if self.is_non_raid(bay) else "Ready"

    # ------------------------------------------------------------------ health
    def drive_health(self, bay: int) -> str:
        drive = self.drives[bay]
        if drive.failed:
            return "Critical"
        if drive.predicted:
            return "Warning"
        return "OK"

    def volume_status(self, vol: Volume, now: float | None = None) -> tuple[str, str]:
        """(Health, State) of a volume."""
        now = self.bmc.clock() if now is None else now
        failed = sum(1 for bay in vol.drives if self.drives[bay].failed)
        tolerance = RAID_RULES[vol.raid_type][3]
        if failed > tolerance:
            return "Critical", "UnavailableOffline"
        if failed or vol.forced_degraded:
            return "Warning", "Degraded"
        if vol.rebuild_until is not None and now < vol.rebuild_until:
            return "Warning", "Updating"
        return "OK", "Enabled"

    def health(self) -> str:
        from dcops.sim.state import worst

        return worst(*(self.drive_health(d.bay) for d in self.drives),
                     *(self.volume_status(v)[0] for v in self.volumes))

    # ------------------------------------------------------------------ operations
    def _check_idle(self) -> None:
        now = self.bmc.clock()
        if now < self.busy_until:
            raise RedfishError(409, "ResourceInUse", vendor=_BUSY.get(self.bmc.flavour.name),
                               headers={"Retry-After": str(max(1, int(self.busy_until - now + 0.999)))})

    def _add_volume(self, name: str | None, raid_type: str, drives: list[int], capacity: int | None) -> Volume:
        n = self._next_n
        self._next_n += 1
        profile = self.bmc.profile
        smallest = min(profile.drives[bay].capacity_bytes for bay in drives)
        vol = Volume(n, volume_id(self.bmc.flavour, n), name or f"Virtual Disk {n}", raid_type, drives,
                     capacity if capacity is not None else usable_bytes(raid_type, len(drives), smallest),
                     wwn=volume_wwn(self.bmc.flavour.name, self.bmc.serial, n, self.bmc.created))
        self.volumes.append(vol)
        return vol

    def create_volume(self, body: dict[str, Any], drive_lookup: dict[str, int]) -> Task:
        """POST to the Volumes collection. ``drive_lookup`` maps drive URIs (lower case) to bays."""
        self._check_idle()
        raid_type = body.get("RAIDType")
        if raid_type is None:
            raise RedfishError(400, "PropertyMissing", ("RAIDType",))
        if raid_type not in RAID_RULES:
            raise RedfishError(400, "PropertyValueNotInList", (str(raid_type), "RAIDType"))
        links = body.get("Links", {}) if isinstance(body.get("Links"), dict) else {}
        refs = links.get("Drives", body.get("Drives"))
        if not isinstance(refs, list) or not refs:
            raise RedfishError(400, "PropertyMissing", ("Links/Drives",))
        bays: list[int] = []
        for ref in refs:
            uri = ref.get("@odata.id") if isinstance(ref, dict) else None
            if not isinstance(uri, str):
                raise RedfishError(400, "PropertyValueTypeError", (str(ref), "Links/Drives"))
            bay = drive_lookup.get(uri.rstrip("/").lower())
            if bay is None:
                raise RedfishError(400, "ResourceMissingAtURI", (uri,))
            if bay in bays:
                raise RedfishError(400, "PropertyValueConflict", (uri, "Links/Drives"))
            bays.append(bay)
        lo, hi, even, _ = RAID_RULES[raid_type]
        if len(bays) < lo or (hi is not None and len(bays) > hi) or (even and len(bays) % 2):
            raise RedfishError(400, "PropertyValueConflict", ("Links/Drives", "RAIDType"))
        for bay in bays:
            uri = refs[bays.index(bay)]["@odata.id"]
            drive = self.drives[bay]
            if self.volume_of(bay) is not None or drive.hotspare != "None":
                raise RedfishError(400, "ResourceInUse", vendor=_IN_USE.get(self.bmc.flavour.name))
            if drive.failed:
                raise RedfishError(400, "PropertyValueConflict", (uri, "Status"))
            if self._joins_volume_refused(bay):
                # A pass-through drive must be converted to RAID (Ready) before it joins a volume.
                raise RedfishError(400, "ResourceInUse", vendor=_NON_RAID.get(self.bmc.flavour.name))
        specs = [self.bmc.profile.drives[bay] for bay in bays]
        if len({(s.media, s.protocol) for s in specs}) > 1:
            # PERC, Smart Array and MegaRAID all refuse to mix SSD/HDD or SAS/SATA in one volume.
            raise RedfishError(400, "PropertyValueConflict", ("Links/Drives", "MediaType"))
        maximum = usable_bytes(raid_type, len(bays), min(s.capacity_bytes for s in specs))
        capacity = body.get("CapacityBytes")
        if capacity is not None:
            if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity <= 0:
                raise RedfishError(400, "PropertyValueTypeError", (str(capacity), "CapacityBytes"))
            if capacity > maximum:
                raise RedfishError(400, "PropertyValueOutOfRange", (str(capacity), "CapacityBytes"))
        name = body.get("Name") or body.get("DisplayName")
        caches = check_cache_policies(body)
        strip = body.get("StripSizeBytes", 65536)
        if strip not in STRIP_SIZES:
            raise RedfishError(400, "PropertyValueNotInList", (str(strip), "StripSizeBytes"))
        when = self._when(body)
        bmc = self.bmc
        task = bmc.new_task("Create volume", "raid", bmc.timings.raid)

        def done(at: float) -> None:
            vol = self._add_volume(name if isinstance(name, str) else None, raid_type, bays, capacity)
            vol.read_cache = caches.get("ReadCachePolicy", vol.read_cache)
            vol.write_cache = caches.get("WriteCachePolicy", vol.write_cache)
            vol.strip_size = int(strip)
            task.target = vol.id
            bmc.finish_task(task, at, message=("Base.1.8.Created", f"Volume {vol.id} created."))

        return self._start(task, done, when)

    def _start(self, task: Task, done: Any, when: str) -> Task:
        if when == "OnReset":
            task.state = "Pending"  # until the next host reset (DMTF TaskState Pending)
            self.staged.append((task, done))
            return task
        self.busy_until = self.bmc.clock() + self.bmc.timings.raid
        self.busy_with = task.id
        self.bmc.schedule(self.bmc.timings.raid, done)
        return task

    def delete_volume(self, vid: str, body: dict[str, Any] | None = None) -> Task:
        vol = self.volume(vid)
        if vol is None:
            raise RedfishError(404, "ResourceMissingAtURI", (vid,))
        self._check_idle()
        when = self._when(body or {})
        bmc = self.bmc
        task = bmc.new_task("Delete volume", "raid", bmc.timings.raid, target=vid)

        def done(at: float) -> None:
            if vol in self.volumes:
                self.volumes.remove(vol)
            for bay in vol.spares:  # a deleted volume's dedicated spares are freed with it
                self.drives[bay].hotspare = "None"
            vol.spares.clear()
            bmc.finish_task(task, at, message=("Base.1.8.Success", f"Volume {vid} deleted."))

        return self._start(task, done, when)

    def set_hotspare(self, bay: int, value: Any) -> None:
        if value not in ("None", "Global", "Dedicated"):
            raise RedfishError(400, "PropertyValueNotInList", (str(value), "HotspareType"))
        if value == "Dedicated":
            # A Dedicated type alone serves no volume: it is bound through the volume (or Dell's
            # AssignSpare), never set on the drive.
            raise RedfishError(400, "PropertyValueNotInList", (str(value), "HotspareType"))
        drive = self.drives[bay]
        if value != "None" and self.volume_of(bay) is not None:
            raise RedfishError(400, "ResourceInUse", vendor=_IN_USE.get(self.bmc.flavour.name))
        if value != "None" and drive.failed:
            raise RedfishError(400, "PropertyValueConflict", ("HotspareType", "Status"))
        if value != "None" and self._joins_volume_refused(bay):
            raise RedfishError(400, "ResourceInUse", vendor=_NON_RAID.get(self.bmc.flavour.name))
        self._check_idle()
        drive.hotspare = value
        if value == "None":
            for vol in self.volumes:
                if bay in vol.spares:
                    vol.spares.remove(bay)

    def _spare_ready(self, bay: int) -> None:
        drive = self.drives[bay]
        if self.volume_of(bay) is not None or drive.hotspare != "None":
            raise RedfishError(400, "ResourceInUse", vendor=_IN_USE.get(self.bmc.flavour.name))
        if drive.failed:
            raise RedfishError(400, "PropertyValueConflict", ("HotspareType", "Status"))
        if self._joins_volume_refused(bay):
            raise RedfishError(400, "ResourceInUse", vendor=_NON_RAID.get(self.bmc.flavour.name))

    def set_dedicated_spares(self, vid: str, bays: list[int]) -> None:
        """PATCH of a Volume's Links.DedicatedSpareDrives: the list replaces the volume's spares
        (added drives must be free and RAID-capable; removed ones become plain drives)."""
        vol = self.volume(vid)
        if vol is None:
            raise RedfishError(404, "ResourceMissingAtURI", (vid,))
        self._check_idle()
        for bay in bays:
            if bay not in vol.spares:
                self._spare_ready(bay)
        for bay in vol.spares:
            if bay not in bays:
                self.drives[bay].hotspare = "None"
        for bay in bays:
            self.drives[bay].hotspare = "Dedicated"
        vol.spares = list(bays)

    def assign_spare(self, bay: int, vids: list[str]) -> Task:
        """Dell's DellRaidService.AssignSpare: a job; global without volumes, else dedicated to them."""
        self._check_idle()
        vols = []
        for vid in vids:
            vol = self.volume(vid)
            if vol is None:
                raise RedfishError(400, "ActionParameterValueNotInList", (vid, "VirtualDiskArray",
                                                                          "DellRaidService.AssignSpare"))
            vols.append(vol)
        self._spare_ready(bay)
        return self._job("Assign hot spare", lambda: self._assign(bay, vols))

    def _assign(self, bay: int, vols: list[Volume]) -> None:
        self.drives[bay].hotspare = "Dedicated" if vols else "Global"
        for vol in vols:
            vol.spares.append(bay)

    def unassign_spare(self, bay: int) -> Task:
        """Dell's DellRaidService.UnassignSpare: a job that releases a global or dedicated spare."""
        self._check_idle()
        if self.drives[bay].hotspare == "None":
            raise RedfishError(400, "ActionParameterValueNotInList", (str(bay), "TargetFQDD",
                                                                      "DellRaidService.UnassignSpare"))
        return self._job("Unassign hot spare", lambda: self.set_hotspare_now(bay))

    def set_hotspare_now(self, bay: int) -> None:
        self.drives[bay].hotspare = "None"
        for vol in self.volumes:
            if bay in vol.spares:
                vol.spares.remove(bay)

    def secure_erase(self, bay: int) -> Task:
        self._check_idle()
        drive = self.drives[bay]
        if self.volume_of(bay) is not None or drive.hotspare != "None":
            raise RedfishError(400, "ResourceInUse", vendor=_IN_USE.get(self.bmc.flavour.name))
        if drive.failed:
            raise RedfishError(400, "PropertyValueConflict", ("SecureErase", "Status"))

        def effect() -> None:
            drive.erased += 1
        return self._job("Secure erase", effect)

    def initialize(self, vid: str, kind: str) -> Task:
        vol = self.volume(vid)
        if vol is None:
            raise RedfishError(404, "ResourceMissingAtURI", (vid,))
        self._check_idle()
        return self._job(f"Initialize volume ({kind})", lambda: vol.initialized.append(kind))

    def _job(self, name: str, effect: Any) -> Task:
        bmc = self.bmc
        task = bmc.new_task(name, "raid", bmc.timings.raid, target=bmc.flavour.storage_id)
        self.busy_until = bmc.clock() + bmc.timings.raid
        self.busy_with = task.id

        def done(at: float) -> None:
            effect()
            bmc.finish_task(task, at, message=("Base.1.8.Success", f"{name}: done."))

        bmc.schedule(bmc.timings.raid, done)
        return task

    def patch_volume(self, vid: str, body: dict[str, Any]) -> None:
        """PATCH of a Volume: ReadCachePolicy, WriteCachePolicy and its name (``DisplayName``, or
        ``Name`` as some BMCs take it) while the controller is idle."""
        vol = self.volume(vid)
        if vol is None:
            raise RedfishError(404, "ResourceMissingAtURI", (vid,))
        for key in body:
            if key.startswith("@") or key in ("ReadCachePolicy", "WriteCachePolicy", "DisplayName", "Name"):
                continue
            if key == "Links" and self.bmc.flavour.spare_binding == "dmtf":
                continue  # Links.DedicatedSpareDrives, handled by the caller
            known = key in ("Id", "RAIDType", "CapacityBytes", "Status", "Links", "Encrypted", "BlockSizeBytes",
                            "Operations")
            raise RedfishError(400, "PropertyNotWritable" if known else "PropertyUnknown", (key,))
        caches = check_cache_policies(body)
        names = {body[k] for k in ("DisplayName", "Name") if k in body}
        if any(not isinstance(n, str) or not n or len(n) > 64 for n in names) or len(names) > 1:
            raise RedfishError(400, "PropertyValueFormatError", (str(sorted(map(str, names))), "DisplayName"))
        self._check_idle()
        vol.read_cache = caches.get("ReadCachePolicy", vol.read_cache)
        vol.write_cache = caches.get("WriteCachePolicy", vol.write_cache)
        if names:
            vol.name = names.pop()

    def _bays_for_conversion(self, bays: list[int], to_non_raid: bool) -> None:
        fl = self.bmc.flavour.name
        for bay in bays:
            status = self.raid_status(bay)
            if to_non_raid and status != "Ready":
                raise RedfishError(400, "ResourceInUse", vendor=(_NOT_READY.get(fl) or _IN_USE.get(fl)))
            if not to_non_raid and status != "NonRAID":
                raise RedfishError(400, "ResourceInUse", vendor=_NOT_NON_RAID.get(fl))

    def convert(self, bays: list[int], to_non_raid: bool) -> Task:
        """Dell's DellRaidService.ConvertToNonRAID / ConvertToRAID: a task that keeps the controller
        busy, after which the drives are Non-RAID (pass-through) or Ready."""
        self._check_idle()
        if not bays:
            raise RedfishError(400, "ActionParameterMissing", (
                f"DellRaidService.ConvertTo{'NonRAID' if to_non_raid else 'RAID'}", "PDArray"))
        self._bays_for_conversion(bays, to_non_raid)
        bmc = self.bmc
        mode = "Non-RAID" if to_non_raid else "RAID"
        task = bmc.new_task(f"Convert to {mode}", "raid", bmc.timings.raid, target=self.bmc.flavour.storage_id)
        self.busy_until = bmc.clock() + bmc.timings.raid
        self.busy_with = task.id

        def done(at: float) -> None:
            for bay in bays:
                self.drives[bay].non_raid = to_non_raid
                bmc.add_sel("drive_mode", at=at, name=drive_locator(bmc.flavour, bay), mode=mode)
            bmc.finish_task(task, at, message=("Base.1.8.Success", f"Converted {len(bays)} drive(s) to {mode}."))

        bmc.schedule(bmc.timings.raid, done)
        return task

    def set_raid_status(self, bay: int, value: Any) -> None:
        """The simple form of the other flavours: PATCH ``Oem.DcopsSim.RaidStatus`` to ``NonRAID`` or
        ``Ready``; applied at once, refused while the controller is busy."""
        if value not in ("Ready", "NonRAID"):
            raise RedfishError(400, "PropertyValueNotInList", (str(value), "Oem/DcopsSim/RaidStatus"))
        if self.raid_status(bay) == value:
            return
        self._check_idle()
        self._bays_for_conversion([bay], value == "NonRAID")
        self.drives[bay].non_raid = value == "NonRAID"
        self.bmc.add_sel("drive_mode", name=drive_locator(self.bmc.flavour, bay),
                         mode="Non-RAID" if value == "NonRAID" else "RAID")

    # ------------------------------------------------------------------ faults
    def fail_drive(self, bay: int, at: float | None = None) -> None:
        bmc = self.bmc
        at = bmc.clock() if at is None else at
        drive = self.drives[bay]
        if drive.failed:
            return
        drive.failed = True
        name = drive_locator(bmc.flavour, bay)
        bmc.add_sel("drive_fail", at=at, name=name)
        vol = self.volume_of(bay)
        if vol is None:
            return
        health, _ = self.volume_status(vol, at)
        bmc.add_sel("volume_failed" if health == "Critical" else "volume_degraded", at=at, name=vol.name,
                    controller=bmc.profile.raid_model)
        if health == "Critical":
            return
        # Its own dedicated spares first, then a global one; another volume's dedicated spare never.
        spare = next((self.drives[b] for b in vol.spares if not self.drives[b].failed
                      and bmc.profile.drives[b].capacity_bytes >= bmc.profile.drives[bay].capacity_bytes), None)
        spare = spare or next((d for d in self.drives if d.hotspare == "Global" and not d.failed
                      and self.volume_of(d.bay) is None
                      and bmc.profile.drives[d.bay].capacity_bytes >= bmc.profile.drives[bay].capacity_bytes), None)
        if spare is not None:
            self._rebuild(vol, bay, spare.bay, at)

    def _rebuild(self, vol: Volume, failed_bay: int, spare_bay: int, at: float) -> None:
        bmc = self.bmc
        spare = self.drives[spare_bay]
        spare.hotspare = "None"
        if spare_bay in vol.spares:
            vol.spares.remove(spare_bay)
        vol.drives[vol.drives.index(failed_bay)] = spare_bay
        vol.rebuild_start = at
        vol.rebuild_until = at + bmc.timings.rebuild
        bmc.add_sel("volume_rebuild", at=at, name=vol.name, spare=drive_locator(bmc.flavour, spare_bay))

        def done(t: float) -> None:
            if self.volume_status(vol, t)[0] == "OK":
                bmc.add_sel("volume_ok", at=t, name=vol.name, controller=bmc.profile.raid_model)

        bmc.schedule(0.0, done, at=vol.rebuild_until)

    def replace_drive(self, bay: int, at: float | None = None) -> None:
        """The failed drive is swapped for a good one: a degraded volume rebuilds onto it."""
        bmc = self.bmc
        at = bmc.clock() if at is None else at
        drive = self.drives[bay]
        was_failed = drive.failed
        drive.failed = False
        drive.predicted = False
        if not was_failed:
            return
        bmc.add_sel("drive_ok", at=at, name=drive_locator(bmc.flavour, bay))
        vol = self.volume_of(bay)
        if vol is not None and not vol.forced_degraded:
            vol.rebuild_start = at
            vol.rebuild_until = at + bmc.timings.rebuild
            bmc.add_sel("volume_rebuild", at=at, name=vol.name, spare=drive_locator(bmc.flavour, bay))

            def done(t: float) -> None:
                if self.volume_status(vol, t)[0] == "OK":
                    bmc.add_sel("volume_ok", at=t, name=vol.name, controller=bmc.profile.raid_model)

            bmc.schedule(0.0, done, at=vol.rebuild_until)


_BUSY: dict[str, tuple[str, str]] = {
    "dell": ("IDRAC.2.8.STOR023", "Unable to perform the operation because a configuration job for the "
                                  "controller is already scheduled or running."),
    "hpe": ("iLO.2.15.ResourceInUse", ""),
    "lenovo": ("Base.1.8.ResourceInUse", "The RAID controller is busy with another operation."),
    "supermicro": ("Base.1.4.ResourceInUse", "The RAID controller is busy with another operation."),
}

def check_cache_policies(body: dict[str, Any]) -> dict[str, str]:
    """ReadCachePolicy / WriteCachePolicy of a Volume create or PATCH, validated against the schema's values."""
    out: dict[str, str] = {}
    for key, allowed in (("ReadCachePolicy", READ_CACHE), ("WriteCachePolicy", WRITE_CACHE)):
        if key in body:
            value = body[key]
            if not isinstance(value, str):
                raise RedfishError(400, "PropertyValueTypeError", (str(value), key))
            if value not in allowed:
                raise RedfishError(400, "PropertyValueNotInList", (value, key))
            out[key] = value
    return out


_NON_RAID: dict[str, tuple[str, str]] = {
    "dell": ("IDRAC.2.8.STOR011", "The physical disk is a Non-RAID disk: convert it to RAID first."),
}

_NOT_READY: dict[str, tuple[str, str]] = {
    "dell": ("IDRAC.2.8.STOR012", "Unable to convert the physical disk to Non-RAID because it is not in the Ready "
                                  "state."),
}

_NOT_NON_RAID: dict[str, tuple[str, str]] = {
    "dell": ("IDRAC.2.8.STOR013", "Unable to convert the physical disk to RAID because it is not a Non-RAID "
                                  "disk."),
}

_IN_USE: dict[str, tuple[str, str]] = {
    "dell": ("IDRAC.2.8.STOR016", "The physical disk is already part of a virtual disk or is a hot spare."),
    "lenovo": ("Base.1.8.ResourceInUse", "The drive is already in use."),
}
