"""Warranty: days left per server, grouped by supplier and contract, and reminders at thresholds.

A reminder is due for a server when its days left have fallen to or below a threshold (e.g. 90,
30, 7 and 0 days) and no reminder was sent yet for that threshold and that warranty end (a renewed
warranty, i.e. a new end date, starts over). Only the tightest threshold crossed is reminded: a
server first seen at 5 days left gets the 7-day reminder, not three at once.

Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dcops.errors import UsageError
from dcops.models import Host

DEFAULT_THRESHOLDS: tuple[int, ...] = (90, 30, 7, 0)


class WarrantyStatus(StrEnum):
    OK = "ok"
    EXPIRING = "expiring"  # within the window asked for (or the widest threshold)
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # the book has no warranty end


@dataclass(frozen=True)
class WarrantyRow:
    host: str
    serial: str | None
    supplier: str | None
    contract: str | None
    service_provider: str | None
    warranty_end: dt.date | None
    days_left: int | None
    status: WarrantyStatus
    site: str | None = None
    rack: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "serial": self.serial, "supplier": self.supplier, "contract": self.contract,
                "service_provider": self.service_provider,
                "warranty_end": self.warranty_end.isoformat() if self.warranty_end else None,
                "days_left": self.days_left, "status": self.status.value, "site": self.site, "rack": self.rack}


@dataclass(frozen=True)
class WarrantyGroup:
    supplier: str | None
    contract: str | None
    hosts: int
    expired: int
    expiring: int
    unknown: int
    first_end: dt.date | None
    min_days_left: int | None

    def to_json(self) -> dict[str, Any]:
        return {"supplier": self.supplier, "contract": self.contract, "hosts": self.hosts, "expired": self.expired,
                "expiring": self.expiring, "unknown": self.unknown,
                "first_end": self.first_end.isoformat() if self.first_end else None,
                "min_days_left": self.min_days_left}


@dataclass(frozen=True)
class Reminder:
    host: str
    threshold: int
    days_left: int
    warranty_end: dt.date
    supplier: str | None
    contract: str | None
    service_provider: str | None
    serial: str | None
    site: str | None = None
    rack: str | None = None

    @property
    def key(self) -> tuple[str, int, dt.date]:
        return (self.host, self.threshold, self.warranty_end)

    def what(self) -> str:
        """``warranty ends in 30 days (2025-07-02; Huaxin, CT-2021-0418)``."""
        when = "has expired" if self.days_left < 0 else "ends today" if self.days_left == 0 else \
            f"ends in {self.days_left} day{'s' if self.days_left != 1 else ''}"
        who = ", ".join(x for x in (self.supplier, self.contract) if x) or "no supplier/contract in the book"
        return f"warranty {when} ({self.warranty_end.isoformat()}; {who})"

    def message(self) -> str:
        return f"{self.host}: {self.what()}"

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "threshold": self.threshold, "days_left": self.days_left,
                "warranty_end": self.warranty_end.isoformat(), "supplier": self.supplier, "contract": self.contract,
                "service_provider": self.service_provider, "serial": self.serial, "message": self.message()}


def parse_days(text: str) -> int:
    """``90d``, ``12w``, ``6m`` (30-day months), ``1y`` (365 days) or a bare number of days.
    Raises ``UsageError`` otherwise."""
    match = re.fullmatch(r"\s*(-?\d+)\s*([dwmy]?)\s*", text.lower())
    if not match:
        raise UsageError(f"not a duration in days: {text!r} (use e.g. 90d, 12w, 6m, 1y)")
    number, unit = int(match.group(1)), match.group(2) or "d"
    return number * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]


def parse_thresholds(text: str | Sequence[int]) -> tuple[int, ...]:
    """``90d,30d,7d,0`` -> (90, 30, 7, 0), widest first. Raises ``UsageError`` on a bad value."""
    values = [parse_days(t) for t in text.split(",") if t.strip()] if isinstance(text, str) else list(text)
    if not values:
        raise UsageError("no reminder thresholds given")
    return tuple(sorted(set(values), reverse=True))


def warranty_rows(hosts: Iterable[Host], today: dt.date, *, within: int | None = None) -> list[WarrantyRow]:
    """One row per host, soonest end first (unknown last). ``within``: the window that counts as
    expiring (default 90 days)."""
    window = 90 if within is None else within
    rows = []
    for host in hosts:
        asset = host.asset
        days = asset.warranty_days_left(today)
        if days is None:
            status = WarrantyStatus.UNKNOWN
        elif days < 0:
            status = WarrantyStatus.EXPIRED
        elif days <= window:
            status = WarrantyStatus.EXPIRING
        else:
            status = WarrantyStatus.OK
        rows.append(WarrantyRow(host.name, asset.serial, asset.supplier, asset.contract, asset.service_provider,
                                asset.warranty_end, days, status, host.location.site, host.location.rack))
    rows.sort(key=lambda r: (r.days_left is None, r.days_left if r.days_left is not None else 0, r.host))
    return rows


def group_rows(rows: Iterable[WarrantyRow]) -> list[WarrantyGroup]:
    """Rows grouped by (supplier, contract), the group with the soonest end first."""
    groups: dict[tuple[str | None, str | None], list[WarrantyRow]] = {}
    for row in rows:
        groups.setdefault((row.supplier, row.contract), []).append(row)
    result = []
    for (supplier, contract), members in groups.items():
        ends = [r.warranty_end for r in members if r.warranty_end]
        days = [r.days_left for r in members if r.days_left is not None]
        result.append(WarrantyGroup(
            supplier, contract, len(members),
            sum(r.status is WarrantyStatus.EXPIRED for r in members),
            sum(r.status is WarrantyStatus.EXPIRING for r in members),
            sum(r.status is WarrantyStatus.UNKNOWN for r in members),
            min(ends) if ends else None, min(days) if days else None))
    result.sort(key=lambda g: (g.min_days_left is None, g.min_days_left or 0, g.supplier or "", g.contract or ""))
    return result


def due_reminders(rows: Iterable[WarrantyRow], thresholds: Sequence[int] = DEFAULT_THRESHOLDS, *,
                  sent: Collection[tuple[str, int, dt.date]] = ()) -> list[Reminder]:
    """The reminders to send now: per host the tightest threshold its days left have reached,
    unless a reminder for that threshold (or a tighter one) and that warranty end was sent."""
    ordered = sorted(set(thresholds))  # tightest first
    sent_set = set(sent)
    due = []
    for row in rows:
        if row.days_left is None or row.warranty_end is None:
            continue
        reached = [t for t in ordered if row.days_left <= t]
        if not reached:
            continue
        threshold = reached[0]
        if any((row.host, t, row.warranty_end) in sent_set for t in ordered if t <= threshold):
            continue
        due.append(Reminder(row.host, threshold, row.days_left, row.warranty_end, row.supplier, row.contract,
                            row.service_provider, row.serial, row.site, row.rack))
    return due
