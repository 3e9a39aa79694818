"""OpenIPMI ``ipmi_sim`` BMCs for tests and benchmarks: each on a free loopback UDP port with its
console on a TCP port, started by ``tests/fixtures/ipmi/start-bmc.sh`` in a directory of its own,
ready when it answers an RMCP presence ping (bounded in time), stopped afterwards.

    with ipmi_sims(tmp_path, 3) as bmcs:        # a context manager: tests, patrol, benchmarks
        bmcs[0].console("sensor_set_value 0x20 0 1 47 1")   # fault injection through the console
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.simfleet import wait_for
from tests.helpers.timing import PATIENT

IPMI_KIT = Path(__file__).resolve().parents[1] / "fixtures" / "ipmi"
RMCP_PING = bytes.fromhex("0600ff06000011be80000000")  # ASF presence ping
USER, PASSWORD = "admin", "password"  # what start-bmc.sh configures


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need(tool: str) -> str:
    """The path of ``tool`` (on PATH or next to the interpreter); skip the test when it is missing,
    fail in CI, where it must be installed."""
    beside = Path(sys.executable).parent / tool
    path = shutil.which(tool) or (str(beside) if beside.exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is needed in CI")
        pytest.skip(f"{tool} is not installed")
    return path


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()


def rmcp_pong(port: int) -> bool:
    """Whether the BMC answers an RMCP presence ping (ready to serve IPMI over LAN)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        sock.sendto(RMCP_PING, ("127.0.0.1", port))
        try:
            return bool(sock.recv(512))
        except OSError:
            return False


@dataclass
class IpmiSim:
    name: str
    port: int
    console_port: int
    process: subprocess.Popen[bytes]
    state: Path
    log: Path
    sock: socket.socket | None = None

    def console(self, line: str) -> str:
        """Send one emulation command to the console (runtime fault injection) and read up to its
        next prompt. The connection stays open for the simulator's life: ipmi_sim stops answering
        RMCP+ after some console disconnects, and "quit" ends the simulator."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.console_port), timeout=PATIENT)
            self._until_prompt()
        self.sock.sendall(line.encode() + b"\n")
        return self._until_prompt()

    def _until_prompt(self) -> str:
        assert self.sock is not None
        data = b""
        deadline = time.monotonic() + PATIENT
        while not data.rstrip().endswith(b">") and time.monotonic() < deadline:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode("latin-1")

    def stop(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        stop_process(self.process)


@contextmanager
def ipmi_sims(directory: Path, count: int = 1, timeout: float = PATIENT,
              sol_ports: list[int] | None = None) -> Iterator[list[IpmiSim]]:
    """``count`` simulators named bmc0, bmc1, ... (state and logs under ``directory``).
    ``sol_ports``: serial-over-LAN enabled, simulator n's serial port being the TCP server on
    ``sol_ports[n]`` (``tests/helpers/serial_host.SerialHost``)."""
    need("ipmi_sim")
    need("sdrcomp")
    directory.mkdir(parents=True, exist_ok=True)
    sims: list[IpmiSim] = []
    try:
        taken: set[tuple[int, int]] = set()

        def fresh(kind: int) -> int:
            # A port the kernel just freed may come back for the next BMC: with hundreds of
            # simulators two would be handed the same one and the second fails to bind.
            port = free_port(kind)
            while (kind, port) in taken:
                port = free_port(kind)
            taken.add((kind, port))
            return port

        for n in range(count):
            port, console = fresh(socket.SOCK_DGRAM), fresh(socket.SOCK_STREAM)
            log = directory / f"ipmi{n}.log"
            argv = ["sh", str(IPMI_KIT / "start-bmc.sh"), f"bmc{n}", str(port), str(console),
                    str(directory / f"ipmi{n}")]
            if sol_ports:
                argv.append(str(sol_ports[n]))
            with log.open("wb") as out:
                proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            sims.append(IpmiSim(f"bmc{n}", port, console, proc, directory / f"ipmi{n}", log))
        for sim in sims:
            # Probe RMCP only: touching the console while ipmi_sim starts can wedge it.
            wait_for(lambda s=sim: rmcp_pong(s.port) or s.process.poll() is not None,  # type: ignore[misc]
                     timeout, f"ipmi_sim {sim.name}", interval=0.0)
            if sim.process.poll() is not None:
                raise AssertionError(f"ipmi_sim {sim.name} exited: {sim.log.read_text()[-2000:]}")
        yield sims
    finally:
        for sim in sims:
            sim.stop()
