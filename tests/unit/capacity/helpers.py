"""Builders shared by the capacity unit tests."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from dcops.capacity.math import Member
from dcops.capacity.model import Node, NodeState, Resource, Snapshot

CASES = Path(__file__).resolve().parents[2] / "cases" / "capacity"
TAKEN = dt.datetime(2025, 3, 3, 7, 0, tzinfo=dt.UTC)


def load_cases(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
    cases: list[dict[str, Any]] = data["cases"]
    return cases


def case_members(case: dict[str, Any]) -> list[Member]:
    """The members a YAML case describes (listed, or ``identical``)."""
    if "identical" in case:
        spec = case["identical"]
        per_rack = spec.get("per_rack", 1)
        return [Member(name=f"n{i + 1:02d}", capacity=Fraction(str(spec["capacity"])),
                       used=Fraction(str(spec["used"])), rack=f"R{i // per_rack + 1:02d}")
                for i in range(spec["count"])]
    return [Member(name=n["name"], capacity=Fraction(str(n["capacity"])), used=Fraction(str(n["used"])),
                   rack=n.get("rack"), available=n.get("state", "up") == "up")
            for n in case["nodes"]]


def node(name: str, az: str, rack: str | None, memory: tuple[int, int] = (262144, 153600),
         vcpu: tuple[int, int] | None = None, state: NodeState = NodeState.UP, reserved: int = 0,
         ratio: str = "1") -> Node:
    """A node with MEMORY_MB (total, used) and optionally VCPU (total, used) at ratio 4."""
    resources = {"MEMORY_MB": Resource(total=memory[0], reserved=reserved,
                                       allocation_ratio=Fraction(ratio), used=memory[1])}
    if vcpu is not None:
        resources["VCPU"] = Resource(total=vcpu[0], allocation_ratio=Fraction(4), used=vcpu[1])
    return Node(name=name, az=az, resources=resources, state=state, rack=rack,
                hypervisor=f"{name}.example.net", provider=f"uuid-{name}")


def snapshot(*nodes: Node, azs: tuple[str, ...] = ()) -> Snapshot:
    return Snapshot(taken_at=TAKEN, nodes=tuple(nodes), azs=azs, source={"cloud": "unit"})


def counter_example_az(az: str = "az2") -> list[Node]:
    """The issue's example in MiB: 100/100/200 GiB at 70/70/30 %."""
    return [
        node("cmp-b01-01", az, "B01", memory=(102400, 71680)),
        node("cmp-b02-01", az, "B02", memory=(102400, 71680)),
        node("cmp-b03-01", az, "B03", memory=(204800, 61440)),
    ]


def identical_az(az: str = "az1", count: int = 12, per_rack: int = 3) -> list[Node]:
    """``count`` nodes of 256000 MiB at exactly 60 %."""
    return [node(f"cmp-{az}-{i + 1:02d}", az, f"{az.upper()}-R{i // per_rack + 1}", memory=(256000, 153600))
            for i in range(count)]
