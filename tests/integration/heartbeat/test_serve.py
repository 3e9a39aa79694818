"""`dcops serve` probes every network of the book each patrol round (its one heartbeat hook): with
rack A01's biz-a down on the simulator, one network_down incident names the network and the rack,
the state is stored, and /metrics-side families read it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dcops.cli.main import main
from dcops.exporter.collectors.heartbeat import build_families
from dcops.heartbeat.store import latest
from dcops.patrol import store as pstore
from dcops.sim.faults import apply_fault
from dcops.sim.fleet import FleetSpec
from dcops.sim.state import Timings
from dcops.sim.testing import ThreadedFleet
from dcops.store import open_store

pytestmark = [pytest.mark.timeout(300)]


def test_serve_rounds_probe_every_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = FleetSpec(hosts=8, racks=2, profiles=("generic-1s",), timings=Timings.preset("fast"),
                     networks=("mgmt", "biz-a", "storage"))
    with ThreadedFleet(spec, control=False) as sim:
        secret = tmp_path / "password"
        secret.write_text(sim.password + "\n")
        os.chmod(secret, 0o600)
        book = sim.call(lambda: sim.fleet.write_inventory(tmp_path / "book.yaml", f"file:{secret}"))
        for index in range(4):  # rack A01
            sim.call(lambda i=index: apply_fault(sim.fleet.bmc(i), "network_down", {"network": "biz-a"}))
        config = tmp_path / "config.yaml"
        config.write_text(json.dumps({
            "patrol": {"open_after": 1, "inventory_every": 0, "bmc_deadline": 60, "round_deadline": 240},
            "heartbeat": {"timeout": 60}}))
        state = f"sqlite:///{tmp_path / 'state.db'}"
        code = main(["--config", str(config), "--state", state, "-i", str(book), "serve", "--listen",
                     "127.0.0.1:0", "--rounds", "1", "--interval", "1s"])
    assert code == 0
    store = open_store(state)
    try:
        rows = latest(store)
        incidents = pstore.list_incidents(store, status="open")
    finally:
        store.close()
    assert len(rows) == 8 * 3
    down = sorted((r["host"], r["network"]) for r in rows if not r["ok"])
    assert down == [(f"sim-{i:04d}", "biz-a") for i in range(1, 5)]
    assert [(i.condition.value, i.host, i.part) for i in incidents] == \
        [("network_down", "sim-dc1/room1/A01", "network:biz-a")]
    names = {f.name for f in build_families(rows)}
    assert "dcops_heartbeat_up" in names
