"""Benchmark: one heartbeat round over 10,000 addresses (TCP connect each, bounded concurrency),
printing wall and CPU time of the prober.

The listeners are in their *own process* (so the CPU figure is the prober's alone): 200 loopback
addresses 127.41.0.1-200, each listening on one port and accepting then closing; the 10,000
targets are 2,500 hosts x 4 networks spread over them; biz-b of every tenth host and biz-a of the
first rack point at a closed port (refused), as a dead port or VLAN would. A round is ``Monitor.probe`` as ``dcops serve``
runs it, then ``check_networks`` (convergence of the results into incidents).

    .venv/bin/python -m tests.bench.bench_heartbeat                  # 10,000 addresses, 3 rounds
    .venv/bin/python -m tests.bench.bench_heartbeat --hosts 5000 --concurrency 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time

from dcops.heartbeat.config import HeartbeatConfig
from dcops.heartbeat.monitor import Monitor
from dcops.models import BmcEndpoint, Host, Location, NetworkEndpoint
from dcops.patrol.model import Policy
from dcops.patrol.networks import check_networks

LISTENERS = 200
NETWORKS = ("mgmt", "biz-a", "biz-b", "storage")
LISTEN = r"""
import resource, selectors, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
sel = selectors.DefaultSelector()
ports = []
for i in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind((f"127.41.0.{i + 1}", 0))
    s.listen(4096)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    ports.append(str(s.getsockname()[1]))
print(" ".join(ports), flush=True)
while True:  # accept and close at once: a plain loop, so the peer is never what limits the prober
    for key, _ in sel.select():
        while True:
            try:
                conn, _ = key.fileobj.accept()
            except BlockingIOError:
                break
            conn.close()
"""


def book(count: int, ports: list[int], closed: int) -> list[Host]:
    hosts = []
    for i in range(count):
        nets = []
        for n, network in enumerate(NETWORKS):
            slot = (i * len(NETWORKS) + n) % len(ports)
            # biz-b of every tenth host is down (host events); biz-a of rack R000 is down (one group incident)
            down = (i % 10 == 0 and network == "biz-b") or (i < 20 and network == "biz-a")
            port = closed if down else ports[slot]
            nets.append((network, NetworkEndpoint(f"127.41.0.{slot + 1}", port)))
        hosts.append(Host(f"h{i:05d}", BmcEndpoint("192.0.2.1"), Location("dc1", "r1", f"R{i // 20:03d}"),
                          networks=tuple(nets)))
    return hosts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=2500, help="hosts (x4 networks = addresses)")
    parser.add_argument("--concurrency", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    peer = subprocess.Popen([sys.executable, "-c", LISTEN, str(LISTENERS)], stdout=subprocess.PIPE, text=True)
    try:
        assert peer.stdout is not None
        ports = [int(p) for p in peer.stdout.readline().split()]
        import socket

        with socket.socket() as s:  # a port nobody listens on: the "down" network
            s.bind(("127.41.1.1", 0))
            closed = int(s.getsockname()[1])
        hosts = book(args.hosts, ports, closed)
        monitor = Monitor(hosts, HeartbeatConfig(timeout=10.0, concurrency=args.concurrency))
        policy = Policy()
        rows = []
        for n in range(args.rounds):
            t0, c0 = time.monotonic(), time.process_time()
            results = asyncio.run(monitor.probe())
            probed_wall, probed_cpu = time.monotonic() - t0, time.process_time() - c0
            found = check_networks(results, policy)
            wall, cpu = time.monotonic() - t0, time.process_time() - c0
            down = sum(1 for r in results if not r.ok)
            rows.append({"round": n + 1, "addresses": len(results), "down": down, "wall_seconds": round(wall, 3),
                         "cpu_seconds": round(cpu, 3), "probe_wall_seconds": round(probed_wall, 3),
                         "probe_cpu_seconds": round(probed_cpu, 3), "probes_per_second": round(len(results) / wall),
                         "group_incidents": len(found.groups),
                         "host_events": sum(len(v) for v in found.host_events.values())})
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print(f"heartbeat: {len(monitor.targets)} addresses ({args.hosts} hosts x {len(NETWORKS)} networks) on "
                  f"{LISTENERS} loopback listeners in another process, concurrency {args.concurrency}")
            for r in rows:
                print(f"round {r['round']}: {r['addresses']} probed ({r['down']} down) in {r['wall_seconds']:.2f}s wall, "
                      f"{r['cpu_seconds']:.2f}s CPU (probe {r['probe_wall_seconds']:.2f}s / "
                      f"{r['probe_cpu_seconds']:.2f}s CPU), {r['probes_per_second']}/s; "
                      f"{r['group_incidents']} group + {r['host_events']} host events")
    finally:
        peer.terminate()
        peer.wait(10)


if __name__ == "__main__":
    main()
