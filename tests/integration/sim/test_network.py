"""The simulator on real sockets: faults seen from the network (refused, hanging, slow, 5xx, broken
JSON, a whole rack dark), TLS, per-host addresses, and the control API's request log and session
counts (what later tests use to prove "no step applied twice" and "no session leaked")."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.sim.conftest import Factory, wait_for


def get(url: str, password: str = "sim-int-pw", timeout: float = 5.0, context: ssl.SSLContext | None = None,
        method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{password}".encode()).decode())
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def refused(host: str, port: int) -> bool:
    """No connection accepted. A reset counts: a connection that reaches the listener as the
    simulated BMC closes it is reset, not refused (seen once in CI on a busy machine)."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return False
    except (ConnectionRefusedError, ConnectionResetError):
        return True


@pytest.mark.timeout(30)
def test_unreachable_refuses_connections_until_cleared(fleet_factory: Factory) -> None:
    sim = fleet_factory(2)
    url = sim.url(0) + "/redfish/v1/Systems/1"
    assert get(url)[0] == 200
    items = sim.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "bmc_unreachable"})["items"]
    assert items == [{"host": "sim-0001", "fault": "bmc_unreachable"}]
    wait_for(lambda: refused("127.0.0.1", sim.port(0)))
    assert get(sim.url(1) + "/redfish/v1/Systems/1")[0] == 200  # its neighbour is fine
    sim.control.post("/v1/clear", {"hosts": ["sim-0001"]})
    wait_for(lambda: not refused("127.0.0.1", sim.port(0)))
    assert get(url)[0] == 200


@pytest.mark.timeout(30)
def test_unreachable_hang_mode_accepts_and_never_answers(fleet_factory: Factory) -> None:
    sim = fleet_factory(1)
    sim.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "bmc_unreachable", "args": {"mode": "hang"}})
    started = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError, OSError)):
        get(sim.url(0) + "/redfish/v1", timeout=0.5)
    assert time.monotonic() - started >= 0.45
    sim.control.post("/v1/clear", {})
    assert get(sim.url(0) + "/redfish/v1")[0] == 200


@pytest.mark.timeout(30)
def test_rack_power_loss_darkens_every_bmc_in_the_rack(fleet_factory: Factory) -> None:
    sim = fleet_factory(6, racks=2)
    racks = {h.name: h.rack for h in sim.fleet.hosts}
    in_a01 = [i for i, h in enumerate(sim.fleet.hosts) if h.rack == "A01"]
    in_a02 = [i for i, h in enumerate(sim.fleet.hosts) if h.rack == "A02"]
    assert in_a01 and in_a02
    applied = sim.control.post("/v1/faults", {"rack": "A01", "kind": "rack_power_loss"})["items"]
    assert sorted(a["host"] for a in applied) == sorted(n for n, r in racks.items() if r == "A01")
    for i in in_a01:
        port = sim.port(i)
        wait_for(lambda: refused("127.0.0.1", port))  # noqa: B023 - called before the loop moves on
    for i in in_a02:
        assert get(sim.url(i) + "/redfish/v1/Systems/1")[0] == 200
    sim.control.post("/v1/clear", {"rack": "A01"})
    for i in in_a01:
        url, port = sim.url(i), sim.port(i)
        wait_for(lambda: not refused("127.0.0.1", port) and get(url + "/redfish/v1/Systems/1")[0] == 200)  # noqa: B023
    status, body, _ = get(sim.url(in_a01[0]) + "/redfish/v1/Systems/1/LogServices/SEL/Entries")
    assert status == 200 and any(e["MessageId"] == "PWR.ACLost" for e in json.loads(body)["Members"])


@pytest.mark.timeout(30)
def test_slow_erroring_and_malformed_bmcs(fleet_factory: Factory) -> None:
    sim = fleet_factory(3, latency=(0.05, 0.05))
    started = time.monotonic()
    assert get(sim.url(0) + "/redfish/v1")[0] == 200
    assert time.monotonic() - started >= 0.05  # fleet-wide latency
    sim.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "bmc_slow", "args": {"latency": "300ms"}})
    sim.control.post("/v1/faults", {"hosts": ["sim-0002"], "kind": "bmc_errors", "args": {"rate": "1"}})
    sim.control.post("/v1/faults", {"hosts": ["sim-0003"], "kind": "malformed_json"})
    started = time.monotonic()
    assert get(sim.url(0) + "/redfish/v1")[0] == 200
    assert time.monotonic() - started >= 0.35
    status, body, _ = get(sim.url(1) + "/redfish/v1/Systems/1")
    assert status == 500 and json.loads(body)["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith(
        "InternalError")
    status, body, _ = get(sim.url(2) + "/redfish/v1/Systems/1")
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)


@pytest.mark.timeout(30)
def test_request_log_and_session_counts_through_the_control_api(fleet_factory: Factory) -> None:
    import redfish

    sim = fleet_factory(1, ("dell-r750",))
    client = redfish.redfish_client(base_url=sim.url(0), username=sim.username, password=sim.password,
                                    timeout=5, max_retry=1)
    client.login(auth="session")
    sessions = sim.control.get("/v1/hosts/sim-0001/sessions")
    assert sessions["count"] == 1 and sessions["limit"] == 8
    client.post("/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset",
                body={"ResetType": "ForceOff"})
    client.logout()
    log = sim.control.get("/v1/hosts/sim-0001/requests")["items"]
    resets = [r for r in log if r["path"].endswith("ComputerSystem.Reset")]
    assert len(resets) == 1 and resets[0]["status"] == 204 and resets[0]["who"].startswith("session:")
    assert [r["method"] for r in log[-1:]] == ["DELETE"]
    after = sim.control.get(f"/v1/hosts/sim-0001/requests?since={log[-1]['seq']}")["items"]
    assert after == []
    sessions = sim.control.get("/v1/hosts/sim-0001/sessions")
    assert sessions["count"] == 0 and sessions["created"] == sessions["deleted"] == 1
    host = sim.control.get("/v1/hosts/sim-0001")
    assert host["power"] == "Off" and host["requests"] >= 4
    status = sim.control.get("/v1/status")
    assert status["hosts"] == 1 and status["rss_bytes"] > 0


@pytest.mark.timeout(30)
def test_tls_with_the_fleets_own_ca(fleet_factory: Factory, tmp_path: Any) -> None:
    from dcops.sim.runner import make_certificates, server_ssl_context

    ca, cert, key = make_certificates(tmp_path / "tls")
    sim = fleet_factory(1, tls=True, ssl_context=server_ssl_context(cert, key))
    assert sim.url(0).startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(ca))
    status, body, _ = get(sim.url(0) + "/redfish/v1/Systems/1", context=context)
    assert status == 200 and json.loads(body)["Id"] == "1"
    with pytest.raises(urllib.error.URLError):
        get(sim.url(0) + "/redfish/v1", context=ssl.create_default_context())  # not a public CA


@pytest.mark.timeout(30)
def test_ip_mode_gives_each_bmc_its_own_address(fleet_factory: Factory) -> None:
    sim = fleet_factory(3, address_mode="ip", port=0)
    addresses = [h.address for h in sim.fleet.hosts]
    assert len(set(addresses)) == 3 and all(a.startswith("127.") for a in addresses)
    for i in range(3):
        status, body, _ = get(sim.url(i) + "/redfish/v1/Systems/1")
        serial = sim.bmc(i).serial
        assert status == 200 and json.loads(body)["SerialNumber"] == serial


@pytest.mark.timeout(30)
def test_background_timers_fire_without_requests(fleet_factory: Factory) -> None:
    sim = fleet_factory(1)
    sim.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "bmc_unreachable", "args": {"duration": "0.3s"}})
    wait_for(lambda: refused("127.0.0.1", sim.port(0)))
    wait_for(lambda: not refused("127.0.0.1", sim.port(0)), timeout=5)  # nobody asked: a timer brought it back
    assert sim.control.get("/v1/hosts/sim-0001")["faults"] == {}


def test_control_api_rejects_a_wrong_token_and_bad_requests(fleet_factory: Factory) -> None:
    from dcops.errors import DcopsError, UsageError
    from dcops.sim.runner import ControlClient

    sim = fleet_factory(1)
    with pytest.raises(DcopsError):
        ControlClient(sim.api.port, "wrong").get("/v1/status")  # type: ignore[union-attr]
    with pytest.raises(UsageError):
        sim.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "meteor_strike"})
    with pytest.raises(UsageError):
        sim.control.post("/v1/faults", {"hosts": ["nobody"], "kind": "psu_fail"})
    with pytest.raises(UsageError):
        sim.control.get("/v1/hosts/nobody")
