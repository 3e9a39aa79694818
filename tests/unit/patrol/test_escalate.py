"""Escalation, silences and acknowledgement groups (patrol.escalate) as tables of cases."""

from __future__ import annotations

import datetime as dt

import pytest

from dcops.patrol.escalate import Silence, ack_group, escalate, hold, release
from dcops.patrol.model import Condition, Incident, IncidentStatus, PartInfo, Policy, Severity

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
POLICY = Policy(escalation=(0.0, 180.0, 360.0))


def incident(id: int = 1, host: str = "h1", part: str = "psu:1:PSU1", *, children: tuple[tuple[str, str], ...] = (),
             **kw: object) -> Incident:
    inc = Incident(id=id, key=f"{host}|{part}|health", host=host, part=part, condition=Condition.HEALTH,
                   severity=Severity.CRITICAL, summary="x", status=IncidentStatus.OPEN, opened_at=T0,
                   first_seen_at=T0, last_seen_at=T0, info=PartInfo(kind=part.split(":")[0]), paged_at=T0,
                   children=[{"host": h, "part": p} for h, p in children])
    for k, v in kw.items():
        setattr(inc, k, v)
    return inc


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(("minutes", "acked", "tier"), [
    (0, False, 1), (2.9, False, 1), (3, False, 2), (6, False, 3), (60, False, 3), (10, True, 1),
])
def test_tiers_climb_with_time_unless_acked(minutes: float, acked: bool, tier: int) -> None:
    inc = incident(acked_at=T0 if acked else None)
    escalate([inc], at(minutes), POLICY)
    assert inc.tier == tier


def test_a_silenced_incident_neither_pages_nor_climbs_and_is_paged_from_tier_1_when_the_silence_ends() -> None:
    silence = [Silence(id=1, until=at(10), host="h1")]
    inc = incident(paged_at=T0)
    hold([inc], silence, T0)
    assert inc.paged_at is None
    assert escalate([inc], at(8), POLICY, silence) == [] and inc.tier == 1
    assert release([inc], silence, at(9)) == []  # still silenced
    assert release([inc], silence, at(10)) == [inc] and inc.tier == 1 and inc.paged_at == at(10)
    assert escalate([inc], at(12), POLICY, silence) == []  # 2 minutes after its page: still tier 1
    assert escalate([inc], at(13), POLICY, silence) == [inc] and inc.tier == 2


def test_an_incident_paged_before_a_silence_is_not_paged_again_when_it_ends() -> None:
    inc = incident()
    assert release([inc], [], at(30)) == []


@pytest.mark.parametrize(("other", "grouped"), [
    (incident(2, "h1", "psu:1:PSU1"), True),              # same part (a twin under another condition)
    (incident(2, "h1", "psu:1:PSU2"), False),             # another part of the same host
    (incident(2, "h2", "psu:1:PSU1"), False),             # the same slot on another host
    (incident(2, "h1", "sensor:1:voltage:PS1", children=()), True),  # listed among the target's symptoms
    (incident(2, "h1", "volume:1:R0", children=(("h1", "psu:1:PSU1"),)), True),  # the target among its symptoms
])
def test_ack_group(other: Incident, grouped: bool) -> None:
    target = incident(1, children=(("h1", "sensor:1:voltage:PS1"),))
    assert (other in ack_group(target, [target, other])) is grouped


def test_a_rack_incident_groups_its_hosts_dark_bmcs() -> None:
    rack = incident(1, "dc1/r1/A01", "rack", diagnosis={"hosts_dark": ["h1", "h2"]})
    dark = incident(2, "h2", "bmc")
    assert ack_group(rack, [rack, dark]) == [rack, dark]
