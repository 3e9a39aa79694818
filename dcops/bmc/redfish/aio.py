"""One-off asyncio reads of many BMCs (assets collection, tests, benchmarks) over the fleet reader.

``observe_many`` makes a ``fleet.RedfishFleet`` for the call, visits every target (the full
observation, or the cheap health read), and closes it: every session it opened is deleted before
it returns, late logins included (a login a deadline abandoned is still awaited, up to the read
timeout, and its session deleted). Patrol keeps one ``RedfishFleet`` across rounds instead, so
sessions, connections and the structure of each BMC are reused; the transport is the same.

Collections are read with ``$expand=.($levels=1)`` where the service root advertises it
(``expand``); one request in flight per BMC and at most ``concurrency`` overall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dcops.bmc.redfish.docs import Doc
from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.bmc.redfish.keys import SECTIONS
from dcops.bmc.visit import Visit

__all__ = ["Result", "Target", "observe_health_many", "observe_many", "observe_one"]

# One BMC's answer: host, observation (None when it failed), error, seconds (+ requests, ...).
Result = Visit


async def observe_one(target: Target, *, fleet: RedfishFleet | None = None, sections: Iterable[str] = SECTIONS,
                      deadline: float = 60.0, read_timeout: float = 30.0, log_limit: int = 20,
                      expand: bool = True, health: bool = False,
                      on_document: Callable[[str, Doc], None] | None = None) -> Result:
    """Observe one BMC within ``deadline`` seconds; never raises for a BMC's failure.

    ``health``: the cheap read (``read.read_health``: rollups, power, sensors, parts only when a
    rollup is not OK) instead of the full observation. ``on_document(path, doc)`` sees every
    document read. Over ``fleet`` when given (its sessions stay), else over a fleet of its own,
    closed (sessions deleted) before returning."""
    own = fleet is None
    reader = fleet or RedfishFleet(concurrency=1, read_timeout=read_timeout, retries=3, log_limit=log_limit,
                                   max_pause=10.0)
    try:
        return await reader.visit(target, sections=sections, health=health, drill=False, expand=expand,
                                  deadline=deadline, on_document=on_document)
    finally:
        if own:
            await reader.close()


async def observe_many(targets: Sequence[Target], *, concurrency: int = 200, sections: Iterable[str] = SECTIONS,
                       deadline: float = 60.0, read_timeout: float = 30.0, log_limit: int = 20,
                       expand: bool = True, health: bool = False,
                       on_result: Callable[[Result], None] | None = None,
                       on_document: Callable[[str, str, Doc], None] | None = None) -> list[Result]:
    """Observe many BMCs: at most ``concurrency`` requests in flight overall, one per BMC.

    ``health=True`` is the cheap read (see ``observe_one``). ``on_result(result)`` is called as
    each BMC finishes; ``on_document(host, path, doc)`` sees every document read. Returns once
    every BMC has a result and every session opened was deleted (late logins included, waited for
    at most ``read_timeout`` + 5 s after the last result). HTTP goes straight to the BMCs:
    environment proxies are ignored."""
    import asyncio

    sections = tuple(sections)
    fleet = RedfishFleet(concurrency=concurrency, read_timeout=read_timeout, retries=3, log_limit=log_limit,
                         max_pause=10.0)

    async def one(target: Target) -> Result:
        tap = None
        if on_document is not None:
            def tap(path: str, doc: Doc, host: str = target.host) -> None:
                on_document(host, path, doc)
        result = await fleet.visit(target, sections=sections, health=health, drill=False, expand=expand,
                                   deadline=deadline, on_document=tap)
        if on_result is not None:
            on_result(result)
        return result

    try:
        return list(await asyncio.gather(*(one(t) for t in targets)))
    finally:
        await fleet.close()


async def observe_health_many(targets: Sequence[Target], **kwargs: Any) -> list[Result]:
    """``observe_many(targets, health=True)`` (about five GETs per healthy BMC)."""
    return await observe_many(targets, health=True, **kwargs)
