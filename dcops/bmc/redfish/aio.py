"""The asyncio read path for patrol at fleet scale (see docs/bmc.md, "Performance").

Same parsing as the sync path (``read.read_observation`` / ``read.read_health`` driven by
``run_async``), a cheaper transport: aiohttp with one shared connector and SSL context, orjson for
decoding, one request in flight per BMC (a BMC is slow and fragile; parallel requests to one BMC
only queue or break it) and a global cap on requests in flight. Collections are read with
``$expand=.($levels=1)`` where the service root advertises it.

Sessions: one per BMC per round, always deleted. The login runs as its own task: when a BMC's
deadline passes mid-login, the caller gets its result at the deadline, but the login is still
awaited (up to the read timeout) and the session it made deleted -- a slow BMC would otherwise
keep a session dcops can no longer name. ``observe_many`` waits for those clean-ups before it
closes its HTTP session (so nothing is left pending when the loop closes).
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from dcops.bmc.redfish.connector import retry_after
from dcops.bmc.redfish.docs import Doc, FetchError, most_severe_message, run_async
from dcops.bmc.redfish.keys import SECTIONS, SESSIONS
from dcops.bmc.redfish.read import read_health, read_observation
from dcops.errors import UnreachableError
from dcops.models import Host
from dcops.observation import Observation
from dcops.secrets import Secret, redact, resolve


@dataclass(frozen=True)
class Target:
    """One BMC to read: name, base URL, credentials, TLS settings."""

    host: str
    url: str
    username: str
    password: Secret
    verify_tls: bool = True
    ca_bundle: str | None = None

    @classmethod
    def of(cls, host: Host) -> Target:
        return cls(host.name, host.bmc.url(), host.bmc.username,
                   resolve(host.bmc.password_ref, what=f"{host.name}: BMC password"),
                   host.bmc.verify_tls, host.bmc.ca_bundle)


@dataclass(frozen=True)
class Result:
    host: str
    observation: Observation | None
    error: str | None
    seconds: float


class _Bmc:
    """One BMC's session over the shared aiohttp session; requests go one at a time."""

    def __init__(self, http: aiohttp.ClientSession, target: Target, cap: asyncio.Semaphore,
                 read_timeout: float, retries: int, ssl_ctx: ssl.SSLContext | bool) -> None:
        self.http = http
        self.t = target
        self.cap = cap
        self.ssl = ssl_ctx
        self.timeout = aiohttp.ClientTimeout(total=read_timeout)
        self.retries = retries
        self.headers: dict[str, str] = {"Accept": "application/json"}
        self.session_uri: str | None = None
        self.requests = 0
        self.login_timeout = self.timeout  # observe_one gives the login the full read timeout


    async def _send(self, method: str, path: str, body: Any = None,
                    timeout: aiohttp.ClientTimeout | None = None) -> tuple[int, dict[str, str], Any]:
        async with self.cap:
            self.requests += 1
            data = orjson.dumps(body) if body is not None else None
            headers = dict(self.headers, **({"Content-Type": "application/json"} if data else {}))
            async with self.http.request(method, self.t.url + path, data=data, headers=headers,
                                         timeout=timeout or self.timeout, ssl=self.ssl) as resp:
                raw = await resp.read()
                try:
                    parsed = orjson.loads(raw) if raw else None
                except orjson.JSONDecodeError:
                    parsed = None
                return resp.status, dict(resp.headers), parsed

    async def request(self, method: str, path: str, body: Any = None,
                      timeout: aiohttp.ClientTimeout | None = None) -> tuple[int, dict[str, str], Any]:
        for attempt in range(self.retries + 1):
            try:
                status, headers, parsed = await self._send(method, path, body, timeout)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise UnreachableError(f"{self.t.host}: {method} {path}: {type(exc).__name__}") from None
            busy = status in (503, 429) or (status >= 400 and "SessionLimitExceeded" in str(parsed))
            if busy and attempt < self.retries:
                await asyncio.sleep(min(retry_after(headers.get("Retry-After"), 0.5 * 2 ** attempt), 10))
                continue
            return status, headers, parsed
        return status, headers, parsed

    async def login(self) -> None:
        body = {"UserName": self.t.username, "Password": self.t.password.reveal()}
        status, headers, parsed = await self.request("POST", SESSIONS, body, self.login_timeout)
        token = headers.get("X-Auth-Token")
        if status in (200, 201, 204) and token:
            self.headers["X-Auth-Token"] = token
            location = headers.get("Location") or (parsed or {}).get("@odata.id") or ""
            self.session_uri = location.split("://", 1)[-1].partition("/")[2] if "://" in location else location
            if self.session_uri and not self.session_uri.startswith("/"):
                self.session_uri = "/" + self.session_uri
            return
        if status in (404, 405, 501):
            token = base64.b64encode(f"{self.t.username}:{self.t.password.reveal()}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
            return
        raise UnreachableError(f"{self.t.host}: login refused: {most_severe_message(parsed) or status}")

    async def logout(self) -> None:
        """DELETE the session, retrying a busy BMC (503/429) a few times within 5 s."""
        if not self.session_uri:
            return
        uri, self.session_uri = self.session_uri, None
        end = time.monotonic() + 5.0
        for attempt in range(4):
            try:
                async with self.http.delete(self.t.url + uri, headers=self.headers, ssl=self.ssl,
                                            timeout=aiohttp.ClientTimeout(total=max(0.5, end - time.monotonic()))) \
                        as resp:
                    status, wait = resp.status, retry_after(resp.headers.get("Retry-After"), 0.2 * (attempt + 1))
            except (aiohttp.ClientError, TimeoutError):
                return
            if status not in (429, 500, 502, 503, 504) or time.monotonic() >= end:
                return
            await asyncio.sleep(min(wait, 1.0, max(0.0, end - time.monotonic())))

    async def fetch(self, path: str) -> Doc:
        status, _, parsed = await self.request("GET", path)
        if status == 401 and self.session_uri:
            # Session expired on the BMC: log in again once.
            self.session_uri = None
            self.headers.pop("X-Auth-Token", None)
            await self.login()
            status, _, parsed = await self.request("GET", path)
        if status != 200 or not isinstance(parsed, dict):
            message = most_severe_message(parsed)
            raise FetchError(path, f"HTTP {status}" + (f": {message}" if message else ""), status)
        return parsed


def ssl_context(verify: bool = True, ca_bundle: str | None = None) -> ssl.SSLContext | bool:
    """One SSL context for the whole fleet (building one per BMC costs milliseconds of CPU each)."""
    if not verify:
        return False
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()


# Clean-ups (late logins, logouts) of observe_one calls made outside observe_many: strong
# references, so that a pending one is never garbage-collected ("Task was destroyed but it is
# pending"); ``drain`` waits for them.
_background: set[asyncio.Task[None]] = set()


async def _finish(bmc: _Bmc, login: asyncio.Future[None]) -> None:
    """Wait for the login (it may answer after the deadline) and delete the session it made."""
    try:
        await login
    except (UnreachableError, FetchError, aiohttp.ClientError, TimeoutError, asyncio.CancelledError):
        return
    await bmc.logout()


async def drain(timeout: float = 35.0, tasks: set[asyncio.Task[None]] | None = None) -> None:
    """Wait (at most ``timeout``) for pending clean-ups: late logins and their logouts."""
    pending = set(tasks if tasks is not None else _background)
    if pending:
        await asyncio.wait(pending, timeout=timeout)


async def observe_one(http: aiohttp.ClientSession, target: Target, cap: asyncio.Semaphore, *,
                      sections: Iterable[str] = SECTIONS, deadline: float = 60.0, read_timeout: float = 30.0,
                      retries: int = 3, ssl_ctx: ssl.SSLContext | bool = False, log_limit: int = 20,
                      expand: bool = True, health: bool = False,
                      on_document: Callable[[str, Doc], None] | None = None,
                      cleanups: set[asyncio.Task[None]] | None = None) -> Result:
    """Observe one BMC within ``deadline`` seconds; never raises for a BMC's failure.

    ``health``: the cheap read (``read.read_health``: rollups, power, sensors, parts only when a
    rollup is not OK) instead of the full observation. ``on_document(path, doc)`` sees every
    document read (assets keeps some of them). ``cleanups``: where the session clean-up task goes
    (observe_many waits for it); without, it is kept in a module set (see ``drain``)."""
    started = time.monotonic()
    bmc = _Bmc(http, target, cap, min(read_timeout, deadline), retries, ssl_ctx)
    bmc.login_timeout = aiohttp.ClientTimeout(total=read_timeout)
    login: asyncio.Future[None] | None = None

    async def fetch(path: str) -> Doc:
        doc = await bmc.fetch(path)
        if on_document is not None:
            on_document(path, doc)
        return doc

    try:
        async with asyncio.timeout(deadline):
            login = asyncio.ensure_future(bmc.login())
            await asyncio.shield(login)
            step = read_health(target.host, expand=expand) if health else \
                read_observation(target.host, sections=sections, log_limit=log_limit, expand=expand)
            obs = await run_async(step, fetch)
        return Result(target.host, obs, None, time.monotonic() - started)
    except TimeoutError:
        return Result(target.host, None, f"{target.host}: no complete answer within {deadline:g}s",
                      time.monotonic() - started)
    except (UnreachableError, FetchError) as exc:
        return Result(target.host, None, redact(str(exc)), time.monotonic() - started)
    finally:
        if login is not None:
            # Not awaited here: a round's result must not wait for a slow BMC's logout.
            task = asyncio.ensure_future(_finish(bmc, login))
            keep = cleanups if cleanups is not None else _background
            keep.add(task)
            task.add_done_callback(keep.discard)


async def observe_many(targets: Sequence[Target], *, concurrency: int = 200, sections: Iterable[str] = SECTIONS,
                       deadline: float = 60.0, read_timeout: float = 30.0, log_limit: int = 20,
                       expand: bool = True, health: bool = False,
                       on_result: Callable[[Result], None] | None = None,
                       on_document: Callable[[str, str, Doc], None] | None = None) -> list[Result]:
    """Observe many BMCs: at most ``concurrency`` requests in flight overall, one per BMC.

    ``health=True`` is the patrol read (see ``observe_one``). ``on_document(host, path, doc)``
    sees every document read. Returns once every BMC has a result and every session opened was
    deleted (late logins included, waited for at most ``read_timeout`` + 5 s after the last
    result). HTTP goes straight to the BMCs: environment proxies are ignored (``trust_env``)."""
    verify = any(t.verify_tls for t in targets if t.url.startswith("https"))
    bundles = {t.ca_bundle for t in targets if t.ca_bundle}
    ctx = ssl_context(verify, next(iter(bundles)) if len(bundles) == 1 else None)
    cap = asyncio.Semaphore(concurrency)
    sections = tuple(sections)
    cleanups: set[asyncio.Task[None]] = set()
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0, ttl_dns_cache=300)
    async with aiohttp.ClientSession(connector=connector, json_serialize=lambda o: orjson.dumps(o).decode(),
                                     trust_env=False) as http:
        async def one(target: Target) -> Result:
            ctx_for = ctx if target.verify_tls else False
            if target.ca_bundle and len(bundles) > 1:
                ctx_for = ssl_context(True, target.ca_bundle)
            tap = None
            if on_document is not None:
                def tap(path: str, doc: Doc, host: str = target.host) -> None:
                    on_document(host, path, doc)
            result = await observe_one(http, target, cap, sections=sections, deadline=deadline,
                                       read_timeout=read_timeout, ssl_ctx=ctx_for, log_limit=log_limit,
                                       expand=expand, health=health, on_document=tap, cleanups=cleanups)
            if on_result:
                on_result(result)
            return result

        try:
            return list(await asyncio.gather(*(one(t) for t in targets)))
        finally:
            await drain(read_timeout + 5.0, cleanups)
            for task in list(cleanups):
                task.cancel()
            if cleanups:
                await asyncio.wait(set(cleanups), timeout=1.0)


async def observe_health_many(targets: Sequence[Target], **kwargs: Any) -> list[Result]:
    """The patrol call: ``observe_many(targets, health=True)`` (about five GETs per healthy BMC)."""
    return await observe_many(targets, health=True, **kwargs)
