"""Read a legacy asset book (CSV or XLSX) into rows of cells, as the mapping says.

The only module of the importer that touches files. Cells keep their type as the file gives it
(XLSX: str, int, float, datetime; CSV: str); the importer converts them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcops.errors import InvalidInputError, Problem
from dcops.inventory.mapping import ImportMapping


@dataclass
class Table:
    """A book's header and data rows; each row has its 1-based row number in the file."""

    file: str
    headers: list[str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def book_format(path: Path, mapping: ImportMapping) -> str:
    """``csv`` or ``xlsx``: the mapping's ``source.format``, else the file's extension."""
    if mapping.format:
        return mapping.format
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    raise InvalidInputError(f"{path}: cannot tell the format from the extension; set source.format in the mapping")


def _headers(raw: list[Any], file: str, row: int) -> list[str]:
    headers = [("" if h is None else str(h)).strip() for h in raw]
    seen: set[str] = set()
    for name in headers:
        if name and name in seen:
            raise InvalidInputError(f"{file}: column '{name}' appears twice in the header",
                                    [Problem(file, row, f"column '{name}' appears twice in the header (row {row})")])
        seen.add(name)
    return headers


def _blank(values: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_csv(path: Path, mapping: ImportMapping) -> Table:
    """Read a CSV book; raises ``InvalidInputError`` when it cannot be decoded or has no header."""
    name = str(path)
    data = path.read_bytes()
    try:
        text = data.decode(mapping.encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problem = Problem(name, line, f"cannot decode as {mapping.encoding} (byte {exc.start}): set source.encoding "
                                      "in the mapping (e.g. utf-8-sig, gbk, gb18030)")
        raise InvalidInputError(str(problem), [problem]) from None
    text = text.lstrip("\ufeff")  # a BOM left by Excel when the mapping says utf-8
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter))
    if len(records) < mapping.header_row:
        raise InvalidInputError(f"{name}: no header row {mapping.header_row}",
                                [Problem(name, 0, f"no header row {mapping.header_row} (the file has {len(records)} rows)")])
    headers = _headers(records[mapping.header_row - 1], name, mapping.header_row)
    table = Table(name, headers)
    for number, record in enumerate(records[mapping.header_row:], start=mapping.header_row + 1):
        if _blank(record):
            continue
        table.rows.append((number, {h: (record[i] if i < len(record) else "") for i, h in enumerate(headers) if h}))
    return table


def read_xlsx(path: Path, mapping: ImportMapping) -> Table:
    """Read one sheet of an XLSX book; raises ``InvalidInputError`` for a missing sheet or header."""
    import openpyxl  # imported here: only `inventory import` of a workbook pays for it

    name = str(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged file
        raise InvalidInputError(f"{name}: not a readable XLSX workbook: {type(exc).__name__}: {exc}") from None
    try:
        if mapping.sheet is not None and mapping.sheet not in workbook.sheetnames:
            raise InvalidInputError(f"{name}: no sheet '{mapping.sheet}' (sheets: {', '.join(workbook.sheetnames)})")
        sheet = workbook[mapping.sheet] if mapping.sheet else workbook.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    if len(rows) < mapping.header_row:
        raise InvalidInputError(f"{name}: no header row {mapping.header_row}")
    headers = _headers(list(rows[mapping.header_row - 1]), name, mapping.header_row)
    table = Table(name, headers)
    for number, values in enumerate(rows[mapping.header_row:], start=mapping.header_row + 1):
        cells = list(values)
        if _blank(cells):
            continue
        table.rows.append((number, {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(headers) if h}))
    return table


def read_table(path: str | Path, mapping: ImportMapping) -> Table:
    """Read a book as the mapping says. Raises ``InvalidInputError`` for unreadable input."""
    book = Path(path)
    if not book.is_file():
        raise InvalidInputError(f"{book}: no such file")
    return read_xlsx(book, mapping) if book_format(book, mapping) == "xlsx" else read_csv(book, mapping)
