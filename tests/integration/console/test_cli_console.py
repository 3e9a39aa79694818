"""``dcops console HOST`` in a real terminal (a pseudo-terminal) over ipmi_sim's SOL, through the
same gateway as the web UI: type a line, see the echo, leave with ~.; the session is recorded
(``dcops console replay`` prints the same bytes) and audited."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.ipmi_sim import need
from tests.helpers.timing import PATIENT
from tests.integration.console.conftest import SolLab


def _book(lab: SolLab, path: Path) -> Path:
    path.write_text(json.dumps({"version": 1, "sites": [{"name": "dc1", "rooms": [{"name": "r1", "racks": [
        {"name": "R1", "hosts": [{"name": "sol-01", "u": 1, "bmc": {
            "address": "127.0.0.1", "port": lab.sim.port, "protocol": "ipmi", "username": "admin",
            "password": "env:DCOPS_TEST_BMC_PASSWORD"}}]}]}]}]}))
    return path


def _read_until(fd: int, needle: bytes, seen: bytearray) -> None:
    deadline = time.monotonic() + PATIENT
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {needle!r}; got {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, f"the terminal closed before {needle!r}; got {bytes(seen)!r}"
            seen += chunk


@pytest.mark.parametrize("client", ["pyghmi", "ipmitool"])
def test_terminal_console_echo_leave_replay(sol_lab: SolLab, tmp_path: Path, client: str) -> None:
    if client == "ipmitool":
        need("ipmitool")
    book = _book(sol_lab, tmp_path / "book.yaml")
    env = dict(os.environ, DCOPS_STATE=sol_lab.state_url, DCOPS_CONFIG=str(tmp_path / "config.yaml"))
    (tmp_path / "config.yaml").write_text(f"console: {{retention_days: 30, sol: {client}}}\n")
    dcops = [sys.executable, "-m", "dcops", "-i", str(book)]
    master, slave = pty.openpty()
    proc = subprocess.Popen([*dcops, "console", "sol-01"], stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                            env=env, close_fds=True)
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"leave with ~.]", seen)
        os.write(master, b"echo from-the-terminal\r")
        _read_until(master, b"from-the-terminal", seen)
        os.write(master, b"\r~.")
        assert proc.wait(PATIENT) == 0
        stderr = proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert "recorded" in stderr, stderr
    assert b"~." not in bytes(sol_lab.serial.received)  # the escape stays in dcops

    listed = json.loads(subprocess.run([*dcops, "console", "list", "-o", "json"], env=env, capture_output=True,
                                       check=True, timeout=PATIENT).stdout)
    [item] = listed["items"]
    assert item["host"] == "sol-01" and item["via"] == "terminal" and item["result"] == "ok"
    assert item["transport"] == f"ipmi-sol/{client}"
    replayed = subprocess.run([*dcops, "console", "replay", item["id"][:10]], env=env, capture_output=True,
                              check=True, timeout=PATIENT).stdout
    assert b"echo from-the-terminal" in replayed
    typed = subprocess.run([*dcops, "console", "replay", item["id"], "--input"], env=env, capture_output=True,
                           check=True, timeout=PATIENT).stdout
    assert typed.splitlines()[0] == b"echo from-the-terminal"
    audit = json.loads(subprocess.run([*dcops, "audit", "list", "--action", "console", "-o", "json"], env=env,
                                      capture_output=True, check=True, timeout=PATIENT).stdout)
    assert sorted(e["action"] for e in audit["items"]) == ["console.close", "console.open"]
    assert all(e["host"] == "sol-01" and e["actor"] for e in audit["items"])
