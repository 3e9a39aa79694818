"""The Redfish connector and the async read path against ``dcops sim``: session exhaustion, 503
with Retry-After, ETag/If-Match (HPE requires it for BIOS settings), slow and dead BMCs -- each
bounded by the configured deadline, and no session left on the simulator afterwards."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from dcops.bmc.redfish.aio import Target, observe_many
from dcops.bmc.redfish.connector import Timeouts
from dcops.errors import ApplyError, UnreachableError
from dcops.secrets import Secret
from dcops.sim.faults import apply_fault, clear_faults
from dcops.sim.testing import ThreadedFleet
from tests.helpers.simfleet import connector, device, fleet, requests, sessions, wait_for
from tests.helpers.timing import PATIENT

pytestmark = pytest.mark.timeout(90)
PROFILES = ("dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13")
DELL, HPE, LENOVO, SUPERMICRO = range(4)


@pytest.fixture
def sim() -> Iterator[ThreadedFleet]:
    with fleet(4, PROFILES) as running:
        yield running
        # Release requests hanging on a "dead" BMC before the fleet stops.
        running.call(lambda: [clear_faults(b) for b in running.fleet.created()])


def fault(sim: ThreadedFleet, index: int, kind: str, **args: str) -> None:
    sim.call(lambda: apply_fault(sim.fleet.bmc(index), kind, args))


def test_session_exhaustion_waits_for_a_free_session_within_the_deadline(sim: ThreadedFleet) -> None:
    limit = sim.call(lambda: sim.fleet.bmc(SUPERMICRO).flavour.session_limit)
    holders = [connector(sim, SUPERMICRO) for _ in range(limit)]
    for conn in holders:
        conn.get("/redfish/v1/Systems")
    assert sessions(sim, SUPERMICRO) == limit
    # The BMC says "Retry-After: 30"; with a 20 s deadline the connector gives up at once rather
    # than sit out the deadline (the bound is far from both, so a busy machine cannot blur them).
    started = time.monotonic()
    with pytest.raises(UnreachableError, match="deadline|gave up"), \
            connector(sim, SUPERMICRO, Timeouts(connect=1, read=2, deadline=20, retries=5, max_pause=30)) as extra:
        extra.get("/redfish/v1/Systems")
    assert time.monotonic() - started < 15
    # With short pauses it retries, and gets in once a session is freed.
    threading.Timer(0.5, holders[0].close).start()
    patient = Timeouts(connect=1, read=2, deadline=PATIENT, retries=400, backoff=0.1, max_pause=0.2)
    with connector(sim, SUPERMICRO, patient) as late:
        assert late.get("/redfish/v1/Systems")["Members"]
    for conn in holders:
        conn.close()
    assert sessions(sim) == 0
    refused = [r for r in requests(sim, SUPERMICRO) if r[2] == "POST" and r[4] == 503]
    assert refused, "the simulator should have refused logins at its session limit"


def test_503_with_retry_after_is_retried_and_bounded(sim: ThreadedFleet) -> None:
    fault(sim, LENOVO, "bmc_errors", rate="0.3", status="503")
    patient = Timeouts(connect=1, read=3, deadline=30, retries=10, backoff=0.01, max_pause=0.01)
    with device(sim, LENOVO, patient) as dev:
        obs = dev.inventory.observe({"components"})
    assert obs.of_kind(obs.components[0].kind)
    assert any(r[4] == 503 for r in requests(sim, LENOVO))
    assert sessions(sim) == 0  # the logout was retried past its 503s
    # Every answer a 503 with Retry-After 30: the first wait would cross the 20 s deadline -> fail
    # now, not at the deadline.
    fault(sim, LENOVO, "bmc_errors", rate="1.0", status="503")
    started = time.monotonic()
    with pytest.raises(UnreachableError), device(sim, LENOVO, Timeouts(connect=1, read=2, deadline=20)) as dev:
        dev.power.status()
    assert time.monotonic() - started < 15
    # A BMC that answers a login with 503 made no session, so nothing is left behind.
    logins = [r for r in requests(sim, LENOVO) if r[2] == "POST" and r[3].endswith("/Sessions") and r[4] == 503]
    assert len(logins) >= 1 and sessions(sim) == 0


def test_hpe_bios_patch_sends_if_match_and_recovers_from_412(sim: ThreadedFleet) -> None:
    with device(sim, HPE) as dev:
        state = dev.bios.read()
        assert state.registry and "OnReset" in state.apply_times
        name, value = _changeable(state)
        dev.bios.stage({name: value})
        assert dev.bios.read(registry=False).pending == {name: value}
        # A stale ETag: 412, read again, retry with the fresh one.
        conn = dev.bios.s.conn  # type: ignore[attr-defined]
        settings = str(state.settings_uri)
        conn.act("PATCH", settings, {"Attributes": {name: value}}, "bios set", etag='W/"00000000"')
        # No ETag at all: iLO answers 428; the connector fetches one and retries.
        conn.act("PATCH", settings, {"Attributes": {name: value}}, "bios set")
    patches = [r[4] for r in requests(sim, HPE) if r[2] == "PATCH"]
    assert patches == [200, 412, 200, 428, 200]
    assert sessions(sim) == 0


def _changeable(state: object) -> tuple[str, str]:
    current = state.current  # type: ignore[attr-defined]
    for attr in state.registry.values():  # type: ignore[attr-defined]
        if attr.type == "Enumeration" and not attr.read_only and len(attr.values) > 1 and attr.name in current:
            return attr.name, next(v for v in attr.values if v != current[attr.name])
    raise AssertionError("no writable enumeration in the registry")


@pytest.mark.parametrize(("kind", "args"), [
    ("bmc_slow", {"latency": "12s"}),
    ("bmc_unreachable", {"mode": "hang"}),
    ("bmc_unreachable", {"mode": "refuse"}),
])
def test_slow_and_dead_bmcs_are_bounded_and_leave_no_session(sim: ThreadedFleet, kind: str,
                                                              args: dict[str, str]) -> None:
    fault(sim, DELL, kind, **args)
    timeouts = Timeouts(connect=1, read=30, deadline=2, retries=2, backoff=0.05)
    started = time.monotonic()
    with pytest.raises(UnreachableError), device(sim, DELL, timeouts) as dev:
        dev.power.status()
    # Bounded by the 2 s deadline, not by the 12 s answer or the 30 s read timeout.
    assert time.monotonic() - started < 10
    # A login the deadline abandoned on a slow BMC still creates a session there: the
    # connector's janitor waits for it and deletes it.
    wait_for(lambda: sessions(sim, DELL) == 0, timeout=PATIENT)
    created = sim.call(lambda: sim.fleet.bmc(DELL).sessions_created)
    deleted = sim.call(lambda: sim.fleet.bmc(DELL).sessions_deleted)
    assert created == deleted


def test_async_fleet_read_with_slow_and_dead_bmcs(sim: ThreadedFleet) -> None:
    # 4 s an answer: past the 2 s deadline, yet a late session's DELETE still fits its own 5 s.
    fault(sim, DELL, "bmc_slow", latency="4s")
    fault(sim, HPE, "bmc_unreachable", mode="hang")
    targets = [Target(h.name, sim.url(i), sim.username, Secret(sim.password), verify_tls=False)
               for i, h in enumerate(sim.fleet.hosts)]
    results = asyncio.run(observe_many(targets, deadline=2.0, read_timeout=12.0))
    by_host = {r.host: r for r in results}
    names = [h.name for h in sim.fleet.hosts]
    assert by_host[names[DELL]].observation is None and by_host[names[HPE]].observation is None
    assert by_host[names[LENOVO]].observation is not None and by_host[names[SUPERMICRO]].observation is not None
    # Each BMC's result is bounded by its 2 s deadline, not by the login plus a read (8 s) or the
    # 12 s read timeout.
    assert all(r.seconds < 8 for r in results)
    # observe_many returned only after deleting every session, the slow BMC's late one included.
    assert sessions(sim) == 0


def test_refused_write_carries_the_bmc_message(sim: ThreadedFleet) -> None:
    with device(sim, DELL) as dev, pytest.raises(ApplyError, match=r'BMC said ".*PSU50[12]'):
        dev.power.request("on")  # iDRAC answers 409 when the server is already on
    assert sessions(sim) == 0
