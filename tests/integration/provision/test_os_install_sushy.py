"""The OS-install step end to end against sushy-tools (a third-party Redfish service): the
installer ISO goes into the virtual CD and the host's own answer image into the second slot, both
downloaded by sushy over loopback (its InsertMedia fetches the URL); the test plays the installer
sushy's fake driver does not run: it opens the image sushy received, checks it holds this host's
kickstart, calls the completion URL written in it and powers the node off. Driven through
`dcops provision run` with a lab profile (sushy's fake driver has no BIOS, RAID or firmware, so the
install disk comes from the book's extra.os_disk)."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.installer import answers, media
from dcops.sim.installer import boot_cmdline
from tests.helpers.installer_iso import ubuntu_iso
from tests.helpers.standins import Events, production_listeners
from tests.helpers.timing import PATIENT
from tests.integration.bmc.conftest import PASSWORD, USER, Sushy
from tests.integration.provision.lab import DEPLOY_KEY, cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
DISK = "/dev/disk/by-id/wwn-0x600062b2218e23802fdc23942a65f7aa"


def _lab(tmp_path: Path, iso: str, reach_port: int, kind: str = "kickstart") -> Path:
    root = tmp_path / "baselines"
    for d in ("profiles", "os/network", "os/templates"):
        (root / d).mkdir(parents=True)
    key = tmp_path / "deploy.pub"
    key.write_text(DEPLOY_KEY + "\n")
    key.chmod(0o600)
    (root / "profiles" / "sushy-lab.yaml").write_text(yaml.safe_dump({
        "name": "sushy-lab", "description": "lab node without BIOS/RAID/firmware over Redfish",
        "baselines": {"os": "lab-os"}}))
    installer: dict[str, Any] = {"iso": iso}
    template = "rhel9-trading.ks"
    if kind == "autoinstall":  # the stock Ubuntu ISO dcops remasters per host (local copy)
        installer["source"] = str(ubuntu_iso(tmp_path / "ubuntu-stock.iso"))
        template = "ubuntu-2204.user-data"
    (root / "os" / "lab-os.yaml").write_text(yaml.safe_dump({
        "name": "lab-os", "installer": installer,
        "answer_file": {"kind": kind, "template": "templates/lab.ks"},
        "network": {"file": "network/lab.yaml", "reach_port": reach_port},
        "deploy": {"user": "dcops", "ssh_public_key": f"file:{key}"},
        "completion": {"wait_for": "callback", "timeout_seconds": PATIENT * 2}}))
    shipped = Path(__file__).resolve().parents[3] / "baselines" / "os" / "templates" / template
    (root / "os" / "templates" / "lab.ks").write_text(shipped.read_text())
    (root / "os" / "network" / "lab.yaml").write_text(yaml.safe_dump({
        "defaults": {"prefix": 24, "gateway": "127.0.1.1", "interface": "ens1f0",
                     "provisioning": {"prefix": 24, "gateway": "127.0.2.1"}},
        "hosts": {"node-1": {"ip": "127.0.1.10", "provisioning": {"ip": "127.0.2.10"},
                             "extra": {"os_disk": DISK}}}}))
    return root


def _get(sushy: Sushy, path: str) -> dict[str, Any]:
    req = urllib.request.Request(f"{sushy.url}{path}", headers={
        "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def _post(sushy: Sushy, path: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(f"{sushy.url}{path}", data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()})
    urllib.request.urlopen(req, timeout=10).close()


class Installer(threading.Thread):
    """What the installer would do with the media sushy was given."""

    def __init__(self, sushy: Sushy, tmp: Path, kind: str = "kickstart") -> None:
        super().__init__(daemon=True)
        self.sushy, self.tmp, self.kind = sushy, tmp, kind
        self.cmdline: list[str] | None = None
        self.images: dict[str, str] = {}
        self.answer: answers.Facts | None = None
        self.volume: media.Volume | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = repr(exc)

    def _run(self) -> None:
        deadline = time.monotonic() + PATIENT
        system = _get(self.sushy, "/redfish/v1/Systems")["Members"][0]["@odata.id"]
        while time.monotonic() < deadline:
            slots = _get(self.sushy, f"{system}/VirtualMedia")["Members"]
            docs = [_get(self.sushy, s["@odata.id"]) for s in slots]
            self.images = {d["Id"]: d.get("Image") for d in docs if d.get("Inserted")}
            name, want = ("node-1-oemdrv.img", 2) if self.kind == "kickstart" else ("node-1-install.iso", 1)
            found = list(self.tmp.glob(f"*/{name}"))
            powered = _get(self.sushy, system).get("PowerState") == "On"  # the installer runs once booted
            if len(self.images) == want and found and powered:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"sushy never held the images: {self.images}")
        data = found[0].read_bytes()
        self.volume = media.read_image(data)
        if self.kind == "kickstart":
            text = self.volume.files["ks.cfg"].decode()
        else:  # what the boot loader passes to the kernel, and the NoCloud seed it points at
            self.cmdline = boot_cmdline(data)[1]
            text = media.read_paths(data, ["nocloud/user-data"])["nocloud/user-data"].decode()
        self.answer = answers.check(self.kind, text)
        for url in self.answer.done_urls:
            target = url if "status=" in url else f"{url}?status=ok"
            req = urllib.request.Request(target, data=b"ssh-ed25519 AAAAC3Nza-hostkey root@node-1\n", method="POST")
            urllib.request.urlopen(req, timeout=10).close()
        _post(self.sushy, f"{system}/Actions/ComputerSystem.Reset", {"ResetType": "ForceOff"})  # kickstart: poweroff


@pytest.mark.parametrize("kind", ["kickstart", "autoinstall"])
def test_os_install_over_sushy(kind: str, sushy: Sushy, image_server: str, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    monkeypatch.setenv("SUSHY_PW", PASSWORD)
    inv = tmp_path / "inv.yaml"
    inv.write_text(yaml.safe_dump({"version": 1, "sites": [{"name": "lab", "rooms": [{"name": "r", "racks": [{
        "name": "L01", "hosts": [{"name": "node-1", "u": 1, "profile": "sushy-lab",
                                  "bmc": {"address": "127.0.0.1", "port": sushy.port, "scheme": "http",
                                          "protocol": "redfish", "username": USER,
                                          "password": "env:SUSHY_PW"}}]}]}]}]}))
    events = Events()
    with production_listeners(["127.0.1.10"], events) as port:
        base = _lab(tmp_path, image_server, port, kind)
        installer = Installer(sushy, tmp_path / "sushy-tmp", kind)
        installer.start()
        code, data, err = cli(capsys, "provision", "run", "node-1", "-i", str(inv), "--baselines", str(base),
                              "--poll", "0.2", "--media-dir", str(tmp_path / "media"), "--yes", "-v")
        installer.join(PATIENT)
    assert events.first("reached 127.0.1.10") is not None  # the gate on the production address
    assert installer.error is None, installer.error
    assert code == 0, err
    assert data["items"][0]["status"] == "delivered"
    facts = installer.answer
    assert facts is not None and facts.valid, facts
    assert facts.addresses == ("127.0.2.10/24",) and DISK.rsplit("/", 1)[-1] in facts.disks[0]
    assert facts.users == ("dcops",) and facts.ssh_keys == (DEPLOY_KEY,)
    log = sushy.log.read_text()
    if kind == "kickstart":
        # The CD holds the installer ISO, the Floppy/USB slot this host's own answer image, on loopback.
        assert installer.images["Cd"] == image_server
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/media/[A-Za-z0-9_-]{20,}/node-1-oemdrv\.img",
                            installer.images["Floppy"]), installer.images
        assert installer.volume is not None and installer.volume.label == "OEMDRV"
        assert log.count("InsertMedia") == 2 and "EjectMedia" in log
    else:
        # The CD holds this host's own installer ISO (the stock one remastered), nothing else.
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/media/[A-Za-z0-9_-]{20,}/node-1-install\.iso",
                            installer.images["Cd"]), installer.images
        assert installer.cmdline is not None and installer.cmdline[:2] == ["autoinstall",
                                                                            "ds=nocloud;s=/cdrom/nocloud/"]
        assert log.count("InsertMedia") == 1 and "EjectMedia" in log
    # The image is gone: the media server withdrew it after the install.
    assert not (tmp_path / "media" / "node-1").exists()
    code, data, _ = cli(capsys, "provision", "status", "node-1", "-i", str(inv), "--steps")
    steps = {s["step"]: s["status"] for s in data["items"][0]["steps"]}
    assert steps["os-install"] == "done"
