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
