"""In-process ``dcops sim`` fleets for tests (``dcops.sim.testing.ThreadedFleet``: loopback sockets,
a background thread, fast timings), the simulator's own view of them (sessions, request log), and
``wait_for`` (poll with a deadline, never a fixed sleep). Used by the BMC, patrol and sim tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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
from tests.helpers.timing import PATIENT

# Quick retries, patient bounds: tests about a deadline pass their own Timeouts.
FAST = Timeouts(connect=10, read=30, deadline=PATIENT, retries=3, backoff=0.05, max_pause=0.2)
PACING = Pacing(poll=0.05, task_timeout=PATIENT, bmc_timeout=PATIENT, busy_timeout=PATIENT)
PASSWORD = "sim-int-pw"
Factory = Callable[..., ThreadedFleet]


def fleet(hosts: int = 1, profiles: tuple[str, ...] | None = ("generic-1s",), *, password: str | None = PASSWORD,
          ssl_context: Any = None, **spec: Any) -> ThreadedFleet:
    """A running simulated fleet (``with fleet(...) as sim:`` stops it). ``profiles=None``: the
    simulator's default mix; ``password=None``: a generated one (``sim.password``)."""
    spec.setdefault("timings", Timings.preset("fast"))
    if profiles is not None:
        spec["profiles"] = profiles
    if password is not None:
        spec["password"] = password
    return ThreadedFleet(FleetSpec(hosts=hosts, **spec), ssl_context=ssl_context)


def factory() -> Iterator[Factory]:
    """The body of a fixture that starts fleets on demand and stops them all afterwards."""
    started: list[ThreadedFleet] = []

    def make(hosts: int = 1, profiles: tuple[str, ...] | None = ("generic-1s",), **kw: Any) -> ThreadedFleet:
        sim = fleet(hosts, profiles, **kw)
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.close()


def endpoint(sim: ThreadedFleet, index: int) -> BmcEndpoint:
    return BmcEndpoint(address="127.0.0.1", port=sim.port(index), scheme="http", protocol=Protocol.REDFISH,
                       username=sim.username)


def connector(sim: ThreadedFleet, index: int, timeouts: Timeouts = FAST) -> RedfishConnector:
    return RedfishConnector(sim.fleet.hosts[index].name, endpoint(sim, index), Secret(sim.password), timeouts)


def device(sim: ThreadedFleet, index: int, timeouts: Timeouts = FAST) -> Bmc:
    return redfish_bmc(sim.fleet.hosts[index].name, connector(sim, index, timeouts), pacing=PACING)


def sessions(sim: ThreadedFleet, index: int | None = None) -> int:
    """Sessions open on the simulator (one BMC, or every BMC created so far), expired ones dropped."""
    def count() -> int:
        bmcs = [sim.fleet.bmc(index)] if index is not None else list(sim.fleet.created())
        for bmc in bmcs:
            bmc.expire_sessions()
        return sum(len(b.sessions) for b in bmcs)

    return sim.call(count)


def requests(sim: ThreadedFleet, index: int) -> list[tuple[int, float, str, str, int, str]]:
    """The BMC's request log: (seq, time, method, path, status, who)."""
    return sim.call(lambda: list(sim.fleet.bmc(index).requests))


def wait_for(predicate: Callable[[], Any], timeout: float = PATIENT, what: str = "condition",
             interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned); AssertionError after
    ``timeout`` seconds, never less than ``PATIENT``: what a test waits for is expected to happen,
    so on a busy machine a generous ceiling only costs time when the test fails anyway."""
    timeout = max(timeout, PATIENT)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
