"""``dcops console HOST``: the serial console over IPMI serial-over-LAN, recorded in the audit log."""

from __future__ import annotations

import click

from dcops.actions import Auditor
from dcops.cli.common import frontend, global_options
from dcops.cli.selection import refuses_limit, select_hosts
from dcops.errors import UsageError


@click.command()
@click.argument("host")
@global_options
@refuses_limit("it attaches to one HOST: name it")
def console(host: str) -> None:
    """Attach to HOST's serial console (IPMI SOL; leave with ~. ). Opening and closing are audited."""
    from dcops.bmc.select import open_bmc

    targets = select_hosts((host,))
    if len(targets) != 1:
        raise UsageError(f"console needs exactly one host; {host!r} matches {len(targets)}")
    target = targets[0]
    auditor = Auditor(frontend().state_url)
    auditor.record("console.open", target.name, details="ipmi sol")
    status = 1
    try:
        with open_bmc(target) as dev:
            status = dev.console.attach()
    finally:
        auditor.record("console.close", target.name, result="ok" if status == 0 else f"exit {status}")
        auditor.close()
    raise SystemExit(status)
