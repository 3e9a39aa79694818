"""Nova and Placement records joined into a ``Snapshot`` (pure).

How the pieces fit (and why each is read):

* ``os-services`` (binary nova-compute) gives each compute host's AZ (``zone``: Nova computes it
  from the host's AZ aggregate, or the default AZ) and whether it is disabled, down or forced
  down. It is the only listing that still shows disabled hosts with their AZ.
* ``os-availability-zone/detail`` lists the AZ names and the *enabled* hosts of each (Nova leaves
  disabled services out of it), so it cannot be the membership list on its own; it is read for
  AZ names (including AZs with nothing enabled) and as a cross-check.
* ``os-aggregates`` with ``availability_zone`` metadata is where AZ membership is configured; it
  places hosts whose service record is missing and is cross-checked against the services.
* ``os-hypervisors/detail`` joins a service host to its compute node: since microversion 2.53
  the hypervisor ``id`` is the compute node UUID, which is the Placement resource provider UUID
  (older clouds: the provider's name is the hypervisor hostname).
* Placement gives each provider's inventories and usages.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.capacity.model import Node, NodeState, Resource, Snapshot, as_fraction

COMPUTE_BINARY = "nova-compute"
INTERNAL_ZONE = "internal"  # Nova's zone of control-plane services, never a compute AZ


@dataclass(frozen=True)
class ServiceRecord:
    host: str
    binary: str
    zone: str | None
    status: str  # enabled | disabled
    state: str  # up | down
    forced_down: bool = False
    disabled_reason: str | None = None


@dataclass(frozen=True)
class ZoneRecord:
    name: str
    available: bool
    hosts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class AggregateRecord:
    name: str
    availability_zone: str | None
    hosts: tuple[str, ...] = ()
    uuid: str | None = None


@dataclass(frozen=True)
class HypervisorRecord:
    id: str
    hostname: str
    service_host: str | None
    state: str | None = None  # up | down
    status: str | None = None  # enabled | disabled


@dataclass(frozen=True)
class ProviderRecord:
    uuid: str
    name: str
    inventories: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    usages: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CloudData:
    """Everything read from one cloud, as plain records."""

    services: Sequence[ServiceRecord]
    zones: Sequence[ZoneRecord]
    aggregates: Sequence[AggregateRecord]
    hypervisors: Sequence[HypervisorRecord]
    providers: Sequence[ProviderRecord]
    source: Mapping[str, str] = field(default_factory=dict)


def _state(service: ServiceRecord | None, hypervisor: HypervisorRecord) -> NodeState:
    status = service.status if service else hypervisor.status
    state = service.state if service else hypervisor.state
    if (service and service.forced_down) or state == "down":
        return NodeState.DOWN
    if status == "disabled":
        return NodeState.DISABLED
    return NodeState.UP


def _names(items: Sequence[str], most: int = 10) -> str:
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def build_snapshot(data: CloudData, taken_at: dt.datetime) -> Snapshot:
    """Join the records of one cloud into a snapshot of its compute nodes (racks not yet known).

    Problems that leave the figures partial (a hypervisor without a Placement provider, a host
    in no AZ) go to ``incomplete``; inconsistencies that do not change the figures go to
    ``problems``.
    """
    problems: list[str] = []
    incomplete: list[str] = []
    services = {s.host: s for s in data.services if s.binary == COMPUTE_BINARY}
    aggregate_az: dict[str, str] = {}
    for agg in data.aggregates:
        if not agg.availability_zone:
            continue  # an aggregate for scheduling (e.g. high-memory hosts), not an AZ
        for host in agg.hosts:
            other = aggregate_az.setdefault(host, agg.availability_zone)
            if other != agg.availability_zone:
                problems.append(f"{host}: in AZ aggregates of both {other} and {agg.availability_zone}")
    listed_az: dict[str, str] = {}
    for zone in data.zones:
        for host, binaries in (zone.hosts or {}).items():
            if COMPUTE_BINARY in binaries:
                listed_az[host] = zone.name
    by_id = {p.uuid: p for p in data.providers}
    by_name = {p.name: p for p in data.providers}
    per_host = Counter(h.service_host for h in data.hypervisors)
    nodes: list[Node] = []
    no_provider: list[str] = []
    no_az: list[str] = []
    seen_hosts: set[str] = set()
    for hv in sorted(data.hypervisors, key=lambda h: (h.service_host or "", h.hostname)):
        host = hv.service_host or hv.hostname
        seen_hosts.add(host)
        service = services.get(host)
        az = (service.zone if service else None) or aggregate_az.get(host) or listed_az.get(host)
        if not az:
            no_az.append(host)
            continue
        if host in aggregate_az and aggregate_az[host] != az:
            problems.append(f"{host}: Nova's service says AZ {az}, its aggregate says {aggregate_az[host]}")
        if host in listed_az and listed_az[host] != az:
            problems.append(f"{host}: listed in AZ {listed_az[host]} but its service is in {az}")
        provider = by_id.get(hv.id) or by_name.get(hv.hostname)
        if provider is None:
            no_provider.append(f"{host} ({az})")
            continue
        resources = {}
        for rc, inv in provider.inventories.items():
            resources[rc] = Resource(
                total=int(inv.get("total") or 0),
                reserved=int(inv.get("reserved") or 0),
                allocation_ratio=as_fraction(inv.get("allocation_ratio") or 1.0),
                used=int(provider.usages.get(rc, 0)),
            )
        state = _state(service, hv)
        nodes.append(Node(
            # One hypervisor per host is the rule for libvirt; Ironic-style hosts with many
            # hypervisors are told apart by the hypervisor hostname.
            name=host if per_host[hv.service_host] <= 1 else hv.hostname,
            az=az,
            resources=resources,
            state=state,
            hypervisor=hv.hostname,
            provider=provider.uuid,
            reason=service.disabled_reason if service and state is not NodeState.UP else None,
        ))
    if no_provider:
        incomplete.append(f"{len(no_provider)} hypervisor(s) have no resource provider in Placement, "
                          f"so their capacity and load are unknown: {_names(sorted(no_provider))}")
    if no_az:
        incomplete.append(f"{len(no_az)} compute host(s) belong to no AZ: {_names(sorted(no_az))}")
    orphans = sorted(set(services) - seen_hosts)
    if orphans:
        problems.append(f"{len(orphans)} compute service(s) have no hypervisor record: {_names(orphans)}")
    azs = {z.name for z in data.zones if z.name != INTERNAL_ZONE}
    azs |= {a.availability_zone for a in data.aggregates if a.availability_zone}
    return Snapshot(
        taken_at=taken_at,
        nodes=tuple(nodes),
        azs=tuple(sorted(azs)),
        source=dict(data.source),
        problems=tuple(problems),
        incomplete=tuple(incomplete),
    )
