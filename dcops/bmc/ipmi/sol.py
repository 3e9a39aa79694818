"""IPMI serial-over-LAN as an async byte stream, through pyghmi's SOL console (this package is
the only importer of pyghmi).

pyghmi drives its sessions from whoever calls ``Session.wait_for_rsp``; one pump thread per
process does that for every open SOL console and hands what arrives to each console's asyncio
queue. Logging in and activating the payload block, so they run in a worker thread.

Each console has an RMCP+ session of its own: pyghmi reuses a session only when the credentials
compare equal to the stored (encoded) ones, which ``str`` credentials never do, so closing a
console (payload deactivated, session logged out) never ends another user's session to the BMC.

pyghmi 1.6 (checked on 1.6.19) loses or repeats console output when a BMC retransmits: see ``_Console``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pyghmi import exceptions as ipmi_exc
from pyghmi.ipmi import console as ipmi_console

from dcops.errors import ApplyError, UnreachableError
from dcops.secrets import Secret, redact

PUMP_INTERVAL = 0.1  # how long one pump iteration waits for a packet (it returns early on traffic)


class _Pump:
    """The one thread that runs pyghmi's I/O loop while any SOL console is open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def acquire(self) -> None:
        with self._lock:
            self._users += 1
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="dcops-sol-pump", daemon=True)
                self._thread.start()

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users <= 0:
                self._users = 0
                self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ipmi_console.Console.wait_for_rsp(PUMP_INTERVAL)
            except Exception:  # noqa: BLE001 - a broken session must not stop the others' I/O
                continue


_PUMP = _Pump()


def accepted_part(payload: bytes | bytearray, remseq: int, accepted: int) -> bytes | bytearray:
    """What of a SOL packet from the BMC the console takes: all of a new packet; of a
    retransmission (the sequence number of the packet last taken), only the ``accepted``
    characters taken from its first copy, so nothing is shown twice and the ACK's accepted
    character count tells the BMC to send the rest in a new packet (IPMI v2.0 section 15.9).

    Why not take the characters a retransmission adds: OpenIPMI ipmi_sim (and any BMC that
    resends its whole buffer) appends what reached it meanwhile to the resent packet. If the ACK
    of the first copy is only late, not lost, the BMC takes it after resending, drops the
    accepted characters and sends the rest under a new sequence number; characters taken from
    the retransmission would then come a second time."""
    seq = payload[0] & 0x0F if payload else 0
    if seq != 0 and seq == remseq:  # sequence number 0: an ACK only, no characters
        return payload[:4 + accepted]
    return payload


class _Console(ipmi_console.Console):  # type: ignore[misc]
    """pyghmi's SOL console with retransmitted packets taken without losing or repeating output.

    pyghmi 1.6.19 ``Console._got_sol_payload``, on a retransmission carrying more characters than
    the copy it took, shows ``payload[4:][4 + lastsize:]`` (the 4-byte SOL header skipped twice:
    the 4 characters after those shown before are lost) and accepts the whole packet (so a BMC
    that also gets the late ACK of the first copy repeats the rest). Symptom: on a loaded gateway
    (the ACK later than ipmi_sim's 1 s retransmit timer) a typed ``echo from-chromium`` came back
    as ``ec`` + ``rom-chromium``. Here a retransmission is cut to what the first copy carried
    (``accepted_part``) before pyghmi sees it: pyghmi then finds "a retry with no new data",
    shows nothing and acknowledges that many characters, and the BMC sends the rest anew.
    """

    def _got_sol_payload(self, payload: Any) -> None:
        if not isinstance(payload, dict):  # a dict: pyghmi reports an error
            payload = accepted_part(payload, self.remseq, self.lastsize)
        super()._got_sol_payload(payload)


class PyghmiSol:
    """One SOL session. ``open`` logs in and activates the SOL payload (``force``: take it over
    from another client, as ``ipmitool sol activate`` users do with ``sol deactivate`` first)."""

    transport = "ipmi-sol/pyghmi"

    def __init__(self, host: str, address: str, port: int, username: str, password: Secret,
                 *, force: bool = True, timeout: float = 30.0) -> None:
        self.host = host
        self._args = (address, port, username, password)
        self._force = force
        self._timeout = timeout
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._console: Any = None
        self._error: str | None = None
        self._ready = threading.Event()
        self._closed = False
        # pyghmi's send_data waits for the BMC's ACK of each packet (resending for up to ~15 s,
        # pyghmi 1.6.19 Console._sendoutput): run on the event loop, one slow BMC froze every
        # console of the gateway and the web UI. One thread per console keeps keystrokes in order
        # and stalls only that console.
        self._writer: ThreadPoolExecutor | None = None

    def _deliver(self, data: Any) -> None:
        """pyghmi's callback (pump thread): bytes, or a dict with an error or info."""
        if self._loop is None:
            return
        if isinstance(data, bytes | bytearray):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, bytes(data))
            return
        if isinstance(data, dict) and "error" in data:
            self._error = redact(str(data["error"]))
            self._ready.set()
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        address, port, username, password = self._args
        _PUMP.acquire()
        try:
            self._console = await asyncio.to_thread(
                _Console, address, username, password.reveal(), self._deliver, port=port,
                force=self._force)
            deadline = self._loop.time() + self._timeout
            # The payload activates from the pump thread once the session is up.
            while not self._console.connected and self._error is None:
                if self._loop.time() > deadline:
                    raise UnreachableError(f"{self.host}: SOL did not activate within {self._timeout:.0f} s")
                await asyncio.to_thread(self._ready.wait, 0.2)
            if self._error is not None:
                raise ApplyError(f"{self.host}: SOL refused: {self._error}")
        except ipmi_exc.IpmiException as exc:
            await self.close()
            raise UnreachableError(f"{self.host}: SOL: {redact(str(exc))}") from None
        except BaseException:
            await self.close()
            raise

    async def read(self) -> bytes:
        if self._closed:
            return b""
        data = await self._queue.get()
        if data is None:
            return b""
        return data

    @property
    def error(self) -> str | None:
        return self._error

    async def write(self, data: bytes) -> None:
        if self._console is None or self._closed:
            raise ApplyError(f"{self.host}: the console is closed")
        if self._console.broken:
            raise ApplyError(f"{self.host}: SOL broke: {self._error or 'session lost'}")
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"dcops-sol-{self.host}")
        console = self._console
        await asyncio.get_running_loop().run_in_executor(self._writer, console.send_data, data)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        console, self._console = self._console, None
        try:
            if console is not None:
                # Deactivates the payload at the BMC; a session already gone has nothing left to deactivate.
                with contextlib.suppress(ipmi_exc.IpmiException, OSError):
                    await asyncio.to_thread(console.close)
                session = getattr(console, "ipmi_session", None)
                if session is not None:
                    with contextlib.suppress(ipmi_exc.IpmiException, OSError):
                        await asyncio.to_thread(session.logout)
        finally:
            _PUMP.release()
            self._queue.put_nowait(None)
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.shutdown(wait=False)  # a send still waiting for its ACK ends on its own
