"""A rack's ``pdus:`` in the book (inventory.pdus): each host learns the PDUs feeding it; every
mistake is an error naming the file and line (and never echoes a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcops.inventory.loader import read_inventory

HEAD = """version: 1
sites:
  - name: dc1
    rooms:
      - name: r1
        racks:
          - name: A01
            pdus:
"""
HOSTS = """            hosts:
              - {name: h1, bmc: {address: 192.0.2.10}}
              - {name: h2, bmc: {address: 192.0.2.11}}
              - {name: h3, bmc: {address: 192.0.2.12}}
"""


def _load(tmp_path: Path, pdus: str) -> tuple[object, list[str]]:
    path = tmp_path / "book.yaml"
    path.write_text(HEAD + pdus + HOSTS)
    inventory, problems, _ = read_inventory(path)
    return inventory, [f"{Path(p.file).name}:{p.line}: {p.message}" for p in problems]


def test_rack_pdus_feed_their_hosts(tmp_path: Path) -> None:
    inventory, problems = _load(tmp_path, """\
              - name: pdu-a
                address: 192.0.2.40
                username: monitor
                password: env:PDU_PASSWORD
                verify_tls: false
                outlets: {h1: [A1, A2], h2: A3}
              - {name: pdu-b, address: 192.0.2.41, scheme: http, port: 8080, member: 2}
""")
    assert problems == []
    hosts = {h.name: h for h in inventory.hosts}  # type: ignore[attr-defined]
    assert [p.name for p in hosts["h1"].pdus] == ["pdu-a", "pdu-b"]
    assert [p.name for p in hosts["h3"].pdus] == ["pdu-b"]  # pdu-a does not feed it; pdu-b feeds the rack
    a, b = hosts["h1"].pdus
    assert a.feeds() == {"h1": ("A1", "A2"), "h2": ("A3",)}
    assert (a.rack, a.password, a.verify_tls, a.url) == ("dc1/r1/A01", "env:PDU_PASSWORD", False, "https://192.0.2.40")
    assert (b.url, b.member, b.source.line) == ("http://192.0.2.41:8080", "2", 15)


@pytest.mark.parametrize(("pdus", "expected"), [
    ("              - {address: 192.0.2.40}\n", ["book.yaml:9: PDU without a name"]),
    ("              - {name: pdu-a}\n", ["book.yaml:9: PDU 'pdu-a': missing address"]),
    ("              - {name: pdu-a, address: 192.0.2.40, protocol: snmp}\n",
     ["book.yaml:9: PDU 'pdu-a': protocol must be one of redfish, not 'snmp'"]),
    ("              - {name: pdu-a, address: 192.0.2.40, colour: red}\n", ["book.yaml:9: PDU: unknown field 'colour'"]),
    ("              - {name: pdu-a, address: 192.0.2.40, port: 70000}\n",
     ["book.yaml:9: PDU 'pdu-a': port must be 1-65535, not 70000"]),
    ("              - name: pdu-a\n                address: 192.0.2.40\n                outlets:\n"
     "                  h9: A1\n                  h2: {x: 1}\n",
     ["book.yaml:12: PDU 'pdu-a': outlets name host 'h9', which is not in rack dc1/r1/A01",
      "book.yaml:13: PDU 'pdu-a': outlets of h2: an outlet id or a list of them, not {'x': 1}"]),
    ("              - {name: pdu-a, address: 192.0.2.40}\n              - {name: pdu-a, address: 192.0.2.41}\n",
     ["book.yaml:10: duplicate PDU 'pdu-a' (first at line 9)"]),
    ("              - just-a-name\n", ["book.yaml:9: a PDU must be a mapping (name, address, protocol, outlets...)"]),
])
def test_bad_pdus(tmp_path: Path, pdus: str, expected: list[str]) -> None:
    inventory, problems = _load(tmp_path, pdus)
    assert inventory is None
    assert problems == expected


def test_a_clear_password_is_refused_and_not_echoed(tmp_path: Path) -> None:
    _, problems = _load(tmp_path, "              - {name: pdu-a, address: 192.0.2.40, password: Sw0rdf1sh}\n")
    assert len(problems) == 1 and problems[0].startswith("book.yaml:9: PDU 'pdu-a': password")
    assert "Sw0rdf1sh" not in problems[0]


def test_a_dumped_book_keeps_its_pdus(tmp_path: Path) -> None:
    from dcops.inventory.dump import dump_inventory_text

    inventory, problems = _load(tmp_path, """\
              - {name: pdu-a, address: 192.0.2.40, password: env:PDU_PASSWORD, verify_tls: false,
                 outlets: {h1: [A1, A2], h2: A3}}
              - {name: pdu-b, address: 192.0.2.41, scheme: http, port: 8080, member: "2"}
""")
    assert problems == []
    again = tmp_path / "again.yaml"
    again.write_text(dump_inventory_text(inventory.hosts, racks=inventory.racks))  # type: ignore[attr-defined]
    reread, problems, _ = read_inventory(again)
    assert problems == [] and reread is not None

    def pdus(inv: object) -> dict[str, object]:
        return {h.name: [(p.name, p.url, p.password, p.verify_tls, p.member, p.outlets) for p in h.pdus]
                for h in inv.hosts}  # type: ignore[attr-defined]

    assert pdus(reread) == pdus(inventory)
