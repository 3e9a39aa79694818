"""``dcops alerts list|show|ack|silence|unsilence|resolve|outbox``: the incidents patrol converged."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import click

from dcops.cli.common import emit, global_options, open_state, settings, structured_output
from dcops.cli.output import short_time, stored_time
from dcops.cli.selection import honours_limit, record_matcher, refuses_limit
from dcops.errors import ExitCode, UsageError
from dcops.report import Column, Report

COLUMNS = [Column("id", "ID"), Column("severity", "SEVERITY"), Column("status", "STATUS"), Column("host", "HOST"),
           Column("where", "WHERE"), Column("part", "PART"), Column("serial", "SERIAL"), Column("summary", "SUMMARY"),
           Column("opened", "OPENED", short_time), Column("tier", "TIER"), Column("ack", "ACK"), Column("symptoms", "SYMPTOMS")]

# Incident and silence ids: a row id fits in 63 bits; a bigger number is a usage error, not a
# database overflow (exit 70 before).
ID = click.IntRange(1, 2**63 - 1)


def _where(loc: Any) -> str:
    return "/".join(str(loc[k]) for k in ("site", "room", "rack") if loc.get(k)) + \
        (f" U{loc['u']}" if loc.get("u") is not None else "")


def _item(incident: Any) -> dict[str, Any]:
    return {"id": incident.id, "severity": incident.severity.value, "status": incident.status.value,
            "host": incident.host, "where": _where(incident.location),
            "part": f"{incident.info.kind} {incident.info.location or ''}".strip(), "serial": incident.info.serial,
            "summary": incident.summary, "opened": incident.opened_at,
            "tier": incident.tier, "ack": incident.acked_by, "symptoms": len(incident.children),
            "incident": incident.to_json()}


def _actor() -> str:
    from dcops.config import display_actor

    return display_actor()


def _get(store: Any, incident_id: int) -> Any:
    from dcops.patrol.actions import get_open

    return get_open(store, incident_id)


@contextlib.contextmanager
def _store() -> Iterator[Any]:
    store = open_state()
    try:
        yield store
    finally:
        store.close()


def _notify_config() -> Any:
    from dcops.notify.config import load_notify_config

    opts = settings()
    return load_notify_config(opts.section("notify"), opts.config or "config")


@click.group()
@global_options
def alerts() -> None:
    """Incidents: one per root cause, with the part, its serial and its warranty."""


@alerts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Resolved ones too.")
@click.option("--since", metavar="DURATION", help="Opened or resolved within this period (e.g. 24h).")
@click.option("--host", metavar="HOST", help="Only this host (or rack path for rack incidents).")
@click.option("--severity", type=click.Choice(["info", "warning", "critical", "emergency"]),
              help="At least this severity.")
@global_options
@honours_limit
def list_(show_all: bool, since: str | None, host: str | None, severity: str | None) -> None:
    """Open incidents, most recent first."""
    from dcops.patrol import store as pstore
    from dcops.patrol.model import Severity
    from dcops.timeparse import parse_duration

    store = open_state()
    when = dt.datetime.now(dt.UTC) - parse_duration(since) if since else None
    found = pstore.list_incidents(store, status=None if show_all or since else "open", since=when, host=host)
    if severity:
        found = [i for i in found if i.severity.rank >= Severity(severity).rank]
    keep = record_matcher()
    found = [i for i in found if keep(i.host, i.location)]
    workers = pstore.workers_of(store, found)  # the rack's worker for a rack incident
    items = [{**_item(i), "worker": workers.get(i.id)} for i in found]
    columns = COLUMNS + [Column("worker", "WORKER")] if any(x["worker"] for x in items) else COLUMNS
    report = Report("alerts.list", items=items, columns=columns, title="Incidents")
    report.summary = {"incidents": len(found), "open": sum(1 for i in found if i.is_open)}
    if any(i.is_open for i in found):
        report.note(ExitCode.FINDINGS)
    emit(report)


@alerts.command()
@click.argument("incident_id", type=ID)
@global_options
@refuses_limit("it works on incident IDs")
def show(incident_id: int) -> None:
    """Everything about one incident: diagnosis, part, warranty, symptoms, log entries, notifications."""
    from dcops.notify import store as outbox_store
    from dcops.notify.render import as_text

    store = open_state()
    incident = _get(store, incident_id)
    body = incident.to_json()
    deliveries = [{"receiver": o["receiver"], "event": o["kind"], "attempts": o["attempts"],
                   "delivered_at": stored_time(o["delivered_at"]), "last_error": o["last_error"]}
                  for o in outbox_store.outbox_items(store, incident_id)]
    report = Report("alerts.show", items=[{**body, "notifications": deliveries}])
    if not structured_output():
        report.items = []
        report.text = as_text("opened" if incident.is_open else "resolved", body) + "\n" + (
            "\nnotifications:\n" + "\n".join(f"  {d['receiver']} {d['event']}: "
                                             + ("delivered" if d["delivered_at"] else f"pending ({d['last_error']})")
                                             for d in deliveries) if deliveries else "")
        if incident.children:
            report.text += "\nsymptoms:\n" + "\n".join(f"  {c.get('severity')} {c.get('summary')}"
                                                       for c in incident.children)
    emit(report)


@alerts.command()
@click.argument("incident_ids", type=ID, nargs=-1, required=True)
@click.option("-m", "--message", "note", metavar="TEXT", help="A note (who is on it, ticket number).")
@global_options
@refuses_limit("it works on incident IDs")
def ack(incident_ids: tuple[int, ...], note: str | None) -> None:
    """Acknowledge incidents: escalation stops; receivers hear who took it."""
    from dcops.patrol import actions

    with _store() as store:
        changed = actions.ack(store, incident_ids, by=_actor(), note=note, notify_config=_notify_config())
    items = [_item(i) for i in changed]
    emit(Report("alerts.ack", items=items, columns=COLUMNS, summary={"acknowledged": len(items)}))


@alerts.command()
@click.argument("incident_ids", type=ID, nargs=-1, required=True)
@click.option("-m", "--message", "note", metavar="TEXT", help="Why (part replaced, false alarm).")
@global_options
@refuses_limit("it works on incident IDs")
def resolve(incident_ids: tuple[int, ...], note: str | None) -> None:
    """Resolve incidents by hand (patrol opens a new one if the fault is still there)."""
    from dcops.patrol import actions

    with _store() as store:
        changed = actions.resolve(store, incident_ids, by=_actor(), note=note, notify_config=_notify_config())
    items = [_item(i) for i in changed]
    emit(Report("alerts.resolve", items=items, columns=COLUMNS, summary={"resolved": len(items)}))


@alerts.command()
@click.argument("incident_id", type=ID, required=False)
@click.option("--for", "duration", default="2h", show_default=True, metavar="DURATION")
@click.option("--start", "start", default=None, metavar="WHEN",
              help="Start later: an ISO 8601 time with a zone or a duration from now (default: now).")
@click.option("--host", default="", metavar="GLOB")
@click.option("--rack", default="", metavar="GLOB")
@click.option("--part", default="", metavar="GLOB")
@click.option("--condition", default="", metavar="NAME")
@click.option("-m", "--message", "reason", default="", metavar="TEXT")
@global_options
@refuses_limit("choose what to silence with --host, --rack, --part or --condition")
def silence(incident_id: int | None, duration: str, start: str | None, host: str, rack: str, part: str,
            condition: str, reason: str) -> None:
    """Mute notifications of one incident or of matching ones (maintenance) for a while."""
    from dcops.patrol import actions
    from dcops.timeparse import parse_duration

    if incident_id is None and not any((host, rack, part, condition)):
        raise UsageError("name an incident id or a matcher (--host, --rack, --part, --condition)")
    starts = actions.parse_start(start, dt.datetime.now(dt.UTC))
    item = actions.silence(open_state(), duration=parse_duration(duration), by=_actor(), host=host, rack=rack,
                           part=part, condition=condition, incident_id=incident_id, reason=reason, starts=starts)
    emit(Report("alerts.silence", items=[item],
                columns=[Column("silence", "SILENCE"), Column("starts", "STARTS"), Column("until", "UNTIL"),
                         Column("incident", "INCIDENT"), Column("host", "HOST"), Column("rack", "RACK")]))


@alerts.command()
@click.argument("silence_id", type=ID)
@global_options
@refuses_limit("it works on a silence ID")
def unsilence(silence_id: int) -> None:
    """End a silence now."""
    from dcops.patrol import store as pstore

    if not pstore.expire_silence(open_state(), silence_id, dt.datetime.now(dt.UTC)):
        raise UsageError(f"no silence #{silence_id}")
    emit(Report("alerts.unsilence", summary={"silence": silence_id, "ended": True}))


@alerts.command("outbox")
@click.option("--deliver", is_flag=True, help="Try to deliver what is due now.")
@global_options
def outbox_(deliver: bool) -> None:
    """Notifications waiting for delivery (failed ones are retried with back-off)."""
    from dcops.notify import outbox
    from dcops.notify import store as outbox_store

    store = open_state()
    if deliver:
        outbox.deliver_due(store, _notify_config())
    items = [{"id": o["id"], "incident": o["incident"], "receiver": o["receiver"], "event": o["kind"],
              "attempts": o["attempts"], "next": stored_time(o["next_attempt_at"]), "error": o["last_error"],
              "state": "given up" if o["given_up_at"] else "pending"}
             for o in outbox_store.outbox_items(store) if not o["delivered_at"]]
    report = Report("alerts.outbox", items=items, summary=outbox_store.outbox_counts(store), columns=[
        Column("id", "ID"), Column("incident", "INCIDENT"), Column("receiver", "RECEIVER"), Column("event", "EVENT"),
        Column("attempts", "ATTEMPTS"), Column("next", "NEXT", short_time), Column("state", "STATE"), Column("error", "ERROR")])
    emit(report)
