"""The book's per-network addresses as heartbeat targets, and a round's results. Pure.

A target is one (host, network) pair; its group is what the host reaches that network through:
the ``switch`` the book names, else the host's rack (its top-of-rack switch), else the host
alone. ``patrol.networks`` converges on groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dcops.heartbeat.config import HeartbeatConfig
from dcops.models import Host


@dataclass(frozen=True)
class Target:
    host: str
    network: str
    address: str
    port: int
    group: str  # "switch:<name>" or "rack:<site/room/rack>" or "host:<name>"
    rack: str | None  # site/room/rack path (patrol.racks.rack_path), when the book places the host
    az: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.network)


@dataclass(frozen=True)
class Result:
    """One probe: did ``address:port`` accept a TCP connection within the timeout."""

    target: Target
    ok: bool
    seconds: float
    error: str | None = None


def rack_of(host: Host) -> str | None:
    loc = host.location
    if not loc.rack:
        return None
    return "/".join(p for p in (loc.site, loc.room, loc.rack) if p)


def targets_of(hosts: Iterable[Host], config: HeartbeatConfig) -> list[Target]:
    """Every (host, network) the book gives an address for."""
    out: list[Target] = []
    for host in hosts:
        rack = rack_of(host)
        for network, endpoint in host.networks:
            if endpoint.switch:
                group = f"switch:{endpoint.switch}"
            elif rack:
                group = f"rack:{rack}"
            else:
                group = f"host:{host.name}"
            port = endpoint.port if endpoint.port is not None else config.port_of(network)
            out.append(Target(host.name, network, endpoint.address, port, group, rack, host.az))
    return out


def answers_elsewhere(results: Iterable[Result], outside: str = "mgmt") -> dict[str, bool]:
    """Per host: does it answer on any network but ``outside`` (the management network its BMC
    shares)? What ``patrol.racks`` takes as in-band evidence that a host with a dark BMC runs.
    Hosts probed on no other network are left out (no evidence either way)."""
    seen: dict[str, bool] = {}
    for result in results:
        if result.target.network == outside:
            continue
        seen[result.target.host] = seen.get(result.target.host, False) or result.ok
    return seen


def down_by_host(results: Iterable[Result]) -> Mapping[str, list[str]]:
    """host -> the networks it did not answer on."""
    out: dict[str, list[str]] = {}
    for result in results:
        if not result.ok:
            out.setdefault(result.target.host, []).append(result.target.network)
    return out
