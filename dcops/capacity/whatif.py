"""What-if changes to a snapshot before it is checked (pure).

* ``remove_nodes``: nodes leave their AZ (decommissioned); their load must move, so they count
  like nodes already down (their Placement usage stays owed to the survivors).
* ``fail_nodes``: nodes or whole racks assumed failed (``rack=A03``, ``host=cmp-1`` or ``cmp-1``).
* ``add_nodes``: empty nodes of a given shape join an AZ, in a named rack or, by default, each in
  the rack of that AZ that has the fewest nodes (how a planner would spread them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from dcops.capacity.model import Node, NodeState, Resource, Snapshot
from dcops.errors import UsageError


def remove_nodes(snapshot: Snapshot, names: Iterable[str]) -> Snapshot:
    """Mark the named nodes REMOVED. Raises ``UsageError`` for a name not in the snapshot."""
    wanted = set(names)
    return _mark(snapshot, lambda n: n.name in wanted or n.hypervisor in wanted, wanted,
                 NodeState.REMOVED, "what-if: removed")


def fail_nodes(snapshot: Snapshot, selectors: Sequence[str]) -> Snapshot:
    """Mark nodes FAILED by selector: ``rack=R``, ``host=NAME`` or a bare node name.

    Raises ``UsageError`` when a selector is malformed or matches no node.
    """
    for selector in selectors:
        key, sep, value = selector.partition("=")
        if sep and key not in ("rack", "host"):
            raise UsageError(f"--fail: {selector!r}: use rack=RACK or host=NAME")
        match = _in_rack(value) if sep and key == "rack" else _named(value if sep else selector)
        snapshot = _mark(snapshot, match, {selector}, NodeState.FAILED, f"what-if: {selector} failed")
    return snapshot


def _in_rack(rack: str) -> Callable[[Node], bool]:
    return lambda node: node.rack == rack


def _named(name: str) -> Callable[[Node], bool]:
    return lambda node: name in (node.name, node.hypervisor)


def _mark(snapshot: Snapshot, match: Callable[[Node], bool], wanted: set[str], state: NodeState,
          reason: str) -> Snapshot:
    hits = 0
    nodes = []
    for node in snapshot.nodes:
        if match(node):
            hits += 1
            # A node already down stays down: its state says more than the what-if.
            nodes.append(node if node.state in (NodeState.DOWN, NodeState.DISABLED)
                         and state is NodeState.FAILED else node.with_state(state, reason))
        else:
            nodes.append(node)
    if not hits:
        raise UsageError(f"no node matches {', '.join(sorted(wanted))}")
    if state is NodeState.REMOVED:
        found = {n.name for n in snapshot.nodes} | {n.hypervisor for n in snapshot.nodes}
        missing = sorted(wanted - found)
        if missing:
            raise UsageError(f"--remove: not in the cloud: {', '.join(missing)}")
    return replace(snapshot, nodes=tuple(nodes))


def typical_node(nodes: Sequence[Node]) -> dict[str, Resource]:
    """The most common shape per resource class among ``nodes`` (total, reserved, ratio; the
    larger shape wins a tie), with no usage: what "one more node like these" means."""
    shapes: dict[str, Counter[tuple[int, int, object]]] = {}
    for node in nodes:
        for name, res in node.resources.items():
            shapes.setdefault(name, Counter())[(res.total, res.reserved, res.allocation_ratio)] += 1
    spec = {}
    for name, counter in shapes.items():
        (total, reserved, ratio), _ = max(counter.items(), key=lambda kv: (kv[1], kv[0][0]))
        spec[name] = Resource(total=total, reserved=reserved, allocation_ratio=ratio, used=0)  # type: ignore[arg-type]
    return spec


def node_spec(nodes: Sequence[Node], totals: Mapping[str, int]) -> dict[str, Resource]:
    """A new node's shape: the typical node of ``nodes`` with the given totals per class (a
    class the AZ does not have yet gets no reservation and ratio 1)."""
    spec = typical_node(nodes)
    for name, total in totals.items():
        base = spec.get(name, Resource(total=0))
        spec[name] = replace(base, total=total, used=0)
    return spec


def add_nodes(snapshot: Snapshot, az: str, count: int, spec: Mapping[str, Resource],
              rack: str | None = None, prefix: str = "new") -> Snapshot:
    """Add ``count`` empty nodes shaped ``spec`` to ``az``: in ``rack`` when given, else each in
    the rack of the AZ with the fewest nodes so far (no rack when the AZ knows none).

    Raises ``UsageError`` when ``count`` is negative.
    """
    if count < 0:
        raise UsageError("--add-nodes must not be negative")
    return replace(snapshot, nodes=snapshot.nodes + tuple(new_nodes(snapshot.in_az(az), az, count, spec, rack, prefix)))


def new_nodes(existing: Sequence[Node], az: str, count: int, spec: Mapping[str, Resource],
              rack: str | None = None, prefix: str = "new") -> list[Node]:
    """The nodes ``add_nodes`` adds, without building a snapshot (the planner calls this often)."""
    sizes = Counter(n.rack for n in existing if n.rack is not None and n.state is not NodeState.REMOVED)
    resources = {name: replace(res, used=0) for name, res in spec.items()}
    added = []
    for index in range(1, count + 1):
        target = rack
        if target is None and sizes:
            # Fewest nodes first; the name breaks ties so that plans are repeatable.
            target = min(sizes, key=lambda r: (sizes[r], r))
        if target is not None:
            sizes[target] += 1
        added.append(Node(name=f"{prefix}-{index}", az=az, resources=resources, rack=target,
                          reason="what-if: added"))
    return added
