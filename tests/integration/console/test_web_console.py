"""The console in the web UI as ``dcops serve`` mounts it (/ui/console/..., behind the UI's real
login) over a real SOL session: who may open it, the origin check, echo, recording playback,
the audit naming the logged-in user."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from dcops.console import cast
from dcops.store import audit
from tests.helpers.timing import PATIENT
from tests.helpers.web_login import OPERATOR, VIEWER, add_users, client, console_app, login, served
from tests.integration.console.conftest import SolLab

Body = Callable[[aiohttp.ClientSession, str], Awaitable[Any]]


async def _as(lab: SolLab, who: str | None, body: Body) -> Any:
    """Run ``body`` with a client logged in as ``who`` (None: nobody) against the UI."""
    add_users(lab.store)
    async with served(console_app(lab.store, [lab.host])) as base, client() as http:
        if who is not None:
            await login(http, base, who)
        return await body(http, base)


async def _refusals(http: aiohttp.ClientSession, base: str) -> dict[str, int]:
    codes = {}
    for path in ("/ui/console/sol-01", "/ui/console/sol-01/graphical"):
        async with http.get(base + path, allow_redirects=False) as resp:
            codes[path] = resp.status
            if resp.status == 302:  # nobody: off to the login form, which comes back here
                assert resp.headers["Location"] == f"/ui/login?next={path}", resp.headers
            assert "password" not in (await resp.text()).lower()
    try:
        async with http.ws_connect(f"{base}/ui/console/sol-01/ws"):
            codes["ws"] = 101
    except aiohttp.WSServerHandshakeError as exc:
        codes["ws"] = exc.status
    return codes


# Nobody: the pages redirect to the login form, the socket (which cannot follow) gets 401.
@pytest.mark.parametrize(("who", "expected"), [(None, 302), (VIEWER, 403)])
def test_nobody_and_a_viewer_are_refused(sol_lab: SolLab, who: str | None, expected: int) -> None:
    codes = asyncio.run(_as(sol_lab, who, _refusals))
    assert codes == {"/ui/console/sol-01": expected, "/ui/console/sol-01/graphical": expected,
                     "ws": 401 if who is None else 403}
    assert audit.query(sol_lab.store, action="console") == []  # nothing was opened


def test_an_operator_gets_the_page_and_a_foreign_origin_no_socket(sol_lab: SolLab) -> None:
    async def body(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
        got: dict[str, Any] = {}
        async with http.get(f"{base}/ui/console/sol-01") as resp:
            got["page"], text = resp.status, await resp.text()
        # The page's own assets and socket under the UI's prefix, not the site's root.
        assert "data-ws='/ui/console/sol-01/ws'" in text and "/ui/console/static/console.js" in text, text
        async with http.get(f"{base}/ui/console/static/xterm/xterm.js") as resp:
            got["xterm.js"] = resp.status
        async with http.get(f"{base}/ui/console/nope") as resp:
            got["unknown host"] = resp.status
        async with http.get(f"{base}/ui/host/sol-01") as resp:  # the host page links to it
            got["link"] = "href=\"/ui/console/sol-01\" id=\"console-link\"" in await resp.text()
        try:
            await http.ws_connect(f"{base}/ui/console/sol-01/ws", headers={"Origin": "http://evil.example"})
        except aiohttp.WSServerHandshakeError as exc:
            got["foreign origin"] = exc.status
        return got

    got = asyncio.run(_as(sol_lab, OPERATOR, body))
    assert got == {"page": 200, "xterm.js": 200, "unknown host": 404, "link": True, "foreign origin": 403}
    assert audit.query(sol_lab.store, action="console") == []


def test_websocket_echo_replay_audit(sol_lab: SolLab) -> None:
    async def body(http: aiohttp.ClientSession, base: str) -> tuple[str, bytes, str]:
        host = base.split("//", 1)[1]
        async with http.ws_connect(f"{base}/ui/console/sol-01/ws", headers={"Origin": f"http://{host}"}) as ws:
            hello = await ws.receive_json(timeout=PATIENT)
            await ws.send_str("uptime\r")
            seen = b""
            while b"uptime" not in seen:
                msg = await ws.receive(timeout=PATIENT)
                assert msg.type == aiohttp.WSMsgType.BINARY, msg
                seen += msg.data
        session = hello["session"]
        # The server closes the session when the socket goes; the recording is there after.
        for _ in range(int(PATIENT * 20)):
            async with http.get(f"{base}/ui/console/sessions/{session}.cast") as resp:
                if resp.status == 200:
                    return session, seen, await resp.text()
            await asyncio.sleep(0.05)
        raise AssertionError("the recording never appeared")

    session, seen, text = asyncio.run(_as(sol_lab, OPERATOR, body))
    recording = cast.loads(text)
    assert cast.output_bytes(recording).startswith(seen)
    assert cast.input_lines(recording) == ["uptime\r"]
    entries = audit.query(sol_lab.store, host="sol-01", action="console")
    assert {e.action for e in entries} == {"console.open", "console.close"}
    assert {e.on_behalf_of for e in entries} == {f"web:{OPERATOR}"}


@pytest.mark.slow  # pyghmi notices the lost payload on its keepalive (tens of seconds)
def test_console_ended_by_the_bmc_closes_the_websocket(sol_lab: SolLab) -> None:
    """Another client takes the SOL over (``ipmitool sol deactivate``): the BMC ends our payload,
    the page is told and the socket closes, the session is recorded and audited as ended."""
    import subprocess

    from tests.helpers.ipmi_sim import PASSWORD, USER, need

    ipmitool = need("ipmitool")

    async def body(http: aiohttp.ClientSession, base: str) -> tuple[dict[str, Any], str]:
        async with http.ws_connect(f"{base}/ui/console/sol-01/ws") as ws:
            hello = await ws.receive_json(timeout=PATIENT)
            await asyncio.to_thread(subprocess.run, [
                ipmitool, "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", str(sol_lab.sim.port), "-U", USER,
                "-P", PASSWORD, "sol", "deactivate"], capture_output=True, timeout=PATIENT, check=False)
            ended: dict[str, Any] = {}
            while True:
                msg = await ws.receive(timeout=PATIENT)
                if msg.type == aiohttp.WSMsgType.TEXT:
                    ended = msg.json()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                    break
            return ended, hello["session"]

    ended, session = asyncio.run(_as(sol_lab, OPERATOR, body))
    assert ended.get("ended") is True
    entries = audit.query(sol_lab.store, host="sol-01", action="console.close")
    assert [e.after["session"] for e in entries] == [session]
