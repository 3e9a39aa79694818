"""Kept TLS connections read through a small buffer (dcops/bmc/redfish/tlsbuffer.py), and bodies
many times that buffer still arrive whole."""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import hashlib
import ssl
from pathlib import Path

from dcops.bmc.redfish.fleet import RedfishFleet
from dcops.bmc.redfish.tlsbuffer import READ_BUFFER
from dcops.sim.runner import make_certificates, server_ssl_context
from tests.helpers.timing import PATIENT


def test_a_body_larger_than_the_buffer_arrives_whole(tmp_path: Path) -> None:
    RedfishFleet()  # the patrol's transport lowers the buffer
    # At most READ_BUFFER: the simulator (dcops.sim.server.shrink_tls_buffers), run earlier in the
    # same process, may have lowered it further; both only ever lower it.
    assert asyncio.sslproto.SSLProtocol.max_size <= READ_BUFFER
    ca, cert, key = make_certificates(tmp_path)
    body = bytes(range(256)) * (40 * READ_BUFFER // 256)  # 40 buffers, many TLS records

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(5)
        writer.write(body)
        await writer.drain()
        writer.close()

    async def run() -> bytes:
        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ssl_context(cert, key))
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=ssl.create_default_context(cafile=str(ca)))
            writer.write(b"hello")
            got = await asyncio.wait_for(reader.read(-1), PATIENT)
            writer.close()
            return got

    got = asyncio.run(run())
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()


def test_connections_reading_at_once_share_one_buffer_and_each_gets_its_own_bytes(tmp_path: Path) -> None:
    """Twenty connections (both ends in this loop, so the server side shares the buffer too) each
    receive a different body of many records, interleaved: every body arrives whole and in order,
    and the connections hold no read buffer of their own."""
    RedfishFleet()
    ca, cert, key = make_certificates(tmp_path)
    bodies = [hashlib.sha256(bytes([n])).digest() * (3 * READ_BUFFER // 32) for n in range(20)]
    held: list[object] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = (await reader.readexactly(1))[0]
        for k in range(0, len(bodies[n]), 5000):  # small writes: the reads of all connections interleave
            writer.write(bodies[n][k:k + 5000])
            await writer.drain()
        writer.close()

    async def fetch(port: int, n: int) -> bytes:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ssl.create_default_context(cafile=str(ca)))
        held.append(writer.transport._ssl_protocol._ssl_buffer)  # type: ignore[attr-defined]
        writer.write(bytes([n]))
        got = await reader.read(-1)
        writer.close()
        return got

    async def run() -> list[bytes]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ssl_context(cert, key))
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await asyncio.wait_for(asyncio.gather(*(fetch(port, n) for n in range(20))), PATIENT)

    got = asyncio.run(run())
    assert [hashlib.sha256(g).digest() for g in got] == [hashlib.sha256(b).digest() for b in bodies]
    assert len({id(b) for b in held}) == 1
