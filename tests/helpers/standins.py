"""Stand-ins the provisioning tests start on loopback: a switch that speaks Arista's eAPI
(JSON-RPC ``runCmds`` over HTTP, basic auth) and keeps its ports' configuration, and listeners on
hosts' production addresses. Both note what happened in one shared, ordered event log, so a test
can prove that the switch was moved before anything touched a production address."""

from __future__ import annotations

import base64
import itertools
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Events:
    """(seq, what) in the order they happened, across every stand-in of a test."""

    items: list[tuple[int, str]] = field(default_factory=list)
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str) -> None:
        with self._lock:
            self.items.append((next(self._seq), what))

    def first(self, prefix: str) -> int | None:
        return next((n for n, w in self.items if w.startswith(prefix)), None)


@dataclass
class Switch:
    url: str
    password: str
    ports: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: list[list[str]] = field(default_factory=list)


def _run(switch: Switch, cmds: list[str], events: Events) -> tuple[list[Any] | None, dict[str, Any] | None]:
    """eAPI's semantics for the commands the playbook uses; anything else is refused as EOS does."""
    results: list[Any] = []
    current: str | None = None
    mode = "exec"
    for n, cmd in enumerate(cmds, start=1):
        if cmd == "enable":
            mode = "enable"
        elif cmd == "configure" and mode == "enable":
            mode = "config"
        elif (m := re.fullmatch(r"interface (Ethernet\d+(?:/\d+)*)", cmd)) and mode == "config":
            current = m.group(1)
            switch.ports.setdefault(current, {"mode": "access", "accessVlanId": 1, "trunkAllowedVlans": "ALL",
                                              "description": "", "enabled": False})
        elif current and (m := re.fullmatch(r"description (.+)", cmd)):
            switch.ports[current]["description"] = m.group(1)
        elif current and (m := re.fullmatch(r"switchport mode (access|trunk)", cmd)):
            switch.ports[current]["mode"] = m.group(1)
        elif current and (m := re.fullmatch(r"switchport access vlan (\d+)", cmd)):
            switch.ports[current]["accessVlanId"] = int(m.group(1))
        elif current and (m := re.fullmatch(r"switchport trunk allowed vlan (\d+)", cmd)):
            switch.ports[current]["trunkAllowedVlans"] = m.group(1)
        elif current and cmd == "no shutdown":
            switch.ports[current]["enabled"] = True
        elif cmd == "end":
            mode, current = "enable", None
        elif m := re.fullmatch(r"show interfaces (\S+) switchport", cmd):
            port = switch.ports.get(m.group(1))
            if port is None:
                return None, {"code": 1002, "message": f"CLI command {n} of {len(cmds)} '{cmd}' failed: "
                                                        "invalid command"}
            results.append({"switchports": {m.group(1): {"enabled": port["enabled"], "switchportInfo": {
                "mode": port["mode"], "accessVlanId": port["accessVlanId"],
                "trunkAllowedVlans": port["trunkAllowedVlans"]}}}})
            continue
        else:
            return None, {"code": 1002, "message": f"CLI command {n} of {len(cmds)} '{cmd}' failed: invalid command"}
        results.append({})
    for name, port in switch.ports.items():
        if any(c.startswith(f"interface {name}") for c in cmds):
            events.add(f"switch {name} vlan {port['accessVlanId'] if port['mode'] == 'access' else port['trunkAllowedVlans']}")
    return results, None


@contextmanager
def eapi_switch(events: Events, password: str = "sw-secret") -> Iterator[Switch]:
    switch = Switch("", password)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            expected = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/command-api" or self.headers.get("Authorization") != expected:
                self._answer(401 if self.path == "/command-api" else 404, {"error": "unauthorized"})
                return
            req = json.loads(body)
            cmds = [str(c) for c in req["params"]["cmds"]]
            switch.commands.append(cmds)
            result, error = _run(switch, cmds, events)
            reply = {"jsonrpc": "2.0", "id": req.get("id")}
            reply.update({"error": error} if error else {"result": result})
            self._answer(200, reply)

        def _answer(self, status: int, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    switch.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield switch
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def production_listeners(addresses: list[str], events: Events, port: int = 0) -> Iterator[int]:
    """A TCP listener on each address, all on one port (picked on the first address when 0);
    each accepted connection is an event ``reached <address>``."""
    socks: list[socket.socket] = []
    stop = threading.Event()
    for address in addresses:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, port))
        port = s.getsockname()[1]
        s.listen(16)
        s.settimeout(0.1)
        socks.append(s)

    def serve(s: socket.socket, address: str) -> None:
        while not stop.is_set():
            try:
                conn, _ = s.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            events.add(f"reached {address}")
            conn.close()

    threads = [threading.Thread(target=serve, args=(s, a), daemon=True) for s, a in zip(socks, addresses, strict=True)]
    for t in threads:
        t.start()
    try:
        yield port
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        for s in socks:
            s.close()
