"""The asyncio read path for patrol at fleet scale (see docs/bmc.md, "Performance").

Same parsing as the sync path (``resources.read_observation`` driven by ``run_async``), a cheaper
transport: aiohttp with one shared connector and SSL context, orjson for decoding, one request in
flight per BMC (a BMC is slow and fragile; parallel requests to one BMC only queue or break it)
and a global cap on requests in flight. One session per BMC per round, always deleted, also when
the round is cancelled. Each BMC gets a deadline; a BMC that misses it is reported unreachable
and costs no more than that.
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
from dcops.bmc.redfish.resources import (
    ROOT,
    SECTIONS,
    Doc,
    FetchError,
    most_severe_message,
    read_observation,
    run_async,
)
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

    async def _send(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        async with self.cap:
            self.requests += 1
            data = orjson.dumps(body) if body is not None else None
            headers = dict(self.headers, **({"Content-Type": "application/json"} if data else {}))
            async with self.http.request(method, self.t.url + path, data=data, headers=headers,
                                         timeout=self.timeout, ssl=self.ssl) as resp:
                raw = await resp.read()
                try:
                    parsed = orjson.loads(raw) if raw else None
                except orjson.JSONDecodeError:
                    parsed = None
                return resp.status, dict(resp.headers), parsed

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        for attempt in range(self.retries + 1):
            try:
                status, headers, parsed = await self._send(method, path, body)
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
        status, headers, parsed = await self.request("POST", f"{ROOT}/SessionService/Sessions", body)
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
        if not self.session_uri:
            return
        uri, self.session_uri = self.session_uri, None
        try:
            async with self.http.delete(self.t.url + uri, headers=self.headers, ssl=self.ssl,
                                        timeout=aiohttp.ClientTimeout(total=5)):
                pass
        except (aiohttp.ClientError, TimeoutError):
            pass

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


async def observe_one(http: aiohttp.ClientSession, target: Target, cap: asyncio.Semaphore, *,
                      sections: Iterable[str] = SECTIONS, deadline: float = 60.0, read_timeout: float = 30.0,
                      retries: int = 3, ssl_ctx: ssl.SSLContext | bool = False, log_limit: int = 20) -> Result:
    started = time.monotonic()
    bmc = _Bmc(http, target, cap, min(read_timeout, deadline), retries, ssl_ctx)
    try:
        async with asyncio.timeout(deadline):
            try:
                await bmc.login()
                obs = await run_async(read_observation(target.host, sections=sections, log_limit=log_limit),
                                      bmc.fetch)
            finally:
                # Shielded: a cancelled round (deadline, Ctrl-C) still deletes its session.
                await asyncio.shield(bmc.logout())
        return Result(target.host, obs, None, time.monotonic() - started)
    except TimeoutError:
        return Result(target.host, None, f"{target.host}: no complete answer within {deadline:g}s",
                      time.monotonic() - started)
    except (UnreachableError, FetchError) as exc:
        return Result(target.host, None, redact(str(exc)), time.monotonic() - started)


async def observe_many(targets: Sequence[Target], *, concurrency: int = 200, sections: Iterable[str] = SECTIONS,
                       deadline: float = 60.0, read_timeout: float = 30.0, log_limit: int = 20,
                       on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Observe many BMCs: at most ``concurrency`` requests in flight overall, one per BMC."""
    verify = any(t.verify_tls for t in targets if t.url.startswith("https"))
    bundles = {t.ca_bundle for t in targets if t.ca_bundle}
    ctx = ssl_context(verify, next(iter(bundles)) if len(bundles) == 1 else None)
    cap = asyncio.Semaphore(concurrency)
    sections = tuple(sections)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0, ttl_dns_cache=300)
    async with aiohttp.ClientSession(connector=connector, json_serialize=lambda o: orjson.dumps(o).decode()) as http:
        async def one(target: Target) -> Result:
            ctx_for = ctx if target.verify_tls else False
            if target.ca_bundle and len(bundles) > 1:
                ctx_for = ssl_context(True, target.ca_bundle)
            result = await observe_one(http, target, cap, sections=sections, deadline=deadline,
                                       read_timeout=read_timeout, ssl_ctx=ctx_for, log_limit=log_limit)
            if on_result:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(t) for t in targets)))
