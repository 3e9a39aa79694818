"""The book's in-band address (``inband: {address, port}``): loaded into ``Host.inband``, inherited
from defaults like ``bmc``, and written back by ``flatten_host``."""

from __future__ import annotations

from pathlib import Path

from dcops.inventory import load_inventory
from dcops.inventory.schema import flatten_host
from dcops.models import InbandEndpoint

BOOK = """version: 1
defaults:
  inband: {port: 2222}
hosts:
  - {name: h1, bmc: {address: 10.0.0.1}, inband: {address: 10.1.0.1}}
  - {name: h2, bmc: {address: 10.0.0.2}, inband: {address: h2.prod.example.com, port: 22}}
  - {name: h3, bmc: {address: 10.0.0.3}}
"""


def test_inband(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(BOOK)
    hosts = {h.name: h for h in load_inventory([path]).hosts}
    assert hosts["h1"].inband == InbandEndpoint("10.1.0.1", 2222)
    assert hosts["h2"].inband == InbandEndpoint("h2.prod.example.com", 22)
    assert hosts["h3"].inband is None  # a port alone (from defaults) is no address to probe
    flat = flatten_host(hosts["h2"])
    assert (flat["inband.address"], flat["inband.port"]) == ("h2.prod.example.com", 22)
