"""Write handlers: PATCH, POST (actions, creates) and DELETE, turning requests into state changes.

Each handler gets the rendering context, the parsed body and the node's arguments, and returns a
``WriteResult``. Validation errors are ``RedfishError``; the server formats them per flavour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dcops.sim import jobs as dell_jobs
from dcops.sim.messages import RedfishError, base_text
from dcops.sim.resources import Ctx, Doc, norm, render
from dcops.sim.state import Task


@dataclass
class WriteResult:
    status: int
    body: Doc | None = None
    headers: dict[str, str] = field(default_factory=dict)


def success(c: Ctx, status: int = 204) -> WriteResult:
    """The answer to a successful action or PATCH, as the flavour gives it."""
    fl = c.fl
    if fl.name == "hpe":
        # Quirk (HPE iLO): success is reported inside an "error" object with Base.Success.
        return WriteResult(200, {"error": {"code": "iLO.0.10.ExtendedInfo",
                                           "message": "See @Message.ExtendedInfo for more information.",
                                           "@Message.ExtendedInfo": [{"MessageId": f"{fl.base_registry}.Success"}]}})
    if status == 200:
        severity, message, resolution = base_text("Success")
        return WriteResult(200, {"@Message.ExtendedInfo": [{
            "MessageId": f"{fl.base_registry}.Success", "Message": message, "Severity": severity,
            "MessageSeverity": severity, "Resolution": resolution}]})
    return WriteResult(status)


def accepted(c: Ctx, task: Task) -> WriteResult:
    """202 with a task monitor in Location, and the Task as the body."""
    # Quirk (Dell iDRAC9): Location names the Task itself (/redfish/v1/TaskService/Tasks/JID_...),
    # which answers 200 with its TaskState; the others give a task monitor (202 while it runs).
    monitor = f"{c.P.tasks}/{task.id}" if c.fl.name == "dell" else f"{c.P.task_monitors}/{task.id}"
    body = render(c.bmc, f"{c.P.tasks}/{task.id}", c.now)
    return WriteResult(202, body, {"Location": monitor, "Retry-After": "1"})


def _object(body: Any, what: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise RedfishError(400, "MalformedJSON")
    return body


# ----------------------------------------------------------------------------- system

def patch_system(c: Ctx, body: Any) -> WriteResult:
    c.bmc.patch_system(_object(body))
    return success(c, 200)


def system_reset(c: Ctx, body: Any) -> WriteResult:
    body = _object(body)
    reset_type = body.get("ResetType")
    if reset_type is None:
        raise RedfishError(400, "ActionParameterMissing", ("ComputerSystem.Reset", "ResetType"))
    if not isinstance(reset_type, str):
        raise RedfishError(400, "ActionParameterValueTypeError", (str(reset_type), "ResetType", "ComputerSystem.Reset"))
    c.bmc.reset(reset_type)
    return success(c)


def chassis_reset(c: Ctx, body: Any) -> WriteResult:
    """Chassis.Reset (Dell): ResetType On or ForceOff only, as the R750 capture allows."""
    from dcops.sim.res_chassis import CHASSIS_RESET_TYPES

    body = _object(body)
    reset_type = body.get("ResetType")
    if reset_type is None:
        raise RedfishError(400, "ActionParameterMissing", ("Chassis.Reset", "ResetType"))
    if reset_type not in CHASSIS_RESET_TYPES:
        raise RedfishError(400, "ActionParameterValueNotInList", (str(reset_type), "ResetType", "Chassis.Reset"))
    c.bmc.reset(str(reset_type))
    return success(c)


def manager_reset(c: Ctx, body: Any) -> WriteResult:
    body = _object(body)
    reset_type = body.get("ResetType", "GracefulRestart")
    if reset_type not in ("GracefulRestart", "ForceRestart"):
        raise RedfishError(400, "ActionParameterValueNotInList", (str(reset_type), "ResetType", "Manager.Reset"))
    # The answer goes out first; the BMC drops off the network a moment later.
    c.bmc.schedule(0.05, lambda at: c.bmc.reboot_bmc(at))
    return success(c)


# ----------------------------------------------------------------------------- BIOS

def patch_bios(c: Ctx, body: Any) -> WriteResult:
    body = _object(body)
    unknown = [k for k in body if k not in ("Attributes", "@Redfish.SettingsApplyTime") and not k.startswith("@odata")]
    if unknown:
        raise RedfishError(400, "PropertyUnknown", (unknown[0],))
    apply_time = body.get("@Redfish.SettingsApplyTime")
    if apply_time is not None:
        value = apply_time.get("ApplyTime") if isinstance(apply_time, dict) else None
        if value != "OnReset":
            raise RedfishError(400, "PropertyValueNotInList", (str(value), "@Redfish.SettingsApplyTime/ApplyTime"))
    if "Attributes" not in body:
        raise RedfishError(400, "PropertyMissing", ("Attributes",))
    c.bmc.patch_bios(body["Attributes"])
    result = success(c, 200)
    if apply_time is not None and c.bmc.jobs is not None and c.bmc.jobs.scheduled_bios() is None:
        # iDRAC9 >= 4.40: a PATCH with @Redfish.SettingsApplyTime schedules the configuration job
        # itself and names it in Location (older firmware needs a POST to the job queue).
        job = c.bmc.jobs.create_bios_job(f"/redfish/v1/Systems/{c.fl.system_id}/Bios/Settings")
        result.headers["Location"] = f"{dell_jobs.QUEUE}/{job.id}"
    return result


def dell_create_job(c: Ctx, body: Any) -> WriteResult:
    """POST Managers/iDRAC.Embedded.1/Jobs ``{"TargetSettingsURI": ".../Bios/Settings"}``."""
    body = _object(body)
    for key in body:
        if key not in ("TargetSettingsURI", "ScheduledStartTime", "UntilTime"):
            raise RedfishError(400, "PropertyUnknown", (key,))
    assert c.bmc.jobs is not None
    job = c.bmc.jobs.create_bios_job(body.get("TargetSettingsURI"))
    return WriteResult(200, None, {"Location": f"{dell_jobs.QUEUE}/{job.id}"})


def dell_delete_job_queue(c: Ctx, body: Any) -> WriteResult:
    """DellJobService.DeleteJobQueue ``{"JobID": "JID_CLEARALL" | job id}``."""
    body = _object(body)
    assert c.bmc.jobs is not None
    c.bmc.jobs.clear(body.get("JobID"))
    return success(c, 200)


def bios_reset(c: Ctx, body: Any) -> WriteResult:
    c.bmc.reset_bios()
    return success(c)


# ----------------------------------------------------------------------------- storage

def _drive_lookup(c: Ctx) -> dict[str, int]:
    return {norm(f"{c.P.drives}/{did}"): bay for bay, did in enumerate(c.bmc.storage.drive_ids())}


def create_volume(c: Ctx, body: Any) -> WriteResult:
    task = c.bmc.storage.create_volume(_object(body), _drive_lookup(c))
    return accepted(c, task)


def delete_volume(c: Ctx, body: Any, vid: str) -> WriteResult:
    task = c.bmc.storage.delete_volume(vid, body if isinstance(body, dict) else None)
    return accepted(c, task)


def patch_drive(c: Ctx, body: Any, bay: int) -> WriteResult:
    body = _object(body)
    for key in body:
        if key.startswith("@"):
            continue
        if key == "Oem" and c.fl.name not in ("dell", "hpe"):
            continue
        if key not in ("HotspareType", "WriteCacheEnabled"):
            raise RedfishError(400, "PropertyNotWritable" if key in ("Id", "Name", "Status", "Model")
                               else "PropertyUnknown", (key,))
    if "WriteCacheEnabled" in body:
        if not isinstance(body["WriteCacheEnabled"], bool):
            raise RedfishError(400, "PropertyValueTypeError", (str(body["WriteCacheEnabled"]), "WriteCacheEnabled"))
        c.bmc.storage.drives[bay].write_cache = body["WriteCacheEnabled"]
    if "Oem" in body:
        # The simulator's simple form of Ready / Non-RAID for flavours without Dell's RAID service.
        oem = body["Oem"]
        sim = oem.get("DcopsSim") if isinstance(oem, dict) else None
        if not isinstance(sim, dict) or set(sim) - {"RaidStatus"} or not sim:
            raise RedfishError(400, "PropertyUnknown", ("Oem",))
        c.bmc.storage.set_raid_status(bay, sim["RaidStatus"])
    if "HotspareType" in body:
        if c.fl.spare_binding == "dell":
            # iDRAC9: HotspareType is read-only on the Drive; DellRaidService.AssignSpare sets it.
            raise RedfishError(400, "PropertyNotWritable", ("HotspareType",))
        c.bmc.storage.set_hotspare(bay, body["HotspareType"])
    return success(c, 200)


def patch_hpe_smart_storage(c: Ctx, body: Any) -> WriteResult:
    """HPE iLO 5 SmartStorageConfig settings: ``Ports[].OperatingModeAfterReboot`` (RAID | Mixed |
    HBA) staged for the next reset; the other keys of the capture are accepted as they are."""
    body = _object(body)
    ports = body.get("Ports")
    if ports is None:
        return success(c, 200)
    if not isinstance(ports, list) or not ports:
        raise RedfishError(400, "PropertyValueTypeError", (str(ports), "Ports"))
    modes = set()
    for port in ports:
        mode = port.get("OperatingModeAfterReboot") if isinstance(port, dict) else None
        if mode not in ("RAID", "Mixed", "HBA"):
            raise RedfishError(400, "PropertyValueNotInList", (str(mode), "Ports/OperatingModeAfterReboot"))
        modes.add(mode)
    if len(modes) != 1 or len(ports) != 2:
        # The simulated controller's disks sit on both ports: it models one mode for the controller.
        raise RedfishError(400, "PropertyValueConflict", ("Ports", "OperatingModeAfterReboot"))
    c.bmc.storage.stage_hpe_mode(modes.pop())
    # iLO: 200 with "One or more properties were changed and will not take effect until system is reset".
    return success(c, 200)


def patch_volume(c: Ctx, body: Any, vid: str) -> WriteResult:
    body = _object(body)
    links = body.get("Links")
    if links is not None:
        refs = links.get("DedicatedSpareDrives") if isinstance(links, dict) else None
        if c.fl.spare_binding != "dmtf" or not isinstance(links, dict) or set(links) != {"DedicatedSpareDrives"}:
            raise RedfishError(400, "PropertyNotWritable", ("Links",))
        if not isinstance(refs, list):
            raise RedfishError(400, "PropertyValueTypeError", (str(refs), "Links/DedicatedSpareDrives"))
        lookup = _drive_lookup(c)
        bays = []
        for ref in refs:
            uri = ref.get("@odata.id") if isinstance(ref, dict) else None
            bay = lookup.get(str(uri).rstrip("/").lower()) if isinstance(uri, str) else None
            if bay is None:
                raise RedfishError(400, "ResourceMissingAtURI", (str(uri),))
            bays.append(bay)
    c.bmc.storage.patch_volume(vid, {k: v for k, v in body.items() if k != "Links"})
    if links is not None:
        c.bmc.storage.set_dedicated_spares(vid, bays)
    return success(c, 200)


def secure_erase_drive(c: Ctx, body: Any, bay: int) -> WriteResult:
    """Drive.SecureErase: a task; only a drive in no volume and no spare (the controllers refuse others)."""
    _object(body)
    return accepted(c, c.bmc.storage.secure_erase(bay))


def initialize_volume(c: Ctx, body: Any, vid: str) -> WriteResult:
    """Volume.Initialize: ``InitializeType`` Fast or Slow (default Fast), a task."""
    body = _object(body)
    kind = body.get("InitializeType", "Fast")
    if set(body) - {"InitializeType", "InitializeMethod"}:
        raise RedfishError(400, "ActionParameterUnknown", ("Volume.Initialize", sorted(set(body))[0]))
    if kind not in ("Fast", "Slow"):
        raise RedfishError(400, "ActionParameterValueNotInList", (str(kind), "InitializeType", "Volume.Initialize"))
    return accepted(c, c.bmc.storage.initialize(vid, str(kind)))


def _dell_disk(c: Ctx, value: Any, action: str, parameter: str) -> int:
    ids = {did.lower(): bay for bay, did in enumerate(c.bmc.storage.drive_ids())}
    bay = ids.get(str(value).rstrip("/").rsplit("/", 1)[-1].lower()) if isinstance(value, str) else None
    if bay is None:
        raise RedfishError(400, "ActionParameterValueNotInList", (str(value), parameter, action))
    return bay


def dell_assign_spare(c: Ctx, body: Any) -> WriteResult:
    """DellRaidService.AssignSpare: ``{"TargetFQDD": disk, "VirtualDiskArray": [volume FQDD, ...]}``
    (no VirtualDiskArray: a global spare)."""
    body = _object(body)
    action = "DellRaidService.AssignSpare"
    for key in body:
        if key not in ("TargetFQDD", "VirtualDiskArray"):
            raise RedfishError(400, "ActionParameterUnknown", (action, key))
    if "TargetFQDD" not in body:
        raise RedfishError(400, "ActionParameterMissing", (action, "TargetFQDD"))
    bay = _dell_disk(c, body["TargetFQDD"], action, "TargetFQDD")
    vds = body.get("VirtualDiskArray") or []
    if not isinstance(vds, list) or not all(isinstance(v, str) for v in vds):
        raise RedfishError(400, "ActionParameterValueTypeError", (str(vds), "VirtualDiskArray", action))
    return accepted(c, c.bmc.storage.assign_spare(bay, [v.rstrip("/").rsplit("/", 1)[-1] for v in vds]))


def dell_unassign_spare(c: Ctx, body: Any) -> WriteResult:
    """DellRaidService.UnassignSpare: ``{"TargetFQDD": disk}``."""
    body = _object(body)
    action = "DellRaidService.UnassignSpare"
    if set(body) != {"TargetFQDD"}:
        raise RedfishError(400, "ActionParameterMissing", (action, "TargetFQDD"))
    return accepted(c, c.bmc.storage.unassign_spare(_dell_disk(c, body["TargetFQDD"], action, "TargetFQDD")))


def dell_convert(c: Ctx, body: Any, to_non_raid: bool) -> WriteResult:
    """DellRaidService.ConvertToNonRAID / ConvertToRAID: ``{"PDArray": [drive FQDD or URI, ...]}``."""
    body = _object(body)
    action = f"DellRaidService.ConvertTo{'NonRAID' if to_non_raid else 'RAID'}"
    for key in body:
        if key != "PDArray":
            raise RedfishError(400, "ActionParameterUnknown", (action, key))
    disks = body.get("PDArray")
    if disks is None:
        raise RedfishError(400, "ActionParameterMissing", (action, "PDArray"))
    if not isinstance(disks, list) or not all(isinstance(d, str) for d in disks):
        raise RedfishError(400, "ActionParameterValueTypeError", (str(disks), "PDArray", action))
    ids = {did.lower(): bay for bay, did in enumerate(c.bmc.storage.drive_ids())}
    bays: list[int] = []
    for disk in disks:
        bay = ids.get(disk.rstrip("/").rsplit("/", 1)[-1].lower())
        if bay is None:
            raise RedfishError(400, "ActionParameterValueNotInList", (disk, "PDArray", action))
        if bay not in bays:
            bays.append(bay)
    task = c.bmc.storage.convert(bays, to_non_raid)
    return accepted(c, task)


# ----------------------------------------------------------------------------- virtual media

def insert_media(c: Ctx, body: Any, vid: str) -> WriteResult:
    c.bmc.insert_media(vid, _object(body))
    return success(c)


def eject_media(c: Ctx, body: Any, vid: str) -> WriteResult:
    c.bmc.eject_media(vid)
    return success(c)


def patch_vmedia(c: Ctx, body: Any, vid: str) -> WriteResult:
    """``VerifyCertificate`` (DMTF VirtualMedia v1_4; XCC 2.83) is the one writable property."""
    body = _object(body)
    for key, value in body.items():
        if key.startswith("@"):
            continue
        if key != "VerifyCertificate":
            raise RedfishError(400, "PropertyNotWritable" if key in ("Id", "Name", "Image", "Inserted")
                               else "PropertyUnknown", (key,))
        if not isinstance(value, bool):
            raise RedfishError(400, "PropertyValueTypeError", (str(value), key))
        c.bmc.vmedia[vid].verify_certificate = value
    return success(c, 200)


def add_vmedia_cert(c: Ctx, body: Any, vid: str) -> WriteResult:
    """POST a CA certificate to a slot's ``Certificates`` (CertificateString, CertificateType PEM)."""
    import ssl

    body = _object(body)
    pem = body.get("CertificateString")
    if body.get("CertificateType", "PEM") != "PEM":
        raise RedfishError(400, "PropertyValueNotInList", (str(body.get("CertificateType")), "CertificateType"))
    if not isinstance(pem, str):
        raise RedfishError(400, "PropertyMissing", ("CertificateString",))
    try:
        ssl.PEM_cert_to_DER_cert(pem.strip())
    except ValueError as exc:
        raise RedfishError(400, "PropertyValueFormatError", ("CertificateString", "CertificateString")) from exc
    certs = c.bmc.vmedia[vid].certificates
    certs.append(pem.strip() + "\n")
    location = f"{c.P.vmedia}/{vid}/Certificates/{len(certs)}"
    return WriteResult(201, render(c.bmc, location, c.now), {"Location": location})


def delete_vmedia_cert(c: Ctx, body: Any, vid: str, n: int) -> WriteResult:
    c.bmc.vmedia[vid].certificates.pop(n)
    return success(c)


# ----------------------------------------------------------------------------- services

def create_session(c: Ctx, body: Any) -> WriteResult:
    body = _object(body)
    session = c.bmc.login(body.get("UserName"), body.get("Password"))
    location = f"{c.P.sessions}/{session.id}"
    doc = render(c.bmc, location, c.now)
    return WriteResult(201, doc, {"X-Auth-Token": session.token, "Location": location})


def delete_session(c: Ctx, body: Any, sid: str) -> WriteResult:
    if not c.bmc.logout(sid):
        raise RedfishError(404, "ResourceMissingAtURI", (f"{c.P.sessions}/{sid}",))
    return success(c)


def clear_log(c: Ctx, body: Any) -> WriteResult:
    c.bmc.clear_sel()
    return success(c)


def simple_update(c: Ctx, body: Any) -> WriteResult:
    task = c.bmc.firmware.simple_update(_object(body))
    if c.fl.oem == "Hpe":
        # Quirk (HPE iLO 5): SimpleUpdate answers 200 without a task monitor; the flash is followed
        # in UpdateService Oem.Hpe.State / FlashProgressPercent (the task stays internal here).
        return success(c, 200)
    return accepted(c, task)


def delete_task(c: Ctx, body: Any, tid: str) -> WriteResult:
    task = c.bmc.tasks.get(tid)
    if task is None:
        raise RedfishError(404, "ResourceMissingAtURI", (tid,))
    if task.state == "Running":
        raise RedfishError(400, "ResourceCannotBeDeleted")
    del c.bmc.tasks[tid]
    return WriteResult(204)
