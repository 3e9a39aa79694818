"""Flap detection: how often a problem changed state over its last rounds. Pure.

Like Nagios' percent state change: each round that looked at the problem records bad or good
(a round that could not look records nothing); the share of changes between consecutive
records, recent ones weighing more (0.8 for the oldest change to 1.2 for the newest), is the
*change ratio*. A problem starts flapping when the ratio reaches ``flap_start`` and stops when it
falls below ``flap_stop`` (hysteresis, so it does not flap about flapping).

What convergence does with it (docs/patrol.md, "Flapping"): a flapping problem opens its incident
even though it never stayed bad ``open_after`` rounds in a row, the incident is marked flapping,
and it does not resolve while the problem flaps, however many good rounds come in a row.
"""

from __future__ import annotations

BAD, GOOD = "b", "g"


def record(history: str, bad: bool, window: int) -> str:
    """``history`` with this round's verdict appended, at most ``window`` long (newest last)."""
    return (history + (BAD if bad else GOOD))[-max(2, window):]


def change_ratio(history: str) -> float:
    """Weighted share of state changes between consecutive records, 0.0 .. 1.0."""
    n = len(history) - 1
    if n < 1:
        return 0.0
    total = changed = 0.0
    for i in range(n):
        weight = 0.8 + (0.4 * i / (n - 1) if n > 1 else 0.4)
        total += weight
        if history[i] != history[i + 1]:
            changed += weight
    return changed / total


def flapping(history: str, was_flapping: bool, *, start: float, stop: float, min_records: int) -> bool:
    """Is the problem flapping now? Needs ``min_records`` verdicts before it can start."""
    if len(history) < min_records and not was_flapping:
        return False
    ratio = change_ratio(history)
    return ratio >= stop if was_flapping else ratio >= start
