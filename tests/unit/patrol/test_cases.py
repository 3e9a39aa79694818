"""The convergence and pipeline tables (tests/cases/patrol/*.yaml), one test per case."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.patrol.cases import load, run_case

CASES = [(name, case) for name in ("convergence.yaml", "pipeline.yaml") for case in load(name)]


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[c["name"] for _, c in CASES])
def test_case(case: dict[str, Any]) -> None:
    run_case(case)


def test_log_hold_is_read_from_the_config_and_never_negative() -> None:
    from dcops.errors import InvalidInputError
    from dcops.patrol.config import load_patrol_config

    assert load_patrol_config({}).policy.log_hold == 1
    assert load_patrol_config({"log_hold": 3}).policy.log_hold == 3
    with pytest.raises(InvalidInputError, match="log_hold"):
        load_patrol_config({"log_hold": -1})
