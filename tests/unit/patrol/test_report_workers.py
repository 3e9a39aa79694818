"""Per-worker figures of the patrol report (``report.worker_figures``, pure) and the worker named
by `dcops alerts list` and `dcops patrol report` (JSON checked against docs/schemas by conftest)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from dcops.patrol import store as pstore
from dcops.patrol.report import render_markdown, report_data, worker_figures
from dcops.store import open_store
from tests.helpers.cli import SITE, run
from tests.integration.patrol.helpers import psu_incident

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _round(minutes_ago: float, worker: str | None, hosts: int, duration: float | None = 2.0) -> dict[str, Any]:
    start = NOW - dt.timedelta(minutes=minutes_ago)
    return {"started_at": start, "finished_at": start + dt.timedelta(seconds=duration or 0),
            "hosts": hosts, "worker": worker, "duration_seconds": duration}


@pytest.mark.parametrize(("rounds", "rows", "expect"), [
    ([], {}, []),  # nothing in the period
    ([_round(3, None, 10), _round(2, None, 10)], {"h": {"worker": None}}, []),  # one dcops serve: no workers
    ([_round(3, "w2", 5), _round(3, "w1", 4, 4.0), _round(2, "w1", 6, None), _round(1, "w2", 7)],
     {"a": {"worker": "w1"}, "b": {"worker": "w2"}, "c": {"worker": "w2"}, "d": {"worker": "gone"}},
     [{"worker": "w1", "rounds": 2, "hosts": 6, "hosts_read_last": 1, "last_round_age_seconds": 120.0,
       "avg_round_seconds": 4.0},
      {"worker": "w2", "rounds": 2, "hosts": 7, "hosts_read_last": 2, "last_round_age_seconds": 58.0,
       "avg_round_seconds": 2.0}]),
])
def test_worker_figures(rounds: list[dict[str, Any]], rows: dict[str, dict[str, Any]],
                        expect: list[dict[str, Any]]) -> None:
    got = worker_figures(rounds, rows, NOW)
    assert [{k: v for k, v in w.items() if k != "last_round_at"} for w in got] == expect
    for w in got:
        assert dt.datetime.fromisoformat(w["last_round_at"]) <= NOW


def test_the_markdown_has_a_worker_table_only_when_there_are_workers() -> None:
    data = report_data({}, [], [], [], NOW - dt.timedelta(days=1), NOW)
    data["summary"]["workers"] = []
    assert "| worker |" not in render_markdown(data)
    data["summary"]["workers"] = worker_figures([_round(1, "dc1-patrol-1", 12)], {}, NOW)
    text = render_markdown(data)
    assert "| worker |" in text and "| dc1-patrol-1 | 1 | 12 |" in text and "58.0 s ago" in text


def test_alerts_list_and_patrol_report_name_the_worker(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("DCOPS_STATE", url)
    store = open_store(url)
    now = dt.datetime.now(dt.UTC)
    pstore.save_incident(store, psu_incident(now, host="trade-db-01"))
    pstore.save_round(store, round_row={"started_at": now, "finished_at": now, "hosts": 1, "reachable": 1,
                                        "unreachable": 0, "missed": 0, "events": 1, "opened": 1, "resolved": 0,
                                        "duration_seconds": 1.5, "worker": "dc1-patrol-1", "epoch": 7},
                      host_rows=[{"host": "trade-db-01", "observed_at": now, "reachable": True,
                                  "worker": "dc1-patrol-1"}])
    store.close()
    _, out, _ = run(capsys, "alerts", "list", "-o", "json")
    [item] = json.loads(out)["items"]
    assert item["worker"] == "dc1-patrol-1"
    _, out, _ = run(capsys, "alerts", "list")
    assert "WORKER" in out and "dc1-patrol-1" in out
    _, out, _ = run(capsys, "-i", SITE, "patrol", "report", "-o", "json")
    [w] = json.loads(out)["summary"]["workers"]
    assert (w["worker"], w["rounds"], w["hosts"], w["hosts_read_last"]) == ("dc1-patrol-1", 1, 1, 1)
    _, out, _ = run(capsys, "-i", SITE, "patrol", "report")
    assert "| dc1-patrol-1 | 1 | 1 | 1 |" in out


def test_one_serve_names_no_worker(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("DCOPS_STATE", url)
    store = open_store(url)
    pstore.save_incident(store, psu_incident(dt.datetime.now(dt.UTC)))
    store.close()
    _, out, _ = run(capsys, "alerts", "list", "-o", "json")
    assert json.loads(out)["items"][0]["worker"] is None
    _, out, _ = run(capsys, "alerts", "list")
    assert "WORKER" not in out


def test_a_rack_incident_names_the_worker_of_its_hosts(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A rack incident's host is its rack path (no row of its own); one worker patrols a whole
    rack, so the worker of the hosts its symptoms name is the rack's."""
    import dataclasses

    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("DCOPS_STATE", url)
    store = open_store(url)
    now = dt.datetime.now(dt.UTC)
    host_incident = psu_incident(now, host="trade-db-01")
    rack = dataclasses.replace(host_incident, id=host_incident.id + 100, host="sh1/r3/C04", key="rack:sh1/r3/C04",
                               children=[{"host": "trade-db-07"}, {"host": "trade-db-08"}])
    pstore.save_incident(store, rack)
    pstore.save_round(store, round_row={"started_at": now, "finished_at": now, "hosts": 2, "reachable": 0,
                                        "unreachable": 2, "missed": 0, "events": 2, "opened": 1, "resolved": 0,
                                        "duration_seconds": 1.5, "worker": "dc2-patrol-1", "epoch": 7},
                      host_rows=[{"host": "trade-db-07", "observed_at": now, "reachable": False, "worker": None},
                                 {"host": "trade-db-08", "observed_at": now, "reachable": False,
                                  "worker": "dc2-patrol-1"}])
    store.close()
    _, out, _ = run(capsys, "alerts", "list", "-o", "json")
    [item] = json.loads(out)["items"]
    assert item["host"] == "sh1/r3/C04" and item["worker"] == "dc2-patrol-1"
