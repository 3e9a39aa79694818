"""The book's per-network addresses (``networks: {mgmt: ..., biz-a: ...}``): loaded into
``Host.networks``, one network overridable at a time down the inheritance chain, written back by
``flatten_host``/dump, and bad entries reported with their file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dcops.errors import InvalidInputError
from dcops.inventory import load_inventory
from dcops.inventory.dump import build_document
from dcops.inventory.schema import check_network, flatten_host
from dcops.models import NetworkEndpoint

BOOK = """\
version: 1
defaults:
  networks: {storage: {address: 192.0.2.250, port: 3260}}
hosts:
  - name: h1
    bmc: {address: 192.0.2.1}
    networks:
      mgmt: 192.0.2.11
      biz-a: {address: 198.51.100.11, port: 8080, switch: tor-a01-biz-a}
      storage: 203.0.113.11
  - {name: h2, bmc: {address: 192.0.2.2}}
"""


def test_networks_load_inherit_and_flatten(write: Callable[..., Path]) -> None:
    hosts = {h.name: h for h in load_inventory([write("book.yaml", BOOK)]).hosts}
    h1 = dict(hosts["h1"].networks)
    assert h1 == {"storage": NetworkEndpoint("203.0.113.11"), "mgmt": NetworkEndpoint("192.0.2.11"),
                  "biz-a": NetworkEndpoint("198.51.100.11", 8080, "tor-a01-biz-a")}
    assert dict(hosts["h2"].networks) == {"storage": NetworkEndpoint("192.0.2.250", 3260)}
    flat = flatten_host(hosts["h1"])
    assert flat["networks.mgmt"] == "192.0.2.11"
    assert flat["networks.biz-a"] == {"address": "198.51.100.11", "port": 8080, "switch": "tor-a01-biz-a"}
    doc = build_document([hosts["h1"]], structured=False)
    assert doc["hosts"][0]["networks"]["biz-a"]["switch"] == "tor-a01-biz-a"


@pytest.mark.parametrize(("entry", "message"), [
    ("not an address!", "networks.biz-a 'not an address!' is not an IP address or host name"),
    ("10.0.0.300", "is not a valid IP address"),
    (["192.0.2.1"], "must be an address or a mapping"),
    ({"port": 22}, "networks.biz-a: missing address"),
    ({"address": "192.0.2.1", "port": 70000}, "networks.biz-a.port must be a whole number 1-65535"),
    ({"address": "192.0.2.1", "prot": 22}, "unknown field 'prot' (did you mean 'port'?)"),
    ({"address": "192.0.2.1", "switch": "a b"}, "networks.biz-a.switch 'a b' may only contain"),
])
def test_bad_network_entry(entry: object, message: str) -> None:
    endpoint, wrong = check_network("biz-a", entry)
    assert endpoint is None and wrong is not None and message in wrong


def test_bad_entries_name_file_and_line(write: Callable[..., Path]) -> None:
    path = write("book.yaml", """\
        version: 1
        hosts:
          - name: h1
            bmc: {address: 192.0.2.1}
            networks:
              mgmt: 192.0.2.11
              biz-a: {address: 198.51.100.11, port: zero}
              "bad name": 192.0.2.12
          - {name: h2, bmc: {address: 192.0.2.2}, networks: [192.0.2.3]}
        """)
    with pytest.raises(InvalidInputError) as caught:
        load_inventory([path])
    found = {(p.file, p.line): p.message for p in caught.value.problems}
    assert "networks.biz-a.port" in found[(str(path), 7)]
    assert "network name" in found[(str(path), 8)]
    assert "networks must be a mapping" in found[(str(path), 9)]


def test_show_lists_networks_with_their_origin(write: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from dcops.cli.main import main

    path = write("book.yaml", BOOK)
    assert main(["-i", str(path), "-o", "json", "inventory", "show", "h1"]) == 0
    rows = {r["field"]: r for r in json.loads(capsys.readouterr().out)["items"]}
    assert rows["networks.biz-a"]["value"]["switch"] == "tor-a01-biz-a"
    assert rows["networks.mgmt"]["source"].endswith("book.yaml:8")
