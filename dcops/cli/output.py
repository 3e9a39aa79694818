"""Table rendering for people at a terminal (JSON is rendered in ``common.emit``)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from dcops.report import Report, jsonable
from dcops.secrets import redact


def _cell(value: Any) -> str:
    value = jsonable(value)
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def stored_time(value: Any) -> Any:
    """A time read back from the state store, with its zone: dcops stores UTC, and SQLite drops the
    zone on the way back (PostgreSQL keeps it). Anything else is returned as is."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def short_time(value: Any) -> str:
    """``12-07 06:45`` in local time, for a table column; JSON keeps the full ISO 8601 time."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone().strftime("%m-%d %H:%M") if isinstance(value, dt.datetime) else "-"


def render_table(report: Report) -> None:
    console = Console(file=sys.stdout, soft_wrap=True, highlight=False,
                      width=None if sys.stdout.isatty() else 200)
    if report.text:
        console.print(redact(report.text), markup=False)
    if report.columns:
        table = Table(title=report.title, box=None, pad_edge=False, header_style="bold")
        for column in report.columns:
            table.add_column(column.header, overflow="fold")
        for item in report.items:
            table.add_row(*(redact(c.fmt(item.get(c.key)) if c.fmt else _cell(item.get(c.key)))
                            for c in report.columns))
        if report.items:
            console.print(table)
    if report.summary:
        line = "  ".join(f"{k}={_cell(v)}" for k, v in report.summary.items())
        console.print(redact(line), markup=False, style="dim" if sys.stdout.isatty() else None)
