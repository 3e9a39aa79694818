"""Collect asset snapshots over the BMCs: Redfish first, the IPMI FRU as the fallback.

Two paths, one parsing (the BMC layer's ``read_observation``):

* ``collect_one(host)``: synchronous, over the ``RedfishConnector`` (one host, e.g. a test or
  ``dcops assets collect`` of a handful of hosts);
* ``collect_fleet(hosts)``: asyncio (``dcops.bmc.redfish.aio.observe_many``) with a global cap on
  requests in flight and one request at a time per BMC, as the patrol read path does; collections
  are read with ``$expand=.($levels=1)`` where the service root advertises it (one GET instead of
  one per member; the BMC layer falls back to member GETs at the first refusal).

A host whose protocol is ``ipmi`` is read over IPMI (identity, chassis and board from the FRU);
one whose protocol is ``auto`` falls back to IPMI when Redfish does not answer. Placement, the
mainboard's OEM serial and the BMC's MAC come with the observation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.assets.model import AssetSnapshot, snapshot_from_observation
from dcops.assets.reconcile import bmc_key
from dcops.errors import DcopsError, UnreachableError
from dcops.models import Host, Protocol
from dcops.observation import NO_SYSTEM_READ, Observation
from dcops.secrets import redact

log = logging.getLogger(__name__)

# Inventory needs parts and firmware; sensors and logs are patrol's business.
SECTIONS = ("components", "firmware")


@dataclass(frozen=True)
class Outcome:
    host: str
    snapshot: AssetSnapshot | None
    error: str | None
    seconds: float
    requests: int = 0


def _snapshot(host: Host, obs: Observation) -> AssetSnapshot:
    return snapshot_from_observation(obs, bmc=bmc_key(host.bmc.address, host.bmc.port, host.bmc.scheme))


def no_system(obs: Observation) -> str | None:
    """Why a Redfish observation holds no server (no system readable, or ``bmc.system`` names
    none); None when it does."""
    found = next((e for e in obs.errors if e.what in NO_SYSTEM_READ), None)
    return f"{found.what}: {found.reason}" if found is not None and obs.identity.system_id is None else None


def collect_ipmi(host: Host) -> AssetSnapshot:
    """Identity, chassis and board from the IPMI FRU. Raises ``DcopsError`` subclasses."""
    from dcops.bmc.ipmi import ipmi_bmc
    from dcops.secrets import resolve

    password = resolve(host.bmc.password_ref or "plain:", what=f"{host.name}: BMC password")
    bmc = ipmi_bmc(host.name, host.bmc, password)
    try:
        obs = bmc.inventory.observe(["components"])
    finally:
        bmc.close()
    return snapshot_from_observation(obs, bmc=bmc_key(host.bmc.address, host.bmc.port, host.bmc.scheme))


def collect_redfish(host: Host, *, timeouts: Any = None) -> AssetSnapshot:
    """One host over the synchronous Redfish connector. Raises ``UnreachableError`` when the BMC
    does not answer, ``FetchError`` when it has no service root, ``CredentialError``."""
    from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
    from dcops.bmc.redfish.drivers import redfish_bmc
    from dcops.secrets import resolve

    password = resolve(host.bmc.password_ref or "plain:", what=f"{host.name}: BMC password")
    conn = RedfishConnector(host.name, host.bmc, password, timeouts or Timeouts())
    with redfish_bmc(host.name, conn) as bmc:
        obs = bmc.inventory.observe(SECTIONS)
    if obs.unreadable:  # answered, but not with its system/chassis: no snapshot of nothing
        raise UnreachableError(f"{host.name}: the BMC's inventory cannot be read: " + "; ".join(obs.unreadable[:3]))
    missing = no_system(obs)
    if missing is not None:
        raise UnreachableError(f"{host.name}: {missing}")
    return _snapshot(host, obs)


def collect_one(host: Host, *, timeouts: Any = None) -> AssetSnapshot:
    """One host, by its protocol setting (``auto``: Redfish, else the IPMI FRU)."""
    from dcops.bmc.redfish.resources import FetchError

    protocol = Protocol(host.bmc.protocol)
    if protocol is Protocol.IPMI:
        return collect_ipmi(host)
    try:
        return collect_redfish(host, timeouts=timeouts)
    except (UnreachableError, FetchError) as exc:
        if protocol is Protocol.REDFISH:
            if isinstance(exc, FetchError):
                raise UnreachableError(f"{host.name}: {exc}") from None
            raise
        log.info("%s: Redfish failed (%s); reading the IPMI FRU", host.name, exc)
        return collect_ipmi(host)


async def collect_fleet_async(hosts: Sequence[Host], *, concurrency: int = 200, deadline: float = 120.0,
                              expand: bool = True,
                              on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Collect many hosts: Redfish over asyncio (at most ``concurrency`` requests in flight, one per
    BMC; ``expand``: ``$expand`` where the BMC advertises it); IPMI hosts and ``auto`` hosts whose
    Redfish fails in worker threads (at most 8 at once). Never raises for one host's failure: it
    is that host's ``Outcome.error``."""
    from dcops.bmc.redfish import aio

    threads = asyncio.Semaphore(8)
    started = time.monotonic()
    outcomes: dict[str, Outcome] = {}
    fallbacks: list[asyncio.Task[None]] = []

    def finish(outcome: Outcome) -> None:
        outcomes[outcome.host] = outcome
        if on_result is not None:
            on_result(outcome)

    async def ipmi(host: Host, since: float, why: str | None = None) -> None:
        if why is not None:
            log.info("%s: Redfish failed (%s); reading the IPMI FRU", host.name, why)
        try:
            async with threads:
                snap = await asyncio.to_thread(collect_ipmi, host)
            outcome = Outcome(host.name, snap, None, time.monotonic() - since)
        except DcopsError as exc:
            outcome = Outcome(host.name, None, redact(str(exc)), time.monotonic() - since)
        except Exception as exc:  # noqa: BLE001 - one BMC's bug must not lose the fleet's collection
            # pyghmi raises more than IpmiException (e.g. a TypeError when it reuses a session it
            # logged out): that is this host's failure, not the run's.
            log.debug("%s: IPMI read failed", host.name, exc_info=True)
            outcome = Outcome(host.name, None, redact(f"{host.name}: IPMI read failed: {type(exc).__name__}: {exc}"),
                              time.monotonic() - since)
        finish(outcome)

    by_name = {h.name: h for h in hosts}
    redfish: list[aio.Target] = []
    for host in hosts:
        if Protocol(host.bmc.protocol) is Protocol.IPMI:
            fallbacks.append(asyncio.ensure_future(ipmi(host, started)))
            continue
        try:
            redfish.append(aio.Target.of(host))
        except DcopsError as exc:  # the password reference cannot be resolved
            finish(Outcome(host.name, None, redact(str(exc)), 0.0))

    def done(result: aio.Result) -> None:
        host = by_name[result.host]
        missing = no_system(result.observation) if result.observation is not None else None
        if result.observation is not None and result.observation.unreadable:
            # The BMC answered, but not with its system/chassis: a snapshot of nothing would read
            # as every part removed. That host's collection failed; its last snapshot stands.
            finish(Outcome(host.name, None, f"{host.name}: the BMC's inventory cannot be read: "
                           + "; ".join(result.observation.unreadable[:3]), result.seconds,
                           result.observation.requests))
        elif result.observation is not None and missing is not None:
            # A snapshot without the server in it would record every part as gone: a failure.
            finish(Outcome(host.name, None, f"{host.name}: {missing}", result.seconds, result.observation.requests))
        elif result.observation is not None:
            finish(Outcome(host.name, _snapshot(host, result.observation), None, result.seconds,
                           result.observation.requests))
        elif Protocol(host.bmc.protocol) is Protocol.AUTO:
            fallbacks.append(asyncio.ensure_future(ipmi(host, time.monotonic() - result.seconds, result.error)))
        else:
            finish(Outcome(host.name, None, result.error, result.seconds))

    if redfish:
        await aio.observe_many(redfish, concurrency=concurrency, sections=SECTIONS, deadline=deadline,
                               read_timeout=min(30.0, deadline), log_limit=0, expand=expand, on_result=done)
    while fallbacks:
        pending, fallbacks[:] = list(fallbacks), []
        await asyncio.gather(*pending)
    return [outcomes[h.name] for h in hosts]


def collect_fleet(hosts: Sequence[Host], *, concurrency: int = 200, deadline: float = 120.0, expand: bool = True,
                  on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """``collect_fleet_async`` from synchronous code."""
    return asyncio.run(collect_fleet_async(hosts, concurrency=concurrency, deadline=deadline, expand=expand,
                                           on_result=on_result))
