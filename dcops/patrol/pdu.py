"""What a dark rack's PDUs say about its power. Pure.

A rack PDU (book: the rack's ``pdus:``; read by ``dcops.pdu.redfish``) measures what the BMCs
cannot while they are dark: whether its mains input has power and whether the outlets feeding the
dark hosts are on. Per dark host, from the reachable PDUs that feed it:

* **powered**: at least one feed has mains present and its outlet(s) on;
* **unpowered**: every feed of the host reports mains lost or its outlets off, and no PDU feeding
  it was unreachable (a silent B-feed may still be carrying the host);
* otherwise unknown.

Most dark hosts unpowered: power loss, decided by those PDUs. Most powered: not a power loss (the
management network or the BMCs). A PDU that does not answer is no evidence either way: PDUs often
hang off the same management switch as the BMCs, so a dead switch silences them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dcops.models import PduReading

POWER = "power loss"
POWERED = "powered"
# Below this, a mains circuit reporting PowerState On is still dead (some PDUs leave the state
# at On and only the voltage drops).
MIN_VOLTS = 50.0


@dataclass(frozen=True)
class PduVerdict:
    """The PDUs' word on a dark rack: ``cause`` is POWER, POWERED or None (no evidence)."""

    cause: str | None
    decided_by: str
    pdus: tuple[str, ...] = ()  # the PDUs whose readings decided
    unreachable: tuple[str, ...] = ()  # PDUs that did not answer (no evidence from them)


def mains_present(reading: PduReading) -> bool | None:
    """True when a mains circuit has power, False when none has, None when the PDU lists none."""
    if not reading.mains:
        return None
    for _cid, state, volts in reading.mains:
        if (state or "").lower() == "off":
            continue
        if volts is not None and volts < MIN_VOLTS:
            continue
        if state is None and volts is None:
            continue
        return True
    return False


def outlet_on(reading: PduReading, outlet: str) -> bool | None:
    for oid, state, _watts in reading.outlet_states:
        if oid == outlet:
            return None if state is None else state.lower() == "on"
    return None


def feed_state(reading: PduReading, host: str) -> bool | None:
    """Does this PDU power ``host`` now: True, False, or None (unknown, or it does not feed it)."""
    if not reading.reachable:
        return None
    feeds = reading.pdu.feeds()
    if feeds and host not in feeds:
        return None
    mains = mains_present(reading)
    if mains is False:
        return False
    outlets = feeds.get(host, ())
    states = [outlet_on(reading, o) for o in outlets]
    if not outlets:
        # No outlet map: the PDU feeds the whole rack; its outlets all off counts as no power.
        known = [s[1] for s in reading.outlet_states if s[1] is not None]
        if known and all(s.lower() == "off" for s in known):
            return False
        return mains
    if any(s is True for s in states):
        return True  # mains False returned above
    if states and all(s is False for s in states):
        return False
    return None


def feeds_host(reading: PduReading, host: str) -> bool:
    feeds = reading.pdu.feeds()
    return not feeds or host in feeds


def judge(readings: Sequence[PduReading], dark: Iterable[str]) -> PduVerdict:
    """The verdict of a rack's PDU ``readings`` on its ``dark`` hosts (BMCs unreachable)."""
    silent = tuple(sorted(r.pdu.name for r in readings if not r.reachable))
    if not readings:
        return PduVerdict(None, "no PDU in the book for this rack")
    powered: list[str] = []
    unpowered: list[str] = []
    deciders: dict[str, set[str]] = {POWERED: set(), POWER: set()}
    dark_hosts = list(dark)
    for host in dark_hosts:
        mine = [r for r in readings if feeds_host(r, host)]
        states = [(r, feed_state(r, host)) for r in mine]
        on = [r.pdu.name for r, s in states if s is True]
        if on:
            powered.append(host)
            deciders[POWERED].update(on)
        elif states and all(s is False for _r, s in states):
            unpowered.append(host)
            deciders[POWER].update(r.pdu.name for r, _s in states)
    judged = len(powered) + len(unpowered)
    if judged and len(unpowered) * 2 > judged:
        names = tuple(sorted(deciders[POWER]))
        return PduVerdict(POWER, f"PDU {', '.join(names)}: mains lost or outlets off for {len(unpowered)} of "
                                 f"{len(dark_hosts)} dark hosts", names, silent)
    if judged and len(powered) * 2 >= judged:
        names = tuple(sorted(deciders[POWERED]))
        return PduVerdict(POWERED, f"PDU {', '.join(names)}: mains present and outlets on for {len(powered)} of "
                                   f"{len(dark_hosts)} dark hosts", names, silent)
    if silent and len(silent) == len(readings):
        return PduVerdict(None, f"PDU {', '.join(silent)} unreachable: no evidence from it", (), silent)
    return PduVerdict(None, "PDU readings do not cover the dark hosts", (), silent)
