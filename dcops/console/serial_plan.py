"""Which way to a host's serial console (pure): IPMI SOL, or the BMC's SSH with a vendor command.

Redfish says whether a BMC offers its serial console over SSH in two places:

* ``ComputerSystem.SerialConsole.SSH`` (Redfish 2020.3+): ``ServiceEnabled``, ``Port``,
  ``SharedWithManagerCLI`` and ``ConsoleEntryCommand``. The Supermicro X13 capture (BMC 01.01.xx,
  BIOS 1.4) gives ``"cd system1/sol1; start"`` on port 22; the NVIDIA GB200 NVL capture (OpenBMC
  GB200Nvl-24.12-8) gives port 2200 and no command: obmc-console's dedicated SSH port lands on the
  console itself.
* ``Manager.SerialConsole.ConnectTypesSupported`` containing ``"SSH"`` (iLO 5 3.11, iLO 6 1.66,
  XCC 2.83, GB200): the console is reached through the BMC's own SSH CLI (port from
  ``ManagerNetworkProtocol.SSH``) with the vendor's command (``Quirks.serial_command``).

``plan`` prefers the system's explicit entry, then the manager's, and returns ``None`` (use IPMI
SOL) when neither offers SSH, SSH is switched off, or no command is known for the vendor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dcops.bmc.redfish import oem

SSH_PORT = 22

# The command that attaches a BMC's SSH CLI session to the host's serial port is the vendor's
# (``Quirks.serial_command`` in dcops.bmc.redfish.oem, with its source; none verified on hardware
# here): iDRAC "console com2", iLO "vsp", XCC "console 1", Supermicro "start /system1/sol1", iBMC
# "ipmcset -t sol -d activate -v 1 0"; OpenBMC has a console port of its own and no command.


@dataclass(frozen=True)
class SshSerialPlan:
    port: int
    command: str | None  # None: the port itself is the console (no CLI in between)
    vendor: str
    source: str  # which Redfish property decided it (shown in logs and the docs' examples)


def _port(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536 else default


def plan(manager: dict[str, Any], system: dict[str, Any] | None = None,
         network: dict[str, Any] | None = None, *, command: str | None = None) -> SshSerialPlan | None:
    """The SSH serial console the BMC advertises, or ``None`` for IPMI SOL. ``command``: the
    operator's override from the config (``console.ssh_command``)."""
    ssh_proto = (network or {}).get("SSH") or {}
    if ssh_proto.get("ProtocolEnabled") is False:
        return None
    cli_port = _port(ssh_proto.get("Port"), SSH_PORT)
    quirks = oem.for_manager(manager, system)
    vendor = quirks.name

    host_ssh = ((system or {}).get("SerialConsole") or {}).get("SSH") or {}
    if host_ssh.get("ServiceEnabled") is True:
        entry = host_ssh.get("ConsoleEntryCommand")
        shared = host_ssh.get("SharedWithManagerCLI")
        port = _port(host_ssh.get("Port"), cli_port)
        if command or entry:
            return SshSerialPlan(port, command or str(entry), vendor, "ComputerSystem.SerialConsole.SSH")
        if shared is False or quirks.console_port_is_console or port != cli_port:
            # A port of its own is the console (OpenBMC obmc-console on 2200, GB200 capture).
            return SshSerialPlan(port, None, vendor, "ComputerSystem.SerialConsole.SSH")
        known = quirks.serial_command
        return SshSerialPlan(port, known, vendor, "ComputerSystem.SerialConsole.SSH") if known else None

    serial = manager.get("SerialConsole") or {}
    if serial.get("ServiceEnabled") is True and "SSH" in (serial.get("ConnectTypesSupported") or []):
        known = command or quirks.serial_command
        if known:
            return SshSerialPlan(cli_port, known, vendor, "Manager.SerialConsole")
    return None


SERIAL_MODES = ("auto", "sol", "ssh")
