"""A loopback fleet of many small Redfish BMCs in one aiohttp event loop (one port per BMC), with
a request log and session counts. Used by the batch-power test and the benchmark until dcops sim
offers the same; run as ``python -m tests.unit.bmc.fleet COUNT [CAPTURE]`` it prints the ports
as JSON on stdout and serves until stdin closes (so a benchmark can measure its own CPU alone).
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from dcops.bmc.redfish.resources import normalize
from tests.unit.bmc.mockups import load, minimal_system

Doc = dict[str, Any]


@dataclass
class SimBmc:
    index: int
    docs: dict[str, Doc]
    power: str = "On"
    transition: float = 0.0  # seconds a power change takes
    pending: tuple[float, str] | None = None
    ignore_graceful: bool = False  # a straggler: graceful shutdown never completes
    sessions: set[str] = field(default_factory=set)
    port: int = 0

    def state(self) -> str:
        if self.pending and time.monotonic() >= self.pending[0]:
            self.power, self.pending = self.pending[1], None
        return self.power


@dataclass
class Fleet:
    bmcs: list[SimBmc]
    log: list[tuple[float, int, str, str, int]] = field(default_factory=list)  # time, bmc, method, path, status
    username: str = "admin"
    password: str = "s3cret-pw"
    loop: asyncio.AbstractEventLoop | None = None
    runners: list[web.AppRunner] = field(default_factory=list)

    def active_sessions(self) -> int:
        return sum(len(b.sessions) for b in self.bmcs)


def _json(status: int, body: Any = None, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body) if body is not None else b"",
                        content_type="application/json", headers=headers)


def _app(fleet: Fleet, bmc: SimBmc) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        path = normalize(request.path)
        resp = await _answer(fleet, bmc, request, path)
        fleet.log.append((time.monotonic(), bmc.index, request.method, path, resp.status))
        return resp

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def _answer(fleet: Fleet, bmc: SimBmc, request: web.Request, path: str) -> web.Response:
    token = request.headers.get("X-Auth-Token")
    if request.method == "POST" and path == "/redfish/v1/sessionservice/sessions":
        body = await request.json()
        if body.get("UserName") != fleet.username or body.get("Password") != fleet.password:
            return _json(401, {"error": {"message": "bad credentials"}})
        new = uuid.uuid4().hex
        bmc.sessions.add(new)
        uri = f"/redfish/v1/SessionService/Sessions/{new}"
        return _json(201, {"@odata.id": uri}, {"X-Auth-Token": new, "Location": uri})
    if request.method == "DELETE" and path.startswith("/redfish/v1/sessionservice/sessions/"):
        sid = path.rsplit("/", 1)[1]
        found = next((s for s in bmc.sessions if s.lower() == sid), None)
        if found:
            bmc.sessions.discard(found)
        return _json(204 if found else 404)
    if path != "/redfish/v1" and (not token or token not in bmc.sessions):
        return _json(401, {"error": {"message": "no session"}})
    if request.method == "GET":
        doc = bmc.docs.get(path)
        if doc is None:
            return _json(404, {"error": {"message": "not found"}})
        if path == "/redfish/v1/systems/1":
            doc = dict(doc, PowerState=bmc.state())
        return _json(200, doc)
    if request.method == "POST" and path.endswith("/actions/computersystem.reset"):
        reset = (await request.json()).get("ResetType")
        target = "Off" if reset in ("ForceOff", "GracefulShutdown") else "On"
        if not (reset == "GracefulShutdown" and bmc.ignore_graceful):
            if bmc.transition:
                bmc.pending = (time.monotonic() + bmc.transition, target)
            else:
                bmc.power = target
        return _json(204)
    return _json(405, {"error": {"message": "not allowed"}})


def build(count: int, capture: str | None = None, power: str = "On", transition: float = 0.0) -> Fleet:
    template = load(capture) if capture else minimal_system(power)
    if capture:
        # Captures have no sessions of their own; give them the reset action of minimal_system.
        for key, doc in minimal_system(power).items():
            template.setdefault(key, doc)
    bmcs = []
    for i in range(count):
        docs = template if capture else copy.deepcopy(template)
        bmcs.append(SimBmc(i, docs, power=power, transition=transition))
    return Fleet(bmcs)


async def _start(fleet: Fleet) -> None:
    for bmc in fleet.bmcs:
        runner = web.AppRunner(_app(fleet, bmc), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=512)
        await site.start()
        bmc.port = runner.addresses[0][1]
        fleet.runners.append(runner)


async def _stop(fleet: Fleet) -> None:
    for runner in fleet.runners:
        await runner.cleanup()


class Running:
    """A fleet served from a background thread; use as a context manager."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(_start(self.fleet))
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> Fleet:
        self.thread.start()
        if not self.ready.wait(60):
            raise RuntimeError("fleet did not start within 60s")
        return self.fleet

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(_stop(self.fleet), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def main() -> None:
    count = int(sys.argv[1])
    capture = sys.argv[2] if len(sys.argv) > 2 else None
    fleet = build(count, capture)
    with Running(fleet):
        print(json.dumps([b.port for b in fleet.bmcs]), flush=True)
        sys.stdin.read()
        print(json.dumps({"requests": len(fleet.log), "sessions": fleet.active_sessions()}), flush=True)


if __name__ == "__main__":
    main()
