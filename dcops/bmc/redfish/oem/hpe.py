"""HPE iLO 4/5/6."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dcops.bmc.redfish.oem import SESSIONS, KvmJavaOnly, KvmPlan, KvmRefused, Quirks, manager_oem
from dcops.observation import SensorKind
from dcops.secrets import Secret

Doc = dict[str, Any]


class HpeQuirks(Quirks):
    name = "hpe"
    markers = ("hpe", "hewlett", "hp")

    # -- consoles
    manager_oem_keys = ("hpe", "hp")
    manager_words = ("ilo", "hpe", "hewlett")
    # iLO 2-6 "vsp" (Virtual Serial Port; "ESC (" returns to the iLO CLI), as iLO user guides
    # describe; the iLO 5 3.11 and iLO 6 1.66 captures list "SSH" in ConnectTypesSupported.
    serial_command = "vsp"

    def kvm_plan(self, host: str, manager: Doc) -> KvmPlan | None:
        if not (manager_oem(manager, "Hpe") or manager_oem(manager, "Hp")):
            return None
        model = str(manager.get("Model") or "")
        if model.startswith(("iLO 2", "iLO 3")):
            raise KvmJavaOnly(f"{host}: {model} has only the Java/.NET integrated remote console")
        return KvmPlan("hpe", SESSIONS)

    def kvm_url(self, conn: Any, base: str, host: str, username: str, password: Secret, plan: KvmPlan) -> str:
        # A session of its own for the browser (the connector's session is logged out after).
        resp = conn.request("POST", SESSIONS, {"UserName": username, "Password": password.reveal()})
        token = resp.header("X-Auth-Token")
        if resp.status not in (200, 201) or not token:
            raise KvmRefused(f"{host}: iLO refused a console session (HTTP {resp.status})")
        return kvm_console_url(base, token)

    # Quirk (HPE iLO 5/6): links mix case and trailing slashes (/redfish/v1/systems/1/); handled
    # for every vendor in resources.normalize, because other BMCs copied the habit.

    def sensor_kind(self, doc: Doc) -> SensorKind | None:
        # Quirk (HPE iLO 6): Chassis/1/Sensors members carry neither ReadingType nor ReadingUnits;
        # they are the "sea of sensors" temperatures (Oem.Hpe HpeSeaOfSensors), in Celsius.
        if not doc.get("ReadingType") and not doc.get("ReadingUnits") and _sea_of_sensors(doc):
            return SensorKind.TEMPERATURE
        return None

    def sensor_units(self, doc: Doc) -> str | None:
        return "Cel" if self.sensor_kind(doc) is SensorKind.TEMPERATURE else None

    def eject_body(self) -> Doc | None:
        # Quirk (HPE iLO 5): EjectMedia without a body answers 400 (MalformedJSON); it wants {}.
        return {}

    def pick_log_service(self, services: list[Doc]) -> Doc | None:
        # iLO: "IML" is the integrated management log (hardware events), "IEL" the iLO event log.
        return next((s for s in services if str(s.get("Id")).upper() == "IML"), None) \
            or super().pick_log_service(services)

    # Quirk (HPE iLO 5, Smart Array SR Gen10/Gen10 Plus; capture hpe-proliant-dl360-gen10plus-ilo5-3.11):
    # DMTF Redfish has no Non-RAID switch and the Drive says nothing of it. The controller passes
    # disks through per port, set in the OEM SmartStorageConfig (``/redfish/v1/systems/1/
    # smartstorageconfig``, linked from the system's Oem.Hpe): Ports[].OperatingModeAfterReboot
    # RAID (nothing passed through),
    # Mixed (disks in no logical drive go to the OS as they are, yet may still join a logical drive)
    # or HBA (all disks passed through, no logical drives). A change is PATCHed to the object named in
    # ``@Redfish.Settings.SettingsObject`` and takes effect at the next system reset (HPE: "will not
    # take effect until the system is reset"); its outcome is in ``@Redfish.Settings.Messages``.
    # iLO 6 deprecates SmartStorageConfig (MR/SR controllers speak DMTF only, via PLDM for RDE): there
    # the document is absent and disks stay unverified.
    def update_progress(self, service: Doc) -> tuple[str, int | None, str | None] | None:
        # Quirk (HPE iLO 5; capture DL360 Gen10 Plus iLO 5 3.11, UpdateService Oem.Hpe.State "Idle"):
        # a SimpleUpdate may answer without a task monitor; the flash's progress is the service's
        # Oem.Hpe.State (Idle, Uploading, Verifying, Writing, Updating, Complete, Error) with
        # FlashProgressPercent, and the outcome's MessageId in Oem.Hpe.Result.
        hpe = (service.get("Oem") or {}).get("Hpe") or {}
        state = hpe.get("State")
        if not isinstance(state, str):
            return None
        pct = hpe.get("FlashProgressPercent")
        result = hpe.get("Result")
        message = result.get("MessageId") if isinstance(result, dict) else None
        return state, pct if isinstance(pct, int) else None, message if isinstance(message, str) else None

    def controller_mode_uri(self, system: Doc) -> str | None:
        # Linked from the system's Oem.Hpe.SmartStorageConfig (a list, one per Smart Array; the DL360
        # capture has one). More than one: which DMTF Storage each configures is not said, so none
        # is guessed.
        hpe = (system.get("Oem") or {}).get("Hpe") or {}
        found = [x.get("@odata.id") for x in hpe.get("SmartStorageConfig") or []
                 if isinstance(x, dict) and isinstance(x.get("@odata.id"), str)]
        return str(found[0]) if len(found) == 1 else None

    def controller_mode(self, doc: Doc) -> tuple[str | None, str]:
        ports = [p for p in doc.get("Ports") or [] if isinstance(p, dict)]
        modes = {str(p.get("OperatingModeAfterReboot")) for p in ports if p.get("OperatingModeAfterReboot")}
        settings = doc.get("@Redfish.Settings")
        target = settings.get("SettingsObject") if isinstance(settings, dict) else None
        uri = target.get("@odata.id") if isinstance(target, dict) else None
        if not uri and isinstance(doc.get("@odata.id"), str):
            uri = doc["@odata.id"].rstrip("/") + "/settings/"
        # Ports in different modes: which disk sits on which port is not said by the DMTF Drive.
        mode = modes.pop() if len(modes) == 1 else None
        return (mode if mode in ("RAID", "Mixed", "HBA") else None), str(uri or "")

    def controller_mode_body(self, doc: Doc, mode: str) -> Doc | None:
        ports = [p for p in doc.get("Ports") or [] if isinstance(p, dict) and isinstance(p.get("PortIndex"), int)]
        if not ports:
            return None
        # DataGuard "Permissive": HPE's guard that lets the settings apply changes destroying no data
        # (a mode change destroys none; "Disabled", which allows deletes, is never sent for it).
        return {"DataGuard": "Permissive",
                "Ports": [{"PortIndex": p["PortIndex"], "OperatingModeAfterReboot": mode} for p in ports]}


QUIRKS = HpeQuirks()


def kvm_console_url(base: str, session_token: str) -> str:
    """iLO 5's integrated remote console with a session key (an X-Auth-Token). Field reports say
    iLO 6 1.76 stopped honouring ``sessionkey`` in the URL; not verified here."""
    return f"{base}/irc.html?sessionkey={quote(session_token, safe='')}"


def _sea_of_sensors(doc: Doc) -> bool:
    """Whether ``Oem.Hpe`` calls the sensor one of iLO 6's "sea of sensors" (a malformed Oem is not)."""
    oem = doc.get("Oem")
    hpe = oem.get("Hpe") if isinstance(oem, dict) else None
    return isinstance(hpe, dict) and "SeaOfSensors" in str(hpe.get("@odata.type", ""))
