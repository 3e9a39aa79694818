"""$select on the inventory tier, end to end through the fleet reader: over dcops sim (every vendor
flavour whose capture advertises SelectQuery) the inventory reads the same Observation in fewer
bytes; a BMC that refuses $select with $expand (OpenBMC bmcweb, sim trait select-no-expand) costs
one refused request once and is read as before; a service that does not advertise it (sushy-tools,
a real third-party Redfish service; the sim's Huawei iBMC) is never sent it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.observation import Observation
from dcops.secrets import Secret
from tests.helpers.simfleet import fleet
from tests.integration.bmc.conftest import PASSWORD, USER, Sushy, _sushy

pytestmark = pytest.mark.timeout(120)
INVENTORY = ("components", "sensors", "firmware", "logs")


def _visits(target: Target, select: bool, times: int = 2) -> tuple[list[tuple[int, int, Observation]], list[str]]:
    """``times`` inventory visits: (requests, bytes of the documents read, observation) each, and
    the paths of the last one."""

    async def run() -> tuple[list[tuple[int, int, Observation]], list[str]]:
        reader = RedfishFleet(concurrency=4, select=select)
        reader.trace = {}
        out = []
        for _ in range(times):
            sizes: list[int] = []

            def count(_path: str, doc: dict[str, Any], seen: list[int] = sizes) -> None:
                seen.append(len(orjson.dumps(doc)))

            visit = await reader.visit(target, sections=INVENTORY, refresh=True, on_document=count)
            assert visit.observation is not None, visit.error
            out.append((visit.requests, sum(sizes), visit.observation))
        paths = reader.trace[target.host]
        await reader.close()
        return out, paths

    return asyncio.run(run())


def _same(a: Observation, b: Observation) -> None:
    def shape(o: Observation) -> Any:
        # Sensor readings are live (the simulator's wobble every 10 s, and two visits a few seconds
        # apart may straddle one): which sensors, their thresholds and health are what must match.
        sensors = [(s.kind, s.name, s.chassis, s.units, s.thresholds, s.health, s.state, s.source) for s in o.sensors]
        return orjson.loads(orjson.dumps([o.identity, o.components, o.firmware, sensors, o.redundancy,
                                          o.conditions], default=repr))

    assert shape(a) == shape(b)
    assert not a.errors and not b.errors


@pytest.mark.parametrize("profile", ["dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13",
                                     "generic-1s+select-no-expand", "huawei-2288hv5"])
def test_select_reads_the_same_inventory_in_fewer_bytes(profile: str) -> None:
    with fleet(1, (profile,)) as sim:
        target = Target("h1", sim.url(0), sim.username, Secret(sim.password), verify_tls=False)
        plain, plain_paths = _visits(target, select=False)
        chosen, chosen_paths = _visits(target, select=True)
    for (_, _, a), (_, _, b) in zip(plain, chosen, strict=True):
        _same(a, b)
    assert not any("$select" in p for p in plain_paths)
    (first_plain, bytes_plain, _), (again_plain, _, _) = plain
    (first, bytes_chosen, _), (again, _, _) = chosen
    if profile.startswith("huawei"):  # iBMC 3.12 advertises no query option: never sent
        assert not any("$select" in p for p in chosen_paths) and (first, again) == (first_plain, again_plain)
    elif profile.endswith("select-no-expand"):  # refused once (400), then never asked again
        assert first == first_plain + 1 and again == again_plain
        assert not any("$select" in p for p in chosen_paths)
    else:  # one member read in full to check the service's $select, once per BMC
        assert first == first_plain + 1 and again == again_plain
        selected = {p.split("?", 1)[0].rsplit("/", 1)[-1].lower() for p in chosen_paths if "$select" in p}
        assert {"memory", "processors", "firmwareinventory"} <= selected <= {*selected, "drives"}
        assert bytes_chosen < bytes_plain, (bytes_chosen, bytes_plain)


@pytest.fixture
def open_sushy(tmp_path: Path) -> Iterator[Sushy]:
    """sushy-tools without its htpasswd: it has no SessionService, and with basic auth on it answers
    the fleet reader's session POST 401, which the reader takes for refused credentials (it does
    not try basic auth then, so as not to lock accounts out)."""
    yield from _sushy(tmp_path, "SUSHY_EMULATOR_AUTH_FILE = None\n")


def test_sushy_tools_advertises_no_select_and_is_not_sent_it(open_sushy: Sushy) -> None:
    target = Target("node-1", open_sushy.url, USER, Secret(PASSWORD), verify_tls=False)
    chosen, paths = _visits(target, select=True, times=1)
    assert paths and not any("$select" in p for p in paths)
    assert chosen[0][2].identity.uuid == "00000000-0000-0000-0000-000000000001"


def test_a_select_that_drops_what_it_was_asked_for_is_caught_and_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service whose $select loses a complex property (here every member's Status: the health of
    every DIMM, CPU, drive) must not make parts healthy by omission: the one-time check against a
    member read in full catches it, and the BMC is read without $select from then on."""
    from dcops.sim import server

    faithful = server._select

    def lossy(value: Any, paths: list[str], top: bool = False) -> Any:
        out = faithful(value, paths, top)
        for member in out.get("Members", []) if isinstance(out, dict) else []:
            member.pop("Status", None)
        return out

    monkeypatch.setattr(server, "_select", lossy)
    with fleet(1, ("dell-r750",)) as sim:
        target = Target("h1", sim.url(0), sim.username, Secret(sim.password), verify_tls=False)
        plain, _ = _visits(target, select=False)
        chosen, paths = _visits(target, select=True)
    for (_, _, a), (_, _, b) in zip(plain, chosen, strict=True):
        _same(a, b)
    assert sum("$select" in p for p in paths) == 0  # the second visit no longer asks
    assert chosen[0][0] == plain[0][0] + 2  # the refused answer and the member read to check it
