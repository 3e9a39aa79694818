"""The stock installer ISO on local disk, for building per-host installer ISOs from it.

``installer.source`` is a local path, or an http(s) URL (``installer.iso`` by default) that is
downloaded once into a cache folder (``<media-dir>/_stock``) and checked against
``installer.sha256`` when the baseline gives one. A download goes to a ``.part`` file renamed
when complete, so an interrupted run never takes a truncated ISO for the real one.
"""

from __future__ import annotations

import hashlib
import threading
import urllib.error
import urllib.request
from pathlib import Path

from dcops.errors import InvalidInputError, UnreachableError

_CHUNK = 1024 * 1024
_lock = threading.Lock()  # hosts of one run share the download
_verified: dict[tuple[str, float, int], str] = {}  # (path, mtime, size) -> sha256 already computed


def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _verified:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(_CHUNK):
                digest.update(block)
        _verified[key] = digest.hexdigest()
    return _verified[key]


def local_copy(source: str, cache: Path, sha256: str | None = None, *, timeout: float = 60.0) -> Path:
    """The stock ISO as a local file (downloaded into ``cache`` when ``source`` is a URL)."""
    if not source.startswith(("http://", "https://")):
        path = Path(source)
        if not path.is_file():
            raise InvalidInputError(f"installer.source {source}: no such file")
    else:
        name = hashlib.sha256(source.encode()).hexdigest()[:24] + ".iso"
        path = cache / name
        with _lock:
            if not path.is_file():
                cache.mkdir(parents=True, exist_ok=True)
                part = path.with_suffix(".part")
                try:
                    with urllib.request.urlopen(source, timeout=timeout) as resp, part.open("wb") as out:  # noqa: S310
                        while block := resp.read(_CHUNK):
                            out.write(block)
                except (urllib.error.URLError, OSError) as exc:
                    part.unlink(missing_ok=True)
                    reason = getattr(exc, "reason", None) or exc
                    raise UnreachableError(f"installer ISO {source}: download failed: {reason}") from exc
                part.replace(path)
    if sha256:
        with _lock:
            got = _sha256(path)
        if got != sha256.lower():
            raise InvalidInputError(f"installer ISO {source}: SHA-256 {got} is not installer.sha256 {sha256.lower()}")
    return path
