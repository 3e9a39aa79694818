"""The part-history and warranty tables: tests/cases/assets/history.yaml and warranty.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.assets.history import diff_fleet
from dcops.assets.model import AssetSnapshot, PartKind
from dcops.assets.warranty import due_reminders, group_rows, parse_days, parse_thresholds, warranty_rows
from dcops.errors import UsageError
from dcops.models import AssetRecord, BmcEndpoint, Host
from tests.unit.assets.helpers import T0, part

CASES_DIR = Path(__file__).resolve().parents[2] / "cases" / "assets"
HISTORY = yaml.safe_load((CASES_DIR / "history.yaml").read_text())
WARRANTY = yaml.safe_load((CASES_DIR / "warranty.yaml").read_text())


def _fleet(data: dict[str, list[Any]], at: dt.datetime) -> dict[str, AssetSnapshot]:
    return {h: AssetSnapshot(host=h, taken_at=at, parts=tuple(part(p) for p in parts)) for h, parts in data.items()}


@pytest.mark.parametrize("case", HISTORY, ids=[c["name"] for c in HISTORY])
def test_history_case(case: dict[str, Any]) -> None:
    seen = {tuple(k.split(" ", 1)): tuple(v) for k, v in (case.get("last_seen") or {}).items()}

    def last_seen(kind: PartKind, serial: str) -> tuple[str, str] | None:
        return seen.get((kind.value, serial))  # type: ignore[return-value]

    later = T0 + dt.timedelta(days=1)
    events = diff_fleet(_fleet(case["previous"], T0), _fleet(case["current"], later), last_seen=last_seen)
    got = sorted([e.event.value, e.part_kind.value, e.host, e.slot, e.serial, e.old_serial, e.from_host]
                 for e in events)
    want = sorted(list(e) for e in case["expect"])
    assert got == want, [e.describe() for e in events]
    assert all(e.at == later for e in events)


def _host(name: str, end: dt.date | None, supplier: str | None, contract: str | None) -> Host:
    return Host(name=name, bmc=BmcEndpoint(address=f"10.0.0.{len(name)}"),
                asset=AssetRecord(serial=f"SN-{name}", warranty_end=end, supplier=supplier, contract=contract))


@pytest.mark.parametrize("case", WARRANTY, ids=[c["name"] for c in WARRANTY])
def test_warranty_case(case: dict[str, Any]) -> None:
    hosts = [_host(*row) for row in case["hosts"]]
    rows = warranty_rows(hosts, case["today"], within=case["within"])
    assert {r.host: r.status.value for r in rows} == case["expect"]["status"]
    assert {r.host: r.days_left for r in rows} == case["expect"]["days_left"]
    sent = {(h, t, d) for h, t, d in case["sent"]}
    due = due_reminders(rows, case["thresholds"], sent=sent)
    assert sorted([r.host, r.threshold] for r in due) == sorted(case["expect"]["reminders"])
    assert [[g.supplier, g.contract, g.hosts] for g in group_rows(rows)] == case["expect"]["groups"]


def test_durations_and_thresholds() -> None:
    assert [parse_days(t) for t in ("90d", "12w", "6m", "1y", "45")] == [90, 84, 180, 365, 45]
    assert parse_thresholds("7d,90d,30d,0") == (90, 30, 7, 0)
    with pytest.raises(UsageError):
        parse_days("soon")
