"""The wave planner and the policy file (pure: tables of cases)."""

from __future__ import annotations

import pytest

from dcops.errors import InvalidInputError
from dcops.models import BmcEndpoint, Host, Location
from dcops.power.plan import plan_waves, rack_of
from dcops.power.policy import EXAMPLE, Policy, load_policy, parse_policy


def hosts(spec: str) -> list[Host]:
    """'A01:db:2 A02:web:3' -> 2 db hosts in rack A01, 3 web hosts in A02."""
    result = []
    for part in spec.split():
        rack, role, count = part.split(":")
        for i in range(int(count)):
            result.append(Host(name=f"{rack}-{role}-{i:02d}", bmc=BmcEndpoint(address="127.0.0.1"),
                               location=Location(site="s", rack=rack, u=i + 1), role=role or None))
    return result


CASES = [
    # (hosts, action, per_rack, global, expected [(stage, size), ...])
    ("A01:db:2 A01:web:2", "open", 4, 10, [("db", 2), ("web", 2)]),
    ("A01:db:2 A01:web:2", "close", 4, 10, [("web", 2), ("db", 2)]),
    ("A01:web:5", "open", 2, 10, [("web", 2), ("web", 2), ("web", 1)]),
    ("A01:web:3 A02:web:3", "open", 2, 3, [("web", 3), ("web", 3)]),
    ("A01:app:1 A01:storage:1 A01:x:1", "open", 4, 10, [("storage", 1), ("*", 1), ("app", 1)]),
    ("A01::2", "open", 4, 10, [("*", 2)]),
]


@pytest.mark.parametrize(("spec", "action", "per_rack", "limit", "expected"), CASES)
def test_waves(spec: str, action: str, per_rack: int, limit: int, expected: list[tuple[str, int]]) -> None:
    policy = Policy(per_rack=per_rack, global_limit=limit)
    plan = plan_waves(hosts(spec), policy, action)
    assert [(w.stage, len(w.hosts)) for w in plan.waves] == expected
    assert sorted(plan.hosts) == sorted(h.name for h in hosts(spec))


def test_limits_hold_on_a_large_site() -> None:
    site = hosts(" ".join(f"R{r:02d}:{role}:{n}" for r in range(25)
                          for role, n in (("storage", 4), ("db", 6), ("app", 20), ("web", 10))))
    policy = Policy(per_rack=3, global_limit=50)
    plan = plan_waves(site, policy, "close")
    by_name = {h.name: h for h in site}
    seen_stages: list[str] = []
    for wave in plan.waves:
        assert len(wave.hosts) <= 50
        racks = [rack_of(by_name[n]) for n in wave.hosts]
        assert max(racks.count(r) for r in set(racks)) <= 3
        assert {by_name[n].role for n in wave.hosts} == {wave.stage}
        if not seen_stages or seen_stages[-1] != wave.stage:
            assert wave.stage not in seen_stages  # a stage's waves are contiguous
            seen_stages.append(wave.stage)
    assert seen_stages == ["web", "app", "db", "storage"]
    assert len(plan.hosts) == len(site)


def test_example_policy_loads() -> None:
    policy = load_policy(None)
    assert EXAMPLE.exists()
    assert policy.order("open")[:2] == ("storage", "db")
    assert policy.order("close")[-2:] == ("db", "storage")


@pytest.mark.parametrize(("data", "message"), [
    ({"concurrency": {"per_rack": 0}}, "per_rack: must be at least 1"),
    ({"concurrency": {"global": "many"}}, "global: must be a whole number"),
    ({"order": {"open": ["db", "db"]}}, "listed twice"),
    ({"stop_on_failure": {"max_failed_ratio": 2}}, "between 0 and 1"),
    ({"waves": 3}, "unknown key 'waves'"),
])
def test_policy_problems(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_policy(data, "p.yaml")
    assert any(message in str(p) for p in info.value.problems), info.value.problems
