"""``dcops boot HOST --once cd|pxe|hdd|bios``: a one-time boot override."""

from __future__ import annotations

from typing import Any

import click

from dcops.actions import Auditor, confirm, note_errors, run_on_hosts
from dcops.cli.common import emit, frontend, global_options
from dcops.cli.selection import honours_limit, select_hosts
from dcops.errors import DcopsError
from dcops.models import Host
from dcops.report import Column, Report


@click.command()
@click.argument("hosts", nargs=-1)
@click.option("--once", "target", required=True, type=click.Choice(["cd", "pxe", "hdd", "bios", "usb"]),
              help="Boot from this device on the next boot only.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@global_options
@honours_limit
def boot(hosts: tuple[str, ...], target: str, yes: bool) -> None:
    """Set a one-time boot override on HOSTS (takes effect at the next power on or reset)."""
    from dcops.bmc.select import open_bmc

    targets = select_hosts(hosts)
    confirm(f"dcops will make {len(targets)} host(s) boot from {target} once: "
            + ", ".join(h.name for h in targets[:10]) + (" ..." if len(targets) > 10 else ""), yes, frontend())
    auditor = Auditor(frontend().state_url)

    def act(host: Host) -> dict[str, Any]:
        with open_bmc(host) as dev:
            before = dev.boot.get()
            with auditor.intent("boot.once", host.name, before=list(before), details=target) as done:
                dev.boot.set_once(target)
                try:
                    after = dev.boot.get()
                except DcopsError as exc:
                    # The override was accepted: the next boot may use it even though we cannot see it.
                    done("unverified", note=f"{target}: accepted; reading it back failed: {exc}")
                    raise
                done(after=list(after))
            return {"host": host.name, "before": before[0], "after": after[0], "enabled": after[1], "error": None}

    try:
        outcomes = run_on_hosts(targets, act, f"boot {target}", frontend())
    finally:
        auditor.close()
    report = Report(kind="boot", columns=[Column("host", "HOST"), Column("before", "BEFORE"),
                                               Column("after", "AFTER"), Column("enabled", "ENABLED")])
    # An unreachable host keeps the item's shape: same keys, unknown values, the error.
    report.items = [o.value or {"host": o.host.name, "before": None, "after": None, "enabled": None,
                                "error": str(o.error)} for o in outcomes]
    note_errors(report, outcomes, "boot")
    report.summary = {"hosts": len(targets), "failed": sum(1 for o in outcomes if o.error)}
    emit(report)
