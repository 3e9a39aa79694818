"""Notifications reach real peers: Alertmanager (Debian package) keeps a dcops incident firing
across re-sends and resolves it; mail reaches a real SMTP server; webhooks get JSON or markdown;
a failed delivery stays in the outbox across a restart and is sent exactly once when the peer is
back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest

from dcops.notify import outbox
from dcops.notify import store as outbox_store
from dcops.notify.config import load_notify_config
from dcops.patrol import store as pstore
from dcops.patrol.model import IncidentStatus
from dcops.store import open_store
from tests.integration.patrol.helpers import psu_incident
from tests.integration.patrol.peers import alertmanager, http_json, smtp_server, wait_for, webhook

pytestmark = pytest.mark.timeout(90)


def _active(am_url: str, incident_id: int) -> list[dict]:
    alerts = http_json(f"{am_url}/api/v2/alerts")
    return [a for a in alerts if a["labels"].get("incident_id") == str(incident_id)
            and a["status"]["state"] == "active"]


def test_alertmanager_keeps_incident_firing_and_resolves_it(tmp_path: Path) -> None:
    with alertmanager(tmp_path / "am") as am:
        config = load_notify_config({"receivers": [{"name": "am", "type": "alertmanager", "url": am.url}],
                                     "routes": [{"receivers": ["am"]}]})
        incident = psu_incident()
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        pstore.save_incident(store, incident)
        # Re-sent every round with endsAt only 5s ahead: it must stay firing well past that. (The
        # hold is 5x the round, so a busy machine delaying one round by a few seconds is no expiry.)
        errors = outbox.sync_alertmanager(config, [incident], dt.datetime.now(dt.UTC), hold_seconds=5)
        assert not errors
        [alert] = wait_for(lambda: _active(am.url, incident.id), 10, "the alert in Alertmanager")
        assert alert["labels"]["alertname"] == "DcopsPartHealth"
        assert alert["labels"]["severity"] == "critical" and alert["labels"]["rack"] == "C04"
        assert alert["annotations"]["serial"] == "PS45GWZFUE92J3"
        assert alert["annotations"]["warranty_end"] == "2027-06-30"
        started = time.monotonic()
        while time.monotonic() - started < 11:  # rounds every second, beyond two hold periods
            outbox.sync_alertmanager(config, [incident], dt.datetime.now(dt.UTC), hold_seconds=5)
            assert _active(am.url, incident.id), "the alert stopped firing while dcops kept sending it"
            time.sleep(1)
        # Resolved: the resolution goes through the outbox with endsAt.
        now = dt.datetime.now(dt.UTC)
        resolved = dataclasses.replace(incident, status=IncidentStatus.RESOLVED, resolved_at=now,
                                       resolved_by="patrol")
        rows = outbox.plan(config, now, resolved=[resolved])
        assert [r["receiver"] for r in rows] == ["am"]
        pstore.save_incident(store, resolved, rows)
        counts = outbox.deliver_due(store, config, now)
        assert counts["delivered"] == 1
        wait_for(lambda: not _active(am.url, incident.id), 10, "Alertmanager to resolve the alert")


def test_mail_reaches_a_real_smtp_server(tmp_path: Path) -> None:
    with smtp_server() as box:
        config = load_notify_config({
            "receivers": [{"name": "mail", "type": "email", "to": ["sre@example.com"], "from": "dcops@example.com",
                           "smtp": {"host": box.host, "port": box.port}}],
            "routes": [{"severity": ["critical"], "receivers": ["mail"]}]})
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        incident = psu_incident()
        now = dt.datetime.now(dt.UTC)
        pstore.save_incident(store, incident, outbox.plan(config, now, opened=[incident]))
        assert outbox.deliver_due(store, config, now)["delivered"] == 1
        [msg] = wait_for(lambda: box.messages, 5, "the mail")
        assert "trade-db-01" in msg["Subject"] and "CRITICAL" in msg["Subject"]
        body = msg.get_payload(decode=True).decode()
        assert "S/N PS45GWZFUE92J3" in body and "sh1/r3/C04 U17" in body and "until 2027-06-30" in body


def test_webhooks_retry_survive_a_restart_and_deliver_once(tmp_path: Path) -> None:
    with webhook() as hook:
        config = load_notify_config({
            "receivers": [{"name": "hook", "type": "webhook", "url": hook.url + "/dcops"},
                          {"name": "wecom", "type": "wecom", "url": hook.url + "/wecom"},
                          {"name": "ding", "type": "dingtalk", "url": hook.url + "/ding"}],
            "routes": [{"receivers": ["hook", "wecom", "ding"]}]})
        url = f"sqlite:///{tmp_path}/s.db"
        store = open_store(url)
        incident = psu_incident()
        now = dt.datetime.now(dt.UTC)
        pstore.save_incident(store, incident, outbox.plan(config, now, opened=[incident]))
        hook.fail = True
        counts = outbox.deliver_due(store, config, now)
        assert counts == {"delivered": 0, "failed": 3, "given_up": 0, "deferred": 0}
        assert outbox_store.outbox_counts(store)["pending"] == 3
        store.close()
        # "Restart": a new process opens the same store; the peer is back.
        hook.fail = False
        store = open_store(url)
        later = now + dt.timedelta(minutes=5)
        assert outbox.deliver_due(store, config, later)["delivered"] == 3
        assert outbox.deliver_due(store, config, later + dt.timedelta(minutes=5))["delivered"] == 0
        paths = sorted(p for p, _ in hook.received)
        assert paths == ["/dcops", "/ding", "/wecom"]
        bodies = dict(hook.received)
        assert bodies["/dcops"]["incident"]["info"]["serial"] == "PS45GWZFUE92J3"
        assert bodies["/wecom"]["msgtype"] == "markdown" and "C04 U17" in bodies["/wecom"]["markdown"]["content"]
        assert "PS45GWZFUE92J3" in bodies["/ding"]["markdown"]["text"]


def test_a_refusal_inside_a_200_answer_is_a_failed_delivery(tmp_path: Path) -> None:
    with webhook() as hook:
        hook.errcode = 93000  # WeCom: invalid webhook key
        config = load_notify_config({"receivers": [{"name": "wecom", "type": "wecom", "url": hook.url + "/w"}],
                                     "routes": [{"receivers": ["wecom"]}]})
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        incident = psu_incident()
        now = dt.datetime.now(dt.UTC)
        pstore.save_incident(store, incident, outbox.plan(config, now, opened=[incident]))
        assert outbox.deliver_due(store, config, now)["failed"] == 1
        [item] = outbox_store.outbox_items(store)
        assert "93000" in item["last_error"] and item["delivered_at"] is None
