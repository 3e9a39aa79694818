"""Benchmark: the fleet's HTTP transport alone, wire.py against aiohttp, over one ``dcops sim``.

Every simulated BMC (HTTPS, kept-alive connection, basic auth) is asked for its service root
``--rounds`` times, all BMCs at once each round (one request in flight per BMC, as the fleet
does); the client's CPU (``process_time``) per request is printed for each transport, after a
first round that opens the connections (not counted). Memory: the resident set per kept
connection (after a full collection and ``malloc_trim``). Figures, not assertions.

    .venv/bin/python -m tests.bench.bench_wire --hosts 300 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.bench import bench_patrol
from tests.bench.patrol_memory import rss_mb


async def _measure(book: list[Any], rounds: int,
                   get: Callable[[Any, dict[str, str]], Awaitable[None]]) -> tuple[float, float, float]:
    """Connect to every BMC with ``get`` (RSS per kept connection), then ``rounds`` rounds of one GET
    each: (user us, system us) of CPU per request and KB per connection."""
    heads = [_auth(h) for h in book]
    base = rss_mb()
    await asyncio.gather(*(get(h, a) for h, a in zip(book, heads, strict=True)))
    per_conn = (rss_mb() - base) * 1024 / len(book)
    t0 = os.times()
    for _ in range(rounds):
        await asyncio.gather(*(get(h, a) for h, a in zip(book, heads, strict=True)))
    t1 = os.times()
    requests = rounds * len(book)
    return (t1.user - t0.user) * 1e6 / requests, (t1.system - t0.system) * 1e6 / requests, per_conn


async def _wire(book: list[Any], rounds: int) -> tuple[float, float, float]:
    from dcops.bmc.redfish.wire import Client, client_context

    client = Client()
    ctx = client_context(False)

    async def one(host: Any, head: dict[str, str]) -> None:
        resp = await client.request(host.bmc.url(), "GET", "/redfish/v1", head, None, ctx)
        assert resp.status == 200, resp.status

    try:
        return await _measure(book, rounds, one)
    finally:
        client.close()


async def _aiohttp(book: list[Any], rounds: int) -> tuple[float, float, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=1000, limit_per_host=0, keepalive_timeout=120)
    http = aiohttp.ClientSession(connector=connector, trust_env=False, skip_auto_headers=("User-Agent",))

    async def one(host: Any, head: dict[str, str]) -> None:
        async with http.get(host.bmc.url() + "/redfish/v1", headers=head, ssl=False) as resp:
            await resp.read()
            assert resp.status == 200, resp.status

    try:
        return await _measure(book, rounds, one)
    finally:
        await http.close()


def _auth(host: Any) -> dict[str, str]:
    from dcops.secrets import resolve

    password = resolve(host.bmc.password_ref, what="bench").reveal()
    token = base64.b64encode(f"{host.bmc.username}:{password}".encode()).decode()
    return {"Accept": "application/json", "Authorization": f"Basic {token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", default="100-300ms")
    args = parser.parse_args()
    sim_dir = Path(tempfile.mkdtemp(prefix="dcops-benchwire-"))
    try:
        book = bench_patrol.start_sims(sim_dir, args.hosts, args.latency, 1)
        for name, run in (("wire", _wire), ("aiohttp", _aiohttp), ("wire", _wire), ("aiohttp", _aiohttp)):
            user, system, kb = asyncio.run(run(book, args.rounds))
            print(f"{name:8s} {args.hosts} BMCs x {args.rounds} rounds: {user + system:.0f} us CPU per request "
                  f"({user:.0f} user + {system:.0f} system), "
                  f"{kb:.1f} KB RSS per kept connection")
    finally:
        bench_patrol.stop_sim(sim_dir / "sim0")
        shutil.rmtree(sim_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
