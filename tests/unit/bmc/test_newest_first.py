"""``$top=1`` on a newest-first log (newest.py): when the answer can say "nothing new", when it
must be checked against the page, and what a service that ignores ``$top`` or applies it to the
other end of the log looks like."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.bmc.redfish import newest
from dcops.bmc.visit import LogPosition

URI = "/redfish/v1/Managers/iDRAC.Embedded.1/LogServices/Sel/Entries"


def entry(n: int, created: str | None = None) -> dict[str, Any]:
    return {"@odata.id": f"{URI}/{n}", "Id": str(n), "Created": created or f"2026-12-07T10:{n % 60:02d}:00Z"}


def page(*ids: int, count: int | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"@odata.id": URI, "@odata.type": "#LogEntryCollection.LogEntryCollection",
                           "Members": [entry(n) for n in ids]}
    if count is not None:
        doc["Members@odata.count"] = count
    return doc


PAGE = page(9, 8, 7, 6, count=9)  # newest first

MISMATCH = [
    ("the first entry", page(9, count=9), None),
    ("a service that ignores $top", PAGE, "an answer with other than one entry, or no count"),
    ("applied at the other end (the oldest)", page(1, count=9), "its answer is not the first page's first entry"),
    ("another count", page(9, count=10), "its answer is not the first page's first entry"),
    ("no count", page(9), "an answer with other than one entry, or no count"),
    ("the same id, another time (ids reused after a clear)",
     {**page(9, count=9), "Members": [entry(9, "2020-01-01T00:00:00Z")]}, "its answer is not the first page's first entry"),
    ("no entry", page(count=9), "an answer with other than one entry, or no count"),
]


@pytest.mark.parametrize(("what", "head", "why"), MISMATCH, ids=[m[0] for m in MISMATCH])
def test_the_first_answer_is_checked_against_the_page(what: str, head: dict[str, Any], why: str | None) -> None:
    assert newest.mismatch(head, PAGE) == why


def test_an_empty_log_checks_nothing_yet() -> None:
    assert newest.mismatch(page(count=0), page(count=0)) == ""


NOTHING_NEW = [
    ("the newest seen, the same count", page(9, count=9), LogPosition("9", 9, "desc"), True),
    ("an older newest than the cursor (cannot be: read the page)", page(8, count=9),
     LogPosition("9", 9, "desc"), True),
    ("a newer entry", page(10, count=10), LogPosition("9", 9, "desc"), False),
    ("a newer entry, the count full and still", page(10, count=9), LogPosition("9", 9, "desc"), False),
    ("the log cleared (count down)", page(9, count=3), LogPosition("9", 9, "desc"), False),
    ("the same newest, more entries (an out-of-order write)", page(9, count=10), LogPosition("9", 9, "desc"), False),
    ("never read", page(9, count=9), LogPosition(None, 9, "desc"), False),
    ("no count seen before", page(9, count=9), LogPosition("9", None, "desc"), False),
    ("two entries", page(9, 8, count=9), LogPosition("9", 9, "desc"), False),
]


@pytest.mark.parametrize(("what", "head", "position", "quiet"), NOTHING_NEW, ids=[n[0] for n in NOTHING_NEW])
def test_nothing_new_only_when_the_newest_entry_and_count_say_so(what: str, head: dict[str, Any],
                                                                 position: LogPosition, quiet: bool) -> None:
    answer = newest.nothing_new(head, position)
    assert (answer is not None) is quiet
    if answer is not None:
        # What the parser reads as an empty page of this collection: no entries, no count (a count
        # above the entries listed would have it ask for the last page), the collection's identity.
        assert answer == {"@odata.id": URI, "@odata.type": "#LogEntryCollection.LogEntryCollection", "Members": []}
