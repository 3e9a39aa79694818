"""Benchmark: patrol workers sharing one PostgreSQL (issue 21): 1 worker vs 3 workers over N
simulated BMCs (default 6,000; `dcops sim` in its own process, HTTPS, latency per request), each
worker a real `dcops serve --worker` process; then `kill -9` of one of the three and the time
until every host it owned has been patrolled again.

    .venv/bin/python -m tests.bench.bench_workers                          # 6,000 BMCs, 30 s rounds
    .venv/bin/python -m tests.bench.bench_workers --hosts 600 --interval 10 --rounds 2   # quick look

Printed per setup: each epoch's rounds (workers, hosts read, reachable, missed, wall, CPU), the
coverage of the steady epochs (hosts read once / hosts in the book), CPU per BMC of the steady
rounds (each worker's first round is cold: TLS, logins, discovery), and for the kill: the epoch
and seconds from the death to full coverage. Everything runs on this machine: the simulator, the
PostgreSQL server and all workers share its cores, so the figures are this machine's, not a
production layout's (one worker per site, each on its own machine).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def _serve(cfg: Path, name: str, log: Path) -> subprocess.Popen[bytes]:
    from tests.helpers.workers import spawn_worker

    return spawn_worker(cfg, name, log)[0]


def _rounds(store: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from dcops.patrol import store as pstore

    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(pstore.rounds).order_by(pstore.rounds.c.id))]


def _hosts(store: Any) -> dict[str, tuple[str | None, float]]:
    from sqlalchemy import select

    from dcops.patrol import store as pstore

    with store.connect() as conn:
        return {r.host: (r.worker, r.observed_at.timestamp()) for r in
                conn.execute(select(pstore.hosts.c.host, pstore.hosts.c.worker, pstore.hosts.c.observed_at))}


def _wait(what: str, predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout:g}s waiting for {what}")


def _epochs(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for r in rows:
        if r["epoch"] is not None:
            out[int(r["epoch"])].append(r)
    return dict(sorted(out.items()))


def run_setup(names: list[str], *, pg: Any, inventory: str, hosts: int, args: argparse.Namespace,
              tmp: Path, kill: bool) -> dict[str, Any]:
    from dcops.store import open_store
    from dcops.workers import lease, ring

    url = pg.create_database(f"bench_{len(names)}_{int(time.time())}")
    cfg = tmp / f"config-{len(names)}.yaml"
    cfg.write_text(yaml.safe_dump({
        "inventory": inventory, "state": url,
        "patrol": {"interval": f"{args.interval:g}s", "concurrency": args.concurrency, "inventory_every": 0,
                   "bmc_deadline": "20s", "round_deadline": f"{args.interval * 0.85:g}s"}}))
    store = open_store(url)
    procs = {n: _serve(cfg, n, tmp / f"{len(names)}-{n}.log") for n in names}
    result: dict[str, Any] = {"workers": len(names)}
    try:
        # Each worker's first round is cold; then ``rounds`` steady epochs with every worker.
        def steady() -> list[int] | None:
            full = [e for e, rows in _epochs(_rounds(store)).items() if {r["worker"] for r in rows} == set(names)]
            return full[1:1 + args.rounds] if len(full) > args.rounds else None

        epochs = _wait("steady rounds", steady, args.interval * (args.rounds + 12) + 900)
        by_epoch = _epochs(_rounds(store))
        table = []
        cpu = bmcs = 0.0
        for epoch, rows in by_epoch.items():
            line = {"epoch": epoch, "workers": len(rows), "hosts": sum(r["hosts"] for r in rows),
                    "reachable": sum(r["reachable"] for r in rows), "missed": sum(r["missed"] for r in rows),
                    "wall_s": round(max(r["duration_seconds"] for r in rows), 2),
                    "cpu_s": round(sum(r["cpu_seconds"] for r in rows), 2),
                    "steady": epoch in epochs}
            table.append(line)
            if epoch in epochs:
                cpu += line["cpu_s"]
                bmcs += line["hosts"]
        coverage = [round(next(x for x in table if x["epoch"] == e)["reachable"] / hosts, 4) for e in epochs]
        result.update(rounds=table, steady_epochs=epochs, coverage=coverage,
                      cpu_ms_per_bmc=round(cpu * 1000 / max(bmcs, 1), 3))
        if kill:
            victim = names[1]
            owned = {h for h, (w, _) in _hosts(store).items() if w == victim}
            # Kill right after the victim's round of an epoch is saved: the hardest case, its hosts
            # were just read and its lease was just renewed.
            last = max(r["epoch"] for r in _rounds(store) if r["worker"] == victim)
            _wait("the victim's next round", lambda: max(r["epoch"] for r in _rounds(store)
                                                          if r["worker"] == victim) > last, args.interval * 4)
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait(30)
            with store.connect() as conn:
                killed = lease.db_now(conn).timestamp()

            def covered() -> float | None:
                seen = _hosts(store)
                if all(seen[h][1] > killed for h in owned):
                    return max(seen[h][1] for h in owned)
                return None

            done = _wait("the dead worker's hosts patrolled again", covered, args.interval * 10)
            survivors = sorted({int(r["epoch"]) for r in _rounds(store)
                                if r["worker"] != victim and r["started_at"].timestamp() > killed})
            done_epoch = ring.epoch_of(done, args.interval)
            after = [{"epoch": int(r["epoch"]), "worker": r["worker"], "hosts": r["hosts"], "reachable": r["reachable"],
                      "missed": r["missed"], "wall_s": round(r["duration_seconds"], 2)}
                     for r in _rounds(store) if r["epoch"] is not None and r["started_at"].timestamp() > killed - 1]
            result["death"] = {"victim_hosts": len(owned), "killed_in_epoch": ring.epoch_of(killed, args.interval),
                               "covered_in_epoch": done_epoch,
                               "survivor_rounds_until_covered": len([e for e in survivors if e <= done_epoch]),
                               "seconds_to_full_coverage": round(done - killed, 1),
                               "intervals_to_full_coverage": round((done - killed) / args.interval, 2),
                               "rounds_after": after}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=6000)
    parser.add_argument("--latency", default="100-300ms")
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3, help="steady epochs measured per setup")
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from tests.bench.bench_patrol import start_sim, stop_sim
    from tests.helpers import postgres

    pg = postgres.start()
    tmp = Path(tempfile.mkdtemp(prefix="dcops-bench-workers-"))
    try:
        state = start_sim(tmp / "sim", args.hosts, args.latency)
        results = [run_setup(["w1"], pg=pg, inventory=state["inventory"], hosts=args.hosts, args=args, tmp=tmp,
                             kill=False),
                   run_setup(["w1", "w2", "w3"], pg=pg, inventory=state["inventory"], hosts=args.hosts, args=args,
                             tmp=tmp, kill=True)]
    finally:
        stop_sim(tmp / "sim")
        pg.stop()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{args.hosts} simulated BMCs (HTTPS, {args.latency} a request), interval {args.interval:g}s, "
          f"concurrency {args.concurrency} per worker; simulator, PostgreSQL and workers on this machine "
          f"({os.cpu_count()} cores)")
    for res in results:
        print(f"\n== {res['workers']} worker(s)")
        print(f"{'epoch':>12} {'workers':>7} {'hosts':>6} {'reach':>6} {'missed':>6} {'wall s':>7} {'cpu s':>7}")
        for r in res["rounds"]:
            print(f"{r['epoch']:>12} {r['workers']:>7} {r['hosts']:>6} {r['reachable']:>6} {r['missed']:>6} "
                  f"{r['wall_s']:>7} {r['cpu_s']:>7}{'  steady' if r['steady'] else ''}")
        print(f"coverage of the steady epochs: {res['coverage']}; CPU per BMC (steady): {res['cpu_ms_per_bmc']} ms")
        if "death" in res:
            d = res["death"]
            print(f"kill -9 of w2 ({d['victim_hosts']} hosts) in epoch {d['killed_in_epoch']}: all its hosts "
                  f"patrolled again in epoch {d['covered_in_epoch']}, the survivors' round "
                  f"{d['survivor_rounds_until_covered']} after the death, {d['seconds_to_full_coverage']} s "
                  f"({d['intervals_to_full_coverage']} intervals)")
            for r in d["rounds_after"]:
                print(f"  epoch {r['epoch']} {r['worker']}: {r['hosts']} hosts, {r['reachable']} reachable, "
                      f"{r['missed']} missed, {r['wall_s']} s")


if __name__ == "__main__":
    main()
