"""The asyncio Redfish read path for many BMCs, round after round (docs/bmc.md, "Fleet reader").

The parsing is the sync path's (``read.read_observation`` / ``read.read_health``, sans-I/O,
driven by ``run_async``); this module is only the transport and what is worth keeping per BMC
between rounds. Patrol keeps one ``RedfishFleet`` for its whole life; ``aio.observe_many`` (assets,
``bmc`` commands, tests) makes one per call and closes it at the end.

Shared by the whole fleet: one HTTP/1.1 client (``wire.Client``: a kept-alive connection per BMC,
driven by the event loop's selector), one SSL context per (verify, CA bundle) -- building one costs
~20 ms of CPU --, orjson for decoding, and a semaphore capping the requests in flight. No
per-request timer: the visit's deadline (``asyncio.timeout``) bounds every request of a BMC, and
one timer per request costs CPU at fleet scale (connecting has its own).

Kept per BMC between visits (in memory; rebuilt after a restart):

* the session (X-Auth-Token), logged in once and reused; a 401 logs in again once. A BMC without
  a SessionService, or whose sessions are all taken (``SessionLimitExceeded``), is read with basic
  auth. The login runs as its own task with the read timeout: when a visit's deadline passes
  mid-login, the login still completes (or times out) and the session it made is remembered, so
  it is reused or deleted, never leaked. Before logging in again, the old session is deleted: a
  BMC with few sessions (4 on some Supermicro) would otherwise lock us out.
* the structural documents that do not change between inventory rounds (service root, the
  Systems/Chassis/Managers/LogServices collections, the Manager, the LogService), and each
  resource's type, so that the next visit asks for a Chassis with ``$expand`` (its Thermal and
  Power come inline) and for live collections with ``$expand``;
* the log position: entries are read from the last record on (``$skip`` past the count already
  seen when the BMC lists oldest first; the first page when it lists newest first), never the
  whole log again. A caller that persists it passes it back (``LogPosition``).

One request in flight per BMC (a BMC is slow and fragile; parallel requests to one BMC only queue
or break it): a visit holds the BMC's lock. ``close`` waits for logins still running and deletes
every session.

Quirk (generic): some BMCs reject ``$expand`` (501/400) although their service root claims it:
the first refusal turns it off for that BMC.

``$select``: where the service root advertises SelectQuery, the expanded part collections of the
inventory (memory, processors, drives, firmware inventory) are asked for with only the member
properties the parser reads (``select.py``: the query, the guard, the vendors that refuse it).
The first selected answer of a BMC is checked against one member read in full; a refusal or a
failed check turns ``$select`` off for that BMC (``BmcState.select``, as ``expand`` is kept).

A Storage's drives: read inline with the Storage (``$expand``) where the service advertises it,
one GET for all of them instead of one each (``inline.py``; ``BmcState.drives`` keeps whether the
BMC does it faithfully: a refusal, an answer without them inline or a failed check turns it off).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import ssl
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from dcops.bmc.redfish import newest
from dcops.bmc.redfish.bodies import session_body
from dcops.bmc.redfish.connector import retry_after
from dcops.bmc.redfish.docs import (
    Doc,
    FetchError,
    error_reason,
    expand_supported,
    is_error_body,
    most_severe_message,
    normalize,
    run_async,
)
from dcops.bmc.redfish.inline import InlineDrives
from dcops.bmc.redfish.jsonbody import MAX_BODY, decode
from dcops.bmc.redfish.keys import (
    AUTH_TOKEN,
    EXPAND_ONE_LEVEL,
    EXPAND_SEGMENTS,
    EXPAND_SELF_TYPES,
    EXPAND_TYPES,
    LINKS,
    LOG_ENTRIES_TYPE,
    MEMBERS,
    MEMBERS_COUNT,
    NEXT_LINK,
    ODATA_ID,
    ODATA_TYPE,
    ROOT,
    SECTIONS,
    SERVICE_ROOT_TYPE,
    SESSION_LIMIT,
    SESSIONS,
    STATIC_TYPES,
)
from dcops.bmc.redfish.options import may_blame_option
from dcops.bmc.redfish.read import read_health, read_observation
from dcops.bmc.redfish.select import (
    first_inline,
    member_fields,
    mismatch,
    select_query,
    select_supported,
    usable,
)
from dcops.bmc.redfish.share import DocPool
from dcops.bmc.redfish.wire import BodyTooLarge, Client, Disconnected, WireError, client_context
from dcops.bmc.visit import LogPosition, Visit, record_order
from dcops.errors import UnreachableError
from dcops.models import Host
from dcops.observation import Health, Observation
from dcops.secrets import Secret, redact, remember, resolve

ROOT_KEY = normalize(ROOT)
log = logging.getLogger(__name__)
# Retry a 503 once more when the visit allows it; what is read again after a busy answer.
BUSY = (429, 503)


@dataclass(frozen=True, slots=True)
class Target:
    """One BMC to read: name, base URL, credentials, TLS settings."""

    host: str
    url: str
    username: str
    password: Secret
    verify_tls: bool = True
    ca_bundle: str | None = None
    system: str | None = None  # the book's pin of the host system (bmc.system)

    @classmethod
    def of(cls, host: Host, password: Secret | None = None) -> Target:
        """The target of a book host (the password reference resolved unless given)."""
        secret = password if password is not None else \
            resolve(host.bmc.password_ref, what=f"{host.name}: BMC password")
        return cls(host.name, host.bmc.url(), host.bmc.username, secret, host.bmc.verify_tls, host.bmc.ca_bundle,
                   host.bmc.system)


class LoginRefused(UnreachableError):
    """The BMC answered the login and said no (bad credentials, locked account)."""


@dataclass(slots=True)
class BmcState:
    """What the reader keeps about one BMC between visits (slots: one per BMC of the fleet)."""

    target: Target
    headers: dict[str, str] = field(default_factory=lambda: {"Accept": "application/json"})
    session_uri: str | None = None
    logged_in: bool = False
    login: asyncio.Task[None] | None = None  # the login in flight (it may outlive a visit); None once done
    static: dict[str, Doc] = field(default_factory=dict)  # shared with other BMCs' where equal (share.py)
    types: dict[str, str] = field(default_factory=dict)
    expand: bool | None = None  # None: not known yet (service root not read)
    # $expand on a resource (a Chassis, for its Thermal and Power inline) apart from collections:
    # Dell iDRAC9 fails a Chassis' $expand (404, or 500 for a sub-resource's license) and serves a
    # collection's (options.py); one failing must not cost the other.
    expand_resources: bool = True
    select: bool | None = None  # $select: None not checked yet, True found faithful, False never again
    drives: InlineDrives = field(default_factory=InlineDrives)  # a Storage's drives inline ($expand), inline.py
    # A newest-first log looked at with $top=1 (_entries): None not checked yet, True found to
    # give the first page's first entry, False never again (refused, ignored, or another entry).
    top: bool | None = None
    log: LogPosition = field(default_factory=LogPosition)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def doc_type(doc: Doc) -> str:
    """``#Chassis.v1_25_0.Chassis`` -> ``Chassis``; ``#ChassisCollection.ChassisCollection`` -> the same."""
    raw = str(doc.get(ODATA_TYPE) or "")
    return sys.intern(raw.lstrip("#").split(".", 1)[0])  # kept per path and BMC: one string per type



class RedfishFleet:
    """Reads many BMCs, visit after visit, with shared transport and per-BMC state.

    ``concurrency``: requests in flight fleet-wide. ``read_timeout``: bounds a login and a logout
    (the GETs are bounded by the visit's deadline). ``retries``: re-sends of a request answered
    503/429 (after ``Retry-After``, at most ``max_pause`` seconds) or dropped on a kept-alive
    connection. ``log_limit``: newest log entries read on a first look at a log. ``select``: use
    ``$select`` where the service advertises it (False: never; for comparisons). ``inline``: read a
    Storage's drives inline with ``$expand`` where the service advertises it (inline.py; False:
    one by one; for comparisons)."""

    def __init__(self, *, concurrency: int = 400, read_timeout: float = 15.0, retries: int = 1,
                 log_limit: int = 50, keepalive: float = 120.0, max_pause: float = 1.0,
                 max_body: int = MAX_BODY, select: bool = True, inline: bool = True) -> None:
        self.concurrency = concurrency
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.retries = retries
        self.log_limit = log_limit
        self.keepalive = keepalive
        self.max_pause = max_pause
        self.bmcs: dict[str, BmcState] = {}
        self.select = select
        self.inline = inline
        self._http: Client | None = None
        self._cap: asyncio.Semaphore | None = None
        self._ssl: dict[tuple[bool, str | None], ssl.SSLContext] = {}
        self._logins: set[asyncio.Task[None]] = set()
        self._docs = DocPool()  # the kept structural documents, identical parts shared between BMCs
        self.trace: dict[str, list[str]] | None = None  # host -> paths GET in its last visit (benchmarks)

    # ------------------------------------------------------------------ lifecycle
    def _session(self) -> Client:
        if self._http is None or self._http.closed:
            # Connect timeout 10 s (TCP and TLS handshake); never a proxy (wire.py reads no environment).
            self._http = Client(max_body=self.max_body, keepalive=self.keepalive)
            self._cap = asyncio.Semaphore(self.concurrency)
        return self._http

    def ssl_for(self, target: Target) -> ssl.SSLContext | None:
        """One SSL context per (verify, CA bundle), never one per BMC; None for plain http."""
        if not target.url.startswith("https"):
            return None
        key = (target.verify_tls, target.ca_bundle if target.verify_tls else None)
        ctx = self._ssl.get(key)
        if ctx is None:
            ctx = self._ssl[key] = client_context(target.verify_tls, target.ca_bundle)
        return ctx

    def state(self, target: Target, log: LogPosition | None = None) -> BmcState:
        """The kept state of ``target`` (new when its URL or user changed)."""
        bmc = self.bmcs.get(target.host)
        if bmc is None or bmc.target.url != target.url or bmc.target.username != target.username:
            bmc = self.bmcs[target.host] = BmcState(target, drives=InlineDrives(target.host))
            bmc.log = (log or LogPosition()).of("redfish")
        else:
            bmc.target = target
        return bmc

    async def close(self, deadline: float | None = None) -> None:
        """Wait for logins still running, delete every session (all bounded by ``deadline``,
        default the read timeout + 5 s) and close the transport."""
        if self._http is None:
            return
        limit = deadline if deadline is not None else self.read_timeout + 5.0
        end = time.monotonic() + limit

        async def logout_ready() -> None:
            ready = [b for b in self.bmcs.values() if b.session_uri]
            if not ready:
                return
            try:
                async with asyncio.timeout(max(0.5, end - time.monotonic())):
                    await asyncio.gather(*(self._logout(b) for b in ready), return_exceptions=True)
            except TimeoutError:
                pass

        # Log out what is open now, then each late login as it lands: a BMC that never answers
        # its login must not hold back the logout of a slow one whose session did arrive (seen
        # in tests: a hung BMC kept the close waiting until a slow BMC's DELETE no longer fit).
        await logout_ready()
        while self._logins and time.monotonic() < end:
            await asyncio.wait(set(self._logins), timeout=end - time.monotonic(),
                               return_when=asyncio.FIRST_COMPLETED)
            await logout_ready()
        for task in list(self._logins):
            task.cancel()
        if self._logins:
            await asyncio.wait(set(self._logins), timeout=1.0)
        self._http.close()
        self._http = None

    async def forget(self, hosts: Iterable[str]) -> None:
        """Log out of these BMCs and drop what is kept for them: they are someone else's to read
        now (another patrol worker's shard). BMCs have few sessions (HPE iLO and some Supermicro 4,
        iDRAC 8): a session kept for a BMC we no longer read could cost its new reader a login."""
        gone = [b for b in (self.bmcs.pop(h, None) for h in hosts) if b is not None]
        ready = [b for b in gone if b.session_uri]
        if ready and self._http is not None:
            await asyncio.gather(*(self._logout(b) for b in ready), return_exceptions=True)
        if self._http is not None:
            for bmc in gone:  # and its kept connection (unless another host reads the same URL)
                if not any(b.target.url == bmc.target.url for b in self.bmcs.values()):
                    self._http.drop(bmc.target.url)

    # ------------------------------------------------------------------ transport
    async def _send(self, bmc: BmcState, method: str, path: str, body: Any = None) -> tuple[int, Any, Any, str | None]:
        """One request: (status, headers, decoded body, what is wrong with the body or None)."""
        http = self._session()
        assert self._cap is not None
        target = bmc.target
        data = orjson.dumps(body) if body is not None else None
        headers = bmc.headers if data is None else dict(bmc.headers, **{"Content-Type": "application/json"})
        for attempt in range(self.retries + 1):
            async with self._cap:
                try:
                    resp = await http.request(target.url, method, path, headers, data, self.ssl_for(target))
                except BodyTooLarge:
                    raise UnreachableError(f"{target.host}: {method} {path}: the answer is larger than "
                                           f"{self.max_body // (1024 * 1024)} MB (refused)") from None
                except (WireError, TimeoutError, OSError) as exc:
                    # A kept-alive connection the BMC dropped between rounds: retry once on a new one.
                    if attempt < self.retries and isinstance(exc, Disconnected):
                        continue
                    raise UnreachableError(f"{target.host}: {method} {path}: {_reason(exc)}") from None
            status, resp_headers = resp.status, resp.headers
            parsed, problem = decode(resp.body)
            # Busy: wait and ask again. Not out of sessions: the login falls back to basic auth.
            if status in BUSY and attempt < self.retries and SESSION_LIMIT not in str(parsed):
                pause = retry_after(resp_headers.get("Retry-After"), 0.5 * 2 ** attempt)
                await asyncio.sleep(min(pause, self.max_pause))
                continue
            return status, resp_headers, parsed, problem
        return status, resp_headers, parsed, problem

    async def _ensure_login(self, bmc: BmcState, counter: list[int]) -> None:
        """Log in unless logged in; the login is a task of its own that a visit's deadline does
        not cancel (its session is remembered when it answers late)."""
        if bmc.logged_in:
            return
        task = bmc.login
        if task is None or task.done():
            counter[0] += 2 if bmc.session_uri else 1
            task = bmc.login = asyncio.ensure_future(self._login(bmc))
            self._logins.add(task)
            task.add_done_callback(_forget(self._logins, bmc))
        await asyncio.shield(task)

    async def _login(self, bmc: BmcState) -> None:
        target = bmc.target
        async with asyncio.timeout(self.read_timeout):
            if bmc.session_uri:
                # A session of an earlier login (a visit cut short, a 401): delete it first.
                await self._logout(bmc)
            bmc.headers.pop(AUTH_TOKEN, None)
            bmc.headers.pop("Authorization", None)
            status, headers, parsed, _ = await self._send(
                bmc, "POST", SESSIONS, session_body(target.username, target.password.reveal()))
        token = headers.get(AUTH_TOKEN) if headers is not None else None
        if status in (200, 201, 204) and token:
            bmc.headers[AUTH_TOKEN] = token
            location = headers.get("Location") or (parsed or {}).get(ODATA_ID) or ""
            path = location.split("://", 1)[-1].partition("/")[2] if "://" in location else location.lstrip("/")
            bmc.session_uri = "/" + path if path else None
        elif status in (404, 405, 501) or (status in (400, 429, 503) and SESSION_LIMIT in str(parsed)):
            # No session service, or its sessions are all taken (by others, or leaked by a BMC
            # that never expired them): read with basic auth, which most BMCs also accept.
            self._basic(bmc)
        elif status == 401 and "basic" in str((headers or {}).get("WWW-Authenticate") or "").lower():
            # Quirk (sushy-tools 2.x with SUSHY_EMULATOR_AUTH_FILE, the emulator Ironic's CI uses):
            # the whole service sits behind basic auth, the session POST included, so the login
            # answers 401 with a Basic challenge whatever the credentials. DSP0266 leaves the
            # session POST unauthenticated; a service that challenges it is read with basic auth,
            # and one authenticated GET says whether the credentials are right (one more failed
            # attempt at a BMC only when they are wrong and it also challenges).
            self._basic(bmc)
            async with asyncio.timeout(self.read_timeout):
                check, _, checked, _ = await self._send(bmc, "GET", SESSIONS)
            if check == 401:
                bmc.headers.pop("Authorization", None)
                raise LoginRefused(redact(f"{target.host}: login refused: {most_severe_message(checked) or check}"))
        else:
            raise LoginRefused(redact(f"{target.host}: login refused: {most_severe_message(parsed) or status}"))
        bmc.logged_in = True

    def _basic(self, bmc: BmcState) -> None:
        target = bmc.target
        basic = base64.b64encode(f"{target.username}:{target.password.reveal()}".encode()).decode()
        remember(basic)  # the password in another spelling
        bmc.headers["Authorization"] = f"Basic {basic}"

    async def _logout(self, bmc: BmcState) -> None:
        """DELETE the session, retrying a busy BMC (503/429) within 5 s: a logout lost to one 503
        is a session left until it times out, and some BMCs have only 4."""
        uri, bmc.session_uri = bmc.session_uri, None
        bmc.logged_in = False
        if not uri or self._http is None:
            return
        end = time.monotonic() + 5.0
        for attempt in range(4):
            try:
                async with asyncio.timeout(max(0.5, end - time.monotonic())):
                    resp = await self._http.request(bmc.target.url, "DELETE", uri, bmc.headers, None,
                                                    self.ssl_for(bmc.target))
                status, wait = resp.status, retry_after(resp.headers.get("Retry-After"), 0.2 * (attempt + 1))
            except Disconnected:
                continue  # a kept connection the BMC dropped while idle: again on a new one
            except (WireError, TimeoutError, OSError):
                return
            if status not in (429, 500, 502, 503, 504) or time.monotonic() >= end:
                return
            await asyncio.sleep(min(wait, 1.0, max(0.0, end - time.monotonic())))

    async def _get(self, bmc: BmcState, path: str, counter: list[int]) -> Doc:
        await self._ensure_login(bmc, counter)
        counter[0] += 1
        counter[1] += 1
        if self.trace is not None:
            self.trace.setdefault(bmc.target.host, []).append(path)
        status, _, parsed, problem = await self._send(bmc, "GET", path)
        if status == 401:
            # The BMC expired our session (timeout, BMC reboot): log in again once.
            bmc.logged_in, bmc.session_uri = False, None
            await self._ensure_login(bmc, counter)
            counter[0] += 1
            status, _, parsed, problem = await self._send(bmc, "GET", path)
        if status != 200 or not isinstance(parsed, dict):
            message = most_severe_message(parsed)
            reason = f"HTTP {status}" + (f": {message}" if message else "")
            if status == 200:  # the answer came and is not a Redfish document: say why, not "HTTP 200"
                reason = problem or ("empty body" if parsed is None else "not a JSON object")
            raise FetchError(path, reason, status)
        return parsed

    # ------------------------------------------------------------------ the read
    def _fetcher(self, bmc: BmcState, counter: list[int], memo: dict[str, Doc],
                 root_status: list[int | None], by_name: bool = True) -> Callable[[str], Any]:
        async def fetch(path: str) -> Doc:
            key = normalize(path)
            try:
                return await self._fetch(bmc, path, key, counter, memo, by_name)
            except FetchError as exc:
                if key == ROOT_KEY:
                    root_status[0] = exc.status
                raise

        return fetch

    async def _fetch(self, bmc: BmcState, path: str, key: str, counter: list[int], memo: dict[str, Doc],
                     by_name: bool = True) -> Doc:
        if "?" in path:
            # A query the parser asked for ($expand, $skip): as asked, never cached across visits.
            doc = await self._get(bmc, path, counter)
            return self._only_new(bmc, doc, keep_count=True) if doc_type(doc) == LOG_ENTRIES_TYPE else doc
        if key in bmc.static:
            return bmc.static[key]
        if key in memo:
            return memo[key]
        kind = bmc.types.get(key)
        if kind is None and bmc.expand and by_name:
            kind = EXPAND_SEGMENTS.get(key.rsplit("/", 1)[-1])  # a first visit: expand by the link's name
        if kind == LOG_ENTRIES_TYPE:
            doc = await self._entries(bmc, path, counter)
        elif bmc.expand and (kind in EXPAND_TYPES or (kind in EXPAND_SELF_TYPES and bmc.expand_resources)):
            selected = await self._selected(bmc, path, kind, counter)
            doc = selected if selected is not None \
                else await self._expanded(bmc, path, counter, resource=kind in EXPAND_SELF_TYPES)
            if key not in bmc.types:  # guessed from the name: remember what it really is
                kind = bmc.types[sys.intern(key)] = doc_type(doc)
        else:
            doc = await self._get(bmc, path, counter)
            kind = bmc.types[sys.intern(key)] = doc_type(doc)
            if kind == SERVICE_ROOT_TYPE:
                # Read again on each inventory visit (refresh): a $expand turned off after a
                # failure that was passing (a busy BMC's 500) is tried again then, not never.
                bmc.expand, bmc.expand_resources = expand_supported(doc), True
            if kind == LOG_ENTRIES_TYPE:
                doc = self._first_entries(bmc, doc)
        if kind in STATIC_TYPES:
            doc = bmc.static[key] = self._docs.share(doc)
        memo[key] = doc
        if kind in EXPAND_SELF_TYPES:
            _harvest(doc, memo)
        return doc

    async def _expanded(self, bmc: BmcState, path: str, counter: list[int], *, resource: bool) -> Doc:
        """``path`` with ``$expand=.($levels=1)``; when that fails in a way the option may be to
        blame (options.py), ``path`` asked plainly decides: a document convicts ``$expand``, which
        this BMC is not asked again -- of resources (``resource``: Dell iDRAC9 fails a Chassis'
        with a 404 or a license 500) or of collections -- and a failure is the resource's, and
        ``$expand`` stays."""
        expanded, why = await self._with_option(bmc, f"{path}?{EXPAND_ONE_LEVEL}", counter)
        if expanded is not None:
            if not is_error_body(expanded):
                return expanded
            why = f"an error body ({error_reason(expanded)})"
        doc = await self._get(bmc, path, counter)  # fails as the resource fails: reported as such
        if not is_error_body(doc):
            if resource:
                bmc.expand_resources = False
            else:
                bmc.expand = False
            log.info("%s: $expand of %s turned off for this BMC: %s answered %s with it and a document without it",
                     bmc.target.host, "resources" if resource else "collections", path, why)
        return doc

    async def _with_option(self, bmc: BmcState, path: str, counter: list[int]) -> tuple[Doc | None, str]:
        """GET ``path``, which carries a query option: (document, ""), or (None, why) when it failed
        in a way the option may be to blame (options.py); any other failure raises."""
        try:
            return await self._get(bmc, path, counter), ""
        except FetchError as exc:
            if not may_blame_option(exc.status):
                raise
            return None, exc.reason

    async def _selected(self, bmc: BmcState, path: str, kind: str | None, counter: list[int]) -> Doc | None:
        """The collection expanded with only the member properties the parser reads, where the
        service advertises ``$select`` and has not failed it; None: ask without ``$select``.
        The first selected answer of a BMC is checked against one of its members read in full
        (``select.mismatch``): a service that drops or alters what it was asked for is caught
        before a part's health or serial goes missing, and is not asked with $select again."""
        fields = member_fields(kind)
        if not self.select or fields is None or bmc.select is False \
                or not select_supported(bmc.static.get(ROOT_KEY)):
            return None
        doc, why = await self._with_option(bmc, f"{path}?{EXPAND_ONE_LEVEL}&{select_query(fields)}", counter)
        if doc is None:
            # Then asked with $expand alone (_expanded), and plainly if that fails too.
            self._no_select(bmc, f"{path}: refused ({why})")
            return None
        problem = usable(doc)
        if problem is not None:
            self._no_select(bmc, f"{path}: unusable answer ({problem})")
            return None
        if bmc.select is None:
            member = first_inline(doc)
            if member is not None:
                try:
                    full = await self._get(bmc, str(member[ODATA_ID]), counter)
                except FetchError:
                    full = None  # cannot be checked: not trusted either
                wrong = "unreadable" if full is None else mismatch(member, full, fields)
                if wrong is not None:
                    self._no_select(bmc, f"{member[ODATA_ID]}: {wrong} differs from the full document")
                    return None
                bmc.select = True
        return doc

    def _no_select(self, bmc: BmcState, why: str) -> None:
        bmc.select = False
        log.info("%s: $select turned off for this BMC: %s", bmc.target.host, why)

    def _first_entries(self, bmc: BmcState, doc: Doc) -> Doc:
        """The first look at a log: learn its order and size. The parser reads the newest page
        itself when the first one is not it (``read._logs``), so the count stays."""
        members = [m for m in doc.get(MEMBERS) or [] if isinstance(m, dict)]
        ids = [newest.entry_id(m) for m in members]
        count = doc.get(MEMBERS_COUNT)
        order = "desc" if len(ids) > 1 and record_order(ids[0]) > record_order(ids[-1]) else "asc"
        bmc.log = LogPosition(bmc.log.cursor, count if isinstance(count, int) else None, order, "redfish")
        return self._only_new(bmc, doc, keep_count=True)

    async def _entries(self, bmc: BmcState, path: str, counter: list[int]) -> Doc:
        """The entries added since the last visit: ``$skip`` past the count seen when the log
        lists oldest first, the first page (the newest entries) when it lists newest first --
        after a look at its newest entry alone (``_newest``) says there is something new."""
        pos = bmc.log
        if pos.order == "asc" and pos.count is not None:
            doc = await self._get(bmc, f"{path}?$skip={pos.count}", counter)
        else:
            quiet = unchecked = None
            if pos.order == "desc" and pos.count is not None and pos.cursor is not None and bmc.top is not False:
                quiet, unchecked = await self._newest(bmc, path, counter)
                if quiet is not None:
                    return quiet
            doc = await self._get(bmc, path, counter)
            if unchecked is not None:
                self._check_top(bmc, unchecked, doc)
        count = doc.get(MEMBERS_COUNT)
        if isinstance(count, int) and pos.count is not None and count < pos.count:
            # The log was cleared: ids start again. Read its newest page, all of it new.
            if pos.order == "asc":
                doc = await self._get(bmc, f"{path}?$skip={max(0, count - self.log_limit)}", counter)
            bmc.log = LogPosition("0", count, pos.order, "redfish")
        if isinstance(count, int):
            bmc.log.count = count
        return self._only_new(bmc, doc, keep_count=False)

    async def _newest(self, bmc: BmcState, path: str, counter: list[int]) -> tuple[Doc | None, Doc | None]:
        """A newest-first log looked at with ``$top=1`` (newest.py): the answer for "nothing new"
        when its newest entry and count say so, else None and the first page is read. Until one
        answer of this BMC has matched that page's first entry it is returned second, to be
        checked against the page read anyway (``newest.mismatch``)."""
        head, why = await self._with_option(bmc, f"{path}?$top=1", counter)
        if head is None:
            self._no_top(bmc, f"refused ({why})")
            return None, None
        if bmc.top is None:
            return None, head
        useless = newest.unusable(head)
        if useless is not None:
            self._no_top(bmc, useless)
            return None, None
        return newest.nothing_new(head, bmc.log), None

    def _check_top(self, bmc: BmcState, head: Doc, page: Doc) -> None:
        why = newest.mismatch(head, page)
        if why is None:
            bmc.top = True
        elif why:
            self._no_top(bmc, why)

    def _no_top(self, bmc: BmcState, why: str) -> None:
        bmc.top = False
        log.info("%s: $top=1 on the newest-first log turned off for this BMC: %s", bmc.target.host, why)

    def _only_new(self, bmc: BmcState, doc: Doc, *, keep_count: bool) -> Doc:
        """Entries after the cursor only (all of them before the first cursor)."""
        members = [m for m in doc.get(MEMBERS) or [] if isinstance(m, dict)]
        cursor = bmc.log.cursor
        if cursor is not None:
            floor = record_order(cursor)
            members = [m for m in members if record_order(newest.entry_id(m)) > floor]
        out = {k: v for k, v in doc.items() if k != NEXT_LINK and (keep_count or k != MEMBERS_COUNT)}
        out[MEMBERS] = members
        return out

    async def visit(self, target: Target, *, sections: Iterable[str] = SECTIONS, health: bool = False,
                    drill: bool = True, expand: bool | None = None, deadline: float = 20.0,
                    log: LogPosition | None = None, refresh: bool = False,
                    on_document: Callable[[str, Doc], None] | None = None) -> Visit:
        """Read one BMC within ``deadline`` seconds (counted from now); never raises for a BMC's
        failure (a Visit with the error instead).

        ``sections``: what ``read_observation`` reads (power and rollups always); ``drill``: then
        the parts when the system rollup is not OK. ``health``: the cheap ``read_health`` instead
        (it drills by itself). ``expand``: True, the parser asks for collections with ``$expand`` on
        this visit already (a one-off read); None (the patrol), the fleet asks for part collections
        with ``$expand`` by the name they are linked under from the first visit, and by their learnt
        type from the second; False, no collection is expanded before its type was learnt (reads
        member by member on a first visit, as a caller comparing both ways wants). ``refresh``:
        forget the cached structure first (inventory rounds). ``on_document(path, doc)`` sees every
        document the parser reads."""
        bmc = self.state(target, log)
        started = time.monotonic()
        counter = [0, 0]  # requests (login included), GETs
        root_status: list[int | None] = [None]
        if refresh:
            bmc.static.clear()
        if self.trace is not None:
            self.trace[target.host] = []
        wanted = tuple(sections)
        reads_log = "logs" in wanted and self.log_limit > 0 and not health
        baseline = bmc.log.cursor is None and reads_log
        async with bmc.lock:  # one visit (and one request) at a time per BMC
            # The log position moves while the log is read (its count, its order); a visit that
            # fails after that returns no entries, so it must not move: the next visit would
            # $skip past entries nobody saw (a fault lost to a visit cut short by its deadline).
            before = bmc.log.copy()
            try:
                try:
                    async with asyncio.timeout(deadline):
                        fetch = self._fetcher(bmc, counter, {}, root_status, by_name=expand is not False)
                        if on_document is not None:
                            fetch = _tapped(fetch, on_document)
                        obs, drilled = await self._read(target.host, fetch, wanted, health, drill, bool(expand),
                                                        target.system,
                                                        bmc.drives if self.inline and bmc.expand is not False else None)
                except BaseException:
                    # Any failure, the round's cancellation included (missed: its log is read
                    # again next round): the position stays where it was.
                    bmc.log = before
                    raise
            except TimeoutError:
                return Visit(target.host, None, f"{target.host}: no complete answer within {deadline:g}s",
                             time.monotonic() - started, counter[0], no_redfish=True, timed_out=True)
            except LoginRefused as exc:
                return Visit(target.host, None, redact(str(exc)), time.monotonic() - started, counter[0])
            except UnreachableError as exc:
                bmc.logged_in = False  # a BMC that dropped off may have rebooted: log in afresh
                return Visit(target.host, None, redact(str(exc)), time.monotonic() - started, counter[0],
                             no_redfish=True)
            except FetchError as exc:
                absent = root_status[0] in (None, 404, 405, 501) and exc.path == ROOT
                return Visit(target.host, None, redact(f"{target.host}: {exc}"), time.monotonic() - started,
                             counter[0], no_redfish=absent)
        cursor: dict[str, Any] = {}
        if reads_log:
            if obs.log_entries:
                bmc.log.cursor = max([e.id for e in obs.log_entries] + [bmc.log.cursor or "0"], key=record_order)
            elif bmc.log.cursor is None:
                bmc.log.cursor = "0"
            cursor["log_cursor"] = bmc.log.cursor
        # One replace, not two: ~11 us each on an Observation, a visit's biggest fixed cost here.
        obs = dataclasses.replace(obs, requests=counter[1], duration_seconds=round(time.monotonic() - started, 6),
                                  **cursor)
        return Visit(target.host, obs, None, time.monotonic() - started, counter[0], drilled,
                     bmc.log.copy() if reads_log else None, baseline)

    async def _read(self, host: str, fetch: Callable[[str], Any], wanted: tuple[str, ...], health: bool,
                    drill: bool, expand: bool, system: str | None = None,
                    inline: InlineDrives | None = None) -> tuple[Observation, bool]:
        if health:
            return await run_async(read_health(host, expand=expand, drill=drill, system=system), fetch), False
        obs = await run_async(read_observation(host, sections=wanted, log_limit=self.log_limit, expand=expand,
                                               system=system, inline=inline), fetch)
        if drill and "components" not in wanted and obs.identity.health in (Health.WARNING, Health.CRITICAL):
            parts = await run_async(read_observation(host, sections=("components",), log_limit=0, expand=expand,
                                                     system=system, inline=inline), fetch)
            obs = dataclasses.replace(obs, components=parts.components,
                                      conditions=tuple(dict.fromkeys(obs.conditions + parts.conditions)),
                                      redundancy=obs.redundancy or parts.redundancy,
                                      errors=obs.errors + parts.errors)
            return obs, True
        return obs, False


def reserve_open_files(bmcs: int, spare: int = 1024) -> tuple[int, int]:
    """Raise this process's soft open-files limit towards what a fleet of ``bmcs`` needs (one
    kept-alive connection each, plus ``spare``), never past the hard limit. Returns (the limit now,
    what is needed): a service manager's default soft limit (1,024 under systemd) would make
    connections fail with "Too many open files" from the 1,000th BMC on."""
    import resource

    needed = bmcs + spare
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return (needed if soft == resource.RLIM_INFINITY else soft), needed


def _forget(tasks: set[asyncio.Task[None]], bmc: BmcState) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if bmc.login is task:  # a finished task (its coroutine, context) is ~1 KB a BMC kept for nothing
            bmc.login = None
        if not task.cancelled():
            task.exception()  # retrieved: a failed login is reported by the visit that awaited it

    return done


def _tapped(fetch: Callable[[str], Any], on_document: Callable[[str, Doc], None]) -> Callable[[str], Any]:
    async def tapped(path: str) -> Doc:
        doc: Doc = await fetch(path)
        on_document(path, doc)
        return doc

    return tapped


def _harvest(doc: Doc, memo: dict[str, Doc]) -> None:
    """Remember the sub-resources an expanded document carries inline (not collections whose
    members are bare links: those are read again with $expand)."""
    for key, value in doc.items():
        if key == LINKS or not isinstance(value, dict) or len(value) < 2:
            continue
        uri = value.get(ODATA_ID)
        if not isinstance(uri, str) or "#" in uri:
            continue
        members = value.get(MEMBERS)
        if isinstance(members, list) and any(isinstance(m, dict) and len(m) == 1 for m in members):
            continue
        memo.setdefault(normalize(uri), value)


def _reason(exc: BaseException) -> str:
    """A short reason for a transport failure (wire.py's texts name no address and no secret)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, WireError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
