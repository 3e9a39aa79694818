"""The fleet's HTTP/1.1 client (dcops/bmc/redfish/wire.py): the response parser as a table (bytes
in, status/headers/body or a clear error out; every answer also fed split at every byte boundary),
what goes on the request line, and the client over real loopback TLS (kept connection, a BMC that
dropped it between rounds, IPv6, a large body in many records, certificate checks)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import zlib
from pathlib import Path

import pytest

from dcops.bmc.redfish.wire import (
    BadResponse,
    BodyTooLarge,
    Client,
    Disconnected,
    ResponseParser,
    WireError,
    client_context,
    request_bytes,
    request_target,
)
from dcops.sim.runner import make_certificates, server_ssl_context
from tests.helpers.timing import PATIENT

DOC = b'{"PowerState": "On"}'
GZ = gzip.compress(DOC * 50)
DEFLATE_ZLIB = zlib.compress(DOC)
_raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
DEFLATE_RAW = _raw.compress(DOC) + _raw.flush()


def _chunked(*parts: bytes, ext: bytes = b"", trailer: bytes = b"") -> bytes:
    return b"".join(f"{len(p):x}".encode() + ext + b"\r\n" + p + b"\r\n" for p in parts) + b"0\r\n" + trailer + b"\r\n"


# (what, method, bytes on the wire, whether the connection then closes, expected status, body, keep-alive)
OK_CASES = [
    ("content-length", "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + DOC, False, 200, DOC, True),
    ("reason phrase absent", "GET", b"HTTP/1.1 404\r\nContent-Length: 2\r\n\r\n{}", False, 404, b"{}", True),
    ("chunked, extensions, trailer", "GET",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     + _chunked(DOC[:7], DOC[7:], ext=b";name=v", trailer=b"X-Trailer: 1\r\n"), False, 200, DOC, True),
    ("chunked, bare LF", "GET",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n14\n" + DOC + b"\n0\n\n", False, 200, DOC, True),
    ("close-delimited", "GET", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + DOC, True,
     200, DOC, False),
    ("HTTP/1.0 with a length", "GET", b"HTTP/1.0 200 OK\r\nContent-Length: 20\r\n\r\n" + DOC, False, 200, DOC, False),
    ("Connection: close", "GET", b"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 20\r\n\r\n" + DOC, False,
     200, DOC, False),
    ("100 Continue skipped", "POST",
     b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 20\r\n\r\n" + DOC, False, 201, DOC, True),
    ("HEAD: no body despite the length", "HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n", False,
     200, b"", True),
    ("204: no body", "DELETE", b"HTTP/1.1 204 No Content\r\n\r\n", False, 204, b"", True),
    ("304: no body", "GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 20\r\n\r\n", False, 304, b"", True),
    ("gzip sent unasked", "GET",
     b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(GZ) + GZ, False,
     200, DOC * 50, True),
    ("deflate (zlib)", "GET",
     b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(DEFLATE_ZLIB)
     + DEFLATE_ZLIB, False, 200, DOC, True),
    ("deflate (raw, no zlib header)", "GET",
     b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(DEFLATE_RAW)
     + DEFLATE_RAW, False, 200, DOC, True),
    ("gzip, chunked", "GET",
     b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
     + _chunked(GZ[:10], GZ[10:]), False, 200, DOC * 50, True),
    ("bare-LF head", "GET", b"HTTP/1.1 200 OK\nContent-Length: 20\n\n" + DOC, False, 200, DOC, True),
    ("same length twice", "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 20, 20\r\n\r\n" + DOC, False, 200, DOC, True),
]


def _parse(method: str, pieces: list[bytes], closes: bool, max_body: int = 1 << 20):  # type: ignore[no-untyped-def]
    parser = ResponseParser(method, max_body)
    for piece in pieces:
        resp = parser.feed(piece)
        if resp is not None:
            return resp
    return parser.eof() if closes else None


@pytest.mark.parametrize(("what", "method", "wire", "closes", "status", "body", "keep"), OK_CASES,
                         ids=[c[0] for c in OK_CASES])
def test_answers_parse_whole_and_split_at_every_byte(what: str, method: str, wire: bytes, closes: bool,
                                                     status: int, body: bytes, keep: bool) -> None:
    splits = [[wire]] + [[wire[:k], wire[k:]] for k in range(1, len(wire))] + [[bytes([b]) for b in wire]]
    for pieces in splits:
        resp = _parse(method, pieces, closes)
        assert resp is not None, (what, pieces)
        assert (resp.status, resp.body, resp.keep_alive) == (status, body, keep), (what, pieces)


def test_bytes_after_a_whole_answer_make_the_connection_not_reused() -> None:
    resp = _parse("GET", [b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + DOC + b"junk"], False)
    assert resp is not None and resp.body == DOC and not resp.keep_alive


def test_headers_are_case_insensitive_and_repeats_joined() -> None:
    resp = _parse("POST", [b"HTTP/1.1 201 Created\r\nx-auth-token: secret-tok\r\nLOCATION: /redfish/v1/S/1\r\n"
                           b"Retry-After: 2\r\nETag: \"W/1\"\r\nVia: a\r\nVia: b\r\nContent-Length: 0\r\n\r\n"], False)
    assert resp is not None
    assert resp.headers.get("X-Auth-Token") == "secret-tok" and resp.headers["Location"] == "/redfish/v1/S/1"
    assert resp.headers.get("retry-after") == "2" and resp.headers.get("etag") == '"W/1"'
    assert resp.headers.get("via") == "a, b" and resp.headers.get("Content-Type") is None
    assert "secret" not in repr(resp.headers)  # a token never shows in a repr


BAD_CASES = [
    ("garbage", b"garbage\r\n\r\n", False, BadResponse, "bad status line"),
    ("not HTTP/1.x", b"HTTP/2 200\r\n\r\n", False, BadResponse, "bad status line"),
    ("status not 3 digits", b"HTTP/1.1 20 OK\r\n\r\n", False, BadResponse, "bad status line"),
    ("header without colon", b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", False, BadResponse, "bad header line"),
    ("bad length", b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", False, BadResponse, "bad Content-Length"),
    ("two lengths", b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", False, BadResponse, "bad Content-Length"),
    ("bad chunk size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", False, BadResponse,
     "bad chunk size"),
    ("chunk without its CRLF", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX", False, BadResponse,
     "bad chunk end"),
    ("unknown transfer coding", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", False, BadResponse,
     "Transfer-Encoding"),
    ("brotli unasked", b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 1\r\n\r\nx", False, BadResponse,
     "Content-Encoding 'br'"),
    ("corrupt gzip", b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope", False,
     BadResponse, "corrupt"),
    ("switching protocols", b"HTTP/1.1 101 Switching Protocols\r\n\r\n", False, BadResponse, "switched"),
    ("closed before a byte", b"", True, Disconnected, "without answering"),
    ("closed inside the head", b"HTTP/1.1 200 OK\r\nContent-Le", True, BadResponse, "inside its headers"),
    ("closed inside the body", b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"Power", True, BadResponse,
     "ended early (7 of 20 bytes)"),
    ("closed inside a chunk", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n{\"P", True, BadResponse,
     "inside a chunked body"),
    ("stated length over the cap", b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", False, BodyTooLarge, "cap"),
    ("chunked body over the cap", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     + _chunked(b"0" * 600, b"0" * 600), False, BodyTooLarge, "cap"),
    ("close-delimited over the cap", b"HTTP/1.1 200 OK\r\n\r\n" + b"0" * 1500, False, BodyTooLarge, "cap"),
    ("headers without end", b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70000, False, BadResponse, "headers larger"),
]


@pytest.mark.parametrize(("what", "wire", "closes", "error", "text"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_broken_answers_are_clear_errors(what: str, wire: bytes, closes: bool, error: type[Exception],
                                         text: str) -> None:
    with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
        _parse("GET", [wire], closes, max_body=1024)
    assert issubclass(error, WireError)


def test_a_gzip_bomb_stops_at_the_cap_after_decompression() -> None:
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)  # 64 MB of zeros, ~64 KB on the wire
    parser = ResponseParser("GET", 1024 * 1024)
    with pytest.raises(BodyTooLarge):
        parser.feed(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb) + bomb)
    assert len(parser._body) <= 1024 * 1024 + 1  # noqa: SLF001 - what was kept, not what was sent


@pytest.mark.parametrize(("path", "sent"), [
    ("/redfish/v1/Systems/System.Embedded.1", "/redfish/v1/Systems/System.Embedded.1"),
    ("/redfish/v1/Chassis/1?$expand=.($levels=1)", "/redfish/v1/Chassis/1?$expand=.($levels=1)"),
    ("/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=2", "/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=2"),
    ("/redfish/v1/Chassis/Chassis 1", "/redfish/v1/Chassis/Chassis%201"),
    ("/redfish/v1/Chassis/Gehäuse", "/redfish/v1/Chassis/Geh%C3%A4use"),
    ("/redfish/v1/Chassis/a%2Fb", "/redfish/v1/Chassis/a%2Fb"),  # an escape stays one
    ("/a/b%zz", "/a/b%25zz"),  # a '%' that starts no escape is one
    ("/redfish/v1/Systems/1#/Status", "/redfish/v1/Systems/1"),  # a fragment is never sent
    ("/redfish/v1/Systems?$filter=Name eq 'x'", "/redfish/v1/Systems?$filter=Name%20eq%20'x'"),
])
def test_request_target(path: str, sent: str) -> None:
    assert request_target(path) == sent


def test_request_bytes_and_a_forged_header_refused() -> None:
    wire = request_bytes("POST", "/redfish/v1/S", "[::1]:8443", {"Accept": "application/json"}, b"{}")
    assert wire == (b"POST /redfish/v1/S HTTP/1.1\r\nHost: [::1]:8443\r\nAccept: application/json\r\n"
                    b"Content-Length: 2\r\n\r\n{}")
    with pytest.raises(WireError, match="line break"):
        request_bytes("GET", "/", "h", {"X-Auth-Token": "t\r\nX-Evil: 1"}, None)


# ---------------------------------------------------------------------- over loopback TLS
def _answer(body: bytes, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra + \
        b"Content-Length: %d\r\n\r\n" % len(body) + body


async def _serve_tls(tmp: Path, host: str, answers: list[bytes], drop_after: bool) -> tuple[asyncio.Server, int,
                                                                                             list[int]]:
    """A TLS server answering each request with the next of ``answers``; ``drop_after``: close the
    connection after each answer without saying so (a BMC's idle timeout between rounds)."""
    _, cert, key = make_certificates(tmp)
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while answers:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(answers.pop(0))
                await writer.drain()
                if drop_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, host, 0, ssl=server_ssl_context(cert, key))
    return server, int(server.sockets[0].getsockname()[1]), connections


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_kept_connection_reused_and_a_dropped_one_replaced(tmp_path: Path, host: str) -> None:
    big = hashlib.sha256(b"x").hexdigest().encode() * 4096  # 256 KB: many TLS records, many reads

    async def run(drop_after: bool) -> tuple[list[bytes], int]:
        server, port, connections = await _serve_tls(tmp_path, host, [_answer(DOC), _answer(big), _answer(DOC)],
                                                     drop_after)
        url = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
        client = Client()
        ctx = client_context(False)
        got = []
        async with server:
            for _ in range(3):
                # A dropped connection is seen before sending (its EOF is there to peek at) or,
                # when the close is still on its way, as a Disconnected: either way a new one.
                for attempt in range(2):  # what the fleet does: a Disconnected is sent again once
                    try:
                        resp = await asyncio.wait_for(client.request(url, "GET", "/redfish/v1", {}, None, ctx),
                                                      PATIENT)
                        break
                    except Disconnected:
                        assert attempt == 0
                got.append(resp.body)
            client.close()
        return got, len(connections)

    got, opened = asyncio.run(run(False))
    assert got == [DOC, big, DOC] and opened == 1
    got, opened = asyncio.run(run(True))
    assert got == [DOC, big, DOC] and opened == 3


def test_certificate_checks_name_the_problem_and_a_refusal_is_short(tmp_path: Path) -> None:
    ca, _, _ = make_certificates(tmp_path)

    async def run() -> tuple[str, str, bytes]:
        server, port, _ = await _serve_tls(tmp_path, "127.0.0.1", [_answer(DOC)], False)
        client = Client()
        async with server:
            with pytest.raises(WireError) as untrusted:  # the system's trust store does not know our CA
                await client.request(f"https://127.0.0.1:{port}", "GET", "/", {}, None, client_context(True))
            resp = await client.request(f"https://127.0.0.1:{port}", "GET", "/", {}, None,
                                        client_context(True, str(ca)))
            with pytest.raises(WireError) as refused:
                await client.request("http://127.0.0.1:1", "GET", "/", {}, None, None)
            client.close()
        return str(untrusted.value), str(refused.value), resp.body

    untrusted, refused, body = asyncio.run(run())
    assert untrusted.startswith("TLS certificate not trusted") and body == DOC
    assert refused == "cannot connect: Connection refused"


def test_a_fresh_connection_closed_unanswered_is_not_a_stale_one() -> None:
    """A BMC that accepts and closes without a byte: a ``WireError`` (the fleet does not send
    again), not ``Disconnected`` (kept only for a reused connection dropped while idle). Sending
    again would repeat a login POST and connect once more to a BMC that refuses to talk."""

    async def run() -> tuple[type[Exception], int]:
        connections: list[int] = []

        async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(1)
            writer.close()

        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = Client()
        async with server:
            with pytest.raises(WireError) as raised:
                await asyncio.wait_for(client.request(f"http://127.0.0.1:{port}", "POST", "/s", {}, b"{}", None),
                                       PATIENT)
            client.close()
        return type(raised.value), len(connections)

    kind, opened = asyncio.run(run())
    assert kind is WireError and opened == 1
