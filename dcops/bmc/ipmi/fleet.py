"""IPMI reads of many BMCs, round after round: pyghmi sessions (``IpmiSession``) kept open between
rounds, in a thread pool (pyghmi is blocking), one visit at a time per BMC.

A minute visit reads the power state and the SDR sensors. The SEL is read only when ``Get SEL
Info`` (one small request) says records were added or erased since the last visit, and then only
the records after the cursor (``sel_entries_since``: Get SEL Entry from the cursor on). FRU
identity is read on the inventory tier (``refresh``) and kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dcops.bmc.ipmi import (
    IpmiInventory,
    IpmiPower,
    IpmiSession,
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


@dataclass
class IpmiState:
    session: IpmiSession
    log: LogPosition = field(default_factory=LogPosition)
    sel_stamp: tuple[int, int] | None = None  # (last addition, last erase) from Get SEL Info
    identity: Identity | None = None
    components: tuple[Component, ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)


class IpmiFleet:
    """Reads many IPMI BMCs with kept sessions (``workers`` threads at most)."""

    def __init__(self, *, workers: int = 32, timeout: float = 10.0, log_limit: int = 200) -> None:
        self.timeout = timeout
        self.log_limit = log_limit
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dcops-ipmi")
        self.bmcs: dict[str, IpmiState] = {}

    def state(self, host: str, endpoint: BmcEndpoint, password: Secret, log: LogPosition | None) -> IpmiState:
        st = self.bmcs.get(host)
        if st is None or st.session.endpoint != endpoint:
            st = self.bmcs[host] = IpmiState(IpmiSession(host, endpoint, password, timeout=self.timeout))
            st.log = (log or LogPosition()).of("ipmi")
        return st

    def close(self) -> None:
        for st in self.bmcs.values():
            st.session.close()
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def visit(self, host: str, endpoint: BmcEndpoint, password: Secret, *, sections: Iterable[str],
                    deadline: float = 20.0, log: LogPosition | None = None, refresh: bool = False) -> Visit:
        """Read one BMC within ``deadline``; never raises for a BMC's failure."""
        st = self.state(host, endpoint, password, log)
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.pool, self._read, st, host, tuple(sections), refresh)
        try:
            obs, baseline = await asyncio.wait_for(future, deadline)
        except TimeoutError:
            # A stuck session: start clean next round. Closed in a thread of its own, never on
            # the event loop: close() waits for the session's lock, which the worker still
            # reading holds for as long as pyghmi keeps it (a whole round's patrol, every
            # console and page stopped behind one BMC otherwise).
            threading.Thread(target=st.session.close, name=f"dcops-ipmi-close-{host}", daemon=True).start()
            return Visit(host, None, f"{host}: no complete IPMI answer within {deadline:g}s",
                         time.monotonic() - started, timed_out=True)
        except DcopsError as exc:
            return Visit(host, None, redact(str(exc)), time.monotonic() - started)
        return Visit(host, obs, None, time.monotonic() - started, obs.requests, False, st.log.copy(), baseline)

    def _read(self, st: IpmiState, host: str, sections: tuple[str, ...], refresh: bool) -> tuple[Observation, bool]:
        with st.lock:
            started = time.monotonic()
            taken = dt.datetime.now(dt.UTC)
            requests = 0
            if refresh or st.identity is None:
                full = IpmiInventory(st.session, host).observe(sections={"components", "firmware"})
                st.identity, st.components = full.identity, full.components
                requests += 4
            errors: list[ReadError] = []
            power = IpmiPower(st.session).status()
            requests += 1
            sensors: list[Sensor] = []
            try:
                sensors = read_sensors(st.session)
                requests += len(sensors) + 1
            except ApplyError as exc:
                errors.append(ReadError("sdr", str(exc)))
            # A PSU's sensors point at its FRU part (read on the inventory tier, kept): its fault
            # names the PSU's serial and model every minute, not only on inventory rounds.
            sensors = link_psu_sensors(sensors, st.components)
            entries: list[LogEntry] = []
            baseline = False
            if "logs" in sections:
                entries, baseline, n = self._new_entries(st, errors)
                requests += n
            health = worst_health(s.health for s in sensors) if sensors else Health.UNKNOWN
            identity = dataclasses.replace(st.identity or Identity(), power_state=power, health=health)
            psus = tuple(c for c in st.components if c.kind is ComponentKind.PSU)
            obs = Observation(host=host, taken_at=taken, protocol="ipmi", identity=identity,
                              components=st.components if "components" in sections or refresh else psus,
                              sensors=tuple(sensors), log_entries=tuple(entries), log_cursor=st.log.cursor,
                              errors=tuple(errors), duration_seconds=round(time.monotonic() - started, 6),
                              requests=requests)
            return obs, baseline

    def _new_entries(self, st: IpmiState, errors: list[ReadError]) -> tuple[list[LogEntry], bool, int]:
        """New SEL records: none when Get SEL Info shows no change; else those after the cursor
        (all of the SEL after it was erased), read incrementally."""
        try:
            info = sel_info(st.session)
        except ApplyError as exc:
            errors.append(ReadError("sel", str(exc)))
            return [], False, 1
        stamp = (info.added, info.erased)
        baseline = st.log.cursor is None
        if st.sel_stamp == stamp and not baseline:
            return [], False, 1  # nothing added or erased: the SEL is not read at all
        cleared = st.sel_stamp is not None and info.erased != st.sel_stamp[1]
        since = None if cleared or baseline else st.log.cursor
        try:
            entries = sel_entries_since(st.session, since, limit=self.log_limit)
        except (ApplyError, UnreachableError) as exc:
            errors.append(ReadError("sel", str(exc)))
            return [], False, 2
        st.sel_stamp = stamp
        newest = max([e.id for e in entries] + ([since] if since else []), key=record_order, default="0")
        st.log = LogPosition(newest, info.count, "asc", "ipmi")
        return entries, baseline, 2 + len(entries) + (1 if since else 0)

