"""Remastering with xorriso: the only module that runs it.

The documented way to change files of an Ubuntu or RHEL installer ISO and keep every boot path
(Ubuntu's "Modifying an ISO", Lorax's mkksiso) is ``xorriso -indev stock.iso -outdev new.iso
-map file /path ... -boot_image any replay``: xorriso reads the El Torito catalog and the system
area of the stock image, and writes them again with the block addresses of the new image (the
isohybrid MBR and GPT entries of RHEL's efiboot.img, Ubuntu's appended EFI partition and its GPT).
xorriso is an explicit dependency of per-host ISOs for such images (Debian/Ubuntu package
``xorriso``); without it dcops refuses with that name rather than write an ISO that cannot boot.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dcops.errors import InvalidInputError

INSTALL_HINT = "install xorriso (Debian/Ubuntu: apt install xorriso; RHEL: dnf install xorriso)"
_TIMEOUT = 1800.0  # a 3 GB DVD image is copied in tens of seconds; minutes on a slow disk


def path() -> str | None:
    return shutil.which("xorriso")


def remaster(source: str, dest: str, files: Mapping[str, bytes], *, why: str, joliet: bool = False) -> None:
    """Write ``dest``: ``source`` with ``files`` (ISO paths as Rock Ridge shows them) added or
    replaced and the boot layout replayed. ``why`` says what the stock image carries that
    needs this (for the error when xorriso is missing). ``joliet``: the stock image has a Joliet
    tree, which xorriso writes again only when asked (Windows-side tools read those names)."""
    exe = path()
    if exe is None:
        raise InvalidInputError(f"installer ISO {source} carries {why}: dcops keeps that only by remastering "
                                f"with xorriso, which is not installed here: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="dcops-remaster-") as tmp:
        # SORRY events (a boot image it cannot keep) end the run with exit 32, as by default.
        cmd = [exe, "-no_rc", "-abort_on", "FAILURE",
               "-indev", source, "-outdev", dest, "-boot_image", "any", "replay"]
        if joliet:
            cmd += ["-joliet", "on"]
        for index, (iso_path, data) in enumerate(sorted(files.items())):
            local = Path(tmp) / str(index)
            local.write_bytes(data)
            cmd += ["-map", str(local), "/" + iso_path.strip("/")]
        cmd += ["-commit"]
        Path(dest).unlink(missing_ok=True)  # -outdev on an existing image would add a session to it
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT, check=False)  # noqa: S603
        except subprocess.TimeoutExpired as exc:
            raise InvalidInputError(f"installer ISO {source}: xorriso did not finish in {_TIMEOUT:.0f} s") from exc
        if done.returncode != 0:
            tail = [ln for ln in done.stderr.splitlines() if any(w in ln for w in ("FAILURE", "SORRY", "FATAL"))]
            Path(dest).unlink(missing_ok=True)
            raise InvalidInputError(f"installer ISO {source}: xorriso could not remaster it (exit "
                                    f"{done.returncode}): {'; '.join(tail[-3:]) or done.stderr.strip()[-300:]}")
