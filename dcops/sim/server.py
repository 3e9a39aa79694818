"""HTTP for simulated BMCs: authentication, sessions, ETags, query options, error bodies, latency
and injected failures; and one aiohttp server shared by every BMC of a fleet.

``handle(bmc, request)`` is pure (no sockets): tests call it directly. ``SharedServer`` is the
network side: one aiohttp low-level ``web.Server`` is the protocol factory of every listening
socket, and the BMC is found from the socket a request arrived on (its local address and port).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import secrets
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from dcops.sim import kvm
from dcops.sim.faults import strike_armed
from dcops.sim.messages import RedfishError, base_text
from dcops.sim.res_services import metadata_xml
from dcops.sim.resources import Ctx, Doc, Node, etag_of, norm, tree_for
from dcops.sim.writes import WriteResult

if TYPE_CHECKING:
    from aiohttp import web

    from dcops.sim.replay import ReplayBmc
    from dcops.sim.state import Bmc

log = logging.getLogger(__name__)

PUBLIC = frozenset({"/redfish", "/redfish/v1", "/redfish/v1/odata", "/redfish/v1/$metadata"})
JSON = "application/json; charset=utf-8"
_METADATA = metadata_xml().encode()
LOG_PAGE = 50


@dataclass
class SimRequest:
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        if value is None:
            value = self.headers.get(name.lower())
        return value


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    who: str = "-"


def error_doc(bmc: Bmc | ReplayBmc, err: RedfishError) -> Doc:
    """The error body ``bmc``'s flavour would send."""
    from dcops.sim.profiles import GENERIC

    fl = getattr(bmc, "flavour", GENERIC)
    infos = []
    for i, (suffix, args) in enumerate(err.messages):
        severity, message, resolution = base_text(suffix, args)
        message_id = f"{fl.base_registry}.{suffix}"
        if i == 0 and err.vendor:
            message_id = err.vendor[0]
            message = err.vendor[1] or message
        if fl.name == "hpe":
            # Quirk (HPE iLO): extended info carries MessageId and MessageArgs, no text.
            info: Doc = {"MessageId": message_id}
            if args:
                info["MessageArgs"] = list(args)
        else:
            info = {"@odata.type": "#Message.v1_1_1.Message", "MessageId": message_id, "Message": message,
                    "MessageArgs": list(args), "MessageSeverity": severity, "Resolution": resolution}
            if fl.name == "dell":
                info["Severity"] = severity
        infos.append(info)
    if fl.name == "hpe":
        code, text = "iLO.0.10.ExtendedInfo", "See @Message.ExtendedInfo for more information."
    elif fl.name == "dell":
        code, text = f"{fl.base_registry}.GeneralError", "A general error has occurred. See ExtendedInfo for more information"
    else:
        code = f"{fl.base_registry}.GeneralError"
        text = infos[0].get("Message", "A general error has occurred. See ExtendedInfo for more information.")
    return {"error": {"code": code, "message": text, "@Message.ExtendedInfo": infos}}


def _error(bmc: Bmc | ReplayBmc, err: RedfishError, who: str = "-") -> Reply:
    headers = {"Content-Type": JSON, "OData-Version": "4.0"}
    headers.update(err.headers)
    if err.status == 401:
        headers.setdefault("WWW-Authenticate", 'Basic realm="RedfishService"')
    return Reply(err.status, orjson.dumps(error_doc(bmc, err)), headers, who)


def _authenticate(bmc: Bmc, req: SimRequest) -> str | None:
    """Who is asking: "session:<id>", "basic", or None. Raises 401 for bad credentials."""
    token = req.header("X-Auth-Token")
    if token:
        session = bmc.session_by_token(token)
        if session is None:
            raise RedfishError(401, "NoValidSession")
        return f"session:{session.id}"
    auth = req.header("Authorization")
    if auth and auth[:6].lower() == "basic ":
        try:
            user, _, password = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise RedfishError(401, "NoValidSession") from None
        creds = bmc.credentials
        if secrets.compare_digest(f"{user}:{password}".encode(), f"{creds.username}:{creds.password}".encode()):
            return "basic"
        raise RedfishError(401, "ResourceAtUriUnauthorized", (req.path, "Unauthorized"),
                           vendor=_BASIC_FAILED.get(bmc.flavour.name))
    return None


_BASIC_FAILED = {"dell": ("IDRAC.2.8.SYS415", "Unable to complete the operation because an invalid username "
                                              "and/or password is entered, and therefore authentication failed.")}


def handle(bmc: Bmc, req: SimRequest) -> Reply:
    """Answer one request as ``bmc`` would (state changes included)."""
    bmc.tick()
    method = req.method.upper()
    page = kvm.launch_page(bmc, method, req.path, req.query)
    if page is not None:
        # The vendor's HTML5 console page: outside Redfish, authorised by the console credential.
        status, text = page
        return Reply(status, b"" if method == "HEAD" else text.encode(), {"Content-Type": "text/html; charset=utf-8"})
    key = norm(req.path)
    who = "-"
    try:
        tree = tree_for(bmc.profile)
        odata = req.header("OData-Version")
        if odata is not None and odata.strip() != "4.0":
            # DSP0266: a version the service does not support is 412 (iDRAC, iLO and XCC do so).
            raise RedfishError(412, "PreconditionFailed")
        if key.endswith("/members") and method == "POST":
            # DSP0266: a POST to a collection's Members property is a POST to the collection.
            key = key[: -len("/members")]
            req = SimRequest(req.method, req.path.rstrip("/")[: -len("/Members")], req.query, req.headers, req.body)
        if key == "/redfish/v1/$metadata" and method in ("GET", "HEAD"):
            return Reply(200, _METADATA, {"Content-Type": "application/xml", "OData-Version": "4.0"})
        is_login = method == "POST" and key == norm(tree.paths.sessions)
        try:
            auth = _authenticate(bmc, req)
        except RedfishError:
            if key not in PUBLIC and not is_login:
                raise
            auth = None  # the service root answers whoever asks; a login may replace a stale token
        if is_login and auth is None and "basic-only" in bmc.profile.traits:
            raise RedfishError(401, "NoValidSession")  # trait basic-only (sushy-tools with an htpasswd)
        who = auth or "-"
        node = tree.resolve(bmc, req.path)
        if auth is None and key not in PUBLIC and not is_login:
            raise RedfishError(401, "NoValidSession")
        if node is None:
            raise RedfishError(404, "ResourceMissingAtURI", (req.path,))
        ctx = Ctx(bmc, tree.paths)
        if method in ("GET", "HEAD"):
            return _get(bmc, tree, node, ctx, req, who, head=method == "HEAD")
        if method == "PATCH":
            return _patch(bmc, node, ctx, req, who)
        if method == "POST":
            if node.post is None:
                raise RedfishError(405, "OperationNotAllowed", headers={"Allow": _allow(node)})
            # Quirk (HPE iLO): an action POST needs a JSON body, even if only {}; an empty one is refused.
            result = node.post(ctx, _json(req.body, empty_ok=bmc.flavour.name != "hpe"), *node.args)
            if is_login and result.status == 201:
                who = f"session:{result.headers['Location'].rsplit('/', 1)[-1]}"
            return _result(result, who)
        if method == "DELETE":
            if node.delete is None:
                raise RedfishError(405, "OperationNotAllowed", headers={"Allow": _allow(node)})
            return _result(node.delete(ctx, None, *node.args), who)
        # PUT, OPTIONS, or a method no one knows: 405 with what the resource allows.
        raise RedfishError(405, "OperationNotAllowed", headers={"Allow": _allow(node)})
    except RedfishError as err:
        return _error(bmc, err, who)


# The query options the simulator knows; any other one starting with "$" is 501 (DSP0266).
_KNOWN_QUERY = frozenset({"$expand", "$top", "$skip", "$select", "$filter"})


def _described_by(doc: Doc) -> str | None:
    """The ``Link: <schema>; rel=describedby`` of a resource: its JSON schema, versioned as its
    @odata.type is (DSP0266 "Link header"; iDRAC and iLO send one on every GET)."""
    kind = doc.get("@odata.type")
    if not isinstance(kind, str) or not kind.startswith("#"):
        return None
    parts = kind[1:].split(".")
    name = f"{parts[0]}.{parts[1]}" if len(parts) == 3 else parts[0]
    return f"<http://redfish.dmtf.org/schemas/v1/{name}.json>; rel=describedby"


def _allow(node: Node) -> str:
    methods = ["GET", "HEAD"] if node.get is not None else []
    methods += [m for m, f in (("PATCH", node.patch), ("POST", node.post), ("DELETE", node.delete)) if f]
    return ", ".join(methods)


def _json(body: bytes, empty_ok: bool = False) -> Any:
    if not body.strip():
        if empty_ok:
            return {}
        raise RedfishError(400, "MalformedJSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RedfishError(400, "MalformedJSON") from None


def _result(result: WriteResult, who: str) -> Reply:
    headers = {"OData-Version": "4.0"}
    headers.update(result.headers)
    if result.body is None:
        return Reply(result.status, b"", headers, who)
    headers["Content-Type"] = JSON
    return Reply(result.status, orjson.dumps(result.body), headers, who)


def _patch(bmc: Bmc, node: Node, ctx: Ctx, req: SimRequest, who: str) -> Reply:
    if node.patch is None:
        raise RedfishError(405, "OperationNotAllowed", headers={"Allow": _allow(node)})
    if_match = req.header("If-Match")
    if if_match is not None or node.kind in bmc.flavour.etag_required:
        assert node.get is not None
        current = etag_of(_body_bytes(node.get(ctx, *node.args) or {}))
        if if_match is None:
            raise RedfishError(428, "PreconditionRequired")
        if if_match.strip() != "*" and current not in [t.strip() for t in if_match.split(",")]:
            raise RedfishError(412, "PreconditionFailed")
    result = node.patch(ctx, _json(req.body), *node.args)
    reply = _result(result, who)
    if node.get is not None:
        reply.headers["ETag"] = etag_of(_body_bytes(node.get(Ctx(bmc, ctx.P), *node.args) or {}))
    return reply


def _body_bytes(doc: Doc) -> bytes:
    doc.pop("@odata.etag", None)
    return orjson.dumps(doc)


def _get(bmc: Bmc, tree: Any, node: Node, ctx: Ctx, req: SimRequest, who: str, head: bool) -> Reply:
    unknown = [k for k in req.query if k.startswith("$") and k not in _KNOWN_QUERY]
    if unknown:
        raise RedfishError(501, "QueryNotSupported")
    if node.get is None:
        raise RedfishError(405, "OperationNotAllowed", headers={"Allow": _allow(node)})
    doc = node.get(ctx, *node.args)
    if doc is None:
        raise RedfishError(404, "ResourceMissingAtURI", (req.path,))
    if node.kind == "LogEntries":
        # Server-driven paging, as BMCs do for long logs (and $skip works even where $top does not).
        query = dict(req.query)
        query.setdefault("$top", str(LOG_PAGE))
        doc = _page(doc, req, query)
        rest = {k: v for k, v in req.query.items() if k not in ("$top", "$skip")}
        if rest:
            doc = apply_query(bmc, tree, ctx, node, doc, SimRequest(req.method, req.path, rest, req.headers))
    elif node.collection and bmc.profile.page_size:
        # Trait page-size: server-driven paging of every collection, as many BMCs do: at most N
        # members and a next link ``?$skip=N`` (other query options kept), whatever $top says.
        rest = {k: v for k, v in req.query.items() if k not in ("$top", "$skip")}
        if rest:
            doc = apply_query(bmc, tree, ctx, node, doc, SimRequest(req.method, req.path, rest, req.headers))
        doc = _page(doc, req, {"$skip": req.query.get("$skip", "0"), "$top": str(bmc.profile.page_size)},
                    keep=rest)
    elif req.query:
        doc = apply_query(bmc, tree, ctx, node, doc, req)
    body = orjson.dumps(doc)
    etag = etag_of(body)
    if bmc.flavour.odata_etag and "@odata.id" in doc:
        if "@odata.etag" in doc:
            doc["@odata.etag"] = etag
            body = orjson.dumps(doc)
        else:
            # The key goes last, as dumping the dict again would put it: the same bytes, one
            # serialisation instead of two.
            doc["@odata.etag"] = etag
            body = body[:-1] + b',"@odata.etag":' + orjson.dumps(etag) + b"}"
    headers = {"Content-Type": JSON, "OData-Version": "4.0", "ETag": etag, "Allow": _allow(node),
               "Cache-Control": "no-cache"}
    described = _described_by(doc)
    if described:
        headers["Link"] = described
    if node.kind == "TaskMonitor":
        running = doc.get("TaskState") in ("New", "Starting", "Running", "Pending")
        status = 202 if running else 200
        if running:
            headers["Location"] = req.path
            headers["Retry-After"] = "1"
        return Reply(status, b"" if head else body, headers, who)
    if req.header("If-None-Match") == etag:
        return Reply(304, b"", headers, who)
    return Reply(200, b"" if head else body, headers, who)


# ----------------------------------------------------------------------------- query options

def apply_query(bmc: Bmc, tree: Any, ctx: Ctx, node: Node, doc: Doc, req: SimRequest) -> Doc:
    """$expand, $top/$skip and $select, as far as the flavour supports them."""
    fl = bmc.flavour
    query = req.query
    if "$filter" in query and fl.reject_unsupported_query:
        raise RedfishError(501, "QueryNotSupported")
    if "$select" in query and "$expand" in query and "select-no-expand" in bmc.profile.traits:
        raise RedfishError(400, "QueryCombinationInvalid")  # trait select-no-expand (OpenBMC bmcweb)
    expand = query.get("$expand")
    if expand is not None and not node.collection:
        traits = bmc.profile.traits
        if "expand-license-error" in traits:
            # Dell iDRAC9 (Redfish API Guide 4.20, "Query parameters"): a sub-resource whose
            # license or privilege is missing fails the entire expanded output; iDRAC8 2.63+
            # answers a Manager's $expand with "No sufficient LICENSE" (bb-Ricardo/check_redfish#151).
            raise RedfishError(500, "InternalError", vendor=(
                "Base.1.0.InternalError", "failed, No sufficient LICENSE for user to perform requested  operation."))
        if "expand-not-found" in traits:
            # Dell iDRAC9 (same guide): "$expand on unsupported URI, you may receive 400/404/405
            # status code instead of 501"; a 404 reads as if the resource were not there.
            raise RedfishError(404, "ResourceMissingAtURI", (req.path,))
    if expand is not None:
        mode, levels = _parse_expand(expand)
        supported = fl.expand_levels > 0 and (fl.expand_all or mode == ".")
        if not supported:
            if fl.reject_unsupported_query:
                raise RedfishError(501, "QueryNotSupported")
        elif node.collection or "expand-collections-only" not in bmc.profile.traits:
            doc = _expand(bmc, tree, ctx, doc, mode, min(levels, fl.expand_levels))
    if ("$top" in query or "$skip" in query) and node.collection:
        if not fl.top_skip:
            if fl.reject_unsupported_query:
                raise RedfishError(501, "QueryNotSupported")
        else:
            doc = _page(doc, req, query)
    select = query.get("$select")
    if select:
        if not fl.select_query:
            if fl.reject_unsupported_query:
                raise RedfishError(501, "QueryNotSupported")
        else:
            doc = _select(doc, [s.strip() for s in select.split(",") if s.strip()], top=True)
    return doc


def _select(value: Any, paths: list[str], top: bool = False) -> Any:
    """``$select`` as DSP0266 orders it, last (after ``$expand``): a path names a property of a
    complex property (``Status/Health``) or of each element of an array (``Members/SerialNumber``:
    the members of an expanded collection); annotations (``@odata.id``...) stay at every level,
    ``Id`` at the top (as before); anything else not named goes."""
    if isinstance(value, list):
        return [_select(v, paths) for v in value]
    if not isinstance(value, dict):
        return value
    whole = {p for p in paths if "/" not in p}
    deeper: dict[str, list[str]] = {}
    for p in paths:
        if "/" in p:
            head, rest = p.split("/", 1)
            deeper.setdefault(head, []).append(rest)
    out: Doc = {}
    for k, v in value.items():
        if k in whole or k.startswith("@") or (top and k == "Id"):
            out[k] = v
        elif k in deeper:
            out[k] = _select(v, deeper[k])
    return out


def _parse_expand(value: str) -> tuple[str, int]:
    value = value.strip()
    mode = value[:1] if value[:1] in ".*~" else "."
    levels = 1
    if "$levels=" in value:
        digits = value.split("$levels=", 1)[1].split(")", 1)[0].strip()
        if not digits.isdigit():
            raise RedfishError(400, "QueryParameterValueTypeError", (digits, "$levels"))
        levels = max(1, int(digits))
    return mode, levels


def _expand(bmc: Bmc, tree: Any, ctx: Ctx, doc: Doc, mode: str, levels: int) -> Doc:
    if levels <= 0:
        return doc

    def sub(path: str) -> Doc | None:
        if "#" in path:
            return None
        target = tree.resolve(bmc, path)
        if target is None or target.get is None or target.kind in ("TaskMonitor", "Registry"):
            return None
        found = target.get(ctx, *target.args)
        return _expand(bmc, tree, ctx, found, mode, levels - 1) if found is not None else None

    def walk(value: Any, in_links: bool) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and "@odata.id" in value and isinstance(value["@odata.id"], str):
                if (in_links and mode in "*~") or (not in_links and mode in "*."):
                    found = sub(value["@odata.id"])
                    if found is not None:
                        return found
                return value
            return {k: walk(v, in_links or k == "Links") if k not in ("Actions", "Oem", "@Redfish.Settings")
                    else v for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, in_links) for v in value]
        return value

    out = dict(doc)
    for key, value in doc.items():
        if key.startswith("@") or key in ("Actions", "Oem", "@Redfish.Settings"):
            continue
        out[key] = walk(value, key == "Links")
    return out


def _page(doc: Doc, req: SimRequest, query: Mapping[str, str], keep: Mapping[str, str] | None = None) -> Doc:
    """One page of a collection; ``keep``: server-driven paging, whose next link carries
    ``$skip`` and the other query options (not ``$top``)."""
    members = doc.get("Members", [])
    try:
        skip = int(query.get("$skip", "0"))
        top = int(query["$top"]) if "$top" in query else None
    except ValueError:
        bad = "$top" if "$top" in query and not str(query["$top"]).isdigit() else "$skip"
        raise RedfishError(400, "QueryParameterValueTypeError", (str(query.get(bad)), bad)) from None
    if skip < 0 or (top is not None and top < 0):
        raise RedfishError(400, "QueryParameterValueTypeError", ("negative", "$top/$skip"))
    page = members[skip: skip + top if top is not None else None]
    out = dict(doc)
    out["Members"] = page
    if top is not None and skip + top < len(members):
        if keep is not None:
            options = "".join(f"{k}={v}&" for k, v in keep.items())
            out["Members@odata.nextLink"] = f"{req.path}?{options}$skip={skip + top}"
            out["Members@odata.count"] = len(members)
        else:
            out["Members@odata.nextLink"] = f"{req.path}?$skip={skip + top}&$top={top}"
    return out


# ----------------------------------------------------------------------------- network side

def injected_error(bmc: Bmc | ReplayBmc) -> Reply | None:
    """The 5xx a ``bmc_errors`` fault answers instead of handling the request, or None.

    Decided before the request is handled: a BMC that answers 503 did not do the thing (no session
    created, no write applied), so a client that retries is right to.
    """
    net = bmc.net
    if net.error_rate and bmc.rng.random() < net.error_rate:
        status = net.error_status
        suffix = "ServiceTemporarilyUnavailable" if status == 503 else "InternalError"
        err = RedfishError(status, suffix, ("30",) if status == 503 else (),
                           headers={"Retry-After": "30"} if status == 503 else None)
        return _error(bmc, err)
    return None


def degrade(bmc: Bmc | ReplayBmc, reply: Reply) -> Reply:
    """A ``malformed_json`` fault: the request was handled, but the body arrives truncated."""
    net = bmc.net
    if net.malformed_rate and reply.body and bmc.rng.random() < net.malformed_rate:
        cut = max(1, len(reply.body) // 2)
        return Reply(reply.status, reply.body[:cut] + b'",,', reply.headers, reply.who)
    return reply


def delay_for(bmc: Bmc | ReplayBmc, path: str = "") -> float:
    lo, hi = bmc.net.latency
    xlo, xhi = bmc.net.extra_latency
    delay = 0.0
    if hi > 0:
        delay += lo if hi <= lo else bmc.rng.uniform(lo, hi)
    slow = bmc.net.slow_paths
    if xhi > 0 and (not slow or any(seg in slow for seg in path.lower().split("/"))):
        delay += xlo if xhi <= xlo else bmc.rng.uniform(xlo, xhi)
    return delay


def shrink_tls_buffers(size: int = 16 * 1024) -> None:
    """Make asyncio's TLS transports read 16 KiB at a time instead of 256 KiB.

    asyncio's SSLProtocol allocates a read buffer of ``max_size`` (256 KiB in Python 3.11) for every
    connection: 10,000 open HTTPS connections would hold 2.5 GiB. A TLS record is at most 16 KiB,
    so a 16 KiB buffer reads every record whole. Process-wide; the simulator calls it when it serves
    TLS.
    """
    try:
        from asyncio import sslproto
    except ImportError:  # pragma: no cover
        return
    if getattr(sslproto.SSLProtocol, "max_size", 0) > size:
        sslproto.SSLProtocol.max_size = size


class SharedServer:
    """Every BMC of a fleet on its own listening socket, served by one aiohttp handler."""

    def __init__(self, lookup: Callable[[tuple[str, int]], Bmc | ReplayBmc | None],
                 ssl_context: ssl.SSLContext | None = None, backlog: int = 128) -> None:
        self.lookup = lookup
        self.ssl_context = ssl_context
        if ssl_context is not None:
            shrink_tls_buffers()
        self.backlog = backlog
        self.web_server = _any_method_server(self._handle)
        self.listeners: dict[tuple[str, int], asyncio.AbstractServer] = {}
        self._hangs: dict[tuple[str, int], asyncio.Event] = {}
        self._inflight: set[asyncio.Task[Any]] = set()  # request handlers running (hanging, sleeping)
        self.closing = False

    async def listen(self, address: str, port: int) -> tuple[str, int]:
        """Start listening on ``address:port`` (port 0: any free port); returns the bound pair."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        bound = sock.getsockname()[:2]
        loop = asyncio.get_running_loop()
        server = await loop.create_server(self.web_server, sock=sock, ssl=self.ssl_context, backlog=self.backlog)
        self.listeners[(bound[0], bound[1])] = server
        return bound[0], bound[1]

    async def stop_listening(self, addr: tuple[str, int]) -> None:
        """Refuse new connections on ``addr`` and cut the open ones (a BMC going dark)."""
        server = self.listeners.pop(addr, None)
        if server is not None:
            server.close()
        for handler in list(self.web_server.connections):
            transport = handler.transport
            if transport is not None and transport.get_extra_info("sockname")[:2] == addr:
                transport.abort()

    async def resume_listening(self, addr: tuple[str, int]) -> None:
        if addr not in self.listeners:
            await self.listen(addr[0], addr[1])

    def wake(self, addr: tuple[str, int]) -> None:
        """Release requests hanging on a BMC that came back."""
        event = self._hangs.pop(addr, None)
        if event is not None:
            event.set()

    async def close(self) -> None:
        """Stop listening, cancel requests still in progress (those hanging on a dead BMC or sleeping
        out an injected latency: nobody will wake them now), cut every connection, and wait for
        the cancelled handlers to finish, so no task outlives the event loop."""
        self.closing = True
        for server in self.listeners.values():
            server.close()
        self.listeners.clear()
        pending = [task for task in self._inflight if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2.0)
        for handler in list(self.web_server.connections):
            if handler.transport is not None:
                handler.transport.abort()
        with contextlib.suppress(Exception):
            await self.web_server.shutdown(0.1)
        self._hangs.clear()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        from aiohttp import web

        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport is not None else None
        addr = (sockname[0], sockname[1]) if sockname else ("", 0)
        bmc = self.lookup(addr)
        if bmc is None or self.closing:
            return web.Response(status=503, text="no BMC on this address")
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - aiohttp always runs handlers in a task
            return await self._serve(bmc, request, transport, addr)
        self._inflight.add(task)
        try:
            return await self._serve(bmc, request, transport, addr)
        finally:
            self._inflight.discard(task)

    async def _serve(self, bmc: Bmc | ReplayBmc, request: web.BaseRequest, transport: Any,
                     addr: tuple[str, int]) -> web.StreamResponse:
        from aiohttp import web

        if not bmc.net.reachable:
            if bmc.net.down_mode == "hang":
                event = self._hangs.setdefault(addr, asyncio.Event())
                await event.wait()
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError()
        delay = delay_for(bmc, request.path)
        if delay > 0:
            await asyncio.sleep(delay)
            if not bmc.net.reachable:
                if transport is not None:
                    transport.abort()
                raise asyncio.CancelledError()
        body = await request.read() if request.body_exists else b""
        if getattr(bmc, "armed", None):  # a fault timed to strike inside a visit (sim.faults.arm_fault)
            strike_armed(bmc, request.path)  # type: ignore[arg-type]
        sim_req = SimRequest(request.method, request.path, request.query, request.headers, body)
        reply = respond(bmc, sim_req, _log_path(request))
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)


def respond(bmc: Bmc | ReplayBmc, req: SimRequest, log_path: str | None = None) -> Reply:
    """``handle`` plus injected failures and the request log: what the network side sends.

    An injected 5xx replaces the handling (nothing changes); it is logged with its status.
    """
    from dcops.sim.state import Bmc

    reply = injected_error(bmc)
    if reply is None:
        reply = handle(bmc, req) if isinstance(bmc, Bmc) else bmc.handle(req)
        reply = degrade(bmc, reply)
    bmc.log_request(req.method.upper(), log_path or req.path, reply.status, reply.who)
    return reply


def _any_method_server(handler: Any) -> web.Server:
    """aiohttp's low-level server, parsing requests with aiohttp's Python parser.

    Why: its C parser (llhttp) knows a fixed list of methods and answers any other one with its
    own 400 before a handler sees it; a Redfish service answers 405 (DSP0266 "HTTP methods"; the
    DMTF Redfish Protocol Validator sends ``FAKEMETHODFORTEST``). The Python parser accepts every
    RFC 9110 token, so ``handle`` can answer 405 with an Allow header like iDRAC and iLO do."""
    from aiohttp import web, web_protocol
    from aiohttp.http_parser import HttpRequestParserPy

    class AnyMethodHandler(web_protocol.RequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._parser = HttpRequestParserPy(
                self, self._loop, self._read_bufsize, max_line_size=self.max_line_size,
                max_field_size=self.max_field_size, max_headers=self.max_headers,
                payload_exception=web_protocol.RequestPayloadError)

    class AnyMethodServer(web.Server):
        def __call__(self) -> web_protocol.RequestHandler:
            return AnyMethodHandler(self, loop=self._loop, **self._kwargs)

    return AnyMethodServer(handler, access_log=None, keepalive_timeout=75.0)


_LOG_PATHS: dict[str, str] = {}


def _log_path(request: web.BaseRequest) -> str:
    """The path a request is logged under, interned (the log holds many copies of few paths).
    Remembered by the raw target it is a function of: a fleet asks for the same few hundred
    paths over and over (the memo is emptied when it grows past 65,536 of them)."""
    raw = request.raw_path
    found = _LOG_PATHS.get(raw)
    if found is None:
        import sys

        path = request.path if not request.query_string else f"{request.path}?{request.query_string}"
        found = sys.intern(quote(path, safe="/$?=&.()*~:,-_"))
        if len(_LOG_PATHS) >= 65_536:
            _LOG_PATHS.clear()
        _LOG_PATHS[raw] = found
    return found
