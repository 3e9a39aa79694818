"""Benchmark of the simulator: start-up time, resident memory, and requests/s and server CPU per
request, at N BMCs, over HTTP and HTTPS.

The fleet runs in a child process (``--serve``), so its CPU (utime+stime from /proc) and RSS are the
simulator's alone; this process is the load generator (aiohttp, basic auth, GET of the
ComputerSystem document, ~3-4 KB). Two load phases:

* sweep:  one request to every BMC on a fresh connection (TCP, and the TLS handshake with --tls):
          every BMC's state gets created, as in a patrol round over the whole fleet;
* steady: keep-alive requests from 64 workers over 256 BMCs for a few seconds.

    .venv/bin/python -m tests.bench.bench_sim                       # 1,000 and 10,000 BMCs, HTTP and HTTPS
    .venv/bin/python -m tests.bench.bench_sim --hosts 1000 --no-tls --json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PASSWORD = "bench-pw-1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- server side (child)

async def serve(hosts: int, tls: bool) -> None:
    from dcops.sim.fleet import Fleet, FleetSpec, rss_bytes
    from dcops.sim.profiles import DEFAULT_PROFILES
    from dcops.sim.state import Timings

    spec = FleetSpec(hosts=hosts, profiles=DEFAULT_PROFILES, timings=Timings.preset("demo"), password=PASSWORD,
                     tls=tls, request_log=32)
    fleet = Fleet(spec)
    if tls:
        from dcops.sim.runner import make_certificates, server_ssl_context

        directory = Path(tempfile.mkdtemp(prefix="dcops-bench-tls-"))
        _, cert, key = make_certificates(directory)
        fleet.ssl_context = server_ssl_context(cert, key)
    await fleet.start()
    targets = [[h.port, f"/redfish/v1/Systems/{h.profile.flavour.system_id}"] for h in fleet.hosts]
    print(json.dumps({"startup_seconds": fleet.startup_seconds, "rss_bytes": rss_bytes(), "targets": targets}),
          flush=True)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), done.set)  # parent closes stdin: stop
    await done.wait()
    await fleet.stop()


# ----------------------------------------------------------------------------- load side (parent)

def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_nofile(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    return 1024


def proc_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def sweep(targets: list[list[Any]], scheme: str, concurrency: int = 64) -> tuple[int, int, float]:
    import aiohttp

    auth = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
    queue: asyncio.Queue[list[Any]] = asyncio.Queue()
    for t in targets:
        queue.put_nowait(t)
    ok = failed = 0
    connector = aiohttp.TCPConnector(ssl=False, force_close=True, limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=auth) as session:
        async def worker() -> None:
            nonlocal ok, failed
            while not queue.empty():
                port, path = queue.get_nowait()
                try:
                    async with session.get(f"{scheme}://127.0.0.1:{port}{path}") as response:
                        await response.read()
                        ok += response.status == 200
                        failed += response.status != 200
                except aiohttp.ClientError:
                    failed += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return ok, failed, time.perf_counter() - start


async def steady(targets: list[list[Any]], scheme: str, seconds: float, workers: int = 64,
                 spread: int = 256) -> tuple[int, int, float]:
    import aiohttp

    auth = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
    chosen = random.Random(1).sample(targets, min(spread, len(targets)))
    ok = failed = 0
    connector = aiohttp.TCPConnector(ssl=False, limit=workers, limit_per_host=1)
    async with aiohttp.ClientSession(connector=connector, headers=auth) as session:
        deadline = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            nonlocal ok, failed
            i = n
            while time.perf_counter() < deadline:
                port, path = chosen[i % len(chosen)]
                i += workers
                async with session.get(f"{scheme}://127.0.0.1:{port}{path}") as response:
                    await response.read()
                    ok += response.status == 200
                    failed += response.status != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(workers)))
        return ok, failed, time.perf_counter() - start


async def hold(targets: list[list[Any]], scheme: str, pid: int, concurrency: int = 64) -> tuple[int, int]:
    """Open one keep-alive connection to every BMC at once (as a patrol client with a connection pool
    per BMC does), make a request on each, and return (requests ok, server RSS while all are open)."""
    import aiohttp

    auth = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
    connector = aiohttp.TCPConnector(ssl=False, limit=0, limit_per_host=1, keepalive_timeout=300)
    ok = 0
    async with aiohttp.ClientSession(connector=connector, headers=auth) as session:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(port: int, path: str) -> None:
            nonlocal ok
            async with semaphore, session.get(f"{scheme}://127.0.0.1:{port}{path}") as response:
                await response.read()
                ok += response.status == 200

        await asyncio.gather(*(one(port, path) for port, path in targets))
        return ok, proc_rss(pid)


def run_case(hosts: int, tls: bool, steady_seconds: float) -> dict[str, Any]:
    from dcops.sim.fleet import raise_nofile
    from dcops.sim.server import shrink_tls_buffers

    raise_nofile(2 * hosts + 4096)
    shrink_tls_buffers()  # the load generator holds 10,000 TLS connections too
    spawned = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_sim", "--serve", str(hosts)]
                             + (["--tls"] if tls else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    ready = json.loads(child.stdout.readline())
    ready_seconds = time.perf_counter() - spawned
    scheme = "https" if tls else "http"
    targets = ready["targets"]
    try:
        rss_idle = proc_rss(child.pid)
        cpu0 = proc_cpu(child.pid)
        ok, failed, wall = asyncio.run(sweep(targets, scheme))
        cpu1 = proc_cpu(child.pid)
        rss_swept = proc_rss(child.pid)
        sok, sfailed, swall = asyncio.run(steady(targets, scheme, steady_seconds))
        cpu2 = proc_cpu(child.pid)
        rss_end = proc_rss(child.pid)
        # One connection per BMC, as far as the server's open-files limit allows (this sandbox caps
        # the hard limit at 20,000: 10,000 listeners leave room for about 9,900 connections).
        room = max(0, proc_nofile(child.pid) - hosts - 256)
        held, rss_held = asyncio.run(hold(targets[:room], scheme, child.pid))
    finally:
        child.stdin.close()
        child.wait(60)
    return {
        "hosts": hosts, "scheme": scheme,
        "startup_seconds_bind": round(ready["startup_seconds"], 2),
        "startup_seconds_process": round(ready_seconds, 2),
        "rss_mib_idle": round(rss_idle / 2**20, 1), "rss_mib_after_sweep": round(rss_swept / 2**20, 1),
        "rss_mib_end": round(rss_end / 2**20, 1), "held_connections": held,
        "rss_mib_all_connections_open": round(rss_held / 2**20, 1),
        "sweep_requests": ok, "sweep_failed": failed, "sweep_req_per_s": round(ok / wall, 1),
        "sweep_cpu_us_per_req": round((cpu1 - cpu0) / max(ok, 1) * 1e6, 1),
        "steady_requests": sok, "steady_failed": sfailed, "steady_req_per_s": round(sok / swall, 1),
        "steady_cpu_us_per_req": round((cpu2 - cpu1) / max(sok, 1) * 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tls", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hosts", type=int, action="append", help="fleet size (repeatable; default 1000 and 10000)")
    parser.add_argument("--no-tls", action="store_true", help="HTTP only")
    parser.add_argument("--tls-only", action="store_true", help="HTTPS only")
    parser.add_argument("--steady-seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args(argv)
    if args.serve is not None:
        asyncio.run(serve(args.serve, args.tls))
        return 0
    sizes = args.hosts or [1000, 10000]
    schemes = [False] if args.no_tls else [True] if args.tls_only else [False, True]
    results = []
    for hosts in sizes:
        for tls in schemes:
            result = run_case(hosts, tls, args.steady_seconds)
            results.append(result)
            if args.json:
                print(json.dumps(result), flush=True)
            else:
                print(format_row(result), flush=True)
    return 0


def format_row(r: dict[str, Any]) -> str:
    return (f"{r['hosts']:>6} BMCs {r['scheme']:<5}  start {r['startup_seconds_bind']:>5.2f} s bind / "
            f"{r['startup_seconds_process']:>5.2f} s process  RSS {r['rss_mib_idle']:>6.1f} MiB idle, "
            f"{r['rss_mib_after_sweep']:>6.1f} MiB after sweep  | sweep {r['sweep_req_per_s']:>7.1f} req/s "
            f"{r['sweep_cpu_us_per_req']:>6.1f} us CPU/req ({r['sweep_failed']} failed) | steady "
            f"{r['steady_req_per_s']:>7.1f} req/s {r['steady_cpu_us_per_req']:>6.1f} us CPU/req "
            f"({r['steady_failed']} failed) | {r['held_connections']} connections open: "
            f"RSS {r['rss_mib_all_connections_open']:.1f} MiB")


if __name__ == "__main__":
    raise SystemExit(main())
