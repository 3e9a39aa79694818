"""What every command shares: global options, settings, rendering and progress.

Global options are attached both to the root group and to every subcommand, so they work before
or after the subcommand (``dcops -o json inventory list`` and ``dcops inventory list -o json``).
Each option only writes to the shared ``Settings`` when it was given, so a value given later on
the command line wins.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dcops.cli.selection import check_limit
from dcops.config import Settings, finish
from dcops.errors import ExitCode
from dcops.report import Report
from dcops.secrets import RedactingFilter, redact
from dcops.terminal import safe

if TYPE_CHECKING:
    from dcops.actions import Frontend

F = TypeVar("F", bound=Callable[..., Any])


def settings(ctx: click.Context | None = None) -> Settings:
    """The settings of this invocation, completed from env/config on first use."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Settings()
    obj: Settings = root.obj
    if not getattr(obj, "_finished", False):
        configure_logging(obj.verbose, obj.debug)
        finish(obj)
        obj._finished = True  # type: ignore[attr-defined]
    return obj


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Log lines carry BMC text too: escaped and cut like every other terminal output.
            sys.stderr.write(safe(self.format(record), limit=20_000, lines=True) + "\n")
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def configure_logging(verbose: int, debug: bool) -> None:
    """Log to stderr, scrubbed of every known password, at a level set by -v/--debug."""
    level = logging.DEBUG if debug or verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_dcops", False)), None)
    if handler is None:
        handler = _StderrHandler()
        handler._dcops = True  # type: ignore[attr-defined]
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("dcops: %(levelname)s: %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    # Third-party clients are chatty at DEBUG and some log request bodies: keep them at WARNING
    # unless --debug, and even then their records pass the redacting filter.
    for noisy in ("urllib3", "redfish", "pyghmi", "openstack", "keystoneauth", "asyncio", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def raw_settings(ctx: click.Context) -> Settings:
    """The settings as given so far (not completed from env/config): for option callbacks."""
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Settings()
    return root.obj  # type: ignore[no-any-return]


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value == () or value is False or (name == "verbose" and value == 0):
            return
        obj = raw_settings(ctx)
        if name in ("inventory", "limit"):
            getattr(obj, name).extend(value)
        elif name == "columns":
            obj.columns = [c.strip() for c in value.split(",") if c.strip()]
        elif name == "verbose":
            obj.verbose += value
        else:
            setattr(obj, name, value)

    return callback


def _after_parse(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if isinstance(ctx.command, click.Group) or ctx.resilient_parsing:
        return
    raw_settings(ctx).command = " ".join(ctx.command_path.split()[1:]) or ctx.command_path
    check_limit(ctx, param, value)


def kind_of(command: str) -> str:
    """The JSON ``kind`` of a command path: ``power status`` -> ``power.status``."""
    return ".".join(command.split())


def global_options(func: F) -> F:
    """Attach the global options to a command or group."""
    options = [
        click.option("-i", "--inventory", multiple=True, metavar="PATH", expose_value=False,
                     callback=_store("inventory"), is_eager=True,
                     help="Inventory file or directory (repeatable). Default: $DCOPS_INVENTORY, config, ./inventories/site.yaml."),
        click.option("--config", metavar="PATH", expose_value=False, callback=_store("config"), is_eager=True,
                     help="Config file. Default: $DCOPS_CONFIG or ~/.config/dcops/config.yaml."),
        click.option("--state", metavar="URL", expose_value=False, callback=_store("state"),
                     help="State store: sqlite:///PATH or postgresql://... Default: $DCOPS_STATE or ~/.local/state/dcops/dcops.db."),
        click.option("-o", "--output", type=click.Choice(["table", "wide", "json", "yaml", "csv"]),
                     expose_value=False, callback=_store("output"),
                     help="Result format on stdout: table (fits the terminal), wide (every field, uncut), "
                          "json or yaml (the documented contract, docs/output.md), csv."),
        click.option("--columns", metavar="LIST", expose_value=False, callback=_store("columns"),
                     help="Columns to show in table, wide and csv output, comma-separated (e.g. host,power)."),
        click.option("-l", "--limit", multiple=True, metavar="SELECTOR", expose_value=False,
                     callback=_store("limit"),
                     help="Narrow to hosts matching an Ansible-style pattern: 'a,b' or 'a:b' = either, "
                          "':&x' = and x, ':!x' = but not x; terms are names, globs, ~regex or key=value "
                          "(rack=, room=, site=, az=, role=, tag=, ...). Repeat = or."),
        click.option("--parallel", type=click.IntRange(1, 10000), expose_value=False, callback=_store("parallel"),
                     help="How many hosts to work on at once."),
        click.option("-v", "--verbose", count=True, expose_value=False, callback=_store("verbose"),
                     help="More detail on stderr (repeat for more)."),
        click.option("--debug", is_flag=True, expose_value=False, callback=_store("debug"),
                     help="Debug logging and tracebacks on errors."),
        # Never given: its callback runs after every given option, so it sees the final --limit
        # and refuses it on a command that does not honour it (dcops.cli.selection).
        click.option("--after-parse", is_flag=True, hidden=True, expose_value=False, callback=_after_parse),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def structured_output() -> bool:
    """True for json and yaml: items take the documented machine shape, not a table's rows."""
    from dcops.cli.output import STRUCTURED

    return settings().output in STRUCTURED


def render(report: Report, ctx: click.Context | None = None) -> None:
    """Write a report to stdout in the chosen format (no exit)."""
    opts = settings(ctx)
    if opts.output == "json":
        click.echo(redact(json.dumps(report.to_json(), indent=2, ensure_ascii=False, sort_keys=False)))
        return
    from dcops.cli import output

    if opts.output == "yaml":
        output.render_yaml(report)
    elif opts.output == "csv":
        output.render_csv(report, opts.columns)
    else:
        output.render_table(report, wide=opts.output == "wide", columns=opts.columns)


def emit(report: Report, ctx: click.Context | None = None) -> None:
    """Write a report to stdout in the chosen format, its problems to stderr, and end with its code."""
    for problem in report.problems:
        click.echo(safe(redact(f"dcops: {problem}")), err=True)
    render(report, ctx)
    raise SystemExit(int(report.exit_code))


@contextlib.contextmanager
def progress(total: int, description: str) -> Iterator[Callable[[int, int], None]]:
    """Show hosts done / total and failures so far on stderr when it is a terminal; stay quiet
    otherwise. Yields ``advance(done=1, failed=0)``."""
    if not sys.stderr.isatty() or total < 2:
        def quiet(done: int = 1, failed: int = 0) -> None:
            return None

        yield quiet
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    failures = 0
    # On stderr: stdout carries results only, and a bar there would vanish (or pollute the file)
    # when stdout is redirected.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
                  console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(description, total=total, failed=0)

        def advance(done: int = 1, failed: int = 0) -> None:
            nonlocal failures
            failures += failed
            bar.update(task, advance=done, failed=failures)

        yield advance


def frontend() -> Frontend:
    """This command's ``--parallel``, progress bar, state store and terminal, lent to the actions
    it runs (``dcops.actions.Frontend``)."""
    from dcops.actions import Frontend

    opts = settings()

    def ask(question: str) -> None:
        click.confirm(question, abort=True, err=True)

    return Frontend(parallel=opts.parallel, progress=progress, state_url=opts.state or "",
                    say=lambda line: click.echo(line, err=True), ask=ask)


def exit_with(code: ExitCode) -> None:
    raise SystemExit(int(code))


def open_state() -> Any:
    """Open (and migrate) the state store named by the settings."""
    from dcops.store import open_store

    return open_store(settings().state or "")
