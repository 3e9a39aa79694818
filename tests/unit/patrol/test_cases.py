"""The convergence and pipeline tables (tests/cases/patrol/*.yaml), one test per case."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.patrol.cases import load, run_case

CASES = [(name, case) for name in ("convergence.yaml", "pipeline.yaml") for case in load(name)]


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[c["name"] for _, c in CASES])
def test_case(case: dict[str, Any]) -> None:
    run_case(case)
