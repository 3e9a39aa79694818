"""The exporter's HTTP side: ``GET /metrics`` (every discovered collector, text format 0.0.4),
``GET /healthz`` (200 while the patrol loop is fresh, 503 when its last round is older than three
intervals) and ``GET /`` (a short index). aiohttp, in the event loop of ``dcops serve``; a
scrape reads stored or pre-rendered results only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from dcops.exporter.registry import Loaded

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Exposition:
    """Renders the collectors into one exposition."""

    def __init__(self, loaded: Sequence[Loaded]) -> None:
        self.loaded = list(loaded)
        self.fast = [x for x in self.loaded if x.collector is not None and hasattr(x.collector, "exposition")]
        self.registry = CollectorRegistry(auto_describe=False)
        for item in self.loaded:
            if item.collector is not None and item not in self.fast:
                self.registry.register(item.collector)

    def render(self) -> bytes:
        started = time.perf_counter()
        parts = [item.collector.exposition() for item in self.fast]
        parts.append(generate_latest(self.registry))
        lines = ["# HELP dcops_exporter_collector_loaded 1 when the collector module loaded, 0 when it failed",
                 "# TYPE dcops_exporter_collector_loaded gauge"]
        lines += [f'dcops_exporter_collector_loaded{{collector="{x.name}"}} {0 if x.collector is None else 1}'
                  for x in self.loaded]
        lines += ["# HELP dcops_exporter_scrape_duration_seconds Time this scrape took to render",
                  "# TYPE dcops_exporter_scrape_duration_seconds gauge",
                  f"dcops_exporter_scrape_duration_seconds {time.perf_counter() - started:.6f}", ""]
        parts.append("\n".join(lines).encode())
        return b"".join(parts)


def make_app(exposition: Exposition, *, healthy: Callable[[], tuple[bool, str]] | None = None) -> web.Application:
    async def metrics(request: web.Request) -> web.Response:
        body = await asyncio.to_thread(exposition.render)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def healthz(request: web.Request) -> web.Response:
        ok, why = healthy() if healthy else (True, "ok")
        return web.Response(status=200 if ok else 503, text=why + "\n")

    async def index(request: web.Request) -> web.Response:
        return web.Response(text="dcops exporter: /metrics, /healthz\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", index)
    return app


async def start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Listen on host:port (0: any free port); returns the runner and the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server: Any = site._server  # the bound port, when port 0 was asked for
    bound = int(server.sockets[0].getsockname()[1]) if server and server.sockets else port
    return runner, bound
