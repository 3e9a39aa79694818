"""Builders for asset tests: book rows and snapshots from plain dicts (the YAML cases' shape)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dcops.assets.model import AssetSnapshot, Hardware, Part, PartKind, Placement
from dcops.assets.reconcile import BookEntry, HardwareExpectation
from dcops.models import Location

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def book_row(data: dict[str, Any]) -> BookEntry:
    data = dict(data)
    location = Location(site=data.pop("site", None), room=data.pop("room", None), rack=data.pop("rack", None),
                        u=data.pop("u", None))
    return BookEntry(location=location, **data)


def snapshot(data: dict[str, Any], taken_at: dt.datetime = T0) -> AssetSnapshot:
    data = dict(data)
    placement = Placement(**data.pop("placement")) if data.get("placement") else None
    data.pop("placement", None)
    hardware = Hardware.from_json(data.pop("hardware")) if data.get("hardware") else Hardware()
    parts = tuple(part(p) for p in data.pop("parts", ()))
    data["bmc_macs"] = tuple(data.get("bmc_macs") or ())
    return AssetSnapshot(taken_at=taken_at, placement=placement, hardware=hardware if not parts else
                         Hardware.of(parts), parts=parts, **data)


def part(data: dict[str, Any] | list[Any]) -> Part:
    """``[kind, slot, serial, model?]`` or a dict of Part fields."""
    if isinstance(data, list):
        kind, slot, serial, *rest = data
        return Part(PartKind(kind), slot, serial, model=rest[0] if rest else None)
    return Part(**{**data, "kind": PartKind(data["kind"])})


def expectation(data: dict[str, Any]) -> HardwareExpectation:
    data = dict(data)
    if data.get("drive_sizes") is not None:
        data["drive_sizes"] = tuple(data["drive_sizes"])
    return HardwareExpectation(**data)
