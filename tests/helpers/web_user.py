"""TEST-ONLY stand-in for the web UI's login (issue 20's ``dcops.web.auth`` middleware): sets
``request["user"]`` from the ``X-Test-User: NAME:ROLE`` header or the ``test_user`` cookie, as
the real middleware does from its session. Never used outside tests; the merge switches the
console tests to the real login.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from dcops.web.auth import Role, User


def fake_login_middleware() -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        value = request.headers.get("X-Test-User") or request.cookies.get("test_user")
        if value:
            name, _, role = value.partition(":")
            request["user"] = User(name, Role.parse(role or "viewer"))
        return await handler(request)

    return middleware
