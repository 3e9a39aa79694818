"""`dcops provision run --per-rack N` over simulated hosts in three racks: from the simulator's
request log, never more than N hosts of one rack are between their first change and their last
request (which spans every reboot-causing step: firmware, BIOS, RAID, OS install) at once, while
racks do proceed in parallel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from tests.integration.provision.conftest import FAST
from tests.integration.provision.lab import cli, requests, sim_baselines, write_inventory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]

RACKS, PER_RACK_HOSTS, LIMIT = 3, 3, 2


def _window(log: list[dict[str, Any]]) -> tuple[float, float]:
    """From the host's first change (any write but a login) to its last request before the logout."""
    writes = [r for r in log if r["method"] != "GET" and "/SessionService/Sessions" not in r["path"]]
    rest = [r for r in log if not (r["method"] == "DELETE" and "/SessionService/Sessions/" in r["path"])]
    assert writes and any(r["path"].endswith("ComputerSystem.Reset") for r in writes), "the host never rebooted"
    return float(writes[0]["time"]), float(rest[-1]["time"])


def _most_at_once(windows: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in windows] + [(end, -1) for _, end in windows],
                   key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def test_per_rack_limit_holds_over_reboot_causing_steps(state: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    spec = FleetSpec(hosts=RACKS * PER_RACK_HOSTS, racks=RACKS, timings=FAST, request_log=8192)
    with ThreadedFleet(spec) as sim:
        racks: dict[str, list[str]] = {}
        for host in sim.fleet.hosts:
            racks.setdefault(host.rack, []).append(host.name)
        assert sorted(len(v) for v in racks.values()) == [PER_RACK_HOSTS] * RACKS, racks
        inv = write_inventory(sim, tmp_path / "inv.yaml", monkeypatch)
        base = sim_baselines(tmp_path, [h.name for h in sim.fleet.hosts], playbooks=False)
        code, data, err = cli(capsys, "provision", "run", "-l", "tag=sim", "-i", str(inv), "--baselines", str(base),
                              "--poll", "0.05", "--wait-limit", "40", "--parallel", str(len(sim.fleet.hosts)),
                              "--per-rack", str(LIMIT), "--yes", "--allow-unverified")
        assert code == 0, err[-3000:]
        assert {i["status"] for i in data["items"]} == {"delivered"}, data["items"]
        windows = {name: _window(requests(sim, name)) for names in racks.values() for name in names}
    per_rack = {rack: _most_at_once([windows[n] for n in names]) for rack, names in racks.items()}
    assert max(per_rack.values()) <= LIMIT, per_rack
    assert LIMIT in per_rack.values(), per_rack  # the limit was reached, not merely respected by chance
    assert _most_at_once(list(windows.values())) > LIMIT  # racks are not serialised by it
