"""RAID and hot spares against sushy-tools (a third-party Redfish service) as far as it goes. With
its config-backed Storage it lists a controller and its drives (every drive "Global" spare, from its
template); its Volumes are libvirt-backed, so with the fake driver a create answers 500, drives take
no PATCH (no unspare), and it has no way to bind a spare and no RAID state on its drives. dcops reads the controller and plans from the target state; what the service cannot
do is said before any write (a dedicated spare: "cannot apply"; disk states: unverified), and a
create the service refuses is an ApplyError naming the BMC's answer, never a silent success."""

from __future__ import annotations

import pytest

from dcops.baseline.diff import diff_raid
from dcops.baseline.models import DiskState, RaidTemplate, VirtualDisk
from dcops.errors import ApplyError
from tests.integration.bmc.conftest import Sushy
from tests.integration.bmc.test_sushy import dev

pytestmark = pytest.mark.timeout(60)


def test_sushy_raid_plan_says_what_cannot_be_done_before_any_write(sushy_storage: Sushy) -> None:
    with dev(sushy_storage) as bmc:
        (ctrl,) = [c for c in bmc.raid.controllers() if c.drives]
        assert [d.id for d in ctrl.drives] == ["D0", "D1", "D2", "D3"]
        # sushy-tools' drive template says HotspareType "Global" for every drive: taken as said.
        assert ctrl.volumes == () and all(d.state is None and d.hotspare == "global" for d in ctrl.drives)
        assert ctrl.spare_binding is None  # no writable DedicatedSpareDrives, no vendor action
        spare = RaidTemplate("sushy", (VirtualDisk("OS", "RAID1", (0, 1), dedicated_spares=(2,)),),
                             unused_disks=DiskState.NON_RAID)
        changes, problems, unverified = diff_raid(spare, [ctrl])
        assert any("cannot apply" in p and "dedicated spare" in p for p in problems), problems
        assert [u for u in unverified if "disk state non-raid" in u] == ["raid bay 3: disk state non-raid "
                                                                         "(the BMC does not report it)"]
        plain = RaidTemplate("plain", (VirtualDisk("OS", "RAID1", (0, 1)),))
        changes, problems, _ = diff_raid(plain, [ctrl])
        # Planned from the target: the two "spares" released first, then the volume made of them.
        assert [(c.action, c.target) for c in changes] == [("unspare", "bay 0"), ("unspare", "bay 1"),
                                                           ("create", "OS")] and not problems
        # The service takes none of it: each refusal is an error naming its answer, nothing changes.
        with pytest.raises(ApplyError):
            bmc.raid.set_hotspare(str(changes[0].detail["drive_uri"]), "none")
        d = changes[-1].detail
        with pytest.raises(ApplyError, match="BMC said"):  # sushy fake driver: 500 GeneralError
            bmc.raid.create_volume(str(d["controller"]), "RAID1", [str(u) for u in d["drive_uris"]])
        after = next(c for c in bmc.raid.controllers() if c.drives)
        assert after.volumes == () and all(x.hotspare == "global" for x in after.drives)
