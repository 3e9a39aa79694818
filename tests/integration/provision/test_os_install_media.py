"""The OS install with no PXE and no DHCP, on the simulator with no injected fault: dcops builds a
per-host answer image (OEMDRV / CIDATA), serves it from its own media server, the simulated
installer fetches it over loopback, validates it with the installers' parsers, installs onto the
RAID template's OS volume by its durable name, calls the single-use completion URL and powers off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from tests.integration.provision.conftest import FAST
from tests.integration.provision.lab import cli, installs, requests, sim_baselines, write_inventory, writes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]


@pytest.fixture
def fleet() -> Iterator[ThreadedFleet]:
    # Dell (rhel9-trading, kickstart) and Supermicro (ubuntu-2204-bigdata, autoinstall).
    with ThreadedFleet(FleetSpec(hosts=2, profiles=("dell-r750", "supermicro-x13"), timings=FAST,
                                 request_log=4096)) as sim:
        yield sim


def _run(capsys: pytest.CaptureFixture[str], inv: Path, base: Path, tmp_path: Path, *hosts: str,
         extra: tuple[str, ...] = ()) -> tuple[int, dict, str]:
    return cli(capsys, "provision", "run", *hosts, "-i", str(inv), "--baselines", str(base), "--poll", "0.05",
               "--until", "os-install", "--media-dir", str(tmp_path / "media"), "--yes", "-v", *extra)


def test_install_completes_for_each_shipped_os_baseline(fleet: ThreadedFleet, state: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(fleet, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False)
    # --allow-unverified: the Supermicro profile's Non-RAID disks cannot be verified on its BMC.
    code, data, err = _run(capsys, inv, base, tmp_path, "sim-0001", "sim-0002", extra=("--allow-unverified",))
    assert code == 0, err
    assert {i["host"]: i["status"] for i in data["items"]} == {"sim-0001": "pending", "sim-0002": "pending"}
    # RHEL: the stock ISO and an OEMDRV volume on the second slot. Ubuntu: the host's own installer
    # ISO, with the NoCloud seed on it and autoinstall on its command line (no question asked).
    for host, kind, label, ip in (("sim-0001", "kickstart", "OEMDRV", "127.0.2.2"),
                                  ("sim-0002", "autoinstall", "Ubuntu-Server 22.04 LTS amd64", "127.0.2.3")):
        install = installs(fleet, host)
        assert install and install["state"] == "installed" and install["finished"], install
        answer = install["answer"]
        assert answer["kind"] == kind and answer["valid"] and answer["errors"] == [], answer
        assert answer["addresses"] == [f"{ip}/16"]  # the provisioning address from the book, static
        assert answer["hostname"] == f"{host}.sim.example.net"
        assert answer["users"][0] == "dcops" and answer["ssh_keys"] == 1
        # The OS volume of the RAID template, by its durable name; sda is the virtual USB stick.
        volumes = fleet.control.get(f"/v1/hosts/{host}")["volumes"]
        os_vol = next(v for v in volumes if v["name"] == "OS")
        assert any(os_vol["wwn"].lower() in d.lower() for d in answer["disks"]), (answer["disks"], os_vol)
        if host == "sim-0001":  # iDRAC: the virtual USB stick enumerates first and is sda
            assert answer["disk"] == "sdb", answer
        fetched = {f["label"] for f in install["fetched"] if "label" in f}
        assert fetched == {label}
        # The answer image URL was per host, on loopback, and is gone after the install.
        assert all(re.match(r"http://127\.0\.0\.1:\d+/media/", u) for u in install["media"] if "media" in u)
        assert not (tmp_path / "media" / host).exists()
        host_state = fleet.control.get(f"/v1/hosts/{host}")
        assert host_state["power"] == "On" and host_state["last_boot"]["source"] != "Cd"
        assert not any(m.get("inserted") for m in host_state["virtual_media"].values())
        counts = writes(requests(fleet, host))
        slots = 2 if kind == "kickstart" else 1
        assert counts["media_insert"] == slots and counts["media_eject"] == slots, counts
        if kind == "autoinstall":
            assert answer["cmdline"][:2] == ["autoinstall", "ds=nocloud;s=/cdrom/nocloud/"] and not answer["prompt"]
            assert answer["source"].endswith("/sim-0002-install.iso#nocloud/user-data")
    code, data, _ = cli(capsys, "provision", "status", "sim-0001", "-i", str(inv), "--steps")
    step = next(s for s in data["items"][0]["steps"] if s["step"] == "os-install")
    assert step["status"] == "done"
    # The single-use tokens are credentials: not in dcops' output nor in its state store.
    tokens = [re.search(r"/media/([^/]+)/", u).group(1)  # type: ignore[union-attr]
              for h in ("sim-0001", "sim-0002") for u in installs(fleet, h)["media"] if "/media/" in u]
    assert len(tokens) == 2
    stored = b"".join(p.read_bytes() for p in state.glob("state.db*"))
    assert not any(t in err or t.encode() in stored for t in tokens)


def test_invalid_answer_is_refused_before_the_bmc_is_touched(fleet: ThreadedFleet, state: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(fleet, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False)
    tmpl = base / "os" / "templates" / "rhel9-trading.ks"
    tmpl.write_text(tmpl.read_text().replace("skipx", "skipx\nbogus --frob"))
    code, _, err = cli(capsys, "baseline", "validate", "--baselines", str(base))
    assert code == 3 and "rhel9-trading.ks:" in err and "Unknown command: bogus" in err, err
    before = len(requests(fleet, "sim-0001"))
    code, data, err = _run(capsys, inv, base, tmp_path, "sim-0001")
    assert code != 0 and "Unknown command: bogus" in err
    assert writes(requests(fleet, "sim-0001")[before:]) == {}


def test_install_failure_is_reported_with_the_installers_words(fleet: ThreadedFleet, state: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The answer file names a disk the server does not have (a by-id override in the book):
    the simulated installer stops, its %onerror calls the URL with status=failed, and dcops
    fails the step with that message: no wait for the install timeout (an hour here, past the
    test's own timeout)."""
    inv = write_inventory(fleet, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False)
    net = base / "os" / "network" / "sim.yaml"
    net.write_text(net.read_text().replace("ip: 127.0.1.2", "ip: 127.0.1.2\n    extra: {os_disk: "
                                           "/dev/disk/by-id/wwn-0x6000000000000000000000000000dead}"))
    for os_file in (base / "os").glob("*.yaml"):
        os_file.write_text(os_file.read_text().replace("timeout_seconds: 60", "timeout_seconds: 3600"))
    code, data, err = _run(capsys, inv, base, tmp_path, "sim-0001")
    assert code == 5, err
    (item,) = data["items"]
    assert item["step"] == "os-install" and "reported a failed install" in item["message"]
    assert "no disk matches /dev/disk/by-id/wwn-0x6000000000000000000000000000dead" in item["message"]
    assert "did not report within" not in item["message"]
    install = installs(fleet, "sim-0001")
    assert install["state"] == "failed" and install["answer"]["valid"]


def test_subiquity_without_autoinstall_on_its_command_line_waits_and_dcops_says_why(
        fleet: ThreadedFleet, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``installer.remaster: false`` with the stock Ubuntu ISO: the CIDATA seed is found, subiquity
    asks "Continue with autoinstall?" and waits; dcops' timeout names the likely cause."""
    inv = write_inventory(fleet, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False)
    ubuntu = base / "os" / "ubuntu-2204-bigdata.yaml"
    ubuntu.write_text(ubuntu.read_text().replace("\n  source:", "\n  remaster: false\n  source:")
                      .replace("timeout_seconds: 60", "timeout_seconds: 3"))
    code, data, err = _run(capsys, inv, base, tmp_path, "sim-0002", extra=("--allow-unverified",))
    assert code == 5, err
    install = installs(fleet, "sim-0002")
    assert install["state"] == "waiting" and install["console"] == "Continue with autoinstall? (yes|no)"
    assert install["answer"]["valid"] and install["answer"]["prompt"] and install["callbacks"] == []
    (item,) = data["items"]
    assert "did not report within 3 s" in item["message"] and "Continue with autoinstall?" in item["message"]


def test_a_single_slot_bmc_boots_a_per_host_iso_with_the_kickstart(state: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A BMC with one virtual CD (Gigabyte/AMI CD1, no MediaTypes): no room for an OEMDRV
    volume, so the host boots its own RHEL ISO with ks.cfg on it and inst.ks=cdrom:/ks.cfg."""
    with ThreadedFleet(FleetSpec(hosts=1, profiles=("dell-r750+single-vmedia-slot",), timings=FAST,
                                 request_log=4096)) as sim:
        inv = write_inventory(sim, tmp_path / "inv.yaml", monkeypatch)
        base = sim_baselines(tmp_path, ["sim-0001"], playbooks=False)
        assert [s["Id"] for s in _slots(sim)] == ["CD1"] and "MediaTypes" not in _slots(sim)[0]
        code, data, err = _run(capsys, inv, base, tmp_path, "sim-0001")
        assert code == 0, err
        install = installs(sim, "sim-0001")
        assert install["state"] == "installed", install
        answer = install["answer"]
        assert answer["kind"] == "kickstart" and answer["valid"] and answer["source"].endswith("-install.iso#ks.cfg")
        assert "inst.ks=cdrom:/ks.cfg" in answer["cmdline"] and answer["addresses"] == ["127.0.2.2/16"]
        assert answer["disk"] == "sda"  # no virtual USB stick enumerates before the OS volume
        assert writes(requests(sim, "sim-0001"))["media_insert"] == 1
        assert "per-host installer ISO" in err


def _slots(sim: ThreadedFleet) -> list[dict]:
    """The BMC's virtual media slots as its Redfish service lists them."""
    import base64
    import json
    import urllib.request

    auth = base64.b64encode(f"{sim.username}:{sim.password}".encode()).decode()

    def get(path: str) -> dict:
        req = urllib.request.Request(sim.url(0) + path, headers={"Authorization": f"Basic {auth}"})
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - the loopback simulator
            return json.loads(resp.read())  # type: ignore[no-any-return]

    members = get("/redfish/v1/Managers/iDRAC.Embedded.1/VirtualMedia")["Members"]
    return [get(m["@odata.id"]) for m in members]
