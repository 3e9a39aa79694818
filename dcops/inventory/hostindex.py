"""An index of the last book that loaded cleanly: one host by name without reading the book.

``bmc show HOST`` and ``power status HOST`` read one host, yet loading and checking a book costs in
proportion to its size (0.24 s CPU at 1,000 hosts, 1.7 s at 5,000). After a clean load the hosts
are written to an SQLite file keyed by the book's files (path, size, mtime, ctime, inode) and the
dcops version; a later command naming hosts by name finds its hosts there when every file is as it
was. The check costs one ``stat`` per file, not per host. Any change to any file misses the index
and takes the full load (which rewrites it), so a command never acts on a stale book.

Not indexed, on purpose: a book with ``plain:`` password references (the index would copy a secret
into another file) and a book with warnings (they must be shown each time; the full load does).
The index lives under ``$DCOPS_CACHE_DIR`` or ``$XDG_CACHE_HOME/dcops`` (``~/.cache/dcops``), in a
directory only its owner may enter; an index file not owned by this user is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import sqlite3
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

import dcops
from dcops.inventory.book import Inventory
from dcops.inventory.loader import find_inventory_files
from dcops.models import Host

log = logging.getLogger(__name__)
FORMAT = 1  # bump when Host's pickled form changes in a way a same-version index cannot carry


def cache_dir() -> Path:
    base = os.environ.get("DCOPS_CACHE_DIR")
    if base:
        return Path(base) / "books"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "dcops" / "books"


def book_key(paths: Sequence[str | Path]) -> tuple[str, str] | None:
    """(which book, which state of it): a name for the set of paths, and a digest of every file's
    identity and stamps. None when the paths cannot be listed (the full load reports why)."""
    files, problems = find_inventory_files(paths)
    if problems or not files:
        return None
    which = hashlib.sha256("\0".join(str(Path(p).resolve()) for p in paths).encode()).hexdigest()[:16]
    state = hashlib.sha256(f"{FORMAT}\0{dcops.__version__}".encode())
    for path in files:
        try:
            st = path.stat()
        except OSError:
            return None
        state.update(f"\0{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}".encode())
    return which, state.hexdigest()[:32]


def _index_file(key: tuple[str, str]) -> Path:
    return cache_dir() / f"{key[0]}-{key[1]}.sqlite"


def _trusted(path: Path) -> bool:
    """Our own file in our own private directory (pickles from anyone else are not read)."""
    try:
        st, dst = path.stat(), path.parent.stat()
    except OSError:
        return False
    private = not (st.st_mode | dst.st_mode) & (stat.S_IWGRP | stat.S_IWOTH)
    return st.st_uid == os.getuid() == dst.st_uid and private


def indexed_hosts(paths: Sequence[str | Path], names: Sequence[str]) -> list[Host] | None:
    """The hosts called ``names`` (distinct) from the index of the book as it is now, in the book's
    order; None when there is no
    index of this state of the book or one of the names is not in it (take the full load)."""
    key = book_key(paths)
    if key is None:
        return None
    path = _index_file(key)
    if not _trusted(path):
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = []
            for name in names:
                row = db.execute("SELECT pos, data FROM host WHERE name = ?", (name,)).fetchone()
                if row is None:
                    return None
                rows.append(row)
            found = [pickle.loads(data) for _pos, data in sorted(rows)]  # in the book's order, as a load gives
    except (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.debug("inventory index %s unreadable (%s): loading the book", path, type(exc).__name__)
        return None
    return found if all(isinstance(h, Host) for h in found) else None


def indexable(inventory: Inventory) -> bool:
    if inventory.warnings:
        return False
    return not any((h.bmc.password_ref or "").startswith("plain:") for h in inventory.hosts)


def remember(paths: Sequence[str | Path], inventory: Inventory) -> None:
    """Write the index of a book that just loaded cleanly (best effort: a read-only home or a full
    disk only means the next command loads the book again)."""
    if not indexable(inventory):
        return
    key = book_key(paths)
    if key is None or _index_file(key).exists():
        return
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.chmod(0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        os.close(fd)
        try:
            with contextlib.closing(sqlite3.connect(tmp)) as db:
                db.execute("CREATE TABLE host (name TEXT PRIMARY KEY, pos INTEGER NOT NULL, data BLOB NOT NULL)")
                db.executemany("INSERT INTO host VALUES (?, ?, ?)",
                               ((h.name, n, pickle.dumps(h, protocol=pickle.HIGHEST_PROTOCOL))
                                for n, h in enumerate(inventory.hosts)))
                db.commit()
            os.chmod(tmp, 0o600)
            os.replace(tmp, _index_file(key))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        for old in directory.glob(f"{key[0]}-*.sqlite"):  # earlier states of the same book
            if old != _index_file(key):
                with contextlib.suppress(OSError):
                    old.unlink()
    except (OSError, sqlite3.Error, pickle.PicklingError) as exc:
        log.debug("inventory index not written: %s", type(exc).__name__)
