"""YAML with line numbers: every mapping and list remembers where it and each of its entries start.

``yaml.safe_load`` forgets positions, yet every problem in a book must name its line. The loader
here builds ``LineMap`` (a dict) and ``LineList`` (a list) that carry the 1-based line of the
node (``.line``) and of each key or item (``.lines``). Scalars stay plain Python values.

Two differences from ``safe_load`` on purpose:

* a duplicate key in one mapping is reported (``safe_load`` silently keeps the last one, which
  hides copy-paste mistakes in a hand-written book);
* an impossible date such as ``2023-02-30`` is returned as the string it was written as, so the
  validator reports it with its line instead of the parser crashing with a bare ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from dcops.errors import Problem


class LineMap(dict[Any, Any]):
    """A mapping from YAML that knows its own line and the line of each key."""

    line: int
    lines: dict[Any, int]

    def __init__(self, *args: Any, line: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.lines = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key`` when present, else the line of the mapping itself."""
        return self.lines.get(key, self.line)


class LineList(list[Any]):
    """A list from YAML that knows its own line and the line of each item."""

    line: int
    lines: list[int]

    def __init__(self, *args: Any, line: int = 0) -> None:
        super().__init__(*args)
        self.line = line
        self.lines = []

    def line_of(self, index: int) -> int:
        """The line of item ``index`` (the list's own line when unknown)."""
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that builds LineMap/LineList and records duplicate keys."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str, int]] = []  # (line, key, first line)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap(line=node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        line = key_node.start_mark.line + 1
        if key in result:
            loader.duplicates.append((line, str(key), result.lines[key]))
        result[key] = loader.construct_object(value_node, deep=True)  # type: ignore[no-untyped-call]
        result.lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(line=node.start_mark.line + 1)
    for child in node.value:
        result.append(loader.construct_object(child, deep=True))  # type: ignore[no-untyped-call]
        result.lines.append(child.start_mark.line + 1)
    return result


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    # Why: SafeLoader raises a bare ValueError for 2023-02-30; keep the text for the validator.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[no-untyped-call]
    except ValueError:
        return loader.construct_scalar(node)  # type: ignore[no-untyped-call]


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    # Why: an integer of more than 4,300 digits makes int() raise a bare ValueError (Python's
    # guard against quadratic conversion), which carried no line and ended in exit 70.
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)  # type: ignore[no-untyped-call]
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, "a number too long to be one (over 4,300 digits)",
                                                node.start_mark) from None


# The same constructors on libyaml's parser (when PyYAML was built with it): about ten times faster
# on a book of thousands of hosts, where the pure-Python scanner was 95% of loading it. It is used
# for text that parses cleanly; anything it refuses is parsed again by the pure-Python loader, so
# the problem reported (message and line) is the same either way.
_FastLineLoader: Any = None
if getattr(yaml, "__with_libyaml__", False):
    class _FastLineLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self.duplicates: list[tuple[int, str, int]] = []

for _loader in (_LineLoader, _FastLineLoader):
    if _loader is None:
        continue
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _parse_fast(text: str) -> tuple[Any, list[tuple[int, str, int]]] | None:
    """(data, duplicates) through libyaml, or None when it is not there or refuses the text (the
    pure-Python loader then says why, with the line)."""
    if _FastLineLoader is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    loader = _FastLineLoader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    finally:
        loader.dispose()


def parse_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML document with line information.

    Returns the data (None when it cannot be parsed or the document is empty) and the problems
    found: a syntax error (with its line) or duplicate keys. Raises nothing for bad YAML.
    """
    fast = _parse_fast(text)
    if fast is not None:
        data, duplicates = fast
        return data, [Problem(file, line, f"duplicate key '{key}' (first at line {first})")
                      for line, key, first in duplicates]
    try:
        # The reader checks every character when it is built: a control character is refused here.
        loader = _LineLoader(text)
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(text, file, exc)]
    try:
        data = loader.get_single_data()  # type: ignore[no-untyped-call]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = exc.problem or exc.context or "syntax error"
        return None, [Problem(file, line, f"not valid YAML: {what}")]
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(text, file, exc)]
    except yaml.YAMLError as exc:
        return None, [Problem(file, 0, f"not valid YAML: {exc}")]
    except RecursionError:
        # PyYAML composes nested collections recursively: thousands of levels exhaust the stack.
        return None, [Problem(file, 0, "not valid YAML: nested too deeply")]
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]
    problems = [
        Problem(file, line, f"duplicate key '{key}' (first at line {first})")
        for line, key, first in loader.duplicates
    ]
    return data, problems


def _reader_problem(text: str, file: str, exc: yaml.reader.ReaderError) -> Problem:
    line = text.count("\n", 0, max(0, exc.position)) + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return Problem(file, line, f"control character U+{ord(char):04X} is not allowed in YAML "
                               "(remove it, or write it as an escape inside double quotes)")


def read_yaml_file(path: Path, file: str | None = None) -> tuple[Any, list[Problem]]:
    """Read and parse ``path``; an unreadable or non-UTF-8 file is a problem, not an exception."""
    name = file or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, 0, f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")]
    except OSError as exc:
        return None, [Problem(name, 0, f"cannot read: {exc.strerror or exc}")]
    return parse_yaml(text, name)


def is_date(value: Any) -> bool:
    """True for a ``date`` that is not a ``datetime`` (YAML gives datetimes for timestamps)."""
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
