"""``dcops vmedia status|insert|eject``: virtual media (Redfish only)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from dcops.actions import Auditor, confirm, note_errors, run_on_hosts
from dcops.cli.common import emit, frontend, global_options
from dcops.cli.selection import honours_limit, select_hosts
from dcops.models import Host
from dcops.report import Column, Report

COLUMNS = [Column("host", "HOST"), Column("slot", "SLOT"), Column("inserted", "INSERTED"), Column("image", "IMAGE")]


@click.group()
@global_options
def vmedia() -> None:
    """Virtual media: boot images the BMC fetches over HTTP(S)."""


def _run(kind: str, hosts: tuple[str, ...], action: Any, what: str) -> None:
    targets = select_hosts(hosts)
    outcomes = run_on_hosts(targets, action, what, frontend())
    report = Report(kind=kind, columns=COLUMNS)
    for o in outcomes:
        for slot in o.value or []:
            report.items.append({"host": o.host.name, "slot": slot.id, "inserted": slot.inserted,
                                 "image": slot.image, "media_types": list(slot.media_types), "error": None})
        if o.error is not None:
            # An unreachable host still has its item: same keys, unknown values, the error.
            report.items.append({"host": o.host.name, "slot": None, "inserted": None, "image": None,
                                 "media_types": [], "error": str(o.error)})
    note_errors(report, outcomes, what)
    report.summary = {"hosts": len(targets), "failed": sum(1 for o in outcomes if o.error)}
    emit(report)


@vmedia.command("status")
@click.argument("hosts", nargs=-1)
@global_options
@honours_limit
def status(hosts: tuple[str, ...]) -> None:
    """Show the virtual media slots of HOSTS."""
    from dcops.bmc.select import open_bmc

    def read(host: Host) -> Any:
        with open_bmc(host) as dev:
            return dev.vmedia.slots()

    _run("vmedia.status", hosts, read, "vmedia status")


@vmedia.command("insert")
@click.argument("hosts", nargs=-1)
@click.option("--image", required=True, metavar="URL", help="Image URL the BMC can fetch (http/https).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@global_options
@honours_limit
def insert(hosts: tuple[str, ...], image: str, yes: bool) -> None:
    """Insert IMAGE into the CD slot of HOSTS."""
    from dcops.bmc.select import open_bmc

    confirm(f"dcops will insert {image} into the virtual CD of {', '.join(hosts) or 'the selected hosts'}", yes, frontend())
    auditor = Auditor(frontend().state_url)

    def act(host: Host) -> Any:
        with open_bmc(host) as dev:
            with auditor.intent("vmedia.insert", host.name, details=image) as done:
                slot = dev.vmedia.insert(image)
                done(after=asdict(slot))
            return [slot]

    try:
        _run("vmedia.insert", hosts, act, "vmedia insert")
    finally:
        auditor.close()


@vmedia.command("eject")
@click.argument("hosts", nargs=-1)
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@global_options
@honours_limit
def eject(hosts: tuple[str, ...], yes: bool) -> None:
    """Eject every inserted image on HOSTS."""
    from dcops.bmc.select import open_bmc

    confirm(f"dcops will eject virtual media on {', '.join(hosts) or 'the selected hosts'}", yes, frontend())
    auditor = Auditor(frontend().state_url)

    def act(host: Host) -> Any:
        with open_bmc(host) as dev:
            with auditor.intent("vmedia.eject", host.name) as done:
                ejected = dev.vmedia.eject()
                done(after=[asdict(s) for s in ejected], note="ejected")
            return dev.vmedia.slots()

    try:
        _run("vmedia.eject", hosts, act, "vmedia eject")
    finally:
        auditor.close()
