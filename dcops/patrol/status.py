"""What the patrol last knew of each host, from the store alone (pure): ``dcops patrol status``.

An SRE asking "is anyone watching this box, and what did they see?" needs the answer without
touching the BMC: when it was last read and by which worker, whether the BMC answered, power and
health then, the open incidents on it, and whether that knowledge is stale. A host the patrol has
never read is said so (``never``), not shown as healthy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SEVERITY_ORDER = ("info", "warning", "critical", "emergency")


@dataclass(frozen=True)
class HostStatus:
    host: str
    rack: str | None
    bmc: str  # up | DOWN | never
    observed_at: dt.datetime | None
    age_seconds: float | None
    stale: bool
    power: str | None
    health: str | None
    worker: str | None
    open_incidents: int
    worst: str | None  # the most severe open incident's severity
    last_inventory_at: dt.datetime | None
    error: str | None

    def item(self) -> dict[str, Any]:
        return {"host": self.host, "rack": self.rack, "bmc": self.bmc,
                "observed_at": self.observed_at, "age_seconds": self.age_seconds, "stale": self.stale,
                "power": self.power, "health": self.health, "worker": self.worker,
                "open_incidents": self.open_incidents, "worst": self.worst,
                "last_inventory_at": self.last_inventory_at, "error": self.error}


def host_status(names: Sequence[tuple[str, str | None]], rows: Mapping[str, Mapping[str, Any]],
                incidents: Iterable[Any], now: dt.datetime, stale_after: float) -> list[HostStatus]:
    """One status per (host, rack) in ``names``: ``rows`` are the stored patrol rows by host,
    ``incidents`` the open incidents (anything with ``host`` and ``severity``); a host read longer
    than ``stale_after`` seconds ago, or never, is stale."""
    counts: dict[str, int] = {}
    worst: dict[str, str] = {}
    for incident in incidents:
        host = getattr(incident, "host", None)
        if not host:
            continue
        counts[host] = counts.get(host, 0) + 1
        severity = str(getattr(incident.severity, "value", incident.severity))
        if _rank(severity) > _rank(worst.get(host)):
            worst[host] = severity
    out = []
    for host, rack in names:
        row = rows.get(host) or {}
        seen = row.get("observed_at")
        age = (now - seen).total_seconds() if isinstance(seen, dt.datetime) else None
        bmc = "never" if seen is None else ("up" if row.get("reachable") else "DOWN")
        out.append(HostStatus(host, rack, bmc, seen, round(age, 1) if age is not None else None,
                              age is None or age > stale_after, row.get("power"), row.get("health"),
                              row.get("worker"), counts.get(host, 0), worst.get(host),
                              row.get("last_inventory_at"), row.get("error")))
    return out


def _rank(severity: str | None) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else -1


def incident_workers(incidents: Iterable[Any], workers: Mapping[str, str | None]) -> dict[int, str | None]:
    """Who patrols each incident's host (``patrol_hosts.worker``, set by ``dcops serve --worker``),
    by incident id; None where no worker is recorded (a single patrol).

    A rack incident's host is its rack path, which has no row of its own: its symptoms name the
    rack's hosts, and one worker patrols a whole rack (``workers/ring.py`` hashes racks), so the
    worker of the first symptom host that has one is the rack's."""
    found: dict[int, str | None] = {}
    for incident in incidents:
        worker = workers.get(incident.host)
        if worker is None:
            worker = next((workers[str(c["host"])] for c in incident.children
                           if c.get("host") and workers.get(str(c["host"]))), None)
        found[incident.id] = worker
    return found


def hosts_named(incidents: Iterable[Any]) -> set[str]:
    """Every host an incident names: its own and its symptoms' (the rows ``incident_workers`` needs)."""
    return {name for i in incidents for name in (i.host, *(str(c["host"]) for c in i.children if c.get("host")))}
