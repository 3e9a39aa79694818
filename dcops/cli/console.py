"""``dcops console HOST``: the serial console through the console gateway (recorded, audited);
``dcops console replay ID``, ``dcops console list``, ``dcops console prune``."""

from __future__ import annotations

import sys
from typing import Any

import click

from dcops.cli.common import emit, global_options, open_state, settings
from dcops.cli.selection import honours_limit, refuses_limit, select_hosts
from dcops.errors import DcopsError, InvalidInputError, UsageError
from dcops.report import Column, Report
from dcops.secrets import redact


class HostOrVerb(click.Group):
    """``dcops console HOST`` attaches; ``dcops console replay|list|prune ...`` are verbs (a host
    named like a verb is reached with ``dcops console attach NAME``)."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                          list[str]]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            return "attach", self.commands["attach"], args
        return super().resolve_command(ctx, args)


@click.group(cls=HostOrVerb)
@global_options
def console() -> None:
    """Serial consoles: attach to HOST (IPMI SOL or the BMC's SSH; leave with ~.), every session recorded and audited."""


def _gateway(store: Any) -> Any:
    from dcops.console.gateway import ConsoleGateway, retention_from
    from dcops.console.serial import serial_opener, settings_from

    cfg = settings()
    section = cfg.section("console")
    return ConsoleGateway(store, retention_days=retention_from(section),
                          opener=serial_opener(store, settings_from(section, cfg.config or "config")))


@console.command("attach")
@click.argument("host")
@global_options
@refuses_limit("it attaches to one HOST: name it")
def attach(host: str) -> None:
    """Attach to HOST's serial console (also: dcops console HOST)."""
    import asyncio
    import getpass

    from dcops.console.terminal import attach as attach_terminal

    targets = select_hosts((host,))
    if len(targets) != 1:
        raise UsageError(f"console needs exactly one host; {host!r} matches {len(targets)}")
    target = targets[0]
    store = open_state()
    gateway = _gateway(store)

    async def run() -> int:
        session = await gateway.open(target, user=getpass.getuser(), via="terminal", web=False)
        result = "ok"
        try:
            result = await attach_terminal(session)
        except DcopsError as exc:  # the console broke: the audit says how
            result = redact(str(exc))[:200]
            raise
        finally:
            status = getattr(session.stream, "exit_status", None) or 0
            if status:
                result = f"exit {status}"
            elif result == "console ended":
                result = "ok"
            record = await session.close(result)
            if record is not None:
                click.echo(f"dcops: console session {record.id} recorded "
                           f"({record.duration_s:.0f} s); replay: dcops console replay {record.id[:12]}", err=True)
        return int(status)

    try:
        status = asyncio.run(run())
    finally:
        store.close()
    raise SystemExit(status)


def _find(store: Any, ident: str) -> Any:
    from dcops.console import store as sessions

    found = sessions.find(store, ident)
    if not found:
        raise InvalidInputError(f"no console session {ident!r} (see `dcops console list`; past retention?)")
    if len(found) > 1:
        raise UsageError(f"{ident!r} names {len(found)} sessions; give more of the id")
    return found[0]


@console.command("replay")
@click.argument("ident", metavar="ID")
@click.option("--speed", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="Play at this multiple of real time; 0 prints everything at once.")
@click.option("--input", "show_input", is_flag=True, help="Print the typed lines instead of the output.")
@global_options
@refuses_limit("it replays one session: give its ID")
def replay(ident: str, speed: float, show_input: bool) -> None:
    """Replay a recorded console session: its output bytes as the console printed them."""
    import time

    from dcops.console import cast

    store = open_state()
    try:
        record = _find(store, ident)
    finally:
        store.close()
    if record.cast is None:
        raise UsageError(f"session {record.id} has not ended (or was interrupted before its recording was stored)")
    recording = cast.loads(record.cast, f"console session {record.id}")
    out = sys.stdout.buffer
    if show_input:
        for line in cast.input_lines(recording):
            out.write(line.rstrip("\r\n").encode("utf-8", "surrogateescape") + b"\n")
        out.flush()
        return
    if speed <= 0:
        out.write(cast.output_bytes(recording))
        out.flush()
        return
    begin = time.monotonic()
    for at, kind, text in recording.events:
        if kind != "o":
            continue
        delay = at / speed - (time.monotonic() - begin)
        if delay > 0:
            time.sleep(delay)  # playback at the recorded pace is the point here
        out.write(text.encode("utf-8", "surrogateescape"))
        out.flush()


@console.command("list")
@click.option("--host", help="Only sessions on this host.")
@click.option("--rows", type=click.IntRange(1, 100000), default=50, show_default=True)
@global_options
@honours_limit
def list_sessions(host: str | None, rows: int) -> None:
    """Recorded console sessions, newest first."""
    from dcops.cli.selection import record_matcher
    from dcops.console import store as sessions

    keep = record_matcher()
    store = open_state()
    try:
        found = [r for r in sessions.recent(store, host=host, limit=rows) if keep(r.host, None)]
    finally:
        store.close()
    items = [{"id": r.id, "host": r.host, "user": r.user, "via": r.via, "transport": r.transport,
              "started_at": r.started_at, "duration_s": r.duration_s, "bytes_out": r.bytes_out,
              "bytes_in": r.bytes_in, "result": r.result, "sha256": r.sha256} for r in found]
    emit(Report(kind="console.list", items=items,
                columns=[Column("id", "ID"), Column("started_at", "WHEN"), Column("host", "HOST"),
                         Column("user", "WHO"), Column("via", "VIA"), Column("duration_s", "SECONDS"),
                         Column("result", "RESULT")],
                summary={"sessions": len(items)}))


@console.command("prune")
@global_options
@refuses_limit("retention applies to every host")
def prune() -> None:
    """Delete recordings past retention (config console.retention_days; also done after each session)."""
    store = open_state()
    try:
        removed = _gateway(store).prune()
    finally:
        store.close()
    click.echo(f"dcops: {removed} console recording(s) past retention deleted", err=True)


@console.command("forget-key")
@click.argument("host")
@global_options
@refuses_limit("it forgets one HOST's key: name it")
def forget_key(host: str) -> None:
    """Forget HOST's recorded BMC SSH host key (after checking the BMC was replaced or re-keyed);
    the next SSH serial console records the key it is offered."""
    from dcops.console import store as sessions
    from dcops.store import audit

    store = open_state()
    try:
        removed = sessions.forget_key(store, host)
        if removed:
            audit.record(store, "console.forget_key", host=host, result="ok",
                         details="the BMC's recorded SSH host key was removed")
    finally:
        store.close()
    if removed:
        click.echo(f"dcops: {host}: the recorded SSH host key is forgotten; the next console records the new one",
                   err=True)
    else:
        click.echo(f"dcops: {host}: no SSH host key was recorded; nothing changed", err=True)
