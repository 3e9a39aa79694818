"""Pure simulator tests: a fake clock and an HTTP-less client that calls ``server.handle``."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from dcops.sim.profiles import get_profile
from dcops.sim.server import Reply, SimRequest, handle
from dcops.sim.state import Bmc, Credentials, Timings

PASSWORD = "sim-test-pw"


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class Response:
    def __init__(self, reply: Reply) -> None:
        self.status = reply.status
        self.headers = reply.headers
        self.raw = reply.body
        self.json: Any = orjson.loads(reply.body) if reply.body and reply.headers.get(
            "Content-Type", "").startswith("application/json") else None

    def message_ids(self) -> list[str]:
        return [i["MessageId"] for i in self.json["error"]["@Message.ExtendedInfo"]]

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.raw[:300]!r}>"


class Client:
    """Speaks to one Bmc through ``handle`` (auth, ETags, query options, errors) with no sockets."""

    def __init__(self, bmc: Bmc, auth: str | None = "basic", password: str = PASSWORD) -> None:
        self.bmc = bmc
        self.token: str | None = None
        self.basic = auth == "basic"
        self.password = password

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.token:
            out["X-Auth-Token"] = self.token
        elif self.basic:
            out["Authorization"] = "Basic " + base64.b64encode(f"admin:{self.password}".encode()).decode()
        out.update(extra or {})
        return out

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                query: dict[str, str] | None = None) -> Response:
        raw = b"" if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
        return Response(handle(self.bmc, SimRequest(method, path, query or {}, self.headers(headers), raw)))

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, body if body is not None else {}, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> Response:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_bmc(profile: str = "generic-1s", clock: FakeClock | None = None, index: int = 0) -> Bmc:
    return Bmc(index, f"sim-{index + 1:04d}", get_profile(profile), seed=7,
               credentials=Credentials("admin", PASSWORD), clock=clock or FakeClock(),
               timings=Timings.preset("fast"))


def system_path(bmc: Bmc) -> str:
    return f"/redfish/v1/Systems/{bmc.flavour.system_id}"


def schedule_bios_job(client: Client, bmc: Bmc) -> None:
    """On the Dell flavour, staged BIOS values apply only through a configuration job in iDRAC's
    job queue (dcops.sim.jobs): schedule one, as racadm/dcops do. Elsewhere nothing to do."""
    if bmc.jobs is None:
        return
    reply = client.post("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs",
                        {"TargetSettingsURI": f"/redfish/v1/Systems/{bmc.flavour.system_id}/Bios/Settings"})
    assert reply.status == 200 and "/Jobs/JID_" in reply.headers["Location"], reply
