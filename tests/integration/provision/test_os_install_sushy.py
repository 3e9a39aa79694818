"""The OS-install step end to end against sushy-tools (a third-party Redfish service): the ISO is
inserted as virtual media from a loopback HTTP server (sushy downloads it), the host boots once
from CD and is powered on, the step waits for the boot, then ejects. Driven through
`dcops provision run` with a lab profile (sushy's fake driver has no BIOS, RAID or firmware)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.integration.bmc.conftest import PASSWORD, USER, Sushy
from tests.integration.provision.lab import cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _lab(tmp_path: Path, iso: str) -> Path:
    root = tmp_path / "baselines"
    for d in ("profiles", "os/network", "os/templates"):
        (root / d).mkdir(parents=True)
    (root / "profiles" / "sushy-lab.yaml").write_text(yaml.safe_dump({
        "name": "sushy-lab", "description": "lab node without BIOS/RAID/firmware over Redfish",
        "baselines": {"os": "lab-os"}}))
    (root / "os" / "lab-os.yaml").write_text(yaml.safe_dump({
        "name": "lab-os", "installer": {"iso": iso},
        "answer_file": {"kind": "kickstart", "template": "templates/lab.ks", "publish_dir": str(tmp_path / "answers")},
        "network": {"file": "network/lab.yaml"},
        # sushy's fake driver runs no installer: the install is "done" once the node is powered on.
        "completion": {"wait_for": "powered-on", "timeout_seconds": 60}}))
    (root / "os" / "templates" / "lab.ks").write_text("network --ip=${ip} --netmask=${netmask} --hostname=${hostname}\n")
    (root / "os" / "network" / "lab.yaml").write_text(yaml.safe_dump({
        "defaults": {"prefix": 24, "gateway": "192.0.2.1"}, "hosts": {"node-1": {"ip": "192.0.2.10"}}}))
    return root


def test_os_install_over_sushy(sushy: Sushy, image_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    monkeypatch.setenv("SUSHY_PW", PASSWORD)
    inv = tmp_path / "inv.yaml"
    inv.write_text(yaml.safe_dump({"version": 1, "sites": [{"name": "lab", "rooms": [{"name": "r", "racks": [{
        "name": "L01", "hosts": [{"name": "node-1", "u": 1, "profile": "sushy-lab",
                                  "bmc": {"address": "127.0.0.1", "port": sushy.port, "scheme": "http",
                                          "protocol": "redfish", "username": USER,
                                          "password": "env:SUSHY_PW"}}]}]}]}]}))
    base = _lab(tmp_path, image_server)
    code, data, err = cli(capsys, "provision", "run", "node-1", "-i", str(inv), "--baselines", str(base),
                          "--poll", "0.2", "--yes", "-v")
    assert code == 0, err
    assert data["items"][0]["status"] == "delivered"
    assert "os-install: insert " + image_server in err and "os-install: boot the installer" in err
    log = sushy.log.read_text()
    assert "InsertMedia" in log and "EjectMedia" in log
    assert "/redfish/v1/Systems" in log and "Actions/ComputerSystem.Reset" in log
    code, data, _ = cli(capsys, "provision", "status", "node-1", "-i", str(inv), "--steps")
    steps = {s["step"]: s["status"] for s in data["items"][0]["steps"]}
    assert steps["os-install"] == "done"
    assert (tmp_path / "answers" / "node-1" / "ks.cfg").read_text().startswith("network --ip=192.0.2.10")
