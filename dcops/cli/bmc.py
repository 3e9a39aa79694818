"""``dcops bmc show|get``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import click

from dcops.actions import note_errors, run_on_hosts
from dcops.cli.adhoc import adhoc_host, adhoc_options
from dcops.cli.common import emit, frontend, global_options, settings, structured_output
from dcops.cli.selection import honours_limit, refuses_limit, select_hosts
from dcops.errors import ExitCode, UsageError
from dcops.models import Host, Protocol
from dcops.observation import ComponentKind, Health, Observation
from dcops.report import Column, Report
from dcops.secrets import redact

# --------------------------------------------------------------------------- dcops bmc show


@click.group()
@global_options
def bmc() -> None:
    """Read what a server is and how it feels, through its BMC."""


SECTION_CHOICES = ("components", "sensors", "firmware", "logs")


def _targets(hosts: Sequence[str], adhoc: dict[str, Any]) -> list[Host]:
    """The book's hosts named or chosen by --limit, or the one ad-hoc --bmc target."""
    target = adhoc_host(*(adhoc[k] for k in ("adhoc_bmc", "adhoc_user", "adhoc_password_ref", "adhoc_protocol",
                                              "adhoc_insecure")))
    if target is None:
        return select_hosts(hosts)
    if hosts or settings().limit:
        raise UsageError("--bmc names the target: drop the HOST arguments and -l")
    return [target]


@bmc.command("show")
@click.argument("hosts", nargs=-1)
@click.option("--section", "sections", multiple=True, type=click.Choice(SECTION_CHOICES),
              help="Read only these parts (repeatable). Default: all.")
@click.option("--logs", "log_limit", type=click.IntRange(0, 10000), default=20, show_default=True,
              help="Newest log entries to read.")
@adhoc_options
@global_options
@honours_limit
def show(hosts: tuple[str, ...], sections: tuple[str, ...], log_limit: int, **adhoc: Any) -> None:
    """Show the observation of HOSTS: identity, parts, sensors, firmware, what could not be read.
    Or of a BMC not in the book: --bmc ADDRESS --user U --password-ref env:X.

    Exit 1 when the hardware is unhealthy, 4 when a BMC could not be read.
    """
    from dcops.bmc.select import open_bmc

    targets = _targets(hosts, adhoc)
    wanted = set(sections or SECTION_CHOICES)
    if log_limit == 0:
        wanted.discard("logs")

    def observe(host: Host) -> Observation:
        with open_bmc(host) as dev:
            return dev.inventory.observe(wanted, log_limit=log_limit)

    outcomes = run_on_hosts(targets, observe, "observing", frontend())
    report = Report(kind="bmc.show")
    report.columns = [Column("host", "HOST"), Column("kind", "KIND"), Column("location", "LOCATION"),
                      Column("model", "MODEL"), Column("serial", "SERIAL"), Column("firmware", "FIRMWARE"),
                      Column("health", "HEALTH")]
    texts = []
    observed = 0
    for outcome in outcomes:
        obs: Observation | None = outcome.value
        if obs is None:
            if structured_output():
                # An unreachable host keeps the item's shape: an empty observation and the error.
                empty = Observation(outcome.host.name, dt.datetime.now(dt.UTC), Protocol(outcome.host.bmc.protocol).value)
                report.items.append({**empty.to_json(), "reachable": False,
                                     "error": str(outcome.error) if outcome.error else None})
            continue
        observed += 1
        if structured_output():
            report.items.append({**obs.to_json(), "reachable": True, "error": None})
        else:
            texts.append(_describe(obs))
            for comp in obs.components:
                if comp.kind is not ComponentKind.MANAGER:
                    report.items.append({"host": obs.host, "kind": comp.kind.value, "location": comp.location,
                                         "model": comp.model, "serial": comp.serial, "firmware": comp.firmware,
                                         "health": comp.health.value})
        if obs.health in (Health.WARNING, Health.CRITICAL):
            report.note(ExitCode.FINDINGS)
        if obs.unreadable:
            # Reachable but unusable: the health is not known, and the result is incomplete.
            report.note(ExitCode.INCOMPLETE, f"error: {obs.host}: health unknown: " + "; ".join(obs.unreadable[:3]))
        for err in obs.errors:
            report.problems.append(f"warning: {obs.host}: could not read {err.what}: {err.reason}")
    note_errors(report, outcomes, "observe")
    report.text = "\n".join(texts) or None
    report.summary = {"hosts": len(targets), "observed": observed, "failed": len(targets) - observed}
    emit(report)


def _describe(obs: Observation) -> str:
    ident = obs.identity
    lines = [
        f"{obs.host}: {ident.manufacturer or '?'} {ident.model or '?'}  serial {ident.serial or '-'}"
        + (f"  tag {ident.sku}" if ident.sku else "") + f"  power {ident.power_state.value}  health {obs.health.value}",
        f"  BIOS {ident.bios_version or '-'}  BMC {ident.bmc_version or '-'}  UUID {ident.uuid or '-'}  "
        f"via {obs.protocol} ({obs.requests} requests, {obs.duration_seconds or 0:.2f}s)"
        + (f"  system {ident.system_id}" if ident.system_id else ""),
    ]
    counts = {k: v for k, v in obs.counts().items() if v}
    lines.append("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for cond in obs.conditions:
        lines.append(f"  condition [{cond.severity.value}] {cond.message}")
    bad = [s for s in obs.sensors if s.health in (Health.WARNING, Health.CRITICAL)]
    for sensor in bad:
        lines.append(f"  sensor [{sensor.health.value}] {sensor.name} = {sensor.reading} {sensor.units or ''}")
    for entry in obs.log_entries[-5:]:
        lines.append(f"  log {entry.created or '-'} [{entry.severity.value}] {entry.message}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- dcops bmc get


@bmc.command("get")
@click.argument("path")
@click.argument("host", required=False)
@adhoc_options
@global_options
@refuses_limit("it reads one BMC: name the HOST or give --bmc")
def get(path: str, host: str | None, **adhoc: Any) -> None:
    """GET one Redfish resource and print its JSON, like `redfishtool raw GET`: the same session
    handling, retries and TLS settings as every other dcops read. PATH is absolute
    (/redfish/v1/Systems/1) or relative to /redfish/v1/ (Systems/1).

    \b
    dcops bmc get Systems/1 trade-db-01
    dcops bmc get /redfish/v1/Managers --bmc 10.0.0.5 --user root --password-ref env:BMC_PW
    Exit 0 on 2xx; 2 when the BMC answers 4xx (no such resource, not allowed); 4 on 5xx or no answer.
    """
    import json

    from dcops.bmc.redfish.connector import connect
    from dcops.bmc.redfish.docs import most_severe_message
    from dcops.secrets import resolve

    if not host and not adhoc.get("adhoc_bmc"):
        raise UsageError("name the HOST (or give --bmc ADDRESS)")
    targets = _targets((host,) if host else (), adhoc)
    if len(targets) != 1:
        raise UsageError(f"{host}: names {len(targets)} hosts; bmc get reads one")
    target = targets[0]
    if not path.startswith("/"):
        path = "/redfish/v1/" + path
    password = resolve(target.bmc.password_ref or "prompt", what=f"{target.name}: BMC password")
    with connect(target.name, target.bmc, password) as conn:
        resp = conn.request("GET", path)
    if resp.body is not None:
        text = json.dumps(resp.body, indent=2, ensure_ascii=False) if not isinstance(resp.body, str) else resp.body
        click.echo(redact(text))
    if resp.status < 300:
        raise SystemExit(int(ExitCode.OK))
    message = most_severe_message(resp.body)
    click.echo(redact(f"dcops: error: {target.name}: GET {path}: HTTP {resp.status}"
                      + (f": {message}" if message else "")), err=True)
    raise SystemExit(int(ExitCode.USAGE if resp.status < 500 else ExitCode.INCOMPLETE))
