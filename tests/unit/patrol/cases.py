"""Runner of the YAML tables in tests/cases/patrol/: rounds of per-host inputs (observations, short
event lists, or "unreachable") through checks and convergence, with the incidents expected after
each round. The format is documented at the top of tests/cases/patrol/convergence.yaml."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dcops.observation import Observation
from dcops.patrol.checks import check_host
from dcops.patrol.converge import ConvergeState, converge
from dcops.patrol.escalate import escalate
from dcops.patrol.model import (
    Condition,
    Event,
    HostCheck,
    HostMemory,
    Hysteresis,
    Incident,
    PartInfo,
    Policy,
    Scope,
    Severity,
)

CASES = Path(__file__).resolve().parents[2] / "cases" / "patrol"
T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)
ALL_SCOPES = frozenset(Scope)


def load(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
    return list(data["cases"])


def policy_of(spec: Mapping[str, Any] | None) -> Policy:
    spec = dict(spec or {})
    hyst = Hysteresis()
    if "open_after" in spec or "close_after" in spec:
        hyst = Hysteresis(open_after=spec.pop("open_after", 2), close_after=spec.pop("close_after", 3),
                          open_after_by_condition=spec.pop("open_after_by_condition",
                                                           dict(hyst.open_after_by_condition)))
    if "escalation" in spec:
        spec["escalation"] = tuple(float(x) for x in spec["escalation"])
    return Policy(hysteresis=hyst, **spec)


def short_event(host: str, spec: Any) -> Event:
    """``"part condition severity"`` (kind = the part's prefix), or a mapping with those keys."""
    if isinstance(spec, str):
        part, condition, severity = spec.split()
        spec = {"part": part, "condition": condition, "severity": severity}
    part = spec["part"]
    kind = spec.get("kind") or part.split(":")[0]
    if kind == "sensor":
        kind = f"sensor/{spec.get('sensor_kind', 'temperature')}"
    info = PartInfo(kind=kind, location=spec.get("location") or part.split(":")[-1],
                    serial=spec.get("serial"), model=spec.get("model"))
    evidence = tuple(spec.get("evidence") or ())
    return Event(host, part, Condition(spec["condition"]), Severity(spec["severity"]),
                 spec.get("summary") or f"{part} {spec['condition']}", info, dict(spec.get("diagnosis") or {}),
                 evidence)


def host_input(name: str, spec: Any, hosts: Mapping[str, Any], memory: dict[str, HostMemory], now: dt.datetime,
               policy: Policy) -> HostCheck:
    loc = dict(hosts.get(name) or {})
    if spec == "ok" or spec is None:
        spec = {}
    if spec == "unreachable" or (isinstance(spec, Mapping) and "unreachable" in spec):
        reason = spec.get("unreachable") if isinstance(spec, Mapping) else "connection refused"
        check = check_host(name, None, memory.get(name, HostMemory()), now, policy, error=str(reason),
                           location=loc, inband=spec.get("inband") if isinstance(spec, Mapping) else None)
        memory[name] = check.memory
        return check
    if "obs" in spec:
        obs_doc = {"host": name, "taken_at": now.isoformat(), "protocol": "redfish", **spec["obs"]}
        obs_doc.setdefault("identity", {})
        obs_doc["identity"] = {"power_state": "on", "health": "ok", **obs_doc["identity"]}
        for comp in obs_doc.get("components", []):
            comp.setdefault("chassis", "1")
            comp.setdefault("health", "ok")
        for group in obs_doc.get("redundancy", []):
            group.setdefault("chassis", "1")
            group.setdefault("health", "ok")
        for sensor in obs_doc.get("sensors", []):
            sensor.setdefault("chassis", "1")
            sensor.setdefault("health", "ok")
        for n, entry in enumerate(obs_doc.get("log_entries", [])):
            entry.setdefault("id", str(n + 1))
            entry.setdefault("log", "Sel")
            entry.setdefault("created", now.isoformat())
        observation = Observation.from_json(obs_doc)
        check = check_host(name, observation, memory.get(name, HostMemory()), now, policy,
                           operator_action=spec.get("operator_action"),
                           sections=spec.get("sections", ("components", "sensors", "logs")), location=loc)
        memory[name] = check.memory
        return check
    events = tuple(short_event(name, e) for e in spec.get("events") or ())
    seen = frozenset(spec.get("seen") or ()) | {e.part for e in events}
    scopes = frozenset(Scope(s) for s in spec["scopes"]) if "scopes" in spec else ALL_SCOPES
    return HostCheck(name, events, scopes, HostMemory(), reachable=True, site=loc.get("site"),
                     room=loc.get("room"), rack=loc.get("rack"), seen=seen)


def run_case(case: Mapping[str, Any]) -> None:
    policy = policy_of(case.get("policy"))
    hosts: dict[str, Any] = dict(case.get("hosts") or {})
    for rack_spec in case.get("racks") or []:
        for n in range(rack_spec["count"]):
            hosts[f"{rack_spec['prefix']}{n + 1:02d}"] = {"site": rack_spec.get("site", "dc1"),
                                                          "room": rack_spec.get("room", "r1"),
                                                          "rack": rack_spec["rack"], "u": n + 1}
    state = ConvergeState()
    memory: dict[str, HostMemory] = {}
    step = float(case.get("interval", 60))
    context = {h: {"location": dict(v or {}), "warranty": dict((v or {}).get("warranty") or {})}
               for h, v in hosts.items()}
    for number, rnd in enumerate(case["rounds"], start=1):
        repeat = int(rnd.get("repeat", 1))
        for _ in range(repeat):
            now = T0 + dt.timedelta(seconds=step * (number - 1)) if "at" not in rnd else \
                T0 + dt.timedelta(seconds=float(rnd["at"]))
            inputs = dict(rnd.get("hosts") or {})
            if rnd.get("all_ok", case.get("all_ok", True)):
                for name in hosts:
                    inputs.setdefault(name, "ok")
            for name in rnd.get("absent") or []:
                inputs.pop(name, None)
            checks = [host_input(n, s, hosts, memory, now, policy) for n, s in inputs.items()]
            result = converge(state, checks, policy, now, context)
            for inc_id in rnd.get("ack") or []:
                state.incidents[inc_id].acked_at = now
            escalate(state.incidents.values(), now, policy)
        where = f"{case['name']}: round {number}"
        expect = rnd.get("expect") or {}
        open_now = sorted(state.incidents.values(), key=lambda i: i.id)
        if "open" in expect:
            wanted = expect["open"]
            assert len(open_now) == len(wanted), \
                f"{where}: {len(open_now)} open, expected {len(wanted)}: " + \
                "; ".join(f"{i.host} {i.part} {i.condition.value} {i.severity.value}" for i in open_now)
            if all("id" in w for w in wanted):
                pairs = zip(open_now, sorted(wanted, key=lambda w: w["id"]), strict=True)
            else:  # matched by part (each spec names one)
                pairs = zip(sorted(open_now, key=lambda i: (i.host, i.part)),
                            sorted(wanted, key=lambda w: (w.get("host", ""), w["part"])), strict=True)
            for incident, spec in pairs:
                for field, value in spec.items():
                    if field == "children":
                        actual: Any = len(incident.children)
                    elif field == "child_conditions":
                        actual = sorted(c["condition"] for c in incident.children)
                        value = sorted(value)
                    elif field == "evidence":
                        actual = len(incident.evidence)
                    elif field == "evidence_ids":
                        actual = sorted(str(e["id"]) for e in incident.evidence)
                        value = sorted(str(v) for v in value)
                    elif field in ("serial", "model", "location_in_part"):
                        actual = getattr(incident.info, "location" if field == "location_in_part" else field)
                    elif field in ("site", "room", "rack", "u"):
                        actual = incident.location.get(field)
                    elif field == "warranty_end":
                        actual = incident.warranty.get("end")
                    elif field == "summary_contains":
                        assert str(value) in incident.summary, f"{where}: {value!r} not in {incident.summary!r}"
                        continue
                    elif field == "condition":
                        actual = incident.condition.value
                    elif field == "severity":
                        actual = incident.severity.value
                    else:
                        actual = getattr(incident, field)
                    assert actual == value, f"{where}: incident {incident.id} {field} = {actual!r}, expected {value!r}"
        if "opened" in expect:
            assert len(result.opened) == expect["opened"], f"{where}: opened {len(result.opened)}"
        if "resolved" in expect:
            got = sorted(i.id for i in result.resolved)
            want = expect["resolved"]
            assert (got == sorted(want)) if isinstance(want, list) else len(got) == want, \
                f"{where}: resolved {got}, expected {want}"
        if "tracks" in expect:
            assert len(state.tracks) == expect["tracks"], f"{where}: tracks {list(state.tracks)}"
        # The state survives a round trip through JSON at every step (it is persisted).
        state = ConvergeState.from_json(state.to_json(), [Incident.from_json(i.to_json()) for i in state.incidents.values()])
