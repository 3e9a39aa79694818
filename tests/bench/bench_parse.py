"""Benchmark: CPU of parsing and checking one BMC's minute visit, without a network (issue 19).

The documents are the golden table's (tests/unit/bmc/golden_reads.py): what a ``dcops sim``
fleet served to the fleet reader on steady minute visits (Chassis with Thermal/Power inline,
Sensors expanded, the new log entries), one host per default profile and fault; and a few real
vendor captures read with the minute sections. Each visit is ``read_observation(sections=
("sensors", "logs"), expand=True)`` driven by ``run_sync`` over an in-memory dict, then
``check_host`` -- the parser's and the checks' share of a patrol round, nothing else. Prints
microseconds of CPU per BMC visit (best of ``--repeat`` runs of ``--loops`` visits each).

    .venv/bin/python -m tests.bench.bench_parse
    .venv/bin/python -m tests.bench.bench_parse --loops 200 --profile   # cProfile of the hot path
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from dcops.bmc.redfish.docs import run_sync
from dcops.bmc.redfish.read import read_observation
from dcops.patrol.checks import check_host
from dcops.patrol.model import HostMemory, Policy
from tests.unit.bmc.golden_reads import replay, sim_docs
from tests.unit.bmc.mockups import load

MINUTE = ("sensors", "logs")
CAPTURES = ("dell-poweredge-r750-idrac9-6.00", "hpe-proliant-dl380a-gen11-ilo6-1.66",
            "lenovo-thinksystem-sr670v2-xcc-2.83", "supermicro-sys-821ge-tnhr-x13", "nvidia-gb200-nvl")
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def visits() -> dict[str, list[tuple[str, Callable[[str], Any]]]]:
    sim = [(host, replay(pairs, copied=False)) for host, pairs in sorted(sim_docs().items())]
    captures = [(name, replay(list(load(name).items()), copied=False)) for name in CAPTURES]
    return {"sim minute visits": sim, "captures, minute sections": captures}


def visit(host: str, fetch: Callable[[str], Any], policy: Policy) -> None:
    obs = run_sync(read_observation(host, sections=MINUTE, expand=True), fetch)
    check_host(host, obs, HostMemory(power="on", last_reachable=True), NOW, policy, sections=MINUTE)


def per_visit_us(group: list[tuple[str, Callable[[str], Any]]], loops: int, repeat: int) -> float:
    policy = Policy()
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for _ in range(loops):
            for host, fetch in group:
                visit(host, fetch, policy)
        best = min(best, (time.process_time() - started) / (loops * len(group)))
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile the sim visits instead of timing")
    args = parser.parse_args()
    groups = visits()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(per_visit_us, groups["sim minute visits"], args.loops, 1)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    for name, group in groups.items():
        print(f"{name:28} {len(group):3} BMCs  {per_visit_us(group, args.loops, args.repeat):8.1f} us CPU per visit "
              "(read_observation minute sections + check_host)")


if __name__ == "__main__":
    main()
