"""Installer boot configurations: reading and extending the kernel command lines (pure: text in,
text out).

Where the stock installer ISOs keep them (ISO 9660 paths, lower-case as Rock Ridge shows them):

* Ubuntu live-server 20.04+: ``boot/grub/grub.cfg`` (UEFI, and BIOS from 22.04),
  ``boot/grub/loopback.cfg``, and on 20.04 ``isolinux/txt.cfg`` (BIOS). Entries are
  ``linux /casper/vmlinuz ... ---``; what follows ``---`` is copied to the installed system's
  command line, so installer-only arguments go before it.
* RHEL / Rocky / Alma 8-9: ``EFI/BOOT/grub.cfg`` (``linuxefi /images/pxeboot/vmlinuz
  inst.stage2=hd:LABEL=... quiet``), ``isolinux/isolinux.cfg`` (``append initrd=initrd.img ...``)
  and, from 9.4, ``boot/grub2/grub.cfg`` for BIOS.

grub splits a line into words like a shell: a ``;`` ends the command unless escaped, so
``ds=nocloud;s=/cdrom/nocloud/`` is written ``ds=nocloud\\;s=/cdrom/nocloud/`` in grub.cfg (as
Ubuntu's autoinstall documentation writes it) and as is in isolinux's ``append`` lines.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

# Paths (lower case, no leading slash) of the boot configurations dcops edits, and their syntax.
CONFIGS: dict[str, str] = {
    "boot/grub/grub.cfg": "grub",
    "boot/grub/loopback.cfg": "grub",
    "boot/grub2/grub.cfg": "grub",
    "efi/boot/grub.cfg": "grub",
    "isolinux/txt.cfg": "isolinux",
    "isolinux/isolinux.cfg": "isolinux",
}

_GRUB_KERNEL = re.compile(r"^(\s*)(linux|linuxefi)(\s+)(\S+)(.*?)(\s*)$")
_ISOLINUX_APPEND = re.compile(r"^(\s*)(append)(\s+)(.*?)(\s*)$", re.IGNORECASE)
_SEPARATOR = "---"


@dataclass(frozen=True)
class Edited:
    text: str
    lines: int  # kernel lines changed


def _grub_word(arg: str) -> str:
    return re.sub(r"([;&|<>\\\"' $])", r"\\\1", arg)


def _insert(words_text: str, args: list[str]) -> str:
    """``args`` before a ``---`` separator when there is one, else at the end; arguments already
    present are not added twice (a resumed remaster, or an ISO already prepared)."""
    padded = f" {words_text} "
    if f" {_SEPARATOR} " in padded:
        head, tail = padded.split(f" {_SEPARATOR} ", 1)
        return " ".join(p for p in (head.strip(), *args, _SEPARATOR, tail.strip()) if p)
    return f"{words_text.rstrip()} {' '.join(args)}".strip()


def add_kernel_args(text: str, syntax: str, args: list[str]) -> Edited:
    """Every kernel line of a boot configuration with ``args`` added (once)."""
    out, changed = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        end = line[len(body):]
        if syntax == "grub":
            m = _GRUB_KERNEL.match(body)
            if m:
                have = set(cmdline_words(m.group(5), "grub"))
                new = [_grub_word(a) for a in args if a not in have]
                if new:
                    body = f"{m.group(1)}{m.group(2)}{m.group(3)}{m.group(4)} {_insert(m.group(5).strip(), new)}"
                    changed += 1
        else:
            m = _ISOLINUX_APPEND.match(body)
            if m:
                have = set(cmdline_words(m.group(4), "isolinux"))
                new = [a for a in args if a not in have]
                if new:
                    body = f"{m.group(1)}{m.group(2)}{m.group(3)}{_insert(m.group(4), new)}"
                    changed += 1
        out.append(body + end)
    return Edited("".join(out), changed)


def cmdline_words(text: str, syntax: str) -> list[str]:
    """The words of a kernel line's arguments as the kernel receives them."""
    if syntax == "grub":
        try:
            return shlex.split(text, comments=False, posix=True)
        except ValueError:
            return text.split()
    return text.split()


def first_cmdline(text: str, syntax: str) -> list[str] | None:
    """The arguments of the first kernel line (the default menu entry of the stock ISOs: Ubuntu's
    "Try or Install Ubuntu Server", RHEL's "Install"; RHEL's isolinux default is "Test this
    media & install", whose line comes second, but it carries the same arguments plus
    rd.live.check). None when the file has none."""
    for line in text.splitlines():
        if syntax == "grub":
            m = _GRUB_KERNEL.match(line)
            if m:
                return cmdline_words(m.group(5), "grub")
        else:
            m = _ISOLINUX_APPEND.match(line)
            if m:
                return [w for w in cmdline_words(m.group(4), "isolinux") if not w.startswith("initrd=")]
    return None
