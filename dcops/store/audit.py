"""The append-only audit log: who did what, when, to which host, with the before and after.

Every value passes through ``dcops.secrets.redact`` before it is written, so a password that
reached a before/after value by mistake never lands in the store.

Entries are hash-chained (``store/chain.py``): ``record`` appends under a lock on the head row,
so entries get consecutive seq numbers and each names its predecessor's hash; ``verify`` walks
the chain and reports a deleted, altered or forged entry. An action that changes something writes
its intent first (``start``: result "started") and its outcome after (``finish``, naming the
intent), so a crash in between leaves "started, outcome unknown", never nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from dcops.config import actor as current_actor
from dcops.config import on_behalf_of as current_principal
from dcops.errors import StateStoreError
from dcops.report import jsonable
from dcops.secrets import redact
from dcops.store.chain import ChainCheck, entry_hash
from dcops.store.db import Store
from dcops.store.schema import audit_head, audit_log

STARTED = "started"


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
    seq: int | None = None
    intent_id: int | None = None
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
    intent_id: int | None = None,
    on_behalf_of: str | None = None,
) -> int:
    """Append one chained entry; returns its id. ``action`` is dotted (``inventory.import``,
    ``power.off``).

    Raises ``StateStoreError`` when the chain's head is gone (someone deleted it): the entry
    would start a chain nobody can verify, and the action it records must not go ahead unaudited.
    ``actor`` defaults to the OS user, ``on_behalf_of`` to ``$DCOPS_ACTOR`` (recorded beside the
    actor, never instead of it).
    """
    principal = on_behalf_of or current_principal()
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    content = {
        "at": when, "actor": redact(actor or current_actor()), "host": host, "action": action,
        "result": result, "before": _scrub(before), "after": _scrub(after),
        "details": redact(details) if details else None, "run_id": run_id, "intent_id": intent_id,
        "on_behalf_of": redact(principal) if principal else None,
    }
    with store.begin() as conn:
        # The head row's lock orders appends: each entry's seq and prev_hash are the head's.
        head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
                            .with_for_update()).first()
        if head is None:
            raise StateStoreError(f"state store {store.url}: the audit log's head is missing (deleted?); "
                                  "nothing is recorded until it is repaired: run `dcops audit verify`")
        seq = int(head.seq) + 1
        digest = entry_hash(content, seq, head.hash)
        row = conn.execute(audit_log.insert().values(**content, seq=seq, prev_hash=head.hash, hash=digest))
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, hash=digest))
        return int(row.inserted_primary_key[0])  # type: ignore[index]


def start(store: Store, action: str, *, host: str | None = None, before: Any = None,
          details: str | None = None, run_id: str | None = None) -> int:
    """Write the intent of an action before it runs; returns the id ``finish`` names."""
    return record(store, action, host=host, result=STARTED, before=before, details=details, run_id=run_id)


def finish(store: Store, intent: int, action: str, *, host: str | None = None, result: str = "ok",
           before: Any = None, after: Any = None, details: str | None = None,
           run_id: str | None = None) -> int:
    """Write the outcome of the action whose intent is ``intent``."""
    return record(store, action, host=host, result=result, before=before, after=after, details=details,
                  run_id=run_id, intent_id=intent)


def open_intent(store: Store, action: str, host: str | None) -> int | None:
    """The newest "started" entry of ``action`` on ``host`` that no outcome names yet (a run that
    resumes an interrupted action closes the intent the interrupted run wrote), or None."""
    closed = select(audit_log.c.intent_id).where(audit_log.c.intent_id.is_not(None)).scalar_subquery()
    stmt = (select(audit_log.c.id).where(audit_log.c.action == action, audit_log.c.result == STARTED,
                                         audit_log.c.id.not_in(closed))
            .order_by(audit_log.c.id.desc()).limit(1))
    stmt = stmt.where(audit_log.c.host == host) if host is not None else stmt.where(audit_log.c.host.is_(None))
    with store.connect() as conn:
        found = conn.execute(stmt).scalar()
    return int(found) if found is not None else None


@dataclass
class Verification:
    """What ``verify`` found: the entries read, the head, tampering (``problems``), weaknesses
    that are not tampering (``warnings``) and intents whose outcome was never written."""

    entries: int
    head: tuple[int, str] | None
    problems: list[str]
    warnings: list[str]
    unfinished: list[AuditEntry]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(store: Store, *, anchors: dict[int, str] | None = None) -> Verification:
    """Walk the chain and check the head, the anchors (seq -> hash noted earlier, e.g. in a
    ticket or another system) and the guards that keep the log append-only."""
    anchors = anchors or {}
    check = ChainCheck()
    with store.connect() as conn:
        head_row = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
        result = conn.execute(select(audit_log).order_by(audit_log.c.seq.nulls_first(), audit_log.c.id)
                              .execution_options(yield_per=2000))
        for row in result.mappings():
            check.feed(row, keep=set(anchors))
        closed = {r[0] for r in conn.execute(select(audit_log.c.intent_id).where(audit_log.c.intent_id.is_not(None)))}
        started = conn.execute(select(audit_log).where(audit_log.c.result == STARTED).order_by(audit_log.c.id)).all()
        warnings = _guard_warnings(conn, store.dialect)
    head = (int(head_row.seq), str(head_row.hash)) if head_row is not None else None
    problems = check.problems(head)
    for seq, digest in sorted(anchors.items()):
        if seq not in check.hashes:
            problems.append(f"anchor {seq}: entry {seq} is not in the log")
        elif check.hashes[seq] != digest:
            problems.append(f"anchor {seq}: entry {seq} has hash {check.hashes[seq][:16]}..., not the "
                            f"anchored {digest[:16]}... (the log was rewritten)")
    unfinished = [_entry(r) for r in started if r.id not in closed]
    return Verification(check.entries, head, problems, warnings, unfinished)


def _guard_warnings(conn: Any, dialect: str) -> list[str]:
    """The guards that make the log append-only, and whether dcops runs as a role that could lift
    them. A missing guard is a warning here (the chain says whether anything was actually
    erased)."""
    found: list[str] = []
    if dialect == "sqlite":
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
        for name in ("audit_log_no_update", "audit_log_no_delete", "audit_head_no_delete", "audit_head_forward"):
            if name not in names:
                found.append(f"trigger {name} is missing (dropped): the log can be rewritten")
        return found
    rows = conn.execute(text(
        "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid IN ('audit_log'::regclass, 'audit_head'::regclass) "
        "AND NOT tgisinternal")).all()
    states = {r[0]: r[1] for r in rows}
    for name in ("audit_log_append_only", "audit_log_no_truncate", "audit_head_forward", "audit_head_no_truncate"):
        if name not in states:
            found.append(f"trigger {name} is missing (dropped): the log can be rewritten")
        elif states[name] == "D":
            found.append(f"trigger {name} is disabled: the log can be rewritten")
    owner = conn.execute(text(
        "SELECT pg_get_userbyid(relowner) = current_user, "
        "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
        "FROM pg_class WHERE oid = 'audit_log'::regclass")).first()
    if owner is not None and (owner[0] or owner[1]):
        found.append("dcops connects as the owner of audit_log or a superuser, which can disable its triggers: "
                     "run dcops as a separate role (`dcops state grant ROLE` as the owner)")
    return found


def _entry(r: Any) -> AuditEntry:
    at = r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.UTC)  # SQLite drops the zone
    return AuditEntry(r.id, at, r.actor, r.host, r.action, r.result, r.before, r.after, r.details, r.run_id,
                      r.seq, r.intent_id, r.on_behalf_of)


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
    return [_entry(r) for r in rows]
