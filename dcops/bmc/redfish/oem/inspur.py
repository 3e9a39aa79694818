"""Inspur BMCs (NF5280M5/M6, based on AMI MegaRAC).

No capture of an Inspur BMC is available to the project yet, so this module only names the
vendor; add quirks here with a capture under tests/fixtures/redfish/ and a test.
"""

from __future__ import annotations

from dcops.bmc.redfish.oem import Quirks


class InspurQuirks(Quirks):
    name = "inspur"
    markers = ("inspur", "ieit")


QUIRKS = InspurQuirks()
