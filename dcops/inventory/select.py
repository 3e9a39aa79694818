"""Host selectors: ``trade-*``, ``rack=A01,role=db``, ``!tag=canary``.

A selector string is an AND of comma-separated atoms; several strings are OR-ed. An atom is a
bare name or glob (matched against the host name) or ``key=value`` where the value may be a glob;
``!`` in front negates it. Matching is case-insensitive. Pure: no I/O.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from dcops.errors import UsageError
from dcops.inventory.schema import suggest
from dcops.models import Host

# key -> the host's values for it (a host matches when any of them matches the pattern).
_GETTERS: dict[str, Callable[[Host], tuple[str, ...]]] = {
    "name": lambda h: (h.name,),
    "site": lambda h: (h.location.site or "",),
    "room": lambda h: (h.location.room or "",),
    "rack": lambda h: (h.location.rack or "",),
    "az": lambda h: (h.az or "",),
    "role": lambda h: (h.role or "",),
    "tag": lambda h: h.tags,
    "profile": lambda h: (h.profile or "",),
    "vendor": lambda h: (h.vendor or "",),
    "model": lambda h: (h.model or "",),
}
SELECTOR_KEYS: tuple[str, ...] = tuple(_GETTERS)


@dataclass(frozen=True)
class Atom:
    """One condition: ``key`` (``name`` for a bare glob) matches ``pattern``, or not when negated."""

    key: str
    pattern: str
    negated: bool = False

    def matches(self, host: Host) -> bool:
        regex = _compile(self.pattern)
        hit = any(regex.match(value) for value in _GETTERS[self.key](host))
        return hit != self.negated

    def __str__(self) -> str:
        return f"{'!' if self.negated else ''}{self.key}={self.pattern}"


@dataclass(frozen=True)
class Selector:
    """OR of clauses, each an AND of atoms. No clauses selects every host."""

    clauses: tuple[tuple[Atom, ...], ...] = ()

    def matches(self, host: Host) -> bool:
        """True when the host satisfies every atom of at least one clause."""
        if not self.clauses:
            return True
        return any(all(atom.matches(host) for atom in clause) for clause in self.clauses)

    def filter(self, hosts: Iterable[Host]) -> list[Host]:
        """The hosts that match, in their given order."""
        return [h for h in hosts if self.matches(h)]

    def __bool__(self) -> bool:
        return bool(self.clauses)


_cache: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    regex = _cache.get(pattern)
    if regex is None:
        regex = re.compile(fnmatch.translate(pattern), re.IGNORECASE)
        _cache[pattern] = regex
    return regex


def parse_atom(text: str, whole: str) -> Atom:
    """Parse one atom (``rack=A0*``, ``!role=db``, ``web-*``); raises UsageError when malformed."""
    body = text.strip()
    negated = body.startswith("!")
    if negated:
        body = body[1:].strip()
    if not body:
        raise UsageError(f"selector '{whole}': empty condition")
    key, sep, value = body.partition("=")
    if not sep:
        return Atom("name", body, negated)
    key = key.strip().lower()
    if key not in _GETTERS:
        raise UsageError(f"selector '{whole}': unknown key '{key}'{suggest(key, SELECTOR_KEYS)}; "
                         f"known keys: {', '.join(SELECTOR_KEYS)}")
    return Atom(key, value.strip(), negated)


def parse_selectors(selectors: Sequence[str] | str) -> Selector:
    """Parse selector strings (OR of strings, AND of comma-separated atoms in each).

    Raises ``UsageError`` for an unknown key or an empty condition.
    """
    if isinstance(selectors, str):
        selectors = [selectors]
    clauses = []
    for text in selectors:
        if not text.strip():
            raise UsageError("empty selector")
        clauses.append(tuple(parse_atom(part, text) for part in text.split(",")))
    return Selector(tuple(clauses))
