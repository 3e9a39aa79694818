"""Every page of the web UI over a store a real patrol wrote, on SQLite and on a real PostgreSQL:
a simulated fleet is patrolled, a PSU fails on one host, then an operator logs in through the form,
walks sites -> room -> rack -> incident -> host, the views, assets, capacity and the daily report
(and its downloads), and acknowledges the incident; the ack is in the store and the audit names
``web:anna``. The browser test (test_browser.py) drives the same pages in Chromium on SQLite only;
this one shows the queries behind them hold on the production backend too."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dcops.patrol import store as pstore
from dcops.store import audit
from dcops.web import app as webapp
from dcops.web import users
from dcops.web.auth import Role
from tests.helpers.simfleet import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
FAULTED = "sim-0003"


async def _csrf(client: TestClient, path: str) -> str:
    resp = await client.get(path)
    assert resp.status == 200, (path, resp.status)
    found = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert found, path
    return found.group(1)


async def _page(client: TestClient, path: str, *needles: str) -> str:
    resp = await client.get(path, allow_redirects=False)
    text = await resp.text()
    assert resp.status == 200, (path, resp.status, text[:300])
    for needle in needles:
        assert needle in text, (path, needle)
    return text


def test_every_page_reads_what_a_patrol_wrote(tmp_path, store_url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.patrol.conftest import make_sim_patrol

    sp = make_sim_patrol(tmp_path, 6, {"open_after": 1}, store_url=store_url)
    try:
        sp.round()
        sp.fault("psu_fail", [FAULTED], psu="1")
        wait_for(lambda: sp.round() and any(i.host == FAULTED for i in pstore.list_incidents(sp.store)),
                 what="the PSU incident")
        incident = next(i for i in pstore.list_incidents(sp.store) if i.host == FAULTED)
        users.set_user(sp.store, "anna", Role.OPERATOR, "anna-secret-pw")
        book = list(sp.hosts.values())
        app = webapp.make_app(sp.store, lambda: book, config=webapp.WebConfig(b"k" * 32))
        site, room, rack = (book[0].location.site, book[0].location.room,
                            next(h for h in book if h.name == FAULTED).location.rack)

        async def walk() -> None:
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                token = await _csrf(client, "/login")
                resp = await client.post("/login", data={"csrf": token, "name": "anna",
                                                         "password": "anna-secret-pw", "next": "/ui/"},
                                         allow_redirects=False)
                assert resp.status == 302, await resp.text()
                await _page(client, "/", str(site))
                await _page(client, f"/room/{site}/{room}", str(rack))
                await _page(client, f"/rack/{site}/{room}/{rack}", FAULTED)
                await _page(client, "/incidents", FAULTED)
                await _page(client, f"/incident/{incident.id}", FAULTED, "PSU")
                await _page(client, f"/host/{FAULTED}", FAULTED)
                await _page(client, "/groups?by=vendor", FAULTED)
                await _page(client, "/assets?q=sim-000", FAULTED)
                await _page(client, "/capacity")
                await _page(client, "/report", FAULTED)
                data = json.loads(await _page(client, "/report/file?format=json"))
                assert any(FAULTED in json.dumps(item) for item in data.get("incidents", [data]))
                await _page(client, "/report/file?format=md", FAULTED)
                token = await _csrf(client, f"/incident/{incident.id}")
                resp = await client.post(f"/incident/{incident.id}/ack", data={"csrf": token, "note": "on it"},
                                         allow_redirects=False)
                assert resp.status == 303, await resp.text()
                await _page(client, f"/incident/{incident.id}", "anna")

        asyncio.run(walk())
        acked = next(i for i in pstore.list_incidents(sp.store) if i.id == incident.id)
        assert acked.acked_by == "anna"
        entries = audit.query(sp.store, action="alerts.ack")
        assert entries and entries[0].on_behalf_of == "web:anna", entries
    finally:
        sp.loop.run_until_complete(sp.engine.close())
        sp.loop.close()
        sp.sim.close()
        sp.store.close()
