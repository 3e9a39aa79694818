"""H3C HDM (UniServer R4900 G3/G5).

No capture of an H3C HDM is available to the project yet, so this module only names the vendor
(HDM puts its extensions under ``Oem.Public``); add quirks with a capture and a test.
"""

from __future__ import annotations

from dcops.bmc.redfish.oem import Quirks


class H3cQuirks(Quirks):
    name = "h3c"
    markers = ("h3c",)


QUIRKS = H3cQuirks()
