"""The dependency model of patrol, in one place: what can explain what. Pure.

::

    rack ──► PDU / management switch ──► BMC ──► host ──► part ──► its sensors
                                                          │
                                                          └──► what depends on it (a volume on a
                                                               drive, a redundancy group on a PSU)

A problem lower in this tree is a *symptom* of the problem above it when both are seen: a fan at
0 RPM is its failed fan, a degraded volume during a rebuild is its failed drive, lost power
redundancy is its failed supply, a 0 V rail is the supply or the power that went away. Convergence
(``patrol.converge``) asks ``owner_of`` which bad part, if any, a symptom belongs to, and attaches it
there: one part, one incident.

What does *not* explain: a host being off does not explain a failed power supply (a supply
reports its failure while the host is off: its own incident), nor an unrelated fan or drive. An
abnormal shutdown explains the CPU or DIMM its SEL names, the power rails that went to zero and
the rollups (``explained_by_shutdown``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from dcops.patrol.model import Condition, Event

# Part kind -> the symptom kinds (PartInfo.kind) a bad part of that kind explains on its host.
EXPLAINS: dict[str, frozenset[str]] = {
    "fan": frozenset({"sensor/fan"}),
    "psu": frozenset({"sensor/voltage", "sensor/current", "sensor/power"}),
    "drive": frozenset({"volume", "storage_controller"}),
}
# Conditions of a part that make it an owner (it is itself bad, not merely a reading).
OWNER_CONDITIONS = frozenset({Condition.HEALTH, Condition.PREDICTIVE_FAILURE})
# Symptom kinds that are about one specific part (matched by its label); the others are about a
# group (a volume over several drives) and go to any bad owner of the right kind.
_LABELLED = frozenset({"sensor/fan"})
# What a host that went off without an operator action explains.
SHUTDOWN_PART_KINDS = frozenset({"cpu", "dimm", "system", "condition"})
SHUTDOWN_SENSOR_KINDS = frozenset({"sensor/voltage", "sensor/current", "sensor/power", "sensor/fan"})
_NUMBER = re.compile(r"\d+")
_WORDS = re.compile(r"[^a-z0-9]+")


def _label(text: str | None) -> str:
    return _WORDS.sub("", (text or "").lower())


def _numbers(text: str | None) -> tuple[str, ...]:
    return tuple(str(int(n)) for n in _NUMBER.findall(text or ""))


def same_part(symptom: Event, owner: Event) -> bool:
    """Does the symptom (a sensor) name the owner part? By the sensor's related item, its name,
    or the part's number ("Fan 2 Front Tach" and "Fan2": both fan 2)."""
    if symptom.info.chassis and owner.info.chassis and symptom.info.chassis != owner.info.chassis:
        return False
    names = {_label(owner.info.location), _label(owner.info.name)} - {""}
    if _label(symptom.info.name) in names or _label(symptom.info.location) in names:
        return True
    mine = _numbers(symptom.info.location)
    theirs = {n for text in (owner.info.location, owner.info.name) for n in _numbers(text)[:1]}
    return bool(mine) and mine[0] in theirs


def explains(owner: Event, symptom: Event) -> bool:
    """Can ``owner`` (a bad part) explain ``symptom`` (another event of the same host)?"""
    if owner.host != symptom.host or owner is symptom or owner.condition not in OWNER_CONDITIONS:
        return False
    kinds = EXPLAINS.get(owner.info.kind)
    if not kinds or symptom.info.kind not in kinds or symptom.condition is Condition.LOG:
        return False
    return symptom.info.kind not in _LABELLED or same_part(symptom, owner)


def owner_of(symptom: Event, candidates: Sequence[Event]) -> Event | None:
    """The bad part ``symptom`` belongs to, among ``candidates`` (this round's events and the
    open incidents of the host); None when it is a problem of its own. A labelled symptom with
    no name match goes to the only bad part of its kind, when there is exactly one."""
    owners = [c for c in candidates if explains(c, symptom)]
    if owners:
        return owners[0]
    if symptom.info.kind in _LABELLED:
        kind = next((k for k, v in EXPLAINS.items() if symptom.info.kind in v), None)
        alone = [c for c in candidates if c.info.kind == kind and c.condition in OWNER_CONDITIONS
                 and c.host == symptom.host]
        if len(alone) == 1:
            return alone[0]
    return None


def explained_by_shutdown(event: Event) -> bool:
    """Is ``event`` a consequence of its host going off (or of what made it go off)?"""
    kind = event.info.kind
    if event.condition in (Condition.ROLLUP, Condition.UNEXPECTED_POWER_OFF, Condition.ABNORMAL_SHUTDOWN,
                           Condition.NETWORK_UNREACHABLE):  # a host that is off answers on no network
        return True
    if kind in SHUTDOWN_PART_KINDS:
        return True
    return kind in SHUTDOWN_SENSOR_KINDS and event.condition in (Condition.SENSOR_LOW, Condition.SENSOR_HEALTH)


def related(a_host: str, a_part: str, b_host: str, b_part: str, explained: Iterable[tuple[str, str]] = ()) -> bool:
    """Two incidents belong to one group (an ack of one acks both): same host and part, or one
    listed among the other's symptoms (``explained``: (host, part) pairs)."""
    if (a_host, a_part) == (b_host, b_part):
        return True
    return (b_host, b_part) in set(explained)
