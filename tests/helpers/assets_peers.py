"""Real peers for the assets tests, each bound to loopback with a readiness probe bounded in time:

* ``ipmi_sim_bmc``: one OpenIPMI ``ipmi_sim`` BMC started from the kit in tests/fixtures/ipmi as
  ``tests.helpers.ipmi_sim.ipmi_sims`` does, but with FRU serials of its own (the kit's FRU says
  SRVSN0001 on every BMC) and, when asked, on UDP port 623 of a loopback address of its own
  (127.x.y.z): that is where the IPMI fallback of a host with ``protocol: auto`` looks, since an
  endpoint's port is the web port unless the protocol is ``ipmi``;
* ``smtp_server``: aiosmtpd, keeping the messages it accepted;
* ``webhook``: an HTTP receiver keeping the JSON bodies it accepted; ``hold`` makes it take a
  request and never answer it (a sender stuck mid-delivery, to be interrupted).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.ipmi_sim import IPMI_KIT, RMCP_PING, need
from tests.helpers.simfleet import wait_for

# What the kit's FRU (mkfru.py) says, to be replaced per BMC.
KIT_FRU = {"product_serial": "SRVSN0001", "board_serial": "MBSN0001", "chassis_serial": "CHSN0001",
           "product_name": "dcops Server 1U", "board_name": "Mainboard X1", "asset_tag": "ASSET-42"}


def free_port(kind: int = socket.SOCK_STREAM, address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def loopback_623() -> str | None:
    """A loopback address of its own whose UDP port 623 is free and may be bound here (root, or
    a low ``ip_unprivileged_port_start``); None when port 623 cannot be bound."""
    for _ in range(20):
        pid = os.getpid()
        address = f"127.{(pid >> 8) % 200 + 20}.{pid % 250 + 1}.{int.from_bytes(os.urandom(1), 'big') % 250 + 2}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind((address, 623))
            except PermissionError:
                return None
            except OSError:
                continue  # taken: try another address
        return address
    return None


def _pong(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(RMCP_PING, (address, port))
            return bool(sock.recv(512))
        except OSError:
            return False


@dataclass
class IpmiSimBmc:
    name: str
    address: str
    port: int
    console_port: int
    process: subprocess.Popen[bytes]
    fru: Mapping[str, str]
    log: Path

    def ipmitool(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``ipmitool ARGS`` against this BMC as admin (``-C 3``: without it every command takes 10 s)."""
        return subprocess.run([need("ipmitool"), "-I", "lanplus", "-C", "3", "-H", self.address, "-p", str(self.port),
                               "-U", "admin", "-P", "password", *args], capture_output=True, text=True, timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def _kit(directory: Path, address: str, fru: Mapping[str, str]) -> Path:
    """A copy of the ipmi_sim kit listening on ``address`` with the FRU strings of ``fru``."""
    kit = directory / "kit"
    shutil.copytree(IPMI_KIT, kit)
    lan = kit / "lan.conf.in"
    lan.write_text(lan.read_text().replace("addr 127.0.0.1 @PORT@", f"addr {address} @PORT@"))
    mkfru = kit / "mkfru.py"
    text = mkfru.read_text()
    for key, old in KIT_FRU.items():
        if fru[key] != old:
            assert f'tl("{old}")' in text, f"the kit's mkfru.py no longer says {old!r}"
            text = text.replace(f'tl("{old}")', f"tl({fru[key]!r})")
    mkfru.write_text(text)
    return kit


@contextmanager
def ipmi_sim_bmc(directory: Path, name: str = "bmc1", *, address: str = "127.0.0.1", port: int | None = None,
                 fru: Mapping[str, str] | None = None) -> Iterator[IpmiSimBmc]:
    """One ipmi_sim BMC (users admin/password, ro/ropass) whose FRU says ``fru`` (keys of
    ``KIT_FRU``; the kit's values otherwise). Skips when ipmi_sim is not installed (fails in CI)."""
    need("ipmi_sim")
    need("sdrcomp")
    unknown = set(fru or {}) - set(KIT_FRU)
    assert not unknown, f"unknown FRU fields {unknown}"
    strings = {**KIT_FRU, **(fru or {})}
    directory.mkdir(parents=True, exist_ok=True)
    kit = _kit(directory, address, strings)
    port = port or free_port(socket.SOCK_DGRAM, address)
    console = free_port()
    log = directory / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["sh", str(kit / "start-bmc.sh"), name, str(port), str(console),
                                 str(directory / "state")], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    bmc = IpmiSimBmc(name, address, port, console, proc, strings, log)
    try:
        # Probe RMCP only: touching the console while ipmi_sim starts can wedge it.
        wait_for(lambda: _pong(address, port) or proc.poll() is not None, 20, f"ipmi_sim {name}")
        if proc.poll() is not None:
            raise AssertionError(f"ipmi_sim {name} exited: {log.read_text()[-2000:]}")
        yield bmc
    finally:
        bmc.stop()


