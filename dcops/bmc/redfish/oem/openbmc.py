"""OpenBMC (told apart for its serial console only; its reads are plain DMTF Redfish)."""

from __future__ import annotations

from dcops.bmc.redfish.oem import Quirks


class OpenBmcQuirks(Quirks):
    name = "openbmc"
    manager_oem_keys = ("openbmc",)
    manager_words = ("openbmc",)
    # OpenBMC (NVIDIA GB200 capture, GB200Nvl-24.12-8): obmc-console listens on an SSH port of its
    # own (2200) that lands on the host console itself, with no CLI and no command in between.
    console_port_is_console = True


QUIRKS = OpenBmcQuirks()
