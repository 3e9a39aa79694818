"""``dcops console HOST`` in a terminal: the local terminal attached to a gateway session.

The terminal goes raw (every key straight to the console) and comes back as it was, whatever
happens. ``~.`` at the start of a line leaves, as in ssh and ipmitool; ``~~`` sends one ``~``.
Without a terminal (stdin a pipe or a file) the typed bytes are sent as they come and the session
ends at end of input.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
import termios
import tty
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from dcops.console.gateway import ConsoleSession

ESCAPE = b"~"
LEAVE = b"."
LINE_ENDS = (b"\r", b"\n")


@dataclass
class EscapeReader:
    """Spots ``~.`` at the start of a line in typed bytes (pure). ``feed`` returns the bytes to
    send on and whether the user asked to leave."""

    at_line_start: bool = True
    pending: bool = False  # a "~" at the start of a line, waiting for the next key
    _out: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        self._out.clear()
        for value in data:
            byte = bytes((value,))
            if self.pending:
                self.pending = False
                if byte == LEAVE:
                    return bytes(self._out), True
                if byte == ESCAPE:
                    self._out += ESCAPE  # "~~": one literal tilde
                    self.at_line_start = False
                    continue
                self._out += ESCAPE  # not an escape after all: the tilde goes on with the key
            elif byte == ESCAPE and self.at_line_start:
                self.pending = True
                continue
            self._out += byte
            self.at_line_start = byte in LINE_ENDS
        return bytes(self._out), False


async def attach(session: ConsoleSession, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> str:
    """Pump the terminal and the session until the console ends, the user leaves (``~.``) or
    input ends; returns the session's result for the audit ("ok", or what ended it)."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    try:
        fd: int | None = stdin.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        fd = None  # no input at all (a test harness, a daemon): watch the output only
    loop = asyncio.get_running_loop()
    typed: asyncio.Queue[bytes] = asyncio.Queue()
    escape = EscapeReader()

    def readable() -> None:
        assert fd is not None
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
        typed.put_nowait(data)

    saved: Any = None
    if fd is not None and os.isatty(fd):
        saved = termios.tcgetattr(fd)
        tty.setraw(fd)
        stdout.write(f"[{session.host}: {session.transport}; leave with ~.]\r\n".encode())
        stdout.flush()
    if fd is not None:
        loop.add_reader(fd, readable)

    async def output() -> str:
        while True:
            data = await session.read()
            if not data:
                return "console ended"
            stdout.write(data)
            stdout.flush()

    async def keys() -> str:
        while True:
            data = await typed.get()
            if not data:
                return "ok"  # end of input
            forward, leave = escape.feed(data)
            if forward:
                await session.write(forward)
            if leave:
                return "ok"

    tasks = [asyncio.create_task(output())] + ([asyncio.create_task(keys())] if fd is not None else [])
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return next(iter(done)).result()
    finally:
        if fd is not None:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(fd)
        if saved is not None and fd is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            stdout.write(b"\r\n")
            stdout.flush()
