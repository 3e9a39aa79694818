"""A first visit asks for part collections with $expand when the service root advertises it,
recognising them by the name they are linked under (dcops/bmc/redfish/keys.py EXPAND_SEGMENTS),
and reads the same parts as a visit without $expand."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.secrets import Secret
from dcops.sim.fleet import FleetSpec
from dcops.sim.records import Timings
from dcops.sim.testing import ThreadedFleet


@pytest.mark.parametrize("profile", ["dell", "hpe", "lenovo", "supermicro"])
def test_first_inventory_visit_expands_part_collections(profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dcops.bmc.redfish import fleet as fleet_module

    advertised = fleet_module.expand_supported

    with ThreadedFleet(FleetSpec(hosts=1, profiles=(profile,), timings=Timings.preset("fast"))) as sim:
        tgt = Target("h1", sim.url(0), sim.username, Secret(sim.password), verify_tls=False)

        async def first_visit(expand: bool) -> tuple[list[str], object]:
            # Without: as for a BMC whose service root does not advertise $expand.
            monkeypatch.setattr(fleet_module, "expand_supported", advertised if expand else (lambda _root: False))
            fleet = RedfishFleet(concurrency=4)
            fleet.trace = {}
            visit = await fleet.visit(tgt, sections=("components", "firmware"), refresh=True)
            await fleet.close()
            assert visit.observation is not None, visit.error
            return fleet.trace["h1"], visit.observation

        expanded_paths, expanded = asyncio.run(first_visit(True))
        plain_paths, plain = asyncio.run(first_visit(False))
    assert any("$expand" in p for p in expanded_paths)
    assert len(expanded_paths) < len(plain_paths), (len(expanded_paths), len(plain_paths))
    assert len(plain.components) > 5  # type: ignore[attr-defined]

    def key(c: Any) -> tuple[Any, ...]:
        return (c.kind, c.location, c.serial or "", c.model or "")

    assert sorted(map(key, expanded.components)) == sorted(map(key, plain.components))  # type: ignore[attr-defined]
    assert sorted(map(repr, expanded.firmware)) == sorted(map(repr, plain.firmware))  # type: ignore[attr-defined]
