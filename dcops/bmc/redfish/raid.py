"""RAID over Redfish: storage controllers with drives and volumes, volume create/delete through
task monitors, hot spares -- one controller operation at a time.

A RAID controller does one configuration operation at a time and refuses a second with 409
(``ResourceInUse``, Dell ``STOR023``) and a ``Retry-After``; while it works, the controller's
``Status.State`` is ``Updating``. So every write here takes the BMC's storage lock, waits until
no controller is busy, retries a "busy" refusal within ``Pacing.busy_timeout``, and (``wait``)
waits for the operation's task before letting the next one start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from dcops.bmc import base
from dcops.bmc.redfish import oem
from dcops.bmc.redfish.bodies import hotspare_body, volume_body, volume_patch_body
from dcops.bmc.redfish.connector import Response
from dcops.bmc.redfish.docs import Doc, FetchError, link, links_of, normalize, state_of
from dcops.bmc.redfish.keys import EXPAND_ONE_LEVEL, HOTSPARE_TYPES, ODATA_ID, READ_POLICY, WRITE_POLICY
from dcops.bmc.redfish.shared import BUSY_WORDS, Shared
from dcops.bmc.redfish.tasks import Clock, Pacing, monitor_of, wait_task
from dcops.bmc.state import ControllerState, DriveState, TaskOutcome, VolumeState
from dcops.errors import ApplyError

log = logging.getLogger(__name__)

__all__ = ["BUSY_WORDS", "READ_POLICY", "WRITE_POLICY", "RedfishRaid", "parse_drive", "parse_volume"]

_READ_BACK = {v.lower(): k for k, v in READ_POLICY.items()}
_WRITE_BACK = {v.lower(): k for k, v in WRITE_POLICY.items()}


def parse_drive(doc: Doc, uri: str, index: int, quirks: oem.Quirks = oem.GENERIC) -> DriveState:
    location = doc.get("PhysicalLocation") or doc.get("Location") or {}
    part = location.get("PartLocation") if isinstance(location, dict) else None
    ordinal = part.get("LocationOrdinalValue") if isinstance(part, dict) else None
    bay = ordinal if isinstance(ordinal, int) and not isinstance(ordinal, bool) else index
    raw_status = doc.get("Status")
    status: Doc = raw_status if isinstance(raw_status, dict) else {}
    health = status.get("Health") if isinstance(status.get("Health"), str) else None
    failed = health == "Critical" or status.get("State") == "UnavailableOffline"
    state = quirks.drive_state(doc)
    label = part.get("ServiceLabel") if isinstance(part, dict) else None
    volumes = tuple(u.rstrip("/").rsplit("/", 1)[-1] for u in links_of(doc.get("Links"), "Volumes"))
    cache = doc.get("WriteCacheEnabled")
    return DriveState(str(doc.get("Id") or uri.rstrip("/").rsplit("/", 1)[-1]), bay, uri,
                      str(label or doc.get("Name") or ""), doc.get("Model"), doc.get("MediaType"),
                      doc.get("Protocol"), doc.get("CapacityBytes"), str(doc.get("HotspareType") or "None").lower(),
                      state, failed, doc.get("Revision"), volumes, health,
                      cache if isinstance(cache, bool) else None, _action(doc, "#Drive.SecureErase"))


def with_mode(ctrl: ControllerState, mode: str, mode_uri: str) -> ControllerState:
    """``ctrl`` with its per-controller pass-through mode, and the disk states it implies for drives
    the BMC gives no state of: in a volume online, a spare spare, otherwise passed through (Mixed,
    HBA) or RAID-capable (RAID)."""
    drives = []
    for d in ctrl.drives:
        state = d.state
        if state is None:
            if d.volumes:
                state = "online"
            elif d.hotspare != "none":
                state = "spare"
            else:
                state = "ready" if mode == "RAID" else "non-raid"
        drives.append(replace(d, state=state))
    return replace(ctrl, drives=tuple(drives), passthrough_mode=mode, mode_uri=mode_uri)


def _action(doc: Doc, name: str) -> str | None:
    actions = doc.get("Actions")
    entry = actions.get(name) if isinstance(actions, dict) else None
    target = entry.get("target") if isinstance(entry, dict) else None
    return str(target) if isinstance(target, str) and target else None


def parse_volume(doc: Doc, drives: Sequence[DriveState]) -> VolumeState:
    by_uri = {normalize(d.uri): d.id for d in drives}

    def ids(key: str) -> tuple[str, ...]:
        return tuple(by_uri.get(normalize(u), u.rstrip("/").rsplit("/", 1)[-1]) for u in links_of(doc.get("Links"), key))

    read, write = doc.get("ReadCachePolicy"), doc.get("WriteCachePolicy")
    level = doc.get("RAIDType") or doc.get("VolumeType")
    raw_status = doc.get("Status")
    status: Doc = raw_status if isinstance(raw_status, dict) else {}
    raw_links = doc.get("Links")
    links: Doc = raw_links if isinstance(raw_links, dict) else {}
    return VolumeState(str(doc.get("Id") or ""), str(doc.get(ODATA_ID) or ""),
                       doc.get("DisplayName") or doc.get("Name"), str(level).upper() if level else None,
                       doc.get("CapacityBytes"), ids("Drives"),
                       _READ_BACK.get(str(read).lower()) if read else None,
                       _WRITE_BACK.get(str(write).lower()) if write else None, ids("DedicatedSpareDrives"),
                       status.get("Health") if isinstance(status.get("Health"), str) else None, state_of(doc),
                       identifiers=_identifiers(doc),
                       spares_reported="DedicatedSpareDrives" in links, spares_writable=_spares_writable(doc),
                       strip_size=doc.get("StripSizeBytes") if isinstance(doc.get("StripSizeBytes"), int) else None,
                       initialize_uri=_action(doc, "#Volume.Initialize"))


def _spares_writable(doc: Doc) -> bool:
    """Whether the Volume says Links.DedicatedSpareDrives may be PATCHed (HPE iLO 6 lists it in
    ``Links.@Redfish.WriteableProperties``; the DMTF form is ``Links/DedicatedSpareDrives`` at the top)."""
    raw_links = doc.get("Links")
    inner = raw_links.get("@Redfish.WriteableProperties") if isinstance(raw_links, dict) else None
    outer = doc.get("@Redfish.WriteableProperties")
    return (isinstance(inner, list) and "DedicatedSpareDrives" in inner) or (
        isinstance(outer, list) and "Links/DedicatedSpareDrives" in outer)


def spare_binding_of(capabilities: Doc | None, volumes: Sequence[VolumeState], quirks: oem.Quirks) -> str | None:
    """How this controller binds a dedicated spare (see ``ControllerState.spare_binding``): the
    Volumes collection's capabilities object (``Links.DedicatedSpareDrives@Redfish.UpdatableAfterCreate``,
    as HPE iLO 6 publishes it), a volume that lists the link writable, else a vendor action."""
    links = (capabilities or {}).get("Links")
    if isinstance(links, dict) and links.get("DedicatedSpareDrives@Redfish.UpdatableAfterCreate") is True:
        return "dmtf"
    if any(v.spares_writable for v in volumes):
        return "dmtf"
    return "oem" if quirks.assign_spare("/", "probe", "probe") is not None else None


def _identifiers(doc: Doc) -> tuple[tuple[str, str], ...]:
    """``Identifiers`` as (format, name); empty ones dropped (iDRAC 6.00 lists ``[]`` for its
    pass-through NVMe volumes; Huawei iBMC 3.12 has no such property)."""
    found = []
    for item in doc.get("Identifiers") or []:
        if isinstance(item, dict) and isinstance(item.get("DurableName"), str) and item["DurableName"].strip():
            found.append((str(item.get("DurableNameFormat") or ""), item["DurableName"].strip()))
    return tuple(found)


class RedfishRaid(base.RaidInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared, host: str, pacing: Pacing | None = None, clock: Clock | None = None,
                 tasks: base.TaskInterface | None = None) -> None:
        self.s = shared
        self.host = host
        self.pacing = pacing or Pacing()
        self.clock = clock or Clock()
        self.tasks = tasks  # for wait_idle(tasks=True)

    # ------------------------------------------------------------------ reading
    def volumes(self) -> list[Mapping[str, Any]]:
        obs = self.s.observe({"components"})
        return [{"location": c.location, "capacity_bytes": c.capacity_bytes, **c.extra}
                for c in obs.components if c.kind.value == "volume"]

    def _storage_uri(self) -> str:
        return link(self.s.system(), "Storage") or f"{self.s.system_uri()}/Storage"

    def _controller_docs(self, storage: Doc) -> list[Doc]:
        controllers = [c for c in storage.get("StorageControllers") or [] if isinstance(c, dict)]
        if not controllers and link(storage, "Controllers"):
            try:
                controllers = self.s.members(link(storage, "Controllers"))
            except FetchError:
                controllers = []
        return controllers

    def _drive_docs(self, storage: Doc) -> list[tuple[str, Doc | None]]:
        """(uri, document or None when it still has to be read) of a Storage's drives. Where the BMC
        supports $expand, the Storage is read again expanded: one request instead of one per drive."""
        entries = [d for d in storage.get("Drives") or [] if isinstance(d, dict)]
        if self.s.expand() and any(set(d) == {ODATA_ID} for d in entries) and storage.get(ODATA_ID):
            try:
                expanded = self.s.conn.get(f"{storage[ODATA_ID]}?{EXPAND_ONE_LEVEL}")
                entries = [d for d in expanded.get("Drives") or [] if isinstance(d, dict)] or entries
            except FetchError as exc:
                log.info("%s: %s", self.host, exc)
        return [(str(d[ODATA_ID]), d if len(d) > 1 else None) for d in entries if isinstance(d.get(ODATA_ID), str)]

    def _controller_mode(self, quirks: oem.Quirks) -> tuple[str | None, str, Doc]:
        """(mode, settings URI, document) where the vendor passes disks through per controller."""
        uri = quirks.controller_mode_uri(self.s.system())
        if uri is None:
            return None, "", {}
        try:
            doc = self.s.conn.get(uri)
        except FetchError as exc:
            log.info("%s: %s", self.host, exc)  # iLO 6: no SmartStorageConfig any more
            return None, "", {}
        mode, settings = quirks.controller_mode(doc)
        return mode, settings, doc

    def controllers(self) -> list[ControllerState]:
        quirks = self.s.quirks()
        mode, mode_uri, _ = self._controller_mode(quirks)
        out = []
        for storage in self.s.members(self._storage_uri(), "storage"):
            ctrls = self._controller_docs(storage)
            first = ctrls[0] if ctrls else {}
            drives = []
            for index, (uri, doc) in enumerate(self._drive_docs(storage)):
                try:
                    drives.append(parse_drive(doc if doc is not None else self.s.conn.get(uri), uri, index, quirks))
                except FetchError as exc:
                    log.info("%s: %s", self.host, exc)
            volumes_uri = link(storage, "Volumes") or ""
            volumes = [parse_volume(doc, drives) for doc in self.s.members(volumes_uri)] if volumes_uri else []
            model = first.get("Model") or storage.get("Name")
            caps, apply_times = self._volume_capabilities(volumes_uri)
            raid_types = tuple(str(t) for t in first.get("SupportedRAIDTypes") or [])
            out.append(ControllerState(str(storage.get("Id") or ""), str(storage.get(ODATA_ID) or ""),
                                       str(model) if model else None, volumes_uri, tuple(drives), tuple(volumes),
                                       state_of(first) == "Updating", raid_types,
                                       spare_binding_of(caps, volumes, quirks), apply_times))
        raid_capable = [c for c in out if c.raid_types and c.drives]
        if mode is not None and len(raid_capable) == 1:
            # One mode document for the system: it is the one RAID controller's (iLO 5 numbers a
            # second controller's SmartStorageConfig1, which names no DMTF Storage: left unverified).
            ctrl = raid_capable[0]
            out[out.index(ctrl)] = with_mode(ctrl, mode, mode_uri)
        return out

    def _volume_capabilities(self, volumes_uri: str) -> tuple[Doc | None, tuple[str, ...]]:
        """The Volumes collection's capabilities object (``@Redfish.CollectionCapabilities``, use
        case VolumeCreation) where the BMC publishes one, and its ``@Redfish.OperationApplyTimeSupport``
        SupportedValues (Dell iDRAC9 lists only OnReset on some controllers: BOSS, AHCI)."""
        if not volumes_uri:
            return None, ()
        times: tuple[str, ...] = ()
        try:
            coll = self.s.conn.get(volumes_uri)
            support = coll.get("@Redfish.OperationApplyTimeSupport")
            if isinstance(support, dict) and isinstance(support.get("SupportedValues"), list):
                times = tuple(str(v) for v in support["SupportedValues"])
            caps = coll.get("@Redfish.CollectionCapabilities")
            for cap in (caps.get("Capabilities") or []) if isinstance(caps, dict) else []:
                target = link(cap, "CapabilitiesObject") if isinstance(cap, dict) else None
                if target and cap.get("UseCase") in (None, "VolumeCreation"):
                    doc = self.s.conn.get(target)
                    return (doc if isinstance(doc, dict) else None), times
        except FetchError as exc:
            log.info("%s: %s", self.host, exc)
        return None, times

    def _busy(self) -> bool:
        try:
            storages = self.s.members(self._storage_uri(), "storage")
        except FetchError:
            return False
        return any(state_of(c) == "Updating" for storage in storages for c in self._controller_docs(storage))

    # ------------------------------------------------------------------ one at a time
    def wait_idle(self, timeout: float | None = None, *, tasks: bool = False) -> None:
        """Wait until no controller reports an operation in progress; with ``tasks``, also until no
        task of the BMC runs (a killed run may have left one: a resumed run waits for it)."""
        limit = self.pacing.busy_timeout if timeout is None else timeout
        deadline = self.clock.now() + limit
        while True:
            running = len(self.tasks.running()) if tasks and self.tasks is not None else 0
            if not running and not self._busy():
                return
            if self.clock.now() + self.pacing.poll > deadline:
                raise ApplyError(f"{self.host}: the storage controller stayed busy for {limit:g}s"
                                 + (f" ({running} task(s) running)" if running else ""))
            self.clock.sleep(self.pacing.poll)

    def _finish(self, resp: Response, what: str, wait: bool) -> TaskOutcome:
        monitor = monitor_of(resp) if resp.status == 202 else None
        if monitor is None:
            return TaskOutcome("completed", uri=None)
        if not wait:
            return TaskOutcome("running", uri=monitor)
        outcome = wait_task(self.s.conn, monitor, pacing=self.pacing, clock=self.clock)
        if outcome.state == "failed":
            raise ApplyError(f'{self.host}: {what}: BMC said "{outcome.message or outcome.task_state}"')
        return outcome

    # ------------------------------------------------------------------ writes
    def _controller(self, controller: str, states: list[ControllerState]) -> ControllerState:
        key = normalize(controller)
        found = next((c for c in states if c.id == controller or normalize(c.uri) == key), None)
        if found is None:
            known = ", ".join(c.id for c in states) or "none"
            raise ApplyError(f"{self.host}: no storage controller {controller!r} (the BMC has {known})")
        return found

    def create_volume(self, controller: str, raid_type: str, drives: Sequence[str], *,
                      capacity_bytes: int | None = None, name: str | None = None,
                      read_policy: str | None = None, write_policy: str | None = None,
                      wait: bool = True, strip_size_bytes: int | None = None,
                      apply_time: str | None = None) -> TaskOutcome:
        what = f"raid create {name or raid_type}"
        with self.s.storage_lock:
            self.wait_idle()
            ctrl = self._controller(controller, self.controllers())
            if ctrl.raid_types and raid_type not in ctrl.raid_types:
                raise ApplyError(f"{self.host}: {what}: {ctrl.model or ctrl.id} supports "
                                 f"{', '.join(ctrl.raid_types)}, not {raid_type}")
            uris = []
            for ref in drives:
                drive = ctrl.drive_by_id(ref) or next((d for d in ctrl.drives if normalize(d.uri) == normalize(ref)),
                                                      None)
                if drive is None:
                    raise ApplyError(f"{self.host}: {what}: no drive {ref!r} on {ctrl.id}")
                uris.append(drive.uri)
            if not ctrl.volumes_uri:
                raise ApplyError(f"{self.host}: {what}: {ctrl.id} lists no Volumes collection")
            body = volume_body(raid_type, uris, capacity_bytes=capacity_bytes, name=name,
                               read_policy=READ_POLICY.get(read_policy or ""),
                               write_policy=WRITE_POLICY.get(write_policy or ""), strip_size_bytes=strip_size_bytes,
                               apply_time=apply_time)
            resp = self.s.write("POST", ctrl.volumes_uri, body, what)
            return self._finish(resp, what, wait)

    def _volume_uri(self, volume: str, what: str) -> str:
        if "/" in volume:
            return volume
        matches = [v for c in self.controllers() for v in c.volumes if v.id == volume or v.name == volume]
        if len(matches) != 1:
            raise ApplyError(f"{self.host}: {what}: {len(matches)} volumes match; give its URI")
        return matches[0].uri

    def delete_volume(self, volume: str, *, wait: bool = True, apply_time: str | None = None) -> TaskOutcome:
        """``apply_time`` (``OnReset``) rides in the DELETE's body as ``@Redfish.OperationApplyTime``."""
        what = f"raid delete {volume}"
        with self.s.storage_lock:
            self.wait_idle()
            body = {"@Redfish.OperationApplyTime": apply_time} if apply_time else None
            resp = self.s.write("DELETE", self._volume_uri(volume, what), body, what)
            return self._finish(resp, what, wait)

    def secure_erase_drive(self, drive: str, *, wait: bool = True) -> TaskOutcome:
        """Drive.SecureErase (the drive's own sanitize/crypto erase); ApplyError where not offered."""
        what = f"secure erase {drive}"
        with self.s.storage_lock:
            _, d = self._drive(drive)
            if not d.secure_erase_uri:
                raise ApplyError(f"{self.host}: {what}: the BMC offers no Drive.SecureErase for it")
            self.wait_idle()
            return self._finish(self.s.write("POST", d.secure_erase_uri, {}, what), what, wait)

    def initialize_volume(self, volume: str, *, wait: bool = True) -> TaskOutcome:
        """Volume.Initialize with InitializeType Slow (every block written, not only the metadata)."""
        what = f"initialize volume {volume}"
        with self.s.storage_lock:
            vol = next((v for c in self.controllers() for v in c.volumes
                        if v.id == volume or normalize(v.uri) == normalize(volume)), None)
            if vol is None or not vol.initialize_uri:
                raise ApplyError(f"{self.host}: {what}: the BMC offers no Volume.Initialize for it")
            self.wait_idle()
            return self._finish(self.s.write("POST", vol.initialize_uri, {"InitializeType": "Slow"}, what), what,
                                wait)

    def set_drive_write_cache(self, drive: str, enabled: bool) -> None:
        """Drive.WriteCacheEnabled (the disk's own cache)."""
        with self.s.storage_lock:
            _, d = self._drive(drive)
            self.wait_idle()
            self.s.write("PATCH", d.uri, {"WriteCacheEnabled": bool(enabled)}, f"raid disk write cache {d.id}")

    def update_volume(self, volume: str, *, name: str | None = None, read_policy: str | None = None,
                      write_policy: str | None = None, wait: bool = True) -> TaskOutcome:
        """Rename a volume and/or change its cache policies (``read-ahead``, ``write-back``, ... as in
        ``create_volume``). Raises ApplyError for an unknown policy word or a refusal."""
        what = f"raid update {volume}"
        for word, table in ((read_policy, READ_POLICY), (write_policy, WRITE_POLICY)):
            if word and word not in table:
                raise ApplyError(f"{self.host}: {what}: policy must be one of {', '.join(table)}, not {word!r}")
        body = volume_patch_body(name=name, read_policy=READ_POLICY.get(read_policy or ""),
                                 write_policy=WRITE_POLICY.get(write_policy or ""))
        if not body:
            return TaskOutcome("completed")
        with self.s.storage_lock:
            self.wait_idle()
            resp = self.s.write("PATCH", self._volume_uri(volume, what), body, what)
            return self._finish(resp, what, wait)

    def convert_drive(self, drive: str, to: str, *, wait: bool = True) -> TaskOutcome:
        """Switch a drive between RAID-capable (``raid``) and pass-through (``non-raid``). Only
        where the vendor has a way (``oem`` hook ``convert_drive``); ApplyError elsewhere."""
        what = f"raid convert {drive} to {to}"
        request = self.s.quirks().convert_drive(self.s.system_uri(), drive, to)
        if request is None:
            raise ApplyError(f"{self.host}: {what}: the BMC cannot (no Redfish way to convert drives on this vendor)")
        uri, body = request
        with self.s.storage_lock:
            self.wait_idle()
            try:
                resp = self.s.write("POST", uri, body, what)
            except ApplyError as exc:
                raise ApplyError(f"{self.host}: {what}: the BMC cannot ({exc})") from None
            return self._finish(resp, what, wait)

    def set_controller_mode(self, controller: str, mode: str) -> None:
        """Stage a controller's pass-through mode (``RAID`` | ``Mixed`` | ``HBA``) where the vendor
        switches it per controller (HPE SmartStorageConfig); it takes effect at the next reset, which
        the caller does, then reads the controller again to verify."""
        what = f"raid controller {controller} mode {mode}"
        quirks = self.s.quirks()
        current, settings_uri, doc = self._controller_mode(quirks)
        body = quirks.controller_mode_body(doc, mode) if doc else None
        if body is None or not settings_uri:
            raise ApplyError(f"{self.host}: {what}: the BMC cannot (no per-controller pass-through setting)")
        if current == mode:
            return
        with self.s.storage_lock:
            self.wait_idle()
            self.s.write("PATCH", settings_uri, body, what)

    def _drive(self, drive: str) -> tuple[ControllerState, DriveState]:
        for ctrl in self.controllers():
            for d in ctrl.drives:
                if d.id == drive or normalize(d.uri) == normalize(drive):
                    return ctrl, d
        raise ApplyError(f"{self.host}: no drive {drive!r}")

    def bind_dedicated_spare(self, drive: str, volume: str, *, wait: bool = True) -> TaskOutcome:
        """DMTF: PATCH the volume's Links.DedicatedSpareDrives (those it has plus this one) where
        the BMC says it is writable; else the vendor's action (Dell AssignSpare); else ApplyError."""
        what = f"raid dedicated spare {drive} for {volume}"
        with self.s.storage_lock:
            ctrl, d = self._drive(drive)
            vol = next((v for v in ctrl.volumes if v.id == volume or v.name == volume
                        or normalize(v.uri) == normalize(volume)), None)
            if vol is None:
                raise ApplyError(f"{self.host}: {what}: no such volume on {ctrl.id}")
            self.wait_idle()
            if ctrl.spare_binding == "dmtf":
                current = [u for u in (next((x.uri for x in ctrl.drives if x.id == i), None)
                                       for i in vol.dedicated_spares) if u]
                body = {"Links": {"DedicatedSpareDrives": [{ODATA_ID: u} for u in [*current, d.uri]]}}
                resp = self.s.write("PATCH", vol.uri, body, what)
                return self._finish(resp, what, wait)
            request = self.s.quirks().assign_spare(self.s.system_uri(), d.id, vol.id)
            if request is None:
                raise ApplyError(f"{self.host}: {what}: the BMC cannot bind a dedicated spare to a volume "
                                 "(no writable Links.DedicatedSpareDrives, no vendor action)")
            resp = self.s.write("POST", request[0], request[1], what)
            return self._finish(resp, what, wait)

    def release_spare(self, drive: str, *, wait: bool = True) -> TaskOutcome:
        """A dedicated spare leaves its volume's DedicatedSpareDrives (DMTF) or is unassigned by
        the vendor action (Dell UnassignSpare); elsewhere HotspareType None on the drive."""
        what = f"raid release spare {drive}"
        with self.s.storage_lock:
            ctrl, d = self._drive(drive)
            if d.hotspare == "none":
                return TaskOutcome("completed")  # released already (its volume's delete freed it)
            serving = next((v for v in ctrl.volumes if d.id in v.dedicated_spares), None)
            self.wait_idle()
            if serving is not None and ctrl.spare_binding == "dmtf":
                rest = [u for u in (next((x.uri for x in ctrl.drives if x.id == i), None)
                                    for i in serving.dedicated_spares if i != d.id) if u]
                resp = self.s.write("PATCH", serving.uri, {"Links": {"DedicatedSpareDrives": [{ODATA_ID: u}
                                                                                           for u in rest]}}, what)
                return self._finish(resp, what, wait)
            request = self.s.quirks().unassign_spare(self.s.system_uri(), d.id)
            if request is not None:
                resp = self.s.write("POST", request[0], request[1], what)
                return self._finish(resp, what, wait)
            self.s.write("PATCH", d.uri, hotspare_body("None"), what)
            return TaskOutcome("completed")

    def set_hotspare(self, drive: str, kind: str) -> None:
        value = {t.lower(): t for t in HOTSPARE_TYPES}.get(kind.lower())
        if value is None:
            raise ApplyError(f"{self.host}: raid hot spare: kind must be one of "
                             f"{', '.join(t.lower() for t in HOTSPARE_TYPES)}, not {kind!r}")
        if value == "Dedicated":
            raise ApplyError(f"{self.host}: raid hot spare: a dedicated spare is bound to its volume "
                             "(bind_dedicated_spare), not set on the drive alone")
        if value == "None":
            self.release_spare(drive)
            return
        with self.s.storage_lock:
            uri = drive
            if "/" not in drive:
                found = [d for c in self.controllers() for d in c.drives if d.id == drive]
                if len(found) != 1:
                    raise ApplyError(f"{self.host}: raid hot spare: {len(found)} drives match {drive!r}")
                uri = found[0].uri
            what = f"raid hot spare {value} {drive}"
            self.wait_idle()
            request = self.s.quirks().assign_spare(self.s.system_uri(), uri.rstrip("/").rsplit("/", 1)[-1], None)
            if request is not None:
                # The vendor's own action where it has one (Dell AssignSpare without volumes: global).
                self._finish(self.s.write("POST", request[0], request[1], what), what, True)
                return
            self.s.write("PATCH", uri, hotspare_body(value), what)
