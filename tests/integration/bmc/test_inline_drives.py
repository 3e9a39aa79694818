"""A Storage's drives read inline with ``$expand`` on the inventory tier, end to end through the
fleet reader (as patrol uses it): over dcops sim the parts, a failed drive's health included, are
exactly those of the drives read one by one, in fewer requests; a service that ignores ``$expand``
on a resource that is not a collection (DMTF Redfish-Mockup-Server; sim trait
``expand-collections-only``), and sushy-tools, a real Redfish service that ignores every query
option, cost one request once and are read one by one from then on."""

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
from tests.integration.bmc.conftest import PASSWORD, STORAGE_CONF, USER, Sushy, _sushy

pytestmark = pytest.mark.timeout(180)
INVENTORY = ("components", "sensors", "firmware", "logs")


def _visits(target: Target, inline: bool, times: int = 2) -> tuple[list[tuple[int, Observation]], list[str], Any]:
    """``times`` inventory visits of one reader: (requests, observation) each, the paths of the last,
    and what the reader learnt of the BMC's Storage $expand."""

    async def run() -> tuple[list[tuple[int, Observation]], list[str], Any]:
        reader = RedfishFleet(concurrency=4, inline=inline)
        reader.trace = {}
        out = []
        for _ in range(times):
            visit = await reader.visit(target, sections=INVENTORY, refresh=True)
            assert visit.observation is not None, visit.error
            out.append((visit.requests, visit.observation))
        paths = reader.trace[target.host]
        memory = reader.state(target).drives
        await reader.close()
        return out, paths, memory

    return asyncio.run(run())


def _parts(obs: Observation) -> Any:
    parts = orjson.loads(orjson.dumps(obs.components, default=repr))
    return sorted(parts, key=lambda p: orjson.dumps(p, option=orjson.OPT_SORT_KEYS))


def _storage_expands(paths: list[str]) -> list[str]:
    return [p for p in paths if "$expand" in p and "/storage/" in p.lower()
            and not p.lower().split("?")[0].endswith(("/volumes", "/controllers", "/storage", "/drives"))]


@pytest.mark.parametrize(("profile", "fault"), [
    ("dell-r750", None), ("dell-r750", "drive_fail"), ("hpe-dl360-gen10p", "drive_predictive"),
    ("lenovo-sr650v2", None), ("supermicro-x13", None),
])
def test_the_drives_inline_are_the_drives_read_one_by_one(profile: str, fault: str | None) -> None:
    with fleet(1, (profile,)) as sim:
        if fault:
            sim.control.post("/v1/faults", {"hosts": [sim.fleet.hosts[0].name], "kind": fault, "args": {}})
        target = Target("h1", sim.url(0), sim.username, Secret(sim.password), verify_tls=False)
        one_by_one, plain_paths, _ = _visits(target, inline=False)
        inline, paths, memory = _visits(target, inline=True)
    for (_, a), (_, b) in zip(one_by_one, inline, strict=True):
        assert _parts(a) == _parts(b)
        assert not b.errors
    drives = [c for c in inline[-1][1].components if c.kind.value == "drive"]
    if fault:  # the fault is read the same way inline
        assert any(c.health.value != "ok" or c.extra.get("FailurePredicted") for c in drives)
    assert not _storage_expands(plain_paths) and _storage_expands(paths)
    assert memory.state is True
    (first_plain, _), (again_plain, _) = one_by_one
    (first, _), (again, _) = inline
    # one request for a Storage's drives (and, once per BMC, one drive read to check the answer)
    assert first < first_plain and again < again_plain, (first, first_plain, again, again_plain)
    print(profile, fault, f"{len(drives)} drives: requests {first_plain}/{again_plain} one by one, "
          f"{first}/{again} inline")


def test_a_service_that_expands_collections_only_is_asked_once() -> None:
    with fleet(1, ("generic-1s+expand-collections-only",)) as sim:
        target = Target("h1", sim.url(0), sim.username, Secret(sim.password), verify_tls=False)
        one_by_one, _, _ = _visits(target, inline=False)
        inline, paths, memory = _visits(target, inline=True)
    for (_, a), (_, b) in zip(one_by_one, inline, strict=True):
        assert _parts(a) == _parts(b)
    assert memory.state is False and "without the drives inline" in (memory.why or "")
    (first_plain, _), (again_plain, _) = one_by_one
    (first, _), (again, _) = inline
    assert first == first_plain + 1 and again == again_plain  # the ignored answer, once
    assert not _storage_expands(paths)


@pytest.fixture
def open_sushy_storage(tmp_path: Path) -> Iterator[Sushy]:
    """sushy-tools with a storage controller and four drives, without its htpasswd (no
    SessionService: read with basic auth)."""
    yield from _sushy(tmp_path, STORAGE_CONF + "SUSHY_EMULATOR_AUTH_FILE = None\n")


def test_sushy_tools_is_never_asked_and_ignores_it_when_asked(open_sushy_storage: Sushy,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    target = Target("node-1", open_sushy_storage.url, USER, Secret(PASSWORD), verify_tls=False)
    plain, paths, memory = _visits(target, inline=True, times=2)
    assert not _storage_expands(paths) and memory.state is None  # it advertises no ExpandQuery
    # Its four drives are read one GET each (they carry one serial, so they make one part).
    assert sum("/drives/" in p.lower() for p in paths) == 4, paths  # (the last visit's)
    # Were it to advertise it: sushy-tools answers every query option with the plain document.
    from dcops.bmc.redfish import read

    monkeypatch.setattr(read, "expand_supported", lambda _root: True)
    asked, asked_paths, memory = _visits(target, inline=True, times=2)
    assert len(_storage_expands(asked_paths)) == 0 and memory.state is False  # asked once, then not
    for _, obs in asked:
        assert _parts(obs) == _parts(plain[0][1])
    assert asked[0][0] == plain[0][0] + 1 and asked[1][0] == plain[1][0]
