"""The Redfish operations baselines and provisioning need beyond ``dcops.bmc.base``: BIOS pending
settings and the attribute registry, ApplyTime, storage controllers with drives, volumes and hot
spares, volume create/delete, firmware inventory with update targets, SimpleUpdate and task
monitors, waiting out resets and BMC reboots.

A thin adapter over ``RedfishConnector`` (which stays the only importer of the ``redfish``
library and translates its errors). It belongs in ``dcops.bmc`` (``BiosInterface``,
``RaidInterface``, ``FirmwareInterface`` growing these methods); until the BMC layer has them it
lives here, and ``Target`` bundles it with the ``Bmc`` of the same connection (one session).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dcops.baseline.state import (
    BiosState,
    ControllerState,
    DriveState,
    FirmwareEntry,
    HostState,
    RegistryAttribute,
    VolumeState,
)
from dcops.bmc import base
from dcops.bmc.redfish.resources import FetchError, link, links_of, most_severe_message
from dcops.errors import ApplyError, UnreachableError
from dcops.models import Host, Protocol
from dcops.observation import PowerState

log = logging.getLogger(__name__)

ROOT = "/redfish/v1"
Doc = dict[str, Any]

READ_POLICY = {"read-ahead": "ReadAhead", "adaptive": "AdaptiveReadAhead", "no-read-ahead": "Off"}
WRITE_POLICY = {"write-back": "ProtectedWriteBack", "always-write-back": "UnprotectedWriteBack",
                "write-through": "WriteThrough"}
_READ_BACK = {v.lower(): k for k, v in READ_POLICY.items()}
_WRITE_BACK = {v.lower(): k for k, v in WRITE_POLICY.items()}
RUNNING_TASK_STATES = frozenset({"new", "starting", "running", "pending", "stopping", "suspended", "interrupted"})
POST_DONE = frozenset({"systemhardwareinitializationcomplete", "osbootstarted", "osrunning", "setupentered",
                       "bootinginfrontofsetup"})

_registry_cache: dict[str, Mapping[str, RegistryAttribute] | None] = {}
_registry_lock = threading.Lock()


@dataclass(frozen=True)
class Pacing:
    """How often to poll and how long to wait. Real BMCs: poll every few seconds (they break under
    load); simulators: a fraction of a second."""

    poll: float = 2.0
    task_timeout: float = 3600.0
    reboot_timeout: float = 1200.0
    bmc_timeout: float = 900.0  # a BMC rebooting after its own update
    bios_apply_timeout: float = 300.0  # after POST, until the BMC shows the applied attributes
    settle: float = 10.0  # without BootProgress: how long after power-on POST is assumed done


@dataclass(frozen=True)
class TaskOutcome:
    state: str  # completed | failed | vanished
    messages: tuple[str, ...] = ()
    await_reset: bool = False  # the image is staged until the next host reset

    @property
    def message(self) -> str:
        return "; ".join(self.messages)


class Clock:
    """Monotonic time and sleep, swappable in tests."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class BaselineRedfish:
    """Redfish reads and writes of one BMC for baselines and provisioning."""

    def __init__(self, host: str, conn: Any, pacing: Pacing | None = None, clock: Clock | None = None) -> None:
        self.host = host
        self.conn = conn
        self.pacing = pacing or Pacing()
        self.clock = clock or Clock()
        self._root: Doc | None = None
        self._system_uri: str | None = None
        self._expand: bool | None = None  # whether $expand=.($levels=1) works on this BMC
        self._finished_tasks: set[str] = set()  # task URIs seen ended (they stay ended)
        self._inventory_uri: str | None = None
        self._select: bool | None = None  # whether $select works on the system resource

    # ------------------------------------------------------------------ basics
    def get(self, uri: str) -> Doc:
        doc: Doc = self.conn.get(uri)
        return doc

    def root(self) -> Doc:
        if self._root is None:
            self._root = self.get(ROOT)
        return self._root

    def system_uri(self) -> str:
        if self._system_uri is None:
            coll = self.get(link(self.root(), "Systems") or f"{ROOT}/Systems")
            uris = sorted(str(m.get("@odata.id")) for m in coll.get("Members") or [] if isinstance(m, dict))
            if not uris:
                raise ApplyError(f"{self.host}: the BMC lists no system")
            self._system_uri = uris[0]
        return self._system_uri

    def system(self) -> Doc:
        return self.get(self.system_uri())

    def _can_expand(self) -> bool:
        if self._expand is None:
            features = _obj(_obj(self.root().get("ProtocolFeaturesSupported")).get("ExpandQuery"))
            self._expand = bool(features.get("Levels") and (features.get("NoLinks") or features.get("ExpandAll")))
        return self._expand

    def members(self, uri: str) -> list[Doc]:
        """The member documents of a collection: one request with $expand where the BMC supports
        it (a 40-member firmware inventory is then 1 request, not 41), else one per member."""
        coll: Doc | None = None
        if self._can_expand():
            sep = "&" if "?" in uri else "?"
            try:
                coll = self.get(f"{uri}{sep}$expand=.($levels=1)")
            except FetchError:
                coll = None
            if coll is None or any(isinstance(m, dict) and set(m) == {"@odata.id"} for m in coll.get("Members") or []):
                if coll is None:
                    self._expand = False  # refused: do not ask again
                coll = None
        if coll is None:
            coll = self.get(uri)
        out = []
        for member in coll.get("Members") or []:
            if not isinstance(member, dict):
                continue
            if "Id" in member or len(member) > 2:  # expanded already
                out.append(member)
                continue
            target = member.get("@odata.id")
            if isinstance(target, str):
                try:
                    out.append(self.get(target))
                except FetchError as exc:
                    log.info("%s: %s", self.host, exc)
        return out

    def act(self, method: str, uri: str, body: Any, what: str, *, etag: str | None = None) -> Any:
        """A write that waits out "controller busy" (409/ResourceInUse with Retry-After) a few times."""
        for attempt in range(6):
            try:
                return self.conn.act(method, uri, body, what, etag=etag)
            except ApplyError as exc:
                text = str(exc)
                busy = "ResourceInUse" in text or "already scheduled or running" in text or "busy" in text.lower()
                if not busy or attempt == 5:
                    raise
                self.clock.sleep(max(self.pacing.poll, 1.0))
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ state
    def read_state(self, kinds: set[str] | None = None) -> HostState:
        """Identity plus the BIOS, storage and firmware sections named by ``kinds`` (all by default)."""
        from dcops.bmc.redfish import oem

        kinds = kinds or {"firmware", "bios", "raid"}
        system = self.system()
        vendor = oem.detect(self.root(), system).name
        errors: list[str] = []
        bios = None
        controllers: tuple[ControllerState, ...] = ()
        firmware: tuple[FirmwareEntry, ...] = ()
        if "bios" in kinds:
            try:
                bios = self.read_bios(system)
            except FetchError as exc:
                errors.append(str(exc))
        if "raid" in kinds:
            try:
                controllers = tuple(self.read_storage(system))
            except FetchError as exc:
                errors.append(str(exc))
        if "firmware" in kinds:
            try:
                firmware = tuple(self.read_firmware())
            except FetchError as exc:
                errors.append(str(exc))
        return HostState(self.host, None if vendor == "generic" else vendor, system.get("Manufacturer"),
                         system.get("Model"), bios, controllers, firmware, tuple(errors))

    # ------------------------------------------------------------------ BIOS
    def _bios_docs(self, system: Doc | None = None) -> tuple[Doc, str, Doc | None, str | None]:
        system = system or self.system()
        bios_uri = link(system, "Bios") or f"{self.system_uri()}/Bios"
        bios = self.get(bios_uri)
        settings = bios.get("@Redfish.Settings")
        settings_uri = link(settings, "SettingsObject") if isinstance(settings, dict) else None
        settings_doc = None
        if settings_uri:
            try:
                settings_doc = self.get(settings_uri)
            except FetchError:
                settings_doc = None
        return bios, bios_uri, settings_doc, settings_uri

    def read_bios(self, system: Doc | None = None) -> BiosState:
        bios, _, settings_doc, _ = self._bios_docs(system)
        current = _obj(bios.get("Attributes"))
        staged = _obj((settings_doc or {}).get("Attributes"))
        # Some BMCs repeat every attribute in the settings object (HPE, Lenovo, Supermicro), others
        # only the staged ones: either way the pending values are those that differ.
        pending = {k: v for k, v in staged.items() if k not in current or current[k] != v}
        settings = _obj(bios.get("@Redfish.Settings"))
        times = tuple(str(t) for t in settings.get("SupportedApplyTimes") or [])
        registry = self.read_registry(str(bios.get("AttributeRegistry") or ""))
        return BiosState(dict(current), pending, registry, times)

    def read_registry(self, registry_id: str) -> Mapping[str, RegistryAttribute] | None:
        """The BIOS attribute registry (cached per registry id and version), None when unpublished."""
        if not registry_id:
            return None
        with _registry_lock:
            if registry_id in _registry_cache:
                return _registry_cache[registry_id]
        result: Mapping[str, RegistryAttribute] | None = None
        try:
            result = self._fetch_registry(registry_id)
        except (FetchError, ApplyError) as exc:
            log.info("%s: no attribute registry %s: %s", self.host, registry_id, exc)
        with _registry_lock:
            _registry_cache[registry_id] = result
        return result

    def _fetch_registry(self, registry_id: str) -> Mapping[str, RegistryAttribute] | None:
        registries = link(self.root(), "Registries") or f"{ROOT}/Registries"
        coll = self.get(registries)
        target = None
        for member in coll.get("Members") or []:
            uri = str(member.get("@odata.id") or "")
            if uri.rstrip("/").rsplit("/", 1)[-1].lower() == registry_id.lower():
                target = uri
        if target is None:
            for member in coll.get("Members") or []:
                uri = str(member.get("@odata.id") or "")
                if registry_id.split(".")[0].lower() in uri.lower():
                    target = uri
                    break
        if target is None:
            return None
        entry = self.get(target)
        location = next((loc.get("Uri") for loc in entry.get("Location") or []
                         if isinstance(loc, dict) and loc.get("Uri")), None)
        if not location:
            return None
        doc = self.get(str(location))
        attrs = ((doc.get("RegistryEntries") or {}).get("Attributes")) or []
        out: dict[str, RegistryAttribute] = {}
        for a in attrs:
            if not isinstance(a, dict) or not a.get("AttributeName"):
                continue
            values = tuple(str(v.get("ValueName")) for v in a.get("Value") or [] if isinstance(v, dict))
            out[str(a["AttributeName"])] = RegistryAttribute(
                str(a["AttributeName"]), str(a.get("Type") or "String"), values, a.get("LowerBound"),
                a.get("UpperBound"), a.get("MaxLength"), bool(a.get("ReadOnly") or a.get("Immutable")),
                bool(a.get("ResetRequired", True)))
        return out or None

    def stage_bios(self, values: Mapping[str, Any]) -> None:
        """PATCH the settings object with ``values``, ApplyTime OnReset when the BMC lists it."""
        bios, bios_uri, settings_doc, settings_uri = self._bios_docs()
        target = settings_uri or f"{bios_uri}/Settings"
        body: Doc = {"Attributes": dict(values)}
        settings = _obj(bios.get("@Redfish.Settings"))
        if "OnReset" in (settings.get("SupportedApplyTimes") or []):
            body["@Redfish.SettingsApplyTime"] = {"ApplyTime": "OnReset"}
        etag = (settings_doc or {}).get("@odata.etag") if settings_doc else None
        self.act("PATCH", target, body, "bios set", etag=etag if isinstance(etag, str) else None)

    def bios_messages(self) -> list[str]:
        """Messages the BMC attached to the last settings apply (errors show up here on some BMCs)."""
        bios, _, _, _ = self._bios_docs()
        settings = _obj(bios.get("@Redfish.Settings"))
        out = []
        for message in settings.get("Messages") or []:
            if isinstance(message, dict) and not str(message.get("MessageId", "")).endswith("Success"):
                out.append(str(message.get("Message") or message.get("MessageId")))
        return out

    # ------------------------------------------------------------------ storage
    def read_storage(self, system: Doc | None = None) -> list[ControllerState]:
        system = system or self.system()
        storage_uri = link(system, "Storage") or f"{self.system_uri()}/Storage"
        out = []
        for member in self.members(storage_uri):
            storage = member
            if self._can_expand() and any(set(_obj(d)) == {"@odata.id"} for d in member.get("Drives") or []):
                # One request for the controller and all its drives instead of one per drive.
                with contextlib.suppress(FetchError):
                    storage = self.get(f"{member.get('@odata.id')}?$expand=.($levels=1)")
            ctrl_model, busy = storage.get("Name"), False
            controllers = storage.get("StorageControllers") or []
            if not controllers and link(storage, "Controllers"):
                try:
                    controllers = self.members(str(link(storage, "Controllers")))
                except FetchError:
                    controllers = []
            if controllers and isinstance(controllers[0], dict):
                ctrl_model = controllers[0].get("Model") or ctrl_model
                busy = str((controllers[0].get("Status") or {}).get("State") or "") == "Updating"
            drives = []
            for index, entry in enumerate(storage.get("Drives") or []):
                uri = str(_obj(entry).get("@odata.id") or "")
                if not uri:
                    continue
                doc = _obj(entry) if len(_obj(entry)) > 1 else None
                if doc is None:
                    try:
                        doc = self.get(uri)
                    except FetchError:
                        continue
                drives.append(_drive(doc, uri, index))
            volumes = []
            volumes_uri = link(storage, "Volumes") or ""
            if volumes_uri:
                for doc in self.members(volumes_uri):
                    volumes.append(_volume(doc, drives))
            out.append(ControllerState(str(storage.get("Id")), str(storage.get("@odata.id") or ""),
                                       str(ctrl_model) if ctrl_model else None, volumes_uri, tuple(drives),
                                       tuple(volumes), busy))
        return out

    def create_volume(self, detail: Mapping[str, Any]) -> str | None:
        body: Doc = {"Name": detail["name"], "RAIDType": detail["level"],
                     "Links": {"Drives": [{"@odata.id": u} for u in detail["drive_uris"]]}}
        # "max": no CapacityBytes at all; the controller sizes the volume.
        if detail.get("capacity_bytes"):
            body["CapacityBytes"] = int(detail["capacity_bytes"])
        if detail.get("read_policy"):
            body["ReadCachePolicy"] = READ_POLICY[detail["read_policy"]]
        if detail.get("write_policy"):
            body["WriteCachePolicy"] = WRITE_POLICY[detail["write_policy"]]
        resp = self.act("POST", str(detail["volumes_uri"]), body, f"raid create {detail['name']}")
        return _monitor(resp)

    def delete_volume(self, uri: str, name: str) -> str | None:
        resp = self.act("DELETE", uri, None, f"raid delete {name}")
        return _monitor(resp)

    def set_hotspare(self, drive_uri: str, kind: str) -> None:
        value = {"none": "None", "global": "Global", "dedicated": "Dedicated"}[kind]
        self.act("PATCH", drive_uri, {"HotspareType": value}, f"raid hot spare {value}")

    def patch_volume(self, uri: str, body: Doc, what: str) -> None:
        self.act("PATCH", uri, body, what)

    def convert_drive(self, drive_id: str, to: str) -> str | None:
        # Quirk (Dell iDRAC): no DMTF way to switch a disk between RAID-capable and Non-RAID; the
        # DellRaidService OEM actions do it. Other vendors: not supported over Redfish here.
        action = "ConvertToNonRAID" if to == "non-raid" else "ConvertToRAID"
        uri = f"{self.system_uri()}/Oem/Dell/DellRaidService/Actions/DellRaidService.{action}"
        try:
            resp = self.act("POST", uri, {"PDArray": [drive_id]}, f"raid convert {drive_id} to {to}")
        except ApplyError as exc:
            raise ApplyError(f"{self.host}: raid convert {drive_id} to {to}: the BMC cannot ({exc})") from None
        return _monitor(resp)

    def wait_storage_idle(self, timeout: float | None = None) -> None:
        """One controller operation at a time: wait until no task runs and no controller is busy."""
        deadline = self.clock.now() + (timeout or self.pacing.task_timeout)
        while True:
            running = self.running_tasks()
            busy = any(c.busy for c in self.read_controllers_quick())
            if not running and not busy:
                return
            if self.clock.now() > deadline:
                raise ApplyError(f"{self.host}: the storage controller stayed busy ({len(running)} task(s) running)")
            self.clock.sleep(self.pacing.poll)

    def read_controllers_quick(self) -> list[ControllerState]:
        system = self.system()
        storage_uri = link(system, "Storage") or f"{self.system_uri()}/Storage"
        out = []
        try:
            storages = self.members(storage_uri)
        except FetchError:
            return []
        for storage in storages:
            controllers = storage.get("StorageControllers") or []
            if not controllers and link(storage, "Controllers"):
                try:
                    controllers = self.members(str(link(storage, "Controllers")))
                except FetchError:
                    controllers = []
            busy = bool(controllers) and str(((controllers[0] or {}).get("Status") or {}).get("State")) == "Updating"
            out.append(ControllerState(str(storage.get("Id")), busy=busy))
        return out

    # ------------------------------------------------------------------ firmware
    def update_service(self) -> Doc:
        return self.get(link(self.root(), "UpdateService") or f"{ROOT}/UpdateService")

    def read_firmware(self) -> list[FirmwareEntry]:
        if self._inventory_uri is None:
            service = self.update_service()
            self._inventory_uri = link(service, "FirmwareInventory") or f"{ROOT}/UpdateService/FirmwareInventory"
        out = []
        for doc in self.members(self._inventory_uri):
            status = _obj(doc.get("Status"))
            out.append(FirmwareEntry(str(doc.get("Id") or ""), str(doc.get("Name") or doc.get("Id") or "?"),
                                     str(doc["Version"]) if doc.get("Version") is not None else None,
                                     str(doc.get("@odata.id") or ""),
                                     doc.get("Updateable") is not False, status.get("State"),
                                     str(doc["SoftwareId"]) if doc.get("SoftwareId") else None))
        return out

    def simple_update(self, image: str, targets: list[str]) -> str | None:
        """Start UpdateService.SimpleUpdate; returns the task monitor URI (None when the BMC gave none)."""
        service = self.update_service()
        action = ((service.get("Actions") or {}).get("#UpdateService.SimpleUpdate") or {}).get("target") \
            or f"{ROOT}/UpdateService/Actions/UpdateService.SimpleUpdate"
        body: Doc = {"ImageURI": image}
        if targets:
            body["Targets"] = targets
        resp = self.act("POST", str(action), body, f"firmware update {image.rsplit('/', 1)[-1]}")
        return _monitor(resp)

    # ------------------------------------------------------------------ tasks
    def task(self, monitor: str) -> tuple[str, Doc | None]:
        """(state, task document) of a task monitor; state ``vanished`` when the BMC forgot it."""
        resp = self.conn.request("GET", monitor)
        if resp.status == 404:
            return "vanished", None
        if resp.status >= 400:
            raise ApplyError(f"{self.host}: task {monitor}: HTTP {resp.status} {most_severe_message(resp.body) or ''}")
        body = resp.body if isinstance(resp.body, dict) else None
        state = str((body or {}).get("TaskState") or "").lower()
        if not state:
            return ("running" if resp.status == 202 else "completed"), body
        return state, body

    def wait_task(self, monitor: str | None, timeout: float | None = None,
                  on_poll: Callable[[], None] | None = None) -> TaskOutcome:
        """Poll a task monitor until it ends. A monitor that disappears (BMC reboot, a BMC that
        prunes finished tasks) is ``vanished``: the caller confirms the result another way."""
        if monitor is None:
            return TaskOutcome("vanished", ("the BMC returned no task monitor",))
        started = self.clock.now()
        deadline = started + (timeout or self.pacing.task_timeout)
        while True:
            try:
                state, body = self.task(monitor)
            except UnreachableError:
                state, body = "unreachable", None
            if state == "vanished":
                return TaskOutcome("vanished", (f"task {monitor} is gone",))
            if state not in RUNNING_TASK_STATES and state != "unreachable":
                messages = tuple(str(m.get("Message") or m.get("MessageId")) for m in (body or {}).get("Messages") or []
                                 if isinstance(m, dict))
                ids = " ".join(str(m.get("MessageId")) for m in (body or {}).get("Messages") or [] if isinstance(m, dict))
                staged = "awaittoactivate" in ids.lower()
                ok = state == "completed" and str((body or {}).get("TaskStatus") or "OK").lower() in ("ok", "warning")
                return TaskOutcome("completed" if ok else "failed", messages, staged)
            if self.clock.now() > deadline:
                raise ApplyError(f"{self.host}: task {monitor} still {state} after {timeout or self.pacing.task_timeout:g}s")
            if on_poll:
                on_poll()
            self.clock.sleep(self._task_pause(body, started))

    def _task_pause(self, body: Doc | None, started: float) -> float:
        """How long to wait before the next poll of a task: the poll interval, or the time its
        PercentComplete says is left when that is longer (up to 10 intervals), so a long firmware
        task costs a few requests rather than hundreds."""
        percent = _obj(body).get("PercentComplete")
        elapsed = self.clock.now() - started
        if isinstance(percent, (int, float)) and 5 <= percent < 100 and elapsed > 0:
            left = elapsed * (100 - percent) / percent
            return min(max(self.pacing.poll, left * 0.8), self.pacing.poll * 10)
        return self.pacing.poll

    def running_tasks(self) -> list[Doc]:
        """Tasks of the BMC that have not ended (used to adopt work a killed run started). Tasks
        seen ended are not read again: a finished task stays finished."""
        try:
            coll = self.get(f"{ROOT}/TaskService/Tasks")
        except FetchError:
            return []
        running = []
        for member in coll.get("Members") or []:
            uri = str(_obj(member).get("@odata.id") or "")
            if not uri or uri in self._finished_tasks:
                continue
            doc = member if "TaskState" in _obj(member) else None
            if doc is None:
                try:
                    doc = self.get(uri)
                except FetchError:
                    continue
            if str(doc.get("TaskState") or "").lower() in RUNNING_TASK_STATES:
                running.append(doc)
            else:
                self._finished_tasks.add(uri)
        return running

    def all_tasks(self) -> list[Doc]:
        try:
            service = self.get(f"{ROOT}/TaskService")
            return self.members(link(service, "Tasks") or f"{ROOT}/TaskService/Tasks")
        except FetchError:
            return []

    # ------------------------------------------------------------------ BMC and host resets
    def wait_bmc(self, timeout: float | None = None, confirm: Callable[[], bool] | None = None,
                 steady: int = 2) -> None:
        """Wait until the BMC answers again (after rebooting itself) and ``confirm()`` holds
        ``steady`` times in a row (a BMC is not back until it answers steadily)."""
        deadline = self.clock.now() + (timeout or self.pacing.bmc_timeout)
        good = 0
        last = "no answer yet"
        while True:
            try:
                self._root = None
                self.root()
                ok = confirm() if confirm else True
                good = good + 1 if ok else 0
                last = "answering" if ok else "answering, not updated yet"
            except (UnreachableError, FetchError, ApplyError) as exc:
                good = 0
                last = str(exc)
            if good >= steady:
                return
            if self.clock.now() > deadline:
                raise ApplyError(f"{self.host}: BMC not back after {timeout or self.pacing.bmc_timeout:g}s ({last})")
            self.clock.sleep(self.pacing.poll)

    def boot_progress(self) -> tuple[PowerState, str | None, str | None]:
        """(power state, BootProgress.LastState, LastStateTime): polled while waiting for boots, so
        it asks only for those two properties where the BMC supports $select."""
        from dcops.bmc.redfish.resources import power_state

        system: Doc | None = None
        if _obj(self.root().get("ProtocolFeaturesSupported")).get("SelectQuery") and self._select is not False:
            try:
                system = self.get(f"{self.system_uri()}?$select=PowerState,BootProgress")
                self._select = "PowerState" in system
            except FetchError:
                self._select = False
            if not self._select:
                system = None
        if system is None:
            system = self.system()
        progress = _obj(system.get("BootProgress"))
        return power_state(system.get("PowerState")), progress.get("LastState"), progress.get("LastStateTime")

    def reset_and_wait(self, power: base.PowerInterface, *, graceful: bool = False,
                       until: str = "post", timeout: float | None = None) -> None:
        """Reset (or power on) the host and wait until POST is done (``until="post"``), the OS runs
        (``"os-running"``), or the host is off again (``"power-off"``, an installer that ends with
        poweroff). Raises ApplyError on timeout."""
        deadline = self.clock.now() + (timeout or self.pacing.reboot_timeout)
        state, _, before_time = self.boot_progress()
        if state in (PowerState.OFF, PowerState.POWERING_OFF):
            power.request("on")
        elif graceful:
            try:
                power.request("graceful-restart")
            except base.UnsupportedError:
                power.request("reset")
        else:
            power.request("reset")
        self.wait_boot(before_time, until=until, deadline=deadline)

    def wait_boot(self, before_time: str | None, *, until: str, deadline: float) -> None:
        """After a reset/power-on was requested: wait for the new boot to reach ``until``."""
        seen_reset = False
        seen_on = False
        on_since: float | None = None
        while True:
            try:
                state, last, stamp = self.boot_progress()
            except (UnreachableError, FetchError):
                state, last, stamp = PowerState.UNKNOWN, None, None
            low = (last or "").lower()
            if state in (PowerState.OFF, PowerState.POWERING_OFF, PowerState.POWERING_ON) or \
                    (stamp is not None and stamp != before_time) or \
                    (low and low not in POST_DONE and low != "none"):
                seen_reset = True
            if state in (PowerState.ON, PowerState.POWERING_ON) and (seen_reset or stamp != before_time):
                seen_on = True
            if state is PowerState.ON:
                on_since = on_since if on_since is not None else self.clock.now()
            else:
                on_since = None
            if until == "power-off":
                if seen_on and state is PowerState.OFF:
                    return
            elif until == "powered-on":
                if state is PowerState.ON and (seen_reset or on_since is not None
                                               and self.clock.now() - on_since >= self.pacing.settle):
                    return
            elif state is PowerState.ON and seen_reset:
                if until == "os-running" and low == "osrunning":
                    return
                if until == "post" and low in POST_DONE:
                    return
                if until == "post" and not last and on_since is not None \
                        and self.clock.now() - on_since >= self.pacing.settle:
                    return  # no BootProgress: assume POST done after the settle time
            if self.clock.now() > deadline:
                raise ApplyError(f"{self.host}: host did not reach {until} in time (power {state.value}, "
                                 f"boot progress {last or 'unknown'})")
            self.clock.sleep(self.pacing.poll)


def _obj(value: Any) -> Doc:
    return value if isinstance(value, dict) else {}


def _monitor(resp: Any) -> str | None:
    if resp is None:
        return None
    location = resp.header("Location") if hasattr(resp, "header") else None
    if location:
        return "/" + location.split("://", 1)[1].partition("/")[2] if "://" in location else str(location)
    body = resp.body if isinstance(getattr(resp, "body", None), dict) else {}
    monitor = body.get("TaskMonitor") or body.get("@odata.id")
    return str(monitor) if monitor and "Task" in str(monitor) else None


def _drive(doc: Doc, uri: str, index: int) -> DriveState:
    location = doc.get("PhysicalLocation") or {}
    part = location.get("PartLocation") if isinstance(location, dict) else None
    ordinal = part.get("LocationOrdinalValue") if isinstance(part, dict) else None
    bay = ordinal if isinstance(ordinal, int) and not isinstance(ordinal, bool) else index
    status = _obj(doc.get("Status"))
    failed = str(status.get("Health") or "") == "Critical" or str(status.get("State") or "") == "UnavailableOffline"
    oem = ((doc.get("Oem") or {}).get("Dell") or {}).get("DellPhysicalDisk") or {}
    raid_status = str(oem.get("RaidStatus") or "").lower().replace("-", "")
    state = {"ready": "ready", "nonraid": "non-raid", "online": "online", "spare": "spare"}.get(raid_status)
    label = part.get("ServiceLabel") if isinstance(part, dict) else None
    return DriveState(str(doc.get("Id") or uri.rsplit("/", 1)[-1]), bay, uri, str(label or doc.get("Name") or ""),
                      doc.get("Model"), doc.get("MediaType"), doc.get("Protocol"), doc.get("CapacityBytes"),
                      str(doc.get("HotspareType") or "None").lower(), state, failed, doc.get("Revision"))


def _volume(doc: Doc, drives: list[DriveState]) -> VolumeState:
    by_uri = {d.uri.rstrip("/").lower(): d.id for d in drives}
    members = [by_uri.get(u.rstrip("/").lower(), u.rstrip("/").rsplit("/", 1)[-1])
               for u in links_of(doc.get("Links"), "Drives")]
    spares = [by_uri.get(u.rstrip("/").lower(), u.rstrip("/").rsplit("/", 1)[-1])
              for u in links_of(doc.get("Links"), "DedicatedSpareDrives")]
    read = doc.get("ReadCachePolicy")
    write = doc.get("WriteCachePolicy")
    level = doc.get("RAIDType") or doc.get("VolumeType")
    return VolumeState(str(doc.get("Id") or ""), str(doc.get("@odata.id") or ""),
                       doc.get("DisplayName") or doc.get("Name"), str(level).upper() if level else None,
                       doc.get("CapacityBytes"), tuple(members),
                       _READ_BACK.get(str(read).lower()) if read else None,
                       _WRITE_BACK.get(str(write).lower()) if write else None, tuple(spares))


# ---------------------------------------------------------------------------------- a target

@dataclass
class Target:
    """One host's BMC for baselines and provisioning: the ``Bmc`` concerns (power, boot, virtual
    media, inventory) and the baseline operations, over one connection (one session)."""

    host: Host
    bmc: base.Bmc
    rf: BaselineRedfish

    def close(self) -> None:
        self.bmc.close()


OpenTarget = Callable[[Host], Target]


def open_target(host: Host, pacing: Pacing | None = None) -> Target:
    """Open the Redfish target of ``host``. Raises CredentialError when the password reference
    cannot be resolved, UnsupportedError for IPMI-only hosts (BIOS, RAID, firmware and virtual
    media need Redfish)."""
    from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
    from dcops.bmc.redfish.drivers import redfish_bmc
    from dcops.secrets import resolve

    endpoint = host.bmc
    if Protocol(endpoint.protocol) is Protocol.IPMI:
        raise base.UnsupportedError(f"{host.name}: baselines and provisioning need Redfish (protocol: ipmi)")
    password = resolve(endpoint.password_ref or "plain:", what=f"{host.name}: BMC password")
    conn = RedfishConnector(host.name, endpoint, password, Timeouts(connect=5, read=60, deadline=180))
    return Target(host, redfish_bmc(host.name, conn), BaselineRedfish(host.name, conn, pacing))


@contextmanager
def opened(opener: OpenTarget, host: Host) -> Iterator[Target]:
    target = opener(host)
    try:
        yield target
    finally:
        target.close()
