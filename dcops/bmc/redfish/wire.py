"""A lean HTTP/1.1 client for reading many BMCs (docs/bmc.md, "Fleet reader", "Performance").

The fleet reader (``fleet.RedfishFleet``) and the rack PDU reader (``dcops.pdu.redfish``) send
through here. Two parts:

* ``ResponseParser``: pure (bytes in, one ``Response`` or a clear ``WireError`` out): status line,
  headers, 1xx skipped, HEAD/204/304 without a body, ``Content-Length``, chunked and
  close-delimited bodies, ``Content-Encoding`` gzip/deflate decoded (a BMC may send it unasked),
  the body cap counted after decompression (a gzip bomb stops at the cap, not in memory).
* ``Client``: one kept-alive connection per origin, driven by the event loop's selector directly:
  a non-blocking ``ssl.SSLSocket`` (or plain socket) read when ``loop.add_reader`` says so, into
  one read buffer per client. Why not aiohttp over asyncio's ``SSLProtocol``: at patrol's rate
  (3-4 small GETs per BMC per minute, one at a time per BMC) their per-request layers (request
  and response objects, stream reader, ``MemoryBIO`` copies, flow control) cost 140-250 us of CPU
  per request, more than reading the answer; here a request is a ``send``, a wait for readable,
  a ``recv_into`` and the parse. OpenSSL reads the socket itself (no ``MemoryBIO``), and a kept
  idle connection holds no Python-side read buffer at all.

No proxies (environment or other): BMC traffic goes straight to the BMC. No Accept-Encoding is
sent (identity): BMC answers are small and decompressing costs CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import socket
import ssl
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from dcops.bmc.redfish.jsonbody import MAX_BODY

CONNECT_TIMEOUT = 10.0  # TCP connect and TLS handshake together
MAX_HEAD = 64 * 1024  # status line and headers
READ_SIZE = 32 * 1024  # two full TLS records (RFC 8446 5.1); one buffer per client
_NO_BODY = frozenset((204, 304))
_SIZE_LINE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,19}")


class WireError(Exception):
    """A transport failure; ``str()`` is a short reason (no address, never a header or body)."""


class ConnectError(WireError):
    """No connection (refused, unreachable, no such name)."""

    def __init__(self, os_error: OSError) -> None:
        self.os_error = os_error
        # asyncio's sock_connect words a refusal "Connect call failed ('10.0.0.5', 443)": the
        # errno's own text is the short reason (a name lookup's error has its text already).
        errno = os_error.errno if not isinstance(os_error, socket.gaierror) else None
        text = os.strerror(errno) if errno else os_error.strerror
        super().__init__(f"cannot connect: {text or type(os_error).__name__}")


class Disconnected(WireError):
    """The BMC closed the connection before a byte of the answer: on a kept-alive connection,
    the BMC dropped it between rounds (the caller sends again on a fresh one)."""


class BadResponse(WireError):
    """The bytes that came back are not an HTTP answer (or not a whole one)."""


class BodyTooLarge(WireError):
    """A response body over the cap (counted after decompression)."""


class Headers(Mapping[str, str]):
    """Response headers, looked up case-insensitively; a repeated header's values joined by ", "."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, str]) -> None:
        self._items = items  # lower-case names

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:
        return self._items.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({sorted(self._items)})"  # names only: a value may be a token


@dataclass(slots=True)
class Response:
    status: int
    headers: Headers
    body: bytes
    keep_alive: bool  # the connection can carry the next request


# Parser states.
_HEAD, _LENGTH, _CHUNKED, _CLOSE, _DONE = range(5)
# Chunked sub-states.
_SIZE, _DATA, _DATA_END, _TRAILER = range(4)


class ResponseParser:
    """One HTTP/1.x response, fed as it arrives (sans-I/O). ``feed`` returns the ``Response``
    once complete (None until then); ``eof`` says the connection closed. Raises ``BadResponse``,
    ``BodyTooLarge`` or ``Disconnected`` (closed before any byte)."""

    def __init__(self, method: str = "GET", max_body: int = MAX_BODY) -> None:
        self.head_only = method == "HEAD"
        self.max_body = max_body
        self.received = False
        self._buf = bytearray()
        self._state = _HEAD
        self._status = 0
        self._headers: dict[str, str] = {}
        self._keep = False
        self._left = 0  # body bytes still due (Content-Length) or of the current chunk
        self._length = 0
        self._chunk = _SIZE
        self._raw = 0  # body bytes as sent (compressed)
        self._body = bytearray()
        self._inflate: Any = None
        self._sniff: bytearray | None = None

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes | bytearray | memoryview) -> Response | None:
        if data:
            self.received = True
            self._buf += data
        return self._advance()

    def eof(self) -> Response:
        state = self._state
        if state == _CLOSE:
            return self._finish(False)
        if state == _DONE:  # not reached: feed returned the answer already
            raise BadResponse("the answer was already complete")
        if not self.received:
            raise Disconnected("the BMC closed the connection without answering")
        if state == _HEAD:
            raise BadResponse("the answer ended inside its headers")
        if state == _LENGTH:
            raise BadResponse(f"the answer ended early ({self._length - self._left} of {self._length} bytes)")
        raise BadResponse("the answer ended early (inside a chunked body)")

    # ------------------------------------------------------------------ states
    def _advance(self) -> Response | None:
        buf = self._buf
        while True:
            state = self._state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                # A bare-LF head ("\n\n"), seen from small embedded servers, is accepted too.
                lf = buf.find(b"\n\n", 0, end + 4 if end >= 0 else len(buf))
                if lf >= 0 and (end < 0 or lf < end):
                    head, cut = bytes(buf[:lf]), lf + 2
                elif end >= 0:
                    head, cut = bytes(buf[:end]), end + 4
                else:
                    if len(buf) > MAX_HEAD:
                        raise BadResponse(f"headers larger than {MAX_HEAD // 1024} KB")
                    return None
                if cut > MAX_HEAD:
                    raise BadResponse(f"headers larger than {MAX_HEAD // 1024} KB")
                del buf[:cut]
                self._start(head)
                if self._state == _DONE:
                    return self._finish(self._keep)
            elif state == _LENGTH:
                n = min(len(buf), self._left)
                if n:
                    if n == len(buf):
                        self._take(bytes(buf))
                        buf.clear()
                    else:
                        self._take(bytes(buf[:n]))
                        del buf[:n]
                    self._left -= n
                if self._left:
                    return None
                return self._finish(self._keep)
            elif state == _CHUNKED:
                if not self._chunked():
                    return None
                return self._finish(self._keep)
            else:  # _CLOSE: everything up to the end of the connection
                if buf:
                    self._take(bytes(buf))
                    buf.clear()
                return None

    def _start(self, head: bytes) -> None:
        """Parse a status line and headers; set the body's framing (or skip a 1xx)."""
        lines = head.decode("latin-1").split("\n")  # one decode; header names and values are Latin-1
        parts = lines[0].rstrip("\r").split(None, 2)
        if len(parts) < 2 or parts[0] not in ("HTTP/1.1", "HTTP/1.0") or len(parts[1]) != 3 \
                or not parts[1].isascii() or not parts[1].isdigit() or parts[1][0] == "0":
            raise BadResponse("not an HTTP answer (bad status line)")
        status = int(parts[1])
        headers: dict[str, str] = {}
        last = ""
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                if line[:1] in (" ", "\t") and last:  # obsolete line folding (RFC 9112 5.2)
                    headers[last] = f"{headers[last]} {line.strip()}"
                    continue
                if not line.strip():
                    continue
                raise BadResponse("not an HTTP answer (bad header line)")
            key = name.lower()
            if not key or key[0] in " \t" or key[-1] in " \t" or " " in key:
                raise BadResponse("not an HTTP answer (bad header line)")
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
            last = key
        if status < 200:
            if status == 101:
                raise BadResponse("not an HTTP answer (the BMC switched protocols)")
            return  # 100 Continue, 102, 103: an interim answer, the real one follows
        self._status, self._headers = status, headers
        conn = headers.get("connection", "").lower()
        self._keep = "close" not in conn if parts[0] == "HTTP/1.1" else "keep-alive" in conn
        self._set_encoding(headers.get("content-encoding", ""))
        if self.head_only or status in _NO_BODY:
            self._state = _DONE
            return
        coding = headers.get("transfer-encoding")
        if coding is not None:
            codings = [c.strip().lower() for c in coding.split(",")]
            if codings[-1] != "chunked" or any(c not in ("chunked", "identity") for c in codings):
                raise BadResponse("not an HTTP answer (unsupported Transfer-Encoding)")
            self._state, self._chunk = _CHUNKED, _SIZE
            return
        length = headers.get("content-length")
        if length is not None:
            values = {v.strip() for v in length.split(",")}
            stated = values.pop() if len(values) == 1 else ""
            if not _DIGITS.fullmatch(stated):
                raise BadResponse("not an HTTP answer (bad Content-Length)")
            self._length = self._left = int(stated)
            if self._inflate is None and self._length > self.max_body:
                raise BodyTooLarge("the answer is larger than the cap")
            self._state = _LENGTH if self._left else _DONE
            return
        self._state, self._keep = _CLOSE, False  # the body ends with the connection

    def _set_encoding(self, value: str) -> None:
        encoding = value.strip().lower()
        if encoding in ("", "identity"):
            return
        if encoding in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS)
            self._sniff = bytearray()  # raw bytes until the zlib header is known good
        else:
            raise BadResponse(f"not an HTTP answer (unsupported Content-Encoding {encoding[:20]!r})")

    def _chunked(self) -> bool:
        """Consume chunked framing; True when the last chunk and trailers are in."""
        buf = self._buf
        while True:
            step = self._chunk
            if step in (_SIZE, _TRAILER):
                eol = buf.find(b"\n")
                if eol < 0:
                    if len(buf) > 4096:
                        raise BadResponse("not an HTTP answer (bad chunk size line)")
                    return False
                line = bytes(buf[:eol]).rstrip(b"\r")
                del buf[:eol + 1]
                if step == _TRAILER:
                    if not line:
                        return True
                    continue  # a trailer field: not used
                size = line.split(b";", 1)[0].strip()
                if not _SIZE_LINE.fullmatch(size):
                    raise BadResponse("not an HTTP answer (bad chunk size)")
                self._left = int(size, 16)
                self._chunk = _DATA if self._left else _TRAILER
            elif step == _DATA:
                n = min(len(buf), self._left)
                if not n:
                    return False
                self._take(bytes(buf[:n]))
                del buf[:n]
                self._left -= n
                if self._left:
                    return False
                self._chunk = _DATA_END
            else:  # _DATA_END: the CRLF after a chunk's data
                if buf[:1] == b"\n":
                    del buf[:1]
                elif len(buf) < 2:
                    return False
                elif buf[:2] == b"\r\n":
                    del buf[:2]
                else:
                    raise BadResponse("not an HTTP answer (bad chunk end)")
                self._chunk = _SIZE

    def _take(self, data: bytes) -> None:
        """Body bytes as framed: kept (decompressed), refused past the cap."""
        self._raw += len(data)
        if self._raw > self.max_body:
            raise BodyTooLarge("the answer is larger than the cap")
        if self._inflate is None:
            self._body += data
            return
        room = self.max_body + 1 - len(self._body)
        if self._sniff is not None:
            self._sniff += data
        try:
            out = self._inflate.decompress(data, room)
        except zlib.error:
            if self._sniff is None:
                raise BadResponse("the compressed body is corrupt") from None
            # Quirk (generic, old embedded web servers): "deflate" sent as raw DEFLATE without
            # the zlib header RFC 9110 8.4.1.2 asks for; zlib says so within the first bytes.
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            data, self._sniff = bytes(self._sniff), None
            try:
                out = self._inflate.decompress(data, room)
            except zlib.error:
                raise BadResponse("the compressed body is corrupt") from None
        if self._sniff is not None and (out or len(self._sniff) > 64):
            self._sniff = None  # the zlib header was accepted
        self._body += out
        if len(self._body) > self.max_body:
            raise BodyTooLarge("the answer is larger than the cap")

    def _finish(self, keep: bool) -> Response:
        if self._inflate is not None:
            self._body += self._inflate.flush()
            if len(self._body) > self.max_body:
                raise BodyTooLarge("the answer is larger than the cap")
        self._state = _DONE
        # Bytes after a whole answer that nobody asked for: the connection is not trusted again.
        return Response(self._status, Headers(self._headers), bytes(self._body), keep and not self._buf)


# ---------------------------------------------------------------------- requests
# Characters sent as they are in a request target (RFC 3986 unreserved, the reserved ones
# Redfish URLs use -- "$expand=.($levels=1)", "$skip=N" --, and '%' escapes already made).
_PLAIN = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@$&()=,;!*'+]*")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def request_target(path: str) -> str:
    """``path`` as sent on the request line: the fragment dropped (never sent), anything else
    (a space, non-ASCII as UTF-8, a '%' that starts no escape) percent-encoded."""
    path = path.split("#", 1)[0]
    if _PLAIN.fullmatch(path):
        return path
    return quote(_LONE_PERCENT.sub("%25", path), safe="/?&=$()[]@:,;!*'+%-._~")


def request_bytes(method: str, target: str, host: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
    """The request as sent (HTTP/1.1, kept alive)."""
    lines = [f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n"]
    lines += [f"{name}: {value}\r\n" for name, value in headers.items()]
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}\r\n")
    lines.append("\r\n")
    text = "".join(lines)
    # A token is the BMC's text sent back: a line break in it would forge headers.
    if text.count("\n") != len(lines) + 1 or text.count("\r") != len(lines) + 1:
        raise WireError("a request header holds a line break (not sent)")
    try:
        head = text.encode("latin-1")
    except UnicodeEncodeError:
        raise WireError("a request header is not Latin-1 text (not sent)") from None
    return head + body if body else head


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a base URL's requests go."""

    tls: bool
    host: str  # without brackets
    port: int
    host_header: str
    prefix: str  # the base URL's path, if any
    literal: int  # 0: a name, else the address family of an IP literal


def origin_of(url: str) -> Origin:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WireError(f"not an http(s) URL: {url[:80]!r}")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WireError(f"bad port in URL: {url[:80]!r}") from None
    family: int
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = 0
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    default = 443 if parts.scheme == "https" else 80
    return Origin(parts.scheme == "https", host, port, shown if port == default else f"{shown}:{port}",
                  parts.path.rstrip("/"), family)


def client_context(verify: bool = True, ca_bundle: str | None = None) -> ssl.SSLContext:
    """A TLS client context: the system's trust (or ``ca_bundle``) with hostname checks, or, for
    ``verify=False``, no certificate checks at all (a BMC with its factory self-signed cert).
    Building one costs ~20 ms of CPU: callers share them."""
    if verify:
        return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Connection:
    """One open connection (TLS or plain), non-blocking, its socket watched for reading by the
    event loop from connect to close (one registration, not one per request: registering costs
    two epoll_ctl calls and selector bookkeeping). Readable while a request waits: the waiter is
    woken. Readable while idle: the BMC closed it (EOF, a TLS close_notify) or sent bytes nobody
    asked for; either way it is not used again (``dead``), and no longer watched."""

    __slots__ = ("sock", "fd", "loop", "idle_since", "waiter", "watched", "busy", "dead")

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.loop = loop
        self.idle_since = 0.0
        self.waiter: asyncio.Future[None] | None = None
        self.watched = False
        self.busy = True
        self.dead = False

    def _readable(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(None)
            return
        if not self.busy:
            # Idle: TLS records that carry no data (TLS 1.3 session tickets arrive after the
            # first answer) are taken in and the connection stays; an EOF, an error or data
            # nobody asked for make it dead.
            try:
                self.sock.recv(1)  # b"": EOF; a byte: data nobody asked for
            except (ssl.SSLWantReadError, BlockingIOError, InterruptedError):
                return
            except (OSError, ValueError):
                pass
            self.dead = True
        # Nobody reads now: stop watching (level-triggered, it would fire every loop iteration).
        self.loop.remove_reader(self.fd)
        self.watched = False

    async def readable(self) -> None:
        if not self.watched:
            self.loop.add_reader(self.fd, self._readable)
            self.watched = True
        waiter = self.waiter = self.loop.create_future()
        try:
            await waiter
        finally:
            self.waiter = None

    async def writable(self) -> None:
        waiter = self.loop.create_future()
        self.loop.add_writer(self.fd, _wake, waiter)
        try:
            await waiter
        finally:
            self.loop.remove_writer(self.fd)

    def close(self) -> None:
        self.dead = True
        if self.watched:
            self.watched = False
            self.loop.remove_reader(self.fd)
        sock = self.sock
        if isinstance(sock, ssl.SSLSocket):
            # Send close_notify (a BMC logs "unexpected EOF" otherwise); never wait for its own.
            with contextlib.suppress(ssl.SSLError, OSError, ValueError):
                sock.unwrap()
        with contextlib.suppress(OSError):
            sock.close()


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Client:
    """HTTP/1.1 over kept-alive connections, one idle connection kept per (origin, TLS context).

    A connection is taken out of the pool while it carries a request, so two callers never share
    one (a second caller to the same origin opens its own; the extra is closed when returned).
    Idle connections older than ``keepalive`` seconds are closed (checked as requests go by)."""

    def __init__(self, *, max_body: int = MAX_BODY, keepalive: float = 120.0,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.max_body = max_body
        self.keepalive = keepalive
        self.connect_timeout = connect_timeout
        self.closed = False
        self._idle: dict[tuple[str, ssl.SSLContext | None], Connection] = {}  # (base URL, TLS)
        self._origins: dict[str, Origin] = {}
        self._buf = bytearray(READ_SIZE)
        self._next_sweep = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    def origin(self, url: str) -> Origin:
        found = self._origins.get(url)
        if found is None:
            found = self._origins[url] = origin_of(url)
        return found

    async def request(self, url: str, method: str, path: str, headers: Mapping[str, str],
                      body: bytes | None = None, tls: ssl.SSLContext | None = None) -> Response:
        """``method`` ``url + path``. Raises ``WireError`` (``ConnectError``, ``BadResponse``,
        ``BodyTooLarge``; ``Disconnected`` only on a reused kept-alive connection) or
        ``TimeoutError`` (connecting)."""
        if self.closed:
            raise WireError("the client is closed")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections are watched by one loop: a new loop starts afresh
            self._loop = loop
            idle, self._idle = self._idle, {}
            for old in idle.values():
                old.close()
        origin = self.origin(url)
        if origin.tls and tls is None:
            raise WireError("https needs a TLS context")
        key = (url, tls if origin.tls else None)
        data = request_bytes(method, request_target(origin.prefix + path), origin.host_header, headers, body)
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        conn = self._idle.pop(key, None)
        if conn is not None and (conn.dead or now - conn.idle_since > self.keepalive):
            conn.close()
            conn = None
        reused = conn is not None
        if conn is None:
            conn = await self._connect(origin, tls if origin.tls else None)
        conn.busy = True
        try:
            resp = await self._exchange(conn, data, ResponseParser(method, self.max_body))
        except Disconnected:
            conn.close()
            if reused:
                raise  # a kept connection the BMC dropped while idle: the caller sends again
            # A fresh connection closed unanswered is the BMC's answer, not a stale pool entry:
            # sending again would repeat a POST (a login) and connect once more to a BMC that
            # refuses to talk (seen with a listener that accepts and closes).
            raise WireError("the BMC closed the connection without answering") from None
        except BaseException:
            conn.close()  # mid-answer (a deadline, an error): the connection's state is unknown
            raise
        if resp.keep_alive and not self.closed and key not in self._idle:
            conn.busy = False
            conn.idle_since = time.monotonic()
            self._idle[key] = conn
        else:
            conn.close()
        return resp

    def drop(self, url: str) -> None:
        """Close the idle connections to ``url`` (a BMC no longer read)."""
        for key in [k for k in self._idle if k[0] == url]:
            self._idle.pop(key).close()

    def close(self) -> None:
        """Close every idle connection; connections carrying a request close when it ends."""
        self.closed = True
        idle, self._idle = self._idle, {}
        for conn in idle.values():
            conn.close()

    def __len__(self) -> int:
        return len(self._idle)

    # ------------------------------------------------------------------ internals
    def _sweep(self, now: float) -> None:
        for key, conn in list(self._idle.items()):
            if now - conn.idle_since > self.keepalive:
                del self._idle[key]
                conn.close()
        self._next_sweep = now + max(1.0, self.keepalive / 4)

    async def _exchange(self, conn: Connection, data: bytes, parser: ResponseParser) -> Response:
        sock, buf = conn.sock, self._buf
        try:
            view = memoryview(data)
            while view:
                try:
                    view = view[sock.send(view):]
                except (ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
                    await conn.writable()
                except ssl.SSLWantReadError:
                    await conn.readable()
            # The answer takes a round trip at least: wait for it rather than try a read first
            # (a read that only says "nothing yet" costs a syscall and an exception).
            await conn.readable()
            while True:
                try:
                    n = sock.recv_into(buf)
                except (ssl.SSLWantReadError, BlockingIOError, InterruptedError):
                    await conn.readable()
                    continue
                except ssl.SSLWantWriteError:
                    await conn.writable()
                    continue
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    n = 0
                if not n:
                    return parser.eof()
                # The parser copies the bytes at once: the buffer is the next read's.
                resp = parser.feed(memoryview(buf)[:n])
                if resp is not None:
                    return resp
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
            if not parser.received:
                raise Disconnected("the BMC closed the connection without answering") from None
            raise WireError(f"connection lost: {exc.strerror or type(exc).__name__}") from None
        except ssl.SSLError as exc:
            raise WireError(f"TLS error: {exc.reason or type(exc).__name__}") from None

    async def _connect(self, origin: Origin, tls: ssl.SSLContext | None) -> Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.connect_timeout):
            if origin.literal:
                addrs: list[tuple[Any, ...]] = [(origin.literal, (origin.host, origin.port))]
            else:
                try:
                    infos = await loop.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
                except OSError as exc:
                    raise ConnectError(exc) from None
                addrs = [(family, addr) for family, _, _, _, addr in infos]
            sock = await self._tcp(loop, addrs)
            if tls is None:
                return Connection(sock, loop)
            try:
                wrapped = tls.wrap_socket(sock, server_hostname=origin.host, do_handshake_on_connect=False)
            except BaseException:
                sock.close()
                raise
            conn = Connection(wrapped, loop)
            try:
                await self._handshake(conn, wrapped)
            except BaseException:
                conn.close()
                raise
            return conn

    async def _tcp(self, loop: asyncio.AbstractEventLoop, addrs: list[tuple[Any, ...]]) -> socket.socket:
        last: OSError = OSError("no address")
        for family, addr in addrs:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await loop.sock_connect(sock, addr)
                return sock
            except OSError as exc:
                sock.close()
                last = exc
            except BaseException:
                sock.close()
                raise
        raise ConnectError(last)

    async def _handshake(self, conn: Connection, sock: ssl.SSLSocket) -> None:
        while True:
            try:
                sock.do_handshake()
                return
            except ssl.SSLWantReadError:
                await conn.readable()
            except ssl.SSLWantWriteError:
                await conn.writable()
            except ssl.SSLCertVerificationError as exc:
                raise WireError(f"TLS certificate not trusted: {exc.verify_message or exc.reason}") from None
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                raise WireError("TLS handshake failed: the BMC closed the connection") from None
            except ssl.SSLError as exc:
                raise WireError(f"TLS handshake failed: {exc.reason or type(exc).__name__}") from None
            except OSError as exc:
                raise ConnectError(exc) from None
