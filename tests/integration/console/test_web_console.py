"""The console websocket of the web UI over a real SOL session: roles, origin check, echo,
recording playback, audit naming the logged-in user (test-only login middleware)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dcops.console import cast
from dcops.console.gateway import ConsoleGateway
from dcops.console.web import ConsoleWeb, setup
from dcops.store import audit
from tests.helpers.timing import PATIENT
from tests.helpers.web_user import fake_login_middleware
from tests.integration.console.conftest import SolLab


def _app(lab: SolLab) -> web.Application:
    app = web.Application(middlewares=[fake_login_middleware()])
    setup(app, ConsoleWeb(ConsoleGateway(lab.store), hosts={lab.host.name: lab.host}.get))
    return app


async def _with_server(lab: SolLab, body: Any) -> Any:
    server = TestServer(_app(lab), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            return await body(http, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


def test_roles_and_origin(sol_lab: SolLab) -> None:
    async def body(http: aiohttp.ClientSession, base: str) -> dict[str, int]:
        codes = {}
        for who in ("", "vera:viewer", "olga:operator"):
            headers = {"X-Test-User": who} if who else {}
            async with http.get(f"{base}/console/sol-01", headers=headers) as resp:
                codes[who or "anonymous"] = resp.status
                text = await resp.text()
                assert "password" not in text.lower()
        async with http.get(f"{base}/console/nope", headers={"X-Test-User": "olga:operator"}) as resp:
            codes["unknown host"] = resp.status
        try:
            await http.ws_connect(f"{base}/console/sol-01/ws", headers={
                "X-Test-User": "olga:operator", "Origin": "http://evil.example"})
        except aiohttp.WSServerHandshakeError as exc:
            codes["foreign origin"] = exc.status
        return codes

    codes = asyncio.run(_with_server(sol_lab, body))
    assert codes == {"anonymous": 401, "vera:viewer": 403, "olga:operator": 200, "unknown host": 404,
                     "foreign origin": 403}
    assert audit.query(sol_lab.store, action="console") == []  # nothing was opened


def test_websocket_echo_replay_audit(sol_lab: SolLab) -> None:
    async def body(http: aiohttp.ClientSession, base: str) -> tuple[str, bytes, str]:
        user = {"X-Test-User": "olga:operator"}
        async with http.ws_connect(f"{base}/console/sol-01/ws", headers=user) as ws:
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
            async with http.get(f"{base}/console/sessions/{session}.cast", headers=user) as resp:
                if resp.status == 200:
                    return session, seen, await resp.text()
            await asyncio.sleep(0.05)
        raise AssertionError("the recording never appeared")

    session, seen, text = asyncio.run(_with_server(sol_lab, body))
    recording = cast.loads(text)
    assert cast.output_bytes(recording).startswith(seen)
    assert cast.input_lines(recording) == ["uptime\r"]
    entries = audit.query(sol_lab.store, host="sol-01", action="console")
    assert {e.action for e in entries} == {"console.open", "console.close"}
    assert {e.on_behalf_of for e in entries} == {"olga"}


@pytest.mark.slow  # pyghmi notices the lost payload on its keepalive (tens of seconds)
def test_console_ended_by_the_bmc_closes_the_websocket(sol_lab: SolLab) -> None:
    """Another client takes the SOL over (``ipmitool sol deactivate``): the BMC ends our payload,
    the page is told and the socket closes, the session is recorded and audited as ended."""
    import subprocess

    from tests.helpers.ipmi_sim import PASSWORD, USER, need

    ipmitool = need("ipmitool")

    async def body(http: aiohttp.ClientSession, base: str) -> tuple[dict[str, Any], str]:
        async with http.ws_connect(f"{base}/console/sol-01/ws", headers={"X-Test-User": "olga:operator"}) as ws:
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

    ended, session = asyncio.run(_with_server(sol_lab, body))
    assert ended.get("ended") is True
    entries = audit.query(sol_lab.store, host="sol-01", action="console.close")
    assert [e.after["session"] for e in entries] == [session]
