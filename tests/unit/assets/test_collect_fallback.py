"""One IPMI host's read failing with something other than a DcopsError (pyghmi raises TypeError
when it reuses a session it logged out) is that host's failure: the fleet's collection goes on,
and the message names the host without the password."""

from __future__ import annotations

import pytest

from dcops.assets import collect
from dcops.assets.model import AssetSnapshot
from dcops.errors import UnreachableError
from dcops.models import BmcEndpoint, Host, Protocol
from tests.unit.assets.helpers import T0

PASSWORD = "s3cret-Ipmi-pw"


def _host(name: str) -> Host:
    return Host(name=name, bmc=BmcEndpoint(address="192.0.2.1", protocol=Protocol.IPMI, username="admin",
                                           password_ref="env:DCOPS_TEST_FALLBACK_PW"))


def test_an_ipmi_read_that_raises_anything_fails_only_its_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCOPS_TEST_FALLBACK_PW", PASSWORD)

    def fake(host: Host) -> AssetSnapshot:
        if host.name == "broken":
            raise TypeError("'<' not supported between instances of 'float' and 'NoneType'")
        if host.name == "dark":
            raise UnreachableError(f"{host.name}: IPMI login failed: timeout")
        return AssetSnapshot(host=host.name, taken_at=T0, protocol="ipmi", serial="SN1")

    monkeypatch.setattr(collect, "collect_ipmi", fake)
    seen: list[str] = []
    outcomes = collect.collect_fleet([_host("broken"), _host("good"), _host("dark")], deadline=5,
                                     on_result=lambda o: seen.append(o.host))
    by = {o.host: o for o in outcomes}
    assert by["good"].snapshot is not None and by["good"].error is None
    assert by["broken"].snapshot is None and by["broken"].error is not None
    assert by["broken"].error.startswith("broken: IPMI read failed: TypeError")
    assert by["dark"].error == "dark: IPMI login failed: timeout"
    assert sorted(seen) == ["broken", "dark", "good"]
    assert all(PASSWORD not in (o.error or "") for o in outcomes)
