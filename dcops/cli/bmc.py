"""``dcops bmc show|get``, and what the BMC command groups share: host selection, running an action
on many hosts in parallel with progress, confirmation and audit records."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from dcops.cli.adhoc import adhoc_host, adhoc_options
from dcops.cli.common import emit, global_options, progress, settings, structured_output
from dcops.cli.selection import honours_limit, refuses_limit, select_hosts
from dcops.errors import DcopsError, ExitCode, UnreachableError, UsageError
from dcops.models import Host, Protocol
from dcops.observation import ComponentKind, Health, Observation
from dcops.report import Column, Report
from dcops.secrets import redact


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
               after: Any = None, details: str | None = None, intent_id: int | None = None) -> None:
        from dcops.store import audit

        with self._lock:
            audit.record(self._opened(), action, host=host, result=result, before=before, after=after,
                         details=details, intent_id=intent_id)

    def start(self, action: str, host: str | None, *, before: Any = None, details: str | None = None) -> int:
        """Write the intent of an action before it runs (see ``store.audit.start``); returns its id."""
        from dcops.store import audit

        with self._lock:
            return int(audit.start(self._opened(), action, host=host, before=before, details=details))

    def finish(self, intent: int, action: str, host: str | None, *, result: str = "ok", before: Any = None,
               after: Any = None, details: str | None = None) -> None:
        """Write the outcome of the action ``start`` announced."""
        from dcops.store import audit

        with self._lock:
            audit.finish(self._opened(), intent, action, host=host, result=result, before=before, after=after,
                         details=details)

    @contextmanager
    def intent(self, action: str, host: str | None, *, before: Any = None,
               details: str | None = None) -> Iterator[Callable[..., None]]:
        """Audit around an action: "started" now, the outcome when the body calls ``done(result,
        after=...)``; a body that raises without calling it records "failed" (the BMC refused) or
        "unknown" (no answer: it may have acted). A crash records nothing more, which ``dcops audit
        verify`` shows as "started, outcome unknown"."""
        ident = self.start(action, host, before=before, details=details)
        finished = False

        def done(result: str = "ok", *, after: Any = None, note: str | None = None) -> None:
            nonlocal finished
            self.finish(ident, action, host, result=result, before=before, after=after, details=note or details)
            finished = True

        try:
            yield done
        except UnreachableError as exc:
            if not finished:
                self.finish(ident, action, host, result="unknown", before=before,
                            details=f"no answer, it may have been carried out: {exc}")
            raise
        except DcopsError as exc:
            if not finished:
                self.finish(ident, action, host, result="failed", before=before, details=str(exc))
            raise

    def _opened(self) -> Any:
        if self._store is None:
            from dcops.store import open_store

            self._store = open_store(self._url)
        return self._store

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


def _targets(hosts: Sequence[str], adhoc: dict[str, Any]) -> list[Host]:
    """The book's hosts named or chosen by --limit, or the one ad-hoc --bmc target."""
    target = adhoc_host(*(adhoc[k] for k in ("adhoc_bmc", "adhoc_user", "adhoc_password_ref", "adhoc_protocol",
                                              "adhoc_insecure")))
    if target is None:
        return select_hosts(hosts)
    if hosts or settings().limit:
        raise UsageError("--bmc names the target: drop the HOST arguments and -l")
    return [target]


@bmc.command("show")
@click.argument("hosts", nargs=-1)
@click.option("--section", "sections", multiple=True, type=click.Choice(SECTION_CHOICES),
              help="Read only these parts (repeatable). Default: all.")
@click.option("--logs", "log_limit", type=click.IntRange(0, 10000), default=20, show_default=True,
              help="Newest log entries to read.")
@adhoc_options
@global_options
@honours_limit
def show(hosts: tuple[str, ...], sections: tuple[str, ...], log_limit: int, **adhoc: Any) -> None:
    """Show the observation of HOSTS: identity, parts, sensors, firmware, what could not be read.
    Or of a BMC not in the book: --bmc ADDRESS --user U --password-ref env:X.

    Exit 1 when the hardware is unhealthy, 4 when a BMC could not be read.
    """
    from dcops.bmc.select import open_bmc

    targets = _targets(hosts, adhoc)
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
            if structured_output():
                # An unreachable host keeps the item's shape: an empty observation and the error.
                empty = Observation(outcome.host.name, dt.datetime.now(dt.UTC), Protocol(outcome.host.bmc.protocol).value)
                report.items.append({**empty.to_json(), "reachable": False,
                                     "error": str(outcome.error) if outcome.error else None})
            continue
        observed += 1
        if structured_output():
            report.items.append({**obs.to_json(), "reachable": True, "error": None})
        else:
            texts.append(_describe(obs))
            for comp in obs.components:
                if comp.kind is not ComponentKind.MANAGER:
                    report.items.append({"host": obs.host, "kind": comp.kind.value, "location": comp.location,
                                         "model": comp.model, "serial": comp.serial, "firmware": comp.firmware,
                                         "health": comp.health.value})
        if obs.health in (Health.WARNING, Health.CRITICAL):
            report.note(ExitCode.FINDINGS)
        if obs.unreadable:
            # Reachable but unusable: the health is not known, and the result is incomplete.
            report.note(ExitCode.INCOMPLETE, f"error: {obs.host}: health unknown: " + "; ".join(obs.unreadable[:3]))
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


# --------------------------------------------------------------------------- dcops bmc get


@bmc.command("get")
@click.argument("path")
@click.argument("host", required=False)
@adhoc_options
@global_options
@refuses_limit("it reads one BMC: name the HOST or give --bmc")
def get(path: str, host: str | None, **adhoc: Any) -> None:
    """GET one Redfish resource and print its JSON, like `redfishtool raw GET`: the same session
    handling, retries and TLS settings as every other dcops read. PATH is absolute
    (/redfish/v1/Systems/1) or relative to /redfish/v1/ (Systems/1).

    \b
    dcops bmc get Systems/1 trade-db-01
    dcops bmc get /redfish/v1/Managers --bmc 10.0.0.5 --user root --password-ref env:BMC_PW
    Exit 0 on 2xx; 2 when the BMC answers 4xx (no such resource, not allowed); 4 on 5xx or no answer.
    """
    import json

    from dcops.bmc.redfish.connector import connect
    from dcops.bmc.redfish.docs import most_severe_message
    from dcops.secrets import resolve

    if not host and not adhoc.get("adhoc_bmc"):
        raise UsageError("name the HOST (or give --bmc ADDRESS)")
    targets = _targets((host,) if host else (), adhoc)
    if len(targets) != 1:
        raise UsageError(f"{host}: names {len(targets)} hosts; bmc get reads one")
    target = targets[0]
    if not path.startswith("/"):
        path = "/redfish/v1/" + path
    password = resolve(target.bmc.password_ref or "prompt", what=f"{target.name}: BMC password")
    with connect(target.name, target.bmc, password) as conn:
        resp = conn.request("GET", path)
    if resp.body is not None:
        text = json.dumps(resp.body, indent=2, ensure_ascii=False) if not isinstance(resp.body, str) else resp.body
        click.echo(redact(text))
    if resp.status < 300:
        raise SystemExit(int(ExitCode.OK))
    message = most_severe_message(resp.body)
    click.echo(redact(f"dcops: error: {target.name}: GET {path}: HTTP {resp.status}"
                      + (f": {message}" if message else "")), err=True)
    raise SystemExit(int(ExitCode.USAGE if resp.status < 500 else ExitCode.INCOMPLETE))
