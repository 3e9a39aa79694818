"""Checks: one host's observation (or the reason there is none) -> events. Pure.

``check_host`` looks at what the BMC reported and nothing else: the health of each part, sensor
readings against their thresholds, new log entries, predictive failures, lost power redundancy
and power-state changes. What was not read is *unknown*, never a fault: a sensor without a
reading raises nothing, and a host whose BMC did not answer raises only ``bmc_unreachable``.

Which problems explain which (an abnormal shutdown explains the CPU and PSU symptoms that follow
it) is decided later, by ``converge``, which sees all hosts of a round at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Mapping
from typing import Any

from dcops.observation import (
    NO_SYSTEM_READ,
    Component,
    ComponentKind,
    Health,
    LogEntry,
    Observation,
    PowerState,
    Sensor,
    SensorKind,
    crossing,
)
from dcops.patrol.model import (
    Condition,
    Event,
    HostCheck,
    HostMemory,
    PartInfo,
    Policy,
    Scope,
    Severity,
)

# Parts whose health is only a rollup of other parts: a bad chassis says "something in me is
# bad". They raise an event (so a problem nobody else explains is still seen) that converge
# hides behind any specific one.
ROLLUP_KINDS = frozenset({ComponentKind.CHASSIS, ComponentKind.ASSEMBLY})
# Log entries (SEL SensorType / message words) -> the kind of part they are about.
_LOG_KINDS: tuple[tuple[str, str], ...] = (
    ("power supply", "psu"), ("power unit", "psu"), ("psu", "psu"), ("processor", "cpu"), ("cpu", "cpu"),
    ("memory", "dimm"), ("dimm", "dimm"), ("drive", "drive"), ("disk", "drive"), ("volume", "volume"),
    ("fan", "fan"), ("temperature", "temperature"), ("voltage", "voltage"), ("system event", "system"),
    ("critical interrupt", "system"), ("watchdog", "system"),
)
_DEASSERT = re.compile(r"deassert|\brecovered\b|operating normally|within (normal )?range|fully redundant|"
                       r"are redundant|\bok\b", re.IGNORECASE)
_REDUNDANCY_LOST = re.compile(r"redundan\w*\s*(lost|degraded)|not redundant|redundancy lost", re.IGNORECASE)
REDUNDANCY_PART = "power:redundancy"
# Sensor kinds whose symptoms a lost power supply explains.
POWER_SENSOR_KINDS = frozenset({SensorKind.VOLTAGE, SensorKind.CURRENT, SensorKind.POWER})

_HEALTH_SEVERITY = {Health.WARNING: Severity.WARNING, Health.CRITICAL: Severity.CRITICAL}
# Read errors that are the BMC's fault (not a resource it simply lacks: 404, unsupported): server
# errors, and a 200 whose body is not a JSON document. The words are the readers' own: a bare
# "HTTP 200" (older wording) or what bmc.redfish.jsonbody.describe says of the body -- "not JSON
# (...)", "truncated JSON (...)", "JSON nested too deeply (...)". A truncated body is broken JSON
# like any other, so it is bmc_errors, not "unreadable" (which stays for documents that parse but
# cannot be used, and for reads that got no answer). tests/unit/patrol/test_bmc_errors.py feeds
# describe's output through here so the two vocabularies cannot drift apart again.
_BMC_FAULT = re.compile(r"\bHTTP (5\d\d|200)\b|malformed|not (valid )?JSON|truncated JSON|JSON nested too deeply",
                        re.IGNORECASE)


def bmc_fault_reason(reason: str) -> str:
    """What a person should read for a read error: a 2xx answer that could not be used is a
    malformed response, not "HTTP 200"."""
    return re.sub(r"\bHTTP (2\d\d)\s*$", r"malformed response (HTTP \1 whose body is not a JSON document)",
                  reason.strip())


def check_bmc_errors(host: str, errors: Iterable[Any], policy: Policy) -> Event | None:
    """``bmc_errors`` when reads failed because of the BMC (5xx, malformed bodies): it answers, but
    what it says cannot be used, so its parts are unknown this round. None when there is none."""
    bad = [e for e in errors if _BMC_FAULT.search(str(e.reason))]
    if not bad:
        return None
    first = bad[0]
    reasons = [f"{bmc_fault_reason(str(e.reason))} for {e.what}" for e in bad]
    summary = "BMC answers with errors: " + reasons[0] + (f" (+{len(bad) - 1} more)" if len(bad) > 1 else "")
    return Event(host, "bmc", Condition.BMC_ERRORS, _severity(policy, Condition.BMC_ERRORS, Severity.WARNING),
                 summary, PartInfo(kind="bmc"),
                 {"error": bmc_fault_reason(str(first.reason)), "errors": reasons[:10], "failed_reads": len(bad)})


def component_part(comp: Component) -> str:
    """The stable part id of a component: kind, chassis and slot (never the BMC's list index)."""
    return f"{comp.kind.value}:{comp.chassis}:{comp.location}"


def sensor_part(sensor: Sensor) -> str:
    return f"sensor:{sensor.key}"


def part_info(comp: Component) -> PartInfo:
    return PartInfo(kind=comp.kind.value, location=comp.location, name=comp.name, model=comp.model,
                    manufacturer=comp.manufacturer, part_number=comp.part_number, serial=comp.serial,
                    firmware=comp.firmware, chassis=comp.chassis)


def sensor_info(sensor: Sensor) -> PartInfo:
    return PartInfo(kind=f"sensor/{sensor.kind.value}", location=sensor.name, name=sensor.component,
                    chassis=sensor.chassis)


def log_kind(entry: LogEntry) -> str:
    """Which kind of part a log entry is about (``system`` when it does not say)."""
    text = f"{entry.sensor or ''} {entry.message}".lower()
    for needle, kind in _LOG_KINDS:
        if needle in text:
            return kind
    return "system"


def is_problem_entry(entry: LogEntry) -> bool:
    """A Warning/Critical entry that asserts a problem (not its recovery)."""
    if entry.severity not in (Health.WARNING, Health.CRITICAL):
        return False
    return not _DEASSERT.search(entry.message or "")


def entry_json(entry: LogEntry) -> dict[str, Any]:
    return {"id": entry.id, "log": entry.log, "created": entry.created, "severity": entry.severity.value,
            "message": entry.message, "message_id": entry.message_id, "sensor": entry.sensor}


def _severity(policy: Policy, condition: Condition, default: Severity) -> Severity:
    override = policy.severity_overrides.get(condition.value)
    return Severity(override) if override else default


def check_sensor(host: str, sensor: Sensor, policy: Policy) -> Event | None:
    """A reading compared with its thresholds (fatal -> emergency, critical -> critical, caution ->
    warning); without a usable threshold, the BMC's own verdict on the sensor. None when fine or
    unknown (no reading and no verdict), and when the BMC calls the sensor OK although the
    reading is past a threshold: dcops never pages on its own verdict against the BMC's."""
    health = sensor.health
    if health is Health.OK:
        # The BMC's own verdict is OK: our reading of its thresholds alone never pages (the reader
        # puts why in ``sensor.note``), and OK is no problem of its own. Most sensors: no more work.
        return None
    crossed = crossing(sensor)
    if crossed is not None:
        name, limit = crossed
        high = name.startswith("upper")
        severity = _LIMIT_SEVERITY.get(name.split("_", 1)[1], Severity.WARNING)
        return _sensor_event(host, sensor, policy, Condition.SENSOR_HIGH if high else Condition.SENSOR_LOW,
                             severity, name, limit)
    if health in _HEALTH_SEVERITY:
        return _sensor_event(host, sensor, policy, Condition.SENSOR_HEALTH, _HEALTH_SEVERITY[health], None, None)
    return None


# Severity of a crossed threshold by its level (``upper_fatal`` -> fatal); caution is a warning.
_LIMIT_SEVERITY = {"fatal": Severity.EMERGENCY, "critical": Severity.CRITICAL}


def _sensor_event(host: str, sensor: Sensor, policy: Policy, condition: Condition, severity: Severity,
                  limit_name: str | None, limit: float | None) -> Event:
    """The event of a sensor ``check_sensor`` found wrong (built only then: most sensors of a
    round raise none)."""
    reading = sensor.reading
    units = sensor.units or ""
    if limit is not None:
        relation = ">=" if condition is Condition.SENSOR_HIGH else "<="
        summary = (f"{sensor.name} {_fmt(reading)} {units} {relation} {limit_name.replace('_', ' ')} "  # type: ignore[union-attr]
                   f"threshold {_fmt(limit)} {units}").replace("  ", " ")
    else:
        summary = f"{sensor.name}: the BMC reports {sensor.health.value}" + (
            f" (reading {_fmt(reading)} {units})".replace("  ", " ") if reading is not None else "")
    diagnosis = {"sensor": sensor.name, "sensor_kind": sensor.kind.value, "reading": reading,
                 "units": sensor.units, "threshold": limit, "threshold_name": limit_name,
                 "bmc_health": sensor.health.value}
    return Event(host, sensor_part(sensor), condition, _severity(policy, condition, severity), summary,
                 sensor_info(sensor), diagnosis)


def _source_key(uri: str) -> str:
    """A Redfish URI as a key: case and a trailing slash do not matter (HPE iLO)."""
    return uri.split("?", 1)[0].rstrip("/").lower()


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}"


def check_component(host: str, comp: Component, policy: Policy, *, origin: bool = False) -> list[Event]:
    """Events of one part: its predictive failure and its health. ``origin``: the BMC names this
    part as the origin of a current condition (``Status.Conditions[].OriginOfCondition``), so
    even a chassis's bad health is its own fault, not a rollup of others'."""
    events: list[Event] = []
    info = part_info(comp)
    part = component_part(comp)
    label = comp.location if comp.kind.value in comp.location.lower() or comp.location[:3].isalpha() \
        else f"{comp.kind.value} {comp.location}"
    predicted = bool(comp.extra.get("FailurePredicted")) if isinstance(comp.extra, Mapping) else False
    if predicted:
        life = comp.extra.get("PredictedMediaLifeLeftPercent")
        events.append(Event(host, part, Condition.PREDICTIVE_FAILURE,
                            _severity(policy, Condition.PREDICTIVE_FAILURE, Severity.WARNING),
                            f"{label}: predictive failure reported (replace before it fails)", info,
                            {"bmc_health": comp.health.value, "state": comp.state,
                             **({"media_life_left_percent": life} if life is not None else {})}))
    if comp.health in _HEALTH_SEVERITY:
        # A controller whose ill health is its drive's (``extra.health_from``, NVMe) is a rollup:
        # one fault, one incident -- the drive's.
        rolled = (comp.kind in ROLLUP_KINDS and not origin) or bool(comp.extra.get("health_from"))
        condition = Condition.ROLLUP if rolled else Condition.HEALTH
        severity = _HEALTH_SEVERITY[comp.health]
        what = "health rollup" if condition is Condition.ROLLUP else "health"
        events.append(Event(host, part, condition, _severity(policy, condition, severity),
                            f"{label}: {what} {comp.health.value}" + (f" ({comp.state})" if comp.state
                                                                       and comp.state != "Enabled" else ""),
                            info, {"bmc_health": comp.health.value, "state": comp.state}))
    return events


def check_redundancy(host: str, obs: Observation, new_entries: Iterable[LogEntry], policy: Policy) -> list[Event]:
    """``redundancy_lost`` when a redundancy group the BMC reports is not healthy (its Warning or
    Critical, as it says); the failed supplies and the new log entries about redundancy go with
    it. Nothing when the BMC reports no group (IPMI, some Redfish services): a failed supply is
    then its own ``health`` event, and a log entry its own ``log`` event."""
    lost = [g for g in obs.redundancy if g.lost]
    if not lost:
        return []
    psus = obs.of_kind(ComponentKind.PSU)
    bad_psus = [p.location for p in psus if p.health in _HEALTH_SEVERITY
                or p.state in ("UnavailableOffline", "Disabled")]
    worst = Severity.CRITICAL if any(g.health is Health.CRITICAL for g in lost) else Severity.WARNING
    names = ", ".join(f"{g.name} {g.health.value}" for g in lost)
    evidence = tuple(entry_json(e) for e in new_entries if _REDUNDANCY_LOST.search(e.message or ""))
    groups = [{"name": g.name, "chassis": g.chassis, "health": g.health.value, "state": g.state, "mode": g.mode,
               "min_needed": g.min_needed, "members": list(g.members)} for g in lost]
    summary = f"power supplies not redundant: {names}" + (f" (failed: {', '.join(bad_psus)})" if bad_psus else "")
    return [Event(host, REDUNDANCY_PART, Condition.REDUNDANCY_LOST,
                  _severity(policy, Condition.REDUNDANCY_LOST, worst), summary,
                  PartInfo(kind="psu", location="redundancy", chassis=lost[0].chassis),
                  {"groups": groups, "failed_psus": bad_psus, "psus": len(psus)}, evidence)]


def check_host(
    host: str,
    observation: Observation | None,
    memory: HostMemory,
    now: dt.datetime,
    policy: Policy,
    *,
    error: str | None = None,
    operator_action: str | None = None,
    sections: Iterable[str] = (),
    location: Mapping[str, Any] | None = None,
    inband: bool | None = None,
) -> HostCheck:
    """All events of one host for one round, and what the round looked at.

    ``memory`` is what the previous round left (power state; whether the host is off without an
    operator action); ``operator_action`` names a recent dcops power action on this host (from
    the audit log), which explains a power change. ``sections`` are the tiers read beyond power
    and rollups (``components``, ``sensors``, ``logs``); ``error`` is why there is no observation;
    ``inband``: whether the host answered on its own address (probed when its rack went dark).
    """
    loc = dict(location or {})
    site, room, rack = loc.get("site"), loc.get("room"), loc.get("rack")
    if observation is None:
        if error and _BMC_FAULT.search(error):
            # It answers, with server errors or garbage, even to the first requests: not "dark".
            reason = bmc_fault_reason(error)
            event = Event(host, "bmc", Condition.BMC_ERRORS, _severity(policy, Condition.BMC_ERRORS, Severity.WARNING),
                          f"BMC answers with errors: {reason}", PartInfo(kind="bmc"), {"error": reason})
        else:
            event = Event(host, "bmc", Condition.BMC_UNREACHABLE,
                          _severity(policy, Condition.BMC_UNREACHABLE, Severity.WARNING),
                          f"BMC does not answer: {error or 'no reason given'}", PartInfo(kind="bmc"),
                          {"error": error})
        return HostCheck(host, (event,), frozenset({Scope.REACHABLE}),
                         HostMemory(memory.power, memory.off_unexpected_since, memory.off_reason,
                                    memory.off_evidence, last_reachable=False),
                         reachable=False, error=error, site=site, room=room, rack=rack, inband=inband)

    obs = observation
    wanted = set(sections)
    events: list[Event] = []
    seen: set[str] = set()
    scopes: set[Scope] = {Scope.REACHABLE}
    failed_reads = " ".join(f"{e.what} {e.reason}" for e in obs.errors).lower()

    # ---- the BMC itself: it answered, but did it answer usefully?
    bmc_errors = check_bmc_errors(host, obs.errors, policy)
    if bmc_errors is not None:
        events.append(bmc_errors)
    else:
        seen.add("bmc")

    # ---- parts
    components_read = "components" in wanted and bool(obs.components)
    rollup = obs.identity.health
    if components_read or rollup is Health.OK:
        # Every part's health is known: read one by one, or implied by an OK system rollup.
        scopes.add(Scope.COMPONENTS)
    # One fault, one incident: a condition, a sensor or a part the BMC reports twice (a chassis
    # condition naming a sensor as its origin; a legacy Thermal fan that is a part and a
    # reading) lands on the part it is about, so converge makes one incident of it.
    comp_of_part: dict[str, Component] = {}
    for comp in obs.components:
        comp_of_part.setdefault(component_part(comp), comp)
    sensor_parts = [sensor_part(sensor) for sensor in obs.sensors]  # once each
    by_source: dict[str, str] | None = None

    def part_at(uri: str) -> str | None:
        """The part (component, else sensor) a Redfish URI names. The table is built on first
        need: most visits have no condition or sensor event to place."""
        nonlocal by_source
        if by_source is None:
            by_source = {}
            for comp in obs.components:
                if comp.source:
                    by_source.setdefault(_source_key(comp.source), component_part(comp))
            for sensor, part in zip(obs.sensors, sensor_parts, strict=True):
                if sensor.source:
                    by_source.setdefault(_source_key(sensor.source), part)
        return by_source.get(_source_key(uri))
    origins = {_source_key(c.origin) for c in obs.conditions if c.origin and c.severity in _HEALTH_SEVERITY}
    for comp in obs.components:
        if comp.health is Health.UNKNOWN and not comp.extra.get("FailurePredicted"):
            continue
        seen.add(component_part(comp))
        events.extend(check_component(host, comp, policy,
                                      origin=bool(comp.source) and _source_key(comp.source or "") in origins))
    no_system = next((e for e in obs.errors if e.what in NO_SYSTEM_READ), None)
    # When the documents were there but unusable, the "unreadable" event below says so (with the
    # reason): one root cause, one event, not also a "system health unknown" twin.
    if no_system is not None and obs.identity.system_id is None and not obs.unreadable:
        # Nothing said about the server itself: its health is unknown, never "ok" (issue 12).
        scopes.discard(Scope.COMPONENTS)
        events.append(Event(host, "system", Condition.ROLLUP, Severity.WARNING,
                            f"system health unknown: {no_system.reason}", PartInfo(kind="system"),
                            {"bmc_health": Health.UNKNOWN.value, "error": no_system.reason}))
    if rollup in _HEALTH_SEVERITY:
        events.append(Event(host, "system", Condition.ROLLUP, _HEALTH_SEVERITY[rollup],
                            f"system health rollup {rollup.value}", PartInfo(kind="system"),
                            {"bmc_health": rollup.value}))
    if rollup is not Health.UNKNOWN:
        seen.add("system")
    if obs.unreadable and bmc_errors is not None:
        # One root cause, one event: the BMC's malformed answers are why the server's documents
        # are unusable; the bmc_errors event carries what could not be read.
        events[events.index(bmc_errors)] = dataclasses.replace(
            bmc_errors, diagnosis={**bmc_errors.diagnosis, "unreadable": list(obs.unreadable)})
    elif obs.unreadable:
        # Reachable, but what it says about the server cannot be used: not healthy by omission.
        events.append(Event(host, "bmc:documents", Condition.UNREADABLE,
                            _severity(policy, Condition.UNREADABLE, Severity.WARNING),
                            "BMC answers, but the server's health cannot be read: " + "; ".join(obs.unreadable[:3]),
                            PartInfo(kind="bmc"), {"unreadable": list(obs.unreadable)}))
    for cond in obs.conditions:
        if cond.severity in _HEALTH_SEVERITY:
            ident = cond.message_id or cond.message[:60]
            where = part_at(cond.origin) if cond.origin else None
            if where is None and cond.origin:
                where = f"condition:{_source_key(cond.origin)}:{ident}"
            events.append(Event(host, where or f"condition:{ident}", Condition.ROLLUP,
                                _HEALTH_SEVERITY[cond.severity],
                                f"BMC condition: {cond.message}", PartInfo(kind="condition", location=cond.origin),
                                {"message": cond.message, "message_id": cond.message_id,
                                 "since": cond.timestamp, "origin": cond.origin}))

    # ---- sensors
    if "sensors" in wanted and not any(w in failed_reads for w in ("thermal", "power", "sensors")):
        scopes.add(Scope.SENSORS)
    ignored = policy.ignore_sensors
    for sensor, part in zip(obs.sensors, sensor_parts, strict=True):
        if ignored and any(fnmatch.fnmatchcase(sensor.name, pattern) for pattern in ignored):
            continue
        if sensor.reading is None and sensor.health is Health.UNKNOWN:
            continue
        seen.add(part)
        found = check_sensor(host, sensor, policy)
        if found is not None:
            same = part_at(sensor.source) if sensor.source else None
            if same is not None and same != found.part:
                # The part's own reading: one incident, naming the part (an IPMI PSU's serial and
                # model come from its FRU, the sensor itself has none).
                owner = comp_of_part.get(same)
                info = found.info
                if owner is not None and owner.serial and not info.serial:
                    info = dataclasses.replace(info, serial=owner.serial, model=info.model or owner.model,
                                               manufacturer=info.manufacturer or owner.manufacturer,
                                               part_number=info.part_number or owner.part_number)
                found = dataclasses.replace(found, part=same, info=info)
            events.append(found)

    # ---- logs (only entries new since the cursor arrive here)
    new_entries = list(obs.log_entries) if "logs" in wanted else []
    if "logs" in wanted and "log" not in failed_reads and "entries" not in failed_reads:
        scopes.add(Scope.LOGS)
    problem_entries = sorted((e for e in new_entries if is_problem_entry(e)),
                             key=lambda e: (int(e.id) if e.id.isdigit() else 0, e.id))
    for entry in problem_entries:
        kind = log_kind(entry)
        ident = entry.message_id or re.sub(r"\W+", "_", entry.message[:40])
        severity = _HEALTH_SEVERITY[entry.severity]
        events.append(Event(host, f"log:{kind}:{ident}", Condition.LOG, _severity(policy, Condition.LOG, severity),
                            f"{entry.log} entry {entry.id}: {entry.message}",
                            PartInfo(kind=kind), {"message": entry.message, "message_id": entry.message_id,
                                                  "since": entry.created, "log": entry.log, "entry": entry.id},
                            (entry_json(entry),)))

    # ---- power redundancy: the BMC's own redundancy groups (Power.Redundancy, PowerSubsystem)
    events.extend(check_redundancy(host, obs, problem_entries, policy))
    if obs.redundancy:
        seen.add(REDUNDANCY_PART)

    # ---- power state
    power = obs.identity.power_state
    new_memory = HostMemory(memory.power, memory.off_unexpected_since, memory.off_reason, memory.off_evidence,
                            last_reachable=True)
    if power is not PowerState.UNKNOWN:
        scopes.add(Scope.POWER)
        seen.add("power")
        was_on = memory.power in (PowerState.ON.value, PowerState.POWERING_OFF.value)
        if power is PowerState.OFF and was_on and memory.off_unexpected_since is None and not operator_action:
            evidence: list[Mapping[str, Any]] = [entry_json(e) for e in problem_entries]
            reason = Condition.ABNORMAL_SHUTDOWN if evidence else Condition.UNEXPECTED_POWER_OFF
            new_memory = HostMemory(power.value, now.isoformat(), reason.value, tuple(evidence), True)
        elif power is PowerState.OFF and memory.off_unexpected_since is not None:
            evidence = list(memory.off_evidence) + [entry_json(e) for e in problem_entries]
            reason = Condition(memory.off_reason or Condition.UNEXPECTED_POWER_OFF.value)
            since = dt.datetime.fromisoformat(memory.off_unexpected_since)
            if reason is Condition.UNEXPECTED_POWER_OFF and problem_entries \
                    and (now - since).total_seconds() <= policy.shutdown_window:
                reason = Condition.ABNORMAL_SHUTDOWN  # the log caught up with the power state
            new_memory = HostMemory(power.value, memory.off_unexpected_since, reason.value,
                                    tuple(evidence[-20:]), True)
        elif power is PowerState.ON or operator_action:
            new_memory = HostMemory(power.value, None, None, (), True)
        else:
            new_memory = HostMemory(power.value, memory.off_unexpected_since, memory.off_reason,
                                    memory.off_evidence, True)
        if new_memory.off_unexpected_since is not None:
            reason = Condition(new_memory.off_reason or Condition.UNEXPECTED_POWER_OFF.value)
            evidence = list(new_memory.off_evidence)
            message = next((e["message"] for e in evidence if e.get("severity") == "critical"), None) \
                or (evidence[0]["message"] if evidence else None)
            if reason is Condition.ABNORMAL_SHUTDOWN:
                summary = f"abnormal shutdown: powered off without an operator action; SEL: {message}"
                severity = Severity.CRITICAL
            else:
                summary = "powered off without an operator action recorded by dcops (no log entry says why)"
                severity = Severity.WARNING
            events.append(Event(host, "power", reason, _severity(policy, reason, severity), summary,
                                PartInfo(kind="system", location="power"),
                                {"power": power.value, "previous_power": memory.power,
                                 "since": new_memory.off_unexpected_since, "message": message},
                                tuple(evidence)))
    return HostCheck(host, tuple(events), frozenset(scopes), new_memory, reachable=True, site=site, room=room,
                     rack=rack, seen=frozenset(seen))
