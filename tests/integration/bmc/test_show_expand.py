"""``bmc show`` (the one-host read, ``RedfishInventory.observe``) reads collections with their
members inlined and a Storage's drives inline where the service root advertises ``$expand``, as
the patrol's inventory tier does: the same observation in a fraction of the requests. Before, it
read every member with its own GET (a sim Dell R750: 70 requests; at a real iDRAC's 0.3-1 s a
request, an operator waited 20-70 s). The reference here is the same read member by member
(``expand=False``) on the same BMC; services that fail or ignore ``$expand`` (sim traits after
Dell iDRAC and the DMTF mockup server) still give the whole observation."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.bmc.redfish.docs import run_sync
from dcops.bmc.redfish.read import read_observation
from dcops.observation import Observation
from tests.helpers.simfleet import device, fleet, requests

pytestmark = pytest.mark.timeout(120)


def _shape(obs: Observation) -> dict[str, Any]:
    """What an operator reads of an observation, less the readings that move minute to minute."""
    return {
        "identity": (obs.identity.manufacturer, obs.identity.model, obs.identity.serial, obs.identity.health),
        "parts": sorted((c.kind.value, c.location, c.serial or "", c.model or "", c.health.value, c.firmware or "")
                        for c in obs.components),
        "sensors": sorted((s.key, s.health.value) for s in obs.sensors),
        "firmware": sorted((f.name, f.version) for f in obs.firmware),
        "logs": [e.id for e in obs.log_entries],
        "errors": [(e.what, e.reason) for e in obs.errors],
    }


def _gets(sim: Any, index: int) -> int:
    return sum(1 for _, _, method, _, _, _ in requests(sim, index) if method == "GET")


@pytest.mark.parametrize("profile", [
    "dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13",
    "dell-r750+expand-license-error", "lenovo-sr650v2+expand-not-found",
    "hpe-dl360-gen10p+expand-collections-only",
])
def test_bmc_show_reads_the_same_observation_in_a_fraction_of_the_requests(profile: str) -> None:
    with fleet(1, (profile,)) as sim:
        with device(sim, 0) as dev:
            one_by_one = run_sync(read_observation(dev.inventory.host, expand=False),  # type: ignore[attr-defined]
                                  dev.inventory.s.fetch)  # type: ignore[attr-defined]
        before = _gets(sim, 0)
        with device(sim, 0) as dev:
            shown = dev.inventory.observe()
        inlined = _gets(sim, 0) - before
    assert shown.errors == () and not shown.unreadable, (shown.errors, shown.unreadable)
    assert _shape(shown) == _shape(one_by_one)
    # At least half the requests saved, on every flavour and every $expand behaviour.
    assert inlined * 2 <= one_by_one.requests, (profile, inlined, one_by_one.requests)
    print(profile, "bmc show GETs:", one_by_one.requests, "one by one,", inlined, "inlined")


def test_bmc_show_reads_as_many_log_entries_as_asked() -> None:
    """``--logs N`` reaches the read (it stopped at the reader's default of 20 before)."""
    with fleet(1, ("dell-r750",)) as sim, device(sim, 0) as dev:
        everything = dev.inventory.observe({"logs"}, log_limit=1000)
        one = dev.inventory.observe({"logs"}, log_limit=1)
    assert len(everything.log_entries) >= 2, everything.log_entries
    assert len(one.log_entries) == 1 and one.log_entries[0].id in {e.id for e in everything.log_entries}


@pytest.mark.parametrize("profile", ["dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2+expand-not-found"])
def test_firmware_and_raid_plans_read_the_same_in_fewer_requests(profile: str) -> None:
    """The firmware baseline's and the RAID template's one-host reads (``Shared.observe``, as
    ``bmc show``): the same firmware inventory and volumes as read member by member."""
    with fleet(1, (profile,)) as sim, device(sim, 0) as dev:
        shared = dev.inventory.s  # type: ignore[attr-defined]
        by_one = run_sync(read_observation(shared.conn.host, sections={"firmware", "components"}, expand=False),
                          shared.fetch)
        before = _gets(sim, 0)
        firmware = dev.firmware.inventory()
        firmware_gets = _gets(sim, 0) - before
        before = _gets(sim, 0)
        volumes = dev.raid.volumes()
        raid_gets = _gets(sim, 0) - before
    assert sorted((f.name, f.version) for f in firmware) == sorted((f.name, f.version) for f in by_one.firmware)
    assert firmware
    expected = sorted(c.location for c in by_one.components if c.kind.value == "volume")
    assert expected and sorted(v["location"] for v in volumes) == expected
    print(profile, "firmware inventory GETs:", firmware_gets, "RAID volumes GETs:", raid_gets,
          "one by one, both:", by_one.requests)
    assert firmware_gets + raid_gets < by_one.requests
