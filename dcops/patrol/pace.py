"""How many hosts a round gives the inventory tier, and how that share follows the last round's
pace (pure; ``Patrol`` calls it each round, tests/unit/patrol/test_inventory_pace.py has the table)."""

from __future__ import annotations

import math

INVENTORY_MIN = 50  # hosts a round that may get the inventory tier, whatever the spread says


def inventory_budget(hosts: int, interval: float, every: float, share: float = 1.0) -> int:
    """Hosts a round may give the inventory tier: the fleet spread over ``every`` (a fresh fleet is
    inventoried over one period), times ``share`` (``inventory_share``), at least ``INVENTORY_MIN``."""
    exact = hosts * int(interval) * share / int(every)
    return max(INVENTORY_MIN, math.ceil(exact - 1e-9))  # 100.00000000001 hosts is 100


def inventory_share(share: float, read_seconds: float, missed: int, deadline: float) -> float:
    """The share of its spread the next round's inventory tier takes. An inventory visit costs
    about five times a minute visit (tests/bench/bench_inventory.py): after a round whose reads
    missed hosts or took over three quarters of the round deadline, half as many (down to 1/64);
    after one that took under half, a quarter more (up to all). Growing by less than the gap
    between the two marks (x1.25 < 3/4 / 1/2) keeps a round that was on time from overshooting
    into a late one; doubling did (2,000 BMCs: 500 and 1,000 inventory hosts in turn, every other
    round past 3/4). The hosts left out stay due and come first later: the inventory waits, the
    minute tier's health reads do not."""
    if missed or read_seconds > 0.75 * deadline:
        return max(1 / 64, share / 2)
    if read_seconds < 0.5 * deadline:
        return min(1.0, share * 1.25)
    return share
