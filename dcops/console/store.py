"""Console sessions in the state store (table ``console_sessions``, migration m0022).

A row is written when a session opens (so a crash still leaves who/when/host) and completed when
it closes (end, duration, byte counts, the asciicast recording and its SHA-256, the audit ids).
Recordings older than the retention period are deleted by ``prune``; the audit entries naming
them stay (the log is append-only), and say which recording was made and its hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from dcops.store.db import Store

DEFAULT_RETENTION_DAYS = 180

metadata = MetaData()
console_sessions = Table(
    "console_sessions", metadata,
    Column("id", String(40), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("user", String(200), nullable=False),
    Column("via", String(20), nullable=False),
    Column("transport", String(40), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("duration_s", Float, nullable=True),
    Column("bytes_out", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("bytes_in", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("audit_open", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("audit_close", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("result", String(200), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("cast", Text, nullable=True),
)


@dataclass(frozen=True)
class SessionRecord:
    id: str
    host: str
    user: str
    via: str
    transport: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_s: float | None
    bytes_out: int | None
    bytes_in: int | None
    audit_open: int | None
    audit_close: int | None
    result: str | None
    sha256: str | None
    cast: str | None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def _record(row: Any) -> SessionRecord:
    data = dict(row._mapping)
    data["started_at"] = _utc(data["started_at"])
    data["ended_at"] = _utc(data["ended_at"])
    return SessionRecord(**data)


def digest(cast_text: str) -> str:
    return hashlib.sha256(cast_text.encode("utf-8", "surrogateescape")).hexdigest()


def opened(store: Store, session_id: str, *, host: str, user: str, via: str, transport: str,
           at: dt.datetime, audit_open: int | None) -> None:
    with store.begin() as conn:
        conn.execute(insert(console_sessions).values(
            id=session_id, host=host, user=user, via=via, transport=transport, started_at=at,
            audit_open=audit_open))


def closed(store: Store, session_id: str, *, at: dt.datetime, duration_s: float, bytes_out: int,
           bytes_in: int, result: str, cast_text: str, audit_close: int | None) -> None:
    with store.begin() as conn:
        conn.execute(update(console_sessions).where(console_sessions.c.id == session_id).values(
            ended_at=at, duration_s=duration_s, bytes_out=bytes_out, bytes_in=bytes_in, result=result,
            cast=cast_text, sha256=digest(cast_text), audit_close=audit_close))


def get(store: Store, session_id: str) -> SessionRecord | None:
    with store.connect() as conn:
        row = conn.execute(select(console_sessions).where(console_sessions.c.id == session_id)).first()
    return _record(row) if row is not None else None


def find(store: Store, prefix: str) -> list[SessionRecord]:
    """Sessions whose id starts with ``prefix`` (ids are long; people type the first characters)."""
    with store.connect() as conn:
        rows = conn.execute(select(console_sessions).where(console_sessions.c.id.like(f"{prefix}%"))
                            .limit(5)).all()
    return [_record(r) for r in rows]


def recent(store: Store, *, host: str | None = None, limit: int = 50) -> list[SessionRecord]:
    stmt = select(console_sessions).order_by(console_sessions.c.started_at.desc()).limit(limit)
    if host:
        stmt = stmt.where(console_sessions.c.host == host)
    with store.connect() as conn:
        return [_record(r) for r in conn.execute(stmt).all()]


def cutoff(now: dt.datetime, retention_days: float) -> dt.datetime:
    """Sessions that started before this instant are past retention."""
    return now - dt.timedelta(days=retention_days)


def prune(store: Store, *, now: dt.datetime, retention_days: float) -> int:
    """Delete the sessions (and their recordings) past retention; returns how many."""
    if retention_days <= 0:
        return 0  # 0 or less: keep for ever
    with store.begin() as conn:
        result = conn.execute(delete(console_sessions).where(
            console_sessions.c.started_at < cutoff(now, retention_days)))
    return int(result.rowcount or 0)


# SSH host keys of BMCs (serial console over SSH), recorded on first use (migration
# m0022_console_ssh_host_keys). A recorded key is only ever removed by an operator
# (``dcops console forget-key HOST``), never replaced by a connection.
console_ssh_host_keys = Table(
    "console_ssh_host_keys", metadata,
    Column("host", String(255), primary_key=True),
    Column("address", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("key", Text, nullable=False),
    Column("fingerprint", String(100), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


def pinned_key(store: Store, host: str) -> str | None:
    """The recorded SSH host key (OpenSSH public key line) of ``host``'s BMC, if any."""
    with store.connect() as conn:
        row = conn.execute(select(console_ssh_host_keys.c.key).where(console_ssh_host_keys.c.host == host)).first()
    return str(row[0]) if row is not None else None


def pin_key(store: Store, host: str, *, address: str, port: int, key: str, fingerprint: str,
            at: dt.datetime) -> str:
    """Record ``key`` for ``host`` unless one is recorded already; returns the recorded key (a
    concurrent first use may have won: the caller compares)."""
    from sqlalchemy.exc import IntegrityError

    try:
        with store.begin() as conn:
            conn.execute(insert(console_ssh_host_keys).values(host=host, address=address, port=port, key=key,
                                                              fingerprint=fingerprint, recorded_at=at))
    except IntegrityError:
        pass
    return pinned_key(store, host) or key


def forget_key(store: Store, host: str) -> bool:
    with store.begin() as conn:
        result = conn.execute(delete(console_ssh_host_keys).where(console_ssh_host_keys.c.host == host))
    return bool(result.rowcount)
