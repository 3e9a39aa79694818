"""The simulated installer: what a host booted from virtual media does with the media it was given.

It fetches every inserted image (loopback URLs only: the simulator never reaches further), opens
the images, finds the answer file the way the real installers do (Anaconda: ``ks.cfg`` on a volume
labelled ``OEMDRV``; cloud-init NoCloud for subiquity: ``user-data`` and ``meta-data`` on a volume
labelled ``CIDATA``), validates it with the real parsers (``dcops.installer.answers``), checks that
the install disk it names exists, and then calls the completion URLs of the answer file as its
``%post`` / ``late-commands`` would (``%onerror`` / ``error-commands`` on failure).

This module does the network I/O in worker threads; the state machine in ``dcops.sim.state``
applies the outcome on the simulator's loop.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import ipaddress
import logging
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dcops.errors import InvalidInputError
from dcops.installer import answers, bootcfg, media

log = logging.getLogger(__name__)
FETCH_TIMEOUT = 30.0
CALL_ATTEMPTS, CALL_DELAY = 5, 0.5
MAX_IMAGE = 64 * 1024 * 1024


@dataclass
class Disk:
    """A block device as the installed kernel would name it."""

    kernel: str  # sda, sdb, ...
    by_id: tuple[str, ...] = ()  # /dev/disk/by-id/... links
    serial: str = ""  # udev ID_SERIAL (what curtin's ``match: {serial: ...}`` compares)
    what: str = ""  # "volume OS (RAID1)", "virtual media"


@dataclass
class Outcome:
    """What the installer found; ``error`` is the installer's own message when it stopped."""

    source: str | None = None  # the image URL and file the answer came from
    facts: answers.Facts | None = None
    error: str | None = None
    fetched: list[dict[str, Any]] = field(default_factory=list)  # per URL: url, label, files or error
    disk: str | None = None  # the kernel name of the disk it installs onto
    boot_config: str | None = None  # the CD's boot configuration it booted with
    cmdline: list[str] | None = None  # its kernel arguments (None: a CD the simulator could not read)
    prompt: str | None = None  # a question on the console: the installer waits for someone to answer

    def answer(self) -> dict[str, Any]:
        """``install.answer`` of the control API."""
        if self.facts is None:
            return {"source": self.source, "kind": None, "valid": False,
                    "errors": [self.error] if self.error else [], "hostname": None, "addresses": [],
                    "cmdline": self.cmdline}
        return {"source": self.source, **self.facts.summary(), "disk": self.disk, "cmdline": self.cmdline,
                "prompt": self.prompt,
                **({"errors": [*self.facts.summary()["errors"], self.error]} if self.error else {})}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_pem: str | None) -> ssl.SSLContext:
    """What curl in the installer trusts: the CA given with ``--cacert`` (only it, as curl does),
    else the system's public CAs (which never include an operator's private CA)."""
    return ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()


def bmc_tls(verify: bool | None, certs: Sequence[str]) -> ssl.SSLContext:
    """How a BMC's virtual media client connects to an HTTPS image URL. ``VerifyCertificate``
    false/absent: it does not verify (iDRAC 9, iLO 5 with verification off, XCC 2.83's default
    ``VerifyCertificate: false``); true: only against the certificates imported into the slot's
    ``Certificates`` collection (none imported: every server fails, as on XCC)."""
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if certs:
        ctx.load_verify_locations(cadata="\n".join(certs))
    return ctx


def fetch(url: str, context: ssl.SSLContext | None = None) -> bytes:
    """GET an image from a loopback URL (HTTPS with ``context``), checking its
    ``Digest: sha-256=`` when the server sends one."""
    if not is_loopback(url):
        raise InvalidInputError("not fetched: the simulator fetches loopback URLs only")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT, context=context) as resp:  # noqa: S310 - loopback
        data: bytes = resp.read(MAX_IMAGE + 1)
        digest = resp.headers.get("Digest") or ""
    if len(data) > MAX_IMAGE:
        raise InvalidInputError("image too large for the simulated installer")
    for part in digest.split(","):
        algo, _, value = part.strip().partition("=")
        if algo.lower() == "sha-256" and value and base64.b64encode(hashlib.sha256(data).digest()).decode() != value:
            raise InvalidInputError("image does not match its Digest (sha-256)")
    return data


# The boot configuration the firmware's boot loader reads from the CD, in the order a UEFI boot
# finds them (RHEL's EFI/BOOT/grub.cfg, Ubuntu's boot/grub/grub.cfg), then the BIOS ones.
BOOT_ORDER = ("efi/boot/grub.cfg", "boot/grub/grub.cfg", "boot/grub2/grub.cfg", "isolinux/txt.cfg",
              "isolinux/isolinux.cfg")
AUTOINSTALL_PROMPT = "Continue with autoinstall? (yes|no)"


def boot_cmdline(cd: bytes) -> tuple[str | None, list[str] | None]:
    """(boot configuration, kernel arguments of its default entry) the CD boots with."""
    found = media.read_paths(cd, list(BOOT_ORDER))
    for path in BOOT_ORDER:
        if path in found:
            words = bootcfg.first_cmdline(found[path].decode("utf-8", "replace"), bootcfg.CONFIGS[path])
            if words is not None:
                return path, words
    return None, None


def _arg(words: Sequence[str], key: str) -> str | None:
    return next((w.split("=", 1)[1] for w in words if w.startswith(key + "=")), None)


def _from_cmdline(words: Sequence[str], cd: bytes | None, cd_url: str | None,
                  volumes: dict[str, tuple[str, media.Volume]]) -> tuple[str, str, str] | str | None:
    """The answer file the kernel arguments point at: (source, kind, text), an error (the
    installer's words) when they point at nothing, or None when they name none."""
    ks = _arg(words, "inst.ks") or _arg(words, "ks")
    if ks:
        if ks.startswith("cdrom:") and cd is not None:
            path = ks.removeprefix("cdrom:").lstrip("/")
            data = media.read_paths(cd, [path]).get(path)
            if data is not None:
                return f"{cd_url}#{path}", "kickstart", data.decode("utf-8", "replace")
        elif ks.startswith("hd:LABEL="):
            label, _, path = ks.removeprefix("hd:LABEL=").partition(":")
            for url, (_, vol) in volumes.items():
                if vol.label == label and path.lstrip("/") in vol.files:
                    return f"{url}#{path.lstrip('/')}", "kickstart", vol.files[path.lstrip("/")].decode("utf-8",
                                                                                                    "replace")
        return f"anaconda: cannot get kickstart file from {ks}: no such file"
    ds = _arg(words, "ds")
    if ds and ds.startswith("nocloud"):
        seed = next((p.split("=", 1)[1] for p in ds.split(";")[1:] if p.startswith(("s=", "seedfrom="))), None)
        if seed is None:
            return None  # ds=nocloud alone: cloud-init looks for a CIDATA volume
        where = seed.removeprefix("file://")
        if not where.startswith("/cdrom/") or cd is None:
            return f"cloud-init: NoCloud seed {seed} is not on the installer CD (the simulator reads only the CD)"
        folder = where.removeprefix("/cdrom/").strip("/")
        files = media.read_paths(cd, [f"{folder}/user-data", f"{folder}/meta-data"])
        if len(files) < 2:
            return f"cloud-init: NoCloud seed {seed}: user-data and meta-data not found"
        return f"{cd_url}#{folder}/user-data", "autoinstall", files[f"{folder}/user-data"].decode("utf-8", "replace")
    return None


def read_media(urls: Sequence[str], fetcher: Callable[[str], bytes] = fetch,
               cd_url: str | None = None) -> tuple[Outcome, str | None, str | None]:
    """Fetch and open every image; returns (outcome so far, answer kind, answer text).

    The installer booted from ``cd_url``: its boot configuration's kernel arguments come first
    (``inst.ks=`` for Anaconda; ``ds=nocloud;s=/cdrom/...`` for cloud-init), then the volumes by
    label (OEMDRV, CIDATA). A CD the simulator cannot read (a stock ISO on a real mirror) is a
    stock installer: no dcops arguments on its command line."""
    out = Outcome()
    volumes: dict[str, tuple[str, media.Volume]] = {}
    cd: bytes | None = None
    for url in urls:
        entry: dict[str, Any] = {"url": url}
        out.fetched.append(entry)
        try:
            data = fetcher(url)
            volume = media.read_image(data)
        except (InvalidInputError, OSError, urllib.error.URLError, ValueError) as exc:
            entry["error"] = str(getattr(exc, "reason", None) or exc)
            continue
        entry.update(label=volume.label, files=sorted(volume.files))
        volumes[url] = (url, volume)
        if url == cd_url:
            cd = data
            try:
                out.boot_config, out.cmdline = boot_cmdline(data)
            except InvalidInputError as exc:
                entry["error"] = str(exc)
    found: tuple[str, str, str] | None = None
    if out.cmdline:
        pointed = _from_cmdline(out.cmdline, cd, cd_url, volumes)
        if isinstance(pointed, str):
            out.error = pointed
            return out, None, None
        found = pointed
    for url, (_, volume) in volumes.items():
        label = volume.label.upper()
        if found is None and label == media.OEMDRV and "ks.cfg" in volume.files:
            found = (f"{url}#ks.cfg", "kickstart", volume.files["ks.cfg"].decode("utf-8", "replace"))
        elif found is None and label == media.CIDATA and {"user-data", "meta-data"} <= set(volume.files):
            found = (f"{url}#user-data", "autoinstall", volume.files["user-data"].decode("utf-8", "replace"))
    if found is None:
        out.error = ("no answer file: no volume labelled OEMDRV with ks.cfg, nor CIDATA with user-data and "
                     "meta-data; the installer waits for someone at its first screen")
        return out, None, None
    out.source = found[0]
    if found[1] == "autoinstall" and "autoinstall" not in (out.cmdline or []):
        # subiquity (22.04+) found an autoinstall config but the kernel command line lacks
        # ``autoinstall``: it asks before wiping disks and waits for a human, for ever.
        out.prompt = AUTOINSTALL_PROMPT
    return out, found[1], found[2]


def pick_disk(facts: answers.Facts, disks: Sequence[Disk]) -> tuple[Disk | None, str | None]:
    """The disk the answer names, as the installer resolves it; (None, error) when it names none
    or one that is not a volume (a kernel name like sda is whatever enumerated first)."""
    if not facts.disks:
        return None, "the answer file names no install disk (ignoredisk/clearpart, storage.layout.match)"
    for ref in facts.disks:
        for disk in disks:
            if ref in (disk.kernel, f"/dev/{disk.kernel}", *disk.by_id) or (
                    disk.serial and fnmatch.fnmatchcase(disk.serial, ref)):
                if disk.what.startswith("virtual media"):
                    return None, (f"disk {ref} is {disk.what} ({disk.kernel}), not a disk of this server: "
                                  "refusing to install onto the installation media")
                return disk, None
    names = ", ".join(f"{d.kernel} ({d.what})" for d in disks)
    return None, f"no disk matches {', '.join(facts.disks)} (disks: {names})"


def examine(urls: Sequence[str], disks: Sequence[Disk], fetcher: Callable[[str], bytes] = fetch,
            cd_url: str | None = None) -> Outcome:
    out, kind, text = read_media(urls, fetcher, cd_url)
    if kind is None or text is None:
        return out
    facts = answers.check(kind, text)
    out.facts = facts
    if not facts.valid:
        first = facts.problems[0]
        where = "kickstart" if kind == "kickstart" else "autoinstall"
        out.error = f"{where} file {out.source}: {first.describe()}"
        return out
    disk, error = pick_disk(facts, disks)
    out.disk = disk.kernel if disk else None
    out.error = error
    return out


def call(urls: Sequence[str], status: str, text: str, ca_pem: str | None = None) -> list[str]:
    """POST to each completion URL as ``curl -fsS [--cacert CA] -X POST --data-binary @- URL?status=...``
    does; returns the errors (a failing call fails the %post / late-command). HTTPS is verified
    against ``ca_pem`` (the answer's ``--cacert``) or the public CAs, never skipped."""
    errors = []
    context = tls_context(ca_pem)
    for url in urls:
        target = url if "status=" in url else f"{url}{'&' if '?' in url else '?'}status={status}"
        if not is_loopback(target):
            errors.append(f"curl: not called: {urlsplit(target).hostname} is not loopback (simulator)")
            continue
        if ("status=ok" in target) != (status == "ok"):
            continue  # a URL of the other outcome
        for attempt in range(CALL_ATTEMPTS):  # curl --retry N --retry-connrefused
            try:
                req = urllib.request.Request(target, data=text.encode(), method="POST")
                with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT, context=context):  # noqa: S310 - loopback
                    pass
                break
            except ssl.SSLCertVerificationError as exc:
                # curl does not retry a certificate it cannot verify: exit 60, the installer's words.
                errors.append(f"curl: (60) SSL certificate problem: {exc.verify_message or exc}")
                break
            except urllib.error.HTTPError as exc:
                errors.append(f"curl: (22) The requested URL returned error: {exc.code}")
                break
            except (urllib.error.URLError, OSError) as exc:
                if isinstance(getattr(exc, "reason", None), ssl.SSLCertVerificationError):
                    reason = exc.reason  # type: ignore[attr-defined]
                    errors.append(f"curl: (60) SSL certificate problem: {reason.verify_message or reason}")
                    break
                if attempt == CALL_ATTEMPTS - 1:
                    errors.append(f"curl: (7) Failed to connect: {getattr(exc, 'reason', exc)}")
                else:
                    time.sleep(CALL_DELAY)
    return errors


def spawn(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="dcops-sim-installer", daemon=True).start()
