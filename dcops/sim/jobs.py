"""Dell iDRAC9's job queue for BIOS changes: ``Managers/iDRAC.Embedded.1/Jobs``.

On an iDRAC, values PATCHed into ``Bios/Settings`` stay pending until a BIOS configuration job
applies them at the next host reboot; without a job they stay pending forever (the classic
"the settings never took" bug of clients written against other vendors). A job is created by a
POST to the queue (``TargetSettingsURI``) or, on iDRAC >= 4.40, by the PATCH itself when it carries
``@Redfish.SettingsApplyTime`` (its Location names the job). A job goes Scheduled -> Running at
POST -> Completed (or CompletedWithErrors when the BIOS drops a value: fault ``bios_refuse``).
``DellJobService.DeleteJobQueue`` with ``JID_CLEARALL`` deletes every job and the pending values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dcops.sim.messages import RedfishError

if TYPE_CHECKING:
    from dcops.sim.state import Bmc

MANAGER = "/redfish/v1/Managers/iDRAC.Embedded.1"
QUEUE = f"{MANAGER}/Jobs"
DELETE_QUEUE = f"{MANAGER}/Oem/Dell/DellJobService/Actions/DellJobService.DeleteJobQueue"
# iDRAC9's words when a BIOS job is already queued (the client's DellQuirks look for SYS011).
_ALREADY = ("IDRAC.2.8.SYS011", "Pending configuration values are already committed, unable to perform "
                                "another set operation.")


@dataclass
class Job:
    id: str
    name: str
    job_type: str
    target: str
    created: float
    state: str = "Scheduled"  # Scheduled, Running, Completed, CompletedWithErrors, Failed
    message: str = "Task successfully scheduled."
    message_id: str = "JCP001"
    percent: int = 0
    start: float | None = None
    end: float | None = None


class JobQueue:
    def __init__(self, bmc: Bmc) -> None:
        self.bmc = bmc
        self.jobs: dict[str, Job] = {}
        self._seq = 0

    def _new_id(self, at: float) -> str:
        self._seq += 1
        return f"JID_{(int(at) % 10**9) * 1000 + self._seq % 1000:012d}"

    def scheduled_bios(self) -> Job | None:
        return next((j for j in self.jobs.values() if j.job_type == "BIOSConfiguration" and j.state == "Scheduled"),
                    None)

    def create_bios_job(self, target: Any) -> Job:
        bmc = self.bmc
        settings = f"/redfish/v1/Systems/{bmc.flavour.system_id}/Bios/Settings"
        if not isinstance(target, str) or target.rstrip("/").lower() != settings.lower():
            raise RedfishError(400, "ActionParameterValueNotInList", (str(target), "TargetSettingsURI", "Jobs"))
        if self.scheduled_bios() is not None:
            raise RedfishError(400, "ResourceInUse", vendor=_ALREADY)
        if not bmc.bios_pending and not bmc.bios_reset_pending:
            raise RedfishError(400, "ActionParameterValueNotInList", (str(target), "TargetSettingsURI", "Jobs"),
                               vendor=("IDRAC.2.8.SYS017", "No pending data present to create a Configuration job."))
        now = bmc.clock()
        job = Job(self._new_id(now), "Configure: BIOS.Setup.1-1", "BIOSConfiguration", settings, now)
        self.jobs[job.id] = job
        return job

    def at_post(self, at: float, failed: list[str]) -> bool:
        """At POST: run the scheduled BIOS job; whether the pending BIOS values apply now."""
        job = self.scheduled_bios()
        if job is None:
            return False
        job.start = job.end = at
        job.percent = 100
        if failed:
            job.state, job.message_id = "CompletedWithErrors", "SYS020"
            job.message = f"Job completed with errors: {', '.join(failed)} not applied."
        else:
            job.state, job.message_id, job.message = "Completed", "PR19", "Job completed successfully."
        return True

    def clear(self, job_id: Any) -> None:
        if job_id == "JID_CLEARALL":
            self.jobs.clear()
            self.bmc.bios_pending = {}  # deleting the queue drops the values it would have applied
            self.bmc.bios_reset_pending = False
            return
        if not isinstance(job_id, str) or job_id not in self.jobs:
            raise RedfishError(400, "ActionParameterValueNotInList", (str(job_id), "JobID",
                                                                      "DellJobService.DeleteJobQueue"))
        del self.jobs[job_id]

    def doc(self, job: Job) -> dict[str, Any]:
        from dcops.sim.records import iso

        return {"@odata.context": "/redfish/v1/$metadata#DellJob.DellJob", "@odata.id": f"{QUEUE}/{job.id}",
                "@odata.type": "#DellJob.v1_4_0.DellJob", "Id": job.id, "Name": job.name, "JobType": job.job_type,
                "JobState": job.state, "Message": job.message, "MessageId": job.message_id,
                "MessageArgs": [], "PercentComplete": job.percent, "TargetSettingsURI": job.target,
                "StartTime": iso(job.start) if job.start is not None else "TIME_NOW",
                "EndTime": iso(job.end) if job.end is not None else None,
                "CompletionTime": iso(job.end) if job.end is not None else None,
                "Description": "Job Instance"}
