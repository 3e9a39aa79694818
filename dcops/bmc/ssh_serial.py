"""A host's serial console through its BMC's SSH (Redfish ``SerialConsole`` SSH), as an async
byte stream (``dcops.console.stream``). This module is the only importer of asyncssh.

The session logs in to the BMC's SSH with the BMC account (password from the book's secret
reference, and the client keys the config names), asks for a pseudo-terminal and runs the
vendor's console command (``dcops.console.serial_plan``); without a command the port itself is
the console (OpenBMC's 2200).

Host keys are never accepted blindly. Either ``known_hosts`` (an OpenSSH known_hosts file: the
key must be listed there), or trust on first use: ``pinned`` is the key recorded the first time
(``None`` on first use; the caller records ``host_key`` after a successful login) and any other
key is refused with ``HostKeyChanged``, naming both fingerprints, never silently replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import asyncssh

from dcops.errors import DcopsError, UnreachableError
from dcops.secrets import Secret, redact


class HostKeyChanged(DcopsError):
    """The BMC's SSH host key is not the one recorded (or listed): refused."""


class _Client(asyncssh.SSHClient):
    """Checks the offered host key against the pinned one (trust on first use)."""

    def __init__(self, host: str, pinned: str | None, *, listed_only: bool = False) -> None:
        self._host = host
        self._listed_only = listed_only  # known_hosts mode: asyncssh asks here only for unlisted keys
        self._pinned = asyncssh.import_public_key(pinned) if pinned else None
        self.offered: Any = None
        self.changed: str | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: Any) -> bool:
        self.offered = key
        if self._listed_only:
            return False
        if self._pinned is None:
            return True  # first use: the caller records it once the login succeeds
        if key.public_data == self._pinned.public_data:
            return True
        self.changed = (f"{self._host}: the BMC's SSH host key changed (recorded {self._pinned.get_fingerprint()}, "
                        f"offered {key.get_fingerprint()}): refused. If the BMC was replaced or re-keyed, "
                        f"check it and run `dcops console forget-key {self._host}`")
        return False


class SshSerial:
    transport = "redfish-serial/ssh"

    def __init__(self, host: str, address: str, port: int, username: str, password: Secret, *,
                 command: str | None, known_hosts: str | None = None, pinned: str | None = None,
                 client_keys: Sequence[str] = (), timeout: float = 30.0,
                 width: int = 80, height: int = 24) -> None:
        self.host = host
        self._address, self._port, self._username, self._password = address, port, username, password
        self._command = command
        self._known_hosts = known_hosts
        self._pinned = pinned
        self._client_keys = list(client_keys)
        self._timeout = timeout
        self._size = (width, height)
        self._conn: Any = None
        self._proc: Any = None
        self.host_key: str | None = None  # OpenSSH public key line of the BMC, once connected
        self.first_use = False

    async def open(self) -> None:
        client = _Client(self.host, self._pinned, listed_only=bool(self._known_hosts))
        options: dict[str, Any] = {
            "username": self._username,
            "password": self._password.reveal() or None,
            "client_keys": self._client_keys or [],  # [] (not the default ()): never ~/.ssh's keys
            "agent_path": None,  # the operator's agent is not the BMC's business
            "config": [],  # nor is ~/.ssh/config (() would load it): the book says where the BMC is
            "connect_timeout": self._timeout,
        }
        if self._known_hosts:
            options["known_hosts"] = self._known_hosts
        else:
            # No trusted keys listed: every key goes through _Client.validate_host_public_key.
            options["known_hosts"] = ([], [], [])
            options["server_host_key_algs"] = "default"
        try:
            self._conn, _ = await asyncssh.create_connection(lambda: client, self._address, self._port, **options)
        except asyncssh.HostKeyNotVerifiable as exc:
            if client.changed:
                raise HostKeyChanged(client.changed) from None
            raise HostKeyChanged(f"{self.host}: the BMC's SSH host key is not in {self._known_hosts}: refused "
                                 f"({redact(str(exc))})") from None
        except asyncssh.PermissionDenied:
            raise UnreachableError(f"{self.host}: the BMC refused the SSH login of {self._username!r}") from None
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            raise UnreachableError(f"{self.host}: SSH to the BMC at {self._address}:{self._port}: "
                                   f"{redact(str(exc)) or type(exc).__name__}") from None
        key = client.offered or self._conn.get_server_host_key()
        self.host_key = key.export_public_key("openssh").decode().strip() if key is not None else None
        self.first_use = self._pinned is None and not self._known_hosts
        try:
            self._proc = await self._conn.create_process(self._command, term_type="xterm", term_size=self._size,
                                                         encoding=None)
        except asyncssh.Error as exc:
            self._conn.close()
            raise UnreachableError(f"{self.host}: the BMC's SSH would not start the console: "
                                   f"{redact(str(exc))}") from None

    async def read(self) -> bytes:
        if self._proc is None:
            return b""
        try:
            data: bytes = await self._proc.stdout.read(65536)
        except (asyncssh.Error, OSError):
            return b""
        return data

    async def write(self, data: bytes) -> None:
        if self._proc is None or self._proc.stdin.is_closing():
            return
        try:
            self._proc.stdin.write(data)
            await self._proc.stdin.drain()
        except (asyncssh.Error, OSError):
            return  # the BMC ended the session: the next read says so (b"")

    async def close(self) -> None:
        # Closing the SSH connection ends the BMC's CLI session, and the console with it (iLO's
        # "ESC (" or XCC's ESC-( would only return to the CLI, which is closed right after).
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.close()
        if conn is not None:
            conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.wait_closed(), self._timeout)
