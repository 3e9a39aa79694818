"""Acceptance: a profile's expected hardware x an Observation -> a verdict per field. Pure.

A field the BMC did not report is ``unknown``, which fails acceptance: a server is accepted for
what was seen, never for what was assumed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dcops.baseline.models import ExpectedGroup, Profile
from dcops.observation import Component, ComponentKind, Observation

OK, MISMATCH, UNKNOWN = "ok", "mismatch", "unknown"


@dataclass(frozen=True)
class Verdict:
    field: str
    expected: Any
    observed: Any
    verdict: str  # ok | mismatch | unknown
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == OK


@dataclass(frozen=True)
class Acceptance:
    host: str
    profile: str
    verdicts: tuple[Verdict, ...]

    @property
    def accepted(self) -> bool:
        return all(v.ok for v in self.verdicts)

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.ok)


def _glob(pattern: str, value: str | None) -> bool:
    return value is not None and fnmatch.fnmatch(value.lower(), pattern.lower())


def _verdict(field: str, expected: Any, observed: Any, ok: bool, note: str | None = None) -> Verdict:
    if observed is None:
        return Verdict(field, expected, None, UNKNOWN, note or "not reported by the BMC")
    return Verdict(field, expected, observed, OK if ok else MISMATCH, note)


def _size_ok(bytes_: int | None, size_gb: float, tolerance: float) -> bool:
    return bytes_ is not None and abs(bytes_ / 10**9 - size_gb) <= size_gb * tolerance


def _group_matches(part: Component, group: ExpectedGroup, tolerance: float, kind: ComponentKind) -> bool:
    if group.model and not (_glob(group.model, part.model) or _glob(group.model, part.name)):
        return False
    if group.media and str(part.extra.get("MediaType", "")).upper() != group.media:
        return False
    if group.protocol and str(part.extra.get("Protocol", "")).upper() != group.protocol.upper():
        return False
    if group.size_gb is not None and not _size_ok(part.capacity_bytes, group.size_gb, tolerance):
        return False
    if group.watts is not None and part.extra.get("PowerCapacityWatts") not in (group.watts, float(group.watts)):
        return False
    return not (group.speed_mbps is not None and part.speed is not None and kind is ComponentKind.NIC
                and part.speed * 1000 != group.speed_mbps)


def _describe(group: ExpectedGroup) -> str:
    bits = [f"{group.count}x"]
    for value in (group.media, group.protocol, group.model):
        if value:
            bits.append(value)
    if group.size_gb is not None:
        bits.append(f"{group.size_gb:g}GB")
    if group.watts is not None:
        bits.append(f"{group.watts}W")
    return " ".join(bits)


def _groups(field: str, parts: Sequence[Component], groups: Sequence[ExpectedGroup], tolerance: float,
            kind: ComponentKind, readable: bool) -> list[Verdict]:
    out = []
    for i, group in enumerate(groups):
        if not readable:
            out.append(Verdict(f"{field}[{i}]", _describe(group), None, UNKNOWN, "not reported by the BMC"))
            continue
        found = [p for p in parts if _group_matches(p, group, tolerance, kind)]
        out.append(Verdict(f"{field}[{i}]", _describe(group), f"{len(found)} matching",
                           OK if len(found) == group.count else MISMATCH,
                           None if len(found) == group.count else
                           f"found {len(found)}: " + ", ".join(sorted({p.model or p.name or '?' for p in found}))
                           if found else "none matching"))
    return out


def check_acceptance(profile: Profile, obs: Observation) -> Acceptance:
    """Compare the hardware a profile expects with what the BMC reported."""
    exp = profile.expected
    ident = obs.identity
    failed_reads = " ".join(e.what.lower() for e in obs.errors)
    verdicts: list[Verdict] = []
    if profile.manufacturer:
        verdicts.append(_verdict("manufacturer", " | ".join(profile.manufacturer), ident.manufacturer,
                                 any(_glob(p, ident.manufacturer) for p in profile.manufacturer)))
    if profile.model:
        verdicts.append(_verdict("model", " | ".join(profile.model), ident.model,
                                 any(_glob(p, ident.model) for p in profile.model)))
    cpus = obs.of_kind(ComponentKind.CPU)
    cpu_read = bool(cpus) or "processor" not in failed_reads
    if exp.cpu_count is not None:
        verdicts.append(_verdict("cpu.count", exp.cpu_count, len(cpus) if cpu_read else None,
                                 len(cpus) == exp.cpu_count))
    if exp.cpu_model is not None:
        models = sorted({c.model or "?" for c in cpus})
        verdicts.append(_verdict("cpu.model", exp.cpu_model, ", ".join(models) if cpus else None,
                                 bool(cpus) and all(_glob(exp.cpu_model, c.model) for c in cpus)))
    if exp.cpu_cores is not None:
        cores = sorted({c.cores for c in cpus if c.cores is not None})
        verdicts.append(_verdict("cpu.cores", exp.cpu_cores, cores[0] if len(cores) == 1 else (cores or None),
                                 cores == [exp.cpu_cores]))
    dimms = [d for d in obs.of_kind(ComponentKind.DIMM) if (d.capacity_bytes or 0) > 0]
    mem_read = bool(dimms) or "memory" not in failed_reads
    if exp.memory_gib is not None:
        total = sum(d.capacity_bytes or 0 for d in dimms) // 2**30
        verdicts.append(_verdict("memory.size_gib", exp.memory_gib, total if mem_read and dimms else None,
                                 total == exp.memory_gib))
    if exp.dimm_count is not None:
        verdicts.append(_verdict("memory.dimms", exp.dimm_count, len(dimms) if mem_read else None,
                                 len(dimms) == exp.dimm_count))
    drives = obs.of_kind(ComponentKind.DRIVE)
    drives_read = bool(drives) or not any(w in failed_reads for w in ("storage", "drive"))
    if exp.drive_count is not None:
        verdicts.append(_verdict("drives.count", exp.drive_count, len(drives) if drives_read else None,
                                 len(drives) == exp.drive_count))
    verdicts += _groups("drives", drives, exp.drives, exp.size_tolerance, ComponentKind.DRIVE, drives_read)
    nics = obs.of_kind(ComponentKind.NIC)
    verdicts += _groups("nics", nics, exp.nics, exp.size_tolerance, ComponentKind.NIC,
                        bool(nics) or "network" not in failed_reads)
    psus = obs.of_kind(ComponentKind.PSU)
    verdicts += _groups("psus", psus, exp.psus, exp.size_tolerance, ComponentKind.PSU,
                        bool(psus) or "power" not in failed_reads)
    return Acceptance(obs.host, profile.name, tuple(verdicts))
