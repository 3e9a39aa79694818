"""Firmware over Redfish: the FirmwareInventory, and UpdateService.SimpleUpdate followed to the end.

An update is a task that runs for minutes. What real BMCs do meanwhile, and what this module
copes with: the task monitor answers 202 for a while; the BMC updating itself reboots (stops
answering, forgets every session and sometimes the task); a BIOS image is staged until the next
host reset (``Update.AwaitToActivate``). The outcome is only trusted once the FirmwareInventory
shows the expected version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dcops.bmc import base
from dcops.bmc.redfish.bodies import simple_update_body, simple_update_target
from dcops.bmc.redfish.docs import Doc, FetchError, link, normalize
from dcops.bmc.redfish.keys import MEMBERS, ODATA_ID, ROOT, TASK_RUNNING, TASK_STATE
from dcops.bmc.redfish.shared import Shared
from dcops.bmc.redfish.tasks import Clock, Pacing, monitor_of, wait_task
from dcops.bmc.state import FirmwareEntry, TaskOutcome, UpdateOutcome
from dcops.errors import ApplyError, UnreachableError
from dcops.observation import FirmwareItem

log = logging.getLogger(__name__)
_RUNNING = frozenset(t.lower() for t in TASK_RUNNING)


def parse_entry(doc: Doc) -> FirmwareEntry:
    raw_status = doc.get("Status")
    status: Doc = raw_status if isinstance(raw_status, dict) else {}
    return FirmwareEntry(str(doc.get("Id") or ""), str(doc.get("Name") or doc.get("Id") or "?"),
                         str(doc["Version"]) if doc.get("Version") is not None else None,
                         str(doc.get(ODATA_ID) or ""), doc.get("Updateable") is not False,
                         status.get("State") if isinstance(status.get("State"), str) else None,
                         str(doc["SoftwareId"]) if doc.get("SoftwareId") else None)


def find_entry(entries: Sequence[FirmwareEntry], component: str) -> FirmwareEntry | None:
    """The installed entry ``component`` names: its id, its URI, or a word of its name."""
    installed = [e for e in entries if e.installed]
    key = normalize(component)
    exact = next((e for e in installed if e.id == component or (e.uri and normalize(e.uri) == key)), None)
    if exact is not None:
        return exact
    low = component.lower()
    named = [e for e in installed if low in e.name.lower() or low == (e.software_id or "").lower()]
    return named[0] if len(named) == 1 else None


class RedfishFirmware(base.FirmwareInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared, host: str, pacing: Pacing | None = None, clock: Clock | None = None) -> None:
        self.s = shared
        self.host = host
        self.pacing = pacing or Pacing()
        self.clock = clock or Clock()

    def inventory(self) -> list[FirmwareItem]:
        return list(self.s.observe({"firmware"}).firmware)

    def _service(self) -> Doc:
        return self.s.conn.get(link(self.s.root(), "UpdateService") or f"{ROOT}/UpdateService")

    def entries(self) -> list[FirmwareEntry]:
        inventory = link(self._service(), "FirmwareInventory")
        if inventory is None:
            raise FetchError(f"{ROOT}/UpdateService", "the BMC lists no FirmwareInventory")
        return [parse_entry(doc) for doc in self.s.members(inventory, "firmware inventory")]

    def update(self, image: str, *, targets: Sequence[str] = (), component: str | None = None,
               expect_version: str | None = None, timeout: float | None = None,
               wait: bool = True) -> UpdateOutcome:
        name = image.rsplit("/", 1)[-1]
        what = f"firmware update {name}"
        resp = self.s.write("POST", simple_update_target(self._service()), simple_update_body(image, targets), what)
        monitor = monitor_of(resp)
        if monitor is None:
            self._wait_vendor_progress(what, timeout)
        if not wait:
            # The caller records the monitor (crash-safe resume), then waits with tasks.wait and
            # confirms with confirm().
            return UpdateOutcome(TaskOutcome("running", uri=monitor) if monitor else
                                 TaskOutcome("completed", ("no task monitor: the BMC took the image synchronously",)),
                                 False)
        limit = self.pacing.task_timeout if timeout is None else timeout
        task = wait_task(self.s.conn, monitor, timeout=limit, pacing=self.pacing, clock=self.clock) \
            if monitor else TaskOutcome("completed", ("no task monitor: the BMC took the image synchronously",))
        if task.state == "failed":
            raise ApplyError(f'{self.host}: {what}: BMC said "{task.message or task.task_state}"')
        which = component or (targets[0] if targets else None)
        return self.confirm(task, which, expect_version, what=what)

    def _wait_vendor_progress(self, what: str, timeout: float | None) -> None:
        """No task monitor: where the vendor reports the flash on the UpdateService (HPE
        ``Oem.Hpe.State``), wait until it is Complete (or back to Idle) and raise on Error with the
        BMC's MessageId; elsewhere nothing to wait for here (the inventory confirms)."""
        quirks = self.s.quirks()
        limit = self.pacing.task_timeout if timeout is None else timeout
        deadline = self.clock.now() + limit
        seen_busy = False
        while True:
            try:
                progress = quirks.update_progress(self._service())
            except (FetchError, UnreachableError):
                progress = None  # a BMC restarting for its own image: the inventory decides
            if progress is None:
                return
            state, pct, message = progress
            if state == "Error":
                raise ApplyError(f'{self.host}: {what}: BMC said "{message or "update failed"}" (Oem.Hpe.State Error)')
            if state == "Complete" or (state == "Idle" and seen_busy):
                return
            seen_busy = seen_busy or state != "Idle"
            if self.clock.now() + self.pacing.poll > deadline:
                raise ApplyError(f"{self.host}: {what}: still {state} ({pct if pct is not None else '?'}%) after {limit:g}s")
            self.clock.sleep(self.pacing.poll)

    def confirm(self, task: TaskOutcome, component: str | None, expect: str | None, *,
                what: str = "firmware update") -> UpdateOutcome:
        """Read the inventory until it shows ``expect`` for ``component``, waiting out a BMC reboot
        (used after a task that vanished, too). Raises ApplyError when it does not within
        ``Pacing.bmc_timeout``."""
        deadline = self.clock.now() + self.pacing.bmc_timeout
        rebooted = False
        good = 0
        last = "not read yet"
        while True:
            try:
                self.s.forget()
                entries = self.entries()
            except (UnreachableError, FetchError) as exc:
                rebooted, good, last = True, 0, str(exc)
            else:
                good += 1
                entry = find_entry(entries, component) if component else None
                version = entry.version if entry else None
                if expect is None or (version is not None and version == expect):
                    # Without an expected version the task's word is all there is to go on.
                    if good >= 2 or not rebooted:
                        return UpdateOutcome(task, expect is not None or task.ok, version, False, rebooted,
                                             entry.id if entry else None)
                elif task.await_reset:
                    return UpdateOutcome(task, False, version, True, rebooted, entry.id if entry else None)
                last = f"{component} runs {version or 'an unknown version'}" if component else "no component named"
            if self.clock.now() + self.pacing.poll > deadline:
                raise ApplyError(f"{self.host}: {what}: the new version is not in the firmware inventory after "
                                 f"{self.pacing.bmc_timeout:g}s ({last})")
            self.clock.sleep(self.pacing.poll)


class RedfishTasks(base.TaskInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared, pacing: Pacing | None = None, clock: Clock | None = None) -> None:
        self.s = shared
        self.pacing = pacing or Pacing()
        self.clock = clock or Clock()
        self._ended: set[str] = set()  # task URIs seen ended (a finished task stays finished)

    def wait(self, monitor: str | None, timeout: float | None = None) -> TaskOutcome:
        return wait_task(self.s.conn, monitor, timeout=timeout, pacing=self.pacing, clock=self.clock)

    def all(self) -> list[Mapping[str, Any]]:
        """Every task the BMC lists (``$expand`` where supported); [] without a task service."""
        try:
            service = self.s.conn.get(link(self.s.root(), "Tasks") or f"{ROOT}/TaskService")
            return list(self.s.members(link(service, "Tasks") or f"{ROOT}/TaskService/Tasks", "tasks"))
        except FetchError:
            return []

    def running(self) -> list[Mapping[str, Any]]:
        """Tasks that have not ended. Tasks seen ended are not read again."""
        try:
            service = self.s.conn.get(link(self.s.root(), "Tasks") or f"{ROOT}/TaskService")
            coll = self.s.conn.get(link(service, "Tasks") or f"{ROOT}/TaskService/Tasks")
        except FetchError:
            return []
        running: list[Mapping[str, Any]] = []
        for member in coll.get(MEMBERS) or []:
            uri = normalize(str(member.get(ODATA_ID) or "")) if isinstance(member, dict) else ""
            if not uri or uri in self._ended:
                continue
            doc = member if TASK_STATE in member else None
            if doc is None:
                try:
                    doc = self.s.conn.get(str(member[ODATA_ID]))
                except FetchError:
                    continue
            if str(doc.get(TASK_STATE) or "").lower() in _RUNNING:
                running.append(doc)
            else:
                self._ended.add(uri)
        return running

    def wait_bmc(self, timeout: float | None = None, *, confirm: Callable[[], bool] | None = None,
                 steady: int = 2) -> None:
        """Wait until the BMC answers (root and system) and ``confirm()`` holds ``steady`` times in a
        row: a BMC that rebooted itself is not back until it answers steadily."""
        limit = self.pacing.bmc_timeout if timeout is None else timeout
        deadline = self.clock.now() + limit
        good, last = 0, "no answer yet"
        while True:
            try:
                self.s.forget()
                self.s.root()
                self.s.system()
                ok = confirm() if confirm is not None else True
                good = good + 1 if ok else 0
                last = "answering" if ok else "answering, not updated yet"
            except (UnreachableError, FetchError, ApplyError) as exc:
                good, last = 0, str(exc)
            if good >= steady:
                return
            if self.clock.now() + self.pacing.poll > deadline:
                raise ApplyError(f"{self.s.host()}: BMC not back after {limit:g}s ({last})")
            self.clock.sleep(self.pacing.poll)
