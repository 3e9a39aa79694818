"""A throwaway PostgreSQL server for tests: initdb in a temp dir, listening on 127.0.0.1 and a
unix socket, trust on the socket and a password (scram) over TCP, stopped at the end.

PostgreSQL refuses to run as root, so when the tests run as root (CI does) the server runs as the
``postgres`` user created by the Debian package.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.timing import PATIENT

PASSWORD = "pg-Test-Pass-7f3a9c"


def bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    base: Path
    port: int
    bindir: Path
    user: str | None  # the OS user running the server, None when it is us

    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = list(argv)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://dcops:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self._run(str(self.bindir / "psql"), "-h", str(self.base / "sock"), "-p", str(self.port), "-U", "dcops",
                  "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop",
                      timeout=30)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def start() -> PostgresServer:
    """Start a server; raises RuntimeError when PostgreSQL is not installed."""
    bins = bindir()
    if bins is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql')")
    base = Path(tempfile.mkdtemp(prefix="dcops-pg-"))
    (base / "sock").mkdir()
    pwfile = base / "pw"
    pwfile.write_text(PASSWORD + "\n")
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chmod(base, 0o755)
        for path in (base, base / "sock", pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    server = PostgresServer(base, port, bins, user)
    server._run(str(bins / "initdb"), "-D", str(base / "data"), "-U", "dcops", "--pwfile", str(pwfile),
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
    server._run(str(bins / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w", "-t", "60",
                "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {base / 'sock'} -c fsync=off "
                      "-c full_page_writes=off -c max_connections=50",
                "start")
    deadline = time.monotonic() + PATIENT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"PostgreSQL did not start listening within {PATIENT:g} s")
