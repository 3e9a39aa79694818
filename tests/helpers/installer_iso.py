"""Small installer ISOs with the layout of the real ones (built with pycdlib, a few kilobytes):
what dcops remasters in the tests, with the boot configurations of the stock images.

Ubuntu 22.04 live-server: ``boot/grub/grub.cfg`` (the "Try or Install Ubuntu Server" entry,
``linux /casper/vmlinuz  ---``), ``boot/grub/loopback.cfg``, El Torito BIOS boot from
``boot/grub/i386-pc/eltorito.img``. Ubuntu 20.04 adds ``isolinux/txt.cfg``. RHEL 9:
``EFI/BOOT/grub.cfg`` (``linuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=... quiet``) and
``isolinux/isolinux.cfg`` (``append initrd=initrd.img inst.stage2=... quiet``)."""

from __future__ import annotations

import io
from pathlib import Path

UBUNTU_GRUB = """set timeout=30

loadfont unicode

set menu_color_normal=white/black
set menu_color_highlight=black/light-gray

menuentry "Try or Install Ubuntu Server" {
\tset gfxpayload=keep
\tlinux\t/casper/vmlinuz  ---
\tinitrd\t/casper/initrd
}
menuentry "Ubuntu Server with the HWE kernel" {
\tset gfxpayload=keep
\tlinux\t/casper/hwe-vmlinuz  ---
\tinitrd\t/casper/hwe-initrd
}
grub_platform
if [ "$grub_platform" = "efi" ]; then
menuentry 'Boot from next volume' {
\texit 1
}
menuentry 'UEFI Firmware Settings' {
\tfwsetup
}
else
menuentry 'Test memory' {
\tlinux16 /boot/memtest86+.bin
}
fi
"""

UBUNTU_LOOPBACK = """menuentry "Try or Install Ubuntu Server" {
\tset gfxpayload=keep
\tlinux\t/casper/vmlinuz  iso-scan/filename=${iso_path} ---
\tinitrd\t/casper/initrd
}
"""

UBUNTU_TXT = """default live
label live
  menu label ^Install Ubuntu Server
  kernel /casper/vmlinuz
  append   initrd=/casper/initrd quiet  ---
"""

RHEL_LABEL = "RHEL-9-4-0-BaseOS-x86_64"
RHEL_GRUB = f"""set default="1"

function load_video {{
  insmod all_video
}}

set timeout=60
search --no-floppy --set=root -l '{RHEL_LABEL}'

menuentry 'Install Red Hat Enterprise Linux 9.4' --class fedora --class gnu-linux --class gnu --class os {{
\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL={RHEL_LABEL} quiet
\tinitrdefi /images/pxeboot/initrd.img
}}
menuentry 'Test this media & install Red Hat Enterprise Linux 9.4' --class fedora --class gnu-linux {{
\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL={RHEL_LABEL} rd.live.check quiet
\tinitrdefi /images/pxeboot/initrd.img
}}
"""
RHEL_ISOLINUX = f"""default vesamenu.c32
timeout 600

label linux
  menu label ^Install Red Hat Enterprise Linux 9.4
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL={RHEL_LABEL} quiet

label check
  menu label Test this ^media & install Red Hat Enterprise Linux 9.4
  menu default
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL={RHEL_LABEL} rd.live.check quiet
"""


def _d1(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.upper())


def _build(dest: Path, label: str, files: dict[str, bytes], boot: str) -> Path:
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=label[:16])
    # Joliet's volume label holds 16 characters, ISO 9660's 32: the stock images' labels are longer.
    iso.pvd.volume_identifier = label.encode().ljust(32)
    dirs: set[str] = set()
    for path, data in sorted(files.items()):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            d = "/".join(parts[:depth])
            if d not in dirs:
                dirs.add(d)
                iso.add_directory(iso_path="/" + "/".join(_d1(x) for x in d.split("/")), rr_name=parts[depth - 1],
                                  joliet_path="/" + d)
        iso_path = "/" + "/".join(_d1(x) for x in parts[:-1] + [""])[:-1]
        stem, dot, ext = parts[-1].rpartition(".")
        iso_path = (iso_path.rstrip("/") + "/" + (f"{_d1(stem)}.{_d1(ext)}" if dot and stem else _d1(parts[-1]))
                    + ";1")
        iso.add_fp(io.BytesIO(data), len(data), iso_path, rr_name=parts[-1], joliet_path="/" + path)
    # BIOS El Torito boot record (no emulation), as the stock images have.
    stem, _, ext = boot.rpartition(".")
    iso.add_eltorito("/" + "/".join(_d1(x) for x in stem.split("/")) + "." + _d1(ext) + ";1", "/BOOT.CAT;1", media_name="noemul", boot_load_size=4)
    iso.write(str(dest))
    iso.close()
    return dest


def ubuntu_iso(dest: Path, *, release: str = "22.04") -> Path:
    files = {"boot/grub/grub.cfg": UBUNTU_GRUB.encode(), "boot/grub/loopback.cfg": UBUNTU_LOOPBACK.encode(),
             "boot/grub/i386-pc/eltorito.img": b"\xeb" + bytes(2047), "casper/vmlinuz": b"kernel",
             "casper/initrd": b"initrd", ".disk/info": f"Ubuntu-Server {release} LTS".encode()}
    if release.startswith("20."):
        files["isolinux/txt.cfg"] = UBUNTU_TXT.encode()
    return _build(dest, f"Ubuntu-Server {release} LTS amd64"[:32], files, "boot/grub/i386-pc/eltorito.img")


def rhel_iso(dest: Path) -> Path:
    files = {"EFI/BOOT/grub.cfg": RHEL_GRUB.encode(), "isolinux/isolinux.cfg": RHEL_ISOLINUX.encode(),
             "isolinux/isolinux.bin": b"\xeb" + bytes(2047), "images/pxeboot/vmlinuz": b"kernel",
             "images/pxeboot/initrd.img": b"initrd", ".treeinfo": b"[general]\nname = RHEL-9.4\n"}
    return _build(dest, RHEL_LABEL, files, "isolinux/isolinux.bin")


# ------------------------------------------------------------------ layouts of the real images
# Stand-ins built by xorriso with the options the distributions build with, so the boot paths that
# live outside the file tree are there to lose. Checked against `xorriso -report_el_torito
# as_mkisofs` of the real images as published:
# * Ubuntu 22.04/24.04 live-server (livecd-rootfs): --grub2-mbr, --protective-msdos-label,
#   -partition_offset 16, --mbr-force-bootable, -append_partition 2 28732ac1... (EFI System) with
#   -appended_part_as_gpt, -iso_mbr_part_type a2a0d0eb..., -c /boot.catalog,
#   -b /boot/grub/i386-pc/eltorito.img -no-emul-boot -boot-load-size 4 -boot-info-table
#   --grub2-boot-info, -eltorito-alt-boot -e --interval:appended_partition_2:all:: -no-emul-boot.
#   Ubuntu's signed EFI grub finds the ISO by /.disk/info and reads boot/grub/grub.cfg from the
#   tree, so the appended FAT holds boot loaders only.
# * RHEL 8/9 (Lorax mkksiso, Xorrisofs_x86_64): -R -J -joliet-long -isohybrid-mbr isohdpfx.bin
#   -b isolinux/isolinux.bin -c isolinux/boot.cat -boot-load-size 4 -boot-info-table
#   -no-emul-boot -eltorito-alt-boot -e images/efiboot.img -no-emul-boot -isohybrid-gpt-basdat;
#   efiboot.img is a FAT made by mkefiboot from EFI/BOOT, grub.cfg included.
# Needs apt packages xorriso, mtools (FAT images) and isolinux (isolinux.bin, isohdpfx.bin).

ISOLINUX = Path("/usr/lib/ISOLINUX")
EFI_GUID = "28732ac11ff8d211ba4b00a0c93ec93b"  # EFI System Partition, as xorriso writes GUIDs
ISO_GPT_TYPE = "a2a0d0ebe5b9334487c068b6b72699c7"  # "Basic data", Ubuntu's -iso_mbr_part_type


def fat_image(dest: Path, files: dict[str, bytes], label: str = "EFI") -> bytes:
    """A 1.44 MB FAT image holding ``files`` (made with mtools, as small as Lorax's efiboot.img)."""
    import os
    import subprocess

    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "MTOOLSRC": os.devnull}
    subprocess.run(["mformat", "-i", str(dest), "-C", "-f", "1440", "-v", label, "::"], check=True, env=env)
    made: set[str] = set()
    for path, data in sorted(files.items()):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            d = "/".join(parts[:depth])
            if d not in made:
                made.add(d)
                subprocess.run(["mmd", "-i", str(dest), "::" + d], check=True, env=env)
        local = dest.with_name(dest.name + ".f")
        local.write_bytes(data)
        subprocess.run(["mcopy", "-i", str(dest), str(local), "::" + path], check=True, env=env)
        local.unlink()
    return dest.read_bytes()


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


def _xorrisofs(args: list[str]) -> None:
    import subprocess

    subprocess.run(["xorriso", "-no_rc", "-as", "mkisofs", *args], check=True, capture_output=True)


def ubuntu_hybrid_iso(dest: Path, *, release: str = "22.04") -> tuple[Path, bytes]:
    """(the image, the bytes of its appended EFI partition)."""
    work = dest.with_name(dest.name + ".d")
    tree = work / "tree"
    _tree(tree, {"boot/grub/grub.cfg": UBUNTU_GRUB.encode(), "boot/grub/loopback.cfg": UBUNTU_LOOPBACK.encode(),
                 # grub's --grub2-boot-info patches the image at byte 2548: the real one is ~30 KB
                 "boot/grub/i386-pc/eltorito.img": b"\xeb\x63\x90" + bytes(8189),
                 "casper/vmlinuz": b"kernel" * 1000, "casper/initrd": b"initrd" * 1000,
                 ".disk/info": f"Ubuntu-Server {release} LTS".encode()})
    efi = fat_image(work / "efi.img", {"EFI/boot/bootx64.efi": b"MZ shim" + bytes(4000),
                                       "EFI/boot/grubx64.efi": b"MZ grub" + bytes(4000)})
    mbr = work / "boot_hybrid.img"
    mbr.write_bytes(b"\xeb\x63\x90" + bytes(437))  # grub's boot_hybrid.img is 440 bytes of boot code
    _xorrisofs(["-V", f"Ubuntu-Server {release} LTS amd64", "-o", str(dest), "-r", "-J", "-joliet-long",
                "-iso-level", "3", "--grub2-mbr", str(mbr), "--protective-msdos-label", "-partition_offset", "16",
                "--mbr-force-bootable", "-append_partition", "2", EFI_GUID, str(work / "efi.img"),
                "-appended_part_as_gpt", "-iso_mbr_part_type", ISO_GPT_TYPE, "-c", "/boot.catalog",
                "-b", "/boot/grub/i386-pc/eltorito.img", "-no-emul-boot", "-boot-load-size", "4",
                "-boot-info-table", "--grub2-boot-info", "-eltorito-alt-boot",
                "-e", "--interval:appended_partition_2:all::", "-no-emul-boot", str(tree)])
    return dest, efi


def rhel_hybrid_iso(dest: Path) -> Path:
    work = dest.with_name(dest.name + ".d")
    tree = work / "tree"
    _tree(tree, {"EFI/BOOT/grub.cfg": RHEL_GRUB.encode(), "EFI/BOOT/BOOTX64.EFI": b"MZ shim" + bytes(4000),
                 "isolinux/isolinux.cfg": RHEL_ISOLINUX.encode(),
                 "isolinux/isolinux.bin": (ISOLINUX / "isolinux.bin").read_bytes(),
                 "images/pxeboot/vmlinuz": b"kernel" * 1000, "images/pxeboot/initrd.img": b"initrd" * 1000,
                 ".treeinfo": b"[general]\nname = RHEL-9.4\n"})
    efiboot = fat_image(work / "efiboot.img", {"EFI/BOOT/grub.cfg": RHEL_GRUB.encode(),
                                               "EFI/BOOT/BOOTX64.EFI": b"MZ shim" + bytes(4000)}, "ANACONDA")
    (tree / "images/efiboot.img").write_bytes(efiboot)
    _xorrisofs(["-o", str(dest), "-R", "-J", "-V", RHEL_LABEL, "-joliet-long",
                "-isohybrid-mbr", str(ISOLINUX / "isohdpfx.bin"), "-b", "isolinux/isolinux.bin",
                "-c", "isolinux/boot.cat", "-boot-load-size", "4", "-boot-info-table", "-no-emul-boot",
                "-eltorito-alt-boot", "-e", "images/efiboot.img", "-no-emul-boot", "-isohybrid-gpt-basdat",
                str(tree)])
    return dest
