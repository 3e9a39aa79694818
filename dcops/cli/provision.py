"""``dcops provision plan|run|status|resume|retry|skip|abort``: the whole out-of-band workflow per
host, persisted in the state store so an interrupted run resumes where it was."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from dcops.actions import confirm, run_on_hosts
from dcops.cli.baseline import baselines_option, poll_option
from dcops.cli.common import emit, frontend, global_options, open_state, progress, settings
from dcops.cli.output import stored_time
from dcops.cli.playbook_vars import parse_playbook_vars
from dcops.cli.selection import honours_limit, limit_hosts, select_hosts
from dcops.errors import ExitCode, UsageError
from dcops.models import Host
from dcops.report import Column, Report

STEP_NAMES = ["discover", "accept", "pool", "firmware", "bios", "raid", "os-install", "post-install", "verify",
              "network"]
STEP = click.Choice(STEP_NAMES)


def run_options(func: Any) -> Any:
    options = [
        baselines_option,
        poll_option,
        click.option("--per-rack", type=click.IntRange(1, 10000), help="At most N hosts of one rack at once."),
        click.option("--playbooks", "playbooks_dir", metavar="DIR", default="playbooks", show_default=True,
                     help="Directory of the post-install and network playbooks."),
        click.option("--ansible-connection", metavar="NAME",
                     help="Ansible connection for the playbooks (default ssh; `local` for labs and tests)."),
        click.option("--playbook-var", "playbook_vars", multiple=True, metavar="KEY=VALUE",
                     help="Extra variable for every playbook (repeatable; VALUE is YAML)."),
        click.option("--wait-limit", type=click.FloatRange(1, 86400), metavar="SECONDS",
                     help="Give up on any single wait (task, reset, BMC reboot, BIOS apply) after this long "
                          "(default: 1 h for tasks, 20 min for resets, 15 min for BMC reboots)."),
        click.option("--allow-unverified", is_flag=True,
                     help="Deliver hosts whose profile asks for settings dcops cannot verify on them (e.g. "
                          "Non-RAID disks where the BMC does not report disk states); refused before any change "
                          "otherwise."),
        click.option("--yes", "-y", is_flag=True, help="Do not ask."),
        # Kept out of the command signatures (ctx.meta): the media server and hand-off settings.
        click.option("--media-listen", metavar="ADDR[:PORT]", expose_value=False, callback=_meta,
                     help="Where dcops serves answer images and hears installers (config provision.media_listen; "
                          "default 127.0.0.1 on a free port). Give an address your BMCs and hosts reach; "
                          "'external': the media server of `dcops serve` (same --media-dir and --media-url)."),
        click.option("--media-url", metavar="URL", expose_value=False, callback=_meta,
                     help="The media server's URL as BMCs and installers see it (config provision.media_url; "
                          "default: http://ADDR:PORT of --media-listen)."),
        click.option("--media-dir", metavar="DIR", expose_value=False, callback=_meta,
                     help="Where per-host answer images are kept until their install ends (config "
                          "provision.media_dir; default: next to the state database)."),
        click.option("--media-cert", metavar="PEM", expose_value=False, callback=_meta,
                     help="Serve media over HTTPS with this certificate chain (config provision.media_cert); "
                          "iLO and iDRAC mount HTTPS. The BMCs and the installer must trust its CA."),
        click.option("--media-key", metavar="PEM", expose_value=False, callback=_meta,
                     help="The certificate's private key (config provision.media_key; default: in --media-cert)."),
        click.option("--media-ca", metavar="PEM", expose_value=False, callback=_meta,
                     help="The CA that signed --media-cert (config provision.media_ca): rendered into each answer "
                          "file so the installer's curl verifies the completion call (--cacert), and imported into "
                          "BMCs that advertise VirtualMedia certificates. Not needed for a public CA."),
        click.option("--bastion", metavar="[USER@]HOST[:PORT]", expose_value=False, callback=_meta,
                     help="Reach the provisioning network through this SSH jump host (ProxyJump; hops separated "
                          "by commas; config provision.bastion; a host's extra.bastion in the network file wins)."),
        click.option("--reach-port", type=click.IntRange(1, 65535), expose_value=False, callback=_meta,
                     help="TCP port of the reachability gate on the production address (default: the OS "
                          "baseline's network.reach_port, 22)."),
        click.option("--delivered-hook", metavar="URL|COMMAND", expose_value=False, callback=_meta,
                     help="Called with the host's facts (JSON) once it is delivered: an http(s) URL (POST) or a "
                          "command (JSON on stdin). Config provision.delivered_hook."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _meta(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and param.name:
        ctx.meta[f"dcops.provision.{param.name}"] = value
    return value


def _setting(name: str, default: Any = None) -> Any:
    ctx = click.get_current_context(silent=True)
    value = ctx.meta.get(f"dcops.provision.{name}") if ctx is not None else None
    if value is None:
        value = settings().section("provision").get(name)
    return default if value is None else value


def _media_server(verb: str) -> Any:
    """The media server of a run that may reach os-install (run, resume, retry)."""
    if verb not in ("run", "resume", "retry"):
        return None
    from dcops.config import default_state_url
    from dcops.errors import InvalidInputError
    from dcops.installer.server import media_dir_for, open_media_server

    try:
        return open_media_server(lambda name: _setting(name), media_dir_for(settings().state, default_state_url()))
    except InvalidInputError as exc:
        raise UsageError(str(exc)) from exc


def _options(poll: float, per_rack: int | None, playbooks_dir: str, ansible_connection: str | None,
             playbook_vars: Sequence[str], until: str | None = None, force: bool = False,
             wait_limit: float | None = None, allow_unverified: bool = False) -> Any:
    from dcops.baseline.redfish import Pacing
    from dcops.provision.steps import Options
    from dcops.provision.workflow import Step

    pacing = Pacing(poll=poll, settle=max(poll * 5, 1.0))
    if wait_limit:
        pacing = Pacing(poll=poll, settle=pacing.settle, task_timeout=min(pacing.task_timeout, wait_limit),
                        reboot_timeout=min(pacing.reboot_timeout, wait_limit),
                        bmc_timeout=min(pacing.bmc_timeout, wait_limit),
                        bios_apply_timeout=min(pacing.bios_apply_timeout, wait_limit))
    return Options(until=Step(until) if until else None, force=force, parallel=settings().parallel,
                   per_rack=per_rack, pacing=pacing,
                   playbooks_dir=playbooks_dir, ansible_connection=ansible_connection,
                   playbook_vars=parse_playbook_vars(playbook_vars), allow_unverified=allow_unverified)


def _stored_hosts(statuses: set[str]) -> list[Host]:
    """Inventory hosts whose stored workflow has one of ``statuses`` (for resume without names)."""
    from dcops.inventory import load_inventory
    from dcops.provision import store as pstore

    store = open_state()
    try:
        rows = pstore.host_rows(store)
    finally:
        store.close()
    inv = load_inventory(settings().inventory)
    wanted = {name for name, row in rows.items() if row["status"] in statuses}
    hosts = [h for h in inv.hosts if h.name in wanted]
    return limit_hosts(hosts, inv.hosts)


def _hosts(names: tuple[str, ...], default_statuses: set[str] | None = None) -> list[Host]:
    if not names and not settings().limit and default_statuses is not None:
        hosts = _stored_hosts(default_statuses)
        if not hosts:
            raise UsageError("no host has a workflow to resume (name hosts or use --limit)")
        return hosts
    return select_hosts(names)


def _show_plan(planned: Sequence[Any]) -> int:
    """Print on stderr what a resume/retry will do to each host; returns how many hosts move."""
    from dcops.cli.output import render_table

    rows = []
    moving = 0
    for p in planned:
        d = p.decision
        moves = d.action in ("continue", "retry", "start")
        moving += moves
        what = {"continue": "reconcile and continue" if d.reconcile else "continue"}.get(d.action, d.action)
        rows.append({"host": p.host.name, "now": p.workflow.status.value if p.workflow else "none",
                     "will": what, "from": d.step.value if d.step else None,
                     "until": d.until.value if (d.until and moves) else None, "note": d.reason or None})
    import contextlib
    import sys

    click.echo("dcops: the plan:", err=True)
    with contextlib.redirect_stdout(sys.stderr):
        render_table(Report(kind="provision.plan", columns=[
            Column("host", "HOST"), Column("now", "NOW"), Column("will", "WILL"), Column("from", "FROM"),
            Column("until", "UP TO"), Column("note", "NOTE")], items=rows))
    return moving


def _execute(verb_name: str, hosts: list[Host], baselines_dir: str, options: Any, *, step: str | None = None,
             reason: str | None = None, ask: str | None = None, yes: bool = False) -> None:
    """Run the command; with ``ask``, first show each host's plan from the store and confirm
    (``ask`` is the question, ``{n}`` the number of hosts that would move)."""
    from dcops.baseline.load import load_baselines
    from dcops.baseline.redfish import open_target
    from dcops.provision.runner import HostOutcome, Provisioner
    from dcops.provision.workflow import Step, Verb

    baselines = load_baselines(baselines_dir)
    options.media = _media_server(verb_name)
    reach = _setting("reach_port")
    options.reach_port = int(reach) if reach is not None else None
    options.delivered_hook = _setting("delivered_hook", options.delivered_hook)
    options.bastion = _setting("bastion", options.bastion)
    store = open_state()
    pacing = options.pacing
    verbose = settings().verbose
    if ask is not None:
        try:
            planned = Provisioner(store, baselines, hosts, lambda h: open_target(h, pacing), options).preview(
                Verb(verb_name), step=Step(step) if step else None, reason=reason)
            moving = _show_plan(planned)
            if moving:
                confirm(ask.format(n=moving), yes, frontend())
        except BaseException:
            store.close()
            raise

    def on_event(host: str, message: str) -> None:
        if verbose:
            click.echo(f"dcops: {host}: {message}", err=True)

    try:
        with progress(len(hosts), f"provision {verb_name}") as advance:
            def on_host(outcome: HostOutcome) -> None:
                advance(1, 1 if outcome.status in ("failed", "unreachable") else 0)
                if verbose:
                    click.echo(f"dcops: {outcome.host}: {outcome.status}"
                               + (f" at {outcome.step}" if outcome.step else "")
                               + (f": {outcome.message}" if outcome.message else ""), err=True)

            runner = Provisioner(store, baselines, hosts, lambda h: open_target(h, pacing), options,
                                 on_host=on_host, on_event=on_event)
            outcomes = runner.execute(Verb(verb_name), step=Step(step) if step else None, reason=reason)
    finally:
        store.close()
        if options.media is not None:
            options.media.close()
    report = Report(kind=f"provision.{verb_name}", columns=[
        Column("host", "HOST"), Column("status", "STATUS"), Column("step", "STEP"), Column("seconds", "SECONDS"),
        Column("message", "MESSAGE")])
    counts: dict[str, int] = {}
    for o in outcomes:
        report.items.append({"host": o.host, "status": o.status, "step": o.step, "message": o.message,
                             "seconds": round(o.seconds, 1)})
        counts[o.status] = counts.get(o.status, 0) + 1
        code = o.exit_code
        if code is not ExitCode.OK:
            report.note(code, f"error: {o.host}: provision {verb_name}: {o.status}"
                        + (f" at {o.step}" if o.step else "") + (f": {o.message}" if o.message else ""))
    report.summary = {"hosts": len(outcomes), "run": runner.run_id, **counts}
    emit(report)


@click.group()
@global_options
def provision() -> None:
    """Out-of-band provisioning: discover, accept, pool, firmware, BIOS, RAID, OS, playbooks, verify,
    production network, delivered. Persisted per host: resume, retry, skip, abort."""


def _plan_item(host: str) -> dict[str, Any]:
    """Every key of a ``provision.plan`` item: a host refused, read offline or unreachable has the
    same keys as one fully read, with unknown values (JSON readers need not test for keys)."""
    return {"host": host, "status": None, "decision": None, "reason": None, "steps": [], "profile": None,
            "accepted": None, "acceptance": [], "changes": None, "problems": [], "reboots": None, "error": None}


@provision.command("plan")
@click.argument("hosts", nargs=-1)
@baselines_option
@poll_option
@click.option("--until", type=STEP, help="Stop after this step (e.g. pool: intake only).")
@click.option("--force", is_flag=True, help="Plan re-provisioning delivered hosts.")
@click.option("--offline", is_flag=True, help="Do not read the BMCs (steps only).")
@global_options
@honours_limit
def plan_command(hosts: tuple[str, ...], baselines_dir: str, poll: float, until: str | None, force: bool,
                 offline: bool) -> None:
    """Dry run: the steps each host would go through, its acceptance verdicts and baseline differences."""
    from dcops.baseline.accept import check_acceptance
    from dcops.baseline.load import load_baselines
    from dcops.baseline.redfish import Pacing, open_target, opened
    from dcops.baseline.run import host_baselines
    from dcops.provision import store as pstore
    from dcops.provision.workflow import Step, Verb, decide, plan_steps

    targets = select_hosts(hosts)
    baselines = load_baselines(baselines_dir)
    store = open_state()
    try:
        workflows = pstore.load_workflows(store, [h.name for h in targets])
    finally:
        store.close()
    pacing = Pacing(poll=poll)

    def look(host: Host) -> dict[str, Any]:
        from dcops.baseline.apply import read_and_diff

        wf = workflows.get(host.name)
        decision = decide(wf, Verb.RUN, force=force)
        steps = plan_steps(wf, until=Step(until) if until else None, force=force)
        item: dict[str, Any] = {**_plan_item(host.name), "status": wf.status.value if wf else "new",
                                "decision": decision.action, "reason": decision.reason or None,
                                "steps": [{"step": s.value, "what": w} for s, w in steps]}
        if offline or decision.action == "refuse":
            return item
        with opened(lambda h: open_target(h, pacing), host) as target:
            obs = target.bmc.inventory.observe()
            hb = host_baselines(baselines, host, obs.identity.manufacturer, obs.identity.model)
            acceptance = check_acceptance(baselines.profiles[str(hb.profile)], obs)
            _, plan = read_and_diff(target, hb, ["firmware", "bios", "raid"])
        item.update({"profile": hb.profile, "accepted": acceptance.accepted,
                     "acceptance": [{"field": v.field, "expected": v.expected, "observed": v.observed,
                                     "verdict": v.verdict} for v in acceptance.verdicts],
                     "changes": {k: [c.describe() for c in plan.changes if c.kind.value == k] for k in plan.baselines},
                     "problems": list(plan.problems), "reboots": plan.reboots})
        return item

    outcomes = run_on_hosts(targets, look, "provision plan", frontend())
    report = Report(kind="provision.plan", columns=[
        Column("host", "HOST"), Column("status", "NOW"), Column("decision", "WOULD"), Column("profile", "PROFILE"),
        Column("accepted", "ACCEPTED"), Column("work", "STEPS TO RUN"), Column("changes_n", "CHANGES"),
        Column("reason", "NOTE")])
    for o in outcomes:
        if o.error is not None:
            report.items.append({**_plan_item(o.host.name), "error": str(o.error), "reason": str(o.error),
                                 "work": "", "changes_n": None})
            report.note(o.error.exit_code, f"error: {o.host.name}: provision plan: {o.error}")
            continue
        item = o.value
        item["work"] = ",".join(s["step"] for s in item["steps"] if s["what"] in ("run", "resume"))
        item["changes_n"] = sum(len(v) for v in item["changes"].values()) if item["changes"] is not None else None
        if item.get("accepted") is False:
            failed = [v for v in item["acceptance"] if v["verdict"] != "ok"]
            item["reason"] = "; ".join(f"{v['field']}: {v['verdict']}" for v in failed)
            report.note(ExitCode.FINDINGS)
        for problem in item.get("problems") or []:
            report.note(ExitCode.INVALID_INPUT, f"error: {o.host.name}: {problem}")
        if item["decision"] == "refuse":
            report.note(ExitCode.FINDINGS, f"{o.host.name}: {item['reason']}")
        report.items.append(item)
    report.summary = {"hosts": len(targets),
                      "would_start": sum(1 for i in report.items if i.get("decision") == "start"),
                      "refused": sum(1 for i in report.items if i.get("decision") == "refuse")}
    emit(report)


@provision.command("run")
@click.argument("hosts", nargs=-1)
@run_options
@click.option("--until", type=STEP, help="Stop after this step (e.g. pool: accept into the pool only).")
@click.option("--force", is_flag=True, help="Re-provision hosts already delivered (wipes them).")
@click.option("--secure-erase", is_flag=True,
              help="In the RAID step, first destroy the data on every disk: Volume.Initialize (Slow) of each "
                   "volume, Drive.SecureErase of each free drive (re-provisioned or decommissioned hosts). "
                   "Refused before any change where the BMC offers neither.")
@global_options
@honours_limit
def run_command(hosts: tuple[str, ...], baselines_dir: str, poll: float, per_rack: int | None, playbooks_dir: str,
                ansible_connection: str | None, playbook_vars: tuple[str, ...], wait_limit: float | None,
                allow_unverified: bool, yes: bool, until: str | None, force: bool, secure_erase: bool) -> None:
    """Provision HOSTS, --parallel at a time (and --per-rack). Asks first unless --yes."""
    targets = select_hosts(hosts)
    options = _options(poll, per_rack, playbooks_dir, ansible_connection, playbook_vars, until, force, wait_limit,
                       allow_unverified)
    options.secure_erase = secure_erase
    confirm(f"dcops will provision {len(targets)} host(s)" + (f" up to {until}" if until else " to delivery")
            + f", {options.parallel} at once" + (f", {per_rack} per rack" if per_rack else "")
            + (" -- RE-PROVISIONING delivered hosts (--force)" if force else "")
            + (" -- SECURE ERASE of every disk" if secure_erase else "")
            + ": firmware, BIOS and RAID are changed, disks are wiped, an OS is installed", yes, frontend())
    _execute("run", targets, baselines_dir, options)


@provision.command("resume")
@click.argument("hosts", nargs=-1)
@run_options
@global_options
@honours_limit
def resume_command(hosts: tuple[str, ...], baselines_dir: str, poll: float, per_rack: int | None,
                   playbooks_dir: str, ansible_connection: str | None, playbook_vars: tuple[str, ...],
                   wait_limit: float | None, allow_unverified: bool, yes: bool) -> None:
    """Go on with interrupted workflows (all of them when no host is named), each only up to the
    --until it was run with: a host parked there (e.g. `--until pool`) is not touched; only `run`
    moves it on. An interrupted step reconciles with what the BMC reports and never repeats what it
    already did. Shows each host's plan and asks unless --yes."""
    targets = _hosts(hosts, {"running", "pending"})
    options = _options(poll, per_rack, playbooks_dir, ansible_connection, playbook_vars, wait_limit=wait_limit,
                       allow_unverified=allow_unverified)
    _execute("resume", targets, baselines_dir, options,
             ask="dcops will resume provisioning {n} host(s), each up to the --until it was run with", yes=yes)


@provision.command("retry")
@click.argument("step", type=STEP)
@click.argument("hosts", nargs=-1)
@run_options
@global_options
@honours_limit
def retry_command(step: str, hosts: tuple[str, ...], baselines_dir: str, poll: float, per_rack: int | None,
                  playbooks_dir: str, ansible_connection: str | None, playbook_vars: tuple[str, ...],
                  wait_limit: float | None, allow_unverified: bool, yes: bool) -> None:
    """Run the failed STEP again (a new attempt) and go on from there."""
    targets = _hosts(hosts, {"failed"})
    options = _options(poll, per_rack, playbooks_dir, ansible_connection, playbook_vars, wait_limit=wait_limit,
                       allow_unverified=allow_unverified)
    _execute("retry", targets, baselines_dir, options, step=step,
             ask=f"dcops will retry {step} on {{n}} host(s) and continue up to the --until each was run with",
             yes=yes)


@provision.command("skip")
@click.argument("step", type=STEP)
@click.argument("hosts", nargs=-1)
@baselines_option
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@global_options
@honours_limit
def skip_command(step: str, hosts: tuple[str, ...], baselines_dir: str, reason: str) -> None:
    """Mark STEP skipped on HOSTS with a reason; `resume` then goes on after it."""
    from dcops.provision.steps import Options

    _execute("skip", select_hosts(hosts), baselines_dir, Options(), step=step, reason=reason)


@provision.command("abort")
@click.argument("hosts", nargs=-1)
@baselines_option
@click.option("--reason", help="Why (recorded in the audit log).")
@global_options
@honours_limit
def abort_command(hosts: tuple[str, ...], baselines_dir: str, reason: str | None) -> None:
    """Stop the workflows of HOSTS (a running process stops before its next step)."""
    from dcops.provision.steps import Options

    _execute("abort", select_hosts(hosts), baselines_dir, Options(), reason=reason)


@provision.command("status")
@click.argument("hosts", nargs=-1)
@click.option("--steps", "show_steps", is_flag=True, help="Every step attempt of each host.")
@global_options
@honours_limit
def status_command(hosts: tuple[str, ...], show_steps: bool) -> None:
    """Where each host's workflow is (all stored hosts when none is named)."""
    from dcops.provision import store as pstore
    from dcops.provision.workflow import Step

    store = open_state()
    try:
        names = [h.name for h in select_hosts(hosts)] if hosts or settings().limit else None
        rows = pstore.host_rows(store, names)
        workflows = pstore.load_workflows(store, names)
        step_rows = {h: pstore.step_rows(store, h, rows[h]["workflow_id"]) for h in rows} if show_steps else {}
    finally:
        store.close()
    report = Report(kind="provision.status", columns=[
        Column("host", "HOST"), Column("status", "STATUS"), Column("step", "STEP"), Column("profile", "PROFILE"),
        Column("until", "UP TO"), Column("done", "DONE"), Column("updated_at", "UPDATED"), Column("error", "ERROR")])
    counts: dict[str, int] = {}
    for name in sorted(rows):
        row = rows[name]
        wf = workflows.get(name)
        done = sum(1 for s in Step if wf is not None and wf.finished(s))
        until = (row.get("data") or {}).get("until")
        item = {"host": name, "status": row["status"], "step": row["step"], "profile": row["profile"],
                "until": until, "done": f"{done}/{len(STEP_NAMES)}", "updated_at": stored_time(row["updated_at"]),
                "error": row["error"], "delivered_at": stored_time(row["delivered_at"]), "workflow": row["workflow_id"]}
        if show_steps:
            item["steps"] = [{"step": s["step"], "attempt": s["attempt"], "status": s["status"],
                              "started_at": stored_time(s["started_at"]), "finished_at": stored_time(s["finished_at"]),
                              "error": s["error"], "reason": s["reason"]} for s in step_rows.get(name, [])]
        report.items.append(item)
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    report.summary = {"hosts": len(rows), **counts}
    emit(report)
