"""Supermicro X11/X12/X13 BMCs (ATEN/ASPEED)."""

from __future__ import annotations

from typing import Any

from dcops.bmc.redfish.oem import KvmJavaOnly, KvmPlan, KvmRefused, Quirks, manager_oem, odata_link, oem_text
from dcops.secrets import Secret

Doc = dict[str, Any]


class SupermicroQuirks(Quirks):
    name = "supermicro"
    markers = ("supermicro",)

    # -- consoles
    manager_oem_keys = ("supermicro",)
    manager_words = ("supermicro",)
    # SMASH-CLP "start /system1/sol1" (the X13 capture's SerialConsole.SSH.ConsoleEntryCommand,
    # "cd system1/sol1; start", wins when present).
    serial_command = "start /system1/sol1"

    def kvm_plan(self, host: str, manager: Doc) -> KvmPlan | None:
        smc = manager_oem(manager, "Supermicro")
        if not smc:
            return None
        ikvm = odata_link(smc.get("IKVM"))
        if ikvm is None:
            raise KvmJavaOnly(f"{host}: this Supermicro BMC has no Redfish IKVM launch (X10 and older: Java iKVM)")
        return KvmPlan("supermicro", ikvm)

    def kvm_url(self, conn: Any, base: str, host: str, username: str, password: Secret, plan: KvmPlan) -> str:
        ikvm = conn.get(plan.source)
        interface = str(ikvm.get("Current interface") or "")
        if "JAVA" in interface.upper():
            raise KvmJavaOnly(f"{host}: the BMC's iKVM is set to {interface!r} (Java only); switch it to HTML 5 "
                              "(PATCH Oem/Supermicro/IKVM) to open it from dcops")
        uri = ikvm.get("URI")
        if not isinstance(uri, str) or not uri:
            raise KvmRefused(f"{host}: the IKVM resource gave no launch URI")
        return kvm_console_url(base, uri)

    def insert_media_full(self) -> bool:
        # Quirk (Supermicro X12/X13): InsertMedia rejects Inserted/WriteProtected with 400
        # PropertyUnknown; it accepts Image only. (The connector also retries without on any 400.)
        return False

    def prefer_media(self, slots: list[Doc]) -> list[Doc]:
        # Quirk (Supermicro X11/X12): the CD slot is called "UsbCd" (Id) and some firmware lists
        # no MediaTypes on it; prefer it for ISO images over floppy/USB-stick slots.
        return sorted(slots, key=lambda s: 0 if "usbcd" in str(s.get("Id", "")).lower()
                      or "CD" in (s.get("MediaTypes") or []) else 1)

    def eject_body(self) -> Doc | None:
        return {}

    def board_serial(self, chassis: Doc) -> str | None:
        # Quirk (Supermicro X12/X13): the mainboard serial is only in the chassis' Oem block
        # (Oem.Supermicro.BoardSerialNumber); there is no Assembly resource.
        return oem_text(chassis, "Supermicro", "BoardSerialNumber")

    def board_model(self, chassis: Doc) -> str | None:
        # Quirk (Supermicro X12/X13): Model of the chassis carrying Oem.Supermicro is the mainboard's
        # model (X13DEG-OAD), not the server's.
        model = chassis.get("Model")
        return model.strip() or None if isinstance(model, str) else None

    # Quirk (Supermicro X13): LogServices entries are inlined in the Entries collection with no
    # member URIs ($expand style); resources.Reader uses inlined members as they are.


QUIRKS = SupermicroQuirks()


def kvm_console_url(base: str, uri: str) -> str:
    """The one-time launch URI the IKVM resource gives, on the BMC's address."""
    return f"{base}{uri}" if uri.startswith("/") else f"{base}/{uri}"
