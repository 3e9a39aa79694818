"""The wave planner: pure (hosts + policy -> waves), no I/O.

Hosts are grouped into stages by role in the policy's order for the action (``*`` takes every role
not named). Each stage is cut into waves, in order, so that a wave switches at most
``per_rack`` hosts of one rack and ``global`` hosts overall; within a stage, hosts are dealt
round-robin across racks so that every wave spreads its inrush over as many racks as it can.
A stage never shares a wave with the next one: databases are up before applications start.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dcops.models import Host
from dcops.power.policy import Policy

TARGET_STATE = {"open": "on", "close": "off"}


@dataclass(frozen=True)
class Wave:
    index: int
    stage: str  # the role (or "*") this wave powers
    hosts: tuple[str, ...]
    racks: tuple[tuple[str, int], ...]  # (rack, hosts of it in this wave)


@dataclass(frozen=True)
class PowerPlan:
    action: str  # open | close
    target: str  # on | off
    waves: tuple[Wave, ...]
    pause_seconds: float

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(h for w in self.waves for h in w.hosts)


def rack_of(host: Host) -> str:
    loc = host.location
    return "/".join(p for p in (loc.site, loc.room, loc.rack) if p) or "(no rack)"


def stage_of(host: Host, order: tuple[str, ...]) -> int:
    role = host.role or ""
    if role in order:
        return order.index(role)
    return order.index("*") if "*" in order else len(order)


def plan_waves(hosts: list[Host], policy: Policy, action: str) -> PowerPlan:
    """Cut ``hosts`` into waves for ``open`` or ``close``."""
    if action not in TARGET_STATE:
        raise ValueError(f"action must be open or close, not {action!r}")
    order = policy.order(action)
    stages: dict[int, list[Host]] = defaultdict(list)
    for host in hosts:
        stages[stage_of(host, order)].append(host)
    waves: list[Wave] = []
    for stage_index in sorted(stages):
        name = order[stage_index] if stage_index < len(order) else "*"
        by_rack: dict[str, list[Host]] = defaultdict(list)
        for host in sorted(stages[stage_index], key=lambda h: (rack_of(h), h.location.u or 0, h.name)):
            by_rack[rack_of(host)].append(host)
        # Deal round-robin across racks: each round takes up to per_rack hosts of every rack.
        queue: list[Host] = []
        racks = sorted(by_rack)
        while any(by_rack[r] for r in racks):
            for rack in racks:
                take, by_rack[rack] = by_rack[rack][: policy.per_rack], by_rack[rack][policy.per_rack:]
                queue.extend(take)
        current: list[Host] = []
        counts: dict[str, int] = defaultdict(int)
        pending = list(queue)
        while pending:
            rest = []
            for host in pending:
                rack = rack_of(host)
                if len(current) < policy.global_limit and counts[rack] < policy.per_rack:
                    current.append(host)
                    counts[rack] += 1
                else:
                    rest.append(host)
            waves.append(Wave(len(waves) + 1, name, tuple(h.name for h in current),
                              tuple(sorted(counts.items()))))
            current, counts, pending = [], defaultdict(int), rest
    return PowerPlan(action, TARGET_STATE[action], tuple(waves), policy.pause_seconds)
