"""Benchmark: a minute-tier patrol round over N simulated BMCs (default 10,000) served by `dcops sim`
in its own process, over HTTPS with 100-300 ms of latency per request; dcops's own CPU per BMC
(``time.process_time`` of this process only), next to a plain ``redfish``-library walk of the same
documents (one session per BMC, a thread pool) measured in the same run; and an IPMI round over
ipmi_sim BMCs through pyghmi with kept sessions.

    .venv/bin/python -m tests.bench.bench_patrol                       # 10,000 BMCs, 24 ipmi_sim
    .venv/bin/python -m tests.bench.bench_patrol --hosts 1000 --ipmi 0 --json
    .venv/bin/python -m tests.bench.bench_patrol --hosts 1000 --ipmi 0 --page-size 75 \
        --trait gpu-baseboard --trait leak-detector --trait energy-counters   # real-service traits

Rounds: round 1 is cold (TLS handshakes, logins, discovery of each BMC's resource tree); rounds 2+
are the steady state the minute cadence runs in (kept sessions and connections, cached structure,
incremental logs). The inventory tier is off here (it is spread over the hour in production).

A simulator process holds a listening socket and a kept-alive patrol connection per BMC: 10,000 BMCs
need more than 20,000 open files. Where the hard limit cannot be raised (no CAP_SYS_RESOURCE), the
fleet is split over several simulator processes (``--sims``); otherwise the last BMCs' connections
are never accepted and they time out every round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def start_sim(directory: Path, hosts: int, latency: str, seed: int = 1, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    argv = [sys.executable, "-m", "dcops", "sim", "up", "--hosts", str(hosts), "--tls", "--latency", latency,
            "--timings", "fast", "--background", "--dir", str(directory), "--seed", str(seed), "--output", "json",
            *extra]
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"dcops sim up failed: {result.stderr[-2000:]}")
    return json.loads((directory / "state.json").read_text())


def stop_sim(directory: Path) -> None:
    subprocess.run([sys.executable, "-m", "dcops", "sim", "down", "--dir", str(directory)], cwd=REPO,
                   capture_output=True, timeout=120)


def sims_needed(hosts: int) -> int:
    """How many simulator processes the fleet needs so that each can hold a listening socket and a
    kept-alive patrol connection per BMC within the open-files hard limit (a process that cannot
    raise it -- no CAP_SYS_RESOURCE -- stops accepting connections for the last BMCs: those then
    time out every round)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return 1
    try:  # as root with CAP_SYS_RESOURCE the simulator raises it itself
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard + 1))
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        return 1
    except (ValueError, OSError):
        pass
    per_sim = max(1, (hard - 1024) // 2)
    return -(-hosts // per_sim)


def start_sims(base: Path, hosts: int, latency: str, count: int, extra: tuple[str, ...] = ()) -> list[Any]:
    """``count`` simulators sharing ``hosts``; the book of all (hosts of simulator k > 0 renamed
    ``s<k>-...``: each simulator names its hosts sim-0001, ...)."""
    import dataclasses

    from dcops.inventory import load_inventory

    book: list[Any] = []
    share = -(-hosts // count)
    for k in range(count):
        n = min(share, hosts - k * share)
        state = start_sim(base / f"sim{k}", n, latency, seed=k + 1, extra=extra)
        for host in load_inventory([Path(state["inventory"])]).hosts:
            book.append(dataclasses.replace(host, name=f"s{k}-{host.name}") if k else host)
    return book


def patrol_rounds(hosts: list[Any], store_url: str, rounds: int, concurrency: int) -> dict[str, Any]:
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol
    from dcops.store import open_store

    store = open_store(store_url)
    steady = load_patrol_config({"interval": 60, "concurrency": concurrency, "inventory_every": 0,
                                 "bmc_deadline": "20s", "round_deadline": "58s"})
    # The cold round (TLS handshakes, logins, discovery of every BMC's tree) happens once when
    # `dcops serve` starts; it gets room to finish, then the minute rounds are measured.
    cold = load_patrol_config({"interval": 60, "concurrency": concurrency, "inventory_every": 0,
                               "bmc_deadline": "300s", "round_deadline": "900s"})
    engine = Patrol(store, hosts, cold)
    engine.redfish.trace = {}
    out: list[dict[str, Any]] = []
    failures: dict[str, str] = {}

    async def run() -> None:
        for n in range(rounds):
            engine.config = cold if n == 0 else steady
            c0, t0 = time.process_time(), time.monotonic()
            summary = await engine.round()
            cpu, wall = time.process_time() - c0, time.monotonic() - t0
            out.append({"round": n + 1, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                        "cpu_ms_per_bmc": round(cpu * 1000 / len(hosts), 3), "requests": summary.requests,
                        "requests_per_bmc": round(summary.requests / len(hosts), 2),
                        "reachable": summary.reachable, "unreachable": summary.unreachable,
                        "missed": summary.missed, "open_incidents": len(summary.open_incidents)})
            for h in summary.hosts:
                if h.reachable is False:
                    failures[h.host] = h.error or "?"
            print(json.dumps(out[-1]), file=sys.stderr, flush=True)
        await engine.close()

    asyncio.run(run())
    trace = dict(engine.redfish.trace or {})
    return {"hosts": len(hosts), "rounds": out, "trace": trace, "book": hosts,
            "failures": dict(sorted(failures.items())[:20])}


def plain_redfish_walk(hosts: list[Any], trace: dict[str, list[str]], sample: int, threads: int) -> dict[str, Any]:
    """The same documents through the `redfish` library, used plainly: a client (and so an SSL
    context) per BMC, session login, the GETs, logout; a thread pool."""
    import redfish

    from dcops.secrets import resolve

    chosen = [h for h in hosts if trace.get(h.name)][:sample]
    password = resolve(chosen[0].bmc.password_ref).reveal()
    errors = 0
    lock = threading.Lock()

    def walk(host: Any) -> None:
        nonlocal errors
        try:
            client = redfish.redfish_client(base_url=host.bmc.url(), username=host.bmc.username, password=password,
                                            timeout=30, max_retry=1, cafile=host.bmc.ca_bundle)
            client.login(auth="session")
            for path in trace[host.name]:
                client.get(path)
            client.logout()
        except Exception:  # noqa: BLE001 - counted, reported
            with lock:
                errors += 1

    c0, t0 = time.process_time(), time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(walk, chosen))
    cpu, wall = time.process_time() - c0, time.monotonic() - t0
    docs = sum(len(trace[h.name]) for h in chosen) / max(1, len(chosen))
    return {"bmcs": len(chosen), "threads": threads, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "cpu_ms_per_bmc": round(cpu * 1000 / max(1, len(chosen)), 3), "documents_per_bmc": round(docs, 2),
            "errors": errors}


def ipmi_round(count: int, rounds: int) -> dict[str, Any] | None:
    if count <= 0 or not shutil.which("ipmi_sim"):
        return None
    from dcops.models import BmcEndpoint, Host, Location, Protocol
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol
    from dcops.store import open_store
    from tests.helpers.ipmi_sim import ipmi_sims

    os.environ["DCOPS_BENCH_IPMI_PW"] = "password"
    with tempfile.TemporaryDirectory() as tmp, ipmi_sims(Path(tmp), count) as bmcs:
        hosts = [Host(name=f"ipmi-{n}", bmc=BmcEndpoint(address="127.0.0.1", port=b.port, protocol=Protocol.IPMI,
                                                         username="admin", password_ref="env:DCOPS_BENCH_IPMI_PW"),
                      location=Location(rack="L01", u=n + 1)) for n, b in enumerate(bmcs)]
        engine = Patrol(open_store(f"sqlite:///{tmp}/s.db"), hosts,
                        load_patrol_config({"inventory_every": 0, "bmc_deadline": "30s", "ipmi_workers": 32}))
        out = []

        async def run() -> None:
            for n in range(rounds):
                c0, t0 = time.process_time(), time.monotonic()
                summary = await engine.round()
                cpu = time.process_time() - c0
                out.append({"round": n + 1, "wall_s": round(time.monotonic() - t0, 2), "cpu_s": round(cpu, 3),
                            "cpu_ms_per_bmc": round(cpu * 1000 / count, 2), "reachable": summary.reachable})
            await engine.close()

        asyncio.run(run())
        return {"bmcs": count, "rounds": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--latency", default="100-300ms")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--plain-sample", type=int, default=300, help="BMCs walked with the redfish library")
    parser.add_argument("--plain-threads", type=int, default=50)
    parser.add_argument("--ipmi", type=int, default=24, help="ipmi_sim BMCs (0: skip)")
    parser.add_argument("--sims", type=int, default=0,
                        help="simulator processes (0: as many as the open-files hard limit needs)")
    parser.add_argument("--trait", action="append", default=[], help="a real-service trait of dcops sim (repeatable)")
    parser.add_argument("--page-size", type=int, default=0, help="the simulator pages every collection at N")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    extra = tuple(a for t in args.trait for a in ("--trait", t)) + \
        (("--page-size", str(args.page_size)) if args.page_size else ())
    sim_dir = Path(tempfile.mkdtemp(prefix="dcops-bench-sim-"))
    sims = args.sims or sims_needed(args.hosts)
    report: dict[str, Any] = {"hosts": args.hosts, "latency": args.latency, "tls": True, "simulators": sims,
                              "traits": args.trait, "page_size": args.page_size}
    try:
        t0 = time.monotonic()
        book = start_sims(sim_dir, args.hosts, args.latency, sims, extra)
        report["sim_start_s"] = round(time.monotonic() - t0, 1)
        with tempfile.TemporaryDirectory() as tmp:
            result = patrol_rounds(book, f"sqlite:///{tmp}/bench.db", args.rounds, args.concurrency)
        report["patrol"] = result["rounds"]
        report["failures"] = result["failures"]
        report["plain_redfish"] = plain_redfish_walk(result["book"], result["trace"], args.plain_sample,
                                                     args.plain_threads)
    finally:
        for k in range(sims):
            stop_sim(sim_dir / f"sim{k}")
        shutil.rmtree(sim_dir, ignore_errors=True)
    report["ipmi"] = ipmi_round(args.ipmi, 3)
    steady = report["patrol"][-1]
    report["ratio_plain_cpu_over_dcops_cpu"] = round(
        report["plain_redfish"]["cpu_ms_per_bmc"] / max(steady["cpu_ms_per_bmc"], 1e-9), 1)
    report["verdict"] = {"round_under_60s": steady["wall_s"] < 60 and steady["missed"] == 0,
                         "cpu_per_bmc_under_2ms": steady["cpu_ms_per_bmc"] <= 2.0}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    traits = f", traits {', '.join(args.trait)}" if args.trait else ""
    pages = f", pages of {args.page_size}" if args.page_size else ""
    print(f"patrol, {args.hosts} BMCs, HTTPS, {args.latency} per request ({sims} simulator process(es)){traits}{pages}:")
    for r in report["patrol"]:
        print(f"  round {r['round']}{' (cold)' if r['round'] == 1 else ''}: {r['wall_s']:6.2f} s wall, {r['cpu_s']:6.2f} s CPU = {r['cpu_ms_per_bmc']:.3f} ms "
              f"CPU/BMC, {r['requests_per_bmc']} requests/BMC, {r['unreachable']} unreachable, {r['missed']} missed")
    p = report["plain_redfish"]
    print(f"plain redfish library ({p['bmcs']} BMCs, {p['threads']} threads, same {p['documents_per_bmc']} "
          f"documents/BMC): {p['cpu_ms_per_bmc']:.2f} ms CPU/BMC, {p['wall_s']} s wall, {p['errors']} errors")
    print(f"ratio plain/dcops CPU per BMC (steady round): {report['ratio_plain_cpu_over_dcops_cpu']}x")
    if report["ipmi"]:
        for r in report["ipmi"]["rounds"]:
            print(f"ipmi ({report['ipmi']['bmcs']} ipmi_sim, pyghmi, kept sessions) round {r['round']}: "
                  f"{r['wall_s']} s wall, {r['cpu_ms_per_bmc']} ms CPU/BMC")
    for host, error in report["failures"].items():
        print(f"  unreachable in some round: {host}: {error}")
    print(f"verdict: {report['verdict']}")


if __name__ == "__main__":
    main()
