"""A fault that strikes *during* a BMC visit (issue 13): the simulator applies it just before the
SEL read, after the power supplies were read healthy, so the round sees the "PSU failed" entry
without its failed part, and the next round sees the part. One fault, one incident: the part's,
carrying the entry as evidence, and no "log" incident beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.patrol.conftest import SimPatrol, make_sim_patrol

pytestmark = [pytest.mark.timeout(300)]


@pytest.fixture(params=["dell-r750", "supermicro-x13"])
def sp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimPatrol]:
    patrol = make_sim_patrol(tmp_path, 2, profiles=(request.param,))
    try:
        yield patrol
    finally:
        patrol.loop.run_until_complete(patrol.engine.close())
        patrol.loop.close()
        patrol.sim.close()


def test_a_psu_failing_between_the_reads_of_one_visit_is_one_incident(sp: SimPatrol) -> None:
    first = sp.round()  # baseline: inventory, log cursors
    assert not first.open_incidents
    sp.sim.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "psu_fail", "args": {"psu": "1"},
                                       "before": "LogServices"})
    during = sp.round()
    sel_read = sp.sim.control.get("/v1/hosts/sim-0001")
    assert any(f.startswith("psu_fail") for f in sel_read["faults"]), "the armed fault never struck"
    # The visit read the supplies healthy, then the SEL entry: held, nothing open yet (before the
    # fix, the entry opened a "log" incident here and the supply's own incident followed).
    opened = list(during.result.opened)
    for _ in range(3):
        opened += sp.round().result.opened
    assert len(opened) == 1, [f"{i.part} {i.condition.value}" for i in opened]
    assert not during.result.opened
    incident = opened[0]
    assert incident.host == "sim-0001" and incident.info.kind == "psu" and incident.condition.value != "log"
    assert incident.info.serial, "the incident names the supply's serial"
    # The entry read a round before the part: the incident's evidence, not an incident of its own.
    assert any(e.get("severity") == "critical" for e in incident.evidence), incident.evidence
