"""A simulated fleet with its inventory, a store and a patrol engine, shared by a module."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dcops.inventory import load_inventory
from dcops.models import Host
from dcops.patrol.config import load_patrol_config
from dcops.patrol.engine import Patrol, RoundSummary
from dcops.sim.testing import ThreadedFleet
from dcops.store import open_store
from tests.helpers.simfleet import fleet
from tests.helpers.timing import PATIENT, ROUND


@dataclass
class SimPatrol:
    sim: ThreadedFleet
    hosts: dict[str, Host]
    engine: Patrol
    store: Any
    loop: asyncio.AbstractEventLoop
    inventory: Path

    def round(self) -> RoundSummary:
        return self.loop.run_until_complete(self.engine.round())

    def fault(self, kind: str, hosts: list[str] | None = None, rack: str | None = None, **args: str) -> None:
        """The control API `dcops sim fault` uses."""
        self.sim.control.post("/v1/faults", {"hosts": hosts or [], "rack": rack, "kind": kind, "args": args})

    def clear(self, hosts: list[str] | None = None, rack: str | None = None) -> None:
        self.sim.control.post("/v1/clear", {"hosts": hosts or [], "rack": rack, "kind": None})


def make_sim_patrol(tmp: Path, hosts: int, patrol: dict[str, Any] | None = None,
                    profiles: tuple[str, ...] | None = None, store_url: str | None = None) -> SimPatrol:
    sim = fleet(hosts, profiles, password=None)
    secret = tmp / "password"
    secret.write_text(sim.password + "\n")
    os.chmod(secret, 0o600)
    inventory = sim.fleet.write_inventory(tmp / "inventory.yaml", f"file:{secret}")
    book = list(load_inventory([inventory]).hosts)
    store = open_store(store_url or f"sqlite:///{tmp / 'state.db'}")
    # Patient deadlines unless the test is about them: a busy machine makes rounds slower, not red.
    engine = Patrol(store, book, load_patrol_config({"interval": 60, "bmc_deadline": PATIENT,
                                                     "round_deadline": ROUND, **(patrol or {})}))
    return SimPatrol(sim, {h.name: h for h in book}, engine, store, asyncio.new_event_loop(), inventory)


@pytest.fixture(scope="module")
def fleet_1000(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimPatrol]:
    tmp = tmp_path_factory.mktemp("fleet1000")
    sp = make_sim_patrol(tmp, 1000, {"concurrency": 100})
    try:
        first = sp.round()  # inventory of every host, log cursors, power states: the baseline
        assert first.unreachable == 0 and not first.open_incidents, first.open_incidents
        yield sp
    finally:
        sp.loop.run_until_complete(sp.engine.close())
        sp.loop.close()
        sp.sim.close()
