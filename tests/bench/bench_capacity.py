"""Benchmark: check 2,000 hypervisors in 20 AZs from a snapshot file.

    python tests/bench/bench_capacity.py [--nodes 2000] [--azs 20] [--repeat 3]

Builds a synthetic fleet (mixed node sizes, racks of 10, a few nodes down, usage spread so that
some AZs fail the rack policy and the planner has to count nodes), writes it as a snapshot file,
then measures the CPU time of reading the file and checking every AZ and resource class (with
the default policy, and with rack+1, which fails more AZs and plans more). The target is under
2 s of CPU for the whole check; nothing here asserts it (timings belong in this report, not in
unit tests).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import tests.bench  # noqa: E402,F401 - installs the loopback guard
from dcops.capacity.check import check_capacity  # noqa: E402
from dcops.capacity.model import Node, NodeState, Resource, Snapshot  # noqa: E402
from dcops.capacity.policy import build_policy  # noqa: E402
from dcops.capacity.snapshot import read_snapshot, write_snapshot  # noqa: E402

SHAPES = [  # (MEMORY_MB total, VCPU total, DISK_GB total)
    (262144, 64, 1800),
    (524288, 96, 3600),
    (786432, 128, 3600),
]


def fleet(nodes: int, azs: int, seed: int = 7, loads: tuple[float, float] = (0.45, 0.75)) -> Snapshot:
    rng = random.Random(seed)
    out = []
    per_az = nodes // azs
    for a in range(azs):
        az = f"az{a + 1:02d}"
        load = rng.uniform(*loads)  # by default some AZs comfortable, some not
        for i in range(per_az):
            memory, vcpu, disk = rng.choice(SHAPES)
            use = min(0.95, max(0.0, rng.gauss(load, 0.08)))
            state = NodeState.UP if rng.random() > 0.01 else rng.choice([NodeState.DOWN, NodeState.DISABLED])
            out.append(Node(
                name=f"cmp-{az}-{i:03d}", az=az, rack=f"{az.upper()}-R{i // 10:02d}", state=state,
                hypervisor=f"cmp-{az}-{i:03d}.bench", provider=f"00000000-0000-0000-{a:04d}-{i:012d}",
                resources={
                    "MEMORY_MB": Resource(memory, 8192, Fraction(1), int((memory - 8192) * use)),
                    "VCPU": Resource(vcpu, 0, Fraction(4), int(vcpu * 4 * use * 0.8)),
                    "DISK_GB": Resource(disk, 0, Fraction(1), int(disk * use * 0.6)),
                }))
    import datetime as dt

    return Snapshot(taken_at=dt.datetime.now(dt.UTC), nodes=tuple(out), azs=(), source={"bench": "synthetic"})


def measure(path: Path, require: str, repeat: int) -> tuple[float, float, int, int]:
    """Best-of-``repeat`` CPU seconds for read + check + JSON, and for the check alone."""
    best_total = best_check = float("inf")
    failing = planned = 0
    for _ in range(repeat):
        start = time.process_time()
        snap = read_snapshot(path)
        checked = time.process_time()
        result = check_capacity(snap, build_policy(require=require))
        done = time.process_time()
        json.dumps(result.to_json())
        end = time.process_time()
        best_total = min(best_total, end - start)
        best_check = min(best_check, done - checked)
        failing = sum(1 for az in result.azs if not az.policy_met)
        planned = sum(1 for az in result.azs if az.nodes_needed)
    return best_total, best_check, failing, planned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--azs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hot", action="store_true",
                        help="load every AZ to 70-80 %% so that every AZ fails and is planned (worst case)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.json"
        write_snapshot(fleet(args.nodes, args.azs, loads=(0.7, 0.8) if args.hot else (0.45, 0.75)), path)
        size = path.stat().st_size
        print(f"snapshot: {args.nodes} hypervisors in {args.azs} AZs, 3 resource classes, {size / 1e6:.1f} MB")
        for require in ("rack", "nodes=1,rack+1"):
            total, check, failing, planned = measure(path, require, args.repeat)
            print(f"require {require:<15} read+check+json {total:6.3f} s CPU   check alone {check:6.3f} s CPU   "
                  f"{failing}/{args.azs} AZs fail, {planned} planned (best of {args.repeat})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
