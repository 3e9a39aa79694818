"""A bounded memo of values built from hashable inputs (pure; no I/O).

The parser builds frozen values (``Sensor``) from a few fields of a document. A steady patrol
round reads the same sensor of the same model with the same reading on many BMCs, minute after
minute: the value built once is the value built again. The memo hands the first one back when
*everything the build reads* is the same. Callers make the key; a key that cannot be hashed (a
BMC sent a list where a number belongs) is no key, and the value is built as usual.

Bounded: when it holds ``limit`` values it starts afresh (cheaper than an LRU per lookup, and a
fleet's distinct sensors-and-readings fit many times over)."""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    __slots__ = ("_values", "limit", "hits", "misses")

    def __init__(self, limit: int = 1 << 16) -> None:
        self._values: dict[Hashable, V] = {}
        self.limit = limit
        self.hits = 0
        self.misses = 0

    def lookup(self, key: Hashable) -> V | None:
        """The value stored under ``key``; None when there is none or ``key`` cannot be hashed
        (an unhashable input is never guessed at: the caller builds the value as usual)."""
        try:
            found = self._values.get(key)
        except TypeError:
            return None
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def store(self, key: Hashable, value: V) -> V:
        """Keep ``value`` under ``key`` (nothing when ``key`` cannot be hashed); returns ``value``."""
        if len(self._values) >= self.limit:
            self._values.clear()
        with contextlib.suppress(TypeError):  # an unhashable input: nothing kept
            self._values[key] = value
        return value

    def clear(self) -> None:
        self._values.clear()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._values)
