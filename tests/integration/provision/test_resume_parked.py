"""`dcops provision resume` continues only interrupted runs, each up to the --until it was started
with; hosts parked with `--until pool` are not touched (the simulator's request log shows no
request at all to them during the resume)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dcops.provision import store as pstore
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from dcops.store import open_store
from tests.integration.provision.conftest import FAST
from tests.integration.provision.lab import (
    PW_ENV,
    ROOT,
    cli,
    requests,
    sim_baselines,
    write_inventory,
    writes,
)
from tests.integration.provision.test_sigkill_resume import _kill_group

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]


def _rows(url: str) -> dict[str, dict[str, object]]:
    store = open_store(url)
    try:
        return pstore.host_rows(store)
    finally:
        store.close()


def test_resume_leaves_parked_hosts_alone_and_stops_at_the_stored_until(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    monkeypatch.setenv("DCOPS_STATE", url)
    with ThreadedFleet(FleetSpec(hosts=3, profiles=("dell-r750",), timings=FAST, request_log=4096)) as sim:
        inv = write_inventory(sim, tmp_path / "inv.yaml", monkeypatch)
        base = sim_baselines(tmp_path, ["sim-0001", "sim-0002", "sim-0003"], playbooks=False)
        args = ["-i", str(inv), "--baselines", str(base), "--poll", "0.05", "--wait-limit", "40"]
        # Two hosts parked in the pool (intake only).
        code, data, err = cli(capsys, "provision", "run", "sim-0001", "sim-0002", *args, "--until", "pool", "--yes")
        assert code == 0, err
        assert {i["status"] for i in data["items"]} == {"pending"}
        # A third host's deployment up to raid is killed in the firmware step.
        env = {**os.environ, PW_ENV: sim.password, "DCOPS_STATE": url}
        with (tmp_path / "run.log").open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "dcops", "provision", "run", "sim-0003", *args,
                                     "--until", "raid", "--yes"], cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            try:
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline and proc.poll() is None:
                    row = _rows(url).get("sim-0003")
                    if row and row["step"] == "firmware" and row["status"] == "running":
                        break
                    time.sleep(0.05)
                assert proc.poll() is None, (tmp_path / "run.log").read_text()[-2000:]
            finally:
                _kill_group(proc)
        assert _rows(url)["sim-0003"]["status"] == "running"
        seen = {h: len(requests(sim, h)) for h in ("sim-0001", "sim-0002")}

        # The bare resume shows its plan and, without a terminal, wants --yes before it moves anything.
        code, _, err = cli(capsys, "provision", "resume", *args)
        assert code != 0 and "--yes" in err, err
        assert "parked after pool" in err and "sim-0003" in err, err
        code, data, err = cli(capsys, "provision", "resume", *args, "--yes")
        assert code == 0, err
        by_host = {i["host"]: i for i in data["items"]}
        assert by_host["sim-0001"]["status"] == by_host["sim-0002"]["status"] == "nothing", by_host
        assert by_host["sim-0003"]["status"] == "pending", by_host
        assert by_host["sim-0003"]["step"] == "raid"
        # Parked hosts: not one request during the resume, let alone a write.
        for host, count in seen.items():
            assert requests(sim, host)[count:] == [], host
            assert writes(requests(sim, host)) == {}, host
        # The interrupted host went exactly to its --until: RAID done, no OS install.
        counts = writes(requests(sim, "sim-0003"))
        assert counts.get("volume_create") == 1 and "media_insert" not in counts, counts
        rows = _rows(url)
        assert rows["sim-0003"]["status"] == "pending" and rows["sim-0003"]["step"] == "raid"

        # Nothing left to resume: no question asked, nothing moves.
        code, data, err = cli(capsys, "provision", "resume", *args)
        assert code == 0, err
        assert {i["status"] for i in data["items"]} == {"nothing"}
        code, data, err = cli(capsys, "provision", "status", "-i", str(tmp_path / "inv.yaml"))
        assert {i["host"]: i["until"] for i in data["items"]} == {"sim-0001": "pool", "sim-0002": "pool",
                                                                  "sim-0003": "raid"}, data
        # Only an explicit run moves a parked host on.
        code, data, err = cli(capsys, "provision", "run", "sim-0001", *args, "--until", "firmware", "--yes")
        assert code == 0, err
        assert data["items"][0]["status"] == "pending" and data["items"][0]["step"] == "firmware"
        assert writes(requests(sim, "sim-0001")).get("firmware_update")
