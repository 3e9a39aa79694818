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
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dcops.errors import InvalidInputError
from dcops.installer import answers, media

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

    def answer(self) -> dict[str, Any]:
        """``install.answer`` of the control API."""
        if self.facts is None:
            return {"source": self.source, "kind": None, "valid": False,
                    "errors": [self.error] if self.error else [], "hostname": None, "addresses": []}
        return {"source": self.source, **self.facts.summary(), "disk": self.disk,
                **({"errors": [*self.facts.summary()["errors"], self.error]} if self.error else {})}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch(url: str) -> bytes:
    """GET an image from a loopback URL, checking its ``Digest: sha-256=`` when the server sends one."""
    if not is_loopback(url):
        raise InvalidInputError("not fetched: the simulator fetches loopback URLs only")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as resp:  # noqa: S310 - loopback http only
        data: bytes = resp.read(MAX_IMAGE + 1)
        digest = resp.headers.get("Digest") or ""
    if len(data) > MAX_IMAGE:
        raise InvalidInputError("image too large for the simulated installer")
    for part in digest.split(","):
        algo, _, value = part.strip().partition("=")
        if algo.lower() == "sha-256" and value and base64.b64encode(hashlib.sha256(data).digest()).decode() != value:
            raise InvalidInputError("image does not match its Digest (sha-256)")
    return data


def read_media(urls: Sequence[str], fetcher: Callable[[str], bytes] = fetch) -> tuple[Outcome, str | None, str | None]:
    """Fetch and open every image; returns (outcome so far, answer kind, answer text)."""
    out = Outcome()
    found: tuple[str, str, str] | None = None
    for url in urls:
        entry: dict[str, Any] = {"url": url}
        out.fetched.append(entry)
        try:
            volume = media.read_image(fetcher(url))
        except (InvalidInputError, OSError, urllib.error.URLError, ValueError) as exc:
            entry["error"] = str(getattr(exc, "reason", None) or exc)
            continue
        entry.update(label=volume.label, files=sorted(volume.files))
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


def examine(urls: Sequence[str], disks: Sequence[Disk], fetcher: Callable[[str], bytes] = fetch) -> Outcome:
    out, kind, text = read_media(urls, fetcher)
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


def call(urls: Sequence[str], status: str, text: str) -> list[str]:
    """POST to each completion URL as ``curl -fsS -X POST --data-binary @- URL?status=...`` does;
    returns the errors (a failing call fails the %post / late-command)."""
    errors = []
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
                with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT):  # noqa: S310 - loopback http only
                    pass
                break
            except urllib.error.HTTPError as exc:
                errors.append(f"curl: (22) The requested URL returned error: {exc.code}")
                break
            except (urllib.error.URLError, OSError) as exc:
                if attempt == CALL_ATTEMPTS - 1:
                    errors.append(f"curl: (7) Failed to connect: {getattr(exc, 'reason', exc)}")
                else:
                    time.sleep(CALL_DELAY)
    return errors


def spawn(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="dcops-sim-installer", daemon=True).start()
