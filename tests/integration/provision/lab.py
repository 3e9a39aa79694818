"""Shared helpers of the provisioning integration tests: a simulated fleet's inventory, a copy of
the shipped baselines adjusted for the simulator, and running the CLI in-process."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
PW_ENV = "DCOPS_TEST_SIM_PW"


DEPLOY_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDcopsTestDeployKeyOnlyForTheSimulator00000 dcops-test"


def sim_baselines(dest: Path, hosts: list[str], *, playbooks: bool = True, completion: str = "callback",
                  subset: dict[str, str] | None = None, switch_api: str | None = None,
                  reach_port: int | None = None) -> Path:
    """The shipped baselines for the simulator: short timeouts, answer files published under
    ``dest``, static network values for ``hosts``; without ``playbooks`` the profiles run none.
    The install completes as shipped (``wait_for: callback``: the simulated installer reads the
    answer image, calls the completion URL and powers off) unless ``completion`` says otherwise.
    With ``switch_api`` every host is cabled to port EthernetN of switch leaf-a01 (a stand-in at
    that URL) and moved to VLAN 120 by the shipped eAPI switch playbook. ``reach_port`` is the
    production reachability gate's port; without it (and without playbooks) there is no gate."""
    root = dest / "baselines"
    shutil.copytree(ROOT / "baselines", root)
    # Loopback only: production addresses in 127.0.1.0/24 (the reachability gate connects there),
    # provisioning addresses in 127.0.2.0/24 (the installer's and the playbooks').
    network = {"defaults": {"prefix": 16, "gateway": "127.0.0.1", "dns": ["127.0.0.53"], "interface": "ens1f0",
                            "domain": "sim.example.net", "provisioning": {"prefix": 16, "gateway": "127.0.0.1"}},
               "hosts": {h: {"ip": f"127.0.1.{i % 250 + 2}", "provisioning": {"ip": f"127.0.2.{i % 250 + 2}"}}
                         for i, h in enumerate(hosts)}}
    if switch_api:
        network["switches"] = {"leaf-a01": {"api": switch_api, "username": "admin", "password": "env:DCOPS_TEST_SW_PW"}}
        for i, h in enumerate(hosts):
            network["hosts"][h]["switch"] = {"name": "leaf-a01", "port": f"Ethernet{i + 1}", "vlan": 120}
    (root / "os" / "network" / "sim.yaml").write_text(yaml.safe_dump(network))
    key = dest / "deploy_key.pub"
    key.write_text(DEPLOY_KEY + "\n")
    key.chmod(0o600)
    # The stock installer ISOs dcops remasters per host (subiquity needs ``autoinstall`` on its
    # command line; a single-slot BMC needs the answer on the CD): small images with the real
    # layouts, read from a local path (the shipped baselines download installer.iso).
    from tests.helpers.installer_iso import rhel_iso, ubuntu_iso

    stock = {"rhel9-trading.yaml": rhel_iso(dest / "rhel-stock.iso"),
             "ubuntu-2204-bigdata.yaml": ubuntu_iso(dest / "ubuntu-stock.iso")}
    for path in (root / "os").glob("*.yaml"):
        text = path.read_text()
        if path.name in stock:
            text = re.sub(r"(\n  iso: .*)", rf"\1\n  source: {stock[path.name]}", text, count=1)
        if completion != "callback":
            text = text.replace("wait_for: callback", f"wait_for: {completion}")
        text = text.replace("timeout_seconds: 3600", "timeout_seconds: 60")
        net_extra = f"\n  reach_port: {reach_port or 0}"
        if switch_api:
            net_extra += "\n  switch_playbook: switch-port-eapi.yml"
        text = text.replace("file: network/example.yaml", "file: network/sim.yaml" + net_extra)
        text = text.replace("file:~/.ssh/dcops_deploy.pub", f"file:{key}")
        # A copy of each rendered answer file for the tests to read (the installer reads the image).
        text = re.sub(r"(\n  template: .*)", rf"\1\n  publish_dir: {dest / 'answers'}", text)
        path.write_text(text)
    for path in (root / "profiles").glob("*.yaml"):
        text = path.read_text()
        if not playbooks:
            text = re.sub(r"playbooks:[^\n]*(\n  - .*)+|playbooks: \[.*\]", "playbooks: []", text)
            text = re.sub(r"network_playbook: .*", "", text)
        for key, value in (subset or {}).items():
            text = re.sub(rf"  {key}: .*", f"  {key}: {value}", text)
        path.write_text(text)
    return root


def write_inventory(sim: Any, path: Path, monkeypatch: pytest.MonkeyPatch | None = None, *,
                    installer: bool = False) -> Path:
    """The fleet's inventory (password in ``PW_ENV``). The simulated hosts run their own installer
    (it reads the answer image); with ``installer``, a blind one instead that powers off without
    reading anything (fault ``install_poweroff``), for the ``wait_for: power-off`` lab mode."""
    if monkeypatch is not None:
        monkeypatch.setenv(PW_ENV, sim.password)
    sim.fleet.write_inventory(path, f"env:{PW_ENV}")
    if installer:
        installer_powers_off(sim)
    return path


def installer_powers_off(sim: Any, hosts: list[str] | None = None) -> None:
    names = hosts if hosts is not None else [h.name for h in sim.fleet.hosts]
    done = sim.control.post("/v1/faults", {"hosts": names, "kind": "install_poweroff"})["items"]
    assert len(done) == len(names), done


def installs(sim: Any, host: str) -> dict[str, Any] | None:
    """The simulator's record of the host's last OS install (image, started, finished)."""
    return sim.control.get(f"/v1/hosts/{host}").get("install")  # type: ignore[no-any-return]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    """Run dcops in-process with -o json; returns (exit code, parsed stdout, stderr)."""
    code = main([*args, "-o", "json"])
    out, err = capsys.readouterr()
    data = json.loads(out) if out.strip().startswith("{") else {}
    return code, data, err


def requests(sim: Any, host: str) -> list[dict[str, Any]]:
    return list(sim.control.get(f"/v1/hosts/{host}/requests")["items"])


def writes(log: list[dict[str, Any]]) -> dict[str, int]:
    """Side-effecting requests by kind (what must never happen twice for one change)."""
    counts: dict[str, int] = {}

    def bump(key: str) -> None:
        counts[key] = counts.get(key, 0) + 1

    for r in log:
        method, path = r["method"], r["path"]
        if r["status"] >= 400:
            continue
        if method == "POST" and path.endswith("UpdateService.SimpleUpdate"):
            bump("firmware_update")
        elif method == "PATCH" and "/bios/" in path.lower() and path.lower().rstrip("/").rsplit("/", 1)[-1] in (
                "settings", "pending", "sd"):
            bump("bios_stage")
        elif method == "POST" and path.rstrip("/").endswith("Volumes"):
            bump("volume_create")
        elif method == "DELETE" and "/Volumes/" in path:
            bump("volume_delete")
        elif method == "POST" and path.endswith("InsertMedia"):
            bump("media_insert")
        elif method == "POST" and path.endswith("EjectMedia"):
            bump("media_eject")
        elif method == "PATCH" and "/Drives/" in path:
            bump("hotspare")
        elif method == "POST" and path.endswith(("DellRaidService.AssignSpare", "DellRaidService.UnassignSpare")):
            bump("hotspare")  # Dell's way to set and release spares

    return counts
