"""Scheduled one-off silences (issue 20): a silence with ``starts`` mutes nothing before it, and
``--start`` takes an ISO time with a zone or a duration from now."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dcops.errors import UsageError
from dcops.patrol import actions
from dcops.patrol import store as pstore
from dcops.patrol.escalate import Silence, silenced
from dcops.store import open_store
from tests.integration.patrol.helpers import psu_incident

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return NOW + dt.timedelta(hours=hours)


@pytest.mark.parametrize(("starts", "when", "mutes"), [
    (None, 0, True), (None, 3, False),  # until at(2)
    (at(1), 0, False), (at(1), 1, True), (at(1), 1.5, True), (at(1), 2, False),
])
def test_a_scheduled_silence_mutes_only_from_its_start(starts: dt.datetime | None, when: float, mutes: bool) -> None:
    incident = psu_incident(NOW)
    silence = Silence(id=1, until=at(2), host=incident.host, starts=starts)
    assert (silenced(incident, [silence], at(when)) is silence) is mutes


@pytest.mark.parametrize(("text", "expected"), [
    (None, None), ("", None), ("  ", None), ("2h", at(2)), ("90m", at(1.5)),
    ("2026-12-07T22:00Z", dt.datetime(2026, 12, 7, 22, tzinfo=dt.UTC)),
    ("2026-12-07T23:00+01:00", dt.datetime(2026, 12, 7, 22, tzinfo=dt.UTC)),
])
def test_parse_start(text: str | None, expected: dt.datetime | None) -> None:
    assert actions.parse_start(text, NOW) == expected


@pytest.mark.parametrize(("text", "message"), [("2026-12-07T22:00", "time zone"), ("tonight", "ISO 8601")])
def test_parse_start_refuses(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        actions.parse_start(text, NOW)


def test_a_scheduled_silence_is_stored_and_read_back(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    item = actions.silence(store, duration=dt.timedelta(hours=2), by="anna", rack="C04", starts=starts,
                           reason="PSU swap tonight")
    assert item["starts"] == starts.isoformat() and item["until"] == (starts + dt.timedelta(hours=2)).isoformat()
    [stored] = pstore.active_silences(store, dt.datetime.now(dt.UTC))
    assert stored.starts == starts and stored.rack == "C04"
    past = actions.silence(store, duration=dt.timedelta(hours=1), by="anna", rack="C05",
                           starts=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert past["starts"] is None  # a start in the past: from now
    store.close()
