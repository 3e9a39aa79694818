"""Fitting a table into a terminal's width. Pure: no I/O.

Columns wider than their share give way first ("water-filling" from the top): the widest are cut
to a common width, the narrow ones keep theirs, and no column goes below its floor. A cut cell
ends with ``…``; nothing is ever wrapped onto a second line.
"""

from __future__ import annotations

from collections.abc import Sequence

ELLIPSIS = "…"
GAP = 2  # spaces between columns


def fit_widths(natural: Sequence[int], floors: Sequence[int], width: int | None, gap: int = GAP) -> list[int]:
    """Column widths that fit ``width`` characters (None: no limit), given each column's natural
    width (its longest cell or header) and the floor below which it is not cut."""
    widths = list(natural)
    if width is None or not widths:
        return widths
    budget = width - gap * (len(widths) - 1)
    if sum(widths) <= budget:
        return widths
    floors = [min(f, n) for f, n in zip(floors, natural, strict=True)]
    if sum(floors) >= budget:
        return floors  # cannot fit: every column at its floor, the line runs long
    low, high = 0, max(widths)
    while low < high:  # the highest common ceiling that fits
        mid = (low + high + 1) // 2
        if sum(min(n, max(mid, f)) for n, f in zip(natural, floors, strict=True)) <= budget:
            low = mid
        else:
            high = mid - 1
    fitted = [min(n, max(low, f)) for n, f in zip(natural, floors, strict=True)]
    spare = budget - sum(fitted)
    for i, n in enumerate(natural):  # hand out what rounding left, left to right
        if spare <= 0:
            break
        if fitted[i] < n:
            fitted[i] += 1
            spare -= 1
    return fitted


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, ending with … when cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS if width > 0 else ""
