"""The JSON contract (docs/output.md): every envelope a command prints validates against the
schema of its ``kind`` under docs/schemas/, and every time in it is ISO 8601 with a zone.

``check_envelope(doc)`` raises ``ContractError`` naming the kind and the offending path. The
suite's conftest runs it on every ``Report.to_json()`` a test produces, so the schemas are
checked against every JSON output the tests see, not against examples written for them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
# Kinds that exist only in tests (commands a test registers to exercise the CLI's machinery).
TEST_KINDS = {"probe"}
# A string that starts like a date and a time: it must carry a zone (Z or +hh:mm).
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class ContractError(AssertionError):
    pass


formats = FormatChecker()


@formats.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no zone")
    return "T" in value


@formats.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    if isinstance(value, str):
        dt.date.fromisoformat(value)
    return True


@cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        resources.append((path.name, Resource.from_contents(json.loads(path.read_text()))))
    return Registry().with_resources(resources)


@cache
def validator(kind: str) -> Draft202012Validator:
    path = SCHEMAS / f"{kind}.schema.json"
    if not path.exists():
        raise ContractError(f"no schema for kind {kind!r}: add docs/schemas/{kind}.schema.json")
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry(), format_checker=formats)


def zoneless_times(value: Any, path: str = "$") -> list[str]:
    """Paths of strings that look like a date and time but carry no zone."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += zoneless_times(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += zoneless_times(item, f"{path}[{index}]")
    elif isinstance(value, str) and _TIMESTAMP.match(value):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return found  # free text that starts with a date (a log message): not a time field
        if parsed.tzinfo is None:
            found.append(f"{path} = {value!r}")
    return found


def check_envelope(doc: Any) -> None:
    """Raise ContractError when ``doc`` is not a valid envelope of its kind."""
    if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
        raise ContractError(f"not an envelope: {str(doc)[:200]}")
    kind = doc["kind"]
    schema = validator("envelope" if kind in TEST_KINDS else kind)
    errors = sorted(schema.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message[:300]}" for e in errors[:10]]
        raise ContractError(f"{kind}: output does not match docs/schemas/{kind}.schema.json:\n  " + "\n  ".join(lines))
    zoneless = zoneless_times(doc)
    if zoneless:
        raise ContractError(f"{kind}: times without a zone (ISO 8601 with offset required):\n  "
                            + "\n  ".join(zoneless[:10]))
