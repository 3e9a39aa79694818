"""Durations as people write them on a command line: ``90s``, ``15m``, ``24h``, ``90d``, ``2w``."""

from __future__ import annotations

import datetime as dt
import re

from dcops.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``1h30m``-style durations. Raises ``UsageError`` naming the text when malformed."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise UsageError("empty duration")
    position, seconds = 0, 0.0
    for match in _PART.finditer(compact):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(compact) or position == 0:
        raise UsageError(f"not a duration: {text!r} (examples: 90s, 15m, 24h, 90d, 1h30m)")
    return dt.timedelta(seconds=seconds)
