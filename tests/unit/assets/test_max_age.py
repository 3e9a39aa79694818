"""`dcops assets reconcile --max-age`: snapshots older than the age are reported as `stale` (once
each, with the row they belong to), never compared as if current, never turned into a `missing`
row or an `unexpected` server; and a row named by a current snapshot is never paired with old data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.assets import store as asset_store
from dcops.assets.model import AssetSnapshot, Placement
from dcops.assets.reconcile import BookEntry, Kind, reconcile
from dcops.cli.main import main
from dcops.models import Location
from dcops.store import open_store

NOW = dt.datetime.now(dt.UTC)
OLD = NOW - dt.timedelta(days=40)


def _snap(host: str, serial: str, taken_at: dt.datetime, *, model: str = "PowerEdge R750", u: int = 1,
          port: int = 443) -> AssetSnapshot:
    return AssetSnapshot(host=host, taken_at=taken_at, bmc=f"10.0.0.{port % 100}:{port}", manufacturer="Dell Inc.",
                         model=model, serial=serial, placement=Placement(site="sh1", rack="A01", u=u))


def _row(name: str, serial: str, *, u: int = 1, port: int = 443) -> dict[str, object]:
    return {"name": name, "site": "sh1", "rack": "A01", "u": u, "bmc": {"address": f"10.0.0.{port % 100}", "port": port},
            "vendor": "Dell", "model": "PowerEdge R750", "asset": {"serial": serial}}


def test_stale_snapshots_are_reported_not_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    book = tmp_path / "book.yaml"
    book.write_text(yaml.safe_dump({"version": 1, "defaults": {"bmc": {"username": "root", "password": "env:X"}},
                                    "hosts": [_row("fresh-01", "FRESH01", u=1, port=8001),
                                              _row("old-01", "OLD01", u=3, port=8002)]}, sort_keys=False))
    store = open_store(f"sqlite:///{tmp_path}/state.db")
    try:
        # fresh-01: collected now, one U off (a discrepancy that must still be found).
        # old-01: collected 40 days ago, when it said another model and U (since fixed, maybe).
        # gone-01: a server not in the book, last seen 40 days ago.
        asset_store.save_collection(store, [_snap("old-01", "OLD01", OLD, model="PowerEdge R640", u=9, port=8002),
                                            _snap("gone-01", "GONE01", OLD, port=8003)], at=OLD)
        asset_store.save_collection(store, [_snap("fresh-01", "FRESH01", NOW, u=2, port=8001)])
    finally:
        store.close()

    def run(*extra: str) -> tuple[int, dict[str, Any]]:
        code = main(["assets", "reconcile", "-i", str(book), "-o", "json", *extra])
        out, err = capsys.readouterr()
        assert code in (0, 1), err
        return code, json.loads(out)

    # Without --max-age the old snapshots are compared as if current.
    code, plain = run()
    kinds = sorted((i["kind"], i["host"] or i["observed"]) for i in plain["items"])
    assert kinds == [("location_differs", "fresh-01"), ("location_differs", "old-01"), ("model_differs", "old-01"),
                     ("unexpected", "gone-01")]

    code, aged = run("--max-age", "30d")
    assert code == 1
    items = aged["items"]
    assert [(i["kind"], i["host"], i["observed"], i["matched_by"]) for i in items] == [
        ("location_differs", "fresh-01", "fresh-01", "serial"),
        ("stale", None, "gone-01", None),
        ("stale", "old-01", "old-01", "serial")]
    old = items[2]
    assert old["found"] == OLD.isoformat(timespec="seconds")
    assert f"last collected {OLD.date().isoformat()}" in old["detail"] and "not compared" in old["detail"]
    summary = aged["summary"]
    assert summary["matched"] == 1 and summary["stale"] == 2 and summary["matched_stale"] == 1
    assert summary["by_kind"] == {"location_differs": 1, "stale": 2}

    # Nothing old enough: as without the option.
    code, wide = run("--max-age", "1y")
    assert wide["items"] == plain["items"]

    code = main(["assets", "reconcile", "-i", str(book), "--max-age", "0d"])
    assert code == 2 and "--max-age" in capsys.readouterr().err


def test_a_row_named_by_a_current_snapshot_is_not_paired_with_old_data() -> None:
    # The server behind serial S1 was collected as "a" 40 days ago and as "b" today (renamed):
    # the row matches today's snapshot; the old one is stale and no row is missing.
    row = BookEntry(name="b", serial="S1", bmc="10.0.0.2:443", location=Location(site="sh1"))
    old = _snap("a", "S1", OLD, port=443)
    new = AssetSnapshot(host="b", taken_at=NOW, bmc="10.0.0.2:443", manufacturer="Dell Inc.", serial="S1")
    result = reconcile([row], [old, new], stale_before=NOW - dt.timedelta(days=30))
    assert [(m.book, m.observed) for m in result.matches] == [("b", "b")]
    assert result.stale == []
    assert [(d.kind, d.host, d.observed) for d in result.discrepancies] == [(Kind.STALE, None, "a")]
    # Without a cut-off both compete and the current one still wins (name and address agree too).
    assert [(m.book, m.observed) for m in reconcile([row], [old, new]).matches] == [("b", "b")]
