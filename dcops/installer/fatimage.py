"""Files inside a FAT boot image (RHEL's ``images/efiboot.img``): the only module that runs mtools.

Lorax builds efiboot.img from the ISO's ``EFI/BOOT`` folder, grub.cfg included, and its
``mkksiso`` rebuilds the image after editing ``EFI/BOOT/grub.cfg`` so that the EFI boot path sees
the same kernel arguments as the file tree. dcops edits the one file in place with mtools
(``mtype``/``mcopy``, Debian/Ubuntu package ``mtools``): the image keeps its size, so the El Torito
entry and the hybrid GPT/MBR partition that point at it stay valid once xorriso re-places it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from dcops.errors import InvalidInputError

INSTALL_HINT = "install mtools (Debian/Ubuntu: apt install mtools; RHEL: dnf install mtools)"
_TIMEOUT = 120.0


def _tool(name: str, what: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise InvalidInputError(f"{what}: dcops edits the grub.cfg inside this FAT boot image with mtools, "
                                f"which is not installed here: {INSTALL_HINT}")
    return exe


def _run(cmd: list[str]) -> subprocess.CompletedProcess[bytes]:
    # mtools refuses images whose size is not a whole number of tracks unless told not to check,
    # and reads ~/.mtoolsrc: neither should change what dcops writes.
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "MTOOLSRC": os.devnull}
    return subprocess.run(cmd, capture_output=True, timeout=_TIMEOUT, check=False, env=env)  # noqa: S603


def read_file(image: bytes, path: str, *, what: str) -> bytes | None:
    """The file at ``path`` (case-insensitive, as FAT is) in the FAT image, None when absent."""
    exe = _tool("mtype", what)
    with tempfile.TemporaryDirectory(prefix="dcops-fat-") as tmp:
        img = Path(tmp) / "fat.img"
        img.write_bytes(image)
        done = _run([exe, "-i", str(img), "::" + path.strip("/")])
        if done.returncode != 0:
            if b"not found" in done.stderr:
                return None
            raise InvalidInputError(f"{what}: not a FAT image mtools can read: "
                                    f"{done.stderr.decode(errors='replace').strip()[-200:]}")
        return done.stdout


def replace_file(image: bytes, path: str, data: bytes, *, what: str) -> bytes:
    """The FAT image with the file at ``path`` replaced by ``data``; same image size."""
    exe = _tool("mcopy", what)
    with tempfile.TemporaryDirectory(prefix="dcops-fat-") as tmp:
        img, new = Path(tmp) / "fat.img", Path(tmp) / "new"
        img.write_bytes(image)
        new.write_bytes(data)
        done = _run([exe, "-o", "-i", str(img), str(new), "::" + path.strip("/")])
        if done.returncode != 0:
            raise InvalidInputError(f"{what}: mtools could not write {path}: "
                                    f"{done.stderr.decode(errors='replace').strip()[-200:]}")
        return img.read_bytes()
