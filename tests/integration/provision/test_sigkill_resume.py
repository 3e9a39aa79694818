"""SIGKILL a provisioning run of 50 simulated hosts mid-way, then `dcops provision resume`: every
host is delivered and the simulator's request log shows no change applied twice.

Every wait here has a deadline: the killed run is its own process group (killed whole, so no child
can go on talking to the BMCs while the resume works), and the resume runs as a subprocess with a
timeout that reports its log instead of hanging the suite."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dcops.provision import store as pstore
from dcops.provision.workflow import HostStatus
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from dcops.store import open_store
from tests.helpers.ipmi_sim import free_port
from tests.integration.provision.conftest import FAST
from tests.integration.provision.lab import (
    PW_ENV,
    ROOT,
    requests,
    sim_baselines,
    write_inventory,
    writes,
)

HOSTS = 50
# What one clean run writes per hardware profile (tests/integration/provision/test_provision_sim.py
# checks the Dell one on its own): each change exactly once.
EXPECTED = {
    "dell-r750": {"firmware_update": 7, "bios_stage": 1, "volume_delete": 1, "volume_create": 1, "hotspare": 1,
                  "media_insert": 2, "media_eject": 2},
    "hpe-dl360-gen10p": {"firmware_update": 4, "bios_stage": 1, "volume_delete": 1, "volume_create": 1,
                         "hotspare": 2, "media_insert": 2, "media_eject": 2},
    "lenovo-sr650v2": {"firmware_update": 4, "volume_delete": 1, "volume_create": 1, "media_insert": 2,
                       "media_eject": 2},
    # Ubuntu (autoinstall): the host's own installer ISO in the CD, nothing else.
    "supermicro-x13": {"firmware_update": 2, "bios_stage": 1, "media_insert": 1, "media_eject": 1},
}


def _progress(url: str) -> dict[str, int]:
    store = open_store(url)
    try:
        summary = pstore.summary(store)
    finally:
        store.close()
    steps = summary["by_step"]
    beyond_pool = sum(n for (status, step), n in steps.items()
                      if step in ("firmware", "bios", "raid", "os-install", "verify"))
    return {"delivered": summary["by_status"].get("delivered", 0), "working": beyond_pool}


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the process and anything it started
    proc.wait(10)


def _run(argv: list[str], env: dict[str, str], log: Path, timeout: float) -> tuple[int, dict[str, object]]:
    """Run dcops in its own process group; on timeout kill the group and fail with its log."""
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "dcops", *argv, "-o", "json"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=err, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            pytest.fail(f"dcops {argv[:2]} did not finish in {timeout:.0f}s: {log.read_text()[-3000:]}")
    text = out.decode()
    return proc.returncode, json.loads(text) if text.strip().startswith("{") else {}


@pytest.mark.slow
@pytest.mark.timeout(175)
def test_sigkill_then_resume_50_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    url = f"sqlite:///{tmp_path}/state.db"
    monkeypatch.setenv("DCOPS_STATE", url)
    with ThreadedFleet(FleetSpec(hosts=HOSTS, timings=FAST, request_log=8192)) as sim:
        inv = write_inventory(sim, tmp_path / "inv.yaml", monkeypatch)
        names = [h.name for h in sim.fleet.hosts]
        base = sim_baselines(tmp_path, names, playbooks=False)
        # A fixed media server address, as in production: the resumed run serves the answer images
        # the killed one gave the BMCs at the same URLs. --allow-unverified: the Supermicro
        # profile's Non-RAID disks cannot be verified on its BMC.
        args = ["-i", str(inv), "--baselines", str(base), "--poll", "0.05", "--parallel", "50", "--yes",
                "--allow-unverified", "--wait-limit", "40", "--media-listen", f"127.0.0.1:{free_port()}"]
        env = {**os.environ, PW_ENV: sim.password, "DCOPS_STATE": url}
        log = (tmp_path / "run.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "dcops", "provision", "run", "-l", "tag=sim", *args],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        seen: dict[str, int] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            try:
                seen = _progress(url)
            except Exception:  # noqa: BLE001 - the store may not exist yet
                continue
            if seen["working"] >= 20 and seen["delivered"] < HOSTS // 2:
                break
        if proc.poll() is not None:
            log.close()
            pytest.fail(f"the run ended before it could be killed: {(tmp_path / 'run.log').read_text()[-2000:]}")
        _kill_group(proc)
        log.close()
        killed_at = _progress(url)
        assert killed_at["delivered"] < HOSTS

        store = open_store(url)
        try:
            rows = pstore.host_rows(store)
        finally:
            store.close()
        interrupted = [h for h, r in rows.items() if r["status"] == HostStatus.RUNNING.value]
        assert interrupted, "no host was mid-workflow when killed"

        remaining = started + 160 - time.monotonic()  # inside the pytest timeout, which is a last resort
        code, data = _run(["provision", "resume", *args], env, tmp_path / "resume.log", remaining)
        assert code == 0, (tmp_path / "resume.log").read_text()[-3000:] + f" killed at {killed_at}"
        statuses = {i["host"]: i["status"] for i in data["items"]}  # type: ignore[attr-defined]
        store = open_store(url)
        try:
            final = pstore.host_rows(store)
        finally:
            store.close()
        assert {h: r["status"] for h, r in final.items()} == {h: "delivered" for h in names}, statuses
        duplicates = {}
        for host in sim.fleet.hosts:
            got = writes(requests(sim, host.name))
            want = EXPECTED[host.profile.name]
            if got != want:
                duplicates[host.name] = (got, want)
        assert not duplicates, duplicates
