"""On demand (outside the default test paths): the simulator's scale targets, with figures printed.

    .venv/bin/pytest -s tests/bench/test_bench_sim.py              # 1,000 and 10,000 BMCs, HTTP and HTTPS
    DCOPS_BENCH_HOSTS=1000 .venv/bin/pytest -s tests/bench/test_bench_sim.py
"""

from __future__ import annotations

import os

import pytest

from tests.bench.bench_sim import format_row, run_case

SIZES = [int(n) for n in os.environ.get("DCOPS_BENCH_HOSTS", "1000,10000").split(",")]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("hosts", SIZES)
def test_fleet_scale(hosts: int, tls: bool) -> None:
    result = run_case(hosts, tls, steady_seconds=5.0)
    print("\n" + format_row(result))
    assert result["startup_seconds_process"] < 60  # 10,000 BMCs start in under a minute
    assert result["rss_mib_after_sweep"] < 2048  # and stay under 2 GiB with every BMC's state created
    assert result["sweep_failed"] == 0 and result["steady_failed"] == 0
    assert result["sweep_requests"] == hosts
