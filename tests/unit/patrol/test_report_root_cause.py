"""The daily report's figures (patrol.report.report_data, pure): incidents by root cause with
MTTD/MTTR, and expired warranties apart from those about to expire."""

from __future__ import annotations

import datetime as dt

from dcops.models import AssetRecord, BmcEndpoint, Host, Location
from dcops.patrol.model import Condition, Incident, IncidentStatus, PartInfo, Severity
from dcops.patrol.report import render_markdown, report_data

NOW = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(days=1)


def host(name: str, warranty_days: int | None) -> Host:
    end = NOW.date() + dt.timedelta(days=warranty_days) if warranty_days is not None else None
    return Host(name, BmcEndpoint("127.0.0.1"), Location(site="dc1", room="r1", rack="A01"),
                asset=AssetRecord(warranty_end=end, contract="CT-9"))


def incident(id: int, condition: Condition, kind: str, opened_min: float, detect_min: float,
             resolved_after_min: float | None, children: int = 0, flapping: bool = False) -> Incident:
    opened = SINCE + dt.timedelta(minutes=opened_min)
    return Incident(id=id, key=f"h{id}|p|{condition.value}", host=f"h{id}", part="p", condition=condition,
                    severity=Severity.CRITICAL, summary="s",
                    status=IncidentStatus.RESOLVED if resolved_after_min is not None else IncidentStatus.OPEN,
                    opened_at=opened, first_seen_at=opened - dt.timedelta(minutes=detect_min), last_seen_at=opened,
                    info=PartInfo(kind=kind), children=[{"key": str(n)} for n in range(children)],
                    diagnosis={"flapping": True} if flapping else {},
                    resolved_at=opened + dt.timedelta(minutes=resolved_after_min)
                    if resolved_after_min is not None else None)


def test_incidents_by_root_cause_with_mttd_and_mttr() -> None:
    incidents = [incident(1, Condition.HEALTH, "fan", 10, 1, 30, children=1),
                 incident(2, Condition.HEALTH, "fan", 20, 3, 50),
                 incident(3, Condition.HEALTH, "psu", 30, 1, None, children=4),
                 incident(4, Condition.SENSOR_HIGH, "sensor/temperature", 40, 5, None, flapping=True)]
    data = report_data({}, [], [], incidents, SINCE, NOW)
    causes = {(c["condition"], c["kind"]): c for c in data["by_root_cause"]}
    fan = causes[("health", "fan")]
    assert (fan["incidents"], fan["open"], fan["symptoms"], fan["mttd_minutes"], fan["mttr_minutes"]) == \
        (2, 0, 1, 2.0, 40.0)
    assert causes[("health", "psu")]["open"] == 1 and causes[("health", "psu")]["mttr_minutes"] is None
    assert causes[("sensor_high", "sensor/temperature")]["flapping"] == 1
    s = data["summary"]
    assert (s["root_causes"], s["symptoms_folded"], s["flapping"], s["mttd_minutes"], s["mttr_minutes"]) == \
        (3, 5, 1, 2.5, 40.0)
    text = render_markdown(data)
    assert "## Incidents by root cause" in text and "| health | fan | 2 | 0 | 1 | 0 | 2.0 | 40.0 |" in text


def test_expired_warranties_have_their_own_section() -> None:
    hosts = [host("soon", 20), host("later", 80), host("gone", -400), host("just", -1), host("far", 500),
             host("unknown", None)]
    data = report_data({}, hosts, [], [], SINCE, NOW)
    assert [w["host"] for w in data["warranty"]] == ["soon", "later"]
    assert [w["host"] for w in data["warranty_expired"]] == ["gone", "just"]
    s = data["summary"]
    assert (s["warranty_expiring_90d"], s["warranty_expiring_30d"], s["warranty_expired"]) == (2, 1, 2)
    text = render_markdown(data)
    expiring = text.split("## Warranty expiring")[1].split("##")[0]
    assert "gone" not in expiring and "soon" in expiring
    assert "| gone | dc1/r1/A01 |" in text.split("## Warranty expired (2)")[1]
