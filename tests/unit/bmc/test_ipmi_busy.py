"""A visit that gives up on its IPMI read (its deadline, the round's cancellation): what happens to
the read and what the BMC's next visit reads.

The decisions are pure and table-tested (``dcops.bmc.ipmi.busy``). The fleet's part runs on a
stand-in for pyghmi's ``Command`` that holds one request until the test lets it answer (the real
BMC behind a slow FRU is tests/integration/patrol/test_ipmi_busy.py): the read given up on sends
nothing after the request in flight, the next read waits for that one and answers, never two
requests at once on one session, and nothing of the given-up read is kept (the SEL is read again
from where it was)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from dcops.bmc.ipmi import IpmiSession, ReadCut, busy, fru_locators
from dcops.bmc.ipmi.busy import End, Settle
from dcops.bmc.ipmi.fleet import IpmiFleet
from dcops.models import BmcEndpoint, Protocol
from dcops.observation import Identity
from dcops.secrets import Secret
from tests.helpers.timing import PATIENT

# ---------------------------------------------------------------------------------------- pure

@pytest.mark.parametrize(("end", "reads_fru", "expected"), [
    (End.ANSWERED, False, Settle(keep=True, halt=False, fru_cut=None)),
    (End.ANSWERED, True, Settle(keep=True, halt=False, fru_cut=False)),  # the FRU answered: minute visits may read it
    (End.TIMED_OUT, False, Settle(keep=False, halt=True, fru_cut=None)),
    (End.TIMED_OUT, True, Settle(keep=False, halt=True, fru_cut=True)),  # a slow FRU: left to the inventory tier
    (End.CANCELLED, False, Settle(keep=False, halt=True, fru_cut=None)),
    (End.CANCELLED, True, Settle(keep=False, halt=True, fru_cut=True)),
    (End.FAILED, True, Settle(keep=False, halt=False, fru_cut=None)),  # its thread ended on the BMC's error
    (End.WAITED_OUT, True, Settle(keep=False, halt=False, fru_cut=None)),  # never started: nothing to stop
])
def test_settle(end: End, reads_fru: bool, expected: Settle) -> None:
    assert busy.settle(end, reads_fru) == expected


@pytest.mark.parametrize(("refresh", "known", "cut", "expected"), [
    (True, True, False, True),  # the inventory tier reads it, always
    (True, False, True, True),  # ... also after a cut (it is retried there)
    (False, True, False, False),  # a minute visit uses the identity kept
    (False, False, False, True),  # first visit of this process: identity, PSU parts for the sensors
    (False, False, True, False),  # the FRU read was cut: the minute re-read reads the minute facts only
    (False, True, True, False),
])
def test_reads_fru(refresh: bool, known: bool, cut: bool, expected: bool) -> None:
    assert busy.reads_fru(refresh, known, cut) is expected


@pytest.mark.parametrize(("end", "says"), [
    (End.TIMED_OUT, "h1: no complete IPMI answer within 35s"),
    (End.WAITED_OUT, "h1: no complete IPMI answer within 20s (the BMC had not answered the last command of "
                     "the read before, which was stopped)"),
])
def test_timeout_error(end: End, says: str) -> None:
    assert busy.timeout_error("h1", 35 if end is End.TIMED_OUT else 20, end) == says


# ------------------------------------------------------------------------- the session's halt

class SweepCmd:
    def __init__(self) -> None:
        self.ipmi_session = self
        self.sent: list[str] = []
        self.logged_out = False

    def logout(self) -> None:
        self.logged_out = True

    def get_power(self) -> dict[str, str]:
        self.sent.append("power")
        return {"powerstate": "on"}

    def get_sensor_data(self) -> Iterator[str]:
        for name in ("Inlet Temp", "CPU1 Temp", "Fan1"):
            self.sent.append(name)  # one Get Sensor Reading each
            yield name

    def init_sdr(self) -> None:
        self.sent.append("sdr")


def halted_session(when: int | None) -> tuple[IpmiSession, SweepCmd, threading.Event]:
    """A session over SweepCmd whose read is given up on before any call (``when`` 0), or after
    ``when`` sensor readings of a sweep."""
    s = IpmiSession("h1", BmcEndpoint("127.0.0.1", 6230, Protocol.IPMI, username="admin"), Secret("pw"))
    cmd = SweepCmd()
    s._cmd = cmd
    s.halt = threading.Event()
    if when == 0:
        s.halt.set()
    elif when is not None:
        sweep = cmd.get_sensor_data

        def halting() -> Iterator[str]:
            for n, name in enumerate(sweep(), 1):
                if n == when:
                    s.halt.set()  # given up on while this reading was in flight
                yield name
        cmd.get_sensor_data = halting  # type: ignore[method-assign]
    return s, cmd, s.halt


@pytest.mark.parametrize(("when", "sent"), [
    (None, ["Inlet Temp", "CPU1 Temp", "Fan1"]),  # not given up on: the whole sweep
    (0, []),  # given up on before the call: nothing sent
    (1, ["Inlet Temp"]),  # during the first reading: the sweep stops after it
    (2, ["Inlet Temp", "CPU1 Temp"]),
])
def test_a_halted_read_stops_before_its_next_request_and_keeps_the_session(when: int | None, sent: list[str]) -> None:
    s, cmd, _ = halted_session(when)
    if when is None:
        assert s.call("sensors", "get_sensor_data") == sent
    else:
        with pytest.raises(ReadCut, match="h1: IPMI read stopped before its next command"):
            s.call("sensors", "get_sensor_data")
    assert cmd.sent == sent
    # Stopped between two requests: the session is sound and kept for the next read, not logged out.
    assert s._cmd is cmd and not cmd.logged_out


def test_a_halted_read_is_not_taken_for_a_bmc_refusal() -> None:
    """fru_locators turns pyghmi's own failures into ApplyError (a FRU list the read goes on
    without); a read given up on must stop there, not go on."""
    s, cmd, _ = halted_session(0)
    with pytest.raises(ReadCut):
        fru_locators(s)
    assert cmd.sent == []


# ------------------------------------------------------------------------------ the fleet's part

class HeldBmc:
    """pyghmi's ``Command`` for a BMC with three sensors, FRU 0 of 96 bytes (read 32 bytes at most,
    as ipmi_sim), an empty SEL that changed since the last look. The request named ``hold`` (the
    first of its kind) does not answer until ``answer()``. Records every request, and whether two
    were ever in flight at once (``overlap``)."""

    def __init__(self, hold: str) -> None:
        self.ipmi_session = self
        self.hold = hold
        self.holding = threading.Event()  # the held request is in flight
        self.answered = threading.Event()
        self.sent: list[str] = []
        self.overlap = False
        self._active = 0
        self._count = threading.Lock()
        self._sdr = SimpleNamespace(fru={})

    def _request(self, name: str) -> None:
        with self._count:
            self._active += 1
            self.overlap |= self._active > 1
            self.sent.append(name)
        try:
            if name == self.hold and not self.holding.is_set():
                self.holding.set()
                assert self.answered.wait(PATIENT), "the test never let the held request answer"
        finally:
            with self._count:
                self._active -= 1

    def answer(self) -> None:
        self.answered.set()

    def logout(self) -> None:
        pass

    def init_sdr(self) -> Any:
        return self._sdr

    def get_power(self) -> dict[str, str]:
        self._request("power")
        return {"powerstate": "on"}

    def get_sensor_data(self) -> Iterator[Any]:
        for name in ("Inlet Temp", "CPU1 Temp", "Fan1 Speed"):
            self._request("sensor")
            yield SimpleNamespace(name=name, units="C", value=30.0, health=0, states=[], unavailable=0, type="")

    def raw_command(self, netfn: int, command: int, data: Any = ()) -> dict[str, Any]:
        data = list(data)
        match (netfn, command):
            case (0x06, 0x01):
                self._request("device id")
                return {"data": [0x20, 0x01, 0x01, 0x02, 0x02, 0x9F, 0x91, 0x12, 0x00, 0x02, 0x0F, 0, 0, 0, 0]}
            case (0x0A, 0x10):
                self._request("fru info")
                return {"data": [96, 0, 0]}
            case (0x0A, 0x11):
                self._request("fru data")
                if data[3] > 32:
                    return {"code": 0xC8}  # request data length: ask for less
                return {"data": [data[3]] + [0] * data[3]}
            case (0x0A, 0x40):
                self._request("sel info")  # 0 records, added at 1000, erased at 500
                return {"data": [0x51, 0, 0, 0xFF, 0xFF] + list((1000).to_bytes(4, "little"))
                        + list((500).to_bytes(4, "little")) + [0x02]}
            case (0x0A, 0x43):
                self._request("sel entry")
                return {"code": 0xCB}  # no record there: the SEL is empty
        raise AssertionError(f"unexpected request {netfn:#x}/{command:#x}")


HOST, PASSWORD = "h1", Secret("pw")
ENDPOINT = BmcEndpoint("127.0.0.1", 6230, Protocol.IPMI, username="admin")
MINUTE, INVENTORY = ("sensors", "logs"), ("components", "sensors", "firmware", "logs")


def fleet_over(bmc: HeldBmc, *, known: bool) -> IpmiFleet:
    fleet = IpmiFleet(workers=4)
    st = fleet.state(HOST, ENDPOINT, PASSWORD, None)
    st.session._cmd = bmc
    if known:
        st.identity = Identity(serial="SN1")  # read before: a minute visit reads no FRU
    return fleet


@pytest.mark.parametrize(("hold", "refresh"), [
    ("fru data", True),  # a slow FRU: the inventory visit, cut in its FRU read
    ("sensor", False),  # a sweep: stopped between two readings
    ("sel entry", False),  # the log read: its position must not move
])
def test_a_cancelled_read_stops_and_the_next_visit_reads_the_bmc(hold: str, refresh: bool) -> None:
    """The round is cancelled while a read waits for the BMC (request ``hold`` in flight); the
    next round's visit starts while that request is still in flight."""
    bmc = HeldBmc(hold)

    async def rounds() -> None:
        fleet = fleet_over(bmc, known=not refresh)
        st = fleet.bmcs[HOST]
        try:
            first = asyncio.ensure_future(fleet.visit(HOST, ENDPOINT, PASSWORD, deadline=PATIENT, refresh=refresh,
                                                      sections=INVENTORY if refresh else MINUTE))
            assert await asyncio.to_thread(bmc.holding.wait, PATIENT)
            first.cancel()  # the round's deadline
            with pytest.raises(asyncio.CancelledError):
                await first
            held = len(bmc.sent)
            second = asyncio.ensure_future(fleet.visit(HOST, ENDPOINT, PASSWORD, sections=MINUTE, deadline=PATIENT))
            for _ in range(20):
                await asyncio.sleep(0)  # the second visit runs as far as it can: it waits
            assert not second.done() and len(bmc.sent) == held  # nothing sent beside the request in flight
            bmc.answer()
            visit = await second
            assert visit.observation is not None and visit.error is None, visit.error
            assert [s.name for s in visit.observation.sensors] == ["Inlet Temp", "CPU1 Temp", "Fan1 Speed"]
            # The cut read sent nothing after its request in flight: the next request is the next
            # visit's first (power), and that visit reads no FRU (it was cut: the inventory tier's).
            assert bmc.sent[held:] == ["power", "sensor", "sensor", "sensor", "sel info", "sel entry"], bmc.sent
            assert not bmc.overlap
            # The log was read again from where it was: as a first read (baseline), and only now.
            assert visit.baseline and visit.log is not None and visit.log.cursor == "0"
            assert st.sel_stamp == (1000, 500) and st.fru_cut is refresh
        finally:
            bmc.answer()
            fleet.close()

    asyncio.run(rounds())


def test_a_timed_out_read_is_reported_so_keeps_nothing_and_the_next_visit_answers() -> None:
    """The deadline runs out while the SEL is read (Get SEL Entry held): the visit says it timed
    out; the read, let answer afterwards, finishes without sending more but keeps nothing (its
    visit gave up on it), so the next visit reads the log again from where it was."""
    bmc = HeldBmc("sel entry")

    async def rounds() -> None:
        fleet = fleet_over(bmc, known=True)
        st = fleet.bmcs[HOST]
        try:
            # The held request never answers before the deadline: it runs out, whatever the load.
            cut = await fleet.visit(HOST, ENDPOINT, PASSWORD, sections=MINUTE, deadline=0.5)
            assert cut.timed_out and cut.observation is None and cut.log is None
            assert cut.error == "h1: no complete IPMI answer within 0.5s"
            bmc.answer()
            visit = await fleet.visit(HOST, ENDPOINT, PASSWORD, sections=MINUTE, deadline=PATIENT)
            assert visit.observation is not None and visit.error is None, visit.error
            assert visit.baseline and visit.log is not None and visit.log.cursor == "0"
            assert bmc.sent[-2:] == ["sel info", "sel entry"] and not bmc.overlap
            assert st.sel_stamp == (1000, 500)
        finally:
            bmc.answer()
            fleet.close()

    asyncio.run(rounds())


def test_a_visit_that_runs_out_waiting_for_the_read_before_sends_nothing() -> None:
    """The read before was given up on and its request still gets no answer: the next visit runs
    out of its own deadline waiting for it, says so, and sends nothing (no second request on
    the session)."""
    bmc = HeldBmc("fru data")

    async def rounds() -> None:
        fleet = fleet_over(bmc, known=False)
        try:
            first = asyncio.ensure_future(fleet.visit(HOST, ENDPOINT, PASSWORD, sections=INVENTORY,
                                                      deadline=PATIENT, refresh=True))
            assert await asyncio.to_thread(bmc.holding.wait, PATIENT)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            held = len(bmc.sent)
            visit = await fleet.visit(HOST, ENDPOINT, PASSWORD, sections=MINUTE, deadline=0.2)
            assert visit.timed_out and visit.observation is None
            assert "had not answered the last command of the read before" in (visit.error or "")
            assert len(bmc.sent) == held and not bmc.overlap
        finally:
            bmc.answer()
            fleet.close()

    asyncio.run(rounds())


# ------------------------------------------------------------- a cut FRU read, tried again later

@pytest.mark.parametrize(("refresh", "known", "cut", "since", "expected"), [
    (False, False, True, 900.0, True),  # identity unknown, cut 15 min ago: tried after the minute facts
    (False, False, True, 899.0, False),  # cut too recently: not yet
    (False, True, True, 10_000.0, False),  # identity known (an inventory round read it since)
    (False, False, False, 10_000.0, False),  # not cut: the minute visit reads it in its read (reads_fru)
    (True, False, True, 10_000.0, False),  # the inventory tier reads the FRU in its own read
])
def test_retry_fru(refresh: bool, known: bool, cut: bool, since: float, expected: bool) -> None:
    assert busy.retry_fru(refresh, known, cut, since) is expected


def _cut_long_ago(fleet: IpmiFleet) -> Any:
    st = fleet.bmcs[HOST]
    st.fru_cut, st.fru_cut_at = True, time.monotonic() - 2 * busy.FRU_RETRY
    return st


def test_a_fru_cut_long_ago_is_read_after_the_minute_facts_and_kept() -> None:
    """Without inventory rounds (``inventory_every: 0``) nothing read a cut FRU again: the host
    went without identity for the life of the process. Now a minute visit reads it after its
    minute facts, and the next visits have it."""
    bmc = HeldBmc("nothing is held")

    async def rounds() -> None:
        fleet = fleet_over(bmc, known=False)
        st = _cut_long_ago(fleet)
        try:
            visit = await fleet.visit(HOST, ENDPOINT, PASSWORD, sections=MINUTE, deadline=PATIENT)
            assert visit.observation is not None and visit.error is None, visit.error
            assert bmc.sent.index("fru info") > bmc.sent.index("sel info")  # after the minute facts
            assert st.identity is not None and not st.fru_cut
            minute = len(bmc.sent)
            again = await fleet.visit(HOST, ENDPOINT, PASSWORD, sections=MINUTE, deadline=PATIENT)
            assert again.observation is not None and "fru info" not in bmc.sent[minute:]
        finally:
            fleet.close()

    asyncio.run(rounds())


def test_a_fru_cut_again_costs_the_minute_visit_nothing_it_read() -> None:
    """The FRU retried after the minute facts gets no answer before the deadline: the visit still
    has its power, sensors and log; the FRU read is stopped and tried again FRU_RETRY later, and
    the next visit waits only for its command in flight."""
    bmc = HeldBmc("fru data")

    async def rounds() -> None:
        fleet = fleet_over(bmc, known=False)
        st = _cut_long_ago(fleet)
        try:
            visit = await fleet.visit(HOST, ENDPOINT, PASSWORD, sections=MINUTE, deadline=2.0)
            assert visit.observation is not None and visit.error is None and not visit.timed_out, visit
            assert [s.name for s in visit.observation.sensors] == ["Inlet Temp", "CPU1 Temp", "Fan1 Speed"]
            assert visit.log is not None and st.sel_stamp == (1000, 500)  # its log read is kept
            assert bmc.holding.is_set() and st.identity is None
            assert st.fru_cut and time.monotonic() - st.fru_cut_at < busy.FRU_RETRY  # not again next minute
            held = len(bmc.sent)
            bmc.answer()
            again = await fleet.visit(HOST, ENDPOINT, PASSWORD, sections=MINUTE, deadline=PATIENT)
            assert again.observation is not None, again.error
            # The stopped FRU read sent nothing after its command in flight; no FRU this minute.
            assert bmc.sent[held:] == ["power", "sensor", "sensor", "sensor", "sel info"], bmc.sent[held:]
            assert not bmc.overlap
        finally:
            bmc.answer()
            fleet.close()

    asyncio.run(rounds())
