"""What a stock installer ISO carries outside its ISO 9660 file tree (pure: bytes in, reasons out).

pycdlib rewrites an image from its file tree: it keeps El Torito entries that point at files, but
it writes a zeroed system area (the first 32 KiB) and stops at the end of the ISO 9660 volume. The
real installer ISOs keep boot paths exactly there (checked with ``xorriso -report_el_torito
as_mkisofs`` / ``-report_system_area`` on stand-ins built with the distributions' own options,
tests/helpers/installer_iso.py):

* Ubuntu 22.04/24.04 live-server (livecd-rootfs, xorriso): a grub2 MBR with a protective MBR and a
  GPT (``--grub2-mbr``, ``-partition_offset 16``), and the EFI El Torito entry pointing at an
  *appended partition* (``-append_partition 2 0xef``, ``-e --interval:appended_partition_2...``)
  that lies after the ISO 9660 volume. Lose it and UEFI hosts never boot the installer; lose the
  MBR/GPT and a BMC presenting the image as a USB stick (removable disk) cannot boot it either.
* RHEL/Rocky/Alma 8-9 (Lorax): isolinux's isohybrid MBR and a GPT whose EFI partition entry points
  at ``images/efiboot.img`` by block address (``-isohybrid-mbr``, ``-isohybrid-gpt-basdat``): a
  rewrite that moves the file leaves the partition entry pointing at the wrong blocks.

An image with none of these (plain El Torito, as pycdlib itself writes) is remastered by pycdlib;
one with any of them needs a writer that replays the boot layout (xorriso ``-boot_image any
replay``), dcops/installer/xorriso.py.
"""

from __future__ import annotations

import struct

SECTOR = 2048
SYSTEM_AREA = 16 * SECTOR
HEAD = SYSTEM_AREA + SECTOR  # the system area and the Primary Volume Descriptor


# The EFI System Partition's type GUID as stored on disk (mixed endian).
_ESP = bytes.fromhex("28732ac11ff8d211ba4b00a0c93ec93b")


def _gpt_has_esp(head: bytes) -> bool:
    """Whether the GPT's entries (when they lie in ``head``) include an EFI System Partition:
    Ubuntu's appended partition, which lies after the ISO 9660 volume."""
    if len(head) < 512 + 88:
        return False
    entries_lba, count, size = struct.unpack_from("<QII", head, 512 + 72)
    start = entries_lba * 512
    if not 0 < size <= 512 or start + size > len(head):
        return False
    return any(head[start + i * size:start + i * size + 16] == _ESP
               for i in range(min(count, (len(head) - start) // size)))


def outside_the_tree(head: bytes, file_size: int) -> list[str]:
    """Why the image at hand has boot data a file-tree rewrite loses (empty: nothing).
    ``head`` is the image's first ``HEAD`` bytes (less when the file is shorter)."""
    reasons: list[str] = []
    mbr = head[:512]
    if len(mbr) == 512 and mbr[510:512] == b"\x55\xaa":
        parts = [mbr[446 + 16 * i: 462 + 16 * i] for i in range(4)]
        types = [p[4] for p in parts if any(p)]
        if types:
            reasons.append("an MBR partition table (hybrid boot as a disk, partition types "
                           + ", ".join(f"0x{t:02x}" for t in types) + ")")
        else:
            reasons.append("MBR boot code in the system area")
    if head[512:520] == b"EFI PART":
        reasons.append("a GPT with an EFI system partition" if _gpt_has_esp(head) else "a GPT")
    elif not reasons and any(head[:SYSTEM_AREA]):
        reasons.append("boot data in the system area (the first 32 KiB)")
    pvd = head[SYSTEM_AREA:SYSTEM_AREA + SECTOR]
    if len(pvd) == SECTOR and pvd[:6] == b"\x01CD001":
        blocks = struct.unpack_from("<I", pvd, 80)[0]
        block_size = struct.unpack_from("<H", pvd, 128)[0] or SECTOR
        volume = blocks * block_size
        # xorriso pads an image to a multiple of 32 KiB or with 300 KiB of zeros; only a
        # partition appended after the volume matters, and it is larger than that padding.
        if file_size - volume > 300 * 1024 + SYSTEM_AREA:
            reasons.append(f"{file_size - volume} bytes after the ISO 9660 volume (an appended partition, "
                           "as Ubuntu's EFI boot image is)")
    return reasons
