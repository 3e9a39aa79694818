"""What assets needs from the observation, read from the captures: chassis placement, the
mainboard with its OEM serial, assemblies' PhysicalContext, the BMC's MAC address."""

from __future__ import annotations

import pytest

from dcops.bmc.redfish import oem
from dcops.bmc.redfish.read import placement_of
from dcops.bmc.redfish.resources import read_observation, run_sync
from dcops.observation import ComponentKind, Observation
from tests.unit.bmc.mockups import fetcher, load


def observe(name: str) -> Observation:
    return run_sync(read_observation("h1", sections={"components"}), fetcher(load(name)))


def mainboards(obs: Observation) -> list[tuple[str, str | None, str | None]]:
    return [(c.chassis, c.serial, c.model) for c in obs.of_kind(ComponentKind.ASSEMBLY)
            if c.extra.get("physical_context") == "SystemBoard"]


@pytest.mark.parametrize(("name", "board"), [
    # Quirk (Supermicro X13): Oem.Supermicro.BoardSerialNumber; the chassis Model is the board's.
    ("supermicro-sys-821ge-tnhr-x13", ("1", "OM234S005959", "X13DEG-OAD")),
    # Quirk (Lenovo XCC): Oem.Lenovo.SystemBoardSerialNumber.
    ("lenovo-thinksystem-sr670v2-xcc-2.83", ("1", "C1KS36R003P", None)),
    # Quirk (Gigabyte/AMI): Oem.GBTChassisOemProperty."Board Serial Number" (detected as generic).
    ("gigabyte-h262-z63-ami", ("Self", "JG8NG900142", None)),
])
def test_oem_board_serial_is_a_mainboard_component(name: str, board: tuple[str, str, str | None]) -> None:
    obs = observe(name)
    assert mainboards(obs) == [board]


def test_captures_without_an_oem_board_serial_get_no_mainboard_made_up() -> None:
    assert mainboards(observe("dell-poweredge-r750-idrac9-6.00")) == []
    assert mainboards(observe("hpe-proliant-dl360-gen10plus-ilo5-3.11")) == []


def test_assemblies_carry_their_physical_context() -> None:
    obs = observe("supermicro-sys-821ge-tnhr-x13")
    boards = [c for c in obs.of_kind(ComponentKind.ASSEMBLY) if c.location == "Mainboard"]
    assert boards and boards[0].extra["physical_context"] == "SystemBoard"


@pytest.mark.parametrize(("name", "placement"), [
    ("dmtf-public-rackmount1", {"site": "Onsite-Main", "room": "35", "row": "North", "rack": "WEB43", "u": 12}),
    ("dmtf-public-bladed", {"site": None, "room": None, "row": "North", "rack": "WEB43", "u": 12}),
    ("dmtf-public-tower", None),
    ("lenovo-thinksystem-sr670v2-xcc-2.83", None),  # RackOffset 1 without a rack places nothing
])
def test_chassis_placement(name: str, placement: dict[str, object] | None) -> None:
    chassis = observe(name).of_kind(ComponentKind.CHASSIS)
    found = next((c.extra["placement"] for c in chassis if "placement" in c.extra), None)
    assert found == placement


def test_dell_location_info_is_a_placement() -> None:
    # Quirk (Dell iDRAC9): the iDRAC UI's placement is Location.Info, fields named by InfoFormat.
    doc = {"Id": "System.Embedded.1", "Location": {
        "Info": "DC1;Hall 2;Aisle 4;R17;22", "InfoFormat": "DataCenter;RoomName;Aisle;RackName;RackSlot"}}
    assert placement_of(doc, oem.by_name("dell")) == {"site": "DC1", "room": "Hall 2", "row": "Aisle 4",
                                                      "rack": "R17", "u": 22}
    assert placement_of(doc, oem.GENERIC) is None


@pytest.mark.parametrize(("block", "serial"), [
    ({"Huawei": {"BoardSerialNumber": "021PWB10J8000123"}}, "021PWB10J8000123"),
    ({"Inspur": {"BoardSerialNumber": "IN123"}}, "IN123"),
    ({"Ami": {"BoardSerialNumber": " AMI9 "}}, "AMI9"),
    ({"Dell": {"BoardSerialNumber": "x"}}, None),
])
def test_board_serial_of_other_vendors(block: dict[str, object], serial: str | None) -> None:
    assert oem.board_of({"Id": "1", "Oem": block})[0] == serial


def test_bmc_mac_address_on_the_manager() -> None:
    [manager] = observe("dell-poweredge-r750-idrac9-6.00").of_kind(ComponentKind.MANAGER)
    assert manager.extra["mac_address"] == "b0:7b:25:d6:51:82"
    [manager] = observe("supermicro-sys-821ge-tnhr-x13").of_kind(ComponentKind.MANAGER)
    assert manager.extra["mac_address"] == "7C:C2:55:50:A8:FF"
