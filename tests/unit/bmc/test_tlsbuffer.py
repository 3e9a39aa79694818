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
    assert asyncio.sslproto.SSLProtocol.max_size == READ_BUFFER
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
