"""Routing by severity and tier, and what each notification says."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dcops.errors import InvalidInputError
from dcops.notify import outbox, render
from dcops.notify.config import load_notify_config
from dcops.patrol.escalate import Silence
from dcops.patrol.model import IncidentStatus, Severity
from tests.integration.patrol.helpers import psu_incident

CONFIG = {
    "receivers": [{"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:9"},
                  {"name": "chat", "type": "wecom", "url": "http://127.0.0.1:9/w"},
                  {"name": "mail", "type": "email", "to": ["a@b"], "smtp": {"host": "127.0.0.1"}},
                  {"name": "tickets", "type": "webhook", "url": "http://127.0.0.1:9/t"}],
    "routes": [{"receivers": ["am"]},
               {"severity": ["warning"], "receivers": ["tickets"]},
               {"severity": ["critical", "emergency"], "tier": [1], "receivers": ["chat"]},
               {"severity": ["critical", "emergency"], "tier": [2, 3], "receivers": ["mail"]}],
}


def test_opening_goes_to_tier_one_receivers_alertmanager_is_synced_not_queued() -> None:
    config = load_notify_config(CONFIG)
    incident = psu_incident()
    rows = outbox.plan(config, dt.datetime.now(dt.UTC), opened=[incident])
    assert [(r["receiver"], r["kind"]) for r in rows] == [("chat", "opened")]


def test_escalation_reaches_only_the_next_tier_and_resolution_everyone_who_heard() -> None:
    config = load_notify_config(CONFIG)
    incident = dataclasses.replace(psu_incident(), tier=2)
    now = dt.datetime.now(dt.UTC)
    assert [r["receiver"] for r in outbox.plan(config, now, escalated=[incident])] == ["mail"]
    done = dataclasses.replace(incident, status=IncidentStatus.RESOLVED, resolved_at=now)
    assert sorted(r["receiver"] for r in outbox.plan(config, now, resolved=[done])) == ["am", "chat", "mail"]


def test_warnings_go_to_tickets_and_silences_mute() -> None:
    config = load_notify_config(CONFIG)
    incident = dataclasses.replace(psu_incident(), severity=Severity.WARNING)
    now = dt.datetime.now(dt.UTC)
    assert [r["receiver"] for r in outbox.plan(config, now, opened=[incident])] == ["tickets"]
    mute = Silence(1, now + dt.timedelta(hours=1), rack="C0*")
    assert outbox.plan(config, now, opened=[incident], silences=[mute]) == []
    expired = Silence(2, now - dt.timedelta(seconds=1), rack="C0*")
    assert len(outbox.plan(config, now, opened=[incident], silences=[expired])) == 1


def test_bad_config_names_the_problem() -> None:
    with pytest.raises(InvalidInputError, match="unknown receiver"):
        load_notify_config({"receivers": [], "routes": [{"receivers": ["nope"]}]})
    with pytest.raises(InvalidInputError, match="needs a url"):
        load_notify_config({"receivers": [{"name": "x", "type": "webhook"}]})


def test_the_text_answers_what_where_which_part_and_warranty() -> None:
    text = render.as_text("opened", psu_incident().to_json())
    assert "trade-db-01" in text and "sh1/r3/C04 U17" in text
    assert "S/N PS45GWZFUE92J3" in text and "model 865414-B21" in text
    assert "warranty: until 2027-06-30 (500 days left), CT-1, HPE Pointnext" in text
    assert "Power Supply Failure (Power Supply 1)." in text
    alert = render.alertmanager_alert(psu_incident().to_json(), ends_at=None)
    assert set(alert["labels"]) >= {"alertname", "severity", "host", "site", "rack", "part_id", "incident_id"}


def test_a_reminder_without_an_incident_id_offers_nothing_to_ack() -> None:
    reminder = {**psu_incident().to_json(), "id": None, "summary": "warranty ends in 30 days"}
    for text in (render.as_text("opened", reminder), render.as_markdown("opened", reminder),
                 render.title("opened", reminder)):
        assert "alerts ack" not in text and "#None" not in text
    assert "dcops alerts ack" in render.as_text("opened", psu_incident().to_json())
