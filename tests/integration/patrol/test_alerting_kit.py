"""The shipped alerting kit (docs/deploy/: dcops-rules.yml, alertmanager.yml) with a real
Prometheus and Alertmanager: one rack power loss pages once, and a dead worker among several
scraped ones alerts although the others still publish.

The copies used here differ from the shipped files in two ways only: receivers post to a local
webhook, and every rule's `for:` is 1s (the inhibitions under test do not depend on it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dcops.exporter import registry, server
from dcops.notify import outbox
from dcops.notify.config import load_notify_config
from dcops.patrol import store as pstore
from dcops.store import open_store
from tests.integration.patrol.peers import alertmanager, free_port, http_json, prometheus, wait_for, webhook
from tests.integration.patrol.test_prometheus import _rack_loss

DEPLOY = Path(__file__).resolve().parents[3] / "docs" / "deploy"
pytestmark = pytest.mark.timeout(180)


@contextmanager
def serving(exposition: server.Exposition) -> Iterator[int]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, port = asyncio.run_coroutine_threadsafe(
        server.start(server.make_app(exposition), "127.0.0.1", 0), loop).result(10)
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def _rules() -> str:
    return re.sub(r"for: \w+", "for: 1s", (DEPLOY / "dcops-rules.yml").read_text())


def _prometheus_config(targets: list[str], am_port: int | None) -> str:
    alerting = f"alerting: {{alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]}}\n" \
        if am_port else ""
    return ("global: {scrape_interval: 1s, evaluation_interval: 1s}\n" + alerting
            + 'rule_files: ["@RULES@"]\n'
            + "scrape_configs:\n  - job_name: dcops\n    static_configs:\n"
            + "".join(f"      - targets: ['{t}']\n        labels: {{dcops_worker: 'w{i}'}}\n"
                      for i, t in enumerate(targets)))


def _exposition(store: Any) -> server.Exposition:
    """What `dcops serve` serves: the patrol collector labels hosts with their place in the book."""
    loaded = registry.discover(store)
    book = {f"h{i}": {"site": "dc1", "room": "r1", "rack": "A01", "az": "az1"} for i in range(8)}
    for item in loaded:
        if item.name == "patrol" and item.collector is not None:
            item.collector.hosts = lambda: book  # type: ignore[attr-defined]
    return server.Exposition(loaded)


def _alerts(am_url: str) -> list[dict[str, Any]]:
    return list(http_json(f"{am_url}/api/v2/alerts"))


def test_one_rack_power_loss_pages_once(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    _rack_loss(store)
    [incident] = pstore.list_incidents(store)
    assert incident.condition.value == "rack_power_loss"
    exposition = _exposition(store)
    with webhook() as hook, serving(exposition) as port:
        am_config = (DEPLOY / "alertmanager.yml").read_text().replace("http://127.0.0.1:5001", hook.url)
        with alertmanager(tmp_path / "am", am_config) as am:
            # dcops delivers its incident to Alertmanager itself (as `dcops serve` does every round)...
            config = load_notify_config({"receivers": [{"name": "am", "type": "alertmanager", "url": am.url}],
                                         "routes": [{"receivers": ["am"]}]})
            assert not outbox.sync_alertmanager(config, [incident], dt.datetime.now(dt.UTC), hold_seconds=120)
            # ...and Prometheus evaluates the shipped rules over dcops's metrics.
            with prometheus(tmp_path / "prom", _prometheus_config([f"127.0.0.1:{port}"], am.port), _rules()):
                def derived() -> list[dict[str, Any]]:
                    found = [a for a in _alerts(am.url) if a["labels"]["alertname"] in
                             ("DcopsManyBmcsDown", "DcopsEmergencyIncidentOpen")]
                    return found if len(found) == 2 else []

                for alert in wait_for(derived, 60, "the rules' alerts to reach Alertmanager"):
                    # The rack's own page is what an SRE acts on; the fleet views are muted by it.
                    assert alert["status"]["state"] == "suppressed", alert
                    assert alert["status"]["inhibitedBy"], alert
                wait_for(lambda: [p for p, _ in hook.received if p == "/page"], 30, "the page")
                wait_for(lambda: all(a["status"]["state"] == "suppressed" for a in _alerts(am.url)
                                     if a["labels"]["alertname"] != "DcopsRackPowerLoss"), 10, "inhibition")
    pages = [body for path, body in hook.received if path == "/page"]
    paged = {a["labels"]["alertname"] for body in pages for a in body["alerts"]}
    assert paged == {"DcopsRackPowerLoss"}
    assert len(pages) == 1, pages


def test_a_dead_worker_among_several_alerts(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    _rack_loss(store)
    exposition = _exposition(store)
    dead = free_port()  # nothing listens there: a worker that died
    with serving(exposition) as port, \
            prometheus(tmp_path / "prom", _prometheus_config([f"127.0.0.1:{port}", f"127.0.0.1:{dead}"], None),
                       _rules()) as prom:
        def firing() -> list[dict[str, Any]]:
            alerts = http_json(f"{prom.url}/api/v1/alerts")["data"]["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "DcopsExporterDown" and a["state"] == "firing"]

        [alert] = wait_for(firing, 60, "DcopsExporterDown for the dead worker")
        assert alert["labels"]["instance"] == f"127.0.0.1:{dead}" and alert["labels"]["dcops_worker"] == "w1"
        alerts = http_json(f"{prom.url}/api/v1/alerts")["data"]["alerts"]
        # The live worker publishes its rounds: the old absent() rule would have stayed silent.
        assert not [a for a in alerts if a["labels"]["alertname"] == "DcopsExporterAbsent"]
