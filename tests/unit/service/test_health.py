"""``/healthz`` of dcops serve: healthy until three intervals and a round's deadline pass without a
finished round. A table over the pure rule (dcops.service.serve.health)."""

from __future__ import annotations

import pytest

from dcops.service.serve import health


@pytest.mark.parametrize(("last", "now", "interval", "ok", "text"), [
    (None, 100.0, None, True, "ok (no patrol in this process)"),
    (None, 100.0, 60.0, True, "starting: no round finished yet"),
    (10.0, 100.0, 60.0, True, "last round 90s ago"),
    (10.0, 10.0 + 3 * 60 + 30, 60.0, True, "last round 210s ago"),  # exactly at the limit
    (10.0, 10.0 + 3 * 60 + 31, 60.0, False, "last round 211s ago (stale)"),
])
def test_health(last: float | None, now: float, interval: float | None, ok: bool, text: str) -> None:
    assert health(last, now, interval=interval, round_deadline=30.0) == (ok, text)
