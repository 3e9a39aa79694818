"""The workers' alerting rules (docs/deploy/dcops-rules.yml, group dcops-workers) in a real
Prometheus scraping two workers' real `/metrics` (dcops_worker_* rendered by `runtime.Worker` over a
real PostgreSQL store): hosts nobody patrolled page `DcopsHostsNotPatrolled`; a worker that stops
answering fires `DcopsWorkerDown` naming it, and only it. `for:` is 1s in the copy used here."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from dcops.exporter import server
from dcops.exporter.registry import Loaded
from dcops.models import BmcEndpoint, Host, Location
from dcops.patrol.config import load_patrol_config
from dcops.patrol.engine import Patrol
from dcops.store import open_store
from dcops.workers.runtime import Worker
from tests.integration.patrol.peers import http_json, prometheus, wait_for
from tests.integration.patrol.test_alerting_kit import _prometheus_config, _rules, serving

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


def test_hosts_not_patrolled_and_a_worker_down(tmp_path: Path, postgres_url: str) -> None:
    store = open_store(postgres_url)
    # Never patrolled (no round runs here; the addresses are documentation ones, never contacted).
    book = [Host(name=f"h{i}", bmc=BmcEndpoint(address=f"192.0.2.{i + 1}"),
                 location=Location(site="dc1", room="r1", rack=f"A0{i}")) for i in range(2)]
    engine = Patrol(store, book, load_patrol_config({"interval": 60}), tune_gc=False)
    workers = [Worker(store, engine, name, book, ttl=60) for name in ("wa", "wb")]
    for w in workers:
        w.start()
    try:
        expositions = [server.Exposition([Loaded("worker", w)]) for w in workers]
        with contextlib.ExitStack() as stack:
            port_a = stack.enter_context(serving(expositions[0]))
            b = contextlib.ExitStack()
            port_b = b.enter_context(serving(expositions[1]))
            stack.push(b)
            prom = stack.enter_context(prometheus(tmp_path / "prom", _prometheus_config(
                [f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}"], None), _rules()))

            def firing(name: str) -> list[dict[str, Any]]:
                alerts = http_json(f"{prom.url}/api/v1/alerts")["data"]["alerts"]
                return [a for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"]

            [stale] = wait_for(lambda: firing("DcopsHostsNotPatrolled"), 60, "DcopsHostsNotPatrolled")
            assert float(stale["value"]) == 2.0
            # Both scraped, with their worker info, before one goes away; neither is down.
            wait_for(lambda: len(http_json(f"{prom.url}/api/v1/query?query=dcops_worker_info")["data"]["result"])
                     == 2, 60, "both workers scraped")
            assert not firing("DcopsWorkerDown")
            b.close()  # wb stops answering (its exporter is gone): it, and only it, is down
            [down] = wait_for(lambda: firing("DcopsWorkerDown"), 60, "DcopsWorkerDown")
            assert down["labels"]["worker"] == "wb" and down["labels"]["instance"] == f"127.0.0.1:{port_b}"
    finally:
        for w in workers:
            w.close()
        store.close()
