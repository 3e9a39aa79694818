"""Console sessions in the store: retention deletes the recordings past it and nothing newer;
0 keeps them for ever; the config value is checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dcops.console import store
from dcops.console.gateway import retention_from
from dcops.errors import InvalidInputError
from dcops.store.db import open_store

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("ages_days", "retention", "kept"), [
    ([1, 29, 31, 400], 30, 2),
    ([1, 29, 31, 400], 0, 4),
    ([1, 29, 31, 400], 1000, 4),
    ([], 30, 0),
])
def test_prune(tmp_path: Path, ages_days: list[int], retention: float, kept: int) -> None:
    db = open_store(f"sqlite:///{tmp_path / 's.db'}")
    for n, age in enumerate(ages_days):
        sid = f"s{n}"
        store.opened(db, sid, host="h", user="u", via="web", transport="t", at=NOW - dt.timedelta(days=age),
                     audit_open=None)
        store.closed(db, sid, at=NOW, duration_s=1.0, bytes_out=1, bytes_in=0, result="ok",
                     cast_text='{"version": 2}\n', audit_close=None)
    removed = store.prune(db, now=NOW, retention_days=retention)
    assert removed == len(ages_days) - kept
    assert len(store.recent(db)) == kept
    assert all(r.started_at >= NOW - dt.timedelta(days=retention) or retention <= 0 for r in store.recent(db))
    db.close()


@pytest.mark.parametrize(("section", "days"), [({}, store.DEFAULT_RETENTION_DAYS), ({"retention_days": 7}, 7.0),
                                                ({"retention_days": "0"}, 0.0)])
def test_retention_config(section: dict[str, object], days: float) -> None:
    assert retention_from(section) == days


def test_retention_config_refuses_nonsense() -> None:
    with pytest.raises(InvalidInputError, match="console.retention_days"):
        retention_from({"retention_days": "a week"})
