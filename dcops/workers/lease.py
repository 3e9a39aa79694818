"""The ``patrol_workers`` table (migration ``m0021_patrol_workers``) and its queries.

Every time here is the **database's** clock (``clock_timestamp()``), never a worker's: workers on
three sites with three clocks agree on one epoch grid and one notion of "expired". PostgreSQL
only; ``require_postgres`` says so to whoever tries SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    text,
    update,
)

from dcops.errors import UsageError
from dcops.processes import pid_alive

metadata = MetaData()
workers = Table(
    "patrol_workers", metadata,
    Column("name", String(100), primary_key=True),
    Column("sites", JSON),
    Column("process", String(200), nullable=False),
    Column("interval_seconds", Float, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("epoch", BigInteger),
    Column("hosts", Integer, nullable=False),
    Column("units", Integer, nullable=False),
)

# pg_advisory_lock key of the convergence section of a round ("dcwk"): one worker at a time loads
# the shared convergence state, applies its shard's checks and saves, so two workers never open
# the same incident or hand out the same incident id.
CONVERGE_LOCK_KEY = 0x6463_776B
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class LeaseHeld(UsageError):
    """Another live process holds the worker name."""


def require_postgres(store: Any) -> None:
    if store.dialect != "postgresql":
        raise UsageError(
            f"--worker needs a shared PostgreSQL state store (state: postgresql://...); {store.url} is "
            f"{store.dialect}: SQLite is the single-machine default and cannot be shared by workers "
            "(run one `dcops serve` without --worker instead)")


def check_name(name: str) -> str:
    if not name or len(name) > 100 or not set(name) <= NAME_CHARS:
        raise UsageError(f"--worker {name!r}: a worker name is 1-100 letters, digits, '-', '_' or '.'")
    return name


def process_id() -> str:
    """This process, as other workers and ``release_dead`` see it: host:pid."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def held_elsewhere(process: str, mine: str) -> bool:
    """Whether a lease's process is a live other process (on this machine: its PID runs; on
    another machine: we cannot tell, so yes until the lease expires)."""
    if process == mine:
        return False
    host, _, pid = process.rpartition(":")
    here = mine.rpartition(":")[0]
    if host == here and pid.isdigit():
        return pid_alive(int(pid)) and int(pid) != os.getpid()
    return True


def db_now(conn: Any) -> dt.datetime:
    return conn.execute(select(text("clock_timestamp()"))).scalar_one()  # type: ignore[no-any-return]


def register(store: Any, name: str, sites: Sequence[str], *, ttl: float, interval: float,
             process: str) -> dt.datetime:
    """Take (or renew) the lease of ``name``; returns the database time. A lease still valid keeps
    its ``registered_at`` (a quick restart stays a member without a gap); an expired one starts
    afresh (it counts from the next epoch on). Raises ``LeaseHeld`` when another live process
    holds the name."""
    with store.begin() as conn:
        now = db_now(conn)
        row = conn.execute(select(workers).where(workers.c.name == name).with_for_update()).first()
        until = now + dt.timedelta(seconds=ttl)
        values = {"sites": sorted(sites), "process": process, "interval_seconds": interval, "heartbeat_at": now,
                  "expires_at": until}
        if row is None:
            conn.execute(workers.insert().values(name=name, registered_at=now, hosts=0, units=0, **values))
        else:
            valid = row.expires_at > now
            if valid and held_elsewhere(row.process, process):
                raise LeaseHeld(f"--worker {name}: the name is held by {row.process} until "
                                f"{row.expires_at.isoformat(timespec='seconds')} (two workers cannot share a name)")
            fresh = {} if valid else {"registered_at": now, "epoch": None}
            conn.execute(update(workers).where(workers.c.name == name).values(**values, **fresh))
    return now  # type: ignore[no-any-return]


def heartbeat(store: Any, name: str, *, ttl: float, process: str) -> dt.datetime | None:
    """Extend our lease; the database time, or None when the row is no longer ours."""
    with store.begin() as conn:
        now = db_now(conn)
        done = conn.execute(update(workers).where(workers.c.name == name, workers.c.process == process)
                            .values(heartbeat_at=now, expires_at=now + dt.timedelta(seconds=ttl)))
    return now if done.rowcount else None  # type: ignore[no-any-return]


def leave(store: Any, name: str, *, process: str, at: dt.datetime) -> None:
    """End our lease at ``at`` (the end of the current epoch: the others take over from the next
    one, and nobody reads our racks twice in this one)."""
    with store.begin() as conn:
        conn.execute(update(workers).where(workers.c.name == name, workers.c.process == process)
                     .values(expires_at=at))


def record(store: Any, name: str, *, process: str, epoch: int, hosts: int, units: int) -> None:
    with store.begin() as conn:
        conn.execute(update(workers).where(workers.c.name == name, workers.c.process == process)
                     .values(epoch=epoch, hosts=hosts, units=units))


def leases(store: Any) -> tuple[dt.datetime, list[dict[str, Any]]]:
    """The database time and every lease row, with times also as Unix seconds (``ring.members_at``)."""
    with store.connect() as conn:
        now = db_now(conn)
        rows = [dict(r._mapping) for r in conn.execute(select(workers).order_by(workers.c.name))]
    for row in rows:
        row["sites"] = list(row.get("sites") or [])
        row["registered_at"] = row["registered_at"].timestamp()
        row["expires_at"] = row["expires_at"].timestamp()
        row["heartbeat_at"] = row["heartbeat_at"].timestamp()
    return now, rows


def forget(store: Any, name: str) -> bool:
    """Drop a worker's row (``dcops serve --worker`` never does; for a decommissioned worker)."""
    with store.begin() as conn:
        return bool(conn.execute(delete(workers).where(workers.c.name == name)).rowcount)


@contextmanager
def converge_lock(store: Any, timeout: float) -> Iterator[None]:
    """Hold the convergence lock (a session advisory lock on a connection of its own) for the
    block. A worker killed while holding it loses its connection, and PostgreSQL drops the lock
    with it. Waiting longer than ``timeout`` raises (the round fails, the next one retries)."""
    with store.engine.connect() as conn:
        with conn.begin():
            conn.execute(text(f"SET LOCAL statement_timeout = {int(max(1.0, timeout) * 1000)}"))
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": CONVERGE_LOCK_KEY})
        try:
            yield
        finally:
            with conn.begin():
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": CONVERGE_LOCK_KEY})
