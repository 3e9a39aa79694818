"""A newest-first log looked at with ``$top=1`` before its first page is read (pure; no I/O).

Dell iDRAC lists its SEL and Lifecycle log newest first, so ``$skip`` past the entries seen (how
an oldest-first log is read each minute: an empty page) does not apply, and the fleet reader read
the first page every minute: up to 50 entries, ~35 KB, nearly always nothing new. ``$top=1`` (DSP0266
"Query parameters": the first N members) asks for the newest entry alone: when it is the one seen
last and the count has not moved, nothing was added, and the page is not read. Anything else --
a newer entry, another count (added, or the log cleared), an answer that is not one entry with a
count -- reads the page as before.

Trusted only after one check: the first ``$top=1`` answer of a BMC must be the first entry of the
page read right after it, with the same count. A service that ignores ``$top`` (whole pages:
sushy-tools ignores every query option) or applies it in another order (the oldest entry) fails
it and is not asked again; a new entry -- a fault -- is never taken for none on a guess.
"""

from __future__ import annotations

from dcops.bmc.redfish.docs import Doc, last_segment
from dcops.bmc.redfish.keys import ID, MEMBERS, MEMBERS_COUNT, NEXT_LINK, ODATA_ID
from dcops.bmc.visit import LogPosition, record_order


def entry_id(member: Doc) -> str:
    """A log entry's id: ``Id``, else the last segment of its ``@odata.id``."""
    return str(member.get(ID) or last_segment(str(member.get(ODATA_ID, ""))))


def _members(doc: Doc) -> list[Doc]:
    return [m for m in doc.get(MEMBERS) or [] if isinstance(m, dict)]


def unusable(head: Doc) -> str | None:
    """Why a ``$top=1`` answer cannot say anything (None: it can)."""
    if len(_members(head)) != 1 or not isinstance(head.get(MEMBERS_COUNT), int):
        return "an answer with other than one entry, or no count"
    return None


def mismatch(head: Doc, page: Doc) -> str | None:
    """Why the first ``$top=1`` answer is not the first entry of the page read right after it
    (None: it is). An empty page checks nothing: ``""``, try again when the log has an entry."""
    first = next(iter(_members(page)), None)
    if first is None:
        return ""
    why = unusable(head)
    if why is not None:
        return why
    (top,) = _members(head)
    if head.get(MEMBERS_COUNT) != page.get(MEMBERS_COUNT) or entry_id(top) != entry_id(first) \
            or top.get("Created") != first.get("Created"):
        return "its answer is not the first page's first entry"
    return None


def nothing_new(head: Doc, position: LogPosition) -> Doc | None:
    """The reader's answer for "nothing added since ``position``" when a usable ``$top=1`` answer
    says so (what ``_only_new`` makes of such a page: the collection's own members, none listed, no
    count -- a count above the members listed would have the parser ask for the last page); None:
    read the page."""
    members = _members(head)
    if len(members) != 1 or position.cursor is None:
        return None
    if head.get(MEMBERS_COUNT) != position.count \
            or record_order(entry_id(members[0])) > record_order(position.cursor):
        return None
    quiet = {k: v for k, v in head.items() if k not in (MEMBERS, MEMBERS_COUNT, NEXT_LINK)}
    quiet[MEMBERS] = []
    return quiet
