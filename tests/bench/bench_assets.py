"""Benchmark: reconcile 10,000 hosts against a 10,000-row book from stored snapshots; collect
1,000 simulated BMCs.

    python tests/bench/bench_assets.py [--hosts 10000] [--collect 1000] [--no-expand] [--state sqlite:///PATH]

1. Builds 10,000 synthetic snapshots (2 CPUs, 16 DIMMs, 8 drives, NICs, PSUs, a mainboard: ~35
   parts each) and stores them as one collection (timed: that is what `dcops assets collect`
   pays after reading the BMCs).
2. Builds a 10,000-row book with ~1 % planted errors and measures the CPU time of what `dcops
   assets reconcile` does: read the latest snapshot of every host from the store and reconcile.
   Target: under 5 s of CPU. Exit status 1 when the target is missed.
3. Starts a 1,000-host `dcops sim` fleet in this process and collects it over the asyncio path
   (`--collect 0` skips it), with `$expand` where the BMC advertises it as `dcops assets collect`
   does (`--no-expand`: every member read on its own, as before); reports wall time, CPU time and
   requests. The simulator shares the process (and the CPU), so this is an upper bound on dcops'
   own cost.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import tests.bench  # noqa: E402,F401 - installs the loopback guard
from dcops.assets import store as asset_store  # noqa: E402
from dcops.assets.model import AssetSnapshot, Hardware, Part, PartKind, Placement  # noqa: E402
from dcops.assets.reconcile import BookEntry, HardwareExpectation, reconcile  # noqa: E402
from dcops.models import Location  # noqa: E402
from dcops.store import open_store  # noqa: E402

GIB = 1024**3
EXPECT = HardwareExpectation(cpus=2, dimms=16, memory_bytes=16 * 32 * GIB, drives=8,
                             drive_sizes=tuple([960 * 10**9] * 2 + [2400 * 10**9] * 6))


def synthetic(i: int, at: dt.datetime) -> AssetSnapshot:
    parts = [Part(PartKind.CHASSIS, "1", f"SN{i:07d}", model="R750"),
             Part(PartKind.MAINBOARD, "1/mainboard", f"MB{i:07d}", model="0WMWCR"),
             Part(PartKind.BMC, "1/iDRAC", None, model="iDRAC9", firmware="6.00")]
    parts += [Part(PartKind.CPU, f"1/CPU{s}", f"CPU{i:07d}{s}", model="Xeon Gold 6338", cores=32) for s in (1, 2)]
    parts += [Part(PartKind.DIMM, f"1/DIMM{d:02d}", f"D{i:07d}{d:02d}", part_number="M393A4K40DB3",
                   capacity_bytes=32 * GIB, speed=3200) for d in range(16)]
    parts += [Part(PartKind.DRIVE, f"1/Bay{b}", f"S{i:07d}{b}", model="PX05", firmware="A1",
                   capacity_bytes=(960 if b < 2 else 2400) * 10**9) for b in range(8)]
    parts += [Part(PartKind.NIC, f"1/NIC{n}", f"N{i:07d}{n}", model="BCM57414") for n in (1, 2)]
    parts += [Part(PartKind.PSU, f"1/PSU{n}", f"P{i:07d}{n}", model="1400W") for n in (1, 2)]
    parts.append(Part(PartKind.STORAGE_CONTROLLER, "1/RAID", f"R{i:07d}", model="PERC H755"))
    rack, u = f"R{i // 20:03d}", 1 + 2 * (i % 20)
    return AssetSnapshot(host=f"h{i:05d}", taken_at=at, bmc=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}:443",
                         manufacturer="Dell Inc.", model="PowerEdge R750", serial=f"SN{i:07d}", sku=f"SN{i:07d}",
                         uuid=f"4c4c4544-0000-0000-0000-{i:012d}", chassis_serial=f"SN{i:07d}",
                         board_serial=f"MB{i:07d}", placement=Placement(rack=rack, u=u), parts=tuple(parts),
                         firmware=(("BIOS", "1.8.2"), ("iDRAC", "6.00")), hardware=Hardware.of(parts))


def book_row(snap: AssetSnapshot, rng: random.Random) -> BookEntry:
    assert snap.placement is not None
    row = BookEntry(name=snap.host, serial=snap.serial, bmc=snap.bmc, vendor="Dell", model="PowerEdge R750",
                    location=Location(site="dc1", room="r1", rack=snap.placement.rack, u=snap.placement.u),
                    profile="r750")
    roll = rng.random()
    if roll < 0.005:
        row = dataclasses.replace(row, serial="WRONG" + (row.serial or ""))
    elif roll < 0.01:
        row = dataclasses.replace(row, location=dataclasses.replace(row.location, u=(row.location.u or 0) + 1))
    return row


def bench_reconcile(hosts: int, state: str | None) -> float:
    at = dt.datetime.now(dt.UTC)
    snaps = [synthetic(i, at) for i in range(hosts)]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(state or f"sqlite:///{tmp}/bench.db")
        t0 = time.perf_counter()
        asset_store.save_collection(store, snaps)
        print(f"store: {hosts} snapshots ({sum(len(s.parts) for s in snaps) // hosts} parts each) saved in "
              f"{time.perf_counter() - t0:.2f} s")
        rng = random.Random(7)
        book = [book_row(s, rng) for s in snaps]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        loaded = asset_store.latest_snapshots(store)
        cpu1 = time.process_time()
        result = reconcile(book, loaded, profiles={"r750": EXPECT})
        cpu2, wall2 = time.process_time(), time.perf_counter()
        store.close()
    print(f"reconcile: {len(book)} rows x {len(loaded)} snapshots: {cpu2 - cpu0:.2f} s CPU "
          f"(read {cpu1 - cpu0:.2f} s, reconcile {cpu2 - cpu1:.2f} s), {wall2 - wall0:.2f} s wall; "
          f"{len(result.discrepancies)} discrepancies {result.summary()['by_kind']}")
    return cpu2 - cpu0


def bench_collect(count: int, expand: bool = True) -> None:
    from dcops.assets.collect import collect_fleet
    from dcops.inventory import load_inventory
    from dcops.sim.fleet import FleetSpec
    from dcops.sim.testing import ThreadedFleet

    with tempfile.TemporaryDirectory() as tmp, ThreadedFleet(FleetSpec(hosts=count), control=False) as sim:
        os.environ["DCOPS_BENCH_BMC_PW"] = sim.password
        path = Path(tmp) / "fleet.yaml"
        sim.fleet.write_inventory(path, "env:DCOPS_BENCH_BMC_PW")
        hosts = load_inventory(path).hosts
        cpu0, wall0 = time.process_time(), time.perf_counter()
        outcomes = collect_fleet(hosts, concurrency=200, deadline=300, expand=expand)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    failed = sum(o.snapshot is None for o in outcomes)
    requests = sum(o.requests for o in outcomes)
    print(f"collect ({'$expand' if expand else 'no $expand'}): {count} simulated BMCs in {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU (simulator included), "
          f"{requests} requests ({requests / max(count, 1):.0f} per BMC), {failed} failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--collect", type=int, default=1000, help="simulated BMCs to collect (0: skip)")
    parser.add_argument("--no-expand", action="store_true", help="collect without $expand (the old way)")
    parser.add_argument("--state", help="state store URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    cpu = bench_reconcile(args.hosts, args.state)
    if args.collect:
        bench_collect(args.collect, expand=not args.no_expand)
    ok = cpu < 5.0
    print(f"target: reconcile under 5 s of CPU: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
