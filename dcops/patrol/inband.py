"""The in-band probe: is a host whose BMC went dark still running? I/O (asyncio, TCP only).

A TCP connection to the host's own address (the book's ``inband.address``, port
``inband.port`` or patrol's ``inband_port``, 22 by default) that brings the service's first bytes
(sshd's banner) within ``timeout`` says the host runs; a refusal, a reset, silence or a timeout
says it does not answer. Used only for hosts of a rack whose BMCs went dark together, to tell a
dead management network (hosts up) from a power loss (hosts down): docs/patrol.md, "Racks".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from dcops.models import Host

MAX_PARALLEL = 64


async def probe_one(address: str, port: int, timeout: float) -> bool:
    """True when ``address:port`` accepts a connection and sends something within ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(address, port)
            try:
                return bool(await reader.read(64))
            finally:
                writer.close()
                with contextlib.suppress(OSError, ConnectionError):
                    await writer.wait_closed()
    except (OSError, ConnectionError, TimeoutError):
        return False


async def probe_hosts(hosts: Sequence[Host], *, port: int, timeout: float) -> dict[str, bool]:
    """Probe every host of ``hosts`` that has an in-band address; host name -> answers."""
    slots = asyncio.Semaphore(MAX_PARALLEL)

    async def one(host: Host) -> tuple[str, bool]:
        assert host.inband is not None
        async with slots:
            return host.name, await probe_one(host.inband.address, host.inband.port or port, timeout)

    results = await asyncio.gather(*(one(h) for h in hosts if h.inband is not None))
    return dict(results)
