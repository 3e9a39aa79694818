"""The capacity check: a snapshot and a policy in, a ``CapacityResult`` out (pure).

Per AZ and resource class it runs the arithmetic of ``dcops.capacity.math``, decides each
requirement of the policy, names the class that binds (the one closest to breaking, or furthest
past it), writes a one-line reason for an AZ that fails, and counts how many more nodes of a
given shape would make it pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from dcops.capacity.math import Analysis, Loss, Member, RackFigures
from dcops.capacity.model import Node, NodeState, Resource, Snapshot
from dcops.capacity.policy import Policy, Requirement
from dcops.capacity.results import (
    AzResult,
    CapacityResult,
    ClassResult,
    LossResult,
    RackResult,
    RequirementResult,
    UnavailableNode,
)
from dcops.capacity.units import format_amount, format_ratio
from dcops.capacity.whatif import new_nodes, node_spec
from dcops.errors import UsageError

# Past this many added nodes a plan is not a plan: report "not reachable" instead.
PLAN_LIMIT = 4096


@dataclass(frozen=True)
class ClassVerdict:
    """One class of one AZ: the arithmetic, each requirement's deciding scenario, the verdict."""

    resource_class: str
    analysis: Analysis
    losses: tuple[tuple[Requirement, Loss], ...]

    @property
    def met(self) -> bool:
        return all(loss.survivable for _, loss in self.losses)

    def relative(self, loss: Loss) -> Fraction:
        """A margin as a share of the AZ's capacity, so that classes can be compared."""
        capacity = self.analysis.capacity
        if capacity:
            return loss.margin / capacity
        return Fraction(0) if loss.margin >= 0 else Fraction(-1)

    @property
    def tightest(self) -> tuple[Requirement, Loss]:
        """The requirement with the smallest relative margin (the one that fails first)."""
        return min(self.losses, key=lambda rl: (self.relative(rl[1]), str(rl[0])))


def members_of(nodes: Sequence[Node], resource: str) -> list[Member]:
    """The arithmetic's view of ``nodes`` for one class (nodes without that class left out)."""
    return [
        Member(name=n.name, capacity=r.capacity, used=Fraction(r.used), rack=n.rack,
               available=n.state.available)
        for n in nodes
        if (r := n.resources.get(resource)) is not None
    ]


def requirement_loss(analysis: Analysis, requirement: Requirement) -> Loss:
    """The scenario that decides ``requirement``: the worst ``count`` nodes, or the worst rack
    (plus ``count`` nodes)."""
    if not requirement.rack:
        return analysis.node_loss(requirement.count)
    loss = analysis.worst_rack(requirement.count)
    if loss is None:  # no node up: nothing more to lose, only the load already owed
        return analysis.nothing_lost()
    return loss


def judge_az(nodes: Sequence[Node], policy: Policy) -> list[ClassVerdict]:
    """The verdict of every checked class present on ``nodes`` (one AZ)."""
    verdicts = []
    for resource, q in policy.ceilings.items():
        members = members_of(nodes, resource)
        if not members:
            continue
        analysis = Analysis(members, q)
        losses = tuple((req, requirement_loss(analysis, req)) for req in policy.requirements)
        verdicts.append(ClassVerdict(resource, analysis, losses))
    return verdicts


def az_meets(nodes: Sequence[Node], policy: Policy) -> bool:
    """Whether an AZ made of ``nodes`` meets ``policy`` in every class."""
    return all(v.met for v in judge_az(nodes, policy))


def plan_nodes(nodes: Sequence[Node], az: str, policy: Policy, spec: Mapping[str, Resource],
               limit: int = PLAN_LIMIT) -> tuple[int | None, str | None]:
    """How many more nodes shaped ``spec`` (placed as ``whatif.add_nodes`` places them) make the
    AZ meet the policy: (count, None), or (None, why not).

    Margins never shrink as empty nodes are added (each adds q*c to the room and at most q*c to
    any failure scenario), so the smallest count is found by doubling, then bisecting.
    """
    def meets(count: int) -> bool:
        return az_meets(list(nodes) + new_nodes(nodes, az, count, spec), policy)

    if meets(0):
        return 0, None
    racks = {n.rack if n.rack is not None else f"?{n.name}" for n in nodes if n.state is not NodeState.REMOVED}
    if policy.needs_racks and len(racks) == 1 and None not in {n.rack for n in nodes}:
        (only,) = racks
        return None, f"every node of {az} is in rack {only}: no number of nodes in it survives losing it"
    low, high = 0, 1
    while not meets(high):
        if high >= limit:
            return None, f"not met even with {limit} more nodes of that shape"
        low, high = high, min(high * 2, limit)
    while high - low > 1:
        middle = (low + high) // 2
        if meets(middle):
            high = middle
        else:
            low = middle
    return high, None


def _loss_result(loss: Loss | None) -> LossResult | None:
    if loss is None:
        return None
    return LossResult(scenario=loss.scenario, label=loss.label, nodes=list(loss.nodes),
                      allocated=float(loss.allocated), room=float(loss.room), margin=float(loss.margin),
                      survivable=loss.survivable, rack=loss.rack)


def _rack_result(rack: RackFigures) -> RackResult:
    return RackResult(rack=rack.rack, known=rack.known, nodes=rack.nodes, unavailable=rack.unavailable,
                      capacity=float(rack.capacity), allocated=float(rack.allocated),
                      room=float(rack.loss.room), margin=float(rack.loss.margin),
                      survivable=rack.loss.survivable)


def _class_result(az: str, verdict: ClassVerdict, binding: bool) -> ClassResult:
    a = verdict.analysis
    tolerated = a.tolerated
    next_failure = a.node_loss(tolerated + 1) if tolerated + 1 <= a.n else None
    if tolerated < 0:
        next_failure = None
    return ClassResult(
        az=az,
        resource_class=verdict.resource_class,
        q=float(a.q),
        nodes=a.n,
        unavailable=len(a.unavailable),
        capacity=float(a.capacity),
        allocated=float(a.allocated),
        usage_ratio=None if a.usage_ratio is None else float(a.usage_ratio),
        seed_ratio=None if a.seed_ratio is None else float(a.seed_ratio),
        seed_nodes=a.seed_nodes,
        tolerated_failures=tolerated,
        headroom=float(a.headroom),
        budget=float(a.budget),
        policy_met=verdict.met,
        binding=binding,
        requirements=[RequirementResult(str(req), loss.survivable, _loss_result(loss))  # type: ignore[arg-type]
                      for req, loss in verdict.losses],
        next_failure=_loss_result(next_failure),
        worst_rack=_loss_result(a.worst_rack(0)),
        worst_rack_plus_one=_loss_result(a.worst_rack(1)),
        over_q=list(a.over_q),
        racks=[_rack_result(r) for r in a.racks()],
    )


def _names(names: Sequence[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def explain(az: str, verdict: ClassVerdict, requirement: Requirement, loss: Loss) -> str:
    """The one-line reason an AZ fails ``requirement`` in one class."""
    a = verdict.analysis
    rc = verdict.resource_class
    q = format_ratio(a.q)
    if a.budget < 0:
        names = [m.name for m in a.unavailable]
        return (f"{az}: {len(names)} unavailable node(s) ({_names(names)}) still carry "
                f"{format_amount(a.pending, rc)} but the {a.n} node(s) up have only "
                f"{format_amount(a.absorbable, rc)} of room under q={q} ({rc}; requires {requirement})")
    count = len(loss.nodes)
    allocated = format_amount(loss.allocated, rc)
    if requirement.rack:
        what = f"{loss.label} ({count} node{'' if count == 1 else 's'}, {allocated} allocated)"
    elif count == 1:
        what = f"{loss.nodes[0]} ({allocated} allocated)"
    else:
        what = f"{count} nodes ({_names(list(loss.nodes))}; {allocated} allocated)"
    owed = (f" after taking {format_amount(a.pending, rc)} from {len(a.unavailable)} unavailable node(s)"
            if a.pending else "")
    return (f"{az}: losing {what} leaves {format_amount(loss.room, rc)} of room under q={q}{owed} "
            f"({rc}; requires {requirement})")


def describe_spec(spec: Mapping[str, Resource]) -> str:
    """A node shape for people: ``512.0 GiB, 64 vCPU``."""
    parts = [format_amount(spec[rc].total, rc) for rc in ("MEMORY_MB", "VCPU", "DISK_GB") if rc in spec]
    return ", ".join(parts) or "no resources"


def check_az(az: str, nodes: Sequence[Node], policy: Policy,
             new_node: Mapping[str, int] | None = None) -> AzResult:
    """Check one AZ. ``new_node`` gives totals per class for the node shape used to count how
    many more nodes are needed (the AZ's typical node by default)."""
    verdicts = judge_az(nodes, policy)
    met = all(v.met for v in verdicts)
    binding: ClassVerdict | None = None
    if verdicts:
        binding = min(verdicts, key=lambda v: (v.relative(v.tightest[1]), v.resource_class))
    reason = None
    if not met and binding is not None:
        requirement, loss = binding.tightest
        reason = explain(az, binding, requirement, loss)
    needed: int | None = 0
    note = None
    spec: dict[str, Resource] = {}
    if not met:
        spec = node_spec(nodes, new_node or {})
        needed, note = plan_nodes(nodes, az, policy, spec)
        if reason is not None:
            if needed is not None:
                reason += f"; {needed} more node(s) of {describe_spec(spec)} would meet it"
            elif note:
                reason += f"; {note}"
    return AzResult(
        az=az,
        policy_met=met,
        nodes=len(nodes),
        classes=[_class_result(az, v, v is binding) for v in verdicts],
        binding_class=binding.resource_class if binding else None,
        reason=reason,
        unavailable=[UnavailableNode(n.name, n.state.value, n.reason) for n in nodes if not n.state.available],
        unmapped=sorted(n.name for n in nodes if n.rack is None),
        nodes_needed=needed,
        nodes_needed_note=note,
        node_spec={rc: {"total": r.total, "reserved": r.reserved, "allocation_ratio": float(r.allocation_ratio)}
                   for rc, r in spec.items()},
    )


def check_capacity(snapshot: Snapshot, policy: Policy, *, azs: Sequence[str] | None = None,
                   new_node: Mapping[str, int] | None = None, whatif: Sequence[str] = (),
                   now: dt.datetime | None = None) -> CapacityResult:
    """Check every AZ of ``snapshot`` (or only ``azs``) against ``policy``.

    Raises nothing for findings: an AZ that fails is a result, not an error.
    """
    now = now or dt.datetime.now(dt.UTC)
    known = snapshot.az_names()
    unknown = sorted(set(azs or ()) - set(known))
    if unknown:
        raise UsageError(f"no such AZ: {', '.join(unknown)} (known: {', '.join(known) or 'none'})")
    names = [name for name in known if not azs or name in azs]
    by_az: dict[str, list[Node]] = {name: [] for name in names}
    for node in snapshot.nodes:
        if node.az in by_az:
            by_az[node.az].append(node)
    results = [check_az(name, by_az[name], policy, new_node) for name in names]
    problems = list(snapshot.problems)
    for az in results:
        if az.unmapped:
            problems.append(
                f"{az.az}: {len(az.unmapped)} node(s) with no rack in the inventory, each counted as a "
                f"rack of its own: {_names(az.unmapped, 10)}")
        if not az.nodes:
            problems.append(f"{az.az}: no compute nodes")
    return CapacityResult(
        checked_at=now.isoformat(),
        taken_at=snapshot.taken_at.isoformat(),
        require=policy.describe(),
        ceilings={rc: float(q) for rc, q in policy.ceilings.items()},
        azs=results,
        source=dict(snapshot.source),
        whatif=list(whatif),
        problems=problems,
        incomplete=list(snapshot.incomplete),
    )
