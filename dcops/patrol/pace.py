"""How many hosts a round gives the inventory tier, and how that share follows the last round's
pace, how long an inventory visit may take before the round ends, and which due hosts go first
(pure; ``Patrol`` calls it each round, tests/unit/patrol/test_inventory_pace.py has the tables)."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence

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


def inventory_cap(left: float, reserve: float) -> float | None:
    """How long an inventory visit may take when ``left`` seconds of the round's read deadline
    remain: all of it but ``reserve`` (the minute visit's own deadline), so that a visit cut short
    still leaves time to read the host's minute facts (power, health, sensors, new log entries)
    before the round ends; when the minute deadline is over half of what is left (a patient
    ``bmc_deadline`` of 60 s in a 55 s round), the two share it. None: less than a quarter of
    ``reserve`` would be left for the inventory, too little to be worth starting (a minute visit
    instead; the inventory waits for the next round). The engine takes the smaller of this and
    the tier's own deadline (3 x ``bmc_deadline``): with the defaults (55 s round, 20 s BMC
    deadline) an inventory visit that starts with the round gets 35 s, not 60 s past its end."""
    room = left - min(reserve, left / 2)
    if too_little(room, reserve):
        return None
    return math.floor(room * 10) / 10  # "within 34.9s" in the error, not 34.99987


def too_little(room: float, reserve: float) -> bool:
    """Whether ``room`` seconds are too little for (the rest of) an inventory visit: under a
    quarter of the minute visit's deadline ``reserve``. The host is then read as a minute visit."""
    return room < reserve / 4


def inventory_pick(due: Sequence[str], budget: int, *, never: Collection[str] = (),
                   retry: Collection[str] = (), order: Callable[[str], float] = lambda _: 0.0) -> set[str]:
    """Which of the ``due`` hosts get the inventory tier this round, at most ``budget``: those never
    inventoried first, then those whose inventory the last round cut short (``retry``: it is
    retried the next round, not left to the spread's order), then the rest by ``order`` (a stable
    hash of the name, so the same hosts are not always last)."""
    if len(due) <= budget:
        return set(due)
    ranked = sorted(due, key=lambda n: (n not in never, n not in retry, order(n), n))
    return set(ranked[:budget])
