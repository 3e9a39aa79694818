"""The async read path parses like the sync one, logs out, and bounds a slow BMC by its deadline."""

from __future__ import annotations

import asyncio

from dcops.bmc.redfish.aio import Target, observe_many
from dcops.bmc.redfish.resources import read_observation, run_sync
from dcops.secrets import Secret
from tests.helpers.simfleet import wait_for
from tests.helpers.timing import PATIENT
from tests.unit.bmc.mockups import Faults, fetcher, load, minimal_system, serve


def target(url: str, name: str = "h1") -> Target:
    return Target(name, url, "admin", Secret("s3cret-pw"), verify_tls=False)


def test_async_observation_equals_sync_and_logs_out() -> None:
    name = "hpe-proliant-dl380a-gen11-ilo6-1.66"
    expected = run_sync(read_observation("h1"), fetcher(load(name)))
    with serve(load(name)) as bmc:
        [result] = asyncio.run(observe_many([target(bmc.url)]))
        assert result.error is None and result.observation is not None
        assert result.observation.components == expected.components
        assert result.observation.sensors == expected.sensors
        # The stand-in BMC logs a request after it answers: wait for the logout's line (a busy
        # machine can run the client past it).
        wait_for(lambda: len(bmc.log) >= result.observation.requests + 2, PATIENT, "the logout logged")
        assert bmc.created_sessions == 1 and bmc.active_sessions() == 0
        # One request in flight per BMC: each request starts after the previous one answered.
        assert len(bmc.log) == result.observation.requests + 2  # + login, logout


def test_slow_bmc_is_bounded_and_session_deleted() -> None:
    with serve(minimal_system(), faults=Faults(delay=5.0)) as slow, serve(minimal_system()) as fast:
        results = asyncio.run(observe_many([target(slow.url, "slow"), target(fast.url, "fast")], deadline=1.0))
        by_host = {r.host: r for r in results}
        assert by_host["slow"].seconds < 5  # cut at its 1 s deadline, before even one 5 s answer
        assert by_host["fast"].observation is not None
        assert by_host["slow"].observation is None and "1s" in (by_host["slow"].error or "")
        wait_for(lambda: slow.active_sessions() == 0, PATIENT, "the slow BMC's late session deleted")


def test_dead_bmc_reported_not_raised() -> None:
    [result] = asyncio.run(observe_many([target("http://127.0.0.1:1", "dead")], deadline=2))
    assert result.observation is None and result.error


def test_observe_many_hands_every_document_to_on_document() -> None:
    seen: list[tuple[str, str]] = []
    with serve(load("supermicro-sys-821ge-tnhr-x13")) as bmc:
        [result] = asyncio.run(observe_many([target(bmc.url, "smc")], sections=("components",),
                                            on_document=lambda host, path, doc: seen.append((host, path))))
    assert result.observation is not None
    assert len(seen) == result.observation.requests
    assert ("smc", "/redfish/v1") in seen and all(host == "smc" for host, _ in seen)
