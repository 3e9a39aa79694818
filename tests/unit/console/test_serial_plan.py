"""SOL or SSH serial console, decided from real vendor captures (tests/fixtures/redfish): the
Manager, its NetworkProtocol and the first ComputerSystem, as ``console.serial: auto`` reads them."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.console import serial_plan
from dcops.console.serial import settings_from
from dcops.console.serial_plan import SshSerialPlan
from dcops.errors import InvalidInputError
from tests.unit.bmc.mockups import _load

# capture: (manager path, system path)
PATHS = {
    "dell-poweredge-r750-idrac9-6.00": ("/redfish/v1/Managers/iDRAC.Embedded.1", "/redfish/v1/Systems/System.Embedded.1"),
    "hpe-proliant-dl360-gen10plus-ilo5-3.11": ("/redfish/v1/Managers/1", "/redfish/v1/Systems/1"),
    "hpe-proliant-dl380a-gen11-ilo6-1.66": ("/redfish/v1/Managers/1", "/redfish/v1/Systems/1"),
    "lenovo-thinksystem-sr670v2-xcc-2.83": ("/redfish/v1/Managers/1", "/redfish/v1/Systems/1"),
    "supermicro-sys-821ge-tnhr-x13": ("/redfish/v1/Managers/1", "/redfish/v1/Systems/1"),
    "huawei-2288h-v5-ibmc-3.12-partial": ("/redfish/v1/Managers/1", "/redfish/v1/Systems/1"),
    "gigabyte-h262-z63-ami": ("/redfish/v1/Managers/Self", "/redfish/v1/Systems/Self"),
    "nvidia-gb200-nvl": ("/redfish/v1/Managers/BMC_0", "/redfish/v1/Systems/System_0"),
}


def docs(capture: str) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    found = {key.rstrip("/").lower(): doc for key, doc in _load(capture).items()}
    manager_path, system_path = PATHS[capture]
    return (found[manager_path.lower()], found.get(system_path.lower()),
            found.get(f"{manager_path}/NetworkProtocol".lower()))


@pytest.mark.parametrize(("capture", "expected"), [
    # iDRAC9 6.00: SerialConsole ServiceEnabled false, no connect types -> SOL
    ("dell-poweredge-r750-idrac9-6.00", None),
    ("hpe-proliant-dl360-gen10plus-ilo5-3.11", SshSerialPlan(22, "vsp", "hpe", "Manager.SerialConsole")),
    ("hpe-proliant-dl380a-gen11-ilo6-1.66", SshSerialPlan(22, "vsp", "hpe", "Manager.SerialConsole")),
    ("lenovo-thinksystem-sr670v2-xcc-2.83", SshSerialPlan(22, "console 1", "lenovo", "Manager.SerialConsole")),
    # X13: the system's SerialConsole.SSH names its own entry command
    ("supermicro-sys-821ge-tnhr-x13",
     SshSerialPlan(22, "cd system1/sol1; start", "supermicro", "ComputerSystem.SerialConsole.SSH")),
    ("huawei-2288h-v5-ibmc-3.12-partial", None),  # IPMI only
    ("gigabyte-h262-z63-ami", None),  # IPMI only
    # OpenBMC: obmc-console's own port, no CLI command
    ("nvidia-gb200-nvl", SshSerialPlan(2200, None, "openbmc", "ComputerSystem.SerialConsole.SSH")),
])
def test_plan_from_capture(capture: str, expected: SshSerialPlan | None) -> None:
    manager, system, network = docs(capture)
    assert serial_plan.plan(manager, system, network) == expected


SSH_MANAGER = {"Oem": {"Hpe": {}}, "SerialConsole": {"ServiceEnabled": True, "ConnectTypesSupported": ["SSH"]}}


@pytest.mark.parametrize(("manager", "network", "command", "expected"), [
    (SSH_MANAGER, {"SSH": {"ProtocolEnabled": False, "Port": 22}}, None, None),  # SSH switched off
    (SSH_MANAGER, {"SSH": {"ProtocolEnabled": True, "Port": 2222}}, None,
     SshSerialPlan(2222, "vsp", "hpe", "Manager.SerialConsole")),
    ({**SSH_MANAGER, "SerialConsole": {"ServiceEnabled": False, "ConnectTypesSupported": ["SSH"]}}, None, None, None),
    ({"Model": "Acme BMC", "SerialConsole": {"ServiceEnabled": True, "ConnectTypesSupported": ["SSH"]}}, None,
     None, None),  # unknown vendor, no command: SOL
    ({"Model": "Acme BMC", "SerialConsole": {"ServiceEnabled": True, "ConnectTypesSupported": ["SSH"]}}, None,
     "serial attach", SshSerialPlan(22, "serial attach", "generic", "Manager.SerialConsole")),
    ({**SSH_MANAGER, "Oem": {}, "Model": "iDRAC9"}, {"SSH": {"Port": True}}, None,
     SshSerialPlan(22, "console com2", "dell", "Manager.SerialConsole")),  # a bogus port falls back to 22
])
def test_plan_cases(manager: dict[str, Any], network: dict[str, Any] | None, command: str | None,
                    expected: SshSerialPlan | None) -> None:
    assert serial_plan.plan(manager, None, network, command=command) == expected


@pytest.mark.parametrize(("section", "message"), [
    ({"serial": "telnet"}, "console.serial: 'telnet' is not one of auto, sol, ssh"),
    ({"ssh_client_keys": [1]}, "console.ssh_client_keys"),
])
def test_settings_errors_name_the_file_and_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match="dcops.yaml") as err:
        settings_from(section, "dcops.yaml")
    assert message in str(err.value)


def test_settings_defaults() -> None:
    s = settings_from({"ssh_client_keys": "/k", "ssh_known_hosts": "/kh"})
    assert (s.mode, s.sol, s.client_keys, s.known_hosts, s.command) == ("auto", "pyghmi", ("/k",), "/kh", None)
