"""Load the book: find the files, read each with line numbers, apply inheritance, validate, merge.

``load_inventory`` is the entry point. Every problem found in every file is collected (each names
its file and line) and raised together as one ``InvalidInputError``; non-fatal problems become
``Inventory.warnings`` and are logged.

Inheritance, most general first: file ``defaults`` -> site ``defaults`` -> room ``defaults`` ->
rack ``defaults`` -> host. ``bmc`` and ``asset`` merge key by key, ``tags`` accumulate, other
fields override. Hosts of the flat top-level ``hosts:`` list inherit only the file's defaults.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcops.errors import InvalidInputError, Problem
from dcops.inventory.book import DEFAULT_RACK_HEIGHT, FieldOrigin, Inventory, Rack
from dcops.inventory.schema import (
    HOST_FIELDS,
    NESTED,
    NETWORKS,
    build_host,
    check_dates_in_order,
    check_name,
    check_network,
    check_value,
    plaintext_password,
    unknown_field,
)
from dcops.inventory.yamlload import LineList, LineMap, parse_yaml, read_yaml_file
from dcops.models import Host, SourceRef

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
TOP_FIELDS = ("version", "insecure_plaintext_passwords", "defaults", "sites", "hosts")
SITE_FIELDS = ("name", "description", "defaults", "rooms")
ROOM_FIELDS = ("name", "description", "defaults", "racks")
RACK_FIELDS = ("name", "description", "height", "defaults", "pdus", "hosts")
LOCATION_KEYS = ("site", "room", "rack")
# Directories skipped when a directory is given: legacy asset books and their import mappings
# are inputs of `inventory import`, not inventory files.
EXCLUDED_PARTS = (("examples", "legacy"),)
SUFFIXES = (".yaml", ".yml")


@dataclass
class _Layer:
    """Fields defined at one level of the book, already checked."""

    values: dict[str, tuple[Any, FieldOrigin]] = field(default_factory=dict)
    tags: list[tuple[str, FieldOrigin]] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)  # paths given but invalid (not reported twice)


@dataclass
class _Entry:
    """One host read from a file, before the checks across hosts."""

    host: Host
    origins: dict[str, FieldOrigin]


@dataclass
class _FileResult:
    entries: list[_Entry] = field(default_factory=list)
    racks: list[Rack] = field(default_factory=list)


class _FileReader:
    """Reads one parsed file into host entries, collecting problems and warnings."""

    def __init__(self, file: str, problems: list[Problem], warnings: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self.warnings = warnings
        self.plaintext_ok = False
        self.result = _FileResult()

    # -- helpers ---------------------------------------------------------------------------
    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def src(self, line: int) -> SourceRef:
        return SourceRef(self.file, line)

    def mapping(self, value: Any, what: str, line: int) -> LineMap | None:
        """``value`` when it is a mapping; an empty one for null; else a problem and None."""
        if value is None:
            return LineMap(line=line)
        if isinstance(value, LineMap):
            return value
        self.error(line, f"{what} must be a mapping, not {_kind(value)}")
        return None

    def sequence(self, value: Any, what: str, line: int) -> LineList:
        if value is None:
            return LineList(line=line)
        if isinstance(value, LineList):
            return value
        self.error(line, f"{what} must be a list, not {_kind(value)}")
        return LineList(line=line)

    def check_keys(self, data: LineMap, known: Sequence[str]) -> None:
        for key in data:
            if key not in known:
                self.error(data.line_of(key), unknown_field(key, known))

    def name_of(self, data: LineMap, what: str) -> str | None:
        """The checked ``name`` of a site/room/rack/host, reporting a missing or bad one."""
        if "name" not in data:
            self.error(data.line, f"{what} without a name")
            return None
        name, wrong = check_name(f"{what} name", data["name"])
        if wrong:
            self.error(data.line_of("name"), wrong)
        return name if isinstance(name, str) else None

    # -- fields ----------------------------------------------------------------------------
    def read_fields(self, data: LineMap, level: str, *, forbidden: dict[str, str]) -> _Layer:
        """Check the host fields in ``data`` (a host or a defaults mapping) into a layer.

        ``forbidden`` maps a field that may not appear at this level to the reason why.
        """
        layer = _Layer()
        for key, value in data.items():
            line = data.line_of(key)
            if key not in HOST_FIELDS:
                self.error(line, unknown_field(key, HOST_FIELDS))
                continue
            if key == "name" and level == "host":
                continue  # checked by name_of, with the host's own wording
            if key in forbidden:
                self.error(line, forbidden[key])
                continue
            if key in NESTED:
                sub = self.mapping(value, key, line)
                if sub is None:
                    layer.bad.update(f"{key}.{s}" for s in NESTED[key])
                    continue
                for subkey, subvalue in sub.items():
                    subline = sub.line_of(subkey)
                    if subkey not in NESTED[key]:
                        self.error(subline, _misplaced(subkey, key) or unknown_field(subkey, NESTED[key]))
                        continue
                    self.set_value(layer, f"{key}.{subkey}", subvalue, subline, level)
            elif key == NETWORKS:
                self.read_networks(layer, value, line, level)
            elif key == "tags":
                tags, wrong = check_value("tags", value)
                if wrong:
                    self.error(line, wrong)
                else:
                    layer.tags.extend((t, FieldOrigin(self.src(line), level)) for t in tags)
            else:
                self.set_value(layer, key, value, line, level)
        return layer

    def read_networks(self, layer: _Layer, value: Any, line: int, level: str) -> None:
        """``networks: {mgmt: 192.0.2.10, biz-a: {address: ..., port: ..., switch: ...}}``: each
        network is its own path (``networks.<name>``), so a level below overrides one network
        without repeating the others."""
        sub = self.mapping(value, NETWORKS, line)
        if sub is None:
            return
        for name, entry in sub.items():
            subline = sub.line_of(name)
            endpoint, wrong = check_network(name, entry)
            if wrong or endpoint is None:
                self.error(subline, wrong or f"networks.{name}: not understood")
                layer.bad.add(f"{NETWORKS}.{name}")
                continue
            layer.values[f"{NETWORKS}.{name}"] = (endpoint, FieldOrigin(self.src(subline), level))

    def set_value(self, layer: _Layer, path: str, value: Any, line: int, level: str) -> None:
        if value is None:
            self.error(line, f"{path} has no value")
            layer.bad.add(path)
            return
        checked, wrong = check_value(path, value)
        if wrong:
            self.error(line, wrong)
            layer.bad.add(path)
            return
        if path == "bmc.password" and plaintext_password(checked):
            if not self.plaintext_ok:
                self.error(line, "bmc.password is written in plain text: use env:NAME, file:PATH, cred:NAME "
                                 "or prompt (or set insecure_plaintext_passwords: true at the top of the file)")
                layer.bad.add(path)
                return
            self.warnings.append(Problem(self.file, line, "bmc.password is written in plain text "
                                                          "(insecure_plaintext_passwords: true); prefer env: or file:"))
        layer.values[path] = (checked, FieldOrigin(self.src(line), level))

    def defaults(self, container: LineMap, level: str, forbidden: dict[str, str]) -> _Layer:
        if "defaults" not in container:
            return _Layer()
        data = self.mapping(container["defaults"], "defaults", container.line_of("defaults"))
        if data is None:
            return _Layer()
        return self.read_fields(data, level, forbidden=forbidden)

    # -- structure -------------------------------------------------------------------------
    def read(self, data: Any) -> _FileResult:
        """Read a whole file's data (already parsed)."""
        if data is None:
            self.error(0, f"empty file: an inventory starts with 'version: {FORMAT_VERSION}'")
            return self.result
        if not isinstance(data, LineMap):
            self.error(getattr(data, "line", 1), f"an inventory must be a mapping, not {_kind(data)}")
            return self.result
        self.check_keys(data, TOP_FIELDS)
        if "version" not in data:
            self.error(data.line, f"missing 'version: {FORMAT_VERSION}'")
        elif data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
            self.error(data.line_of("version"),
                       f"version {data['version']!r} is not supported (this dcops reads version {FORMAT_VERSION})")
        flag = data.get("insecure_plaintext_passwords", False)
        if not isinstance(flag, bool):
            self.error(data.line_of("insecure_plaintext_passwords"),
                       f"insecure_plaintext_passwords must be true or false, not {_kind(flag)}")
        self.plaintext_ok = flag is True

        structural = {k: "'site', 'room' and 'rack' of a nested host come from where it is nested; remove it"
                      for k in LOCATION_KEYS}
        no_default = {"name": "'name' cannot be a default", "u": "'u' cannot be a default: each host has its own U"}
        file_layer = self.defaults(data, "file", no_default)
        seen_sites: dict[str, int] = {}
        sites = self.sequence(data.get("sites"), "sites", data.line_of("sites"))
        for i, raw_site in enumerate(sites):
            site = self.mapping(raw_site, "a site", sites.line_of(i))
            if site is None:
                continue
            self.check_keys(site, SITE_FIELDS)
            site_name = self.name_of(site, "site")
            self.check_duplicate(seen_sites, site_name, site.line, "site")
            self.check_description(site)
            site_layer = self.defaults(site, f"site {site_name}", {**no_default, **structural})
            rooms = self.sequence(site.get("rooms"), "rooms", site.line_of("rooms"))
            seen_rooms: dict[str, int] = {}
            for j, raw_room in enumerate(rooms):
                room = self.mapping(raw_room, "a room", rooms.line_of(j))
                if room is None:
                    continue
                self.check_keys(room, ROOM_FIELDS)
                room_name = self.name_of(room, "room")
                self.check_duplicate(seen_rooms, room_name, room.line, "room")
                self.check_description(room)
                room_layer = self.defaults(room, f"room {room_name}", {**no_default, **structural})
                racks = self.sequence(room.get("racks"), "racks", room.line_of("racks"))
                seen_racks: dict[str, int] = {}
                for k, raw_rack in enumerate(racks):
                    rack = self.mapping(raw_rack, "a rack", racks.line_of(k))
                    if rack is None:
                        continue
                    place = _Layer()
                    for key, value, line in (("site", site_name, site.line), ("room", room_name, room.line)):
                        if value is not None:
                            place.values[key] = (value, FieldOrigin(self.src(line), "structure"))
                    self.read_rack(rack, site_name, room_name, seen_racks,
                                   [file_layer, site_layer, room_layer, place], {**no_default, **structural},
                                   structural)
        hosts = self.sequence(data.get("hosts"), "hosts", data.line_of("hosts"))
        for i, raw_host in enumerate(hosts):
            host = self.mapping(raw_host, "a host", hosts.line_of(i))
            if host is not None:
                self.read_host(host, [file_layer], {})
        # File order: a file may list flat hosts before or after its sites.
        self.result.entries.sort(key=lambda e: e.host.source.line)
        return self.result

    def check_duplicate(self, seen: dict[str, int], name: str | None, line: int, what: str) -> None:
        if name is None:
            return
        if name in seen:
            self.error(line, f"duplicate {what} '{name}' (first at line {seen[name]})")
        else:
            seen[name] = line

    def check_description(self, data: LineMap) -> None:
        if "description" in data and not isinstance(data["description"], str):
            self.error(data.line_of("description"), f"description must be a string, not {_kind(data['description'])}")

    def read_rack(self, rack: LineMap, site: str | None, room: str | None, seen: dict[str, int],
                  layers: list[_Layer], forbidden_defaults: dict[str, str], structural: dict[str, str]) -> None:
        self.check_keys(rack, RACK_FIELDS)
        name = self.name_of(rack, "rack")
        self.check_duplicate(seen, name, rack.line, "rack")
        self.check_description(rack)
        height = rack.get("height", DEFAULT_RACK_HEIGHT)
        if isinstance(height, bool) or not isinstance(height, int) or height < 1:
            self.error(rack.line_of("height"), f"rack height must be a whole number of units (1 or more), "
                                               f"not {height!r}")
            height = DEFAULT_RACK_HEIGHT
        rack_layer = self.defaults(rack, f"rack {name}", forbidden_defaults)
        if name is not None and site is not None and room is not None:
            self.result.racks.append(Rack(site, room, name, height, self.src(rack.line)))
        place = _Layer()
        if name is not None:
            place.values["rack"] = (name, FieldOrigin(self.src(rack.line), "structure"))
        if None in (site, room, name):
            place.bad.update(LOCATION_KEYS)
        hosts = self.sequence(rack.get("hosts"), "hosts", rack.line_of("hosts"))
        first = len(self.result.entries)
        for i, raw_host in enumerate(hosts):
            host = self.mapping(raw_host, "a host", hosts.line_of(i))
            if host is not None:
                self.read_host(host, [*layers, rack_layer, place], structural)
        if "pdus" in rack:
            self.read_rack_pdus(rack, site, room, name, first)

    def read_rack_pdus(self, rack: LineMap, site: str | None, room: str | None, name: str | None, first: int) -> None:
        """The rack's ``pdus:`` (inventory.pdus): each host of the rack learns the PDUs feeding it."""
        import dataclasses

        from dcops.inventory.pdus import feeding, read_pdus

        entries = self.result.entries[first:]
        path = "/".join(p for p in (site, room, name) if p)
        pdus, problems = read_pdus(rack["pdus"], rack.line_of("pdus"), path, self.file,
                                   {e.host.name for e in entries})
        for line, message in problems:
            self.error(line, message)
        for entry in entries:
            entry.host = dataclasses.replace(entry.host, pdus=feeding(pdus, entry.host.name))

    def read_host(self, data: LineMap, layers: list[_Layer], forbidden: dict[str, str]) -> None:
        name = self.name_of(data, "host")
        own = self.read_fields(data, "host", forbidden=forbidden)
        merged = _merge([*layers, own])
        values = {path: value for path, (value, _) in merged.values.items()}
        origins = {path: origin for path, (_, origin) in merged.values.items()}
        if merged.tags:
            tags: list[str] = []
            for tag, _ in merged.tags:
                if tag not in tags:
                    tags.append(tag)
            values["tags"] = tags
            # Tags may come from several levels: show the most specific one that added any.
            origins["tags"] = merged.tags[-1][1]
        label = f"host '{name}'" if name else "host"
        if "bmc.address" not in values and "bmc.address" not in merged.bad:
            self.error(data.line, f"{label}: missing bmc.address")
        wrong = check_dates_in_order(values)
        if wrong:
            self.error(origins["asset.warranty_end"].source.line, wrong)
        if "u" in values and "rack" not in values and "rack" not in merged.bad:
            self.error(origins["u"].source.line, f"{label}: u is given but no rack")
        if name is None or "bmc.address" not in values:
            return
        values["name"] = name
        origins["name"] = FieldOrigin(self.src(data.line_of("name")), "host")
        host = build_host(values, self.src(data.line))
        self.result.entries.append(_Entry(host, origins))


def _merge(layers: Iterable[_Layer]) -> _Layer:
    merged = _Layer()
    for layer in layers:
        merged.values.update(layer.values)
        merged.tags.extend(layer.tags)
        merged.bad |= layer.bad
        for path in layer.bad:
            # An invalid value at a specific level hides an inherited one: don't build with the latter.
            merged.values.pop(path, None)
    return merged


def _misplaced(key: Any, section: str) -> str | None:
    """A message for a field written under the wrong section (``bmc: {serial: ...}``), else None."""
    for other, fields in NESTED.items():
        if other != section and key in fields:
            return f"unknown field '{key}' in {section} ('{key}' belongs under {other})"
    if key in HOST_FIELDS:
        return f"unknown field '{key}' in {section} ('{key}' is a field of the host itself)"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"'{value}'"


# -- checks across hosts and files ---------------------------------------------------------------

def check_hosts(hosts: Sequence[Host], racks: Sequence[Rack]) -> tuple[list[Problem], list[Rack]]:
    """Checks that need every host: unique names and BMC endpoints, racks consistent across files,
    U positions inside the rack and not shared. Returns the problems and the racks (defined ones
    first, then racks only named by flat hosts, with the default height)."""
    problems: list[Problem] = []

    def at(host: Host, message: str) -> None:
        problems.append(Problem(host.source.file, host.source.line, message))

    names: dict[str, Host] = {}
    endpoints: dict[tuple[str, int, str], Host] = {}
    for host in hosts:
        first = names.setdefault(host.name, host)
        if first is not host:
            at(host, f"duplicate host name '{host.name}' (also at {first.source})")
        bmc = host.bmc
        port = bmc.port or (443 if bmc.scheme == "https" else 80)
        # Nodes of one multi-node blade share a BMC: each pins its own system (bmc.system).
        endpoint = (bmc.address.lower(), port, (bmc.system or "").lower())
        other = endpoints.setdefault(endpoint, host)
        if other is not host:
            at(host, f"host '{host.name}': BMC {bmc.address} port {port} is also used by host "
                     f"'{other.name}' ({other.source}); nodes of one BMC each pin their bmc.system")

    by_key: dict[tuple[str | None, str | None, str], Rack] = {}
    for rack in racks:
        first_rack = by_key.setdefault(rack.key, rack)
        if first_rack is not rack and first_rack.height != rack.height:
            problems.append(Problem(rack.source.file, rack.source.line,
                                    f"rack {rack} is {rack.height}U here but {first_rack.height}U at "
                                    f"{first_rack.source}"))
    occupied: dict[tuple[str | None, str | None, str], dict[int, Host]] = {}
    for host in hosts:
        loc = host.location
        if loc.rack is None:
            continue
        key = (loc.site, loc.room, loc.rack)
        rack_def = by_key.get(key)
        if rack_def is None:
            rack_def = by_key[key] = Rack(loc.site, loc.room, loc.rack, DEFAULT_RACK_HEIGHT, host.source)
        if loc.u is None:
            continue
        units = loc.units()
        if units.stop - 1 > rack_def.height:
            where = f"U{loc.u}" if loc.u_height == 1 else f"U{loc.u}-{units.stop - 1}"
            at(host, f"host '{host.name}' at {where} does not fit in rack {rack_def} ({rack_def.height}U)")
            continue
        taken = occupied.setdefault(key, {})
        for unit in units:
            holder = taken.get(unit)
            if holder is not None:
                at(host, f"host '{host.name}' and host '{holder.name}' ({holder.source}) both occupy "
                         f"U{unit} of rack {rack_def}")
                break
        else:
            for unit in units:
                taken[unit] = host
    return problems, list(by_key.values())


# -- files -------------------------------------------------------------------------------------

def _excluded(path: Path, root: Path) -> bool:
    """True when a directory between ``root`` and ``path`` (or ``root``'s own last one with the
    first below it) is ``examples/legacy``."""
    below = [p.lower() for p in path.relative_to(root).parts[:-1]]
    parts = [root.resolve().name.lower(), *below]
    for pattern in EXCLUDED_PARTS:
        n = len(pattern)
        if any(tuple(parts[i:i + n]) == pattern for i in range(len(parts) - n + 1)):
            return True
    return False


def find_inventory_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The inventory files named by ``paths``: files as given, directories searched for
    ``*.yaml``/``*.yml`` (sorted, skipping ``examples/legacy/`` and hidden directories)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and not _excluded(p, path)
            )
            if not found:
                problems.append(Problem(str(path), 0, "directory holds no *.yaml or *.yml inventory files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, "no such file or directory"))
    unique: list[Path] = []
    seen: set[Path] = set()
    for file in files:
        real = file.resolve()
        if real not in seen:  # the same file named twice (a file and its directory) is read once
            seen.add(real)
            unique.append(file)
    return unique, problems


def collect_inventory(sources: Iterable[tuple[str, Any, list[Problem]]]) -> tuple[Inventory, list[Problem]]:
    """Build an Inventory from parsed sources ``(file name, data, parse problems)``.

    Returns the inventory of the hosts that could be built (with its warnings) and every problem;
    the inventory is only trustworthy when there are none. Pure: no I/O.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    entries: list[_Entry] = []
    racks: list[Rack] = []
    files: list[str] = []
    for name, data, parse_problems in sources:
        files.append(name)
        problems.extend(parse_problems)
        if data is None and parse_problems:
            continue  # not valid YAML: nothing more to say about this file
        reader = _FileReader(name, problems, warnings)
        result = reader.read(data)
        entries.extend(result.entries)
        racks.extend(result.racks)
    cross, all_racks = check_hosts([e.host for e in entries], racks)
    problems.extend(cross)
    inventory = Inventory(
        (e.host for e in entries), racks=all_racks, files=files, warnings=warnings,
        origins={e.host.name: e.origins for e in entries},
    )
    return inventory, problems


def read_inventory(paths: Sequence[str | Path] | str | Path) -> tuple[Inventory | None, list[Problem], list[Problem]]:
    """Read and check the files named by ``paths`` without raising or logging.

    Returns ``(inventory, problems, warnings)``; the inventory is None when there are problems.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files, problems = find_inventory_files(paths)
    sources = []
    for path in files:
        data, parse_problems = read_yaml_file(path)
        sources.append((str(path), data, parse_problems))
    inventory, found = collect_inventory(sources)
    problems.extend(found)
    return (None if problems else inventory), problems, inventory.warnings


def _raise(problems: list[Problem]) -> None:
    files = sorted({p.file for p in problems})
    summary = (f"inventory is invalid: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
               f"in {', '.join(files)}")
    raise InvalidInputError(summary, problems)


def load_inventory(paths: Sequence[str | Path] | str | Path) -> Inventory:
    """Load, merge and validate the inventory files and directories in ``paths``.

    Directories are searched for ``*.yaml``/``*.yml`` (sorted, skipping ``examples/legacy/``).
    Warnings (e.g. plain-text passwords allowed by the file) are logged and kept in
    ``Inventory.warnings``. Raises ``InvalidInputError`` listing every problem, each with file
    and line, when anything is wrong.
    """
    inventory, problems, warnings = read_inventory(paths)
    for warning in warnings:
        log.warning("%s", warning)
    if problems or inventory is None:
        _raise(problems)
    assert inventory is not None
    return inventory


def load_inventory_text(text: str, file: str = "<inventory>") -> Inventory:
    """Load an inventory from YAML text (as if it were the file ``file``); raises like
    ``load_inventory``. Used to prove that generated text validates before it is written."""
    data, parse_problems = parse_yaml(text, file)
    inventory, problems = collect_inventory([(file, data, parse_problems)])
    if problems:
        _raise(problems)
    return inventory
