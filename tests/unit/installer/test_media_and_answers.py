"""Answer media and answer files: images built with pycdlib read back as an installer sees them,
the installers' parsers judge rendered answer files, durable names become /dev/disk/by-id names,
and the simulated installer resolves the install disk as a kernel would enumerate it."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.errors import InvalidInputError
from dcops.installer import answers, media, render
from dcops.sim.installer import Disk, examine, pick_disk


def test_an_oemdrv_image_reads_back_with_its_label_and_files() -> None:
    image = media.build_image(media.OEMDRV, {"ks.cfg": b"text\npoweroff\n"})
    volume = media.read_image(image)
    assert volume.label == "OEMDRV" and volume.files == {"ks.cfg": b"text\npoweroff\n"}


def test_a_cidata_seed_keeps_the_nocloud_file_names() -> None:
    files = {"user-data": b"#cloud-config\n", "meta-data": b"instance-id: x\n", "network-config": b"version: 2\n"}
    volume = media.read_image(media.build_image(media.CIDATA, files))
    assert volume.label == "CIDATA" and volume.files == files


@pytest.mark.parametrize("data", [b"", b"\0" * 65536, b"not an iso at all" * 100])
def test_what_is_not_an_iso_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInputError):
        media.read_image(data)


KS = """text
network --bootproto=static --device=ens1f0 --ip=192.0.2.10 --netmask=255.255.255.0 --gateway=192.0.2.1 --hostname=h1
ignoredisk --only-use=/dev/disk/by-id/wwn-0x6001
user --name=dcops --lock
sshkey --username=dcops "ssh-ed25519 AAAA key"
%post
curl -X POST "http://127.0.0.1:1/done/T?status=ok"
%end
%onerror
curl -X POST "http://127.0.0.1:1/done/T?status=failed"
%end
poweroff
"""

UD = """#cloud-config
autoinstall:
  version: 1
  identity: {hostname: h2, username: dcops, password: "!"}
  network: {version: 2, ethernets: {ens1f0: {addresses: [192.0.2.11/24]}}}
  storage: {layout: {name: lvm, match: {serial: "*6001*"}}}
  ssh: {install-server: true, authorized-keys: ["ssh-ed25519 AAAA key"]}
  late-commands: ["curl -X POST 'http://127.0.0.1:1/done/T?status=ok'"]
  error-commands: ["curl -X POST 'http://127.0.0.1:1/done/T?status=failed'"]
  shutdown: poweroff
"""

CASES: list[dict[str, Any]] = [
    {"kind": "kickstart", "text": KS, "valid": True, "hostname": "h1", "addresses": ("192.0.2.10/24",),
     "disks": ("/dev/disk/by-id/wwn-0x6001",), "users": ("dcops",), "poweroff": True},
    {"kind": "kickstart", "text": KS.replace("poweroff\n", "reboot\n"), "valid": True, "poweroff": False},
    {"kind": "kickstart", "text": "text\nbogus --x\n", "valid": False, "line": 2, "message": "Unknown command: bogus"},
    {"kind": "kickstart", "text": "network --ip=1.2.3.4 --frob\n", "valid": False, "line": 1,
     "message": "unrecognized arguments: --frob"},
    {"kind": "kickstart", "text": "%post\necho\n", "valid": False, "line": 2, "message": "does not end with %end"},
    {"kind": "autoinstall", "text": UD, "valid": True, "hostname": "h2", "addresses": ("192.0.2.11/24",),
     "disks": ("*6001*",), "users": ("dcops",), "poweroff": True},
    {"kind": "autoinstall", "text": UD.replace("shutdown: poweroff", "shutdown: halt"), "valid": False, "line": 10,
     "message": "'halt' is not one of"},
    {"kind": "autoinstall", "text": UD.replace("  version: 1\n", "  version: 1\n  frobnicate: 1\n"), "valid": False,
     "line": 4, "message": "'frobnicate' was unexpected"},
    {"kind": "autoinstall", "text": "#cloud-config\nusers: []\n", "valid": False, "line": 1,
     "message": "no 'autoinstall' section"},
    {"kind": "autoinstall", "text": "#cloud-config\nautoinstall: [\n", "valid": False, "message": "expected"},
    {"kind": "preseed", "text": "d-i x", "valid": False, "message": "unknown answer-file kind"},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['kind']}-{c.get('message', 'ok')}")
def test_answer_files_are_judged_by_the_installers_rules(case: dict[str, Any]) -> None:
    facts = answers.check(case["kind"], case["text"])
    assert facts.valid is case["valid"], facts.problems
    if not case["valid"]:
        assert any(case["message"] in p.message for p in facts.problems), facts.problems
        if "line" in case:
            assert facts.problems[0].line == case["line"], facts.problems
        return
    for key in ("hostname", "addresses", "disks", "users", "poweroff"):
        if key in case:
            assert getattr(facts, key) == case[key], key
    assert facts.done_urls == ("http://127.0.0.1:1/done/T?status=ok",)
    assert facts.error_urls == ("http://127.0.0.1:1/done/T?status=failed",)


@pytest.mark.parametrize("fmt,name,by_id", [
    ("NAA", "600062B2218E23802FDC23942A65F7AA", "/dev/disk/by-id/wwn-0x600062b2218e23802fdc23942a65f7aa"),
    ("naa", "0x5000C500A1B2C3D4", "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"),
    ("EUI", "00-25-38-5B-91-B0-12-34", "/dev/disk/by-id/nvme-eui.0025385b91b01234"),
])
def test_durable_names_become_by_id_names(fmt: str, name: str, by_id: str) -> None:
    disk = render.disk_from_identifier(fmt, name)
    assert disk.by_id == by_id and disk.durable_name == by_id.rsplit("0x", 1)[-1].rsplit(".", 1)[-1]


@pytest.mark.parametrize("fmt,name", [("UUID", "38f1818b-111e-463a-aa19-fa54f792e468"), ("NAA", "not-hex!"),
                                      (None, "600062B2")])
def test_durable_names_without_a_by_id_form_are_refused(fmt: str | None, name: str) -> None:
    with pytest.raises(InvalidInputError):
        render.disk_from_identifier(fmt, name)


def test_the_shipped_sample_values_render_one_line_each() -> None:
    assert all("\n" not in v for v in render.SAMPLE.values())
    with pytest.raises(InvalidInputError, match="one line"):
        render.values("h", render.AnswerNetwork("h", "192.0.2.1", 24, None, (), None, "eth0"),
                      render.Disk("/dev/disk/by-id/wwn-0x1", "1"), profile="p", serial=None, deploy_user="d",
                      ssh_key="ssh-ed25519 AAAA\nroot", done_url="http://x/done/t")


DISKS = [Disk("sda", (), "", "virtual media RemovableDisk"),
         Disk("sdb", ("/dev/disk/by-id/wwn-0x6001",), "36001", "volume OS (RAID1)"),
         Disk("sdc", ("/dev/disk/by-id/wwn-0x6002",), "36002", "volume DATA (RAID10)")]


@pytest.mark.parametrize("refs,kernel,error", [
    (("/dev/disk/by-id/wwn-0x6001",), "sdb", None),
    (("*6002*",), "sdc", None),  # curtin's serial glob
    (("sda",), None, "installation media"),  # the kernel name is the virtual USB stick
    (("/dev/disk/by-id/wwn-0x9999",), None, "no disk matches"),
    ((), None, "names no install disk"),
])
def test_the_simulated_installer_resolves_the_install_disk(refs: tuple[str, ...], kernel: str | None,
                                                            error: str | None) -> None:
    facts = answers.Facts("kickstart", disks=refs)
    disk, problem = pick_disk(facts, DISKS)
    assert (disk.kernel if disk else None) == kernel
    assert (error is None and problem is None) or (error is not None and problem and error in problem)


def test_the_simulated_installer_fetches_loopback_only_and_finds_the_answer() -> None:
    images = {"http://127.0.0.1:9/media/t/a.img": media.build_image(media.OEMDRV, {"ks.cfg": KS.encode()}),
              "http://127.0.0.1:9/boot.iso": b"not an iso"}
    fetched: list[str] = []

    def fetcher(url: str) -> bytes:
        fetched.append(url)
        from dcops.sim.installer import fetch

        if "repo.example" in url:
            return fetch(url)  # refused before any connection: not loopback
        return images[url]

    out = examine(["http://repo.example.net/rhel.iso", *images], DISKS, fetcher)
    assert out.error is None and out.disk == "sdb" and out.source == "http://127.0.0.1:9/media/t/a.img#ks.cfg"
    errors = {f["url"]: f.get("error") for f in out.fetched}
    assert "loopback URLs only" in errors["http://repo.example.net/rhel.iso"]
    assert "not an ISO" in errors["http://127.0.0.1:9/boot.iso"]


def test_no_answer_volume_is_the_installers_own_complaint() -> None:
    out = examine(["http://127.0.0.1:9/x.img"], DISKS,
                  lambda url: media.build_image("DATA", {"ks.cfg": KS.encode()}))  # wrong label
    assert out.facts is None and out.error and "no volume labelled OEMDRV" in out.error
