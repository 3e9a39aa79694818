"""The provisioning workflow as a pure state machine: steps, transitions, and the rules of
run / resume / retry / skip / abort. No I/O; ``dcops.provision.store`` persists it.

A host's workflow is the ordered steps below. Each execution of a step is an *attempt* with its
own id, recorded as ``started`` *before* any side effect and ``done``/``failed`` after. A step
found ``started`` on resume was interrupted: the same attempt continues and its executor first
reconciles with what the BMC reports (and with the attempt's write-ahead journal), so nothing is
applied twice. ``retry`` opens a new attempt of a failed step; ``skip`` records a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Step(StrEnum):
    DISCOVER = "discover"  # read the server over its BMC: identity, parts
    ACCEPT = "accept"  # hardware vs the profile's expectation, field by field
    POOL = "pool"  # accepted into the bare-metal pool; deployment goes on from here on request
    FIRMWARE = "firmware"
    BIOS = "bios"
    RAID = "raid"
    OS_INSTALL = "os-install"  # virtual media, one-time boot from CD, wait for the installer, eject
    POST_INSTALL = "post-install"  # playbooks: patches in order, security baseline, agents
    VERIFY = "verify"  # the server matches its profile's baselines
    NETWORK = "network"  # switch to the production network (a playbook)


STEPS: tuple[Step, ...] = tuple(Step)
# Steps that cannot be skipped: everything after needs what they produce.
UNSKIPPABLE: frozenset[Step] = frozenset({Step.DISCOVER})


class HostStatus(StrEnum):
    PENDING = "pending"  # work remains and nobody is on it (new, paused at --until, interrupted)
    RUNNING = "running"  # a process is working on it
    FAILED = "failed"  # a step failed: retry, skip or abort
    ABORTED = "aborted"
    DELIVERED = "delivered"


class StepStatus(StrEnum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StepRecord:
    step: Step
    attempt: int
    attempt_id: str
    status: StepStatus
    error: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Workflow:
    """One host's workflow as stored: the latest attempt of each step."""

    host: str
    workflow_id: str
    status: HostStatus
    steps: Mapping[Step, StepRecord] = field(default_factory=dict)
    profile: str | None = None
    step: Step | None = None  # the current or failed step, as stored
    error: str | None = None

    def record(self, step: Step) -> StepRecord | None:
        return self.steps.get(step)

    def finished(self, step: Step) -> bool:
        rec = self.steps.get(step)
        return rec is not None and rec.status in (StepStatus.DONE, StepStatus.SKIPPED)

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in STEPS if (r := self.steps.get(s)) is not None and r.status is StepStatus.FAILED),
                    None)


def next_step(wf: Workflow) -> Step | None:
    """The first step not done or skipped (None: every step is finished)."""
    return next((s for s in STEPS if not wf.finished(s)), None)


class Verb(StrEnum):
    RUN = "run"
    RESUME = "resume"
    RETRY = "retry"
    SKIP = "skip"
    ABORT = "abort"


@dataclass(frozen=True)
class Decision:
    """What a command does to one host: ``action`` is ``start`` (a new workflow), ``continue``
    (go on with ``step``; ``reconcile`` when that step was interrupted), ``retry`` (a new attempt
    of ``step``), ``skip``, ``abort``, ``nothing`` (already there) or ``refuse`` (``reason`` says
    why and what to do instead)."""

    action: str
    step: Step | None = None
    reconcile: bool = False
    reason: str = ""
    until: Step | None = None  # the last step this command may run (None: to delivery)


def beyond(step: Step, until: Step | None) -> bool:
    """Whether ``step`` comes after ``until`` (None: nothing is beyond)."""
    return until is not None and STEPS.index(step) > STEPS.index(until)


def decide(wf: Workflow | None, verb: Verb, *, step: Step | None = None, force: bool = False,
           reason: str | None = None, owner_alive: bool = False, until: Step | None = None,
           stored_until: Step | None = None) -> Decision:
    """The rules, in one place (docs/provision.md has them as a table).

    ``owner_alive``: another live process holds the host (its run is still going). ``until``:
    the ``--until`` of ``run`` (None: to delivery). ``stored_until``: the ``--until`` the host's
    workflow was last run with, as persisted (None: not recorded, a workflow from before dcops
    kept it); ``resume`` and ``retry`` never go past it, so a host parked in the pool stays there
    until an explicit ``run`` moves it."""
    if wf is not None and wf.status is HostStatus.RUNNING and owner_alive and verb is not Verb.ABORT:
        return Decision("refuse", reason="another dcops process is provisioning it right now")
    if verb is Verb.RUN:
        if wf is None or wf.status is HostStatus.ABORTED:
            return Decision("start", Step.DISCOVER, until=until)
        if wf.status is HostStatus.DELIVERED:
            if force:
                return Decision("start", Step.DISCOVER, reason="re-provisioning a delivered host (--force)",
                                until=until)
            return Decision("refuse", reason="already delivered; re-provisioning wipes it: use --force to do it")
        if wf.status is HostStatus.FAILED:
            failed = wf.failed_step or wf.step
            return Decision("refuse", failed, reason=f"step {failed} failed: use `retry {failed}`, "
                                                     f"`skip {failed} --reason ...` or `abort`")
        nxt = next_step(wf)
        rec = wf.record(nxt) if nxt else None
        if force:
            return Decision("start", Step.DISCOVER, reason="starting over (--force)", until=until)
        if rec is None and wf.status is HostStatus.PENDING:
            # Paused between steps (e.g. in the pool after --until pool): go on.
            if nxt is None:
                return Decision("nothing")
            if beyond(nxt, until):
                return Decision("nothing", nxt, reason=f"already past {until} (next: {nxt})")
            return Decision("continue", nxt, until=until)
        return Decision("refuse", nxt, reason=f"a workflow is in progress at {nxt}: use `resume`")
    if verb is Verb.RESUME:
        if wf is None:
            return Decision("refuse", reason="no workflow to resume: use `run`")
        if wf.status is HostStatus.DELIVERED:
            return Decision("nothing", reason="delivered")
        if wf.status is HostStatus.ABORTED:
            return Decision("refuse", reason="aborted: use `run` to start over")
        if wf.status is HostStatus.FAILED:
            failed = wf.failed_step or wf.step
            return Decision("refuse", failed, reason=f"step {failed} failed: use `retry {failed}` or "
                                                     f"`skip {failed} --reason ...`")
        nxt = next_step(wf)
        if nxt is None:
            return Decision("nothing", reason="every step is finished")
        rec = wf.record(nxt)
        interrupted = rec is not None and rec.status is StepStatus.STARTED
        if stored_until is None:
            # A workflow from before dcops recorded --until: finish what was interrupted and stop;
            # anything more needs an explicit `run` (the run may have been an intake to the pool).
            if interrupted or wf.status is HostStatus.RUNNING:
                return Decision("continue", nxt, reconcile=interrupted, until=nxt,
                                reason=f"its run's --until was not recorded: only {nxt} is finished")
            return Decision("nothing", nxt, reason=f"paused before {nxt}; its --until was not recorded: "
                                                   "`provision run --until STEP` moves it on")
        if beyond(nxt, stored_until):
            return Decision("nothing", nxt, reason=f"parked after {stored_until} (--until {stored_until}): "
                                                   "only `provision run` moves it on")
        return Decision("continue", nxt, reconcile=interrupted, until=stored_until)
    if verb is Verb.RETRY:
        if step is None:
            return Decision("refuse", reason="name the step to retry")
        if wf is None:
            return Decision("refuse", reason="no workflow: use `run`")
        rec = wf.record(step)
        if wf.status is not HostStatus.FAILED or rec is None or rec.status is not StepStatus.FAILED:
            state = rec.status.value if rec else "not started"
            return Decision("refuse", step, reason=f"step {step} is {state}, not failed; retry only repeats a "
                                                   "failed step")
        # Then on up to the run's --until (not recorded: the retried step only).
        return Decision("retry", step, until=stored_until or step)
    if verb is Verb.SKIP:
        if step is None:
            return Decision("refuse", reason="name the step to skip")
        if not reason or not reason.strip():
            return Decision("refuse", step, reason="a skip needs --reason (it goes to the audit log)")
        if step in UNSKIPPABLE:
            return Decision("refuse", step, reason=f"{step} cannot be skipped: the later steps need what it reads")
        if wf is None:
            return Decision("refuse", step, reason="no workflow: use `run`")
        if wf.status in (HostStatus.DELIVERED, HostStatus.ABORTED):
            return Decision("refuse", step, reason=f"the workflow is {wf.status.value}")
        rec = wf.record(step)
        if rec is not None and rec.status in (StepStatus.DONE, StepStatus.SKIPPED):
            return Decision("refuse", step, reason=f"step {step} is already {rec.status.value}")
        if rec is not None and rec.status is StepStatus.STARTED:
            return Decision("refuse", step, reason=f"step {step} was interrupted and may have changed the server: "
                                                   "`resume` it (it reconciles) before deciding to skip")
        return Decision("skip", step)
    if verb is Verb.ABORT:
        if wf is None:
            return Decision("refuse", reason="no workflow")
        if wf.status is HostStatus.DELIVERED:
            return Decision("refuse", reason="delivered: nothing to abort")
        if wf.status is HostStatus.ABORTED:
            return Decision("nothing", reason="already aborted")
        return Decision("abort", wf.step)
    raise ValueError(verb)


def status_after(wf_steps: Mapping[Step, StepRecord], until: Step | None) -> HostStatus:
    """The host status once a process stops working on it normally (not failed, not aborted)."""
    probe = Workflow("", "", HostStatus.PENDING, wf_steps)
    if next_step(probe) is None:
        return HostStatus.DELIVERED
    return HostStatus.PENDING


def plan_steps(wf: Workflow | None, *, until: Step | None = None, force: bool = False) -> list[tuple[Step, str]]:
    """What ``run`` would do, step by step: (step, what) with what ``done``, ``skipped``,
    ``resume`` (interrupted: reconcile), ``run`` or ``stop`` (after --until)."""
    steps = dict(wf.steps) if wf is not None and not force and wf.status is not HostStatus.ABORTED else {}
    out: list[tuple[Step, str]] = []
    stopped = False
    for s in STEPS:
        rec = steps.get(s)
        if stopped:
            out.append((s, "later"))
            continue
        if rec is not None and rec.status is StepStatus.DONE:
            out.append((s, "done"))
        elif rec is not None and rec.status is StepStatus.SKIPPED:
            out.append((s, "skipped"))
        elif rec is not None and rec.status is StepStatus.STARTED:
            out.append((s, "resume"))
        elif rec is not None and rec.status is StepStatus.FAILED:
            out.append((s, "failed"))
        else:
            out.append((s, "run"))
        if until is not None and s is until:
            stopped = True
    return out
