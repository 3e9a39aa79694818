"""Who patrols what, for a given round. Pure: no I/O, no clock.

* **Units, not hosts.** The unit of ownership is a rack (``site/room/rack``); a host without a
  rack is a unit of its own. Rack convergence (power loss, a dead management switch) needs every
  BMC of the rack in one worker's round, so a rack is never split.
* **Rendezvous hashing** (highest random weight, as Ironic's conductor groups use a hash ring):
  each unit goes to the eligible worker with the highest ``hash(worker, unit)``. When a worker
  leaves, only its units move (each to the survivor that ranks next for it); when it returns,
  exactly those units move back. No coordinator, no stored assignment: every worker computes the
  same answer from the same member list.
* **Site affinity**: a worker started with ``--sites dc1,dc2`` is eligible only for units of those
  sites (it can only reach their BMC networks); without ``--sites`` it is eligible everywhere.
  A unit no live worker may patrol is *orphaned* (reported, never silently dropped).
* **Epochs**: rounds of every worker start on the same grid, ``k * interval`` of the database's
  clock. Membership for epoch ``k`` is decided from the lease rows as they stand at the epoch's
  start (a lease registered before it, expiring after it), so every worker, however late its read,
  computes the same members for the same epoch: a returning worker takes its racks back at an epoch
  boundary, exactly when the survivor that held them stops reading them (no gap, no double read).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.models import Host


@dataclass(frozen=True)
class Member:
    """A live worker: its name and the sites it can reach (empty: every site)."""

    name: str
    sites: frozenset[str] = frozenset()

    def serves(self, site: str) -> bool:
        return not self.sites or site in self.sites


@dataclass(frozen=True)
class Assignment:
    """One epoch's ownership: unit -> worker, and the units nobody may patrol."""

    owners: Mapping[str, str]
    orphans: tuple[str, ...]

    def units_of(self, worker: str) -> set[str]:
        return {u for u, w in self.owners.items() if w == worker}


def unit_of(host: Host) -> tuple[str, str]:
    """(site, unit key) of a host: its rack's path, or the host itself when the book gives no rack."""
    loc = host.location
    site = loc.site or ""
    if loc.rack:
        return site, "rack:" + "/".join(p for p in (loc.site, loc.room, loc.rack) if p)
    return site, "host:" + host.name


def units(hosts: Iterable[Host]) -> dict[str, tuple[str, list[str]]]:
    """unit key -> (site, host names), in book order."""
    out: dict[str, tuple[str, list[str]]] = {}
    for host in hosts:
        site, key = unit_of(host)
        out.setdefault(key, (site, []))[1].append(host.name)
    return out


def weight(worker: str, unit: str) -> int:
    """The rendezvous weight of ``worker`` for ``unit`` (stable across processes and versions)."""
    return int.from_bytes(hashlib.blake2b(f"{worker}\0{unit}".encode(), digest_size=8).digest(), "big")


def owner(unit: str, site: str, members: Sequence[Member]) -> str | None:
    eligible = [m.name for m in members if m.serves(site)]
    if not eligible:
        return None
    # Ties (astronomically unlikely) go to the smaller name, so every worker agrees anyway.
    return max(eligible, key=lambda name: (weight(name, unit), [-ord(c) for c in name]))


def assign(unit_sites: Mapping[str, str], members: Sequence[Member]) -> Assignment:
    """Owner of every unit (``unit_sites``: unit key -> site) among ``members``."""
    owners: dict[str, str] = {}
    orphans: list[str] = []
    for unit, site in unit_sites.items():
        who = owner(unit, site, members)
        if who is None:
            orphans.append(unit)
        else:
            owners[unit] = who
    return Assignment(owners, tuple(sorted(orphans)))


def subjects(assignment: Assignment, unit_hosts: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Incident subject -> owning worker: every host name of an owned unit, and the rack path of
    an owned rack (a rack incident's ``host`` is its rack's path, ``site/room/rack``)."""
    out: dict[str, str] = {}
    for unit, who in assignment.owners.items():
        for name in unit_hosts.get(unit, ()):
            out[name] = who
        if unit.startswith("rack:"):
            out[unit.removeprefix("rack:")] = who
    return out


def resender(subject: str, owners: Mapping[str, str], members: Sequence[Member]) -> str | None:
    """The worker that re-sends an open incident about ``subject`` to Alertmanager each round:
    the owner of its host or rack; for a subject nobody owns (an orphan of site affinity, a host
    gone from the book) the first member by name, so the alert neither expires in Alertmanager
    nor is sent by every worker. None: no live member."""
    who = owners.get(subject)
    if who is not None:
        return who
    return min((m.name for m in members), default=None)


def epoch_of(t: float, interval: float) -> int:
    """The epoch (round slot) a Unix time falls in."""
    return math.floor(t / interval)


def epoch_start(epoch: int, interval: float) -> float:
    return epoch * interval


def members_at(leases: Iterable[Mapping[str, Any]], at: float, *, margin: float = 0.0) -> list[Member]:
    """The workers that count for the epoch starting at ``at`` (Unix seconds): registered at
    least ``margin`` before it (a registration racing the boundary waits one epoch rather than be
    seen by some workers and not others) and whose lease runs past it. Lease rows carry
    ``name``, ``sites`` (list), ``registered_at`` and ``expires_at`` (Unix seconds)."""
    out = [Member(str(r["name"]), frozenset(r.get("sites") or ()))
           for r in leases if float(r["registered_at"]) <= at - margin and float(r["expires_at"]) > at]
    return sorted(out, key=lambda m: m.name)


def parse_sites(text: str | None) -> frozenset[str]:
    """``--sites dc1,dc2`` -> {"dc1", "dc2"}; empty or None: every site."""
    return frozenset(s.strip() for s in (text or "").split(",") if s.strip())
