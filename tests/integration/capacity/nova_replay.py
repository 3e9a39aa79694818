"""A loopback HTTP server that replays recorded Nova API answers (tests/fixtures/nova/<cloud>/).

openstacksdk talks to it over real HTTP, so its own version discovery, microversion negotiation,
paging and parsing run as they would against Nova. Links in the recordings point at the recorded
endpoint and are rewritten to this server's address. A request without ``X-Auth-Token`` gets
Nova's 401; ``fail`` makes a path answer with an error status, to test error translation.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

RECORDED_ENDPOINT = "http://nova.lab.example.net:8774"
ROUTES = {
    "/": "versions.json",
    "/v2.1": "version-v2.1.json",
    "/v2.1/os-services": "os-services.json",
    "/v2.1/os-availability-zone/detail": "os-availability-zone-detail.json",
    "/v2.1/os-aggregates": "os-aggregates.json",
    "/v2.1/os-hypervisors/detail": "os-hypervisors-detail.json",
}


class NovaReplay:
    """Serve the recordings in ``directory`` on 127.0.0.1 (a free port) until ``stop``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, microversion header)
        self.fail: dict[str, int] = {}
        self.token_required = True
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path.rstrip("/") or "/"
                version = self.headers.get("OpenStack-API-Version")
                replay.requests.append(("GET", self.path, version))
                if replay.token_required and path != "/" and path != "/v2.1" and not self.headers.get("X-Auth-Token"):
                    self._send(401, {"error": {"code": 401, "title": "Unauthorized",
                                               "message": "The request you have made requires authentication."}})
                    return
                if path in replay.fail:
                    status = replay.fail[path]
                    self._send(status, {"computeFault": {"code": status, "message": "Unexpected API Error."}})
                    return
                name = ROUTES.get(path)
                if name is None:
                    self._send(404, {"itemNotFound": {"code": 404, "message": f"{path} not found"}})
                    return
                text = (replay.directory / name).read_text(encoding="utf-8")
                self._send(200, json.loads(text.replace(RECORDED_ENDPOINT, replay.url)), version)

            def _send(self, status: int, body: Any, version: str | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if version:
                    self.send_header("OpenStack-API-Version", version)
                    self.send_header("Vary", "OpenStack-API-Version")
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="nova-replay", daemon=True)

    @property
    def compute_url(self) -> str:
        return f"{self.url}/v2.1"

    def start(self) -> NovaReplay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
