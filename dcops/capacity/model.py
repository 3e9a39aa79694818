"""The cloud as the capacity check sees it: nodes with their AZ, rack, state and, per resource
class, Placement's inventory and usage. Plain frozen data; no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fractions import Fraction


class NodeState(StrEnum):
    """Whether a node can take load. Only ``UP`` nodes are survivors; the load of every other
    node must already be carried by the survivors."""

    UP = "up"  # compute service enabled and reporting
    DISABLED = "disabled"  # compute service disabled (maintenance, drained, ...)
    DOWN = "down"  # compute service not reporting, or forced down
    REMOVED = "removed"  # what-if: taken out of the AZ
    FAILED = "failed"  # what-if: assumed failed

    @property
    def available(self) -> bool:
        return self is NodeState.UP


def as_fraction(value: Fraction | float | int | str) -> Fraction:
    """An exact fraction of a number as written: ``0.9`` (a float) is 9/10, not 0.900000000000000022.

    Placement sends allocation ratios and people write ceilings as decimals; going through the
    shortest decimal representation keeps identical-node cases exact (p=0.6, q=0.8 → 1/4).
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


@dataclass(frozen=True)
class Resource:
    """One resource class on one node, as Placement knows it.

    ``capacity`` follows Placement's own rule: ``(total - reserved) * allocation_ratio``.
    """

    total: int
    reserved: int = 0
    allocation_ratio: Fraction = Fraction(1)
    used: int = 0

    @property
    def capacity(self) -> Fraction:
        return max(Fraction(0), (self.total - self.reserved) * self.allocation_ratio)


@dataclass(frozen=True)
class Node:
    """One compute node.

    ``name`` is Nova's service host (what AZ host lists hold); ``hypervisor`` its hypervisor
    hostname and ``provider`` the Placement resource provider UUID (= compute node UUID).
    ``rack`` is None when no inventory names one.
    """

    name: str
    az: str
    resources: Mapping[str, Resource]
    state: NodeState = NodeState.UP
    rack: str | None = None
    hypervisor: str = ""
    provider: str = ""
    reason: str | None = None  # why the service is disabled, as Nova says

    def with_state(self, state: NodeState, reason: str | None = None) -> Node:
        return replace(self, state=state, reason=reason if reason is not None else self.reason)


@dataclass(frozen=True)
class Snapshot:
    """Every compute node of a cloud at one time.

    ``azs`` lists the AZ names Nova knows, including ones without compute nodes. ``problems``
    are warnings met while collecting; ``incomplete`` are problems that leave figures partial
    (a hypervisor without numbers in Placement, for example).
    """

    taken_at: dt.datetime
    nodes: tuple[Node, ...]
    azs: tuple[str, ...] = ()
    source: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()

    def az_names(self) -> list[str]:
        """Every AZ with nodes or known to Nova, sorted."""
        return sorted(set(self.azs) | {n.az for n in self.nodes})

    def in_az(self, az: str) -> list[Node]:
        return [n for n in self.nodes if n.az == az]
