"""The console in the web UI: aiohttp routes for the xterm.js page, its websocket, recordings and
the graphical-console launch.

The routes expect an authentication middleware in front of them (the web UI's login, issue 20's
``dcops.web.auth``) that sets ``request[auth.USER]`` to an object with ``name`` and ``role``; every
console route needs the operator role. The BMC credentials stay in the gateway: the page and the
websocket carry only the dcops login, and a graphical launch hands the browser a BMC *session*
(or the vendor's one-time console credential), never the password.

    make_app(store, hosts, config=..., extend=[lambda app: setup(app, ConsoleWeb(gateway, ...))])

Paths in the pages come from the router (``url_for``), so they carry the prefix the UI is mounted
under (``/ui/console/...`` in ``dcops serve``). ``setup`` also adds a "Console" link (and a
"Graphical console" link where the vendor has an HTML5 launch) to the UI's host page, for operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import WSMsgType, web

from dcops.console import store as sessions
from dcops.console.gateway import ConsoleGateway
from dcops.errors import DcopsError
from dcops.models import Host
from dcops.secrets import redact
from dcops.web.app import HOST_LINKS, HostLink
from dcops.web.auth import Role, require_role

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

@dataclass
class ConsoleWeb:
    gateway: ConsoleGateway
    hosts: Callable[[str], Host | None]
    launcher: Any = None  # graphical.GraphicalLauncher; None: no graphical console


KEY: web.AppKey[ConsoleWeb] = web.AppKey("dcops.console", ConsoleWeb)


def require_operator(request: web.Request) -> Any:
    """The logged-in user, who must hold the operator role (or above): the web UI's login
    (``dcops.web.auth``) decides who that is; 401 for nobody, 403 for a viewer."""
    return require_role(request, Role.OPERATOR)


def _same_origin(request: web.Request) -> None:
    """Refuse a websocket opened by another site's page (cross-site websocket hijacking: the
    browser sends the dcops login cookie along with any site's request)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser (a script holding the login itself)
    parts = urlsplit(origin)
    if parts.netloc != request.host:
        raise web.HTTPForbidden(text="the console websocket only answers pages of this site")


def _host(request: web.Request) -> Host:
    name = request.match_info["host"]
    host = request.app[KEY].hosts(name)
    if host is None:
        raise web.HTTPNotFound(text=f"no host {name!r} in the book")
    return host


def _url(request: web.Request, route: str, **parts: str) -> str:
    """The path of one of the console's routes, with the prefix the app is mounted under."""
    resource = request.app.router[route]
    if route == "console-static":
        return html.escape(str(resource.url_for(filename=parts["filename"])))
    return html.escape(str(resource.url_for(**parts)))


def _page(request: web.Request, title: str, body: str) -> web.Response:
    css = _url(request, "console-static", filename="xterm/xterm.css")
    js = _url(request, "console-static", filename="xterm/xterm.js")
    text = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<link rel='stylesheet' href='{css}'>"
            "<style>body{margin:0;background:#111;color:#ddd;font-family:sans-serif}"
            "header{padding:4px 8px}#console,#replay{height:90vh}</style></head>"
            f"<body>{body}<script src='{js}'></script></body></html>")
    return web.Response(text=text, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


async def console_page(request: web.Request) -> web.Response:
    require_operator(request)
    host = _host(request)
    name = html.escape(host.name)
    body = (f"<header>{name}: serial console <span id='status' data-state='connecting'>connecting</span> "
            "<button id='close'>close</button></header>"
            f"<div id='console' data-ws='{_url(request, 'console-ws', host=host.name)}'></div>"
            f"<script defer src='{_url(request, 'console-static', filename='console.js')}'></script>")
    return _page(request, f"{host.name} console", body)


async def console_ws(request: web.Request) -> web.WebSocketResponse:
    user = require_operator(request)
    _same_origin(request)
    host = _host(request)
    cw = request.app[KEY]
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    try:
        session = await cw.gateway.open(host, user=str(user.name), via="web", web=True)
    except (DcopsError, OSError) as exc:
        await ws.send_json({"error": redact(str(exc))})
        await ws.close()
        return ws
    await ws.send_json({"session": session.id, "transport": session.transport})

    async def pump_out() -> str:
        while True:
            data = await session.read()
            if not data:
                return "ok"  # the BMC ended the console
            await ws.send_bytes(data)

    async def pump_in() -> str:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await session.write(msg.data.encode("utf-8"))
            elif msg.type == WSMsgType.BINARY:
                await session.write(msg.data)
            elif msg.type == WSMsgType.ERROR:
                return "websocket error"
        return "ok"  # the browser closed the page or pressed close

    tasks = [asyncio.create_task(pump_out()), asyncio.create_task(pump_in())]
    result = "ok"
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        first = next(iter(done))
        try:
            result = first.result()
        except DcopsError as exc:  # SOL broke while typing
            result = redact(str(exc))[:200]
        if first is tasks[0] and not ws.closed:
            await ws.send_json({"ended": True, "result": result})
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, DcopsError, OSError):
                await task
        await session.close(result)
        if not ws.closed:
            await ws.close()
    return ws


def _record(request: web.Request) -> sessions.SessionRecord:
    cw = request.app[KEY]
    record = sessions.get(cw.gateway.store, request.match_info["id"])
    if record is None:
        raise web.HTTPNotFound(text="no such console session (or past retention)")
    return record


async def recording_cast(request: web.Request) -> web.Response:
    require_operator(request)
    record = await asyncio.to_thread(_record, request)
    if record.cast is None:
        raise web.HTTPConflict(text="the session has not ended yet")
    return web.Response(text=record.cast, content_type="application/x-asciicast",
                        headers={"Cache-Control": "no-store"})


async def recording_page(request: web.Request) -> web.Response:
    require_operator(request)
    record = await asyncio.to_thread(_record, request)
    ident = html.escape(record.id)
    body = (f"<header>{html.escape(record.host)}: {html.escape(record.user)}, "
            f"{record.started_at:%Y-%m-%d %H:%M:%S} UTC, {record.duration_s or 0:.0f} s "
            f"({html.escape(record.transport)})</header>"
            f"<div id='replay' data-cast='{_url(request, 'console-cast', id=record.id)}'></div>"
            "<ol id='inputs'></ol>"
            f"<script defer src='{_url(request, 'console-static', filename='replay.js')}'></script>")
    return _page(request, f"console session {ident}", body)


async def graphical_launch(request: web.Request) -> web.Response:
    """Obtain a BMC session for the vendor's HTML5 console and send the browser there."""
    user = require_operator(request)
    host = _host(request)
    cw = request.app[KEY]
    if cw.launcher is None:
        raise web.HTTPNotFound(text="the graphical console is not enabled")
    from dcops.console.graphical import JavaOnly, LaunchRefused

    try:
        launch = await cw.launcher.launch(host, user=str(user.name), web=True)
    except JavaOnly as exc:
        return web.Response(status=409, text=str(exc))
    except (LaunchRefused, DcopsError) as exc:
        return web.Response(status=502, text=redact(str(exc)))
    # A redirect, not a page: nothing of dcops's page holds the BMC session, and no-referrer
    # keeps the launch URL out of the BMC's logs of where its visitors came from.
    raise web.HTTPSeeOther(launch.url, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def host_links(console: ConsoleWeb, host: Host) -> list[HostLink]:
    """The host page's console links (pure): the serial console always (SOL is IPMI, which every
    BMC the book can name speaks), the graphical one where the vendor has an HTML5 launch."""
    from dcops.console.graphical import offers_html5

    quoted = quote(host.name, safe="")
    links = [HostLink("console-link", "Console", f"/console/{quoted}", Role.OPERATOR)]
    if console.launcher is not None and offers_html5(host):
        links.append(HostLink("graphical-link", "Graphical console", f"/console/{quoted}/graphical", Role.OPERATOR))
    return links


def setup(app: web.Application, console: ConsoleWeb) -> None:
    """Add the console routes to the web UI's application, and its links to the host page."""
    app[KEY] = console
    app.router.add_static("/console/static", STATIC, name="console-static")
    app.router.add_get("/console/sessions/{id}.cast", recording_cast, name="console-cast")
    app.router.add_get("/console/sessions/{id}", recording_page)
    app.router.add_get("/console/{host}/ws", console_ws, name="console-ws")
    app.router.add_get("/console/{host}/graphical", graphical_launch)
    app.router.add_get("/console/{host}", console_page)
    app.setdefault(HOST_LINKS, []).append(lambda host: host_links(console, host))
