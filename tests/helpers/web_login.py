"""The real web UI with the console in it, as ``dcops serve`` builds it (``dcops.web.app.mount``
under /ui/ with ``extend=[console]``), real users (``dcops.web.users``) and a login through the
real form (its CSRF token and session cookie), for the console's tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from dcops.console.gateway import ConsoleGateway
from dcops.console.web import ConsoleWeb, setup
from dcops.models import Host
from dcops.web import app as web_ui
from dcops.web import users
from dcops.web.auth import Role

# name -> (role, password): an operator who may open consoles and a viewer who may not.
OPERATOR, VIEWER = "olga", "vera"
USERS = {OPERATOR: (Role.OPERATOR, "olga-console-pw"), VIEWER: (Role.VIEWER, "vera-console-pw")}


def add_users(store: Any) -> None:
    for name, (role, password) in USERS.items():
        users.set_user(store, name, role, password)


def console_app(store: Any, hosts: list[Host], *, launcher: Any = None,
                gateway: ConsoleGateway | None = None) -> web.Application:
    """``dcops serve``'s composition: the UI mounted under /ui/, the console added to it."""
    by_name = {h.name: h for h in hosts}
    console = ConsoleWeb(gateway or ConsoleGateway(store), hosts=by_name.get, launcher=launcher)
    add: Callable[[web.Application], None] = lambda app: setup(app, console)  # noqa: E731
    parent = web.Application()
    web_ui.mount(parent, store, lambda: hosts, section=None, notify_config=lambda: None, extend=[add])
    return parent


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """``app`` on a loopback port; yields its base URL (no trailing slash)."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def client() -> aiohttp.ClientSession:
    """A client that keeps the session cookie of a loopback address (aiohttp's default jar drops
    cookies of IP addresses)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def login(http: aiohttp.ClientSession, base: str, name: str) -> None:
    """Log in through the form: its page sets the session cookie and carries the CSRF token."""
    async with http.get(f"{base}/ui/login") as resp:
        form = await resp.text()
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    assert found, form[:300]
    data = {"csrf": found.group(1), "name": name, "password": USERS[name][1], "next": "/ui/"}
    async with http.post(f"{base}/ui/login", data=data, allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == "/ui/", (resp.status, await resp.text())
