"""Per-host ISOs from stock images laid out as the real Ubuntu and RHEL ISOs are (built by xorriso
with the distributions' own options, tests/helpers/installer_iso.py): every boot path survives
the remaster, as ``xorriso -report_el_torito as_mkisofs`` and ``-report_system_area`` read it
back: BIOS and EFI El Torito entries, the hybrid MBR and GPT, Ubuntu's appended EFI partition
(byte for byte) and RHEL's GPT/MBR entries re-pointed at efiboot.img; the kernel argument
reaches every boot configuration, the grub.cfg inside efiboot.img included. The peers are the
real xorriso and mtools (apt)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from dcops.errors import InvalidInputError
from dcops.installer import fatimage, layout, media
from dcops.provision.steps import AUTOINSTALL_ARGS, KICKSTART_ARGS
from dcops.sim.installer import Disk, examine
from tests.helpers.installer_iso import EFI_GUID, rhel_hybrid_iso, rhel_iso, ubuntu_hybrid_iso, ubuntu_iso
from tests.unit.installer.test_media_and_answers import KS, UD

DISKS = [Disk("sda", ("/dev/disk/by-id/wwn-0x6001",), "36001", "volume OS (RAID1)")]
SEED = {"nocloud/user-data": UD.encode(), "nocloud/meta-data": b"instance-id: x\n"}


def _xorriso_report(iso: Path) -> str:
    return subprocess.run(["xorriso", "-no_rc", "-indev", str(iso), "-report_el_torito", "as_mkisofs",
                           "-report_system_area", "plain"], capture_output=True, text=True, check=True).stdout


def _options(iso: Path) -> list[str]:
    """El Torito and system area as mkisofs options, without what moves from image to image (the
    image's name, block addresses, the date)."""
    opts = []
    for line in _xorriso_report(iso).splitlines():
        line = line.replace(str(iso), "IMAGE").replace(iso.name, "IMAGE")
        line = re.sub(r"local_fs:\d+d-\d+d", "local_fs:RANGE", line)
        line = re.sub(r"_start_\d+s_", "_start_N_", line)
        if line.startswith("-") and not line.startswith("--modification-date"):
            opts.append(line)
    return opts


def _system_area(iso: Path) -> tuple[str, list[tuple[str, ...]], dict[str, dict[str, str]]]:
    """(summary, MBR partitions as (status, type, blocks), GPT partitions by name: type, flags,
    size, path). Sizes are kept for EFI partitions only (the ones covering the ISO 9660 volume
    grow with the files added); xorriso's "Gap" entries (filler between partitions) are left out."""
    text = _xorriso_report(iso)
    summary = re.search(r"System area summary: (.*)", text)
    mbr = [(st, ty, size if ty == "0xef" else "") for st, ty, size
           in re.findall(r"MBR partition      :\s+\d+\s+(\S+)\s+(\S+)\s+\d+\s+(\d+)", text)]
    fields: dict[str, dict[str, str]] = {}
    for key, num, value in re.findall(r"GPT (partname local|type GUID|partition flags|start and size|"
                                      r"partition path)\s*:\s+(\d+)\s+(.*)", text):
        fields.setdefault(num, {})[key] = value.strip()
    gpt = {}
    for entry in fields.values():
        if entry["partname local"].startswith("Gap"):
            continue
        efi = entry["type GUID"] == EFI_GUID or "partition path" in entry
        size = entry["start and size"].split()[1] if efi else ""
        gpt[entry["partname local"]] = {"type": entry["type GUID"], "flags": entry["partition flags"], "size": size,
                                        "path": entry.get("partition path", "")}
    return (summary.group(1) if summary else ""), mbr, gpt


def _gpt_partitions(iso: Path) -> dict[str, tuple[int, int]]:
    """partname -> (start, blocks of 512 bytes) from xorriso's report."""
    text = _xorriso_report(iso)
    names = dict(re.findall(r"GPT partname local :\s+(\d+)\s+(\S+)", text))
    spans = {n: (int(a), int(b)) for n, a, b in re.findall(r"GPT start and size :\s+(\d+)\s+(\d+)\s+(\d+)", text)}
    return {names[n]: spans[n] for n in names}


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, bytes]]:
    d = tmp_path_factory.mktemp("stock")
    return {"ubuntu-22.04": ubuntu_hybrid_iso(d / "u22.iso", release="22.04"),
            "ubuntu-24.04": ubuntu_hybrid_iso(d / "u24.iso", release="24.04"),
            "rhel-9": (rhel_hybrid_iso(d / "rhel.iso"), b"")}


CASES = [
    # (stock, args, files, boot configurations changed, expected layout lines)
    ("ubuntu-22.04", list(AUTOINSTALL_ARGS), SEED, ("boot/grub/grub.cfg", "boot/grub/loopback.cfg"),
     ["-append_partition 2 28732ac11ff8d211ba4b00a0c93ec93b --interval:local_fs:RANGE::'IMAGE'",
      "-e '--interval:appended_partition_2_start_N_size_2880d:all::'", "--grub2-boot-info", "-appended_part_as_gpt",
      "-b '/boot/grub/i386-pc/eltorito.img'", "-partition_offset 16"]),
    ("ubuntu-24.04", list(AUTOINSTALL_ARGS), SEED, ("boot/grub/grub.cfg", "boot/grub/loopback.cfg"),
     ["-e '--interval:appended_partition_2_start_N_size_2880d:all::'", "--protective-msdos-label"]),
    ("rhel-9", list(KICKSTART_ARGS), {"ks.cfg": KS.encode()},
     ("efi/boot/grub.cfg", "isolinux/isolinux.cfg", "images/efiboot.img:EFI/BOOT/grub.cfg"),
     ["-isohybrid-mbr --interval:local_fs:0s-15s:zero_mbrpt,zero_gpt:'IMAGE'", "-b '/isolinux/isolinux.bin'",
      "-e '/images/efiboot.img'", "-isohybrid-gpt-basdat"]),
]


@pytest.mark.parametrize(("name", "args", "files", "configs", "expect"), CASES, ids=[c[0] for c in CASES])
def test_every_boot_path_of_the_stock_image_survives(name: str, args: list[str], files: dict[str, bytes],
                                                     configs: tuple[str, ...], expect: list[str],
                                                     stock: dict[str, tuple[Path, bytes]], tmp_path: Path) -> None:
    src, efi = stock[name]
    out = tmp_path / "host.iso"
    done = media.remaster(str(src), str(out), args, files)
    assert done.configs == configs
    before = _options(src)
    for line in expect:
        assert line in before, (line, before)  # the stand-in has the real layout...
    assert _options(out) == before  # ...and the per-host image the same boot options,
    area = _system_area(out)
    assert area == _system_area(src) and "GPT" in area[0]  # the same MBR and GPT partitions
    assert any(p["type"] == EFI_GUID or p["path"] == "/images/efiboot.img" for p in area[2].values())
    parts = _gpt_partitions(out)
    data = out.read_bytes()
    if efi:  # Ubuntu: the appended EFI partition is there, byte for byte, where the GPT says
        start, blocks = parts["Appended2"]
        assert data[start * 512:(start + blocks) * 512] == efi
    else:  # RHEL: the GPT's EFI entry points at the new efiboot.img, whose grub.cfg has the argument
        start, blocks = parts["ISOHybrid1"]
        inner = fatimage.read_file(data[start * 512:(start + blocks) * 512], "EFI/BOOT/grub.cfg", what="t")
        assert inner is not None and inner.count(b"inst.ks=cdrom:/ks.cfg") == 2
    # What the installer then reads: its command line and the answer on the CD.
    url = "http://127.0.0.1:9/media/t/host.iso"
    seen = examine([url], DISKS, lambda u: data, cd_url=url)
    assert seen.error is None and seen.prompt is None and seen.facts is not None and seen.facts.valid
    # Remastering the per-host image again adds nothing twice (a resumed run).
    again = tmp_path / "again.iso"
    media.remaster(str(out), str(again), args, files)
    once = media.read_paths(data, [configs[0]])[configs[0]]
    assert media.read_paths(again.read_bytes(), [configs[0]])[configs[0]] == once
    assert once.count(args[0].encode()) == len(re.findall(rb"^\s*linux(efi)?\s", once, re.MULTILINE))


def test_without_xorriso_a_hybrid_image_is_refused_by_name(stock: dict[str, tuple[Path, bytes]], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither xorriso nor mtools
    out = tmp_path / "h.iso"
    with pytest.raises(InvalidInputError, match=r"carries an MBR partition table .* and a GPT with an EFI system partition: .*apt install xorriso"):
        media.remaster(str(stock["ubuntu-22.04"][0]), str(out), list(AUTOINSTALL_ARGS), SEED)
    with pytest.raises(InvalidInputError, match=r"images/efiboot.img: .*apt install mtools"):
        media.remaster(str(stock["rhel-9"][0]), str(out), list(KICKSTART_ARGS), {"ks.cfg": b"x"})
    assert not out.exists()


def _head(path: Path) -> tuple[bytes, int]:
    data = path.read_bytes()
    return data[:layout.HEAD], len(data)


def test_what_a_file_tree_rewrite_would_lose(stock: dict[str, tuple[Path, bytes]], tmp_path: Path) -> None:
    plain_u, plain_r = ubuntu_iso(tmp_path / "u.iso"), rhel_iso(tmp_path / "r.iso")
    assert layout.outside_the_tree(*_head(plain_u)) == []  # pycdlib's own images: pycdlib keeps them
    assert layout.outside_the_tree(*_head(plain_r)) == []
    reasons = layout.outside_the_tree(*_head(stock["ubuntu-22.04"][0]))
    assert reasons == ["an MBR partition table (hybrid boot as a disk, partition types 0xee, 0x00)",
                       "a GPT with an EFI system partition"]
    reasons = layout.outside_the_tree(*_head(stock["rhel-9"][0]))
    assert reasons == ["an MBR partition table (hybrid boot as a disk, partition types 0x00, 0xef)", "a GPT"]
