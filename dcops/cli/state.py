"""``dcops state info|migrate``: the state store itself."""

from __future__ import annotations

import click

from dcops.cli.common import emit, global_options, settings
from dcops.report import Column, Report
from dcops.store import open_store, redacted_url
from dcops.store.migrations import LATEST, MIGRATIONS


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
        applied = {row["version"]: row for row in store.applied()} if store.version() else {}
        items = [{"version": m.version, "description": m.description,
                  "applied_at": applied[m.version]["applied_at"] if m.version in applied else None}
                 for m in MIGRATIONS]
        current = store.version()
    finally:
        store.close()
    emit(Report(
        kind="state.info",
        items=items,
        columns=[Column("version", "VERSION"), Column("description", "MIGRATION"), Column("applied_at", "APPLIED")],
        summary={"url": redacted_url(url), "dialect": store.dialect, "version": current, "latest": LATEST,
                 "pending": LATEST - current},
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
        current = store.version()
    finally:
        store.close()
    emit(Report(kind="state.migrate", items=[{"version": v} for v in done],
                columns=[Column("version", "APPLIED")],
                summary={"url": redacted_url(url), "version": current, "applied": len(done)}))
