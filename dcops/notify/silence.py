"""Silences: mute the messages whose routing keys match, until a time. Pure.

A silence is a set of globs over a message's routing keys (``host``, ``rack``, ``part``,
``condition``; an empty glob matches anything) and, optionally, one pinned ``ref`` (an incident
number). Patrol stores silences (``patrol_silences``) and applies the same test when it decides
escalation; notify applies it before it queues anything.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.notify.message import Message

MATCHED_KEYS = ("host", "rack", "part", "condition")


@dataclass(frozen=True)
class Silence:
    """Mutes notifications of matching messages until ``until``. Matchers are globs; an empty
    matcher matches anything. ``incident`` pins one incident by number (the message's ``ref``)."""

    id: int
    until: dt.datetime
    host: str = ""
    rack: str = ""
    part: str = ""
    condition: str = ""
    incident: int | None = None
    created_by: str = ""
    reason: str = ""
    starts: dt.datetime | None = None  # a scheduled silence mutes nothing before this (None: from creation)

    def matches(self, keys: Mapping[str, Any], now: dt.datetime) -> bool:
        """Does this silence mute a message with routing ``keys`` (``ref`` the incident number) now?"""
        if now >= self.until or (self.starts is not None and now < self.starts):
            return False
        if self.incident is not None and keys.get("ref") != self.incident:
            return False
        pairs = ((self.host, keys.get("host")), (self.rack, keys.get("rack")), (self.part, keys.get("part")),
                 (self.condition, keys.get("condition")))
        return all(not pattern or fnmatch.fnmatchcase(str(value or ""), pattern) for pattern, value in pairs)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "until": self.until.isoformat(), "host": self.host, "rack": self.rack,
                "part": self.part, "condition": self.condition, "incident": self.incident,
                "created_by": self.created_by, "reason": self.reason,
                "starts": self.starts.isoformat() if self.starts else None}


def silenced(message: Message, silences: Sequence[Silence], now: dt.datetime) -> Silence | None:
    """The first silence that mutes ``message`` now, or None."""
    keys = {**message.keys, "ref": message.ref}
    return next((s for s in silences if s.matches(keys, now)), None)
