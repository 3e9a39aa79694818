"""The asset store on SQLite and PostgreSQL (snapshots, events, serial index, reconcile results,
reminders), and the exporter collector's exposition."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess

from prometheus_client import CollectorRegistry, generate_latest

from dcops.assets import store as asset_store
from dcops.assets.history import EventKind
from dcops.assets.notify import plan_reminders
from dcops.assets.warranty import Reminder, WarrantyRow, WarrantyStatus
from dcops.exporter.collectors.assets import AssetsCollector, AssetsView
from dcops.notify import store as outbox_store
from dcops.notify.config import load_notify_config
from dcops.store import open_store
from tests.unit.assets.helpers import T0, snapshot


def test_store_round_trip_and_events(store_url: str) -> None:
    store = open_store(store_url)
    try:
        a = snapshot({"host": "a", "serial": "SA", "uuid": "u-a", "placement": {"rack": "A01", "u": 3},
                      "parts": [["dimm", "1/A1", "D1"], ["drive", "1/Bay0", "S1", "X"]]})
        b = snapshot({"host": "b", "serial": "SB", "parts": [["drive", "1/Bay0", "S2"]]})
        assert asset_store.save_collection(store, [a, b], {"c": "c: login refused"}) == []
        later = T0 + dt.timedelta(days=1)
        a2 = dataclasses.replace(snapshot({"host": "a", "serial": "SA", "parts": [["dimm", "1/A1", "D9"]]}),
                                 taken_at=later)
        b2 = dataclasses.replace(snapshot({"host": "b", "serial": "SB", "parts": [["drive", "1/Bay0", "S2"],
                                                                                 ["drive", "1/Bay1", "S1"]]}),
                                 taken_at=later)
        events = asset_store.save_collection(store, [a2, b2])
        assert sorted((e.event, e.host) for e in events) == [(EventKind.MOVED, "b"), (EventKind.REPLACED, "a")]
        latest = asset_store.latest_snapshots(store, full=True)
        assert [s.host for s in latest] == ["a", "b"] and latest[0].parts == a2.parts
        summary_only = asset_store.latest_snapshots(store)
        assert summary_only[0].parts == () and summary_only[0].serial == "SA"
        first = asset_store.snapshot_history(store, "a")[-1]
        assert first.placement is not None and first.placement.rack == "A01" and first.uuid == "u-a"
        assert [e.event for e in asset_store.part_events(store, serial="S1")] == [EventKind.MOVED]
        assert [(w["host"], w["present"]) for w in asset_store.where_is(store, "s1")] == [("b", True)]
        assert [(w["host"], w["present"]) for w in asset_store.where_is(store, "D1")] == [("a", False)]
        status = {r["host"]: r for r in asset_store.host_status(store)}
        assert status["c"]["last_error"] == "c: login refused" and status["c"]["last_success_at"] is None
        assert status["a"]["last_success_at"] == later
        assert set(asset_store.last_collections(store)) == {"a", "b"}
        assert ("b", "drive_serial", "S1") in asset_store.part_serial_records(store)

        asset_store.save_reconcile(store, {"missing": 2}, {"matched": 5}, [{"kind": "missing"}], book="b.yaml")
        assert asset_store.latest_reconcile(store)["counts"] == {"missing": 2}  # type: ignore[index]
        key = ("a", 30, dt.date(2026, 1, 1))
        asset_store.record_reminders(store, [key], channel="report")
        asset_store.record_reminders(store, [key], channel="sre-mail")  # idempotent
        assert asset_store.sent_reminders(store) == {key}

        # Reminders queued in the notification outbox with their record, in one transaction.
        reminder = Reminder("b", 7, 5, dt.date(2026, 1, 6), "Dell", "CT-1", None, "SB", "sh1", "A01")
        config = load_notify_config({"receivers": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9"},
                                                   {"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:9"}],
                                     "routes": [{"kind": ["warranty"], "receivers": ["hook", "am"]}]})
        rows, channels = plan_reminders([reminder], config, later)
        assert channels == {reminder.key: "hook"}  # Alertmanager receivers are skipped
        asset_store.queue_reminders(store, channels, rows, at=later)
        assert reminder.key in asset_store.sent_reminders(store)
        [queued] = asset_store.queued_reminders(store)
        assert queued["receiver"] == "hook" and queued["incident"] is None and queued["kind"] == "warranty"
        [item] = queued["payload"]["incident"]["digest"]
        assert (item["host"], item["site"], item["rack"]) == ("b", "sh1", "A01")
        outbox_store.mark_delivered(store, [queued["id"]], later)
        assert asset_store.queued_reminders(store) == []
    finally:
        store.close()


def test_exporter_exposition() -> None:
    rows = (WarrantyRow("h1", "S1", "Dell", "CT-1", "ProSupport", dt.date(2025, 3, 1), 59, WarrantyStatus.EXPIRING),
            WarrantyRow("h2", None, None, None, None, None, None, WarrantyStatus.UNKNOWN))
    view = AssetsView(warranty=rows, discrepancies={"missing": 2, "location_differs": 1},
                      reconciled_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                      collections={"h1": dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)})
    registry = CollectorRegistry()
    registry.register(AssetsCollector(lambda: view))
    text = generate_latest(registry).decode()
    assert 'dcops_assets_warranty_remaining_seconds{host="h1"} 5.0976e+06' in text  # 59 days
    assert 'dcops_assets_warranty_info{contract="CT-1",host="h1",service_provider="ProSupport",supplier="Dell"} 1.0' \
        in text
    assert 'dcops_assets_warranty_remaining_seconds{host="h2"}' not in text
    assert 'dcops_assets_discrepancies{kind="missing"} 2.0' in text
    assert 'dcops_assets_discrepancies{kind="duplicate_serial"} 0.0' in text
    assert 'dcops_assets_last_collection_timestamp_seconds{host="h1"} 1.7357328e+09' in text
    assert "dcops_assets_collector_success 1.0" in text
    promtool = shutil.which("promtool")
    if promtool:
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr


def test_exporter_survives_a_broken_store() -> None:
    def broken() -> AssetsView:
        raise RuntimeError("database is locked")

    registry = CollectorRegistry()
    registry.register(AssetsCollector(broken))
    text = generate_latest(registry).decode()
    assert "dcops_assets_collector_success 0.0" in text and "warranty" not in text
