"""``Inventory``: the loaded, validated book of servers, and what it knows about racks and origins.

Built by ``dcops.inventory.loader``; read by everything else. Pure: no I/O.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from dcops.errors import Problem, UsageError
from dcops.inventory.select import parse_selectors
from dcops.models import Host, SourceRef

DEFAULT_RACK_HEIGHT = 42


@dataclass(frozen=True)
class Rack:
    """A rack as the book defines it: where it stands and how many units it has."""

    site: str | None
    room: str | None
    name: str
    height: int = DEFAULT_RACK_HEIGHT
    source: SourceRef = SourceRef()

    @property
    def key(self) -> tuple[str | None, str | None, str]:
        return (self.site, self.room, self.name)

    def __str__(self) -> str:
        return "/".join(p for p in (self.site, self.room, self.name) if p)


@dataclass(frozen=True)
class FieldOrigin:
    """Where a host's field got its value: the defining line and the level of the book.

    ``level`` is ``host`` for a value written on the host itself, else the defaults it came from:
    ``rack A01``, ``room r101``, ``site sh1``, ``file`` (the file's top-level defaults), or
    ``structure`` for site/room/rack given by the nesting.
    """

    source: SourceRef
    level: str

    @property
    def inherited(self) -> bool:
        return self.level != "host"


class Inventory:
    """The book: hosts in file order, racks, warnings, and where each field was defined."""

    def __init__(
        self,
        hosts: Iterable[Host],
        *,
        racks: Iterable[Rack] = (),
        files: Iterable[str] = (),
        warnings: Iterable[Problem] = (),
        origins: Mapping[str, Mapping[str, FieldOrigin]] | None = None,
    ) -> None:
        self.hosts: tuple[Host, ...] = tuple(hosts)
        self.racks: tuple[Rack, ...] = tuple(racks)
        self.files: tuple[str, ...] = tuple(files)
        self.warnings: list[Problem] = list(warnings)
        self._origins = dict(origins or {})
        self._by_name = {h.name: h for h in self.hosts}

    def __len__(self) -> int:
        return len(self.hosts)

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Host:
        """The host called ``name``; raises ``UsageError`` (suggesting close names) when absent."""
        host = self._by_name.get(name)
        if host is not None:
            return host
        close = difflib.get_close_matches(name, list(self._by_name), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"no host '{name}' in the inventory{hint}")

    def select(self, selectors: Sequence[str] | str = ()) -> list[Host]:
        """The hosts matching the selectors (see ``parse_selectors``), in file order; all hosts
        when none are given. Raises ``UsageError`` for a malformed selector."""
        return parse_selectors(selectors).filter(self.hosts)

    def origins(self, name: str) -> dict[str, FieldOrigin]:
        """Per field path (``bmc.address``), where host ``name``'s value came from. Fields left at
        their built-in default are absent. Raises ``UsageError`` when the host is unknown."""
        self.get(name)
        return dict(self._origins.get(name, {}))

    def rack(self, site: str | None, room: str | None, name: str) -> Rack | None:
        """The rack defined at that place, if any."""
        for rack in self.racks:
            if rack.key == (site, room, name):
                return rack
        return None
