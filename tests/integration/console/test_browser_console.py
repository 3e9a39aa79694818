"""The whole thing in a real browser: headless Chromium logs in through the web UI's login form
(the UI mounted under /ui/ as ``dcops serve`` does, a real operator from ``dcops.web.users``),
opens the host's page, clicks "Console" and gets the xterm.js console of an ipmi_sim BMC with SOL,
types a line, sees the echo, closes; the recording replays the same bytes the page showed; the
audit names the user."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from dcops.console import cast, store
from dcops.store import audit
from tests.helpers.browser import chromium
from tests.helpers.simfleet import wait_for
from tests.helpers.timing import PATIENT
from tests.helpers.web_login import OPERATOR, USERS, add_users, console_app
from tests.integration.console.conftest import SolLab

pytestmark = pytest.mark.slow

SCREEN = """return (function () {
  const b = window.dcopsConsole.term.buffer.active; const out = [];
  for (let i = 0; i < b.length; i++) { out.push(b.getLine(i).translateToString(true)); }
  return out.join('\\n'); })()"""


@pytest.fixture
def served(sol_lab: SolLab) -> Iterator[str]:
    """The web UI with the console on a loopback port, served from a thread of their own."""
    add_users(sol_lab.store)
    app = console_app(sol_lab.store, [sol_lab.host])
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    ready = threading.Event()
    port: list[int] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(PATIENT)
    yield f"http://127.0.0.1:{port[0]}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(PATIENT)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(PATIENT)


def test_browser_types_sees_echo_and_the_recording_replays_it(sol_lab: SolLab, served: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with chromium(tmp_path) as driver:
        driver.get(f"{served}/ui/host/sol-01")  # not logged in: the login form, which comes back here
        wait_for(lambda: driver.find_elements(By.ID, "password"), PATIENT, "the login form")
        driver.find_element(By.ID, "name").send_keys(OPERATOR)
        driver.find_element(By.ID, "password").send_keys(USERS[OPERATOR][1])
        driver.find_element(By.ID, "login").click()
        wait_for(lambda: driver.find_elements(By.ID, "console-link"), PATIENT, "the host page's console link")
        driver.find_element(By.ID, "console-link").click()
        wait_for(lambda: driver.find_elements(By.ID, "status"), PATIENT, "the console page")
        assert driver.current_url == f"{served}/ui/console/sol-01"
        status = driver.find_element(By.ID, "status")
        wait_for(lambda: status.get_attribute("data-state") == "open", PATIENT, "the console to connect")
        wait_for(lambda: status.get_attribute("data-session"), PATIENT, "the session id")
        session_id = status.get_attribute("data-session")
        driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys("echo from-chromium", Keys.ENTER)
        wait_for(lambda: bytes(sol_lab.serial.received).endswith(b"\r"), PATIENT, "Enter to reach the host")
        try:
            wait_for(lambda: "echo from-chromium\n" in driver.execute_script(SCREEN), PATIENT, "the echo on screen")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; screen {driver.execute_script(SCREEN)!r}, host got "
                                 f"{bytes(sol_lab.serial.received)!r}, status {status.text!r}, "
                                 f"log {driver.get_log('browser')!r}") from None
        screen = driver.execute_script(SCREEN)
        driver.find_element(By.ID, "close").click()
        wait_for(lambda: status.get_attribute("data-state") == "closed", PATIENT, "the console to close")
        wait_for(lambda: (r := store.get(sol_lab.store, session_id)) is not None and r.cast is not None,
                 PATIENT, "the recording")
        record = store.get(sol_lab.store, session_id)
        assert record is not None and record.cast is not None
        # Playback in the browser shows the same screen.
        driver.get(f"{served}/ui/console/sessions/{session_id}")
        replay = driver.find_element(By.ID, "replay")
        wait_for(lambda: replay.get_attribute("data-done") == "1", PATIENT, "the playback")
        inputs = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#inputs li")]
    recording = cast.loads(record.cast)
    shown = cast.output_bytes(recording).decode("utf-8", "replace")
    assert "echo from-chromium" in shown and shown.strip() == screen.strip()
    assert bytes(sol_lab.serial.received).endswith(b"echo from-chromium\r")
    assert inputs == ["echo from-chromium"]  # the typed line ("\r" is not shown)
    assert cast.input_lines(recording) == ["echo from-chromium\r"]
    entries = audit.query(sol_lab.store, host="sol-01", action="console")
    assert {(e.action, e.on_behalf_of) for e in entries} == {("console.open", f"web:{OPERATOR}"),
                                                              ("console.close", f"web:{OPERATOR}")}
