"""Collect asset snapshots over the BMCs: Redfish first, the IPMI FRU as the fallback.

Two paths, one parsing (``dcops.bmc.redfish.resources.read_observation``):

* ``collect_one(host)``: synchronous, over the ``RedfishConnector`` (one host, e.g. a test or
  ``dcops assets collect`` of a handful of hosts);
* ``collect_fleet(hosts)``: asyncio over aiohttp with a global cap on requests in flight and one
  request at a time per BMC, as the patrol read path does (``dcops.bmc.redfish.aio``).

A host whose protocol is ``ipmi`` is read over IPMI (identity, chassis and board from the FRU);
one whose protocol is ``auto`` falls back to IPMI when Redfish does not answer. The documents the
reader fetches are tapped for what ``Observation`` does not carry yet (``dcops.assets.extras``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.assets.extras import extras_from_docs, tap
from dcops.assets.model import AssetSnapshot, snapshot_from_observation
from dcops.assets.reconcile import bmc_key
from dcops.errors import DcopsError, UnreachableError
from dcops.models import Host, Protocol
from dcops.observation import Observation
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


def _snapshot(host: Host, obs: Observation, chassis_docs: dict[str, Any]) -> AssetSnapshot:
    extras = extras_from_docs(chassis_docs, _system_chassis(obs))
    return snapshot_from_observation(obs, extras, bmc=bmc_key(host.bmc.address, host.bmc.port, host.bmc.scheme))


def _system_chassis(obs: Observation) -> str | None:
    chassis = [c for c in obs.components if c.kind.value == "chassis"]
    return chassis[0].chassis if chassis else None


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
    from dcops.bmc.redfish.resources import read_observation, run_sync
    from dcops.secrets import resolve

    password = resolve(host.bmc.password_ref or "plain:", what=f"{host.name}: BMC password")
    docs: dict[str, Any] = {}
    with RedfishConnector(host.name, host.bmc, password, timeouts or Timeouts()) as conn:
        obs = run_sync(tap(read_observation(host.name, sections=SECTIONS, log_limit=0), docs), conn.get)
    return _snapshot(host, obs, docs)


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


async def _collect_async(http: Any, host: Host, cap: asyncio.Semaphore, *, deadline: float,
                         ssl_ctx: Any) -> tuple[AssetSnapshot, int]:
    # The asyncio session of dcops.bmc.redfish.aio (login, one request at a time, retries, logout)
    # driving the same reader, tapped. aio exposes observe_one() but no way to tap what the
    # reader fetched; until it does, its per-BMC session class is used directly.
    from dcops.bmc.redfish import aio
    from dcops.bmc.redfish.resources import read_observation, run_async

    target = aio.Target.of(host)
    bmc = aio._Bmc(http, target, cap, min(30.0, deadline), 3, ssl_ctx)
    docs: dict[str, Any] = {}
    async with asyncio.timeout(deadline):
        try:
            await bmc.login()
            obs = await run_async(tap(read_observation(host.name, sections=SECTIONS, log_limit=0), docs), bmc.fetch)
        finally:
            await asyncio.shield(bmc.logout())
    return _snapshot(host, obs, docs), bmc.requests


async def collect_fleet_async(hosts: Sequence[Host], *, concurrency: int = 200, deadline: float = 120.0,
                              on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Collect many hosts: Redfish over asyncio (at most ``concurrency`` requests in flight, one per
    BMC); IPMI hosts and ``auto`` hosts whose Redfish fails in worker threads (at most 8 at once)."""
    import aiohttp

    from dcops.bmc.redfish import aio
    from dcops.bmc.redfish.resources import FetchError

    cap = asyncio.Semaphore(concurrency)
    threads = asyncio.Semaphore(8)
    verify = any(h.bmc.verify_tls for h in hosts if h.bmc.scheme == "https")
    bundles = {h.bmc.ca_bundle for h in hosts if h.bmc.ca_bundle}
    shared_ctx = aio.ssl_context(verify, next(iter(bundles)) if len(bundles) == 1 else None)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0, ttl_dns_cache=300)

    async def ipmi(host: Host) -> AssetSnapshot:
        async with threads:
            return await asyncio.to_thread(collect_ipmi, host)

    async with aiohttp.ClientSession(connector=connector) as http:
        async def one(host: Host) -> Outcome:
            started = time.monotonic()
            requests = 0
            try:
                protocol = Protocol(host.bmc.protocol)
                if protocol is Protocol.IPMI:
                    snap = await ipmi(host)
                else:
                    ctx: Any = shared_ctx if host.bmc.verify_tls else False
                    if host.bmc.ca_bundle and len(bundles) > 1:
                        ctx = aio.ssl_context(True, host.bmc.ca_bundle)
                    try:
                        snap, requests = await _collect_async(http, host, cap, deadline=deadline, ssl_ctx=ctx)
                    except (UnreachableError, FetchError, TimeoutError) as exc:
                        if protocol is Protocol.REDFISH:
                            raise
                        log.info("%s: Redfish failed (%s); reading the IPMI FRU", host.name, exc)
                        snap = await ipmi(host)
                outcome = Outcome(host.name, snap, None, time.monotonic() - started, requests)
            except TimeoutError:
                outcome = Outcome(host.name, None, f"{host.name}: no complete answer within {deadline:g}s",
                                  time.monotonic() - started)
            except (DcopsError, FetchError) as exc:
                outcome = Outcome(host.name, None, redact(str(exc)), time.monotonic() - started)
            if on_result is not None:
                on_result(outcome)
            return outcome

        return list(await asyncio.gather(*(one(h) for h in hosts)))


def collect_fleet(hosts: Sequence[Host], *, concurrency: int = 200, deadline: float = 120.0,
                  on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """``collect_fleet_async`` from synchronous code."""
    return asyncio.run(collect_fleet_async(hosts, concurrency=concurrency, deadline=deadline, on_result=on_result))
