"""Report: what every command returns. It knows its exit code and renders as a table or JSON.

The JSON form is the stable contract with CI pipelines: a top-level object with ``items`` (a list
of objects) and ``summary`` (an object), plus ``problems`` when there were any. Schemas are
documented in docs/output.md.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from dcops.errors import ExitCode, worst

# The version of the JSON contract (docs/output.md, docs/schemas/). Fields are added within a
# version; renaming or removing one, or changing its type, raises it.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    """A table column: the item key it shows, its header, and how a person reads the value (JSON
    keeps the value itself: an ISO 8601 time stays one, the table may show ``12-07 06:45``)."""

    key: str
    header: str
    fmt: Callable[[Any], str] | None = None


@dataclass
class Report:
    """The result of one command.

    ``items`` are plain JSON-able mappings; ``columns`` choose what the table shows; ``problems``
    are one-line messages for stderr (also listed in JSON); ``exit_code`` is the most severe
    outcome recorded with ``note``.
    """

    kind: str
    items: list[dict[str, Any]] = field(default_factory=list)
    columns: Sequence[Column] = ()
    summary: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    title: str | None = None
    text: str | None = None  # a free-form body for table output (e.g. a diff), shown before the table

    def note(self, code: ExitCode, problem: str | None = None) -> None:
        """Record an outcome: raise the exit code to ``code`` if more severe, keep the message."""
        self.exit_code = worst(self.exit_code, code)
        if problem:
            self.problems.append(problem)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "kind": self.kind, "items": jsonable(self.items),
                                "summary": jsonable(self.summary)}
        if self.problems:
            body["problems"] = list(self.problems)
        body["exit_code"] = int(self.exit_code)
        return body


def jsonable(value: Any) -> Any:
    """Turn dataclasses, enums, dates, tuples and sets into JSON-able values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return value
