"""Heartbeat results -> patrol events: one network down behind one switch/VLAN (or rack) is one
event naming the network and the switch or rack; a host alone is one event of its own. Pure.

The heartbeat (``dcops.heartbeat``) probes every host's address on every network of the book.
Hosts reach a network through a group: the ``switch`` the book names, else their rack's
top-of-rack switch. When more than ``group_ratio`` of a group's hosts (and at least
``group_min_hosts``) stop answering on a network in the same round, the switch or VLAN is the
root cause: one ``network_down`` event for the group, its hosts' failures as children. Otherwise
each host that does not answer is its own ``network_unreachable`` event (a NIC, a cable, a port).

``patrol.converge`` folds group events of a rack that went dark (``patrol.racks``) into the
rack's incident, and takes ``good`` as the parts this round looked at and found answering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dcops.heartbeat.targets import Result
from dcops.patrol.model import Condition, Event, PartInfo, Policy, Severity


@dataclass(frozen=True)
class GroupDown:
    """One root: a network down behind one group, with the hosts that stopped answering."""

    event: Event
    children: tuple[Event, ...]
    rack: str | None  # the rack path when all the group's hosts are in one rack


@dataclass(frozen=True)
class NetworkRound:
    """What the heartbeat of one round means to patrol."""

    groups: tuple[GroupDown, ...] = ()
    host_events: Mapping[str, tuple[Event, ...]] = field(default_factory=dict)  # host -> its own events
    good: frozenset[tuple[str, str]] = frozenset()  # (incident host, part) looked at and answering
    silent: frozenset[str] = frozenset()  # hosts that answered on none of their networks

    def events(self) -> list[Event]:
        return [*(g.event for g in self.groups), *(e for evs in self.host_events.values() for e in evs)]


def part_of(network: str) -> str:
    return f"network:{network}"


def group_label(group: str) -> str:
    """``rack:site/room/A01`` -> ``site/room/A01``; ``switch:tor-1`` -> ``tor-1``."""
    return group.split(":", 1)[1] if ":" in group else group


def _severity(policy: Policy, condition: Condition, default: str) -> Severity:
    return Severity(policy.severity_overrides.get(condition.value, default))


def _where(rack: str | None) -> dict[str, str]:
    if not rack:
        return {}
    parts = rack.split("/")
    names = ("site", "room", "rack")[-len(parts):] if len(parts) <= 3 else ("site", "room", "rack")
    return dict(zip(names, parts[-len(names):], strict=True))


def host_event(result: Result, policy: Policy) -> Event:
    t = result.target
    return Event(t.host, part_of(t.network), Condition.NETWORK_UNREACHABLE,
                 _severity(policy, Condition.NETWORK_UNREACHABLE, "critical"),
                 f"{t.host} does not answer on network {t.network} ({t.address}:{t.port}: {result.error or 'down'})",
                 PartInfo(kind="network", location=t.network, name=t.address),
                 {"network": t.network, "address": t.address, "port": t.port, "error": result.error,
                  "group": t.group})


def check_networks(results: Iterable[Result], policy: Policy, *, ratio: float = 0.5,
                   min_hosts: int = 2) -> NetworkRound:
    """Converge one round of heartbeat results into group and host events."""
    by_group: dict[tuple[str, str], list[Result]] = {}
    for result in results:
        by_group.setdefault((result.target.group, result.target.network), []).append(result)
    groups: list[GroupDown] = []
    host_events: dict[str, list[Event]] = {}
    good: set[tuple[str, str]] = set()
    for (group, network), members in sorted(by_group.items()):
        down = [r for r in members if not r.ok]
        label = group_label(group)
        part = part_of(network)
        for r in members:
            if r.ok:
                good.add((r.target.host, part))
        group_down = (not group.startswith("host:") and len(members) >= min_hosts
                      and len(down) / len(members) > ratio)
        if not group_down:
            if not group.startswith("host:"):
                good.add((label, part))
            for r in down:
                host_events.setdefault(r.target.host, []).append(host_event(r, policy))
            continue
        racks = {r.target.rack for r in members}
        rack = next(iter(racks)) if len(racks) == 1 else None
        switch = label if group.startswith("switch:") else None
        what = f"switch {switch}" if switch else f"rack {label}"
        hosts_down = sorted(r.target.host for r in down)
        summary = (f"network {network} down on {what}: {len(down)} of {len(members)} hosts do not answer "
                   f"(the switch or VLAN, not the hosts)")
        event = Event(label, part, Condition.NETWORK_DOWN, _severity(policy, Condition.NETWORK_DOWN, "critical"),
                      summary, PartInfo(kind="network", location=network, name=switch or label),
                      {"network": network, "switch": switch, "group": group, "hosts_down": hosts_down,
                       "hosts": len(members), **_where(rack)})
        groups.append(GroupDown(event, tuple(host_event(r, policy) for r in down), rack))
    answered: dict[str, bool] = {}
    for members in by_group.values():
        for r in members:
            answered[r.target.host] = answered.get(r.target.host, False) or r.ok
    silent = frozenset(h for h, ok in answered.items() if not ok)
    return NetworkRound(tuple(groups), {h: tuple(evs) for h, evs in host_events.items()}, frozenset(good), silent)


def network_note(groups: Sequence[GroupDown]) -> dict[str, list[str]]:
    """What a dark rack's incident says about the networks that went down with it: the
    management network down too names the switch to look at."""
    nets = sorted({str(g.event.diagnosis.get("network")) for g in groups})
    switches = sorted({str(g.event.diagnosis["switch"]) for g in groups if g.event.diagnosis.get("switch")})
    out: dict[str, list[str]] = {"networks_down": nets}
    if switches:
        out["switches_down"] = switches
    return out
