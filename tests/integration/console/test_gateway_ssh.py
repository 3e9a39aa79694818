"""The console gateway over a BMC's SSH serial console: a simulated iLO 5 (``dcops sim``)
advertises ``SerialConsole`` "SSH" with the port of a real OpenSSH server on loopback, whose
ForceCommand stands in for iLO's ``vsp`` (tests/helpers/ssh_serial_standin.py). With
``console.serial: auto`` the gateway picks SSH, types a line, sees the echo; the recording gives
back the same bytes; the audit names the user; the host key is recorded on first use and a
changed key is refused."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.bmc.ssh_serial import HostKeyChanged
from dcops.console import cast, store
from dcops.console.gateway import ConsoleGateway
from dcops.console.serial import SerialSettings, serial_opener
from dcops.models import Host
from dcops.store import audit
from dcops.store.db import open_store
from tests.helpers import simfleet
from tests.helpers.cli import run
from tests.helpers.sshd import Sshd, need_sshd
from tests.helpers.timing import PATIENT


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sshd, Host, object]]:
    need_sshd()
    with Sshd(tmp_path / "sshd") as sshd, simfleet.fleet(1, ("hpe-dl360-gen10p",),
                                                          serial_ssh_port=sshd.port, username=sshd.user) as sim:
        # One BMC account for Redfish and SSH, as on a real BMC: the sim's user is sshd's login user.
        monkeypatch.setenv("DCOPS_TEST_BMC_PASSWORD", sim.password)
        endpoint = simfleet.endpoint(sim, 0)
        endpoint = dataclasses.replace(endpoint, password_ref="env:DCOPS_TEST_BMC_PASSWORD")
        state = open_store(f"sqlite:///{tmp_path / 'state.db'}")
        yield sshd, Host(name="ilo-01", bmc=endpoint), state
        state.close()


async def _read_until(session, needle: bytes) -> bytes:  # type: ignore[no-untyped-def]
    seen = b""
    while needle not in seen:
        chunk = await asyncio.wait_for(session.read(), PATIENT)
        assert chunk, f"the console ended before {needle!r} came back; got {seen!r}"
        seen += chunk
    return seen


def test_ssh_serial_echo_recorded_audited_and_key_pinned(lab, capsys) -> None:  # type: ignore[no-untyped-def]
    sshd, host, state = lab
    state_url = str(state.url)
    settings = SerialSettings(mode="auto", client_keys=(str(sshd.client_key),))
    gateway = ConsoleGateway(state, opener=serial_opener(state, settings))

    async def session_once() -> tuple[str, bytes, str]:
        session = await gateway.open(host, user="alice", via="web", web=True)
        seen = await _read_until(session, b"return to the CLI Session.\r\n")  # iLO's vsp banner
        await session.write(b"echo dcops-22c\r")
        seen += await _read_until(session, b"echo dcops-22c\r\n")
        transport = session.transport
        await session.close()
        return session.id, seen, transport

    session_id, seen, transport = asyncio.run(session_once())
    assert transport == "redfish-serial/ssh"
    log = sshd.log.read_text()
    assert "command:vsp\n" in log  # iLO's console command, chosen from the simulated Manager
    typed = bytes.fromhex("".join(line[6:] for line in log.splitlines() if line.startswith("typed:")))
    assert typed == b"echo dcops-22c\r"  # the keystrokes reached the host

    record = store.get(state, session_id)
    assert record is not None and record.user == "alice" and record.transport == "redfish-serial/ssh"
    assert record.cast is not None and record.sha256 == store.digest(record.cast)
    recording = cast.loads(record.cast)
    assert cast.output_bytes(recording) == seen  # replays exactly what the console showed
    assert cast.input_lines(recording) == ["echo dcops-22c\r"]
    entries = {e.action: e for e in audit.query(state, host="ilo-01", action="console")}
    assert set(entries) == {"console.open", "console.close"}
    assert all(e.on_behalf_of == "web:alice" for e in entries.values())
    assert entries["console.close"].intent_id == entries["console.open"].id

    # Trust on first use: the key the BMC offered is recorded...
    assert store.pinned_key(state, "ilo-01") == sshd.host_key_line()
    # ...and a BMC offering another key is refused, the refusal audited, the record kept.
    sshd.rekey()
    with pytest.raises(HostKeyChanged, match="host key changed"):
        asyncio.run(gateway.open(host, user="bob", via="terminal", web=False))
    assert store.pinned_key(state, "ilo-01") != sshd.host_key_line()
    refused = [e for e in audit.query(state, host="ilo-01", action="console.open") if e.result.startswith("failed")]
    assert refused and "host key changed" in refused[0].result
    assert sshd.log.read_text().count("command:") == 1  # the refused connection never reached the console

    # The operator checked the BMC and forgets the old key: the next console records the new one.
    code, _out, err = run(capsys, "console", "forget-key", "ilo-01", "--state", state_url)
    assert code == 0 and "forgotten" in err
    asyncio.run(session_once())
    assert store.pinned_key(state, "ilo-01") == sshd.host_key_line()
    assert audit.query(state, host="ilo-01", action="console.forget_key")


def test_known_hosts_file_listed_key_opens_other_key_refused(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sshd, host, state = lab
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_key_line()}\n")
    settings = SerialSettings(mode="ssh", known_hosts=str(known), client_keys=(str(sshd.client_key),))
    gateway = ConsoleGateway(state, opener=serial_opener(state, settings))

    async def open_close() -> str:
        session = await gateway.open(host, user="carol", via="terminal", web=False)
        await _read_until(session, b"Virtual Serial Port Active")
        await session.close()
        return session.transport

    assert asyncio.run(open_close()) == "redfish-serial/ssh"
    assert store.pinned_key(state, "ilo-01") is None  # the file decides: nothing recorded
    sshd.rekey()
    with pytest.raises(HostKeyChanged, match="not in"):
        asyncio.run(open_close())


def test_terminal_console_over_ssh_from_the_config(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``dcops console HOST`` in a pseudo-terminal with ``console: {serial: ssh, ssh_client_keys: [...]}``
    read from the config file: the same gateway, recorded with the SSH transport."""
    import json
    import os
    import pty
    import subprocess
    import sys

    from tests.integration.console.test_cli_console import _read_until as read_pty

    sshd, host, state = lab
    book = tmp_path / "book.yaml"
    book.write_text(json.dumps({"version": 1, "sites": [{"name": "dc1", "rooms": [{"name": "r1", "racks": [
        {"name": "R1", "hosts": [{"name": "ilo-01", "u": 1, "bmc": {
            "address": "127.0.0.1", "port": host.bmc.port, "scheme": "http", "protocol": "redfish",
            "username": sshd.user, "password": "env:DCOPS_TEST_BMC_PASSWORD"}}]}]}]}]}))
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"console": {"serial": "ssh", "ssh_client_keys": [str(sshd.client_key)]}}))
    env = dict(os.environ, DCOPS_STATE=str(state.url), DCOPS_CONFIG=str(config))
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "dcops", "-i", str(book), "console", "ilo-01"], stdin=slave,
                            stdout=slave, stderr=subprocess.PIPE, env=env, close_fds=True)
    os.close(slave)
    seen = bytearray()
    try:
        read_pty(master, b"return to the CLI Session.", seen)
        os.write(master, b"echo via-ssh\r")
        read_pty(master, b"via-ssh\r\n", seen)
        os.write(master, b"\r~.")
        assert proc.wait(PATIENT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    [record] = store.recent(state, host="ilo-01")
    assert record.via == "terminal" and record.transport == "redfish-serial/ssh" and record.result == "ok"
    assert record.cast is not None and "echo via-ssh" in record.cast
