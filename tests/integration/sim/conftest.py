"""Fleets on real loopback sockets, each in a background thread, stopped after the test (the
helpers live in tests/helpers/simfleet.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.simfleet import Factory, factory, wait_for

__all__ = ["Factory", "fleet_factory", "need", "wait_for"]


@pytest.fixture
def fleet_factory() -> Iterator[Factory]:
    """``make(hosts=1, profiles=("generic-1s",), ssl_context=None, **FleetSpec fields)``."""
    yield from factory()


def need(module: str) -> None:
    """Skip when a third-party client is missing locally; fail in CI, where it must be installed."""
    import importlib.util
    import os

    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is needed in CI (pip install {module.replace('_', '-')})")
        pytest.skip(f"{module} is not installed")
