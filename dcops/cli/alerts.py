"""``dcops alerts list|show|ack|silence|unsilence|resolve|outbox``: the incidents patrol converged."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
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
    from dcops.patrol import store as pstore

    incident = pstore.get_incident(store, incident_id)
    if incident is None:
        raise UsageError(f"no incident #{incident_id} (see `dcops alerts list --all`)")
    return incident


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
    report = Report("alerts.list", items=[_item(i) for i in found], columns=COLUMNS, title="Incidents")
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


def _change_open_incidents(action: str, incident_ids: tuple[int, ...], note: str | None,
                           change: Callable[[Any, dt.datetime], None], event: str,
                           group: bool = False) -> list[dict[str, Any]]:
    """Apply ``change`` to each open incident, save it with the notifications ``event`` (``acked``
    or ``resolved``) plans, and record it in the audit log. A resolved incident is a usage error.
    ``group``: the change also applies to the incidents about the same fault (``ack_group``)."""
    from dcops.notify import outbox
    from dcops.patrol import store as pstore
    from dcops.store import audit

    store = open_state()
    try:
        config = _notify_config()
        now = dt.datetime.now(dt.UTC)
        items = []
        for incident_id in incident_ids:
            incident = _get(store, incident_id)
            if not incident.is_open:
                raise UsageError(f"incident #{incident_id} is already resolved")
            members = [incident]
            if group:
                from dcops.patrol.escalate import ack_group

                members = ack_group(incident, pstore.list_incidents(store, status="open", limit=100_000))
            for member in members:
                change(member, now)
                pstore.save_incident(store, member, outbox.plan(config, now, **{event: [member]}))
                audit.record(store, f"alerts.{action}", host=member.host,
                             details=f"incident {member.id}" + (f" (with #{incident_id})" if member is not incident
                                                                else "") + (f": {note}" if note else ""))
                items.append(_item(member))
        return items
    finally:
        store.close()


@alerts.command()
@click.argument("incident_ids", type=ID, nargs=-1, required=True)
@click.option("-m", "--message", "note", metavar="TEXT", help="A note (who is on it, ticket number).")
@global_options
@refuses_limit("it works on incident IDs")
def ack(incident_ids: tuple[int, ...], note: str | None) -> None:
    """Acknowledge incidents: escalation stops; receivers hear who took it."""

    def acknowledge(incident: Any, now: dt.datetime) -> None:
        incident.acked_at, incident.acked_by, incident.ack_note = now, _actor(), note

    items = _change_open_incidents("ack", incident_ids, note, acknowledge, "acked", group=True)
    emit(Report("alerts.ack", items=items, columns=COLUMNS, summary={"acknowledged": len(items)}))


@alerts.command()
@click.argument("incident_ids", type=ID, nargs=-1, required=True)
@click.option("-m", "--message", "note", metavar="TEXT", help="Why (part replaced, false alarm).")
@global_options
@refuses_limit("it works on incident IDs")
def resolve(incident_ids: tuple[int, ...], note: str | None) -> None:
    """Resolve incidents by hand (patrol opens a new one if the fault is still there)."""
    from dcops.patrol.model import IncidentStatus

    def close(incident: Any, now: dt.datetime) -> None:
        incident.status, incident.resolved_at, incident.resolved_by = IncidentStatus.RESOLVED, now, _actor()
        if note:
            incident.ack_note = note

    items = _change_open_incidents("resolve", incident_ids, note, close, "resolved")
    emit(Report("alerts.resolve", items=items, columns=COLUMNS, summary={"resolved": len(items)}))


@alerts.command()
@click.argument("incident_id", type=ID, required=False)
@click.option("--for", "duration", default="2h", show_default=True, metavar="DURATION")
@click.option("--host", default="", metavar="GLOB")
@click.option("--rack", default="", metavar="GLOB")
@click.option("--part", default="", metavar="GLOB")
@click.option("--condition", default="", metavar="NAME")
@click.option("-m", "--message", "reason", default="", metavar="TEXT")
@global_options
@refuses_limit("choose what to silence with --host, --rack, --part or --condition")
def silence(incident_id: int | None, duration: str, host: str, rack: str, part: str, condition: str,
            reason: str) -> None:
    """Mute notifications of one incident or of matching ones (maintenance) for a while."""
    from dcops.patrol import store as pstore
    from dcops.store import audit
    from dcops.timeparse import parse_duration

    if incident_id is None and not any((host, rack, part, condition)):
        raise UsageError("name an incident id or a matcher (--host, --rack, --part, --condition)")
    store = open_state()
    if incident_id is not None:
        _get(store, incident_id)
    until = dt.datetime.now(dt.UTC) + parse_duration(duration)
    sid = pstore.add_silence(store, until=until, created_by=_actor(), host=host, rack=rack, part=part,
                             condition=condition, incident=incident_id, reason=reason)
    audit.record(store, "alerts.silence", host=host or None,
                 details=json.dumps({"silence": sid, "incident": incident_id, "until": until.isoformat(),
                                     "rack": rack, "part": part, "condition": condition, "reason": reason}))
    emit(Report("alerts.silence", items=[{"silence": sid, "until": until.isoformat(), "incident": incident_id,
                                          "host": host, "rack": rack, "part": part, "condition": condition}],
                columns=[Column("silence", "SILENCE"), Column("until", "UNTIL"), Column("incident", "INCIDENT"),
                         Column("host", "HOST"), Column("rack", "RACK")]))


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
