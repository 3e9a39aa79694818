"""Per-test timeout marks are hang backstops, scaled for a busy machine."""

from __future__ import annotations

import pytest

from tests.helpers import timing


@pytest.mark.timeout(7)
def test_timeout_marks_are_scaled(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("timeout").args[0] == 7 * timing.BACKSTOP
