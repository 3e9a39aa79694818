"""Running the dcops CLI in-process in tests: ``run(capsys, *argv)`` and the tree of commands."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from dcops.cli.main import cli, main

REPO = Path(__file__).resolve().parents[2]
SITE = str(REPO / "inventories" / "site.yaml")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``dcops ARGV``."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def leaf_commands() -> list[tuple[str, click.Command]]:
    """Every command that does something (not a group), with its path: ``("power status", cmd)``."""
    found: list[tuple[str, click.Command]] = []

    def walk(group: click.Group, prefix: str, ctx: click.Context) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            path = f"{prefix} {name}".strip()
            if isinstance(command, click.Group):
                walk(command, path, click.Context(command, parent=ctx, info_name=name))
            else:
                found.append((path, command))

    walk(cli, "", click.Context(cli))
    return found
