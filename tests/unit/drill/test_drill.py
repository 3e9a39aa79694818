"""Drill scenarios (checked with file and line), scoring (a table of cases), the live plan's
refusals, the exporter families and the report's Drills section."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from dcops.drill.live import plan_actions
from dcops.drill.scenario import Expectation, Scenario, load_scenario
from dcops.drill.score import Notice, Seen, score
from dcops.errors import InvalidInputError, UsageError
from dcops.exporter.collectors.drill import build_families
from dcops.models import BmcEndpoint, Host
from dcops.patrol.report import render_markdown

ROOT = Path(__file__).resolve().parents[3]
T0 = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def test_every_shipped_scenario_loads() -> None:
    for path in sorted((ROOT / "drills").glob("*.yaml")):
        scenario = load_scenario(path)
        assert scenario.expect and (scenario.inject or scenario.live), path


@pytest.mark.parametrize(("text", "line", "message"), [
    ("name: x\nexpect: [{condition: health}]\ninject: [{fault: psu_fial, hosts: [a]}]\n", 3,
     "unknown fault 'psu_fial' (did you mean 'psu_fail'?)"),
    ("name: x\nexpect: [{condition: health}]\ninject:\n  - {fault: psu_fail}\n", 4, "name hosts or a rack"),
    ("name: x\ninject: [{fault: psu_fail, hosts: [a]}]\n", 1, "expect must list at least one incident"),
    ("name: x\nexpect:\n  - {conditon: health}\n", 3, "unknown field 'conditon' (did you mean 'condition'?)"),
    ("name: x\nexpect: [{condition: health}]\nlive: [power_cycle]\n", 3, "'power_cycle' is not a safe action"),
    ("name: x\nexpect: [{condition: health}]\ntimeout: soon\n", 3, "timeout: not a duration"),
    ("name: x\nexpect: [{condition: health}]\ntiers: [0]\n", 3, "tiers must be a list of escalation tiers"),
    ("name: x\nexpect: [{condition: health}]\nfleet: {hosts: 0}\n", 3, "hosts must be a whole number of 1 or more"),
    ("name: x\nexpect: [{condition: health}]\ninject: [{action: reboot, hosts: [a]}]\n", 3,
     "action must be one of bmc_reset, power_off"),
    ("name: x\nexpect: [{condition: health}]\npatrol: {intervall: 1s}\n", 3, "patrol: unknown key(s): intervall"),
    ("name: x\nexpect: [{condition: health}]\nheartbeat: {timeout: 0}\n", 3, "heartbeat.timeout: must be positive"),
])
def test_bad_scenario_names_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as caught:
        load_scenario(path)
    assert [(p.file, p.line) for p in caught.value.problems if message in p.message] == [(str(path), line)], \
        caught.value.problems


def seen(id_: int, condition: str, host: str, seconds: float, **diag: Any) -> Seen:
    return Seen(id_, host, "rack" if "/" in host else "psu:1", condition, "rack" if "/" in host else "psu",
                T0 + dt.timedelta(seconds=seconds), f"{condition} on {host}", diag)


SCENARIO = Scenario("s", "s.yaml", expect=(Expectation(condition="rack_unreachable", rack="A01",
                                                       cause="management network"),), tiers=(1, 2),
                    detect_within=30.0)
MGMT = seen(1, "rack_unreachable", "dc/r1/A01", 5, cause="management network")


@pytest.mark.parametrize(("incidents", "notices", "value", "passed", "detect", "why"), [
    ([MGMT], [Notice(1, 1, T0 + dt.timedelta(seconds=6), "opened"), Notice(2, 1, T0 + dt.timedelta(seconds=20),
                                                                              "escalated")],
     100.0, True, 5.0, []),
    # Paged as a power loss: the expectation is not met and the wrong root cause counts against.
    ([seen(1, "rack_power_loss", "dc/r1/A01", 5, cause="power loss")], [], 0.0, False, None,
     ["not detected", "unexpected incident #1 rack_power_loss", "no tier 1", "no tier 2"]),
    # One incident per host beside the rack's: split root cause.
    ([MGMT, seen(2, "bmc_unreachable", "h1", 5)], [Notice(1, 1, T0, "opened"), Notice(2, 1, T0, "escalated")],
     50.0, False, 5.0, ["unexpected incident #2"]),
    # Too slow, and a resolved notice is no page.
    ([seen(1, "rack_unreachable", "dc/r1/A01", 45, cause="management network")],
     [Notice(1, 1, T0 + dt.timedelta(seconds=46), "opened"), Notice(2, 1, T0, "resolved")],
     100.0, False, 45.0, ["detected in 45s, more than the 30s allowed", "no tier 2"]),
])
def test_score(incidents: list[Seen], notices: list[Notice], value: float, passed: bool, detect: float | None,
               why: list[str]) -> None:
    result = score(SCENARIO, mode="sim", started_at=T0, injected_at=T0, finished_at=T0, seen=incidents,
                   notices=notices)
    assert (result.score, result.passed, result.detect_seconds) == (value, passed, detect)
    for part in why:
        assert any(part in reason for reason in result.reasons), (part, result.reasons)
    assert len(result.reasons) == len(why)


def test_live_plan_refuses_what_is_not_safe() -> None:
    book = [Host("spare-1", BmcEndpoint("192.0.2.1"), role="spare"), Host("db-1", BmcEndpoint("192.0.2.2"), role="db"),
            Host("cmp-1", BmcEndpoint("192.0.2.3"), tags=("spare",))]
    power = Scenario("p", "p.yaml", live=("power_off",), expect=(Expectation(),))
    assert [(a, h.name) for a, h in plan_actions(power, book, ["spare-1", "cmp-1"])] == \
        [("power_off", "spare-1"), ("power_off", "cmp-1")]
    with pytest.raises(UsageError, match="power_off refused on db-1: only spares"):
        plan_actions(power, book, ["spare-1", "db-1"])
    with pytest.raises(UsageError, match="explicit host list"):
        plan_actions(power, book, [])
    with pytest.raises(UsageError, match="not in the book: nope"):
        plan_actions(power, book, ["nope"])
    with pytest.raises(UsageError, match="has no live actions"):
        plan_actions(Scenario("q", "q.yaml", expect=(Expectation(),)), book, ["spare-1"])
    reset = Scenario("r", "r.yaml", live=("bmc_reset",), expect=(Expectation(),))
    assert [h.name for _, h in plan_actions(reset, book, ["db-1"])] == ["db-1"]  # a BMC reset is safe on any host


RUN = {"scenario": "rack-power-loss", "mode": "sim", "score": 100.0, "passed": True, "started_at": T0,
       "result": {"detect_seconds": 0.5, "notify_seconds": {"1": 0.6, "2": None}, "reasons": []}}


def test_families() -> None:
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in build_families([RUN]) for s in f.samples}
    assert samples[("dcops_drill_score", (("mode", "sim"), ("scenario", "rack-power-loss")))] == 100.0
    assert samples[("dcops_drill_first_notification_seconds", (("scenario", "rack-power-loss"), ("tier", "1")))] == 0.6
    assert ("dcops_drill_first_notification_seconds", (("scenario", "rack-power-loss"), ("tier", "2"))) not in samples


def test_report_has_a_drills_section() -> None:
    data = {"summary": {"since": "2026-12-06T12:00", "until": "2026-12-07T12:00", "patrolled": 1, "hosts": 1,
                        "rounds": 1, "avg_round_seconds": 1, "reachable": 1, "unreachable": 0, "stale": 0,
                        "never_patrolled": 0, "incidents_opened": 0, "incidents_resolved": 0, "incidents_open": 0,
                        "median_detect_minutes": None, "median_resolve_minutes": None,
                        "warranty_expiring_90d": 0, "warranty_expiring_30d": 0},
            "incidents": [], "top_parts": [], "warranty": [],
            "drills": [{"scenario": "mgmt", "mode": "sim", "started_at": "2026-12-07 11:00", "score": 50.0,
                        "passed": False, "detect_seconds": 1.5, "notify_seconds": {"1": 1.6},
                        "reasons": ["unexpected incident #2 rack_power_loss"]}]}
    text = render_markdown(data)
    assert "## Drills (1, 0 passed)" in text
    assert "| mgmt | sim | 2026-12-07 11:00 | 50.0 | FAILED | 1.5 | 1.6 (1) | unexpected incident #2 rack_power_loss |" \
        in text
