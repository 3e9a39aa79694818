"""Configuration quirks moved from the baseline adapter into the BMC layer: Dell disk RAID states
and ConvertToRAID/ConvertToNonRAID; the default BIOS apply time; the task pause."""

from __future__ import annotations

import pytest

from dcops.bmc.redfish import oem
from dcops.bmc.redfish.bios import choose_apply_time
from dcops.bmc.redfish.raid import parse_drive
from dcops.bmc.redfish.tasks import Pacing, task_pause
from dcops.errors import ApplyError


def test_dell_drive_raid_state_comes_from_the_oem_block() -> None:
    # Quirk (Dell iDRAC9): Ready / Non-RAID / Online / Spare only in Oem.Dell.DellPhysicalDisk.RaidStatus.
    doc = {"Id": "Disk.Bay.2:Enclosure.Internal.0-1", "Oem": {"Dell": {"DellPhysicalDisk": {"RaidStatus": "Non-RAID"}}}}
    assert parse_drive(doc, "/d/2", 2, oem.by_name("dell")).state == "non-raid"
    assert parse_drive(doc, "/d/2", 2).state is None  # not a Dell: nobody reads Dell's block


@pytest.mark.parametrize(("to", "action"), [("non-raid", "ConvertToNonRAID"), ("raid", "ConvertToRAID")])
def test_dell_converts_drives_with_the_raid_service_action(to: str, action: str) -> None:
    uri, body = oem.by_name("dell").convert_drive("/redfish/v1/Systems/System.Embedded.1", "Disk.Bay.4", to)  # type: ignore[misc]
    assert uri == ("/redfish/v1/Systems/System.Embedded.1/Oem/Dell/DellRaidService/Actions/"
                   f"DellRaidService.{action}")
    assert body == {"PDArray": ["Disk.Bay.4"]}


def test_other_vendors_have_no_drive_conversion() -> None:
    assert oem.GENERIC.convert_drive("/redfish/v1/Systems/1", "Disk0", "raid") is None
    assert oem.by_name("hpe").convert_drive("/redfish/v1/Systems/1", "Disk0", "raid") is None


def test_bios_apply_time_defaults_to_on_reset_only() -> None:
    assert choose_apply_time(("Immediate", "OnReset"), None) == "OnReset"
    # A maintenance window would not apply at the reset that follows: send no apply time.
    assert choose_apply_time(("AtMaintenanceWindowStart", "Immediate"), None) is None
    assert choose_apply_time((), None) is None
    with pytest.raises(ApplyError):
        choose_apply_time(("OnReset",), "Immediate")


def test_task_pause_follows_percent_complete() -> None:
    pacing = Pacing(poll=2.0)
    assert task_pause(pacing, None, 10.0) == 2.0
    assert task_pause(pacing, None, 10.0, retry=0.5) == 0.5
    assert task_pause(pacing, 50, 20.0) == 16.0  # 20 s for half: ~20 s left, 80 % of it
    assert task_pause(pacing, 10, 100.0) == 20.0  # at most 10 polls
