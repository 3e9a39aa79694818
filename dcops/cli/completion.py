"""``dcops completion bash|zsh|fish``: print the shell completion script."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash: eval "$(dcops completion bash)"      (in ~/.bashrc)
    zsh:  eval "$(dcops completion zsh)"       (in ~/.zshrc)
    fish: dcops completion fish > ~/.config/fish/completions/dcops.fish
    """
    from dcops.cli.main import cli

    cls = get_completion_class(shell)
    assert cls is not None  # click ships all three
    click.echo(cls(cli, {}, "dcops", "_DCOPS_COMPLETE").source())
