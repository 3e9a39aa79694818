"""What a scraper gets: OpenMetrics or text 0.0.4 by `Accept` (prometheus_client's own
negotiation), gzip by `Accept-Encoding`, `dcops_build_info`, incidents that `sum()` counts once,
and a lean per-host exposition (identity on `_info`, healthy parts not repeated every minute)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from dcops import __version__
from dcops.exporter import registry, server
from dcops.exporter.collectors.patrol import render
from dcops.patrol.model import Condition, Severity
from dcops.store import open_store
from tests.unit.exporter.test_exporter import _fill

OPENMETRICS_ACCEPT = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    _fill(store, 50)
    exposition = server.Exposition(registry.discover(store))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, port = asyncio.run_coroutine_threadsafe(
        server.start(server.make_app(exposition), "127.0.0.1", 0), loop).result(10)
    yield f"http://127.0.0.1:{port}/metrics"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def _get(url: str, **headers: str) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - loopback
        return dict(resp.headers), resp.read()


def test_openmetrics_with_gzip_when_asked(url: str) -> None:
    headers, body = _get(url, Accept=OPENMETRICS_ACCEPT, **{"Accept-Encoding": "gzip"})
    assert headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert headers["Content-Encoding"] == "gzip"
    text = gzip.decompress(body).decode()
    assert len(body) * 5 < len(text)
    families = {f.name: f for f in parse_openmetrics(text)}  # the strict OpenMetrics parser
    assert families["dcops_patrol_rounds"].type == "counter"
    assert [s.value for s in families["dcops_patrol_rounds"].samples if s.name == "dcops_patrol_rounds_total"] == [1]
    [build] = families["dcops_build_info"].samples
    assert build.labels["version"] == __version__ and build.value == 1
    assert text.endswith("# EOF\n") and text.count("# EOF") == 1


def test_text_format_without_compression_by_default(url: str) -> None:
    headers, body = _get(url)
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "Content-Encoding" not in headers
    families = {f.name: f for f in parse_text(body.decode())}
    assert "dcops_build_info" in families and "dcops_bmc_up" in families
    assert b"# EOF" not in body


def test_open_incidents_sum_once(url: str) -> None:
    _, body = _get(url)
    [family] = [f for f in parse_text(body.decode()) if f.name == "dcops_incidents_open"]
    assert sum(s.value for s in family.samples) == 1  # one open incident (_fill opens one)
    assert {s.labels["condition"] for s in family.samples} >= {"health", "rack_power_loss"}
    assert "any" not in {s.labels["condition"] for s in family.samples}
    assert len(family.samples) == len(Severity) * len(Condition)  # every severity x condition, 0 when none


def _row(host: str, parts: list[dict[str, str]]) -> dict[str, object]:
    now = dt.datetime.now(dt.UTC)
    return {"reachable": True, "power": "on", "health": "ok", "last_success_at": now, "duration_seconds": 1.0,
            "observation": {"sensors": [["Inlet Temp", "temperature", 24.0, "Cel", "ok"]]},
            "inventory": {"identity": {"model": "R750", "serial": "SN1"}, "components": parts}}


def _part(kind: str, n: int, health: str = "ok") -> dict[str, str]:
    return {"kind": kind, "chassis": "1", "location": f"{kind.upper()}{n}", "serial": f"S-{kind}-{n}",
            "model": "M", "part_number": "P", "firmware": "1", "manufacturer": "X", "health": health}


def test_a_host_publishes_what_is_wrong_not_its_whole_inventory_every_minute() -> None:
    parts = [_part(k, n) for k, count in (("psu", 2), ("drive", 4), ("dimm", 16), ("fan", 6), ("cpu", 2),
                                          ("nic", 4), ("storage_controller", 1)) for n in range(count)]
    labels = {"h1": {"site": "sh1", "room": "r101", "rack": "A01", "az": "az1", "role": "db", "vendor": "Dell"}}
    healthy = render({"h1": _row("h1", parts)}, labels, None, 0, {}, {}).decode()
    part_lines = [line for line in healthy.splitlines() if line.startswith("dcops_part_")]
    assert len(part_lines) == 6 and all(line.startswith("dcops_part_health") for line in part_lines)  # PSUs, drives
    assert 'dcops_bmc_up{host="h1"} 1.0' in healthy
    assert 'dcops_host_info{host="h1",site="sh1",room="r101",rack="A01",az="az1"' in healthy
    parts[10] = _part("dimm", 4, "critical")
    sick = render({"h1": _row("h1", parts)}, labels, None, 0, {}, {}).decode()
    assert 'dcops_part_health{host="h1",component="dimm",part_id="1:DIMM4"} 2.0' in sick
    assert 'dcops_part_info{host="h1",component="dimm",part_id="1:DIMM4",serial="S-dimm-4"' in sick


def test_the_last_round_says_how_many_inventories_were_cut_short(tmp_path: Path) -> None:
    from dcops.exporter.collectors.patrol import PatrolCollector
    from dcops.patrol import store as pstore

    store = open_store(f"sqlite:///{tmp_path}/s.db")
    now = dt.datetime.now(dt.UTC)
    pstore.save_round(store, round_row={"started_at": now, "finished_at": now, "hosts": 9, "reachable": 9,
                                        "unreachable": 0, "missed": 0, "events": 0, "opened": 0, "resolved": 0,
                                        "inventory_cut": 3})
    collector = PatrolCollector(store)
    collector.refresh(force=True)
    families = {f.name: f for f in parse_text(collector.exposition().decode())}
    [sample] = families["dcops_patrol_round_inventory_cut"].samples
    assert sample.value == 3
    store.close()
