"""Grouping one host's events of a round into root problems with their symptoms. Pure.

The rules 3-8 of convergence (docs/patrol.md, "Convergence"): an abnormal shutdown and what going
off explains; a failed power supply and what it explains; a part and its own symptoms (the
dependency model, ``patrol.depends``); one incident per part; rollups; log entries as evidence.
``patrol.converge`` runs the rack rule first, then this per host, then hysteresis.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.patrol.checks import POWER_SENSOR_KINDS
from dcops.patrol.depends import OWNER_CONDITIONS, explained_by_shutdown, explains, owner_of
from dcops.patrol.model import Condition, Event, Incident, PartInfo, Severity

# Which condition of a part is the incident when several are bad at the same severity.
CONDITION_ORDER = {
    Condition.RACK_POWER_LOSS: 0, Condition.RACK_UNREACHABLE: 0, Condition.ABNORMAL_SHUTDOWN: 1,
    Condition.UNEXPECTED_POWER_OFF: 2,
    Condition.BMC_UNREACHABLE: 3, Condition.BMC_ERRORS: 3, Condition.PREDICTIVE_FAILURE: 4, Condition.HEALTH: 5,
    Condition.SENSOR_HIGH: 6, Condition.SENSOR_LOW: 6, Condition.SENSOR_HEALTH: 7,
    Condition.REDUNDANCY_LOST: 8, Condition.NETWORK_DOWN: 3, Condition.NETWORK_UNREACHABLE: 6,
    Condition.ROLLUP: 9, Condition.LOG: 10,
}
OFF = (Condition.ABNORMAL_SHUTDOWN, Condition.UNEXPECTED_POWER_OFF)
RACK = (Condition.RACK_POWER_LOSS, Condition.RACK_UNREACHABLE)
# Log-entry kinds -> the part kinds (PartInfo.kind) they explain.
LOG_MATCH = {
    "psu": ("psu",), "cpu": ("cpu",), "dimm": ("dimm",), "drive": ("drive", "volume", "storage_controller"),
    "volume": ("volume", "drive"), "fan": ("fan", "sensor/fan"), "temperature": ("sensor/temperature",),
    "voltage": ("sensor/voltage", "psu"), "system": ("system",),
}


@dataclass
class Root:
    event: Event
    children: list[Event] = field(default_factory=list)
    evidence: list[Mapping[str, Any]] = field(default_factory=list)
    parent_incident: int | None = None  # attach to this open incident instead of tracking
    pending_key: str | None = None  # evidence for this pending (not yet open) problem's track
    hold: bool = False  # a part's log entry with no part to join yet: held a round (``join_held``)
    joined: list[str] = field(default_factory=list)  # keys of held log entries this root took in




def _sort_key(event: Event) -> tuple[int, int, str]:
    return (-event.severity.rank, CONDITION_ORDER.get(event.condition, 99), event.part)


def _is_power_symptom(event: Event) -> bool:
    kind = event.info.kind
    return kind.startswith("sensor/") and kind.split("/", 1)[1] in {k.value for k in POWER_SENSOR_KINDS}


def explained_by_power_loss(event: Event) -> bool:
    return (event.condition in (*OFF, Condition.BMC_UNREACHABLE, Condition.REDUNDANCY_LOST, Condition.NETWORK_UNREACHABLE)
            or (event.condition is Condition.LOG and event.info.kind in ("psu", "system"))
            or (event.info.kind == "psu") or _is_power_symptom(event))


def _as_owner(incident: Incident) -> Event:
    """An open incident as a candidate owner of this round's symptoms (its part is still bad)."""
    return Event(incident.host, incident.part, incident.condition, incident.severity, incident.summary,
                 incident.info, dict(incident.diagnosis))


def group_host(events: Sequence[Event], open_by_key: Mapping[str, Incident],
               shutdown_incident: Incident | None, open_here: Sequence[Incident] = (),
               recent: Sequence[Event] = ()) -> list[Root]:
    """Group one host's events into root problems with their symptoms (rules 3-7), then respect
    incidents already open: such a problem stays its own root (never re-parented), and when it
    shares its part with a new root, it *becomes* that root (one incident per part), taking the
    worse severity. ``open_here``: the host's open incidents, whose parts may own this round's
    symptoms (a volume degraded a round after its drive failed joins the drive's incident);
    ``recent``: the host's problems bad in recent rounds but not open, which late log entries join."""
    roots = _group(events, shutdown_incident, open_here, recent)
    open_part = {i.part: i for i in open_here if i.is_open}
    out: list[Root] = []
    for root in roots:
        if root.parent_incident is None and root.pending_key is None and root.event.key not in open_by_key \
                and root.event.part in open_part and not any(c.key in open_by_key for c in root.children):
            # The part already has an incident under another condition (a BMC that stopped answering
            # now answers with errors; a drive that predicted its failure now fails): the same
            # incident goes on, with this round's reading, rather than a second one for the part.
            known = open_part[root.event.part]
            current = root.event
            root.event = dataclasses.replace(current, condition=Condition(known.key.rsplit("|", 1)[-1]),
                                             severity=Severity.worst(current.severity, known.severity))
            root.children.append(current)
        if root.parent_incident is None and root.event.key not in open_by_key:
            same = next((c for c in root.children if c.key in open_by_key and c.part == root.event.part), None)
            # A symptom whose incident opened first (a 0 RPM tach before its fan said "failed"):
            # its incident becomes the part's, named after the part (serial, model), not a twin.
            symptom = None if same is not None else next(
                (c for c in root.children if c.key in open_by_key and explains(root.event, c)), None)
            if same is not None or symptom is not None:
                kept = same or symptom
                assert kept is not None
                worse = root.event
                root.children = [c for c in root.children if c is not kept] + [worse]
                if worse.severity.rank > kept.severity.rank:
                    kept = dataclasses.replace(kept, severity=worse.severity, summary=worse.summary,
                                               diagnosis={**dict(kept.diagnosis), **dict(worse.diagnosis)})
                if symptom is not None:
                    kept = dataclasses.replace(kept, info=worse.info, summary=worse.summary,
                                               diagnosis={**dict(kept.diagnosis), "part_of": worse.part})
                root.event = kept
        pulled = [c for c in root.children if c.key in open_by_key]
        root.children = [c for c in root.children if c.key not in open_by_key]
        out.append(root)
        out.extend(Root(c) for c in pulled)
    return [r for r in out if (r.parent_incident is None and r.pending_key is None) or r.children or r.evidence]


def _named_part(off: Event, children: Sequence[Event]) -> Event:
    """An abnormal shutdown names the part its evidence points at (the CPU with the IERR, the
    DIMM with the uncorrectable errors): its serial and model are what the engineer brings."""
    culprit = next((c for c in sorted(children, key=_sort_key)
                    if c.info.kind in ("cpu", "dimm") and c.condition in OWNER_CONDITIONS), None)
    if culprit is None:
        return off
    label = f"{culprit.info.kind.upper()} {culprit.info.location or ''}".strip()
    return dataclasses.replace(off, info=dataclasses.replace(culprit.info, location=culprit.info.location),
                               summary=f"{off.summary} (points at {label})",
                               diagnosis={**dict(off.diagnosis), "culprit": culprit.part})


def _group(events: Sequence[Event], shutdown_incident: Incident | None,
           open_here: Sequence[Incident] = (), recent: Sequence[Event] = ()) -> list[Root]:
    logs = [e for e in events if e.condition is Condition.LOG]
    free = sorted((e for e in events if e.condition is not Condition.LOG), key=_sort_key)
    roots: list[Root] = []

    # Rule 3: abnormal shutdown / unexpected power off explains what going off causes (the CPU
    # or DIMM its SEL names, rails at zero, rollups), not an independent fault: a power supply
    # that fails while the host is off is visible and is its own incident.
    off = next((e for e in free if e.condition in OFF), None)
    if off is not None or shutdown_incident is not None:
        attached = [e for e in free if e is not off and explained_by_shutdown(e)]
        if off is not None:
            parent = Root(_named_part(off, attached))
        else:  # the open shutdown incident of an earlier round, within its window
            parent = Root(Event("", "", Condition.ABNORMAL_SHUTDOWN, Severity.INFO, "", PartInfo(kind="system")),
                           parent_incident=shutdown_incident.id)  # type: ignore[union-attr]
        roots.append(parent)
        parent.children.extend(attached)
        free = [e for e in free if e is not off and e not in attached]

    # Rule 4: power supplies.
    psu_failures = [e for e in free if e.info.kind == "psu" and e.condition in (Condition.HEALTH,)]
    redundancy = [e for e in free if e.condition is Condition.REDUNDANCY_LOST]
    power_root: Root | None = None
    if psu_failures or redundancy:
        power_root = Root((psu_failures or redundancy)[0])
        roots.append(power_root)
        for e in [*psu_failures[1:], *redundancy]:
            if e is not power_root.event:
                power_root.children.append(e)
        free = [e for e in free if e not in psu_failures and e not in redundancy]
        symptoms = [e for e in free if _is_power_symptom(e)]
        power_root.children.extend(symptoms)
        free = [e for e in free if e not in symptoms]

    # Rule 4b: a part's own symptoms (its sensors, what depends on it) belong to it (patrol.depends).
    pending = [i for i in open_here if i.is_open]
    owners = [e for e in free if e.condition in OWNER_CONDITIONS] + [_as_owner(i) for i in pending]
    owned: dict[str, list[Event]] = {}
    for event in list(free):
        owner = owner_of(event, [o for o in owners if o is not event and o.part != event.part])
        if owner is not None:
            owned.setdefault(owner.key, []).append(event)
            free.remove(event)
    for incident in pending:
        if incident.key in owned and not any(e.key == incident.key for e in free):
            roots.append(Root(Event("", "", incident.condition, Severity.INFO, "", incident.info),
                               children=owned.pop(incident.key), parent_incident=incident.id))

    # Rule 5: one incident per part.
    specific = [e for e in free if e.condition is not Condition.ROLLUP]
    rollups = [e for e in free if e.condition is Condition.ROLLUP]
    by_part: dict[str, Root] = {}
    for event in specific:
        root = by_part.get(event.part)
        if root is None:
            by_part[event.part] = root = Root(event)
            roots.append(root)
        else:
            root.children.append(event)
        root.children.extend(owned.pop(event.key, []))
    for leftover in owned.values():  # an owner that is itself a child (of its part's worse condition)
        for event in leftover:
            home = next((r for r in roots if r.event.part == event.part), None) or by_part.get(event.part)
            if home is None:
                home = by_part.setdefault(event.part, Root(event))
                roots.append(home)
            else:
                home.children.append(event)

    # Rule 6: rollups explain nothing when something specific is known.
    if rollups:
        target = max(roots, key=lambda r: (r.event.severity.rank, -CONDITION_ORDER.get(r.event.condition, 99)),
                     default=None)
        if target is None:
            ordered = sorted(rollups, key=lambda e: (-e.severity.rank, e.part != "system", e.part))
            target = Root(ordered[0])
            roots.append(target)
            rollups = ordered[1:]
        target.children.extend(rollups)

    # Rule 7: log entries are evidence of the problem they are about.
    for entry in logs:
        wanted = LOG_MATCH.get(entry.info.kind, ())
        # The problem whose sensor or part the entry names ("Numeric sensor CPU1 Temp going high":
        # Lenovo XCC names the sensor, and "CPU" would say processor), else one of its kind.
        home = named_root(entry, roots) or next((r for r in roots if r.event.info.kind in wanted), None)
        if home is None and entry.info.kind != "system":
            # An entry about a kind of part (a PSU, a fan) is that part's evidence, never another
            # part's: a fan incident of the same round must not swallow a PSU's failure.
            home = _known_home(roots, pending, recent, wanted) or next(
                (r for r in roots if r.event.condition in (*OFF, *RACK, Condition.ROLLUP)), None)
            if home is None:
                # Read before its part's failed reading (a fault during the visit), or the part
                # never shows it: held a round, joins the part's problem if the next round shows
                # it (``join_held``), else opens as itself (issue 13: one fault, one incident).
                roots.append(Root(entry, evidence=list(entry.evidence), hold=True))
                continue
        if home is None:
            home = next((r for r in roots
                         if r.event.condition not in (Condition.BMC_UNREACHABLE, Condition.BMC_ERRORS)), None)
        if home is None:
            home = next((r for r in roots if r.event.condition is Condition.LOG
                         and r.event.part == entry.part), None)
        if home is None:
            home = _known_home(roots, pending, recent, wanted)
            if home is None:
                roots.append(Root(entry, evidence=list(entry.evidence)))
                continue
        home.evidence.extend(entry.evidence)
    return roots


def _known_home(roots: list[Root], pending: Sequence[Incident], recent: Sequence[Event],
                wanted: Sequence[str]) -> Root | None:
    """Nothing bad of the entry's kind this round, but a part of that kind is already known to be
    bad (an open incident) or was bad a round ago (a pending or flapping problem): the log often
    lags the reading by a round, and a late entry is evidence, not a new problem."""
    known = next((i for i in pending if i.info.kind in wanted), None)
    earlier = next((e for e in recent if e.info.kind in wanted), None)
    home: Root | None = None
    if known is not None:
        home = Root(Event("", "", known.condition, Severity.INFO, "", known.info), parent_incident=known.id)
    elif earlier is not None:
        home = Root(earlier, pending_key=earlier.key)
    if home is not None:
        roots.append(home)
    return home


def join_held(roots: Sequence[Root], held: Sequence[Event]) -> dict[str, Root]:
    """Held log entries (``Root.hold``, a round ago) -> the root of this round they belong to: a
    problem of the part kind they name (the failed PSU of "Power supply 2 failed", preferring the
    part whose number the message names). Entries with no such root stay held (or open, once the
    hold-down is over: ``converge``); a problem of another kind never takes them."""
    out: dict[str, Root] = {}
    candidates = [r for r in roots if not r.hold
                  and r.event.condition not in (Condition.BMC_UNREACHABLE, Condition.BMC_ERRORS, Condition.LOG)]
    for entry in held:
        named = named_root(entry, candidates)
        if named is not None:
            out[entry.key] = named
            continue
        wanted = LOG_MATCH.get(entry.info.kind, ())
        fits = [r for r in candidates if r.event.info.kind in wanted]
        if not fits:
            continue
        text = _text(entry)
        numbered = next((r for r in fits if _names_number(text, r.event.info.location)), None)
        out[entry.key] = numbered or fits[0]
    return out


def _text(entry: Event) -> str:
    return " ".join(str(e.get("message") or "") for e in entry.evidence) or str(entry.diagnosis.get("message") or "")


def named_root(entry: Event, roots: Sequence[Root]) -> Root | None:
    """The root whose part or sensor the entry names in full ("CPU1 Temp", "PSU2", "DIMM A1"):
    the entry is about that part whatever kind its words suggest. Names under 3 characters
    ("1") say nothing."""
    text = _text(entry).lower()
    for root in roots:
        name = (root.event.info.location or "").strip().lower()
        if len(name) >= 3 and re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text):
            return root
    return None


def _names_number(message: str, location: str | None) -> bool:
    """Whether a log message names this slot's number ("Power supply 2 failed." and "PSU2")."""
    number = re.search(r"(\d+)\s*$", location or "")
    return number is not None and re.search(rf"(?<!\d){number.group(1)}(?!\d)", message) is not None
