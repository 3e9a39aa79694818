"""The OS-install step resumed after a kill around the installer's boot, against a scripted BMC:
the reset is not repeated, the wait compares with the boot progress from before the reset (not
the installer's own, which would wait out the whole install timeout), and an installer that
finished and powered the host off while no one watched counts as done."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from dcops.baseline.apply import MemoryJournal
from dcops.baseline.load import load_baselines
from dcops.baseline.redfish import Target
from dcops.bmc.base import MediaSlot
from dcops.bmc.state import BootProgress
from dcops.installer.server import MediaServer
from dcops.models import BmcEndpoint, Host
from dcops.observation import PowerState
from dcops.provision import steps

ISO = "http://images.example/rhel.iso"


class FakeBoot:
    def __init__(self, target: str, enabled: str) -> None:
        self.override = (target, enabled)

    def get(self) -> tuple[str, str]:
        return self.override

    def set_once(self, target: str) -> None:  # pragma: no cover - the journal says it is done
        raise AssertionError("the boot override was set again")


class FakePower:
    def __init__(self, progress: BootProgress, boot: FakeBoot) -> None:
        self.progress = progress
        self.boot = boot
        self.requests: list[str] = []
        self.waits: list[tuple[str | None, str]] = []

    def boot_progress(self) -> BootProgress:
        return self.progress

    def request(self, operation: str) -> None:
        self.requests.append(operation)
        if self.boot.override == ("Cd", "Once"):
            # An installer faster than any poll: it consumes the override, runs and powers off.
            self.boot.override = ("None", "Disabled")
            self.progress = BootProgress(PowerState.OFF, None, None)
        else:  # boot from disk
            self.progress = BootProgress(PowerState.ON, "OSRunning", "T9")

    def wait_boot(self, before_time: str | None, *, until: str, deadline: float) -> None:
        self.waits.append((before_time, until))


class FakeMedia:
    def __init__(self) -> None:
        self.inserted = True
        self.ejected = 0

    def slots(self) -> list[MediaSlot]:
        return [MediaSlot("CD", ("CD",), self.inserted, ISO if self.inserted else None),
                MediaSlot("USB", ("USBStick",), self.answer is not None, self.answer)]

    answer: str | None = None

    def insert(self, image: str, *, media: str = "cd", ca_pem: str | None = None) -> None:
        assert media == "usb" and self.answer is None, (image, media)
        self.answer = image

    def eject(self) -> None:
        self.inserted = False
        self.answer = None
        self.ejected += 1


class FakeBmc:
    def __init__(self, progress: BootProgress, override: tuple[str, str]) -> None:
        self.boot = FakeBoot(*override)
        self.power = FakePower(progress, self.boot)
        self.vmedia = FakeMedia()

    def close(self) -> None:
        pass


def _baselines(tmp_path: Path, completion: str) -> Any:
    root = tmp_path / "baselines"
    for d in ("profiles", "os/network", "os/templates"):
        (root / d).mkdir(parents=True)
    (root / "profiles" / "lab.yaml").write_text(yaml.safe_dump({
        "name": "lab", "description": "lab", "baselines": {"os": "lab-os"}}))
    key = tmp_path / "deploy.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUnitTestKey unit\n")
    key.chmod(0o600)
    (root / "os" / "lab-os.yaml").write_text(yaml.safe_dump({
        "name": "lab-os", "installer": {"iso": ISO},
        "answer_file": {"kind": "kickstart", "template": "templates/lab.ks"},
        "deploy": {"ssh_public_key": f"file:{key}"},
        "network": {"file": "network/lab.yaml"}, "completion": {"wait_for": completion, "timeout_seconds": 60}}))
    (root / "os" / "templates" / "lab.ks").write_text("network --ip=${ip}\nignoredisk --only-use=${os_disk}\n")
    (root / "os" / "network" / "lab.yaml").write_text(yaml.safe_dump({
        "defaults": {"prefix": 24}, "hosts": {"node-1": {"ip": "192.0.2.10",
                                                         "extra": {"os_disk": "/dev/disk/by-id/wwn-0x6001"}}}}))
    return load_baselines(root)


def _resume(tmp_path: Path, completion: str, bmc: FakeBmc, journal: MemoryJournal) -> dict[str, Any]:
    host = Host("node-1", BmcEndpoint("127.0.0.1"), profile="lab")
    target = Target(host, bmc)  # type: ignore[arg-type]
    with MediaServer(tmp_path / "media") as media:
        ctx = steps.StepContext(host, _baselines(tmp_path, completion), steps.Options(media=media), journal,
                                {"profile": "lab"}, lambda: target)
        return steps.os_install(ctx)


def _media_done(journal: MemoryJournal) -> MemoryJournal:
    """The answer image was built and inserted by the killed attempt (its token is not known
    to the resuming process: the BMC already holds the URL)."""
    journal.after("os:media", {"name": "node-1-oemdrv.img", "label": "OEMDRV", "token_sha256": "0" * 64,
                               "sha256": "1" * 64, "answer_sha256": "2" * 64, "disk": "/dev/disk/by-id/wwn-0x6",
                               "ip": "192.0.2.10"})
    return journal


def _killed_around_the_reset() -> MemoryJournal:
    """A journal of an attempt killed after asking for the reset, before recording it done."""
    journal = _media_done(MemoryJournal())
    journal.after("os:insert", {"image": ISO})
    journal.after("os:boot")
    journal.before("os:power", {"stamp": "T0", "power": "On"})
    return journal


def test_an_adopted_reset_waits_from_the_boot_progress_before_it(tmp_path: Path) -> None:
    completion = "os-running"
    # The installer is up: boot progress has moved on from T0 and the one-time override is consumed.
    bmc = FakeBmc(BootProgress(PowerState.ON, "OSRunning", "T1"), ("None", "Disabled"))
    journal = _killed_around_the_reset()
    _resume(tmp_path, completion, bmc, journal)
    assert "reset" not in bmc.power.requests  # adopted, not repeated
    assert bmc.power.waits[0] == ("T0", completion)  # T1 would never see the boot it waits for
    assert journal.info("os:power")["stamp"] == "T0"
    assert journal.state("os:installed") == "done" and bmc.vmedia.ejected == 1


def test_an_installer_that_finished_while_no_one_watched_counts_as_done(tmp_path: Path) -> None:
    # Killed while waiting for the installer; it powered the host off before the resume.
    bmc = FakeBmc(BootProgress(PowerState.OFF, None, "T2"), ("None", "Disabled"))
    journal = _killed_around_the_reset()
    journal.after("os:power", {"stamp": "T0"})
    journal.before("os:installed", {"stamp": "T0"})
    result = _resume(tmp_path, "power-off", bmc, journal)
    assert bmc.power.waits[:1] == [("T2", "post")]  # no wait for a power-off that already happened
    assert bmc.power.requests == ["on"]  # only the boot from disk
    assert journal.state("os:installed") == "done" and journal.state("os:boot-disk") == "done"
    assert result["completion"] == "power-off"


def test_an_installer_faster_than_the_polls_is_seen_finished(tmp_path: Path) -> None:
    # Host off, override armed: the step powers on; the installer consumes the override and is
    # off again before the first poll. The consumed override is the witness: no wait to the deadline.
    bmc = FakeBmc(BootProgress(PowerState.OFF, None, "T0"), ("Cd", "Once"))
    journal = _media_done(MemoryJournal())
    journal.after("os:insert", {"image": ISO})
    journal.after("os:boot")
    started = time.monotonic()
    _resume(tmp_path, "power-off", bmc, journal)
    assert time.monotonic() - started < 5
    assert bmc.power.requests == ["on", "on"]  # into the installer, then from disk
    # The killed attempt's answer image was never inserted and its token is unknown here: a new
    # one was built and inserted before the installer booted.
    assert bmc.vmedia.ejected == 1 and journal.info("os:media")["token_sha256"] != "0" * 64
    assert journal.info("os:power")["armed"] is True
    assert journal.state("os:installed") == "done" and journal.state("os:boot-disk") == "done"


def test_killed_after_powering_on_and_the_installer_already_off(tmp_path: Path) -> None:
    # Killed right after the power-on; by the resume the installer ran and powered the host off:
    # off, no boot progress, the override consumed. Powering on again would boot from disk and
    # wait for a power-off that never comes.
    bmc = FakeBmc(BootProgress(PowerState.OFF, None, None), ("None", "Disabled"))
    journal = _killed_around_the_reset()
    _resume(tmp_path, "power-off", bmc, journal)
    assert bmc.power.requests == ["on"]  # the boot from disk, once; not a second installer boot
    assert [w for w in bmc.power.waits if w[1] == "power-off"] == []
    assert journal.state("os:installed") == "done" and journal.state("os:boot-disk") == "done"
