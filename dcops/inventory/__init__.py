"""The inventory: the book of servers every other part of dcops starts from.

Public API::

    from dcops.inventory import load_inventory, Inventory, parse_selectors, dump_inventory

    inv = load_inventory(["inventories/site.yaml", "some/dir"])  # raises InvalidInputError
    inv.hosts                      # tuple[Host, ...] in file order
    inv.get("trade-db-01")         # Host, or UsageError suggesting close names
    inv.select(["rack=A01:&role=db", "web-*"])  # Ansible-style patterns, OR across strings
    inv.warnings                   # list[Problem]
    dump_inventory(hosts, "out.yaml")            # writes a file load_inventory reads back

The format is described in docs/inventory.md.
"""

from dcops.inventory.book import FieldOrigin, Inventory, Rack
from dcops.inventory.dump import dump_inventory, dump_inventory_text
from dcops.inventory.loader import load_inventory, load_inventory_text, read_inventory
from dcops.inventory.select import Selector, parse_selectors

__all__ = [
    "FieldOrigin",
    "Inventory",
    "Rack",
    "Selector",
    "dump_inventory",
    "dump_inventory_text",
    "load_inventory",
    "load_inventory_text",
    "parse_selectors",
    "read_inventory",
]
