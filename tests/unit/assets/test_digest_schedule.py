"""The daily warranty digest's schedule (pure): the next run strictly after now, and the time
setting (HH:MM or off)."""

from __future__ import annotations

import datetime as dt

import pytest

from dcops.assets.digest import next_run, parse_at
from dcops.errors import UsageError

T = dt.datetime


@pytest.mark.parametrize(("now", "at", "expected"), [
    (T(2026, 3, 1, 7, 59), dt.time(8, 0), T(2026, 3, 1, 8, 0)),
    (T(2026, 3, 1, 8, 0), dt.time(8, 0), T(2026, 3, 2, 8, 0)),  # just ran: tomorrow, not again now
    (T(2026, 3, 1, 23, 30), dt.time(0, 15), T(2026, 3, 2, 0, 15)),
    (T(2026, 12, 31, 9, 0), dt.time(8, 0), T(2027, 1, 1, 8, 0)),
    (T(2026, 3, 1, 7, 59, 59, 999999), dt.time(8, 0), T(2026, 3, 1, 8, 0)),
])
def test_next_run(now: dt.datetime, at: dt.time, expected: dt.datetime) -> None:
    assert next_run(now, at) == expected


@pytest.mark.parametrize(("text", "expected"), [
    (None, dt.time(8, 0)), ("06:30", dt.time(6, 30)), ("off", None), ("OFF", None), (" 23:05 ", dt.time(23, 5)),
])
def test_parse_at(text: str | None, expected: dt.time | None) -> None:
    assert parse_at(text) == expected


@pytest.mark.parametrize("text", ["8", "25:00", "08:61", "eight", "08:00:00"])
def test_parse_at_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="HH:MM"):
        parse_at(text)
