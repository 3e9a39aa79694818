"""``dcops audit list``: read the append-only audit log."""

from __future__ import annotations

import datetime as dt

import click

from dcops.cli.common import emit, global_options, open_state
from dcops.cli.selection import honours_limit, record_matcher
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
@honours_limit
def list_entries(host: str | None, action: str | None, since: str | None, rows: int) -> None:
    """List audit entries, newest first."""
    after = dt.datetime.now(dt.UTC) - parse_duration(since) if since else None
    keep = record_matcher()
    store = open_state()
    try:
        # --limit is judged here, not in SQL: read more until `rows` entries pass or the log ends.
        fetch = rows
        while True:
            found = query(store, host=host, action=action, since=after, limit=fetch)
            entries = [e for e in found if keep(e.host, None)][:rows]
            if len(entries) >= rows or len(found) < fetch:
                break
            fetch *= 4
    finally:
        store.close()
    items = [{"id": e.id, "at": e.at, "actor": e.actor, "host": e.host, "action": e.action, "result": e.result,
              "before": e.before, "after": e.after, "details": e.details, "run_id": e.run_id} for e in entries]
    emit(Report(
        kind="audit.list",
        items=items,
        columns=[Column("at", "WHEN"), Column("actor", "WHO"), Column("host", "HOST"), Column("action", "ACTION"),
                 Column("result", "RESULT"), Column("details", "DETAILS")],
        summary={"entries": len(items)},
    ))
