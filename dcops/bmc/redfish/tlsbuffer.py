"""Kept TLS connections without a quarter-megabyte buffer each.

asyncio's ``SSLProtocol`` (CPython 3.11-3.13) gives every TLS connection a zero-filled read buffer
of ``max_size`` = 256 KiB for the encrypted bytes it receives, allocated when the connection is
made and kept as long as it lives. The patrol keeps one connection open per BMC between rounds, so
at 1,000 BMCs that buffer alone was 256 MB of resident memory (tracemalloc: 77 MB of the 93 MB
Python held at 300 BMCs), for BMC answers of a few kilobytes.

A smaller buffer changes nothing but how many bytes one ``recv`` takes: a TLS record is at most
16 KiB of plaintext (RFC 8446 5.1), the stream is fed to OpenSSL in whatever pieces arrive, and a
large body only costs more reads. 32 KiB holds two full records.
"""

from __future__ import annotations

import asyncio.sslproto

READ_BUFFER = 32 * 1024


def small_tls_read_buffers() -> None:
    """Lower asyncio's per-connection TLS read buffer to ``READ_BUFFER`` (process-wide, for
    connections made from now on; never raises it)."""
    proto = asyncio.sslproto.SSLProtocol
    if getattr(proto, "max_size", 0) > READ_BUFFER:
        proto.max_size = READ_BUFFER
