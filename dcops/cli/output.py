"""Table rendering for people at a terminal (JSON is rendered in ``common.emit``)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from dcops.report import Report, jsonable
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


def render_table(report: Report) -> None:
    console = Console(file=sys.stdout, soft_wrap=True, highlight=False,
                      width=None if sys.stdout.isatty() else 200)
    if report.text:
        console.print(safe(redact(report.text), limit=200_000, lines=True), markup=False)
    if report.columns:
        table = Table(title=report.title, box=None, pad_edge=False, header_style="bold")
        for column in report.columns:
            table.add_column(column.header, overflow="fold")
        for item in report.items:
            table.add_row(*(safe(redact(_cell(item.get(c.key)))) for c in report.columns))
        if report.items:
            console.print(table)
    if report.summary:
        line = "  ".join(f"{k}={_cell(v)}" for k, v in report.summary.items())
        console.print(safe(redact(line)), markup=False, style="dim" if sys.stdout.isatty() else None)
