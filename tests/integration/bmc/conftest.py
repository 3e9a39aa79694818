"""Real peers for the BMC layer, each started on a free 127.0.0.1 port in a temporary directory
with a readiness probe bounded in time: sushy-tools (Redfish) and OpenIPMI ipmi_sim (IPMI, from
tests/helpers/ipmi_sim.py)."""

from __future__ import annotations

import os
import subprocess
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

from tests.helpers.ipmi_sim import IpmiSim, free_port, ipmi_sims, need, stop_process
from tests.helpers.timing import PATIENT

USER, PASSWORD = "admin", "sushy-pw-123"
__all__ = ["PASSWORD", "USER", "IpmiSim", "Sushy", "image_server", "ipmi_sim", "sushy", "sushy_storage"]


@dataclass
class Sushy:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


NODE = "00000000-0000-0000-0000-000000000001"
# sushy-tools serves Storage and Drives only from its config (static): a RAID controller with four
# SAS disks, and an empty Volumes collection.
STORAGE_CONF = f"""
SUSHY_EMULATOR_STORAGE = {{'{NODE}': [{{'Id': '1', 'Name': 'Local Storage Controller',
    'StorageControllers': [{{'MemberId': '0', 'Name': 'Contoso Integrated RAID', 'SpeedGbps': 12}}],
    'Drives': ['D0', 'D1', 'D2', 'D3']}}]}}
SUSHY_EMULATOR_DRIVES = {{('{NODE}', '1'): [
    {{'Id': 'D%d' % n, 'Name': 'Drive %d' % n, 'CapacityBytes': 899527000000, 'Protocol': 'SAS'}}
    for n in range(4)]}}
SUSHY_EMULATOR_VOLUMES = {{('{NODE}', '1'): []}}
"""


@pytest.fixture
def sushy_storage(tmp_path: Path) -> Iterator[Sushy]:
    """sushy-tools with a storage controller and drives configured."""
    yield from _sushy(tmp_path, STORAGE_CONF)


@pytest.fixture
def sushy(tmp_path: Path) -> Iterator[Sushy]:
    yield from _sushy(tmp_path, "")


def _sushy(tmp_path: Path, extra: str) -> Iterator[Sushy]:
    exe = need("sushy-emulator")
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
{extra}""")
    log = tmp_path / "sushy.log"
    # InsertMedia downloads the image into $TMPDIR/<random>/<name> (kept until the eject): a
    # directory of the test's own, so a test can open what sushy received.
    (tmp_path / "sushy-tmp").mkdir()
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "--config", str(tmp_path / "emulator.conf"), "--fake", "-i", "127.0.0.1",
                                 "-p", str(port)], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                env={**os.environ, "TMPDIR": str(tmp_path / "sushy-tmp")})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + PATIENT
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
    stop_process(proc)


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


@pytest.fixture
def ipmi_sim(tmp_path: Path) -> Iterator[IpmiSim]:
    """One ipmi_sim BMC (tests/helpers/ipmi_sim.py) for the test."""
    with ipmi_sims(tmp_path / "ipmi", 1) as [sim]:
        yield sim
