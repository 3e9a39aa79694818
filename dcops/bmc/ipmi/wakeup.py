"""A lost wake-up in pyghmi's shared I/O loop, closed (pyghmi 1.6, checked on 1.6.19).

pyghmi runs one I/O thread for every session in the process. A caller sends its request, then
queues "wake me when a packet from my BMC arrives" (``session._io_wait``) and blocks. When the
answer arrives *before* that wish is queued -- common on a fast network, and the rule when many
threads share the GIL -- the I/O thread has already moved the packet into the session's queue and
woken nobody; the caller then sleeps until its retry timer (0.5-1.0 s) fires and only then finds
the answer waiting. Symptom: IPMI requests of well under a millisecond take up to a second at
random, so a round of 20 loopback ``ipmi_sim`` BMCs (9 requests each) took 4-6 s of wall time and
almost no CPU, and a cold round (logins, SDR reads) over 20 s.

The replacement queues the wish first and then looks whether the answer is already there: if the
I/O thread took the packet before the wish was queued, the packet is in the queue we look at; if
after, the I/O thread sees the wish and wakes us. Either way nobody waits for a packet that came.
Only the waits that consume answers (no ``evq``) return early; ``_cmdwait``'s waits for another
command of the same session to finish (with ``evq``) keep pyghmi's behaviour, so nothing spins.
"""

from __future__ import annotations

import threading
from typing import Any

from pyghmi.ipmi.private import session as _session

_installed = False


def _answer_waiting(myaddr: Any) -> bool:
    """Whether the I/O thread already queued a packet for the session(s) of ``myaddr`` (any
    session's packet when ``myaddr`` is None: what ``_poller`` waits for)."""
    if myaddr is None:
        return bool(_session.sessionqueue)
    handlers = _session.Session.bmc_handlers.get(myaddr) or {}
    return any(getattr(s, "pktqueue", None) for s in list(handlers.values()))


def _io_wait(timeout: float, myaddr: Any = None, evq: Any = None) -> None:
    evt = threading.Event()
    if evq is not None:
        evq.append(evt)
    deadline = timeout + _session._monotonic_time()
    _session.ioqueue.append((deadline, evt, myaddr))
    if evq is None and _answer_waiting(myaddr):
        # Our answer came before our wish was queued: take it now. The queued wish stays with the
        # I/O thread, which sets this (already unused) event later: harmless.
        return
    if deadline < _session.selectdeadline:
        intsock = _session.iosockets[0]
        intsock = getattr(intsock, "fd", intsock)  # eventlet's socket, as pyghmi does
        intsock.sendto(b"\x01", (_session.myself, _session.iosockets[0].getsockname()[1]))
    evt.wait()


def install() -> bool:
    """Replace pyghmi's ``_io_wait`` when its internals are the ones this was written against;
    otherwise leave pyghmi alone (slower, still correct). Returns whether it is installed."""
    global _installed
    if _installed:
        return True
    needed = ("ioqueue", "sessionqueue", "selectdeadline", "iosockets", "myself", "_monotonic_time", "_io_wait")
    if not all(hasattr(_session, name) for name in needed) or not hasattr(_session.Session, "bmc_handlers"):
        return False
    _session._io_wait = _io_wait
    _installed = True
    return True
