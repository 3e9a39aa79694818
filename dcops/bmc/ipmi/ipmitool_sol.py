"""IPMI serial-over-LAN through ``ipmitool sol activate``, as an async byte stream: the fallback
for BMCs pyghmi's SOL cannot drive (pyghmi refuses a BMC whose SOL payload answers on another port
than the session's: "Non-standard SOL Port Number"), and the choice of sites that standardised on
ipmitool (config ``console: {sol: ipmitool}``).

ipmitool runs on a pseudo-terminal (it puts its input in raw mode and reads keystrokes from it);
the password goes through the environment (``-E``: ``IPMI_PASSWORD``), never argv. ``-C 3``
because without it every lanplus command takes 10 s on many BMCs (cipher suite negotiation).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import shutil
import subprocess

from dcops.errors import UnreachableError
from dcops.secrets import Secret


class IpmitoolSol:
    transport = "ipmi-sol/ipmitool"

    def __init__(self, host: str, address: str, port: int, username: str, password: Secret) -> None:
        self.host = host
        self._address, self._port, self._username, self._password = address, port, username, password
        self._proc: subprocess.Popen[bytes] | None = None
        self._master = -1
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.exit_status: int | None = None

    def argv(self) -> list[str]:
        tool = shutil.which("ipmitool") or "ipmitool"
        return [tool, "-I", "lanplus", "-C", "3", "-H", self._address, "-p", str(self._port),
                "-U", self._username, "-E", "sol", "activate"]

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        master, slave = pty.openpty()
        env = dict(os.environ, IPMI_PASSWORD=self._password.reveal())
        try:
            self._proc = subprocess.Popen(self.argv(), stdin=slave, stdout=slave, stderr=slave, env=env,
                                          close_fds=True, start_new_session=True)
        except FileNotFoundError:
            os.close(master)
            raise UnreachableError(f"{self.host}: the serial console needs ipmitool installed") from None
        finally:
            os.close(slave)
        self._master = master
        os.set_blocking(master, False)
        loop.add_reader(master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the other side of the pty closed (ipmitool exited)
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self._master)
        self._queue.put_nowait(data)

    async def read(self) -> bytes:
        data = await self._queue.get()
        if not data:
            self._queue.put_nowait(b"")  # later reads see the end too
            await self._reap()
        return data

    async def _reap(self) -> None:
        if self._proc is not None and self.exit_status is None:
            self.exit_status = await asyncio.to_thread(self._proc.wait)

    async def write(self, data: bytes) -> None:
        if self._master < 0:
            return
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                await asyncio.sleep(0.01)
                continue
            view = view[written:]

    async def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            # "~." is ipmitool's own escape: it deactivates the payload at the BMC before leaving.
            with contextlib.suppress(OSError):
                os.write(self._master, b"\r~.")
            try:
                await asyncio.wait_for(asyncio.to_thread(self._proc.wait), 10.0)
            except TimeoutError:
                self._proc.kill()
        await self._reap()
        if self._master >= 0:
            with contextlib.suppress(ValueError, RuntimeError):
                asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
            self._master = -1
        self._queue.put_nowait(b"")
