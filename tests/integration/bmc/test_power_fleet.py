"""`dcops power plan|apply close|open` over 1,000 simulated BMCs in racks: the waves run in order,
per-rack and global concurrency hold (asserted from the fleet's request log), stragglers are
reported, and no session is left open. Also the `dcops power`/`boot`/`bmc show` commands end to end.

The fleet is tests/unit/bmc/fleet.py (one aiohttp loop, one port per BMC) because dcops sim has
no fleet/control API yet; swap it in when it has.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from dcops.cli.main import main
from tests.unit.bmc.fleet import Fleet, Running, build

RACKS, PER_RACK_HOSTS = 25, 40
ROLES = ["storage"] * 4 + ["db"] * 6 + ["app"] * 20 + ["web"] * 10


def inventory(fleet: Fleet, path: Path) -> Path:
    racks = []
    for r in range(RACKS):
        hosts = []
        for u in range(PER_RACK_HOSTS):
            bmc = fleet.bmcs[r * PER_RACK_HOSTS + u]
            hosts.append({"name": f"n{bmc.index:04d}", "u": u + 1, "role": ROLES[u],
                          "bmc": {"address": "127.0.0.1", "port": bmc.port, "scheme": "http",
                                  "protocol": "redfish"}})
        racks.append({"name": f"R{r:02d}", "height": 42, "hosts": hosts})
    doc = {"version": 1, "defaults": {"bmc": {"username": "admin", "password": "env:DCOPS_TEST_BMC_PW"}},
           "sites": [{"name": "dc1", "rooms": [{"name": "r1", "racks": racks}]}]}
    path.write_text(yaml.safe_dump(doc))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(args))
    captured = capsys.readouterr()
    result = json.loads(captured.out) if captured.out.strip().startswith("{") else {}
    result["_stderr"] = captured.err[-3000:]
    return code, result


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DCOPS_TEST_BMC_PW", "s3cret-pw")
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    return tmp_path


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_close_1000_hosts_in_waves(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fleet = build(RACKS * PER_RACK_HOSTS, power="On")
    for bmc in fleet.bmcs[7::97]:
        bmc.ignore_graceful = True  # stragglers: never finish a graceful shutdown
    policy = env / "policy.yaml"
    policy.write_text(yaml.safe_dump({
        "order": {"open": ["storage", "db", "app", "web"]},
        "concurrency": {"global": 60, "per_rack": 3}, "pause_seconds": 0.05,
        "stop_on_failure": {"max_failed": 100}, "graceful_timeout_seconds": 0.3,
        "verify_timeout_seconds": 2, "poll_seconds": 0.05}))
    with Running(fleet):
        inv = inventory(fleet, env / "site.yaml")
        code, plan = run(capsys, "power", "plan", "close", "-i", str(inv), "-l", "site=dc1",
                         "--policy", str(policy), "-o", "json")
        assert code == 0
        assert [w["stage"] for w in plan["items"]][0] == "web"
        assert max(w["count"] for w in plan["items"]) <= 60
        start = len(fleet.log)
        code, result = run(capsys, "power", "apply", "close", "-i", str(inv), "-l", "site=dc1",
                           "--policy", str(policy), "--yes", "-o", "json", "--parallel", "100")
        log = fleet.log[start:]
        assert fleet.active_sessions() == 0
    assert code == 5, result["_stderr"]  # stragglers make the apply fail
    stragglers = {i["host"] for i in result["items"] if i["result"] == "straggler"}
    assert stragglers == {f"n{b.index:04d}" for b in fleet.bmcs[7::97]}
    assert all(b.power == "Off" for b in fleet.bmcs if not b.ignore_graceful)

    # Wave order and concurrency from the request log: a host's switching interval runs from
    # its first request to its first logout (the later verification pass only reads).
    wave_of = {h: w["wave"] for w in plan["items"] for h in w["hosts"]}
    rack_of = {f"n{b.index:04d}": b.index // PER_RACK_HOSTS for b in fleet.bmcs}
    first: dict[str, float] = {}
    end: dict[str, float] = {}
    resets: dict[str, float] = {}
    for at, index, method, path, _ in log:
        name = f"n{index:04d}"
        first.setdefault(name, at)
        if method == "DELETE" and name not in end:
            end[name] = at
        if method == "POST" and path.endswith("computersystem.reset"):
            resets.setdefault(name, at)
    by_wave: dict[int, list[str]] = defaultdict(list)
    for name, wave in wave_of.items():
        by_wave[wave].append(name)
    waves = sorted(by_wave)
    for a, b in zip(waves, waves[1:], strict=False):
        assert max(end[h] for h in by_wave[a]) <= min(first[h] for h in by_wave[b])
        assert max(resets[h] for h in by_wave[a]) < min(resets[h] for h in by_wave[b])
    events = sorted([(first[h], 1, h) for h in first] + [(end[h], -1, h) for h in end])
    active: dict[int, int] = defaultdict(int)
    total = peak = 0
    for _, delta, name in events:
        active[rack_of[name]] += delta
        total += delta
        peak = max(peak, total)
        assert active[rack_of[name]] <= 3
        assert total <= 60
    assert peak > 3  # the waves did run in parallel


@pytest.mark.timeout(60)
def test_power_boot_show_commands_and_audit(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fleet = build(2, power="Off")
    with Running(fleet):
        inv = str(inventory_small(fleet, env / "small.yaml"))
        code, out = run(capsys, "power", "status", "-i", inv, "n0000", "n0001", "-o", "json")
        assert code == 0 and [i["power"] for i in out["items"]] == ["off", "off"]
        code, out = run(capsys, "power", "on", "-i", inv, "n0000", "-o", "json", "--timeout", "5")
        assert code == 0 and out["items"][0]["after"] == "on"
        code, _ = run(capsys, "power", "off", "-i", inv, "n0000", "-o", "json")  # no --yes, no tty
        assert code == 2
        code, out = run(capsys, "bmc", "show", "-i", inv, "n0001", "-o", "json")
        assert code == 0 and out["items"][0]["identity"]["serial"] == "SN1"
        code, out = run(capsys, "audit", "list", "-o", "json")
        assert [(e["action"], e["host"], e["result"]) for e in out["items"]] == [("power.on", "n0000", "ok")]
        assert fleet.active_sessions() == 0
        fleet.bmcs[1].port = 1  # nothing listens there: unreachable
        inv = str(inventory_small(fleet, env / "dead.yaml"))
        code, out = run(capsys, "power", "status", "-i", inv, "n0000", "n0001", "-o", "json")
        assert code == 4 and out["items"][0]["power"] == "on" and out["items"][1]["power"] is None
        assert "n0001" in out["_stderr"] and "s3cret-pw" not in json.dumps(out)


def inventory_small(fleet: Fleet, path: Path) -> Path:
    hosts = [{"name": f"n{b.index:04d}", "u": b.index + 1,
              "bmc": {"address": "127.0.0.1", "port": b.port, "scheme": "http", "protocol": "redfish"}}
             for b in fleet.bmcs]
    doc = {"version": 1, "defaults": {"bmc": {"username": "admin", "password": "env:DCOPS_TEST_BMC_PW"}},
           "sites": [{"name": "dc1", "rooms": [{"name": "r1", "racks": [{"name": "R1", "hosts": hosts}]}]}]}
    path.write_text(yaml.safe_dump(doc))
    return path
