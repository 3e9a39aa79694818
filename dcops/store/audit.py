"""The append-only audit log: who did what, when, to which host, with the before and after.

Every value passes through ``dcops.secrets.redact`` before it is written, so a password that
reached a before/after value by mistake never lands in the store.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dcops.config import actor as current_actor
from dcops.config import on_behalf_of as current_principal
from dcops.report import jsonable
from dcops.secrets import redact
from dcops.store.db import Store
from dcops.store.schema import audit_log


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    host: str | None
    action: str
    result: str
    before: Any
    after: Any
    details: str | None
    run_id: str | None
    on_behalf_of: str | None = None


def _scrub(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(redact(json.dumps(jsonable(value), default=str)))


def record(
    store: Store,
    action: str,
    *,
    host: str | None = None,
    result: str = "ok",
    before: Any = None,
    after: Any = None,
    details: str | None = None,
    run_id: str | None = None,
    actor: str | None = None,
    at: dt.datetime | None = None,
    on_behalf_of: str | None = None,
) -> int:
    """Append one entry; returns its id. ``action`` is dotted (``inventory.import``, ``power.off``).
    ``actor`` defaults to the OS user, ``on_behalf_of`` to ``$DCOPS_ACTOR``."""
    principal = on_behalf_of or current_principal()
    with store.begin() as conn:
        row = conn.execute(audit_log.insert().values(
            at=at or dt.datetime.now(dt.UTC),
            actor=redact(actor or current_actor()),
            host=host,
            action=action,
            result=result,
            before=_scrub(before),
            after=_scrub(after),
            details=redact(details) if details else None,
            run_id=run_id,
            on_behalf_of=redact(principal) if principal else None,
        ))
        return int(row.inserted_primary_key[0])  # type: ignore[index]


def query(
    store: Store,
    *,
    host: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries newest first, filtered by host, action prefix (``power`` matches ``power.off``) and time."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if host:
        stmt = stmt.where(audit_log.c.host == host)
    if action:
        stmt = stmt.where((audit_log.c.action == action) | audit_log.c.action.like(f"{action}.%"))
    if since:
        stmt = stmt.where(audit_log.c.at >= since)
    with store.connect() as conn:
        rows = conn.execute(stmt).all()
    entries = []
    for r in rows:
        at = r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.UTC)  # SQLite drops the zone
        entries.append(AuditEntry(r.id, at, r.actor, r.host, r.action, r.result, r.before, r.after,
                                  r.details, r.run_id, r.on_behalf_of))
    return entries
