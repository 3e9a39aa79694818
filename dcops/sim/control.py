"""The control API of a running fleet: JSON over HTTP on its own loopback port.

    GET  /v1/status                       fleet summary (hosts, requests, sessions, faults, RSS)
    GET  /v1/hosts                        every host: name, address, port, profile, rack, ...
    GET  /v1/hosts/{name}                 one host's state (power, sessions, faults, volumes, ...)
    GET  /v1/hosts/{name}/requests?since=N   the request log (ring buffer): seq, time, method, path, status, who
    GET  /v1/hosts/{name}/sessions        open sessions and created/deleted/expired counters
    GET  /v1/faults                       the fault kinds and their arguments
    POST /v1/faults  {"hosts": [...], "rack": "A01", "kind": "psu_fail", "args": {"psu": "2"}}
                     optional "before": "LogServices": strike just before the first request whose
                     path contains it (a fault during a visit, between its reads)
    POST /v1/clear   {"hosts": [...], "rack": "A01", "kind": null}     (no target: every host)
    POST /v1/shutdown

Every request must carry ``X-Dcops-Sim-Token`` when the fleet was started with a token (the CLI
reads it from the state directory, mode 0600).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

from dcops.errors import DcopsError
from dcops.sim.faults import FAULT_KINDS, apply_fault, arm_fault, clear_faults
from dcops.sim.state import Bmc, iso

if TYPE_CHECKING:
    from aiohttp import web

    from dcops.sim.fleet import Fleet

TOKEN_HEADER = "X-Dcops-Sim-Token"


class ControlApi:
    def __init__(self, fleet: Fleet, token: str | None = None) -> None:
        self.fleet = fleet
        self.token = token
        self.stopped = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0

    def app(self) -> web.Application:
        from aiohttp import web

        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/v1/status", self.status)
        app.router.add_get("/v1/hosts", self.hosts)
        app.router.add_get("/v1/hosts/{name}", self.host)
        app.router.add_get("/v1/hosts/{name}/requests", self.requests)
        app.router.add_get("/v1/hosts/{name}/sessions", self.sessions)
        app.router.add_get("/v1/faults", self.fault_kinds)
        app.router.add_post("/v1/faults", self.fault)
        app.router.add_post("/v1/clear", self.clear)
        app.router.add_post("/v1/shutdown", self.shutdown)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        from aiohttp import web

        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        server: Any = site._server  # the only way to learn the port bound for port 0
        assert server is not None and server.sockets
        self.port = int(server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # ------------------------------------------------------------------ plumbing
    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        import orjson
        from aiohttp import web

        return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")

    async def _guard_impl(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.token is not None:
            given = request.headers.get(TOKEN_HEADER, "")
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                return self._json({"error": "missing or wrong control token"}, 401)
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except KeyError as exc:
            return self._json({"error": f"not found: {exc.args[0] if exc.args else exc}"}, 404)
        except DcopsError as exc:
            return self._json({"error": str(exc)}, 400)

    @property
    def _guard(self) -> Any:
        from aiohttp import web

        @web.middleware
        async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
            return await self._guard_impl(request, handler)

        return guard

    def _target(self, name: str) -> Any:
        for replay in self.fleet.replays:
            if replay.name == name:
                return replay
        return self.fleet.find(name)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        import orjson

        raw = await request.read()
        try:
            data = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            raise DcopsError("request body is not JSON") from None
        if not isinstance(data, dict):
            raise DcopsError("request body must be a JSON object")
        return data

    def _select(self, body: dict[str, Any], default_all: bool) -> list[Bmc]:
        hosts = body.get("hosts") or []
        rack = body.get("rack")
        if isinstance(hosts, str):
            hosts = [hosts]
        if not hosts and not rack:
            if default_all:
                return list(self.fleet.created())
            raise DcopsError("name hosts or a rack")
        return self.fleet.select(hosts, rack)

    # ------------------------------------------------------------------ handlers
    async def status(self, request: web.Request) -> web.Response:
        data = self.fleet.status()
        data["control_port"] = self.port
        return self._json(data)

    async def hosts(self, request: web.Request) -> web.Response:
        rows = self.fleet.host_rows()
        created = {b.name: b for b in self.fleet.created()}
        for row in rows:
            bmc = created.get(row["name"])
            if bmc is not None:
                row.update({"power": bmc.power, "health": bmc.system_health(), "reachable": bmc.net.reachable,
                            "sessions": len(bmc.sessions), "faults": sorted(bmc.faults)})
        return self._json({"items": rows})

    async def host(self, request: web.Request) -> web.Response:
        target = self._target(request.match_info["name"])
        if isinstance(target, Bmc):
            target.tick()
            return self._json(target.details())
        return self._json(target.summary())

    async def requests(self, request: web.Request) -> web.Response:
        target = self._target(request.match_info["name"])
        try:
            since = int(request.query.get("since", "0"))
        except ValueError:
            raise DcopsError("since must be a number") from None
        items = [{"seq": seq, "time": ts, "method": method, "path": path, "status": status, "who": who}
                 for seq, ts, method, path, status, who in target.requests if seq > since]
        return self._json({"items": items, "total": target.request_count})

    async def sessions(self, request: web.Request) -> web.Response:
        target = self._target(request.match_info["name"])
        if not isinstance(target, Bmc):
            return self._json({"count": len(target.sessions)})
        target.expire_sessions()
        return self._json({
            "count": len(target.sessions),
            "items": [{"id": s.id, "user": s.user, "created": iso(s.created), "last_used": iso(s.last_used)}
                      for s in target.sessions.values()],
            "created": target.sessions_created, "deleted": target.sessions_deleted,
            "expired": target.sessions_expired, "limit": target.flavour.session_limit,
        })

    async def fault_kinds(self, request: web.Request) -> web.Response:
        return self._json({"items": [{"kind": k.name, "help": k.help, "args": k.params}
                                     for k in FAULT_KINDS.values()]})

    async def fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        kind = body.get("kind")
        if not isinstance(kind, str):
            raise DcopsError("kind is required")
        args = {str(k): str(v) for k, v in (body.get("args") or {}).items()}
        before = body.get("before")
        if before is not None:  # strike inside the next visit, just before this read
            applied = [{"host": bmc.name, "fault": arm_fault(bmc, kind, args, str(before))}
                       for bmc in self._select(body, default_all=False)]
            return self._json({"items": applied})
        applied = [{"host": bmc.name, "fault": apply_fault(bmc, kind, args)}
                   for bmc in self._select(body, default_all=False)]
        return self._json({"items": applied})

    async def clear(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        kind = body.get("kind")
        cleared = []
        for bmc in self._select(body, default_all=True):
            for key in clear_faults(bmc, kind):
                cleared.append({"host": bmc.name, "fault": key})
        return self._json({"items": cleared})

    async def shutdown(self, request: web.Request) -> web.Response:
        asyncio.get_running_loop().call_later(0.05, self.stopped.set)
        return self._json({"ok": True})
