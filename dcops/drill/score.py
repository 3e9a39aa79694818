"""A drill's score from what patrol opened and notified after the injection. Pure.

* every expectation is matched to at most one incident opened after the injection (the first
  that fits); its **time to detect** is from the injection to the incident's opening;
* incidents opened after the injection that match no expectation are **unexpected**: a root
  cause patrol got wrong (a management switch paged as a power loss) or split (one incident per
  host instead of one per rack);
* **time to first notification** per escalation tier: from the injection to the first
  notification of that tier about a matched incident;
* score = 100 x matched / (expected + unexpected); the drill passes when every expectation is
  matched, nothing unexpected opened, detection met ``detect_within`` and every timed tier was
  notified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.drill.scenario import Expectation, Scenario

PAGES = ("opened", "escalated", "updated")  # notifications that tell someone of a problem (not "resolved")


@dataclass(frozen=True)
class Seen:
    """An incident as the drill saw it (from a round summary or the store)."""

    id: int
    host: str
    part: str
    condition: str
    kind: str
    opened_at: dt.datetime
    summary: str = ""
    diagnosis: Mapping[str, Any] = field(default_factory=dict)
    location: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """A notification that reached a receiver: which tier, about which incident, when."""

    tier: int
    incident: int | None
    at: dt.datetime
    event: str = ""


def matches(expect: Expectation, seen: Seen) -> bool:
    if expect.condition is not None and seen.condition != expect.condition:
        return False
    if expect.host is not None and seen.host != expect.host:
        return False
    if expect.rack is not None:
        racks = {seen.host.rsplit("/", 1)[-1], str(seen.location.get("rack") or ""),
                 str(seen.diagnosis.get("rack") or "")}
        if expect.rack not in racks:
            return False
    if expect.kind is not None and seen.kind != expect.kind:
        return False
    if expect.cause is not None and seen.diagnosis.get("cause") != expect.cause:
        return False
    if expect.network is not None:
        nets = {str(seen.diagnosis.get("network") or ""), *map(str, seen.diagnosis.get("networks_down") or ())}
        if expect.network not in nets:
            return False
    return True


@dataclass
class DrillScore:
    scenario: str
    mode: str
    started_at: dt.datetime
    injected_at: dt.datetime
    finished_at: dt.datetime
    expected: list[dict[str, Any]]
    unexpected: list[dict[str, Any]]
    detect_seconds: float | None  # the slowest matched expectation (None: nothing matched)
    notify_seconds: dict[int, float | None]  # tier -> first notification after the injection
    score: float
    passed: bool
    reasons: list[str]
    rounds: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "mode": self.mode, "started_at": self.started_at.isoformat(),
                "injected_at": self.injected_at.isoformat(), "finished_at": self.finished_at.isoformat(),
                "expected": self.expected, "unexpected": self.unexpected, "detect_seconds": self.detect_seconds,
                "notify_seconds": {str(k): v for k, v in self.notify_seconds.items()}, "score": self.score,
                "passed": self.passed, "reasons": self.reasons, "rounds": self.rounds}


def _brief(seen: Seen) -> dict[str, Any]:
    return {"id": seen.id, "host": seen.host, "part": seen.part, "condition": seen.condition,
            "summary": seen.summary, "cause": seen.diagnosis.get("cause")}


def assign(expect: Sequence[Expectation], seen: Sequence[Seen]) -> tuple[list[Seen | None], list[Seen]]:
    """The incident each expectation matched (None: not seen) and the incidents nothing expected."""
    taken: set[int] = set()
    found: list[Seen | None] = []
    for want in expect:
        hit = next((s for s in sorted(seen, key=lambda s: (s.opened_at, s.id))
                    if s.id not in taken and matches(want, s)), None)
        if hit is not None:
            taken.add(hit.id)
        found.append(hit)
    return found, [s for s in seen if s.id not in taken]


def done(scenario: Scenario, seen: Sequence[Seen], notices: Sequence[Notice]) -> bool:
    """Everything the drill waits for has happened: every expectation met, every tier notified."""
    found, _ = assign(scenario.expect, seen)
    if any(f is None for f in found):
        return False
    ids = {f.id for f in found if f is not None}
    return all(any(n.tier == tier and n.incident in ids and n.event in PAGES for n in notices)
               for tier in scenario.tiers)


def score(scenario: Scenario, *, mode: str, started_at: dt.datetime, injected_at: dt.datetime,
          finished_at: dt.datetime, seen: Sequence[Seen], notices: Sequence[Notice], rounds: int = 0) -> DrillScore:
    found, unexpected = assign(scenario.expect, seen)
    reasons: list[str] = []
    expected: list[dict[str, Any]] = []
    detect: list[float] = []
    for want, hit in zip(scenario.expect, found, strict=True):
        if hit is None:
            reasons.append(f"not detected: {want.describe()}")
            expected.append({"expect": want.describe(), "incident": None, "detect_seconds": None})
            continue
        seconds = max(0.0, (hit.opened_at - injected_at).total_seconds())
        detect.append(seconds)
        expected.append({"expect": want.describe(), "incident": _brief(hit), "detect_seconds": round(seconds, 3)})
    for extra in unexpected:
        reasons.append(f"unexpected incident #{extra.id} {extra.condition} on {extra.host}: {extra.summary}")
    ids = {f.id for f in found if f is not None}
    notify: dict[int, float | None] = {}
    for tier in scenario.tiers:
        times = [(n.at - injected_at).total_seconds() for n in notices
                 if n.tier == tier and n.incident in ids and n.event in PAGES]
        notify[tier] = round(max(0.0, min(times)), 3) if times else None
        if notify[tier] is None:
            reasons.append(f"no tier {tier} notification about the expected incidents")
    slowest = round(max(detect), 3) if detect else None
    if slowest is not None and scenario.detect_within is not None and slowest > scenario.detect_within:
        reasons.append(f"detected in {slowest:g}s, more than the {scenario.detect_within:g}s allowed")
    total = len(scenario.expect) + len(unexpected)
    value = round(100.0 * len(ids) / total, 1) if total else 0.0
    return DrillScore(scenario.name, mode, started_at, injected_at, finished_at, expected,
                      [_brief(u) for u in unexpected], slowest, notify, value, not reasons, reasons, rounds)
