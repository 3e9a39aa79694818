"""Turn the rows of a legacy asset book into hosts, and plan their merge into an inventory.

Pure: the rows come from ``tabular.read_table``, the target hosts from ``load_inventory``; the CLI
writes the result. Every problem names the book file and the row number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.errors import Problem
from dcops.inventory.book import Rack
from dcops.inventory.loader import check_hosts
from dcops.inventory.mapping import EXCEL_FORMAT, MATCH_SECONDS, ImportMapping, PatternTimeout, group_to_path
from dcops.inventory.schema import (
    build_host,
    check_dates_in_order,
    check_value,
    flatten_host,
    kind_of,
    mask_password,
    suggest,
)
from dcops.inventory.tabular import Table
from dcops.models import Host, SourceRef

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (it counts 1900-02-29, so day 60 onwards is right)
_TRUE = {"true", "yes", "y", "1", "是", "on"}
_FALSE = {"false", "no", "n", "0", "否", "off"}
_TAG_SPLIT = re.compile(r"[,;\s]+")
_U_PREFIX = re.compile(r"^[Uu]\s*")


@dataclass(frozen=True)
class BookHost:
    """A host read from one row: the fields the row gave, and the mapping's defaults for the rest."""

    host: Host
    row: int
    fields: dict[str, Any]
    defaults: dict[str, Any]


@dataclass
class BookRows:
    """The outcome of reading a book: hosts, skipped row numbers and problems."""

    file: str
    hosts: list[BookHost] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0


def check_columns(table: Table, mapping: ImportMapping) -> list[Problem]:
    """A problem (in the mapping file, at its line) for each column the book does not have."""
    problems = []
    headers = [h for h in table.headers if h]
    for column, line in mapping.used_columns().items():
        if column not in headers:
            problems.append(Problem(mapping.file, line, f"column '{column}' is not in {table.file}"
                                                        f"{suggest(column, headers, cutoff=0.5)}; its columns: {', '.join(headers)}"))
    return problems


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # XLSX stores 12345 as 12345.0
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


def _excel_date(serial: float) -> dt.date:
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def convert_date(raw: Any, formats: Sequence[str], *, xlsx: bool) -> tuple[dt.date | None, str | None]:
    """A date from a cell: a date cell as is, a number as an Excel serial date (in XLSX, or when
    ``excel`` is among ``formats``), text by the first of ``formats`` that parses it."""
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    text = _text(raw)
    is_number = isinstance(raw, (int, float)) and not isinstance(raw, bool)
    if (is_number and xlsx) or (EXCEL_FORMAT in formats and re.fullmatch(r"\d+(\.\d+)?", text)):
        value = float(text)
        if not 1 <= value < 2958466:
            return None, f"{text} is not an Excel date"
        return _excel_date(value), None
    for fmt in formats:
        if fmt == EXCEL_FORMAT:
            continue
        try:
            return dt.datetime.strptime(text, fmt).date(), None
        except ValueError:
            continue
    wanted = " or ".join(formats) if formats else "%Y-%m-%d"
    return None, f"'{text}' is not a date in the format {wanted}"


def convert_cell(path: str, raw: Any, mapping: ImportMapping, *, xlsx: bool) -> tuple[Any, str | None]:
    """Convert one cell to the value of field ``path`` (None when the cell is empty) and check it.

    Value maps apply first (exact text, then ignoring case); then the cell is read as the field's
    kind (number, date, boolean, list of tags, text) and checked like a value in an inventory file.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    table = mapping.values.get(path)
    if table:
        text = _text(raw)
        if text in table:
            raw = table[text]
        else:
            folded = {k.casefold(): v for k, v in table.items()}
            raw = folded.get(text.casefold(), raw)
        if raw is None:
            return None, None
    kind = kind_of(path)
    value: Any
    if kind == "date":
        value, wrong = convert_date(raw, mapping.dates.get(path, ["%Y-%m-%d"]), xlsx=xlsx)
        if wrong:
            return None, wrong
    elif kind in ("posint", "port"):
        written = _text(raw)
        text = _U_PREFIX.sub("", written) if path in ("u", "u_height") else written
        if not re.fullmatch(r"\d+", text):
            return None, f"'{written}' is not a whole number"
        value = int(text)
    elif kind == "bool":
        if isinstance(raw, bool):
            value = raw
        else:
            text = _text(raw).casefold()
            if text not in _TRUE | _FALSE:
                return None, f"'{text}' is not yes/no"
            value = text in _TRUE
    elif kind == "tags":
        value = [t for t in _TAG_SPLIT.split(_text(raw)) if t] if not isinstance(raw, list) else raw
    elif kind in ("scheme", "protocol"):
        value = _text(raw).lower()
    else:
        value = _text(raw)
    if path in mapping.lowercase and isinstance(value, str):
        value = value.lower()
    return check_value(path, value)


def convert_row(number: int, cells: Mapping[str, Any], mapping: ImportMapping, *,
                file: str, xlsx: bool) -> tuple[BookHost | None, list[Problem]]:
    """One row to a host (None when it has problems, each naming ``file`` and the row)."""
    problems: list[Problem] = []

    def bad(where: str, message: str) -> None:
        problems.append(Problem(file, number, f"row {number}: {where}: {message}"))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for path, column in mapping.columns.items():
        value, wrong = convert_cell(path, cells.get(column), mapping, xlsx=xlsx)
        if wrong:
            bad(f"column '{column}'", wrong)
        elif value is not None:
            values[path] = value
            sources[path] = f"column '{column}'"
    for split in mapping.splits:
        text = _text(cells.get(split.column) or "")
        if not text:
            continue
        match = split.pattern.fullmatch(text)
        if match is None:
            bad(f"column '{split.column}'", f"'{text}' does not match the split pattern {split.pattern.pattern}")
            continue
        groups = {group_to_path(k): v for k, v in match.groupdict().items() if v not in (None, "")}
        u_end = groups.pop("u_end", None)
        for path, raw in groups.items():
            value, wrong = convert_cell(path, raw, mapping, xlsx=False)
            if wrong:
                bad(f"column '{split.column}'", wrong)
            elif value is not None:
                values[path] = value
                sources[path] = f"column '{split.column}'"
        if u_end is not None and isinstance(values.get("u"), int):
            top = int(u_end)
            if top < values["u"]:
                bad(f"column '{split.column}'", f"U{values['u']}-{top} ends below where it starts")
            else:
                values["u_height"] = top - values["u"] + 1
    for path, value in mapping.constants.items():
        if path == "tags":
            values["tags"] = list(dict.fromkeys([*value, *values.get("tags", [])]))
        else:
            values[path] = value
    defaults = {p: v for p, v in mapping.defaults.items() if p not in values}
    merged = {**defaults, **values}
    for required, what in (("name", "host name"), ("bmc.address", "BMC address")):
        if required not in merged and not any(required in p.message for p in problems):
            source_column = mapping.columns.get(required)
            where = f"column '{source_column}' is empty" if source_column else "no column gives it"
            bad(required, f"no {what} ({where})")
    order = check_dates_in_order(merged)
    if order:
        bad("dates", order)
    if problems:
        return None, problems
    host = build_host(merged, SourceRef(file, number))
    return BookHost(host, number, values, defaults), []


def convert_rows(table: Table, mapping: ImportMapping, *, xlsx: bool) -> BookRows:
    """Every data row of ``table`` through ``convert_row``, minus the rows ``skip`` rules drop;
    also reports serial numbers and asset tags given twice in the book."""
    result = BookRows(table.file, rows=len(table.rows))
    result.problems.extend(check_columns(table, mapping))
    if result.problems:
        return result
    for number, cells in table.rows:
        try:
            if any(rule.applies(_text(cells.get(rule.column) or "")) for rule in mapping.skip):
                result.skipped.append(number)
                continue
            host, problems = convert_row(number, cells, mapping, file=table.file, xlsx=xlsx)
        except PatternTimeout as exc:
            # Stop here: the same pattern would take as long on every further row.
            result.problems.append(Problem(mapping.file, exc.line, (
                f"pattern {exc.args[0]!r} took over {MATCH_SECONDS:g}s on row {number} of {table.file} "
                f"({len(exc.text)} characters): it backtracks catastrophically; rewrite it (e.g. no nested "
                "quantifiers like (a+)+)")))
            return result
        result.problems.extend(problems)
        if host is not None:
            result.hosts.append(host)
    for path in ("asset.serial", "asset.asset_tag"):
        seen: dict[str, int] = {}
        for book_host in result.hosts:
            value = book_host.fields.get(path)
            if value is None:
                continue
            if value in seen:
                result.problems.append(Problem(table.file, book_host.row,
                                               f"row {book_host.row}: {path} '{value}' is also on row {seen[value]}"))
            else:
                seen[value] = book_host.row
    return result


# -- merge into a target inventory ---------------------------------------------------------

@dataclass(frozen=True)
class FieldChange:
    """One field of one host: its value in the target and after the import (None = not set)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HostChange:
    """What the import does to one host: ``add``, ``change``, ``same`` or ``keep`` (only in target)."""

    name: str
    action: str
    changes: tuple[FieldChange, ...] = ()
    row: int | None = None


@dataclass
class ImportPlan:
    """The merged hosts (target order, then new hosts in book order) and what changed."""

    hosts: list[Host]
    changes: list[HostChange]
    problems: list[Problem]

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


def _key(values: Mapping[str, Any], match_by: str) -> str | None:
    value = values.get(match_by)
    return None if value is None else str(value).casefold()


def _show(path: str, value: Any) -> Any:
    if path == "bmc.password":
        return mask_password(value)
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def diff_hosts(old: Host | None, new: Host) -> tuple[FieldChange, ...]:
    """The fields whose value differs between two hosts (all set fields when ``old`` is None)."""
    before = flatten_host(old) if old is not None else {}
    after = flatten_host(new)
    return tuple(
        FieldChange(path, _show(path, before.get(path)), _show(path, after.get(path)))
        for path in dict.fromkeys([*after, *before])
        if before.get(path) != after.get(path)
    )


def plan_import(book: Iterable[BookHost], target: Sequence[Host], *, match_by: str = "name",
                racks: Iterable[Rack] = ()) -> ImportPlan:
    """Merge book hosts into the target's: a matched host takes every field the book gives (tags
    are added to its own), keeps the rest; unmatched book hosts are added; target hosts not in
    the book are kept. Mapping defaults fill only what neither book nor target has. The merged
    hosts are checked together (unique names and BMCs, free U positions)."""
    merged: list[Host] = list(target)
    index = {_key(flatten_host(h), match_by): i for i, h in enumerate(target)}
    index.pop(None, None)
    changes: list[HostChange] = []
    matched: set[int] = set()
    problems: list[Problem] = []
    for item in book:
        key = _key(item.fields, match_by)
        if key is None:
            problems.append(Problem(item.host.source.file, item.row, f"row {item.row}: no {match_by} to match on"))
            continue
        position = index.get(key)
        if position is None:
            merged.append(item.host)
            index[key] = len(merged) - 1
            changes.append(HostChange(item.host.name, "add", diff_hosts(None, item.host), item.row))
            continue
        if position in matched or position >= len(target):
            problems.append(Problem(item.host.source.file, item.row,
                                    f"row {item.row}: {match_by} '{item.fields[match_by]}' was already imported from "
                                    f"an earlier row"))
            continue
        matched.add(position)
        old = target[position]
        values = {**item.defaults, **flatten_host(old), **item.fields}
        if "tags" in item.fields:
            values["tags"] = list(dict.fromkeys([*old.tags, *item.fields["tags"]]))
        new = build_host(values, item.host.source)
        merged[position] = new
        diff = diff_hosts(old, new)
        changes.append(HostChange(new.name, "change" if diff else "same", diff, item.row))
    for position, host in enumerate(target):
        if position not in matched:
            changes.append(HostChange(host.name, "keep"))
    cross, _ = check_hosts(merged, list(racks))
    problems.extend(cross)
    return ImportPlan(merged, changes, problems)


def render_plan(plan: ImportPlan, *, book: str, target: str | None) -> str:
    """The diff for a person: hosts added, fields changed (old -> new), hosts only in the target."""
    lines = [f"import {book} into {target or '(empty inventory)'}"]
    for change in plan.changes:
        if change.action == "add":
            fields = {c.field: c.new for c in change.changes}
            where = "/".join(str(fields[k]) for k in ("site", "room", "rack") if k in fields)
            if "u" in fields:
                where += f" U{fields['u']}"
            what = " ".join(str(fields[k]) for k in ("vendor", "model") if k in fields)
            lines.append(f"+ {change.name}  (row {change.row}) {fields.get('bmc.address', '')}  {where}  {what}".rstrip())
        elif change.action == "change":
            lines.append(f"~ {change.name}  (row {change.row})")
            for item in change.changes:
                lines.append(f"    {item.field}: {_fmt(item.old)} -> {_fmt(item.new)}")
    same = [c.name for c in plan.changes if c.action == "same"]
    keep = [c.name for c in plan.changes if c.action == "keep"]
    if same:
        lines.append(f"= {len(same)} unchanged")
    if keep:
        shown = ", ".join(keep[:10]) + (f", ... ({len(keep) - 10} more)" if len(keep) > 10 else "")
        lines.append(f"  {len(keep)} only in the target, kept: {shown}")
    lines.append(f"{plan.count('add')} to add, {plan.count('change')} to change, {len(same)} unchanged, "
                 f"{len(keep)} kept")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
