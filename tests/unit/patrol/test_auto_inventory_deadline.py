"""An ``auto`` host's inventory visit stays within what the round left it (``_inventory_visit``'s
cap): when Redfish fails, IPMI gets the rest of that cap, not a whole deadline again (which ran
past the round's end); with too little left it is said timed out, so the minute visit reads it."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

from dcops.bmc.visit import LogPosition, Visit
from dcops.models import BmcEndpoint, Host, Location, Protocol
from dcops.patrol.config import load_patrol_config
from dcops.patrol.engine import Patrol
from dcops.secrets import Secret
from dcops.store import open_store


class Fleet:
    """Stands in for the Redfish and IPMI fleets: answers as told, records the deadlines asked."""

    def __init__(self, visit: Visit) -> None:
        self.answer = visit
        self.deadlines: list[float] = []

    async def visit(self, host: str, *args: Any, deadline: float, **kwargs: Any) -> Visit:
        self.deadlines.append(deadline)
        return self.answer


def _engine(tmp_path: Path) -> Patrol:
    host = Host(name="h1", bmc=BmcEndpoint(address="127.0.0.1", port=1, scheme="http", protocol=Protocol.AUTO,
                                           username="admin", password_ref="env:X"),
                location=Location(site="lab", room="r1", rack="L01", u=1))
    return Patrol(open_store(f"sqlite:///{tmp_path}/s.db"), [host],
                  load_patrol_config({"bmc_deadline": "20s", "ipmi_deadline": "30s"}), tune_gc=False)


# (tier, cap, seconds Redfish took to fail) -> IPMI's deadline (None: IPMI not asked; timed out)
CASES = [
    ("inventory", 35.0, 6.0, 29.0),  # the rest of the cap
    ("inventory", 35.0, 1.0, 34.0),
    ("inventory", 100.0, 1.0, 90.0),  # the tier's own deadline (3 x 30 s) when the cap is larger
    ("inventory", 35.0, 31.0, None),  # 4 s left < a quarter of 20 s: the minute visit's turn
    ("minute", math.inf, 19.0, 30.0),  # a minute visit: IPMI's own deadline
]


@pytest.mark.parametrize(("tier", "cap", "spent", "want"), CASES)
def test_ipmi_gets_what_redfish_left(tmp_path: Path, tier: str, cap: float, spent: float,
                                     want: float | None) -> None:
    engine = _engine(tmp_path)
    failed = Visit("h1", None, "h1: no complete answer within 35s", spent, 1, no_redfish=True, timed_out=True)
    engine.redfish = Fleet(failed)  # type: ignore[assignment]
    ipmi = Fleet(Visit("h1", None, "ipmi: no answer", 0.1))
    engine.ipmi = ipmi  # type: ignore[assignment]
    host = engine.hosts["h1"]
    target = engine._target(host, Secret("pw"))
    deadline = min(cap, 20.0 * (3 if tier == "inventory" else 1))
    visit = asyncio.run(engine._auto_visit(host, target, Secret("pw"), ("sensors",), deadline, LogPosition(),
                                           tier, cap))
    if want is None:
        assert ipmi.deadlines == [] and visit.timed_out and visit is failed
    else:
        assert ipmi.deadlines == [pytest.approx(want)]
    engine.store.close()
