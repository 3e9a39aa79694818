"""A corrected book for people to review, with per-field ownership.

Each field of the book has an owner. Fields the *book* owns are never overwritten by discovery:
the commercial record (purchase date, warranty end, contract, supplier, service provider, use,
notes), the name, BMC settings, AZ, role, profile and tags always; the location and asset tag by
default (the BMC's placement and asset tag are typed in by hand too). Fields *discovery* owns by
default are the ones the hardware knows best: serial, vendor and model. ``ownership`` changes the
default for the ownable fields (``OWNABLE``).

The corrected book keeps every row of the book (a row not found is reported, never dropped) and
adds a row per server found but not in the book, tagged ``discovered``, for someone to complete.

Pure: ``correct_book`` returns new hosts and the list of corrections; the CLI writes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.assets.model import AssetSnapshot
from dcops.assets.reconcile import Kind, ReconcileResult
from dcops.errors import UsageError
from dcops.models import AssetRecord, BmcEndpoint, Host, Location

OWNERS = ("book", "discovery")
OWNABLE: dict[str, str] = {"serial": "asset.serial", "vendor": "vendor", "model": "model", "location": "location",
                           "asset_tag": "asset.asset_tag"}
DEFAULT_OWNERSHIP: dict[str, str] = {"serial": "discovery", "vendor": "discovery", "model": "discovery",
                                     "location": "book", "asset_tag": "book"}
_FIELD_OF_KIND = {Kind.SERIAL: "serial", Kind.MANUFACTURER: "vendor", Kind.MODEL: "model",
                  Kind.LOCATION: "location", Kind.ASSET_TAG: "asset_tag"}


@dataclass(frozen=True)
class Correction:
    host: str
    field: str
    old: Any
    new: Any
    applied: bool  # False: the book owns the field, kept as it was
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "field": self.field, "old": self.old, "new": self.new, "applied": self.applied,
                "reason": self.reason}


def parse_ownership(items: Sequence[str]) -> dict[str, str]:
    """``["location=discovery", "serial=book"]`` over the defaults. Raises ``UsageError``."""
    result = dict(DEFAULT_OWNERSHIP)
    for item in items:
        name, sep, owner = item.partition("=")
        name, owner = name.strip(), owner.strip()
        if not sep or name not in OWNABLE or owner not in OWNERS:
            raise UsageError(f"--own {item!r}: expected FIELD=book|discovery with FIELD one of "
                             f"{', '.join(OWNABLE)}")
        result[name] = owner
    return result


def _str(value: Any) -> Any:
    return str(value) if isinstance(value, Location) else value


def correct_book(hosts: Sequence[Host], result: ReconcileResult, snapshots: Mapping[str, AssetSnapshot], *,
                 ownership: Mapping[str, str] | None = None) -> tuple[list[Host], list[Correction]]:
    """The book with discovery-owned fields set to what the BMCs reported, plus the servers not in
    the book; and every correction considered (applied or kept because the book owns it)."""
    owners = {**DEFAULT_OWNERSHIP, **(ownership or {})}
    by_name = {h.name: h for h in hosts}
    updated: dict[str, Host] = {}
    corrections: list[Correction] = []
    for d in result.discrepancies:
        field = _FIELD_OF_KIND.get(d.kind)
        if field is None or d.host is None or d.observed is None:
            continue
        host = updated.get(d.host, by_name[d.host])
        snap = snapshots[d.observed]
        owner = owners[field]
        new_value: Any
        if field == "serial":
            new_value = d.observed_value
            changed = dataclasses.replace(host, asset=dataclasses.replace(host.asset, serial=new_value))
        elif field == "vendor":
            new_value = snap.manufacturer
            changed = dataclasses.replace(host, vendor=new_value)
        elif field == "model":
            new_value = snap.model
            changed = dataclasses.replace(host, model=new_value)
        elif field == "asset_tag":
            new_value = snap.asset_tag
            changed = dataclasses.replace(host, asset=dataclasses.replace(host.asset, asset_tag=new_value))
        else:
            place = snap.placement
            if place is None:
                continue
            loc = host.location
            new_value = Location(site=place.site or loc.site, room=place.room or loc.room, rack=place.rack,
                                 u=place.u if place.u is not None else loc.u, u_height=loc.u_height)
            changed = dataclasses.replace(host, location=new_value)
        if new_value is None:
            continue
        applied = owner == "discovery"
        if applied:
            updated[d.host] = changed
        corrections.append(Correction(d.host, field, _str(d.book_value if field != "location" else host.location),
                                      _str(new_value), applied,
                                      "discovery owns it" if applied else "the book owns it: kept"))
    out = [updated.get(h.name, h) for h in hosts]
    taken = {h.name for h in out}
    endpoints = {(h.bmc.address.lower(), h.bmc.port) for h in out}
    for d in result.discrepancies:
        if d.kind is not Kind.UNEXPECTED or d.observed is None:
            continue
        snap = snapshots[d.observed]
        name = snap.host if snap.host not in taken else f"{snap.host}-discovered"
        address, port = _split_bmc(snap.bmc)
        if not address or (address, port) in endpoints or name in taken:
            continue
        place = snap.placement
        new_host = Host(
            # BMC settings other than the endpoint as the book's first row has them (usually shared).
            name=name, bmc=dataclasses.replace(hosts[0].bmc, address=address, port=port) if hosts
            else BmcEndpoint(address=address, port=port),
            location=Location(site=place.site, room=place.room, rack=place.rack, u=place.u) if place else Location(),
            vendor=snap.manufacturer, model=snap.model, tags=("discovered",),
            asset=AssetRecord(serial=d.observed_value),
        )
        out.append(new_host)
        taken.add(name)
        endpoints.add((address, port))
        corrections.append(Correction(name, "host", None, snap.bmc, True, "found, not in the book: added"))
    return out, corrections


def _split_bmc(value: str | None) -> tuple[str | None, int | None]:
    if not value:
        return None, None
    address, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        return value, None
    return address.strip("[]"), int(port)
