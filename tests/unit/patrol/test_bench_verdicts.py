"""The benchmark's one-line verdicts on issue 19's goals and its reading of ``--latency``: pure
functions of the measured rounds (tests/bench/bench_patrol.py), so a note can quote them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench.bench_patrol import cold_breakdown, mean_latency_ms, verdicts


def _round(n: int, wall: float, cpu_ms: float, *, missed: int = 0, unreachable: int = 0, kb: float = 80.0,
           requests: float = 3.5) -> dict[str, Any]:
    # Ten BMCs: cpu_s is their total.
    return {"round": n, "wall_s": wall, "cpu_s": cpu_ms * 10 / 1000, "cpu_ms_per_bmc": cpu_ms, "requests_per_bmc": requests,
            "missed": missed, "unreachable": unreachable, "reachable": 10 - missed - unreachable,
            "rss_kb_per_bmc": kb}


GOOD_COLD = _round(1, 55.0, 5.0, requests=13.5)
GOOD = _round(2, 30.0, 0.4)


@pytest.mark.parametrize(("bmcs", "rounds", "ratios", "expected"), [
    (10_000, [GOOD_COLD, GOOD], {"redfish_library": 12.5, "sushy": 15.0},
     ["verdict: steady round < 60 s: met (30.0 s wall, 0 unreachable, 0 missed) at 10,000 BMCs",
      "verdict: cold round < 60 s: met (55.0 s wall, 0 unreachable, 0 missed) at 10,000 BMCs",
      "verdict: steady CPU <= 0.5 ms/BMC: met (0.400 ms/BMC) at 10,000 BMCs",
      "verdict: memory <= 100 KB/BMC: met (80 KB/BMC of RSS grown since before the patrol) at 10,000 BMCs",
      "verdict: >= 12x less CPU/BMC than redfish_library: met (12.5x) at 10,000 BMCs",
      "verdict: >= 15x less CPU/BMC than sushy: met (15.0x) at 10,000 BMCs"]),
    # A missed or unreachable BMC fails the round however fast it was; 60 s itself is not under 60.
    (10_000, [_round(1, 60.0, 5.0), _round(2, 20.0, 0.6, missed=1, kb=101)], {"sushy": 14.9},
     ["verdict: steady round < 60 s: NOT met (20.0 s wall, 0 unreachable, 1 missed) at 10,000 BMCs",
      "verdict: cold round < 60 s: NOT met (60.0 s wall, 0 unreachable, 0 missed) at 10,000 BMCs",
      # CPU per BMC *read* when the round missed some (6 ms over 9 BMCs read, not over 10).
      "verdict: steady CPU <= 0.5 ms/BMC: NOT met (0.667 ms/BMC read, 1 missed) at 10,000 BMCs",
      "verdict: memory <= 100 KB/BMC: NOT met (101 KB/BMC of RSS grown since before the patrol) at 10,000 BMCs",
      "verdict: >= 15x less CPU/BMC than sushy: NOT met (14.9x) at 10,000 BMCs"]),
    # Below the goal's size the line says so; a peer without a goal gets no line.
    (1_000, [_round(1, 10.0, 4.0, unreachable=2), GOOD], {"other": 99.0},
     ["verdict: steady round < 60 s: met (30.0 s wall, 0 unreachable, 0 missed) at 1,000 BMCs (the goal is "
      "stated at 10,000)",
      "verdict: cold round < 60 s: NOT met (10.0 s wall, 2 unreachable, 0 missed) at 1,000 BMCs (the goal is "
      "stated at 10,000)",
      "verdict: steady CPU <= 0.5 ms/BMC: met (0.400 ms/BMC) at 1,000 BMCs (the goal is stated at 10,000)",
      "verdict: memory <= 100 KB/BMC: met (80 KB/BMC of RSS grown since before the patrol) at 1,000 BMCs (the "
      "goal is stated at 10,000)"]),
])
def test_verdicts(bmcs: int, rounds: list[dict[str, Any]], ratios: dict[str, float], expected: list[str]) -> None:
    assert verdicts(bmcs, rounds, ratios) == expected


@pytest.mark.parametrize(("text", "ms"), [("100-300ms", 200.0), ("50ms", 50.0), ("0-0ms", 0.0), (" 10-20MS ", 15.0),
                                          ("slow", 0.0), ("", 0.0)])
def test_mean_latency(text: str, ms: float) -> None:
    assert mean_latency_ms(text) == ms


def test_cold_breakdown_derives_logins_and_discovery_from_measured_parts() -> None:
    cold = dict(_round(1, 90.0, 6.0, requests=13.5), cpu_s=60.0, sim_cpu_s=50.0, sim_cpu_ms_per_bmc=5.0,
                sim_sessions=10_000)
    steady = dict(_round(2, 30.0, 2.0), cpu_s=20.0, sim_cpu_s=12.0, sim_cpu_ms_per_bmc=1.2)
    lines = cold_breakdown(10, [cold, steady], {"handshakes": 200, "client_ms": 1000.0, "server_ms": 500.0},
                           concurrency=5, latency_ms=200.0)
    text = "\n".join(lines)
    # patrol: 60 s cold - 20 s steady - 10 x 1 s handshakes = 30 s for 10 BMCs x 10 extra requests
    assert "~30.0 s patrol CPU" in text and "300.000 ms per request" in text
    # simulators: 50 - 12 - 10 x 0.5 = 33 s
    assert "~33.0 s simulator CPU" in text
    assert "2 wave(s) of 5 BMCs x 13.5 requests x 200 ms mean = 5.4 s" in text
    assert "10,000 (one login per BMC)" in text


def test_cold_breakdown_does_not_split_against_a_starved_steady_round() -> None:
    cold = dict(_round(1, 90.0, 6.0, requests=13.5), sim_cpu_s=50.0, sim_cpu_ms_per_bmc=5.0)
    steady = dict(_round(2, 66.0, 2.0, missed=4), sim_cpu_s=12.0, sim_cpu_ms_per_bmc=1.2)
    text = "\n".join(cold_breakdown(10, [cold, steady], None))
    assert "not split out (the steady round missed 4 BMCs" in text and "patrol CPU (cold" not in text
