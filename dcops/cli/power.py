"""``dcops power status|on|off|cycle|reset`` and ``dcops power plan|apply open|close``."""

from __future__ import annotations

import time
from typing import Any

import click

from dcops.actions import Auditor, confirm, note_errors, run_on_hosts
from dcops.cli.common import emit, frontend, global_options, progress, settings, structured_output
from dcops.cli.selection import honours_limit, select_hosts
from dcops.errors import ApplyError, DcopsError, ExitCode, UnreachableError
from dcops.models import Host
from dcops.observation import PowerState
from dcops.report import Column, Report


@click.group()
@global_options
def power() -> None:
    """Power state of servers, one at a time or in waves for market open/close."""


def _open(host: Host) -> Any:
    from dcops.bmc.select import open_bmc

    return open_bmc(host)


@power.command("status")
@click.argument("hosts", nargs=-1)
@global_options
@honours_limit
def status(hosts: tuple[str, ...]) -> None:
    """Show the power state of HOSTS."""
    targets = select_hosts(hosts)

    def read(host: Host) -> PowerState:
        with _open(host) as dev:
            state: PowerState = dev.power.status()
            return state

    outcomes = run_on_hosts(targets, read, "power status", frontend())
    report = Report(kind="power.status", columns=[Column("host", "HOST"), Column("power", "POWER")])
    for o in outcomes:
        # An unanswered BMC is not "off": say that we do not know, and why (stderr has the detail).
        report.items.append({"host": o.host.name, "power": o.value.value if o.value else "unreachable",
                             "error": str(o.error) if o.error else None})
    note_errors(report, outcomes, "power status")
    counts: dict[str, int] = {}
    for item in report.items:
        counts[str(item["power"])] = counts.get(str(item["power"]), 0) + 1
    report.summary = {"hosts": len(targets), **counts}
    emit(report)


def _change(operation: str, hosts: tuple[str, ...], *, yes: bool, force: bool, timeout: float, wait: bool) -> None:
    targets = select_hosts(hosts)
    destructive = operation != "on"
    if destructive:
        what = {"off": "shut down gracefully" + (" (forced off after the timeout)" if force else ""),
                "cycle": "power-cycle (hard)", "reset": "reset (hard)"}[operation]
        confirm(f"dcops will {what} {len(targets)} host(s): " + ", ".join(h.name for h in targets[:10])
                + (" ..." if len(targets) > 10 else ""), yes, frontend())
    auditor = Auditor(frontend().state_url)
    target_state = {"on": PowerState.ON, "off": PowerState.OFF}.get(operation)

    def act(host: Host) -> dict[str, Any]:
        action = f"power.{operation}"
        with _open(host) as dev:
            before = dev.power.status()
            if target_state is not None and before is target_state:
                auditor.record(action, host.name, result="already", before=before.value, after=before.value)
                return {"host": host.name, "before": before.value, "after": before.value, "result": "already",
                        "error": None}
            # The intent is in the store before the BMC is asked: a crash from here on leaves
            # "started, outcome unknown", and an unusable store stops the action.
            intent = auditor.start(action, host.name, before=before.value)
            try:
                dev.power.request(operation)
            except ApplyError as exc:  # the BMC answered and refused: nothing happened
                auditor.finish(intent, action, host.name, result="failed", before=before.value, details=str(exc))
                raise
            except UnreachableError as exc:
                # The request went out and no answer came back: the BMC may have acted on it.
                return _unverified(auditor, intent, action, host, before, "unknown",
                                   f"no answer to the request, it may have been carried out: {exc}")
            # The BMC accepted the request. Whatever happens to the read-back, the action was
            # done: never report "failed" (a retry would cycle the server a second time).
            result, stuck = "ok", None
            try:
                if wait and target_state is not None:
                    state = _wait(dev, target_state, timeout)
                    if state is not target_state and operation == "off" and force:
                        dev.power.request("force-off")
                        state = _wait(dev, target_state, timeout)
                        result = "forced" if state is target_state else "failed"
                    elif state is not target_state:
                        result, stuck = "failed", state
                after = dev.power.status()
            except DcopsError as exc:
                return _unverified(auditor, intent, action, host, before, "unverified",
                                   f"the BMC accepted the request; reading the state back failed: {exc}")
            if stuck is not None:
                message = (f"{host.name}: power {operation}: still {stuck.value} after {timeout:g}s"
                           + ("" if operation != "off" else " (graceful; use --force to force off)"))
                auditor.finish(intent, action, host.name, result="failed", before=before.value,
                               after=after.value, details=message)
                raise ApplyError(message)
            auditor.finish(intent, action, host.name, result=result, before=before.value, after=after.value)
            return {"host": host.name, "before": before.value, "after": after.value, "result": result, "error": None}

    try:
        outcomes = run_on_hosts(targets, act, f"power {operation}", frontend())
    finally:
        auditor.close()
    report = Report(kind=f"power.{operation}", columns=[Column("host", "HOST"), Column("before", "BEFORE"),
                                                         Column("after", "AFTER"), Column("result", "RESULT")])
    for o in outcomes:
        # An unreachable host keeps the item's shape: same keys, unknown values, the error.
        report.items.append(o.value if o.value else {"host": o.host.name, "before": None, "after": None,
                                                     "result": "failed", "error": str(o.error)})
        if o.value and o.value["result"] in ("unverified", "unknown"):
            report.note(ExitCode.INCOMPLETE, f"error: {o.host.name}: power {operation}: {o.value['error']}; "
                        "check with `dcops power status` before retrying (a retry may act twice)")
    note_errors(report, outcomes, f"power {operation}")
    report.summary = {"hosts": len(targets), "failed": sum(1 for o in outcomes if o.error),
                      "unverified": sum(1 for o in outcomes if o.value and o.value["result"] in ("unverified", "unknown"))}
    emit(report)


def _unverified(auditor: Auditor, intent: int, action: str, host: Host, before: PowerState, result: str,
                message: str) -> dict[str, Any]:
    """Record and report an action that was (or may have been) carried out but not confirmed."""
    auditor.finish(intent, action, host.name, result=result, before=before.value, details=message)
    return {"host": host.name, "before": before.value, "after": "unknown", "result": result, "error": message}


def _wait(dev: Any, target: PowerState, timeout: float) -> PowerState:
    until = time.monotonic() + timeout
    state: PowerState = dev.power.status()
    while state is not target and time.monotonic() < until:
        time.sleep(min(2.0, max(0.05, until - time.monotonic())))
        state = dev.power.status()
    return state


def _change_command(operation: str, doc: str) -> click.Command:
    @click.argument("hosts", nargs=-1)
    @click.option("--yes", "-y", is_flag=True, help="Do not ask.")
    @click.option("--force", is_flag=True, help="off: force off when the graceful shutdown times out.")
    @click.option("--timeout", type=float, default=300.0, show_default=True,
                  help="Seconds to wait for the new state.")
    @click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the state is reached.")
    @global_options
    @honours_limit
    def command(hosts: tuple[str, ...], yes: bool, force: bool, timeout: float, wait: bool) -> None:
        _change(operation, hosts, yes=yes, force=force, timeout=timeout, wait=wait)

    command.__doc__ = doc
    return power.command(operation)(command)


_change_command("on", "Power HOSTS on.")
_change_command("off", "Shut HOSTS down gracefully; with --force, force them off after --timeout.")
_change_command("cycle", "Power-cycle HOSTS (hard: off then on).")
_change_command("reset", "Reset HOSTS (hard restart).")


# --------------------------------------------------------------------------- waves


def _plan(action: str, policy_path: str | None) -> tuple[Any, Any, list[Host]]:
    from dcops.power.plan import plan_waves
    from dcops.power.policy import load_policy

    policy = load_policy(policy_path)
    hosts = select_hosts(())
    return policy, plan_waves(hosts, policy, action), hosts


def _plan_report(plan: Any, kind: str) -> Report:
    report = Report(kind=kind, columns=[Column("wave", "WAVE"), Column("stage", "ROLE"),
                                        Column("count", "HOSTS"), Column("racks", "PER RACK"),
                                        Column("hosts", "NAMES")])
    for wave in plan.waves:
        report.items.append({"wave": wave.index, "stage": wave.stage, "count": len(wave.hosts),
                             "racks": max((n for _, n in wave.racks), default=0),
                             "hosts": list(wave.hosts) if structured_output()
                             else ", ".join(wave.hosts[:6]) + (" ..." if len(wave.hosts) > 6 else "")})
    report.summary = {"action": plan.action, "target": plan.target, "waves": len(plan.waves),
                      "hosts": len(plan.hosts), "pause_seconds": plan.pause_seconds}
    return report


ACTION = click.Choice(["open", "close"])


@power.command("plan")
@click.argument("action", type=ACTION)
@click.option("--policy", "policy_path", metavar="PATH", help="Power policy file (default: the shipped example).")
@global_options
@honours_limit
def plan_command(action: str, policy_path: str | None) -> None:
    """Show the waves that `power apply ACTION` would run for the hosts chosen by --limit."""
    _, plan, _ = _plan(action, policy_path)
    emit(_plan_report(plan, "power.plan"))


@power.command("apply")
@click.argument("action", type=ACTION)
@click.option("--policy", "policy_path", metavar="PATH", help="Power policy file (default: the shipped example).")
@click.option("--dry-run", is_flag=True, help="Print the waves and stop.")
@click.option("--force", is_flag=True, help="close: force off hosts whose graceful shutdown times out.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@global_options
@honours_limit
def apply_command(action: str, policy_path: str | None, dry_run: bool, force: bool, yes: bool) -> None:
    """Power the hosts chosen by --limit on (open) or off (close) in waves, verify, report stragglers."""
    from dcops.bmc.select import open_bmc
    from dcops.power.execute import execute, verify

    policy, plan, hosts = _plan(action, policy_path)
    if dry_run:
        emit(_plan_report(plan, "power.plan"))
    by_name = {h.name: h for h in hosts}
    confirm(f"dcops will power {plan.target} {len(plan.hosts)} host(s) in {len(plan.waves)} wave(s), "
            f"at most {policy.global_limit} at once and {policy.per_rack} per rack, "
            f"{policy.pause_seconds:g}s apart" + (" (forcing off after the graceful timeout)" if force else ""), yes, frontend())
    auditor = Auditor(frontend().state_url)
    intents: dict[str, int] = {}

    def on_start(result: Any) -> None:
        intents[result.host] = auditor.start(f"power.apply.{action}", result.host, before=result.before)

    def on_host(result: Any) -> None:
        intent = intents.get(result.host)
        if intent is None:  # nothing was asked of the BMC (already there, or failed before the request)
            auditor.record(f"power.apply.{action}", result.host, result=result.result, before=result.before,
                           after=result.after, details=result.message)
        else:
            auditor.finish(intent, f"power.apply.{action}", result.host, result=result.result, before=result.before,
                           after=result.after, details=result.message)
        advance(1, 1 if result.result in ("failed", "straggler", "unverified", "unknown") else 0)

    try:
        with progress(len(plan.hosts), f"power {action}") as advance:
            outcome = execute(plan, policy, lambda name: open_bmc(by_name[name]), force=force, on_host=on_host,
                              on_start=on_start)
        stragglers = verify(outcome, lambda name: open_bmc(by_name[name]), parallel=settings().parallel)
    finally:
        auditor.close()
    report = Report(kind="power.apply", columns=[Column("host", "HOST"), Column("wave", "WAVE"),
                                                 Column("before", "BEFORE"), Column("after", "AFTER"),
                                                 Column("result", "RESULT"), Column("message", "MESSAGE")])
    for result in sorted(outcome.results.values(), key=lambda r: (r.wave, r.host)):
        report.items.append({"host": result.host, "wave": result.wave, "before": result.before,
                             "after": result.after, "result": result.result, "message": result.message,
                             "seconds": result.seconds})
    for result in stragglers:
        if result.result in ("unverified", "unknown"):
            report.note(ExitCode.INCOMPLETE, f"error: {result.host}: power {action}: {result.message}; check with "
                                             "`dcops power status` before retrying (a retry may act twice)")
            continue
        report.note(ExitCode.APPLY_FAILED, f"error: {result.host}: did not reach {plan.target}: "
                                           f"{result.message or result.result}")
    for host in outcome.internal_errors:
        report.note(ExitCode.INTERNAL, f"error: {host}: internal error (a bug in dcops; see the log with -v)")
    if outcome.stop_reason:
        report.note(ExitCode.APPLY_FAILED, f"error: stopped after wave {outcome.stopped_after_wave}: "
                                           f"{outcome.stop_reason}")
    counts: dict[str, int] = {}
    for r in outcome.results.values():
        counts[r.result] = counts.get(r.result, 0) + 1
    report.summary = {"action": action, "hosts": len(plan.hosts), "waves": len(plan.waves),
                      "stragglers": len(stragglers), **counts}
    emit(report)
