"""The audit log's hash chain: the canonical form of an entry and its hash (pure).

Entry N's hash covers its content, its sequence number and entry N-1's hash, so an entry that is
deleted, altered or inserted breaks the chain from that point on. The form must never change once
shipped: stored hashes were computed with it (a new form would need a new chain version).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64
FIELDS = ("at", "actor", "host", "action", "result", "before", "after", "details", "run_id", "intent_id",
          "on_behalf_of")


def utc_text(at: dt.datetime) -> str:
    """A timestamp as the chain sees it: UTC, microseconds. SQLite hands back naive datetimes
    (stored in UTC by ``audit.record``); PostgreSQL hands back aware ones in the session zone."""
    at = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return at.isoformat(timespec="microseconds")


def canonical(content: Mapping[Any, Any], seq: int, prev: str) -> bytes:
    """The bytes hashed for one entry: its fields, seq and the previous hash, as sorted JSON."""
    doc = {name: content.get(name) for name in FIELDS}
    doc["at"] = utc_text(content["at"])
    doc["seq"] = seq
    doc["prev"] = prev
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(content: Mapping[Any, Any], seq: int, prev: str) -> str:
    return hashlib.sha256(canonical(content, seq, prev)).hexdigest()


def load_json(value: Any) -> Any:
    """A JSON column's value as Python, whichever way the driver handed it over."""
    return json.loads(value) if isinstance(value, str | bytes) else value


class ChainCheck:
    """Checks a chain fed entry by entry in seq order (a log of millions of entries is streamed,
    not loaded); ``problems(head)`` says what is wrong, empty when it is intact.

    Reports: entries without a seq (written around dcops), gaps in seq (deleted entries), a
    prev_hash that does not match the entry before (deleted or inserted entries), a hash that does
    not match the content (an altered or forged entry), and a head that does not match the last
    entry (the newest entries deleted)."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.unchained: list[int] = []
        self.entries = 0
        self.prev = GENESIS
        self.expected = 1
        self.hashes: dict[int, str] = {}

    def feed(self, row: Mapping[Any, Any], *, keep: set[int] | frozenset[int] = frozenset()) -> None:
        """One entry; ``keep``: the seqs whose hash the caller wants back (anchors)."""
        self.entries += 1
        if row["seq"] is None:
            self.unchained.append(int(row["id"]))
            return
        seq = int(row["seq"])
        if seq > self.expected:
            self.found.append(f"{_span(self.expected, seq - 1)} missing (deleted)")
        elif seq < self.expected:
            self.found.append(f"entry {seq} appears again (id {row['id']}): forged")
        elif row["prev_hash"] != self.prev:
            self.found.append(f"entry {seq} does not follow entry {seq - 1}: an entry was altered, deleted or inserted")
        if entry_hash(row, seq, str(row["prev_hash"])) != row["hash"]:
            self.found.append(f"entry {seq} (id {row['id']}) was altered: its content does not match its hash")
        if seq in keep:
            self.hashes[seq] = str(row["hash"])
        self.prev, self.expected = str(row["hash"]), max(self.expected, seq + 1)

    @property
    def last(self) -> int:
        return self.expected - 1

    def problems(self, head: tuple[int, str] | None) -> list[str]:
        found = list(self.found)
        if self.unchained:
            n = len(self.unchained)
            found.insert(0, f"{n} entr{'y' if n == 1 else 'ies'} outside the chain (written around dcops), "
                            f"ids {_ids(self.unchained)}")
        if head is None:
            found.append("the audit head is missing (deleted)")
        elif head[0] > self.last:
            found.append(f"{_span(self.last + 1, head[0])} missing (the newest were deleted)")
        elif head != (self.last, self.prev):
            found.append(f"the audit head (entry {head[0]}) does not match the last entry ({self.last})")
        return found


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (" ..." if len(ids) > 10 else "")


def _span(first: int, last: int) -> str:
    return f"entry {first} is" if first == last else f"entries {first}..{last} are"
