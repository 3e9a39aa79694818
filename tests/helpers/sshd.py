"""A real OpenSSH server on loopback standing in for a BMC's SSH: its own host key, config and
authorized_keys in a temporary directory, key authentication only, every login forced into
``ssh_serial_standin.py`` (the vendor's serial console behind the CLI).

    with Sshd(tmp_path) as sshd:    # sshd.port, sshd.client_key (for console.ssh_client_keys),
        ...                         # sshd.host_key_line(), sshd.log (what the stand-in saw)
    sshd.rekey()                    # a new host key (a replaced BMC), restarting sshd
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from tests.helpers.simfleet import wait_for
from tests.helpers.timing import PATIENT

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
STANDIN = Path(__file__).with_name("ssh_serial_standin.py")


def need_sshd() -> None:
    """Skip when OpenSSH's server is not installed here; fail in CI, where tests/install.sh installs it."""
    if shutil.which("sshd") or Path(SSHD).exists():
        return
    import pytest

    if os.environ.get("CI"):
        pytest.fail("openssh-server is needed in CI (tests/install.sh)")
    pytest.skip("needs openssh-server (tests/install.sh)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    path.unlink(missing_ok=True)
    Path(f"{path}.pub").unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dcops-test", "-f", str(path)],
                   check=True, capture_output=True)


class Sshd:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.host_key = directory / "ssh_host_ed25519_key"
        self.client_key = directory / "client_ed25519"
        self.log = directory / "standin.log"
        self.port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        _keygen(self.host_key)
        _keygen(self.client_key)
        authorized = directory / "authorized_keys"
        authorized.write_text(Path(f"{self.client_key}.pub").read_text())
        authorized.chmod(0o600)
        self.config = directory / "sshd_config"
        self.config.write_text("\n".join([
            "ListenAddress 127.0.0.1",
            f"Port {self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {directory / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",  # the temporary directory's owner and modes are the test runner's
            "PermitRootLogin prohibit-password",
            f"AllowUsers {self.user}",
            f"SetEnv STANDIN_LOG={self.log}",
            "PermitUserEnvironment no",
            f"ForceCommand {sys.executable} {STANDIN}",
            "",
        ]))

    def host_key_line(self) -> str:
        return " ".join(Path(f"{self.host_key}.pub").read_text().split()[:2])

    def start(self) -> None:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        self._proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)], stdout=subprocess.DEVNULL,
                                      stderr=open(self.dir / "sshd.err", "ab"))  # noqa: SIM115
        wait_for(self._ready, PATIENT, what=f"sshd on 127.0.0.1:{self.port}")

    def _ready(self) -> bool:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise AssertionError(f"sshd exited: {(self.dir / 'sshd.err').read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            return s.recv(4).startswith(b"SSH-")
        return False

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(PATIENT)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def rekey(self) -> None:
        """A new host key, as a replaced or re-keyed BMC has."""
        self.stop()
        _keygen(self.host_key)
        self.start()

    def __enter__(self) -> Sshd:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
