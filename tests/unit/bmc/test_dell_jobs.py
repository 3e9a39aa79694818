"""The iDRAC job queue (the simulator's Dell flavour has none): a scripted connector answers as
iDRAC 9 does, and BIOS staging creates, reports and clears configuration jobs."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.bmc.redfish.connector import Response
from dcops.bmc.redfish.oem.dell import JOB_QUEUE, DellJobs, DellQuirks, job_id
from dcops.errors import ApplyError


class ScriptedIdrac:
    host = "idrac-1"

    def __init__(self, states: list[str], location: str | None = None) -> None:
        self.states = states
        self.location = location
        self.calls: list[tuple[str, str, Any]] = []
        self.jobs: dict[str, str] = {}

    def request(self, method: str, path: str, body: Any = None, headers: Any = None, **_: Any) -> Response:
        self.calls.append((method, path, body))
        if path.startswith(JOB_QUEUE) and method == "GET":
            leaf = path.split("?", 1)[0].rsplit("/", 1)[-1]
            if leaf == "Jobs":
                return Response(200, {"Members": [{"@odata.id": f"{JOB_QUEUE}/{j}", "Id": j, "JobState": s}
                                                  for j, s in self.jobs.items()]}, {})
            if leaf in self.jobs:
                state = self.states.pop(0) if self.states else self.jobs[leaf]
                self.jobs[leaf] = state
                return Response(200, {"Id": leaf, "JobState": state, "Message": f"Job {state.lower()}.",
                                      "PercentComplete": 100 if state == "Completed" else 0}, {})
            return Response(404, None, {})
        return Response(404, None, {})

    def act(self, method: str, path: str, body: Any, what: str, **_: Any) -> Response:
        self.calls.append((method, path, body))
        if path == JOB_QUEUE:
            self.jobs["JID_123456789012"] = "Scheduled"
            return Response(200, None, {"Location": f"{JOB_QUEUE}/JID_123456789012"})
        if path.endswith("DeleteJobQueue"):
            self.jobs.clear()
            return Response(200, None, {})
        raise ApplyError(f"{self.host}: {what}: unexpected")


def test_bios_patch_without_job_creates_one_and_waits_until_scheduled() -> None:
    idrac = ScriptedIdrac(["Scheduled"])
    settings = "/redfish/v1/Systems/System.Embedded.1/Bios/Settings"
    job = DellQuirks().after_bios_patch(idrac, settings, "OnReset", Response(200, None, {}))
    assert job == "JID_123456789012"
    assert ("POST", JOB_QUEUE, {"TargetSettingsURI": settings}) in idrac.calls
    outcome = DellJobs(idrac, poll=0).wait(job, 5, until_scheduled=True)
    assert outcome.ok and outcome.await_reset and outcome.task_state == "Scheduled"


def test_patch_that_named_its_job_is_not_duplicated() -> None:
    idrac = ScriptedIdrac([])
    resp = Response(202, None, {"Location": f"{JOB_QUEUE}/JID_999999999999"})
    assert DellQuirks().after_bios_patch(idrac, "/x/Settings", "OnReset", resp) == "JID_999999999999"
    assert not any(m == "POST" for m, _, _ in idrac.calls)


def test_job_failure_and_timeout() -> None:
    idrac = ScriptedIdrac(["Running", "Failed"])
    idrac.jobs["JID_1"] = "Running"
    outcome = DellJobs(idrac, poll=0).wait("JID_1", 5)
    assert outcome.state == "failed" and "failed" in outcome.message.lower()
    idrac = ScriptedIdrac(["Running"] * 1000)
    idrac.jobs["JID_2"] = "Running"
    clock = iter(range(0, 10_000))
    with pytest.raises(ApplyError, match="still Running"):
        DellJobs(idrac, poll=1, sleep=lambda s: None, now=lambda: next(clock)).wait("JID_2", 3)


def test_clear_pending_jobs() -> None:
    idrac = ScriptedIdrac([])
    idrac.jobs["JID_1"] = "Scheduled"
    DellQuirks().clear_bios_jobs(idrac)
    assert idrac.jobs == {} and any(p.endswith("DeleteJobQueue") for _, p, _ in idrac.calls)


@pytest.mark.parametrize(("location", "expected"), [
    ("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_1", "JID_1"),
    ("https://10.0.0.5/redfish/v1/TaskService/Tasks/5", None), (None, None)])
def test_job_id(location: str | None, expected: str | None) -> None:
    assert job_id(location) == expected
