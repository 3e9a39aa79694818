"""Plain data of patrol: severities, events, per-host check results, incidents and the policy
that tunes checks and convergence. No I/O; every type turns into JSON and back, because the
convergence state is persisted between rounds (and across a SIGKILL of ``dcops serve``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from dcops.notify.message import Message
from dcops.notify.render import title


class Severity(StrEnum):
    """How bad, in the order of the notification routes: info < warning < critical < emergency."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def worst(cls, *values: Severity) -> Severity:
        return max(values, key=lambda s: s.rank) if values else cls.INFO


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2, Severity.EMERGENCY: 3}


class Condition(StrEnum):
    """What is wrong with a part. Part of the dedup key (host, part, condition)."""

    HEALTH = "health"  # the BMC says the part is Warning/Critical
    PREDICTIVE_FAILURE = "predictive_failure"  # a drive predicts its own failure
    SENSOR_HIGH = "sensor_high"  # reading at/above an upper threshold
    SENSOR_LOW = "sensor_low"  # reading at/below a lower threshold
    SENSOR_HEALTH = "sensor_health"  # the BMC flags a sensor without a threshold we can compare
    REDUNDANCY_LOST = "redundancy_lost"  # power supplies no longer redundant
    UNEXPECTED_POWER_OFF = "unexpected_power_off"  # off without an operator action, no SEL evidence
    ABNORMAL_SHUTDOWN = "abnormal_shutdown"  # off without an operator action, SEL says why
    BMC_UNREACHABLE = "bmc_unreachable"  # the BMC did not answer within its deadline
    BMC_ERRORS = "bmc_errors"  # the BMC answers, but with server errors (5xx) or malformed bodies
    RACK_POWER_LOSS = "rack_power_loss"  # most hosts of a rack lost power at once (hosts off, AC-lost SEL)
    RACK_UNREACHABLE = "rack_unreachable"  # most BMCs of a rack went dark at once: cause unknown (power or
    #                                        management network) until evidence decides
    NETWORK_DOWN = "network_down"  # most hosts behind one switch/VLAN (or rack) stopped answering on a network
    NETWORK_UNREACHABLE = "network_unreachable"  # one host stopped answering on one of its networks
    LOG = "log"  # a Warning/Critical SEL / log entry that no other incident explains
    ROLLUP = "rollup"  # the system/chassis rollup is bad and no part says why
    # The BMC answers, but its system/chassis documents parse and are unusable, or got no answer
    # (broken JSON, truncated or not, is BMC_ERRORS: the BMC's fault).
    UNREADABLE = "unreadable"


# Conditions that describe a fact at one time (a log entry): they have no "good" reading, so they
# open at once and close after ``log_ttl`` without a new entry, or by hand.
POINT_CONDITIONS = frozenset({Condition.LOG})


@dataclass(frozen=True)
class PartInfo:
    """What a technician needs to find and replace the part."""

    kind: str  # psu, dimm, cpu, drive, fan, sensor, system, bmc, rack, ...
    location: str | None = None  # slot/bay/socket as printed on the chassis, or the sensor name
    name: str | None = None
    model: str | None = None
    manufacturer: str | None = None
    part_number: str | None = None
    serial: str | None = None
    firmware: str | None = None
    chassis: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartInfo:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Event:
    """One thing found wrong in one round. ``key`` = (host, part, condition) is the dedup key.

    ``diagnosis`` holds what a person reads: the reading and threshold, the SEL message, the BMC's
    error. ``evidence`` holds supporting log entries (id, created, severity, message)."""

    host: str
    part: str
    condition: Condition
    severity: Severity
    summary: str
    info: PartInfo
    diagnosis: Mapping[str, Any] = field(default_factory=dict, hash=False)
    evidence: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)

    @property
    def key(self) -> str:
        return event_key(self.host, self.part, self.condition)

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "part": self.part, "condition": self.condition.value,
                "severity": self.severity.value, "summary": self.summary, "info": self.info.to_json(),
                "diagnosis": dict(self.diagnosis), "evidence": [dict(e) for e in self.evidence]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        return cls(host=data["host"], part=data["part"], condition=Condition(data["condition"]),
                   severity=Severity(data["severity"]), summary=data.get("summary", ""),
                   info=PartInfo.from_json(data.get("info") or {"kind": "?"}),
                   diagnosis=dict(data.get("diagnosis") or {}),
                   evidence=tuple(dict(e) for e in data.get("evidence") or ()))


def event_key(host: str, part: str, condition: str) -> str:
    return f"{host}|{part}|{condition}"


class Scope(StrEnum):
    """What a round actually looked at on a host. A tracked problem whose scope was not looked
    at is *unknown* this round: neither a bad nor a good round."""

    REACHABLE = "reachable"  # the BMC answered
    POWER = "power"
    COMPONENTS = "components"  # every part's health (read, or implied by an OK rollup)
    SENSORS = "sensors"
    LOGS = "logs"


@dataclass(frozen=True)
class HostMemory:
    """What checks remember about a host between rounds (persisted with its latest observation)."""

    power: str | None = None  # PowerState value last seen
    off_unexpected_since: str | None = None  # ISO time the host went off without an operator action
    off_reason: str | None = None  # abnormal_shutdown | unexpected_power_off
    off_evidence: tuple[Mapping[str, Any], ...] = ()
    last_reachable: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {"power": self.power, "off_unexpected_since": self.off_unexpected_since,
                "off_reason": self.off_reason, "off_evidence": [dict(e) for e in self.off_evidence],
                "last_reachable": self.last_reachable}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> HostMemory:
        data = data or {}
        return cls(power=data.get("power"), off_unexpected_since=data.get("off_unexpected_since"),
                   off_reason=data.get("off_reason"),
                   off_evidence=tuple(dict(e) for e in data.get("off_evidence") or ()),
                   last_reachable=data.get("last_reachable"))


@dataclass(frozen=True)
class HostCheck:
    """The checks' verdict on one host for one round."""

    host: str
    events: tuple[Event, ...]
    scopes: frozenset[Scope]
    memory: HostMemory
    reachable: bool
    error: str | None = None
    site: str | None = None
    room: str | None = None
    rack: str | None = None
    seen: frozenset[str] = frozenset()  # parts whose state this round read (good or bad)
    inband: bool | None = None  # the host answered on its in-band address (None: not probed)


@dataclass(frozen=True)
class Hysteresis:
    open_after: int = 2  # bad rounds in a row before an incident opens
    close_after: int = 3  # good rounds in a row before it resolves
    open_after_by_condition: Mapping[str, int] = field(default_factory=lambda: {
        Condition.ABNORMAL_SHUTDOWN.value: 1, Condition.RACK_POWER_LOSS.value: 1,
        Condition.RACK_UNREACHABLE.value: 1, Condition.LOG.value: 1,
    })
    close_after_by_condition: Mapping[str, int] = field(default_factory=dict)

    def opens_after(self, condition: str) -> int:
        return max(1, int(self.open_after_by_condition.get(condition, self.open_after)))

    def closes_after(self, condition: str) -> int:
        return max(1, int(self.close_after_by_condition.get(condition, self.close_after)))


@dataclass(frozen=True)
class Policy:
    """Tunables of checks and convergence (``patrol:`` in the config file; see docs/patrol.md)."""

    hysteresis: Hysteresis = field(default_factory=Hysteresis)
    rack_loss_ratio: float = 0.5  # more than this share of a rack's BMCs dark at once
    rack_loss_min_hosts: int = 3  # racks with fewer patrolled hosts never count as a rack loss
    shutdown_window: float = 900.0  # seconds after an abnormal shutdown whose symptoms attach to it
    operator_window: float = 900.0  # a dcops power action this recent explains a power change
    log_ttl: float = 86400.0  # a log-only incident resolves after this long without a new entry
    log_hold: int = 1  # rounds a log entry naming a part waits for that part's reading (issue 13)
    escalation: tuple[float, ...] = (0.0, 900.0, 1800.0)  # seconds unacknowledged -> tier 1, 2, 3
    severity_overrides: Mapping[str, str] = field(default_factory=dict)  # condition -> severity
    ignore_sensors: tuple[str, ...] = ()  # sensor name globs to skip
    flap_window: int = 10  # verdicts (rounds that looked) kept per problem for flap detection
    flap_start: float = 0.5  # weighted share of state changes at which a problem starts flapping
    flap_stop: float = 0.25  # ... and below which it stops
    flap_min_rounds: int = 4  # verdicts needed before a problem can start flapping

    def with_hysteresis(self, open_after: int | None = None, close_after: int | None = None) -> Policy:
        h = self.hysteresis
        return replace(self, hysteresis=replace(
            h, open_after=open_after if open_after is not None else h.open_after,
            close_after=close_after if close_after is not None else h.close_after,
            open_after_by_condition={k: min(v, open_after) for k, v in h.open_after_by_condition.items()}
            if open_after is not None else h.open_after_by_condition))


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass
class Incident:
    """One converged problem: a root cause with its symptoms attached as children."""

    id: int
    key: str
    host: str  # the host, or the rack path for a rack incident
    part: str
    condition: Condition
    severity: Severity
    summary: str
    status: IncidentStatus
    opened_at: dt.datetime
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    info: PartInfo
    location: Mapping[str, Any] = field(default_factory=dict)  # site, room, rack, u, az, role
    diagnosis: Mapping[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    warranty: Mapping[str, Any] = field(default_factory=dict)
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None  # "patrol" or the person who resolved it
    acked_at: dt.datetime | None = None
    acked_by: str | None = None
    ack_note: str | None = None
    tier: int = 1
    escalated_at: dt.datetime | None = None
    # When tier 1 was first told (escalation counts from here); None while a silence has held
    # every notification back: when the silence ends it is paged from tier 1 as if just opened.
    paged_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is IncidentStatus.OPEN

    def routing_keys(self) -> dict[str, str]:
        """What silences and routes match on (see ``dcops.notify.silence``)."""
        return {"host": self.host, "rack": str(self.location.get("rack") or ""), "part": self.part,
                "condition": self.condition.value}

    def message(self, event: str) -> Message:
        """This incident as notify's message for ``event`` (opened, escalated, updated, resolved,
        acked): notify routes, silences and renders it without knowing what an incident is."""
        body = self.to_json()
        return Message(kind="incident", event=event, severity=self.severity.value, title=title(event, body),
                       body=body, dedup_key=f"incident:{self.id}", tier=self.tier, keys=self.routing_keys(),
                       ref=self.id, firing=self.is_open, hint=f"dcops alerts ack {self.id}")

    def to_json(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id, "key": self.key, "host": self.host, "part": self.part,
            "condition": self.condition.value, "severity": self.severity.value, "summary": self.summary,
            "status": self.status.value, "opened_at": iso(self.opened_at),
            "first_seen_at": iso(self.first_seen_at), "last_seen_at": iso(self.last_seen_at),
            "info": self.info.to_json(), "location": dict(self.location), "diagnosis": dict(self.diagnosis),
            "evidence": [dict(e) for e in self.evidence], "children": [dict(c) for c in self.children],
            "warranty": dict(self.warranty), "resolved_at": iso(self.resolved_at),
            "resolved_by": self.resolved_by, "acked_at": iso(self.acked_at), "acked_by": self.acked_by,
            "ack_note": self.ack_note, "tier": self.tier, "escalated_at": iso(self.escalated_at),
            "paged_at": iso(self.paged_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Incident:
        def when(value: Any) -> dt.datetime | None:
            if not value:
                return None
            parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

        return cls(
            id=int(data["id"]), key=data["key"], host=data["host"], part=data["part"],
            condition=Condition(data["condition"]), severity=Severity(data["severity"]),
            summary=data.get("summary", ""), status=IncidentStatus(data.get("status", "open")),
            opened_at=when(data["opened_at"]),  # type: ignore[arg-type]
            first_seen_at=when(data.get("first_seen_at") or data["opened_at"]),  # type: ignore[arg-type]
            last_seen_at=when(data.get("last_seen_at") or data["opened_at"]),  # type: ignore[arg-type]
            info=PartInfo.from_json(data.get("info") or {"kind": "?"}),
            location=dict(data.get("location") or {}), diagnosis=dict(data.get("diagnosis") or {}),
            evidence=[dict(e) for e in data.get("evidence") or []],
            children=[dict(c) for c in data.get("children") or []],
            warranty=dict(data.get("warranty") or {}), resolved_at=when(data.get("resolved_at")),
            resolved_by=data.get("resolved_by"), acked_at=when(data.get("acked_at")),
            acked_by=data.get("acked_by"), ack_note=data.get("ack_note"), tier=int(data.get("tier") or 1),
            escalated_at=when(data.get("escalated_at")),
            # Incidents stored before paged_at existed were paged when they opened.
            paged_at=when(data["paged_at"] if "paged_at" in data else data.get("opened_at")),
        )


def parse_time(value: str | dt.datetime | None) -> dt.datetime | None:
    """An aware datetime from ISO text (UTC assumed when the text has no zone)."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
