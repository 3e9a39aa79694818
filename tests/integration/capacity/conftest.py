"""Fixtures of the capacity integration tests: a real Placement populated with the lab cloud
(session-wide: it takes a few seconds), and a Nova replay server per test."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.capacity.lab import Lab, lab
from tests.integration.capacity.nova_replay import NovaReplay
from tests.integration.capacity.placement_server import PlacementServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nova"


def _unavailable(reason: str) -> None:
    """Skip on a developer machine; in CI a missing peer is a failure, not a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the Placement tests)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def lab_cloud() -> Lab:
    return lab()


@pytest.fixture(scope="session")
def placement(tmp_path_factory: pytest.TempPathFactory, lab_cloud: Lab) -> Iterator[PlacementServer]:
    """A real Placement (openstack-placement under gunicorn, SQLite, noauth2) with the lab's
    providers, inventories, aggregates and allocations."""
    missing = [name for name, module in (("openstack-placement", "placement"), ("gunicorn", "gunicorn"))
               if importlib.util.find_spec(module) is None]
    if missing:
        _unavailable(f"{' and '.join(missing)} not installed: pip install openstack-placement gunicorn")
    # Installed but not starting is a real failure everywhere: start() raises with gunicorn's log.
    server = PlacementServer(tmp_path_factory.mktemp("placement")).start()
    try:
        server.populate(lab_cloud)
        yield server
    finally:
        server.stop()


@pytest.fixture
def nova() -> Iterator[NovaReplay]:
    """Nova's recorded answers for the lab cloud, served on loopback."""
    replay = NovaReplay(FIXTURES / "lab").start()
    yield replay
    replay.stop()
