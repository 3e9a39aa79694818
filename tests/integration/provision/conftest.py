"""Fixtures of the provisioning integration tests: a simulated fleet on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.sim.fleet import FleetSpec
from dcops.sim.state import Timings
from dcops.sim.testing import ThreadedFleet

FAST = Timings.preset("fast").with_overrides({"task": 0.2, "bmc_reboot": 0.5, "boot": 0.3})


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    return tmp_path


@pytest.fixture
def fleet4() -> Iterator[ThreadedFleet]:
    """One host of each default profile (Dell, HPE, Lenovo, Supermicro)."""
    with ThreadedFleet(FleetSpec(hosts=4, timings=FAST, request_log=4096)) as sim:
        yield sim


# The real peers of the BMC layer's tests: sushy-tools and a loopback HTTP server for images.
from tests.integration.bmc.conftest import image_server, sushy  # noqa: E402,F401
