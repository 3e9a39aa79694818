"""What an IPMI visit says it sent is what the BMC was sent, counted on the wire by a relay that
reads the RMCP+ session (tests/helpers/rmcp_relay.py): for a whole read, a steady minute read, and
a read given up on midway. Before, the count was guessed at the call sites ("4" for a FRU read
that takes 13 Read FRU Data per FRU on ipmi_sim) and a visit cut short said 0: the benchmarks'
requests per BMC and the round's request figures were not what the BMCs saw."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dcops.bmc.ipmi.fleet import IpmiFleet
from dcops.models import BmcEndpoint, Protocol
from dcops.secrets import Secret
from tests.helpers.ipmi_sim import PASSWORD, USER, ipmi_sims
from tests.helpers.rmcp_relay import READ_FRU_DATA, SlowCommandRelay
from tests.helpers.timing import PATIENT

pytestmark = [pytest.mark.timeout(180)]
SET_PRIVILEGE = (0x06, 0x3B)
MINUTE, INVENTORY = ("sensors", "logs"), ("components", "sensors", "firmware", "logs")


def test_a_visit_counts_the_commands_the_bmc_was_sent_even_when_cut(tmp_path: Path) -> None:
    with ipmi_sims(tmp_path, 1) as [bmc], \
            SlowCommandRelay(bmc.port, PASSWORD.encode(), slow={READ_FRU_DATA}, delay=0.0) as relay:
        endpoint = BmcEndpoint(address="127.0.0.1", port=relay.port, protocol=Protocol.IPMI, username=USER)

        async def visits() -> None:
            fleet = IpmiFleet(workers=2)
            try:
                # Login, FRU, SDR, sensors, SEL: the whole read. The login is not counted: its RMCP+
                # open session and RAKP messages are not IPMI commands, and its one IPMI command,
                # Set Session Privilege Level, goes out inside pyghmi's login, before the session
                # is handed over.
                full = await fleet.visit("h1", endpoint, Secret(PASSWORD), sections=INVENTORY, deadline=PATIENT,
                                         refresh=True)
                assert full.observation is not None, full.error
                assert relay.seen[SET_PRIVILEGE] == 1
                assert full.requests == relay.commands - 1 > 20, (full.requests, relay.commands, relay.seen)
                before = relay.commands
                steady = await fleet.visit("h1", endpoint, Secret(PASSWORD), sections=MINUTE, deadline=PATIENT)
                assert steady.observation is not None, steady.error
                assert steady.requests == relay.commands - before > 0
                # FRU reads held back from now on: the inventory visit runs out of its deadline in
                # them (26 reads of a quarter second each need 6 s) and is given up on midway.
                relay.delay = 0.25
                before, seen = relay.commands, relay.seen.copy()
                cut = await fleet.visit("h1", endpoint, Secret(PASSWORD), sections=INVENTORY, deadline=1.5,
                                        refresh=True)
                assert cut.observation is None and cut.timed_out, cut
                # The read stops before its next command; what it sent (the one in flight too) counts.
                assert cut.requests == relay.commands - before > 0, (cut.requests, relay.commands - before,
                                                                     relay.seen - seen)
            finally:
                fleet.close()

        asyncio.run(visits())


def test_a_cut_fru_is_read_again_by_a_minute_visit_without_inventory_rounds(tmp_path: Path) -> None:
    """ipmi_sim whose FRU reads are slow, read by minute visits only (a patrol with
    ``inventory_every: 0``): the first visit's FRU read is cut; later visits read the minute facts
    and then, ``fru_retry`` after the cut, the FRU in the time left; once it answers, the identity
    is the FRU's. Before, a cut FRU was never read again by a minute visit."""
    with ipmi_sims(tmp_path, 1) as [bmc], \
            SlowCommandRelay(bmc.port, PASSWORD.encode(), slow={READ_FRU_DATA}, delay=0.25) as relay:
        endpoint = BmcEndpoint(address="127.0.0.1", port=relay.port, protocol=Protocol.IPMI, username=USER)

        async def visits() -> None:
            fleet = IpmiFleet(workers=2, fru_retry=0.0)
            try:
                first = await fleet.visit("h1", endpoint, Secret(PASSWORD), sections=MINUTE, deadline=1.5)
                assert first.observation is None and first.timed_out  # its FRU read (first visit) was cut
                # Still slow: the minute facts come back all the same, the FRU is cut again.
                second = await fleet.visit("h1", endpoint, Secret(PASSWORD), sections=MINUTE, deadline=1.5)
                assert second.observation is not None and second.error is None, second.error
                assert second.observation.sensors and not second.observation.identity.serial
                relay.delay = 0.0  # the FRU answers now
                third = await fleet.visit("h1", endpoint, Secret(PASSWORD), sections=MINUTE, deadline=PATIENT)
                assert third.observation is not None, third.error
                fourth = await fleet.visit("h1", endpoint, Secret(PASSWORD), sections=MINUTE, deadline=PATIENT)
                assert fourth.observation is not None, fourth.error
                assert fourth.observation.identity.serial, fourth.observation.identity
            finally:
                fleet.close()

        asyncio.run(visits())
