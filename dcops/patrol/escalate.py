"""Escalation and silences: which notification tier an open incident is at. Pure.

An incident starts at tier 1. While nobody acknowledges it, it moves to tier 2, 3, ... when it has
been open ``policy.escalation[n]`` seconds (default 0, 15 min, 30 min). An acknowledged incident
stays at the tier it had; a silenced one is not notified at all while the silence lasts (it still
shows in ``dcops alerts list`` and in the metrics).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.patrol.model import Incident, Policy


def tier_for(incident: Incident, now: dt.datetime, policy: Policy) -> int:
    """The tier ``incident`` should be at now (never lower than it is)."""
    if incident.acked_at is not None or not incident.is_open:
        return incident.tier
    elapsed = (now - incident.opened_at).total_seconds()
    steps = policy.escalation or (0.0,)
    tier = max((n + 1 for n, after in enumerate(steps) if elapsed >= after), default=1)
    return max(incident.tier, tier)


def escalate(incidents: Iterable[Incident], now: dt.datetime, policy: Policy) -> list[Incident]:
    """Raise each open incident's tier as time passes; returns those that moved (changed in place)."""
    moved = []
    for incident in incidents:
        tier = tier_for(incident, now, policy)
        if tier > incident.tier:
            incident.tier = tier
            incident.escalated_at = now
            moved.append(incident)
    return moved


@dataclass(frozen=True)
class Silence:
    """Mutes notifications of matching incidents until ``until``. Matchers are globs; an empty
    matcher matches anything. ``incident`` pins one incident by id."""

    id: int
    until: dt.datetime
    host: str = ""
    rack: str = ""
    part: str = ""
    condition: str = ""
    incident: int | None = None
    created_by: str = ""
    reason: str = ""

    def matches(self, incident: Incident, now: dt.datetime) -> bool:
        if now >= self.until:
            return False
        if self.incident is not None and incident.id != self.incident:
            return False
        rack = str(incident.location.get("rack") or "")
        pairs = ((self.host, incident.host), (self.rack, rack), (self.part, incident.part),
                 (self.condition, incident.condition.value))
        return all(not pattern or fnmatch.fnmatchcase(value, pattern) for pattern, value in pairs)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "until": self.until.isoformat(), "host": self.host, "rack": self.rack,
                "part": self.part, "condition": self.condition, "incident": self.incident,
                "created_by": self.created_by, "reason": self.reason}


def silenced(incident: Incident, silences: Sequence[Silence], now: dt.datetime) -> Silence | None:
    return next((s for s in silences if s.matches(incident, now)), None)


def silence_from_row(row: Mapping[str, Any]) -> Silence:
    until = row["until"]
    if isinstance(until, str):
        until = dt.datetime.fromisoformat(until)
    if until.tzinfo is None:
        until = until.replace(tzinfo=dt.UTC)
    return Silence(id=int(row["id"]), until=until, host=row.get("host") or "", rack=row.get("rack") or "",
                   part=row.get("part") or "", condition=row.get("condition") or "",
                   incident=row.get("incident"), created_by=row.get("created_by") or "",
                   reason=row.get("reason") or "")
