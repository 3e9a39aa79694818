"""``dcops state info|migrate``: the state store itself."""

from __future__ import annotations

import click

from dcops.cli.common import emit, global_options, settings
from dcops.cli.output import stored_time
from dcops.report import Column, Report
from dcops.store import open_store, redacted_url
from dcops.store.migrations import MIGRATIONS


@click.group()
@global_options
def state() -> None:
    """The state store (SQLite by default, PostgreSQL by URL)."""


@state.command("info")
@global_options
def info() -> None:
    """Show where the store is and which schema migrations it has."""
    url = settings().state or ""
    store = open_store(url, migrate=False)
    try:
        applied = {row["id"]: row for row in store.applied()}
    finally:
        store.close()
    items = [{"id": m.id, "description": m.description,
              "applied_at": stored_time(applied[m.id]["applied_at"]) if m.id in applied else None}
             for m in MIGRATIONS]
    unknown = sorted(set(applied) - {m.id for m in MIGRATIONS})
    items += [{"id": i, "description": "unknown to this dcops (newer)", "applied_at": stored_time(applied[i]["applied_at"])}
              for i in unknown]
    emit(Report(
        kind="state.info",
        items=items,
        columns=[Column("id", "MIGRATION"), Column("description", "WHAT"), Column("applied_at", "APPLIED")],
        summary={"url": redacted_url(url), "dialect": store.dialect, "applied": len(applied),
                 "pending": sum(1 for m in MIGRATIONS if m.id not in applied), "unknown": len(unknown)},
    ))


@state.command("migrate")
@global_options
def migrate() -> None:
    """Create the store if needed and apply pending migrations (every command does this too)."""
    from dcops.store.db import migrate_store

    url = settings().state or ""
    store = open_store(url, migrate=False)
    try:
        done = migrate_store(store)
        total = len(store.applied())
    finally:
        store.close()
    emit(Report(kind="state.migrate", items=[{"id": i} for i in done],
                columns=[Column("id", "APPLIED NOW")],
                summary={"url": redacted_url(url), "applied_now": len(done), "applied_total": total}))


@state.command("grant")
@click.argument("role")
@global_options
def grant(role: str) -> None:
    """Let ROLE run dcops against this PostgreSQL store without owning it (run as the owner).

    ROLE gets read/write on the working tables and only SELECT and INSERT on the audit log, so it
    cannot TRUNCATE, DROP or disable the log's triggers; later migrations extend the grant to the
    tables they add. Point every other dcops at the store as ROLE.
    """
    from dcops.store.roles import grant_runtime

    url = settings().state or ""
    store = open_store(url)
    try:
        grant_runtime(store, role)
    finally:
        store.close()
    emit(Report(kind="state.grant", items=[{"role": role}], columns=[Column("role", "RUNTIME ROLE")],
                summary={"url": redacted_url(url), "role": role}))
