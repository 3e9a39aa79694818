"""The result of a capacity check as plain, JSON-serialisable data.

``CapacityResult.to_json()`` is the full document (schema ``dcops.capacity.result/v1``, read
back with ``CapacityResult.from_json``); ``to_records()`` flattens it to one row per AZ and
resource class with scalar values only, for the state store. Amounts are in the resource class's
own unit (MiB for MEMORY_MB, GiB for DISK_GB, CPUs for VCPU); ratios are plain numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dcops.errors import InvalidInputError

RESULT_SCHEMA = "dcops.capacity.result/v1"


@dataclass(frozen=True)
class LossResult:
    """One failure scenario: what is lost, what it carried, and the room left for it."""

    scenario: str
    label: str
    nodes: list[str]
    allocated: float
    room: float
    margin: float
    survivable: bool
    rack: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LossResult:
        return cls(**data)


@dataclass(frozen=True)
class RequirementResult:
    """One requirement of the policy for one class, and the scenario that decides it."""

    requirement: str
    met: bool
    loss: LossResult

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequirementResult:
        return cls(requirement=data["requirement"], met=data["met"], loss=LossResult.from_json(data["loss"]))


@dataclass(frozen=True)
class RackResult:
    """One rack of one AZ for one class: its nodes and what losing it leaves."""

    rack: str
    known: bool
    nodes: int
    unavailable: int
    capacity: float
    allocated: float
    room: float
    margin: float
    survivable: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RackResult:
        return cls(**data)


@dataclass(frozen=True)
class ClassResult:
    """The figures of one AZ for one resource class."""

    az: str
    resource_class: str
    q: float
    nodes: int  # up
    unavailable: int
    capacity: float  # of the nodes up
    allocated: float  # on all nodes
    usage_ratio: float | None  # p = allocated / capacity
    seed_ratio: float | None  # 1 - p/q
    seed_nodes: int | None  # floor(n * (1 - p/q))
    tolerated_failures: int  # exact; -1: cannot carry what is already down
    headroom: float
    budget: float  # B: room before anything more fails
    policy_met: bool
    binding: bool = False
    requirements: list[RequirementResult] = field(default_factory=list)
    next_failure: LossResult | None = None  # the smallest node loss that is not survivable
    worst_rack: LossResult | None = None
    worst_rack_plus_one: LossResult | None = None
    over_q: list[str] = field(default_factory=list)
    racks: list[RackResult] = field(default_factory=list)

    @property
    def worst_rack_margin_ratio(self) -> float | None:
        """Margin of the worst rack relative to the AZ's capacity (for metrics)."""
        if self.worst_rack is None or not self.capacity:
            return None
        return self.worst_rack.margin / self.capacity

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClassResult:
        data = dict(data)
        data["requirements"] = [RequirementResult.from_json(r) for r in data.get("requirements", [])]
        for key in ("next_failure", "worst_rack", "worst_rack_plus_one"):
            data[key] = LossResult.from_json(data[key]) if data.get(key) else None
        data["racks"] = [RackResult.from_json(r) for r in data.get("racks", [])]
        return cls(**data)


@dataclass(frozen=True)
class UnavailableNode:
    """A node that is not a survivor, and why."""

    name: str
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class AzResult:
    """One availability zone: the verdict, what binds, and the figures per class."""

    az: str
    policy_met: bool
    nodes: int  # all nodes, up or not
    classes: list[ClassResult] = field(default_factory=list)
    binding_class: str | None = None
    reason: str | None = None  # one line when the policy is not met
    unavailable: list[UnavailableNode] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # nodes with no rack in the inventory
    nodes_needed: int | None = None  # more nodes of node_spec to meet the policy
    nodes_needed_note: str | None = None
    node_spec: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AzResult:
        data = dict(data)
        data["classes"] = [ClassResult.from_json(c) for c in data.get("classes", [])]
        data["unavailable"] = [UnavailableNode(**u) for u in data.get("unavailable", [])]
        return cls(**data)


@dataclass(frozen=True)
class CapacityResult:
    """A whole capacity check: when, against what data and policy, and each AZ's result."""

    checked_at: str  # ISO 8601, UTC
    taken_at: str  # when the cloud data was read
    require: str  # "rack", "nodes=1,rack+1", ...
    ceilings: dict[str, float]
    azs: list[AzResult] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)
    whatif: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    schema: str = RESULT_SCHEMA

    @property
    def policy_met(self) -> bool:
        return all(az.policy_met for az in self.azs)

    def to_json(self) -> dict[str, Any]:
        """The whole result as JSON-able data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapacityResult:
        """Read back ``to_json()`` output. Raises ``InvalidInputError`` on another schema."""
        if not isinstance(data, dict) or data.get("schema") != RESULT_SCHEMA:
            raise InvalidInputError(f"not a capacity result of schema {RESULT_SCHEMA}")
        data = dict(data)
        data["azs"] = [AzResult.from_json(a) for a in data.get("azs", [])]
        return cls(**data)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat row per AZ and resource class (scalars only), for the state store."""
        rows = []
        for az in self.azs:
            for c in az.classes:
                rows.append({
                    "checked_at": self.checked_at,
                    "taken_at": self.taken_at,
                    "az": az.az,
                    "resource_class": c.resource_class,
                    "require": self.require,
                    "q": c.q,
                    "nodes": c.nodes,
                    "unavailable": c.unavailable,
                    "capacity": c.capacity,
                    "allocated": c.allocated,
                    "usage_ratio": c.usage_ratio,
                    "seed_ratio": c.seed_ratio,
                    "seed_nodes": c.seed_nodes,
                    "tolerated_failures": c.tolerated_failures,
                    "headroom": c.headroom,
                    "worst_rack": c.worst_rack.rack if c.worst_rack else None,
                    "worst_rack_margin": c.worst_rack.margin if c.worst_rack else None,
                    "worst_rack_survivable": c.worst_rack.survivable if c.worst_rack else None,
                    "rack_plus_one_margin": c.worst_rack_plus_one.margin if c.worst_rack_plus_one else None,
                    "class_policy_met": c.policy_met,
                    "binding": c.binding,
                    "az_policy_met": az.policy_met,
                    "nodes_needed": az.nodes_needed,
                    "reason": az.reason if c.binding else None,
                })
        return rows
