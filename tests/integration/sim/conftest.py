"""Fleets on real loopback sockets, each in a background thread, stopped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dcops.sim.fleet import FleetSpec
from dcops.sim.state import Timings
from dcops.sim.testing import ThreadedFleet

Factory = Callable[..., ThreadedFleet]


@pytest.fixture
def fleet_factory() -> Iterator[Factory]:
    started: list[ThreadedFleet] = []

    def make(hosts: int = 1, profiles: tuple[str, ...] = ("generic-1s",), **kw: object) -> ThreadedFleet:
        ssl_context = kw.pop("ssl_context", None)
        spec = FleetSpec(hosts=hosts, profiles=profiles, timings=Timings.preset("fast"),
                         password="sim-int-pw", **kw)  # type: ignore[arg-type]
        fleet = ThreadedFleet(spec, ssl_context=ssl_context)
        started.append(fleet)
        return fleet

    yield make
    for fleet in started:
        fleet.close()


def need(module: str) -> None:
    """Skip when a third-party client is missing locally; fail in CI, where it must be installed."""
    import importlib.util
    import os

    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is needed in CI (pip install {module.replace('_', '-')})")
        pytest.skip(f"{module} is not installed")


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> object:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
