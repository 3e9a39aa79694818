"""The daily patrol report: severity summary, breakdown by role and business use, expired and
expiring warranties apart, no "None" anywhere, an incident table narrow enough to read."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from dcops.inventory import load_inventory
from dcops.patrol import store as pstore
from dcops.patrol.model import Severity
from dcops.patrol.report import build_report, render_html, render_markdown
from dcops.store import open_store
from tests.integration.patrol.helpers import psu_incident

SITE = Path(__file__).resolve().parents[3] / "inventories" / "site.yaml"


def _report(tmp_path: Path, today: dt.datetime) -> dict:  # type: ignore[type-arg]
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    first = psu_incident(today - dt.timedelta(hours=2), host="trade-db-01")
    second = dataclasses.replace(psu_incident(today - dt.timedelta(hours=1), host="web-01"), id=first.id + 1,
                                 severity=Severity.WARNING, summary="PSU2: health warning " + "x" * 80)
    pstore.save_incident(store, first)
    pstore.save_incident(store, second)
    return build_report(store, list(load_inventory([SITE]).hosts), today - dt.timedelta(hours=24), today)


def test_severity_role_use_and_warranty_apart(tmp_path: Path) -> None:
    today = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
    data = _report(tmp_path, today)
    s = data["summary"]
    assert s["incidents_by_severity"]["critical"] == {"opened": 1, "open": 1}
    assert s["incidents_by_severity"]["warning"] == {"opened": 1, "open": 1}
    assert s["incidents_by_severity"]["emergency"] == {"opened": 0, "open": 0}
    assert data["by_role"]["db"]["incidents"] == 1 and data["by_role"]["web"]["incidents"] == 1
    assert sum(v["hosts"] for v in data["by_role"].values()) == 47
    assert sum(v["hosts"] for v in data["by_use"].values()) == 47
    assert all(w["days_left"] < 0 for w in data["warranty_expired"])
    assert all(0 <= w["days_left"] <= 90 for w in data["warranty"])
    assert s["warranty_expired"] == len(data["warranty_expired"]) > 0
    assert s["warranty_expiring_90d"] == len(data["warranty"])


def test_the_rendered_report_never_says_none_and_its_table_fits(tmp_path: Path) -> None:
    data = _report(tmp_path, dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC))  # no rounds: averages unknown
    text = render_markdown(data)
    assert "None" not in text and "None" not in render_html(data)
    assert "average round n/a" in text and "to resolve n/a" in text
    assert "## Warranty expired (" in text and "## Warranty expiring within 90 days" in text
    assert "## By role" in text and "## By business use" in text
    incident_rows = [line for line in text.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert incident_rows and all(line.count(" | ") == 7 for line in incident_rows)  # eight columns
    assert "x" * 60 not in text and "…" in text  # a long summary is cut
