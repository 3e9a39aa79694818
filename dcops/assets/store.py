"""Asset data in the state store: snapshots (one row per host per collection, parts as compact
JSON), part events, the serial index (where each part serial was last seen), the latest
reconciliation and the warranty reminders sent (queued in the notification outbox,
``patrol_outbox``, in the same transaction: see ``dcops.assets.notify``).

``save_collection`` is the one writer of snapshots: it diffs the new snapshots against each
host's previous one (``dcops.assets.history``), stores both, and keeps the serial index current,
all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    or_,
    select,
    update,
)

from dcops.assets.history import MOVABLE, PartEvent, diff_fleet
from dcops.assets.model import AssetSnapshot, PartKind
from dcops.store.db import Store

metadata = MetaData()
_ID = BigInteger().with_variant(Integer, "sqlite")

snapshots = Table(
    "asset_snapshots", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64)),
    Column("protocol", String(20), nullable=False),
    Column("serial", String(200)),
    Column("summary", JSON, nullable=False),
    Column("parts", JSON, nullable=False),
    Column("firmware", JSON, nullable=False),
)
hosts = Table(
    "asset_hosts", metadata,
    Column("host", String(255), primary_key=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("last_snapshot_id", _ID),
)
events = Table(
    "asset_part_events", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64)),
    Column("host", String(255), nullable=False),
    Column("event", String(20), nullable=False),
    Column("part_kind", String(40), nullable=False),
    Column("slot", String(300), nullable=False),
    Column("serial", String(200)),
    Column("old_serial", String(200)),
    Column("from_host", String(255)),
    Column("from_slot", String(300)),
    Column("model", String(300)),
    Column("old_model", String(300)),
)
parts_seen = Table(
    "asset_parts_seen", metadata,
    Column("part_kind", String(40), primary_key=True),
    Column("serial", String(200), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("slot", String(300), nullable=False),
    Column("model", String(300)),
    Column("present", Boolean, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
)
reconcile_results = Table(
    "asset_reconcile_results", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("book", Text),
    Column("counts", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("items", JSON, nullable=False),
)
reminders = Table(
    "asset_reminders", metadata,
    Column("host", String(255), primary_key=True),
    Column("threshold", Integer, primary_key=True),
    Column("warranty_end", Date, primary_key=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(100)),
)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _latest_ids(conn: Connection, names: Sequence[str] | None) -> list[int]:
    if names is None:
        rows = conn.execute(select(hosts.c.last_snapshot_id).where(hosts.c.last_snapshot_id.is_not(None)))
        return [r[0] for r in rows]
    ids: list[int] = []
    for chunk in _chunks(list(names)):
        rows = conn.execute(select(hosts.c.last_snapshot_id).where(
            hosts.c.host.in_(chunk), hosts.c.last_snapshot_id.is_not(None)))
        ids.extend(r[0] for r in rows)
    return ids


def _load(conn: Connection, ids: Sequence[int], full: bool) -> list[AssetSnapshot]:
    result: list[AssetSnapshot] = []
    cols = [snapshots.c.summary, snapshots.c.parts, snapshots.c.firmware] if full else [snapshots.c.summary]
    for chunk in _chunks(sorted(ids), 900):
        for row in conn.execute(select(*cols).where(snapshots.c.id.in_(chunk))):
            data = dict(row.summary)
            if full:
                data["parts"] = row.parts
                data["firmware"] = row.firmware
            result.append(AssetSnapshot.from_json(data))
    result.sort(key=lambda s: s.host)
    return result


def latest_snapshots(store: Store, names: Sequence[str] | None = None, *, full: bool = False) -> list[AssetSnapshot]:
    """The newest snapshot of each host (of ``names``, or all), sorted by host. Without ``full``
    only the summary is read (identity, placement, hardware counts: what reconcile needs)."""
    with store.connect() as conn:
        return _load(conn, _latest_ids(conn, names), full)


def snapshot_history(store: Store, host: str, limit: int = 20) -> list[AssetSnapshot]:
    """The newest ``limit`` snapshots of one host, newest first."""
    with store.connect() as conn:
        ids = [r[0] for r in conn.execute(select(snapshots.c.id).where(snapshots.c.host == host)
                                          .order_by(snapshots.c.id.desc()).limit(limit))]
        found = _load(conn, ids, True)
    return sorted(found, key=lambda s: s.taken_at, reverse=True)


def save_collection(store: Store, collected: Sequence[AssetSnapshot], failures: Mapping[str, str] | None = None,
                    *, run_id: str | None = None, at: dt.datetime | None = None) -> list[PartEvent]:
    """Store one collection run: the snapshots, the hosts that failed (with why), the part events
    against each host's previous snapshot, and the serial index. Returns the events."""
    run_id = run_id or uuid.uuid4().hex[:16]
    at = at or dt.datetime.now(dt.UTC)
    failures = dict(failures or {})
    names = [s.host for s in collected]
    with store.begin() as conn:
        previous = {s.host: s for s in _load(conn, _latest_ids(conn, names), True)}
        current = {s.host: s for s in collected}
        # Where each newly arrived serial was seen before: one query per 500 serials, not per part.
        arriving: set[tuple[str, str]] = set()
        for snap in collected:
            before = previous.get(snap.host)
            known = {(p.kind.value, p.serial) for p in before.parts} if before else set()
            arriving |= {(p.kind.value, p.serial) for p in snap.parts
                         if p.kind in MOVABLE and p.serial and (p.kind.value, p.serial) not in known}
        seen: dict[tuple[str, str], tuple[str, str]] = {}
        for chunk in _chunks(sorted({serial for _, serial in arriving})):
            for row in conn.execute(select(parts_seen.c.part_kind, parts_seen.c.serial, parts_seen.c.host,
                                           parts_seen.c.slot).where(parts_seen.c.serial.in_(chunk))):
                seen[(row.part_kind, row.serial)] = (row.host, row.slot)

        def last_seen(kind: PartKind, serial: str) -> tuple[str, str] | None:
            return seen.get((kind.value, serial))

        found = diff_fleet(previous, current, last_seen=last_seen)
        if collected:
            conn.execute(snapshots.insert(), [{
                "host": snap.host, "taken_at": _utc(snap.taken_at), "run_id": run_id, "protocol": snap.protocol,
                "serial": snap.serial, "summary": snap.summary_json(), "parts": [p.to_row() for p in snap.parts],
                "firmware": [list(f) for f in snap.firmware]} for snap in collected])
        ids: dict[str, int] = {}
        for host_name, snap_id in conn.execute(select(snapshots.c.host, func.max(snapshots.c.id))
                                               .where(snapshots.c.run_id == run_id).group_by(snapshots.c.host)):
            ids[host_name] = int(snap_id)
        if found:
            conn.execute(events.insert(), [{**_event_row(e), "run_id": run_id} for e in found])
        _update_hosts(conn, collected, ids, failures, at)
        _update_index(conn, collected)
    return found


def _event_row(e: PartEvent) -> dict[str, Any]:
    return {"at": _utc(e.at), "host": e.host, "event": e.event.value, "part_kind": e.part_kind.value, "slot": e.slot,
            "serial": e.serial, "old_serial": e.old_serial, "from_host": e.from_host, "from_slot": e.from_slot,
            "model": e.model, "old_model": e.old_model}


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str],
            update_cols: Sequence[str]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)  # type: ignore[assignment]
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={c: stmt.excluded[c] for c in update_cols})
    for chunk in _chunks(rows, 500):
        conn.execute(stmt, list(chunk))


def _update_hosts(conn: Connection, collected: Sequence[AssetSnapshot], ids: Mapping[str, int],
                  failures: Mapping[str, str], at: dt.datetime) -> None:
    ok = [{"host": s.host, "last_attempt_at": _utc(s.taken_at), "last_success_at": _utc(s.taken_at),
           "last_error": None, "last_snapshot_id": ids[s.host]} for s in collected]
    _upsert(conn, hosts, ok, ["host"], ["last_attempt_at", "last_success_at", "last_error", "last_snapshot_id"])
    if failures:
        # A failed attempt keeps the last good snapshot and time: only the attempt and error change.
        bad = [{"host": h, "last_attempt_at": at, "last_success_at": None, "last_error": e[:2000],
                "last_snapshot_id": None} for h, e in failures.items()]
        _upsert(conn, hosts, bad, ["host"], ["last_attempt_at", "last_error"])


def _update_index(conn: Connection, collected: Sequence[AssetSnapshot]) -> None:
    names = [s.host for s in collected]
    for chunk in _chunks(names):
        conn.execute(update(parts_seen).where(parts_seen.c.host.in_(chunk)).values(present=False))
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for snap in collected:
        when = _utc(snap.taken_at)
        for part in snap.parts:
            if part.kind in MOVABLE and part.serial:
                rows[(part.kind.value, part.serial)] = {
                    "part_kind": part.kind.value, "serial": part.serial, "host": snap.host, "slot": part.slot,
                    "model": part.model, "present": True, "first_seen": when, "last_seen": when}
    _upsert(conn, parts_seen, list(rows.values()), ["part_kind", "serial"],
            ["host", "slot", "model", "present", "last_seen"])


def part_events(store: Store, *, host: str | None = None, serial: str | None = None,
                limit: int = 1000) -> list[PartEvent]:
    """Events of a host (in it, or moved out of it) or of a serial (as the part or the one
    replaced), oldest first."""
    stmt = select(events).order_by(events.c.id.desc()).limit(limit)
    if host:
        stmt = stmt.where(or_(events.c.host == host, events.c.from_host == host))
    if serial:
        stmt = stmt.where(or_(events.c.serial == serial, events.c.old_serial == serial))
    with store.connect() as conn:
        rows = conn.execute(stmt).all()
    out = [PartEvent.from_json({**dict(r._mapping), "at": _utc(r.at)}) for r in rows]
    out.reverse()
    return out


def where_is(store: Store, serial: str) -> list[dict[str, Any]]:
    """Where a part serial was last seen (any kind); ``present`` False when it has left that slot
    and was not seen since."""
    with store.connect() as conn:
        rows = conn.execute(select(parts_seen).where(func.upper(parts_seen.c.serial) == serial.upper())).all()
    return [{**dict(r._mapping), "first_seen": _utc(r.first_seen), "last_seen": _utc(r.last_seen)} for r in rows]


def part_serial_records(store: Store) -> list[tuple[str, str, str]]:
    """``(host, field, serial)`` for every part present in its host's latest snapshot, for
    ``dcops inventory search`` (the field is ``<kind>_serial``, e.g. ``dimm_serial``)."""
    with store.connect() as conn:
        rows = conn.execute(select(parts_seen.c.host, parts_seen.c.part_kind, parts_seen.c.serial)
                            .where(parts_seen.c.present.is_(True))).all()
    return [(r.host, f"{r.part_kind}_serial", r.serial) for r in rows]


def host_status(store: Store) -> list[dict[str, Any]]:
    """Per host: last attempt, last success, last error."""
    with store.connect() as conn:
        rows = conn.execute(select(hosts).order_by(hosts.c.host)).all()
    return [{"host": r.host, "last_attempt_at": _utc(r.last_attempt_at), "last_success_at": _utc(r.last_success_at),
             "last_error": r.last_error} for r in rows]


def save_reconcile(store: Store, counts: Mapping[str, int], summary: Mapping[str, Any],
                   items: list[dict[str, Any]], *, book: str | None = None, at: dt.datetime | None = None) -> int:
    with store.begin() as conn:
        row = conn.execute(reconcile_results.insert().values(
            at=at or dt.datetime.now(dt.UTC), book=book, counts=dict(counts), summary=dict(summary), items=items))
        return int(row.inserted_primary_key[0])  # type: ignore[index]


def latest_reconcile(store: Store) -> dict[str, Any] | None:
    """The newest reconciliation: ``{at, book, counts, summary}`` (items left out), or None."""
    with store.connect() as conn:
        row = conn.execute(select(reconcile_results.c.at, reconcile_results.c.book, reconcile_results.c.counts,
                                  reconcile_results.c.summary)
                           .order_by(reconcile_results.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    return {"at": _utc(row.at), "book": row.book, "counts": dict(row.counts), "summary": dict(row.summary)}


def sent_reminders(store: Store) -> set[tuple[str, int, dt.date]]:
    with store.connect() as conn:
        rows = conn.execute(select(reminders.c.host, reminders.c.threshold, reminders.c.warranty_end)).all()
    return {(r.host, r.threshold, r.warranty_end) for r in rows}


def record_reminders(store: Store, keys: Iterable[tuple[str, int, dt.date]], *, channel: str | None = None,
                     at: dt.datetime | None = None) -> None:
    """Record reminders as sent (they will not be due again), all under one ``channel``."""
    queue_reminders(store, {key: channel or "" for key in keys}, [], at=at)


def queue_reminders(store: Store, channels: Mapping[tuple[str, int, dt.date], str],
                    notifications: Sequence[Mapping[str, Any]], *, at: dt.datetime | None = None) -> None:
    """In one transaction: record the reminders (key -> channel) as sent and queue their
    ``notifications`` (rows of the notification outbox, ``dcops.assets.notify.plan_reminders``).
    A run killed after this commits delivers nothing twice and forgets nothing: the rows wait."""
    from dcops.notify.store import outbox

    now = at or dt.datetime.now(dt.UTC)
    rows = [{"host": h, "threshold": t, "warranty_end": d, "sent_at": now, "channel": (channel or "")[:100] or None}
            for (h, t, d), channel in channels.items()]
    with store.begin() as conn:
        _upsert(conn, reminders, rows, ["host", "threshold", "warranty_end"], ["sent_at", "channel"])
        if notifications:
            conn.execute(outbox.insert(), [dict(n) for n in notifications])


def queued_reminders(store: Store, kind: str = "warranty") -> list[dict[str, Any]]:
    """Outbox rows of ``kind`` neither delivered nor given up, oldest first (whatever their next
    attempt time: the command that asks delivers them now)."""
    from dcops.notify.store import outbox

    stmt = (select(outbox).where(outbox.c.kind == kind, outbox.c.delivered_at.is_(None),
                                 outbox.c.given_up_at.is_(None)).order_by(outbox.c.id))
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def last_collections(store: Store) -> dict[str, dt.datetime]:
    """Host -> time of its last successful collection."""
    with store.connect() as conn:
        rows = conn.execute(select(hosts.c.host, hosts.c.last_success_at)
                            .where(and_(hosts.c.last_success_at.is_not(None)))).all()
    return {r.host: _utc(r.last_success_at) for r in rows if r.last_success_at is not None}  # type: ignore[misc]
