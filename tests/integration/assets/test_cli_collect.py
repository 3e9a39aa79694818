"""`dcops assets collect` against a small `dcops sim` fleet plus a BMC that does not answer:
the answering ones are stored, the dark one is reported, exit 4; a second collection records no
events when nothing changed."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml

from dcops.cli.main import main
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet

PASSWORD_ENV = "DCOPS_TEST_CLI_BMC_PW"


def test_collect_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dark_port = sock.getsockname()[1]
    with ThreadedFleet(FleetSpec(hosts=4), control=False) as sim:
        monkeypatch.setenv(PASSWORD_ENV, sim.password)
        path = tmp_path / "fleet.yaml"
        sim.fleet.write_inventory(path, f"env:{PASSWORD_ENV}")
        doc = yaml.safe_load(path.read_text())
        doc.setdefault("hosts", []).append({"name": "dark-01", "site": "sim-dc1", "room": "room1", "rack": "Z09",
                                            "u": 1, "bmc": {"address": "127.0.0.1", "port": dark_port}})
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        code = main(["assets", "collect", "-i", str(path), "-o", "json", "--deadline", "20"])
        out, err = capsys.readouterr()
        assert code == 4, err
        body = json.loads(out)
        assert body["summary"] == {"hosts": 5, "collected": 4, "failed": 1, "events": 0}
        status = {i["host"]: i for i in body["items"]}
        assert status["dark-01"]["status"] == "failed" and "dark-01" in err
        assert status["sim-0001"]["placement"] == "A01 U1" and status["sim-0001"]["parts"] > 30
        assert sim.password not in out + err

        code = main(["assets", "collect", "-i", str(path), "-o", "json", "sim-000*"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert json.loads(out)["summary"]["events"] == 0
    code = main(["assets", "reconcile", "-i", str(path), "-o", "json"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert [(i["kind"], i["host"]) for i in json.loads(out)["items"]] == [("missing", "dark-01")]

    # Any collected part serial now finds its server through the inventory's fuzzy search.
    from dcops.assets import store as asset_store
    from dcops.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/state.db")
    try:
        records = asset_store.part_serial_records(store)
    finally:
        store.close()
    host, field, dimm_serial = next(r for r in records if r[1] == "dimm_serial" and r[0] == "sim-0003")
    code = main(["inventory", "search", "-i", str(path), "-o", "json", dimm_serial])
    out, _ = capsys.readouterr()
    hits = json.loads(out)["items"]
    assert code == 0 and hits[0]["name"] == "sim-0003" and "dimm_serial" in hits[0]["fields"]
