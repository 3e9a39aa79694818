"""Convergence: the state of the previous rounds + this round's events -> incidents. Pure.

One root cause is one incident. The rules, in order (docs/patrol.md, "Convergence"):

1. **Rack power loss**: when more than ``rack_loss_ratio`` of a rack's patrolled hosts are dark
   (BMC unreachable) or went off without an operator action in the same round, the rack gets one
   incident and everything those hosts report becomes its children.
2. **BMC unreachable** hides the host's part events (there are none: nothing was read) and
   freezes the host's open incidents: unknown is neither bad nor good.
3. **Abnormal shutdown** (off without an operator action): one incident; every other symptom of
   that host within ``shutdown_window`` (CPU, DIMM, PSU, voltage, log entries) attaches to it.
4. **Power supply**: a failed supply explains lost redundancy and voltage/current/power sensor
   symptoms; lost redundancy without a failed supply explains the sensor symptoms.
5. **Same part**: the most severe condition of a part is the incident; the others attach.
6. **Rollups** (system, chassis, BMC conditions) attach to any specific problem of the host and
   are an incident of their own only when nothing specific explains them.
7. **Log entries** attach as evidence to the problem they are about (by part kind), else to any
   problem of the host, else they are an incident of their own.

Dedup is by (host, part, condition). Hysteresis: a problem opens after ``open_after`` bad rounds
in a row, resolves after ``close_after`` good rounds in a row; a round that did not look at a
part (BMC unreachable, sensor unread) counts as neither. An incident already open is never
re-parented under a root cause found later.

The state is plain data (``ConvergeState.to_json``), persisted between rounds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.patrol import flap
from dcops.patrol.checks import POWER_SENSOR_KINDS
from dcops.patrol.depends import OWNER_CONDITIONS, explained_by_shutdown, explains, owner_of
from dcops.patrol.model import (
    POINT_CONDITIONS,
    Condition,
    Event,
    HostCheck,
    Incident,
    IncidentStatus,
    PartInfo,
    Policy,
    Scope,
    Severity,
    event_key,
    parse_time,
)
from dcops.patrol.racks import CAUSE_POWER, check_rack, rack_path, rediagnose

# Which condition of a part is the incident when several are bad at the same severity.
_CONDITION_ORDER = {
    Condition.RACK_POWER_LOSS: 0, Condition.RACK_UNREACHABLE: 0, Condition.ABNORMAL_SHUTDOWN: 1, Condition.UNEXPECTED_POWER_OFF: 2,
    Condition.BMC_UNREACHABLE: 3, Condition.BMC_ERRORS: 3, Condition.PREDICTIVE_FAILURE: 4, Condition.HEALTH: 5,
    Condition.SENSOR_HIGH: 6, Condition.SENSOR_LOW: 6, Condition.SENSOR_HEALTH: 7,
    Condition.REDUNDANCY_LOST: 8, Condition.ROLLUP: 9, Condition.LOG: 10,
}
_OFF = (Condition.ABNORMAL_SHUTDOWN, Condition.UNEXPECTED_POWER_OFF)
_RACK = (Condition.RACK_POWER_LOSS, Condition.RACK_UNREACHABLE)
# Log-entry kinds -> the part kinds (PartInfo.kind) they explain.
_LOG_MATCH = {
    "psu": ("psu",), "cpu": ("cpu",), "dimm": ("dimm",), "drive": ("drive", "volume", "storage_controller"),
    "volume": ("volume", "drive"), "fan": ("fan", "sensor/fan"), "temperature": ("sensor/temperature",),
    "voltage": ("sensor/voltage", "psu"), "system": ("system",),
}
MAX_CHILDREN = 200
MAX_EVIDENCE = 50


@dataclass
class Track:
    """A problem seen in recent rounds: its streaks, its latest event, and its incident once open."""

    key: str
    bad: int = 0
    good: int = 0
    first_seen: str = ""
    last_seen: str = ""
    incident: int | None = None
    event: dict[str, Any] = field(default_factory=dict)
    children: list[dict[str, Any]] = field(default_factory=list)  # gathered while still pending
    history: str = ""  # verdicts of the rounds that looked, newest last (patrol.flap)
    flapping: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "bad": self.bad, "good": self.good, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "incident": self.incident, "event": self.event,
                "children": self.children, "history": self.history, "flapping": self.flapping}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Track:
        return cls(key=data["key"], bad=int(data.get("bad", 0)), good=int(data.get("good", 0)),
                   first_seen=data.get("first_seen", ""), last_seen=data.get("last_seen", ""),
                   incident=data.get("incident"), event=dict(data.get("event") or {}),
                   children=list(data.get("children") or []), history=str(data.get("history") or ""),
                   flapping=bool(data.get("flapping")))

    def verdict(self, bad: bool, policy: Policy) -> None:
        """Record a round that looked at the problem; update the flapping state (patrol.flap)."""
        self.history = flap.record(self.history, bad, policy.flap_window)
        self.flapping = flap.flapping(self.history, self.flapping, start=policy.flap_start, stop=policy.flap_stop,
                                      min_records=policy.flap_min_rounds)


@dataclass
class ConvergeState:
    """Everything convergence remembers: tracked problems and the open incidents."""

    tracks: dict[str, Track] = field(default_factory=dict)
    incidents: dict[int, Incident] = field(default_factory=dict)  # open ones
    next_id: int = 1

    def to_json(self) -> dict[str, Any]:
        """The tracks and id counter (open incidents are stored as rows of their own)."""
        return {"version": 1, "next_id": self.next_id, "tracks": [t.to_json() for t in self.tracks.values()]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, incidents: Iterable[Incident] = ()) -> ConvergeState:
        data = data or {}
        open_incidents = {i.id: i for i in incidents if i.is_open}
        tracks = {t.key: t for t in (Track.from_json(x) for x in data.get("tracks") or [])}
        # An incident resolved by hand: forget its track, so a problem still there opens afresh.
        for track in list(tracks.values()):
            if track.incident is not None and track.incident not in open_incidents:
                del tracks[track.key]
        next_id = max([int(data.get("next_id") or 1), *(i + 1 for i in open_incidents)])
        return cls(tracks=tracks, incidents=open_incidents, next_id=next_id)


@dataclass
class RoundResult:
    state: ConvergeState
    opened: list[Incident] = field(default_factory=list)
    updated: list[Incident] = field(default_factory=list)  # severity went up
    resolved: list[Incident] = field(default_factory=list)
    roots: int = 0  # root problems seen this round (open or pending)
    hidden: int = 0  # symptoms attached to a root


@dataclass
class _Root:
    event: Event
    children: list[Event] = field(default_factory=list)
    evidence: list[Mapping[str, Any]] = field(default_factory=list)
    parent_incident: int | None = None  # attach to this open incident instead of tracking
    pending_key: str | None = None  # evidence for this pending (not yet open) problem's track


def _child_json(event: Event, now: str) -> dict[str, Any]:
    return {"key": event.key, "host": event.host, "part": event.part, "condition": event.condition.value,
            "severity": event.severity.value, "summary": event.summary, "info": event.info.to_json(),
            "diagnosis": dict(event.diagnosis), "first_seen": now, "last_seen": now}


def _merge_children(existing: Sequence[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    by_key: dict[str, dict[str, Any]] = {str(c["key"]): dict(c) for c in existing}
    for child in new:
        old = by_key.get(str(child["key"]))
        if old is None:
            by_key[str(child["key"])] = dict(child)
        else:
            old.update({k: v for k, v in child.items() if k != "first_seen"})
    return list(by_key.values())[:MAX_CHILDREN]


def _merge_evidence(existing: Sequence[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    seen = {(e.get("log"), e.get("id")) for e in existing}
    out = [dict(e) for e in existing]
    for entry in new:
        ident = (entry.get("log"), entry.get("id"))
        if ident not in seen:
            seen.add(ident)
            out.append(dict(entry))
    return out[-MAX_EVIDENCE:]


def _sort_key(event: Event) -> tuple[int, int, str]:
    return (-event.severity.rank, _CONDITION_ORDER.get(event.condition, 99), event.part)


def _is_power_symptom(event: Event) -> bool:
    kind = event.info.kind
    return kind.startswith("sensor/") and kind.split("/", 1)[1] in {k.value for k in POWER_SENSOR_KINDS}


def _explained_by_power_loss(event: Event) -> bool:
    return (event.condition in (*_OFF, Condition.BMC_UNREACHABLE, Condition.REDUNDANCY_LOST)
            or (event.condition is Condition.LOG and event.info.kind in ("psu", "system"))
            or (event.info.kind == "psu") or _is_power_symptom(event))


def _as_owner(incident: Incident) -> Event:
    """An open incident as a candidate owner of this round's symptoms (its part is still bad)."""
    return Event(incident.host, incident.part, incident.condition, incident.severity, incident.summary,
                 incident.info, dict(incident.diagnosis))


def group_host(events: Sequence[Event], open_by_key: Mapping[str, Incident],
               shutdown_incident: Incident | None, open_here: Sequence[Incident] = (),
               recent: Sequence[Event] = ()) -> list[_Root]:
    """Group one host's events into root problems with their symptoms (rules 3-7), then respect
    incidents already open: such a problem stays its own root (never re-parented), and when it
    shares its part with a new root, it *becomes* that root (one incident per part), taking the
    worse severity. ``open_here``: the host's open incidents, whose parts may own this round's
    symptoms (a volume degraded a round after its drive failed joins the drive's incident);
    ``recent``: the host's problems bad in recent rounds but not open, which late log entries join."""
    roots = _group(events, shutdown_incident, open_here, recent)
    out: list[_Root] = []
    for root in roots:
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
        out.extend(_Root(c) for c in pulled)
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
           open_here: Sequence[Incident] = (), recent: Sequence[Event] = ()) -> list[_Root]:
    logs = [e for e in events if e.condition is Condition.LOG]
    free = sorted((e for e in events if e.condition is not Condition.LOG), key=_sort_key)
    roots: list[_Root] = []

    # Rule 3: abnormal shutdown / unexpected power off explains what going off causes (the CPU
    # or DIMM its SEL names, rails at zero, rollups), not an independent fault: a power supply
    # that fails while the host is off is visible and is its own incident.
    off = next((e for e in free if e.condition in _OFF), None)
    if off is not None or shutdown_incident is not None:
        attached = [e for e in free if e is not off and explained_by_shutdown(e)]
        if off is not None:
            parent = _Root(_named_part(off, attached))
        else:  # the open shutdown incident of an earlier round, within its window
            parent = _Root(Event("", "", Condition.ABNORMAL_SHUTDOWN, Severity.INFO, "", PartInfo(kind="system")),
                           parent_incident=shutdown_incident.id)  # type: ignore[union-attr]
        roots.append(parent)
        parent.children.extend(attached)
        free = [e for e in free if e is not off and e not in attached]

    # Rule 4: power supplies.
    psu_failures = [e for e in free if e.info.kind == "psu" and e.condition in (Condition.HEALTH,)]
    redundancy = [e for e in free if e.condition is Condition.REDUNDANCY_LOST]
    power_root: _Root | None = None
    if psu_failures or redundancy:
        power_root = _Root((psu_failures or redundancy)[0])
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
            roots.append(_Root(Event("", "", incident.condition, Severity.INFO, "", incident.info),
                               children=owned.pop(incident.key), parent_incident=incident.id))

    # Rule 5: one incident per part.
    specific = [e for e in free if e.condition is not Condition.ROLLUP]
    rollups = [e for e in free if e.condition is Condition.ROLLUP]
    by_part: dict[str, _Root] = {}
    for event in specific:
        root = by_part.get(event.part)
        if root is None:
            by_part[event.part] = root = _Root(event)
            roots.append(root)
        else:
            root.children.append(event)
        root.children.extend(owned.pop(event.key, []))
    for leftover in owned.values():  # an owner that is itself a child (of its part's worse condition)
        for event in leftover:
            home = next((r for r in roots if r.event.part == event.part), None) or by_part.get(event.part)
            if home is None:
                home = by_part.setdefault(event.part, _Root(event))
                roots.append(home)
            else:
                home.children.append(event)

    # Rule 6: rollups explain nothing when something specific is known.
    if rollups:
        target = max(roots, key=lambda r: (r.event.severity.rank, -_CONDITION_ORDER.get(r.event.condition, 99)),
                     default=None)
        if target is None:
            ordered = sorted(rollups, key=lambda e: (-e.severity.rank, e.part != "system", e.part))
            target = _Root(ordered[0])
            roots.append(target)
            rollups = ordered[1:]
        target.children.extend(rollups)

    # Rule 7: log entries are evidence of the problem they are about.
    for entry in logs:
        wanted = _LOG_MATCH.get(entry.info.kind, ())
        home = next((r for r in roots if r.event.info.kind in wanted), None) \
            or next((r for r in roots if r.event.condition not in (Condition.BMC_UNREACHABLE, Condition.BMC_ERRORS)),
                    None)
        if home is None:
            home = next((r for r in roots if r.event.condition is Condition.LOG
                         and r.event.part == entry.part), None)
        if home is None:
            # Nothing bad this round, but the entry is about a part already known to be bad (an
            # open incident) or bad a round ago (a pending or flapping problem): the log often
            # lags the reading by a round, and a late entry is evidence, not a new problem.
            known = next((i for i in pending if i.info.kind in wanted), None)
            earlier = next((e for e in recent if e.info.kind in wanted), None)
            if known is not None:
                home = _Root(Event("", "", known.condition, Severity.INFO, "", known.info),
                             parent_incident=known.id)
                roots.append(home)
            elif earlier is not None:
                home = _Root(earlier, pending_key=earlier.key)
                roots.append(home)
            else:
                roots.append(_Root(entry, evidence=list(entry.evidence)))
                continue
        home.evidence.extend(entry.evidence)
    return roots


def converge(
    state: ConvergeState,
    checks: Sequence[HostCheck],
    policy: Policy,
    now: dt.datetime,
    context: Mapping[str, Mapping[str, Any]] | None = None,
) -> RoundResult:
    """Apply one round's checks to ``state``; returns the new state and what changed.

    ``context`` maps a host name to ``{"location": {...}, "warranty": {...}}`` (see
    ``patrol.enrich.host_context``) copied into incidents when they open.
    """
    context = context or {}
    stamp = now.isoformat()
    result = RoundResult(state)
    open_by_key = {i.key: i for i in state.incidents.values()}
    by_host = {c.host: c for c in checks}

    # ---- rule 1: racks that lost power (or their BMC network) at once
    racks: dict[str, list[HostCheck]] = {}
    for check in checks:
        if check.rack:
            racks.setdefault(rack_path(check.site, check.room, check.rack), []).append(check)
    open_rack = {i.host: i for i in state.incidents.values() if i.condition in _RACK}
    down_racks: dict[str, Event] = {}
    rack_good: set[str] = set()
    for path, members in racks.items():
        rack_event = check_rack(path, members, policy, open_rack.get(path))
        if rack_event is not None:
            down_racks[path] = rack_event
        elif len(members) >= policy.rack_loss_min_hosts:
            rack_good.add(path)
            # Re-diagnosed once the BMCs are back: the incident changes (list, report, Alertmanager
            # labels) but nobody is paged again about an outage that is already over.
            if path in open_rack:
                rediagnose(open_rack[path], members, policy)

    roots: list[_Root] = []
    rack_roots: dict[str, _Root] = {}
    for path, event in down_racks.items():
        root = _Root(event)
        rack_roots[path] = root
        roots.append(root)
    for check in checks:
        path = rack_path(check.site, check.room, check.rack)
        rack_root = rack_roots.get(path)
        events: Sequence[Event] = check.events
        if path not in down_racks and path in open_rack:
            # The rack incident is closing (hosts coming back): what the power loss explains (dark
            # BMCs, hosts still off, "AC lost" log entries, PSU alarms) still belongs to it; any
            # other problem of a host is its own.
            if rack_root is None:
                rack_root = rack_roots[path] = _Root(
                    Event("", "", open_rack[path].condition, Severity.INFO, "", PartInfo(kind="rack")),
                    parent_incident=open_rack[path].id)
                roots.append(rack_root)
            # A problem already open stays with its host's grouping (it is never re-parented,
            # and the rollups it causes belong to it, not to a new incident).
            explained = [e for e in events if _explained_by_power_loss(e) and e.key not in open_by_key]
            for event in explained:
                if event.condition is Condition.LOG:
                    rack_root.evidence.extend(event.evidence)
                else:
                    rack_root.children.append(event)
            events = [e for e in events if e not in explained]
        elif rack_root is not None:
            for event in check.events:
                if event.key in open_by_key:
                    roots.append(_Root(event))  # never re-parented
                elif event.condition is Condition.LOG:
                    rack_root.evidence.extend(event.evidence)
                else:
                    rack_root.children.append(event)
            continue
        shutdown = next((i for i in state.incidents.values() if i.host == check.host and i.condition in _OFF
                         and (now - i.opened_at).total_seconds() <= policy.shutdown_window), None)
        here = [i for i in state.incidents.values() if i.host == check.host and i.condition not in _OFF]
        recent = [Event.from_json(t.event) for t in state.tracks.values()
                  if t.incident is None and t.event and t.event.get("host") == check.host
                  and t.event.get("condition") != Condition.LOG.value]
        roots.extend(group_host(events, open_by_key, shutdown, here, recent))

    # ---- apply: bad rounds for roots
    bad_keys: set[str] = set()
    for root in roots:
        children = [_child_json(c, stamp) for c in root.children]
        result.hidden += len(children)
        if root.pending_key is not None:
            pending = state.tracks.get(root.pending_key)
            if pending is not None and pending.event:
                pending.event["evidence"] = _merge_evidence(list(pending.event.get("evidence") or []), root.evidence)
            continue
        if root.parent_incident is not None:
            incident = state.incidents.get(root.parent_incident)
            if incident is not None:
                incident.children = _merge_children(incident.children, children)
                incident.evidence = _merge_evidence(incident.evidence, root.evidence)
            continue
        event = root.event
        key = event.key
        if key in bad_keys:  # the same problem twice in one round (two rack roots): once is enough
            continue
        bad_keys.add(key)
        result.roots += 1
        track = state.tracks.get(key)
        if track is None:
            track = state.tracks[key] = Track(key, first_seen=stamp)
        track.bad += 1
        track.good = 0
        track.last_seen = stamp
        gathered = list(track.event.get("evidence") or [])  # while pending: kept across rounds
        track.event = event.to_json()
        track.event["evidence"] = _merge_evidence(gathered, track.event.get("evidence") or [])
        if event.condition not in POINT_CONDITIONS:
            track.verdict(True, policy)
        evidence = list(root.evidence) + list(event.evidence)
        incident = state.incidents.get(track.incident) if track.incident is not None else None
        if incident is not None:
            _mark_flapping(incident, track, now)
            if event.severity.rank > incident.severity.rank:
                incident.severity = event.severity
                result.updated.append(incident)
            incident.last_seen_at = now
            incident.summary = event.summary
            if event.diagnosis.get("part_of"):
                incident.info = event.info  # the symptom's incident now names its part
            if event.condition in _RACK and event.diagnosis.get("cause") == CAUSE_POWER:
                incident.condition = Condition.RACK_POWER_LOSS  # evidence came in while it lasts
            incident.diagnosis = {**dict(incident.diagnosis), **dict(event.diagnosis)}
            _mark_flapping(incident, track, now)
            incident.children = _merge_children(incident.children, children)
            incident.evidence = _merge_evidence(incident.evidence, evidence)
            continue
        track.children = _merge_children(track.children, children)
        track.event["evidence"] = _merge_evidence(list(track.event.get("evidence") or []), evidence)
        if track.bad >= policy.hysteresis.opens_after(event.condition.value) or track.flapping:
            incident = _open(state, track, event, now, context)
            _mark_flapping(incident, track, now)
            result.opened.append(incident)

    # ---- good and unknown rounds for everything else tracked
    for key, track in list(state.tracks.items()):
        if key in bad_keys:
            continue
        if not track.event:
            del state.tracks[key]
            continue
        event = Event.from_json(track.event)
        verdict = _verdict(event, by_host, rack_good, down_racks)
        if event.condition in POINT_CONDITIONS:
            last = parse_time(track.last_seen) or now
            verdict = "good" if (now - last).total_seconds() >= policy.log_ttl else "unknown"
            if verdict == "good":
                track.good = policy.hysteresis.closes_after(event.condition.value)
        if verdict == "unknown":
            continue
        track.good += 1
        track.bad = 0
        if event.condition not in POINT_CONDITIONS:
            track.verdict(False, policy)
        incident = state.incidents.get(track.incident) if track.incident is not None else None
        if incident is None:
            # A pending problem that went away is forgotten, unless it was bad within the flap
            # window: then it is remembered, so a problem that keeps coming back is seen flapping.
            if flap.BAD not in track.history:
                del state.tracks[key]
            continue
        _mark_flapping(incident, track, now)
        if track.flapping:
            continue  # a flapping problem stays open until it is stable, however it reads now
        if track.good >= policy.hysteresis.closes_after(event.condition.value):
            incident.status = IncidentStatus.RESOLVED
            incident.resolved_at = now
            incident.resolved_by = "patrol"
            del state.incidents[incident.id]
            del state.tracks[key]
            result.resolved.append(incident)
    return result


def _mark_flapping(incident: Incident, track: Track, now: dt.datetime) -> None:
    """Carry the track's flapping state into the incident (``diagnosis.flapping``, and since when
    it first flapped), so people and notifications see why it stays open."""
    was = bool(incident.diagnosis.get("flapping"))
    if track.flapping == was and not track.flapping:
        return
    extra: dict[str, Any] = {"flapping": track.flapping, "state_changes": flap.change_ratio(track.history)}
    if track.flapping and not incident.diagnosis.get("flapped_since"):
        extra["flapped_since"] = now.isoformat()
    incident.diagnosis = {**dict(incident.diagnosis), **extra}
    if track.flapping and not incident.summary.startswith("flapping: "):
        incident.summary = f"flapping: {incident.summary}"


def _verdict(event: Event, by_host: Mapping[str, HostCheck], rack_good: set[str],
             down_racks: Mapping[str, Event]) -> str:
    """'good' when this round looked at the problem's part and found it fine, else 'unknown'."""
    if event.condition in _RACK:
        if event.host in down_racks:
            return "unknown"
        return "good" if event.host in rack_good else "unknown"
    check = by_host.get(event.host)
    if check is None:
        return "unknown"  # not patrolled this round (deadline, --limit)
    if event.condition is Condition.BMC_UNREACHABLE:
        return "good" if check.reachable else "unknown"
    if not check.reachable:
        return "unknown"
    part = event.part
    if part in check.seen:
        return "good"
    if event.condition in _OFF:
        return "good" if Scope.POWER in check.scopes else "unknown"
    if Scope.COMPONENTS in check.scopes and not part.startswith(("sensor:", "condition:", "log:")):
        return "good"  # read part by part, or an OK rollup vouches for every part
    if part.startswith("condition:") and "system" in check.seen:
        return "good"  # the BMC no longer lists the condition
    return "unknown"


def _open(state: ConvergeState, track: Track, event: Event, now: dt.datetime,
          context: Mapping[str, Mapping[str, Any]]) -> Incident:
    ctx = context.get(event.host) or {}
    location = dict(ctx.get("location") or {})
    if event.condition in _RACK:
        location = {k: event.diagnosis.get(k) for k in ("site", "room", "rack") if event.diagnosis.get(k)}
    first = parse_time(track.first_seen) or now
    incident = Incident(
        id=state.next_id, key=track.key, host=event.host, part=event.part, condition=event.condition,
        severity=event.severity, summary=event.summary, status=IncidentStatus.OPEN, opened_at=now,
        first_seen_at=first, last_seen_at=now, info=event.info, location=location,
        diagnosis={**dict(event.diagnosis), "since": event.diagnosis.get("since") or track.first_seen},
        evidence=list(track.event.get("evidence") or []), children=list(track.children),
        warranty=dict(ctx.get("warranty") or {}) if event.condition not in _RACK else {},
        paged_at=now,  # the engine clears it when a silence holds the page back (patrol.escalate.hold)
    )
    state.next_id += 1
    state.incidents[incident.id] = incident
    track.incident = incident.id
    track.children = []
    return incident


def key_of(host: str, part: str, condition: Condition | str) -> str:
    return event_key(host, part, str(condition))
