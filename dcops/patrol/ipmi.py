"""Patrol's IPMI reader: the BMC layer's pyghmi sessions (``dcops.bmc.ipmi``) kept open between
rounds, in a thread pool (pyghmi is blocking), one visit at a time per BMC.

A minute round reads the power state and the SDR sensors. The SEL is read only when ``Get SEL
Info`` (one small request) says records were added or erased since the last round, and only the
records after the cursor become news. FRU identity is read on the inventory tier and kept.
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
from typing import Any

from dcops.bmc.ipmi import IpmiInventory, IpmiPower, IpmiSession, _sensor
from dcops.errors import ApplyError, DcopsError, UnreachableError
from dcops.models import BmcEndpoint
from dcops.observation import Health, Identity, Observation, ReadError, worst_health
from dcops.patrol.redfish import LogPosition, Visit
from dcops.secrets import Secret, redact


def _id_key(value: str | None) -> int:
    return int(value) if value and value.isdigit() else -1


@dataclass
class IpmiState:
    session: IpmiSession
    log: LogPosition = field(default_factory=LogPosition)
    sel_stamp: tuple[int, int] | None = None  # (last addition, last erase) from Get SEL Info
    identity: Identity | None = None
    components: tuple[Any, ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)


class IpmiFleet:
    def __init__(self, *, workers: int = 32, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dcops-ipmi")
        self.bmcs: dict[str, IpmiState] = {}

    def state(self, host: str, endpoint: BmcEndpoint, password: Secret, log: LogPosition | None) -> IpmiState:
        st = self.bmcs.get(host)
        if st is None or st.session.endpoint != endpoint:
            st = self.bmcs[host] = IpmiState(IpmiSession(host, endpoint, password, timeout=self.timeout))
            if log is not None:
                st.log = log
        return st

    def close(self) -> None:
        for st in self.bmcs.values():
            st.session.close()
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def visit(self, host: str, endpoint: BmcEndpoint, password: Secret, *, sections: Iterable[str],
                    deadline: float = 20.0, log: LogPosition | None = None, refresh: bool = False) -> Visit:
        st = self.state(host, endpoint, password, log)
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.pool, self._read, st, host, tuple(sections), refresh)
        try:
            obs, baseline = await asyncio.wait_for(future, deadline)
        except TimeoutError:
            st.session.close()  # a stuck session: start clean next round
            return Visit(host, None, f"no complete answer within {deadline:g}s", time.monotonic() - started)
        except DcopsError as exc:
            return Visit(host, None, redact(str(exc)), time.monotonic() - started)
        return Visit(host, obs, None, time.monotonic() - started, obs.requests, False,
                     LogPosition(st.log.cursor, st.log.count, st.log.order), baseline)

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
            sensors = []
            try:
                sensors = [_sensor(r) for r in st.session.call("sensors", "get_sensor_data")]
                requests += len(sensors) + 1
            except ApplyError as exc:
                errors.append(ReadError("sdr", str(exc)))
            entries: list[Any] = []
            baseline = False
            if "logs" in sections:
                entries, baseline, n = self._new_entries(st, host, errors)
                requests += n
            health = worst_health(s.health for s in sensors) if sensors else Health.UNKNOWN
            identity = dataclasses.replace(st.identity or Identity(), power_state=power, health=health)
            obs = Observation(host=host, taken_at=taken, protocol="ipmi", identity=identity,
                              components=st.components if "components" in sections or refresh else (),
                              sensors=tuple(sensors), log_entries=tuple(entries), log_cursor=st.log.cursor,
                              errors=tuple(errors), duration_seconds=round(time.monotonic() - started, 6),
                              requests=requests)
            return obs, baseline

    def _new_entries(self, st: IpmiState, host: str, errors: list[ReadError]) -> tuple[list[Any], bool, int]:
        info = st.session.raw(0x0A, 0x40)  # Get SEL Info
        if info.get("code"):
            errors.append(ReadError("sel", f"Get SEL Info: completion code {info['code']:#x}"))
            return [], False, 1
        data = info["data"]
        count = data[1] | (data[2] << 8)
        added = int.from_bytes(bytes(data[5:9]), "little")
        erased = int.from_bytes(bytes(data[9:13]), "little")
        stamp = (added, erased)
        baseline = st.log.cursor is None
        if st.sel_stamp == stamp and not baseline:
            return [], False, 1  # nothing added or erased: the SEL is not read at all
        cleared = st.sel_stamp is not None and erased != st.sel_stamp[1]
        st.sel_stamp = stamp
        try:
            entries = IpmiInventory(st.session, host).entries(limit=200)
        except (ApplyError, UnreachableError) as exc:
            errors.append(ReadError("sel", str(exc)))
            return [], False, 2
        floor = -1 if cleared or baseline else _id_key(st.log.cursor)
        new = [e for e in entries if _id_key(e.id) > floor]
        newest = max((e.id for e in entries), key=_id_key, default=st.log.cursor or "0")
        st.log = LogPosition(newest, count, "asc")
        return new, baseline, 2 + count
