"""What an incident carries beyond the BMC's words: where the server stands and its warranty,
from the inventory's host record. Pure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dcops.models import Host


def host_location(host: Host) -> dict[str, Any]:
    loc = host.location
    data: dict[str, Any] = {"site": loc.site, "room": loc.room, "rack": loc.rack, "u": loc.u,
                            "u_height": loc.u_height if loc.u is not None else None, "az": host.az,
                            "role": host.role, "vendor": host.vendor, "model": host.model,
                            "text": str(loc) or None}
    return {k: v for k, v in data.items() if v is not None}


def warranty(host: Host, today: dt.date) -> dict[str, Any]:
    """End date, days left (negative once expired), contract, service provider, serial."""
    asset = host.asset
    left = asset.warranty_days_left(today)
    data: dict[str, Any] = {
        "end": asset.warranty_end.isoformat() if asset.warranty_end else None,
        "days_left": left,
        "status": None if left is None else ("expired" if left < 0 else "expiring" if left <= 90 else "active"),
        "contract": asset.contract, "service_provider": asset.service_provider, "supplier": asset.supplier,
        "asset_tag": asset.asset_tag, "serial": asset.serial,
    }
    return {k: v for k, v in data.items() if v is not None}


def host_context(host: Host, today: dt.date) -> dict[str, Any]:
    """The ``context`` entry ``converge`` copies into incidents of this host."""
    return {"location": host_location(host), "warranty": warranty(host, today)}
