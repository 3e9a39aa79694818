"""Run a real OpenStack Placement (PyPI ``openstack-placement``, SQLite, noauth2) under gunicorn
on a free loopback port, and populate it the way Nova would.

``PlacementServer`` writes its config from ``placement.conf.in`` (beside this file) into a
private directory, syncs the database, starts gunicorn, and polls the root URL until it answers
or a deadline passes. ``stop`` terminates only the process it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.helpers.timing import PATIENT
from tests.integration.capacity.lab import Lab

HERE = Path(__file__).parent
HEADERS = {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39",
           "Content-Type": "application/json", "Accept": "application/json"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tool(name: str) -> str:
    """A console script of this interpreter's environment (the venv's gunicorn, not another)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found next to {sys.executable} or on PATH")
    return found


class PlacementServer:
    """One Placement service in ``workdir``."""

    def __init__(self, workdir: Path, ready_timeout: float = PATIENT) -> None:
        self.workdir = workdir
        self.ready_timeout = ready_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "gunicorn.log"

    def start(self) -> PlacementServer:
        template = (HERE / "placement.conf.in").read_text(encoding="utf-8")
        (self.workdir / "placement.conf").write_text(template.replace("@DIR@", str(self.workdir)), encoding="utf-8")
        env = {**os.environ, "OS_PLACEMENT_CONFIG_DIR": str(self.workdir)}
        subprocess.run([_tool("placement-manage"), "--config-file", str(self.workdir / "placement.conf"),
                        "db", "sync"], check=True, capture_output=True, timeout=120, env=env)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [_tool("gunicorn"), "-b", f"127.0.0.1:{self.port}", "-w", "1", "--threads", "4",
                 "--timeout", "60", "placement.wsgi.api:application"],
                cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"placement exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/", headers=HEADERS, timeout=10).status_code == 200:
                    return self
            except requests.RequestException:  # refused while it starts, or slow to answer under load
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"placement not ready within {self.ready_timeout}s: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # gunicorn runs in its own session: signal its group so the worker goes too.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    # ---- REST helpers ------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        response = requests.request(method, self.url + path, headers=HEADERS, timeout=30,
                                    data=json.dumps(body) if body is not None else None)
        assert response.status_code in ok, (method, path, response.status_code, response.text)
        return response.json() if response.text else None

    def populate(self, lab: Lab, consumers_per_host: int = 3) -> None:
        """Create the lab's providers as Nova's resource tracker would (name = hypervisor
        hostname, UUID = compute node UUID), their inventories, AZ aggregates, and instance
        allocations that add up to each host's usage."""
        for host in lab.hosts:
            rp = self.call("POST", "/resource_providers", {"name": host.hypervisor, "uuid": host.uuid})
            inventories = {rc: {"total": total, "reserved": reserved, "allocation_ratio": ratio,
                                "min_unit": 1, "max_unit": total, "step_size": 1}
                           for rc, (total, reserved, ratio) in host.inventories.items()}
            inv = self.call("PUT", f"/resource_providers/{host.uuid}/inventories",
                            {"resource_provider_generation": rp["generation"], "inventories": inventories})
            self.call("PUT", f"/resource_providers/{host.uuid}/aggregates",
                      {"aggregates": [lab.aggregate_uuid(host.az)],
                       "resource_provider_generation": inv["resource_provider_generation"]})
        # One POST /allocations for every instance of the lab (microversion 1.13+).
        body: dict[str, Any] = {}
        for host in lab.hosts:
            for index in range(consumers_per_host):
                share = {rc: amount // consumers_per_host + (amount % consumers_per_host if index == 0 else 0)
                         for rc, amount in host.usage.items()}
                consumer = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"instance-{index}.{host.hypervisor}"))
                body[consumer] = {"allocations": {host.uuid: {"resources": {k: v for k, v in share.items() if v}}},
                                  "project_id": "c4f1d2a0b7e94a58a1f3e1d5b6c7a8f9",
                                  "user_id": "5e8a1c2b3d4f4e6a8b9c0d1e2f3a4b5c",
                                  "consumer_generation": None, "consumer_type": "INSTANCE"}
        self.call("POST", "/allocations", body)
