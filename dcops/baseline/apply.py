"""Executing a plan on one host: firmware, then BIOS, then RAID; each re-read and verified.

Every kind is re-planned from a fresh read just before it runs (a BIOS update can change the
attribute registry; a run resumed after a crash must see what already happened), and confirmed
from a fresh read afterwards:

* firmware -- one SimpleUpdate at a time in the baseline's order; the task monitor is polled, a
  task that vanishes is resolved through FirmwareInventory, a BMC that reboots after its own update
  is waited out, staged images (BIOS) are activated by one reset at the end; every component is
  confirmed in FirmwareInventory.
* BIOS -- staged in the settings object (ApplyTime OnReset where supported), one reset, wait for
  POST to finish and the BMC to drop the pending values, re-read: **any attribute not applied fails
  the host** (a BMC that accepts a value and silently drops it at POST is caught here).
* RAID -- one controller operation at a time (deletes, spares, conversions, creates), each task
  awaited, then the layout re-read and diffed.

A ``Journal`` records intent before each side effect and completion after it, so a run killed
half-way resumes without doing anything twice: the fresh read shows what is done, and the journal
says what was started but cannot be seen yet (a running task, a staged image).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dcops.baseline.diff import diff_bios, diff_firmware, diff_raid, same_value
from dcops.baseline.models import BiosBaseline, Change, FirmwareBaseline, Plan, RaidTemplate
from dcops.baseline.redfish import Target, read_state
from dcops.baseline.state import HostState
from dcops.baseline.versions import satisfies
from dcops.bmc.redfish.tasks import task_monitor, task_name
from dcops.bmc.state import TaskOutcome
from dcops.errors import ApplyError, DcopsError, InvalidInputError

log = logging.getLogger(__name__)


class Journal(Protocol):
    """Write-ahead records of side effects, per host and step (see dcops.provision.store)."""

    def before(self, key: str, info: Mapping[str, Any] | None = None) -> None: ...

    def after(self, key: str, info: Mapping[str, Any] | None = None) -> None: ...

    def state(self, key: str) -> str | None:
        """``started`` (intent recorded, completion not), ``done``, or None."""

    def info(self, key: str) -> Mapping[str, Any]: ...


class MemoryJournal:
    """A journal kept in memory (``baseline apply``: nothing to resume across processes)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def before(self, key: str, info: Mapping[str, Any] | None = None) -> None:
        self.records[key] = {"state": "started", **(info or {})}

    def after(self, key: str, info: Mapping[str, Any] | None = None) -> None:
        self.records[key] = {**self.records.get(key, {}), **(info or {}), "state": "done"}

    def state(self, key: str) -> str | None:
        record = self.records.get(key)
        return None if record is None else str(record["state"])

    def info(self, key: str) -> Mapping[str, Any]:
        return self.records.get(key, {})


@dataclass
class KindResult:
    """What one kind did to a host, filled in as it goes: a failure half-way leaves here exactly
    the writes that were made (``done``: old and new of each) and what was left (``after``)."""

    kind: str
    baseline: str
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    before: list[dict[str, Any]] = field(default_factory=list)  # the plan, as read before the first write
    after: list[dict[str, Any]] = field(default_factory=list)  # what remains (re-read, or not reached)
    reboots: int = 0
    done: list[dict[str, Any]] = field(default_factory=list)  # each write made: target, action, old, new
    failed: str | None = None

    def wrote(self, change: Change, text: str | None = None, **extra: Any) -> None:
        self.done.append({**_change_json(change), **extra})
        self.applied.append(text or f"{change.action} {change.target}")

    @property
    def outcome(self) -> str:
        """``ok``, ``partial`` (failed after writing), ``failed`` (failed before any write)."""
        if self.failed is None and not self.after:
            return "ok"
        return "partial" if self.done else "failed"

    def record(self) -> dict[str, Any]:
        """The audit's view: every write old -> new, what was destroyed, what remains, why it stopped."""
        return {"baseline": self.baseline, "outcome": self.outcome,
                "applied": [{"target": d["target"], "action": d["action"], "old": d["old"], "new": d["new"]}
                            for d in self.done],
                "destroyed": [d["target"] for d in self.done if d.get("destructive")],
                "remaining": [f"{c['action']} {c['target']}" for c in self.after],
                "failed": self.failed, "reboots": self.reboots}

    def summary(self) -> str:
        rec = self.record()
        parts = [f"{self.kind}: applied {len(self.done)}"
                 + (": " + "; ".join(f"{a['target']}: {a['old']!r} -> {a['new']!r}" for a in rec["applied"])
                    if rec["applied"] else "")]
        if rec["destroyed"]:
            parts.append("destroyed " + ", ".join(rec["destroyed"]))
        if self.failed:
            parts.append(f"failed: {self.failed}")
        if rec["remaining"]:
            parts.append("remaining " + ", ".join(rec["remaining"]))
        return "; ".join(parts)


def _change_json(change: Change) -> dict[str, Any]:
    return {"kind": change.kind.value, "target": change.target, "action": change.action, "old": change.old,
            "new": change.new, "reboot": change.reboot, "destructive": change.destructive, "note": change.note}


@contextlib.contextmanager
def _recording(result: KindResult, planned: Callable[[], Sequence[Change]]) -> Any:
    """On a failure, note it and what of the plan was not done, then let it go on up."""
    try:
        yield
    except DcopsError as exc:
        result.failed = str(exc)
        done = {(d["action"], d["target"]) for d in result.done}
        if not result.after:
            result.after = [_change_json(c) for c in planned() if (c.action, c.target) not in done]
        raise


def _start(result: KindResult, into: list[KindResult] | None) -> KindResult:
    if into is not None:
        into.append(result)
    return result


# ------------------------------------------------------------------------------------ firmware

def _fw_key(change: Change) -> str:
    return f"fw:{change.detail['class']}:{change.target}:{change.detail['image']}"


def _adopt_task(target: Target, image: str, journal_info: Mapping[str, Any]) -> str | None:
    """A task a killed run started for ``image``: the monitor it recorded, else a running task
    whose name mentions the image file."""
    if journal_info.get("monitor"):
        return str(journal_info["monitor"])
    filename = image.rsplit("/", 1)[-1].lower()
    for task in target.tasks.all():
        if filename in str(task_name(task)).lower():
            return task_monitor(task)
    return None


def apply_firmware(target: Target, baseline: FirmwareBaseline, journal: Journal,
                   on_event: Callable[[str], None] | None = None, *,
                   into: list[KindResult] | None = None) -> KindResult:
    """Bring the firmware to the baseline. Raises ApplyError naming the component on failure;
    the result (appended to ``into`` first) then holds what was flashed before it."""
    result = _start(KindResult("firmware", baseline.name), into)
    planned: list[Change] = []
    with _recording(result, lambda: planned):
        return _apply_firmware(target, baseline, journal, on_event, result, planned)


def _apply_firmware(target: Target, baseline: FirmwareBaseline, journal: Journal,
                    on_event: Callable[[str], None] | None, result: KindResult, planned: list[Change]) -> KindResult:
    bmc, tasks = target.bmc, target.tasks
    # A killed run may have left the BMC rebooting into new firmware, or an update running: wait
    # for the BMC, then for the task, before reading versions.
    tasks.wait_bmc(steady=1)
    for task in tasks.running():
        monitor = task_monitor(task)
        if monitor:
            tasks.wait(monitor)
    changes, problems = diff_firmware(baseline, bmc.firmware.entries())
    if problems:
        raise InvalidInputError(f"{target.host.name}: " + "; ".join(problems))
    result.before = [_change_json(c) for c in changes]
    planned.extend(changes)
    needs_reset = False
    for change in changes:
        key = _fw_key(change)
        image = str(change.detail["image"])
        monitor = None
        if journal.state(key) == "done" and (journal.info(key).get("await_reset") or change.reboot):
            # Applied before the interruption; only activation (a reset) is missing.
            needs_reset = True
            result.skipped.append(f"{change.target}: staged, awaiting the reset")
            continue
        if journal.state(key) == "started":
            monitor = _adopt_task(target, image, journal.info(key))
        if monitor is None and journal.state(key) != "done":
            journal.before(key, {"image": image, "from": change.old})
            if on_event:
                on_event(f"firmware {change.target}: {change.old} -> {change.detail['version']}")
            started = bmc.firmware.update(image, targets=[str(change.detail["entry_uri"])]
                                          if change.detail.get("entry_uri") else [], wait=False)
            monitor = started.task.uri
            journal.before(key, {"image": image, "from": change.old, "monitor": monitor})
        outcome = tasks.wait(monitor) if monitor else TaskOutcome("vanished")
        if outcome.state == "failed":
            journal.after(key, {"failed": outcome.message})
            raise ApplyError(f"{target.host.name}: firmware {change.target}: update to {change.detail['version']} "
                             f"failed: {outcome.message or 'task ended in error'}")
        cls = change.detail["class"]
        wanted, rule = str(change.detail["version"]), str(change.detail["rule"])

        def confirmed(c: Change = change, w: str = wanted, r: str = rule) -> bool:
            entry = next((e for e in bmc.firmware.entries() if e.installed and e.name == c.target), None)
            return entry is not None and satisfies(entry.version, w, r)[0]

        if cls == "bmc":
            # The BMC restarts itself to run the new image: wait until it answers steadily and
            # reports the new version.
            tasks.wait_bmc(confirm=confirmed)
        elif outcome.await_reset or change.reboot:
            needs_reset = True
        elif outcome.state == "vanished":
            # The task is gone (a BMC that prunes tasks, or reboots): the inventory is the only
            # witness left; poll it. Completed tasks are confirmed all at once below.
            _poll(target, confirmed, target.pacing.task_timeout,
                  f"firmware {change.target}: {wanted} not in FirmwareInventory after the update")
        journal.after(key, {"await_reset": outcome.await_reset or change.reboot, "task": outcome.state})
        result.wrote(change, f"{change.target}: {change.old} -> {wanted}", new=wanted)
    if needs_reset:
        reset_key = "fw:reset"
        if journal.state(reset_key) != "done":
            journal.before(reset_key)
            if on_event:
                on_event("firmware: reset to activate staged images")
            bmc.power.reset_and_wait(until="post")
            journal.after(reset_key)
            result.reboots += 1
    remaining, _ = diff_firmware(baseline, bmc.firmware.entries())
    result.after = [_change_json(c) for c in remaining]
    if remaining:
        raise ApplyError(f"{target.host.name}: firmware not confirmed in FirmwareInventory: "
                         + "; ".join(f"{c.target} is {c.old}, wanted {c.new}" for c in remaining))
    return result


def _poll(target: Target, check: Callable[[], bool], timeout: float, message: str) -> None:
    """Call ``check`` every ``pacing.poll`` until it holds; ApplyError after ``timeout``."""
    deadline = target.clock.now() + timeout
    while not check():
        if target.clock.now() > deadline:
            raise ApplyError(f"{target.host.name}: {message}")
        target.clock.sleep(target.pacing.poll)


# ------------------------------------------------------------------------------------ BIOS

def apply_bios(target: Target, baseline: BiosBaseline, journal: Journal, *, graceful: bool = False,
               allow_foreign_pending: bool = False, on_event: Callable[[str], None] | None = None,
               into: list[KindResult] | None = None) -> KindResult:
    """Stage, reset, wait for POST, re-read; raises ApplyError listing every attribute not applied
    (the result, appended to ``into`` first, then holds the attributes that did change)."""
    result = _start(KindResult("bios", baseline.name), into)
    planned: list[Change] = []
    with _recording(result, lambda: planned):
        return _apply_bios(target, baseline, journal, graceful, allow_foreign_pending, on_event, result, planned)


def _apply_bios(target: Target, baseline: BiosBaseline, journal: Journal, graceful: bool,
                allow_foreign_pending: bool, on_event: Callable[[str], None] | None, result: KindResult,
                planned: list[Change]) -> KindResult:
    bmc = target.bmc
    state = read_state(target.host.name, bmc, {"bios"})
    if state.bios is None:
        raise ApplyError(f"{target.host.name}: the server reports no BIOS settings")
    changes, problems = diff_bios(baseline, state.vendor, state.bios)
    if problems:
        raise InvalidInputError(f"{target.host.name}: " + "; ".join(problems))
    wanted = baseline.for_vendor(state.vendor)
    result.before = [_change_json(c) for c in changes]
    planned.extend(changes)
    if not changes:
        return result
    if journal.state("bios:reset") == "done":
        # The reset already happened in an earlier attempt: the values that are still not there
        # were refused. Never reset again to hide it.
        raise ApplyError(_not_applied(target.host.name, changes))
    foreign = [c for c in changes if c.action == "pending-foreign"]
    if foreign and not allow_foreign_pending:
        raise ApplyError(f"{target.host.name}: bios: values staged outside this baseline would be applied by the "
                         "reset: " + ", ".join(f"{c.target}={c.new!r}" for c in foreign)
                         + " (clear the pending settings on the BMC, or allow them explicitly)")
    to_stage = {c.target: wanted[c.target] for c in changes if c.action == "set"}
    if to_stage:
        journal.before("bios:stage", {"values": to_stage})
        if on_event:
            on_event(f"bios: staging {len(to_stage)} attribute(s)")
        # OnReset where the BMC lists it (the reset below applies the values), else no apply time.
        bmc.bios.stage(to_stage, apply_time="OnReset" if "OnReset" in state.bios.apply_times else None)
        journal.after("bios:stage")
    needs_reset = any(c.reboot for c in changes)
    if needs_reset:
        journal.before("bios:reset")
        if on_event:
            on_event("bios: reset to apply")
        bmc.power.reset_and_wait(graceful=graceful, until="post")
        journal.after("bios:reset")
        result.reboots += 1
    # The BMC publishes applied values some time after POST: wait until our names are no longer
    # pending (or the timeout), then compare.
    names = set(wanted)

    def settled() -> bool:
        bios = bmc.bios.read(registry=False)
        return not (names & set(bios.pending))

    with contextlib.suppress(ApplyError):  # reported below, attribute by attribute
        _poll(target, settled, target.pacing.bios_apply_timeout, "bios: values still pending after the reset")
    after_state = bmc.bios.read()
    remaining, _ = diff_bios(baseline, state.vendor, after_state)
    # What the re-read shows changed is applied, even when other attributes were refused.
    left = {c.target for c in remaining}
    for c in changes:
        if c.target not in left:
            result.wrote(c, f"{c.target}: {c.old!r} -> {c.new!r}")
    result.after = [_change_json(c) for c in remaining]
    if remaining:
        messages = after_state.messages
        raise ApplyError(_not_applied(target.host.name, remaining)
                         + (f" (BMC: {'; '.join(messages)})" if messages else ""))
    return result


def _not_applied(host: str, changes: Sequence[Change]) -> str:
    parts = []
    for c in changes:
        if c.action == "pending":
            parts.append(f"{c.target} still pending ({c.new!r}, is {c.old!r})")
        else:
            parts.append(f"{c.target} is {c.old!r}, wanted {c.new!r}")
    return f"{host}: bios: not applied: " + "; ".join(parts)


def bios_applied(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Names whose current value is not the wanted one."""
    return [n for n, v in wanted.items() if not same_value(current.get(n), v)]


# ------------------------------------------------------------------------------------ RAID

def _raid_key(change: Change) -> str:
    return f"raid:{change.action}:{change.target}"


def apply_raid(target: Target, template: RaidTemplate, journal: Journal, *, allow_destructive: bool = False,
               on_event: Callable[[str], None] | None = None, into: list[KindResult] | None = None) -> KindResult:
    """One controller operation at a time, then re-read and diff (the result, appended to
    ``into`` first, holds every operation done before a failure, deletes included)."""
    result = _start(KindResult("raid", template.name), into)
    planned: list[Change] = []
    with _recording(result, lambda: planned):
        return _apply_raid(target, template, journal, allow_destructive, on_event, result, planned)


def _apply_raid(target: Target, template: RaidTemplate, journal: Journal, allow_destructive: bool,
                on_event: Callable[[str], None] | None, result: KindResult, planned: list[Change]) -> KindResult:
    raid, tasks, pacing = target.bmc.raid, target.tasks, target.pacing
    _finish_staged(target, journal, result, on_event)
    raid.wait_idle(pacing.task_timeout, tasks=True)
    changes, problems, _ = diff_raid(template, raid.controllers())
    if problems:
        raise InvalidInputError(f"{target.host.name}: " + "; ".join(problems))
    result.before = [_change_json(c) for c in changes]
    planned.extend(changes)
    if any(c.destructive for c in changes) and not allow_destructive:
        raise ApplyError(f"{target.host.name}: raid: the plan deletes volumes with data ("
                         + ", ".join(c.target for c in changes if c.destructive)
                         + "); allow it explicitly (--allow-data-loss)")
    for change in changes:
        key = _raid_key(change)
        if journal.state(key) == "done" and change.action in ("create", "delete"):
            # Done in an earlier attempt yet not visible: the BMC lost it; do not repeat blindly.
            raise ApplyError(f"{target.host.name}: raid {change.action} {change.target} completed earlier but the "
                             "controller does not show it")
        journal.before(key, {"old": change.old, "new": change.new, "apply_time": change.detail.get("apply_time")})
        if on_event:
            on_event(f"raid {change.action} {change.target}")
        raid.wait_idle(pacing.task_timeout, tasks=True)
        d = change.detail
        started: TaskOutcome | None = None
        if change.action == "delete":
            started = raid.delete_volume(str(d["volume_uri"]), wait=False, apply_time=d.get("apply_time"))
        elif change.action == "unspare":
            started = raid.release_spare(str(d["drive_uri"]), wait=False)
        elif change.action == "spare" and d.get("type") == "dedicated":
            started = raid.bind_dedicated_spare(str(d["drive_uri"]), _volume_of(raid, d), wait=False)
        elif change.action == "spare":
            raid.set_hotspare(str(d["drive_uri"]), str(change.new))
        elif change.action == "convert":
            started = raid.convert_drive(str(d["drive_id"]), str(d["to"]), wait=False)
        elif change.action == "mode":
            # HPE SmartStorageConfig: staged in the settings object, in effect after a reset; reset
            # now (the creates that follow may need the new mode), and the read after verifies it.
            reset_key = f"{key}:{change.new}:reset"
            if journal.state(reset_key) != "done":
                raid.set_controller_mode(str(d["controller"]), str(d["mode"]))
                journal.before(reset_key)
                if on_event:
                    on_event(f"raid mode {change.target}: reset to apply ({change.old} -> {change.new})")
                target.bmc.power.reset_and_wait(until="post")
                journal.after(reset_key)
                result.reboots += 1
        elif change.action == "create":
            started = raid.create_volume(str(d["controller"]), str(d["level"]), [str(u) for u in d["drive_uris"]],
                                         capacity_bytes=d.get("capacity_bytes") or None, name=d.get("name"),
                                         read_policy=d.get("read_policy"), write_policy=d.get("write_policy"),
                                         wait=False, strip_size_bytes=d.get("strip_size_bytes") or None,
                                         apply_time=d.get("apply_time"))
        elif change.action == "disk-cache":
            raid.set_drive_write_cache(str(d["drive_uri"]), bool(change.new))
        elif change.action == "rename":
            started = raid.update_volume(str(d["volume_uri"]), name=str(change.new), wait=False)
        elif change.action == "policy":
            which = "read_policy" if d["policy"] == "read_policy" else "write_policy"
            started = raid.update_volume(str(d["volume_uri"]), **{which: str(d["value"])}, wait=False)
        if (started is not None and started.uri is not None and d.get("apply_time") == "OnReset"
                and journal.state(f"{key}:reset") != "done"):
            # Staged until the next reset (the task stays Pending): reset now, then the task ends.
            journal.before(f"{key}:reset")
            if on_event:
                on_event(f"raid {change.action} {change.target}: reset to apply (OnReset)")
            target.bmc.power.reset_and_wait(until="post")
            journal.after(f"{key}:reset")
            result.reboots += 1
        if started is not None and started.uri is not None:
            outcome = tasks.wait(started.uri)
            if outcome.state == "failed":
                raise ApplyError(f"{target.host.name}: raid {change.action} {change.target} failed: {outcome.message}")
        journal.after(key)
        result.wrote(change)
    raid.wait_idle(pacing.task_timeout, tasks=True)
    remaining, problems, _ = diff_raid(template, raid.controllers())
    result.after = [_change_json(c) for c in remaining]
    if remaining or problems:
        raise ApplyError(f"{target.host.name}: raid not as the template after applying: "
                         + "; ".join([c.describe() for c in remaining] + problems))
    return result


def _finish_staged(target: Target, journal: Journal, result: KindResult,
                   on_event: Callable[[str], None] | None) -> None:
    """A run killed after sending a volume operation OnReset and before its reset left it staged
    (its task Pending until a reset): reset now, so the fresh read sees it done and the plan does
    not send it again (and no wait for an idle controller waits on a task only a reset ends)."""
    records: Mapping[str, Mapping[str, Any]] = getattr(journal, "records", {})
    staged = [k for k, r in records.items() if k.startswith("raid:") and not k.endswith("reset")
              and r.get("state") == "started" and r.get("apply_time") == "OnReset"
              and journal.state(f"{k}:reset") != "done" and journal.state(f"{k}:staged-reset") != "done"]
    if not staged:
        return
    for key in staged:
        journal.before(f"{key}:staged-reset")
    if on_event:
        on_event("raid: reset to apply what an interrupted run staged (OnReset)")
    target.bmc.power.reset_and_wait(until="post")
    for key in staged:
        journal.after(f"{key}:staged-reset")
    result.reboots += 1


def _volume_of(raid: Any, detail: Mapping[str, Any]) -> str:
    """The volume a dedicated spare is bound to: its URI when it existed at planning, else (made
    by this plan) found by name on a fresh read."""
    if detail.get("volume_uri"):
        return str(detail["volume_uri"])
    name = str(detail.get("for"))
    for ctrl in raid.controllers():
        if ctrl.id == detail.get("controller"):
            found = [v for v in ctrl.volumes if v.name == name]
            if len(found) == 1:
                return found[0].uri
    raise ApplyError(f"raid: volume {name} (for a dedicated spare) is not on controller {detail.get('controller')}")


# ------------------------------------------------------------------------------------ secure erase

def secure_erase(target: Target, journal: Journal, *, on_event: Callable[[str], None] | None = None,
                 into: list[KindResult] | None = None) -> KindResult:
    """Destroy the data on every disk before a server is provisioned again or leaves: each volume
    is initialized (Volume.Initialize, Slow), each drive in no volume and no spare secure-erased
    (Drive.SecureErase). Refused before the first write when the BMC offers neither for some of
    them (nothing may be left readable by surprise). Each operation once (journal), each awaited."""
    result = _start(KindResult("erase", "secure-erase"), into)
    raid, tasks = target.bmc.raid, target.tasks
    raid.wait_idle(target.pacing.task_timeout, tasks=True)
    ops: list[tuple[str, str, str]] = []  # (key, kind, uri)
    missing: list[str] = []
    for ctrl in raid.controllers():
        for vol in ctrl.volumes:
            if vol.initialize_uri:
                ops.append((f"erase:volume:{vol.id}", "volume", vol.uri))
            else:
                missing.append(f"volume {vol.name or vol.id} (no Volume.Initialize)")
        in_volume = {i for v in ctrl.volumes for i in v.drives}
        for d in ctrl.drives:
            if d.id in in_volume or d.hotspare != "none" or d.failed:
                continue
            if d.secure_erase_uri:
                ops.append((f"erase:drive:{d.id}", "drive", d.uri))
            else:
                missing.append(f"drive {d.id} (no Drive.SecureErase)")
    if missing:
        raise ApplyError(f"{target.host.name}: secure erase: refused before any change: the BMC cannot erase "
                         + "; ".join(missing))
    for key, kind, uri in ops:
        if journal.state(key) == "done":
            result.skipped.append(f"{kind} {uri}: erased earlier")
            continue
        journal.before(key, {"uri": uri})
        if on_event:
            on_event(f"secure erase: {kind} {uri}")
        started = raid.initialize_volume(uri, wait=False) if kind == "volume" else \
            raid.secure_erase_drive(uri, wait=False)
        outcome = tasks.wait(started.uri) if started.uri else started
        if outcome.state == "failed":
            raise ApplyError(f"{target.host.name}: secure erase of {kind} {uri} failed: {outcome.message}")
        journal.after(key)
        result.done.append({"kind": "erase", "target": uri, "action": "initialize" if kind == "volume" else
                            "secure-erase", "old": "data", "new": "erased", "destructive": True})
        result.applied.append(f"{'initialize' if kind == 'volume' else 'secure-erase'} {uri}")
    return result


# ------------------------------------------------------------------------------------ a host

@dataclass(frozen=True)
class HostBaselines:
    """The baselines that apply to one host (resolved from its profile)."""

    profile: str | None
    firmware: FirmwareBaseline | None = None
    bios: BiosBaseline | None = None
    raid: RaidTemplate | None = None


def read_and_diff(target: Target, baselines: HostBaselines, kinds: Sequence[str]) -> tuple[HostState, Plan]:
    from dcops.baseline.diff import diff_host

    wanted = {k for k in kinds if getattr(baselines, k) is not None}
    state = read_state(target.host.name, target.bmc, wanted or {"bios"})
    plan = diff_host(target.host.name, baselines.profile, state, firmware=baselines.firmware,
                     bios=baselines.bios, raid=baselines.raid, kinds=list(kinds))
    return state, plan


def apply_host(target: Target, baselines: HostBaselines, kinds: Sequence[str], journal: Journal, *,
               allow_destructive: bool = False, graceful: bool = True, allow_foreign_pending: bool = False,
               on_event: Callable[[str], None] | None = None,
               into: list[KindResult] | None = None) -> list[KindResult]:
    """Apply the selected kinds in order (firmware, BIOS, RAID); stops at the first failure.
    Each kind's result goes into ``into`` as it starts, so a failure leaves every write on record."""
    results = into if into is not None else []
    if "firmware" in kinds and baselines.firmware is not None:
        apply_firmware(target, baselines.firmware, journal, on_event, into=results)
    if "bios" in kinds and baselines.bios is not None:
        apply_bios(target, baselines.bios, journal, graceful=graceful,
                   allow_foreign_pending=allow_foreign_pending, on_event=on_event, into=results)
    if "raid" in kinds and baselines.raid is not None:
        apply_raid(target, baselines.raid, journal, allow_destructive=allow_destructive, on_event=on_event,
                   into=results)
    return results
