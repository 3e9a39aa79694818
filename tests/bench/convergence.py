"""Alert quality, measured: inject root causes into a simulated fleet, run patrol rounds, score the
incidents and notifications that come out.

    .venv/bin/python -m tests.bench.convergence                  # the whole corpus
    .venv/bin/python -m tests.bench.convergence --fast           # the subset the test runs
    .venv/bin/python -m tests.bench.convergence -k fan --verbose # scenarios whose name has "fan"
    .venv/bin/python -m tests.bench.convergence --json
    .venv/bin/python -m tests.bench.convergence --hosts 320       # the same faults in a 320-host fleet

The corpus is tests/cases/convergence/*.yaml (format at the top of parts.yaml). Each scenario gets
a fresh simulated fleet (``dcops sim`` in this process, loopback), a fresh store and a patrol engine
whose clock, like the simulator's, is *simulated*: every round moves both by the patrol interval,
so a ten-minute rebuild or a fifteen-minute escalation costs a few rounds, not real minutes.

Scoring (``score``, pure; see docs/patrol.md "Measuring alert quality"):

* every injected fault is a **root cause**, except ``noise: true`` ones (a slow BMC) that must raise
  nothing; its **scope** is its host, or its rack for a rack fault (the rack's hosts belong to it);
* an incident **matches** a root cause when it is in the root cause's scope and names the expected
  part kind and condition (per fault kind in ``EXPECT``; a scenario may override);
* the first matching incident is **right**; further ones are **splits** (two incidents, one cause:
  twins, or a flap that resolved and reopened); an incident in a root cause's scope that matches
  nothing is a **misdiagnosis** when that cause has no right incident, a split otherwise; an
  incident outside every scope is a **false alarm**;
* a root cause without any incident whose host also carries another root cause's incident is a
  **false merge** (folded into the other); without, a **miss**;
* **precision** = right incidents / incidents; **recall** = root causes with a right incident / root
  causes; **time to detect** = rounds from injection to the right incident's opening;
* **notifications**: outbox rows (opened, escalated, updated) per tier, one receiver per tier; a
  scenario may say exactly how many each tier must get.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "cases" / "convergence"
INTERVAL = 60.0

# What a correct incident for each fault kind names: part kinds (PartInfo.kind) and conditions.
EXPECT: dict[str, dict[str, Any]] = {
    "psu_fail": {"kind": ["psu"], "condition": ["health"]},
    "psu_input_lost": {"kind": ["psu"], "condition": ["health"]},
    "redundancy_lost": {"kind": ["psu"], "condition": ["redundancy_lost"]},
    "fan_fail": {"kind": ["fan"], "condition": ["health"]},
    "over_temp": {"kind": ["sensor/temperature"], "condition": ["sensor_high"]},
    "dimm_ue": {"kind": ["dimm"], "condition": ["health"]},
    "drive_predictive": {"kind": ["drive"], "condition": ["predictive_failure"]},
    "drive_fail": {"kind": ["drive"], "condition": ["health"]},
    "volume_degraded": {"kind": ["volume"], "condition": ["health"]},
    "abnormal_shutdown": {"condition": ["abnormal_shutdown"]},
    "bmc_unreachable": {"kind": ["bmc"], "condition": ["bmc_unreachable"]},
    "bmc_errors": {"kind": ["bmc"], "condition": ["bmc_errors"]},
    "malformed_json": {"kind": ["bmc"], "condition": ["bmc_errors"]},
    # A whole rack: power loss, or a dead management switch (every BMC dark, hosts still up).
    "rack:rack_power_loss": {"kind": ["rack"], "condition": ["rack_power_loss"]},
    "rack:bmc_unreachable": {"kind": ["rack"], "condition": ["rack_unreachable"]},
}


# ----------------------------------------------------------------------------- corpus

@dataclass
class Fault:
    id: str
    kind: str
    host: str | None = None
    rack: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    at: int = 1  # the round before which it is injected (round 0 is the baseline)
    clear_at: int | None = None
    flap: str | None = None  # "1010...": from ``at``, 1 = injected, 0 = cleared, per round
    noise: bool = False
    expect: dict[str, Any] = field(default_factory=dict)
    before: str | None = None  # strike inside the round's visit, just before this read (sim "before")

    @property
    def expectation(self) -> dict[str, Any]:
        base = EXPECT.get(f"rack:{self.kind}" if self.rack else self.kind, {})
        return {**base, **self.expect}


@dataclass
class Scenario:
    name: str
    rounds: int
    faults: list[Fault]
    fleet: dict[str, Any] = field(default_factory=dict)
    patrol: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    notify: dict[int, int] | None = None  # tier -> exact number of notifications
    fast: bool = False
    source: str = ""
    known_gap: str = ""  # why this scenario is known to fail today (printed; the test expects it to fail)


def load_corpus(directory: Path = CORPUS) -> list[Scenario]:
    """Every scenario of every YAML file in ``directory``; errors name the file and scenario."""
    out: list[Scenario] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for n, raw in enumerate(data.get("scenarios") or []):
            where = f"{path.name}: scenario {n + 1} ({raw.get('name', '?')})"
            try:
                faults = [Fault(id=str(f.get("id") or f"f{i + 1}"), kind=f["kind"], host=f.get("host"),
                                rack=f.get("rack"), args={k: str(v) for k, v in (f.get("args") or {}).items()},
                                at=int(f.get("at", 1)), clear_at=f.get("clear_at"), flap=f.get("flap"),
                                noise=bool(f.get("noise")), expect=dict(f.get("expect") or {}),
                                before=str(f["before"]) if f.get("before") else None)
                          for i, f in enumerate(raw.get("faults") or [])]
                notify = {int(k): int(v) for k, v in (raw.get("notify") or {}).items()} if "notify" in raw else None
                out.append(Scenario(name=str(raw["name"]), rounds=int(raw["rounds"]), faults=faults,
                                    fleet=dict(raw.get("fleet") or {}), patrol=dict(raw.get("patrol") or {}),
                                    actions=list(raw.get("actions") or []), notify=notify,
                                    fast=bool(raw.get("fast")), source=path.name,
                                    known_gap=str(raw.get("known_gap") or "")))
            except (KeyError, TypeError, ValueError) as exc:
                raise SystemExit(f"{where}: {exc!r}") from None
    return out


# ----------------------------------------------------------------------------- scoring (pure)

@dataclass
class IncidentRecord:
    id: int
    host: str
    kind: str
    condition: str
    severity: str
    opened_round: int
    resolved_round: int | None
    flapping: bool = False
    children: tuple[str, ...] = ()  # "kind condition" of each symptom
    cause: str | None = None  # a rack incident's diagnosis: power loss, management network, unknown
    decided_by: str = ""  # the evidence that decided it (a rack incident's diagnosis)


@dataclass
class CauseRecord:
    id: str
    kind: str
    scope: str  # a host name, or a rack path
    hosts: tuple[str, ...]  # the hosts it covers (its host, or its rack's)
    at: int
    expect: Mapping[str, Any]
    noise: bool = False
    until: int | None = None  # the round it was cleared (a later incident is a recurrence's)


@dataclass
class Score:
    incidents: int = 0
    right: int = 0
    causes: int = 0
    found: int = 0
    splits: int = 0
    false_merges: int = 0
    misdiagnoses: int = 0
    false_alarms: int = 0
    misses: int = 0
    detect_rounds: list[int] = field(default_factory=list)
    notifications: dict[int, int] = field(default_factory=dict)
    notify_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.right / self.incidents if self.incidents else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.causes if self.causes else 1.0

    def add(self, other: Score) -> None:
        for name in ("incidents", "right", "causes", "found", "splits", "false_merges", "misdiagnoses",
                     "false_alarms", "misses"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.detect_rounds += other.detect_rounds
        for tier, n in other.notifications.items():
            self.notifications[tier] = self.notifications.get(tier, 0) + n
        self.notify_errors += other.notify_errors


def matches(incident: IncidentRecord, cause: CauseRecord) -> bool:
    """The incident is in the cause's scope and names what the fault kind should produce."""
    if incident.host != cause.scope or incident.opened_round < cause.at:
        return False
    if cause.until is not None and incident.opened_round > cause.until + 1:
        return False
    want = cause.expect
    if "kind" in want and incident.kind not in want["kind"]:
        return False
    if "condition" in want and incident.condition not in want["condition"]:
        return False
    if "severity" in want and incident.severity not in _list(want["severity"]):
        return False
    if "cause" in want and incident.cause != want["cause"]:
        return False
    # ``decided_by``: words the decision must name (e.g. "PDU pdu-a02"); ``not_decided_by``: must not.
    if "decided_by" in want and str(want["decided_by"]) not in incident.decided_by:
        return False
    if "not_decided_by" in want and str(want["not_decided_by"]) in incident.decided_by:
        return False
    return not (want.get("flapping") and not incident.flapping)


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def score(causes: Sequence[CauseRecord], incidents: Sequence[IncidentRecord],
          notifications: Mapping[int, int] | None = None, expected_notify: Mapping[int, int] | None = None) -> Score:
    """Score one scenario's incidents against its root causes (rules in the module docstring)."""
    s = Score(incidents=len(incidents))
    real = [c for c in causes if not c.noise]
    s.causes = len(real)
    claimed: dict[int, str] = {}
    right_of: dict[str, IncidentRecord] = {}
    for inc in sorted(incidents, key=lambda i: (i.opened_round, i.id)):
        cause = next((c for c in real if matches(inc, c)), None)
        if cause is None:
            continue
        claimed[inc.id] = cause.id
        if cause.id in right_of:
            s.splits += 1
            s.problems.append(f"split: #{inc.id} {inc.host} {inc.kind} {inc.condition} (again for {cause.id})")
        else:
            right_of[cause.id] = inc
            s.right += 1
            s.detect_rounds.append(max(0, inc.opened_round - cause.at))
    misdiagnosed: set[str] = set()
    for inc in incidents:
        if inc.id in claimed:
            continue
        owners = [c for c in real if inc.host in (c.scope, *c.hosts)]
        if not owners:
            s.false_alarms += 1
            s.problems.append(f"false alarm: #{inc.id} {inc.host} {inc.kind} {inc.condition} {inc.severity}")
            continue
        unanswered = [c for c in owners if c.id not in right_of and c.id not in misdiagnosed]
        if unanswered and inc.host == unanswered[0].scope:
            misdiagnosed.add(unanswered[0].id)
            s.misdiagnoses += 1
            s.problems.append(f"misdiagnosis of {unanswered[0].id} ({unanswered[0].kind}): #{inc.id} {inc.host} "
                              f"{inc.kind} {inc.condition} {inc.severity}")
        else:
            s.splits += 1
            s.problems.append(f"split: #{inc.id} {inc.host} {inc.kind} {inc.condition} (symptom of "
                              f"{', '.join(c.id for c in owners)})")
    s.found = len(right_of)
    for cause in real:
        if cause.id in right_of or cause.id in misdiagnosed:
            continue
        others = [i for i in incidents if i.host in (cause.scope, *cause.hosts) and claimed.get(i.id) != cause.id]
        if others:
            s.false_merges += 1
            s.problems.append(f"false merge: {cause.id} ({cause.kind} on {cause.scope}) has no incident of its own")
        else:
            s.misses += 1
            s.problems.append(f"miss: {cause.id} ({cause.kind} on {cause.scope})")
    s.notifications = dict(notifications or {})
    for tier, count in (expected_notify or {}).items():
        got = s.notifications.get(tier, 0)
        if got != count:
            s.notify_errors.append(f"tier {tier}: {got} notifications, expected {count}")
    for tier, got in s.notifications.items():
        if got > max(1, s.causes) and tier not in (expected_notify or {}):
            s.notify_errors.append(f"tier {tier}: {got} notifications for {s.causes} root causes")
    return s


# ----------------------------------------------------------------------------- running

# Monday 2026-12-07 07:00 UTC (15:00 in Shanghai): a fixed start, so runs are repeatable and
# scenarios can name maintenance windows by the clock.
START = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)


class SimClock:
    """The one clock of the simulator and of patrol: starts at ``START``, moves by hand."""

    def __init__(self) -> None:
        self.now = START.timestamp()

    def __call__(self) -> float:
        return self.now

    def datetime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now, dt.UTC)


@dataclass
class Outcome:
    scenario: Scenario
    score: Score
    incidents: list[IncidentRecord]
    seconds: float


def run_scenario(scenario: Scenario, workdir: Path, hosts: int | None = None) -> Outcome:
    """Run one scenario on a fresh fleet, store and engine; returns its score. ``hosts``: a bigger
    fleet (16 a rack) around the same faults, to see that the healthy rest raises nothing."""
    from dcops.inventory import load_inventory
    from dcops.notify import store as outbox_store
    from dcops.notify.config import load_notify_config
    from dcops.patrol import store as pstore
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol
    from dcops.sim.fleet import FleetSpec
    from dcops.sim.state import Timings
    from dcops.sim.testing import ThreadedFleet
    from dcops.store import open_store

    started = time.monotonic()
    clock = SimClock()
    fleet_spec = {"hosts": 12, "racks": 3, **scenario.fleet}
    if hosts:
        fleet_spec.update(hosts=hosts, racks=max(3, -(-hosts // 16)))
    profiles = tuple(fleet_spec.pop("profiles", ())) or None
    timings = Timings.preset("real").with_overrides(dict(fleet_spec.pop("timings", {})))
    spec = FleetSpec(password="bench-pw", timings=timings, seed=int(fleet_spec.pop("seed", 7)),
                     **({"profiles": profiles} if profiles else {}), **fleet_spec)
    sim = ThreadedFleet(spec, clock=clock)
    loop = asyncio.new_event_loop()
    engine: Any = None
    store: Any = None
    try:
        secret = workdir / "password"
        secret.write_text("bench-pw\n")
        os.chmod(secret, 0o600)
        inventory = sim.fleet.write_inventory(workdir / "inventory.yaml", f"file:{secret}")
        book = list(load_inventory([inventory]).hosts)
        by_name = {h.name: h for h in book}
        store = open_store(f"sqlite:///{workdir / 'state.db'}")
        # The BMC deadline at its default (20 s): a slow BMC that answers is not a fault, even on a
        # busy machine; the round's deadline below the interval, as in production.
        config = load_patrol_config({"interval": INTERVAL, "round_deadline": 50, "concurrency": 50,
                                     **scenario.patrol})
        notify = load_notify_config({
            "receivers": [{"name": f"tier{t}", "type": "webhook", "url": "http://127.0.0.1:9/"} for t in (1, 2, 3)],
            "routes": [{"tier": [t], "receivers": [f"tier{t}"]} for t in (1, 2, 3)]})
        engine = Patrol(store, book, config, notify, clock=clock.datetime, tune_gc=False)

        async def no_delivery(*args: Any, **kwargs: Any) -> dict[str, int]:
            return {}  # counted in the outbox; delivery itself is tested against real receivers

        engine.deliver = no_delivery
        rack_paths = {h.location.rack: "/".join(x for x in (h.location.site, h.location.room, h.location.rack) if x)
                      for h in book}
        causes = [CauseRecord(f.id, f.kind, rack_paths[f.rack] if f.rack else str(f.host),
                              tuple(h.name for h in book if h.location.rack == f.rack) if f.rack else (str(f.host),),
                              f.at, f.expectation, f.noise,
                              f.clear_at if f.clear_at is not None else (f.at + len(f.flap) if f.flap else None))
                  for f in scenario.faults]
        for f in scenario.faults:
            if f.host and f.host not in by_name:
                raise SystemExit(f"{scenario.source}: {scenario.name}: no host {f.host} in the fleet")

        def control(path: str, fault: Fault, kind: str | None) -> None:
            body = {"hosts": [fault.host] if fault.host else [], "rack": fault.rack, "kind": kind,
                    "args": fault.args}
            if fault.before and path == "/v1/faults":
                body["before"] = fault.before
            sim.control.post(path, body)

        opened_round: dict[int, int] = {}
        resolved_round: dict[int, int] = {}
        acked: set[int] = set()
        for rnd in range(0, scenario.rounds + 1):
            for fault in scenario.faults:
                if fault.flap:
                    step = rnd - fault.at
                    if 0 <= step < len(fault.flap):
                        if fault.flap[step] == "1":
                            control("/v1/faults", fault, fault.kind)
                        elif step > 0 and fault.flap[step - 1] == "1":
                            control("/v1/clear", fault, fault.kind)
                    continue
                if rnd == fault.at:
                    control("/v1/faults", fault, fault.kind)
                if fault.clear_at is not None and rnd == fault.clear_at:
                    control("/v1/clear", fault, fault.kind)
            now = clock.datetime()
            for action in scenario.actions:
                if int(action.get("at", -1)) != rnd:
                    continue
                if "silence" in action:
                    matcher = dict(action["silence"])
                    until = now + dt.timedelta(seconds=INTERVAL * float(matcher.pop("rounds", 10)))
                    pstore.add_silence(store, until=until, created_by="bench", **matcher)
                if "ack" in action:
                    _ack(store, notify, causes, action["ack"], now, acked)
            summary = loop.run_until_complete(engine.round())
            if os.environ.get("DCOPS_CONV_DEBUG"):  # what the round saw on the faulty hosts
                for h in summary.hosts:
                    if any(h.host in c.hosts for c in causes):
                        errors = h.observation.errors if h.observation else ()
                        print(f"  round {rnd} {h.host}: reachable={h.reachable} error={h.error} events={h.events} "
                              f"errors={errors} requests={h.requests}", file=sys.stderr)
            for inc in summary.result.opened:
                opened_round[inc.id] = rnd
            for inc in summary.result.resolved:
                resolved_round[inc.id] = rnd
            clock.now += INTERVAL
            sim.call(lambda: [b.tick() for b in sim.fleet.created()])
        incidents = [_record(i, opened_round.get(i.id, 0), resolved_round.get(i.id))
                     for i in pstore.list_incidents(store, status=None, limit=100_000)]
        tiers: dict[int, int] = {}
        for item in outbox_store.outbox_items(store):
            if item["kind"] in ("opened", "escalated", "updated"):
                tier = int(str(item["receiver"]).removeprefix("tier"))
                tiers[tier] = tiers.get(tier, 0) + 1
        result = score(causes, incidents, tiers, scenario.notify)
        return Outcome(scenario, result, incidents, time.monotonic() - started)
    finally:
        if engine is not None:
            loop.run_until_complete(engine.close())
        loop.close()
        if store is not None:
            store.close()
        sim.close()


def _ack(store: Any, notify: Any, causes: Sequence[CauseRecord], cause_id: str, now: dt.datetime,
         acked: set[int]) -> None:
    """Acknowledge the first open incident in ``cause_id``'s scope as ``dcops alerts ack`` does
    (with its group)."""
    from dcops.notify import outbox
    from dcops.patrol import store as pstore

    try:
        from dcops.patrol.escalate import ack_group
    except ImportError:  # a dcops before group acks (measuring the baseline): the one incident
        def ack_group(target: Any, others: Any) -> list[Any]:
            return [target]

    cause = next(c for c in causes if c.id == cause_id)
    open_now = pstore.list_incidents(store, status="open", limit=10_000)
    for incident in open_now:
        if incident.host in (cause.scope, *cause.hosts) and incident.id not in acked:
            group = ack_group(incident, open_now)
            for member in group:
                member.acked_at, member.acked_by = now, "bench"
            for member in group:
                pstore.save_incident(store, member, outbox.plan(notify, now, acked=[member]))
                acked.add(member.id)
            return


def _record(incident: Any, opened: int, resolved: int | None) -> IncidentRecord:
    return IncidentRecord(incident.id, incident.host, incident.info.kind, incident.condition.value,
                          incident.severity.value, opened, resolved, bool(incident.diagnosis.get("flapping")),
                          tuple(f"{(c.get('info') or {}).get('kind')} {c.get('condition')}" for c in incident.children),
                          incident.diagnosis.get("cause"), str(incident.diagnosis.get("decided_by") or ""))


def run_corpus(scenarios: Iterable[Scenario], *, progress: Callable[[Outcome], None] | None = None,
               hosts: int | None = None) -> list[Outcome]:
    out: list[Outcome] = []
    for scenario in scenarios:
        with tempfile.TemporaryDirectory(prefix="dcops-conv-") as tmp:
            try:
                outcome = run_scenario(scenario, Path(tmp), hosts)
            except Exception as exc:  # noqa: BLE001 - e.g. a config key an older dcops does not know
                failed = Score(causes=sum(1 for f in scenario.faults if not f.noise))
                failed.misses = failed.causes
                failed.problems.append(f"the scenario could not run: {type(exc).__name__}: {exc}")
                outcome = Outcome(scenario, failed, [], 0.0)
        out.append(outcome)
        if progress is not None:
            progress(outcome)
    return out


def total(outcomes: Iterable[Outcome]) -> Score:
    result = Score()
    for o in outcomes:
        result.add(o.score)
    return result


def line(name: str, s: Score) -> str:
    ttd = (f"{sum(s.detect_rounds) / len(s.detect_rounds):.1f}/{max(s.detect_rounds)}" if s.detect_rounds else "-")
    notes = " ".join(f"t{t}={n}" for t, n in sorted(s.notifications.items()))
    return (f"{name[:58]:58} P={s.precision:4.2f} R={s.recall:4.2f} inc={s.incidents:2} causes={s.causes:2} "
            f"split={s.splits} merge={s.false_merges} misdiag={s.misdiagnoses} falarm={s.false_alarms} "
            f"miss={s.misses} ttd={ttd} notify[{notes}]" + (" NOTIFY!" if s.notify_errors else ""))


def summary_json(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    t = total(outcomes)
    return {"scenarios": len(outcomes), "precision": round(t.precision, 4), "recall": round(t.recall, 4),
            "incidents": t.incidents, "root_causes": t.causes, "right": t.right, "splits": t.splits,
            "false_merges": t.false_merges, "misdiagnoses": t.misdiagnoses, "false_alarms": t.false_alarms,
            "misses": t.misses, "notify_errors": sum(len(o.score.notify_errors) for o in outcomes),
            "mean_detect_rounds": round(sum(t.detect_rounds) / len(t.detect_rounds), 2) if t.detect_rounds else None,
            "max_detect_rounds": max(t.detect_rounds) if t.detect_rounds else None,
            "notifications_per_tier": dict(sorted(t.notifications.items())),
            "notifications_per_root_cause": round(sum(t.notifications.values()) / t.causes, 2) if t.causes else None,
            "items": [{"name": o.scenario.name, "precision": o.score.precision, "recall": o.score.recall,
                       "known_gap": o.scenario.known_gap or None,
                       "problems": o.score.problems, "notify_errors": o.score.notify_errors,
                       "seconds": round(o.seconds, 1)} for o in outcomes]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="only the scenarios marked fast (the test's subset)")
    parser.add_argument("-k", dest="keyword", help="only scenarios whose name contains this")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each scenario's problems")
    parser.add_argument("--hosts", type=int, help="fleet size (default 12 in 3 racks; larger: 16 a rack)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    scenarios = [s for s in load_corpus() if (not args.fast or s.fast)
                 and (not args.keyword or args.keyword.lower() in s.name.lower())]

    def show(o: Outcome) -> None:
        if args.json:
            return
        print(line(o.scenario.name, o.score) + f" {o.seconds:.1f}s"
              + (f" KNOWN GAP: {o.scenario.known_gap}" if o.scenario.known_gap else ""), flush=True)
        if args.verbose:
            for p in o.score.problems + o.score.notify_errors:
                print(f"    {p}")

    outcomes = run_corpus(scenarios, progress=show, hosts=args.hosts)
    data = summary_json(outcomes)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(line(f"TOTAL ({len(outcomes)} scenarios)", total(outcomes)))
        print(f"precision {data['precision']}, recall {data['recall']}, incidents {data['incidents']} for "
              f"{data['root_causes']} root causes: {data['right']} right, {data['splits']} splits, "
              f"{data['false_merges']} false merges, {data['misdiagnoses']} misdiagnoses, "
              f"{data['false_alarms']} false alarms, {data['misses']} misses; time to detect "
              f"{data['mean_detect_rounds']} rounds mean, {data['max_detect_rounds']} max; notifications "
              f"{data['notifications_per_tier']} ({data['notifications_per_root_cause']} per root cause); "
              f"{data['notify_errors']} notification mismatches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
