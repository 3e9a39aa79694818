"""The ``dcops`` command: root group, lazy subcommand loading, and the one place where errors
become exit codes and one-line messages."""

from __future__ import annotations

import importlib
import json
import re
import sys
import traceback
from typing import Any

import click

from dcops import __version__
from dcops.cli.common import global_options
from dcops.config import Settings
from dcops.errors import DcopsError, ExitCode, InvalidInputError
from dcops.secrets import redact
from dcops.terminal import safe

# noun -> "module:attribute". Groups load on first use: importing the BMC and cloud clients
# costs seconds, and `dcops inventory list` should not pay for them.
COMMANDS: dict[str, str] = {
    "inventory": "dcops.cli.inventory:inventory",
    "audit": "dcops.cli.audit:audit",
    "state": "dcops.cli.state:state",
    "completion": "dcops.cli.completion:completion",
    "sim": "dcops.cli.sim:sim",
    "capacity": "dcops.cli.capacity:capacity",
    "bmc": "dcops.cli.bmc:bmc",
    "power": "dcops.cli.power:power",
    "boot": "dcops.cli.boot:boot",
    "vmedia": "dcops.cli.vmedia:vmedia",
    "console": "dcops.cli.console:console",
    "patrol": "dcops.cli.patrol:patrol",
    "alerts": "dcops.cli.alerts:alerts",
    "serve": "dcops.cli.serve:serve",
    "web": "dcops.cli.web:web",
    "demo": "dcops.cli.demo:demo",
    "drill": "dcops.cli.drill:drill",
    "assets": "dcops.cli.assets:assets",
    "baseline": "dcops.cli.baseline:baseline",
    "provision": "dcops.cli.provision:provision",
    "help": "dcops.cli.help:help_command",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", prog_name="dcops", message="%(prog)s %(version)s")
@global_options
def cli() -> None:
    """dcops: infrastructure as code for data-center hardware.

    Out-of-band provisioning against baselines, minute-level hardware patrol, asset
    reconciliation and OpenStack failure-domain capacity, over Redfish and IPMI.
    Results go to stdout (--output table|json); one-line errors go to stderr.
    Exit codes: see `dcops help exit-codes` or docs/exit-codes.md.
    """


def _suggest_command(exc: click.UsageError) -> click.UsageError:
    """``No such command 'invetory'.`` gets ``Did you mean 'inventory'?``: click suggests only
    among commands already loaded, and the root group loads its commands lazily."""
    import difflib

    found = re.match(r"No such command '(.+)'\.$", exc.message)
    if not found or exc.ctx is None or not isinstance(exc.ctx.command, click.Group) \
            or getattr(exc, "possibilities", None):  # click >= 8.4 suggests from loaded commands itself
        return exc
    names = exc.ctx.command.list_commands(exc.ctx)
    close = difflib.get_close_matches(found.group(1), names, n=3, cutoff=0.6)
    if not close:
        return exc
    return click.UsageError(f"{exc.message} Did you mean " + " or ".join(repr(c) for c in close) + "?", exc.ctx)


def _print_error(message: str, problems: list[str] | None = None) -> None:
    click.echo(safe(redact(f"dcops: error: {message}")), err=True)
    if problems is not None:
        problems.append(f"error: {message}")


def _print_envelope(obj: Settings, code: int, problems: list[str]) -> None:
    """A command that failed before printing its result still prints its JSON envelope (no items,
    the problems, the exit code) when JSON was asked for: CI parses stdout either way."""
    if obj.output not in ("json", "yaml") or not obj.command or not problems:
        return
    from dcops.cli.common import kind_of
    from dcops.report import Report

    report = Report(kind=kind_of(obj.command), problems=problems, exit_code=ExitCode(code))
    if obj.output == "yaml":
        import yaml

        click.echo(redact(yaml.safe_dump(report.to_json(), sort_keys=False)), nl=False)
    else:
        click.echo(redact(json.dumps(report.to_json(), indent=2, ensure_ascii=False)))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    obj = Settings()
    problems: list[str] = []
    try:
        result: Any = cli.main(args=args, prog_name="dcops", standalone_mode=False, obj=obj)
        code = int(result) if isinstance(result, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.UsageError as exc:
        _suggest_command(exc).show()
        problems.append(f"error: {exc.format_message()}")
        code = ExitCode.USAGE
    except click.ClickException as exc:
        _print_error(exc.format_message(), problems)
        code = ExitCode.USAGE
    except (click.Abort, KeyboardInterrupt):
        _print_error("interrupted", problems)
        code = ExitCode.INTERRUPTED
    except InvalidInputError as exc:
        if exc.problems:
            for problem in exc.problems:
                _print_error(str(problem), problems)
        else:
            _print_error(str(exc), problems)
        code = exc.exit_code
    except DcopsError as exc:
        _print_error(str(exc), problems)
        if debug:
            click.echo(redact(traceback.format_exc()), err=True)
        code = exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the one broad catch: a bug must still end cleanly
        _print_error(f"internal error: {type(exc).__name__}: {exc}"
                     + ("" if debug else " (run with --debug for the traceback)"), problems)
        if debug:
            click.echo(redact(traceback.format_exc()), err=True)
        code = ExitCode.INTERNAL
    _print_envelope(obj, int(code), problems)
    sys.stdout.flush()
    return int(code)


def run() -> None:
    sys.exit(main())
