"""Replace a file whole: readers see the old content or the new, never half; the new content is
on disk before the name points at it; the file keeps its permissions."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from dcops.errors import InvalidInputError, Problem


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory.

    The temporary file is fsynced before the rename and the directory after it, so a crash leaves
    the old file or the new one. An existing file keeps its mode (``mkstemp`` makes 0600, which
    turned a shared 0644 book private); a new file gets 0666 less the umask, as ``open`` would.

    Raises ``InvalidInputError`` when the directory cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as exc:
        raise _cannot(path, exc) from None
    tmp = None
    try:
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.replace(tmp, path)
        tmp = None
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _cannot(path: Path, exc: OSError) -> InvalidInputError:
    reason = exc.strerror or str(exc)
    return InvalidInputError(f"{path}: cannot write: {reason}", [Problem(str(path), 0, f"cannot write: {reason}")])
