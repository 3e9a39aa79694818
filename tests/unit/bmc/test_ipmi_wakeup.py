"""pyghmi's lost wake-up (dcops/bmc/ipmi/wakeup.py): a caller whose answer the I/O thread already
queued must not wait for another packet; one whose answer has not come must still wait."""

from __future__ import annotations

import collections
import threading

import pytest
from pyghmi.ipmi.private import session as pyghmi_session

from dcops.bmc.ipmi import wakeup
from tests.helpers.timing import PATIENT

ADDR = ("127.0.0.1", 6230)


class FakeSession:
    def __init__(self, packets: int) -> None:
        self.pktqueue = collections.deque([(b"answer", ADDR)] * packets)


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> dict:
    table: dict = {}
    monkeypatch.setattr(pyghmi_session.Session, "bmc_handlers", table)
    monkeypatch.setattr(pyghmi_session, "ioqueue", collections.deque())
    monkeypatch.setattr(pyghmi_session, "sessionqueue", collections.deque())
    return table


@pytest.mark.parametrize(("addr", "registered", "packets", "any_queued", "expected"), [
    (ADDR, True, 1, False, True),    # our answer is in our session's queue
    (ADDR, True, 0, False, False),   # nothing yet: wait
    (ADDR, False, 0, True, False),   # an unknown BMC: another session's packet is not ours
    (None, False, 0, True, True),    # _poller: any session's packet will do
    (None, False, 0, False, False),
])
def test_answer_waiting(handlers: dict, addr, registered, packets, any_queued, expected) -> None:
    if registered:
        handlers[ADDR] = {1234: FakeSession(packets)}
    if any_queued:
        pyghmi_session.sessionqueue.append(FakeSession(1))
    assert wakeup._answer_waiting(addr) is expected


def test_an_answer_already_queued_does_not_wait(handlers: dict) -> None:
    handlers[ADDR] = {1234: FakeSession(1)}
    done = threading.Event()

    def caller() -> None:
        wakeup._io_wait(300.0, ADDR)  # pyghmi's own _io_wait would block here until the I/O thread woke it
        done.set()

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    assert done.wait(PATIENT), "the caller waited for a packet that had already come"
    # The wish is still queued, so the I/O thread's bookkeeping is as pyghmi expects.
    assert [item[2] for item in pyghmi_session.ioqueue] == [ADDR]


def test_installed_by_the_adapter() -> None:
    import dcops.bmc.ipmi  # noqa: F401 - importing the adapter installs it

    assert pyghmi_session._io_wait is wakeup._io_wait
