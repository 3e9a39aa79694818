"""Nodes cut off a network their AZ requires count as failed (pure).

A compute node whose service heartbeat is fine can still be unreachable on a business network
(a storage VLAN, the second tenant network of a multi-private cloud): its instances are cut off,
so it is no survivor. ``heartbeat.required`` names the networks each AZ needs; the heartbeat's
latest state (``dcops.heartbeat.store.down_networks``) says who does not answer. Nodes are
matched to hosts as ``capacity.racks`` does: service host, hypervisor, or their short names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from dcops.capacity.model import NodeState, Snapshot
from dcops.capacity.racks import entry_of, short_name


def fail_unreachable(snapshot: Snapshot, down: Mapping[str, Sequence[Mapping[str, Any]]],
                     required: Callable[[str | None], Sequence[str]]) -> tuple[Snapshot, list[str]]:
    """The snapshot with every up node that does not answer on a required network of its AZ set
    to failed (the reason names the networks and since when), and one note per AZ affected."""
    short = {short_name(h): rows for h, rows in down.items()}
    nodes = []
    failed: dict[str, list[str]] = {}
    for node in snapshot.nodes:
        rows = entry_of(node, down, short)
        wanted = set(required(node.az))
        missing = sorted((r for r in rows or () if r.get("network") in wanted), key=lambda r: str(r.get("network")))
        if not missing or not node.state.available:
            nodes.append(node)
            continue
        what = ", ".join(f"{r['network']} ({r.get('address')}: {r.get('error') or 'down'} since "
                         f"{str(r.get('since') or '?')[:19]})" for r in missing)
        nodes.append(node.with_state(NodeState.FAILED, f"unreachable on network {what}, required in {node.az}"))
        failed.setdefault(node.az, []).append(f"{node.name} ({', '.join(str(r['network']) for r in missing)})")
    notes = [f"{az}: {len(names)} node(s) counted as failed, unreachable on a network the AZ requires: "
             f"{', '.join(sorted(names)[:10])}{' ...' if len(names) > 10 else ''}" for az, names in sorted(failed.items())]
    return replace(snapshot, nodes=tuple(nodes)), notes
