"""Dell iDRAC 8/9: identity and location quirks, and the iDRAC job queue."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any
from urllib.parse import urlencode

from dcops.bmc.redfish.oem import KvmJavaOnly, KvmPlan, KvmRefused, Quirks, manager_oem, odata_link
from dcops.bmc.state import TaskOutcome
from dcops.errors import ApplyError, UnreachableError
from dcops.observation import ComponentKind, FirmwareItem, Identity
from dcops.secrets import Secret

Doc = dict[str, Any]
log = logging.getLogger(__name__)
_FQDD_KINDS = {ComponentKind.CPU, ComponentKind.GPU, ComponentKind.DIMM, ComponentKind.DRIVE,
               ComponentKind.PSU, ComponentKind.FAN, ComponentKind.NIC, ComponentKind.STORAGE_CONTROLLER}

# Jobs: BIOS/RAID changes on iDRAC are applied by configuration jobs in the Lifecycle Controller's
# job queue; "SYS011: Pending configuration values are already committed" means one is queued.
MANAGER = "/redfish/v1/Managers/iDRAC.Embedded.1"
JOB_QUEUE = f"{MANAGER}/Jobs"
DELETE_JOB_QUEUE = f"{MANAGER}/Oem/Dell/DellJobService/Actions/DellJobService.DeleteJobQueue"
JOB_RUNNING = frozenset({"new", "scheduling", "scheduled", "running", "readyforexecution", "waiting",
                         "downloading", "downloaded", "paused"})
JOB_FAILED = frozenset({"failed", "completedwitherrors", "canceled", "cancelled"})


class DellJobs:
    """The iDRAC job queue (``Managers/iDRAC.Embedded.1/Jobs``) over a RedfishConnector."""

    def __init__(self, conn: Any, poll: float = 5.0, sleep: Any = time.sleep, now: Any = time.monotonic) -> None:
        self.conn = conn
        self.poll = poll
        self._sleep = sleep
        self._now = now

    def available(self) -> bool:
        """Whether the BMC has an iDRAC job queue (False on anything that is not an iDRAC)."""
        return self.conn.request("GET", JOB_QUEUE).status == 200

    def jobs(self) -> list[Doc]:
        resp = self.conn.request("GET", JOB_QUEUE + "?$expand=*($levels=1)")
        if resp.status != 200 or not isinstance(resp.body, dict):
            resp = self.conn.request("GET", JOB_QUEUE)
        out = []
        for member in (resp.body or {}).get("Members") or [] if isinstance(resp.body, dict) else []:
            if not isinstance(member, dict):
                continue
            if "JobState" not in member and isinstance(member.get("@odata.id"), str):
                got = self.conn.request("GET", member["@odata.id"])
                member = got.body if got.status == 200 and isinstance(got.body, dict) else member
            out.append(member)
        return out

    def pending(self) -> list[Doc]:
        """Jobs that have not ended (scheduled ones wait for the next host reboot)."""
        return [j for j in self.jobs() if str(j.get("JobState") or "").lower() in JOB_RUNNING]

    def create_bios_job(self, settings_uri: str) -> str:
        """Schedule the BIOS configuration job that applies staged values at the next reboot."""
        resp = self.conn.act("POST", JOB_QUEUE, {"TargetSettingsURI": settings_uri}, "bios config job")
        job = job_id(resp.header("Location")) or job_id(str((resp.body or {}).get("@odata.id") or "")
                                                        if isinstance(resp.body, dict) else None)
        if job is None:
            raise ApplyError(f"{self.conn.host}: bios config job: the iDRAC returned no job id")
        return job

    def clear(self) -> None:
        """Delete every job in the queue (``JID_CLEARALL``): pending values are dropped with them."""
        self.conn.act("POST", DELETE_JOB_QUEUE, {"JobID": "JID_CLEARALL"}, "clear job queue")

    def wait(self, job: str, timeout: float, *, until_scheduled: bool = False) -> TaskOutcome:
        """Poll a job until it ends (or, ``until_scheduled``, until it waits for a reboot)."""
        uri = f"{JOB_QUEUE}/{job}"
        deadline = self._now() + timeout
        state = "unknown"
        while True:
            try:
                resp = self.conn.request("GET", uri)
            except UnreachableError:
                resp = None
            if resp is not None and resp.status == 404:
                return TaskOutcome("vanished", (f"job {job} is gone",), uri=uri)
            if resp is not None and isinstance(resp.body, dict):
                doc = resp.body
                state = str(doc.get("JobState") or "unknown")
                message = str(doc.get("Message") or "")
                low = state.lower()
                percent = doc.get("PercentComplete") if isinstance(doc.get("PercentComplete"), int) else None
                if low == "completed":
                    return TaskOutcome("completed", (message,) if message else (), task_state=state,
                                       percent=percent, uri=uri, message_ids=(str(doc.get("MessageId") or ""),))
                if low in JOB_FAILED:
                    return TaskOutcome("failed", (message or state,), task_state=state, percent=percent, uri=uri,
                                       message_ids=(str(doc.get("MessageId") or ""),))
                if until_scheduled and low == "scheduled":
                    return TaskOutcome("completed", (message,) if message else (), await_reset=True,
                                       task_state=state, percent=percent, uri=uri)
            if self._now() + self.poll > deadline:
                raise ApplyError(f"{self.conn.host}: job {job} still {state} after {timeout:g}s")
            self._sleep(self.poll)


def job_id(location: str | None) -> str | None:
    """``.../Jobs/JID_123456789012`` -> ``JID_123456789012``."""
    if not location:
        return None
    leaf = location.rstrip("/").rsplit("/", 1)[-1]
    return leaf if leaf.upper().startswith(("JID_", "RID_")) else None


class DellQuirks(Quirks):
    name = "dell"
    markers = ("dell",)

    # -- consoles
    manager_oem_keys = ("dell",)
    manager_words = ("idrac", "dell")
    # DRAC 4/5 user guides name "connect com2"; iDRAC7-9's racadm CLI calls it "console com2" (not
    # verified on hardware: the iDRAC9 6.00 capture has SerialConsole.ServiceEnabled false).
    serial_command = "console com2"

    def kvm_plan(self, host: str, manager: Doc) -> KvmPlan | None:
        dell = manager_oem(manager, "Dell")
        found = manager.get("Links")
        dell_links = manager_oem(found if isinstance(found, dict) else {}, "Dell")
        if not (dell or dell_links or "iDRAC" in str(manager.get("@odata.id", ""))):
            return None
        # Quirk (Dell iDRAC9 6.00): the card service is linked from Links.Oem.Dell, not Oem.Dell.
        service = odata_link(dell_links.get("DelliDRACCardService")) or odata_link(dell.get("DelliDRACCardService"))
        if service is None:
            # iDRAC 7/8 have no GetKVMSession: their console is Java/ActiveX (or HTML5 after a login).
            raise KvmJavaOnly(f"{host}: this iDRAC has no GetKVMSession (iDRAC 8 and older): its virtual "
                              "console needs the Java/ActiveX plug-in or a login on the iDRAC's own page")
        return KvmPlan("dell", service)

    def kvm_url(self, conn: Any, base: str, host: str, username: str, password: Secret, plan: KvmPlan) -> str:
        service = conn.get(plan.source)
        action = (service.get("Actions") or {}).get("#DelliDRACCardService.GetKVMSession") or {}
        target = action.get("target") or f"{plan.source}/Actions/DelliDRACCardService.GetKVMSession"
        resp = conn.act("POST", target, {"SessionTypeName": "HTML5"}, "GetKVMSession")
        body = resp.body if isinstance(resp.body, dict) else {}
        if not body.get("TempUsername") or not body.get("TempPassword"):
            raise KvmRefused(f"{host}: GetKVMSession answered without temporary credentials")
        return kvm_console_url(base, username, str(body["TempUsername"]), str(body["TempPassword"]))

    def identity(self, ident: Identity, root: Doc, system: Doc, chassis: list[Doc]) -> Identity:
        # Quirk (Dell iDRAC): the service tag support contracts and warranty are keyed on is the
        # SKU (and root Oem.Dell.ServiceTag); SerialNumber is the motherboard serial (CN...).
        tag = ident.sku or ((root.get("Oem") or {}).get("Dell") or {}).get("ServiceTag")
        return dataclasses.replace(ident, sku=tag) if tag else ident

    def location(self, kind: ComponentKind, doc: Doc) -> str | None:
        # Quirk (Dell iDRAC): resource Ids are FQDDs (DIMM.Socket.A1, PSU.Slot.1, Disk.Bay.0:...)
        # that Dell tools, TSR reports and support cases use; Location is often null.
        ident = doc.get("Id")
        if kind in _FQDD_KINDS and isinstance(ident, str) and "." in ident:
            return ident
        return None

    def firmware(self, item: FirmwareItem, doc: Doc) -> FirmwareItem:
        # Quirk (Dell iDRAC): FirmwareInventory lists Installed-, Current- and Previous- (rollback)
        # images of the same component; the prefix of the Id says which, so keep it as the state.
        ident = item.id or ""
        prefix = ident.split("-", 1)[0] if "-" in ident else None
        if prefix in ("Installed", "Previous", "Current", "Available"):
            return dataclasses.replace(item, state=prefix)
        return item

    def pick_log_service(self, services: list[Doc]) -> Doc | None:
        return next((s for s in services if s.get("Id") == "Sel"), None) or super().pick_log_service(services)

    def after_bios_patch(self, conn: Any, settings_uri: str, apply_time: str | None, resp: Any) -> str | None:
        # Quirk (Dell iDRAC 9 >= 4.40): a PATCH with @Redfish.SettingsApplyTime creates the BIOS
        # configuration job itself and names it in Location; older firmware (and a PATCH without
        # apply time) needs the job created, or the values stay pending forever.
        created = job_id(resp.header("Location")) if resp is not None and hasattr(resp, "header") else None
        if created:
            return created
        jobs = DellJobs(conn)
        if not jobs.available():
            return None  # not a real iDRAC (the simulator's Dell flavour has no job queue)
        return jobs.create_bios_job(settings_uri)

    def clear_bios_jobs(self, conn: Any) -> None:
        jobs = DellJobs(conn)
        if jobs.available() and jobs.pending():
            jobs.clear()

    def drive_state(self, doc: Doc) -> str | None:
        # Quirk (Dell iDRAC9): whether a disk is Ready (RAID-capable, unused), Non-RAID (passed
        # through to the OS), Online (in a volume) or a Spare is only in Oem.Dell.DellPhysicalDisk.
        oem = doc.get("Oem")
        dell = oem.get("Dell") if isinstance(oem, dict) else None
        disk = dell.get("DellPhysicalDisk") if isinstance(dell, dict) else None
        raid_status = str(disk.get("RaidStatus") or "").lower().replace("-", "") if isinstance(disk, dict) else ""
        return {"ready": "ready", "nonraid": "non-raid", "online": "online", "spare": "spare"}.get(raid_status)

    def convert_drive(self, system_uri: str, drive: str, to: str) -> tuple[str, Doc] | None:
        # Quirk (Dell iDRAC9): DMTF Redfish has no way to switch a disk between RAID-capable and
        # Non-RAID; the DellRaidService OEM actions ConvertToRAID / ConvertToNonRAID do, taking the
        # disk FQDDs in PDArray, and answer with a job (task monitor) like a volume create.
        action = "ConvertToNonRAID" if to == "non-raid" else "ConvertToRAID"
        uri = f"{system_uri.rstrip('/')}/Oem/Dell/DellRaidService/Actions/DellRaidService.{action}"
        return uri, {"PDArray": [drive]}

    def assign_spare(self, system_uri: str, drive: str, volume: str | None) -> tuple[str, Doc] | None:
        # Quirk (Dell iDRAC9, 4.x and later): a dedicated hot spare is made with the DellRaidService
        # OEM action AssignSpare (TargetFQDD = the disk, VirtualDiskArray = the volumes it serves);
        # the Drive's HotspareType is read-only there. It answers with a job like a volume create.
        body: Doc = {"TargetFQDD": drive}
        if volume:
            body["VirtualDiskArray"] = [volume]
        return f"{system_uri.rstrip('/')}/Oem/Dell/DellRaidService/Actions/DellRaidService.AssignSpare", body

    def unassign_spare(self, system_uri: str, drive: str) -> tuple[str, Doc] | None:
        # Quirk (Dell iDRAC9): the counterpart of AssignSpare, for global and dedicated spares alike.
        return (f"{system_uri.rstrip('/')}/Oem/Dell/DellRaidService/Actions/DellRaidService.UnassignSpare",
                {"TargetFQDD": drive})

    def placement(self, location: Doc) -> Doc | None:
        # Quirk (Dell iDRAC9): the placement set in the iDRAC UI comes as Location.Info, its fields
        # named by InfoFormat ("DataCenter;RoomName;Aisle;RackName;RackSlot").
        info, fmt = location.get("Info"), location.get("InfoFormat")
        if not (isinstance(info, str) and isinstance(fmt, str)):
            return None
        values = dict(zip(fmt.split(";"), info.split(";"), strict=False))
        return {"site": values.get("DataCenter"), "room": values.get("RoomName"), "row": values.get("Aisle"),
                "rack": values.get("RackName"), "u": values.get("RackSlot")}


QUIRKS = DellQuirks()


def kvm_console_url(base: str, username: str, temp_user: str, temp_password: str) -> str:
    """iDRAC9's HTML5 virtual console with one-time credentials (Dell's GetKVMSession scripts)."""
    query = urlencode({"username": username, "tempUsername": temp_user, "tempPassword": temp_password})
    return f"{base}/console?{query}"
