"""An inventory visit never overruns the round (issue 19): over dcops sim, a host whose firmware
inventory answers far slower than the round allows (fault ``bmc_slow paths=FirmwareInventory``:
part documents that take seconds, as iDRAC's do) is not *missed*. Its inventory visit is cut at
what the round has left less a minute visit's deadline, the minute reading is taken with that
time (its over-temperature fault is seen the same round), the inventory is not taken as fresh, and
it is tried again the next round, where it completes once the BMC answers in time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.patrol.conftest import SimPatrol, make_sim_patrol

# A test about the deadline: short ones (docs/testing.md), asserting what the deadline did. A
# minute visit of a simulated BMC over loopback takes well under a second; 10 s is its deadline.
# The inventory visit that starts with the round gets 7.5 s (what is left, shared with the minute
# visit: pace.inventory_cap), and the slow BMC's firmware inventory takes 60 s a request: it
# cannot finish, on any machine.
BMC_DEADLINE = 10
ROUND_DEADLINE = 15

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def patrol(tmp_path: Path) -> Iterator[SimPatrol]:
    sp = make_sim_patrol(tmp_path, 2, {"bmc_deadline": BMC_DEADLINE, "round_deadline": ROUND_DEADLINE,
                                       "inventory_every": 3600}, profiles=("generic-1s",))
    try:
        yield sp
    finally:
        sp.loop.run_until_complete(sp.engine.close())
        sp.loop.close()
        sp.sim.close()


def test_a_slow_inventory_is_cut_short_not_missed_and_retried(patrol: SimPatrol) -> None:
    slow = patrol.sim.fleet.hosts[0].name
    patrol.fault("bmc_slow", [slow], latency="60s", paths="FirmwareInventory")
    patrol.fault("over_temp", [slow])

    first = patrol.round()
    line = {h.host: h for h in first.hosts}[slow]
    assert line.reachable is True, line.error  # read, not missed
    assert line.inventory_cut and line.tier == "minute"
    assert first.inventory_cut >= 1 and first.missed == 0
    assert line.power is not None and line.sensors  # the minute facts of the round
    assert line.events >= 1  # the over-temperature fault, seen the round the inventory was cut
    row = patrol.engine._host_rows()[slow]
    assert row.get("last_inventory_at") is None  # the inventory is not taken as fresh
    from dcops.patrol import store as pstore

    assert pstore.last_round(patrol.engine.store)["inventory_cut"] == first.inventory_cut  # kept with the round

    second = patrol.round()  # still due, first among the due: tried (and cut) again
    again = {h.host: h for h in second.hosts}[slow]
    assert again.inventory_cut and again.reachable is True and second.missed == 0

    patrol.clear([slow])
    third = patrol.round()
    done = {h.host: h for h in third.hosts}[slow]
    assert done.reachable is True and not done.inventory_cut and done.tier == "inventory"
    assert patrol.engine._host_rows()[slow].get("last_inventory_at") is not None
