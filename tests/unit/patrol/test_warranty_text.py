"""How an incident line tells the engineer whether the part is still under warranty."""

from __future__ import annotations

import pytest

from dcops.cli.patrol import _warranty_text


@pytest.mark.parametrize("warranty, text", [
    ({}, ""),
    ({"end": None}, "warranty unknown"),
    ({"end": "2027-06-06", "days_left": 197}, "warranty until 2027-06-06 (197 days left)"),
    ({"end": "2026-11-21", "days_left": 0}, "warranty until 2026-11-21 (0 days left)"),
    ({"end": "2025-10-14", "days_left": -403}, "warranty EXPIRED 2025-10-14 (403 days ago)"),
])
def test_warranty_text(warranty: dict, text: str) -> None:
    assert _warranty_text(warranty) == text
