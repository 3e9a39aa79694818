"""Supermicro X11/X12/X13 BMCs (ATEN/ASPEED)."""

from __future__ import annotations

from typing import Any

from dcops.bmc.redfish.oem import Quirks, oem_text

Doc = dict[str, Any]


class SupermicroQuirks(Quirks):
    name = "supermicro"
    markers = ("supermicro",)

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
