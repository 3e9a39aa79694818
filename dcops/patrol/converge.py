"""Convergence: the state of the previous rounds + this round's events -> incidents. Pure.

One root cause is one incident. The rules, in order (docs/patrol.md, "Convergence"):

1. **Racks** (``patrol.racks``): when more than ``rack_loss_ratio`` of a rack's patrolled hosts
   are dark (BMC unreachable) or went off without an operator action in the same round, the rack
   gets one incident (power loss, management network, or cause unknown: the evidence decides)
   and everything those hosts report becomes its children.
2. **BMC unreachable** hides the host's part events (there are none: nothing was read) and
   freezes the host's open incidents: unknown is neither bad nor good.
3. to 8. per host (``patrol.group``): abnormal shutdown and what going off explains (not an
   independent fault such as a failed PSU); power supplies; a part's own symptoms (the dependency
   model, ``patrol.depends``); one incident per part; rollups; log entries as evidence.

Dedup is by (host, part, condition). Hysteresis: a problem opens after ``open_after`` bad rounds
in a row, resolves after ``close_after`` good rounds in a row; a round that did not look at a
part (BMC unreachable, sensor unread) counts as neither. A problem that keeps changing state is
**flapping** (``patrol.flap``): it opens at once, marked so, and stays open until stable. An
incident already open is never re-parented under a root cause found later; a part whose symptom's
incident opened first takes that incident over.

The state is plain data (``ConvergeState.to_json``), persisted between rounds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.models import PduReading
from dcops.patrol import flap
from dcops.patrol.group import OFF, RACK, Root, explained_by_power_loss, group_host, join_held
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
from dcops.patrol.networks import GroupDown, NetworkRound, network_note
from dcops.patrol.racks import CAUSE_POWER, check_rack, rack_path, rediagnose

MAX_CHILDREN = 200
NETWORK = (Condition.NETWORK_DOWN, Condition.NETWORK_UNREACHABLE)
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
    hold: int = 0  # a held log entry (group.Root.hold): rounds that read its host left to wait

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "bad": self.bad, "good": self.good, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "incident": self.incident, "event": self.event,
                "children": self.children, "history": self.history, "flapping": self.flapping,
                "hold": self.hold}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Track:
        return cls(key=data["key"], bad=int(data.get("bad", 0)), good=int(data.get("good", 0)),
                   first_seen=data.get("first_seen", ""), last_seen=data.get("last_seen", ""),
                   incident=data.get("incident"), event=dict(data.get("event") or {}),
                   children=list(data.get("children") or []), history=str(data.get("history") or ""),
                   flapping=bool(data.get("flapping")), hold=int(data.get("hold") or 0))

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


def converge(
    state: ConvergeState,
    checks: Sequence[HostCheck],
    policy: Policy,
    now: dt.datetime,
    context: Mapping[str, Mapping[str, Any]] | None = None,
    networks: NetworkRound | None = None,
    pdus: Mapping[str, Sequence[PduReading]] | None = None,
) -> RoundResult:
    """Apply one round's checks to ``state``; returns the new state and what changed.

    ``context`` maps a host name to ``{"location": {...}, "warranty": {...}}`` (see
    ``patrol.enrich.host_context``) copied into incidents when they open. ``networks``: the
    heartbeat's round (``patrol.networks``): a network down behind a switch or rack is one root;
    in a rack that went dark it joins the rack's incident (and names the network and switch).
    ``pdus``: rack path -> what its PDUs said this round (``patrol.pdu``), read for dark racks.
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
    open_rack = {i.host: i for i in state.incidents.values() if i.condition in RACK}
    down_racks: dict[str, Event] = {}
    rack_good: set[str] = set()
    for path, members in racks.items():
        rack_event = check_rack(path, members, policy, open_rack.get(path), (pdus or {}).get(path, ()))
        if rack_event is not None:
            down_racks[path] = rack_event
        elif len(members) >= policy.rack_loss_min_hosts:
            rack_good.add(path)
            # Re-diagnosed once the BMCs are back: the incident changes (list, report, Alertmanager
            # labels) but nobody is paged again about an outage that is already over.
            if path in open_rack:
                rediagnose(open_rack[path], members, policy)

    roots: list[Root] = []
    rack_roots: dict[str, Root] = {}
    nets = networks or NetworkRound()
    in_dark_rack: dict[str, list[GroupDown]] = {}
    for group in nets.groups:
        if group.rack is not None and group.rack in down_racks:
            in_dark_rack.setdefault(group.rack, []).append(group)
        else:
            roots.append(Root(group.event, children=list(group.children)))
    for path, event in down_racks.items():
        if path in in_dark_rack:
            # The rack's networks went down with its BMCs: one incident, naming them (a dead
            # management switch is the rack's management network loss, not a second incident).
            note = network_note(in_dark_rack[path])
            event = dataclasses.replace(event, diagnosis={**dict(event.diagnosis), **note},
                                        summary=f"{event.summary}; down with it: network "
                                                f"{', '.join(note['networks_down'])}")
        root = Root(event)
        for group in in_dark_rack.get(path, ()):
            root.children.extend([group.event, *group.children])
        rack_roots[path] = root
        roots.append(root)
    for host, host_events in nets.host_events.items():
        if host not in by_host:  # its BMC was not read this round: its networks still count
            roots.extend(Root(e) for e in host_events)
    for check in checks:
        path = rack_path(check.site, check.room, check.rack)
        rack_root = rack_roots.get(path)
        events: Sequence[Event] = (*check.events, *nets.host_events.get(check.host, ()))
        all_events = events
        if path not in down_racks and path in open_rack:
            # The rack incident is closing (hosts coming back): what the power loss explains (dark
            # BMCs, hosts still off, "AC lost" log entries, PSU alarms) still belongs to it; any
            # other problem of a host is its own.
            if rack_root is None:
                rack_root = rack_roots[path] = Root(
                    Event("", "", open_rack[path].condition, Severity.INFO, "", PartInfo(kind="rack")),
                    parent_incident=open_rack[path].id)
                roots.append(rack_root)
            # A problem already open stays with its host's grouping (it is never re-parented,
            # and the rollups it causes belong to it, not to a new incident).
            explained = [e for e in events if explained_by_power_loss(e) and e.key not in open_by_key]
            for event in explained:
                if event.condition is Condition.LOG:
                    rack_root.evidence.extend(event.evidence)
                else:
                    rack_root.children.append(event)
            events = [e for e in events if e not in explained]
        elif rack_root is not None:
            for event in all_events:
                if event.key in open_by_key:
                    roots.append(Root(event))  # never re-parented
                elif event.condition is Condition.LOG:
                    rack_root.evidence.extend(event.evidence)
                else:
                    rack_root.children.append(event)
            continue
        shutdown = next((i for i in state.incidents.values() if i.host == check.host and i.condition in OFF
                         and (now - i.opened_at).total_seconds() <= policy.shutdown_window), None)
        here = [i for i in state.incidents.values() if i.host == check.host and i.condition not in OFF]
        recent = [Event.from_json(t.event) for t in state.tracks.values()
                  if t.incident is None and t.event and t.event.get("host") == check.host
                  and t.event.get("condition") != Condition.LOG.value]
        if not check.reachable and check.host in nets.silent:
            # BMC dark and not one network answers: the server is down (power, a hang), one
            # problem. Its networks are symptoms of the BMC's incident, which says so.
            bmc = next((e for e in events if e.condition is Condition.BMC_UNREACHABLE), None)
            quiet = [e for e in events if e.condition is Condition.NETWORK_UNREACHABLE and e.key not in open_by_key]
            if bmc is not None and quiet:
                nets_down = sorted(str(e.diagnosis.get("network")) for e in quiet)
                bmc = dataclasses.replace(bmc, summary=f"{bmc.summary}; the host answers on none of its networks "
                                                       f"({', '.join(nets_down)}) either",
                                          diagnosis={**dict(bmc.diagnosis), "networks_down": nets_down})
                roots.append(Root(bmc, children=quiet))
                events = [e for e in events if e.condition is not Condition.BMC_UNREACHABLE and e not in quiet]
        host_roots = group_host(events, open_by_key, shutdown, here, recent)
        held = [Event.from_json(t.event) for t in state.tracks.values()
                if t.hold and t.incident is None and t.event.get("host") == check.host]
        for key, root in join_held(host_roots, held).items():
            # The log entry was read a round before its part showed the fault (issue 13): it is
            # the part's evidence, and its round was the part's first bad one.
            root.evidence.extend(state.tracks[key].event.get("evidence") or [])
            root.joined.append(key)
        roots.extend(host_roots)

    # ---- apply: bad rounds for roots
    bad_keys: set[str] = set()
    for root in roots:
        children = [_child_json(c, stamp) for c in root.children]
        result.hidden += len(children)
        joined = [state.tracks.pop(k) for k in root.joined if k in state.tracks]
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
        if joined and track.incident is None:
            track.bad += 1  # the held entry's round saw this problem first
            track.first_seen = min([track.first_seen, *(j.first_seen for j in joined if j.first_seen)])
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
            if event.condition in RACK and event.diagnosis.get("cause") == CAUSE_POWER:
                incident.condition = Condition.RACK_POWER_LOSS  # evidence came in while it lasts
            incident.diagnosis = {**dict(incident.diagnosis), **dict(event.diagnosis)}
            _mark_flapping(incident, track, now)
            incident.children = _merge_children(incident.children, children)
            incident.evidence = _merge_evidence(incident.evidence, evidence)
            continue
        track.children = _merge_children(track.children, children)
        track.event["evidence"] = _merge_evidence(list(track.event.get("evidence") or []), evidence)
        if root.hold and track.bad == 1 and policy.log_hold > 0:
            track.hold = policy.log_hold
        if track.hold:
            continue  # held: joins its part's problem next round, or opens once the hold is over
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
        if track.hold and track.incident is None:
            looked = by_host.get(event.host)
            if looked is not None and looked.reachable:
                track.hold -= 1  # a round read the host and showed no part the entry is about
            if track.hold == 0:
                incident = _open(state, track, event, now, context)
                result.opened.append(incident)
            continue
        verdict = _verdict(event, by_host, rack_good, down_racks, networks)
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
             down_racks: Mapping[str, Event], networks: NetworkRound | None = None) -> str:
    """'good' when this round looked at the problem's part and found it fine, else 'unknown'."""
    if event.condition in NETWORK:
        # Only the heartbeat looks at networks: a round without one (patrol run) knows nothing.
        return "good" if networks is not None and (event.host, event.part) in networks.good else "unknown"
    if event.condition in RACK:
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
    if event.condition in OFF:
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
    if event.condition in RACK or event.condition is Condition.NETWORK_DOWN:
        location = {k: event.diagnosis.get(k) for k in ("site", "room", "rack") if event.diagnosis.get(k)}
    first = parse_time(track.first_seen) or now
    incident = Incident(
        id=state.next_id, key=track.key, host=event.host, part=event.part, condition=event.condition,
        severity=event.severity, summary=event.summary, status=IncidentStatus.OPEN, opened_at=now,
        first_seen_at=first, last_seen_at=now, info=event.info, location=location,
        diagnosis={**dict(event.diagnosis), "since": event.diagnosis.get("since") or track.first_seen},
        evidence=list(track.event.get("evidence") or []), children=list(track.children),
        warranty=dict(ctx.get("warranty") or {}) if event.condition not in (*RACK, Condition.NETWORK_DOWN) else {},
        paged_at=now,  # the engine clears it when a silence holds the page back (patrol.escalate.hold)
    )
    state.next_id += 1
    state.incidents[incident.id] = incident
    track.incident = incident.id
    track.children = []
    return incident


def key_of(host: str, part: str, condition: Condition | str) -> str:
    return event_key(host, part, str(condition))
