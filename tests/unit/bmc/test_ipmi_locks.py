"""pyghmi's two session-table locks, taken in opposite orders by a sender and by a resend of a
timed-out request (dcops/bmc/ipmi/locks.py), can no longer deadlock: two threads doing exactly
that, with pyghmi's own module locks, both finish."""

from __future__ import annotations

import threading

from pyghmi.ipmi.private import session

import dcops.bmc.ipmi  # noqa: F401 - installs the patches


def test_the_two_locks_are_one_reentrant_lock() -> None:
    assert session.KEEPALIVE_SESSIONS is session.WAITING_SESSIONS
    with session.KEEPALIVE_SESSIONS, session.WAITING_SESSIONS:  # reentrant: no self-deadlock
        pass


def test_opposite_orders_do_not_deadlock() -> None:
    keep, wait = session.KEEPALIVE_SESSIONS, session.WAITING_SESSIONS
    a_holds, b_holds = threading.Event(), threading.Event()
    deadlocked: list[str] = []

    def sender() -> None:  # send_payload: KEEPALIVE, then WAITING in _xmit_packet
        with keep:
            a_holds.set()
            b_holds.wait(0.5)  # the resender took WAITING (separate locks) or waits for us (one lock)
            if not wait.acquire(timeout=10):
                deadlocked.append("sender")
                return
            wait.release()

    def resender() -> None:  # awaitresponse: WAITING, then KEEPALIVE in _timedout -> send_payload
        a_holds.wait()
        with wait:
            b_holds.set()
            if not keep.acquire(timeout=10):
                deadlocked.append("resender")
                return
            keep.release()

    threads = [threading.Thread(target=sender), threading.Thread(target=resender)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not deadlocked and not any(t.is_alive() for t in threads)
