"""Racks from the dcops inventory, put on the nodes of a snapshot (pure).

The cloud knows AZs but not racks; the book knows racks. A node is matched to a host of the book
by its Nova service host, its hypervisor hostname, or the short form of either (the part before
the first dot), in that order. The book is authoritative for racks: a node that is not in it gets
no rack (the check reports it and counts it as a rack of its own). Nova is authoritative for AZs:
a book that disagrees is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TypeVar

from dcops.capacity.model import Node, Snapshot
from dcops.models import Host

T = TypeVar("T")


def short_name(name: str) -> str:
    return name.split(".", 1)[0]


def entry_of(node: Node, exact: Mapping[str, T], short: Mapping[str, T]) -> T | None:
    """A node's entry (``exact`` by name, ``short`` by short name): by its service host, its
    hypervisor hostname, or the short form of either, in that order."""
    for name in (node.name, node.hypervisor):
        if name and name in exact:
            return exact[name]
    for name in (node.name, node.hypervisor):
        if name and short_name(name) in short:
            return short[short_name(name)]
    return None


def assign_racks(snapshot: Snapshot, hosts: Iterable[Host]) -> Snapshot:
    """The snapshot with each node's rack taken from ``hosts``, and a problem for each AZ whose
    book entries disagree with Nova."""
    exact: dict[str, Host] = {}
    short: dict[str, Host] = {}
    for entry in hosts:
        exact.setdefault(entry.name, entry)
        short.setdefault(short_name(entry.name), entry)
    nodes = []
    disagree: dict[str, list[str]] = {}
    for node in snapshot.nodes:
        host = entry_of(node, exact, short)
        if host is None:
            nodes.append(replace(node, rack=None))
            continue
        if host.az and host.az != node.az:
            disagree.setdefault(node.az, []).append(f"{node.name} (book: {host.az})")
        nodes.append(replace(node, rack=host.location.rack))
    problems = list(snapshot.problems)
    for az, names in sorted(disagree.items()):
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        problems.append(f"{az}: the inventory puts {len(names)} node(s) in another AZ than Nova does: {shown}")
    return replace(snapshot, nodes=tuple(nodes), problems=tuple(problems))
