"""Benchmark: the exporter's exposition for a large fleet. One patrol round (inventory tier, then
a minute round) reads one simulated BMC of every `dcops sim` profile; their stored rows are copied
to N hosts (default 10,000) with their own names, serials and racks, and the exposition is
rendered as a scrape sees it: size (text 0.0.4 and OpenMetrics), series per host and per family,
gzip size, render and compression time.

    .venv/bin/python -m tests.bench.bench_exporter                 # 10,000 hosts
    .venv/bin/python -m tests.bench.bench_exporter --hosts 1000 --json

Target (issue 18): at most 25 MB uncompressed for 10,000 hosts.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import gzip
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from dcops.exporter import registry, server
from dcops.inventory import load_inventory
from dcops.notify.config import load_notify_config
from dcops.patrol import store as pstore
from dcops.patrol.config import load_patrol_config
from dcops.patrol.engine import Patrol
from dcops.store import open_store
from tests.helpers.simfleet import PASSWORD, fleet

PROFILES = ("dell-r750", "dell-r650", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13", "generic-1s")


def sample_rows(workdir: Path) -> list[dict[str, Any]]:
    """Stored host rows of one patrolled simulated BMC per profile (inventory and minute tiers)."""
    os.environ["DCOPS_BENCH_BMC_PW"] = PASSWORD
    store = open_store(f"sqlite:///{workdir}/sample.db")
    with fleet(len(PROFILES), PROFILES) as sim:
        book = load_inventory([str(sim.fleet.write_inventory(workdir / "site.yaml", "env:DCOPS_BENCH_BMC_PW"))])
        engine = Patrol(store, list(book.hosts), load_patrol_config({}), load_notify_config({}, "config"))

        async def rounds() -> None:
            try:
                for _ in range(2):
                    await engine.round(list(book.hosts))
            finally:
                await engine.close()

        asyncio.run(rounds())
    rows = list(pstore.observations(store).values())
    store.close()
    return rows


def fleet_rows(samples: list[dict[str, Any]], hosts: int) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    rows, labels = [], {}
    for i in range(hosts):
        row = copy.deepcopy(samples[i % len(samples)])
        name = f"h{i:05d}"
        row["host"] = name
        ident = (row.get("inventory") or {}).get("identity") or {}
        ident["serial"] = f"SN{i:07d}"
        for n, comp in enumerate((row.get("inventory") or {}).get("components") or []):
            comp["serial"] = f"P{i:06d}{n:03d}"
        row["reachable"] = i % 97 != 0
        rows.append(row)
        labels[name] = {"site": f"dc{i // 5000 + 1}", "room": f"r{i // 1000 % 5 + 1}", "rack": f"R{i // 40:03d}",
                        "az": f"az{i // 3334 + 1}", "role": "compute", "vendor": "x"}
    return rows, labels


def _store_rows(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    keep = ("host", "reachable", "error", "protocol", "power", "health", "duration_seconds", "requests",
            "log_cursor", "memory", "observation", "inventory")
    out = {k: row.get(k) for k in keep}
    out.update({"observed_at": now, "last_success_at": now, "last_inventory_at": now})
    return out


def measure(hosts: int, workdir: Path) -> dict[str, Any]:
    samples = sample_rows(workdir)
    rows, labels = fleet_rows(samples, hosts)
    store = open_store(f"sqlite:///{workdir}/fleet.db")
    now = dt.datetime.now(dt.UTC)
    pstore.save_round(store, round_row={"started_at": now, "finished_at": now, "hosts": hosts, "reachable": hosts,
                                        "unreachable": 0, "missed": 0, "events": 0, "opened": 0, "resolved": 0,
                                        "duration_seconds": 30.0, "cpu_seconds": 12.0, "requests": hosts * 5,
                                        "tier": "minute"},
                      host_rows=[_store_rows(r, now) for r in rows])
    loaded = registry.discover(store)
    for item in loaded:
        if item.name == "patrol" and item.collector is not None:
            item.collector.hosts = lambda: labels  # type: ignore[attr-defined]
    exposition = server.Exposition(loaded)
    started = time.perf_counter()
    exposition.render()
    first = time.perf_counter() - started
    started = time.perf_counter()
    text = exposition.render()
    scrape = time.perf_counter() - started
    openmetrics = exposition.render(openmetrics=True)
    started = time.perf_counter()
    packed = gzip.compress(text, compresslevel=server.GZIP_LEVEL)
    gzip_seconds = time.perf_counter() - started
    samples_by_family = Counter(line.split(b"{")[0].split(b" ")[0].decode() for line in text.split(b"\n")
                                if line and not line.startswith(b"#"))
    total = sum(samples_by_family.values())
    return {"hosts": hosts, "bytes": len(text), "openmetrics_bytes": len(openmetrics), "gzip_bytes": len(packed),
            "series": total, "series_per_host": round(total / hosts, 1),
            "bytes_per_host": round(len(text) / hosts), "render_after_round_seconds": round(first, 2),
            "scrape_seconds": round(scrape, 3), "gzip_seconds": round(gzip_seconds, 2),
            "projected_10000_mb": round(len(text) / hosts * 10_000 / 1e6, 1),
            "families": dict(samples_by_family.most_common(15))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.hosts, Path(tmp))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"exposition for {result['hosts']} hosts: {result['bytes'] / 1e6:.1f} MB text "
          f"({result['bytes_per_host']} B/host, {result['series_per_host']} series/host), "
          f"{result['openmetrics_bytes'] / 1e6:.1f} MB OpenMetrics, {result['gzip_bytes'] / 1e3:.0f} KB gzip "
          f"({result['gzip_seconds']} s); render after a round {result['render_after_round_seconds']} s, "
          f"scrape {result['scrape_seconds']} s; projected at 10,000 hosts: {result['projected_10000_mb']} MB")
    for family, count in result["families"].items():
        print(f"  {family:55} {count:>8}")


if __name__ == "__main__":
    main()
