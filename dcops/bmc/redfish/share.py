"""Identical parts of kept documents shared between BMCs (pure; docs/bmc.md "Performance").

The fleet reader keeps each BMC's structural documents between rounds (service root, collections,
Manager, LogService). Across a fleet most of them are the same, part for part: BMCs of one model
list the same members, links and capabilities; only a few values (UUID, serial, clock) differ.
Decoded apart they cost ~19 KB of Python objects per BMC; ``DocPool.share`` returns a document equal
to the one given whose dicts, lists and strings are the ones an earlier document already had
wherever they are equal, so the fleet keeps one copy of each. Strings are interned
(``sys.intern``: they die with their last user); dicts and lists are looked up by the hash of
their content (key order included, values told apart by type: ``1``, ``1.0`` and ``True`` stay
distinct), and a hit is checked part by part before it is shared.

Shared documents must never be changed in place: nothing on the read path does (the parser only
reads; ``_only_new`` builds a new document). The pool forgets a part no document uses any more
(a BMC's documents are replaced on each inventory round) by its reference count, in one pass
after as many new parts as it held, so it costs O(1) per part over time.
"""

from __future__ import annotations

import sys
from typing import Any

# Stand-ins for True, False and None in a content key (True == 1 in Python; these do not).
_TRUE, _FALSE, _NONE = object(), object(), object()
# Deeper parts are kept as they came (a hostile BMC may nest 1,024 levels, orjson's limit: more
# than Python's recursion limit); Redfish documents are a few levels deep.
MAX_DEPTH = 32


class DocPool:
    """One pool per reader; ``share(doc)`` on every document to keep."""

    def __init__(self, prune_every: int = 4096) -> None:
        self._parts: dict[int, Any] = {}  # hash of a part's content key -> the part
        self._added = 0
        self._prune_at = prune_every

    def __len__(self) -> int:
        return len(self._parts)

    def share(self, doc: Any) -> Any:
        shared = self._share(doc, 0)[0]
        if self._added >= self._prune_at:
            self.prune()
        return shared

    def _share(self, value: Any, depth: int) -> tuple[Any, Any]:
        """(the shared value, what stands for it in its parent's content key)."""
        kind = type(value)
        if kind is str:
            value = sys.intern(value)
            return value, value
        if depth > MAX_DEPTH:
            return value, (4, id(value))
        if kind is dict:
            items: list[Any] = []
            out: dict[str, Any] = {}
            for key, item in value.items():
                shared, token = self._share(item, depth + 1)
                if type(key) is str:
                    key = sys.intern(key)
                out[key] = shared
                items.append(key)
                items.append(token)
            return self._pooled(hash((0, *items)), out)
        if kind is list:
            tokens: list[Any] = []
            members: list[Any] = []
            for item in value:
                shared, token = self._share(item, depth + 1)
                members.append(shared)
                tokens.append(token)
            return self._pooled(hash((1, *tokens)), members)
        if value is True:
            return value, _TRUE
        if value is False:
            return value, _FALSE
        if value is None:
            return value, _NONE
        if kind is int:
            return value, (2, value)
        if kind is float:
            return value, (3, value.hex())  # -0.0 and 0.0 stay apart
        return value, (4, id(value))  # anything else (JSON has nothing else): equal to nothing else

    def _pooled(self, key: int, built: Any) -> tuple[Any, Any]:
        # Parts are pooled by the hash of their content key only (the keys themselves would cost
        # more than the parts on a document seen once, ~1.4 KB per BMC): a hit is checked part by
        # part (``_same``), a collision keeps the new part to itself. A part stands for itself in
        # its parent's key by its id, a bare int (no scalar's token is one).
        known = self._parts.get(key)
        if known is None:
            self._parts[key] = built
            self._added += 1
            return built, id(built)
        if _same(known, built):
            return known, id(known)
        return built, id(built)

    def prune(self) -> None:
        """Forget the parts nothing but the pool holds. Newest first: a part is added after its
        children, so a parent let go here frees its children for the same pass."""
        for key in reversed(list(self._parts)):
            # 2: the pool's own reference and getrefcount's argument.
            if sys.getrefcount(self._parts[key]) <= 2:
                del self._parts[key]
        self._added = 0
        self._prune_at = max(self._prune_at, len(self._parts))


def _same(known: Any, built: Any) -> bool:
    """Whether two parts are the same, their own parts being shared already (so equal containers
    inside are one object): keys and order, and values by identity, or by type and value."""
    if type(known) is not type(built) or len(known) != len(built):
        return False
    if type(known) is dict:
        return all(ka == kb and _same_value(va, vb)
                   for (ka, va), (kb, vb) in zip(known.items(), built.items(), strict=True))
    return all(_same_value(a, b) for a, b in zip(known, built, strict=True))


def _same_value(a: Any, b: Any) -> bool:
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b) or kind is dict or kind is list:
        return False
    if kind is float:
        return bool(a.hex() == b.hex())  # -0.0 and 0.0 apart
    return bool(a == b)
