"""Escalation, silences and acknowledgements: which notification tier an open incident is at. Pure.

An incident starts at tier 1 when it is first paged (``paged_at``). While nobody acknowledges it,
it moves to tier 2, 3, ... when it has been paged ``policy.escalation[n]`` seconds (default 0, 15
min, 30 min). An acknowledged incident stays at the tier it had. A silenced one is not notified
and does not climb while the silence lasts (it still shows in ``dcops alerts list`` and in the
metrics); an incident that *opened* during a silence was never paged, so when the silence ends it
is paged from tier 1 as if it had just opened (``release``), never straight to management.

Acknowledging an incident acknowledges its group (``ack_group``): the incidents about the same
part, and those listed as its symptoms or it among theirs (patrol.depends.related).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dcops.notify.silence import Silence
from dcops.patrol.depends import related
from dcops.patrol.model import Incident, Policy


def tier_for(incident: Incident, now: dt.datetime, policy: Policy) -> int:
    """The tier ``incident`` should be at now (never lower than it is)."""
    if incident.acked_at is not None or not incident.is_open or incident.paged_at is None:
        return incident.tier
    elapsed = (now - incident.paged_at).total_seconds()
    steps = policy.escalation or (0.0,)
    tier = max((n + 1 for n, after in enumerate(steps) if elapsed >= after), default=1)
    return max(incident.tier, tier)


def escalate(incidents: Iterable[Incident], now: dt.datetime, policy: Policy,
             silences: Sequence[Silence] = ()) -> list[Incident]:
    """Raise each open, paged, unsilenced incident's tier as time passes; returns those that
    moved (changed in place)."""
    moved = []
    for incident in incidents:
        if silenced(incident, silences, now):
            continue
        tier = tier_for(incident, now, policy)
        if tier > incident.tier:
            incident.tier = tier
            incident.escalated_at = now
            moved.append(incident)
    return moved


def hold(opened: Iterable[Incident], silences: Sequence[Silence], now: dt.datetime) -> None:
    """Incidents that open under a silence are not paged: clear ``paged_at`` so that escalation
    waits and ``release`` pages them when the silence ends."""
    for incident in opened:
        if silenced(incident, silences, now):
            incident.paged_at = None


def release(incidents: Iterable[Incident], silences: Sequence[Silence], now: dt.datetime) -> list[Incident]:
    """Open incidents never paged whose silence has ended: paged now, from tier 1 (returned, to be
    notified as opened)."""
    out = []
    for incident in incidents:
        if incident.is_open and incident.paged_at is None and incident.acked_at is None \
                and not silenced(incident, silences, now):
            incident.paged_at = now
            incident.tier = 1
            incident.escalated_at = None
            out.append(incident)
    return out


def _symptoms(incident: Incident) -> list[tuple[str, str]]:
    found = [(str(c.get("host") or incident.host), str(c.get("part") or "")) for c in incident.children]
    found += [(h, "bmc") for h in incident.diagnosis.get("hosts_dark") or ()]  # a rack's dark BMCs
    return found


def ack_group(target: Incident, open_incidents: Iterable[Incident]) -> list[Incident]:
    """``target`` and the open incidents that are about the same fault (same part, or one among
    the other's symptoms): acknowledging one acknowledges them all, so no twin escalates."""
    group = [target]
    for other in open_incidents:
        if other.id == target.id or not other.is_open or other.acked_at is not None:
            continue
        if related(target.host, target.part, other.host, other.part, _symptoms(target)) \
                or related(other.host, other.part, target.host, target.part, _symptoms(other)):
            group.append(other)
    return group


def acknowledge(incidents: Iterable[Incident], now: dt.datetime, by: str, note: str | None = None) -> None:
    for incident in incidents:
        incident.acked_at, incident.acked_by, incident.ack_note = now, by, note


def silenced(incident: Incident, silences: Sequence[Silence], now: dt.datetime) -> Silence | None:
    """The silence muting ``incident`` now (notify's test, on the incident's routing keys)."""
    keys = {**incident.routing_keys(), "ref": incident.id}
    return next((s for s in silences if s.matches(keys, now)), None)


def _aware(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def silence_from_row(row: Mapping[str, Any]) -> Silence:
    until = _aware(row["until"])
    assert until is not None
    return Silence(id=int(row["id"]), until=until, host=row.get("host") or "", rack=row.get("rack") or "",
                   part=row.get("part") or "", condition=row.get("condition") or "",
                   incident=row.get("incident"), created_by=row.get("created_by") or "",
                   reason=row.get("reason") or "", starts=_aware(row.get("starts")))
