"""Benchmark: CPU and wall time to observe 1 and N BMCs through the async path (aiohttp + orjson,
one request in flight per BMC, global cap), against the ``redfish`` library used plainly (one
thread per BMC, session login, the same GETs, logout), in the same run against the same servers.

The BMCs are served by tests/unit/bmc/fleet.py in a *separate process*, so the CPU figures are the
client's alone (``time.process_time`` of this process).

    .venv/bin/python -m tests.bench.bench_observe            # 1 BMC (Dell capture) and 1,000 BMCs
    .venv/bin/python -m tests.bench.bench_observe --count 200 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import redfish

from dcops.bmc.redfish.aio import Target, observe_many
from dcops.bmc.redfish.resources import read_observation, run_sync
from dcops.secrets import Secret
from tests.unit.bmc.mockups import fetcher, load, minimal_system

PASSWORD = "s3cret-pw"


def start_fleet(count: int, capture: str | None) -> tuple[subprocess.Popen[str], list[int]]:
    args = [sys.executable, "-m", "tests.unit.bmc.fleet", str(count)] + ([capture] if capture else [])
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, json.loads(line)


def stop_fleet(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    stats = json.loads(proc.stdout.readline() or "{}")
    proc.wait(30)
    return stats


def paths_of(capture: str | None) -> list[str]:
    """The GETs one observation makes (the plain-library client makes the same ones)."""
    docs = load(capture) if capture else minimal_system()
    seen: list[str] = []
    fetch = fetcher(docs)

    def record(path: str) -> dict[str, Any]:
        seen.append(path)
        return fetch(path)

    run_sync(read_observation("x"), record)
    return seen


def measure(func: Callable[[], Any]) -> tuple[float, float, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = func()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def async_path(ports: list[int], concurrency: int) -> Any:
    targets = [Target(f"b{i}", f"http://127.0.0.1:{p}", "admin", Secret(PASSWORD), verify_tls=False)
               for i, p in enumerate(ports)]
    results = asyncio.run(observe_many(targets, concurrency=concurrency, deadline=300))
    failed = [r for r in results if r.observation is None]
    assert not failed, failed[:3]
    return sum(r.observation.requests for r in results if r.observation)


def plain_library(ports: list[int], paths: list[str]) -> Any:
    errors: list[BaseException] = []

    def one(port: int) -> None:
        try:
            client = redfish.redfish_client(base_url=f"http://127.0.0.1:{port}", username="admin",
                                            password=PASSWORD, timeout=60, max_retry=0)
            client.login(auth="session")
            try:
                for path in paths:
                    resp = client.get(path)
                    if resp.status == 200:
                        json.loads(resp.text)  # parse as the library's users do (resp.dict)
            finally:
                client.logout()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(p,)) for p in ports]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    return len(ports) * (len(paths) + 2)


def run(count: int, capture: str | None, concurrency: int) -> dict[str, Any]:
    proc, ports = start_fleet(count, capture)
    try:
        paths = paths_of(capture)
        a_cpu, a_wall, a_req = measure(lambda: async_path(ports, concurrency))
        p_cpu, p_wall, p_req = measure(lambda: plain_library(ports, paths))
    finally:
        stats = stop_fleet(proc)
    return {
        "bmcs": count, "tree": capture or "minimal", "gets_per_bmc": len(paths),
        "async": {"cpu_s": round(a_cpu, 3), "wall_s": round(a_wall, 3), "requests": a_req,
                  "cpu_us_per_request": round(a_cpu / max(a_req, 1) * 1e6, 1)},
        "redfish_threads": {"cpu_s": round(p_cpu, 3), "wall_s": round(p_wall, 3), "requests": p_req,
                            "cpu_us_per_request": round(p_cpu / max(p_req, 1) * 1e6, 1)},
        "sessions_left_on_bmcs": stats.get("sessions"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [run(1, "dell-poweredge-r750-idrac9-6.00", args.concurrency),
            run(args.count, None, args.concurrency)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'BMCs':>6} {'tree':<34} {'GETs':>5} | {'async cpu':>9} {'wall':>7} {'us/req':>7} | "
          f"{'redfish cpu':>11} {'wall':>7} {'us/req':>7} | sessions left")
    for r in rows:
        a, p = r["async"], r["redfish_threads"]
        print(f"{r['bmcs']:>6} {r['tree']:<34} {r['gets_per_bmc']:>5} | {a['cpu_s']:>9} {a['wall_s']:>7} "
              f"{a['cpu_us_per_request']:>7} | {p['cpu_s']:>11} {p['wall_s']:>7} {p['cpu_us_per_request']:>7} | "
              f"{r['sessions_left_on_bmcs']}")


if __name__ == "__main__":
    main()
