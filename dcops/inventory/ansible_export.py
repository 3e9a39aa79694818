"""The book as an Ansible inventory. Pure: hosts in, plain data out.

Groups: ``site_<site>`` > ``room_<site>_<room>`` > ``rack_<site>_<room>_<rack>`` (nested, so a rack
name used in two rooms stays two groups), and flat ``role_<role>``, ``tag_<tag>``, ``az_<az>``.
Characters Ansible does not allow in group names become ``_`` (it would warn and rewrite them).
Host variables are prefixed ``dcops_`` (BMC address and protocol, place, role, tags, vendor,
model, profile, serial, asset tag); ``ansible_host`` is not set: dcops knows a server's BMC, not
the address its OS answers on. No password or password reference is ever written.

Two shapes of the same data:

* ``yaml_inventory`` -- Ansible's YAML inventory structure (``all: {hosts, children}``), in JSON:
  what ``ansible-inventory -i FILE`` and ``-i <(dcops inventory ansible --list)`` read;
* ``script_inventory`` -- the dynamic-inventory script protocol (``--list``: groups with host
  lists and ``_meta.hostvars``), for an executable wrapper given to ``-i``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from dcops.models import Host

_BAD = re.compile(r"[^A-Za-z0-9_]")


def group_name(prefix: str, *parts: str) -> str:
    """``rack_sh1_r101_A01`` from ``("rack", "sh1", "r101", "A01")``; invalid characters -> ``_``."""
    return _BAD.sub("_", "_".join((prefix, *parts)))


def host_vars(host: Host) -> dict[str, Any]:
    """What a playbook may want to know about a host (``dcops_`` prefixed, no secrets)."""
    loc = host.location
    values: dict[str, Any] = {
        "dcops_bmc_address": host.bmc.address, "dcops_bmc_protocol": str(host.bmc.protocol),
        "dcops_site": loc.site, "dcops_room": loc.room, "dcops_rack": loc.rack, "dcops_u": loc.u,
        "dcops_az": host.az, "dcops_role": host.role, "dcops_tags": list(host.tags), "dcops_vendor": host.vendor,
        "dcops_model": host.model, "dcops_profile": host.profile, "dcops_serial": host.asset.serial,
        "dcops_asset_tag": host.asset.asset_tag}
    return {k: v for k, v in values.items() if v not in (None, "", [])}


def host_groups(host: Host) -> list[str]:
    """The flat groups of a host (role, tags, az) and the innermost place group it sits in."""
    loc = host.location
    groups = []
    if loc.site and loc.room and loc.rack:
        groups.append(group_name("rack", loc.site, loc.room, loc.rack))
    elif loc.site and loc.room:
        groups.append(group_name("room", loc.site, loc.room))
    elif loc.site:
        groups.append(group_name("site", loc.site))
    if host.role:
        groups.append(group_name("role", host.role))
    groups += [group_name("tag", t) for t in host.tags]
    if host.az:
        groups.append(group_name("az", host.az))
    return groups


def _tree(hosts: Iterable[Host]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """group -> member hosts, group -> child groups (both in first-seen order)."""
    members: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}

    def child(parent: str, name: str) -> None:
        kids = children.setdefault(parent, [])
        if name not in kids:
            kids.append(name)

    for host in hosts:
        loc = host.location
        if loc.site:
            site = group_name("site", loc.site)
            child("all", site)
            if loc.room:
                room = group_name("room", loc.site, loc.room)
                child(site, room)
                if loc.rack:
                    child(room, group_name("rack", loc.site, loc.room, loc.rack))
        for group in host_groups(host):
            members.setdefault(group, []).append(host.name)
            if not group.startswith(("site_", "room_", "rack_")):
                child("all", group)
    return members, children


def yaml_inventory(hosts: Sequence[Host]) -> dict[str, Any]:
    """Ansible's YAML inventory structure: every host with its vars under ``all``, groups as
    nested ``children`` with their member hosts."""
    members, children = _tree(hosts)

    def group(name: str) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if members.get(name):
            body["hosts"] = {h: None for h in members[name]}
        if children.get(name):
            body["children"] = {c: group(c) for c in children[name]}
        return body

    top = group("all")
    top["hosts"] = {h.name: host_vars(h) for h in hosts}
    return {"all": top}


def script_inventory(hosts: Sequence[Host]) -> dict[str, Any]:
    """The dynamic-inventory script protocol's ``--list`` answer."""
    members, children = _tree(hosts)
    names = sorted(set(members) | set(children) - {"all"})
    body: dict[str, Any] = {"_meta": {"hostvars": {h.name: host_vars(h) for h in hosts}},
                            "all": {"hosts": [h.name for h in hosts], "children": children.get("all", [])}}
    for name in names:
        entry: dict[str, Any] = {}
        if members.get(name):
            entry["hosts"] = members[name]
        if children.get(name):
            entry["children"] = children[name]
        body[name] = entry
    return body
