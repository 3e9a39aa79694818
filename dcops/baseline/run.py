"""Plan, apply and verify for one host at a time, over a ``Target``: what the CLI runs in parallel.

Errors stay per host: each function returns a ``HostRun`` with the plan, what was applied, and
the error (with its exit code) when there was one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.baseline.apply import HostBaselines, KindResult, MemoryJournal, apply_host, read_and_diff
from dcops.baseline.models import Baselines, Plan
from dcops.baseline.preflight import refusals
from dcops.baseline.redfish import OpenTarget, opened
from dcops.errors import DcopsError, ExitCode, RefusedError
from dcops.models import Host

KIND_NAMES = ("firmware", "bios", "raid")


@dataclass
class HostRun:
    host: str
    profile: str | None = None
    plan: Plan | None = None
    after: Plan | None = None  # the plan re-read after apply (empty when it worked)
    results: list[KindResult] = field(default_factory=list)
    error: DcopsError | None = None
    seconds: float = 0.0
    checked_at: dt.datetime | None = None

    @property
    def changed(self) -> int:
        """Writes made to the server (also by a run that failed later)."""
        return sum(len(r.done) for r in self.results)

    @property
    def exit_code(self) -> ExitCode:
        if self.error is not None:
            return self.error.exit_code
        if self.plan is not None and self.plan.problems:
            return ExitCode.INVALID_INPUT
        if self.plan is not None and self.plan.changes:
            return ExitCode.FINDINGS
        return ExitCode.OK


def host_baselines(baselines: Baselines, host: Host, manufacturer: str | None, model: str | None) -> HostBaselines:
    from dcops.provision.steps import resolve_profile

    profile = resolve_profile(baselines, host, manufacturer, model)
    b = baselines
    return HostBaselines(profile.name, b.firmware.get(profile.firmware) if profile.firmware else None,
                         b.bios.get(profile.bios) if profile.bios else None,
                         b.raid.get(profile.raid) if profile.raid else None)


def _identify(target: Any) -> tuple[str | None, str | None]:
    ident = target.bmc.inventory.identity()
    return ident.manufacturer, ident.model


def _plan_into(run: HostRun, target: Any, baselines: Baselines, host: Host, kinds: Sequence[str]) -> tuple[Any, Any]:
    """Identify the server, pick its profile's baselines, read it and diff: fills ``run.profile``
    and ``run.plan``; returns the host's baselines and the state read."""
    hb = host_baselines(baselines, host, *_identify(target))
    run.profile = hb.profile
    state, run.plan = read_and_diff(target, hb, kinds)
    return hb, state


def plan_host(opener: OpenTarget, baselines: Baselines, host: Host, kinds: Sequence[str]) -> HostRun:
    """Read the server and diff it against its profile's baselines (read-only)."""
    run = HostRun(host.name)
    started = time.monotonic()
    try:
        with opened(opener, host) as target:
            _, state = _plan_into(run, target, baselines, host, kinds)
            if state.errors:
                from dcops.errors import UnreachableError

                run.error = UnreachableError(f"{host.name}: could not read: {'; '.join(state.errors)}")
    except DcopsError as exc:
        run.error = exc
    run.seconds = time.monotonic() - started
    run.checked_at = dt.datetime.now(dt.UTC)
    return run


def apply_one(opener: OpenTarget, baselines: Baselines, host: Host, kinds: Sequence[str], *,
              allow_destructive: bool, graceful: bool, allow_foreign_pending: bool, allow_unverified: bool = True,
              on_event: Callable[[str, str], None] | None = None,
              audit: Callable[[str, str, Any, Any, str | None, str], None] | None = None) -> HostRun:
    """Plan, refuse what must not be applied (before the first write: every kind's refusals are
    known from the plan), apply in order, re-read. Every kind that started is audited with each
    write it made (old -> new), also when a later write failed."""
    run = HostRun(host.name)
    started = time.monotonic()
    try:
        with opened(opener, host) as target:
            hb, _ = _plan_into(run, target, baselines, host, kinds)
            assert run.plan is not None
            why = refusals(run.plan, allow_destructive=allow_destructive,
                           allow_foreign_pending=allow_foreign_pending, allow_unverified=allow_unverified)
            if why:
                raise RefusedError(f"{host.name}: refused before any change: " + "; ".join(why),
                                   invalid=any(w.startswith("cannot apply") for w in why))
            if run.plan.compliant:
                run.after = run.plan
                return run
            if audit:  # the intent, before the first write reaches the BMC
                audit("baseline.apply", host.name, None, None,
                      f"{len(run.plan.changes)} change(s) planned ({', '.join(kinds)})", "started")
            journal = MemoryJournal()
            try:
                apply_host(target, hb, kinds, journal, allow_destructive=allow_destructive,
                           graceful=graceful, allow_foreign_pending=allow_foreign_pending,
                           on_event=(lambda m: on_event(host.name, m)) if on_event else None, into=run.results)
            finally:
                if audit:
                    for r in run.results:
                        rec = r.record()
                        audit(f"baseline.apply.{r.kind}", host.name,
                              [{k: a[k] for k in ("target", "action", "old")} for a in rec["applied"]],
                              {**rec, "applied": [{k: a[k] for k in ("target", "action", "new")}
                                                  for a in rec["applied"]]},
                              r.summary(), r.outcome)
            _, run.after = read_and_diff(target, hb, kinds)
            if audit:
                audit("baseline.apply", host.name, None, None,
                      "compliant after apply" if run.after.compliant else "applied; differences remain", "ok")
    except DcopsError as exc:
        run.error = exc
        if audit:
            refused = isinstance(exc, RefusedError)
            audit("baseline.apply", host.name, None, None, str(exc),
                  "refused" if refused else ("partial" if run.changed else "failed"))
    run.seconds = time.monotonic() - started
    run.checked_at = dt.datetime.now(dt.UTC)
    return run


def result_rows(run: HostRun) -> list[dict[str, Any]]:
    """Per-kind compliance rows for the store (``dcops.store.baseline``)."""
    if run.plan is None:
        return []
    rows = []
    for kind, baseline in run.plan.baselines.items():
        changes = [c for c in run.plan.changes if c.kind.value == kind]
        problems = [p for p in run.plan.problems if p.startswith(f"{kind} ")]
        rows.append({"host": run.host, "kind": kind, "baseline": baseline,
                     "compliant": not changes and not problems, "differences": len(changes) + len(problems),
                     "checked_at": run.checked_at,
                     "details": {"changes": [c.describe() for c in changes], "problems": problems}})
    return rows
