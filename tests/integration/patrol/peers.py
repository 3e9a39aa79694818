"""Real peers for patrol's integration tests, each on a free 127.0.0.1 port with a bounded
readiness probe: Alertmanager and Prometheus (Debian packages), an SMTP server (aiosmtpd), and a
webhook receiver (aiohttp) that records what it gets. (ipmi_sim BMCs: tests/helpers/ipmi_sim.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.ipmi_sim import free_port, need, stop_process
from tests.helpers.simfleet import wait_for

__all__ = ["Daemon", "Hook", "Mailbox", "alertmanager", "free_port", "http_json", "need", "prometheus",
           "smtp_server", "wait_for", "webhook"]


def http_json(url: str, timeout: float = 3.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


def _ready(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()  # noqa: S310
        return True
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Daemon:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        stop_process(self.process)


@contextmanager
def alertmanager(directory: Path, config: str | None = None) -> Iterator[Daemon]:
    exe = need("prometheus-alertmanager")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "am.yml").write_text(config or (
        "route: {receiver: 'null', group_wait: 1s, group_interval: 1s, repeat_interval: 1h}\n"
        "receivers: [{name: 'null'}]\n"))
    log = directory / "am.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, f"--config.file={directory / 'am.yml'}", f"--storage.path={directory / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                                stdout=out, stderr=subprocess.STDOUT)
    daemon = Daemon(f"http://127.0.0.1:{port}", port, proc, log)
    try:
        wait_for(lambda: _ready(daemon.url + "/-/ready") or proc.poll() is not None, 20, "alertmanager")
        if proc.poll() is not None:
            raise AssertionError(f"alertmanager exited: {log.read_text()[-2000:]}")
        yield daemon
    finally:
        daemon.stop()


@contextmanager
def prometheus(directory: Path, config: str, rules: str) -> Iterator[Daemon]:
    exe = need("prometheus")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "rules.yml").write_text(rules)
    (directory / "prom.yml").write_text(config.replace("@RULES@", str(directory / "rules.yml")))
    log = directory / "prom.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, f"--config.file={directory / 'prom.yml'}",
                                 f"--storage.tsdb.path={directory / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT)
    daemon = Daemon(f"http://127.0.0.1:{port}", port, proc, log)
    try:
        wait_for(lambda: _ready(daemon.url + "/-/ready") or proc.poll() is not None, 30, "prometheus")
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {log.read_text()[-2000:]}")
        yield daemon
    finally:
        daemon.stop()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("aiosmtpd is needed in CI")
        pytest.skip("aiosmtpd is not installed")
    box = Mailbox("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            from email import message_from_bytes

            box.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Hook:
    url: str
    port: int
    received: list[tuple[str, Any]] = field(default_factory=list)
    fail: bool = False  # answer 503 while set
    errcode: int = 0  # WeCom/DingTalk-style refusal in a 200 answer
    _loop: Any = None
    _runner: Any = None


@contextmanager
def webhook(port: int | None = None) -> Iterator[Hook]:
    from aiohttp import web

    hook = Hook("", port or free_port())
    hook.url = f"http://127.0.0.1:{hook.port}"
    loop = asyncio.new_event_loop()

    async def handle(request: web.Request) -> web.Response:
        if hook.fail:
            return web.Response(status=503, text="down for maintenance")
        hook.received.append((request.path, await request.json()))
        return web.json_response({"errcode": hook.errcode, "errmsg": "ok" if not hook.errcode else "refused"})

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", handle)
        hook._runner = web.AppRunner(app)
        await hook._runner.setup()
        await web.TCPSite(hook._runner, "127.0.0.1", hook.port).start()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield hook
    finally:
        asyncio.run_coroutine_threadsafe(hook._runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
