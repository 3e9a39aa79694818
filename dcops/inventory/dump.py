"""Write hosts back as an inventory file (the format ``load_inventory`` reads).

The output is canonical, not a copy of a hand-written file: comments and the original grouping
of defaults are not kept. BMC settings shared by every host (user, password reference, protocol,
scheme, TLS) are written once as file ``defaults`` so the result stays readable.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from dcops.inventory.book import DEFAULT_RACK_HEIGHT, Rack
from dcops.inventory.loader import FORMAT_VERSION
from dcops.inventory.schema import flatten_host, plaintext_password
from dcops.models import Host

# BMC fields that may be shared: address and port identify one BMC, so they never are.
_SHAREABLE = ("bmc.scheme", "bmc.protocol", "bmc.username", "bmc.password", "bmc.verify_tls", "bmc.ca_bundle")


class _Dumper(yaml.SafeDumper):
    """Indents lists under their key, which is how the shipped examples are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class _Flow(dict[str, Any]):
    """A mapping written on one line (``bmc: {address: 10.0.0.5, port: 443}``)."""


class _FlowList(list[Any]):
    """A list written on one line (``tags: [prod, db]``)."""


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date):
        return value  # the dumper writes dates as YYYY-MM-DD, which the loader reads back as dates
    if isinstance(value, (list, tuple)):
        return _FlowList(_plain(v) for v in value)
    return value


def _nest(flat: dict[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """Turn flat paths back into the host mapping of the file format."""
    skipped = set(skip)
    out: dict[str, Any] = {}
    for path, value in flat.items():
        if path in skipped:
            continue
        top, _, sub = path.partition(".")
        if sub:
            # bmc settings are short and read together: one line; asset records are long: a block.
            out.setdefault(top, _Flow() if top == "bmc" else {})[sub] = _plain(value)
        else:
            out[top] = _plain(value)
    return out


def _shared(flats: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The shareable BMC values every host has, and has equal."""
    if len(flats) < 2:
        return {}
    shared: dict[str, Any] = {}
    for path in _SHAREABLE:
        values = [f.get(path) for f in flats]
        if values[0] is not None and all(v == values[0] for v in values):
            shared[path] = values[0]
    return shared


def build_document(hosts: Iterable[Host], *, structured: bool = True,
                   racks: Iterable[Rack] | None = None) -> dict[str, Any]:
    """The inventory document (plain data) for ``hosts``: nested sites/rooms/racks when
    ``structured`` (hosts without a full location go to the flat ``hosts:`` list), else one flat list."""
    hosts = list(hosts)
    flats = [flatten_host(h) for h in hosts]
    shared = _shared(flats)
    doc: dict[str, Any] = {"version": FORMAT_VERSION}
    if any(plaintext_password(f.get("bmc.password", "")) for f in flats):
        doc["insecure_plaintext_passwords"] = True
    if shared:
        doc["defaults"] = _nest(shared)
    heights = {r.key: r.height for r in racks or ()}
    tree: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = {}
    for rack in racks or ():
        if structured and rack.site and rack.room:
            tree.setdefault(rack.site, {}).setdefault(rack.room, {}).setdefault(rack.name, [])
    flat_list: list[dict[str, Any]] = []
    # A rack's PDUs (inventory.pdus) are known through the hosts they feed: one entry per name.
    pdus: dict[tuple[str, str, str], dict[str, Any]] = {}
    for host in hosts:
        loc = host.location
        if loc.site and loc.room and loc.rack:
            for pdu in host.pdus:
                pdus.setdefault((loc.site, loc.room, loc.rack), {}).setdefault(pdu.name, pdu)
    for host, flat in zip(hosts, flats, strict=True):
        loc = host.location
        if structured and loc.site and loc.room and loc.rack:
            body = _nest(flat, skip=[*shared, "site", "room", "rack"])
            tree.setdefault(loc.site, {}).setdefault(loc.room, {}).setdefault(loc.rack, []).append(body)
        else:
            flat_list.append(_nest(flat, skip=shared))
    if tree:
        sites = []
        for site, rooms in tree.items():
            room_list = []
            for room, rack_map in rooms.items():
                rack_list = []
                for rack_name, rack_hosts in rack_map.items():
                    entry: dict[str, Any] = {"name": rack_name}
                    height = heights.get((site, room, rack_name), DEFAULT_RACK_HEIGHT)
                    if height != DEFAULT_RACK_HEIGHT:
                        entry["height"] = height
                    rack_pdus = pdus.get((site, room, rack_name))
                    if rack_pdus:
                        from dcops.inventory.pdus import pdu_document

                        entry["pdus"] = [pdu_document(p) for p in rack_pdus.values()]
                    entry["hosts"] = rack_hosts
                    rack_list.append(entry)
                room_list.append({"name": room, "racks": rack_list})
            sites.append({"name": site, "rooms": room_list})
        doc["sites"] = sites
    if flat_list:
        doc["hosts"] = flat_list
    return doc


def dump_inventory_text(hosts: Iterable[Host], *, structured: bool = True,
                        racks: Iterable[Rack] | None = None, header: str | None = None) -> str:
    """The inventory YAML for ``hosts`` as text (see ``dump_inventory``)."""
    doc = build_document(hosts, structured=structured, racks=racks)
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=110)
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    return text


def dump_inventory(hosts: Iterable[Host], path_or_stream: str | Path | TextIO, *, structured: bool = True,
                   racks: Iterable[Rack] | None = None, header: str | None = None) -> None:
    """Write ``hosts`` in the inventory format to a path (UTF-8) or an open text stream.

    The result loads back with ``load_inventory`` to the same hosts (their ``source`` aside).
    ``racks`` keeps rack heights (and racks without hosts); ``header`` is written as comments.
    Raises ``OSError`` when the path cannot be written.
    """
    text = dump_inventory_text(hosts, structured=structured, racks=racks, header=header)
    if isinstance(path_or_stream, (str, Path)):
        Path(path_or_stream).write_text(text, encoding="utf-8")
    else:
        path_or_stream.write(text)

