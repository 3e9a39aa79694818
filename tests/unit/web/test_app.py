"""The web application in process (aiohttp's test server on loopback, a SQLite store): login and
its redirects, the trusted proxy header, CSRF on logout, the security headers, config errors."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dcops.errors import DcopsError
from dcops.models import BmcEndpoint, Host, Location
from dcops.store import open_store
from dcops.web import app as webapp
from dcops.web import users
from dcops.web.auth import Role

HOSTS = [Host(f"h{i}", BmcEndpoint(address="192.0.2.10"), Location("s1", "r1", "A01", i + 1)) for i in range(3)]


def _run(tmp: Path, body: Callable[[TestClient], Awaitable[None]], **config: Any) -> None:
    store = open_store(f"sqlite:///{tmp / 'state.db'}")
    users.set_user(store, "anna", Role.OPERATOR, "anna-secret-pw")
    users.set_user(store, "victor", Role.VIEWER, "victor-secret-pw")
    app = webapp.make_app(store, lambda: HOSTS, config=webapp.WebConfig(b"k" * 32, **config))

    async def main() -> None:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await body(client)

    asyncio.run(main())
    store.close()


async def _csrf(client: TestClient, path: str) -> str:
    resp = await client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert found
    return found.group(1)


def test_login_redirects_only_within_the_ui(tmp_path: Path) -> None:
    async def body(client: TestClient) -> None:
        # Mounted or not, the login sends people only to pages under /ui/.
        for target, expected in (("/ui/incidents", "/ui/incidents"), ("//evil.example/x", "/ui/"),
                                 ("https://evil.example/", "/ui/"), ("", "/ui/"), ("/ui//evil.example", "/ui/")):
            client.session.cookie_jar.clear()
            token = await _csrf(client, "/login")
            resp = await client.post("/login", data={"csrf": token, "name": "anna", "password": "anna-secret-pw",
                                                     "next": target}, allow_redirects=False)
            assert resp.status == 302 and resp.headers["Location"] == expected, (target, resp.headers)
            cookie = resp.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        token = await _csrf(client, "/")
        assert (await client.post("/logout", data={}, allow_redirects=False)).status == 403
        assert (await client.post("/logout", data={"csrf": token}, allow_redirects=False)).status == 302

    _run(tmp_path, body)


def test_a_login_without_the_forms_token_is_refused(tmp_path: Path) -> None:
    async def body(client: TestClient) -> None:
        resp = await client.post("/login", data={"name": "anna", "password": "anna-secret-pw"}, allow_redirects=False)
        assert resp.status == 403

    _run(tmp_path, body)


def test_pages_carry_security_headers(tmp_path: Path) -> None:
    async def body(client: TestClient) -> None:
        resp = await client.get("/login")
        assert resp.status == 200
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"
        assert (await client.get("/static/style.css")).status == 200
        assert '<meta http-equiv="refresh" content="10">' in await (await client.get("/login?refresh=1")).text()
        assert 'http-equiv="refresh"' not in await (await client.get("/login?refresh=x")).text()

    _run(tmp_path, body)


def test_a_trusted_proxy_header_names_the_user(tmp_path: Path) -> None:
    async def body(client: TestClient) -> None:
        assert (await client.get("/", allow_redirects=False)).status == 302  # no header: no user
        resp = await client.get("/", headers={"X-Remote-User": "victor"})
        assert resp.status == 200 and "victor (viewer)" in await resp.text()  # local account: its role
        resp = await client.get("/", headers={"X-Remote-User": "sso-sam"})
        assert "sso-sam (viewer)" in await resp.text()  # unknown: proxy_role
        token = await _csrf(client, "/incidents")
        resp = await client.post("/incident/1/ack", data={"csrf": token}, headers={"X-Remote-User": "sso-sam"})
        assert resp.status == 403

    _run(tmp_path, body, proxy_header="X-Remote-User")


@pytest.mark.parametrize(("section", "message"), [
    ({"proxy_role": "root"}, "web.proxy_role"),
    ({"colour": "blue"}, "unknown key(s) colour"),
    ({"session_key_file": "/nonexistent/key"}, "cannot read"),
])
def test_bad_web_config_is_named(section: dict[str, Any], message: str) -> None:
    with pytest.raises(DcopsError, match=re.escape(message)):
        webapp.WebConfig.from_section(section, "config.yaml")


def test_a_short_session_key_file_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"short")
    with pytest.raises(DcopsError, match="at least 16 bytes"):
        webapp.WebConfig.from_section({"session_key_file": str(key)})
    key.write_bytes(b"x" * 40)
    assert webapp.WebConfig.from_section({"session_key_file": str(key)}).session_key == b"x" * 40


def test_the_capacity_page_draws_a_stored_check(tmp_path: Path) -> None:
    from dcops.capacity.check import check_capacity
    from dcops.capacity.policy import build_policy
    from dcops.store import capacity as capacity_store
    from tests.unit.capacity.helpers import identical_az, snapshot

    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    result = check_capacity(snapshot(*identical_az("az1", per_rack=4)), build_policy(q="VCPU=off,DISK_GB=off"))
    capacity_store.save_result(store, result.to_json())
    store.close()

    async def body(client: TestClient) -> None:
        resp = await client.get("/capacity", headers={"X-Remote-User": "victor"})
        text = await resp.text()
        assert resp.status == 200 and "az1" in text and "MEMORY_MB" in text
        assert "NOT survivable" in text  # racks of 4 at 60 %: losing one is too much
        assert re.search(r'class="w60 ', text)  # the usage bar

    _run(tmp_path, body, proxy_header="X-Remote-User")


def test_password_guessing_is_throttled(tmp_path: Path) -> None:
    async def body(client: TestClient) -> None:
        for attempt in range(6):
            token = await _csrf(client, "/login")
            resp = await client.post("/login", data={"csrf": token, "name": "anna", "password": f"guess{attempt}"},
                                     allow_redirects=False)
            assert resp.status == (401 if attempt < 5 else 429), attempt
        token = await _csrf(client, "/login")
        resp = await client.post("/login", data={"csrf": token, "name": "anna", "password": "anna-secret-pw"},
                                 allow_redirects=False)
        assert resp.status == 429 and "too many failed logins" in await resp.text()  # even the right one, for now

    _run(tmp_path, body)


def test_the_store_decides_a_sessions_user_and_role(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")

    async def body(client: TestClient) -> None:
        token = await _csrf(client, "/login")
        resp = await client.post("/login", data={"csrf": token, "name": "anna", "password": "anna-secret-pw"},
                                 allow_redirects=False)
        assert resp.status == 302
        assert "anna (operator)" in await (await client.get("/")).text()
        users.set_user(store, "anna", Role.VIEWER, "anna-secret-pw")
        assert "anna (viewer)" in await (await client.get("/")).text()  # demoted at the next page
        users.remove_user(store, "anna")
        assert (await client.get("/", allow_redirects=False)).status == 302  # removed: logged out

    _run(tmp_path, body)
    store.close()


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 302),  # a page: off to the login form
    ({"Upgrade": "websocket", "Connection": "Upgrade"}, 401),  # a websocket cannot follow a redirect
])
def test_nobody_is_sent_to_the_login_or_refused(tmp_path: Path, headers: dict[str, str], status: int) -> None:
    async def body(client: TestClient) -> None:
        resp = await client.get("/host/h1", headers=headers, allow_redirects=False)
        assert resp.status == status

    _run(tmp_path, body)


def test_the_host_page_names_the_worker_that_patrols_it(tmp_path: Path) -> None:
    import datetime as dt

    from dcops.patrol import store as pstore

    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    now = dt.datetime.now(dt.UTC)
    row = {"started_at": now, "finished_at": now, "hosts": 2, "reachable": 2, "unreachable": 0, "missed": 0,
           "events": 0, "opened": 0, "resolved": 0}
    pstore.save_round(store, round_row=row, host_rows=[
        {"host": "h0", "observed_at": now, "reachable": True, "worker": "dc1-patrol-1"},
        {"host": "h1", "observed_at": now, "reachable": True, "worker": None}])
    store.close()

    async def body(client: TestClient) -> None:
        h0 = await (await client.get("/host/h0", headers={"X-Remote-User": "victor"})).text()
        h1 = await (await client.get("/host/h1", headers={"X-Remote-User": "victor"})).text()
        assert "patrolled by" in h0 and "dc1-patrol-1" in h0
        assert "patrolled by" not in h1  # one dcops serve: no worker to name

    _run(tmp_path, body, proxy_header="X-Remote-User")


def test_incident_pages_name_the_worker_that_patrols_the_host(tmp_path: Path) -> None:
    import datetime as dt

    from dcops.patrol import store as pstore
    from tests.integration.patrol.helpers import psu_incident

    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    now = dt.datetime.now(dt.UTC)
    row = {"started_at": now, "finished_at": now, "hosts": 1, "reachable": 1, "unreachable": 0, "missed": 0,
           "events": 1, "opened": 1, "resolved": 0}
    incident = psu_incident(now, host="h0")
    pstore.save_incident(store, incident)
    pstore.save_round(store, round_row=row, host_rows=[
        {"host": "h0", "observed_at": now, "reachable": True, "worker": "dc1-patrol-1"}])
    store.close()

    async def body(client: TestClient) -> None:
        head = {"X-Remote-User": "victor"}
        page = await (await client.get(f"/incident/{incident.id}", headers=head)).text()
        listing = await (await client.get("/incidents", headers=head)).text()
        assert re.search(r'id="worker">worker dc1-patrol-1<', page)
        assert "worker dc1-patrol-1" in listing

    _run(tmp_path, body, proxy_header="X-Remote-User")
