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


def sim_baselines(dest: Path, hosts: list[str], *, playbooks: bool = True, completion: str = "os-running",
                  subset: dict[str, str] | None = None) -> Path:
    """The shipped baselines, with what a simulator cannot do changed: the installer is done when
    the OS runs (no installer powers the host off), short timeouts, answer files published under
    ``dest``, static network values for ``hosts``; without ``playbooks`` the profiles run none."""
    root = dest / "baselines"
    shutil.copytree(ROOT / "baselines", root)
    network = {"defaults": {"prefix": 16, "gateway": "10.30.0.1", "dns": ["10.30.0.53"], "interface": "ens1f0",
                            "domain": "sim.example.net"},
               "hosts": {h: {"ip": f"10.30.{i // 250}.{i % 250 + 2}"} for i, h in enumerate(hosts)}}
    (root / "os" / "network" / "sim.yaml").write_text(yaml.safe_dump(network))
    for path in (root / "os").glob("*.yaml"):
        text = path.read_text()
        text = text.replace("wait_for: power-off", f"wait_for: {completion}")
        text = text.replace("timeout_seconds: 3600", "timeout_seconds: 120")
        text = text.replace("file: network/example.yaml", "file: network/sim.yaml")
        text = re.sub(r"publish_dir: .*", f"publish_dir: {dest / 'answers'}", text)
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


def write_inventory(sim: Any, path: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> Path:
    if monkeypatch is not None:
        monkeypatch.setenv(PW_ENV, sim.password)
    sim.fleet.write_inventory(path, f"env:{PW_ENV}")
    return path


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
    return counts
