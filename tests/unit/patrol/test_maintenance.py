"""Recurring maintenance windows (patrol.maintenance) as tables: when a window is open, and what
a bad window definition says."""

from __future__ import annotations

import datetime as dt

import pytest

from dcops.errors import InvalidInputError
from dcops.patrol.maintenance import load_windows, scheduled_silences

TRADING = {"name": "close", "days": "mon-fri", "from": "15:30", "to": "17:00", "timezone": "Asia/Shanghai",
           "except": ["2026-10-01"], "rack": "A*"}
NIGHT = {"name": "night", "days": ["fri"], "from": "22:00", "to": "02:00", "host": "db-*"}
WEEKEND = {"name": "weekend", "days": "weekends", "from": "00:00", "to": "00:00", "condition": "log"}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(("window", "now", "until"), [
    (TRADING, "2026-12-07T07:29:59", None),                       # Monday 15:29:59 Shanghai
    (TRADING, "2026-12-07T07:30:00", "2026-12-07T09:00:00"),      # 15:30 Shanghai = 07:30 UTC
    (TRADING, "2026-12-07T08:59:59", "2026-12-07T09:00:00"),
    (TRADING, "2026-12-07T09:00:00", None),                       # closes at 17:00 sharp
    (TRADING, "2026-12-05T08:00:00", None),                       # Saturday
    (TRADING, "2026-10-01T08:00:00", None),                       # a holiday (Thursday)
    (NIGHT, "2026-12-11T23:00:00", "2026-12-12T02:00:00"),        # Friday night
    (NIGHT, "2026-12-12T01:59:00", "2026-12-12T02:00:00"),        # past midnight: Friday's window
    (NIGHT, "2026-12-13T01:00:00", None),                         # Sunday 01:00: Saturday has none
    (WEEKEND, "2026-12-12T10:00:00", "2026-12-13T00:00:00"),      # Saturday: a whole-day window
    (WEEKEND, "2026-12-13T23:59:00", "2026-12-14T00:00:00"),
    (WEEKEND, "2026-12-14T00:00:00", None),                       # Monday
])
def test_window_open_until(window: dict, now: str, until: str | None) -> None:
    (w,) = load_windows([window])
    got = w.open_until(utc(now))
    assert got == (utc(until) if until else None)


def test_open_windows_are_silences_with_their_matchers() -> None:
    windows = load_windows([TRADING, NIGHT])
    (silence,) = scheduled_silences(windows, utc("2026-12-07T08:00:00"))
    assert (silence.rack, silence.host, silence.until, silence.created_by) == \
        ("A*", "", utc("2026-12-07T09:00:00"), "maintenance:close")


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "x", "from": "25:00", "to": "26:00", "rack": "A"}, "not a time"),
    ({"name": "x", "from": "10:00", "rack": "A"}, "needs from"),
    ({"name": "x", "from": "10:00", "to": "11:00", "days": "someday", "rack": "A"}, "not a day"),
    ({"name": "x", "from": "10:00", "to": "11:00", "timezone": "Mars/Olympus", "rack": "A"}, "unknown timezone"),
    ({"name": "x", "from": "10:00", "to": "11:00"}, "name what it silences"),
    ({"name": "x", "from": "10:00", "to": "11:00", "rack": "A", "hosts": "h"}, "unknown key"),
])
def test_bad_windows_are_named(raw: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"maintenance\\[0\\] \\(x\\).*{message}"):
        load_windows([raw])
