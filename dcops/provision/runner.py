"""Running workflows for many hosts: concurrency limits (global and per rack), host claims, the
run's heartbeat, step records, audit entries, and the commands run / resume / retry / skip / abort.

A process claims a host before working on it (compare-and-set on the owner column); a host whose
owner process is gone (killed) can be claimed again by ``resume``. Each step attempt is recorded
``started`` before its side effects and ``done``/``failed`` after, with before and after values in
the audit log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.baseline.models import Baselines
from dcops.baseline.redfish import OpenTarget, Target
from dcops.errors import DcopsError, ExitCode
from dcops.models import Host
from dcops.provision import steps as step_impl
from dcops.provision import store as pstore
from dcops.provision.steps import SECURE_ERASE_KEY
from dcops.provision.workflow import (
    STEPS,
    Decision,
    HostStatus,
    Step,
    StepStatus,
    Verb,
    Workflow,
    beyond,
    decide,
)
from dcops.store import audit
from dcops.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class HostOutcome:
    host: str
    status: str  # delivered | pending (stopped at --until) | failed | refused | aborted | nothing
    step: str | None = None
    message: str | None = None
    seconds: float = 0.0

    @property
    def exit_code(self) -> ExitCode:
        if self.status == "failed":
            return ExitCode.APPLY_FAILED
        if self.status == "unreachable":
            return ExitCode.INCOMPLETE
        if self.status == "refused":
            return ExitCode.FINDINGS
        return ExitCode.OK


UNTIL_KEY = "until"  # in provision_hosts.data: the last step the host's run may reach


def _until_value(until: Step | None) -> str:
    return (until or STEPS[-1]).value


def stored_until(row: Mapping[str, Any]) -> Step | None:
    """The ``--until`` persisted with a host's workflow (None: a workflow from before it was kept)."""
    value = (row.get("data") or {}).get(UNTIL_KEY)
    try:
        return Step(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Planned:
    """One host and what a command decided for it."""

    host: Host
    workflow: Workflow | None
    decision: Decision


class RackGate:
    """At most ``global_limit`` hosts at once and at most ``per_rack`` per rack."""

    def __init__(self, hosts: Sequence[Host], per_rack: int | None) -> None:
        self.pending = list(hosts)
        self.per_rack = per_rack
        self.active: dict[str, int] = {}
        self.cond = threading.Condition()
        self.stopped = False

    def take(self) -> Host | None:
        with self.cond:
            while True:
                if self.stopped or not self.pending:
                    return None
                for i, host in enumerate(self.pending):
                    rack = host.location.rack or "-"
                    if self.per_rack is None or self.active.get(rack, 0) < self.per_rack:
                        self.pending.pop(i)
                        self.active[rack] = self.active.get(rack, 0) + 1
                        return host
                self.cond.wait(1.0)

    def release(self, host: Host) -> None:
        with self.cond:
            rack = host.location.rack or "-"
            self.active[rack] = max(0, self.active.get(rack, 0) - 1)
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


class Provisioner:
    def __init__(self, store: Store, baselines: Baselines, hosts: Sequence[Host], opener: OpenTarget,
                 options: step_impl.Options, *, on_host: Callable[[HostOutcome], None] | None = None,
                 on_event: Callable[[str, str], None] | None = None) -> None:
        self.store = store
        self.baselines = baselines
        self.hosts = list(hosts)
        self.opener = opener
        self.options = options
        self.on_host = on_host
        self.on_event = on_event
        self.run_id = ""
        self._stop = threading.Event()

    # ------------------------------------------------------------------ commands
    def preview(self, verb: Verb, *, step: Step | None = None, reason: str | None = None) -> list[Planned]:
        """What the command would do to each host, from the store alone (no BMC, no write)."""
        names = [h.name for h in self.hosts]
        return self._decide_all(verb, step, reason, pstore.load_workflows(self.store, names),
                                pstore.host_rows(self.store, names))

    def _decide_all(self, verb: Verb, step: Step | None, reason: str | None, workflows: dict[str, Workflow],
                    rows: dict[str, dict[str, Any]]) -> list[Planned]:
        beats = pstore.run_heartbeats(self.store)
        until = self.options.until or STEPS[-1]
        out = []
        for host in self.hosts:
            wf = workflows.get(host.name)
            row = rows.get(host.name) or {}
            alive = bool(row.get("owner")) and pstore.owner_alive(row.get("owner"), beats.get(row.get("run_id") or ""))
            decision = decide(wf, verb, step=step, force=self.options.force, reason=reason, owner_alive=alive,
                              until=until, stored_until=stored_until(row))
            out.append(Planned(host, wf, decision))
        return out

    def execute(self, verb: Verb, *, step: Step | None = None, reason: str | None = None) -> list[HostOutcome]:
        """Run the command on every host; returns one outcome per host in inventory order."""
        args = {"hosts": [h.name for h in self.hosts], "step": step.value if step else None,
                "until": self.options.until.value if self.options.until else None, "force": self.options.force,
                "parallel": self.options.parallel, "per_rack": self.options.per_rack, "reason": reason}
        self.run_id = pstore.create_run(self.store, verb.value, args)
        workflows = pstore.load_workflows(self.store, [h.name for h in self.hosts])
        rows = pstore.host_rows(self.store, [h.name for h in self.hosts])
        outcomes: dict[str, HostOutcome] = {}
        todo: list[tuple[Host, Decision]] = []
        for planned in self._decide_all(verb, step, reason, workflows, rows):
            host, wf, decision = planned.host, planned.workflow, planned.decision
            if decision.action == "refuse":
                outcomes[host.name] = HostOutcome(host.name, "refused", decision.step.value if decision.step else None,
                                                  decision.reason)
            elif decision.action == "nothing":
                outcomes[host.name] = HostOutcome(host.name, "nothing", decision.step.value if decision.step else None,
                                                  decision.reason or "nothing to do")
            elif decision.action in ("skip", "abort"):
                outcomes[host.name] = self._mark(host, wf, decision, verb, reason)
            elif decision.action == "start":
                # Registered before any work starts: a run killed before a worker reached this
                # host leaves it pending, and `resume` takes it from there (up to the --until
                # stored with it).
                workflows[host.name] = pstore.start_workflow(self.store, host.name, host.profile,
                                                             host.location.rack, self.run_id)
                pstore.set_host(self.store, host.name, data={UNTIL_KEY: _until_value(decision.until),
                                                             SECURE_ERASE_KEY: self.options.secure_erase})
                rows[host.name] = {}
                pstore.record_audit(self.store, "provision.start", host=host.name, result="ok",
                                    details=decision.reason or None, run_id=self.run_id,
                                    after={"workflow": workflows[host.name].workflow_id,
                                           "until": _until_value(decision.until),
                                           "secure_erase": self.options.secure_erase})
                todo.append((host, Decision("continue", Step.DISCOVER, until=decision.until)))
            else:
                if verb is Verb.RUN:
                    # An explicit run moves a parked host on: its new --until is what a later
                    # resume honours.
                    pstore.set_host(self.store, host.name, data={UNTIL_KEY: _until_value(decision.until),
                                                                 SECURE_ERASE_KEY: self.options.secure_erase})
                todo.append((host, decision))
        for outcome in outcomes.values():
            if self.on_host:
                self.on_host(outcome)
        status = "finished"
        if todo:
            try:
                for outcome in self._work(todo, workflows, rows):
                    outcomes[outcome.host] = outcome
            except KeyboardInterrupt:
                status = "interrupted"
                raise
            finally:
                pstore.finish_run(self.store, self.run_id, status)
        else:
            pstore.finish_run(self.store, self.run_id, status)
        return [outcomes[h.name] for h in self.hosts if h.name in outcomes]

    def _mark(self, host: Host, wf: Workflow | None, decision: Decision, verb: Verb, reason: str | None) -> HostOutcome:
        assert wf is not None
        if decision.action == "skip":
            assert decision.step is not None
            pstore.skip_step(self.store, wf, decision.step, reason or "", self.run_id)
            if wf.status is HostStatus.FAILED:
                pstore.set_host(self.store, host.name, status=HostStatus.PENDING, clear_error=True)
            pstore.record_audit(self.store, f"provision.{decision.step.value}", host=host.name, result="skipped",
                         details=reason, run_id=self.run_id)
            return HostOutcome(host.name, "skipped", decision.step.value, f"skipped: {reason}; `resume` goes on")
        pstore.set_host(self.store, host.name, status=HostStatus.ABORTED, release=True)
        pstore.record_audit(self.store, "provision.abort", host=host.name, result="aborted",
                     before={"status": wf.status.value, "step": wf.step.value if wf.step else None},
                     details=reason, run_id=self.run_id)
        return HostOutcome(host.name, "aborted", wf.step.value if wf.step else None, "aborted")

    # ------------------------------------------------------------------ workers
    def _work(self, todo: list[tuple[Host, Decision]], workflows: dict[str, Workflow],
              rows: dict[str, dict[str, Any]]) -> list[HostOutcome]:
        decisions = {h.name: d for h, d in todo}
        gate = RackGate([h for h, _ in todo], self.options.per_rack)
        results: list[HostOutcome] = []
        lock = threading.Lock()
        beat = threading.Thread(target=self._heartbeat, name="dcops-heartbeat", daemon=True)
        beat.start()

        def worker() -> None:
            while not self._stop.is_set():
                host = gate.take()
                if host is None:
                    return
                try:
                    outcome = self._host(host, decisions[host.name], workflows.get(host.name),
                                         (rows.get(host.name) or {}).get("owner"))
                except Exception as exc:  # noqa: BLE001 - one host's bug must not stop the others
                    log.exception("%s: provisioning crashed", host.name)
                    outcome = HostOutcome(host.name, "failed", None, f"internal error: {type(exc).__name__}: {exc}")
                finally:
                    gate.release(host)
                with lock:
                    results.append(outcome)
                if self.on_host:
                    self.on_host(outcome)

        threads = [threading.Thread(target=worker, name=f"dcops-provision-{i}", daemon=True)
                   for i in range(max(1, min(self.options.parallel, len(todo))))]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        except KeyboardInterrupt:
            self._stop.set()
            gate.stop()
            raise
        finally:
            self._stop.set()
        return results

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.options.heartbeat_seconds):
            try:
                pstore.heartbeat(self.store, self.run_id)
            except DcopsError as exc:
                log.warning("heartbeat: %s", exc)

    # ------------------------------------------------------------------ one host
    def _host(self, host: Host, decision: Decision, wf: Workflow | None, old_owner: str | None) -> HostOutcome:
        started = time.monotonic()
        assert wf is not None
        if not pstore.claim(self.store, host.name, self.run_id, old_owner):
            return HostOutcome(host.name, "refused", None, "another dcops process took the host")
        data = dict((pstore.host_rows(self.store, [host.name]).get(host.name) or {}).get("data") or {})
        saved = dict(data)
        target_box: list[Target] = []
        cache: dict[str, Any] = {}

        def target() -> Target:
            if not target_box:
                target_box.append(self.opener(host))
            return target_box[0]

        first = decision.step or Step.DISCOVER
        retry = decision.action == "retry"
        until = decision.until
        current: Step | None = None
        try:
            for step in STEPS[STEPS.index(first):]:
                current = step
                if self._aborted(host.name):
                    pstore.set_host(self.store, host.name, release=True)
                    return HostOutcome(host.name, "aborted", step.value, "aborted by an operator")
                rec = wf.record(step)
                if rec is not None and rec.status in (StepStatus.DONE, StepStatus.SKIPPED) and not retry:
                    continue
                if beyond(step, until):
                    # Parked: the steps after --until need an explicit `provision run`.
                    pstore.set_host(self.store, host.name, status=HostStatus.PENDING, release=True)
                    return HostOutcome(host.name, "pending", step.value, f"parked before {step.value} (--until {until})",
                                       time.monotonic() - started)
                if rec is not None and rec.status is StepStatus.STARTED and not retry:
                    attempt = rec  # interrupted: the same attempt continues and reconciles
                    if step not in (Step.DISCOVER, Step.ACCEPT, Step.POOL, Step.POST_INSTALL, Step.NETWORK):
                        target().tasks.wait_bmc(steady=1)  # it may be rebooting after its own update
                    # The interrupted run's "started" entry is the intent this attempt closes.
                    intent = audit.open_intent(self.store, f"provision.{step.value}", host.name)
                    pstore.record_audit(self.store, f"provision.{step.value}", host=host.name, result="resumed",
                                 details=f"attempt {rec.attempt} reconciles with the BMC", run_id=self.run_id)
                else:
                    attempt = pstore.start_step(self.store, wf, step, self.run_id,
                                                {"attempt_of": rec.attempt if rec else 0})
                    intent = pstore.record_audit(self.store, f"provision.{step.value}", host=host.name,
                                                 result="started", details=f"attempt {attempt.attempt}",
                                                 run_id=self.run_id)
                retry = False
                journal = pstore.StepJournal(self.store, attempt.attempt_id)
                ctx = step_impl.StepContext(host, self.baselines, self.options, journal, data, target,
                                            self._events_for(host.name), cache)
                try:
                    after = step_impl.STEP_FUNCTIONS[step](ctx)
                except DcopsError as exc:
                    after_fail = getattr(exc, "after", None)
                    pstore.finish_step(self.store, attempt.attempt_id, StepStatus.FAILED, after=after_fail,
                                       error=str(exc))
                    pstore.set_host(self.store, host.name, status=HostStatus.FAILED, step=step, error=str(exc),
                                    release=True, data=data)
                    # A write sequence that failed half-way: the record names each write (old -> new).
                    before_fail = after_fail.get("before") if isinstance(after_fail, dict) else None
                    result = "partial" if before_fail else "failed"
                    pstore.record_audit(self.store, f"provision.{step.value}", host=host.name, result=result,
                                        before=before_fail, after=after_fail, details=str(exc), run_id=self.run_id,
                                        intent_id=intent)
                    status = "unreachable" if exc.exit_code is ExitCode.INCOMPLETE else "failed"
                    return HostOutcome(host.name, status, step.value, str(exc), time.monotonic() - started)
                # What the step learnt first, then "done": a kill between the two re-runs the step
                # (it reconciles) instead of leaving a done step whose findings were lost.
                if data != saved:
                    pstore.set_host(self.store, host.name, data=data)
                    saved = dict(data)
                pstore.finish_step(self.store, attempt.attempt_id, StepStatus.DONE, after=after)
                pstore.record_audit(self.store, f"provision.{step.value}", host=host.name, result="ok",
                             before=after.get("changes") if isinstance(after, dict) else None, after=after,
                             run_id=self.run_id, intent_id=intent)
                if until is not None and step is until and step is not STEPS[-1]:
                    pstore.set_host(self.store, host.name, status=HostStatus.PENDING, release=True)
                    return HostOutcome(host.name, "pending", step.value, f"stopped after {step.value} (--until)",
                                       time.monotonic() - started)
            pstore.set_host(self.store, host.name, status=HostStatus.DELIVERED, release=True, clear_error=True)
            pstore.record_audit(self.store, "provision.delivered", host=host.name, result="ok", run_id=self.run_id,
                         after={"profile": data.get("profile"), "serial": data.get("serial")})
            return HostOutcome(host.name, "delivered", None, None, time.monotonic() - started)
        except Exception as exc:
            # Unexpected: record the failure so the host is not left "running" forever.
            pstore.set_host(self.store, host.name, status=HostStatus.FAILED, step=current,
                            error=f"internal error: {type(exc).__name__}: {exc}", release=True)
            raise
        finally:
            for t in target_box:
                t.close()

    def _events_for(self, host: str) -> Callable[[str], None] | None:
        on_event = self.on_event
        if on_event is None:
            return None

        def emit(message: str) -> None:
            on_event(host, message)

        return emit

    def _aborted(self, host: str) -> bool:
        row = pstore.host_rows(self.store, [host]).get(host) or {}
        return row.get("status") == HostStatus.ABORTED.value
