"""Huawei iBMC (and xFusion, its successor)."""

from __future__ import annotations

from typing import Any

from dcops.bmc.redfish.oem import Quirks, oem_text

Doc = dict[str, Any]


class HuaweiQuirks(Quirks):
    name = "huawei"
    markers = ("huawei", "xfusion")

    # Quirk (Huawei iBMC 3.x): the Storage collection lives at Systems/1/Storages (plural) and
    # drives are linked from Chassis/1/Drives; both are reached by following links, not by
    # building paths, so nothing vendor-specific is needed in the reader.
    # Quirk (Huawei iBMC 3.x, Redfish 1.0.2): no UpdateService.FirmwareInventory; firmware
    # versions are only on the components (recorded as "could not read").

    def board_serial(self, chassis: Doc) -> str | None:
        # Quirk (Huawei iBMC): the mainboard serial is Oem.Huawei.BoardSerialNumber of the chassis.
        # (Not in the partial capture we have; tested with a document shaped like iBMC 5.x's.)
        return oem_text(chassis, "Huawei", "BoardSerialNumber")


QUIRKS = HuaweiQuirks()
