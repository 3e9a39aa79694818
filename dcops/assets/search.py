"""Part serials as extra search records for ``dcops inventory search`` (find the server holding
DIMM serial X): ``SearchIndex(hosts, extra=part_search_records(store))``."""

from __future__ import annotations

from typing import Any


def part_search_records(store: Any) -> list[tuple[str, str, str]]:
    """``(host, "<kind>_serial", serial)`` for every part present in its host's latest snapshot
    (``dimm_serial``, ``drive_serial``, ...), plus the mainboard and chassis serials. Empty when
    nothing was collected yet."""
    from dcops.assets import store as asset_store

    records = asset_store.part_serial_records(store)
    for snap in asset_store.latest_snapshots(store):
        for key, value in (("board_serial", snap.board_serial), ("chassis_serial", snap.chassis_serial),
                           ("uuid", snap.uuid)):
            if value:
                records.append((snap.host, key, value))
    return records
