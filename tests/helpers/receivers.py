"""Notification receivers for tests: a real SMTP server (aiosmtpd) and an HTTP webhook
receiver, both on 127.0.0.1, keeping what they accepted. Shared by the patrol and assets tests."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.helpers.ipmi_sim import free_port


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 keeping what it accepted."""
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
    port: int = 0
    received: list[tuple[str, Any]] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # paths of requests taken and never answered
    hold: bool = False  # take requests and leave them unanswered (until the receiver stops)
    fail: bool = False  # answer 503 while set
    errcode: int = 0  # WeCom/DingTalk-style refusal in a 200 answer
    delay: float = 0.0  # a slow receiver: seconds before it answers (the post is kept first)
    _release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def webhook(port: int | None = None) -> Iterator[Hook]:
    """An HTTP receiver on 127.0.0.1: a POST with a JSON body is kept and answered 200 with
    ``{"errcode": ..., "errmsg": ...}``, unless ``hold`` is set (noted in ``held``, left
    unanswered) or ``fail`` is (answered 503, not kept)."""
    hook = Hook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if hook.hold:
                hook.held.append(self.path)
                hook._release.wait(30)
                return
            if hook.fail:
                self._answer(503, b"down for maintenance", "text/plain")
                return
            hook.received.append((self.path, json.loads(body)))
            if hook.delay:
                hook._release.wait(hook.delay)
            answer = {"errcode": hook.errcode, "errmsg": "ok" if not hook.errcode else "refused"}
            self._answer(200, json.dumps(answer).encode(), "application/json")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
    server.daemon_threads = True
    hook.port = int(server.server_address[1])
    hook.url = f"http://127.0.0.1:{hook.port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook._release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
