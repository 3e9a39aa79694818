"""``dcops capacity check|racks|snapshot`` from a snapshot file: output, exit codes, what-ifs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dcops.capacity.errors import CloudUnreachableError
from dcops.capacity.snapshot import write_snapshot
from dcops.cli import capacity as capacity_cli
from dcops.cli.main import main
from tests.unit.capacity.helpers import counter_example_az, identical_az, node, snapshot

INVENTORY = """\
version: 1
defaults:
  bmc: {protocol: redfish, username: root, password: env:DCOPS_BMC_PASSWORD}
sites:
  - name: lab
    rooms:
      - name: r1
        racks:
          - name: B01
            hosts:
              - {name: cmp-b01-01, u: 1, az: az2, bmc: {address: 10.30.2.11}}
          - name: B02
            hosts:
              - {name: cmp-b02-01, u: 1, az: az2, bmc: {address: 10.30.2.12}}
              - {name: cmp-b03-01, u: 2, az: az2, bmc: {address: 10.30.2.13}}
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (the repository's inventories/ must not be picked up)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def snap_file(workdir: Path) -> Path:
    path = workdir / "snapshot.json"
    write_snapshot(snapshot(*identical_az("az1"), *counter_example_az("az2")), path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_table_and_reason(snap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--q", "VCPU=off")
    assert code == 1
    assert err.startswith("dcops: az2: losing rack B03 (1 node, 60.0 GiB allocated) leaves 20.0 GiB of room "
                          "under q=0.8 (MEMORY_MB; requires rack)")
    assert "az1: meets rack; binding MEMORY_MB: losing rack AZ1-R1 leaves 0 B spare" in out
    assert "az2: FAILS rack" in out
    assert "MEMORY_MB *" in out and "FAIL" in out
    assert "racks from snapshot" in out


def test_check_json_schema(snap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "capacity", "check", "--from-file", str(snap_file), "-o", "json")
    doc = json.loads(out)
    assert code == 1 and doc["exit_code"] == 1
    assert doc["kind"] == "capacity.check"
    assert set(doc) >= {"kind", "items", "summary", "problems"}
    memory = {(i["az"], i["resource_class"]): i for i in doc["items"]}
    assert memory[("az1", "MEMORY_MB")]["tolerated_failures"] == 3
    assert memory[("az1", "MEMORY_MB")]["seed_nodes"] == 3
    assert memory[("az2", "MEMORY_MB")]["worst_rack"]["rack"] == "B03"
    assert memory[("az2", "MEMORY_MB")]["worst_rack"]["survivable"] is False
    summary = doc["summary"]
    assert summary["policy_met"] is False and summary["failing"] == ["az2"]
    assert summary["by_az"]["az2"]["binding_class"] == "MEMORY_MB"
    assert summary["by_az"]["az2"]["nodes_needed"] == 1
    assert summary["q"] == {"MEMORY_MB": 0.8, "VCPU": 1.0, "DISK_GB": 1.0}


def test_check_passes_a_weaker_policy(snap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--require", "nodes=0")
    assert code == 0
    code, _, _ = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--az", "az1")
    assert code == 0


def test_whatifs(snap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--az", "az2",
                       "--add-nodes", "1", "--node-memory", "512G")
    assert code == 0
    assert "what-if: added 1 node(s) of 512.0 GiB to az2 in the emptiest racks" in out
    code, out, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--az", "az1",
                         "--fail", "rack=AZ1-R1", "-o", "json")
    doc = json.loads(out)
    assert code == 1 and doc["summary"]["whatif"] == ["failed rack=AZ1-R1"]
    assert "az1: 3 unavailable node(s)" not in err  # budget is exactly 0, not negative
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--remove", "cmp-b03-01")
    assert code == 1 and "az2:" in err


def test_usage_errors(snap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--add-nodes", "2")
    assert code == 2 and "needs --az" in err
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--q", "MEMORY_MB=2")
    assert code == 2 and "(0, 1]" in err
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--cloud", "prod")
    assert code == 2 and "--from-file reads no cloud" in err
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "--az", "az7")
    assert code == 2 and "no such AZ: az7" in err


def test_invalid_snapshot_is_exit_3(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.json").write_text('{"schema": "dcops.capacity.snapshot/v1", "taken_at": "x", "nodes": []}')
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(workdir / "bad.json"))
    assert code == 3 and "taken_at" in err


def test_racks_from_the_inventory(snap_file: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "site.yaml").write_text(INVENTORY)
    code, out, err = run(capsys, "capacity", "racks", "--from-file", str(snap_file), "-i", "site.yaml",
                         "--az", "az2", "--q", "VCPU=off", "-o", "json")
    doc = json.loads(out)
    assert code == 1
    racks = {i["rack"]: i for i in doc["items"]}
    # the book puts cmp-b02-01 and cmp-b03-01 in B02: losing B02 is now the question
    assert racks["B02"]["nodes"] == 2 and racks["B02"]["survivable"] is False
    assert racks["B01"]["survivable"] is True
    assert doc["summary"]["racks_from"] == "inventory"


def test_nodes_not_in_the_inventory_fail_a_rack_policy(snap_file: Path, workdir: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "site.yaml").write_text(INVENTORY)
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "-i", "site.yaml",
                       "--az", "az1", "--q", "VCPU=off")
    assert code == 1
    assert "az1: 12 node(s) with no rack in the inventory" in err
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(snap_file), "-i", "site.yaml",
                       "--az", "az1", "--require", "nodes=3")
    assert code == 0 and "no rack in the inventory" in err


def test_incomplete_data_is_exit_4(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dataclasses import replace

    path = workdir / "partial.json"
    write_snapshot(replace(snapshot(*identical_az()), incomplete=("1 hypervisor(s) have no resource provider",)),
                   path)
    code, _, err = run(capsys, "capacity", "check", "--from-file", str(path))
    assert code == 4 and "no resource provider" in err


def test_snapshot_command_writes_the_file(workdir: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def fake_read(options: Any) -> Any:
        seen.append(options)
        return snapshot(node("cmp-b01-01", "az2", None), node("cmp-b02-01", "az2", None))

    monkeypatch.setenv("CAP_TOKEN", "tok-3f9a1c7e5b")
    monkeypatch.setattr(capacity_cli, "read_cloud", fake_read)
    (workdir / "site.yaml").write_text(INVENTORY)
    code, out, err = run(capsys, "capacity", "snapshot", "-o", "out.json", "-i", "site.yaml",
                         "--placement-url", "http://127.0.0.1:1", "--compute-url", "http://127.0.0.1:2/v2.1",
                         "--token", "env:CAP_TOKEN")
    assert code == 0 and out == ""
    assert "wrote out.json: 2 compute nodes in 1 AZ(s)" in err
    doc = json.loads((workdir / "out.json").read_text())
    assert {n["name"]: n["rack"] for n in doc["nodes"]} == {"cmp-b01-01": "B01", "cmp-b02-01": "B02"}
    assert seen[0].token.reveal() == "tok-3f9a1c7e5b"
    assert "tok-3f9a1c7e5b" not in repr(seen[0]) and "tok-3f9a1c7e5b" not in json.dumps(doc)
    code, out, _ = run(capsys, "capacity", "snapshot", "-o", "-", "--cloud", "lab")
    assert code == 0 and json.loads(out)["schema"] == "dcops.capacity.snapshot/v1"


def test_cloud_errors_are_exit_4_without_the_token(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(options: Any) -> Any:
        raise CloudUnreachableError(f"Nova os-services: credentials refused ({options.token.reveal()})")

    monkeypatch.setenv("CAP_TOKEN", "tok-77c2d9e04a")
    monkeypatch.setattr(capacity_cli, "read_cloud", broken)
    code, out, err = run(capsys, "capacity", "check", "--cloud", "lab", "--token", "env:CAP_TOKEN")
    assert code == 4
    assert "credentials refused" in err and "tok-77c2d9e04a" not in err + out


def test_no_cloud_given_is_a_config_error(workdir: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OS_CLOUD", "OS_AUTH_URL"):
        monkeypatch.delenv(var, raising=False)
    code, _, err = run(capsys, "capacity", "check")
    assert code == 3 and "no cloud given" in err
    monkeypatch.setenv("CAP_TOKEN", "x" * 12)
    code, _, err = run(capsys, "capacity", "check", "--token", "env:CAP_TOKEN")
    assert code == 3 and "--token needs --placement-url and --compute-url" in err


def test_a_full_check_is_stored_and_a_whatif_is_not(snap_file: Path, workdir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from dcops.capacity.results import CapacityResult
    from dcops.exporter.collectors.capacity import CapacityCollector
    from dcops.store import open_store
    from dcops.store.capacity import latest_result

    state = f"sqlite:///{workdir}/state.db"
    assert run(capsys, "--state", state, "capacity", "check", "--from-file", str(snap_file))[0] == 1
    store = open_store(state)
    try:
        stored = latest_result(store)
        assert stored is not None
        assert {az["az"]: az["policy_met"] for az in stored["azs"]} == {"az1": True, "az2": False}
        # A what-if (here: failing a rack) must not replace the stored figures.
        run(capsys, "--state", state, "capacity", "check", "--from-file", str(snap_file), "--fail", "rack=B03")
        assert latest_result(store) == stored
        registry = CollectorRegistry()
        registry.register(CapacityCollector(lambda: CapacityResult.from_json(latest_result(store) or {})))
        text = generate_latest(registry).decode()
        assert 'dcops_capacity_az_policy_met{az="az2"} 0.0' in text
        assert 'dcops_capacity_az_policy_met{az="az1"} 1.0' in text
    finally:
        store.close()
