"""Host patterns in Ansible's ``--limit`` grammar, with dcops's ``key=value`` terms inside it.

A pattern is a list of terms separated by ``,`` or ``:`` (a ``:`` inside ``[...]`` is part of a
glob class, not a separator)::

    sim-0001,sim-0002          union: either host
    web-*:db-*                 union, Ansible's older spelling
    rack=A01:&role=db          intersection: hosts in rack A01 that are databases
    site=fra:!tag=canary       exclusion: every host at fra except the canaries
    all:!rack=B0*              ``all`` (or ``*``) is every host
    ~trade-(db|oms)-0[12]      a regular expression on the host name (anchored at the start)

A term is ``all``, a host name or glob, ``~regex``, or ``key=value`` (the value may be a glob;
an empty value means "has none"); a leading ``&`` makes it an intersection, ``!`` an exclusion.
As in Ansible (``InventoryManager.order_patterns``) the result does not depend on the order of
the terms: the union of the plain terms (every host when there is none), intersected with each
``&`` term, minus each ``!`` term. Several pattern strings (``-l`` repeated, several positional
selectors) are each evaluated on their own and their results united. Globs and ``key=value`` match case-insensitively; a ``~regex``
is used as written, as Ansible does. ``[...]`` is a glob character class, not Ansible's
positional subscript ``group[0:2]`` (dcops patterns name hosts, not groups). Pure: no I/O.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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

Facts = Mapping[str, Sequence[str]]


def host_facts(host: Host) -> dict[str, tuple[str, ...]]:
    """What a pattern can test about a host: key -> values."""
    return {key: getter(host) for key, getter in _GETTERS.items()}


UNION, INTERSECT, EXCLUDE = "", "&", "!"


@dataclass(frozen=True)
class Term:
    """One term of a pattern: ``key`` matches ``pattern`` (``key`` is ``name`` for a bare glob,
    ``all`` for every host, ``regex`` for ``~...``), combined with the others by ``op``."""

    key: str
    pattern: str
    op: str = UNION

    def matches(self, facts: Facts) -> bool:
        if self.key == "all":
            return True
        if self.key == "regex":
            regex = _regex(self.pattern)
            return any(regex.match(value) for value in facts.get("name", ()))
        glob = _glob(self.pattern)
        return any(glob.match(value) for value in facts.get(self.key, ()))

    @property
    def literal_name(self) -> bool:
        """A plain host name (no glob): when it matches nothing it is probably a typo."""
        return self.key == "name" and self.op != EXCLUDE and not any(ch in self.pattern for ch in "*?[")

    def __str__(self) -> str:
        if self.key == "all":
            return f"{self.op}all"
        if self.key == "regex":
            return f"{self.op}~{self.pattern}"
        return f"{self.op}{self.pattern}" if self.key == "name" else f"{self.op}{self.key}={self.pattern}"


def _matches(terms: Sequence[Term], facts: Facts) -> bool:
    unions = [t for t in terms if t.op == UNION]
    if unions and not any(t.matches(facts) for t in unions):
        return False
    return all(t.matches(facts) for t in terms if t.op == INTERSECT) and \
        not any(t.matches(facts) for t in terms if t.op == EXCLUDE)


@dataclass(frozen=True)
class Selector:
    """Parsed patterns: a host is selected when it matches any of them. None selects every host."""

    patterns: tuple[tuple[Term, ...], ...] = ()

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(t for pattern in self.patterns for t in pattern)

    def matches_facts(self, facts: Facts) -> bool:
        """True when the facts (key -> values, see ``host_facts``) are selected. A key missing from
        ``facts`` has no value: its terms do not match (used for hosts no longer in the book)."""
        return not self.patterns or any(_matches(terms, facts) for terms in self.patterns)

    def matches(self, host: Host) -> bool:
        """True when the host is selected."""
        return not self.patterns or self.matches_facts(host_facts(host))

    def filter(self, hosts: Iterable[Host]) -> list[Host]:
        """The hosts that match, in their given order."""
        return [h for h in hosts if self.matches(h)]

    def unmatched(self, hosts: Iterable[Host]) -> list[Term]:
        """Plain host names of these patterns that name no host (Ansible warns about these too)."""
        names = {h.name.lower() for h in hosts}
        return [t for t in self.terms if t.literal_name and t.pattern.lower() not in names]

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __str__(self) -> str:
        return " ".join(",".join(str(t) for t in terms) for terms in self.patterns)


_globs: dict[str, re.Pattern[str]] = {}
_regexes: dict[str, re.Pattern[str]] = {}


def _glob(pattern: str) -> re.Pattern[str]:
    compiled = _globs.get(pattern)
    if compiled is None:
        compiled = _globs[pattern] = re.compile(fnmatch.translate(pattern), re.IGNORECASE)
    return compiled


def _regex(pattern: str) -> re.Pattern[str]:
    compiled = _regexes.get(pattern)
    if compiled is None:
        compiled = _regexes[pattern] = re.compile(pattern)
    return compiled


def split_pattern(text: str) -> list[str]:
    """Split a pattern on ``,`` and ``:`` outside ``[...]``; empty parts are kept (and refused later)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        if ch in ",:" and not depth:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_term(text: str, whole: str) -> Term:
    """Parse one term (``rack=A0*``, ``!role=db``, ``&web-*``, ``~db-\\d+``, ``all``).

    Raises ``UsageError`` naming the whole pattern when the term is empty, has an unknown key
    or an invalid regular expression.
    """
    body = text.strip()
    op = UNION
    if body[:1] in (INTERSECT, EXCLUDE):
        op, body = body[0], body[1:].strip()
    if not body:
        raise UsageError(f"selector '{whole}': empty term")
    if body[0] in (INTERSECT, EXCLUDE):
        raise UsageError(f"selector '{whole}': '{text.strip()}': one '&' or '!' per term")
    if body.lower() == "all" or body == "*":
        return Term("all", "*", op)
    if body.startswith("~"):
        try:
            _regex(body[1:])
        except re.error as exc:
            raise UsageError(f"selector '{whole}': bad regular expression '{body[1:]}': {exc}") from exc
        return Term("regex", body[1:], op)
    key, sep, value = body.partition("=")
    if not sep:
        return Term("name", body, op)
    key = key.strip().lower()
    if key not in _GETTERS:
        raise UsageError(f"selector '{whole}': unknown key '{key}'{suggest(key, SELECTOR_KEYS)}; "
                         f"known keys: {', '.join(SELECTOR_KEYS)}")
    return Term(key, value.strip(), op)


def parse_selectors(selectors: Sequence[str] | str) -> Selector:
    """Parse pattern strings (a host is selected when it matches any of them).

    Raises ``UsageError`` for an empty pattern or term, an unknown key or a bad regex.
    """
    if isinstance(selectors, str):
        selectors = [selectors]
    patterns = []
    for text in selectors:
        if not text.strip():
            raise UsageError("empty selector")
        patterns.append(tuple(parse_term(part, text) for part in split_pattern(text)))
    return Selector(tuple(patterns))


PATTERN_CHARS = "*?[=,:!&~"


def unmatched_warnings(selector: Selector, book: Sequence[Host]) -> list[str]:
    """One line per plain host name of ``selector`` that names no host of ``book``, with close
    names (Ansible warns "Could not match supplied host pattern" the same way). Pure."""
    import difflib

    known = [h.name for h in book]
    lines = []
    for term in selector.unmatched(book):
        close = difflib.get_close_matches(term.pattern, known, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        lines.append(f"no host '{term.pattern}' in the inventory{hint}")
    return lines


def narrow(hosts: Sequence[Host], limit: Selector, book: Sequence[Host],
           warn: Callable[[str], None] = lambda _line: None) -> list[Host]:
    """``hosts`` narrowed by the ``--limit`` selector (all of them when it is empty), in their
    order; each plain name of ``limit`` that is not in ``book`` is passed to ``warn``."""
    if not limit:
        return list(hosts)
    for line in unmatched_warnings(limit, book):
        warn(line)
    return list(limit.filter(hosts))


def choose_hosts(book: Sequence[Host], names: Sequence[str], limit: Selector | Callable[[], Selector], *,
                 get: Callable[[str], Host], warn: Callable[[str], None] = lambda _line: None) -> list[Host]:
    """The hosts a command works on: those named (names or patterns) narrowed by ``limit`` (as
    ``ansible PATTERN --limit SUBSET``); the hosts of ``limit`` alone when no name is given.
    ``get`` looks up a plain name (the book's ``Inventory.get``: UsageError naming close names).
    ``limit`` may be given as a function: it is then parsed after the names are checked, so an
    unknown host name is reported before a malformed ``--limit``.

    Raises UsageError when neither is given, a plain name is unknown, or nothing matches."""
    if not names and not callable(limit) and not limit:
        raise UsageError("name the hosts (or use --limit rack=A01, role=db, ...)")
    chosen: list[Host] = list(book)
    if names:
        for name in names:
            if not any(ch in name for ch in PATTERN_CHARS) and name.lower() != "all":
                get(name)  # UsageError with close names when unknown
        chosen = parse_selectors(list(names)).filter(book)
    chosen = narrow(chosen, limit() if callable(limit) else limit, book, warn)
    if not chosen:
        raise UsageError("no host matches")
    return chosen
