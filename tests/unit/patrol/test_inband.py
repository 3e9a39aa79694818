"""The in-band probe (patrol.inband) against real loopback sockets: a banner means running; a
refusal, a reset without a byte, or silence means not answering."""

from __future__ import annotations

import asyncio
import socket

from dcops.models import BmcEndpoint, Host, InbandEndpoint
from dcops.patrol.inband import probe_hosts, probe_one


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _scenario() -> dict[str, bool]:
    async def banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await writer.drain()
        writer.close()

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    servers = [await asyncio.start_server(h, "127.0.0.1", 0) for h in (banner, reset, silent)]
    ports = [int(s.sockets[0].getsockname()[1]) for s in servers]
    try:
        def host(name: str, port: int | None) -> Host:
            return Host(name, BmcEndpoint("127.0.0.1"), inband=InbandEndpoint("127.0.0.1", port))

        found = await probe_hosts([host("up", ports[0]), host("reset", ports[1]), host("silent", ports[2]),
                                   host("refused", _free_port()), Host("no-inband", BmcEndpoint("127.0.0.1"))],
                                  port=22, timeout=0.5)
        found["default-port"] = await probe_one("127.0.0.1", ports[0], 2.0)
        return found
    finally:
        for s in servers:
            s.close()


def test_probe() -> None:
    assert asyncio.run(_scenario()) == {"up": True, "reset": False, "silent": False, "refused": False,
                                        "default-port": True}
