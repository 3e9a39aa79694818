"""Heartbeats on every network of every host (docs/heartbeat.md).

* ``config`` -- the ``heartbeat:`` config section (ports per network, what each AZ requires);
* ``targets`` -- the book's addresses as probe targets (pure);
* ``probe`` -- TCP connects, thousands a second, bounded concurrency (asyncio, I/O);
* ``store`` -- the latest state per host and network (migration m0023_heartbeat_drills);
* ``monitor`` -- one round: probe, store, hand the results to patrol.

Convergence (one network down on a rack or switch -> one incident) is patrol's
(``dcops.patrol.networks``); the capacity check's use of it is ``dcops.capacity.networks``.
"""
