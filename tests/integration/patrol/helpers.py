"""Incidents made the way patrol makes them (through converge), for notification tests; one
patrol round over a list of hosts."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dcops.models import Host
from dcops.patrol.converge import ConvergeState, converge
from dcops.patrol.model import (
    Condition,
    Event,
    HostCheck,
    HostMemory,
    Incident,
    PartInfo,
    Policy,
    Scope,
    Severity,
)


def psu_incident(now: dt.datetime | None = None, host: str = "trade-db-01") -> Incident:
    now = now or dt.datetime.now(dt.UTC)
    event = Event(host, "psu:1:PSU1", Condition.HEALTH, Severity.CRITICAL, "PSU1: health critical",
                  PartInfo(kind="psu", location="PSU1", model="865414-B21", serial="PS45GWZFUE92J3",
                           part_number="865414-B21", firmware="1.00"), {"bmc_health": "critical"},
                  ({"log": "IML", "id": "3", "message": "Power Supply Failure (Power Supply 1)."},))
    check = HostCheck(host, (event,), frozenset(Scope), HostMemory(), True, site="sh1", room="r3", rack="C04")
    context = {host: {"location": {"site": "sh1", "room": "r3", "rack": "C04", "u": 17},
                      "warranty": {"end": "2027-06-30", "days_left": 500, "contract": "CT-1",
                                   "service_provider": "HPE Pointnext"}}}
    result = converge(ConvergeState(), [check], Policy().with_hysteresis(open_after=1), now, context)
    return result.opened[0]


def one_round(hosts: Sequence[Host], db: Path, **config: Any) -> Any:
    """One patrol round over ``hosts`` (a fresh store at ``db``; ``config`` is the patrol config),
    every session closed after; the round's summary."""
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol
    from dcops.store import open_store

    engine = Patrol(open_store(f"sqlite:///{db}"), list(hosts), load_patrol_config(config))
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(engine.round())
    finally:
        loop.run_until_complete(engine.close())
        loop.close()
