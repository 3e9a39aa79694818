"""The exporter's HTTP side: ``GET /metrics`` (every discovered collector), ``GET /healthz`` (200
while the patrol loop is fresh, 503 when its last round is older than three intervals) and ``GET
/`` (a short index). aiohttp, in the event loop of ``dcops serve``; a scrape reads stored or
pre-rendered results only.

``/metrics`` negotiates as prometheus_client's own exposition does (``choose_encoder`` on the
``Accept`` header): OpenMetrics 1.0 when the scraper asks for it (Prometheus does), else text
0.0.4; gzip when ``Accept-Encoding`` allows it (a 10,000-host exposition shrinks about tenfold).
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import platform
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics import exposition as openmetrics_exposition

from dcops import __version__
from dcops.exporter.registry import Loaded

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# zlib level 6: about the size of level 9 at a fraction of its time on a multi-megabyte body.
GZIP_LEVEL = 6
# A counter's HELP and TYPE name the family without `_total` in OpenMetrics (its sample keeps it).
_COUNTER_HEAD = re.compile(rb"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)_total ", re.MULTILINE)


def to_openmetrics(text: bytes) -> bytes:
    """Text-format 0.0.4 families (dcops's own pre-rendered ones) as OpenMetrics families: counter
    heads lose ``_total``; the rest of the two formats is the same for gauges and counters."""
    return _COUNTER_HEAD.sub(rb"# \1 \2 ", text)


class Exposition:
    """Renders the collectors into one exposition."""

    def __init__(self, loaded: Sequence[Loaded]) -> None:
        self.loaded = list(loaded)
        self.fast = [x for x in self.loaded if x.collector is not None and hasattr(x.collector, "exposition")]
        self.registry = CollectorRegistry(auto_describe=False)
        for item in self.loaded:
            if item.collector is not None and item not in self.fast:
                self.registry.register(item.collector)

    def render(self, openmetrics: bool = False) -> bytes:
        """One exposition: text format 0.0.4, or OpenMetrics 1.0 (ending in ``# EOF``)."""
        started = time.perf_counter()
        fast = [item.collector.exposition() for item in self.fast]
        if openmetrics:
            parts = [to_openmetrics(p) for p in fast]
            tail = openmetrics_exposition.generate_latest(self.registry)
            parts.append(tail[:-len(b"# EOF\n")] if tail.endswith(b"# EOF\n") else tail)
        else:
            parts = [*fast, generate_latest(self.registry)]
        lines = ["# HELP dcops_build_info dcops version and Python it runs on (value 1)",
                 "# TYPE dcops_build_info gauge",
                 f'dcops_build_info{{version="{__version__}",python_version="{platform.python_version()}"}} 1.0',
                 "# HELP dcops_exporter_collector_loaded 1 when the collector module loaded, 0 when it failed",
                 "# TYPE dcops_exporter_collector_loaded gauge"]
        lines += [f'dcops_exporter_collector_loaded{{collector="{x.name}"}} {0 if x.collector is None else 1}'
                  for x in self.loaded]
        lines += ["# HELP dcops_exporter_scrape_duration_seconds Time this scrape took to render",
                  "# TYPE dcops_exporter_scrape_duration_seconds gauge",
                  f"dcops_exporter_scrape_duration_seconds {time.perf_counter() - started:.6f}"]
        if openmetrics:
            lines.append("# EOF")
        parts.append(("\n".join(lines) + "\n").encode())
        return b"".join(parts)


def make_app(exposition: Exposition, *, healthy: Callable[[], tuple[bool, str]] | None = None) -> web.Application:
    async def metrics(request: web.Request) -> web.Response:
        _encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        openmetrics = content_type.startswith("application/openmetrics-text")
        packed = "gzip" in request.headers.get("Accept-Encoding", "")

        def produce() -> bytes:
            body = exposition.render(openmetrics=openmetrics)
            return gzip.compress(body, compresslevel=GZIP_LEVEL) if packed else body

        body = await asyncio.to_thread(produce)
        headers = {"Content-Type": content_type}
        if packed:
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)

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
