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


def _anchor(text: str) -> tuple[int, str]:
    seq, sep, digest = text.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise click.BadParameter(f"{text!r}: expected SEQ:HASH as `dcops audit verify` prints it")
    return int(seq), digest


@audit.command("verify")
@click.option("--anchor", "anchors", multiple=True, metavar="SEQ:HASH",
              help="A head noted earlier (in a ticket, another system): the log must still pass through it. "
                   "Catches a log rewritten from scratch, which the chain alone cannot.")
@global_options
def verify_log(anchors: tuple[str, ...]) -> None:
    """Check the audit log's hash chain: no entry deleted, altered or forged since it was written.

    Exit 1 when the chain is broken (each break on stderr), 0 when it is intact. Also lists actions
    whose outcome was never written (started, outcome unknown: the process died mid-action) and
    guards that are missing or that the connecting role could lift.
    """
    from dcops.errors import ExitCode
    from dcops.store.audit import verify

    wanted = dict(_anchor(a) for a in anchors)
    store = open_state()
    try:
        found = verify(store, anchors=wanted)
    finally:
        store.close()
    head = f"{found.head[0]}:{found.head[1]}" if found.head else None
    report = Report(
        kind="audit.verify",
        items=[{"id": e.id, "at": e.at, "actor": e.actor, "host": e.host, "action": e.action, "result": "outcome unknown",
                "details": e.details} for e in found.unfinished],
        columns=[Column("at", "STARTED"), Column("actor", "WHO"), Column("host", "HOST"), Column("action", "ACTION"),
                 Column("result", "RESULT")],
        summary={"entries": found.entries, "intact": found.intact, "head": head, "problems": len(found.problems),
                 "warnings": found.warnings, "outcome_unknown": len(found.unfinished)},
    )
    for problem in found.problems:
        report.note(ExitCode.FINDINGS, f"audit log tampered: {problem}")
    for warning in found.warnings:
        report.problems.append(f"warning: {warning}")
    emit(report)
