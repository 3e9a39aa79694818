"""Part history: what changed between two snapshots of the fleet.

Per host, slot by slot (a slot is chassis + location, see ``dcops.assets.model``):

* ``appeared``: a part is in a slot that was empty;
* ``disappeared``: a slot that held a part is empty;
* ``replaced``: the slot holds a part with another serial (or, when serials are unknown, another
  model);

and across the fleet, by serial:

* ``moved``: a serial that left one slot (host A) is now in another (host B, or another slot of
  A). A serial last seen in a host that was not part of this comparison is found through
  ``last_seen`` (the store's serial index).

A moved part's departure and arrival are one ``moved`` event, not a ``disappeared`` and an
``appeared``; when it arrived in a slot that held another part, that slot also gets ``replaced``.
A host seen for the first time has no events: there is nothing to compare it with.

Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dcops.assets.model import AssetSnapshot, Part, PartKind

# Parts whose serial follows them from server to server (chassis, mainboard and BMC are the server).
MOVABLE = frozenset({PartKind.CPU, PartKind.DIMM, PartKind.DRIVE, PartKind.STORAGE_CONTROLLER, PartKind.NIC,
                     PartKind.PSU, PartKind.GPU, PartKind.ACCELERATOR})


class EventKind(StrEnum):
    APPEARED = "appeared"
    DISAPPEARED = "disappeared"
    REPLACED = "replaced"
    MOVED = "moved"


@dataclass(frozen=True)
class PartEvent:
    at: dt.datetime
    event: EventKind
    part_kind: PartKind
    host: str  # where the part is now (appeared/replaced/moved) or was (disappeared)
    slot: str
    serial: str | None = None  # the part now in the slot (the one that left, for disappeared)
    old_serial: str | None = None  # replaced: the part that was in the slot
    from_host: str | None = None  # moved: where it was
    from_slot: str | None = None
    model: str | None = None
    old_model: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "event": self.event.value, "part_kind": self.part_kind.value,
                "host": self.host, "slot": self.slot, "serial": self.serial, "old_serial": self.old_serial,
                "from_host": self.from_host, "from_slot": self.from_slot, "model": self.model,
                "old_model": self.old_model}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartEvent:
        at = data["at"]
        return cls(at=dt.datetime.fromisoformat(at) if isinstance(at, str) else at, event=EventKind(data["event"]),
                   part_kind=PartKind(data["part_kind"]), host=data["host"], slot=data["slot"],
                   serial=data.get("serial"), old_serial=data.get("old_serial"), from_host=data.get("from_host"),
                   from_slot=data.get("from_slot"), model=data.get("model"), old_model=data.get("old_model"))

    def describe(self) -> str:
        what = f"{self.part_kind.value} {self.serial or '?'}"
        if self.event is EventKind.MOVED:
            return f"{what} moved from {self.from_host} {self.from_slot} to {self.host} {self.slot}"
        if self.event is EventKind.REPLACED:
            return f"{self.part_kind.value} in {self.host} {self.slot}: {self.old_serial or self.old_model or '?'} " \
                   f"replaced by {self.serial or self.model or '?'}"
        return f"{what} {self.event.value} {'in' if self.event is EventKind.APPEARED else 'from'} " \
               f"{self.host} {self.slot}"


Where = tuple[str, str]  # host, slot
LastSeen = Callable[[PartKind, str], Where | None]


def _by_slot(snapshot: AssetSnapshot) -> dict[tuple[PartKind, str], Part]:
    return {(p.kind, p.slot): p for p in snapshot.parts}


def diff_fleet(previous: Mapping[str, AssetSnapshot], current: Mapping[str, AssetSnapshot], *,
               last_seen: LastSeen | None = None) -> list[PartEvent]:
    """The part events between ``previous`` and ``current`` snapshots (host -> snapshot).

    Hosts only in ``previous`` are not compared (not collected this time is not "all parts gone").
    ``last_seen(kind, serial)`` says where a serial was last seen outside this comparison.
    """
    events: list[PartEvent] = []
    left: dict[tuple[PartKind, str], tuple[str, Part]] = {}  # serial that left a slot -> (host, part)
    arrived: list[tuple[str, Part, dt.datetime]] = []
    for host in sorted(current):
        now = current[host]
        before = previous.get(host)
        if before is None:
            # First sight of this host: its parts may have come from elsewhere.
            for part in now.parts:
                if part.kind in MOVABLE and part.serial:
                    arrived.append((host, part, now.taken_at))
            continue
        old, new = _by_slot(before), _by_slot(now)
        at = now.taken_at
        for key in sorted(set(old) | set(new), key=lambda k: (k[0].value, k[1])):
            was, isnow = old.get(key), new.get(key)
            if was is not None and isnow is not None:
                if _same(was, isnow):
                    continue
                events.append(PartEvent(at, EventKind.REPLACED, key[0], host, key[1], isnow.serial, was.serial,
                                        model=isnow.model, old_model=was.model))
                if was.serial and key[0] in MOVABLE:
                    left[(key[0], was.serial)] = (host, was)
                if isnow.serial and key[0] in MOVABLE:
                    arrived.append((host, isnow, at))
            elif was is not None:
                if was.serial and key[0] in MOVABLE:
                    left[(key[0], was.serial)] = (host, was)
                else:
                    events.append(PartEvent(at, EventKind.DISAPPEARED, key[0], host, key[1], was.serial,
                                            model=was.model))
            elif isnow is not None:
                if isnow.serial and key[0] in MOVABLE:
                    arrived.append((host, isnow, at))
                else:
                    events.append(PartEvent(at, EventKind.APPEARED, key[0], host, key[1], isnow.serial,
                                            model=isnow.model))
    first_sight = {h for h in current if h not in previous}
    for host, part, at in arrived:
        assert part.serial is not None
        origin = left.pop((part.kind, part.serial), None)
        if origin is not None:
            events.append(PartEvent(at, EventKind.MOVED, part.kind, host, part.slot, part.serial,
                                    from_host=origin[0], from_slot=origin[1].slot, model=part.model))
            continue
        elsewhere = last_seen(part.kind, part.serial) if last_seen else None
        if elsewhere is not None and elsewhere != (host, part.slot) and elsewhere[0] not in current:
            events.append(PartEvent(at, EventKind.MOVED, part.kind, host, part.slot, part.serial,
                                    from_host=elsewhere[0], from_slot=elsewhere[1], model=part.model))
            continue
        if host in first_sight:
            continue
        if not _was_replaced_into(events, host, part):
            events.append(PartEvent(at, EventKind.APPEARED, part.kind, host, part.slot, part.serial,
                                    model=part.model))
    for (kind, serial), (host, part) in sorted(left.items(), key=lambda i: (i[1][0], i[1][1].slot)):
        if _was_replaced_out(events, host, part):
            continue
        events.append(PartEvent(current[host].taken_at, EventKind.DISAPPEARED, kind, host, part.slot, serial,
                                model=part.model))
    events.sort(key=lambda e: (e.host, e.slot, e.event.value))
    return events


def _same(a: Part, b: Part) -> bool:
    if a.serial or b.serial:
        return a.serial == b.serial
    return (a.model or "") == (b.model or "")


def _was_replaced_into(events: list[PartEvent], host: str, part: Part) -> bool:
    return any(e.event is EventKind.REPLACED and e.host == host and e.slot == part.slot and e.serial == part.serial
               for e in events)


def _was_replaced_out(events: list[PartEvent], host: str, part: Part) -> bool:
    return any(e.event is EventKind.REPLACED and e.host == host and e.slot == part.slot
               and e.old_serial == part.serial for e in events)
