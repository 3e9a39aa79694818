"""What the gateway's SOL console takes of each packet a BMC sends, retransmissions included
(issue 22: a loaded gateway lost "ho f" of a retransmitted packet, and would have shown the rest
twice). The packets go through pyghmi's own ``_got_sol_payload`` behind dcops's override; only
the UDP send is replaced, by a list of the ACKs it would send."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from dcops.bmc.ipmi.sol import _Console, accepted_part


def _packet(seq: int, data: bytes) -> bytearray:
    return bytearray((seq, 0, 0, 0)) + data


@pytest.mark.parametrize(("payload", "remseq", "accepted", "taken"), [
    (_packet(2, b"ho"), 1, 2, _packet(2, b"ho")),                   # a new packet: all of it
    (_packet(1, b"ec"), 1, 2, _packet(1, b"ec")),                   # the same packet again
    (_packet(1, b"echo from"), 1, 2, _packet(1, b"ec")),            # resent with more: what was taken
    (_packet(1, b"echo"), 1, 0, _packet(1, b"")),                   # nothing taken of the first copy
    (_packet(0, b""), 0, 0, _packet(0, b"")),                       # an ACK only (sequence number 0)
    (bytearray((0, 3, 4, 0)), 0, 0, bytearray((0, 3, 4, 0))),       # an ACK before any data came
])
def test_accepted_part(payload: bytearray, remseq: int, accepted: int, taken: bytearray) -> None:
    assert accepted_part(payload, remseq, accepted) == taken


def _console() -> tuple[Any, list[bytes], list[tuple[int, int]]]:
    """A pyghmi console as it is once the payload is active, minus its session."""
    shown: list[bytes] = []
    acks: list[tuple[int, int]] = []
    console: Any = _Console.__new__(_Console)
    console.remseq = 0
    console.myseq = 0
    console.lastsize = 0
    console.awaitingack = False
    console.pendingoutput = []
    console.outputlock = threading.RLock()
    console.out_handler = lambda data: shown.append(bytes(data))

    def send_payload(payload: Any, payload_type: int = 1, retry: bool = True, needskeepalive: bool = False) -> None:
        acks.append((payload[1], payload[2]))

    console.send_payload = send_payload
    return console, shown, acks


@pytest.mark.parametrize(("packets", "screen", "acks"), [
    # two packets in turn
    ([(1, b"ec"), (2, b"ho")], b"echo", [(1, 2), (2, 2)]),
    # the ACK of the first was lost: the same packet again, shown once, acknowledged again
    ([(1, b"ec"), (1, b"ec"), (2, b"ho")], b"echo", [(1, 2), (1, 2), (2, 2)]),
    # resent with what reached the BMC meanwhile (ipmi_sim): only "ec" accepted, the BMC sends
    # the rest under a new number (pyghmi 1.6.19 showed "ec" + "rom", then "ho from" again)
    ([(1, b"ec"), (1, b"echo from"), (2, b"ho from")], b"echo from", [(1, 2), (1, 2), (2, 7)]),
    # the sequence number wraps from 15 to 1
    ([(15, b"a"), (1, b"b"), (1, b"bc"), (2, b"c")], b"abc", [(15, 1), (1, 1), (1, 1), (2, 1)]),
])
def test_console_shows_each_character_once(packets: list[tuple[int, bytes]], screen: bytes,
                                           acks: list[tuple[int, int]]) -> None:
    console, shown, sent = _console()
    for seq, data in packets:
        console._got_sol_payload(_packet(seq, data))
    assert b"".join(shown) == screen
    assert sent == acks
