"""``dcops patrol status`` from stored rows (pure): never read, stale, down, the worst open incident."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from dcops.patrol.model import Severity
from dcops.patrol.status import host_status

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _row(seconds_ago: float, reachable: bool = True, **kw: Any) -> dict[str, Any]:
    return {"observed_at": NOW - dt.timedelta(seconds=seconds_ago), "reachable": reachable, "power": "On",
            "health": "OK", **kw}


def _inc(host: str | None, severity: Severity) -> SimpleNamespace:
    return SimpleNamespace(host=host, severity=severity)


@pytest.mark.parametrize(("row", "incidents", "expect"), [
    (None, [], {"bmc": "never", "stale": True, "age_seconds": None, "open_incidents": 0, "worst": None}),
    (_row(30), [], {"bmc": "up", "stale": False, "age_seconds": 30.0, "power": "On"}),
    (_row(601), [], {"bmc": "up", "stale": True}),
    (_row(30, reachable=False, error="timed out"), [], {"bmc": "DOWN", "stale": False, "error": "timed out"}),
    (_row(30, worker="dc1-patrol-1"), [], {"worker": "dc1-patrol-1"}),
    (_row(30), [_inc("h1", Severity.WARNING), _inc("h1", Severity.CRITICAL), _inc("h2", Severity.EMERGENCY)],
     {"open_incidents": 2, "worst": "critical"}),
    (_row(30), [_inc(None, Severity.EMERGENCY)], {"open_incidents": 0, "worst": None}),  # a rack incident
])
def test_host_status(row: dict[str, Any] | None, incidents: list[Any], expect: dict[str, Any]) -> None:
    rows = {"h1": row} if row is not None else {}
    (status,) = host_status([("h1", "A01")], rows, incidents, NOW, stale_after=600)
    item = status.item()
    assert item["host"] == "h1" and item["rack"] == "A01"
    for key, value in expect.items():
        assert item[key] == value, key


# (incident host, symptom hosts, worker rows) -> worker named
WORKER_CASES = [
    ("h1", [], {"h1": "w1"}, "w1"),
    ("h1", [], {"h1": None}, None),  # one dcops serve: no worker
    ("h1", [], {}, None),  # never patrolled
    ("sh1/r3/C04", ["h7", "h8"], {"h7": None, "h8": "w2"}, "w2"),  # a rack: its hosts' worker
    ("sh1/r3/C04", ["h7"], {"h7": "w3", "sh1/r3/C04": None}, "w3"),
    ("sh1/r3/C04", [], {"h7": "w3"}, None),
    ("h1", ["h2"], {"h1": "w1", "h2": "w2"}, "w1"),  # its own row first
]


@pytest.mark.parametrize(("host", "symptoms", "rows", "want"), WORKER_CASES)
def test_incident_workers(host: str, symptoms: list[str], rows: dict[str, str | None], want: str | None) -> None:
    import types

    from dcops.patrol.status import hosts_named, incident_workers

    incident = types.SimpleNamespace(id=5, host=host, children=[{"host": h} for h in symptoms] + [{"part": "x"}])
    assert incident_workers([incident], rows) == {5: want}
    assert hosts_named([incident]) == {host, *symptoms}
