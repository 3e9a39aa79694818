"""A hostile BMC for tests (loopback only): a minimal Redfish service whose System document (or
every document, or the session login) misbehaves the way a broken or malicious BMC does.

Cases (``HostileBmc.case``), each the answer to ``GET /redfish/v1/Systems/1`` unless said:

* ``endless``      200, chunked, zeros for ever (a body with no end)
* ``gzip_bomb``    200, ``Content-Encoding: gzip``, ~1 MB on the wire that inflates to 1 GB
* ``drip``         200, the body one byte a second (a read timeout never fires)
* ``drip_headers`` the status line and headers one byte a second
* ``html``         200, an HTML login page
* ``truncated``    200, JSON cut in the middle
* ``nan``          200, ``{"PowerState": NaN, ...}`` (Python's json accepts it)
* ``deep``         200, 100,000 nested arrays
* ``escapes``      200, a JSON document whose strings carry terminal escape sequences
* ``ok``           a well-formed, healthy system

Everything else (service root, sessions, collections, chassis) answers normally, so a client
logs in and reaches the bad document.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SYSTEM_OK = {
    "@odata.id": "/redfish/v1/Systems/1", "Id": "1", "Name": "System", "PowerState": "On",
    "Manufacturer": "Hostile", "Model": "H1", "SerialNumber": "HOSTILE01",
    "Status": {"State": "Enabled", "Health": "OK", "HealthRollup": "OK"},
    "Actions": {"#ComputerSystem.Reset": {"target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                                          "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "ForceRestart"]}},
}
DOCS: dict[str, Any] = {
    "/redfish/v1": {"@odata.id": "/redfish/v1", "RedfishVersion": "1.6.0",
                    "Systems": {"@odata.id": "/redfish/v1/Systems"}, "Chassis": {"@odata.id": "/redfish/v1/Chassis"},
                    "SessionService": {"@odata.id": "/redfish/v1/SessionService"},
                    "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}},
    "/redfish/v1/Systems": {"@odata.id": "/redfish/v1/Systems", "Members": [{"@odata.id": "/redfish/v1/Systems/1"}],
                            "Members@odata.count": 1},
    "/redfish/v1/Chassis": {"@odata.id": "/redfish/v1/Chassis", "Members": [], "Members@odata.count": 0},
}


def _gzip_bomb(inflated: int) -> bytes:
    """A gzip stream of ``inflated`` zero bytes (compresses about 1000:1)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [comp.compress(block) for _ in range(inflated // len(block))]
    parts.append(comp.flush())
    return b"".join(parts)


@dataclass
class HostileBmc:
    url: str = ""
    port: int = 0
    case: str = "ok"
    every_path: bool = False  # misbehave on every GET, not only the System document
    requests: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _bomb: bytes = b""

    def bomb(self) -> bytes:
        if not self._bomb:
            self._bomb = _gzip_bomb(1024 * 1024 * 1024)
        return self._bomb


@contextmanager
def hostile_bmc(case: str = "ok") -> Iterator[HostileBmc]:
    bmc = HostileBmc(case=case)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            pass

        def _json(self, status: int, doc: Any, extra: dict[str, str] | None = None) -> None:
            body = json.dumps(doc).encode()
            self._raw(status, body, "application/json", extra)

        def _raw(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            bmc.requests.append(f"POST {self.path}")
            if self.path.rstrip("/").endswith("/Sessions"):
                self._json(201, {"@odata.id": "/redfish/v1/SessionService/Sessions/1", "Id": "1"},
                           {"X-Auth-Token": "hostile-token-0123456789abcdef",
                            "Location": "/redfish/v1/SessionService/Sessions/1"})
                return
            self._raw(204, b"", "application/json")

        def do_DELETE(self) -> None:  # noqa: N802 - http.server's name
            bmc.requests.append(f"DELETE {self.path}")
            self._raw(204, b"", "application/json")

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0].rstrip("/")
            bmc.requests.append(f"GET {path}")
            hostile = bmc.case != "ok" and (bmc.every_path or path == "/redfish/v1/Systems/1")
            if not hostile:
                doc = SYSTEM_OK if path == "/redfish/v1/Systems/1" else DOCS.get(path)
                if doc is None:
                    self._json(404, {"error": {"code": "Base.1.0.ResourceMissingAtURI", "message": "not found"}})
                else:
                    self._json(200, doc)
                return
            getattr(self, f"_case_{bmc.case}")()

        # -- the cases
        def _case_endless(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"0" * 65536
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            try:
                while not bmc.stop.is_set():
                    self.wfile.write(frame)
            except OSError:
                pass

        def _case_gzip_bomb(self) -> None:
            body = bmc.bomb()
            self._raw(200, body, "application/json", {"Content-Encoding": "gzip"})

        def _case_drip(self) -> None:
            body = json.dumps(SYSTEM_OK).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._drip(body)

        def _case_drip_headers(self) -> None:
            self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 10000)

        def _drip(self, data: bytes) -> None:
            try:
                for byte in data:
                    if bmc.stop.wait(1.0):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                pass

        def _case_html(self) -> None:
            self._raw(200, b"<!DOCTYPE html><html><body><form>Login</form></body></html>", "text/html")

        def _case_truncated(self) -> None:
            self._raw(200, json.dumps(SYSTEM_OK).encode()[:60], "application/json")

        def _case_nan(self) -> None:
            text = json.dumps(SYSTEM_OK).replace('"Health": "OK"', '"Health": NaN', 1)
            self._raw(200, text.encode(), "application/json")

        def _case_deep(self) -> None:
            self._raw(200, b"[" * 100_000 + b"]" * 100_000, "application/json")

        def _case_escapes(self) -> None:
            doc = dict(SYSTEM_OK, Model="\x1b]0;pwned\x07\x1b[2J\x1b[31mH1", SerialNumber="\x1b[5mX" * 3)
            self._json(200, doc)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # clients hanging up on an endless or dripping answer is the point of the exercise

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    bmc.port = int(server.server_address[1])
    bmc.url = f"http://127.0.0.1:{bmc.port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield bmc
    finally:
        bmc.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
        time.sleep(0)


def inventory(bmc: HostileBmc, name: str = "hostile-01") -> str:
    """A one-host inventory (YAML text) pointing at ``bmc``; password from $DCOPS_TEST_BMC_PW."""
    return (f"version: 1\nhosts:\n  - name: {name}\n    bmc:\n      address: 127.0.0.1\n      port: {bmc.port}\n"
            "      scheme: http\n      protocol: redfish\n      username: admin\n"
            "      password: env:DCOPS_TEST_BMC_PW\n")
