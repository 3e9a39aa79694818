"""TCP-connect probes, many at once (asyncio; the only I/O of the heartbeat).

A connect that completes within ``timeout`` is "up"; a refusal, a reset, an unreachable route or
a timeout is "down". Nothing is sent: a completed handshake proves the host's stack and the
network path work, and costs the service nothing (the socket is closed at once). Raw non-blocking
sockets with ``loop.sock_connect`` rather than ``open_connection``: no streams or transports are
built, which keeps 10,000 probes a round to a fraction of a CPU second (tests/bench/bench_heartbeat.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from dcops.heartbeat.targets import Result, Target


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


async def probe_one(target: Target, timeout: float) -> Result:
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    try:
        if any(c.isalpha() for c in target.address) and ":" not in target.address:
            # A host name: resolved each round (a renumbered host is followed); bounded by the timeout.
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(target.address, target.port, type=socket.SOCK_STREAM)
            family: int = infos[0][0]
            sockaddr: Any = infos[0][4]
        else:
            family, sockaddr = _family(target.address), (target.address, target.port)
        sock = socket.socket(family, socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        return Result(target, False, time.monotonic() - started, _reason(exc))
    try:
        sock.setblocking(False)
        async with asyncio.timeout(max(0.0, timeout - (time.monotonic() - started))):
            await loop.sock_connect(sock, sockaddr)
        return Result(target, True, time.monotonic() - started)
    except (OSError, TimeoutError) as exc:
        return Result(target, False, time.monotonic() - started, _reason(exc))
    finally:
        sock.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno).lower()  # "connection refused", "no route to host"
    return type(exc).__name__


async def probe_all(targets: Sequence[Target], *, timeout: float, concurrency: int) -> list[Result]:
    """Probe every target, at most ``concurrency`` connects in flight; results in target order."""
    if not targets:
        return []
    results: list[Result | None] = [None] * len(targets)
    queue = iter(range(len(targets)))

    # Workers pulling from one iterator rather than a task per target: 10,000 targets would be
    # 10,000 tasks parked on a semaphore, each costing memory and scheduler time.
    async def worker() -> None:
        for index in queue:
            results[index] = await probe_one(targets[index], timeout)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(targets)))))
    return [r for r in results if r is not None]
