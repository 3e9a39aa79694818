"""Writing an operator's inventory file back (inventory import, assets reconcile --write-book):
edited in place when it can be, so comments, order and layout survive (docs/inventory.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click

from dcops.models import Host


def book_text(path: Path | None, before: Sequence[Host], after: Sequence[Host],
              canonical: Callable[[], str]) -> str:
    """The new text of an operator's book: ``path`` edited in place (comments, order and layout
    kept) when it exists and the change allows it, else the canonical form (with a warning when
    that replaces an existing file)."""
    from dcops.inventory.roundtrip import rewrite_book

    if path is None or not path.exists():
        return canonical()
    edited = rewrite_book(path.read_text(encoding="utf-8"), str(path), before, after)
    if edited is not None:
        return edited
    click.echo(f"dcops: warning: {path}: the change cannot be made in place (a host moves between racks, "
               "or an inherited value must go): written in canonical form, comments not kept", err=True)
    return canonical()
