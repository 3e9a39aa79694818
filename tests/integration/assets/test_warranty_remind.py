"""`dcops assets warranty --remind` delivers for real: mail to a real SMTP server (aiosmtpd) and
JSON to a loopback webhook receiver, as one digest per receiver per run, through the routes that
carry `kind: [warranty]` only (the incident routes never see them), once per threshold and
warranty end (a second run sends nothing, a new threshold crossing sends that one); Alertmanager
receivers are skipped. A run killed before its digests were delivered leaves them in the
notification outbox, and the next run delivers each exactly once; a refused delivery stays queued
(exit 4) for the run after."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.assets import store as asset_store
from dcops.cli.main import main
from dcops.notify import store as outbox_store
from dcops.store import open_store
from tests.helpers.receivers import smtp_server, webhook
from tests.helpers.simfleet import wait_for

pytestmark = pytest.mark.timeout(120)

BOOK = {
    "version": 1,
    "defaults": {"bmc": {"protocol": "redfish", "username": "root", "password": "env:UNUSED_BMC_PW"}},
    "hosts": [
        # On 2025-06-01: 31 days left (the 90-day reminder); on 2025-06-02: 30 (the 30-day one).
        {"name": "web-01", "site": "sh1", "bmc": {"address": "10.0.0.1"},
         "asset": {"serial": "WEB01SN", "warranty_end": "2025-07-02", "contract": "CT-2021-0418",
                   "supplier": "Huaxin", "service_provider": "Dell ProSupport"}},
        # 5 days left: the 7-day reminder only (not 90, 30 and 7 at once); 4 the day after: nothing new.
        {"name": "db-01", "site": "sh1", "bmc": {"address": "10.0.0.2"},
         "asset": {"serial": "DB01SN", "warranty_end": "2025-06-06", "contract": "CT-2022-0907", "supplier": "UNIS"}},
        # Expired a month ago: the 0-day reminder, critical.
        {"name": "old-01", "site": "sh1", "bmc": {"address": "10.0.0.3"},
         "asset": {"serial": "OLD01SN", "warranty_end": "2025-05-01", "contract": "CT-2019-0001"}},
        # Two years left: nothing.
        {"name": "new-01", "site": "sh1", "bmc": {"address": "10.0.0.4"},
         "asset": {"serial": "NEW01SN", "warranty_end": "2027-06-01"}},
    ],
}


def _write(tmp: Path, receivers: list[dict[str, Any]], route: list[str],
           oncall: list[str] | None = None) -> tuple[Path, Path]:
    book, config = tmp / "book.yaml", tmp / "config.yaml"
    book.write_text(yaml.safe_dump(BOOK, sort_keys=False))
    routes = [{"kind": ["warranty"], "receivers": route}] + ([{"receivers": oncall}] if oncall else [])
    config.write_text(yaml.safe_dump({"notify": {"receivers": receivers, "routes": routes}}))
    return book, config


def _subject(mail: Any) -> str:
    return " ".join(str(mail["Subject"]).split())  # unfolded


def _remind(capsys: pytest.CaptureFixture[str], book: Path, config: Path, today: str) -> tuple[int, dict[str, Any]]:
    code = main(["assets", "warranty", "-i", str(book), "--config", str(config), "--remind", "--today", today,
                 "-o", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err  # 1: warranties expired or expiring; never 4 (a delivery failed)
    return code, json.loads(out)["summary"]


def test_reminders_reach_smtp_and_webhook_once_per_threshold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    with smtp_server() as box, webhook() as hook:
        book, config = _write(tmp_path, [
            {"name": "mail", "type": "email", "to": ["sre@example.com"], "from": "dcops@example.com",
             "smtp": {"host": box.host, "port": box.port}},
            {"name": "hook", "type": "webhook", "url": hook.url + "/cmdb"},
            # Skipped for reminders (alert on the metric instead): never contacted, so no error.
            {"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:9"},
        ], ["mail", "hook", "am"])

        code, summary = _remind(capsys, book, config, "2025-06-01")
        assert code == 1
        assert summary["reminders_due"] == 3 and summary["reminders_sent"] == 3
        # One digest per receiver: one mail and one post for the three reminders.
        assert summary["notifications_sent"] == 2 and summary["notifications_pending"] == 0
        assert summary["channel"] == "hook,mail"
        mails = wait_for(lambda: len(box.messages) >= 1 and box.messages, 5, "the digest mail")
        assert len(mails) == 1
        subject = _subject(mails[0])
        assert "[dcops WARRANTY CRITICAL] warranty digest: 1 expired, 2 ending within 31 days" in subject
        body = mails[0].get_payload(decode=True).decode()
        lines = body.splitlines()
        # Soonest first; the expired one first of all; no ack command (a digest is not an incident).
        assert [line.split(" ")[0] for line in lines[2:]] == ["old-01", "db-01", "web-01"]
        assert "web-01 (sh1): until 2025-07-02 (31 days left), S/N WEB01SN, CT-2021-0418, Dell ProSupport" in body
        assert "old-01 (sh1): until 2025-05-01 (expired 31 days ago)" in body
        assert "alerts ack" not in body
        assert [p for p, _ in hook.received] == ["/cmdb"]
        posted = hook.received[0][1]
        assert posted["event"] == "warranty" and posted["incident"]["severity"] == "critical"
        items = {i["host"]: i for i in posted["incident"]["digest"]}
        assert set(items) == {"web-01", "db-01", "old-01"}
        assert items["db-01"] == {"host": "db-01", "site": "sh1", "rack": None, "warranty_end": "2025-06-06",
                                  "days_left": 5, "threshold": 7, "serial": "DB01SN", "contract": "CT-2022-0907",
                                  "service_provider": None, "supplier": "UNIS"}

        # The same day again: nothing is due, nothing is sent.
        _, summary = _remind(capsys, book, config, "2025-06-01")
        assert summary["reminders_due"] == 0 and summary["notifications_sent"] == 0
        # The next day web-01 crosses 30 days: that reminder, and only that one.
        _, summary = _remind(capsys, book, config, "2025-06-02")
        assert summary["reminders_due"] == 1 and summary["notifications_sent"] == 2
        assert len(hook.received) == 2 and hook.received[-1][1]["incident"]["digest"][0]["days_left"] == 30
        wait_for(lambda: len(box.messages) == 2, 5, "the second mail")
        assert "1 ending within 30 days" in _subject(box.messages[-1])
        assert len(hook.received) == 2 and len(box.messages) == 2


def test_incident_routes_do_not_carry_warranty_reminders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    with webhook() as procurement, webhook() as oncall:
        book, config = _write(tmp_path, [{"name": "procurement", "type": "webhook", "url": procurement.url},
                                         {"name": "oncall", "type": "wecom", "url": oncall.url}],
                              ["procurement"], oncall=["oncall"])
        _, summary = _remind(capsys, book, config, "2025-06-01")
        assert summary["notifications_sent"] == 1 and summary["channel"] == "procurement"
        assert len(procurement.received) == 1 and oncall.received == []


def test_reminders_of_a_killed_run_are_delivered_by_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    state = f"sqlite:///{tmp_path}/state.db"
    monkeypatch.setenv("DCOPS_STATE", state)
    with smtp_server() as box, webhook() as hook:
        book, config = _write(tmp_path, [
            {"name": "hook", "type": "webhook", "url": hook.url + "/cmdb"},
            {"name": "mail", "type": "email", "to": ["sre@example.com"], "smtp": {"host": box.host, "port": box.port}},
        ], ["hook", "mail"])
        # The first run hangs on its first delivery (the receiver takes the request and never
        # answers) and is killed there: SIGKILL, nothing to clean up.
        hook.hold = True
        proc = subprocess.Popen(
            [sys.executable, "-m", "dcops", "assets", "warranty", "-i", str(book), "--config", str(config),
             "--remind", "--today", "2025-06-01", "-o", "json"],
            env={**os.environ, "DCOPS_STATE": state}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: hook.held or proc.poll() is not None, 30, "the first delivery to reach the receiver")
            assert proc.poll() is None, proc.communicate()
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=10)
        assert hook.received == [] and box.messages == []
        store = open_store(state)
        try:
            assert len(asset_store.sent_reminders(store)) == 3  # recorded with their queued digests
            queued = asset_store.queued_reminders(store)
            assert sorted(r["receiver"] for r in queued) == ["hook", "mail"]
        finally:
            store.close()

        # The next run queues nothing new; the webhook now refuses (503): the mails go, the
        # webhook rows stay queued, exit 4 with one line per failed delivery.
        hook.hold, hook.fail = False, True
        code = main(["assets", "warranty", "-i", str(book), "--config", str(config), "--remind",
                     "--today", "2025-06-01", "-o", "json"])
        out, err = capsys.readouterr()
        assert code == 4
        summary = json.loads(out)["summary"]
        assert summary["reminders_due"] == 0 and summary["reminders_sent"] == 3
        assert summary["notifications_sent"] == 1 and summary["notifications_pending"] == 1
        assert len(err.splitlines()) == 1 and "3 servers: warranty reminder to hook: HTTP 503" in err
        wait_for(lambda: len(box.messages) == 1, 5, "the digest mail")

        # The receiver is back: the run after delivers the webhook digest, once.
        hook.fail = False
        _, summary = _remind(capsys, book, config, "2025-06-01")
        assert summary["reminders_due"] == 0
        assert summary["reminders_sent"] == 3 and summary["notifications_sent"] == 1
        assert sorted(i["host"] for _, b in hook.received for i in b["incident"]["digest"]) == \
            ["db-01", "old-01", "web-01"]
        store = open_store(state)
        try:
            assert asset_store.queued_reminders(store) == []
            assert outbox_store.outbox_counts(store) == {"pending": 0, "given_up": 0, "delivered": 2}
        finally:
            store.close()
        _, summary = _remind(capsys, book, config, "2025-06-01")
        assert summary["reminders_due"] == 0 and summary["notifications_sent"] == 0
        assert len(hook.received) == 1 and len(box.messages) == 1


def test_dcops_serve_sends_the_daily_digest_once(tmp_path: Path) -> None:
    """The hook `dcops serve` starts (dcops/assets/digest.py): at the configured time of day the
    reminder pass runs and the digest reaches the receiver of the `kind: warranty` route; passes
    after it send nothing twice (reminders are recorded per threshold and warranty end). Not
    scheduled without such a route (it would record reminders nobody gets) or when set off."""
    import asyncio
    import datetime as dt

    from dcops.assets.digest import start_in_serve
    from dcops.inventory import load_inventory

    url = f"sqlite:///{tmp_path}/state.db"
    with webhook() as hook:
        book, config = _write(tmp_path, [{"name": "procurement", "type": "webhook", "url": hook.url}], ["procurement"])
        notify = yaml.safe_load(config.read_text())["notify"]
        hosts = list(load_inventory([str(book)]).hosts)
        at = dt.datetime(2026, 1, 5, 8, 0).astimezone()

        async def serve_for_a_while() -> int:
            stop = asyncio.Event()
            task = start_in_serve(stop, hosts, lambda: open_store(url), {"warranty_digest_at": "08:00"}, notify,
                                  now=lambda: at - dt.timedelta(milliseconds=20))  # always just before 08:00
            assert task is not None
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: wait_for(lambda: hook.received, what="the digest"))
            stop.set()
            await task
            return len(hook.received)

        assert asyncio.run(serve_for_a_while()) == 1
        (path, posted), = hook.received
        assert posted["event"] == "warranty" and {i["host"] for i in posted["incident"]["digest"]} >= {"old-01"}

        async def scheduled(assets_config: dict[str, Any], notify_config: dict[str, Any]) -> bool:
            task = start_in_serve(asyncio.Event(), hosts, lambda: open_store(url), assets_config, notify_config)
            if task is not None:
                task.cancel()
            return task is not None

        assert asyncio.run(scheduled({"warranty_digest_at": "off"}, notify)) is False
        incident_only = {"receivers": notify["receivers"], "routes": [{"receivers": ["procurement"]}]}
        assert asyncio.run(scheduled({}, incident_only)) is False
