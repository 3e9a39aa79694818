"""What a person does to incidents: acknowledge, resolve, silence. One code path for
``dcops alerts`` and the web UI (dcops/web/), so an ack given in the browser is the same stored
ack, the same notifications and the same audit entry as one given on the command line; only the
name of the person (``by``) and whom the audit says it was done for (``on_behalf_of``) differ.

No click here: errors are ``UsageError`` with the words the caller shows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from dcops.errors import UsageError
from dcops.patrol.model import Incident, IncidentStatus


def get_open(store: Any, incident_id: int) -> Incident:
    """The incident, or UsageError when there is none."""
    from dcops.patrol import store as pstore

    incident = pstore.get_incident(store, incident_id)
    if incident is None:
        raise UsageError(f"no incident #{incident_id} (see `dcops alerts list --all`)")
    return incident


def change_open_incidents(store: Any, action: str, incident_ids: Sequence[int], note: str | None,
                          change: Callable[[Incident, dt.datetime], None], event: str, *, notify_config: Any,
                          group: bool = False, on_behalf_of: str | None = None) -> list[Incident]:
    """Apply ``change`` to each open incident, save it with the notifications ``event`` (``acked``
    or ``resolved``) plans, and record it in the audit log. A resolved incident is a usage error.
    ``group``: the change also applies to the incidents about the same fault (``ack_group``)."""
    from dcops.notify import outbox
    from dcops.patrol import store as pstore
    from dcops.store import audit

    now = dt.datetime.now(dt.UTC)
    changed = []
    for incident_id in incident_ids:
        incident = get_open(store, incident_id)
        if not incident.is_open:
            raise UsageError(f"incident #{incident_id} is already resolved")
        members = [incident]
        if group:
            from dcops.patrol.escalate import ack_group

            members = ack_group(incident, pstore.list_incidents(store, status="open", limit=100_000))
        for member in members:
            change(member, now)
            pstore.save_incident(store, member, outbox.plan(notify_config, now, **{event: [member]}))  # type: ignore[arg-type]
            audit.record(store, f"alerts.{action}", host=member.host, on_behalf_of=on_behalf_of,
                         details=f"incident {member.id}" + (f" (with #{incident_id})" if member is not incident
                                                            else "") + (f": {note}" if note else ""))
            changed.append(member)
    return changed


def ack(store: Any, incident_ids: Sequence[int], *, by: str, note: str | None, notify_config: Any,
        on_behalf_of: str | None = None) -> list[Incident]:
    """Acknowledge: escalation stops; receivers hear who took it (and the same fault's siblings)."""

    def acknowledge(incident: Incident, now: dt.datetime) -> None:
        incident.acked_at, incident.acked_by, incident.ack_note = now, by, note

    return change_open_incidents(store, "ack", incident_ids, note, acknowledge, "acked",
                                 notify_config=notify_config, group=True, on_behalf_of=on_behalf_of)


def resolve(store: Any, incident_ids: Sequence[int], *, by: str, note: str | None, notify_config: Any,
            on_behalf_of: str | None = None) -> list[Incident]:
    """Resolve by hand (patrol opens a new one if the fault is still there)."""

    def close(incident: Incident, now: dt.datetime) -> None:
        incident.status, incident.resolved_at, incident.resolved_by = IncidentStatus.RESOLVED, now, by
        if note:
            incident.ack_note = note

    return change_open_incidents(store, "resolve", incident_ids, note, close, "resolved",
                                 notify_config=notify_config, on_behalf_of=on_behalf_of)


def parse_start(text: str | None, now: dt.datetime) -> dt.datetime | None:
    """``--start``: an ISO 8601 time with a zone, or a duration from now (``2h``); None for empty.
    Raises UsageError naming what it got."""
    from dcops.timeparse import parse_duration

    if not text or not text.strip():
        return None
    text = text.strip()
    try:
        return now + parse_duration(text)
    except (UsageError, ValueError):
        pass
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise UsageError(f"silence start {text!r}: an ISO 8601 time with a zone or a duration (2h)") from None
    if when.tzinfo is None:
        raise UsageError(f"silence start {text!r}: give a time zone (Z or +01:00)")
    return when


def silence(store: Any, *, duration: dt.timedelta, by: str, host: str = "", rack: str = "", part: str = "",
            condition: str = "", incident_id: int | None = None, reason: str = "",
            starts: dt.datetime | None = None, on_behalf_of: str | None = None) -> dict[str, Any]:
    """Mute notifications of one incident or of matching ones for ``duration``, from now or from
    ``starts`` (a scheduled one-off silence: tonight's swap); returns what was stored. Recurring
    windows are ``patrol.maintenance`` in the config."""
    from dcops.patrol import store as pstore
    from dcops.store import audit

    if incident_id is None and not any((host, rack, part, condition)):
        raise UsageError("name an incident id or a matcher (--host, --rack, --part, --condition)")
    if duration <= dt.timedelta(0):
        raise UsageError("a silence lasts a positive duration")
    if incident_id is not None:
        get_open(store, incident_id)
    now = dt.datetime.now(dt.UTC)
    if starts is not None and starts.tzinfo is None:
        raise UsageError("a silence's start needs a time zone (e.g. 2026-12-07T22:00+01:00 or ...Z)")
    later = starts if starts is not None and starts > now else None  # a start in the past: from now
    until = (later or now) + duration
    sid = pstore.add_silence(store, until=until, created_by=by, host=host, rack=rack, part=part,
                             condition=condition, incident=incident_id, reason=reason, starts=later)
    item = {"silence": sid, "until": until.isoformat(), "incident": incident_id, "host": host, "rack": rack,
            "part": part, "condition": condition, "starts": later.isoformat() if later else None}
    audit.record(store, "alerts.silence", host=host or None, on_behalf_of=on_behalf_of,
                 details=json.dumps({"silence": sid, "incident": incident_id, "until": until.isoformat(),
                                     "starts": item["starts"], "rack": rack, "part": part, "condition": condition,
                                     "reason": reason}))
    return item
