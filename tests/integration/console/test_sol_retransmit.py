"""Console output survives a BMC's SOL retransmission (issue 22: "ho f" lost on a loaded gateway).

ipmi_sim retransmits an unacknowledged SOL packet after 1 s with the characters that reached its
buffer meanwhile appended. A UDP relay between pyghmi and ipmi_sim holds the gateway's SOL ACKs
back so that happens on demand rather than when a busy machine delays an ACK by chance: the host
prints "ec", its ACK is late, the host prints the rest of the line, the BMC resends
"echo from-relay\\r" under the same sequence number; then the late ACKs arrive, the first one
(accepting "ec") before the ones answering the retransmission. The console must show each
character exactly once: pyghmi 1.6.19 lost "ho f"; accepting the whole retransmission would show
"ho from-relay" twice (the BMC, taking the first ACK, resends all but "ec" in a new packet)."""

from __future__ import annotations

import asyncio

from dcops.console import cast, store
from dcops.console.gateway import ConsoleGateway
from dcops.models import BmcEndpoint, Host, Protocol
from tests.helpers.ipmi_sim import USER
from tests.helpers.simfleet import wait_for
from tests.helpers.timing import PATIENT
from tests.helpers.udp_relay import UdpRelay
from tests.integration.console.conftest import SolLab


async def _read_until(session, needle: bytes, seen: bytes = b"") -> bytes:  # type: ignore[no-untyped-def]
    while needle not in seen:
        chunk = await asyncio.wait_for(session.read(), PATIENT)
        assert chunk, f"the console ended before {needle!r} came back; got {seen!r}"
        seen += chunk
    return seen


def test_retransmitted_packet_with_more_characters_loses_none(sol_lab: SolLab) -> None:
    with UdpRelay(sol_lab.sim.port) as relay:
        endpoint = BmcEndpoint(address=relay.address, port=relay.port, protocol=Protocol.IPMI, username=USER,
                               password_ref="env:DCOPS_TEST_BMC_PASSWORD")
        host = Host(name="sol-01", bmc=endpoint)
        gateway = ConsoleGateway(sol_lab.store)

        async def run() -> tuple[str, bytes]:
            session = await gateway.open(host, user="alice", via="web", web=True)
            await asyncio.to_thread(wait_for, sol_lab.serial.connected, what="ipmi_sim on the serial port")
            relay.hold_sol = True  # from now on the BMC hears no ACK in time: it must retransmit
            before = len(relay.bmc_sol_sizes)
            sol_lab.serial.emit(b"ec")
            # The rest of the line follows as soon as "ec" left the BMC alone: well within the
            # ~5 s ipmi_sim keeps resending an unacknowledged packet before it gives up on it.
            await asyncio.to_thread(wait_for, lambda: len(relay.bmc_sol_sizes) > before, what='"ec" sent')
            first = len(relay.bmc_sol_sizes)
            shown_size = relay.bmc_sol_sizes[-1]
            sol_lab.serial.emit(b"ho from-relay\r")
            seen = await _read_until(session, b"ec")
            # The BMC resends its unacknowledged packet, now longer: the rest of the line appended.
            await asyncio.to_thread(
                wait_for, lambda: any(size > shown_size for size in relay.bmc_sol_sizes[first:]),
                what="ipmi_sim's retransmission with the characters that came meanwhile")
            relay.release()  # the late ACKs arrive, oldest first
            seen = await _read_until(session, b"\r", seen)
            # A marker after the line: whatever the BMC resends of the line comes before it.
            sol_lab.serial.emit(b"#")
            seen = await _read_until(session, b"#", seen)
            await session.close()
            return session.id, seen

        session_id, seen = asyncio.run(run())
    assert relay.delayed > 0  # the ACKs really were late
    assert seen == b"echo from-relay\r#"
    record = store.get(sol_lab.store, session_id)
    assert record is not None and record.cast is not None
    assert cast.output_bytes(cast.loads(record.cast)) == seen


def test_a_keystroke_waiting_for_its_ack_does_not_stop_the_gateway(sol_lab: SolLab) -> None:
    """pyghmi's send_data waits for the BMC's ACK (resending for ~15 s). Called on the event loop, a
    BMC that does not answer froze every console and page of the process until then. The relay
    holds the keystroke's packet back: the loop must keep running (this coroutine is resumed, and
    the write is still waiting), and once the packet goes through the echo comes back."""
    with UdpRelay(sol_lab.sim.port) as relay:
        endpoint = BmcEndpoint(address=relay.address, port=relay.port, protocol=Protocol.IPMI, username=USER,
                               password_ref="env:DCOPS_TEST_BMC_PASSWORD")
        gateway = ConsoleGateway(sol_lab.store)

        async def run() -> tuple[bool, bytes]:
            session = await gateway.open(Host(name="sol-01", bmc=endpoint), user="alice", via="web", web=True)
            await asyncio.to_thread(wait_for, sol_lab.serial.connected, what="ipmi_sim on the serial port")
            relay.hold_sol = True
            writing = asyncio.ensure_future(session.write(b"typed\r"))
            # Resumed only if the loop is free while the write waits for its ACK.
            await asyncio.to_thread(wait_for, lambda: relay.delayed > 0, what="the keystroke's packet held")
            waiting = not writing.done()
            relay.release()
            await asyncio.wait_for(writing, PATIENT)
            seen = await _read_until(session, b"typed")
            await session.close()
            return waiting, seen

        waiting, seen = asyncio.run(run())
    assert waiting, "the write returned before the BMC acknowledged it"
    assert b"typed" in seen
