"""Benchmark: CPU and wall time to observe 1 and N BMCs through the async path (wire.py + orjson,
one request in flight per BMC, global cap, ``$expand`` where advertised), against the ``redfish``
library used plainly (one thread per BMC: session login, the same GETs, logout), in the same run
against the same BMCs.

The BMCs are ``dcops sim`` in its *own process* (``dcops sim up --background``), so the CPU
figures are the client's alone (``time.process_time`` of this process). Two rows:

* 1 BMC, full observation (``read_observation``, every section) of a Dell R750 profile;
* N BMCs, the patrol health read (``read_health``: rollups, power, sensors) of a generic profile.

    .venv/bin/python -m tests.bench.bench_observe            # 1 BMC and 1,000 BMCs
    .venv/bin/python -m tests.bench.bench_observe --count 200 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redfish

from dcops.bmc.redfish.aio import Target, observe_many
from dcops.secrets import Secret
from dcops.sim.runner import ControlClient, spawn_background, stop_background

Paths = list[str]


def start_sim(count: int, profile: str, state_dir: Path) -> tuple[list[int], str]:
    spawn_background(["--hosts", str(count), "--profile", profile, "--timings", "fast", "--request-log", "512"],
                     state_dir, timeout=300)
    hosts = json.loads((state_dir / "hosts.json").read_text())
    password = (state_dir / "password").read_text().strip()
    return [int(h["port"]) for h in hosts], password


def sim_sessions(state_dir: Path) -> int:
    return int(ControlClient.from_dir(state_dir).get("/v1/status")["sessions"])


def paths_of(state_dir: Path, host: str, since: int) -> Paths:
    """The GETs the async path made to ``host`` (from the simulator's request log): the plain
    client makes the same ones."""
    items = ControlClient.from_dir(state_dir).get(f"/v1/hosts/{host}/requests?since={since}")["items"]
    return [i["path"] for i in items if i["method"] == "GET"]


def measure(func: Callable[[], Any]) -> tuple[float, float, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = func()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def async_path(ports: list[int], password: str, concurrency: int, health: bool) -> int:
    targets = [Target(f"b{i}", f"http://127.0.0.1:{p}", "admin", Secret(password),
                      verify_tls=False) for i, p in enumerate(ports)]
    results = asyncio.run(observe_many(targets, concurrency=concurrency, deadline=300, health=health))
    failed = [r for r in results if r.observation is None]
    assert not failed, failed[:3]
    return sum(r.observation.requests + 2 for r in results if r.observation)  # + login, logout


def plain_library(ports: list[int], password: str, paths: Paths) -> int:
    errors: list[BaseException] = []

    def one(port: int) -> None:
        try:
            client = redfish.redfish_client(base_url=f"http://127.0.0.1:{port}", username="admin",
                                            password=password, timeout=120, max_retry=0)
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


def run(count: int, profile: str, concurrency: int, health: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dcops-bench-") as tmp:
        state_dir = Path(tmp)
        ports, password = start_sim(count, profile, state_dir)
        try:
            host0 = json.loads((state_dir / "hosts.json").read_text())[0]["name"]
            a_cpu, a_wall, a_req = measure(lambda: async_path(ports, password, concurrency, health))
            paths = paths_of(state_dir, host0, 0)
            left_async = sim_sessions(state_dir)
            p_cpu, p_wall, p_req = measure(lambda: plain_library(ports, password, paths))
            left_plain = sim_sessions(state_dir)
        finally:
            stop_background(state_dir)
    return {
        "bmcs": count, "read": ("health" if health else "full") + f" ({profile})", "gets_per_bmc": len(paths),
        "async": {"cpu_s": round(a_cpu, 3), "wall_s": round(a_wall, 3), "requests": a_req,
                  "cpu_us_per_request": round(a_cpu / max(a_req, 1) * 1e6, 1)},
        "redfish_threads": {"cpu_s": round(p_cpu, 3), "wall_s": round(p_wall, 3), "requests": p_req,
                            "cpu_us_per_request": round(p_cpu / max(p_req, 1) * 1e6, 1)},
        "sessions_left_on_bmcs": {"async": left_async, "redfish": left_plain},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [run(1, "dell-r750", args.concurrency, health=False),
            run(args.count, "generic-1s", args.concurrency, health=True)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'BMCs':>6} {'read':<26} {'GETs':>5} | {'async cpu':>9} {'wall':>7} {'us/req':>7} | "
          f"{'redfish cpu':>11} {'wall':>7} {'us/req':>7} | sessions left")
    for r in rows:
        a, p = r["async"], r["redfish_threads"]
        print(f"{r['bmcs']:>6} {r['read']:<26} {r['gets_per_bmc']:>5} | {a['cpu_s']:>9} {a['wall_s']:>7} "
              f"{a['cpu_us_per_request']:>7} | {p['cpu_s']:>11} {p['wall_s']:>7} {p['cpu_us_per_request']:>7} | "
              f"{r['sessions_left_on_bmcs']}")


if __name__ == "__main__":
    main()
