"""Memory probe: where a patrolled Redfish BMC's resident memory goes (issue 19).

Starts ``dcops sim`` (HTTPS, 100-300 ms per request), runs a cold patrol round and steady rounds
in this process, and prints the resident set (VmRSS) per BMC above what the process held before
the first round, as the process has it and after giving freed C heap back (glibc ``malloc_trim``,
which the patrol does after each round). Then where it goes, per BMC:

* Python objects in use (pymalloc blocks, ``sys._debugmallocstats``) and the arenas pymalloc holds
  around them (an arena goes back to the system only when its last object dies: the cold round's
  transient peak leaves them partly used);
* the C heap in use (glibc ``mallinfo2``: OpenSSL's per-connection state, the Python objects over
  512 bytes) and free but kept;
* the kept connections (one per BMC) and what each part frees when the probe takes the kept state
  apart: the connections, the cached structural documents, the rest of the reader's state, the
  engine's rows and its latest round summary.

``--trace`` also runs ``tracemalloc`` from the first round (slower, and its own bookkeeping
inflates the RSS figures of that run) and prints the Python heap per BMC by category and the top
allocation sites. Figures, not assertions.

    .venv/bin/python -m tests.bench.patrol_memory --hosts 1000 [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import os
import re
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import bench_patrol


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                       "fsmblks", "uordblks", "fordblks", "keepcost")]


def _libc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        return libc
    except (OSError, AttributeError):  # not glibc (or older than 2.33): no C-heap figures
        return None


LIBC = _libc()


@dataclass
class Heap:
    """One reading of the process's memory, in bytes."""

    rss: int  # after malloc_trim
    rss_untrimmed: int
    py_arenas: int  # pymalloc arenas held
    py_blocks: int  # bytes in Python objects in use (pymalloc)
    c_in_use: int  # glibc heap in use (incl. Python objects over 512 bytes)
    c_free: int  # glibc heap free but kept

    def minus(self, base: Heap, n: int) -> dict[str, float]:
        return {k: (getattr(self, k) - getattr(base, k)) / 1024 / n for k in vars(self)}


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _pymalloc() -> tuple[int, int]:
    """(bytes of arenas held, bytes in allocated blocks), parsed from ``sys._debugmallocstats``
    (it writes to the C stderr: caught through a file)."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as out:
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")

    def figure(pattern: str) -> int:
        found = re.search(pattern, text)
        return int(found.group(1).replace(",", "")) if found else 0

    return figure(r"arenas \* \d+ bytes/arena\s*=\s*([\d,]+)"), figure(r"# bytes in allocated blocks\s*=\s*([\d,]+)")


def measure() -> Heap:
    gc.collect()
    untrimmed = _rss()
    if LIBC is not None:
        LIBC.malloc_trim(0)
    arenas, blocks = _pymalloc()
    info = LIBC.mallinfo2() if LIBC is not None else _MallInfo2()
    return Heap(_rss(), untrimmed, arenas, blocks, info.uordblks, info.fordblks)


def rss_mb() -> float:
    """Resident set after a full collection and giving freed heap back (glibc ``malloc_trim``)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the figure includes freed heap
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return _rss() / 1024 / 1024


# tracemalloc's allocation sites (one frame) grouped into what they are kept as.
CATEGORIES = (
    ("decoded documents (orjson)", ("dcops/bmc/redfish/jsonbody.py",)),
    ("connections (wire.py, asyncio, ssl)", ("bmc/redfish/wire.py", "aiohttp/", "asyncio/", "/ssl.py", "aiohappyeyeballs", "yarl/",
                                             "multidict/", "tlsbuffer.py")),
    ("reader state (fleet.py, keys)", ("dcops/bmc/",)),
    ("patrol engine (rows, results, checks)", ("dcops/patrol/", "dcops/observation.py")),
    ("store (SQLAlchemy, JSON)", ("sqlalchemy/", "dcops/store/", "json/")),
)


def _category(filename: str) -> str:
    for name, needles in CATEGORIES:
        if any(needle in filename for needle in needles):
            return name
    return "other"


def print_trace(snapshot: tracemalloc.Snapshot, n: int) -> None:
    snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    stats = snapshot.statistics("lineno")
    by_category: dict[str, int] = {}
    for stat in stats:
        name = _category(stat.traceback[0].filename)
        by_category[name] = by_category.get(name, 0) + stat.size
    total = sum(by_category.values())
    print(f"Python heap traced since the first round: {total / 1024 / n:.1f} KB per BMC")
    for name, size in sorted(by_category.items(), key=lambda kv: -kv[1]):
        print(f"  {size / 1024 / n:6.1f} KB  {name}")
    print("top allocation sites:")
    for stat in stats[:12]:
        frame = stat.traceback[0]
        print(f"  {stat.size / 1024 / n:6.2f} KB {stat.count / n:6.1f} objects  {frame.filename}:{frame.lineno}")


def probe(book: list[Any], rounds: int, concurrency: int, trace: bool = False) -> None:
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
            base = measure()
            print(f"before the first round: {base.rss / 2**20:.0f} MB")
            if trace:
                tracemalloc.start(1)
            for k in range(rounds):
                engine.config = cold if k == 0 else steady
                c0, t0 = time.process_time(), time.monotonic()
                summary = await engine.round()
                cpu, wall = time.process_time() - c0, time.monotonic() - t0
                now = measure()
                per = now.minus(base, n)
                print(f"round {k + 1}: {wall:.2f} s wall, {cpu * 1000 / n:.3f} ms CPU/BMC, "
                      f"{summary.requests / n:.2f} requests/BMC, {summary.unreachable} unreachable; "
                      f"RSS {now.rss / 2**20:.0f} MB = {per['rss']:.0f} KB per BMC above the start "
                      f"({per['rss_untrimmed']:.0f} KB before malloc_trim)")
            del summary  # the engine keeps the latest one (``latest``): measured below
            if trace:
                print_trace(tracemalloc.take_snapshot(), n)
                tracemalloc.stop()
            steady_heap = measure()
            per = steady_heap.minus(base, n)
            reader = engine.redfish
            http = reader._http  # noqa: SLF001 - a probe takes the reader apart on purpose
            conns = len(http) if http is not None else 0  # idle kept connections (wire.Client)
            print(f"where the {per['rss']:.0f} KB per BMC go (KB per BMC above the start; {conns / n:.2f} kept "
                  f"connections per BMC):")
            print(f"  Python objects in use {per['py_blocks']:6.1f} | pymalloc arenas around them, unused "
                  f"{per['py_arenas'] - per['py_blocks']:6.1f}")
            print(f"  C heap in use         {per['c_in_use']:6.1f} | C heap free, kept by glibc "
                  f"{per['c_free']:6.1f}")

            steps: list[tuple[str, Any]] = []

            async def close_connections() -> None:
                if http is not None:
                    http.close()  # the kept connections (wire.Client)

            async def drop_documents() -> None:
                for bmc in reader.bmcs.values():
                    bmc.static.clear()
                    bmc.types.clear()
                pool = getattr(reader, "_docs", None)  # the parts shared between BMCs (share.py)
                if pool is not None:
                    pool.prune()

            async def drop_reader_state() -> None:
                reader.bmcs.clear()

            async def drop_rows() -> None:
                engine._rows = None  # noqa: SLF001

            async def drop_latest() -> None:
                engine.latest = None

            async def drop_sensor_memo() -> None:
                from dcops.bmc.redfish import read

                print(f"  (the sensor memo held {len(read.SENSORS):,} sensors, {read.SENSORS.hits:,} reused, "
                      f"{read.SENSORS.misses:,} built)")
                read.SENSORS.clear()

            steps = [("kept TLS connections", close_connections),
                     ("cached structural documents and types", drop_documents),
                     ("rest of the reader's per-BMC state", drop_reader_state),
                     ("engine's cached host rows", drop_rows),
                     ("latest round summary (results, sensors)", drop_latest),
                     ("sensors built once (read.SENSORS)", drop_sensor_memo)]
            print("freed by taking the kept state apart (KB per BMC: RSS | Python objects | C heap in use):")
            before = steady_heap
            for label, step in steps:
                await step()
                after = measure()
                freed = before.minus(after, n)
                print(f"  {label:42} {freed['rss']:6.1f} | {freed['py_blocks']:6.1f} | {freed['c_in_use']:6.1f}")
                before = after
            left = before.minus(base, n)
            print(f"  left above the start: RSS {left['rss']:.1f}, Python objects {left['py_blocks']:.1f}, "
                  f"pymalloc arenas {left['py_arenas']:.1f}, C heap in use {left['c_in_use']:.1f}")
            await engine.close()

        asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--latency", default="100-300ms")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--trace", action="store_true", help="tracemalloc: Python heap by category (slower)")
    args = parser.parse_args()
    sim_dir = Path(tempfile.mkdtemp(prefix="dcops-memprobe-sim-"))
    sims = bench_patrol.sims_needed(args.hosts)
    try:
        book = bench_patrol.start_sims(sim_dir, args.hosts, args.latency, sims)
        probe(book, args.rounds, args.concurrency, args.trace)
    finally:
        for k in range(sims):
            bench_patrol.stop_sim(sim_dir / f"sim{k}")


if __name__ == "__main__":
    main()
