"""The snapshot file (schema v1), joining Nova/Placement records, racks from the inventory, and
the result's JSON and store records."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from dcops.capacity.check import check_capacity
from dcops.capacity.cloud import (
    AggregateRecord,
    CloudData,
    HypervisorRecord,
    ProviderRecord,
    ServiceRecord,
    ZoneRecord,
    build_snapshot,
)
from dcops.capacity.errors import SnapshotError
from dcops.capacity.model import NodeState
from dcops.capacity.policy import build_policy
from dcops.capacity.racks import assign_racks
from dcops.capacity.results import CapacityResult
from dcops.capacity.snapshot import SNAPSHOT_SCHEMA, read_snapshot, snapshot_from_json, write_snapshot
from dcops.models import BmcEndpoint, Host, Location
from tests.unit.capacity.helpers import TAKEN, counter_example_az, identical_az, node, snapshot

# ---- snapshot file ------------------------------------------------------------------------


def test_snapshot_round_trip(tmp_path: Path) -> None:
    nodes = [*identical_az(count=3), node("odd", "az1", None, memory=(100, 7), vcpu=(48, 5), ratio="1.5",
                                          state=NodeState.DISABLED)]
    original = snapshot(*nodes, azs=("az1", "az9"))
    path = tmp_path / "snap.json"
    write_snapshot(original, path)
    data = json.loads(path.read_text())
    assert data["schema"] == SNAPSHOT_SCHEMA
    back = read_snapshot(path)
    assert back.taken_at == TAKEN
    assert back.azs == ("az1", "az9")
    assert {n.name: n for n in back.nodes} == {n.name: n for n in original.nodes}
    odd = next(n for n in back.nodes if n.name == "odd")
    assert odd.resources["MEMORY_MB"].allocation_ratio == Fraction(3, 2)
    assert odd.state is NodeState.DISABLED and odd.rack is None


def test_whatif_states_are_not_written() -> None:
    from dcops.capacity.snapshot import snapshot_to_json
    from dcops.capacity.whatif import fail_nodes

    snap = fail_nodes(snapshot(*identical_az(count=3)), ["cmp-az1-01"])
    assert [n["name"] for n in snapshot_to_json(snap)["nodes"]] == ["cmp-az1-02", "cmp-az1-03"]


def test_snapshot_problems_name_every_fault(tmp_path: Path) -> None:
    bad = {
        "schema": SNAPSHOT_SCHEMA, "taken_at": "yesterday",
        "nodes": [
            {"name": "a", "az": "az1", "state": "sleeping", "resources": {}},
            {"name": "b", "az": "", "resources": {"MEMORY_MB": {"total": -1, "allocation_ratio": 0}}},
            {"name": "c", "az": "az1", "resources": {"VCPU": {"total": 8, "used": 1.5}}},
            {"name": "d", "az": "az1", "resources": {"VCPU": {"total": 8}}},
            {"name": "d", "az": "az1", "resources": {"VCPU": {"total": 8}}},
        ],
    }
    with pytest.raises(SnapshotError) as info:
        snapshot_from_json(bad, "snap.json")
    text = "\n".join(str(p) for p in info.value.problems)
    for fragment in ("taken_at", "nodes[0].state", "nodes[1].az", "nodes[1].resources.MEMORY_MB.total",
                     "nodes[1].resources.MEMORY_MB.allocation_ratio", "nodes[2].resources.VCPU.used",
                     "d appears twice"):
        assert fragment in text
    assert info.value.exit_code == 3
    with pytest.raises(SnapshotError, match="expected 'dcops.capacity.snapshot/v1'"):
        snapshot_from_json({"schema": "other/v9"})
    (tmp_path / "broken.json").write_text("{\n  nope\n}")
    with pytest.raises(SnapshotError, match=r"broken.json:2: not valid JSON"):
        read_snapshot(tmp_path / "broken.json")
    with pytest.raises(SnapshotError, match="cannot read"):
        read_snapshot(tmp_path / "missing.json")


# ---- Nova + Placement records --------------------------------------------------------------

def _cloud() -> CloudData:
    def provider(uuid: str, name: str, used: int) -> ProviderRecord:
        return ProviderRecord(uuid=uuid, name=name,
                              inventories={"MEMORY_MB": {"total": 1000, "reserved": 0, "allocation_ratio": 1.0},
                                           "VCPU": {"total": 16, "reserved": 2, "allocation_ratio": 4.0}},
                              usages={"MEMORY_MB": used, "VCPU": 3})

    return CloudData(
        services=[
            ServiceRecord("cmp-1", "nova-compute", "az1", "enabled", "up"),
            ServiceRecord("cmp-2", "nova-compute", "az1", "disabled", "up", disabled_reason="patching"),
            ServiceRecord("cmp-3", "nova-compute", "az2", "enabled", "down"),
            ServiceRecord("cmp-4", "nova-compute", "az2", "enabled", "up", forced_down=True),
            ServiceRecord("cmp-5", "nova-compute", "az2", "enabled", "up"),
            ServiceRecord("cmp-6", "nova-compute", "az2", "enabled", "up"),
            ServiceRecord("ctl-1", "nova-conductor", "internal", "enabled", "up"),
        ],
        zones=[
            ZoneRecord("internal", True, {"ctl-1": {"nova-conductor": {}}}),
            # Nova lists enabled hosts only: cmp-2 (disabled) is missing here on purpose.
            ZoneRecord("az1", True, {"cmp-1": {"nova-compute": {}}}),
            ZoneRecord("az2", True, {"cmp-3": {"nova-compute": {}}, "cmp-4": {"nova-compute": {}},
                                     "cmp-5": {"nova-compute": {}}, "cmp-6": {"nova-compute": {}}}),
            ZoneRecord("az-empty", False, {}),
        ],
        aggregates=[
            AggregateRecord("az1-hosts", "az1", ("cmp-1", "cmp-2")),
            AggregateRecord("az2-hosts", "az2", ("cmp-3", "cmp-4", "cmp-5", "cmp-6")),
            AggregateRecord("gpu", None, ("cmp-1", "cmp-5")),
        ],
        hypervisors=[
            HypervisorRecord("u1", "cmp-1.dc", "cmp-1", "up", "enabled"),
            HypervisorRecord("u2", "cmp-2.dc", "cmp-2", "up", "disabled"),
            HypervisorRecord("u3", "cmp-3.dc", "cmp-3", "down", "enabled"),
            HypervisorRecord("u4", "cmp-4.dc", "cmp-4", "up", "enabled"),
            HypervisorRecord("7", "cmp-5.dc", "cmp-5", "up", "enabled"),  # pre-2.53 integer id
            HypervisorRecord("u6", "cmp-6.dc", "cmp-6", "up", "enabled"),  # no provider
        ],
        providers=[provider("u1", "cmp-1.dc", 100), provider("u2", "cmp-2.dc", 200),
                   provider("u3", "cmp-3.dc", 300), provider("u4", "cmp-4.dc", 400),
                   provider("u5", "cmp-5.dc", 500)],
        source={"cloud": "unit"},
    )


def test_build_snapshot_joins_nova_and_placement() -> None:
    snap = build_snapshot(_cloud(), TAKEN)
    by_name = {n.name: n for n in snap.nodes}
    assert sorted(by_name) == ["cmp-1", "cmp-2", "cmp-3", "cmp-4", "cmp-5"]
    assert by_name["cmp-2"].az == "az1"  # from its service, though the AZ listing leaves it out
    assert by_name["cmp-2"].state is NodeState.DISABLED and by_name["cmp-2"].reason == "patching"
    assert by_name["cmp-3"].state is NodeState.DOWN
    assert by_name["cmp-4"].state is NodeState.DOWN  # forced down
    assert by_name["cmp-1"].state is NodeState.UP and by_name["cmp-1"].reason is None
    assert by_name["cmp-5"].provider == "u5"  # joined by name when the id is not a UUID
    vcpu = by_name["cmp-1"].resources["VCPU"]
    assert vcpu.capacity == 56 and vcpu.used == 3
    assert snap.azs == ("az-empty", "az1", "az2")
    assert len(snap.incomplete) == 1 and "cmp-6 (az2)" in snap.incomplete[0]
    assert snap.problems == ()


def test_build_snapshot_reports_inconsistencies() -> None:
    data = _cloud()
    services = list(data.services) + [ServiceRecord("cmp-9", "nova-compute", "az1", "enabled", "up")]
    aggregates = list(data.aggregates) + [AggregateRecord("az3-hosts", "az3", ("cmp-1",))]
    hypervisors = list(data.hypervisors) + [HypervisorRecord("u10", "lost.dc", None, "up", "enabled")]
    snap = build_snapshot(CloudData(services, data.zones, aggregates, hypervisors, data.providers), TAKEN)
    text = "\n".join(snap.problems + snap.incomplete)
    assert "cmp-1: in AZ aggregates of both az1 and az3" in text
    assert "compute service(s) have no hypervisor record: cmp-9" in text
    assert "belong to no AZ: lost.dc" in text


# ---- racks from the inventory --------------------------------------------------------------

def _host(name: str, rack: str | None, az: str | None = None) -> Host:
    return Host(name=name, bmc=BmcEndpoint(address="10.0.0.1"), location=Location(site="s", rack=rack), az=az)


def test_racks_come_from_the_inventory() -> None:
    snap = snapshot(node("cmp-1", "az1", None), node("cmp-2", "az1", "OLD"), node("cmp-3", "az1", None),
                    node("cmp-4", "az2", None))
    hosts = [_host("cmp-1", "A01", "az1"),
             _host("cmp-2.example.net", "A02"),  # matched by hypervisor hostname
             _host("cmp-4.other.domain", "B01", "az1")]  # short name; the book's AZ disagrees
    joined = assign_racks(snap, hosts)
    assert {n.name: n.rack for n in joined.nodes} == {"cmp-1": "A01", "cmp-2": "A02", "cmp-3": None, "cmp-4": "B01"}
    assert joined.problems == ("az2: the inventory puts 1 node(s) in another AZ than Nova does: cmp-4 (book: az1)",)


# ---- results -----------------------------------------------------------------------------

def test_result_json_round_trip_and_records() -> None:
    snap = snapshot(*identical_az(), *counter_example_az())
    result = check_capacity(snap, build_policy(q="VCPU=off,DISK_GB=off"))
    data = json.loads(json.dumps(result.to_json()))
    assert CapacityResult.from_json(data) == result
    records = result.to_records()
    assert [(r["az"], r["resource_class"], r["az_policy_met"]) for r in records] == [
        ("az1", "MEMORY_MB", True), ("az2", "MEMORY_MB", False)]
    assert all(isinstance(v, (str, int, float, bool, type(None))) for r in records for v in r.values())
    assert records[1]["worst_rack"] == "B03" and records[1]["reason"].startswith("az2: losing rack B03")
    with pytest.raises(Exception, match="schema"):
        CapacityResult.from_json({"schema": "nope"})
