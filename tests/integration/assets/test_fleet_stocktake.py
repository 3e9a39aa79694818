"""A 1,000-host simulated fleet and a book with planted errors: reconcile finds every planted
discrepancy and nothing else (precision and recall 100 %), and history shows the replaced and moved
parts.

How errors are planted:

* the book: `dcops sim up --write-inventory` writes the fleet's true book; the test mutates a copy
  (wrong serials, swapped locations, rows removed and invented, a duplicate serial, placeholder
  serials, a wrong model);
* the hardware: the simulator derives part serials from a hash and offers no way to swap a part,
  so the replaced DIMM, the moved disk and a BMC that reports a placeholder serial are planted by
  mutating a copy of the first collection's snapshots and storing it as a second collection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.assets import store as asset_store
from dcops.assets.collect import collect_fleet
from dcops.assets.correct import correct_book
from dcops.assets.history import EventKind
from dcops.assets.model import AssetSnapshot, Hardware, PartKind
from dcops.assets.profiles import parse_profiles
from dcops.assets.reconcile import Kind, book_entry, reconcile
from dcops.inventory import dump_inventory_text, load_inventory, load_inventory_text
from dcops.models import AssetRecord, BmcEndpoint, Host, Location
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from dcops.store import open_store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
HOSTS = 1000
PASSWORD_ENV = "DCOPS_TEST_FLEET_BMC_PW"
PROFILES = """
profiles:
  dell-r750: {cpus: 2, cpu_model: "*Gold 6338*", dimms: 16, memory: 512GiB, drives: [2 x 960GB, 6 x 2.4TB]}
  hpe-dl360-gen10p: {cpus: 2, cpu_model: "*Gold 6338*", dimms: 16, memory: 512GiB, drives: [2 x 960GB, 6 x 480GB]}
  lenovo-sr650v2: {cpus: 2, cpu_model: "*Gold 5318Y*", dimms: 32, memory: 1TiB, drives: [2 x 960GB, 4 x 2.4TB]}
  supermicro-x13: {cpus: 2, cpu_model: "*Gold 6430*", dimms: 16, memory: 512GiB, drives: [4 x 3.84TB]}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedFleet, Path]]:
    directory = tmp_path_factory.mktemp("fleet")
    with ThreadedFleet(FleetSpec(hosts=HOSTS), control=False) as sim:
        path = directory / "fleet.yaml"
        sim.fleet.write_inventory(path, f"env:{PASSWORD_ENV}")
        yield sim, path


def name(i: int) -> str:
    return f"sim-{i + 1:04d}"


def test_stocktake_of_a_1000_host_fleet(fleet: tuple[ThreadedFleet, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sim, inventory_path = fleet
    monkeypatch.setenv(PASSWORD_ENV, sim.password)
    truth = load_inventory(inventory_path)
    assert len(truth.hosts) == HOSTS

    # --- collect over the BMCs (asyncio path), store as the first collection
    started = time.perf_counter()
    outcomes = collect_fleet(truth.hosts, concurrency=200, deadline=120)
    collect_seconds = time.perf_counter() - started
    assert [o.error for o in outcomes if o.error] == []
    print(f"\ncollected {HOSTS} simulated BMCs in {collect_seconds:.1f} s "
          f"({sum(o.requests for o in outcomes) / HOSTS:.0f} requests per BMC)")
    store = open_store(f"sqlite:///{tmp_path}/state.db")
    first = sorted((o.snapshot for o in outcomes if o.snapshot is not None), key=lambda s: s.host)
    t0 = first[0].taken_at
    assert asset_store.save_collection(store, first) == []  # first sight: no events

    profiles = parse_profiles(__import__("yaml").safe_load(PROFILES))
    clean = reconcile([book_entry(h) for h in truth.hosts], first, profiles=profiles)
    assert clean.discrepancies == [], [d.to_json() for d in clean.discrepancies[:5]]

    # --- plant hardware changes in a second collection
    later = t0 + dt.timedelta(days=30)
    by_host = {s.host: dataclasses.replace(s, taken_at=later) for s in first}

    def with_parts(snap: AssetSnapshot, parts: list) -> AssetSnapshot:  # type: ignore[type-arg]
        return dataclasses.replace(snap, parts=tuple(parts), hardware=Hardware.of(parts))

    dimm_host = name(10)
    parts = list(by_host[dimm_host].parts)
    dimm_at = next(i for i, p in enumerate(parts) if p.kind is PartKind.DIMM)
    old_dimm = parts[dimm_at]
    parts[dimm_at] = dataclasses.replace(old_dimm, serial="NEWDIMM0001")
    by_host[dimm_host] = with_parts(by_host[dimm_host], parts)

    disk_from, disk_to = name(20), name(24)  # both dell-r750: 8 bays
    parts = list(by_host[disk_from].parts)
    disk = [p for p in parts if p.kind is PartKind.DRIVE][-1]
    parts.remove(disk)
    by_host[disk_from] = with_parts(by_host[disk_from], parts)
    moved = dataclasses.replace(disk, slot=disk.slot.rsplit("/", 1)[0] + "/Disk.Bay.8")
    by_host[disk_to] = with_parts(by_host[disk_to], [*by_host[disk_to].parts, moved])

    junk_bmc = name(510)  # its BMC now reports a placeholder serial: it cannot contradict the book
    by_host[junk_bmc] = dataclasses.replace(by_host[junk_bmc], serial=None, raw_serial="To be filled by O.E.M.",
                                            chassis_serial=None, sku=None)
    second = [by_host[h] for h in sorted(by_host)]
    events = asset_store.save_collection(store, second)
    got_events = sorted((e.event.value, e.part_kind.value, e.host, e.serial, e.old_serial, e.from_host)
                        for e in events)
    assert got_events == sorted([
        ("replaced", "dimm", dimm_host, "NEWDIMM0001", old_dimm.serial, None),
        ("moved", "drive", disk_to, disk.serial, None, disk_from),
    ])

    # --- the book with planted errors
    hosts = {h.name: h for h in truth.hosts}
    expected: set[tuple[str, str | None, str | None, str | None]] = set()

    def set_serial(i: int, serial: str) -> None:
        h = hosts[name(i)]
        hosts[h.name] = dataclasses.replace(h, asset=dataclasses.replace(h.asset, serial=serial))

    for i in (100, 101, 102):  # wrong serials
        set_serial(i, f"WRONG{i:05d}")
        expected.add((Kind.SERIAL.value, name(i), name(i), "serial"))
    a, b = hosts[name(200)], hosts[name(204)]  # swapped locations (same profile, same height)
    hosts[a.name] = dataclasses.replace(a, location=b.location)
    hosts[b.name] = dataclasses.replace(b, location=a.location)
    expected |= {(Kind.LOCATION.value, a.name, a.name, "location"), (Kind.LOCATION.value, b.name, b.name, "location")}
    for i in (300, 301):  # servers missing from the book
        del hosts[name(i)]
        expected.add((Kind.UNEXPECTED.value, None, name(i), "serial"))
    for n in (1, 2):  # rows for servers that do not exist
        ghost = Host(name=f"ghost-{n}", bmc=BmcEndpoint(address=f"10.99.0.{n}", scheme="http"),
                     location=Location(site="sim-dc1", room="room9", rack="Z01", u=n * 2),
                     vendor="Dell", model="PowerEdge R750", asset=AssetRecord(serial=f"GHOST{n:04d}"))
        hosts[ghost.name] = ghost
        expected.add((Kind.MISSING.value, ghost.name, None, None))
    set_serial(401, hosts[name(400)].asset.serial or "")  # a serial typed on two rows
    expected |= {(Kind.DUPLICATE_SERIAL.value, name(400), None, "serial"),
                 (Kind.SERIAL.value, name(401), name(401), "serial")}
    for i, junk in ((500, "To be filled by O.E.M."), (501, "To be filled by O.E.M."), (502, "0123456789"),
                    (503, "Default string")):
        set_serial(i, junk)
        expected.add((Kind.SERIAL.value, name(i), name(i), "serial"))
    h = hosts[name(600)]  # a dell-r750 booked as an R650
    hosts[h.name] = dataclasses.replace(h, model="PowerEdge R650")
    expected.add((Kind.MODEL.value, h.name, h.name, "model"))
    # The moved disk: one short on one server, one too many on the other (against the profile).
    expected |= {(Kind.HARDWARE.value, disk_from, disk_from, "drives"), (Kind.HARDWARE.value, disk_to, disk_to, "drives")}

    book_text = dump_inventory_text(list(hosts.values()), racks=truth.racks)
    book_path = tmp_path / "book.yaml"
    book_path.write_text(book_text)
    book = load_inventory(book_path)

    # --- reconcile from the stored snapshots
    snaps = asset_store.latest_snapshots(store)
    assert len(snaps) == HOSTS
    started = time.process_time()
    result = reconcile([book_entry(h) for h in book.hosts], snaps, profiles=profiles)
    print(f"reconciled {len(book.hosts)} rows x {len(snaps)} snapshots in {time.process_time() - started:.2f} s CPU")
    got = {(d.kind.value, d.host, d.observed, d.field) for d in result.discrepancies}
    assert got - expected == set(), "false positives (precision < 100 %)"
    assert expected - got == set(), "missed discrepancies (recall < 100 %)"
    assert len(result.discrepancies) == len(expected)
    decided = {m.book: m.decided_by for m in result.matches}
    assert decided[name(100)] == "bmc_address" and decided[name(500)] == "bmc_address"
    assert decided[name(510)] == "bmc_address"  # the BMC's placeholder serial was not used
    assert decided[name(0)] == "serial"

    # --- history shows the replaced and the moved part
    dimm_history = asset_store.part_events(store, host=dimm_host)
    assert [(e.event, e.serial, e.old_serial) for e in dimm_history] == [(EventKind.REPLACED, "NEWDIMM0001",
                                                                         old_dimm.serial)]
    assert disk.serial is not None
    disk_history = asset_store.part_events(store, serial=disk.serial)
    assert [(e.event, e.from_host, e.host) for e in disk_history] == [(EventKind.MOVED, disk_from, disk_to)]
    assert [(w["host"], w["present"]) for w in asset_store.where_is(store, disk.serial)] == [(disk_to, True)]
    assert [(e.event, e.host) for e in asset_store.part_events(store, host=disk_from)] == [(EventKind.MOVED, disk_to)]

    # --- the corrected book: serials and the model fixed (discovery owns them), locations kept
    # (the book owns them), the two servers not in the book added; it validates.
    corrected, corrections = correct_book(list(book.hosts), result, {s.host: s for s in snaps})
    fixed = load_inventory_text(dump_inventory_text(corrected, racks=book.racks), "corrected.yaml")
    by_name = {x.name: x for x in fixed.hosts}
    assert by_name[name(100)].asset.serial == truth.get(name(100)).asset.serial
    assert by_name[name(500)].asset.serial == truth.get(name(500)).asset.serial
    assert by_name[name(600)].model == "PowerEdge R750"
    assert by_name[name(200)].location == book.get(name(200)).location  # the book owns locations
    assert {name(300), name(301)} <= set(by_name) and "discovered" in by_name[name(300)].tags
    assert "ghost-1" in by_name  # never dropped
    assert any(c.field == "location" and not c.applied for c in corrections)
    store.close()
