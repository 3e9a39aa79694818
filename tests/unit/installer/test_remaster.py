"""Per-host installer ISOs: kernel arguments added to the stock boot configurations (a table of
the real layouts), the ISO remastered with pycdlib keeps its boot record and every name space,
the simulated installer boots it the way Anaconda and subiquity would (kernel arguments, then
labelled volumes), and subiquity without ``autoinstall`` stops at its question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dcops.errors import InvalidInputError
from dcops.installer import bootcfg, media
from dcops.provision.steps import AUTOINSTALL_ARGS, KICKSTART_ARGS, one_iso
from dcops.sim.installer import AUTOINSTALL_PROMPT, Disk, boot_cmdline, examine
from tests.helpers.installer_iso import UBUNTU_GRUB, UBUNTU_TXT, rhel_iso, ubuntu_iso
from tests.unit.installer.test_media_and_answers import KS, UD

DISKS = [Disk("sda", ("/dev/disk/by-id/wwn-0x6001",), "36001", "volume OS (RAID1)")]

EDITS: list[tuple[str, str, list[str], str, int]] = [
    # (boot configuration, syntax, args, a line of the result, kernel lines changed)
    ("\tlinux\t/casper/vmlinuz  ---\n", "grub", ["autoinstall", "ds=nocloud;s=/cdrom/nocloud/"],
     "\tlinux\t/casper/vmlinuz autoinstall ds=nocloud\\;s=/cdrom/nocloud/ ---\n", 1),
    ("  append   initrd=/casper/initrd quiet  ---\n", "isolinux", ["autoinstall", "ds=nocloud;s=/cdrom/nocloud/"],
     "  append   initrd=/casper/initrd quiet autoinstall ds=nocloud;s=/cdrom/nocloud/ ---\n", 1),
    ("\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=R quiet\n", "grub", ["inst.ks=cdrom:/ks.cfg"],
     "\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=R quiet inst.ks=cdrom:/ks.cfg\n", 1),
    # already there (a resumed remaster, an ISO prepared by hand): nothing added twice
    ("\tlinux /casper/vmlinuz autoinstall ds=nocloud\\;s=/cdrom/nocloud/ ---\n", "grub",
     ["autoinstall", "ds=nocloud;s=/cdrom/nocloud/"],
     "\tlinux /casper/vmlinuz autoinstall ds=nocloud\\;s=/cdrom/nocloud/ ---\n", 0),
    # memtest and menu lines are not kernel lines of the installer
    ("\tlinux16 /boot/memtest86+.bin\nmenuentry 'x' {\n", "grub", ["autoinstall"],
     "\tlinux16 /boot/memtest86+.bin\n", 0),
    # what follows --- goes to the installed system: installer arguments go before it
    ("  linux /casper/vmlinuz quiet --- console=ttyS0\n", "grub", ["autoinstall"],
     "  linux /casper/vmlinuz quiet autoinstall --- console=ttyS0\n", 1),
]


@pytest.mark.parametrize(("text", "syntax", "args", "line", "changed"), EDITS)
def test_kernel_arguments_are_added_once_before_the_separator(text: str, syntax: str, args: list[str], line: str,
                                                              changed: int) -> None:
    edited = bootcfg.add_kernel_args(text, syntax, args)
    assert edited.text.splitlines(keepends=True)[0] == line and edited.lines == changed
    assert bootcfg.add_kernel_args(edited.text, syntax, args).lines == 0


def test_the_default_entry_is_read_as_the_kernel_receives_it() -> None:
    edited = bootcfg.add_kernel_args(UBUNTU_GRUB, "grub", list(AUTOINSTALL_ARGS)).text
    assert bootcfg.first_cmdline(edited, "grub") == ["autoinstall", "ds=nocloud;s=/cdrom/nocloud/", "---"]
    assert bootcfg.first_cmdline(UBUNTU_TXT, "isolinux") == ["quiet", "---"]
    assert bootcfg.first_cmdline("set timeout=5\n", "grub") is None


@pytest.fixture(scope="module")
def isos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("isos")
    return {"ubuntu": ubuntu_iso(d / "ubuntu.iso"), "ubuntu2004": ubuntu_iso(d / "u20.iso", release="20.04"),
            "rhel": rhel_iso(d / "rhel.iso")}


def _remaster(src: Path, dest: Path, args: list[str], files: dict[str, bytes]) -> bytes:
    media.remaster(str(src), str(dest), args, files)
    return dest.read_bytes()


def test_a_remastered_ubuntu_iso_boots_into_an_unattended_autoinstall(isos: dict[str, Path], tmp_path: Path) -> None:
    seed = {"nocloud/user-data": UD.encode(), "nocloud/meta-data": b"instance-id: x\n"}
    done = media.remaster(str(isos["ubuntu2004"]), str(tmp_path / "h.iso"), list(AUTOINSTALL_ARGS), seed)
    assert done.configs == ("boot/grub/grub.cfg", "boot/grub/loopback.cfg", "isolinux/txt.cfg")
    data = (tmp_path / "h.iso").read_bytes()
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.open(str(tmp_path / "h.iso"))
    try:  # the BIOS boot record and the label the initramfs looks for survive
        assert iso.eltorito_boot_catalog is not None
        assert iso.pvd.volume_identifier.decode().strip() == "Ubuntu-Server 20.04 LTS amd64"
    finally:
        iso.close()
    # Every name space (Rock Ridge, Joliet, ISO 9660) sees the new boot configuration.
    assert media.read_paths(data, ["isolinux/txt.cfg"])["isolinux/txt.cfg"].count(b"autoinstall") == 1
    assert boot_cmdline(data) == ("boot/grub/grub.cfg", ["autoinstall", "ds=nocloud;s=/cdrom/nocloud/", "---"])
    url = "http://127.0.0.1:9/media/t/h.iso"
    out = examine([url], DISKS, lambda u: data, cd_url=url)
    assert out.error is None and out.prompt is None and out.source == f"{url}#nocloud/user-data"
    assert out.facts is not None and out.facts.valid and out.disk == "sda"


def test_a_remastered_rhel_iso_names_its_kickstart_on_the_cd(isos: dict[str, Path], tmp_path: Path) -> None:
    data = _remaster(isos["rhel"], tmp_path / "r.iso", list(KICKSTART_ARGS), {"ks.cfg": KS.encode()})
    assert boot_cmdline(data)[1] == ["inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64", "quiet", "inst.ks=cdrom:/ks.cfg"]
    url = "http://127.0.0.1:9/media/t/r.iso"
    out = examine([url], DISKS, lambda u: data, cd_url=url)
    assert out.error is None and out.source == f"{url}#ks.cfg" and out.facts is not None and out.facts.valid


def test_a_kickstart_argument_pointing_at_nothing_is_anacondas_error(isos: dict[str, Path], tmp_path: Path) -> None:
    data = _remaster(isos["rhel"], tmp_path / "r.iso", ["inst.ks=cdrom:/missing.cfg"], {"ks.cfg": KS.encode()})
    url = "http://127.0.0.1:9/r.iso"
    out = examine([url], DISKS, lambda u: data, cd_url=url)
    assert out.error == "anaconda: cannot get kickstart file from cdrom:/missing.cfg: no such file"


PROMPT_CASES: list[tuple[str, list[str], Any]] = [
    # (CD, kernel args added, the prompt): a CIDATA seed on a second slot with the stock ISO
    ("stock", [], AUTOINSTALL_PROMPT),
    ("ubuntu", ["ds=nocloud"], AUTOINSTALL_PROMPT),  # the seed is found, but nothing says go ahead
    ("ubuntu", ["autoinstall"], None),
    ("unreadable", [], AUTOINSTALL_PROMPT),  # a stock ISO on a real mirror: a stock command line
]


@pytest.mark.parametrize(("cd", "args", "prompt"), PROMPT_CASES)
def test_subiquity_asks_unless_autoinstall_is_on_its_command_line(cd: str, args: list[str], prompt: Any,
                                                                  isos: dict[str, Path], tmp_path: Path) -> None:
    seed = media.build_image(media.CIDATA, {"user-data": UD.encode(), "meta-data": b"instance-id: x\n"})
    cd_url, seed_url = "http://127.0.0.1:9/cd.iso", "http://127.0.0.1:9/seed.img"
    if cd == "ubuntu":
        cd_data = _remaster(isos["ubuntu"], tmp_path / "cd.iso", args, {"x": b"x"})
    elif cd == "stock":
        cd_data = isos["ubuntu"].read_bytes()
    else:
        cd_data = b"not fetched"
    out = examine([cd_url, seed_url], DISKS, lambda u: seed if u == seed_url else cd_data, cd_url=cd_url)
    assert out.error is None and out.facts is not None and out.facts.valid and out.prompt == prompt
    assert out.answer()["prompt"] == prompt


def test_an_iso_without_a_boot_configuration_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.iso"
    plain.write_bytes(media.build_image("DATA", {"readme": b"x"}))
    with pytest.raises(InvalidInputError, match="no boot configuration"):
        media.remaster(str(plain), str(tmp_path / "out.iso"), ["autoinstall"], {})


class _Slot:
    def __init__(self, *types: str) -> None:
        self.media_types = types


SLOTS: list[tuple[Any, str, list[_Slot], Any]] = [
    # (installer.remaster, answer kind, the BMC's slots, one per-host ISO?)
    (None, "kickstart", [_Slot("USBStick"), _Slot("CD", "DVD")], False),  # iDRAC: OEMDRV on RemovableDisk
    (None, "autoinstall", [_Slot("USBStick"), _Slot("CD", "DVD")], True),  # subiquity needs its argument
    (False, "autoinstall", [_Slot("Floppy", "USBStick"), _Slot("CD", "DVD")], False),  # an ISO prepared already
    (True, "kickstart", [_Slot("Floppy", "USBStick"), _Slot("CD", "DVD")], True),
    (None, "kickstart", [_Slot()], True),  # Gigabyte/AMI: CD1 only, no MediaTypes
    (None, "kickstart", [_Slot(), _Slot()], False),  # XCC/Supermicro-like: types unknown, two slots
    (None, "kickstart", [_Slot("CD", "DVD"), _Slot("CD")], True),  # two CD-only slots: no answer volume
    (False, "kickstart", [_Slot()], InvalidInputError),
]


@pytest.mark.parametrize(("remaster", "kind", "slots", "want"), SLOTS)
def test_when_the_answer_rides_on_a_per_host_iso(remaster: Any, kind: str, slots: list[_Slot], want: Any) -> None:
    if want is InvalidInputError:
        with pytest.raises(InvalidInputError, match="one virtual media slot"):
            one_iso(remaster, kind, slots)
        return
    assert one_iso(remaster, kind, slots)[0] is want


def _head(*, mbr_types: tuple[int, ...] = (), signature: bool = False, gpt_esp: bool | None = None,
          code: bool = False, volume_blocks: int = 20) -> bytes:
    from dcops.installer import layout

    head = bytearray(layout.HEAD)
    if code:
        head[0:3] = b"\xeb\x63\x90"
    if signature or mbr_types:
        head[510:512] = b"\x55\xaa"
    for i, kind in enumerate(mbr_types):
        head[446 + 16 * i + 4] = kind
        head[446 + 16 * i + 8] = 1
    if gpt_esp is not None:
        head[512:520] = b"EFI PART"
        head[512 + 72:512 + 84] = (2).to_bytes(8, "little") + (4).to_bytes(4, "little")
        head[512 + 84:512 + 88] = (128).to_bytes(4, "little")
        kind = "28732ac11ff8d211ba4b00a0c93ec93b" if gpt_esp else "a2a0d0ebe5b9334487c068b6b72699c7"
        head[1024 + 128:1024 + 144] = bytes.fromhex(kind)
    head[layout.SYSTEM_AREA:layout.SYSTEM_AREA + 6] = b"\x01CD001"
    head[layout.SYSTEM_AREA + 80:layout.SYSTEM_AREA + 84] = volume_blocks.to_bytes(4, "little")
    head[layout.SYSTEM_AREA + 128:layout.SYSTEM_AREA + 130] = (2048).to_bytes(2, "little")
    return bytes(head)


LAYOUTS: list[tuple[bytes, int, list[str]]] = [
    # (first 34 KiB, file size, what a file-tree rewrite would lose)
    (_head(), 20 * 2048, []),  # pycdlib's own images
    (_head(), 20 * 2048 + 300 * 1024, []),  # xorriso's padding after the volume is not a partition
    (_head(signature=True, code=True), 20 * 2048, ["MBR boot code in the system area"]),
    (_head(code=True), 20 * 2048, ["boot data in the system area (the first 32 KiB)"]),
    (_head(mbr_types=(0x00, 0xEF)), 20 * 2048,
     ["an MBR partition table (hybrid boot as a disk, partition types 0x00, 0xef)"]),
    (_head(mbr_types=(0xEE,), gpt_esp=True), 20 * 2048,
     ["an MBR partition table (hybrid boot as a disk, partition types 0xee)", "a GPT with an EFI system partition"]),
    (_head(mbr_types=(0xEE,), gpt_esp=False), 20 * 2048,
     ["an MBR partition table (hybrid boot as a disk, partition types 0xee)", "a GPT"]),
    (_head(), 20 * 2048 + 4 * 1024 * 1024,
     [f"{4 * 1024 * 1024} bytes after the ISO 9660 volume (an appended partition, as Ubuntu's EFI boot image is)"]),
    (b"\x00" * 100, 100, []),
    (b"\x00" * 512 + b"EFI PART", 520, ["a GPT"]),  # a truncated header is not read past its end  # shorter than a system area: nothing to lose, pycdlib then says what it is
]


@pytest.mark.parametrize(("head", "size", "reasons"), LAYOUTS)
def test_what_lives_outside_the_file_tree(head: bytes, size: int, reasons: list[str]) -> None:
    from dcops.installer import layout

    assert layout.outside_the_tree(head, size) == reasons
