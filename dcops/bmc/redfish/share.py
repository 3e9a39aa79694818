"""Identical parts of kept documents shared between BMCs (pure; docs/bmc.md "Performance").

The fleet reader keeps each BMC's structural documents between rounds (service root, collections,
Manager, LogService). Across a fleet most of them are the same, part for part: BMCs of one model
list the same members, links and capabilities; only a few values (UUID, serial, clock) differ.
Decoded apart they cost ~19 KB of Python objects per BMC; ``DocPool.share`` returns a document equal
to the one given whose dicts, lists and strings are the ones an earlier document already had
wherever they are equal, so the fleet keeps one copy of each. Strings are interned
(``sys.intern``: they die with their last user); dicts and lists are looked up by their content
(key order included, and values told apart by type: ``1``, ``1.0`` and ``True`` stay distinct).

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
        self._parts: dict[tuple[Any, ...], Any] = {}
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
            return self._pooled((0, *items), out)
        if kind is list:
            tokens: list[Any] = []
            members: list[Any] = []
            for item in value:
                shared, token = self._share(item, depth + 1)
                members.append(shared)
                tokens.append(token)
            return self._pooled((1, *tokens), members)
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

    def _pooled(self, key: tuple[Any, ...], built: Any) -> tuple[Any, Any]:
        # A part stands for itself in its parent's key by its id, a bare int (no scalar's token is
        # one): the pool holds the part, and so keeps the id from being reused, as long as a key
        # naming it is in the pool (the parent holds its children).
        known = self._parts.get(key)
        if known is None:
            known = self._parts[key] = built
            self._added += 1
        return known, id(known)

    def prune(self) -> None:
        """Forget the parts nothing but the pool holds. Newest first: a part is added after its
        children, so a parent let go here frees its children for the same pass."""
        for key in reversed(list(self._parts)):
            # 2: the pool's own reference and getrefcount's argument.
            if sys.getrefcount(self._parts[key]) <= 2:
                del self._parts[key]
        self._added = 0
        self._prune_at = max(self._prune_at, len(self._parts))
