"""Real peers for patrol's integration tests, each on a free 127.0.0.1 port with a bounded
readiness probe: Alertmanager and Prometheus (Debian packages), an SMTP server (aiosmtpd), and a
webhook receiver (aiohttp) that records what it gets. (ipmi_sim BMCs: tests/helpers/ipmi_sim.py.)"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.ipmi_sim import free_port, need, stop_process
from tests.helpers.receivers import Hook, Mailbox, smtp_server, webhook
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


