"""Gigabyte servers with AMI MegaRAC BMCs.

Not a detected vendor: such a server reads as plain DMTF Redfish (its junk serials and "nil" names
are handled by the reader for every vendor), so ``markers`` is empty and ``detect`` never picks
this module. Only its Oem fields are read, through ``oem.board_of``.
"""

from __future__ import annotations

from typing import Any

from dcops.bmc.redfish.oem import Quirks, oem_text

Doc = dict[str, Any]


class GigabyteQuirks(Quirks):
    name = "gigabyte"
    markers = ()

    def board_serial(self, chassis: Doc) -> str | None:
        # Quirk (Gigabyte H262, AMI MegaRAC): the mainboard serial is only in the chassis'
        # Oem.GBTChassisOemProperty."Board Serial Number" (Oem.Ami.BoardSerialNumber on other
        # AMI-based boards); SerialNumber is the chassis'.
        return oem_text(chassis, "GBTChassisOemProperty", "Board Serial Number") \
            or oem_text(chassis, "Ami", "BoardSerialNumber")


QUIRKS = GigabyteQuirks()
