"""The console gateway over a real IPMI SOL session (OpenIPMI ipmi_sim, SOL to an echoing serial
port): type a line, see the echo, close; the recording gives back the same bytes; the audit
names the user."""

from __future__ import annotations

import asyncio

from dcops.console import cast, store
from dcops.console.gateway import ConsoleGateway
from dcops.store import audit
from tests.helpers.timing import PATIENT
from tests.integration.console.conftest import SolLab


async def _read_until(session, needle: bytes) -> bytes:  # type: ignore[no-untyped-def]
    seen = b""
    while needle not in seen:
        chunk = await asyncio.wait_for(session.read(), PATIENT)
        assert chunk, f"the console ended before {needle!r} came back; got {seen!r}"
        seen += chunk
    return seen


def test_sol_line_echo_recorded_and_audited(sol_lab: SolLab) -> None:
    gateway = ConsoleGateway(sol_lab.store)

    async def run() -> tuple[str, bytes]:
        session = await gateway.open(sol_lab.host, user="alice", via="web", web=True)
        await session.write(b"echo dcops-22\r")
        seen = await _read_until(session, b"dcops-22")
        await session.close()
        return session.id, seen

    session_id, seen = asyncio.run(run())
    assert b"echo dcops-22" in bytes(sol_lab.serial.received)  # the keystrokes reached the host
    record = store.get(sol_lab.store, session_id)
    assert record is not None and record.user == "alice" and record.host == "sol-01"
    assert record.transport == "ipmi-sol/pyghmi" and record.duration_s is not None
    assert record.cast is not None and record.sha256 == store.digest(record.cast)
    recording = cast.loads(record.cast)
    assert cast.output_bytes(recording) == seen  # replays exactly what the console showed
    assert cast.input_lines(recording) == ["echo dcops-22\r"]

    entries = audit.query(sol_lab.store, host="sol-01", action="console")
    by_action = {e.action: e for e in entries}
    assert set(by_action) == {"console.open", "console.close"}
    assert all(e.on_behalf_of == "web:alice" for e in entries)
    close = by_action["console.close"]
    assert close.intent_id == by_action["console.open"].id
    assert close.after["session"] == session_id and close.after["recording_sha256"] == record.sha256
    assert "password" not in record.cast


def test_refused_login_is_audited_and_raises(sol_lab: SolLab, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DCOPS_TEST_BMC_PASSWORD", "wrong-password")
    gateway = ConsoleGateway(sol_lab.store)

    async def run() -> None:
        await gateway.open(sol_lab.host, user="bob", via="web", web=True)

    try:
        asyncio.run(run())
    except Exception as exc:  # noqa: BLE001 - what matters is the message and the audit
        assert "wrong-password" not in str(exc)
    else:
        raise AssertionError("a refused login opened a console")
    [entry] = audit.query(sol_lab.store, host="sol-01", action="console.open")
    assert entry.result.startswith("failed") and entry.on_behalf_of == "web:bob"
