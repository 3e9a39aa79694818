"""An IPMI BMC whose FRU reads are slow (each Read FRU Data answered seconds late, everything else
at once: tests/helpers/rmcp_relay.py between pyghmi and ipmi_sim): its inventory visit runs out of
the time the round gives it, and the minute re-read that follows in the same round must find the
BMC as it is -- reachable, its power, its sensors, the fault on them -- not wait behind the cut
read's remaining FRU reads and call a live BMC unreachable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dcops.models import BmcEndpoint, Host, Location, Protocol
from dcops.observation import PowerState
from dcops.patrol.config import load_patrol_config
from dcops.patrol.engine import Patrol
from dcops.store import open_store
from tests.helpers.ipmi_sim import PASSWORD, USER, ipmi_sims
from tests.helpers.rmcp_relay import READ_FRU_DATA, SlowCommandRelay

# Deadlines are the subject here. Each Read FRU Data is answered FRU_DELAY late (well inside
# pyghmi's own give-up, ~8 s of retries): the kit's two FRUs of 256 bytes take 13 reads each, so
# the inventory read needs ~80 s. An inventory visit gets three minute deadlines (36 s; the round
# has room for more), so the cut read has ~40 s of FRU reads left, more than the minute re-read's
# 12 s, which needs only the FRU read in flight (<= 3 s) and its own few dozen loopback requests.
FRU_DELAY, MINUTE_DEADLINE, ROUND_DEADLINE = 3.0, 12, 120
pytestmark = [pytest.mark.slow, pytest.mark.timeout(ROUND_DEADLINE * 2 + 60)]


def test_a_cut_inventory_read_leaves_the_minute_reread_the_bmc_as_it_is(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPMI_PW", PASSWORD)
    with ipmi_sims(tmp_path, 1) as [bmc], \
            SlowCommandRelay(bmc.port, PASSWORD.encode(), slow={READ_FRU_DATA}, delay=FRU_DELAY) as relay:
        host = Host(name="ipmi-slow-fru", bmc=BmcEndpoint(address="127.0.0.1", port=relay.port, protocol=Protocol.IPMI,
                                                          username=USER, password_ref="env:IPMI_PW"),
                    location=Location(site="lab", room="r1", rack="L03", u=1))
        engine = Patrol(open_store(f"sqlite:///{tmp_path}/busy.db"), [host],
                        load_patrol_config({"open_after": 1, "ipmi_deadline": MINUTE_DEADLINE,
                                            "round_deadline": ROUND_DEADLINE}))
        bmc.console("sensor_set_value 0x20 0 1 47 1")  # Inlet Temp above its critical threshold
        loop = asyncio.new_event_loop()
        try:
            summary = loop.run_until_complete(engine.round())  # a fresh fleet: an inventory round
            [read] = summary.hosts
            assert relay.delayed >= 1, relay.seen  # the FRU was read, slowly...
            assert read.inventory_cut and read.tier == "minute"  # ...and the inventory visit cut short
            # The minute re-read: the BMC as it is, not "unreachable".
            assert read.reachable is True and read.error is None, read.error
            obs = read.observation
            assert obs is not None and obs.identity.power_state is not PowerState.UNKNOWN
            inlet = {s.name: s.reading for s in obs.sensors}
            assert inlet.get("Inlet Temp") == 47.0, inlet
            [incident] = summary.result.opened
            assert incident.info.location == "Inlet Temp"
            # Its SEL read (a first read: history, not news) and its position, taken by this visit.
            assert obs.log_cursor is not None
            # One login for the round: the cut read was stopped between two commands, its session
            # kept for the re-read (no second session, none left for the BMC to time out).
            assert relay.sessions == 1
        finally:
            loop.run_until_complete(engine.close())
            loop.close()
