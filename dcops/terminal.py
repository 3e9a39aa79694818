"""Text from outside (a BMC's strings, an inventory's values) made safe to show on a terminal.

A BMC can put anything in a model name, a serial or an error message: escape sequences that
retitle the window, clear the screen or hide text, and megabytes of it. Everything dcops writes to
a terminal (tables, the text body, problem lines on stderr) passes through ``safe``: control
characters become visible ``\\xNN`` escapes (newline and tab are kept where a body may hold lines)
and over-long text is cut with a note saying how much. JSON output needs none of this: the JSON
encoder escapes control characters itself.
"""

from __future__ import annotations

import re

LIMIT = 4000  # characters of one message or cell; more is cut

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def safe(text: str, *, limit: int = LIMIT, lines: bool = False) -> str:
    """``text`` with control characters escaped and cut at ``limit`` characters. ``lines``: keep
    newlines and tabs (a multi-line body); otherwise they are escaped too (one-line messages)."""
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit} more characters cut)"
    return (_CONTROL if lines else _CONTROL_ONE_LINE).sub(_escape, text)
