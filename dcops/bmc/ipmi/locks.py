"""A lock-order deadlock in pyghmi's session module, closed (pyghmi 1.6, checked on 1.6.19).

pyghmi guards its two session tables with two module locks, ``KEEPALIVE_SESSIONS`` and
``WAITING_SESSIONS``, taken in opposite orders on two paths:

* ``Session.send_payload`` holds ``KEEPALIVE_SESSIONS`` while ``_xmit_packet`` takes
  ``WAITING_SESSIONS`` (to register the request it is sending);
* ``Session.awaitresponse``, when a request's retry timer has expired, holds ``WAITING_SESSIONS``
  while ``_timedout`` resends it through ``send_payload``, which takes ``KEEPALIVE_SESSIONS``.

One thread sending while another resends a timed-out request: each holds the lock the other
wants, forever. Symptom (tests/bench/patrol_peers.py --ipmi 1000 on this 2-core machine, retries
common under load): the IPMI round stopped with all 32 worker threads in
``protect.__enter__`` (py-spy: 22 at session.py:983, 9 at :1738, 1 at :1859) and never ended.

Both are ``threading.RLock``: one RLock for both tables removes the inversion (a thread that
holds it may take it again), at the price of one lock where there were two; the critical
sections are table updates and one ``sendto``.
"""

from __future__ import annotations

import threading

from pyghmi.ipmi.private import session as _session

_installed = False


def install() -> bool:
    """Make pyghmi's two session-table locks one reentrant lock, when its module has the two
    locks this was written against; returns whether it is in effect."""
    global _installed
    if _installed:
        return True
    keep = getattr(_session, "KEEPALIVE_SESSIONS", None)
    wait = getattr(_session, "WAITING_SESSIONS", None)
    rlock_type = type(threading.RLock())
    if not (isinstance(keep, rlock_type) and isinstance(wait, rlock_type)):
        return False
    if keep is not wait:
        one = threading.RLock()
        _session.KEEPALIVE_SESSIONS = one
        _session.WAITING_SESSIONS = one
    _installed = True
    return True
