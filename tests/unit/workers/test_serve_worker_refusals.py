"""`dcops serve --worker` refuses what cannot work, before it patrols or listens: SQLite (the
single-machine default cannot be shared), a bad name, --sites without --worker, and a worker name
another live process holds (on a real PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dcops.store import open_store
from dcops.workers import lease
from tests.helpers.cli import SITE, run


@pytest.mark.parametrize(("argv", "message"), [
    (("--worker", "w1"), "--worker needs a shared PostgreSQL state store"),
    (("--worker", "w 1"), "a worker name is 1-100 letters"),
    (("--sites", "dc1"), "--sites goes with --worker"),
    (("--worker", "w1", "--no-patrol"), "--worker patrols"),
])
def test_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...], message: str) -> None:
    code, _, err = run(capsys, "--state", f"sqlite:///{tmp_path / 's.db'}", "-i", SITE, "serve", "--listen",
                       "127.0.0.1:0", "--rounds", "1", *argv)
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.postgres
def test_a_name_held_by_a_live_process_is_refused(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        # Another machine's process holds w1 (we cannot see whether it lives): refused until it expires.
        lease.register(store, "w1", [], ttl=600, interval=60, process="elsewhere:1234")
        with pytest.raises(lease.LeaseHeld, match="held by elsewhere:1234"):
            lease.register(store, "w1", [], ttl=60, interval=60, process=lease.process_id())
        # A process of this machine that is gone (kill -9): its name is taken over at once.
        lease.register(store, "w2", [], ttl=600, interval=60, process=f"{lease.process_id().rpartition(':')[0]}:"
                       f"{_dead_pid()}")
        lease.register(store, "w2", [], ttl=60, interval=60, process=lease.process_id())
        _, rows = lease.leases(store)
        assert {r["name"]: r["process"] for r in rows}["w2"] == lease.process_id()
    finally:
        store.close()


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid
