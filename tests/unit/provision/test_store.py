"""The provisioning store: attempts, the write-ahead journal, claims, liveness of an owner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dcops.provision import store as pstore
from dcops.provision.workflow import HostStatus, Step, StepStatus
from dcops.store import open_store


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    s = open_store(store_url)
    yield s
    s.close()


def test_attempts_and_journal_survive_a_new_process_view(store) -> None:  # type: ignore[no-untyped-def]
    run = pstore.create_run(store, "run", {"hosts": ["h1"]})
    wf = pstore.start_workflow(store, "h1", "p", "A01", run)
    first = pstore.start_step(store, wf, Step.DISCOVER, run)
    pstore.finish_step(store, first.attempt_id, StepStatus.FAILED, error="BMC down")
    second = pstore.start_step(store, wf, Step.DISCOVER, run)
    assert (first.attempt, second.attempt) == (1, 2) and first.attempt_id != second.attempt_id
    journal = pstore.StepJournal(store, second.attempt_id)
    journal.before("fw:bmc:iDRAC:http://x/i.exe", {"image": "http://x/i.exe"})
    # A process killed here, then resumed: a fresh journal object sees the intent.
    again = pstore.StepJournal(store, second.attempt_id)
    assert again.state("fw:bmc:iDRAC:http://x/i.exe") == "started"
    again.after("fw:bmc:iDRAC:http://x/i.exe", {"monitor": "/t/1"})
    assert pstore.StepJournal(store, second.attempt_id).info("fw:bmc:iDRAC:http://x/i.exe")["monitor"] == "/t/1"
    loaded = pstore.load_workflows(store, ["h1"])["h1"]
    assert loaded.record(Step.DISCOVER).attempt == 2  # type: ignore[union-attr]
    assert loaded.record(Step.DISCOVER).status is StepStatus.STARTED  # type: ignore[union-attr]


def test_claim_is_compare_and_set(store) -> None:  # type: ignore[no-untyped-def]
    run = pstore.create_run(store, "run", {})
    pstore.start_workflow(store, "h1", None, None, run)
    assert pstore.claim(store, "h1", run, None)
    owner = pstore.process_owner(run)
    other = pstore.create_run(store, "resume", {})
    assert not pstore.claim(store, "h1", other, None)  # held
    assert pstore.claim(store, "h1", other, owner)  # taken over from the known (dead) owner
    assert pstore.host_rows(store, ["h1"])["h1"]["status"] == HostStatus.RUNNING.value


def test_owner_alive_follows_the_process(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        owner = f"{os.uname().nodename}:{proc.pid}:r1"
        import socket

        owner = f"{socket.gethostname()}:{proc.pid}:r1"
        assert pstore.owner_alive(owner, pstore.now())
    finally:
        proc.kill()
        proc.wait()
    assert not pstore.owner_alive(owner, pstore.now())
    assert not pstore.owner_alive(None, None)
    assert not pstore.owner_alive("elsewhere:1:r", None)  # another machine, no heartbeat
