"""The sync connector against a loopback Redfish service: sessions, retries, ETags, errors."""

from __future__ import annotations

import time

import pytest

from dcops.bmc.redfish.connector import RedfishConnector, Timeouts, retry_after
from dcops.bmc.redfish.drivers import redfish_bmc
from dcops.errors import ApplyError, UnreachableError
from dcops.models import BmcEndpoint
from dcops.observation import ComponentKind, PowerState
from dcops.secrets import Secret
from tests.unit.bmc.mockups import Faults, load, minimal_system, serve

FAST = Timeouts(connect=1, read=2, deadline=10, retries=3, backoff=0.05)


def connector(url: str, password: str = "s3cret-pw", timeouts: Timeouts = FAST) -> RedfishConnector:
    host, port = url.rsplit("//", 1)[1].split(":")
    endpoint = BmcEndpoint(address=host, port=int(port), scheme="http", username="admin", password_ref="env:X")
    return RedfishConnector("h1", endpoint, Secret(password), timeouts)


def test_observe_capture_over_one_session_logged_out() -> None:
    with serve(load("dell-poweredge-r750-idrac9-6.00")) as bmc:
        with redfish_bmc("h1", connector(bmc.url)) as dev:
            obs = dev.inventory.observe()
            assert bmc.active_sessions() == 1
        assert len(obs.of_kind(ComponentKind.DIMM)) == 16
        assert bmc.created_sessions == 1
        assert bmc.active_sessions() == 0


def test_power_boot_vmedia_roundtrip() -> None:
    with serve(minimal_system("Off")) as bmc, redfish_bmc("h1", connector(bmc.url)) as dev:
        assert dev.power.status() is PowerState.OFF
        dev.power.request("on")
        assert dev.power.status() is PowerState.ON
        dev.boot.set_once("pxe")
        assert dev.boot.get() == ("Pxe", "Once")
        slot = dev.vmedia.insert("http://127.0.0.1/x.iso")
        assert slot.inserted and slot.image == "http://127.0.0.1/x.iso"
        assert [s.id for s in dev.vmedia.eject()] == ["Cd"]
        assert not dev.vmedia.slots()[0].inserted
    assert bmc.active_sessions() == 0


def test_503_with_retry_after_is_retried() -> None:
    with serve(minimal_system(), faults=Faults(unavailable=2, retry_after=0)) as bmc:
        with connector(bmc.url) as conn:
            assert conn.get("/redfish/v1/Systems/1")["Id"] == "1"
        statuses = [s for _, _, _, s in bmc.log]
        assert statuses.count(503) == 2


def test_503_beyond_the_deadline_fails_fast() -> None:
    slow = Timeouts(connect=1, read=2, deadline=20, retries=10, backoff=0.05)
    with serve(minimal_system(), faults=Faults(unavailable=100, retry_after=60)) as bmc:
        started = time.monotonic()
        with pytest.raises(UnreachableError, match="deadline"), connector(bmc.url, timeouts=slow) as conn:
            conn.get("/redfish/v1/Systems/1")
        assert time.monotonic() - started < 15  # at once, not at the 20 s deadline


def test_session_exhaustion_waits_then_logs_in() -> None:
    with serve(minimal_system(), faults=Faults(max_sessions=1)) as bmc:
        with connector(bmc.url) as first:
            first.get("/redfish/v1/Systems/1")
            with pytest.raises(UnreachableError, match="gave up|deadline"), connector(bmc.url) as second:
                second.get("/redfish/v1/Systems/1")
        assert bmc.active_sessions() == 0


def test_relogin_on_401() -> None:
    with serve(minimal_system(), faults=Faults(unauthorized=1)) as bmc:
        with connector(bmc.url) as conn:
            conn.get("/redfish/v1/Systems/1")
            conn.get("/redfish/v1/Systems/1")
        assert bmc.created_sessions == 2
        assert bmc.active_sessions() == 0


def test_basic_auth_fallback_without_session_service() -> None:
    with serve(minimal_system(), faults=Faults(no_sessions=True)) as bmc:
        with connector(bmc.url) as conn:
            assert conn.get("/redfish/v1/Systems/1")["Id"] == "1"
            assert conn._auth == "basic"
        assert bmc.created_sessions == 0


def test_wrong_password_is_unreachable_and_never_shows_it() -> None:
    with serve(minimal_system()) as bmc:
        with pytest.raises(UnreachableError) as info, connector(bmc.url, password="wrong-pass-123") as conn:
            conn.get("/redfish/v1/Systems/1")
        assert "wrong-pass-123" not in str(info.value)


def test_412_retries_without_weak_etag() -> None:
    with serve(minimal_system(), faults=Faults(weak_etag_412=True)) as bmc:
        with redfish_bmc("h1", connector(bmc.url)) as dev:
            dev.boot.set_once("cd")
            assert dev.boot.get() == ("Cd", "Once")
        patches = [(m, s) for _, m, _, s in bmc.log if m == "PATCH"]
        assert patches[0] == ("PATCH", 412) and patches[-1] == ("PATCH", 200)


def test_refused_write_shows_most_severe_message() -> None:
    with serve(minimal_system()) as bmc, connector(bmc.url) as conn, \
            pytest.raises(ApplyError, match='BMC said "ActionNotSupported: unknown action"'):
        conn.act("POST", "/redfish/v1/Systems/1/Actions/Nope", {}, "nope")


def test_dead_bmc_is_unreachable_within_deadline() -> None:
    endpoint = BmcEndpoint(address="127.0.0.1", port=1, scheme="http", username="admin")
    started = time.monotonic()
    patient = Timeouts(connect=1, read=2, deadline=60, retries=3, backoff=0.05)
    with pytest.raises(UnreachableError), RedfishConnector("h1", endpoint, Secret("x"), patient) as conn:
        conn.get("/redfish/v1")
    assert time.monotonic() - started < 30  # a refusal is final: no waiting for the 60 s deadline


def test_slow_bmc_times_out() -> None:
    slow = Timeouts(connect=1, read=0.3, deadline=2, retries=1, backoff=0.05)
    with serve(minimal_system(), faults=Faults(delay=10.0)) as bmc:
        started = time.monotonic()
        with pytest.raises(UnreachableError), connector(bmc.url, timeouts=slow) as conn:
            conn.get("/redfish/v1/Systems/1")
        assert time.monotonic() - started < 8  # the read timeout cut it, not the 10 s answer


def test_supermicro_insert_retried_with_image_only() -> None:
    with serve(minimal_system(), faults=Faults(reject_full_insert=True)) as bmc, \
            redfish_bmc("h1", connector(bmc.url)) as dev:
        assert dev.vmedia.insert("http://127.0.0.1/x.iso").inserted


@pytest.mark.parametrize(("value", "expected"), [("3", 3.0), (None, 1.5), ("bogus", 1.5)])
def test_retry_after(value: str | None, expected: float) -> None:
    assert retry_after(value, 1.5) == expected


def test_environment_proxies_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy nobody listens on: requests would send the BMC traffic there if it trusted the environment.
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    with serve(minimal_system()) as bmc, connector(bmc.url) as conn:
        assert conn.get("/redfish/v1/Systems/1")["Id"] == "1"
        assert conn._client._session.trust_env is False
