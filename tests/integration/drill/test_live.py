"""`dcops drill run --live` on loopback: the simulator plays the real fleet, a `dcops serve` process
patrols it, and the drill powers off a spare gracefully (over Redfish), then scores what that
patrol opened and paged through the store. A host that is not a spare is refused before anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dcops.cli.main import main
from dcops.patrol import store as pstore
from dcops.sim.fleet import FleetSpec
from dcops.sim.state import Timings
from dcops.sim.testing import ThreadedFleet
from dcops.store import open_store
from tests.helpers.receivers import webhook
from tests.helpers.simfleet import wait_for

REPO = Path(__file__).resolve().parents[3]
SCENARIO = REPO / "drills" / "spare-power-off.yaml"
pytestmark = [pytest.mark.timeout(600)]


def test_live_power_off_of_a_spare(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = FleetSpec(hosts=8, racks=2, profiles=("generic-1s",), timings=Timings.preset("fast"))
    with ThreadedFleet(spec, control=False) as sim, webhook() as hook:
        secret = tmp_path / "password"
        secret.write_text(sim.password + "\n")
        os.chmod(secret, 0o600)
        book_path = sim.call(lambda: sim.fleet.write_inventory(tmp_path / "book.yaml", f"file:{secret}"))
        doc = yaml.safe_load(book_path.read_text())
        for rack in doc["sites"][0]["rooms"][0]["racks"]:
            for host in rack["hosts"]:
                if host["name"] == "sim-0004":
                    host["role"] = "spare"
        book_path.write_text(yaml.safe_dump(doc, sort_keys=False))
        state = f"sqlite:///{tmp_path / 'state.db'}"
        cfg = tmp_path / "config.yaml"
        cfg.write_text(json.dumps({"state": state, "inventory": str(book_path),
                                   "patrol": {"interval": 1, "open_after": 2, "inventory_every": 0,
                                              "bmc_deadline": 60, "round_deadline": 120},
                                   "notify": {"receivers": [{"name": "oncall", "type": "webhook", "url": hook.url}],
                                              "routes": [{"tier": [1], "receivers": ["oncall"]}]}}))

        # Refused before anything is done: sim-0003 is no spare.
        code = main(["--config", str(cfg), "drill", "run", str(SCENARIO), "--live", "--hosts", "sim-0004,sim-0003"])
        assert code == 2 and "power_off refused on sim-0003: only spares" in capsys.readouterr().err
        assert sim.call(lambda: sim.fleet.bmc(3).power) == "On"

        env = {k: v for k, v in os.environ.items() if not k.startswith("DCOPS_")}
        env["PYTHONPATH"] = str(REPO)
        log = (tmp_path / "serve.log").open("w")
        serve = subprocess.Popen([sys.executable, "-m", "dcops", "--config", str(cfg), "serve", "--listen",
                                  "127.0.0.1:0"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            store = open_store(state)
            try:
                wait_for(lambda: pstore.last_round(store), what="a first patrol round")
            finally:
                store.close()
            code = main(["--config", str(cfg), "-o", "json", "drill", "run", str(SCENARIO), "--live",
                         "--hosts", "sim-0004", "--timeout", "300s"])
            out, err = capsys.readouterr()
        finally:
            serve.terminate()
            serve.wait(30)
            log.close()
        assert sim.call(lambda: sim.fleet.bmc(3).power) == "Off"  # the graceful shutdown happened
    result = json.loads(out)
    summary = result["summary"]
    print(f"\nlive spare-power-off: score {summary['score']:g}/100; detect {summary['detect_seconds']}s; "
          f"first notification {summary['notify_seconds']}; problems {result.get('problems') or '-'}")
    (item,) = [i for i in result["items"] if i["expect"] != "(unexpected)"]
    assert "unexpected_power_off sim-0004" in item["incident"], (code, out, err)
    assert summary["mode"] == "live" and summary["notify_seconds"]["1"] is not None  # read from the outbox
