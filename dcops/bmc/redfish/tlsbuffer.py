"""Kept TLS connections without a read buffer each.

asyncio's ``SSLProtocol`` (CPython 3.11-3.13) gives every TLS connection a zero-filled read buffer
of ``max_size`` = 256 KiB for the encrypted bytes it receives, allocated when the connection is
made and kept as long as it lives. The patrol keeps one connection open per BMC between rounds, so
at 1,000 BMCs that buffer alone was 256 MB of resident memory (tracemalloc: 77 MB of the 93 MB
Python held at 300 BMCs), for BMC answers of a few kilobytes.

Two steps. ``max_size`` goes down to 32 KiB (two full TLS records, RFC 8446 5.1: a smaller read
only means more reads of a large body; it also caps the plaintext chunk handed to aiohttp). And the
buffer is shared by every connection of a thread instead of owned by each: the selector transport
calls ``get_buffer``, ``recv_into`` and ``buffer_updated`` one after the other in one callback
(``selector_events._SelectorSocketTransport._read_ready__get_buffer``), and ``buffer_updated``
copies the bytes into the connection's own ``MemoryBIO`` at once, so no connection's bytes are
still in the buffer when another connection reads into it. 1,000 kept connections: 32 MB less.
Per thread, because each thread runs its own event loop.
"""

from __future__ import annotations

import asyncio.sslproto
import threading
from typing import Any

READ_BUFFER = 32 * 1024

_local = threading.local()
_patched = False


def _shared_view(size: int) -> tuple[bytearray, memoryview]:
    """This thread's read buffer of at least ``size`` bytes (and its view)."""
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None or len(buf) < size:
        buf = _local.buf = bytearray(size)
        _local.view = memoryview(buf)
    return buf, _local.view


def small_tls_read_buffers() -> None:
    """Lower asyncio's per-connection TLS read size to ``READ_BUFFER`` and share the buffer among
    the connections of a thread (process-wide, for reads from now on; idempotent). Left alone on
    an ``SSLProtocol`` that does not have the attributes this relies on (a later CPython)."""
    global _patched
    proto: Any = asyncio.sslproto.SSLProtocol
    if getattr(proto, "max_size", 0) > READ_BUFFER:
        proto.max_size = READ_BUFFER
    if _patched or not all(hasattr(proto, name) for name in ("get_buffer", "buffer_updated", "max_size")):
        return
    original_init = proto.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if hasattr(self, "_ssl_buffer"):  # drop the connection's own buffer at once
            self._ssl_buffer, self._ssl_buffer_view = _shared_view(self.max_size)

    def get_buffer(self: Any, n: int) -> memoryview:
        # buffer_updated reads self._ssl_buffer_view: point it at this thread's buffer.
        self._ssl_buffer, self._ssl_buffer_view = _shared_view(self.max_size)
        return self._ssl_buffer_view

    proto.__init__ = __init__
    proto.get_buffer = get_buffer
    _patched = True
