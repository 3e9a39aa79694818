"""IPMI reads of many BMCs, round after round: pyghmi sessions (``IpmiSession``) kept open between
rounds, in a thread pool (pyghmi is blocking), one visit at a time per BMC.

A minute visit reads the power state and the SDR sensors. The SEL is read only when ``Get SEL
Info`` (one small request) says records were added or erased since the last visit, and then only
the records after the cursor (``sel_entries_since``: Get SEL Entry from the cursor on). FRU
identity is read on the inventory tier (``refresh``) and kept (``busy.reads_fru``: also on a first
visit, unless the FRU read was cut). A visit that gives up on its read (deadline, round cancelled)
stops it before its next command and keeps nothing of it; the next visit waits for the command in
flight only (``busy``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dcops.bmc.ipmi import (
    IpmiInventory,
    IpmiPower,
    IpmiSession,
    ReadCut,
    busy,
    link_psu_sensors,
    read_sensors,
    sel_entries_since,
    sel_info,
)
from dcops.bmc.visit import LogPosition, Visit, record_order
from dcops.errors import ApplyError, DcopsError, UnreachableError
from dcops.models import BmcEndpoint
from dcops.observation import (
    Component,
    ComponentKind,
    Health,
    Identity,
    LogEntry,
    Observation,
    ReadError,
    Sensor,
    worst_health,
)
from dcops.secrets import Secret, redact

log = logging.getLogger(__name__)


@dataclass
class Read:
    """What one read of a BMC found; the state takes it only when its visit does (``busy``)."""

    observation: Observation
    baseline: bool
    log: LogPosition
    sel_stamp: tuple[int, int] | None
    identity: Identity | None  # read from the FRU on this visit; None: not read (the kept one used)
    components: tuple[Component, ...]


@dataclass
class Reading:
    """A read handed to a worker thread: ``halt`` stops it before its next IPMI command."""

    future: Future[Any]  # a Read, or a FRU retry's (identity, parts)
    halt: threading.Event
    fru: bool  # it reads the FRU (identity, parts)
    sent: int  # the session's command count when it was handed over (``IpmiSession.sent``)


@dataclass
class IpmiState:
    session: IpmiSession
    log: LogPosition = field(default_factory=LogPosition)
    sel_stamp: tuple[int, int] | None = None  # (last addition, last erase) from Get SEL Info
    identity: Identity | None = None
    components: tuple[Component, ...] = ()
    fru_cut: bool = False  # the last FRU read was cut: minute visits leave it to the inventory tier...
    fru_cut_at: float = 0.0  # ...or try it after their minute facts, FRU_RETRY after (busy.retry_fru)
    # The last read handed to a thread: one given up on may still be finishing its last command,
    # and the next read of this BMC waits for that (on the event loop, within its own deadline).
    reading: Reading | None = None
    visiting: asyncio.Lock = field(default_factory=asyncio.Lock)  # one visit at a time (event loop)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one reader of the session (threads)


class IpmiFleet:
    """Reads many IPMI BMCs with kept sessions (``workers`` threads at most).

    A visit that gives up on its read (deadline, round cancelled) halts it: the read stops before
    its next IPMI command, leaving the session sound, and keeps nothing; the BMC's next visit
    waits for the one command in flight, then reads with the same session (``busy`` says why).
    Not a second session instead: pyghmi (1.6.19) hands a new ``Command`` for the same BMC and
    user the session already logged in (``Session.__new__``), so it would be two reads on one
    session at once, which pyghmi does not support; and a real BMC has few session slots (often
    4 to 16), which a login per stuck read would use up while the old ones wait for their timeout."""

    def __init__(self, *, workers: int = 32, timeout: float = 10.0, log_limit: int = 200,
                 fru_retry: float = busy.FRU_RETRY) -> None:
        self.timeout = timeout
        self.log_limit = log_limit
        self.fru_retry = fru_retry
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dcops-ipmi")
        self.bmcs: dict[str, IpmiState] = {}

    def state(self, host: str, endpoint: BmcEndpoint, password: Secret, log: LogPosition | None) -> IpmiState:
        st = self.bmcs.get(host)
        if st is None or st.session.endpoint != endpoint:
            old = st
            st = self.bmcs[host] = IpmiState(IpmiSession(host, endpoint, password, timeout=self.timeout))
            st.log = (log or LogPosition()).of("ipmi")
            if old is not None and old.reading is not None:
                # pyghmi may hand the new session the old one's (same BMC and user): the first
                # read waits for the old one's last command like any read after a cut one.
                old.reading.halt.set()
                st.reading = old.reading
        return st

    def close(self) -> None:
        for st in self.bmcs.values():
            if st.reading is not None:
                st.reading.halt.set()  # logged out after its command in flight, not after its read
            st.session.close()
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def visit(self, host: str, endpoint: BmcEndpoint, password: Secret, *, sections: Iterable[str],
                    deadline: float = 20.0, log: LogPosition | None = None, refresh: bool = False) -> Visit:
        """Read one BMC within ``deadline``; never raises for a BMC's failure."""
        st = self.state(host, endpoint, password, log)
        started = time.monotonic()
        reading: Reading | None = None
        end, error = busy.End.FAILED, None
        read: Read | None = None
        try:
            async with asyncio.timeout(deadline), st.visiting:
                before = st.reading
                if before is not None and not before.future.done():
                    # The read before was given up on and stops before its next command: wait for
                    # the one in flight (a new command now would be a second on one session).
                    with contextlib.suppress(Exception):  # its failure was its own visit's
                        await asyncio.wrap_future(before.future)
                fru = busy.reads_fru(refresh, st.identity is not None, st.fru_cut)
                halt = threading.Event()
                sent = st.session.sent  # before the thread starts sending
                reading = st.reading = Reading(
                    self.pool.submit(self._read, st, halt, host, tuple(sections), refresh, fru), halt, fru, sent)
                read = await asyncio.wrap_future(reading.future)
            end = busy.End.ANSWERED
        except TimeoutError:
            end = busy.End.WAITED_OUT if reading is None else busy.End.TIMED_OUT
            error = busy.timeout_error(host, deadline, end)
        except (DcopsError, ReadCut) as exc:
            error = redact(str(exc))  # ReadCut: the fleet closed while this visit waited
        except asyncio.CancelledError:
            end = busy.End.CANCELLED  # the round's cancellation: missed, its log read again next round
            raise
        finally:
            self._settle(st, reading, end, read)
        if read is None:
            # What a read given up on (or failed) sent still counts: the BMC answered it.
            commands = st.session.sent - reading.sent if reading is not None else 0
            return Visit(host, None, error, time.monotonic() - started, commands,
                         timed_out=end in (busy.End.TIMED_OUT, busy.End.WAITED_OUT))
        obs = read.observation
        extra = 0
        if busy.retry_fru(refresh, st.identity is not None, st.fru_cut, time.monotonic() - st.fru_cut_at,
                          self.fru_retry):
            extra = await self._retry_fru(st, host, deadline - (time.monotonic() - started))
        return Visit(host, obs, None, time.monotonic() - started, obs.requests + extra, False, st.log.copy(),
                     read.baseline)

    async def _retry_fru(self, st: IpmiState, host: str, left: float) -> int:
        """Read the FRU (identity, parts) within ``left`` seconds, after a minute visit's read
        (``busy.retry_fru``); kept for the next visits when it answers, given up on (halted,
        retried FRU_RETRY later) when it does not. Never raises for the BMC's failure; the
        commands it sent."""
        halt = threading.Event()
        reading: Reading | None = None
        end = busy.End.FAILED
        found: tuple[Identity, tuple[Component, ...]] | None = None
        try:
            async with asyncio.timeout(max(0.0, left)), st.visiting:
                sent = st.session.sent  # before the thread starts sending
                reading = st.reading = Reading(self.pool.submit(self._read_fru, st, halt, host), halt, True, sent)
                found = await asyncio.wrap_future(reading.future)
            end = busy.End.ANSWERED
        except TimeoutError:
            end = busy.End.TIMED_OUT if reading is not None else busy.End.WAITED_OUT
        except (DcopsError, ReadCut) as exc:
            log.info("%s: FRU read again: %s", host, redact(str(exc)))
        except asyncio.CancelledError:
            end = busy.End.CANCELLED
            raise
        finally:
            todo = busy.settle(end, True)
            if todo.halt and reading is not None:
                reading.halt.set()
            if found is not None:
                st.identity, st.components = found
                st.fru_cut = False
            else:
                st.fru_cut_at = time.monotonic()  # cut, failed or never started: FRU_RETRY from now
        if end is not busy.End.ANSWERED:
            log.info("%s: FRU read again, %s: identity still unknown, tried again in %gs", host, end.value,
                     self.fru_retry)
        return st.session.sent - reading.sent if reading is not None else 0

    def _read_fru(self, st: IpmiState, halt: threading.Event, host: str) -> tuple[Identity, tuple[Component, ...]]:
        with self._halting(st, halt):
            full = IpmiInventory(st.session, host).observe(sections={"components", "firmware"})
        return full.identity, full.components

    @staticmethod
    def _settle(st: IpmiState, reading: Reading | None, end: busy.End, read: Read | None) -> None:
        """Do what ``busy.settle`` says with the read of a visit that ended (on the event loop: the
        threads never change the state, so a read given up on cannot move the log position)."""
        todo = busy.settle(end, reading.fru if reading is not None else False)
        if todo.halt and reading is not None:
            reading.halt.set()
        if todo.fru_cut is not None:
            st.fru_cut = todo.fru_cut
            if todo.fru_cut:
                st.fru_cut_at = time.monotonic()
        if todo.keep and read is not None:
            st.log, st.sel_stamp = read.log, read.sel_stamp
            if read.identity is not None:
                st.identity, st.components = read.identity, read.components

    def _read(self, st: IpmiState, halt: threading.Event, host: str, sections: tuple[str, ...], refresh: bool,
              fru: bool) -> Read:
        with self._halting(st, halt):
            return self._read_now(st, host, sections, refresh, fru)

    @staticmethod
    @contextlib.contextmanager
    def _halting(st: IpmiState, halt: threading.Event) -> Iterator[None]:
        """The session to oneself (in a worker thread), stopped before its next command once
        ``halt`` is set (``IpmiSession.checkpoint``)."""
        with st.lock:
            st.session.halt = halt
            try:
                yield
            finally:
                st.session.halt = None

    def _read_now(self, st: IpmiState, host: str, sections: tuple[str, ...], refresh: bool, fru: bool) -> Read:
        started = time.monotonic()
        taken = dt.datetime.now(dt.UTC)
        sent = st.session.sent
        identity, components = st.identity, st.components
        if fru:
            full = IpmiInventory(st.session, host).observe(sections={"components", "firmware"})
            identity, components = full.identity, full.components
        errors: list[ReadError] = []
        power = IpmiPower(st.session).status()
        sensors: list[Sensor] = []
        try:
            sensors = read_sensors(st.session)
        except ApplyError as exc:
            errors.append(ReadError("sdr", str(exc)))
        # A PSU's sensors point at its FRU part (read on the inventory tier, kept): its fault
        # names the PSU's serial and model every minute, not only on inventory rounds.
        sensors = link_psu_sensors(sensors, components)
        entries: list[LogEntry] = []
        baseline = False
        position, stamp = st.log, st.sel_stamp
        if "logs" in sections:
            entries, baseline, position, stamp = self._new_entries(st, errors)
        health = worst_health(s.health for s in sensors) if sensors else Health.UNKNOWN
        ident = dataclasses.replace(identity or Identity(), power_state=power, health=health)
        psus = tuple(c for c in components if c.kind is ComponentKind.PSU)
        obs = Observation(host=host, taken_at=taken, protocol="ipmi", identity=ident,
                          components=components if "components" in sections or refresh else psus,
                          sensors=tuple(sensors), log_entries=tuple(entries), log_cursor=position.cursor,
                          errors=tuple(errors), duration_seconds=round(time.monotonic() - started, 6),
                          requests=st.session.sent - sent)
        return Read(obs, baseline, position, stamp, identity if fru else None, components)

    def _new_entries(self, st: IpmiState, errors: list[ReadError]
                     ) -> tuple[list[LogEntry], bool, LogPosition, tuple[int, int] | None]:
        """New SEL records: none when Get SEL Info shows no change; else those after the cursor
        (all of the SEL after it was erased), read incrementally. Also where the log stands after
        them and the SEL's change stamp (the state's, unchanged, when the SEL was not read)."""
        try:
            info = sel_info(st.session)
        except ApplyError as exc:
            errors.append(ReadError("sel", str(exc)))
            return [], False, st.log, st.sel_stamp
        stamp = (info.added, info.erased)
        baseline = st.log.cursor is None
        if st.sel_stamp == stamp and not baseline:
            return [], False, st.log, st.sel_stamp  # nothing added or erased: the SEL is not read at all
        cleared = st.sel_stamp is not None and info.erased != st.sel_stamp[1]
        since = None if cleared or baseline else st.log.cursor
        try:
            entries = sel_entries_since(st.session, since, limit=self.log_limit)
        except (ApplyError, UnreachableError) as exc:
            errors.append(ReadError("sel", str(exc)))
            return [], False, st.log, st.sel_stamp
        newest = max([e.id for e in entries] + ([since] if since else []), key=record_order, default="0")
        position = LogPosition(newest, info.count, "asc", "ipmi")
        return entries, baseline, position, stamp
