"""How many hosts a round gives the inventory tier (dcops/patrol/pace.py ``inventory_budget``)
and how that share follows the last round's pace (``inventory_share``): the inventory waits when
rounds run late, the minute tier's reads do not miss their deadline for it. How long one
inventory visit may take (``inventory_cap``: never past the round, a minute visit's time kept) and
which due hosts go first (``inventory_pick``: never inventoried, then cut short last round)."""

from __future__ import annotations

import pytest

from dcops.patrol.pace import INVENTORY_MIN, inventory_budget, inventory_cap, inventory_pick, inventory_share


@pytest.mark.parametrize(("hosts", "interval", "every", "share", "budget"), [
    (1_000, 60, 600, 1.0, 100),  # the fleet over ten rounds
    (10_000, 60, 3_600, 1.0, 167),  # the default hour: ceil(166.7)
    (10_000, 60, 600, 1.0, 1_000),
    (10_000, 60, 600, 0.5, 500),
    (10_000, 60, 600, 0.3125, 313),  # ceil(312.5)
    (10_000, 60, 600, 1 / 64, INVENTORY_MIN),  # never below the floor: ceil(15.6) < 50
    (3_000, 60, 3_600, 1.0, INVENTORY_MIN),  # exactly 50: no rounding up past it
    (7, 60, 3_600, 1.0, INVENTORY_MIN),  # a small fleet is inventoried at once
    (1_000, 60, 600, 0.25, INVENTORY_MIN),
])
def test_budget(hosts: int, interval: float, every: float, share: float, budget: int) -> None:
    assert inventory_budget(hosts, interval, every, share) == budget


@pytest.mark.parametrize(("share", "seconds", "missed", "after"), [
    (1.0, 10.0, 0, 1.0),  # on time: all of its spread
    (1.0, 45.0, 0, 0.5),  # over three quarters of the 55 s deadline: half
    (1.0, 12.0, 3, 0.5),  # hosts missed, however fast the rest: half
    (0.5, 40.0, 0, 0.5),  # between half and three quarters: kept
    (0.25, 20.0, 0, 0.3125),  # well on time again: a quarter more
    (0.9, 20.0, 0, 1.0),  # never past all of it
    (1 / 64, 55.0, 10, 1 / 64),  # floor
])
def test_share_follows_the_last_round(share: float, seconds: float, missed: int, after: float) -> None:
    assert inventory_share(share, seconds, missed, 55.0) == after


def test_a_fleet_too_large_for_its_spread_settles_under_the_deadline() -> None:
    # 10,000 hosts, inventory every 600 s: 1,000 inventory visits a round at full share. A round's
    # reads cost 3 ms a minute host and 60 ms an inventory host here (a slow machine): 87 s at
    # full share, past the 55 s deadline. The share halves until rounds fit, then stays.
    share, walls = 1.0, []
    for _ in range(8):
        inventory = inventory_budget(10_000, 60, 600, share)
        seconds = (10_000 - inventory) * 0.003 + inventory * 0.060
        missed = max(0, int((seconds - 55.0) / 0.003))
        walls.append(round(min(seconds, 55.0), 1))
        share = inventory_share(share, min(seconds, 55.0), missed, 55.0)
    assert walls[:2] == [55.0, 55.0] and all(w < 55.0 * 0.75 for w in walls[3:]), walls
    assert len(set(walls[3:])) == 1  # settled, no swinging back past the deadline
    assert inventory_budget(10_000, 60, 600, share) >= INVENTORY_MIN


def test_growing_back_never_overshoots_into_a_late_round() -> None:
    # After a bad spell (share 1/64), cheaper rounds again: 0.5 ms a minute host, 80 ms an
    # inventory host, 10,000 hosts (85 s at full share: late). The share grows a quarter a round
    # while reads take under half the deadline and stops between the marks; no round goes past
    # 3/4 (doubling did: from 250 inventory hosts, 24.9 s, to 500, 44.8 s).
    share, walls = 1 / 64, []
    for _ in range(40):
        inventory = inventory_budget(10_000, 60, 600, share)
        seconds = (10_000 - inventory) * 0.0005 + inventory * 0.080
        walls.append(seconds)
        share = inventory_share(share, seconds, 0, 55.0)
    assert max(walls) < 0.75 * 55.0, max(walls)
    assert walls[-1] >= 0.5 * 55.0 and 0.25 < share < 0.4, (walls[-1], share)


@pytest.mark.parametrize(("left", "reserve", "cap"), [
    (55.0, 20.0, 35.0),  # the defaults, a visit that starts with the round: 35 s, not 60 s past its end
    (40.0, 20.0, 20.0),  # started 15 s into the round: the minute visit's 20 s kept
    (30.0, 20.0, 15.0),  # less than twice a minute deadline left: the two share it
    (25.0, 20.0, 12.5),
    (10.0, 20.0, 5.0),  # exactly a quarter of the minute deadline each: still worth starting
    (9.9, 20.0, None),  # less: a minute visit instead, the inventory waits
    (-1.0, 20.0, None),  # past the round's end already
    (0.0, 20.0, None),
    (55.0, 60.0, 27.5),  # a patient 60 s minute deadline in a 55 s round: shared, not never
    (20.0, 60.0, None),  # 10 s each: under a quarter of 60 s
    (300.0, 120.0, 180.0),
    (15.0, 10.0, 7.5),
    (40.0, 10.0, 30.0),
    (14.99987, 10.0, 7.4),  # floored to a tenth: never past the round, a readable deadline
])
def test_cap(left: float, reserve: float, cap: float | None) -> None:
    assert inventory_cap(left, reserve) == cap


@pytest.mark.parametrize(("due", "budget", "never", "retry", "picked"), [
    (["a", "b", "c"], 5, set(), set(), {"a", "b", "c"}),  # all fit
    (["a", "b", "c", "d"], 2, {"d"}, {"c"}, {"d", "c"}),  # never inventoried, then cut short last round
    (["a", "b", "c", "d"], 2, {"c", "d", "b"}, {"a"}, {"b", "c"}),  # never first, even before a retry
    (["a", "b", "c", "d"], 3, set(), {"d"}, {"d", "a", "b"}),  # the retry, then the spread's order
    (["a", "b", "c", "d"], 2, set(), {"x"}, {"a", "b"}),  # a retry no longer due changes nothing
    ([], 2, set(), set(), set()),
])
def test_pick(due: list[str], budget: int, never: set[str], retry: set[str], picked: set[str]) -> None:
    assert inventory_pick(due, budget, never=never, retry=retry) == picked


def test_pick_follows_the_order_among_equals() -> None:
    rank = {"a": 0.9, "b": 0.1, "c": 0.5, "d": 0.3}
    assert inventory_pick(list(rank), 2, order=rank.__getitem__) == {"b", "d"}
    assert inventory_pick(list(rank), 2, never={"a"}, order=rank.__getitem__) == {"a", "b"}
