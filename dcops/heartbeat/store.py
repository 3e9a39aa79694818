"""Heartbeat state in the state store (table ``heartbeat_state``, migration m0023_heartbeat_drills):
one row per (host, network) with its latest probe and since when it is in that state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    tuple_,
)

from dcops.heartbeat.targets import Result
from dcops.store.db import Store

metadata = MetaData()
heartbeat_state = Table(
    "heartbeat_state", metadata,
    Column("host", String(255), primary_key=True),
    Column("network", String(100), primary_key=True),
    Column("address", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("grp", String(300), nullable=False),
    Column("az", String(100), nullable=True),
    Column("ok", Boolean, nullable=False),
    Column("error", String(200), nullable=True),
    Column("seconds", Float, nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def save_results(store: Store, results: Sequence[Result], now: dt.datetime) -> int:
    """Replace the rows of the probed (host, network) pairs in one transaction; ``since`` keeps
    its value while the state holds. Returns how many pairs changed state."""
    if not results:
        return 0
    with store.begin() as conn:
        before = {(r.host, r.network): (r.ok, _aware(r.since)) for r in conn.execute(
            select(heartbeat_state.c.host, heartbeat_state.c.network, heartbeat_state.c.ok, heartbeat_state.c.since))}
        rows: list[dict[str, Any]] = []
        changed = 0
        for result in results:
            t = result.target
            old = before.get(t.key)
            if old is not None and old[0] != result.ok:
                changed += 1
            since = old[1] if old is not None and old[0] == result.ok else now
            rows.append({"host": t.host, "network": t.network, "address": t.address[:255], "port": t.port,
                         "grp": t.group[:300], "az": t.az, "ok": result.ok,
                         "error": (result.error or None) and str(result.error)[:200],
                         "seconds": round(result.seconds, 6), "checked_at": now, "since": since})
        keys = [(r["host"], r["network"]) for r in rows]
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            conn.execute(delete(heartbeat_state).where(
                tuple_(heartbeat_state.c.host, heartbeat_state.c.network).in_(chunk)))
        conn.execute(heartbeat_state.insert(), rows)
    return changed


def forget_except(store: Store, keep: Iterable[tuple[str, str]]) -> None:
    """Drop rows of (host, network) pairs the book no longer has."""
    wanted = set(keep)
    with store.begin() as conn:
        stale = [(r.host, r.network) for r in conn.execute(select(heartbeat_state.c.host, heartbeat_state.c.network))
                 if (r.host, r.network) not in wanted]
        for start in range(0, len(stale), 500):
            conn.execute(delete(heartbeat_state).where(
                tuple_(heartbeat_state.c.host, heartbeat_state.c.network).in_(stale[start:start + 500])))


def latest(store: Store) -> list[dict[str, Any]]:
    """Every stored row (host, network, address, port, grp, az, ok, error, seconds, checked_at, since)."""
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(heartbeat_state).order_by(heartbeat_state.c.host, heartbeat_state.c.network))]


def down_networks(store: Store) -> dict[str, list[dict[str, Any]]]:
    """host -> the rows of the networks it does not answer on (for ``capacity check``)."""
    out: dict[str, list[dict[str, Any]]] = {}
    with store.connect() as conn:
        for row in conn.execute(select(heartbeat_state).where(heartbeat_state.c.ok.is_(False))):
            out.setdefault(row.host, []).append(dict(row._mapping))
    return out
