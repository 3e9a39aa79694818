"""Dell iDRAC 8/9."""

from __future__ import annotations

import dataclasses
from typing import Any

from dcops.bmc.redfish.oem import Quirks
from dcops.observation import ComponentKind, FirmwareItem, Identity

Doc = dict[str, Any]
_FQDD_KINDS = {ComponentKind.CPU, ComponentKind.GPU, ComponentKind.DIMM, ComponentKind.DRIVE,
               ComponentKind.PSU, ComponentKind.FAN, ComponentKind.NIC, ComponentKind.STORAGE_CONTROLLER}


class DellQuirks(Quirks):
    name = "dell"
    markers = ("dell",)

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


QUIRKS = DellQuirks()

# Jobs: BIOS/RAID changes on iDRAC are staged as jobs in /redfish/v1/Managers/iDRAC.Embedded.1/Jobs
# and applied at the next reboot; "SYS011: Pending configuration values are already committed"
# means a job is queued. Job handling belongs to the baseline apply path (not this issue).
JOB_QUEUE = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs"
