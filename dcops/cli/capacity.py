"""``dcops capacity check|racks|snapshot``: OpenStack failure-domain capacity per AZ.

The cloud is read live (``--cloud NAME`` from clouds.yaml, or ``--placement-url``/
``--compute-url``/``--token``, or the ``OS_*`` environment) or from a snapshot file
(``--from-file``); racks come from the inventory (``-i``), else from the snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from dcops.capacity.check import check_capacity, describe_spec
from dcops.capacity.model import Snapshot
from dcops.capacity.policy import Policy, build_policy
from dcops.capacity.results import AzResult, CapacityResult, ClassResult, LossResult
from dcops.capacity.units import format_amount, format_ratio, parse_size
from dcops.capacity.whatif import add_nodes, fail_nodes, node_spec, remove_nodes
from dcops.cli.common import emit, global_options, settings, structured_output
from dcops.cli.selection import refuses_limit
from dcops.errors import ExitCode, UsageError
from dcops.report import Column, Report
from dcops.secrets import redact

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


# ---- options ---------------------------------------------------------------------------

def _source_options(from_file: bool = True) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        options = [
            click.option("--cloud", metavar="NAME", help="Cloud in clouds.yaml (else config capacity.cloud, OS_CLOUD)."),
            click.option("--placement-url", metavar="URL", help="Placement endpoint (overrides the catalog)."),
            click.option("--compute-url", metavar="URL", help="Nova endpoint, e.g. https://nova:8774/v2.1."),
            click.option("--token", "token_ref", metavar="REF",
                         help="Token reference: env:NAME, file:PATH, cmd:COMMAND or prompt (never the token)."),
            click.option("--insecure", is_flag=True, help="Do not verify the cloud's TLS certificates."),
        ]
        if from_file:
            options.append(click.option("--from-file", "from_file", metavar="SNAPSHOT",
                                        type=click.Path(dir_okay=False),
                                        help="Read a snapshot file instead of the cloud."))
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


def _policy_options(func: F) -> F:
    func = click.option("--require", metavar="SPEC",
                        help="What each AZ must survive: nodes=K, rack, rack+K; comma = all. Default: rack.")(func)
    func = click.option("--q", "q", metavar="CLASS=RATIO,...",
                        help="Highest allowed use per resource class, e.g. MEMORY_MB=0.8,VCPU=1.0 "
                             "(CLASS=off skips a class). Default: MEMORY_MB=0.8,VCPU=1,DISK_GB=1.")(func)
    func = click.option("--az", "azs", multiple=True, metavar="AZ", help="Only this AZ (repeatable).")(func)
    return func


def _shape_options(func: F) -> F:
    func = click.option("--node-disk", metavar="SIZE", help="New node's DISK_GB total (e.g. 2T).")(func)
    func = click.option("--node-vcpus", type=click.IntRange(min=1), metavar="N", help="New node's VCPU total.")(func)
    func = click.option("--node-memory", metavar="SIZE",
                        help="New node's MEMORY_MB total (e.g. 512G); also the shape used to count "
                             "the nodes needed. Default: the AZ's most common node.")(func)
    return func


def _without_output_option(func: F) -> F:
    """Drop the global ``-o/--output`` from a command: ``snapshot`` uses ``-o`` for its file,
    as people expect of a command that writes one."""
    params = getattr(func, "__click_params__", [])
    func.__click_params__ = [p for p in params if p.name != "output"]  # type: ignore[attr-defined]
    return func


# ---- shared steps ----------------------------------------------------------------------

def _cloud_options(cloud: str | None, placement_url: str | None, compute_url: str | None,
                   token_ref: str | None, insecure: bool) -> Any:
    from dcops.capacity.openstack_source import CloudOptions
    from dcops.secrets import resolve

    cfg = settings().section("capacity")
    token_ref = token_ref or cfg.get("token")
    # --token and the config file are the operator's own input: a cmd: there may run.
    token = resolve(str(token_ref), what="OpenStack token", trusted=True) if token_ref else None
    return CloudOptions(
        cloud=cloud or cfg.get("cloud"),
        placement_url=placement_url or cfg.get("placement_url"),
        compute_url=compute_url or cfg.get("compute_url"),
        token=token,
        verify=not insecure,
        parallel=settings().parallel,
    )


def read_cloud(options: Any) -> Snapshot:
    """Read the cloud (patched in tests that have no cloud)."""
    from dcops.capacity.openstack_source import fetch_snapshot

    return fetch_snapshot(options)


def load_hosts() -> list[Any] | None:
    """The inventory's hosts, or None when no inventory is configured."""
    paths = settings().inventory
    if not paths:
        return None
    from dcops.inventory import load_inventory

    return list(load_inventory(paths).hosts)


def _snapshot(from_file: str | None, source: tuple[Any, ...]) -> tuple[Snapshot, str]:
    """The snapshot to check and where its racks came from (inventory, snapshot, none)."""
    from dcops.capacity.racks import assign_racks
    from dcops.capacity.snapshot import read_snapshot

    if from_file:
        if any(source[:4]):
            raise UsageError("--from-file reads no cloud: drop --cloud/--placement-url/--compute-url/--token")
        snap = read_snapshot(from_file)
    else:
        snap = read_cloud(_cloud_options(*source))
    hosts = load_hosts()
    if hosts is not None:
        return assign_racks(snap, hosts), "inventory"
    if from_file and any(n.rack for n in snap.nodes):
        return snap, "snapshot"
    return snap, "none"


def _totals(node_memory: str | None, node_vcpus: int | None, node_disk: str | None) -> dict[str, int]:
    totals: dict[str, int] = {}
    if node_memory:
        totals["MEMORY_MB"] = parse_size(node_memory, "MEMORY_MB")
    if node_vcpus:
        totals["VCPU"] = node_vcpus
    if node_disk:
        totals["DISK_GB"] = parse_size(node_disk, "DISK_GB")
    return totals


def _whatif(snap: Snapshot, azs: tuple[str, ...], add: int, add_rack: str | None, totals: dict[str, int],
            remove: tuple[str, ...], fail: tuple[str, ...]) -> tuple[Snapshot, list[str]]:
    notes: list[str] = []
    if remove:
        snap = remove_nodes(snap, remove)
        notes.append(f"removed {', '.join(remove)}")
    if fail:
        snap = fail_nodes(snap, fail)
        notes.append(f"failed {', '.join(fail)}")
    if add:
        targets = list(azs) or snap.az_names()
        if len(targets) != 1:
            raise UsageError("--add-nodes needs --az AZ when the cloud has several AZs")
        (az,) = targets
        if az not in snap.az_names():
            raise UsageError(f"no such AZ: {az}")
        spec = node_spec(snap.in_az(az), totals)
        snap = add_nodes(snap, az, add, spec, rack=add_rack)
        where = f"rack {add_rack}" if add_rack else "the emptiest racks"
        notes.append(f"added {add} node(s) of {describe_spec(spec)} to {az} in {where}")
    elif add_rack:
        raise UsageError("--add-rack needs --add-nodes")
    return snap, notes


def _heartbeats(snap: Snapshot) -> Snapshot:
    """Nodes that do not answer on a network their AZ requires (config ``heartbeat.required``,
    the heartbeat's latest state in the store) count as failed, with the reason (issue 23)."""
    from dcops.heartbeat.config import load_heartbeat_config

    config = load_heartbeat_config(settings().section("heartbeat"))
    if not config.required:
        return snap
    from dcops.capacity.networks import fail_unreachable
    from dcops.cli.common import open_state
    from dcops.heartbeat.store import down_networks

    store = open_state()
    try:
        down = down_networks(store)
    finally:
        store.close()
    snap, cut_off = fail_unreachable(snap, down, config.required_for)
    return replace(snap, problems=(*snap.problems, *cut_off))  # shown with the result, stored with it


def _run_check(from_file: str | None, source: tuple[Any, ...], azs: tuple[str, ...], q: str | None,
               require: str | None, add: int = 0, add_rack: str | None = None,
               shape: tuple[str | None, int | None, str | None] = (None, None, None),
               remove: tuple[str, ...] = (), fail: tuple[str, ...] = ()) -> tuple[CapacityResult, Policy, str]:
    policy = build_policy(settings().section("capacity"), q=q, require=require)
    totals = _totals(*shape)
    snap, racks_from = _snapshot(from_file, source)
    snap = _heartbeats(snap)
    snap, notes = _whatif(snap, azs, add, add_rack, totals, remove, fail)
    result = check_capacity(snap, policy, azs=azs or None, new_node=totals, whatif=notes)
    return result, policy, racks_from


def _outcome(report: Report, result: CapacityResult, policy: Policy) -> None:
    """Record reasons, problems and the exit code on ``report``."""
    for az in result.azs:
        if not az.policy_met and az.reason:
            report.note(ExitCode.FINDINGS, az.reason)
    for problem in result.problems:
        report.note(ExitCode.OK, problem)
    if policy.needs_racks and any(az.unmapped for az in result.azs):
        # A node without a rack makes a rack verdict unprovable: that is a finding, not a note.
        report.note(ExitCode.FINDINGS)
    for problem in result.incomplete:
        report.note(ExitCode.INCOMPLETE, problem)


# ---- rendering -------------------------------------------------------------------------

def _amount(value: float | None, rc: str) -> str | None:
    return None if value is None else format_amount(value, rc)


def _loss_cell(loss: LossResult | None, rc: str) -> str | None:
    if loss is None:
        return None
    return f"{format_amount(loss.margin, rc)}" + ("" if loss.survivable else " !")


def _table_item(c: ClassResult) -> dict[str, Any]:
    rc = c.resource_class
    rack = c.worst_rack
    return {
        "az": c.az,
        "class": rc + (" *" if c.binding else ""),
        "nodes": c.nodes,
        "unavailable": c.unavailable,
        "allocated": f"{_amount(c.allocated, rc)} / {_amount(c.capacity, rc)}",
        "p": format_ratio(c.usage_ratio),
        "q": format_ratio(c.q),
        "seed": c.seed_nodes,
        "tolerated": c.tolerated_failures,
        "worst_rack": None if rack is None else f"{rack.rack} ({len(rack.nodes)})",
        "rack_margin": _loss_cell(rack, rc),
        "rack1_margin": _loss_cell(c.worst_rack_plus_one, rc),
        "headroom": _amount(c.headroom, rc),
        "policy": "ok" if c.policy_met else "FAIL",
    }


CHECK_COLUMNS = [
    Column("az", "AZ"), Column("class", "CLASS"), Column("nodes", "UP"), Column("unavailable", "DOWN"),
    Column("allocated", "ALLOCATED / CAPACITY"), Column("p", "P"), Column("q", "Q"),
    Column("seed", "RULE M"), Column("tolerated", "TOLERATED M"), Column("worst_rack", "WORST RACK"),
    Column("rack_margin", "RACK MARGIN"), Column("rack1_margin", "RACK+1 MARGIN"),
    Column("headroom", "HEADROOM"), Column("policy", "POLICY"),
]


def _json_item(c: ClassResult, az: AzResult) -> dict[str, Any]:
    item = asdict(c)
    item.pop("racks")
    item["az_policy_met"] = az.policy_met
    return item


def _az_summary(az: AzResult) -> dict[str, Any]:
    return {
        "policy_met": az.policy_met,
        "binding_class": az.binding_class,
        "reason": az.reason,
        "nodes": az.nodes,
        "unavailable": [{"name": u.name, "state": u.state, "reason": u.reason} for u in az.unavailable],
        "unmapped": az.unmapped,
        "nodes_needed": az.nodes_needed,
        "nodes_needed_note": az.nodes_needed_note,
        "node_spec": az.node_spec,
    }


def _verdict_line(az: AzResult, require: str) -> str:
    if not az.classes:
        return f"{az.az}: no compute nodes"
    binding = next((c for c in az.classes if c.binding), az.classes[0])
    tight = min(binding.requirements, key=lambda r: r.loss.margin) if binding.requirements else None
    detail = ""
    if tight is not None:
        rc = binding.resource_class
        detail = (f"; binding {rc}: losing {tight.loss.label} leaves "
                  f"{format_amount(tight.loss.margin, rc)} spare" if tight.met else
                  f"; binding {rc}: short by {format_amount(-tight.loss.margin, rc)} for {tight.requirement}")
    if az.policy_met:
        return f"{az.az}: meets {require}{detail}"
    shape = ", ".join(format_amount(az.node_spec[rc]["total"], rc) for rc in ("MEMORY_MB", "VCPU", "DISK_GB")
                      if rc in az.node_spec)
    more = (f"; {az.nodes_needed} more node(s) of {shape} needed" if az.nodes_needed is not None
            else f"; {az.nodes_needed_note}" if az.nodes_needed_note else "")
    return f"{az.az}: FAILS {require}{detail}{more}"


def check_report(result: CapacityResult, policy: Policy, racks_from: str, as_json: bool) -> Report:
    """The report of ``capacity check``: one item per AZ and resource class."""
    items: list[dict[str, Any]] = []
    for az in result.azs:
        for c in az.classes:
            items.append(_json_item(c, az) if as_json else _table_item(c))
    header = [f"policy {result.require} with q {policy.describe_ceilings()}; data of {result.taken_at}"
              f"; racks from {racks_from}"]
    header += [f"what-if: {note}" for note in result.whatif]
    header += [_verdict_line(az, result.require) for az in result.azs]
    report = Report(
        kind="capacity.check",
        items=items,
        columns=CHECK_COLUMNS,
        summary={
            "policy_met": result.policy_met,
            "require": result.require,
            "q": result.ceilings,
            "azs": len(result.azs),
            "failing": [az.az for az in result.azs if not az.policy_met],
            "taken_at": result.taken_at,
            "checked_at": result.checked_at,
            "racks_from": racks_from,
            "source": result.source,
            "whatif": result.whatif,
            "by_az": {az.az: _az_summary(az) for az in result.azs},
        } if as_json else {
            "azs": len(result.azs),
            "failing": ",".join(az.az for az in result.azs if not az.policy_met) or "none",
        },
        text="\n".join(header),
    )
    _outcome(report, result, policy)
    return report


# ---- commands --------------------------------------------------------------------------

@click.group()
@global_options
def capacity() -> None:
    """OpenStack failure-domain capacity: can each AZ lose m nodes, or a whole rack?"""


@capacity.command()
@_source_options()
@_policy_options
@click.option("--add-nodes", "add", type=click.IntRange(min=0), default=0, metavar="N",
              help="What-if: add N empty nodes (shape from --node-*) to the AZ given by --az.")
@click.option("--add-rack", metavar="RACK", help="What-if: put the added nodes in this rack.")
@_shape_options
@click.option("--remove", multiple=True, metavar="HOST", help="What-if: take HOST out (repeatable).")
@click.option("--fail", multiple=True, metavar="SELECTOR",
              help="What-if: assume failed: rack=A03, host=NAME or NAME (repeatable).")
@global_options
@refuses_limit("capacity is judged over whole AZs; choose them with --az, and what-if failures with --fail")
def check(cloud: str | None, placement_url: str | None, compute_url: str | None, token_ref: str | None,
          insecure: bool, from_file: str | None, azs: tuple[str, ...], q: str | None, require: str | None,
          add: int, add_rack: str | None, node_memory: str | None, node_vcpus: int | None,
          node_disk: str | None, remove: tuple[str, ...], fail: tuple[str, ...]) -> None:
    """Check each AZ against the policy: exit 0 when all meet it, 1 when one does not.

    Per AZ and resource class: nodes up and unavailable, use p, ceiling q, the rule of thumb's
    m = n(1 - p/q), the exact tolerated failures, the worst rack's and worst rack + 1 node's
    margin, and the headroom. The binding class is marked *.
    """
    result, policy, racks_from = _run_check(
        from_file, (cloud, placement_url, compute_url, token_ref, insecure), azs, q, require,
        add, add_rack, (node_memory, node_vcpus, node_disk), remove, fail)
    if not (azs or add or remove or fail):
        # Only a check of the whole cloud as it is becomes "the latest result" the exporter
        # publishes: a what-if or a subset of AZs would show hypothetical or partial figures.
        _save(result)
    emit(check_report(result, policy, racks_from, structured_output()))


def _save(result: CapacityResult) -> None:
    from dcops.cli.common import open_state
    from dcops.store.capacity import save_result

    store = open_state()
    try:
        save_result(store, result.to_json())
    finally:
        store.close()


RACK_COLUMNS = [
    Column("az", "AZ"), Column("class", "CLASS"), Column("rack", "RACK"), Column("nodes", "UP"),
    Column("unavailable", "DOWN"), Column("allocated", "ALLOCATED"), Column("capacity", "CAPACITY"),
    Column("room", "ROOM IF LOST"), Column("margin", "MARGIN"), Column("survivable", "SURVIVABLE"),
]


@capacity.command()
@_source_options()
@_policy_options
@global_options
@refuses_limit("capacity is judged over whole AZs; choose them with --az, and what-if failures with --fail")
def racks(cloud: str | None, placement_url: str | None, compute_url: str | None, token_ref: str | None,
          insecure: bool, from_file: str | None, azs: tuple[str, ...], q: str | None, require: str | None) -> None:
    """Per rack: what it carries, and whether its AZ survives losing it (exit 1 when a rack
    cannot be lost)."""
    result, policy, racks_from = _run_check(
        from_file, (cloud, placement_url, compute_url, token_ref, insecure), azs, q, require)
    as_json = structured_output()
    items = []
    lost = 0
    for az in result.azs:
        for c in az.classes:
            rc = c.resource_class
            for rack in c.racks:
                lost += 0 if rack.survivable else 1
                if as_json:
                    items.append({"az": az.az, "resource_class": rc, **asdict(rack)})
                else:
                    items.append({
                        "az": az.az, "class": rc, "rack": rack.rack if rack.known else f"{rack.rack[1:]} (no rack)",
                        "nodes": rack.nodes, "unavailable": rack.unavailable,
                        "allocated": format_amount(rack.allocated, rc), "capacity": format_amount(rack.capacity, rc),
                        "room": format_amount(rack.room, rc), "margin": format_amount(rack.margin, rc),
                        "survivable": rack.survivable,
                    })
    report = Report(kind="capacity.racks", items=items, columns=RACK_COLUMNS,
                    summary={"racks": len(items), "not_survivable": lost, "racks_from": racks_from})
    for problem in result.problems:
        report.note(ExitCode.OK, problem)
    for problem in result.incomplete:
        report.note(ExitCode.INCOMPLETE, problem)
    if lost:
        report.note(ExitCode.FINDINGS)
    emit(report)


@capacity.command()
@click.option("-o", "--out", "out", required=True, metavar="FILE",
              help="Where to write the snapshot JSON (- for stdout).")
@_source_options(from_file=False)
@_without_output_option
@global_options
@refuses_limit("capacity is judged over whole AZs; choose them with --az, and what-if failures with --fail")
def snapshot(out: str, cloud: str | None, placement_url: str | None, compute_url: str | None,
             token_ref: str | None, insecure: bool) -> None:
    """Read the cloud (and racks from the inventory) into a snapshot file for review and for
    checks without cloud access (schema: docs/capacity.md). Exit 4 when data is missing."""
    import json

    from dcops.capacity.racks import assign_racks
    from dcops.capacity.snapshot import snapshot_to_json, write_snapshot

    snap = read_cloud(_cloud_options(cloud, placement_url, compute_url, token_ref, insecure))
    hosts = load_hosts()
    if hosts is not None:
        snap = assign_racks(snap, hosts)
    if out == "-":
        click.echo(json.dumps(snapshot_to_json(snap), indent=1))
    else:
        write_snapshot(snap, Path(out))
    code = ExitCode.OK
    for problem in list(snap.problems) + list(snap.incomplete):
        click.echo(redact(f"dcops: {problem}"), err=True)
    if snap.incomplete:
        code = ExitCode.INCOMPLETE
    azs = snap.az_names()
    if out != "-":
        click.echo(f"dcops: wrote {out}: {len(snap.nodes)} compute nodes in {len(azs)} AZ(s), taken "
                   f"{snap.taken_at.astimezone(dt.UTC).isoformat()}", err=True)
    raise SystemExit(int(code))

