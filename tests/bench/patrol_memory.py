"""Memory probe: where a patrolled Redfish BMC's resident memory goes (issue 19).

Starts ``dcops sim`` (HTTPS, 100-300 ms per request), runs a cold patrol round and steady rounds
in this process, and prints the resident set (VmRSS, after a full collection and ``malloc_trim``)
per BMC above what the process held before the first round; then takes the kept state apart and
prints what each part freed: the kept-alive TLS connections (one per BMC), the cached structural
documents, the rest of the per-BMC reader state. Figures, not assertions.

    .venv/bin/python -m tests.bench.patrol_memory --hosts 1000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench import bench_patrol


def rss_mb() -> float:
    """Resident set after a full collection and giving freed heap back (glibc ``malloc_trim``)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the figure includes freed heap
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def probe(book: list[Any], rounds: int, concurrency: int) -> None:
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol
    from dcops.store import open_store

    n = len(book)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/probe.db")
        cold = load_patrol_config({"interval": 60, "concurrency": concurrency, "inventory_every": 0,
                                   "bmc_deadline": "300s", "round_deadline": "900s"})
        steady = load_patrol_config({"interval": 60, "concurrency": concurrency, "inventory_every": 0,
                                     "bmc_deadline": "20s", "round_deadline": "58s"})
        engine = Patrol(store, book, cold)

        async def run() -> None:
            base = rss_mb()
            print(f"before the first round: {base:.0f} MB")
            for k in range(rounds):
                engine.config = cold if k == 0 else steady
                c0, t0 = time.process_time(), time.monotonic()
                summary = await engine.round()
                cpu, wall = time.process_time() - c0, time.monotonic() - t0
                now = rss_mb()
                print(f"round {k + 1}: {wall:.2f} s wall, {cpu * 1000 / n:.3f} ms CPU/BMC, "
                      f"{summary.requests / n:.2f} requests/BMC, {summary.unreachable} unreachable; "
                      f"RSS {now:.0f} MB = {(now - base) * 1024 / n:.0f} KB per BMC above the start")
            reader = engine.redfish
            before = rss_mb()
            http = reader._http  # noqa: SLF001 - a probe takes the reader apart on purpose
            if http is not None:
                http.close()  # the kept connections (wire.Client)
            await asyncio.sleep(0.5)  # transports finish closing on the loop
            after_conns = rss_mb()
            for bmc in reader.bmcs.values():
                bmc.static.clear()
                bmc.types.clear()
            after_docs = rss_mb()
            reader.bmcs.clear()
            after_state = rss_mb()
            print(f"kept TLS connections: {(before - after_conns) * 1024 / n:.0f} KB per BMC")
            print(f"cached structural documents and types: {(after_conns - after_docs) * 1024 / n:.0f} KB per BMC")
            print(f"rest of the reader's per-BMC state: {(after_docs - after_state) * 1024 / n:.0f} KB per BMC")
            print(f"left above the start (patrol rows, memory, results, heap): "
                  f"{(after_state - base) * 1024 / n:.0f} KB per BMC")
            await engine.close()

        asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--latency", default="100-300ms")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1000)
    args = parser.parse_args()
    sim_dir = Path(tempfile.mkdtemp(prefix="dcops-memprobe-sim-"))
    sims = bench_patrol.sims_needed(args.hosts)
    try:
        book = bench_patrol.start_sims(sim_dir, args.hosts, args.latency, sims)
        probe(book, args.rounds, args.concurrency)
    finally:
        for k in range(sims):
            bench_patrol.stop_sim(sim_dir / f"sim{k}")


if __name__ == "__main__":
    main()
