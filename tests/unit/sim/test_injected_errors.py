"""An injected 5xx (``bmc_errors``) is decided before the request is handled: a BMC that answered 503
did not do the thing. Each case sends one request through ``server.respond`` (the network path) with
every answer failing, checks that the state did not move and that the request log shows the status,
then sends it again without the fault and checks that it did move (so the case can fail)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from dcops.sim.faults import apply_fault, clear_faults
from dcops.sim.resources import Paths
from dcops.sim.server import SimRequest, respond
from dcops.sim.state import Bmc
from tests.unit.sim.conftest import PASSWORD, FakeClock, make_bmc


@dataclass(frozen=True)
class Case:
    name: str
    profile: str
    method: str
    path: Callable[[Paths], str]
    body: Any
    changed: Callable[[Bmc], bool]  # True once the request took effect


def _drive_uri(p: Paths, bay: int) -> dict[str, str]:
    from dcops.sim.profiles import drive_id

    return {"@odata.id": f"{p.drives}/{drive_id(p.profile.flavour, bay)}"}


CASES = [
    Case("login", "dell-r750", "POST", lambda p: p.sessions, {"UserName": "admin", "Password": PASSWORD},
         lambda b: b.sessions_created == 1 and len(b.sessions) == 1),
    Case("bios-patch", "generic-1s", "PATCH", lambda p: p.bios_settings, {"Attributes": {"Sriov": "Enabled"}},
         lambda b: b.bios_pending == {"Sriov": "Enabled"}),
    Case("power-off", "lenovo-sr650v2", "POST", lambda p: f"{p.system}/Actions/ComputerSystem.Reset",
         {"ResetType": "ForceOff"}, lambda b: b.power == "Off"),
    Case("boot-override", "supermicro-x13", "PATCH", lambda p: p.system,
         {"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}},
         lambda b: b.boot["BootSourceOverrideTarget"] == "Pxe"),
    Case("volume-create", "generic-1s", "POST", lambda p: p.volumes,
         {"RAIDType": "RAID1", "Links": {"Drives": [_drive_uri(Paths(make_bmc().profile), b) for b in (2, 3)]}},
         lambda b: any(t.kind == "raid" for t in b.tasks.values())),
    Case("firmware-update", "hpe-dl360-gen10p", "POST",
         lambda p: "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
         {"ImageURI": "http://repo/nic_22.71.3.bin"}, lambda b: b.firmware.running is not None),
    Case("logout", "generic-1s", "DELETE", lambda p: f"{p.sessions}/1",
         None, lambda b: b.sessions_deleted == 1),
]


def _send(bmc: Bmc, case: Case) -> tuple[int, dict[str, Any]]:
    auth = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    body = b"" if case.body is None else orjson.dumps(case.body)
    reply = respond(bmc, SimRequest(case.method, case.path(Paths(bmc.profile)), {}, {"Authorization": auth}, body))
    return reply.status, orjson.loads(reply.body) if reply.body else {}


@pytest.mark.parametrize("status", [503, 500])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_injected_error_leaves_the_state_alone(case: Case, status: int) -> None:
    clock = FakeClock()
    bmc = make_bmc(case.profile, clock)
    if case.name == "logout":
        bmc.login("admin", PASSWORD)
    if case.name == "volume-create":
        assert not bmc.storage.volumes or all(2 not in v.drives and 3 not in v.drives for v in bmc.storage.volumes)
    apply_fault(bmc, "bmc_errors", {"rate": "1", "status": str(status)})
    code, body = _send(bmc, case)
    assert code == status
    suffix = "ServiceTemporarilyUnavailable" if status == 503 else "InternalError"
    assert body["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith(suffix)
    clock.advance(5)
    bmc.tick()
    assert not case.changed(bmc), "the BMC did the thing although it answered a 5xx"
    seq, _, method, path, logged, who = bmc.requests[-1]
    assert (method, path, logged, who) == (case.method, case.path(Paths(bmc.profile)), status, "-")

    clear_faults(bmc)
    code, _ = _send(bmc, case)
    assert code < 300
    assert case.changed(bmc)
    assert bmc.requests[-1][0] == seq + 1 and bmc.requests[-1][4] == code


def test_a_share_of_errors_refuses_only_those_requests(clock: FakeClock) -> None:
    """rate=0.5: every request that got through created a session; none that got a 503 did."""
    bmc = make_bmc("hpe-dl360-gen10p", clock)  # 16 sessions
    apply_fault(bmc, "bmc_errors", {"rate": "0.5", "status": "503"})
    statuses = [_send(bmc, CASES[0])[0] for _ in range(12)]
    assert {201, 503} == set(statuses)
    assert bmc.sessions_created == statuses.count(201) == len(bmc.sessions)
