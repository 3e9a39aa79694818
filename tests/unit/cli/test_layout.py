"""Fitting tables to a terminal: dcops/cli/layout.py, as a table of cases."""

from __future__ import annotations

import pytest

from dcops.cli.layout import cut, fit_widths


@pytest.mark.parametrize(("natural", "floors", "width", "expected"), [
    ([10, 20, 30], [4, 4, 4], None, [10, 20, 30]),        # piped: no limit
    ([10, 20, 30], [4, 4, 4], 80, [10, 20, 30]),          # fits (60 + 2 gaps of 2)
    ([10, 20, 60], [4, 4, 4], 80, [10, 20, 46]),          # the widest gives way alone
    ([10, 40, 60], [4, 4, 4], 80, [10, 33, 33]),          # then the two widest share the cut
    ([24, 40, 60], [24, 4, 4], 60, [24, 16, 16]),         # the first column keeps its floor
    ([30, 30, 30], [10, 10, 10], 20, [10, 10, 10]),       # cannot fit: floors, the line runs long
    ([3, 50], [6, 6], 20, [3, 15]),                       # a floor above the natural width is no floor
    ([11, 11, 11], [4, 4, 4], 31, [9, 9, 9]),
    ([11, 11, 11], [4, 4, 4], 32, [10, 9, 9]),            # the remainder goes left to right
])
def test_fit_widths(natural: list[int], floors: list[int], width: int | None, expected: list[int]) -> None:
    fitted = fit_widths(natural, floors, width)
    assert fitted == expected
    if width is not None and sum(floors) + 2 * (len(floors) - 1) <= width:
        assert sum(fitted) + 2 * (len(fitted) - 1) <= width


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("PowerEdge R750", 20, "PowerEdge R750"),
    ("PowerEdge R750", 14, "PowerEdge R750"),
    ("PowerEdge R750", 10, "PowerEdge…"),
    ("PowerEdge R750", 1, "…"),
    ("PowerEdge R750", 0, ""),
])
def test_cut(text: str, width: int, expected: str) -> None:
    assert cut(text, width) == expected
    assert len(cut(text, width)) <= width
