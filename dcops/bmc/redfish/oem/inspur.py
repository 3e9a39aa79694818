"""Inspur BMCs (NF5280M5/M6, based on AMI MegaRAC).

No capture of an Inspur BMC is available to the project yet, so this module only names the
vendor; add quirks here with a capture under tests/fixtures/redfish/ and a test.
"""

from __future__ import annotations

from typing import Any

from dcops.bmc.redfish.oem import Quirks, oem_text

Doc = dict[str, Any]


class InspurQuirks(Quirks):
    name = "inspur"
    markers = ("inspur", "ieit")

    def board_serial(self, chassis: Doc) -> str | None:
        # Quirk (Inspur, AMI MegaRAC based): the mainboard serial is Oem.Inspur.BoardSerialNumber of
        # the chassis (no capture yet; tested with a synthetic document).
        return oem_text(chassis, "Inspur", "BoardSerialNumber")


QUIRKS = InspurQuirks()
