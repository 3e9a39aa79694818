"""The console gateway: the one way dcops opens a server's serial console.

``ConsoleGateway.open(host, user=..., via=...)`` resolves the BMC credentials from the book's
secret reference (they never leave the process), opens the console stream (IPMI SOL through
pyghmi), writes the audit entry ``console.open`` and a ``console_sessions`` row, and returns a
``ConsoleSession``. Everything read and written through the session is recorded (asciicast v2);
``close`` stores the recording, writes ``console.close`` (naming the open entry, with the duration,
byte counts and the recording's id and SHA-256) and applies retention. The web UI's websocket and
``dcops console HOST`` both call this, so both are recorded and audited the same way.

Who: ``user`` is the person at the keyboard: the web UI's logged-in user, or for the terminal the
OS user. The audit ``actor`` stays the OS user running dcops; the web user is ``on_behalf_of``
(``web:NAME``, as for the web UI's acks and silences).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from dcops.console import cast as castmod
from dcops.console import store as sessions
from dcops.console.stream import ConsoleStream
from dcops.models import Host, Protocol
from dcops.secrets import redact
from dcops.store import audit
from dcops.store.db import Store

log = logging.getLogger(__name__)
IPMI_PORT = 623

Opener = Callable[[Host], Awaitable[ConsoleStream]]


def ipmi_port(host: Host) -> int:
    """The RMCP+ port of ``host``'s BMC: ``ipmi_port``, else ``port`` when the protocol is ipmi
    (an endpoint's port is the web port otherwise), else 623."""
    endpoint = host.bmc
    if endpoint.ipmi_port:
        return endpoint.ipmi_port
    if Protocol(endpoint.protocol) is Protocol.IPMI and endpoint.port:
        return endpoint.port
    return IPMI_PORT


SOL_CLIENTS = ("pyghmi", "ipmitool")


def sol_opener(client: str = "pyghmi") -> Opener:
    """An opener of IPMI SOL through ``client`` ("pyghmi", falling back to ipmitool for what
    pyghmi cannot drive; or "ipmitool"), with the password from the host's secret reference."""
    if client not in SOL_CLIENTS:
        from dcops.errors import InvalidInputError

        raise InvalidInputError(f"config console.sol: {client!r} is not one of {', '.join(SOL_CLIENTS)}")

    async def open_sol(host: Host) -> ConsoleStream:
        from dcops.bmc.ipmi.ipmitool_sol import IpmitoolSol
        from dcops.secrets import resolve

        endpoint = host.bmc
        ref = endpoint.password_ref or "plain:"
        password = await asyncio.to_thread(resolve, ref, what=f"{host.name}: BMC password")
        args = (host.name, endpoint.address, ipmi_port(host), endpoint.username, password)
        stream: Any
        if client == "pyghmi":
            from dcops.bmc.ipmi.sol import PyghmiSol

            stream = PyghmiSol(*args)
            try:
                await stream.open()
                return stream  # type: ignore[no-any-return]
            except NotImplementedError as exc:
                # pyghmi 1.6: a BMC whose SOL payload port differs from the session's port
                # ("Non-standard SOL Port Number") is beyond pyghmi; ipmitool follows it.
                log.info("%s: pyghmi cannot drive this SOL (%s); using ipmitool", host.name, exc)
        stream = IpmitoolSol(*args)
        await stream.open()
        return stream  # type: ignore[no-any-return]

    return open_sol


open_sol = sol_opener("pyghmi")


class ConsoleSession:
    """One open console: read/write through it (recorded), then ``close`` (stored, audited)."""

    def __init__(self, gateway: ConsoleGateway, host: str, user: str, via: str, stream: ConsoleStream,
                 session_id: str, audit_open: int, recorder: castmod.Recorder, started: float,
                 principal: str | None) -> None:
        self.gateway = gateway
        self.host = host
        self.user = user
        self.via = via
        self.stream = stream
        self.id = session_id
        self.audit_open = audit_open
        self.recorder = recorder
        self._started = started
        self._principal = principal
        self._closed: asyncio.Future[sessions.SessionRecord | None] | None = None

    @property
    def transport(self) -> str:
        return self.stream.transport

    async def read(self) -> bytes:
        data = await self.stream.read()
        if data:
            self.recorder.output(data)
        return data

    async def write(self, data: bytes) -> None:
        self.recorder.input(data)
        await self.stream.write(data)

    async def close(self, result: str = "ok") -> sessions.SessionRecord | None:
        """End the session once (later calls wait for the first); returns the stored record."""
        if self._closed is not None:
            return await self._closed
        self._closed = asyncio.get_running_loop().create_future()
        try:
            record = await self._finish(result)
        except BaseException as exc:
            self._closed.set_exception(exc)
            raise
        self._closed.set_result(record)
        return record

    async def _finish(self, result: str) -> sessions.SessionRecord | None:
        g = self.gateway
        try:
            await self.stream.close()
        except Exception as exc:  # noqa: BLE001 - the recording and the audit matter more
            log.warning("%s: closing the console: %s", self.host, redact(str(exc)))
        recording = self.recorder.finish()
        text = castmod.dumps(recording)
        duration = round(max(0.0, g.clock() - self._started), 3)
        after = {"session": self.id, "duration_s": duration, "bytes_out": self.recorder.bytes_out,
                 "bytes_in": self.recorder.bytes_in, "recording_sha256": sessions.digest(text),
                 "user": self.user}

        def store_it() -> sessions.SessionRecord | None:
            closing = audit.record(g.store, "console.close", host=self.host, result=result, after=after,
                                   details=f"{self.transport} via {self.via}", intent_id=self.audit_open,
                                   on_behalf_of=self._principal)
            sessions.closed(g.store, self.id, at=g.now(), duration_s=duration,
                            bytes_out=self.recorder.bytes_out, bytes_in=self.recorder.bytes_in, result=result,
                            cast_text=text, audit_close=closing)
            g.prune()
            return sessions.get(g.store, self.id)

        return await asyncio.to_thread(store_it)


class ConsoleGateway:
    def __init__(self, store: Store, *, retention_days: float = sessions.DEFAULT_RETENTION_DAYS,
                 opener: Opener = open_sol, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.store = store
        self.retention_days = retention_days
        self.opener = opener
        self.clock = clock
        self.now = now

    async def open(self, host: Host, *, user: str, via: str, web: bool,
                   width: int = 80, height: int = 24) -> ConsoleSession:
        """Open ``host``'s serial console for ``user``. ``web``: the user logged in to the web UI
        (recorded as on_behalf_of ``web:USER`` beside the OS user running dcops); otherwise ``user`` is the OS
        user and on_behalf_of stays ``$DCOPS_ACTOR``'s.

        A console that cannot be opened is audited too (``console.open`` with the failure)."""
        principal = f"web:{user}" if web else None  # as the web UI's own actions name their user
        session_id = uuid.uuid4().hex
        started = self.clock()
        at = self.now()
        try:
            stream = await self.opener(host)
        except Exception as exc:
            reason = redact(str(exc)) or type(exc).__name__
            await asyncio.to_thread(audit.record, self.store, "console.open", host=host.name,
                                    result=f"failed: {reason}"[:200], details=f"via {via}", on_behalf_of=principal)
            raise
        recorder = castmod.Recorder(self.clock, width=width, height=height, timestamp=int(at.timestamp()),
                                    title=f"{host.name} ({stream.transport}) for {user}", start=started)

        def announce() -> int:
            opened = audit.record(self.store, "console.open", host=host.name, result="ok",
                                  after={"session": session_id, "user": user},
                                  details=f"{stream.transport} via {via}", on_behalf_of=principal)
            sessions.opened(self.store, session_id, host=host.name, user=user, via=via,
                            transport=stream.transport, at=at, audit_open=opened)
            return opened

        try:
            audit_open = await asyncio.to_thread(announce)
        except BaseException:
            await stream.close()  # nothing unaudited may stay open
            raise
        return ConsoleSession(self, host.name, user, via, stream, session_id, audit_open, recorder, started,
                              principal)

    def prune(self) -> int:
        return sessions.prune(self.store, now=self.now(), retention_days=self.retention_days)


def retention_from(section: dict[str, Any]) -> float:
    """``console: {retention_days: N}`` from the config file (0: keep for ever)."""
    value = section.get("retention_days", sessions.DEFAULT_RETENTION_DAYS)
    try:
        days = float(value)
    except (TypeError, ValueError):
        from dcops.errors import InvalidInputError

        raise InvalidInputError(f"config console.retention_days: {value!r} is not a number of days") from None
    return days
