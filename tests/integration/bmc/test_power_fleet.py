"""`dcops power plan|apply close` over 1,000 BMCs of ``dcops sim`` in 25 racks: the waves run in
order, per-rack and global concurrency hold (asserted from the simulator's request log),
stragglers are reported, and no session is left open. Also `power`/`boot`/`bmc show` end to end."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from dcops.cli.main import main
from dcops.sim.testing import ThreadedFleet
from tests.helpers.simfleet import PASSWORD, fleet, sessions

RACKS, HOSTS = 25, 1000


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(args))
    captured = capsys.readouterr()
    result = json.loads(captured.out) if captured.out.strip().startswith("{") else {}
    result["_stderr"] = captured.err[-3000:]
    return code, result


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DCOPS_TEST_BMC_PW", PASSWORD)
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    return tmp_path


@pytest.fixture
def big() -> Iterator[ThreadedFleet]:
    with fleet(HOSTS, ("generic-1s",), racks=RACKS, request_log=256) as running:
        yield running


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_close_1000_hosts_in_waves(env: Path, big: ThreadedFleet, capsys: pytest.CaptureFixture[str]) -> None:
    sim = big
    inv = sim.fleet.write_inventory(env / "site.yaml", "env:DCOPS_TEST_BMC_PW")
    # Stragglers: their graceful shutdown takes an hour. Every other host is off within a second of
    # its request on an idle machine; the 15 s graceful timeout leaves a busy one room to spare.
    stuck = list(range(7, HOSTS, 97))
    sim.call(lambda: [setattr(b, "timings", replace(b.timings, power_off=3600.0))
                      for b in (sim.fleet.bmc(i) for i in stuck)])
    policy = env / "policy.yaml"
    policy.write_text(yaml.safe_dump({
        "order": {"open": ["storage", "db", "compute"]},
        "concurrency": {"global": 60, "per_rack": 3}, "pause_seconds": 0.05,
        "stop_on_failure": {"max_failed": 100}, "graceful_timeout_seconds": 15,
        "verify_timeout_seconds": 15, "poll_seconds": 0.1}))
    code, plan = run(capsys, "power", "plan", "close", "-i", str(inv), "-l", "site=sim-dc1",
                     "--policy", str(policy), "-o", "json")
    assert code == 0, plan["_stderr"]
    assert [w["stage"] for w in plan["items"]][0] == "compute"
    assert max(w["count"] for w in plan["items"]) <= 60
    marks = sim.call(lambda: {b.index: (b.requests[-1][0] if b.requests else 0) for b in sim.fleet.created()})
    code, result = run(capsys, "power", "apply", "close", "-i", str(inv), "-l", "site=sim-dc1",
                       "--policy", str(policy), "--yes", "-o", "json", "--parallel", "100")
    assert code == 5, result["_stderr"]  # stragglers make the apply fail (never 70)
    names = [h.name for h in sim.fleet.hosts]
    stragglers = {i["host"] for i in result["items"] if i["result"] == "straggler"}
    assert stragglers == {names[i] for i in stuck}
    assert result["summary"]["stragglers"] == len(stuck)
    power = sim.call(lambda: {b.index: b.power for b in sim.fleet.created()})
    assert all(power[i] == "Off" for i in range(HOSTS) if i not in stuck)
    assert sessions(sim) == 0

    # Wave order and concurrency from the simulator's request log: a host's switching interval
    # runs from its first request to its first logout (the verification pass only reads).
    logs = sim.call(lambda: {b.index: [r for r in b.requests if r[0] > marks.get(b.index, 0)]
                             for b in sim.fleet.created()})
    wave_of = {h: w["wave"] for w in plan["items"] for h in w["hosts"]}
    rack_of = {h.name: h.rack for h in sim.fleet.hosts}
    first: dict[str, float] = {}
    end: dict[str, float] = {}
    resets: dict[str, float] = {}
    for index, entries in logs.items():
        name = names[index]
        for _, at, method, path, _, _ in entries:
            first.setdefault(name, at)
            if method == "DELETE" and "/sessions/" in path.lower() and name not in end:
                end[name] = at
            if method == "POST" and path.lower().endswith("computersystem.reset"):
                resets.setdefault(name, at)
    by_wave: dict[int, list[str]] = defaultdict(list)
    for name, wave in wave_of.items():
        by_wave[wave].append(name)
    waves = sorted(by_wave)
    for a, b in zip(waves, waves[1:], strict=False):
        assert max(end[h] for h in by_wave[a]) <= min(first[h] for h in by_wave[b])
        assert max(resets[h] for h in by_wave[a]) < min(resets[h] for h in by_wave[b])
    events = sorted([(first[h], 1, h) for h in first] + [(end[h], -1, h) for h in end])
    active: dict[str, int] = defaultdict(int)
    total = peak = 0
    for _, delta, name in events:
        active[rack_of[name]] += delta
        total += delta
        peak = max(peak, total)
        assert active[rack_of[name]] <= 3
        assert total <= 60
    assert peak > 3  # the waves did run in parallel


@pytest.mark.timeout(600)
def test_power_boot_show_commands_and_audit(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with fleet(2, ("generic-1s",)) as sim:
        sim.call(lambda: [sim.fleet.bmc(i).reset("ForceOff") for i in range(2)])
        inv = str(sim.fleet.write_inventory(env / "small.yaml", "env:DCOPS_TEST_BMC_PW"))
        a, b = (h.name for h in sim.fleet.hosts)
        code, out = run(capsys, "power", "status", "-i", inv, a, b, "-o", "json")
        assert code == 0 and [i["power"] for i in out["items"]] == ["off", "off"]
        code, out = run(capsys, "power", "on", "-i", inv, a, "-o", "json", "--timeout", "120")
        assert code == 0 and out["items"][0]["after"] == "on", out["_stderr"]
        code, _ = run(capsys, "power", "off", "-i", inv, a, "-o", "json")  # no --yes, no tty
        assert code == 2
        code, out = run(capsys, "bmc", "show", "-i", inv, b, "-o", "json")
        assert code == 0 and out["items"][0]["identity"]["serial"]
        code, out = run(capsys, "audit", "list", "-o", "json")
        assert [(e["action"], e["host"], e["result"]) for e in out["items"]] == [("power.on", a, "ok"),
                                                                                 ("power.on", a, "started")]
        assert sessions(sim) == 0
        doc = yaml.safe_load(Path(inv).read_text())
        doc["sites"][0]["rooms"][0]["racks"][0]["hosts"][1]["bmc"]["port"] = 1  # nothing listens there
        dead = env / "dead.yaml"
        dead.write_text(yaml.safe_dump(doc))
        code, out = run(capsys, "power", "status", "-i", str(dead), a, b, "-o", "json")
        assert code == 4 and out["items"][0]["power"] == "on" and out["items"][1]["power"] == "unreachable"
        assert b in out["_stderr"] and PASSWORD not in json.dumps(out)
