"""A BMC that advertises ``$expand`` and fails it on a resource is still read in full: the failed
expanded answer is checked against the resource asked for plainly, and only when the plain read
works is ``$expand`` blamed (and not asked of that BMC again). Dell documents both classes (iDRAC9
Redfish API Guide 4.20, "Query parameters"): a sub-resource whose license or privilege is missing
fails the entire expanded output (sim trait ``expand-license-error``: 500 InternalError "No
sufficient LICENSE", as iDRAC8 2.63+ answers, bb-Ricardo/check_redfish#151), and ``$expand`` on a
URI that does not support it may answer 400/404/405 (sim trait ``expand-not-found``: 404). Before,
only 400/403/405/501 turned ``$expand`` off: a 404 or a 500 left the chassis unread every minute,
its sensors missing and its health unknown."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.observation import Health, Observation
from dcops.secrets import Secret
from tests.helpers.simfleet import fleet

pytestmark = pytest.mark.timeout(180)
MINUTE = ("sensors", "logs")
INVENTORY = ("components", "sensors", "firmware", "logs")


def _visits(target: Target, sections: tuple[str, ...], times: int) -> tuple[list[tuple[int, Observation]], Any]:
    async def run() -> tuple[list[tuple[int, Observation]], Any]:
        reader = RedfishFleet(concurrency=4)
        reader.trace = {}
        out = []
        for _ in range(times):
            visit = await reader.visit(target, sections=sections, refresh=sections == INVENTORY)
            assert visit.observation is not None, visit.error
            out.append((visit.requests, visit.observation))
        paths = reader.trace[target.host]
        await reader.close()
        return out, paths

    return asyncio.run(run())


@pytest.mark.parametrize("trait", ["expand-license-error", "expand-not-found"])
@pytest.mark.parametrize("profile", ["dell-r750", "lenovo-sr650v2"])
def test_a_failed_expand_is_blamed_only_once_the_plain_read_works(profile: str, trait: str) -> None:
    with fleet(2, (profile, f"{profile}+{trait}")) as sim:
        plain = Target("h0", sim.url(0), sim.username, Secret(sim.password), verify_tls=False)
        failing = Target("h1", sim.url(1), sim.username, Secret(sim.password), verify_tls=False)
        (inv_ok, *_), _ = _visits(plain, INVENTORY, 1)
        (inv_bad, *_), _ = _visits(failing, INVENTORY, 1)
        ok, _ = _visits(plain, MINUTE, 3)
        bad, paths = _visits(failing, MINUTE, 3)
    for (_, good), (_, obs) in zip([inv_ok, *ok], [inv_bad, *bad], strict=True):
        assert not obs.errors and not obs.unreadable, (obs.errors, obs.unreadable)
        assert obs.identity.health is Health.OK
        assert sorted(s.key for s in obs.sensors) == sorted(s.key for s in good.sensors)
        assert len(obs.components) == len(good.components)
    # Blamed once, then never asked again of a resource; collections (Lenovo's Sensors) still are.
    assert not [p for p in paths if "$expand" in p and len(p.split("?")[0].strip("/").split("/")) == 4
                and "/chassis/" in p.lower()], paths
    if profile.startswith("lenovo"):
        assert any("/sensors?$expand" in p.lower() for p in paths), paths
    # The price: the chassis' sub-resources (Thermal and Power, or their subsystems) one GET each.
    assert bad[-1][0] <= ok[-1][0] + 3, (bad[-1][0], ok[-1][0])
    print(profile, trait, "minute requests", [n for n, _ in ok], "plain,", [n for n, _ in bad], "failing $expand")


def test_expand_is_tried_again_on_the_inventory_tier() -> None:
    """Turned off after a failure, ``$expand`` of resources is tried again when an inventory visit
    reads the service root again: a failure that was passing (a busy BMC's 500) does not cost the
    BMC its expanded chassis for the life of the process; one that lasts costs a request then."""

    def chassis_expands(paths: list[str]) -> int:
        return sum("$expand" in p and len(p.split("?")[0].strip("/").split("/")) == 4 and "/chassis/" in p.lower()
                   for p in paths)

    async def run(target: Target) -> list[int]:
        reader = RedfishFleet(concurrency=4)
        counts = []
        for sections in (MINUTE, MINUTE, MINUTE, INVENTORY, MINUTE):
            reader.trace = {}
            visit = await reader.visit(target, sections=sections, refresh=sections == INVENTORY)
            assert visit.observation is not None and not visit.observation.errors, visit.error
            counts.append(chassis_expands(reader.trace[target.host]))
        await reader.close()
        return counts

    with fleet(1, ("dell-r750+expand-license-error",)) as sim:
        counts = asyncio.run(run(Target("h0", sim.url(0), sim.username, Secret(sim.password), verify_tls=False)))
    # cold (chassis read plainly to learn its type), the first try, then none until the inventory
    assert counts == [0, 1, 0, 1, 0], counts
