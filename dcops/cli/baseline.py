"""``dcops baseline validate|plan|apply|verify``: the desired state of servers, shown as a diff,
applied, and checked (a CI gate and a nightly compliance scan)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import click

from dcops.actions import Auditor, confirm, run_on_hosts
from dcops.cli.common import emit, frontend, global_options, structured_output
from dcops.cli.selection import honours_limit, select_hosts
from dcops.errors import ExitCode
from dcops.report import Column, Report

KINDS = click.Choice(["firmware", "bios", "raid"])


def baselines_option(func: Any) -> Any:
    return click.option("--baselines", "baselines_dir", metavar="DIR",
                        default=lambda: os.environ.get("DCOPS_BASELINES", "baselines"), show_default="./baselines",
                        help="Baselines directory (or $DCOPS_BASELINES).")(func)


def kind_option(func: Any) -> Any:
    return click.option("--kind", "kinds", multiple=True, type=KINDS,
                        help="Only these kinds (repeatable). Default: firmware, bios and raid.")(func)


def unverified_option(func: Any) -> Any:
    return click.option("--allow-unverified", is_flag=True,
                        help="Accept settings dcops cannot verify on these servers (e.g. Non-RAID disks where the "
                             "BMC does not report disk states): listed, but no longer a failure.")(func)


def poll_option(func: Any) -> Any:
    return click.option("--poll", type=click.FloatRange(0.01, 60), default=2.0, show_default=True,
                        help="Seconds between polls of a BMC (tasks, resets).")(func)


def _load(directory: str) -> Any:
    from dcops.baseline.load import load_baselines

    return load_baselines(directory, playbooks_dir=None)


def _opener(poll: float) -> Callable[[Any], Any]:
    from dcops.baseline.redfish import Pacing, open_target

    pacing = Pacing(poll=poll, settle=max(poll * 5, 1.0))
    return lambda host: open_target(host, pacing)


@click.group()
@global_options
def baseline() -> None:
    """Baselines: firmware, BIOS and RAID desired state; plan (a diff), apply, verify."""


@baseline.command("validate")
@baselines_option
@click.option("--playbooks", "playbooks_dir", metavar="DIR", default="playbooks", show_default=True,
              help="Where the playbooks profiles name must exist.")
@global_options
def validate(baselines_dir: str, playbooks_dir: str) -> None:
    """Check every baseline file; exit 3 with each problem as FILE:LINE."""
    from dcops.baseline.load import load_baselines

    b = load_baselines(baselines_dir, playbooks_dir=playbooks_dir if os.path.isdir(playbooks_dir) else None)
    report = Report(kind="baseline.validate", columns=[Column("kind", "KIND"), Column("name", "NAME"),
                                                       Column("source", "FILE")])
    for kind in ("profiles", "firmware", "bios", "raid", "os"):
        for name, item in sorted(getattr(b, kind).items()):
            report.items.append({"kind": kind, "name": name, "source": str(item.source)})
    report.summary = {k: len(getattr(b, k)) for k in ("profiles", "firmware", "bios", "raid", "os")}
    emit(report)


def _change_rows(runs: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        if run.error is not None:
            rows.append({"host": run.host, "kind": "-", "target": "-", "old": None, "new": None,
                         "action": "error", "reboot": None})
            continue
        plan = run.plan
        for change in plan.changes:
            rows.append({"host": run.host, "kind": change.kind.value, "target": change.target, "old": change.old,
                         "new": change.new, "action": change.action + (" (destroys data)" if change.destructive else ""),
                         "reboot": change.reboot})
        for problem in plan.problems:
            rows.append({"host": run.host, "kind": problem.split(" ", 1)[0], "target": "-", "old": None,
                         "new": None, "action": "invalid", "reboot": None})
        if plan.compliant:
            rows.append({"host": run.host, "kind": ",".join(plan.baselines) or "-", "target": "-", "old": None,
                         "new": None, "action": "compliant", "reboot": None})
    return rows


def _host_item(run: Any) -> dict[str, Any]:
    from dcops.report import jsonable

    item: dict[str, Any] = {"host": run.host, "profile": run.profile, "error": None}
    if run.error is not None:
        # An unreachable host keeps the item's shape: same keys, unknown values, the error.
        item.update({"error": str(run.error), "compliant": None, "baselines": {}, "reboots": None,
                     "destructive": None, "changes": [], "problems": [], "unverified": [], "differences": {}})
        return item
    plan = run.plan
    item.update({
        "compliant": plan.compliant, "baselines": dict(plan.baselines), "reboots": plan.reboots,
        "destructive": plan.destructive,
        "changes": [jsonable({"kind": c.kind, "target": c.target, "action": c.action, "old": c.old, "new": c.new,
                              "reboot": c.reboot, "destructive": c.destructive, "note": c.note})
                    for c in plan.changes],
        "problems": list(plan.problems), "unverified": list(plan.unverified),
        "differences": {k: sum(1 for c in plan.changes if c.kind.value == k) for k in plan.baselines},
    })
    return item


def _columns() -> list[Column]:
    return [Column("host", "HOST"), Column("kind", "KIND"), Column("target", "TARGET"), Column("old", "CURRENT"),
            Column("new", "WANTED"), Column("action", "ACTION"), Column("reboot", "REBOOT")]


def _plan_runs(baselines_dir: str, hosts: tuple[str, ...], kinds: tuple[str, ...], poll: float) -> list[Any]:
    from dcops.baseline.run import KIND_NAMES, plan_host

    b = _load(baselines_dir)
    targets = select_hosts(hosts)
    opener = _opener(poll)
    chosen = list(kinds) or list(KIND_NAMES)
    outcomes = run_on_hosts(targets, lambda h: plan_host(opener, b, h, chosen), "baseline plan", frontend())
    return [o.value for o in outcomes]


def _report(kind: str, runs: Sequence[Any], *, verb: str, allow_unverified: bool = False) -> Report:
    json_out = structured_output()
    report = Report(kind=kind, columns=_columns())
    report.items = [_host_item(r) for r in runs] if json_out else _change_rows(runs)
    for run in runs:
        if run.error is not None:
            report.note(run.error.exit_code, f"error: {run.host}: baseline {verb}: {run.error}")
            continue
        for problem in run.plan.problems:
            report.note(ExitCode.INVALID_INPUT, f"error: {run.host}: {problem}")
        if run.plan.changes:
            report.note(ExitCode.FINDINGS)
        if run.plan.unverified and not allow_unverified:
            # Green but not done is the worst answer a gate can give: what dcops cannot check fails it.
            report.note(ExitCode.FINDINGS, f"error: {run.host}: unverified (dcops cannot check it; "
                                           f"--allow-unverified accepts it): " + "; ".join(run.plan.unverified))
    ok = [r for r in runs if r.error is None]
    report.summary = {"hosts": len(runs), "compliant": sum(1 for r in ok if r.plan.compliant),
                      "differing": sum(1 for r in ok if r.plan.changes),
                      "changes": sum(len(r.plan.changes) for r in ok),
                      "needing_reboot": sum(1 for r in ok if r.plan.reboots),
                      "unverified": sum(1 for r in ok if r.plan.unverified),
                      "errors": sum(1 for r in runs if r.error is not None)}
    return report


def _junit(path: str | None, suite: str, runs: Sequence[Any], allow_unverified: bool = False) -> None:
    if not path:
        return
    from dcops.baseline.junit import Case, cases_from_plan, write_junit

    cases: list[Case] = []
    for run in runs:
        if run.error is not None:
            cases.append(Case(run.host, "bmc", None, error=str(run.error), seconds=run.seconds))
        else:
            cases.extend(cases_from_plan(run.plan, run.seconds, allow_unverified=allow_unverified))
    write_junit(path, suite, cases)


@baseline.command("plan")
@click.argument("hosts", nargs=-1)
@baselines_option
@kind_option
@poll_option
@unverified_option
@click.option("--junit", "junit_path", metavar="PATH", help="Also write JUnit XML here (for CI systems).")
@global_options
@honours_limit
def plan_command(hosts: tuple[str, ...], baselines_dir: str, kinds: tuple[str, ...], poll: float,
                 allow_unverified: bool, junit_path: str | None) -> None:
    """Show every difference between HOSTS and their profile's baselines, and the reboots needed.

    Exit 0 when all comply, 1 when anything differs or cannot be verified (a CI gate; see
    --allow-unverified), 3 when a baseline cannot apply to a server, 4 when a BMC could not be read."""
    runs = _plan_runs(baselines_dir, hosts, kinds, poll)
    _junit(junit_path, "baseline.plan", runs, allow_unverified)
    emit(_report("baseline.plan", runs, verb="plan", allow_unverified=allow_unverified))


@baseline.command("verify")
@click.argument("hosts", nargs=-1)
@baselines_option
@kind_option
@poll_option
@click.option("--junit", "junit_path", metavar="PATH", help="Also write JUnit XML here.")
@click.option("--store/--no-store", "store_results", default=True, show_default=True,
              help="Keep the results in the state store (the exporter publishes them).")
@unverified_option
@click.option("--os", "os_check", is_flag=True,
              help="Re-check the OS instead: the profile's post-install playbooks in Ansible check mode on the "
                   "host's provisioning address (anything they would change is drift).")
@click.option("--playbooks", "playbooks_dir", metavar="DIR", default="playbooks", show_default=True,
              help="With --os: the playbook directory.")
@click.option("--ansible-connection", metavar="NAME", help="With --os: the Ansible connection (default ssh).")
@click.option("--playbook-var", "playbook_vars", multiple=True, metavar="KEY=VALUE",
              help="With --os: extra variable for every playbook (repeatable; VALUE is YAML).")
@global_options
@honours_limit
def verify_command(hosts: tuple[str, ...], baselines_dir: str, kinds: tuple[str, ...], poll: float,
                   junit_path: str | None, store_results: bool, allow_unverified: bool, os_check: bool,
                   playbooks_dir: str, ansible_connection: str | None, playbook_vars: tuple[str, ...]) -> None:
    """Read-only compliance scan of HOSTS (for a nightly job); results are stored for `dcops serve`.
    With --os, the installed OS of delivered HOSTS is re-checked instead."""
    if os_check:
        _verify_os(hosts, baselines_dir, playbooks_dir, ansible_connection, playbook_vars)
        return
    from dcops.baseline.run import result_rows
    from dcops.cli.common import open_state
    from dcops.store.baseline import save_results

    runs = _plan_runs(baselines_dir, hosts, kinds, poll)
    if store_results:
        store = open_state()
        try:
            save_results(store, [row for r in runs for row in result_rows(r)])
        finally:
            store.close()
    _junit(junit_path, "baseline.verify", runs, allow_unverified)
    emit(_report("baseline.verify", runs, verb="verify", allow_unverified=allow_unverified))


def _verify_os(hosts: tuple[str, ...], baselines_dir: str, playbooks_dir: str, ansible_connection: str | None,
               playbook_vars: tuple[str, ...]) -> None:
    from dcops.baseline.load import load_baselines
    from dcops.cli.common import open_state
    from dcops.cli.playbook_vars import parse_playbook_vars
    from dcops.cli.selection import select_hosts
    from dcops.errors import DcopsError, ExitCode
    from dcops.provision import store as pstore
    from dcops.provision.steps import Options, verify_os
    from dcops.report import Column, Report

    targets = select_hosts(hosts)
    baselines = load_baselines(baselines_dir)
    store = open_state()
    try:
        rows = pstore.host_rows(store, [h.name for h in targets])
    finally:
        store.close()
    from dcops.cli.common import settings

    options = Options(playbooks_dir=playbooks_dir, ansible_connection=ansible_connection,
                      playbook_vars=parse_playbook_vars(playbook_vars),
                      bastion=settings().section("provision").get("bastion"))  # as provision run reaches it
    report = Report(kind="baseline.verify_os", columns=[Column("host", "HOST"), Column("result", "RESULT"),
                                                        Column("message", "MESSAGE")])
    for host in targets:
        data = dict((rows.get(host.name) or {}).get("data") or {})
        try:
            books = verify_os(baselines, host, data, options)
        except DcopsError as exc:
            report.items.append({"host": host.name, "result": "drift", "message": str(exc),
                                 "playbooks": getattr(exc, "after", {}).get("playbooks")})
            report.note(ExitCode.FINDINGS, f"{host.name}: {exc}")
            continue
        report.items.append({"host": host.name, "result": "compliant" if books else "nothing to check",
                             "message": None, "playbooks": books})
    report.summary = {"hosts": len(targets), "drift": sum(1 for i in report.items if i["result"] == "drift")}
    emit(report)


@baseline.command("apply")
@click.argument("hosts", nargs=-1)
@baselines_option
@kind_option
@poll_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@click.option("--allow-data-loss", is_flag=True, help="Allow RAID changes that delete volumes.")
@click.option("--allow-foreign-pending", is_flag=True,
              help="Reset even when BIOS values staged outside the baseline are pending (they get applied).")
@click.option("--graceful/--force-reset", default=True, show_default=True,
              help="Graceful restart for BIOS changes (falls back to a hard reset only where unsupported).")
@unverified_option
@global_options
@honours_limit
def apply_command(hosts: tuple[str, ...], baselines_dir: str, kinds: tuple[str, ...], poll: float, yes: bool,
                  allow_data_loss: bool, allow_foreign_pending: bool, graceful: bool, allow_unverified: bool) -> None:
    """Bring HOSTS to their baselines: firmware, then BIOS, then RAID; each verified from a re-read.

    Shows the plan and asks unless --yes. A host stops at its first failure; the others go on."""
    from dcops.baseline.preflight import refusals
    from dcops.baseline.run import KIND_NAMES, apply_one

    runs = _plan_runs(baselines_dir, hosts, kinds, poll)
    plan_report = _report("baseline.plan", runs, verb="plan")
    # Preflight: a host whose plan is refused anywhere (any kind) is not touched at all.
    refused = {r.host: refusals(r.plan, allow_destructive=allow_data_loss, allow_foreign_pending=allow_foreign_pending,
                                allow_unverified=allow_unverified)
               for r in runs if r.error is None and (r.plan.changes or r.plan.unverified or r.plan.problems)}
    refused = {h: why for h, why in refused.items() if why}
    differing = [r for r in runs if r.error is None and r.plan.changes and r.host not in refused]
    for host, why in refused.items():
        click.echo(f"dcops: {host}: refused before any change: {'; '.join(why)}", err=True)
    if not differing and not refused:
        plan_report.kind = "baseline.apply"
        emit(plan_report)
    from dcops.cli.output import render_table

    if not structured_output():
        click.echo("dcops: the plan:", err=True)
        import contextlib
        import sys

        with contextlib.redirect_stdout(sys.stderr):
            render_table(Report(kind="baseline.plan", columns=_columns(), items=_change_rows(differing)))
    reboots = sum(1 for r in differing if r.plan.reboots)
    destructive = [r.host for r in differing if r.plan.destructive]
    if differing:
        confirm(f"dcops will change {len(differing)} host(s) ({sum(len(r.plan.changes) for r in differing)} changes, "
                f"{reboots} with reboots" + (f"; DELETES VOLUMES on {', '.join(destructive)}" if destructive else "")
                + ")", yes, frontend())
    b = _load(baselines_dir)
    opener = _opener(poll)
    chosen = list(kinds) or list(KIND_NAMES)
    auditor = Auditor(frontend().state_url)

    intents: dict[str, int] = {}

    def audit_fn(action: str, host: str, before: Any, after: Any, details: str | None, result: str) -> None:
        # "started" is the host's intent; every later entry for the host names it, and the final
        # baseline.apply entry (ok or failed) is its outcome.
        if result == "started":
            intents[host] = auditor.start(action, host, before=before, details=details)
        elif action == "baseline.apply" and host in intents:
            auditor.finish(intents.pop(host), action, host, result=result, before=before, after=after, details=details)
        else:
            auditor.record(action, host, result=result, before=before, after=after, details=details,
                           intent_id=intents.get(host))

    by_name = {h.name: h for h in select_hosts(hosts)}
    for host, why in refused.items():
        auditor.record("baseline.apply", host, result="refused", details="refused before any change: " + "; ".join(why))
    try:
        outcomes = run_on_hosts([by_name[r.host] for r in differing],
                                lambda h: apply_one(opener, b, h, chosen, allow_destructive=allow_data_loss,
                                                    graceful=graceful, allow_foreign_pending=allow_foreign_pending,
                                                    allow_unverified=allow_unverified, audit=audit_fn),
                                "baseline apply", frontend())
    finally:
        auditor.close()
    applied = [o.value for o in outcomes]
    report = Report(kind="baseline.apply", columns=[Column("host", "HOST"), Column("result", "RESULT"),
                                                    Column("applied", "APPLIED"), Column("message", "MESSAGE")])
    for host, why in refused.items():
        report.items.append({"host": host, "result": "refused", "applied": 0, "remaining": None,
                             "message": "refused before any change: " + "; ".join(why), "kinds": []})
        report.note(ExitCode.INVALID_INPUT if any(w.startswith("cannot apply") for w in why) else ExitCode.APPLY_FAILED,
                    f"error: {host}: baseline apply: refused before any change: " + "; ".join(why))
    for run in applied:
        from dcops.errors import RefusedError

        if run.error is None:
            result = "ok"
        elif isinstance(run.error, RefusedError):
            result = "refused"
        else:
            result = "partial" if run.changed else "failed"
        remaining = len(run.after.changes) if run.after is not None else None
        # After a failure, the message says what was changed before it (never "nothing").
        message = str(run.error) if run.error else None
        if run.error is not None and run.changed:
            message = f"{run.error} -- changed before the failure: " + " | ".join(r.summary() for r in run.results)
        report.items.append({"host": run.host, "profile": run.profile, "result": result,
                             "applied": run.changed,
                             "remaining": remaining, "seconds": round(run.seconds, 1),
                             "message": message,
                             "kinds": [{"kind": r.kind, "baseline": r.baseline, "outcome": r.outcome,
                                        "applied": r.applied, "writes": r.record()["applied"],
                                        "destroyed": r.record()["destroyed"],
                                        "remaining": r.record()["remaining"], "failed": r.failed,
                                        "reboots": r.reboots} for r in run.results]})
        if run.error:
            report.note(run.error.exit_code, f"error: {run.host}: baseline apply: {message}")
        elif remaining:
            report.note(ExitCode.APPLY_FAILED, f"error: {run.host}: {remaining} difference(s) remain after apply")
    for run in runs:
        if run.error is not None:
            report.note(run.error.exit_code, f"error: {run.host}: baseline plan: {run.error}")
        elif run.plan.problems and run.host not in refused:
            report.note(ExitCode.INVALID_INPUT, f"error: {run.host}: " + "; ".join(run.plan.problems))
    report.summary = {"hosts": len(runs), "changed": sum(1 for r in applied if r.changed),
                      "writes": sum(r.changed for r in applied),
                      "failed": sum(1 for r in applied if r.error),
                      "refused": len(refused) + sum(1 for r in applied if r.error is not None
                                                    and r.error.__class__.__name__ == "RefusedError"),
                      "already_compliant": sum(1 for r in runs if r.error is None and r.plan.compliant)}
    emit(report)
