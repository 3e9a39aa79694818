"""``dcops audit list``: read the append-only audit log."""

from __future__ import annotations

import datetime as dt

import click

from dcops.cli.common import emit, global_options, open_state
from dcops.report import Column, Report
from dcops.store.audit import query
from dcops.timeparse import parse_duration


@click.group()
@global_options
def audit() -> None:
    """The audit log: who changed what, when, on which host."""


@audit.command("list")
@click.option("--host", help="Only entries about this host.")
@click.option("--action", help="Only this action or its sub-actions (e.g. 'power' matches 'power.off').")
@click.option("--since", help="Only entries newer than this (e.g. 24h, 7d).")
@click.option("--rows", type=click.IntRange(1, 100000), default=100, show_default=True, help="At most this many entries.")
@global_options
def list_entries(host: str | None, action: str | None, since: str | None, rows: int) -> None:
    """List audit entries, newest first."""
    after = dt.datetime.now(dt.UTC) - parse_duration(since) if since else None
    store = open_state()
    try:
        entries = query(store, host=host, action=action, since=after, limit=rows)
    finally:
        store.close()
    items = [{"id": e.id, "at": e.at, "actor": e.actor, "on_behalf_of": e.on_behalf_of, "host": e.host, "action": e.action, "result": e.result,
              "before": e.before, "after": e.after, "details": e.details, "run_id": e.run_id} for e in entries]
    emit(Report(
        kind="audit.list",
        items=items,
        columns=[Column("at", "WHEN"), Column("actor", "WHO"), Column("on_behalf_of", "FOR"),
                 Column("host", "HOST"), Column("action", "ACTION"),
                 Column("result", "RESULT"), Column("details", "DETAILS")],
        summary={"entries": len(items)},
    ))
