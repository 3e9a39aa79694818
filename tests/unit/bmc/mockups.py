"""Test helpers: load a Redfish capture from tests/fixtures/redfish/<name>.tar.gz into a dict of
path -> document, and serve such a dict on a loopback port (a tiny stateful Redfish service with
sessions, basic auth and injectable faults) for connector tests that must not wait for dcops sim.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dcops.bmc.redfish.docs import cache_key
from dcops.bmc.redfish.resources import FetchError, normalize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redfish"
CAPTURES = sorted(p.name[: -len(".tar.gz")] for p in FIXTURES.glob("*.tar.gz"))
Doc = dict[str, Any]


@cache
def _load(name: str) -> dict[str, Doc]:
    docs: dict[str, Doc] = {}
    with tarfile.open(FIXTURES / f"{name}.tar.gz", "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.endswith("index.json"):
                continue
            rel = member.name[: -len("index.json")].strip("./").strip("/")
            handle = tar.extractfile(member)
            assert handle is not None
            try:
                doc = json.load(io.TextIOWrapper(handle, encoding="utf-8"))
            except ValueError:
                continue
            path = "/redfish/v1" + (f"/{rel}" if rel else "")
            # A page the capture tool followed is kept under its query (``DellSensors?$skip=50``).
            docs[cache_key(path)] = doc
    return docs


def load(name: str) -> dict[str, Doc]:
    """Documents of a capture keyed by normalized path (lower case, no trailing slash); a copy."""
    return copy.deepcopy(_load(name))


def fetcher(docs: dict[str, Doc]) -> Callable[[str], Doc]:
    """A ``fetch(path)`` for resources.run_sync that reads from ``docs`` (FetchError when absent);
    a query the capture does not hold (``$expand``) is answered with the document without it."""

    def fetch(path: str) -> Doc:
        doc = docs.get(cache_key(path))
        if doc is None and "?" in path and "$skip" not in path:
            doc = docs.get(normalize(path))
        if doc is None:
            raise FetchError(path, "404 Not Found", 404)
        return doc

    return fetch


# --------------------------------------------------------------------------- loopback server


@dataclass
class Faults:
    """Faults the loopback service injects (each counter counts down per matching request)."""

    unavailable: int = 0  # answer 503 with Retry-After
    retry_after: int = 1
    unauthorized: int = 0  # answer 401 to a valid session (session expired on the BMC)
    delay: float = 0.0  # seconds before each answer
    max_sessions: int = 0  # 0: unlimited; else 503 with SessionLimitExceeded when exceeded
    no_sessions: bool = False  # no SessionService: 404 on POST Sessions (basic auth only)
    weak_etag_412: bool = False  # PATCH with a weak ETag answers 412
    reject_full_insert: bool = False  # Quirk (Supermicro): InsertMedia rejects Inserted/WriteProtected
    page_size: int = 0  # > 0: collections answer at most this many members and a Members@odata.nextLink


@dataclass
class LoopbackBmc:
    docs: dict[str, Doc]
    username: str = "admin"
    password: str = "s3cret-pw"
    faults: Faults = field(default_factory=Faults)
    sessions: dict[str, str] = field(default_factory=dict)  # token -> session uri
    log: list[tuple[float, str, str, int]] = field(default_factory=list)  # time, method, path, status
    created_sessions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def active_sessions(self) -> int:
        with self.lock:
            return len(self.sessions)


def _handler(bmc: LoopbackBmc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send(self, status: int, body: object = None, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            with bmc.lock:
                bmc.log.append((time.monotonic(), self.command, self.path, status))

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw else None

        def _authorized(self) -> bool:
            token = self.headers.get("X-Auth-Token")
            if token:
                with bmc.lock:
                    ok = token in bmc.sessions
                    if ok and bmc.faults.unauthorized > 0:
                        bmc.faults.unauthorized -= 1
                        del bmc.sessions[token]
                        return False
                return ok
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                return user == bmc.username and pw == bmc.password
            return False

        def _common(self) -> bool:
            if bmc.faults.delay:
                time.sleep(bmc.faults.delay)
            with bmc.lock:
                if bmc.faults.unavailable > 0:
                    bmc.faults.unavailable -= 1
                    busy = True
                else:
                    busy = False
            if busy:
                self._body()
                self._send(503, _error("Base.1.8.ServiceTemporarilyUnavailable", "busy", "Critical"),
                           {"Retry-After": str(bmc.faults.retry_after)})
                return False
            return True

        def do_GET(self) -> None:
            if not self._common():
                return
            path = normalize(self.path)
            if path not in ("/redfish/v1", "/redfish") and not self._authorized():
                self._send(401, _error("Base.1.8.NoValidSession", "no valid session", "Critical"))
                return
            doc = bmc.docs.get(cache_key(self.path)) or bmc.docs.get(path)
            if doc is None:
                self._send(404, _error("Base.1.8.ResourceMissingAtURI", f"{self.path} not found", "Critical"))
                return
            if bmc.faults.page_size and isinstance(doc.get("Members"), list):
                doc = paged(doc, self.path, bmc.faults.page_size)
            etag = doc.get("@odata.etag")
            self._send(200, doc, {"ETag": etag} if isinstance(etag, str) else None)

        def do_POST(self) -> None:
            if not self._common():
                return
            path = normalize(self.path)
            body = self._body()
            if path == "/redfish/v1/sessionservice/sessions":
                if bmc.faults.no_sessions:
                    self._send(404, _error("Base.1.8.ResourceMissingAtURI", "no sessions", "Critical"))
                    return
                if (body or {}).get("UserName") != bmc.username or (body or {}).get("Password") != bmc.password:
                    self._send(401, _error("Base.1.8.NoValidSession", "bad credentials", "Critical"))
                    return
                with bmc.lock:
                    if bmc.faults.max_sessions and len(bmc.sessions) >= bmc.faults.max_sessions:
                        full = True
                    else:
                        full = False
                        token = uuid.uuid4().hex
                        uri = f"/redfish/v1/SessionService/Sessions/{token[:8]}"
                        bmc.sessions[token] = uri
                        bmc.created_sessions += 1
                if full:
                    self._send(503, _error("Base.1.8.SessionLimitExceeded", "too many sessions", "Critical"),
                               {"Retry-After": "1"})
                    return
                self._send(201, {"@odata.id": uri, "Id": token[:8]}, {"X-Auth-Token": token, "Location": uri})
                return
            if not self._authorized():
                self._send(401, _error("Base.1.8.NoValidSession", "no valid session", "Critical"))
                return
            if path.endswith("/actions/computersystem.reset"):
                system = bmc.docs[path.rsplit("/actions", 1)[0]]
                reset = (body or {}).get("ResetType")
                system["PowerState"] = "Off" if reset in ("ForceOff", "GracefulShutdown") else "On"
                self._send(204)
                return
            if path.endswith("/actions/virtualmedia.insertmedia"):
                if bmc.faults.reject_full_insert and set(body or {}) - {"Image"}:
                    self._send(400, _error("Base.1.8.PropertyUnknown", "Inserted is unknown", "Warning"))
                    return
                media = bmc.docs[path.rsplit("/actions", 1)[0]]
                media.update({"Inserted": True, "Image": (body or {}).get("Image")})
                self._send(204)
                return
            if path.endswith("/actions/virtualmedia.ejectmedia"):
                media = bmc.docs[path.rsplit("/actions", 1)[0]]
                media.update({"Inserted": False, "Image": None})
                self._send(204)
                return
            self._send(404, _error("Base.1.8.ActionNotSupported", "unknown action", "Critical"))

        def do_PATCH(self) -> None:
            if not self._common():
                return
            path = normalize(self.path)
            body = self._body()
            if not self._authorized():
                self._send(401, _error("Base.1.8.NoValidSession", "no valid session", "Critical"))
                return
            doc = bmc.docs.get(path)
            if doc is None:
                self._send(404, _error("Base.1.8.ResourceMissingAtURI", "not found", "Critical"))
                return
            if_match = self.headers.get("If-Match")
            if bmc.faults.weak_etag_412 and if_match and if_match.startswith("W/"):
                self._send(412, _error("Base.1.8.PreconditionFailed", "ETag mismatch", "Critical"))
                return
            for key, value in (body or {}).items():
                if isinstance(value, dict) and isinstance(doc.get(key), dict):
                    doc[key].update(value)
                else:
                    doc[key] = value
            self._send(200, doc)

        def do_DELETE(self) -> None:
            path = normalize(self.path)
            with bmc.lock:
                token = next((t for t, u in bmc.sessions.items() if normalize(u) == path), None)
                if token:
                    del bmc.sessions[token]
            self._send(204 if token else 404)

    return Handler


def paged(doc: Doc, request_path: str, size: int) -> Doc:
    """One page of a collection as a paging BMC serves it: ``$skip`` from the query, at most
    ``size`` members, ``Members@odata.nextLink`` to the next page, the full count."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(request_path)
    skip = int((parse_qs(parts.query).get("$skip") or ["0"])[0])
    members = doc["Members"]
    out = {**doc, "Members": members[skip: skip + size], "Members@odata.count": len(members)}
    out.pop("Members@odata.nextLink", None)
    if skip + size < len(members):
        out["Members@odata.nextLink"] = f"{parts.path}?$skip={skip + size}"
    return out


def _error(message_id: str, message: str, severity: str) -> Doc:
    return {"error": {"code": message_id, "message": message, "@Message.ExtendedInfo": [
        {"MessageId": "Base.1.8.GeneralError", "Message": "A general error has occurred.", "MessageSeverity": "OK"},
        {"MessageId": message_id, "Message": message, "MessageSeverity": severity},
    ]}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out on purpose (deadline tests) leave broken pipes: not news.
        return None


@contextmanager
def serve(docs: dict[str, Doc], **kwargs: Any) -> Iterator[LoopbackBmc]:
    """Serve ``docs`` on a free 127.0.0.1 port for the duration of the block."""
    bmc = LoopbackBmc(docs=docs, **kwargs)
    server = _Server(("127.0.0.1", 0), _handler(bmc))
    bmc.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield bmc
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def minimal_system(power: str = "On") -> dict[str, Doc]:
    """A small Redfish tree (root, one system with reset and boot, one virtual media slot)."""
    docs: dict[str, Doc] = {}

    def put(path: str, doc: Doc) -> None:
        doc.setdefault("@odata.id", path)
        docs[normalize(path)] = doc

    put("/redfish/v1", {"RedfishVersion": "1.15.0", "Systems": {"@odata.id": "/redfish/v1/Systems"},
                        "Chassis": {"@odata.id": "/redfish/v1/Chassis"},
                        "Managers": {"@odata.id": "/redfish/v1/Managers"},
                        "SessionService": {"@odata.id": "/redfish/v1/SessionService"},
                        "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}})
    put("/redfish/v1/SessionService", {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}})
    put("/redfish/v1/Systems", {"Members": [{"@odata.id": "/redfish/v1/Systems/1"}]})
    put("/redfish/v1/Chassis", {"Members": [{"@odata.id": "/redfish/v1/Chassis/1"}]})
    put("/redfish/v1/Managers", {"Members": [{"@odata.id": "/redfish/v1/Managers/1"}]})
    put("/redfish/v1/Chassis/1", {"Id": "1", "SerialNumber": "CH1", "Status": {"Health": "OK"}})
    put("/redfish/v1/Managers/1", {"Id": "1", "FirmwareVersion": "1.0", "Links": {}})
    put("/redfish/v1/Systems/1", {
        "Id": "1", "Manufacturer": "Contoso", "Model": "X1", "SerialNumber": "SN1", "PowerState": power,
        "@odata.etag": 'W/"1"', "Status": {"Health": "OK", "HealthRollup": "OK"},
        "Boot": {"BootSourceOverrideTarget": "None", "BootSourceOverrideEnabled": "Disabled"},
        "Actions": {"#ComputerSystem.Reset": {"target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                    "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "GracefulShutdown", "ForceRestart",
                                                          "PowerCycle"]}},
        "VirtualMedia": {"@odata.id": "/redfish/v1/Systems/1/VirtualMedia"},
        "Links": {"Chassis": [{"@odata.id": "/redfish/v1/Chassis/1"}]},
    })
    put("/redfish/v1/Systems/1/VirtualMedia", {"Members": [{"@odata.id": "/redfish/v1/Systems/1/VirtualMedia/Cd"}]})
    put("/redfish/v1/Systems/1/VirtualMedia/Cd", {"Id": "Cd", "MediaTypes": ["CD", "DVD"], "Inserted": False,
                                                  "Image": None})
    return docs
