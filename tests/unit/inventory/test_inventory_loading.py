"""Inheritance along file -> site -> room -> rack -> host, origins, racks and the Inventory API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from dcops.errors import UsageError
from dcops.inventory import Inventory, load_inventory, load_inventory_text
from dcops.models import Protocol
from tests.unit.inventory.paths import SITE

LAYERED = """\
version: 1
defaults:
  bmc: {protocol: ipmi, username: root, password: env:BMC_PW}
  tags: [prod]
  asset: {supplier: Acme}
sites:
  - name: sh1
    defaults: {az: az1, tags: [sh], asset: {contract: C-1}}
    rooms:
      - name: r1
        defaults: {az: az2, bmc: {username: admin}}
        racks:
          - name: A01
            height: 48
            defaults: {role: db, tags: [prod, rackA]}
            hosts:
              - name: h1
                u: 47
                u_height: 2
                bmc: {address: 10.0.0.1, protocol: redfish}
                tags: [trading]
                asset: {serial: S1, purchase_date: 2023-05-01, warranty_end: "2028-04-30"}
              - name: h2
                u: 1
                role: web
                bmc: {address: 10.0.0.2, password: file:/etc/bmc.pw}
hosts:
  - name: flat-1
    site: sh1
    room: r1
    rack: A01
    u: 20
    bmc: {address: 10.0.0.3}
"""


@pytest.fixture
def book(write: Callable[..., Path]) -> Inventory:
    return load_inventory(write("layered.yaml", LAYERED))


def test_scalars_override_mappings_merge_tags_accumulate(book: Inventory) -> None:
    h1 = book.get("h1")
    assert h1.az == "az2"  # room beats site
    assert h1.role == "db"  # from the rack
    assert h1.bmc.protocol is Protocol.REDFISH  # host beats file
    assert h1.bmc.username == "admin"  # room, key by key: the file's password stays
    assert h1.bmc.password_ref == "env:BMC_PW"
    assert h1.tags == ("prod", "sh", "rackA", "trading")  # union, first-seen order
    assert (h1.asset.supplier, h1.asset.contract, h1.asset.serial) == ("Acme", "C-1", "S1")
    assert (h1.asset.purchase_date, h1.asset.warranty_end) == (dt.date(2023, 5, 1), dt.date(2028, 4, 30))
    assert (h1.location.site, h1.location.room, h1.location.rack, h1.location.u, h1.location.u_height) == (
        "sh1", "r1", "A01", 47, 2)
    h2 = book.get("h2")
    assert (h2.role, h2.bmc.password_ref, h2.bmc.protocol) == ("web", "file:/etc/bmc.pw", Protocol.IPMI)


def test_flat_hosts_inherit_only_the_file_defaults(book: Inventory) -> None:
    flat = book.get("flat-1")
    assert (flat.az, flat.role, flat.tags, flat.bmc.username) == (None, None, ("prod",), "root")
    assert str(flat.location) == "sh1/r1/A01 U20"


def test_hosts_are_in_file_order_with_their_source_line(book: Inventory) -> None:
    assert [(h.name, h.source.line) for h in book.hosts] == [("h1", 17), ("h2", 23), ("flat-1", 28)]


def test_origins_say_where_each_value_was_defined(book: Inventory) -> None:
    origins = book.origins("h1")
    assert (origins["az"].level, origins["az"].source.line) == ("room r1", 11)
    assert (origins["bmc.username"].level, origins["bmc.password"].level) == ("room r1", "file")
    assert (origins["role"].level, origins["bmc.address"].level) == ("rack A01", "host")
    assert not origins["bmc.address"].inherited and origins["role"].inherited
    assert (origins["site"].level, origins["site"].source.line) == ("structure", 7)
    assert "bmc.port" not in origins  # left at its default


def test_racks_keep_their_height(book: Inventory) -> None:
    assert [(str(r), r.height) for r in book.racks] == [("sh1/r1/A01", 48)]


def test_get_suggests_close_names(book: Inventory) -> None:
    with pytest.raises(UsageError, match=r"no host 'h3' in the inventory \(did you mean h[12], h[12]\?\)"):
        book.get("h3")
    with pytest.raises(UsageError):
        book.origins("nope")
    assert "h1" in book and "nope" not in book and len(book) == 3


def test_same_site_in_two_files_merges(write: Callable[..., Path]) -> None:
    a = write("a.yaml", """\
        version: 1
        sites: [{name: sh1, rooms: [{name: r1, racks: [{name: A01, hosts: [{name: a1, u: 1, bmc: {address: 10.0.0.1}}]}]}]}]
        """)
    b = write("b.yaml", """\
        version: 1
        sites: [{name: sh1, rooms: [{name: r1, racks: [{name: A01, hosts: [{name: b1, u: 2, bmc: {address: 10.0.0.2}}]}]}]}]
        """)
    book = load_inventory([a, b])
    assert [h.name for h in book.select("rack=A01")] == ["a1", "b1"]


def test_racks_of_different_height_in_two_files_is_a_problem(write: Callable[..., Path]) -> None:
    a = write("a.yaml", "version: 1\nsites: [{name: s, rooms: [{name: r, racks: [{name: A, height: 42}]}]}]\n")
    b = write("b.yaml", "version: 1\nsites: [{name: s, rooms: [{name: r, racks: [{name: A, height: 48}]}]}]\n")
    from dcops.errors import InvalidInputError

    with pytest.raises(InvalidInputError) as caught:
        load_inventory([a, b])
    assert [str(p) for p in caught.value.problems] == [f"{b}:2: rack s/r/A is 48U here but 42U at {a}:2"]


def test_load_inventory_text_names_the_given_file() -> None:
    from dcops.errors import InvalidInputError

    with pytest.raises(InvalidInputError) as caught:
        load_inventory_text("version: 1\nhosts: [{name: x}]\n", "gen.yaml")
    assert str(caught.value.problems[0]) == "gen.yaml:2: host 'x': missing bmc.address"


def test_example_site_is_realistic() -> None:
    book = load_inventory(SITE)
    assert len(book.hosts) >= 40 and len(book.racks) >= 8
    assert {h.az for h in book.hosts} == {"az1", "az2", "az3"}
    assert {h.role for h in book.hosts} == {"db", "web", "compute", "storage", "trading"}
    assert any(h.location.u_height == 2 for h in book.hosts)
    assert all(h.bmc.password_ref == "env:DCOPS_BMC_PASSWORD" for h in book.hosts)
    today = dt.date(2026, 11, 1)
    soon = [h for h in book.hosts if 0 <= (h.asset.warranty_days_left(today) or -1) <= 120]
    assert soon, "some warranties should end within months of 2026-11"
    serials = [h.asset.serial for h in book.hosts]
    assert len(set(serials)) == len(serials) and None not in serials


def test_bmc_system_pins_the_host_system_of_a_multi_node_bmc() -> None:
    """Two nodes of one blade behind one BMC address: each host pins its own ComputerSystem
    (issue 12); the pin round-trips through the flat form."""
    from dcops.inventory.schema import build_host, flatten_host

    text = """\
version: 1
hosts:
  - name: blade-n0
    bmc: {address: 10.0.0.9, username: root, password: env:BMC_PW, system: Node0}
  - name: blade-n1
    bmc: {address: 10.0.0.9, port: 443, username: root, password: env:BMC_PW, system: Node1}
"""
    inv = load_inventory_text(text, "book.yaml")
    assert [h.bmc.system for h in inv.hosts] == ["Node0", "Node1"]
    host = inv.hosts[1]
    assert build_host(flatten_host(host)).bmc.system == "Node1"
