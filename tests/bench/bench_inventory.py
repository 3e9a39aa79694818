"""Benchmark: the inventory tier (parts, serials, firmware, logs) with and without ``$select``,
and patrol rounds that carry it (``inventory_every``) against their deadline. N simulated BMCs
(default mix: Dell, HPE, Lenovo, Supermicro; all advertise SelectQuery and $expand) served by
``dcops sim`` in its own process over HTTPS with 100-300 ms per request.

    .venv/bin/python -m tests.bench.bench_inventory --hosts 1000 --rounds 4 --json

1. Per BMC, through the fleet reader (``RedfishFleet``, as patrol uses it): a minute visit first
   (login, TLS, structure), then two inventory visits, each measured: requests, bytes of the
   documents (as decoded, re-encoded), and this process's CPU per BMC. ``select`` off, then on, on
   the same fleet (each with a reader of its own). The first inventory visit with ``$select``
   carries the one-time check of the service's ``$select`` (one member read in full).
2. Patrol rounds (``dcops.patrol.engine.Patrol``) with ``interval`` 60 s, ``inventory_every``
   600 s and the 55 s round deadline: each round gives the inventory tier to its budget of hosts
   (``max(INVENTORY_MIN, N * interval / inventory_every)``) and the minute tier to the rest. Per
   round: wall, CPU, hosts in each tier, missed hosts. Round 1 is cold (logins, TLS, discovery)
   and gets a long deadline, as ``dcops serve`` gives its first round.
3. ``--captures``: the simulator's documents are lean; the real captures' part documents are not.
   Per capture that advertises SelectQuery: bytes of its Memory/Processor/Drive/SoftwareInventory
   documents whole and as ``$select`` leaves them (the simulator's ``_select`` applied to the
   capture), and this process's CPU to decode (orjson) and parse (``read_observation``,
   components + firmware) the capture both ways.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[2]


def start_sim(directory: Path, hosts: int, latency: str) -> list[Any]:
    from dcops.inventory import load_inventory

    argv = [sys.executable, "-m", "dcops", "sim", "up", "--hosts", str(hosts), "--tls", "--latency", latency,
            "--timings", "fast", "--background", "--dir", str(directory), "--output", "json"]
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"dcops sim up failed: {result.stderr[-2000:]}")
    state = json.loads((directory / "state.json").read_text())
    return list(load_inventory([Path(state["inventory"])]).hosts)


def stop_sim(directory: Path) -> None:
    subprocess.run([sys.executable, "-m", "dcops", "sim", "down", "--dir", str(directory)], cwd=REPO,
                   capture_output=True, timeout=120)


def tier_cost(hosts: list[Any], select: bool, concurrency: int, inline: bool = True) -> dict[str, Any]:
    """A minute visit of every BMC, then two inventory visits, each measured."""
    from dcops.bmc.redfish.fleet import RedfishFleet, Target, reserve_open_files
    from dcops.patrol.engine import INVENTORY_SECTIONS as INVENTORY
    from dcops.patrol.engine import MINUTE_SECTIONS

    reserve_open_files(len(hosts))
    targets = [Target.of(h) for h in hosts]
    out: dict[str, Any] = {"select": select, "inline": inline}

    async def run() -> None:
        reader = RedfishFleet(concurrency=concurrency, select=select, inline=inline)
        gate = asyncio.Semaphore(concurrency)

        async def one(target: Target, inventory: bool, sizes: list[int]) -> tuple[int, bool]:
            async with gate:
                visit = await reader.visit(
                    target, sections=INVENTORY if inventory else MINUTE_SECTIONS, refresh=inventory,
                    deadline=120.0, on_document=lambda _p, d: sizes.append(len(orjson.dumps(d))))
            return visit.requests, visit.observation is not None

        for label, inventory in (("minute", False), ("inventory_1", True), ("inventory_2", True)):
            sizes: list[int] = []
            c0, t0 = time.process_time(), time.monotonic()
            results = await asyncio.gather(*(one(t, inventory, sizes) for t in targets))
            cpu, wall = time.process_time() - c0, time.monotonic() - t0
            ok = sum(1 for _, good in results if good)
            out[label] = {"wall_s": round(wall, 2), "cpu_ms_per_bmc": round(cpu * 1000 / len(targets), 2),
                          "requests_per_bmc": round(sum(r for r, _ in results) / len(targets), 2),
                          "kb_per_bmc": round(sum(sizes) / 1024 / len(targets), 1), "read": ok}
            print(json.dumps({label: out[label], "select": select, "inline": inline}), file=sys.stderr, flush=True)
        kept = [b.select for b in reader.bmcs.values()]
        out["select_checked"], out["select_refused"] = kept.count(True), kept.count(False)
        await reader.close()

    asyncio.run(run())
    return out


def patrol_rounds(hosts: list[Any], store_url: str, rounds: int, concurrency: int, select: bool,
                  every: int = 600, inline: bool = True) -> list[Any]:
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol, inventory_budget
    from dcops.store import open_store

    steady = load_patrol_config({"interval": 60, "concurrency": concurrency, "inventory_every": every,
                                 "bmc_deadline": "20s", "round_deadline": "55s"})
    cold = load_patrol_config({"interval": 60, "concurrency": concurrency, "inventory_every": every,
                               "bmc_deadline": "300s", "round_deadline": "900s"})
    # Patrol's clock moves a minute a round, as under ``dcops serve``: the bench runs rounds back
    # to back, and hosts fall due for the inventory by that clock.
    import datetime as dt

    now = [dt.datetime.now(dt.UTC)]
    engine = Patrol(open_store(store_url), hosts, cold, clock=lambda: now[0])
    engine.redfish.select = select
    engine.redfish.inline = inline
    out: list[dict[str, Any]] = []

    async def run() -> None:
        for n in range(rounds):
            now[0] += dt.timedelta(seconds=60)
            engine.config = cold if n == 0 else steady
            c0, t0 = time.process_time(), time.monotonic()
            summary = await engine.round()
            cpu, wall = time.process_time() - c0, time.monotonic() - t0
            tiers = [h.tier for h in summary.hosts]
            out.append({"round": n + 1, "select": select, "inline": inline, "inventory_every": every, "wall_s": round(wall, 2),
                        "deadline_s": engine.config.round_deadline, "cpu_ms_per_bmc": round(cpu * 1000 / len(hosts), 2),
                        "inventory_hosts": tiers.count("inventory"), "minute_hosts": tiers.count("minute"),
                        "budget_at_full_share": inventory_budget(len(hosts), 60, every),
                        "share_next": engine.inventory_share,
                        "requests_per_bmc": round(summary.requests / len(hosts), 2), "missed": summary.missed,
                        "inventory_cut": summary.inventory_cut,
                        "unreachable": summary.unreachable})
            print(json.dumps(out[-1]), file=sys.stderr, flush=True)
        await engine.close()

    asyncio.run(run())
    return out


def captures(repeat: int) -> list[dict[str, Any]]:
    """Bytes and decode+parse CPU of each advertising capture's inventory, whole and selected."""
    from dcops.bmc.redfish.docs import run_sync
    from dcops.bmc.redfish.keys import SELECT_MEMBERS
    from dcops.bmc.redfish.read import read_observation
    from dcops.bmc.redfish.select import select_supported
    from dcops.sim.server import _select
    from tests.unit.bmc.mockups import CAPTURES, fetcher, load

    kinds = {"Memory": "MemoryCollection", "Processor": "ProcessorCollection", "Drive": "DriveCollection",
             "SoftwareInventory": "SoftwareInventoryCollection"}
    out = []
    for name in CAPTURES:
        docs = load(name)
        if not select_supported(docs.get("/redfish/v1")):
            continue
        row: dict[str, Any] = {"capture": name}
        for label, chosen in (("whole", False), ("selected", True)):
            bodies: dict[str, bytes] = {}
            part_bytes = 0
            for path, doc in docs.items():
                kind = str(doc.get("@odata.type") or "").lstrip("#").split(".", 1)[0]
                if chosen and kind in kinds:
                    doc = _select(doc, list(SELECT_MEMBERS[kinds[kind]]))
                bodies[path] = orjson.dumps(doc)
                part_bytes += len(bodies[path]) if kind in kinds else 0
            c0 = time.process_time()
            for _ in range(repeat):
                decoded = {p: orjson.loads(b) for p, b in bodies.items()}
                run_sync(read_observation("h", sections=("components", "firmware"), log_limit=0), fetcher(decoded))
            row[label] = {"part_kb": round(part_bytes / 1024, 1),
                          "cpu_ms": round((time.process_time() - c0) * 1000 / repeat, 2)}
        out.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--latency", default="100-300ms")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--skip-rounds", action="store_true", help="only the per-BMC tier cost")
    parser.add_argument("--skip-tier", action="store_true", help="only the patrol rounds")
    parser.add_argument("--inventory-every", type=int, default=600, help="seconds (60: every host due each round)")
    parser.add_argument("--select", choices=("both", "on", "off"), default="both")
    parser.add_argument("--inline", choices=("both", "on", "off"), default="on",
                        help="a Storage's drives inline with $expand (with --select on: off, then on)")
    parser.add_argument("--captures", action="store_true", help="only the real captures, whole vs selected")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.captures:
        print(json.dumps(captures(50), indent=1))
        return
    base = Path(tempfile.mkdtemp(prefix="dcops-bench-inventory-"))
    try:
        hosts = start_sim(base / "sim", args.hosts, args.latency)
        choice = {"both": (False, True), "on": (True,), "off": (False,)}
        modes = [(s, i) for s in choice[args.select] for i in choice[args.inline]]
        report: dict[str, Any] = {"hosts": len(hosts), "latency": args.latency, "tier": [] if args.skip_tier else
                                  [tier_cost(hosts, s, args.concurrency, i) for s, i in modes]}
        if not args.skip_rounds:
            report["rounds"] = [r for s, i in modes for r in patrol_rounds(
                hosts, f"sqlite:///{base}/patrol-{int(s)}{int(i)}.db", args.rounds, args.concurrency, s,
                args.inventory_every, i)]
    finally:
        stop_sim(base / "sim")
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for tier in report["tier"]:
        print(f"select={tier['select']} inline={tier['inline']}: " + "  ".join(
            f"{k}: {v['requests_per_bmc']} req, {v['kb_per_bmc']} KB, {v['cpu_ms_per_bmc']} ms CPU/BMC"
            for k, v in tier.items() if isinstance(v, dict)))
    for r in report.get("rounds", []):
        print(r)


if __name__ == "__main__":
    main()
