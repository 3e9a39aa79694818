"""The index of a clean book (dcops/inventory/hostindex.py): hosts by name without loading the
book, never stale, never holding a secret; and the libyaml fast path of the YAML loader giving what
the pure-Python loader gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dcops.inventory import hostindex, load_inventory, yamlload

BOOK = """version: 1
defaults:
  bmc: {protocol: redfish, username: root, password: %s}
sites:
  - name: s1
    rooms:
      - name: r1
        racks:
          - name: A01
            hosts:
              - {name: db-01, u: 1, bmc: {address: 127.0.0.1, port: 20001}, role: db}
              - {name: db-02, u: 2, bmc: {address: 127.0.0.1, port: 20002}, role: db}
              - {name: web-01, u: 3, bmc: {address: 127.0.0.1, port: 20003}, role: web}
"""


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DCOPS_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "book.yaml"
    path.write_text(BOOK % "env:BMC_PW")
    return path


def test_named_hosts_come_from_the_index_in_book_order(book: Path) -> None:
    assert hostindex.indexed_hosts([book], ["db-01"]) is None  # nothing indexed yet
    inv = load_inventory([book])
    hostindex.remember([book], inv)
    found = hostindex.indexed_hosts([book], ["web-01", "db-01"])
    assert found == [inv.get("db-01"), inv.get("web-01")]
    assert hostindex.indexed_hosts([book], ["db-01", "nosuch"]) is None  # the full load says why


def test_a_changed_book_is_never_read_from_the_index(book: Path) -> None:
    hostindex.remember([book], load_inventory([book]))
    book.write_text((BOOK % "env:BMC_PW").replace("port: 20001", "port: 20011"))
    assert hostindex.indexed_hosts([book], ["db-01"]) is None
    inv = load_inventory([book])
    hostindex.remember([book], inv)
    found = hostindex.indexed_hosts([book], ["db-01"])
    assert found is not None and found[0].bmc.port == 20011
    assert len(list((book.parent / "cache" / "books").glob("*.sqlite"))) == 1  # the old state is gone


def test_a_book_with_a_plain_password_is_not_indexed(book: Path) -> None:
    book.write_text((BOOK % "plain:s3cret").replace("version: 1", "version: 1\ninsecure_plaintext_passwords: true"))
    inv = load_inventory([book])
    hostindex.remember([book], inv)
    assert hostindex.indexed_hosts([book], ["db-01"]) is None
    cache = book.parent / "cache"
    assert not any(b"s3cret" in p.read_bytes() for p in cache.rglob("*") if p.is_file())


def test_an_index_others_could_write_is_ignored(book: Path) -> None:
    hostindex.remember([book], load_inventory([book]))
    directory = book.parent / "cache" / "books"
    os.chmod(directory, 0o777)
    assert hostindex.indexed_hosts([book], ["db-01"]) is None


@pytest.mark.parametrize("text", [
    BOOK % "env:X",
    "a: 1\nb: [1, 2, {c: 2023-02-30}]\nd: 2024-01-02\n",            # impossible date kept as text
    "a: 1\nb: 2\na: 3\n",                                            # duplicate key, with lines
    "a: [1, 2\n",                                                    # syntax error
    "a: \x07bell\n",                                                 # control character
    "base: &b {x: 1}\nuse: {<<: *b, y: 2}\n",                        # merge key
    "",
])
def test_libyaml_and_pure_python_agree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = yamlload.parse_yaml(text, "f.yaml")
    monkeypatch.setattr(yamlload, "_FastLineLoader", None)
    slow = yamlload.parse_yaml(text, "f.yaml")
    assert fast == slow

    def lines(value: object) -> object:
        if isinstance(value, dict):
            return (value.line, value.lines, {k: lines(v) for k, v in value.items()})  # type: ignore[attr-defined]
        if isinstance(value, list):
            return (value.line, value.lines, [lines(v) for v in value])  # type: ignore[attr-defined]
        return value

    assert lines(fast[0]) == lines(slow[0])
