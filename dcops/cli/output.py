"""Rendering a report for people (table, wide, csv) and for programs (yaml; json is in
``common.render``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from dcops.cli.layout import cut, fit_widths
from dcops.report import Column, Report, jsonable
from dcops.secrets import redact
from dcops.terminal import safe


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


FORMATS = ("table", "wide", "json", "yaml", "csv")
STRUCTURED = ("json", "yaml")  # the contract's shape (docs/output.md); the others are for reading


def available_columns(report: Report) -> list[Column]:
    """The report's columns, then every other item field whose values are scalars (what ``wide``
    shows and ``--columns`` may name)."""
    columns = list(report.columns)
    known = {c.key for c in columns}
    for item in report.items:
        for key, value in item.items():
            if key not in known and not isinstance(value, (dict, list, tuple)):
                known.add(key)
                columns.append(Column(key, key.upper()))
    return columns


def pick_columns(report: Report, names: Sequence[str], *, wide: bool) -> list[Column]:
    """The columns to show: those named (by key or header, any case), else all for ``wide``, else
    the report's own. Unknown names are warned about on stderr, naming the ones available."""
    available = available_columns(report)
    if not names:
        return available if wide else list(report.columns)
    by_name = {c.key.lower(): c for c in available} | {c.header.lower(): c for c in available}
    chosen = [by_name[n.lower()] for n in names if n.lower() in by_name]
    unknown = [n for n in names if n.lower() not in by_name]
    if unknown and report.items:
        sys.stderr.write(f"dcops: warning: no column {', '.join(repr(n) for n in unknown)}; "
                         f"columns: {', '.join(c.key for c in available)}\n")
    return chosen or list(report.columns)


def _width() -> int | None:
    """The width to fit: the terminal's; else $COLUMNS when set; else none (piped output is
    neither truncated nor wrapped)."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    text = os.environ.get("COLUMNS", "")
    return int(text) if text.isdigit() and int(text) > 0 else None


def render_table(report: Report, *, wide: bool = False, columns: Sequence[str] = ()) -> None:
    """A table for people. ``table`` fits the terminal: cells too long are cut with ``…``, never
    wrapped mid token; ``wide`` shows every scalar field and cuts nothing."""
    width = None if wide else _width()
    console = Console(file=sys.stdout, soft_wrap=True, highlight=False, width=width or 100_000)
    if report.text:
        console.print(safe(redact(report.text), limit=200_000, lines=True), markup=False)
    shown = pick_columns(report, columns, wide=wide)
    if shown:
        rows = [[safe(redact(c.fmt(item.get(c.key)) if c.fmt else _cell(item.get(c.key)))) for c in shown]
                for item in report.items]
        natural = [max([len(c.header), *(len(r[i]) for r in rows)]) for i, c in enumerate(shown)]
        # The first column names the row (a host, an incident): it is cut last.
        floors = [24 if i == 0 else 6 for i in range(len(shown))]
        widths = fit_widths(natural, floors, width)
        table = Table(title=report.title, box=None, pad_edge=False, header_style="bold")
        for column, size in zip(shown, widths, strict=True):
            table.add_column(cut(column.header, size), no_wrap=True, width=size)
        for row in rows:
            table.add_row(*(cut(cell, size) for cell, size in zip(row, widths, strict=True)))
        if report.items:
            console.print(table)
    if report.summary:
        line = "  ".join(f"{k}={_cell(v)}" for k, v in report.summary.items())
        # Wrapped between k=v pairs when the terminal is narrow, never inside one.
        console.print(safe(redact(line)), markup=False, soft_wrap=width is None,
                      style="dim" if sys.stdout.isatty() else None)


def render_csv(report: Report, columns: Sequence[str] = ()) -> None:
    """RFC 4180 CSV of the table's rows: a header of column keys, then one row per item."""
    shown = pick_columns(report, columns, wide=False) or available_columns(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in shown])
    for item in report.items:
        writer.writerow([safe(redact("" if item.get(c.key) is None else
                                (c.fmt(item.get(c.key)) if c.fmt else _cell(item.get(c.key))))) for c in shown])
    sys.stdout.write(out.getvalue())


def render_yaml(report: Report) -> None:
    """The JSON envelope as YAML (same keys, same values)."""
    import yaml

    sys.stdout.write(redact(yaml.safe_dump(report.to_json(), sort_keys=False, allow_unicode=True,
                                           default_flow_style=False)))
