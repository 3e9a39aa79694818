"""Serve a captured mockup tree as a BMC, so tests can replay what a real server said.

Accepts a directory in tall form (``<dir>/redfish/v1/.../index.json``) or short form
(``<dir>/index.json`` is ``/redfish/v1``), or a ``.tar.gz`` of either. URIs match
case-insensitively and ignore a trailing slash (HPE captures link ``/redfish/v1/systems/1/bios/``
to a directory called ``Systems/1/bios``). Reads only, plus sessions and basic auth so that
clients can log in as they would on the real BMC.

Paging: a capture pages where the BMC paged. The DMTF mockup creator stores a page it followed
under its query (Dell iDRAC9 6.00: ``DellSensors?$skip=50/index.json`` beside ``DellSensors``):
``GET ...?$skip=50`` answers that page. With ``page_size`` every collection is served in pages of
that size as well (``Members@odata.nextLink`` ``?$skip=N``), as a paging BMC would.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import random
import secrets
import tarfile
import time
from collections import deque
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import orjson

from dcops.sim.state import DEFAULT_CREDENTIALS, Credentials, NetBehaviour

if TYPE_CHECKING:
    from dcops.sim.server import Reply, SimRequest

PUBLIC = frozenset({"/redfish", "/redfish/v1", "/redfish/v1/odata", "/redfish/v1/$metadata"})


class ReplayBmc:
    """A BMC that answers from a capture."""

    def __init__(self, source: str | Path, credentials: Credentials = DEFAULT_CREDENTIALS,
                 name: str = "replay", request_log: int = 128, page_size: int = 0) -> None:
        self.page_size = page_size
        self.directory = str(source)
        self.name = name
        self.credentials = credentials
        self.port = 0
        self.address = "127.0.0.1"
        self.net = NetBehaviour()
        self.rng = random.Random(0)
        self.requests: deque[tuple[int, float, str, str, int, str]] = deque(maxlen=request_log)
        self._seq = itertools.count(1)
        self.request_count = 0
        self.sessions: dict[str, str] = {}  # token -> id
        self._session_seq = itertools.count(1)
        self.faults: dict[str, Any] = {}
        self._files: dict[str, bytes] = {}  # normalised URI -> raw body
        self._metadata: bytes | None = None
        self._load(Path(source))

    # ------------------------------------------------------------------ loading
    def _load(self, source: Path) -> None:
        if source.is_dir():
            entries = [(str(p.relative_to(source).as_posix()), p.read_bytes())
                       for p in source.rglob("*") if p.is_file() and p.name in ("index.json", "index.xml")]
        elif source.is_file() and source.name.endswith((".tar.gz", ".tgz", ".tar.xz", ".tar")):
            entries = []
            with tarfile.open(source) as archive:
                for member in archive.getmembers():
                    if member.isfile() and PurePosixPath(member.name).name in ("index.json", "index.xml"):
                        handle = archive.extractfile(member)
                        if handle is not None:
                            entries.append((member.name, handle.read()))
        else:
            raise FileNotFoundError(f"{source}: not a mockup directory or archive")
        names = [name for name, _ in entries]
        prefix = _root_prefix(names)
        if prefix is None:
            raise ValueError(f"{source}: no service root (index.json) found")
        for name, data in entries:
            if not name.startswith(prefix):
                continue
            rel = name[len(prefix):].rsplit("/", 1)[0] if "/" in name[len(prefix):] else ""
            uri = "/redfish/v1" + ("/" + rel if rel else "")
            if name.endswith("index.xml"):
                if rel.lower() == "$metadata":
                    self._metadata = data
                continue
            self._files[uri.lower()] = data

    def __len__(self) -> int:
        return len(self._files)

    def paths(self) -> list[str]:
        return sorted(self._files)

    def document(self, path: str) -> dict[str, Any] | None:
        raw = self._files.get(_norm(path))
        return orjson.loads(raw) if raw is not None else None

    # ------------------------------------------------------------------ serving
    def log_request(self, method: str, path: str, status: int, who: str) -> None:
        self.request_count += 1
        self.requests.append((next(self._seq), time.time(), method, path, status, who))

    def handle(self, req: SimRequest) -> Reply:
        from dcops.sim.server import Reply

        key = _norm(req.path)
        json_headers = {"Content-Type": "application/json; charset=utf-8", "OData-Version": "4.0"}
        if key == "/redfish":
            return Reply(200, b'{"v1": "/redfish/v1/"}', json_headers)
        if key == "/redfish/v1/$metadata":
            if self._metadata is None:
                return Reply(404, _error("ResourceMissingAtURI"), json_headers)
            return Reply(200, self._metadata, {"Content-Type": "application/xml"})
        method = req.method.upper()
        who = self._who(req)
        if key == "/redfish/v1/sessionservice/sessions" and method == "POST":
            return self._login(req, json_headers)
        if who is None and key not in PUBLIC:
            return Reply(401, _error("NoValidSession"),
                         {**json_headers, "WWW-Authenticate": 'Basic realm="RedfishService"'})
        if method == "DELETE" and key.startswith("/redfish/v1/sessionservice/sessions/"):
            sid = key.rsplit("/", 1)[-1]
            for token, existing in list(self.sessions.items()):
                if existing == sid:
                    del self.sessions[token]
                    return Reply(204, b"", {}, who or "-")
            return Reply(404, _error("ResourceMissingAtURI"), json_headers, who or "-")
        if method not in ("GET", "HEAD"):
            return Reply(405, _error("OperationNotAllowed"), {**json_headers, "Allow": "GET, HEAD"}, who or "-")
        query = "&".join(f"{k}={v}" for k, v in req.query.items())
        raw = self._files.get(f"{key}?{query}".lower()) if query else None  # a page the capture holds
        if raw is None:
            raw = self._files.get(key)
        if raw is None:
            return Reply(404, _error("ResourceMissingAtURI"), json_headers, who or "-")
        if self.page_size and not (query and f"{key}?{query}".lower() in self._files):
            raw = self._paged(raw, req)
        return Reply(200, b"" if method == "HEAD" else raw, json_headers, who or "-")

    def _paged(self, raw: bytes, req: SimRequest) -> bytes:
        """A collection served a page at a time (``page_size``), the capture's own pages aside."""
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
        members = doc.get("Members") if isinstance(doc, dict) else None
        if not isinstance(members, list) or "Members@odata.nextLink" in doc:
            return raw
        try:
            skip = max(0, int(req.query.get("$skip", "0")))
        except ValueError:
            skip = 0
        size = self.page_size
        out = {**doc, "Members": members[skip: skip + size], "Members@odata.count": len(members)}
        if skip + size < len(members):
            out["Members@odata.nextLink"] = f"{req.path}?$skip={skip + size}"
        return orjson.dumps(out)

    def _who(self, req: SimRequest) -> str | None:
        token = req.header("X-Auth-Token")
        if token and token in self.sessions:
            return f"session:{self.sessions[token]}"
        auth = req.header("Authorization")
        if auth and auth[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            if user == self.credentials.username and password == self.credentials.password:
                return "basic"
        return None

    def _login(self, req: SimRequest, headers: dict[str, str]) -> Reply:
        from dcops.sim.server import Reply

        try:
            body = orjson.loads(req.body or b"{}")
        except orjson.JSONDecodeError:
            return Reply(400, _error("MalformedJSON"), headers)
        if not isinstance(body, dict) or body.get("UserName") != self.credentials.username \
                or body.get("Password") != self.credentials.password:
            return Reply(401, _error("NoValidSession"), headers)
        sid = str(next(self._session_seq))
        token = secrets.token_hex(16)
        self.sessions[token] = sid
        location = f"/redfish/v1/SessionService/Sessions/{sid}"
        doc = {"@odata.id": location, "@odata.type": "#Session.v1_6_0.Session", "Id": sid,
               "Name": "User Session", "UserName": self.credentials.username}
        return Reply(201, orjson.dumps(doc), {**headers, "X-Auth-Token": token, "Location": location},
                     f"session:{sid}")

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "replay": self.directory, "documents": len(self._files),
                "sessions": len(self.sessions), "requests": self.request_count, "reachable": self.net.reachable}


def _norm(path: str) -> str:
    return path.rstrip("/").lower() or "/"


def _root_prefix(names: list[str]) -> str | None:
    """The archive/directory prefix whose index.json is /redfish/v1 (tall or short form)."""
    candidates = []
    for name in names:
        if name.endswith("redfish/v1/index.json"):
            candidates.append(name[: -len("index.json")])
    if not candidates:
        candidates = [name[: -len("index.json")] for name in names if name.endswith("index.json")]
    if not candidates:
        return None
    return min(candidates, key=len)


def _error(suffix: str) -> bytes:
    from dcops.sim.messages import base_text

    severity, message, resolution = base_text(suffix, ())
    return orjson.dumps({"error": {"code": f"Base.1.8.{suffix}", "message": message, "@Message.ExtendedInfo": [
        {"MessageId": f"Base.1.8.{suffix}", "Message": message, "MessageSeverity": severity,
         "Resolution": resolution}]}})
