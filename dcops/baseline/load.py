"""Load and validate a baselines/ directory. Every problem names its file and line.

Layout::

    baselines/profiles/*.yaml   baselines/firmware/*.yaml   baselines/bios/*.yaml
    baselines/raid/*.yaml       baselines/os/*.yaml          (answer-file templates and network
                                                              files next to the OS baselines)

One baseline per file; its name is ``name:`` (default: the file's stem). References between them
(a profile naming a firmware baseline, an OS baseline naming its template) are checked too.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dcops.baseline.models import (
    RAID_LEVELS,
    Baselines,
    BiosBaseline,
    DiskState,
    ExpectedGroup,
    ExpectedHardware,
    FirmwareBaseline,
    FirmwareClass,
    FirmwareRequirement,
    NetworkValues,
    OsBaseline,
    Profile,
    RaidTemplate,
    ReadPolicy,
    Switch,
    SwitchPort,
    VersionRule,
    VirtualDisk,
    WritePolicy,
)
from dcops.errors import DcopsError, InvalidInputError, Problem
from dcops.inventory.yamlload import LineList, LineMap, read_yaml_file
from dcops.models import SourceRef

KINDS = ("profiles", "firmware", "bios", "raid", "os")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "p": 10**15, "pb": 10**15, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40, "pib": 2**50}


class _File:
    """Validation helpers bound to one file: each records problems with the line of the key."""

    def __init__(self, path: Path, display: str) -> None:
        self.path = path
        self.name = display
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.name, line, message))

    def keys(self, data: LineMap, allowed: Iterable[str], where: str = "") -> None:
        allowed = set(allowed)
        for key in data:
            if key not in allowed:
                near = ", ".join(sorted(allowed))
                self.problem(data.line_of(key), f"unknown key '{where}{key}' (allowed: {near})")

    def get(self, data: LineMap, key: str, kind: type | tuple[type, ...], *, required: bool = False,
            where: str = "", default: Any = None) -> Any:
        if key not in data or data[key] is None:
            if required:
                self.problem(data.line, f"'{where}{key}' is required")
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.problem(data.line_of(key), f"'{where}{key}' must be {_kind_name(kinds)}, not a boolean")
            return default
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kinds):
            self.problem(data.line_of(key), f"'{where}{key}' must be {_kind_name(kinds)}, "
                                            f"got {type(value).__name__} {value!r}")
            return default
        return value

    def strings(self, data: LineMap, key: str, where: str = "") -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self.problem(data.line_of(key), f"'{where}{key}' must be a string or a list of strings")
        return ()

    def enum(self, data: LineMap, key: str, enum: Any, where: str = "", default: Any = None) -> Any:
        value = data.get(key)
        if value is None:
            return default
        try:
            return enum(str(value).lower())
        except ValueError:
            choices = ", ".join(e.value for e in enum)
            self.problem(data.line_of(key), f"'{where}{key}': {value!r} is not one of {choices}")
            return default

    def ref(self, line: int) -> SourceRef:
        return SourceRef(self.name, line)


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a mapping"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def parse_size(text: Any) -> int | None:
    """``"960GB"`` -> 960000000000, ``"1.6TB"``, ``"500GiB"``; plain numbers are bytes. None if bad."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if text > 0 else None
    if not isinstance(text, str):
        return None
    found = _SIZE.match(text)
    if not found:
        return None
    unit = found.group(2).lower()
    if unit not in _UNITS:
        return None
    return int(float(found.group(1)) * _UNITS[unit])


# ------------------------------------------------------------------------------------ loaders

def _load_firmware(f: _File, data: LineMap, name: str) -> FirmwareBaseline:
    f.keys(data, ("name", "description", "order", "components"))
    order: list[FirmwareClass] = []
    raw_order = data.get("order")
    if raw_order is not None:
        if not isinstance(raw_order, list):
            f.problem(data.line_of("order"), "'order' must be a list of component classes")
        else:
            for i, item in enumerate(raw_order):
                try:
                    order.append(FirmwareClass(str(item).lower()))
                except ValueError:
                    f.problem(_line(raw_order, i, data.line_of("order")),
                              f"order: unknown component class {item!r} (known: "
                              f"{', '.join(c.value for c in FirmwareClass)})")
    components: list[FirmwareRequirement] = []
    raw = data.get("components")
    if not isinstance(raw, list) or not raw:
        f.problem(data.line_of("components"), "'components' must be a non-empty list")
        raw = []
    for i, item in enumerate(raw):
        line = _line(raw, i, data.line)
        if not isinstance(item, LineMap):
            f.problem(line, f"components[{i}] must be a mapping")
            continue
        where = f"components[{i}]."
        f.keys(item, ("class", "version", "rule", "image", "match", "reboot", "required"), where)
        cls = f.enum(item, "class", FirmwareClass, where)
        if "class" not in item:
            f.problem(item.line, f"'{where}class' is required")
        version = f.get(item, "version", (str, int, float), required=True, where=where)
        rule = f.enum(item, "rule", VersionRule, where, default=VersionRule.MINIMUM)
        image = f.get(item, "image", str, where=where)
        if image is not None and "://" not in image:
            f.problem(item.line_of("image"), f"'{where}image' must be a URI the BMC can fetch "
                                             "(http://, https://, nfs://...)")
        match = f.get(item, "match", str, where=where)
        if match is not None:
            try:
                re.compile(match)
            except re.error as exc:
                f.problem(item.line_of("match"), f"'{where}match' is not a valid regex: {exc}")
        if cls is None or version is None:
            continue
        from dcops.baseline.models import DEFAULT_REBOOT

        reboot = f.get(item, "reboot", bool, where=where, default=cls in DEFAULT_REBOOT)
        required = f.get(item, "required", bool, where=where, default=True)
        components.append(FirmwareRequirement(cls, str(version), rule, image, match, reboot, required,
                                              f.ref(line)))
    if order:
        missing = [c for c in {r.component for r in components} if c not in order]
        for c in missing:
            f.problem(data.line_of("order"), f"order does not list '{c.value}', which components use")
    return FirmwareBaseline(name, tuple(components), tuple(order) or tuple(FirmwareClass),
                            str(data.get("description") or ""), f.ref(data.line))


def _scalar_ok(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _load_bios(f: _File, data: LineMap, name: str) -> BiosBaseline:
    f.keys(data, ("name", "description", "attributes", "by_vendor"))
    attributes: dict[str, Any] = {}
    raw = data.get("attributes") or LineMap()
    if not isinstance(raw, LineMap):
        f.problem(data.line_of("attributes"), "'attributes' must be a mapping of attribute: value")
        raw = LineMap()
    for key, value in raw.items():
        if not _scalar_ok(value):
            f.problem(raw.line_of(key), f"attributes.{key}: a value must be a string, number or boolean")
            continue
        attributes[str(key)] = value
    by_vendor: dict[str, dict[str, Any]] = {}
    vendors = data.get("by_vendor") or LineMap()
    if not isinstance(vendors, LineMap):
        f.problem(data.line_of("by_vendor"), "'by_vendor' must map a vendor to attribute: value")
        vendors = LineMap()
    for vendor, attrs in vendors.items():
        if not isinstance(attrs, LineMap):
            f.problem(vendors.line_of(vendor), f"by_vendor.{vendor} must be a mapping")
            continue
        values: dict[str, Any] = {}
        for key, value in attrs.items():
            if not _scalar_ok(value):
                f.problem(attrs.line_of(key), f"by_vendor.{vendor}.{key}: a value must be a string, number "
                                              "or boolean")
                continue
            values[str(key)] = value
        by_vendor[str(vendor).lower()] = values
    if not attributes and not by_vendor:
        f.problem(data.line, "a BIOS baseline needs 'attributes' or 'by_vendor'")
    return BiosBaseline(name, attributes, by_vendor, str(data.get("description") or ""), f.ref(data.line))


def _bays(f: _File, parent: LineMap, key: str, where: str) -> tuple[int, ...]:
    """``[0, 1]``, ``{first: 0, last: 3}`` or a single bay."""
    value = parent.get(key)
    line = parent.line_of(key)
    if value is None:
        return ()
    if isinstance(value, bool):
        f.problem(line, f"'{where}{key}' must be bay numbers")
        return ()
    if isinstance(value, int):
        return (value,)
    if isinstance(value, LineMap):
        f.keys(value, ("first", "last"), f"{where}{key}.")
        first, last = value.get("first"), value.get("last")
        if not isinstance(first, int) or not isinstance(last, int) or isinstance(first, bool) \
                or isinstance(last, bool):
            f.problem(line, f"'{where}{key}' needs whole-number 'first' and 'last' bays")
            return ()
        if last < first:
            f.problem(line, f"'{where}{key}': last ({last}) is before first ({first})")
            return ()
        return tuple(range(first, last + 1))
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        if len(set(value)) != len(value):
            f.problem(line, f"'{where}{key}' lists a bay twice")
        if any(v < 0 for v in value):
            f.problem(line, f"'{where}{key}': bays are 0 or more")
        return tuple(value)
    f.problem(line, f"'{where}{key}' must be a list of bays or {{first: N, last: M}}")
    return ()


_MIN_DISKS = {"RAID0": 1, "RAID1": 2, "RAID5": 3, "RAID6": 4, "RAID10": 4, "RAID50": 6, "RAID60": 8}


def _load_raid(f: _File, data: LineMap, name: str) -> RaidTemplate:
    f.keys(data, ("name", "description", "controller", "clear_existing", "virtual_disks", "global_spares",
                  "unused_disks", "disk_states", "disk_write_cache"))
    cache_word = data.get("disk_write_cache")
    disk_cache: bool | None = None
    if cache_word is not None:
        disk_cache = {"enabled": True, "on": True, True: True, "disabled": False, "off": False,
                      False: False}.get(cache_word.lower() if isinstance(cache_word, str) else cache_word)
        if disk_cache is None:
            f.problem(data.line_of("disk_write_cache"), f"'disk_write_cache': {cache_word!r} is not enabled or disabled")
    controller = f.get(data, "controller", str)
    clear = f.get(data, "clear_existing", bool, default=False)
    unused = f.enum(data, "unused_disks", DiskState)
    spares = _bays(f, data, "global_spares", "")
    disk_states: dict[int, DiskState] = {}
    raw_states = data.get("disk_states")
    if raw_states is not None:
        if not isinstance(raw_states, LineMap):
            f.problem(data.line_of("disk_states"), "'disk_states' must map a bay to ready or non-raid")
        else:
            for bay, state in raw_states.items():
                if not isinstance(bay, int) or isinstance(bay, bool):
                    f.problem(raw_states.line_of(bay), f"disk_states: {bay!r} is not a bay number")
                    continue
                try:
                    disk_states[bay] = DiskState(str(state).lower())
                except ValueError:
                    f.problem(raw_states.line_of(bay), f"disk_states.{bay}: {state!r} is not ready or non-raid")
    vds: list[VirtualDisk] = []
    raw = data.get("virtual_disks")
    if raw is None:
        raw = LineList()
    if not isinstance(raw, list):
        f.problem(data.line_of("virtual_disks"), "'virtual_disks' must be a list")
        raw = []
    used: dict[int, str] = {}
    for i, item in enumerate(raw):
        line = _line(raw, i, data.line)
        if not isinstance(item, LineMap):
            f.problem(line, f"virtual_disks[{i}] must be a mapping")
            continue
        where = f"virtual_disks[{i}]."
        f.keys(item, ("name", "raid", "disks", "capacity", "read_policy", "write_policy", "os",
                      "dedicated_spares", "strip_size"), where)
        vd_name = f.get(item, "name", str, required=True, where=where)
        level = f.get(item, "raid", (str, int), required=True, where=where)
        level_text = None
        if level is not None:
            level_text = str(level).upper()
            if not level_text.startswith("RAID"):
                level_text = f"RAID{level_text}"
            if level_text not in RAID_LEVELS:
                f.problem(item.line_of("raid"), f"'{where}raid': {level!r} is not one of {', '.join(RAID_LEVELS)}")
                level_text = None
        disks = _bays(f, item, "disks", where)
        if "disks" not in item:
            f.problem(item.line, f"'{where}disks' is required")
        if level_text and disks:
            need = _MIN_DISKS[level_text]
            if len(disks) < need:
                f.problem(item.line_of("disks"), f"{level_text} needs at least {need} disks, "
                                                 f"'{vd_name}' has {len(disks)}")
            if level_text == "RAID1" and len(disks) != 2:
                f.problem(item.line_of("disks"), f"RAID1 takes exactly 2 disks, '{vd_name}' has {len(disks)}")
            if level_text == "RAID10" and len(disks) % 2:
                f.problem(item.line_of("disks"), f"RAID10 needs an even number of disks, '{vd_name}' has "
                                                 f"{len(disks)}")
        for bay in disks:
            if bay in used:
                f.problem(item.line_of("disks"), f"bay {bay} is in both '{used[bay]}' and '{vd_name}'")
            used[bay] = str(vd_name)
        capacity: int | None = None
        raw_cap = item.get("capacity")
        if raw_cap is not None and str(raw_cap).lower() != "max":
            capacity = parse_size(raw_cap)
            if capacity is None:
                f.problem(item.line_of("capacity"), f"'{where}capacity': {raw_cap!r} is not a size "
                                                    "(e.g. 480GB, 1.6TB, 500GiB) or 'max'")
        read = f.enum(item, "read_policy", ReadPolicy, where)
        write = f.enum(item, "write_policy", WritePolicy, where)
        is_os = f.get(item, "os", bool, where=where, default=False)
        dedicated = _bays(f, item, "dedicated_spares", where)
        strip: int | None = None
        if item.get("strip_size") is not None:
            strip = parse_size(item["strip_size"])
            if strip is None or strip < 4096 or strip & (strip - 1):
                f.problem(item.line_of("strip_size"), f"'{where}strip_size': {item['strip_size']!r} is not a power "
                                                      "of two of at least 4KiB (e.g. 64KiB, 256KiB, 1MiB)")
                strip = None
        if vd_name and level_text and disks:
            vds.append(VirtualDisk(vd_name, level_text, disks, capacity, read, write, bool(is_os), dedicated,
                                   f.ref(line), strip))
    names = [vd.name for vd in vds]
    for dup in {n for n in names if names.count(n) > 1}:
        f.problem(data.line_of("virtual_disks"), f"two virtual disks are named '{dup}'")
    if sum(1 for vd in vds if vd.os) > 1:
        f.problem(data.line_of("virtual_disks"), "only one virtual disk can hold the OS (os: true)")
    for vd in vds:
        for bay in vd.dedicated_spares:
            if bay in used:
                f.problem(vd.source.line, f"dedicated spare bay {bay} of '{vd.name}' is also in '{used[bay]}'")
            if bay in spares:
                f.problem(vd.source.line, f"bay {bay} is both a global spare and a dedicated spare")
    for bay in spares:
        if bay in used:
            f.problem(data.line_of("global_spares"), f"global spare bay {bay} is also in '{used[bay]}'")
    for bay in disk_states:
        if bay in used or bay in spares:
            f.problem(data.line_of("disk_states"), f"bay {bay} is in a virtual disk or a spare: its state "
                                                   "is set by that")
    if not vds and not clear and not unused and not disk_states:
        f.problem(data.line, "a RAID template needs virtual_disks, disk_states, unused_disks or clear_existing")
    return RaidTemplate(name, tuple(vds), spares, controller, bool(clear), unused, disk_states,
                        str(data.get("description") or ""), f.ref(data.line), disk_cache)


def _load_network(f: _File, path: Path, display: str) -> tuple[dict[str, NetworkValues], dict[str, Any],
                                                                dict[str, Switch]]:
    """A network file: ``defaults`` (prefix, gateway, dns, vlan, interface, domain, provisioning)
    and ``hosts``. ``provisioning`` is the address the host has while it is installed and
    configured (the post-install playbooks reach it there); the others are its production address."""
    data, problems = read_yaml_file(path, display)
    sub = _File(path, display)
    sub.problems.extend(problems)
    out: dict[str, NetworkValues] = {}
    defaults: dict[str, Any] = {}
    switches: dict[str, Switch] = {}
    if data is None and not problems:
        sub.problem(0, "empty network file")
    if isinstance(data, LineMap):
        sub.keys(data, ("defaults", "hosts", "switches"))
        switches = _switches(sub, data.get("switches"), data.line_of("switches"))
        raw_defaults = data.get("defaults") or LineMap()
        if isinstance(raw_defaults, LineMap):
            sub.keys(raw_defaults, ("prefix", "gateway", "dns", "vlan", "interface", "domain", "provisioning"),
                     "defaults.")
            defaults = dict(raw_defaults)
            if isinstance(raw_defaults.get("provisioning"), LineMap):
                sub.keys(raw_defaults["provisioning"], ("prefix", "gateway", "dns", "vlan", "interface"),
                         "defaults.provisioning.")
        hosts = data.get("hosts") or LineMap()
        if not isinstance(hosts, LineMap):
            sub.problem(data.line_of("hosts"), "'hosts' must map a host name to its values")
            hosts = LineMap()
        seen_ips: dict[str, str] = {}
        prov_defaults = defaults.get("provisioning") if isinstance(defaults.get("provisioning"), LineMap) else {}
        base = {k: v for k, v in defaults.items() if k != "provisioning"}
        for host, values in hosts.items():
            if not isinstance(values, LineMap):
                sub.problem(hosts.line_of(host), f"hosts.{host} must be a mapping (ip, prefix, gateway, ...)")
                continue
            where = f"hosts.{host}."
            sub.keys(values, ("ip", "prefix", "gateway", "dns", "vlan", "interface", "hostname", "extra",
                              "provisioning", "switch"), where)
            prod = _net_values(sub, str(host), values, {**base, **values}, where, seen_ips, defaults)
            if prod is None:
                continue
            raw_prov = values.get("provisioning")
            prov = None
            if raw_prov is not None:
                if not isinstance(raw_prov, LineMap):
                    sub.problem(values.line_of("provisioning"), f"'{where}provisioning' must be a mapping (ip, ...)")
                else:
                    sub.keys(raw_prov, ("ip", "prefix", "gateway", "dns", "vlan", "interface"),
                             f"{where}provisioning.")
                    merged = {"interface": prod.interface, "dns": list(prod.dns), **dict(prov_defaults or {}),
                              **raw_prov}
                    prov = _net_values(sub, str(host), raw_prov, merged, f"{where}provisioning.", seen_ips, defaults)
            if prov is not None:
                prov = NetworkValues(prod.hostname, prov.ip, prov.prefix, prov.gateway, prov.dns, prov.vlan,
                                     prov.interface, prod.extra)
            port = _switch_port(sub, values, where, switches)
            out[str(host)] = NetworkValues(prod.hostname, prod.ip, prod.prefix, prod.gateway, prod.dns, prod.vlan,
                                           prod.interface, prod.extra, prov, port)
    elif data is not None:
        sub.problem(0, "a network file must be a mapping")
    f.problems.extend(sub.problems)
    return out, defaults, switches


def _switches(sub: _File, raw: Any, line: int) -> dict[str, Switch]:
    """``switches: {NAME: {api: URL, username, password: REF, validate_certs}}``."""
    if raw is None:
        return {}
    if not isinstance(raw, LineMap):
        sub.problem(line, "'switches' must map a switch name to {api, username, password}")
        return {}
    out = {}
    for name, values in raw.items():
        if not isinstance(values, LineMap):
            sub.problem(raw.line_of(name), f"switches.{name} must be a mapping (api, username, password)")
            continue
        where = f"switches.{name}."
        sub.keys(values, ("api", "username", "password", "validate_certs"), where)
        api = sub.get(values, "api", str, required=True, where=where) or ""
        if api and not re.match(r"^https?://", api):
            sub.problem(values.line_of("api"), f"'{where}api' must be an http(s) URL")
        password = sub.get(values, "password", str, where=where)
        if password is not None:
            from dcops.secrets import check_reference

            bad = check_reference(password)
            if bad:
                sub.problem(values.line_of("password"), f"'{where}password': {bad}")
        out[str(name)] = Switch(str(name), api, sub.get(values, "username", str, where=where), password,
                                bool(sub.get(values, "validate_certs", bool, where=where, default=True)))
    return out


def _switch_port(sub: _File, values: LineMap, where: str, switches: dict[str, Switch]) -> SwitchPort | None:
    raw = values.get("switch")
    if raw is None:
        return None
    if not isinstance(raw, LineMap):
        sub.problem(values.line_of("switch"), f"'{where}switch' must be {{name, port, vlan}}")
        return None
    sub.keys(raw, ("name", "port", "vlan"), f"{where}switch.")
    name = sub.get(raw, "name", str, required=True, where=f"{where}switch.") or ""
    port = sub.get(raw, "port", str, required=True, where=f"{where}switch.") or ""
    vlan = raw.get("vlan")
    if vlan is not None and (not isinstance(vlan, int) or isinstance(vlan, bool) or not 1 <= vlan <= 4094):
        sub.problem(raw.line_of("vlan"), f"'{where}switch.vlan' must be 1..4094")
        vlan = None
    if name and name not in switches:
        sub.problem(raw.line_of("name"), f"switch {name!r} is not under 'switches' in this file")
    return SwitchPort(name, port, vlan) if name and port else None


def _net_values(sub: _File, host: str, values: LineMap, merged: dict[str, Any], where: str,
                seen_ips: dict[str, str], defaults: dict[str, Any]) -> NetworkValues | None:
    ip = merged.get("ip")
    try:
        addr = ipaddress.ip_address(str(ip))
    except ValueError:
        sub.problem(values.line_of("ip") or values.line, f"'{where}ip': {ip!r} is not an IP address")
        return None
    if str(addr) in seen_ips:
        sub.problem(values.line_of("ip"), f"{addr} is also the address of {seen_ips[str(addr)]}")
    seen_ips[str(addr)] = host
    prefix = merged.get("prefix")
    if not isinstance(prefix, int) or isinstance(prefix, bool) or not 0 < prefix <= addr.max_prefixlen:
        sub.problem(values.line_of("prefix") or values.line, f"'{where}prefix' must be 1..{addr.max_prefixlen}")
        return None
    gateway = merged.get("gateway")
    if gateway is not None:
        try:
            gw = ipaddress.ip_address(str(gateway))
            if gw not in ipaddress.ip_network(f"{addr}/{prefix}", strict=False):
                sub.problem(values.line_of("gateway") or values.line, f"{host}: gateway {gw} is outside {addr}/{prefix}")
        except ValueError:
            sub.problem(values.line_of("gateway"), f"'{where}gateway': {gateway!r} is not an IP address")
    dns = merged.get("dns") or []
    dns = [dns] if isinstance(dns, str) else list(dns)
    for server in dns:
        try:
            ipaddress.ip_address(str(server))
        except ValueError:
            sub.problem(values.line_of("dns"), f"'{where}dns': {server!r} is not an IP address")
    vlan = merged.get("vlan")
    if vlan is not None and (not isinstance(vlan, int) or not 1 <= vlan <= 4094):
        sub.problem(values.line_of("vlan"), f"'{where}vlan' must be 1..4094")
    extra = merged.get("extra") or {}
    return NetworkValues(
        hostname=str(merged.get("hostname") or (f"{host}.{defaults['domain']}" if defaults.get("domain") else host)),
        ip=str(addr), prefix=prefix, gateway=str(gateway) if gateway else None,
        dns=tuple(str(d) for d in dns), vlan=vlan if isinstance(vlan, int) else None,
        interface=str(merged["interface"]) if merged.get("interface") else None,
        extra={str(k): str(v) for k, v in dict(extra).items()})


def _load_os(f: _File, data: LineMap, name: str) -> OsBaseline:
    f.keys(data, ("name", "description", "installer", "answer_file", "network", "completion", "deploy"))
    installer = data.get("installer")
    iso, sha, remaster, iso_source = "", None, None, None
    if not isinstance(installer, LineMap):
        f.problem(data.line_of("installer"), "'installer' is required: {iso: URL, sha256: ...}")
    else:
        f.keys(installer, ("iso", "sha256", "remaster", "source"), "installer.")
        iso = f.get(installer, "iso", str, required=True, where="installer.") or ""
        if iso and not re.match(r"^(https?|nfs|cifs|smb)://", iso):
            f.problem(installer.line_of("iso"), "'installer.iso' must be an http(s)/nfs/cifs URL the BMC can reach")
        remaster = f.get(installer, "remaster", bool, where="installer.")
        iso_source = f.get(installer, "source", str, where="installer.")
        if iso_source is not None and not re.match(r"^https?://", iso_source):
            iso_source = str((f.path.parent / os.path.expanduser(iso_source)).resolve())
        elif iso_source is None and iso and not re.match(r"^https?://", iso) and remaster:
            f.problem(installer.line_of("remaster"), "'installer.remaster' needs the stock ISO over http(s): give "
                                                     "'installer.source' (a path or http(s) URL dcops reads)")
        sha = f.get(installer, "sha256", str, where="installer.")
        if sha is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
            f.problem(installer.line_of("sha256"), "'installer.sha256' must be 64 hex digits")
    answer = data.get("answer_file")
    kind, template, publish_dir, publish_url = "kickstart", "", None, None
    if not isinstance(answer, LineMap):
        f.problem(data.line_of("answer_file"), "'answer_file' is required: {kind, template}")
    else:
        f.keys(answer, ("kind", "template", "publish_dir", "publish_url"), "answer_file.")
        kind = f.get(answer, "kind", str, required=True, where="answer_file.") or "kickstart"
        if kind not in ("kickstart", "autoinstall"):
            f.problem(answer.line_of("kind"), "'answer_file.kind' must be kickstart or autoinstall")
        rel = f.get(answer, "template", str, required=True, where="answer_file.")
        if rel:
            path = (f.path.parent / rel).resolve()
            if not path.is_file():
                f.problem(answer.line_of("template"), f"answer-file template {rel} not found (next to {f.name})")
            else:
                template = str(path)
                _check_template(f, path, answer.line_of("template"), kind)
        publish_dir = f.get(answer, "publish_dir", str, where="answer_file.")
        if "publish_url" in answer:
            # Answer files are no longer fetched from a URL the operator publishes: each host's
            # is on an image dcops serves itself. Silently ignoring the key would mislead.
            f.problem(answer.line_of("publish_url"), "'answer_file.publish_url' is gone: dcops serves each host's "
                                                     "answer image itself (provision --media-url); remove it")
    network: dict[str, NetworkValues] = {}
    defaults: dict[str, Any] = {}
    switches: dict[str, Switch] = {}
    switch_playbook, reach_port = None, 22
    raw_net = data.get("network")
    if raw_net is not None:
        if not isinstance(raw_net, LineMap) or "file" not in raw_net:
            f.problem(data.line_of("network"), "'network' must be {file: PATH} (per-host static values)")
        else:
            f.keys(raw_net, ("file", "switch_playbook", "reach_port"), "network.")
            switch_playbook = f.get(raw_net, "switch_playbook", str, where="network.")
            reach_port = f.get(raw_net, "reach_port", int, where="network.", default=22)
            if not isinstance(reach_port, int) or not 0 <= reach_port < 65536:
                f.problem(raw_net.line_of("reach_port"), "'network.reach_port' must be a TCP port (0: no gate)")
                reach_port = 22
            path = (f.path.parent / str(raw_net["file"])).resolve()
            if not path.is_file():
                f.problem(raw_net.line_of("file"), f"network file {raw_net['file']} not found")
            else:
                network, defaults, switches = _load_network(f, path, _display(path, f))
    completion, timeout = "callback", 3600.0
    raw_done = data.get("completion")
    if raw_done is not None:
        if not isinstance(raw_done, LineMap):
            f.problem(data.line_of("completion"), "'completion' must be {wait_for: ..., timeout_seconds: N}")
        else:
            f.keys(raw_done, ("wait_for", "timeout_seconds"), "completion.")
            completion = f.get(raw_done, "wait_for", str, where="completion.", default="callback")
            if completion not in ("callback", "power-off", "os-running", "powered-on"):
                f.problem(raw_done.line_of("wait_for"), "'completion.wait_for' must be callback (the answer file "
                                                        "calls ${done_url}), power-off (it ends with poweroff), "
                                                        "os-running or powered-on (labs)")
            timeout = f.get(raw_done, "timeout_seconds", float, where="completion.", default=3600.0)
    if completion == "callback" and template and not re.search(r"\$\{?done_url\b", Path(template).read_text("utf-8")):
        f.problem(answer.line_of("template") if isinstance(answer, LineMap) else data.line,
                  "the template never calls ${done_url} (completion: callback): dcops could not tell a finished "
                  "install from a stuck one; call it at the end of %post / late-commands, and with "
                  "?status=failed from %onerror / error-commands")
    deploy_user, ssh_key = "dcops", None
    raw_deploy = data.get("deploy")
    if raw_deploy is not None:
        if not isinstance(raw_deploy, LineMap):
            f.problem(data.line_of("deploy"), "'deploy' must be {user: NAME, ssh_public_key: REF}")
        else:
            f.keys(raw_deploy, ("user", "ssh_public_key"), "deploy.")
            deploy_user = f.get(raw_deploy, "user", str, where="deploy.", default="dcops") or "dcops"
            if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", deploy_user):
                f.problem(raw_deploy.line_of("user"), f"'deploy.user' {deploy_user!r} is not a Linux user name")
            ssh_key = f.get(raw_deploy, "ssh_public_key", str, where="deploy.")
            if ssh_key is not None:
                from dcops.secrets import check_reference

                bad = check_reference(ssh_key)
                if bad:
                    f.problem(raw_deploy.line_of("ssh_public_key"), f"'deploy.ssh_public_key': {bad}")
    return OsBaseline(name, iso, kind, template, network, defaults, completion, float(timeout), publish_dir,
                      publish_url, sha, str(data.get("description") or ""), f.ref(data.line), deploy_user, ssh_key,
                      switches, switch_playbook, int(reach_port), remaster, iso_source)


_PLACEHOLDER = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _check_template(f: _File, path: Path, line: int, kind: str) -> None:
    """Unknown placeholders, then the template rendered with sample values and checked by the
    installer's own parser (pykickstart; the autoinstall schema): each problem names the
    template's file and line."""
    from dcops.installer import answers, render

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        f.problem(line, f"cannot read template {path.name}: {exc}")
        return
    display = _display(path, f)
    unknown = False
    for n, row in enumerate(text.splitlines(), start=1):
        for found in _PLACEHOLDER.finditer(row.replace("$$", "")):
            if found.group(1) not in render.FIELDS:
                unknown = True
                f.problems.append(Problem(display, n, f"unknown placeholder ${{{found.group(1)}}} "
                                                      f"(known: {', '.join(sorted(render.FIELDS))})"))
    if unknown or kind not in answers.KINDS:
        return
    try:
        rendered = render.render(text, render.SAMPLE)
    except DcopsError as exc:
        f.problems.append(Problem(display, 0, str(exc)))
        return
    facts = answers.check(kind, rendered)
    for problem in facts.problems:
        f.problems.append(Problem(display, problem.line, f"{kind}: {problem.message}"))


def _display(path: Path, f: _File) -> str:
    base = f.path.parent
    try:
        return str(Path(f.name).parent / path.relative_to(base))
    except ValueError:
        return str(path)


def _groups(f: _File, parent: LineMap, key: str, allowed: tuple[str, ...]) -> tuple[ExpectedGroup, ...]:
    value = parent.get(key)
    if value is None:
        return ()
    if isinstance(value, LineMap):
        value = LineList([value], line=value.line)
        value.lines = [value[0].line]
    if not isinstance(value, list):
        f.problem(parent.line_of(key), f"'expected.{key}' must be a list of groups")
        return ()
    out = []
    for i, item in enumerate(value):
        line = _line(value, i, parent.line_of(key))
        where = f"expected.{key}[{i}]."
        if not isinstance(item, LineMap):
            f.problem(line, f"expected.{key}[{i}] must be a mapping")
            continue
        f.keys(item, ("count", *allowed), where)
        count = f.get(item, "count", int, required=True, where=where)
        size_gb = None
        if "size" in item:
            size = parse_size(item["size"])
            if size is None:
                f.problem(item.line_of("size"), f"'{where}size': {item['size']!r} is not a size (960GB, 1.6TB)")
            else:
                size_gb = size / 10**9
        media = f.get(item, "media", str, where=where)
        if media is not None and media.upper() not in ("SSD", "HDD", "SMR"):
            f.problem(item.line_of("media"), f"'{where}media' must be SSD or HDD")
        if count is None:
            continue
        out.append(ExpectedGroup(count=count, model=f.get(item, "model", str, where=where),
                                 media=media.upper() if media else None,
                                 protocol=f.get(item, "protocol", str, where=where), size_gb=size_gb,
                                 watts=f.get(item, "watts", int, where=where),
                                 speed_mbps=f.get(item, "speed_mbps", int, where=where), line=line))
    return tuple(out)


def _load_profile(f: _File, data: LineMap, name: str) -> Profile:
    f.keys(data, ("name", "description", "match", "expected", "baselines", "playbooks", "network_playbook"))
    manufacturer: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    match = data.get("match")
    if match is not None:
        if not isinstance(match, LineMap):
            f.problem(data.line_of("match"), "'match' must be {manufacturer: [...], model: [...]} (globs)")
        else:
            f.keys(match, ("manufacturer", "model"), "match.")
            manufacturer = f.strings(match, "manufacturer", "match.")
            model = f.strings(match, "model", "match.")
    expected = ExpectedHardware()
    raw = data.get("expected")
    if raw is not None:
        if not isinstance(raw, LineMap):
            f.problem(data.line_of("expected"), "'expected' must be a mapping")
        else:
            f.keys(raw, ("cpu", "memory", "drives", "drive_count", "nics", "psus", "size_tolerance"), "expected.")
            cpu = raw.get("cpu") or LineMap()
            memory = raw.get("memory") or LineMap()
            if not isinstance(cpu, LineMap):
                f.problem(raw.line_of("cpu"), "'expected.cpu' must be {model, count, cores}")
                cpu = LineMap()
            if not isinstance(memory, LineMap):
                f.problem(raw.line_of("memory"), "'expected.memory' must be {size, dimms}")
                memory = LineMap()
            f.keys(cpu, ("model", "count", "cores"), "expected.cpu.")
            f.keys(memory, ("size", "dimms"), "expected.memory.")
            mem_gib = None
            if "size" in memory:
                size = parse_size(memory["size"])
                if size is None or size % 2**30:
                    f.problem(memory.line_of("size"), "'expected.memory.size' must be a size in GiB (512GiB)")
                else:
                    mem_gib = size // 2**30
            tolerance = f.get(raw, "size_tolerance", float, where="expected.", default=0.02)
            expected = ExpectedHardware(
                cpu_model=f.get(cpu, "model", str, where="expected.cpu."),
                cpu_count=f.get(cpu, "count", int, where="expected.cpu."),
                cpu_cores=f.get(cpu, "cores", int, where="expected.cpu."),
                memory_gib=mem_gib, dimm_count=f.get(memory, "dimms", int, where="expected.memory."),
                drives=_groups(f, raw, "drives", ("model", "media", "protocol", "size")),
                drive_count=f.get(raw, "drive_count", int, where="expected."),
                nics=_groups(f, raw, "nics", ("model", "speed_mbps")),
                psus=_groups(f, raw, "psus", ("model", "watts")),
                size_tolerance=float(tolerance))
    refs: dict[str, str | None] = {"firmware": None, "bios": None, "raid": None, "os": None}
    raw_refs = data.get("baselines")
    if raw_refs is not None:
        if not isinstance(raw_refs, LineMap):
            f.problem(data.line_of("baselines"), "'baselines' must be {firmware, bios, raid, os}")
        else:
            f.keys(raw_refs, tuple(refs), "baselines.")
            for key in refs:
                refs[key] = f.get(raw_refs, key, str, where="baselines.")
    playbooks = f.strings(data, "playbooks")
    network_playbook = f.get(data, "network_playbook", str)
    return Profile(name, manufacturer, model, expected, refs["firmware"], refs["bios"], refs["raid"], refs["os"],
                   playbooks, network_playbook, str(data.get("description") or ""), f.ref(data.line))


_LOADERS: dict[str, Callable[[_File, LineMap, str], Any]] = {
    "profiles": _load_profile, "firmware": _load_firmware, "bios": _load_bios, "raid": _load_raid,
    "os": _load_os,
}


def _line(items: Any, index: int, default: int) -> int:
    return items.line_of(index) if isinstance(items, LineList) else default


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_baselines(root: str | Path, *, playbooks_dir: str | Path | None = None) -> Baselines:
    """Load every baseline under ``root`` and check references between them.

    Raises ``InvalidInputError`` listing every problem (file and line) when anything is invalid.
    ``playbooks_dir``, when given, is where the playbooks profiles name must exist.
    """
    base = Path(root)
    if not base.is_dir():
        raise InvalidInputError(f"{root}: baselines directory not found")
    problems: list[Problem] = []
    found: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
    for kind in KINDS:
        directory = base / kind
        if not directory.is_dir():
            continue
        for path in _files(directory):
            display = str(Path(str(root)) / kind / path.name)
            data, parse_problems = read_yaml_file(path, display)
            problems.extend(parse_problems)
            if data is None:
                if not parse_problems:
                    problems.append(Problem(display, 0, "empty file"))
                continue
            if not isinstance(data, LineMap):
                problems.append(Problem(display, 1, "a baseline file must be a mapping"))
                continue
            if kind == "os" and "hosts" in data and "installer" not in data:
                continue  # a network file next to the OS baselines
            f = _File(path, display)
            name = data.get("name", path.stem)
            if not isinstance(name, str) or not _NAME.match(name):
                f.problem(data.line_of("name"), f"name {name!r} must be lower-case letters, digits, '.', '_', '-'")
                name = path.stem
            if name in found[kind]:
                f.problem(data.line_of("name"), f"{kind} baseline '{name}' is also defined in "
                                                f"{found[kind][name].source.file}")
            item = _LOADERS[kind](f, data, name)
            problems.extend(f.problems)
            found[kind].setdefault(name, item)
    for profile in found["profiles"].values():
        for kind in ("firmware", "bios", "raid", "os"):
            ref = getattr(profile, kind)
            if ref is not None and ref not in found[kind]:
                known = ", ".join(sorted(found[kind])) or "none"
                problems.append(Problem(profile.source.file, profile.source.line,
                                        f"profile '{profile.name}' names {kind} baseline '{ref}', which does not "
                                        f"exist (known: {known})"))
        if playbooks_dir is not None:
            for book in (*profile.playbooks, *([profile.network_playbook] if profile.network_playbook else [])):
                if not (Path(playbooks_dir) / book).is_file():
                    problems.append(Problem(profile.source.file, profile.source.line,
                                            f"profile '{profile.name}': playbook {book} not found in {playbooks_dir}"))
    if problems:
        raise InvalidInputError(f"{len(problems)} problem(s) in baselines {root}", problems)
    return Baselines(str(root), found["profiles"], found["firmware"], found["bios"], found["raid"], found["os"])


def match_profile(baselines: Baselines, manufacturer: str | None, model: str | None) -> list[Profile]:
    """Profiles whose match patterns (globs, case-insensitive) fit a server's manufacturer and model."""
    out = []
    for profile in baselines.profiles.values():
        if not profile.manufacturer and not profile.model:
            continue
        ok_m = not profile.manufacturer or any(fnmatch.fnmatch((manufacturer or "").lower(), p.lower())
                                               for p in profile.manufacturer)
        ok_model = not profile.model or any(fnmatch.fnmatch((model or "").lower(), p.lower()) for p in profile.model)
        if ok_m and ok_model:
            out.append(profile)
    return out
