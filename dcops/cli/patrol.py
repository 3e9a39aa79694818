"""``dcops patrol run|watch|status|report``: the hardware patrol (docs/patrol.md)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from dcops.cli.common import emit, global_options, open_state, progress, settings, structured_output
from dcops.cli.selection import honours_limit, limit_hosts, record_matcher
from dcops.errors import ExitCode, UsageError
from dcops.models import Host
from dcops.patrol.build import build_patrol
from dcops.report import Column, Report
from dcops.secrets import redact


def patrol_hosts(names: Sequence[str]) -> list[Host]:
    """The hosts to patrol: named ones and/or ``--limit``; the whole book when neither is given."""
    from dcops.inventory import load_inventory

    opts = settings()
    if names or opts.limit:
        from dcops.cli.selection import select_hosts

        return select_hosts(names)
    if not opts.inventory:
        raise UsageError("no inventory: give -i PATH (or set DCOPS_INVENTORY)")
    hosts = list(load_inventory(opts.inventory).hosts)
    if not hosts:
        raise UsageError("the inventory has no hosts")
    return hosts


HOST_COLUMNS = [Column("host", "HOST"), Column("rack", "RACK"), Column("power", "POWER"), Column("health", "HEALTH"),
                Column("bmc", "BMC"), Column("events", "EVENTS"), Column("seconds", "SECONDS"),
                Column("error", "ERROR")]


def round_report(summary: Any, hosts: dict[str, Host], *, show_all: bool = False, kind: str = "patrol.run") -> Report:
    items = []
    for h in summary.hosts:
        if not show_all and h.reachable and not h.events and h.health in ("ok", None):
            continue
        host = hosts.get(h.host)
        items.append({"host": h.host, "rack": host.location.rack if host else None, "power": h.power,
                      "health": h.health, "bmc": {True: "up", False: "DOWN", None: "missed"}[h.reachable],
                      "events": h.events, "seconds": round(h.seconds, 2), "requests": h.requests, "tier": h.tier,
                      "error": h.error})
    report = Report(kind, items=items, columns=HOST_COLUMNS, title="Fleet health (hosts needing attention)"
                    if not show_all else "Fleet health")
    report.summary = {"round": summary.id, "hosts": len(summary.hosts), "reachable": summary.reachable,
                      "unreachable": summary.unreachable, "missed": summary.missed,
                      "inventory_cut": summary.inventory_cut, "open_incidents": len(summary.open_incidents),
                      "opened": len(summary.result.opened),
                      "resolved": len(summary.result.resolved), "seconds": round(summary.duration, 2),
                      "requests": summary.requests}
    if summary.open_incidents:
        report.text = incidents_text(summary.open_incidents)
    if summary.open_incidents or any(h.events for h in summary.hosts):
        report.note(ExitCode.FINDINGS)
    if summary.unreachable or summary.missed:
        report.note(ExitCode.INCOMPLETE)
    return report


def _warranty_text(w: Any) -> str:
    """``warranty until 2027-06-06 (197 days left)`` / ``warranty EXPIRED 2025-10-14 (403 days ago)``:
    the engineer must see at a glance whether the vendor will ship the spare."""
    if not w:
        return ""  # rack and fleet incidents have no single asset
    if not w.get("end"):
        return "warranty unknown"
    left = w.get("days_left")
    if isinstance(left, int) and left < 0:
        return f"warranty EXPIRED {w['end']} ({-left} days ago)"
    return f"warranty until {w['end']}" + (f" ({left} days left)" if left is not None else "")


def incidents_text(incidents: Sequence[Any]) -> str:
    lines = [f"Open incidents ({len(incidents)}):"]
    for i in incidents:
        loc = i.location
        where = "/".join(str(loc[k]) for k in ("site", "room", "rack") if loc.get(k)) + \
            (f" U{loc['u']}" if loc.get("u") is not None else "")
        part = " ".join(x for x in (i.info.kind, i.info.location or "") if x)
        ident = ", ".join(f"{k} {v}" for k, v in (("model", i.info.model), ("S/N", i.info.serial)) if v)
        warranty = _warranty_text(i.warranty)
        lines.append(f"  #{i.id} {i.severity.value.upper():9} {i.host} [{where}] {i.summary}")
        detail = "; ".join(x for x in (part, ident, warranty, f"{len(i.children)} symptom(s) attached"
                                        if i.children else "") if x)
        if detail:
            lines.append(f"       {detail}")
    return "\n".join(lines) + "\n"


def _overrides(open_after: int | None, close_after: int | None, interval: str | None) -> dict[str, Any]:
    return {"open_after": open_after, "close_after": close_after, "interval": interval}


@click.group()
@global_options
def patrol() -> None:
    """Hardware patrol: health, sensors and logs of every BMC, converged into incidents."""


@patrol.command()
@click.argument("hosts", nargs=-1)
@click.option("--all", "show_all", is_flag=True, help="List every host, not only those needing attention.")
@click.option("--open-after", type=click.IntRange(1, 100), help="Bad rounds before an incident opens.")
@click.option("--close-after", type=click.IntRange(1, 100), help="Good rounds before it resolves.")
@global_options
@honours_limit
def run(hosts: tuple[str, ...], show_all: bool, open_after: int | None, close_after: int | None) -> None:
    """One patrol round over HOSTS (default: the whole inventory)."""
    targets = patrol_hosts(hosts)
    store = open_state()
    engine = build_patrol(targets, store, settings(), _overrides(open_after, close_after, None))

    async def once() -> Any:
        try:
            return await engine.round(targets)
        finally:
            await engine.close()

    with progress(len(targets), "patrol round") as advance:
        engine.visit_listeners.append(lambda _host, ok: advance(1, 0 if ok else 1))
        summary = asyncio.run(once())
    emit(round_report(summary, {h.name: h for h in targets}, show_all=show_all))


@patrol.command()
@click.argument("hosts", nargs=-1)
@click.option("--interval", metavar="DURATION", help="Time between round starts (default: config, else 60s).")
@click.option("--rounds", type=click.IntRange(1), help="Stop after this many rounds.")
@global_options
@honours_limit
def watch(hosts: tuple[str, ...], interval: str | None, rounds: int | None) -> None:
    """Patrol every minute until stopped (Ctrl-C / SIGTERM end it cleanly)."""
    targets = patrol_hosts(hosts)
    store = open_state()
    engine = build_patrol(targets, store, settings(), _overrides(None, None, interval))
    by_name = {h.name: h for h in targets}
    output = settings().output

    def show_json(summary: Any) -> None:
        # One envelope per round, one line each (JSON Lines), as `kubectl get -w -o json` streams;
        # with -o yaml, one YAML document per round.
        report = round_report(summary, by_name, kind="patrol.watch")
        report.summary.update({
            "finished_at": summary.finished_at, "opened_ids": [i.id for i in summary.result.opened],
            "resolved_ids": [i.id for i in summary.result.resolved]})
        if output == "yaml":
            import yaml

            click.echo("---\n" + redact(yaml.safe_dump(report.to_json(), sort_keys=False)), nl=False)
        else:
            click.echo(redact(json.dumps(report.to_json(), ensure_ascii=False)))
        sys.stdout.flush()

    def show(summary: Any) -> None:
        stamp = summary.finished_at.astimezone().strftime("%H:%M:%S")
        click.echo(f"{stamp} round {summary.id}: {len(summary.hosts)} hosts, {summary.unreachable} unreachable, "
                   f"{summary.missed} missed, "
                   + (f"{summary.inventory_cut} inventory cut short, " if summary.inventory_cut else "")
                   + f"{len(summary.open_incidents)} open incident(s), "
                   f"+{len(summary.result.opened)} -{len(summary.result.resolved)}, {summary.duration:.1f}s")
        for incident in summary.result.opened:
            click.echo(f"  NEW  #{incident.id} {incident.severity.value} {incident.host}: {incident.summary}")
        for incident in summary.result.resolved:
            click.echo(f"  DONE #{incident.id} {incident.host}: {incident.summary}")
        sys.stdout.flush()

    engine.listeners.append(show_json if output in ("json", "yaml") else show)

    async def loop() -> None:
        stop = asyncio.Event()
        running = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                running.add_signal_handler(signum, stop.set)
        try:
            await engine.watch(stop, rounds=rounds)
        finally:
            await engine.close()

    asyncio.run(loop())
    raise SystemExit(int(ExitCode.OK))


@patrol.command()
@click.option("--since", default="24h", show_default=True, metavar="DURATION", help="The period the report covers.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True)
@click.option("--write", "path", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option("--stale-after", default="10m", show_default=True, metavar="DURATION",
              help="A BMC with no successful read for this long counts as stale.")
@global_options
@honours_limit
def report(since: str, fmt: str, path: str | None, stale_after: str) -> None:
    """The daily patrol report: coverage, incidents with time to detect and resolve, top faulty
    parts, warranties expiring within 90/30 days, by site/room/rack."""
    from dcops.inventory import load_inventory
    from dcops.patrol.report import build_report, render_html, render_markdown
    from dcops.timeparse import parse_duration

    opts = settings()
    hosts = limit_hosts(load_inventory(opts.inventory).hosts) if opts.inventory else []
    now = dt.datetime.now(dt.UTC)
    store = open_state()
    data = build_report(store, hosts, now - parse_duration(since), now,
                        stale_after=parse_duration(stale_after).total_seconds(),
                        keep=record_matcher() if opts.limit else None)
    data["drills"] = drill_rows(store, now - parse_duration(since))
    if fmt == "json" or structured_output():
        # --format json and -o json are the same envelope (kind patrol.report).
        opts.output = opts.output if structured_output() else "json"
        result = Report("patrol.report", items=data["incidents"], summary={**data["summary"],
                                                                          "drills": data["drills"]})
        if path:
            import json

            Path(path).write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
            result.items = []
        emit(result)
    text = render_html(data) if fmt == "html" else render_markdown(data)
    if path:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"dcops: report written to {path}", err=True)
    else:
        click.echo(text)
    raise SystemExit(int(ExitCode.OK))


def _age(seconds: Any) -> str:
    if seconds is None:
        return "-"
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago" if seconds < 172800 else f"{seconds / 86400:.0f}d ago"


STATUS_COLUMNS = [Column("host", "HOST"), Column("rack", "RACK"), Column("bmc", "BMC"),
                  Column("age_seconds", "READ", _age), Column("worker", "WORKER", lambda w: w or "-"),
                  Column("power", "POWER"), Column("health", "HEALTH"), Column("open_incidents", "INCIDENTS"),
                  Column("worst", "WORST", lambda w: w or "-"), Column("error", "ERROR")]


@patrol.command()
@click.argument("hosts", nargs=-1)
@click.option("--stale-after", default="10m", show_default=True, metavar="DURATION",
              help="A host not read for this long (or never) counts as stale: exit 4.")
@global_options
@honours_limit
def status(hosts: tuple[str, ...], stale_after: str) -> None:
    """What the patrol last knew of HOSTS (default: the whole inventory), from the state store
    only (no BMC is contacted): when each was read and by which worker, BMC up/DOWN/never, power,
    health, open incidents. Exit 1 with open incidents, 4 when a host is stale or never read."""
    from dcops.patrol import store as pstore
    from dcops.patrol.status import host_status
    from dcops.timeparse import parse_duration

    targets = patrol_hosts(hosts)
    store = open_state()
    names = [(h.name, h.location.rack) for h in targets]
    wanted = {n for n, _ in names}
    rows = pstore.host_rows(store, wanted)
    incidents = [i for i in pstore.list_incidents(store, limit=100_000) if i.host in wanted]
    now = dt.datetime.now(dt.UTC)
    found = host_status(names, rows, incidents, now, parse_duration(stale_after).total_seconds())
    report = Report("patrol.status", items=[s.item() for s in found], columns=STATUS_COLUMNS,
                    title="Patrol status (from the state store)")
    stale = [s.host for s in found if s.stale]
    report.summary = {"hosts": len(found), "up": sum(s.bmc == "up" for s in found),
                      "down": sum(s.bmc == "DOWN" for s in found), "never": sum(s.bmc == "never" for s in found),
                      "stale": len(stale), "open_incidents": sum(s.open_incidents for s in found),
                      "workers": sorted({s.worker for s in found if s.worker})}
    if any(s.open_incidents for s in found):
        report.note(ExitCode.FINDINGS)
    if stale:
        report.note(ExitCode.INCOMPLETE, f"{len(stale)} host(s) not read by the patrol within {stale_after}: "
                    + ", ".join(stale[:10]) + (" ..." if len(stale) > 10 else ""))
    emit(report)


def drill_rows(store: Any, since: dt.datetime) -> list[dict[str, Any]]:
    """The drills run in the report's period, for its "Drills" section (issue 23)."""
    from dcops.drill.store import runs_since

    out = []
    for row in runs_since(store, since):
        result = row.get("result") or {}
        out.append({"scenario": row["scenario"], "mode": row["mode"], "started_at": str(row["started_at"])[:16],
                    "score": row["score"], "passed": bool(row["passed"]), "detect_seconds": result.get("detect_seconds"),
                    "notify_seconds": result.get("notify_seconds") or {}, "reasons": result.get("reasons") or []})
    return out
