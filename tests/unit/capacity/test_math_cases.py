"""The failure-domain arithmetic against the table in tests/cases/capacity/failure_domains.yaml."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from dcops.capacity.math import Analysis
from tests.unit.capacity.helpers import case_members, load_cases

CASES = load_cases("failure_domains.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    analysis = Analysis(case_members(case), Fraction(case["q"]))
    expect = case.get("expect", {})
    simple = {
        "tolerated": lambda: analysis.tolerated,
        "seed_nodes": lambda: analysis.seed_nodes,
        "seed_ratio": lambda: str(analysis.seed_ratio),
        "budget": lambda: analysis.budget,
        "headroom": lambda: analysis.headroom,
        "over_q": lambda: list(analysis.over_q),
    }
    for key, value in expect.items():
        if key in simple:
            assert simple[key]() == value, key
    worst = analysis.worst_rack()
    if "worst_rack" in expect:
        assert worst is not None and worst.rack == expect["worst_rack"]
    if "worst_rack_survivable" in expect:
        assert worst is not None and worst.survivable is expect["worst_rack_survivable"]
    if "worst_rack_margin" in expect:
        assert worst is not None and worst.margin == expect["worst_rack_margin"]
    plus_one = analysis.worst_rack(1)
    if "worst_rack_plus_one" in expect:
        assert plus_one is not None and list(plus_one.nodes) == expect["worst_rack_plus_one"]
    if "rack_plus_one_survivable" in expect:
        assert plus_one is not None and plus_one.survivable is expect["rack_plus_one_survivable"]
    if "next_failure" in expect:
        assert list(analysis.node_loss(analysis.tolerated + 1).nodes) == expect["next_failure"]
    for loss in case.get("losses", []):
        got = analysis.loss_of(loss["nodes"])
        assert (got.survivable, got.margin) == (loss["survivable"], loss["margin"]), loss


def test_every_case_checks_something() -> None:
    for case in CASES:
        assert case.get("expect") or case.get("losses"), case["name"]


def test_floating_point_would_get_the_rule_wrong() -> None:
    """Why the arithmetic is exact: in floats, 0.6/0.8 is not 3/4 and the bound is not 3."""
    assert 12 * (1 - 0.6 / 0.8) != 3
    analysis = Analysis(case_members({"identical": {"count": 12, "capacity": 100, "used": 60}}), Fraction("0.8"))
    assert analysis.tolerated == analysis.seed_nodes == 3
