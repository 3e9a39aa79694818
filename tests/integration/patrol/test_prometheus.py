"""A real Prometheus scrapes the dcops exporter and a shipped rule (docs/deploy/dcops-rules.yml)
over dcops metrics fires."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path

import pytest

from dcops.exporter import registry, server
from dcops.patrol import store as pstore
from dcops.patrol.model import Condition, Event, HostCheck, HostMemory, PartInfo, Policy, Severity
from dcops.store import open_store
from tests.integration.patrol.peers import free_port, http_json, prometheus, wait_for

DEPLOY = Path(__file__).resolve().parents[3] / "docs" / "deploy"
pytestmark = pytest.mark.timeout(120)


def _rack_loss(store: object) -> None:
    from dcops.patrol.converge import ConvergeState, converge

    now = dt.datetime.now(dt.UTC)
    # Dark BMCs and hosts silent on their in-band address: a rack power loss (emergency).
    checks = [HostCheck(f"h{i}", (Event(f"h{i}", "bmc", Condition.BMC_UNREACHABLE, Severity.WARNING, "dark",
                                        PartInfo(kind="bmc")),), frozenset(), HostMemory(), False,
                        site="dc1", room="r1", rack="A01", inband=False) for i in range(8)]
    result = converge(ConvergeState(), checks, Policy(), now, {})
    rows = [{"host": c.host, "observed_at": now, "reachable": False, "error": "dark", "last_success_at": None}
            for c in checks]
    pstore.save_round(store, round_row={"started_at": now, "finished_at": now, "hosts": 8, "reachable": 0,
                                        "unreachable": 8, "missed": 0, "events": 8, "opened": 1, "resolved": 0,
                                        "duration_seconds": 1.0, "cpu_seconds": 0.1, "requests": 8, "tier": "minute"},
                      host_rows=rows, changed_incidents=result.opened)


def test_prometheus_scrapes_dcops_and_a_rule_fires(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    _rack_loss(store)
    exposition = server.Exposition(registry.discover(store))
    port = free_port()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, _ = asyncio.run_coroutine_threadsafe(
        server.start(server.make_app(exposition), "127.0.0.1", port), loop).result(10)
    config = f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["@RULES@"]
scrape_configs:
  - job_name: dcops
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
"""
    try:
        with prometheus(tmp_path / "prom", config, (DEPLOY / "dcops-rules.yml").read_text()) as prom:
            def target_up() -> bool:
                data = http_json(f"{prom.url}/api/v1/targets")["data"]["activeTargets"]
                return bool(data) and data[0]["health"] == "up"

            wait_for(target_up, 30, "Prometheus to scrape dcops")

            def firing() -> list[dict]:
                alerts = http_json(f"{prom.url}/api/v1/alerts")["data"]["alerts"]
                return [a for a in alerts if a["labels"]["alertname"] == "DcopsEmergencyIncidentOpen"
                        and a["state"] == "firing"]

            [alert] = wait_for(firing, 30, "DcopsEmergencyIncidentOpen to fire")
            assert alert["labels"]["severity"] == "emergency"
            value = http_json(f"{prom.url}/api/v1/query?query=sum(dcops_bmc_up)")["data"]["result"][0]["value"][1]
            assert value == "0"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
