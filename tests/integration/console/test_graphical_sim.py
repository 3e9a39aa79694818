"""Graphical-console launch per vendor against ``dcops sim``: through the web route, the gateway
obtains the vendor's BMC session or one-time console credential, builds the HTML5 console URL,
sends the browser there (the simulated BMC's console page accepts it), and neither the page nor
the URL nor the audit carries the BMC password. Through the web UI as ``dcops serve`` mounts it,
logged in through its form; the host page links to the launch where the vendor has one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dcops.console.graphical import GraphicalLauncher
from dcops.inventory import load_inventory
from dcops.models import Host
from dcops.sim.testing import ThreadedFleet
from dcops.store import audit
from dcops.store.db import Store, open_store
from tests.helpers.simfleet import FAST, PASSWORD, fleet
from tests.helpers.web_login import OPERATOR, VIEWER, add_users, client, console_app, login, served

PROFILES = ("dell-r750", "hpe-dl360-gen10p", "supermicro-x13", "huawei-2288hv5", "lenovo-sr650v2", "generic-1s")
ONE_TIME = {"dell", "supermicro", "huawei"}  # the credential works once; iLO's session key lives on


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedFleet]:
    with fleet(len(PROFILES), PROFILES) as running:
        yield running


@pytest.fixture
def lab(sim: ThreadedFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Host], Store]:
    monkeypatch.setenv("DCOPS_TEST_BMC_PW", PASSWORD)
    book = sim.fleet.write_inventory(tmp_path / "site.yaml", "env:DCOPS_TEST_BMC_PW")
    hosts = {h.profile or "": h for h in load_inventory(book).hosts}
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    return hosts, store


async def _launch(hosts: dict[str, Host], store: Store, profile: str) -> dict[str, Any]:
    """The launch through the UI as ``dcops serve`` mounts it: as the operator (and the viewer)
    logged in through the login form; then the browser's side, following the redirect."""
    add_users(store)
    app = console_app(store, list(hosts.values()), launcher=GraphicalLauncher(store, FAST))
    host = hosts[profile]
    path = f"/ui/console/{host.name}/graphical"
    async with served(app) as base:
        got: dict[str, Any] = {}
        async with client() as http:
            await login(http, base, OPERATOR)
            async with http.get(f"{base}/ui/host/{host.name}") as resp:
                page = await resp.text()
                got["link"] = f'href="{path}" id="graphical-link"' in page
            async with http.get(base + path, allow_redirects=False) as resp:
                got.update(status=resp.status, location=resp.headers.get("Location", ""), body=await resp.text(),
                           headers=dict(resp.headers))
        async with client() as http:
            await login(http, base, VIEWER)
            async with http.get(base + path, allow_redirects=False) as resp:
                got["viewer"] = resp.status
        async with client() as http:
            if got["status"] == 303:
                async with http.get(got["location"]) as bmc_page:
                    got["page"] = (bmc_page.status, await bmc_page.text())
                async with http.get(got["location"]) as again:
                    got["again"] = again.status
        return got


@pytest.mark.parametrize(("profile", "vendor", "path"), [
    ("dell-r750", "dell", "/console?username="),
    ("hpe-dl360-gen10p", "hpe", "/irc.html?sessionkey="),
    ("supermicro-x13", "supermicro", "/redfish/"),
    ("huawei-2288hv5", "huawei", "/remote_access.asp?authParam="),
])
def test_vendor_html5_launch(lab: tuple[dict[str, Host], Store], profile: str, vendor: str, path: str) -> None:
    hosts, store = lab
    got = asyncio.run(_launch(hosts, store, profile))
    base = hosts[profile].bmc.url()
    assert got["status"] == 303, got["body"]
    assert got["location"].startswith(base + path)
    assert got["headers"].get("Referrer-Policy") == "no-referrer"
    assert got["viewer"] == 403
    assert got["link"]  # the host page offers it to the operator
    status, page = got["page"]
    assert status == 200 and f"data-console='{vendor}'" in page  # the BMC took the credential
    assert got["again"] == (200 if vendor not in ONE_TIME else 401)
    for text in (got["location"], got["body"], page):
        assert PASSWORD not in text
    [entry] = audit.query(store, action="console.graphical")
    assert entry.result == "ok" and entry.on_behalf_of == f"web:{OPERATOR}" and entry.after["vendor"] == vendor
    assert PASSWORD not in str(entry) and got["location"].split("?")[-1] not in str(entry)


@pytest.mark.parametrize(("profile", "reason"), [
    ("lenovo-sr650v2", "XCC publishes no launch URL"),
    ("generic-1s", "KVMIP only"),
])
def test_no_html5_launch_says_why(lab: tuple[dict[str, Host], Store], profile: str, reason: str) -> None:
    hosts, store = lab
    got = asyncio.run(_launch(hosts, store, profile))
    assert got["status"] == 502 and reason in got["body"]
    assert not got["link"]  # the book's vendor has no HTML5 launch: the host page does not offer one
    [entry] = audit.query(store, action="console.graphical")
    assert entry.result == "failed" and reason in (entry.details or "")


def test_supermicro_set_to_java_is_java_only(sim: ThreadedFleet, lab: tuple[dict[str, Host], Store]) -> None:
    hosts, store = lab
    index = PROFILES.index("supermicro-x13")
    sim.call(lambda: setattr(sim.fleet.bmc(index), "kvm_interface", "JAVA plug-in"))
    try:
        got = asyncio.run(_launch(hosts, store, "supermicro-x13"))
    finally:
        sim.call(lambda: setattr(sim.fleet.bmc(index), "kvm_interface", "HTML 5"))
    assert got["status"] == 409 and "Java only" in got["body"]
    [entry] = audit.query(store, action="console.graphical")
    assert entry.result == "java only"
