"""``dcops demo``: a simulated fleet, four injected faults, one patrol round, and what an engineer
on call would see: the fleet's health by rack and one incident per root cause."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from dcops.cli.common import emit, global_options
from dcops.errors import ExitCode
from dcops.report import Column, Report

FAULTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("sim-0005", "abnormal_shutdown", {}),
    ("sim-0010", "psu_fail", {"psu": "1"}),
    ("sim-0020", "drive_predictive", {}),
)
RACK_FAULT = "A03"


@click.command()
@click.option("--hosts", type=click.IntRange(48, 2000), default=64, show_default=True,
              help="Simulated servers (16 a rack; the rack power loss hits rack A03).")
@click.option("--dir", "directory", metavar="DIR", help="Keep the fleet's inventory and the demo store here "
              "(default: a temporary directory, removed afterwards).")
@global_options
def demo(hosts: int, directory: str | None) -> None:
    """Start a simulated fleet, inject an abnormal shutdown, a rack power loss, a PSU failure and a
    drive predictive failure, patrol once, and show the converged incidents."""
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        report = asyncio.run(_run(Path(directory), hosts))
    else:
        with tempfile.TemporaryDirectory(prefix="dcops-demo-") as tmp:
            report = asyncio.run(_run(Path(tmp), hosts))
    emit(report)


async def _run(work: Path, count: int) -> Report:
    from dcops.inventory import load_inventory
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol
    from dcops.sim.faults import apply_fault
    from dcops.sim.fleet import Fleet, FleetSpec
    from dcops.sim.state import Timings
    from dcops.store import open_store

    # In-band addresses too: the dark rack's hosts are probed, which shows it as a power loss
    # rather than "BMCs unreachable, cause unknown" (docs/patrol.md, "Racks").
    fleet = Fleet(FleetSpec(hosts=count, timings=Timings.preset("fast"), inband=True))
    await fleet.start()
    try:
        secret = work / "password"
        secret.write_text(fleet.credentials.password + "\n", encoding="utf-8")
        os.chmod(secret, 0o600)
        inventory = fleet.write_inventory(work / "inventory.yaml", f"file:{secret}")
        hosts = list(load_inventory([inventory]).hosts)
        store = open_store(f"sqlite:///{work / 'demo.db'}")
        # One bad round opens an incident here: the demo patrols once after the faults.
        config = load_patrol_config({"open_after": 1, "interval": 60})
        engine = Patrol(store, hosts, config)
        click.echo(f"dcops demo: {count} simulated BMCs up; first round (inventory, baseline) ...", err=True)
        await engine.round()
        for name, kind, args in FAULTS:
            apply_fault(fleet.find(name), kind, args)
        for spec in fleet.hosts:
            if spec.rack == RACK_FAULT:
                apply_fault(fleet.bmc(spec.index), "rack_power_loss", {})
        click.echo("dcops demo: injected abnormal_shutdown (sim-0005), psu_fail (sim-0010), drive_predictive "
                   f"(sim-0020), rack_power_loss (rack {RACK_FAULT}); patrolling ...", err=True)
        summary = await engine.round()
        await engine.close()
        store.close()
    finally:
        await fleet.stop()
    return _report(summary, hosts, work)


def _report(summary: Any, hosts: list[Any], work: Path) -> Report:
    from dcops.cli.patrol import incidents_text

    by_rack: dict[str, dict[str, Any]] = {}
    where = {h.name: h for h in hosts}
    for result in summary.hosts:
        host = where[result.host]
        row = by_rack.setdefault(host.location.rack or "?", {
            "rack": host.location.rack, "room": host.location.room, "hosts": 0, "bmc_down": 0, "off": 0,
            "unhealthy": 0, "problems": []})
        row["hosts"] += 1
        row["bmc_down"] += result.reachable is False
        row["off"] += result.power == "off"
        if result.reachable and (result.health not in ("ok", None) or result.events):
            row["unhealthy"] += 1
            row["problems"].append(result.host)
    items = [{**r, "problems": ",".join(r["problems"]) or "-"} for r in by_rack.values()]
    report = Report("demo", items=items, title="Fleet health by rack", columns=[
        Column("rack", "RACK"), Column("room", "ROOM"), Column("hosts", "HOSTS"), Column("bmc_down", "BMC DOWN"),
        Column("off", "OFF"), Column("unhealthy", "UNHEALTHY"), Column("problems", "HOSTS WITH PROBLEMS")])
    report.text = incidents_text(summary.open_incidents) + (
        f"\n{len(summary.open_incidents)} incidents for 4 root causes "
        f"({sum(len(i.children) for i in summary.open_incidents)} symptoms folded into them). "
        "Next: `dcops alerts show ID`, `dcops serve`, docs/patrol.md.\n")
    report.summary = {"hosts": len(summary.hosts), "unreachable": summary.unreachable,
                      "incidents": len(summary.open_incidents), "round_seconds": round(summary.duration, 2),
                      "requests": summary.requests}
    report.exit_code = ExitCode.OK
    from dcops.cli.common import structured_output

    if structured_output():  # the JSON form lists the incidents themselves
        report.items = [i.to_json() for i in summary.open_incidents]
        report.summary["racks"] = items
    del work
    return report
