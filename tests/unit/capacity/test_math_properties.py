"""The closed form against brute force: on random small AZs, enumerate every failure set and
judge it straight from the definition (the failed nodes' load and the load already owed fit into
what the remaining survivors can absorb under q)."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from dcops.capacity.check import az_meets, plan_nodes
from dcops.capacity.math import Analysis, Member, rack_key
from dcops.capacity.model import NodeState
from dcops.capacity.policy import Policy, Requirement
from dcops.capacity.whatif import new_nodes, typical_node
from tests.unit.capacity.helpers import node

CEILINGS = [Fraction(1, 2), Fraction(3, 5), Fraction(4, 5), Fraction(9, 10), Fraction(1)]


@st.composite
def azs(draw: st.DrawFn, max_nodes: int = 7) -> tuple[list[Member], Fraction]:
    count = draw(st.integers(1, max_nodes))
    members = []
    for index in range(count):
        capacity = Fraction(draw(st.integers(0, 40)), draw(st.sampled_from([1, 2, 4])))
        members.append(Member(
            name=f"n{index}",
            capacity=capacity,
            used=Fraction(draw(st.integers(0, 45))),
            rack=draw(st.sampled_from(["A", "B", "C", None])),
            available=draw(st.booleans()) or draw(st.booleans()),  # mostly up
        ))
    return members, draw(st.sampled_from(CEILINGS))


def margin_of(members: list[Member], q: Fraction, failed: set[str]) -> Fraction:
    """Room the remaining survivors have under q, minus the load to re-host: the definition."""
    survivors = [m for m in members if m.available and m.name not in failed]
    to_rehost = [m for m in members if not m.available or m.name in failed]
    room = sum((max(Fraction(0), q * m.capacity - m.used) for m in survivors), Fraction(0))
    return room - sum((m.used for m in to_rehost), Fraction(0))


def up(members: list[Member]) -> list[Member]:
    return [m for m in members if m.available]


@settings(max_examples=300, deadline=None)
@given(azs())
def test_tolerated_failures_match_brute_force(az: tuple[list[Member], Fraction]) -> None:
    members, q = az
    analysis = Analysis(members, q)
    names = [m.name for m in up(members)]
    worst_by_size = []
    for size in range(len(names) + 1):
        worst_by_size.append(min(margin_of(members, q, set(f)) for f in itertools.combinations(names, size)))
    survivable_sizes = [size for size, margin in enumerate(worst_by_size) if margin >= 0]
    # Losing more never helps (every w is >= 0), so the survivable sizes are 0..m.
    assert survivable_sizes == list(range(len(survivable_sizes)))
    assert analysis.tolerated == len(survivable_sizes) - 1
    for size, margin in enumerate(worst_by_size):
        assert analysis.node_loss(size).margin == margin
    if analysis.tolerated >= 0:
        assert analysis.headroom == worst_by_size[analysis.tolerated]
    else:
        assert analysis.headroom == analysis.budget < 0


@settings(max_examples=300, deadline=None)
@given(azs())
def test_worst_rack_and_rack_plus_one_match_brute_force(az: tuple[list[Member], Fraction]) -> None:
    members, q = az
    analysis = Analysis(members, q)
    racks: dict[str, set[str]] = {}
    for m in up(members):
        racks.setdefault(rack_key(m), set()).add(m.name)
    if not racks:
        assert analysis.worst_rack() is None
        return
    rack_margins = {rack: margin_of(members, q, names) for rack, names in racks.items()}
    worst = analysis.worst_rack()
    assert worst is not None
    assert worst.margin == min(rack_margins.values())
    assert rack_margins[worst.rack or ""] == worst.margin
    assert worst.survivable == all(m >= 0 for m in rack_margins.values())
    plus_one = []
    for rack, names in racks.items():
        outside = [m.name for m in up(members) if m.name not in names]
        plus_one += [margin_of(members, q, names | {x}) for x in outside] or [rack_margins[rack]]
    got = analysis.worst_rack(1)
    assert got is not None and got.margin == min(plus_one)
    # every rack's own figure is the definition's
    for row in analysis.racks():
        if row.nodes:
            assert row.loss.margin == rack_margins[row.rack]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 60), p_pct=st.integers(0, 100), q_pct=st.integers(1, 100),
       capacity=st.sampled_from([100, 131072, 256000, 12.5]))
def test_identical_nodes_reduce_to_the_rule(n: int, p_pct: int, q_pct: int, capacity: float) -> None:
    """For n identical nodes at use p <= q the exact answer is floor(n(1 - p/q)) = the rule."""
    p, q = Fraction(p_pct, 100), Fraction(q_pct, 100)
    c = Fraction(str(capacity))
    analysis = Analysis([Member(f"n{i}", c, p * c, rack=f"R{i}") for i in range(n)], q)
    if p <= q:
        rule = int((n * (1 - p / q)) // 1)
        assert analysis.tolerated == rule == analysis.seed_nodes
        # m/n <= 1 - p/q, and m + 1 breaks it
        assert Fraction(rule, n) <= 1 - p / q < Fraction(rule + 1, n)
    else:
        # Every node is already above q: no failure pushes a survivor over q that is not
        # already there (exact: 0 failures are "fine"), and the rule's bound is negative.
        assert analysis.tolerated == 0
        assert analysis.seed_nodes == -1
        assert len(analysis.over_q) == n


def test_identical_nodes_p60_q80_n12_is_exactly_3() -> None:
    c = Fraction(256000)
    analysis = Analysis([Member(f"n{i}", c, Fraction(3, 5) * c) for i in range(12)], Fraction(4, 5))
    assert analysis.seed_ratio == Fraction(1, 4)
    assert analysis.tolerated == 3
    assert analysis.headroom == 0


@settings(max_examples=40, deadline=None)
@given(
    used=st.lists(st.integers(0, 100), min_size=1, max_size=6),
    racks=st.integers(1, 3),
    require=st.sampled_from(["nodes=1", "nodes=2", "rack", "rack+1"]),
)
def test_planned_node_count_is_the_smallest_that_works(used: list[int], racks: int, require: str) -> None:
    nodes = [node(f"h{i}", "az", f"R{i % racks}", memory=(100, u)) for i, u in enumerate(used)]
    kind, _, count = require.partition("=")
    requirement = (Requirement(rack=False, count=int(count)) if kind == "nodes"
                   else Requirement(rack=True, count=int(require.partition("+")[2] or 0)))
    policy = Policy(ceilings={"MEMORY_MB": Fraction(4, 5)}, requirements=(requirement,))
    spec = typical_node(nodes)
    needed, note = plan_nodes(nodes, "az", policy, spec, limit=64)
    if needed is None:
        assert note
        assert not az_meets(nodes + new_nodes(nodes, "az", 64, spec), policy)
        return
    assert az_meets(nodes + new_nodes(nodes, "az", needed, spec), policy)
    if needed:
        assert not az_meets(nodes + new_nodes(nodes, "az", needed - 1, spec), policy)


def test_plan_says_when_one_rack_can_never_survive() -> None:
    nodes = [node(f"h{i}", "az", "R1", memory=(100, 50)) for i in range(3)]
    policy = Policy(ceilings={"MEMORY_MB": Fraction(4, 5)}, requirements=(Requirement(rack=True, count=0),))
    needed, note = plan_nodes(nodes, "az", policy, typical_node(nodes))
    assert needed is None and note is not None and "rack R1" in note


def test_unavailable_nodes_are_not_counted_as_racks_to_lose() -> None:
    nodes = [node("a", "az", "R1", memory=(100, 50), state=NodeState.DOWN),
             node("b", "az", "R2", memory=(100, 10)), node("c", "az", "R3", memory=(100, 10))]
    analysis = Analysis([Member(n.name, n.resources["MEMORY_MB"].capacity, Fraction(n.resources["MEMORY_MB"].used),
                                n.rack, n.state.available) for n in nodes], Fraction(4, 5))
    assert {r.rack for r in analysis.racks()} == {"R1", "R2", "R3"}
    worst = analysis.worst_rack()
    assert worst is not None and worst.rack in ("R2", "R3")


@settings(max_examples=200, deadline=None)
@given(azs(), st.data())
def test_margin_is_the_room_for_growth(az: tuple[list[Member], Fraction], data: st.DataObject) -> None:
    """Δ more allocated on a node up that stays below q lowers every scenario's margin by Δ."""
    members, q = az
    below = [m for m in up(members) if m.used < q * m.capacity]
    if not below:
        return
    grown = data.draw(st.sampled_from(below))
    delta = data.draw(st.fractions(min_value=0, max_value=q * grown.capacity - grown.used))
    before = Analysis(members, q)
    after = Analysis([Member(m.name, m.capacity, m.used + delta, m.rack, m.available) if m is grown else m
                      for m in members], q)
    for extra in (0, 1):
        old, new = before.worst_rack(extra), after.worst_rack(extra)
        assert old is not None and new is not None
        assert new.margin == old.margin - delta
    assert after.node_loss(2).margin == before.node_loss(2).margin - delta
