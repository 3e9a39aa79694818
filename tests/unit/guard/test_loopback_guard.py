"""The suite's loopback guard stops any connection outside 127.0.0.0/8 and ::1 before a packet
leaves, in this process and in Python subprocesses, and the test that tried fails even if the code
under test swallowed the error. Documentation addresses (RFC 5737/3849) are used, so even a broken
guard would send nothing anywhere real."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest

from tests.helpers import loopback


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("::ffff:127.0.0.1", True),
    ("localhost", True), ("bmc.localhost", True), ("0.0.0.0", True), (None, True), (b"127.0.0.1", True),
    ("192.0.2.1", False), ("198.51.100.7", False), ("10.20.1.11", False), ("2001:db8::1", False),
    ("example.com", False), ("::ffff:192.0.2.1", False), ("<broadcast>", False), ("fe80::1%eth0", False),
])
def test_which_hosts_stay_on_the_machine(host: object, allowed: bool) -> None:
    assert loopback.allowed_host(host) is allowed


def test_connect_outside_loopback_is_stopped_and_logged(loopback_log: object) -> None:
    with socket.socket() as sock, pytest.raises(loopback.LoopbackViolation, match=r"test_connect.*192\.0\.2\.1"):
        sock.connect(("192.0.2.1", 80))
    with socket.socket() as sock, pytest.raises(loopback.LoopbackViolation):
        sock.connect_ex(("198.51.100.1", 443))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(loopback.LoopbackViolation):
        udp.sendto(b"\x06\x00\xff\x06", ("192.0.2.1", 623))  # an RMCP ping to a BMC off the machine
    with pytest.raises(loopback.LoopbackViolation):
        socket.getaddrinfo("bmc.example.com", 443)  # no DNS query either
    taken = loopback_log.take()  # type: ignore[attr-defined]
    assert len(taken) == 4 and all("loopback guard" in line for line in taken)


def test_a_swallowed_violation_still_reaches_the_log(loopback_log: object) -> None:
    async def careless() -> str:
        try:
            await asyncio.open_connection("192.0.2.1", 443)
        except Exception as exc:  # what a "BMC unreachable, carry on" path does
            return type(exc).__name__
        return "connected"

    assert asyncio.run(careless()) == "LoopbackViolation"
    [line] = loopback_log.take()  # type: ignore[attr-defined]
    assert "192.0.2.1" in line


def test_python_subprocesses_are_guarded_too(loopback_log: object) -> None:
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=1)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "LoopbackViolation" in proc.stderr
    [line] = loopback_log.take()  # type: ignore[attr-defined]
    assert "192.0.2.1" in line


def test_loopback_itself_is_untouched() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=30):
            pass
