"""Benchmark: provision 200 simulated hosts with ``--parallel 50`` and compare the wall time with
the ideal time the simulator's delays imply (goal: within 1.5x), reporting CPU.

The fleet runs in this process (a background thread, ``dcops.sim.testing.ThreadedFleet``) with
reboots of a few seconds; ``dcops provision run`` runs as a *separate process*, so its CPU is
measured on its own (``RUSAGE_CHILDREN``) and the simulator's apart (``time.process_time``).

The ideal time of one host is the sum of the simulator's delays its workflow cannot avoid: each
firmware task, the BMC's reboot after its own update, each reset up to the end of POST, each RAID
operation, and the installer boot up to "OS running". With N workers taking hosts in inventory
order, the ideal wall time is the greedy schedule of those host times (no polling, no CPU, no
network). Post-install playbooks are left out (they cost ansible's time, not the simulator's;
`tests/integration/provision/test_provision_sim.py` runs them for real).

    .venv/bin/python -m tests.bench.bench_provision                 # 200 hosts, --parallel 50
    .venv/bin/python -m tests.bench.bench_provision --hosts 40 --parallel 10 --json
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dcops.sim.fleet import FleetSpec
from dcops.sim.state import Timings
from dcops.sim.testing import ThreadedFleet

ROOT = Path(__file__).resolve().parents[2]
PW_ENV = "DCOPS_BENCH_SIM_PW"
TIMINGS = Timings(power_on=1.0, power_off=1.0, boot=1.5, restart_gap=0.5, task=1.0, bmc_reboot=2.0, raid=0.5,
                  rebuild=5.0, ac_restore=1.0)

# What each profile's workflow does against the shipped baselines (checked by the integration
# tests): firmware updates, whether the BMC is among them, resets, RAID operations.
WORK = {
    "dell-r750": {"updates": 7, "bmc": 1, "resets": 2, "raid_ops": 2},
    "hpe-dl360-gen10p": {"updates": 4, "bmc": 1, "resets": 2, "raid_ops": 2},
    "lenovo-sr650v2": {"updates": 4, "bmc": 1, "resets": 1, "raid_ops": 2},
    "supermicro-x13": {"updates": 2, "bmc": 1, "resets": 2, "raid_ops": 0},
}


def ideal_host_seconds(profile: str, t: Timings) -> float:
    w = WORK[profile]
    post = t.restart_gap + t.power_on  # a reset, up to the end of POST
    return (w["updates"] * t.task + w["bmc"] * t.bmc_reboot + w["resets"] * post + w["raid_ops"] * t.raid
            + post + t.boot)  # the installer boot, up to "OS running"


def ideal_schedule(durations: list[float], workers: int) -> float:
    """Greedy list scheduling in order (what the provisioner's worker pool does)."""
    free = [0.0] * workers
    heapq.heapify(free)
    end = 0.0
    for d in durations:
        start = heapq.heappop(free)
        heapq.heappush(free, start + d)
        end = max(end, start + d)
    return end


def baselines(dest: Path, hosts: list[str]) -> Path:
    """The shipped baselines on loopback addresses, no playbooks (the integration tests run them)."""
    from tests.integration.provision.lab import sim_baselines

    return sim_baselines(dest, hosts, playbooks=False)


def run(hosts: int, parallel: int, poll: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="dcops-bench-provision-"))
    try:
        with ThreadedFleet(FleetSpec(hosts=hosts, timings=TIMINGS, request_log=16), start_timeout=120) as sim:
            names = [h.name for h in sim.fleet.hosts]
            inv = tmp / "inv.yaml"
            sim.fleet.write_inventory(inv, f"env:{PW_ENV}")
            base = baselines(tmp, names)
            # The provisioner runs with a service's environment (as under systemd), not this
            # shell's: requests scans every environment variable for proxies on each request.
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "XDG_STATE_HOME")}
            env.update({PW_ENV: sim.password, "DCOPS_STATE": f"sqlite:///{tmp}/state.db", "PYTHONPATH": str(ROOT)})
            argv = [sys.executable, "-m", "dcops", "provision", "run", "-l", "tag=sim", "-i", str(inv),
                    "--baselines", str(base), "--parallel", str(parallel), "--poll", str(poll), "--yes", "-o", "json"]
            sim_cpu0 = time.process_time()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
            wall = time.monotonic() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            sim_cpu = time.process_time() - sim_cpu0
            requests = sim.control.get("/v1/status").get("requests")
            result = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
            statuses: dict[str, int] = {}
            for item in result.get("items", []):
                statuses[item["status"]] = statuses.get(item["status"], 0) + 1
            durations = [ideal_host_seconds(h.profile.name, TIMINGS) for h in sim.fleet.hosts]
            ideal = ideal_schedule(durations, parallel)
            return {
                "hosts": hosts, "parallel": parallel, "poll_seconds": poll, "exit_code": proc.returncode,
                "statuses": statuses, "wall_seconds": round(wall, 1), "ideal_seconds": round(ideal, 1),
                "ratio": round(wall / ideal, 3),
                "ideal_host_seconds": {p: ideal_host_seconds(p, TIMINGS) for p in WORK},
                "provisioner_cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
                "provisioner_max_rss_mib": round(after.ru_maxrss / 1024, 1),
                "simulator_cpu_seconds": round(sim_cpu, 1), "bmc_requests": requests,
                "stderr_tail": proc.stderr[-1500:] if proc.returncode else "",
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between BMC polls")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.hosts, args.parallel, args.poll)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"provisioned {figures['hosts']} simulated hosts, --parallel {figures['parallel']}, "
              f"poll {figures['poll_seconds']}s: {figures['statuses']} (exit {figures['exit_code']})")
        print(f"  ideal (simulator delays, greedy schedule): {figures['ideal_seconds']} s  "
              f"(per host: {figures['ideal_host_seconds']})")
        print(f"  wall: {figures['wall_seconds']} s = {figures['ratio']}x ideal (goal <= 1.5x)")
        print(f"  CPU: provisioner {figures['provisioner_cpu_seconds']} s "
              f"(max RSS {figures['provisioner_max_rss_mib']} MiB), simulator {figures['simulator_cpu_seconds']} s, "
              f"{figures['bmc_requests']} BMC requests")
        if figures["stderr_tail"]:
            print(figures["stderr_tail"])
    ok = figures["exit_code"] == 0 and figures["ratio"] <= 1.5
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
