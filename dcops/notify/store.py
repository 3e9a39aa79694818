"""The notification outbox in the state store (table ``patrol_outbox``, migrations ``m0003_patrol``
and ``m0007_outbox_lease``): what is due, claims with a lease, delivered / failed / given up.

Capabilities that notify (patrol's incidents, assets' warranty reminders) insert rows into
``outbox`` in the same transaction as the change that causes them; ``dcops.notify.outbox``
delivers them. The table keeps its historical ``patrol_`` name: renaming it would be a migration
for no behaviour.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
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

from dcops.store.db import Store

metadata = MetaData()


def _id() -> Column:  # type: ignore[type-arg]
    return Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)


outbox = Table(
    "patrol_outbox", metadata, _id(),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("incident", BigInteger().with_variant(Integer, "sqlite")),
    Column("receiver", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("given_up_at", DateTime(timezone=True)),
    Column("last_error", Text),
    # m0007: who is sending the row, until when (see claim_next).
    Column("claimed_by", String(100)),
    Column("claimed_until", DateTime(timezone=True)),
)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back without their zone: they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def due_notifications(store: Store, now: dt.datetime, limit: int = 200) -> list[dict[str, Any]]:
    stmt = (select(outbox).where(outbox.c.delivered_at.is_(None), outbox.c.given_up_at.is_(None),
                                 outbox.c.next_attempt_at <= now).order_by(outbox.c.id).limit(limit))
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _claimable(now: dt.datetime) -> Any:
    return and_(outbox.c.delivered_at.is_(None), outbox.c.given_up_at.is_(None),
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now))


def due_receivers(store: Store, now: dt.datetime) -> list[str]:
    """Receivers with rows due now and not claimed by a live deliverer."""
    stmt = (select(outbox.c.receiver).where(_claimable(now), outbox.c.next_attempt_at <= now)
            .group_by(outbox.c.receiver).order_by(outbox.c.receiver))
    with store.connect() as conn:
        return [str(r[0]) for r in conn.execute(stmt)]


def claim_next(store: Store, *, receiver: str, now: dt.datetime, owner: str,
               until: dt.datetime) -> dict[str, Any] | None:
    """Claim the oldest due row of ``receiver`` for ``owner`` until ``until``; None when there is
    none. One atomic UPDATE: on PostgreSQL the candidate is picked ``FOR UPDATE SKIP LOCKED`` (two
    deliverers take different rows, neither waits), on SQLite the write transaction is exclusive.
    The WHERE is repeated on the row itself, so a row claimed in between is not taken twice."""
    due = and_(_claimable(now), outbox.c.next_attempt_at <= now, outbox.c.receiver == receiver)
    pick = (select(outbox.c.id).where(due).order_by(outbox.c.id).limit(1)
            .with_for_update(skip_locked=True).scalar_subquery())
    stmt = (update(outbox).where(outbox.c.id == pick, due)
            .values(claimed_by=owner, claimed_until=until).returning(*outbox.c))
    with store.begin() as conn:
        row = conn.execute(stmt).first()
    return dict(row._mapping) if row is not None else None


def live_claimants(store: Store, now: dt.datetime) -> list[str]:
    """Who holds unexpired claims on undelivered rows."""
    stmt = (select(outbox.c.claimed_by).where(outbox.c.delivered_at.is_(None), outbox.c.claimed_until >= now,
                                              outbox.c.claimed_by.is_not(None)).group_by(outbox.c.claimed_by))
    with store.connect() as conn:
        return [str(r[0]) for r in conn.execute(stmt)]


def release_claims(store: Store, owner: str) -> int:
    """Drop the claims of a deliverer known to be dead (its rows are sent by the next one)."""
    with store.begin() as conn:
        done = conn.execute(update(outbox).where(outbox.c.claimed_by == owner, outbox.c.delivered_at.is_(None))
                            .values(claimed_by=None, claimed_until=None))
    return int(done.rowcount or 0)


def claim_row(store: Store, item_id: int, *, now: dt.datetime, owner: str, until: dt.datetime) -> bool:
    """Claim one given row whatever its back-off (someone asked to send it now); False when it is
    delivered, given up, or claimed by a live deliverer."""
    with store.begin() as conn:
        done = conn.execute(update(outbox).where(outbox.c.id == item_id, _claimable(now))
                            .values(claimed_by=owner, claimed_until=until))
    return bool(done.rowcount)


def mark_delivered(store: Store, ids: Sequence[int], now: dt.datetime) -> None:
    if not ids:
        return
    with store.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id.in_(list(ids))).values(
            delivered_at=now, last_error=None, claimed_by=None, claimed_until=None))


def delivered_since(store: Store, since: dt.datetime) -> dict[str, int]:
    """Receiver -> notifications delivered to it since ``since`` (for its rate limit)."""
    stmt = (select(outbox.c.receiver, func.count()).where(outbox.c.delivered_at >= since)
            .group_by(outbox.c.receiver))
    with store.connect() as conn:
        return {str(r[0]): int(r[1]) for r in conn.execute(stmt)}


def defer(store: Store, ids: Sequence[int], until: dt.datetime) -> None:
    """Rate-limited rows wait in the outbox until ``until`` (not a failure: attempts unchanged)."""
    if not ids:
        return
    with store.begin() as conn:
        # A deferred row is nobody's any more: its claim goes too, so it is due again at ``until``.
        conn.execute(update(outbox).where(outbox.c.id.in_(list(ids)))
                     .values(next_attempt_at=until, claimed_by=None, claimed_until=None))


def mark_failed(store: Store, item_id: int, *, attempts: int, next_at: dt.datetime, error: str,
                give_up: bool = False, now: dt.datetime | None = None) -> None:
    with store.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == item_id).values(
            attempts=attempts, next_attempt_at=next_at, last_error=error[:2000],
            given_up_at=now if give_up else None, claimed_by=None, claimed_until=None))


def outbox_counts(store: Store) -> dict[str, int]:
    with store.connect() as conn:
        pending = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.delivered_at.is_(None), outbox.c.given_up_at.is_(None))).scalar_one()
        failed = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.given_up_at.is_not(None))).scalar_one()
        delivered = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.delivered_at.is_not(None))).scalar_one()
    return {"pending": int(pending), "given_up": int(failed), "delivered": int(delivered)}


def outbox_items(store: Store, incident_id: int | None = None) -> list[dict[str, Any]]:
    stmt = select(outbox).order_by(outbox.c.id)
    if incident_id is not None:
        stmt = stmt.where(outbox.c.incident == incident_id)
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
