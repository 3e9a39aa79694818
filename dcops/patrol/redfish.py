"""Patrol's Redfish reader: the BMC layer's parser (``resources.read_observation``, sans-I/O)
driven over long-lived per-BMC state, so that a healthy BMC costs about five GETs a minute.

What is kept per BMC between rounds (in memory; rebuilt after a restart):

* the session (X-Auth-Token), logged in once and reused; a 401 logs in again once. Sessions are
  deleted when the reader closes (``dcops serve`` stopping, ``dcops patrol run`` ending).
* the structural documents that do not change between inventory rounds (service root, the
  Systems/Chassis/Managers/LogServices collections, the Manager, the LogService): served from
  cache, so a minute round GETs only the System, Chassis, Thermal/Power (or the Sensors collection
  with ``$expand``) and the new log entries;
* the log position: entries are read from the last record on (``$skip`` past the count already
  seen when the BMC lists oldest first; the newest page when it lists newest first), never the
  whole log again. The position is persisted by the engine (``LogPosition``).

One aiohttp session, one TCP connector and one SSL context serve the whole fleet; connections
stay open between rounds (keep-alive longer than the round interval), so a steady round does no
TLS handshakes. One request is in flight per BMC; a semaphore caps requests fleet-wide.

Quirk (generic): some BMCs reject ``$expand`` (501/400) although their service root claims it:
the first refusal turns it off for that BMC.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from dcops.bmc.redfish.resources import (
    MEMBERS,
    NEXT_LINK,
    ODATA_ID,
    ROOT,
    Doc,
    FetchError,
    most_severe_message,
    normalize,
    read_observation,
    run_async,
)
from dcops.errors import UnreachableError
from dcops.observation import Observation
from dcops.secrets import Secret, redact

# Documents whose content does not change between inventory rounds.
STATIC_TYPES = frozenset({
    "ServiceRoot", "Manager", "LogService", "UpdateService", "ComputerSystemCollection", "ChassisCollection",
    "ManagerCollection", "LogServiceCollection",
})
# Collections whose members carry live health: asked for with $expand where the BMC supports it.
EXPAND_TYPES = frozenset({
    "SensorCollection", "ProcessorCollection", "MemoryCollection", "DriveCollection", "FanCollection",
    "PowerSupplyCollection", "VolumeCollection", "NetworkAdapterCollection", "StorageCollection",
    "SoftwareInventoryCollection", "StorageControllerCollection",
})
EXPAND = "$expand=.($levels=1)"
# Resources read with $expand so that their live sub-resources come inline: a Chassis brings its
# Thermal and Power (or ThermalSubsystem/PowerSubsystem) in the same answer, three GETs in one.
EXPAND_SELF_TYPES = frozenset({"Chassis"})


def doc_type(doc: Doc) -> str:
    """``#Chassis.v1_25_0.Chassis`` -> ``Chassis``; ``#ChassisCollection.ChassisCollection`` -> the same."""
    raw = str(doc.get("@odata.type") or "")
    return raw.lstrip("#").split(".", 1)[0]


@dataclass
class LogPosition:
    """Where the log was left: the newest record id seen, how many records the BMC listed, and
    in which order it lists them. ``None`` cursor: never read (the first read only sets it)."""

    cursor: str | None = None
    count: int | None = None
    order: str | None = None  # asc | desc

    def to_text(self) -> str:
        return orjson.dumps({"id": self.cursor, "n": self.count, "o": self.order}).decode()

    @classmethod
    def from_text(cls, text: str | None) -> LogPosition:
        if not text:
            return cls()
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            return cls(cursor=text)  # a bare record id
        if not isinstance(data, dict):
            return cls()
        return cls(cursor=data.get("id"), count=data.get("n"), order=data.get("o"))


def _id_key(value: Any) -> tuple[int, str]:
    text = str(value)
    return (int(text), "") if text.isdigit() else (0, text)


@dataclass
class Credentials:
    host: str
    url: str
    username: str
    password: Secret
    verify_tls: bool = True
    ca_bundle: str | None = None


@dataclass
class BmcState:
    """What the reader keeps about one BMC between rounds."""

    creds: Credentials
    headers: dict[str, str] = field(default_factory=lambda: {"Accept": "application/json"})
    session_uri: str | None = None
    static: dict[str, Doc] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    expand: bool | None = None  # None: not known yet (service root not read)
    log: LogPosition = field(default_factory=LogPosition)
    logged_in: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Visit:
    """One BMC's answer in one round."""

    host: str
    observation: Observation | None
    error: str | None
    seconds: float
    requests: int = 0
    drilled: bool = False
    log: LogPosition | None = None  # where the log stands after this visit (persist it)
    baseline: bool = False  # the log was read for the first time: its entries are history, not news


class RedfishFleet:
    """Reads many BMCs, round after round, with shared transport and per-BMC state."""

    def __init__(self, *, concurrency: int = 400, read_timeout: float = 15.0, retries: int = 1,
                 log_limit: int = 50, keepalive: float = 120.0) -> None:
        self.concurrency = concurrency
        self.read_timeout = read_timeout
        self.retries = retries
        self.log_limit = log_limit
        self.keepalive = keepalive
        self.bmcs: dict[str, BmcState] = {}
        self._http: aiohttp.ClientSession | None = None
        self._cap: asyncio.Semaphore | None = None
        self._ssl: dict[tuple[bool, str | None], ssl.SSLContext | bool] = {}
        self.trace: dict[str, list[str]] | None = None  # host -> paths GET in its last visit (benchmarks)

    # ------------------------------------------------------------------ lifecycle
    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=0, ttl_dns_cache=3600,
                                             keepalive_timeout=self.keepalive, enable_cleanup_closed=False)
            # No per-request timer: the visit's deadline (asyncio.timeout) bounds every request of
            # a BMC, and one timer per request costs CPU at fleet scale. Connecting has its own.
            self._http = aiohttp.ClientSession(connector=connector, skip_auto_headers=("User-Agent",),
                                               timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
            self._cap = asyncio.Semaphore(self.concurrency)
        return self._http

    def ssl_for(self, creds: Credentials) -> ssl.SSLContext | bool:
        """One SSL context per (verify, CA bundle): building one costs ~20 ms of CPU, so never per BMC."""
        if not creds.url.startswith("https"):
            return False
        key = (creds.verify_tls, creds.ca_bundle if creds.verify_tls else None)
        ctx = self._ssl.get(key)
        if ctx is None:
            if not creds.verify_tls:
                ctx = False
            else:
                ctx = ssl.create_default_context(cafile=creds.ca_bundle) if creds.ca_bundle \
                    else ssl.create_default_context()
            self._ssl[key] = ctx
        return ctx

    def state(self, creds: Credentials, log: LogPosition | None = None) -> BmcState:
        bmc = self.bmcs.get(creds.host)
        if bmc is None or bmc.creds.url != creds.url or bmc.creds.username != creds.username:
            bmc = self.bmcs[creds.host] = BmcState(creds)
            if log is not None:
                bmc.log = log
        else:
            bmc.creds = creds
        return bmc

    async def close(self, deadline: float = 10.0) -> None:
        """Delete every session (bounded by ``deadline``) and close the transport."""
        if self._http is None:
            return
        try:
            async with asyncio.timeout(deadline):
                await asyncio.gather(*(self._logout(b) for b in self.bmcs.values() if b.session_uri),
                                     return_exceptions=True)
        except TimeoutError:
            pass
        await self._http.close()
        self._http = None

    # ------------------------------------------------------------------ transport
    async def _send(self, bmc: BmcState, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
        http = await self._session()
        assert self._cap is not None
        url = bmc.creds.url + path
        data = orjson.dumps(body) if body is not None else None
        headers = bmc.headers if data is None else dict(bmc.headers, **{"Content-Type": "application/json"})
        for attempt in range(self.retries + 1):
            async with self._cap:
                try:
                    async with http.request(method, url, data=data, headers=headers,
                                            ssl=self.ssl_for(bmc.creds)) as resp:
                        raw = await resp.read()
                        status, resp_headers = resp.status, resp.headers
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    # A dropped keep-alive connection looks like this too: retry once on a new one.
                    if attempt < self.retries and isinstance(exc, aiohttp.ServerDisconnectedError):
                        continue
                    raise UnreachableError(f"{bmc.creds.host}: {method} {path}: {_reason(exc)}") from None
            try:
                parsed = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                parsed = None
            if status in (429, 503) and attempt < self.retries:
                await asyncio.sleep(0.5)
                continue
            return status, resp_headers, parsed
        return status, resp_headers, parsed

    async def _login(self, bmc: BmcState) -> None:
        creds = bmc.creds
        if bmc.session_uri:
            # A visit cut short by its deadline may have left a session behind: delete it first,
            # or a BMC with a small session limit (4 on some Supermicro) locks us out.
            await self._logout(bmc)
        bmc.headers.pop("X-Auth-Token", None)
        bmc.headers.pop("Authorization", None)
        status, headers, parsed = await self._send(
            bmc, "POST", f"{ROOT}/SessionService/Sessions",
            {"UserName": creds.username, "Password": creds.password.reveal()})
        token = headers.get("X-Auth-Token") if headers is not None else None
        if status in (200, 201, 204) and token:
            bmc.headers["X-Auth-Token"] = token
            location = headers.get("Location") or (parsed or {}).get(ODATA_ID) or ""
            path = location.split("://", 1)[-1].partition("/")[2] if "://" in location else location.lstrip("/")
            bmc.session_uri = "/" + path if path else None
        elif status in (404, 405, 501) or (status in (400, 429, 503) and "SessionLimit" in str(parsed)):
            # No session service, or its sessions are all taken (by others, or leaked by a BMC
            # that never expired them): read with basic auth, which most BMCs also accept.
            basic = base64.b64encode(f"{creds.username}:{creds.password.reveal()}".encode()).decode()
            bmc.headers["Authorization"] = f"Basic {basic}"
        else:
            raise UnreachableError(redact(f"{creds.host}: login refused: {most_severe_message(parsed) or status}"))
        bmc.logged_in = True

    async def _logout(self, bmc: BmcState) -> None:
        uri, bmc.session_uri = bmc.session_uri, None
        bmc.logged_in = False
        if not uri or self._http is None:
            return
        try:
            async with self._http.delete(bmc.creds.url + uri, headers=bmc.headers, ssl=self.ssl_for(bmc.creds),
                                         timeout=aiohttp.ClientTimeout(total=5)):
                pass
        except (aiohttp.ClientError, TimeoutError, OSError):
            pass

    async def _get(self, bmc: BmcState, path: str, counter: list[int]) -> Doc:
        if not bmc.logged_in:
            counter[0] += 1
            await self._login(bmc)
        counter[0] += 1
        if self.trace is not None:
            self.trace.setdefault(bmc.creds.host, []).append(path)
        status, _, parsed = await self._send(bmc, "GET", path)
        if status == 401:
            counter[0] += 2
            await self._login(bmc)  # the BMC expired our session (timeout, BMC reboot)
            status, _, parsed = await self._send(bmc, "GET", path)
        if status != 200 or not isinstance(parsed, dict):
            message = most_severe_message(parsed)
            raise FetchError(path, f"HTTP {status}" + (f": {message}" if message else ""), status)
        return parsed

    # ------------------------------------------------------------------ the read
    def _fetcher(self, bmc: BmcState, counter: list[int], memo: dict[str, Doc]) -> Any:
        async def fetch(path: str) -> Doc:
            key = normalize(path)
            if key in bmc.static:
                return bmc.static[key]
            if key in memo:
                return memo[key]
            kind = bmc.types.get(key)
            if kind == "LogEntryCollection":
                doc = await self._entries(bmc, path, counter)
            elif (kind in EXPAND_TYPES or kind in EXPAND_SELF_TYPES) and bmc.expand:
                try:
                    doc = await self._get(bmc, path + ("&" if "?" in path else "?") + EXPAND, counter)
                except FetchError as exc:
                    if exc.status not in (400, 403, 405, 501):
                        raise
                    bmc.expand = False
                    doc = await self._get(bmc, path, counter)
            else:
                doc = await self._get(bmc, path, counter)
                kind = bmc.types[key] = doc_type(doc)
                if kind == "ServiceRoot":
                    bmc.expand = _supports_expand(doc)
                if kind == "LogEntryCollection":
                    doc = await self._first_entries(bmc, path, doc, counter)
            if kind in STATIC_TYPES:
                bmc.static[key] = doc
            memo[key] = doc
            if kind in EXPAND_SELF_TYPES:
                _harvest(doc, memo)
            return doc

        return fetch

    async def _first_entries(self, bmc: BmcState, path: str, doc: Doc, counter: list[int]) -> Doc:
        """The first look at a log: learn its order and size; keep only the newest page."""
        members = [m for m in doc.get(MEMBERS) or [] if isinstance(m, dict)]
        ids = [m.get("Id") or str(m.get(ODATA_ID, "")).rsplit("/", 1)[-1] for m in members]
        count = doc.get("Members@odata.count")
        order = "desc" if len(ids) > 1 and _id_key(ids[0]) > _id_key(ids[-1]) else "asc"
        if order == "asc" and isinstance(count, int) and count > len(members):
            skip = max(0, count - self.log_limit)
            doc = await self._get(bmc, f"{path}?$skip={skip}", counter)
        bmc.log = LogPosition(bmc.log.cursor, count if isinstance(count, int) else None, order)
        return self._only_new(bmc, doc)

    async def _entries(self, bmc: BmcState, path: str, counter: list[int]) -> Doc:
        pos = bmc.log
        if pos.order == "desc":
            doc = await self._get(bmc, f"{path}?$top={self.log_limit}", counter)
        elif pos.count is not None:
            doc = await self._get(bmc, f"{path}?$skip={pos.count}", counter)
            count = doc.get("Members@odata.count")
            if isinstance(count, int) and count < pos.count:
                # The log was cleared: ids start again. Read its newest page, all of it new.
                pos.cursor = None
                skip = max(0, count - self.log_limit)
                doc = await self._get(bmc, f"{path}?$skip={skip}", counter)
                bmc.log = LogPosition("0", count, pos.order)
        else:
            doc = await self._get(bmc, path, counter)
        count = doc.get("Members@odata.count")
        if isinstance(count, int):
            bmc.log.count = count
        return self._only_new(bmc, doc)

    def _only_new(self, bmc: BmcState, doc: Doc) -> Doc:
        """Entries after the cursor only (all of them on a first read: the engine baselines)."""
        members = [m for m in doc.get(MEMBERS) or [] if isinstance(m, dict)]
        cursor = bmc.log.cursor
        if cursor is not None:
            floor = _id_key(cursor)
            members = [m for m in members if _id_key(m.get("Id") or str(m.get(ODATA_ID, "")).rsplit("/", 1)[-1])
                       > floor]
        out = {k: v for k, v in doc.items() if k != NEXT_LINK}
        out[MEMBERS] = members
        return out

    async def visit(self, creds: Credentials, *, sections: Iterable[str], drill: bool = True,
                    deadline: float = 20.0, log: LogPosition | None = None, refresh: bool = False) -> Visit:
        """Read one BMC: the tier asked for, then the parts when its rollup is not OK (``drill``).
        Never raises: a BMC that fails or misses its deadline is a Visit with an error."""
        bmc = self.state(creds, log)
        started = time.monotonic()
        counter = [0]
        if refresh:
            bmc.static.clear()
        if self.trace is not None:
            self.trace[creds.host] = []
        baseline = bmc.log.cursor is None and "logs" in tuple(sections)
        async with bmc.lock:  # one visit (and one request) at a time per BMC
            try:
                async with asyncio.timeout(deadline):
                    memo: dict[str, Doc] = {}
                    fetch = self._fetcher(bmc, counter, memo)
                    wanted = tuple(sections)
                    obs = await run_async(read_observation(creds.host, sections=wanted,
                                                           log_limit=self.log_limit), fetch)
                    drilled = False
                    if drill and "components" not in wanted and obs.identity.health.value not in ("ok", "unknown"):
                        parts = await run_async(read_observation(creds.host, sections=("components",),
                                                                 log_limit=0), fetch)
                        obs = _merge(obs, parts)
                        drilled = True
                    if obs.log_entries or obs.log_cursor:
                        newest = max([e.id for e in obs.log_entries] + [bmc.log.cursor or "0"], key=_id_key)
                        bmc.log.cursor = newest
                    elif bmc.log.cursor is None and "logs" in wanted:
                        bmc.log.cursor = "0"
                    obs = _with(obs, requests=counter[0], duration=time.monotonic() - started,
                                cursor=bmc.log.cursor)
                    return Visit(creds.host, obs, None, time.monotonic() - started, counter[0], drilled,
                                 LogPosition(bmc.log.cursor, bmc.log.count, bmc.log.order), baseline)
            except TimeoutError:
                bmc.logged_in = False  # the session may be half-made: start clean next time
                return Visit(creds.host, None, f"no complete answer within {deadline:g}s",
                             time.monotonic() - started, counter[0])
            except (UnreachableError, FetchError) as exc:
                bmc.logged_in = False
                return Visit(creds.host, None, redact(str(exc)), time.monotonic() - started, counter[0])


def _harvest(doc: Doc, memo: dict[str, Doc]) -> None:
    """Remember the sub-resources an expanded document carries inline (not collections whose
    members are bare links: those are read again with $expand)."""
    for key, value in doc.items():
        if key == "Links" or not isinstance(value, dict) or len(value) < 2:
            continue
        uri = value.get(ODATA_ID)
        if not isinstance(uri, str) or "#" in uri:
            continue
        members = value.get(MEMBERS)
        if isinstance(members, list) and any(isinstance(m, dict) and len(m) == 1 for m in members):
            continue
        memo.setdefault(normalize(uri), value)


def _reason(exc: BaseException) -> str:
    """A short reason for a transport failure (aiohttp's own text repeats the whole address)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        return f"cannot connect: {os_error.strerror or type(os_error).__name__}"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "timed out"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _supports_expand(root: Doc) -> bool:
    features = root.get("ProtocolFeaturesSupported")
    expand = features.get("ExpandQuery") if isinstance(features, dict) else None
    return bool(isinstance(expand, dict) and (expand.get("Levels") or expand.get("NoLinks")))


def _merge(first: Observation, parts: Observation) -> Observation:
    import dataclasses

    return dataclasses.replace(first, components=parts.components,
                               conditions=tuple(dict.fromkeys(first.conditions + parts.conditions)),
                               errors=first.errors + parts.errors)


def _with(obs: Observation, *, requests: int, duration: float, cursor: str | None) -> Observation:
    import dataclasses

    return dataclasses.replace(obs, requests=requests, duration_seconds=round(duration, 6), log_cursor=cursor)
