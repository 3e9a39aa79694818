"""Patrol's tables in the state store, and the queries patrol, ``dcops alerts``, the report and the
exporter run on them. The shape matches migration ``m0003_patrol``.

A round is saved in one transaction (``save_round``): host rows, health changes, convergence
state, incidents and the notifications they cause. A SIGKILL therefore loses at most the round
in flight, never an incident, an acknowledgement or a queued notification.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    update,
)

from dcops.notify.store import aware, outbox
from dcops.patrol.escalate import Silence, silence_from_row
from dcops.patrol.model import Incident
from dcops.patrol.status import hosts_named, incident_workers
from dcops.store.db import Store

metadata = MetaData()


def _id() -> Column:  # type: ignore[type-arg]
    return Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)


hosts = Table(
    "patrol_hosts", metadata,
    Column("host", String(255), primary_key=True),
    Column("observed_at", DateTime(timezone=True)),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_inventory_at", DateTime(timezone=True)),
    Column("reachable", Boolean, nullable=False),
    Column("error", Text),
    Column("protocol", String(20)),
    Column("power", String(20)),
    Column("health", String(20)),
    Column("duration_seconds", Float),
    Column("requests", Integer),
    Column("log_cursor", String(200)),
    Column("memory", JSON),
    Column("observation", JSON),
    Column("inventory", JSON),
    Column("worker", String(100)),  # m0021: who read it last (dcops serve --worker)
)
health_changes = Table(
    "patrol_health_changes", metadata, _id(),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("host", String(255), nullable=False),
    Column("part", String(255), nullable=False),
    Column("old", String(40)),
    Column("new", String(40)),
    Column("detail", Text),
)
rounds = Table(
    "patrol_rounds", metadata, _id(),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("hosts", Integer, nullable=False),
    Column("reachable", Integer, nullable=False),
    Column("unreachable", Integer, nullable=False),
    Column("missed", Integer, nullable=False),
    Column("events", Integer, nullable=False),
    Column("opened", Integer, nullable=False),
    Column("resolved", Integer, nullable=False),
    Column("duration_seconds", Float),
    Column("cpu_seconds", Float),
    Column("requests", Integer),
    Column("tier", String(40)),
    Column("worker", String(100)),  # m0021: the worker that ran it, and for which epoch
    Column("epoch", BigInteger),
    Column("inventory_cut", Integer),  # m0024: inventory visits cut short by the round's time
)
state = Table(
    "patrol_state", metadata,
    Column("name", String(100), primary_key=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("value", JSON, nullable=False),
)
incidents = Table(
    "patrol_incidents", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("key", String(600), nullable=False),
    Column("host", String(255), nullable=False),
    Column("part", String(300), nullable=False),
    Column("condition", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("site", String(100)),
    Column("room", String(100)),
    Column("rack", String(100)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("acked_at", DateTime(timezone=True)),
    Column("acked_by", String(200)),
    Column("tier", Integer, nullable=False),
    Column("summary", Text, nullable=False),
    Column("body", JSON, nullable=False),
)
silences = Table(
    "patrol_silences", metadata, _id(),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False),
    Column("host", String(255)),
    Column("rack", String(100)),
    Column("part", String(300)),
    Column("condition", String(40)),
    Column("incident", BigInteger().with_variant(Integer, "sqlite")),
    Column("created_by", String(200), nullable=False),
    Column("reason", Text),
    Column("starts", DateTime(timezone=True)),  # m0020: a scheduled silence (NULL: from created_at)
)
CONVERGE_STATE = "converge"


def _upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], key: str) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table)
        cols = {c: stmt.excluded[c] for c in rows[0] if c != key}
        conn.execute(stmt.on_conflict_do_update(index_elements=[key], set_=cols), list(rows))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt_s = sqlite_insert(table)
        cols = {c: stmt_s.excluded[c] for c in rows[0] if c != key}
        conn.execute(stmt_s.on_conflict_do_update(index_elements=[key], set_=cols), list(rows))


def incident_row(incident: Incident) -> dict[str, Any]:
    loc = incident.location
    return {"id": incident.id, "key": incident.key, "host": incident.host, "part": incident.part,
            "condition": incident.condition.value, "severity": incident.severity.value,
            "status": incident.status.value, "site": loc.get("site"), "room": loc.get("room"),
            "rack": loc.get("rack"), "opened_at": incident.opened_at, "resolved_at": incident.resolved_at,
            "acked_at": incident.acked_at, "acked_by": incident.acked_by, "tier": incident.tier,
            "summary": incident.summary[:2000], "body": incident.to_json()}


def save_round(
    store: Store,
    *,
    round_row: Mapping[str, Any],
    host_rows: Sequence[Mapping[str, Any]] = (),
    changes: Sequence[Mapping[str, Any]] = (),
    converge_state: Mapping[str, Any] | None = None,
    changed_incidents: Iterable[Incident] = (),
    notifications: Sequence[Mapping[str, Any]] = (),
) -> int:
    """Persist one round atomically; returns the round's id. Host rows are upserts: a row names
    only the columns it changes, and rows of one call share their columns (grouped by caller)."""
    with store.begin() as conn:
        round_id = int(conn.execute(rounds.insert().values(**round_row)).inserted_primary_key[0])  # type: ignore[index]
        groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for row in host_rows:
            groups.setdefault(tuple(sorted(row)), []).append(row)
        for group in groups.values():
            _upsert(conn, hosts, group, "host")
        if changes:
            conn.execute(health_changes.insert(), list(changes))
        if converge_state is not None:
            _upsert(conn, state, [{"name": CONVERGE_STATE, "updated_at": round_row["started_at"],
                                   "value": dict(converge_state)}], "name")
        _upsert(conn, incidents, [incident_row(i) for i in changed_incidents], "id")
        if notifications:
            conn.execute(outbox.insert(), [dict(n) for n in notifications])
    return round_id


def load_converge(store: Store) -> tuple[dict[str, Any] | None, list[Incident]]:
    """The persisted convergence state and every open incident."""
    with store.connect() as conn:
        row = conn.execute(select(state.c.value).where(state.c.name == CONVERGE_STATE)).first()
        open_rows = conn.execute(select(incidents.c.body).where(incidents.c.status == "open")).all()
    return (dict(row.value) if row else None), [Incident.from_json(r.body) for r in open_rows]


def host_rows(store: Store, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Stored host rows without the observation bodies (memory, cursor, timestamps)."""
    cols = [c for c in hosts.c if c.name not in ("observation", "inventory")]
    stmt = select(*cols)
    wanted = set(names) if names is not None else None
    with store.connect() as conn:
        result = {}
        for row in conn.execute(stmt):
            if wanted is None or row.host in wanted:
                data = dict(row._mapping)
                for key in ("observed_at", "last_success_at", "last_inventory_at"):
                    data[key] = aware(data[key])
                result[row.host] = data
    return result


def workers_of(store: Store, incidents: Sequence[Incident]) -> dict[int, str | None]:
    """Who patrols each incident's host, by incident id (``status.incident_workers`` over the
    stored host rows its host and symptoms name): for ``dcops alerts list`` and the web pages."""
    rows = host_rows(store, hosts_named(incidents))
    return incident_workers(incidents, {name: row.get("worker") for name, row in rows.items()})


def observations(store: Store, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Full host rows including the latest observation and inventory documents."""
    wanted = set(names) if names is not None else None
    with store.connect() as conn:
        out = {}
        for row in conn.execute(select(hosts)):
            if wanted is None or row.host in wanted:
                data = dict(row._mapping)
                for key in ("observed_at", "last_success_at", "last_inventory_at"):
                    data[key] = aware(data[key])
                out[row.host] = data
    return out


def last_round(store: Store, *, worker: str | None = None) -> dict[str, Any] | None:
    """The newest round (of ``worker``, when given: dcops serve --worker)."""
    stmt = select(rounds).order_by(rounds.c.id.desc()).limit(1)
    if worker is not None:
        stmt = stmt.where(rounds.c.worker == worker)
    with store.connect() as conn:
        row = conn.execute(stmt).first()
    return _round(dict(row._mapping)) if row else None


def _round(row: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(row)
    data["started_at"] = aware(data["started_at"])
    data["finished_at"] = aware(data["finished_at"])
    return data


def rounds_since(store: Store, since: dt.datetime) -> list[dict[str, Any]]:
    with store.connect() as conn:
        rows = conn.execute(select(rounds).where(rounds.c.started_at >= since).order_by(rounds.c.id)).all()
    return [_round(dict(r._mapping)) for r in rows]


# ---------------------------------------------------------------------------- incidents

def list_incidents(store: Store, *, status: str | None = "open", since: dt.datetime | None = None,
                   host: str | None = None, limit: int = 1000) -> list[Incident]:
    stmt = select(incidents.c.body).order_by(incidents.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(incidents.c.status == status)
    if since is not None:
        stmt = stmt.where((incidents.c.opened_at >= since) | (incidents.c.resolved_at >= since)
                          | (incidents.c.status == "open"))
    if host:
        stmt = stmt.where(incidents.c.host == host)
    with store.connect() as conn:
        return [Incident.from_json(r.body) for r in conn.execute(stmt)]


def get_incident(store: Store, incident_id: int) -> Incident | None:
    with store.connect() as conn:
        row = conn.execute(select(incidents.c.body).where(incidents.c.id == incident_id)).first()
    return Incident.from_json(row.body) if row else None


def save_incident(store: Store, incident: Incident, notifications: Sequence[Mapping[str, Any]] = ()) -> None:
    """Write one incident changed by a person (ack, resolve), with its notifications, atomically."""
    with store.begin() as conn:
        _upsert(conn, incidents, [incident_row(incident)], "id")
        if notifications:
            conn.execute(outbox.insert(), [dict(n) for n in notifications])


def open_counts(store: Store) -> dict[str, int]:
    with store.connect() as conn:
        rows = conn.execute(select(incidents.c.severity, func.count()).where(incidents.c.status == "open")
                            .group_by(incidents.c.severity)).all()
    return {r[0]: int(r[1]) for r in rows}


# ---------------------------------------------------------------------------- silences

def add_silence(store: Store, *, until: dt.datetime, created_by: str, host: str = "", rack: str = "",
                part: str = "", condition: str = "", incident: int | None = None, reason: str = "",
                starts: dt.datetime | None = None) -> int:
    with store.begin() as conn:
        row = conn.execute(silences.insert().values(
            created_at=dt.datetime.now(dt.UTC), until=until, host=host or None, rack=rack or None,
            part=part or None, condition=condition or None, incident=incident, created_by=created_by,
            reason=reason or None, starts=starts))
        return int(row.inserted_primary_key[0])  # type: ignore[index]


def active_silences(store: Store, now: dt.datetime) -> list[Silence]:
    with store.connect() as conn:
        rows = conn.execute(select(silences).where(silences.c.until > now)).all()
    return [silence_from_row(dict(r._mapping)) for r in rows]


def expire_silence(store: Store, silence_id: int, now: dt.datetime) -> bool:
    with store.begin() as conn:
        result = conn.execute(update(silences).where(silences.c.id == silence_id).values(until=now))
        return bool(result.rowcount)
