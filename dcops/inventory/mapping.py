"""The mapping file of ``dcops inventory import``: how a legacy asset book becomes hosts.

A mapping says how to read the book (encoding, delimiter, sheet, header row), which column fills
which host field, how to translate values and dates, how to cut a combined location column into
fields, what every host gets, and which rows to skip. See docs/inventory.md for the format.
Reading the file is the only I/O here; ``parse_mapping`` is pure.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from dcops.errors import InvalidInputError, Problem
from dcops.inventory.schema import PATHS, check_value, plaintext_password, unknown_field
from dcops.inventory.yamlload import LineList, LineMap, parse_yaml, read_yaml_file

MAPPING_FIELDS = ("version", "source", "match_by", "columns", "split", "values", "dates", "constants",
                  "defaults", "skip", "lowercase")
SOURCE_FIELDS = ("format", "encoding", "delimiter", "sheet", "header_row")
SKIP_FIELDS = ("column", "equals", "matches", "empty")
FORMATS = ("csv", "xlsx")
MATCH_KEYS = ("name", "asset.serial", "asset.asset_tag", "bmc.address")
# Named groups of a split pattern: a field path with '.' written as '__' (regex group names cannot
# hold dots), or u_end: the top unit of a multi-U position ("U12-13"), from which u_height follows.
EXTRA_GROUPS = ("u_end",)
EXCEL_FORMAT = "excel"


def group_to_path(group: str) -> str:
    return group.replace("__", ".")


# A mapping's regular expressions run on every cell of a book of thousands of rows. A pattern that
# backtracks catastrophically ("(a+)+$" on "aaaa...b") would hang the import for ever, and which
# patterns do cannot be decided by looking at them; so they run under the ``regex`` package with
# a time limit per match, far above what an honest pattern needs on one cell (microseconds).
MATCH_SECONDS = 1.0


class PatternTimeout(Exception):
    """A mapping pattern ran longer than ``MATCH_SECONDS`` on one cell."""

    def __init__(self, pattern: Pattern, text: str) -> None:
        super().__init__(pattern.pattern)
        self.line = pattern.line
        self.text = text


class Pattern:
    """A mapping's regular expression (``regex`` syntax, which is ``re`` syntax plus more), run
    with a time limit; raises ``PatternTimeout``."""

    def __init__(self, source: str, line: int) -> None:
        self._compiled = regex.compile(source)
        self.pattern = source
        self.line = line
        self.groupindex = dict(self._compiled.groupindex)

    def fullmatch(self, text: str) -> Any:
        try:
            return self._compiled.fullmatch(text, timeout=MATCH_SECONDS)
        except TimeoutError:
            raise PatternTimeout(self, text) from None

    def search(self, text: str) -> Any:
        try:
            return self._compiled.search(text, timeout=MATCH_SECONDS)
        except TimeoutError:
            raise PatternTimeout(self, text) from None


@dataclass(frozen=True)
class Split:
    """Cut ``column`` with ``pattern``; its named groups are field paths."""

    column: str
    pattern: Pattern
    line: int


@dataclass(frozen=True)
class SkipRule:
    """Skip a row when ``column`` equals a value, matches a regex, or is empty."""

    column: str
    equals: tuple[str, ...] = ()
    matches: Pattern | None = None
    empty: bool = False
    line: int = 0

    def applies(self, cell: str) -> bool:
        text = cell.strip()
        if self.empty and not text:
            return True
        if self.equals and text in self.equals:
            return True
        return bool(self.matches and self.matches.search(text))


@dataclass
class ImportMapping:
    """A checked mapping file. ``lines`` locates entries for later problems (``columns.name``)."""

    file: str
    format: str | None = None
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    sheet: str | None = None
    header_row: int = 1
    match_by: str = "name"
    columns: dict[str, str] = field(default_factory=dict)
    splits: list[Split] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    dates: dict[str, list[str]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    skip: list[SkipRule] = field(default_factory=list)
    lowercase: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)

    def used_columns(self) -> dict[str, int]:
        """Every source column the mapping reads, with the line that names it."""
        used: dict[str, int] = {}
        for path, column in self.columns.items():
            used.setdefault(column, self.lines.get(f"columns.{path}", 0))
        for split in self.splits:
            used.setdefault(split.column, split.line)
        for rule in self.skip:
            used.setdefault(rule.column, rule.line)
        return used


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def mapping(self, parent: LineMap, key: str) -> LineMap:
        value = parent.get(key)
        if value is None:
            return LineMap(line=parent.line_of(key))
        if not isinstance(value, LineMap):
            self.error(parent.line_of(key), f"{key} must be a mapping")
            return LineMap(line=parent.line_of(key))
        return value

    def path(self, data: LineMap, key: Any) -> str | None:
        """``key`` when it is a host field path, else a problem and None."""
        if key in PATHS:
            return str(key)
        self.error(data.line_of(key), unknown_field(key, PATHS).replace("unknown field", "unknown host field"))
        return None

    def text(self, data: LineMap, key: Any, what: str) -> str | None:
        value = data[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.error(data.line_of(key), f"{what} must be a non-empty string")
            return None
        return value

    def regex(self, value: Any, line: int) -> Pattern | None:
        if not isinstance(value, str):
            self.error(line, "a pattern must be a string (a regular expression)")
            return None
        try:
            return Pattern(value, line)
        except (regex.error, RecursionError, OverflowError) as exc:
            self.error(line, f"bad regular expression: {exc}")
            return None


def parse_mapping(data: Any, file: str) -> tuple[ImportMapping, list[Problem]]:
    """Check parsed mapping data; returns the mapping and every problem found (file and line)."""
    reader = _Reader(file)
    result = ImportMapping(file=file)
    if not isinstance(data, LineMap):
        reader.error(getattr(data, "line", 0), "a mapping file must be a YAML mapping")
        return result, reader.problems
    for key in data:
        if key not in MAPPING_FIELDS:
            reader.error(data.line_of(key), unknown_field(key, MAPPING_FIELDS))
    if data.get("version", 1) != 1:
        reader.error(data.line_of("version"), f"version {data['version']!r} is not supported (this dcops reads 1)")

    source = reader.mapping(data, "source")
    for key, value in source.items():
        line = source.line_of(key)
        if key not in SOURCE_FIELDS:
            reader.error(line, unknown_field(key, SOURCE_FIELDS))
        elif key == "format":
            if value not in FORMATS:
                reader.error(line, f"source.format '{value}' is not one of: {', '.join(FORMATS)}")
            else:
                result.format = value
        elif key == "encoding":
            try:
                codecs.lookup(str(value))
                result.encoding = str(value)
            except LookupError:
                reader.error(line, f"unknown encoding '{value}' (e.g. utf-8, utf-8-sig, gbk, gb18030)")
        elif key == "delimiter":
            if not isinstance(value, str) or len(value) != 1:
                reader.error(line, "source.delimiter must be one character (use \"\\t\" for tab)")
            else:
                result.delimiter = value
        elif key == "sheet":
            result.sheet = reader.text(source, key, "source.sheet")
        elif key == "header_row":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                reader.error(line, "source.header_row must be a row number (1 or more)")
            else:
                result.header_row = value

    match_by = data.get("match_by", "name")
    if match_by not in MATCH_KEYS:
        reader.error(data.line_of("match_by"), f"match_by '{match_by}' is not one of: {', '.join(MATCH_KEYS)}")
    else:
        result.match_by = match_by

    columns = reader.mapping(data, "columns")
    for key in columns:
        path = reader.path(columns, key)
        column = reader.text(columns, key, f"column of {key}")
        if path and column:
            result.columns[path] = column
            result.lines[f"columns.{path}"] = columns.line_of(key)

    splits = data.get("split") or LineList()
    if not isinstance(splits, LineList):
        reader.error(data.line_of("split"), "split must be a list of {column, pattern}")
        splits = LineList()
    for i, item in enumerate(splits):
        line = splits.line_of(i)
        if not isinstance(item, LineMap) or set(item) != {"column", "pattern"}:
            reader.error(line, "each split needs exactly: column, pattern")
            continue
        column = reader.text(item, "column", "split column")
        pattern = reader.regex(item["pattern"], item.line_of("pattern"))
        if column is None or pattern is None:
            continue
        if not pattern.groupindex:
            reader.error(item.line_of("pattern"), "split pattern has no named groups, e.g. (?P<rack>[A-Z]\\d+)")
        for group in pattern.groupindex:
            if group not in EXTRA_GROUPS and group_to_path(group) not in PATHS:
                names = [p.replace(".", "__") for p in PATHS] + list(EXTRA_GROUPS)
                reader.error(item.line_of("pattern"), unknown_field(group, names).replace("unknown field",
                                                                                          "unknown group"))
        result.splits.append(Split(column, pattern, line))

    values = reader.mapping(data, "values")
    for key in values:
        path = reader.path(values, key)
        table = values[key]
        if not isinstance(table, LineMap):
            reader.error(values.line_of(key), f"values of {key} must be a mapping of book value: inventory value")
            continue
        if path:
            result.values[path] = {str(k).strip(): v for k, v in table.items()}

    dates = reader.mapping(data, "dates")
    for key in dates:
        path = reader.path(dates, key)
        formats = dates[key]
        if isinstance(formats, str):
            formats = [formats]
        if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
            reader.error(dates.line_of(key), f"dates of {key} must be a format or a list of formats")
            continue
        if path and not path.endswith("_date") and path != "asset.warranty_end":
            reader.error(dates.line_of(key), f"{key} is not a date field")
            continue
        if path:
            result.dates[path] = list(formats)

    for section, target in (("constants", result.constants), ("defaults", result.defaults)):
        block = reader.mapping(data, section)
        for key, value in block.items():
            path = reader.path(block, key)
            if path is None:
                continue
            checked, wrong = check_value(path, value)
            if wrong:
                reader.error(block.line_of(key), wrong)
            elif path == "bmc.password" and plaintext_password(checked):
                reader.error(block.line_of(key), "bmc.password must be a reference (env:NAME, file:PATH, "
                                                 "cred:NAME or prompt), not a plain password")
            else:
                target[path] = checked
                result.lines[f"{section}.{path}"] = block.line_of(key)

    rules = data.get("skip") or LineList()
    if not isinstance(rules, LineList):
        reader.error(data.line_of("skip"), "skip must be a list of rules")
        rules = LineList()
    for i, item in enumerate(rules):
        line = rules.line_of(i)
        if not isinstance(item, LineMap):
            reader.error(line, "a skip rule must be a mapping: {column: ..., equals|matches|empty: ...}")
            continue
        for key in item:
            if key not in SKIP_FIELDS:
                reader.error(item.line_of(key), unknown_field(key, SKIP_FIELDS))
        column = reader.text(item, "column", "skip column") if "column" in item else None
        if column is None:
            if "column" not in item:
                reader.error(line, "a skip rule needs a column")
            continue
        equals = item.get("equals", [])
        equals = [equals] if not isinstance(equals, list) else equals
        matches = reader.regex(item["matches"], item.line_of("matches")) if "matches" in item else None
        if not (equals or matches or item.get("empty")):
            reader.error(line, "a skip rule needs equals, matches or empty: true")
        result.skip.append(SkipRule(column, tuple(str(e).strip() for e in equals), matches,
                                    bool(item.get("empty")), line))

    lowercase = data.get("lowercase") or []
    if not isinstance(lowercase, list) or not all(p in PATHS for p in lowercase):
        reader.error(data.line_of("lowercase"), "lowercase must be a list of host fields, e.g. [name]")
    else:
        result.lowercase = tuple(lowercase)

    if "name" not in result.columns and not any("name" in s.pattern.groupindex for s in result.splits):
        reader.error(columns.line, "columns must say which column holds the host name (name: ...)")
    return result, reader.problems


def load_mapping(path: str | Path) -> ImportMapping:
    """Read and check a mapping file; raises ``InvalidInputError`` listing every problem."""
    data, problems = read_yaml_file(Path(path), str(path))
    if data is None and not problems:
        problems = [Problem(str(path), 0, "empty mapping file")]
    mapping, found = parse_mapping(data, str(path)) if data is not None else (ImportMapping(str(path)), [])
    problems += found
    if problems:
        raise InvalidInputError(f"mapping {path} is invalid", problems)
    return mapping


def parse_mapping_text(text: str, file: str = "<mapping>") -> ImportMapping:
    """Like ``load_mapping`` for YAML text (tests and generated mappings)."""
    data, problems = parse_yaml(text, file)
    mapping, found = parse_mapping(data, file)
    problems += found
    if problems:
        raise InvalidInputError(f"mapping {file} is invalid", problems)
    return mapping
