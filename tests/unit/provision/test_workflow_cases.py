"""The provisioning state machine, as a table (tests/cases/baseline/workflow.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.provision.workflow import (
    STEPS,
    HostStatus,
    Step,
    StepRecord,
    StepStatus,
    Verb,
    Workflow,
    decide,
    next_step,
    plan_steps,
)

CASES = Path(__file__).resolve().parents[2] / "cases" / "baseline" / "workflow.yaml"


def _workflow(case: dict[str, Any]) -> Workflow | None:
    if case["status"] is None:
        return None
    steps = case.get("steps") or {}
    if steps.get("all"):
        steps = {s.value: steps["all"] for s in STEPS}
    records = {Step(name): StepRecord(Step(name), 1, f"a-{name}", StepStatus(status)) for name, status in steps.items()}
    return Workflow("h1", "w1", HostStatus(case["status"]), records)


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in yaml.safe_load(CASES.read_text())])
def test_decide(case: dict[str, Any]) -> None:
    decision = decide(_workflow(case), Verb(case["verb"]), step=Step(case["step_arg"]) if "step_arg" in case else None,
                      force=case.get("force", False), reason=case.get("skip_reason"),
                      owner_alive=case.get("owner_alive", False),
                      until=Step(case["until_arg"]) if case.get("until_arg") else None,
                      stored_until=Step(case["stored_until"]) if case.get("stored_until") else None)
    assert decision.action == case["action"], decision
    if "step" in case:
        assert decision.step == Step(case["step"])
    if "reconcile" in case:
        assert decision.reconcile is case["reconcile"]
    if "reason" in case:
        assert case["reason"] in decision.reason
    if "until" in case:
        assert decision.until == (Step(case["until"]) if case["until"] else None)


def test_next_step_skips_done_and_skipped() -> None:
    wf = Workflow("h", "w", HostStatus.PENDING, {
        Step.DISCOVER: StepRecord(Step.DISCOVER, 1, "a", StepStatus.DONE),
        Step.ACCEPT: StepRecord(Step.ACCEPT, 2, "b", StepStatus.SKIPPED, reason="approved")})
    assert next_step(wf) is Step.POOL


def test_plan_steps_until_pool() -> None:
    plan = plan_steps(None, until=Step.POOL)
    assert [w for _, w in plan[:3]] == ["run", "run", "run"]
    assert all(w == "later" for _, w in plan[3:])
