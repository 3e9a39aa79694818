"""Benchmark: dcops's patrol next to its peers, each over the same simulated fleet in one run.

Redfish (``dcops sim``, HTTPS, 100-300 ms per request): dcops's minute rounds (cold, then steady),
the DMTF ``redfish`` library walking the same documents (a client per BMC given the CA file, session
login, the GETs, logout; a thread pool) and OpenStack ``sushy`` kept per BMC the way Ironic keeps it
(one ``Sushy`` object and session per BMC, logged in before the measured round) reading the same
documents through its connector. The peers are measured after each of dcops's steady rounds,
while dcops waits, and each ratio is taken within its pair; the verdict uses the median pair (the
machine's speed drifts by 25-50% over minutes, and peers measured once gave ratios from 9.0x to
12.4x for the same code within an hour).

IPMI (OpenIPMI ``ipmi_sim``, loopback UDP): dcops's rounds through pyghmi with kept sessions, and
``prometheus-ipmi-exporter`` (Debian package; FreeIPMI underneath, module settings from
../shared/lab/PEERS.md) scraping every BMC, all at once and one after another.

Each side runs in its own process so its CPU (``process_time`` / ``/proc`` utime+stime of the
exporter and the FreeIPMI tools it runs) and its peak RSS (VmHWM) are its own.

    .venv/bin/python -m tests.bench.patrol_peers                         # 1,000 Redfish, 200 IPMI
    .venv/bin/python -m tests.bench.patrol_peers --hosts 300 --ipmi 50 --json
    .venv/bin/python -m tests.bench.patrol_peers --hosts 0 --ipmi 200    # IPMI only

The exporter is not a test dependency: install it for this benchmark (``apt-get install
prometheus-ipmi-exporter freeipmi-tools``); without it the IPMI side prints dcops's figures only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.bench import bench_patrol

EXPORTER = "prometheus-ipmi-exporter"
EXPORTER_CONFIG = """modules:
  default:
    user: admin
    pass: password
    driver: LAN_2_0
    privilege: admin
    workaround_flags: [opensesspriv]
    collectors: [bmc, ipmi, chassis, sel]
"""


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process and of its children it waited for, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def in_child(func: Any, *args: Any) -> Any:
    """Run ``func(*args)`` in a fresh process (its own CPU and peak RSS); returns its result."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(func, args)


# ---------------------------------------------------------------------------------------- Redfish
def dcops_redfish(conn: Any, book: list[Any], rounds: int, concurrency: int, sims: list[dict[str, Any]]) -> None:
    """dcops's rounds in a process of its own, paired with the peers: after each steady round it
    sends ("round", figures, trace) over ``conn`` and waits for "go" (the peers measured in the
    meantime), at the end ("done", result, trace)."""
    def after(row: dict[str, Any], trace: dict[str, list[str]]) -> None:
        # The documents of this round: the peers read what dcops read in the round they are
        # compared with (the first steady round reads a little more than the later ones).
        conn.send(("round", row, trace))
        conn.recv()

    with tempfile.TemporaryDirectory() as tmp:
        result = bench_patrol.patrol_rounds(book, f"sqlite:///{tmp}/bench.db", rounds, concurrency, sims, after=after)
        probe = bench_patrol.tls_probe(book[0], sims)
    conn.send(("done", {"rounds": result["rounds"], "failures": result["failures"], "peak_rss_mb": vm_hwm_mb(),
                        "rss_before_mb": result["rss_before_mb"], "tls_probe": probe}, result["trace"]))
    conn.close()


def paired(book: list[Any], rounds: int, concurrency: int, sims: list[dict[str, Any]], sample: int,
           threads: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """dcops's rounds, and after each steady one the ``redfish`` library and sushy over the same
    documents, each side in its own process. A ratio is taken within a pair (the peers measured
    right after the round they are compared with): on a shared machine whose speed drifts by
    25-50% over minutes, peers measured once after all of dcops's rounds gave ratios of 9.0x to
    12.4x for the same code in one hour. Returns dcops's result and the pairs."""
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    proc = ctx.Process(target=dcops_redfish, args=(there, book, rounds, concurrency, sims))
    proc.start()
    pairs: list[dict[str, Any]] = []
    try:
        while True:
            kind, payload, trace = here.recv()
            if kind == "done":
                dcops = payload
                break
            pair: dict[str, Any] = {"round": payload["round"], "dcops_cpu_ms": bench_patrol.steady_cpu_ms(payload)}
            pair["redfish_library"] = in_child(redfish_library, book, trace, sample, threads)
            pair["sushy"] = in_child(sushy_kept, book, trace, sample, threads)
            for peer in ("redfish_library", "sushy"):
                pair[f"ratio_{peer}_cpu"] = round(pair[peer]["cpu_ms_per_bmc"] / max(pair["dcops_cpu_ms"], 1e-9), 1)
            pairs.append(pair)
            here.send("go")
    finally:
        proc.join(60)
        if proc.is_alive():
            proc.kill()
    return dcops, pairs


def redfish_library(book: list[Any], trace: dict[str, list[str]], sample: int, threads: int) -> dict[str, Any]:
    out = bench_patrol.plain_redfish_walk(book, trace, sample, threads)
    out["peak_rss_mb"] = vm_hwm_mb()
    return out


def sushy_kept(book: list[Any], trace: dict[str, list[str]], sample: int, threads: int) -> dict[str, Any]:
    """Ironic's way: a ``Sushy`` object (and its session) kept per BMC; the measured round reads
    the documents dcops read through each object's connector."""
    import sushy

    from dcops.secrets import resolve

    chosen = [h for h in book if trace.get(h.name)][:sample]
    password = resolve(chosen[0].bmc.password_ref).reveal()
    clients: dict[str, Any] = {}
    errors = 0

    def connect(host: Any) -> None:
        clients[host.name] = sushy.Sushy(host.bmc.url() + "/redfish/v1", verify=host.bmc.ca_bundle or True,
                                         auth=sushy.auth.SessionAuth(host.bmc.username, password))

    def walk(host: Any) -> int:
        try:
            conn = clients[host.name]._conn
            for path in trace[host.name]:
                conn.get(path).json()
            return 0
        except Exception:  # noqa: BLE001 - counted, reported
            return 1

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(connect, chosen))  # logins: not measured (Ironic keeps them)
        c0, t0 = time.process_time(), time.monotonic()
        errors = sum(pool.map(walk, chosen))
        cpu, wall = time.process_time() - c0, time.monotonic() - t0
    docs = sum(len(trace[h.name]) for h in chosen) / max(1, len(chosen))
    return {"bmcs": len(chosen), "threads": threads, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "cpu_ms_per_bmc": round(cpu * 1000 / max(1, len(chosen)), 3), "documents_per_bmc": round(docs, 2),
            "errors": errors, "peak_rss_mb": vm_hwm_mb()}


def redfish_side(hosts: int, latency: str, rounds: int, concurrency: int, sample: int, threads: int,
                 traits: tuple[str, ...] = ()) -> dict[str, Any]:
    sim_dir = Path(tempfile.mkdtemp(prefix="dcops-peers-sim-"))
    sims = bench_patrol.sims_needed(hosts)
    try:
        t0 = time.monotonic()
        book = bench_patrol.start_sims(sim_dir, hosts, latency, sims,
                                       extra=tuple(arg for t in traits for arg in ("--trait", t)))
        out: dict[str, Any] = {"bmcs": hosts, "latency": latency, "simulators": sims, "traits": list(traits),
                               "sim_start_s": round(time.monotonic() - t0, 1)}
        out["dcops"], out["pairs"] = paired(book, rounds, concurrency, bench_patrol.sim_handles(sim_dir, sims),
                                            sample, threads)
    finally:
        for k in range(sims):
            bench_patrol.stop_sim(sim_dir / f"sim{k}")
        shutil.rmtree(sim_dir, ignore_errors=True)
    if not out["pairs"]:
        raise SystemExit("no steady round to compare: --rounds must be 2 or more")
    for peer in ("redfish_library", "sushy"):
        # The median pair's ratio (the lower of the middle two of an even count), and its peer figures.
        ranked = sorted(out["pairs"], key=lambda p, peer=peer: p[f"ratio_{peer}_cpu"])
        middle = ranked[(len(ranked) - 1) // 2]
        out[f"ratio_{peer}_cpu"] = middle[f"ratio_{peer}_cpu"]
        out[peer] = middle[peer]
    rounds = out["dcops"]["rounds"]
    out["cold_breakdown"] = bench_patrol.cold_breakdown(hosts, rounds, out["dcops"]["tls_probe"], concurrency,
                                                        bench_patrol.mean_latency_ms(latency))
    out["load_average"] = [round(x, 1) for x in os.getloadavg()]
    out["verdicts"] = bench_patrol.verdicts(hosts, rounds, {p: out[f"ratio_{p}_cpu"] for p in ("redfish_library", "sushy")})
    return out


# ------------------------------------------------------------------------------------------- IPMI
def dcops_ipmi(ports: list[int], rounds: int, workers: int) -> dict[str, Any]:
    import asyncio

    from dcops.models import BmcEndpoint, Host, Location, Protocol
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol
    from dcops.store import open_store

    os.environ["DCOPS_BENCH_IPMI_PW"] = "password"
    hosts = [Host(name=f"ipmi-{n}", bmc=BmcEndpoint(address="127.0.0.1", port=port, protocol=Protocol.IPMI,
                                                     username="admin", password_ref="env:DCOPS_BENCH_IPMI_PW"),
                  location=Location(rack="L01", u=n % 42 + 1)) for n, port in enumerate(ports)]
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = Patrol(open_store(f"sqlite:///{tmp}/s.db"), hosts,
                        load_patrol_config({"inventory_every": 0, "bmc_deadline": "30s", "ipmi_workers": workers}))

        async def run() -> None:
            for n in range(rounds):
                c0, t0 = time.process_time(), time.monotonic()
                summary = await engine.round()
                cpu = time.process_time() - c0
                out.append({"round": n + 1, "wall_s": round(time.monotonic() - t0, 2), "cpu_s": round(cpu, 3),
                            "cpu_ms_per_bmc": round(cpu * 1000 / len(hosts), 2),
                            "requests_per_bmc": round(summary.requests / len(hosts), 2),
                            "reachable": summary.reachable})
            await engine.close()

        asyncio.run(run())
    return {"rounds": out, "peak_rss_mb": vm_hwm_mb()}


def exporter_scrapes(ports: list[int], rounds: int) -> dict[str, Any] | None:
    exe = shutil.which(EXPORTER)
    if exe is None:
        return None
    from tests.helpers.ipmi_sim import free_port
    from tests.helpers.simfleet import wait_for
    from tests.helpers.timing import PATIENT

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ipmi.yml").write_text(EXPORTER_CONFIG)
        port = free_port()
        proc = subprocess.Popen([exe, f"--config.file={tmp}/ipmi.yml", f"--web.listen-address=127.0.0.1:{port}",
                                 "--log.level=error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            def up() -> bool:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
                    return True
                except OSError:
                    return False

            wait_for(up, PATIENT, "ipmi_exporter")

            def scrape(bmc_port: int) -> bool:
                url = f"http://127.0.0.1:{port}/ipmi?target=127.0.0.1:{bmc_port}&module=default"
                body = urllib.request.urlopen(url, timeout=120).read().decode()
                return 'ipmi_up{collector="ipmi"} 1' in body

            out: dict[str, Any] = {}
            for mode, threads in (("concurrent", len(ports)), ("one_after_another", 1)):
                runs = []
                for _ in range(rounds):
                    c0, t0 = proc_cpu_s(proc.pid), time.monotonic()
                    with ThreadPoolExecutor(max_workers=threads) as pool:
                        ok = sum(pool.map(scrape, ports))
                    cpu = proc_cpu_s(proc.pid) - c0
                    runs.append({"wall_s": round(time.monotonic() - t0, 2), "cpu_s": round(cpu, 2),
                                 "cpu_ms_per_bmc": round(cpu * 1000 / len(ports), 2), "up": ok})
                out[mode] = runs
            out["peak_rss_mb"] = vm_hwm_mb(proc.pid)
            return out
        finally:
            proc.terminate()
            proc.wait(30)


def ipmi_side(count: int, rounds: int, workers: int) -> dict[str, Any]:
    from tests.helpers.ipmi_sim import ipmi_sims

    with tempfile.TemporaryDirectory() as tmp, ipmi_sims(Path(tmp), count) as bmcs:
        ports = [b.port for b in bmcs]
        out: dict[str, Any] = {"bmcs": count, "dcops": in_child(dcops_ipmi, ports, rounds, workers)}
        out["exporter"] = exporter_scrapes(ports, max(1, rounds - 1))
    exporter = out["exporter"]
    if exporter:
        steady = out["dcops"]["rounds"][-1]
        best = min(exporter["concurrent"], key=lambda r: r["wall_s"])
        out["ratio_exporter_cpu"] = round(best["cpu_ms_per_bmc"] / max(steady["cpu_ms_per_bmc"], 1e-9), 1)
        out["ratio_dcops_wall_over_exporter_concurrent"] = round(steady["wall_s"] / max(best["wall_s"], 1e-9), 2)
    return out


# ------------------------------------------------------------------------------------------- main
def print_report(report: dict[str, Any]) -> None:
    rf = report.get("redfish")
    if rf:
        print(f"Redfish: {rf['bmcs']} simulated BMCs, HTTPS, {rf['latency']} per request "
              f"({rf['simulators']} simulator process(es))"
              + (f", traits: {', '.join(rf['traits'])}" if rf.get("traits") else ""))
        for r in rf["dcops"]["rounds"]:
            print(f"  dcops {bench_patrol.round_line(r)}")
        peak = rf["dcops"]["peak_rss_mb"]
        print(f"  dcops peak RSS {peak} MB = {peak * 1024 / rf['bmcs']:.0f} KB/BMC "
              f"({rf['dcops']['rss_before_mb']} MB before the patrol started: interpreter, libraries, the book)")
        for pair in rf["pairs"]:
            print(f"  after round {pair['round']} (dcops {pair['dcops_cpu_ms']:.3f} ms CPU/BMC): "
                  + ", ".join(f"{peer} {pair[peer]['cpu_ms_per_bmc']:.2f} ms = {pair[f'ratio_{peer}_cpu']}x"
                              for peer in ("redfish_library", "sushy")))
        for peer in ("redfish_library", "sushy"):
            p = rf[peer]
            print(f"  {peer} ({p['bmcs']} BMCs, {p['threads']} threads, {p['documents_per_bmc']} documents/BMC), "
                  f"median pair: {p['cpu_ms_per_bmc']:.2f} ms CPU/BMC, {p['wall_s']} s wall, {p['errors']} errors, "
                  f"peak RSS {p['peak_rss_mb']} MB -> {rf[f'ratio_{peer}_cpu']}x dcops's CPU/BMC in its pair")
        print(f"  load average at the end (1, 5, 15 min; {os.cpu_count()} cores): {rf['load_average']}")
        for line in rf["cold_breakdown"] + rf["verdicts"]:
            print(f"  {line}")
    ip = report.get("ipmi")
    if ip:
        print(f"IPMI: {ip['bmcs']} ipmi_sim BMCs (loopback UDP)")
        for r in ip["dcops"]["rounds"]:
            print(f"  dcops round {r['round']}{' (cold)' if r['round'] == 1 else ''}: {r['wall_s']:.2f} s wall, "
                  f"{r['cpu_ms_per_bmc']:.2f} ms CPU/BMC, {r['requests_per_bmc']} requests/BMC, "
                  f"{r['reachable']} reachable")
        print(f"  dcops peak RSS {ip['dcops']['peak_rss_mb']} MB")
        ex = ip["exporter"]
        if ex is None:
            print(f"  {EXPORTER} not installed: no peer figures")
            return
        for mode in ("concurrent", "one_after_another"):
            for r in ex[mode]:
                print(f"  ipmi_exporter {mode}: {r['wall_s']:.2f} s wall, {r['cpu_ms_per_bmc']:.2f} ms CPU/BMC "
                      f"(exporter + FreeIPMI tools), {r['up']} up")
        print(f"  ipmi_exporter peak RSS {ex['peak_rss_mb']} MB (its own process; FreeIPMI tools not counted)")
        print(f"  ratio exporter/dcops CPU per BMC: {ip['ratio_exporter_cpu']}x; dcops steady wall / exporter "
              f"concurrent wall: {ip['ratio_dcops_wall_over_exporter_concurrent']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000, help="simulated Redfish BMCs (0: skip)")
    parser.add_argument("--latency", default="100-300ms")
    parser.add_argument("--rounds", type=int, default=4,
                        help="dcops rounds, the first cold; the peers are measured after each steady one")
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=300, help="BMCs the redfish library and sushy read")
    parser.add_argument("--threads", type=int, default=50, help="threads of the redfish library and sushy")
    parser.add_argument("--ipmi", type=int, default=200, help="ipmi_sim BMCs (0: skip)")
    parser.add_argument("--ipmi-workers", type=int, default=32)
    parser.add_argument("--trait", action="append", default=[],
                        help="a `dcops sim` trait for every simulated BMC (repeatable): capture-sensor-counts "
                             "gives them as many sensors as the vendors' real captures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    if args.hosts > 0:
        report["redfish"] = redfish_side(args.hosts, args.latency, args.rounds, args.concurrency, args.sample,
                                         args.threads, tuple(args.trait))
        if not args.json:
            print_report(report)  # now: the IPMI side takes minutes more
            sys.stdout.flush()
            report.clear()
    if args.ipmi > 0:
        if not shutil.which("ipmi_sim"):
            print("ipmi_sim is not installed: IPMI side skipped", file=sys.stderr)
        else:
            report["ipmi"] = ipmi_side(args.ipmi, args.rounds, args.ipmi_workers)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
