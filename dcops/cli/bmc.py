"""``dcops bmc show``, and what the BMC command groups share: host selection, running an action
on many hosts in parallel with progress, confirmation and audit records."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import click

from dcops.cli.common import emit, global_options, progress, settings
from dcops.errors import DcopsError, ExitCode, UsageError
from dcops.models import Host
from dcops.observation import ComponentKind, Health, Observation
from dcops.report import Column, Report


def select_hosts(names: Sequence[str]) -> list[Host]:
    """Hosts named on the command line (names or globs) and/or chosen by ``--limit``."""
    from dcops.inventory import load_inventory

    opts = settings()
    if not names and not opts.limit:
        raise UsageError("name the hosts (or use --limit rack=A01, role=db, ...)")
    inv = load_inventory(opts.inventory)
    chosen: dict[str, Host] = {}
    for name in names:
        if any(ch in name for ch in "*?[=,"):
            for host in inv.select([name]):
                chosen.setdefault(host.name, host)
        else:
            host = inv.get(name)  # UsageError with close names when unknown
            chosen.setdefault(host.name, host)
    if opts.limit:
        limited = {h.name for h in inv.select(opts.limit)}
        pool = chosen.values() if names else inv.select(opts.limit)
        chosen = {h.name: h for h in pool if h.name in limited}
    if not chosen:
        raise UsageError("no host matches")
    return list(chosen.values())


@dataclass
class Outcome:
    host: Host
    value: Any = None
    error: DcopsError | None = None


def run_on_hosts(hosts: Sequence[Host], action: Callable[[Host], Any], description: str) -> list[Outcome]:
    """Run ``action`` on every host, ``--parallel`` at a time, with progress; errors stay per host."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    with progress(len(hosts), description) as advance, \
            ThreadPoolExecutor(max_workers=max(1, min(settings().parallel, len(hosts)))) as pool:
        futures = {pool.submit(action, host): host for host in hosts}
        try:
            for future in as_completed(futures):
                host = futures[future]
                try:
                    outcome = Outcome(host, value=future.result())
                except DcopsError as exc:
                    outcome = Outcome(host, error=exc)
                with lock:
                    outcomes.append(outcome)
                advance(1, 1 if outcome.error else 0)
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            raise
    order = {h.name: i for i, h in enumerate(hosts)}
    return sorted(outcomes, key=lambda o: order[o.host.name])


def confirm(summary: str, yes: bool) -> None:
    """Show what will happen and ask, unless --yes. Without a terminal, --yes is required."""
    import sys

    click.echo(summary, err=True)
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("this changes hardware: confirm with --yes (no terminal to ask on)")
    click.confirm("Proceed?", abort=True, err=True)


class Auditor:
    """Append audit entries, opening the store once per command."""

    def __init__(self) -> None:
        # Read the store URL now: records are written from worker threads, outside click's context.
        self._url = settings().state or ""
        self._store: Any = None
        self._lock = threading.Lock()

    def record(self, action: str, host: str | None, *, result: str = "ok", before: Any = None,
               after: Any = None, details: str | None = None) -> None:
        from dcops.store import audit

        with self._lock:
            if self._store is None:
                from dcops.store import open_store

                self._store = open_store(self._url)
            audit.record(self._store, action, host=host, result=result, before=before, after=after,
                         details=details)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def note_errors(report: Report, outcomes: Sequence[Outcome], what: str) -> None:
    for outcome in outcomes:
        if outcome.error is not None:
            report.note(outcome.error.exit_code, f"error: {outcome.host.name}: {what}: {outcome.error}"
                        if not str(outcome.error).startswith(outcome.host.name) else f"error: {outcome.error}")


# --------------------------------------------------------------------------- dcops bmc show


@click.group()
@global_options
def bmc() -> None:
    """Read what a server is and how it feels, through its BMC."""


SECTION_CHOICES = ("components", "sensors", "firmware", "logs")


@bmc.command("show")
@click.argument("hosts", nargs=-1)
@click.option("--section", "sections", multiple=True, type=click.Choice(SECTION_CHOICES),
              help="Read only these parts (repeatable). Default: all.")
@click.option("--logs", "log_limit", type=click.IntRange(0, 10000), default=20, show_default=True,
              help="Newest log entries to read.")
@global_options
def show(hosts: tuple[str, ...], sections: tuple[str, ...], log_limit: int) -> None:
    """Show the observation of HOSTS: identity, parts, sensors, firmware, what could not be read.

    Exit 1 when the hardware is unhealthy, 4 when a BMC could not be read.
    """
    from dcops.bmc.select import open_bmc

    targets = select_hosts(hosts)
    wanted = set(sections or SECTION_CHOICES)
    if log_limit == 0:
        wanted.discard("logs")

    def observe(host: Host) -> Observation:
        with open_bmc(host) as dev:
            return dev.inventory.observe(wanted)

    outcomes = run_on_hosts(targets, observe, "observing")
    report = Report(kind="bmc.show")
    report.columns = [Column("host", "HOST"), Column("kind", "KIND"), Column("location", "LOCATION"),
                      Column("model", "MODEL"), Column("serial", "SERIAL"), Column("firmware", "FIRMWARE"),
                      Column("health", "HEALTH")]
    texts = []
    observed = 0
    for outcome in outcomes:
        obs: Observation | None = outcome.value
        if obs is None:
            continue
        observed += 1
        if settings().output == "json":
            report.items.append(obs.to_json())
        else:
            texts.append(_describe(obs))
            for comp in obs.components:
                if comp.kind is not ComponentKind.MANAGER:
                    report.items.append({"host": obs.host, "kind": comp.kind.value, "location": comp.location,
                                         "model": comp.model, "serial": comp.serial, "firmware": comp.firmware,
                                         "health": comp.health.value})
        if obs.health in (Health.WARNING, Health.CRITICAL):
            report.note(ExitCode.FINDINGS)
        for err in obs.errors:
            report.problems.append(f"warning: {obs.host}: could not read {err.what}: {err.reason}")
    note_errors(report, outcomes, "observe")
    report.text = "\n".join(texts) or None
    report.summary = {"hosts": len(targets), "observed": observed, "failed": len(targets) - observed}
    emit(report)


def _describe(obs: Observation) -> str:
    ident = obs.identity
    lines = [
        f"{obs.host}: {ident.manufacturer or '?'} {ident.model or '?'}  serial {ident.serial or '-'}"
        + (f"  tag {ident.sku}" if ident.sku else "") + f"  power {ident.power_state.value}  health {obs.health.value}",
        f"  BIOS {ident.bios_version or '-'}  BMC {ident.bmc_version or '-'}  UUID {ident.uuid or '-'}  "
        f"via {obs.protocol} ({obs.requests} requests, {obs.duration_seconds or 0:.2f}s)"
        + (f"  system {ident.system_id}" if ident.system_id else ""),
    ]
    counts = {k: v for k, v in obs.counts().items() if v}
    lines.append("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for cond in obs.conditions:
        lines.append(f"  condition [{cond.severity.value}] {cond.message}")
    bad = [s for s in obs.sensors if s.health in (Health.WARNING, Health.CRITICAL)]
    for sensor in bad:
        lines.append(f"  sensor [{sensor.health.value}] {sensor.name} = {sensor.reading} {sensor.units or ''}")
    for entry in obs.log_entries[-5:]:
        lines.append(f"  log {entry.created or '-'} [{entry.severity.value}] {entry.message}")
    return "\n".join(lines)
