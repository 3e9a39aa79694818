"""Real peers for the BMC layer, each started on a free 127.0.0.1 port in a temporary directory
with a readiness probe bounded in time: sushy-tools (Redfish) and OpenIPMI ipmi_sim (IPMI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

IPMI_KIT = Path(__file__).resolve().parents[2] / "fixtures" / "ipmi"
USER, PASSWORD = "admin", "sushy-pw-123"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _need(tool: str) -> str:
    path = shutil.which(tool) or (str(Path(sys.executable).parent / tool)
                                  if (Path(sys.executable).parent / tool).exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is needed in CI")
        pytest.skip(f"{tool} is not installed")
    return path


@dataclass
class Sushy:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def sushy(tmp_path: Path) -> Iterator[Sushy]:
    exe = _need("sushy-emulator")
    import bcrypt

    port = free_port()
    (tmp_path / "htpasswd").write_text(f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(5)).decode()}\n")
    (tmp_path / "emulator.conf").write_text(f"""
SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
SUSHY_EMULATOR_LISTEN_PORT = {port}
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_STATE_DIR = '{tmp_path}/state'
SUSHY_EMULATOR_AUTH_FILE = '{tmp_path}/htpasswd'
SUSHY_EMULATOR_FEATURE_SET = 'full'
SUSHY_EMULATOR_FAKE_SYSTEMS = [
    {{'uuid': '00000000-0000-0000-0000-000000000001', 'name': 'node-1', 'power_state': 'Off',
     'nics': [{{'mac': '52:54:00:00:00:01', 'ip': '127.0.0.1'}}]}},
]
""")
    log = tmp_path / "sushy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "--config", str(tmp_path / "emulator.conf"), "--fake", "-i", "127.0.0.1",
                                 "-p", str(port)], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/redfish/v1", timeout=1).close()
            break
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"sushy-emulator did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    yield Sushy(url, port, proc, log)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def image_server(tmp_path: Path) -> Iterator[str]:
    """A loopback http.server serving a small 'ISO' for InsertMedia to download."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "boot.iso").write_bytes(b"\0" * 65536)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/boot.iso"
    server.shutdown()
    server.server_close()


@dataclass
class IpmiSim:
    port: int
    console_port: int
    process: subprocess.Popen[bytes]
    state: Path
    sock: socket.socket | None = None

    def console(self, line: str) -> str:
        """Send one emulation command to the ipmi_sim console (runtime fault injection) and read
        up to its next prompt. The connection stays open for the simulator's life: ipmi_sim
        stops answering RMCP+ after some console disconnects, and "quit" ends the simulator."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.console_port), timeout=5)
            self._until_prompt()
        self.sock.sendall(line.encode() + b"\n")
        return self._until_prompt()

    def _until_prompt(self) -> str:
        assert self.sock is not None
        data = b""
        deadline = time.monotonic() + 5
        while not data.rstrip().endswith(b">") and time.monotonic() < deadline:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode("latin-1")


RMCP_PING = bytes.fromhex("0600ff06000011be80000000")  # ASF presence ping


def _rmcp_pong(port: int) -> bool:
    """Whether the BMC answers an RMCP presence ping (ready to serve IPMI over LAN)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        sock.sendto(RMCP_PING, ("127.0.0.1", port))
        try:
            return bool(sock.recv(512))
        except OSError:
            return False


@pytest.fixture
def ipmi_sim(tmp_path: Path) -> Iterator[IpmiSim]:
    _need("ipmi_sim")
    _need("sdrcomp")
    port, console = free_port(socket.SOCK_DGRAM), free_port()
    state = tmp_path / "ipmi"
    log = tmp_path / "ipmi_sim.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["sh", str(IPMI_KIT / "start-bmc.sh"), "bmc1", str(port), str(console), str(state)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    # Probe RMCP only: touching the console while ipmi_sim starts can wedge it.
    deadline = time.monotonic() + 20
    while not _rmcp_pong(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"ipmi_sim did not start: {log.read_text()[-2000:]}")
    sim = IpmiSim(port, console, proc, state)
    yield sim
    if sim.sock is not None:
        sim.sock.close()
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
