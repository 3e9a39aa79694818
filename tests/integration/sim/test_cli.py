"""`dcops sim up --background`, status, fault, clear, requests and down, as a user runs them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.sim.conftest import wait_for


def dcops(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dcops", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


@pytest.mark.timeout(90)
def test_background_fleet_lifecycle(tmp_path: Path) -> None:
    from dcops.inventory import load_inventory
    from dcops.sim.runner import pid_alive

    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path / "run"), XDG_STATE_HOME=str(tmp_path / "state"))
    env.pop("DCOPS_SIM_PASSWORD", None)
    state = tmp_path / "sim"
    inventory = tmp_path / "inv" / "sim.yaml"
    up = dcops("sim", "up", "--hosts", "3", "--racks", "1", "--timings", "fast", "--background",
               "--dir", str(state), "--write-inventory", str(inventory), "-o", "json", env=env)
    try:
        assert up.returncode == 0, up.stderr
        report = json.loads(up.stdout)
        assert len(report["items"]) == 3 and report["summary"]["scheme"] == "http"
        password = (state / "password").read_text().strip()
        assert stat.S_IMODE((state / "password").stat().st_mode) == 0o600
        assert password not in up.stdout + up.stderr  # never printed
        book = load_inventory([inventory])
        assert [h.name for h in book.hosts] == ["sim-0001", "sim-0002", "sim-0003"]
        assert book.hosts[0].bmc.password_ref == f"file:{state}/password"
        assert book.hosts[0].bmc.port == report["items"][0]["port"]

        again = dcops("sim", "up", "--hosts", "1", "--dir", str(state), env=env)
        assert again.returncode == 2 and "already runs" in again.stderr

        fault = dcops("sim", "fault", "sim-0001", "psu_fail", "psu=2", "--dir", str(state), "-o", "json", env=env)
        assert fault.returncode == 0, fault.stderr
        assert json.loads(fault.stdout)["items"] == [{"host": "sim-0001", "fault": "psu_fail:2"}]
        rack = dcops("sim", "fault", "--rack", "A01", "bmc_slow", "latency=10ms", "--dir", str(state), "-o", "json",
                     env=env)
        assert len(json.loads(rack.stdout)["items"]) == 3
        bad = dcops("sim", "fault", "sim-0001", "meteor", "--dir", str(state), env=env)
        assert bad.returncode == 2
        # The behaviour faults, each with its argument (sim-0002 is an HPE, sim-0003 a Lenovo).
        for host, words, key in (("sim-0002", ["bios_refuse", "attribute=ProcHyperthreading"],
                                  "bios_refuse:ProcHyperthreading"),
                                 ("sim-0003", ["task_vanish", "count=2"], "task_vanish"),
                                 ("sim-0003", ["install_poweroff", "duration=2s"], "install_poweroff")):
            done = dcops("sim", "fault", host, *words, "--dir", str(state), "-o", "json", env=env)
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["items"] == [{"host": host, "fault": key}]
        unknown = dcops("sim", "fault", "sim-0002", "bios_refuse", "attribute=LogicalProc", "--dir", str(state),
                        env=env)
        assert unknown.returncode != 0 and "no BIOS attribute 'LogicalProc'" in unknown.stderr

        status = dcops("sim", "status", "--dir", str(state), "-o", "json", env=env)
        data = json.loads(status.stdout)
        assert data["summary"]["hosts"] == 3
        faulted = {i["name"]: i.get("faults") for i in data["items"]}
        assert faulted["sim-0001"] == ["bmc_slow", "psu_fail:2"]

        import base64
        import urllib.request

        port = report["items"][0]["port"]
        request = urllib.request.Request(f"http://127.0.0.1:{port}/redfish/v1/Chassis/System.Embedded.1/Power")
        request.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{password}".encode()).decode())
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            power = json.loads(response.read())
        assert power["PowerSupplies"][1]["Status"]["Health"] == "Critical"

        log = dcops("sim", "requests", "sim-0001", "--dir", str(state), "-o", "json", env=env)
        assert any(i["path"].endswith("/Power") for i in json.loads(log.stdout)["items"])

        cleared = dcops("sim", "clear", "--dir", str(state), "-o", "json", env=env)
        assert len(json.loads(cleared.stdout)["items"]) == 7

        table = dcops("sim", "status", "--dir", str(state), env=env)
        assert table.returncode == 0 and "sim-0002" in table.stdout
    finally:
        pid = json.loads((state / "state.json").read_text())["pid"] if (state / "state.json").exists() else None
        down = dcops("sim", "down", "--dir", str(state), "-o", "json", env=env)
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout)["summary"]["stopped_pid"] == pid
    wait_for(lambda: not pid_alive(pid), timeout=10)
    assert not (state / "state.json").exists()
    assert dcops("sim", "status", "--dir", str(state), env=env).returncode == 2


def test_profiles_and_fault_kinds_are_listed(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path))
    profiles = json.loads(dcops("sim", "profiles", "-o", "json", env=env).stdout)["items"]
    assert {p["flavour"] for p in profiles} == {"dell", "hpe", "lenovo", "supermicro", "generic", "huawei"}
    kinds = json.loads(dcops("sim", "faults", "-o", "json", env=env).stdout)["items"]
    assert {"rack_power_loss", "bios_refuse", "task_vanish", "install_poweroff"} <= {k["kind"] for k in kinds}
