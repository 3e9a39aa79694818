"""``dcops drill``: run a fault drill and score detection (docs/drills.md).

* ``dcops drill run SCENARIO.yaml`` -- on the simulator (default);
* ``dcops drill run SCENARIO.yaml --live --hosts a,b`` -- the scenario's safe real actions on
  exactly those hosts, watching the running ``dcops serve`` through the state store;
* ``dcops drill list`` -- stored runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import click

from dcops.cli.common import emit, global_options, open_state
from dcops.errors import ExitCode
from dcops.report import Column, Report

RESULT_COLUMNS = [Column("expect", "EXPECTED ROOT CAUSE"), Column("incident", "INCIDENT"),
                  Column("detect_seconds", "DETECT S"), Column("summary", "SUMMARY")]
RUN_COLUMNS = [Column("id", "ID"), Column("scenario", "SCENARIO"), Column("mode", "MODE"),
               Column("started_at", "STARTED"), Column("score", "SCORE"), Column("passed", "PASSED"),
               Column("detect_seconds", "DETECT S"), Column("tier1_seconds", "TIER1 S")]


@click.group()
def drill() -> None:
    """Fault drills: inject, watch patrol and notifications, score detection."""


def _progress(text: str) -> None:
    click.echo(f"dcops drill: {text}", err=True)


@drill.command("run")
@click.argument("scenario_file", metavar="SCENARIO.yaml", type=click.Path(dir_okay=False))
@click.option("--live", is_flag=True, help="Perform the scenario's safe real actions (BMC reset, graceful "
              "power-off of a spare) on --hosts, and watch the running patrol.")
@click.option("--hosts", "host_list", metavar="A,B", default="", help="With --live: exactly the hosts to act on.")
@click.option("--timeout", metavar="DURATION", help="Give up waiting after this long (default: the scenario's).")
@click.option("--no-save", is_flag=True, help="Do not store the result.")
@global_options
def run(scenario_file: str, live: bool, host_list: str, timeout: str | None, no_save: bool) -> None:
    """Run SCENARIO.yaml and print its score (exit 0 passed, 1 failed)."""
    from dcops.drill.scenario import load_scenario
    from dcops.errors import UsageError
    from dcops.timeparse import parse_duration

    scenario = load_scenario(scenario_file)
    limit = parse_duration(timeout).total_seconds() if timeout else None
    names = [n.strip() for n in host_list.split(",") if n.strip()]
    if names and not live:
        raise UsageError("--hosts is for --live drills (a simulator drill acts on the scenario's own fleet)")
    result = asyncio.run(_live(scenario, names, limit)) if live else _sim(scenario, limit)
    if not no_save:
        from dcops.drill.store import save_run

        store = open_state()
        try:
            save_run(store, result)
        finally:
            store.close()
    emit(result_report(result))


def _sim(scenario: Any, limit: float | None) -> Any:
    from dcops.drill.sim import run_sim

    with tempfile.TemporaryDirectory(prefix="dcops-drill-") as tmp:
        return asyncio.run(run_sim(scenario, Path(tmp), timeout=limit, progress=_progress))


async def _live(scenario: Any, names: list[str], limit: float | None) -> Any:
    from dcops.cli.patrol import patrol_hosts
    from dcops.drill.live import perform, plan_actions, watch
    from dcops.drill.score import score

    plan = plan_actions(scenario, patrol_hosts(()), names)
    store = open_state()
    try:
        from dcops.errors import DcopsError
        from dcops.notify import store as outbox_store
        from dcops.patrol import store as pstore

        started = dt.datetime.now(dt.UTC)
        failed: list[str] = []
        last = pstore.last_round(store)
        finished = outbox_store.aware((last or {}).get("finished_at"))
        if finished is None or (started - finished).total_seconds() > 900:
            # Nobody patrols this store: the drill would only measure its own timeout.
            failed.append("no patrol round stored in the last 15 minutes: is `dcops serve` running on this store?")
        for action, host in plan:
            try:
                _progress(await asyncio.to_thread(perform, action, host))
            except DcopsError as exc:  # a dead BMC is the drill's finding; the other hosts go on
                failed.append(f"{action} on {host.name} failed: {exc}")
                _progress(failed[-1])
        seen, notices = await watch(store, scenario, started, limit if limit is not None else scenario.timeout,
                                    progress=_progress)
        result = score(scenario, mode="live", started_at=started, injected_at=started,
                       finished_at=dt.datetime.now(dt.UTC), seen=seen, notices=notices)
        if failed:
            result.reasons = [*failed, *result.reasons]
            result.passed = False
        return result
    finally:
        store.close()


def result_report(result: Any) -> Report:
    items = [{"expect": e["expect"], "incident": f"#{e['incident']['id']} {e['incident']['condition']} "
              f"{e['incident']['host']}" if e["incident"] else "NOT DETECTED", "detect_seconds": e["detect_seconds"],
              "summary": (e["incident"] or {}).get("summary")} for e in result.expected]
    items += [{"expect": "(unexpected)", "incident": f"#{u['id']} {u['condition']} {u['host']}",
               "detect_seconds": None, "summary": u["summary"]} for u in result.unexpected]
    tiers = ", ".join(f"tier {t}: {'-' if s is None else f'{s:g}s'}" for t, s in result.notify_seconds.items())
    report = Report("drill.run", items=items, columns=RESULT_COLUMNS,
                    title=f"Drill {result.scenario} ({result.mode})")
    report.text = (f"score {result.score:g}/100 ({'PASSED' if result.passed else 'FAILED'}); time to detect "
                   f"{'-' if result.detect_seconds is None else f'{result.detect_seconds:g}s'}; first notification "
                   f"{tiers}; {result.rounds} round(s)\n")
    data = result.to_json()
    report.summary = {k: data[k] for k in ("scenario", "mode", "score", "passed", "detect_seconds", "rounds")}
    report.summary["notify_seconds"] = data["notify_seconds"]
    for reason in result.reasons:
        report.note(ExitCode.FINDINGS, reason)
    return report


@drill.command("list")
@click.option("--since", metavar="DURATION", default="30d", show_default=True, help="Runs started this recently.")
@global_options
def list_runs(since: str) -> None:
    """Stored drill runs, newest first."""
    from dcops.drill.store import runs_since
    from dcops.timeparse import parse_duration

    store = open_state()
    try:
        rows = runs_since(store, dt.datetime.now(dt.UTC) - parse_duration(since))
    finally:
        store.close()
    emit(Report("drill.list", items=[run_row(r) for r in rows], columns=RUN_COLUMNS, title="Drill runs"))


def run_row(row: dict[str, Any]) -> dict[str, Any]:
    result = row.get("result") or {}
    notify = result.get("notify_seconds") or {}
    return {"id": row["id"], "scenario": row["scenario"], "mode": row["mode"],
            "started_at": str(row["started_at"])[:19], "score": row["score"], "passed": row["passed"],
            "detect_seconds": result.get("detect_seconds"), "tier1_seconds": notify.get("1")}
