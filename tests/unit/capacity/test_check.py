"""The capacity check over whole AZs: verdicts, reasons, binding class, plans, what-ifs."""

from __future__ import annotations

from fractions import Fraction

import pytest

from dcops.capacity.check import az_meets, check_capacity
from dcops.capacity.model import NodeState
from dcops.capacity.policy import Policy, build_policy
from dcops.capacity.whatif import add_nodes, fail_nodes, new_nodes, node_spec, remove_nodes
from dcops.errors import UsageError
from tests.unit.capacity.helpers import counter_example_az, identical_az, node, snapshot

MEMORY_ONLY = build_policy(q="MEMORY_MB=0.8,VCPU=off,DISK_GB=off")


def test_counter_example_is_reported_correctly() -> None:
    result = check_capacity(snapshot(*counter_example_az()), MEMORY_ONLY)
    (az,) = result.azs
    (memory,) = az.classes
    assert not az.policy_met
    assert memory.tolerated_failures == 0
    # the rule of thumb on averages would have said 1
    assert memory.seed_nodes == 1
    assert memory.next_failure is not None and memory.next_failure.nodes == ["cmp-b03-01"]
    assert memory.worst_rack is not None and memory.worst_rack.rack == "B03"
    assert not memory.worst_rack.survivable
    survivable = {r.rack: r.survivable for r in memory.racks}
    assert survivable == {"B01": True, "B02": True, "B03": False}
    assert az.reason is not None
    assert az.reason.startswith("az2: losing rack B03 (1 node, 60.0 GiB allocated) leaves 20.0 GiB of room "
                                "under q=0.8 (MEMORY_MB; requires rack)")
    assert az.nodes_needed is not None and az.nodes_needed > 0
    assert f"{az.nodes_needed} more node(s) of 100.0 GiB" in az.reason


def test_nodes_needed_is_enough_and_not_more() -> None:
    nodes = counter_example_az()
    result = check_capacity(snapshot(*nodes), MEMORY_ONLY)
    needed = result.azs[0].nodes_needed
    assert needed is not None
    spec = node_spec(nodes, {})
    assert az_meets(nodes + new_nodes(nodes, "az2", needed, spec), MEMORY_ONLY)
    assert not az_meets(nodes + new_nodes(nodes, "az2", needed - 1, spec), MEMORY_ONLY)


def test_bigger_new_nodes_need_fewer() -> None:
    nodes = counter_example_az()
    small = check_capacity(snapshot(*nodes), MEMORY_ONLY).azs[0].nodes_needed
    big = check_capacity(snapshot(*nodes), MEMORY_ONLY, new_node={"MEMORY_MB": 512 * 1024}).azs[0]
    assert small is not None and big.nodes_needed is not None
    assert big.nodes_needed <= small
    assert big.node_spec["MEMORY_MB"]["total"] == 524288


def test_identical_az_meets_rack_with_nothing_to_spare() -> None:
    result = check_capacity(snapshot(*identical_az()), build_policy(q="VCPU=off,DISK_GB=off",
                                                                    require="rack,nodes=3"))
    (az,) = result.azs
    (memory,) = az.classes
    assert az.policy_met and az.reason is None and az.nodes_needed == 0
    assert memory.tolerated_failures == 3 == memory.seed_nodes
    assert memory.usage_ratio == 0.6
    assert memory.seed_ratio == 0.25
    assert memory.worst_rack is not None and memory.worst_rack.margin == 0
    assert memory.worst_rack_plus_one is not None and not memory.worst_rack_plus_one.survivable
    assert [r.requirement for r in memory.requirements] == ["nodes=3", "rack"]


def test_rack_plus_one_fails_the_identical_az_with_a_one_line_reason() -> None:
    result = check_capacity(snapshot(*identical_az()), build_policy(q="VCPU=off", require="rack+1"))
    az = result.azs[0]
    assert not az.policy_met
    assert az.reason == ("az1: losing rack AZ1-R1 + 1 node (4 nodes, 600.0 GiB allocated) leaves 400.0 GiB of "
                         "room under q=0.8 (MEMORY_MB; requires rack+1); 2 more node(s) of 250.0 GiB would meet it")


def test_a_node_requirement_names_the_nodes() -> None:
    result = check_capacity(snapshot(*counter_example_az()), build_policy(q="VCPU=off", require="nodes=1"))
    assert result.azs[0].reason is not None
    assert result.azs[0].reason.startswith(
        "az2: losing cmp-b03-01 (60.0 GiB allocated) leaves 20.0 GiB of room under q=0.8 (MEMORY_MB; requires nodes=1)")
    result = check_capacity(snapshot(*identical_az()), build_policy(q="VCPU=off", require="nodes=4"))
    assert result.azs[0].reason is not None
    assert result.azs[0].reason.startswith(
        "az1: losing 4 nodes (cmp-az1-01, cmp-az1-02, cmp-az1-03 and 1 more; 600.0 GiB allocated) leaves")


def test_binding_class_is_the_one_closest_to_breaking() -> None:
    nodes = [node(f"c{i}", "az3", f"C{i % 3}", memory=(400000, 100000), vcpu=(24, 90)) for i in range(6)]
    result = check_capacity(snapshot(*nodes), build_policy(q="MEMORY_MB=0.8,VCPU=1.0,DISK_GB=off"))
    az = result.azs[0]
    assert az.binding_class == "VCPU"
    assert [c.resource_class for c in az.classes if c.binding] == ["VCPU"]
    assert not az.policy_met
    assert az.reason is not None and "(VCPU; requires rack)" in az.reason
    assert "vCPU allocated" in az.reason


def test_policy_met_when_every_class_is() -> None:
    nodes = [node(f"c{i}", "az", f"C{i % 4}", memory=(100000, 20000), vcpu=(24, 20)) for i in range(8)]
    result = check_capacity(snapshot(*nodes), build_policy(require="rack+1"))
    assert result.policy_met
    assert {c.resource_class for c in result.azs[0].classes} == {"MEMORY_MB", "VCPU"}


def test_unavailable_nodes_are_listed_and_their_load_is_owed() -> None:
    nodes = identical_az(count=8, per_rack=2)
    nodes[0] = nodes[0].with_state(NodeState.DISABLED, "maintenance: DIMM")
    nodes[1] = nodes[1].with_state(NodeState.DOWN)
    result = check_capacity(snapshot(*nodes), MEMORY_ONLY)
    az = result.azs[0]
    memory = az.classes[0]
    assert memory.nodes == 6 and memory.unavailable == 2
    assert [(u.name, u.state, u.reason) for u in az.unavailable] == [
        ("cmp-az1-01", "disabled", "maintenance: DIMM"), ("cmp-az1-02", "down", None)]
    # 6 survivors with 0.2*256000 spare each take exactly the 2 * 153600 owed: nothing more may fail
    assert memory.budget == 6 * 51200 - 2 * 153600 == 0
    assert memory.tolerated_failures == 0
    assert az.reason is not None and "after taking 300.0 GiB from 2 unavailable node(s)" in az.reason

    nodes[2] = nodes[2].with_state(NodeState.DOWN)
    az = check_capacity(snapshot(*nodes), MEMORY_ONLY).azs[0]
    assert az.classes[0].tolerated_failures == -1
    assert az.reason is not None
    assert az.reason.startswith("az1: 3 unavailable node(s) (cmp-az1-01, cmp-az1-02, cmp-az1-03) still carry "
                                "450.0 GiB but the 5 node(s) up have only 250.0 GiB of room under q=0.8")


def test_nodes_without_rack_are_reported() -> None:
    nodes = identical_az(count=4, per_rack=2) + [node("stray-01", "az1", None, memory=(256000, 100))]
    result = check_capacity(snapshot(*nodes), MEMORY_ONLY)
    assert result.azs[0].unmapped == ["stray-01"]
    assert any("stray-01" in p and "no rack" in p for p in result.problems)


def test_an_az_without_nodes_is_reported_not_failed() -> None:
    result = check_capacity(snapshot(*identical_az(), azs=("az1", "az9")), MEMORY_ONLY)
    empty = next(az for az in result.azs if az.az == "az9")
    assert empty.policy_met and empty.classes == []
    assert "az9: no compute nodes" in result.problems


def test_only_the_azs_asked_for() -> None:
    snap = snapshot(*identical_az("az1"), *counter_example_az("az2"))
    assert [a.az for a in check_capacity(snap, MEMORY_ONLY, azs=["az2"]).azs] == ["az2"]
    with pytest.raises(UsageError, match="no such AZ: az7"):
        check_capacity(snap, MEMORY_ONLY, azs=["az7"])


def test_whatif_fail_a_rack() -> None:
    snap = fail_nodes(snapshot(*identical_az()), ["rack=AZ1-R2"])
    failed = [n.name for n in snap.nodes if n.state is NodeState.FAILED]
    assert failed == ["cmp-az1-04", "cmp-az1-05", "cmp-az1-06"]
    memory = check_capacity(snap, MEMORY_ONLY).azs[0].classes[0]
    # 9 survivors carry the rack's load with exactly nothing left: no further failure is tolerated
    assert memory.budget == 0 and memory.tolerated_failures == 0


def test_whatif_fail_and_remove_by_name() -> None:
    snap = snapshot(*identical_az())
    assert fail_nodes(snap, ["cmp-az1-01", "host=cmp-az1-02"]).nodes[1].state is NodeState.FAILED
    removed = remove_nodes(snap, ["cmp-az1-03.example.net"])
    assert removed.nodes[2].state is NodeState.REMOVED
    with pytest.raises(UsageError, match="no node matches rack=Z9"):
        fail_nodes(snap, ["rack=Z9"])
    with pytest.raises(UsageError, match="use rack=RACK or host=NAME"):
        fail_nodes(snap, ["az=az1"])
    with pytest.raises(UsageError, match="not in the cloud: nope"):
        remove_nodes(snap, ["cmp-az1-01", "nope"])


def test_whatif_add_nodes_fixes_the_counter_example() -> None:
    nodes = counter_example_az()
    snap = snapshot(*nodes)
    needed = check_capacity(snap, MEMORY_ONLY).azs[0].nodes_needed
    assert needed is not None
    grown = add_nodes(snap, "az2", needed, node_spec(nodes, {}))
    assert check_capacity(grown, MEMORY_ONLY).policy_met
    spread = add_nodes(snap, "az2", 4, node_spec(nodes, {}))
    racks = [n.rack for n in spread.nodes if n.name.startswith("new-")]
    assert racks == ["B01", "B02", "B03", "B01"]  # the emptiest rack first, by name on ties
    named = add_nodes(snap, "az2", 2, node_spec(nodes, {}), rack="B09")
    assert [n.rack for n in named.nodes[-2:]] == ["B09", "B09"]


def test_result_keeps_source_and_whatif_notes() -> None:
    result = check_capacity(snapshot(*identical_az()), Policy(ceilings={"MEMORY_MB": Fraction(4, 5)}),
                            whatif=["failed rack=AZ1-R2"])
    assert result.whatif == ["failed rack=AZ1-R2"]
    assert result.source == {"cloud": "unit"}
    assert result.require == "rack" and result.ceilings == {"MEMORY_MB": 0.8}
