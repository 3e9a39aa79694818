"""``dcops help [exit-codes | COMMAND...]``: the exit-code table, or a command's help."""

from __future__ import annotations

import click

from dcops.cli.selection import refuses_limit
from dcops.errors import EXIT_CODE_MEANINGS

TOPICS = {"exit-codes": "what each exit code means (docs/exit-codes.md)"}


@click.command("help", context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1)
@click.pass_context
@refuses_limit("it explains commands")
def help_command(ctx: click.Context, words: tuple[str, ...]) -> None:
    """Explain a topic (exit-codes) or show a command's help: `dcops help power status`."""
    if not words:
        click.echo("Topics:\n" + "\n".join(f"  {name:12} {what}" for name, what in TOPICS.items()))
        click.echo("Commands: dcops help COMMAND [SUBCOMMAND] (the same as COMMAND --help)")
        return
    if words == ("exit-codes",):
        click.echo("code  meaning")
        for code, meaning in EXIT_CODE_MEANINGS.items():
            click.echo(f"{int(code):>4}  {meaning}")
        click.echo("When several apply, the most severe wins (70 > 5 > 4 > 3 > 1); JSON output still lists "
                   "every item.")
        return
    root = ctx.find_root()
    command: click.Command = root.command
    path = [root.info_name or "dcops"]
    parent = root
    for word in words:
        if not isinstance(command, click.Group):
            raise click.UsageError(f"'{' '.join(path)}' has no subcommand '{word}'", ctx)
        found = command.get_command(parent, word)
        if found is None:
            raise click.UsageError(f"no command or topic '{' '.join(words)}' (topics: {', '.join(TOPICS)})", ctx)
        parent = click.Context(found, info_name=word, parent=parent)
        command, path = found, [*path, word]
    click.echo(command.get_help(parent))
