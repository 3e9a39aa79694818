"""An ipmi_sim BMC with serial-over-LAN enabled, its host's serial port echoing what is typed,
the host in a book, and a state store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dcops.models import BmcEndpoint, Host, Protocol
from dcops.store.db import Store, open_store
from tests.helpers.ipmi_sim import PASSWORD, USER, IpmiSim, ipmi_sims
from tests.helpers.serial_host import SerialHost


@dataclass
class SolLab:
    sim: IpmiSim
    serial: SerialHost
    host: Host
    store: Store
    state_url: str


@pytest.fixture
def sol_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SolLab]:
    monkeypatch.setenv("DCOPS_TEST_BMC_PASSWORD", PASSWORD)
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(url)
    with SerialHost() as serial, ipmi_sims(tmp_path / "ipmi", 1, sol_ports=[serial.port]) as sims:
        sim = sims[0]
        endpoint = BmcEndpoint(address="127.0.0.1", port=sim.port, protocol=Protocol.IPMI, username=USER,
                               password_ref="env:DCOPS_TEST_BMC_PASSWORD")
        yield SolLab(sim, serial, Host(name="sol-01", bmc=endpoint), store, url)
    store.close()
