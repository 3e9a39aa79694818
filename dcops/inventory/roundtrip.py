"""Writing changed hosts back into an operator's inventory file without re-dumping it: comments,
key order, blank lines and the file's layout (flat list or sites > rooms > racks) stay as they
were; only the changed fields of changed hosts, and the new hosts, are touched (ruamel.yaml
round-trip).

``rewrite_book(text, name, before, after)`` returns the new text, or None when the change cannot
be made in place (a host moves to another rack of a nested file, a value inherited from
``defaults`` must be unset, a new host's rack is not in the file): the caller then writes the
canonical form. Every result is loaded again and must give exactly the intended hosts; otherwise
None. Reads and writes text only (no file I/O).
"""

from __future__ import annotations

import dataclasses
import enum
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from dcops.errors import InvalidInputError
from dcops.inventory.schema import flatten_host
from dcops.models import Host, SourceRef

_PLACE = ("site", "room", "rack")


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the operator wrote on one
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _host_lists(node: Any, place: dict[str, str], top: bool) -> Iterator[tuple[CommentedSeq, dict[str, str], bool]]:
    """Every ``hosts:`` list in the document with the place its hosts inherit from nesting."""
    if not isinstance(node, Mapping):
        return
    if isinstance(node.get("hosts"), list):
        yield node["hosts"], place, top
    for key, level in (("sites", "site"), ("rooms", "room"), ("racks", "rack")):
        for child in node.get(key) or []:
            if isinstance(child, Mapping) and child.get("name") is not None:
                yield from _host_lists(child, {**place, level: str(child["name"])}, False)


def _plain(value: Any) -> Any:
    """What YAML can carry: enums as their value, tuples as lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _nested(flat: Mapping[str, Any]) -> CommentedMap:
    out = CommentedMap()
    for path, value in flat.items():
        value = _plain(value)
        head, _, sub = path.partition(".")
        if sub:
            out.setdefault(head, CommentedMap())[sub] = value
        else:
            out[head] = value
    return out


def _set(node: CommentedMap, path: str, value: Any) -> None:
    head, _, sub = path.partition(".")
    value = _plain(value)
    if not sub:
        if value is None:
            node.pop(head, None)
        else:
            node[head] = value
        return
    inner = node.get(head)
    if not isinstance(inner, Mapping):
        if value is None:
            return
        inner = node[head] = CommentedMap()
    if value is None:
        inner.pop(sub, None)
    else:
        inner[sub] = value


def _same(a: Host, b: Host) -> bool:
    return dataclasses.replace(a, source=SourceRef()) == dataclasses.replace(b, source=SourceRef())


def rewrite_book(text: str, name: str, before: Sequence[Host], after: Sequence[Host]) -> str | None:
    """``text`` (the inventory file ``name`` that loads to ``before``) edited in place so that it
    loads to ``after``; None when that cannot be done in place (see the module docstring)."""
    from dcops.inventory.loader import load_inventory_text

    yaml = _yaml()
    try:
        doc = yaml.load(text)
    except Exception:  # noqa: BLE001 - not round-trippable YAML: the caller writes the canonical form
        return None
    lists = list(_host_lists(doc, {}, True))
    nodes: dict[str, tuple[CommentedMap, dict[str, str], bool]] = {}
    for hosts, place, top in lists:
        for node in hosts:
            if isinstance(node, CommentedMap) and node.get("name") is not None:
                nodes[str(node["name"])] = (node, place, top)
    old = {h.name: h for h in before}
    for host in after:
        new_flat = flatten_host(host)
        if host.name in old:
            if host.name not in nodes:
                return None
            node, place, top = nodes[host.name]
            old_flat = flatten_host(old[host.name])
            for path in sorted(set(old_flat) | set(new_flat)):
                if old_flat.get(path) == new_flat.get(path):
                    continue
                if path in _PLACE and not top:
                    return None  # moving a host between racks of a nested file: canonical rewrite
                _set(node, path, new_flat.get(path))
        else:
            target = _place_for(host, lists)
            if target is None:
                return None
            hosts, place, top = target
            fields = {k: v for k, v in new_flat.items() if top or k not in place}
            hosts.append(_nested(fields))
    out = io.StringIO()
    try:
        yaml.dump(doc, out)
    except Exception:  # noqa: BLE001 - a value YAML cannot carry: the caller writes the canonical form
        return None
    result = out.getvalue()
    try:
        loaded = {h.name: h for h in load_inventory_text(result, name).hosts}
    except InvalidInputError:
        return None
    if set(loaded) != {h.name for h in after} or not all(_same(loaded[h.name], h) for h in after):
        return None  # e.g. a value inherited from defaults that a host must no longer have
    return result


def _place_for(host: Host, lists: Sequence[tuple[CommentedSeq, dict[str, str], bool]]) \
        -> tuple[CommentedSeq, dict[str, str], bool] | None:
    """The hosts list a new host goes to: its rack's in a nested file, else the top-level list."""
    loc = {"site": host.location.site, "room": host.location.room, "rack": host.location.rack}
    for hosts, place, top in lists:
        if not top and place and all(loc.get(k) == v for k, v in place.items()) and len(place) == 3:
            return hosts, place, top
    for hosts, place, top in lists:
        if top:
            return hosts, place, top
    return None
