"""Helpers for BMC-layer tests against ``dcops sim`` (``dcops.sim.testing.ThreadedFleet``): a
fleet on loopback in a background thread, connectors to its BMCs, and the simulator's own view
(sessions, request log) read on the fleet's loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dcops.bmc.base import Bmc
from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
from dcops.bmc.redfish.drivers import redfish_bmc
from dcops.bmc.redfish.tasks import Pacing
from dcops.models import BmcEndpoint, Protocol
from dcops.secrets import Secret
from dcops.sim.fleet import FleetSpec
from dcops.sim.state import Timings
from dcops.sim.testing import ThreadedFleet

FAST = Timeouts(connect=1, read=3, deadline=10, retries=3, backoff=0.05, max_pause=0.2)
PACING = Pacing(poll=0.05, task_timeout=15, bmc_timeout=15, busy_timeout=15)


def fleet(hosts: int, profiles: tuple[str, ...], **kw: Any) -> ThreadedFleet:
    kw.setdefault("timings", Timings.preset("fast"))
    return ThreadedFleet(FleetSpec(hosts=hosts, profiles=profiles, password="sim-bmc-pw", **kw))


def endpoint(sim: ThreadedFleet, index: int) -> BmcEndpoint:
    return BmcEndpoint(address="127.0.0.1", port=sim.port(index), scheme="http", protocol=Protocol.REDFISH,
                       username=sim.username)


def connector(sim: ThreadedFleet, index: int, timeouts: Timeouts = FAST) -> RedfishConnector:
    return RedfishConnector(sim.fleet.hosts[index].name, endpoint(sim, index), Secret(sim.password), timeouts)


def device(sim: ThreadedFleet, index: int, timeouts: Timeouts = FAST) -> Bmc:
    return redfish_bmc(sim.fleet.hosts[index].name, connector(sim, index, timeouts), pacing=PACING)


def sessions(sim: ThreadedFleet, index: int | None = None) -> int:
    """Sessions open on the simulator (one BMC, or every BMC created so far)."""
    def count() -> int:
        bmcs = [sim.fleet.bmc(index)] if index is not None else list(sim.fleet.created())
        for bmc in bmcs:
            bmc.expire_sessions()
        return sum(len(b.sessions) for b in bmcs)

    return sim.call(count)


def requests(sim: ThreadedFleet, index: int) -> list[tuple[int, float, str, str, int, str]]:
    """The BMC's request log: (seq, time, method, path, status, who)."""
    return sim.call(lambda: list(sim.fleet.bmc(index).requests))


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g}s")
        time.sleep(interval)
