"""``dcops web user add|list|remove``: the web UI's local users (``dcops serve`` serves the UI
under /ui/; docs/web.md). Passwords are read from a prompt, stdin or a file, never an argument
(argv is visible to every user of the machine), and stored only as scrypt hashes."""

from __future__ import annotations

import sys

import click

from dcops.cli.common import emit, global_options, open_state
from dcops.errors import UsageError
from dcops.report import Column, Report


@click.group()
@global_options
def web() -> None:
    """The web UI served by `dcops serve` at /ui/."""


@web.group()
@global_options
def user() -> None:
    """Local users of the web UI (viewer, operator, admin)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), default="viewer", show_default=True,
              help="viewer: read; operator: also ack, silence, resolve; admin: everything.")
@click.option("--password-file", type=click.Path(dir_okay=False), metavar="FILE|-",
              help="Read the password from FILE (first line) or stdin (-) instead of a prompt.")
@global_options
def add(name: str, role: str, password_file: str | None) -> None:
    """Create a user, or set an existing one's role and password."""
    from dcops.store import audit
    from dcops.web.auth import Role
    from dcops.web.users import set_user

    if password_file == "-":
        password = sys.stdin.readline().rstrip("\n")
    elif password_file:
        try:
            with open(password_file, encoding="utf-8") as stream:
                password = stream.readline().rstrip("\n")
        except OSError as exc:
            raise UsageError(f"--password-file {password_file}: cannot read: {exc.strerror or exc}") from None
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise UsageError("the password must have at least 8 characters")
    store = open_state()
    try:
        created = set_user(store, name, Role.parse(role), password)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    audit.record(store, "web.user.add" if created else "web.user.update", details=f"{name}: role {role}")
    emit(Report("web.user.add", items=[{"name": name, "role": role, "created": created}],
                columns=[Column("name", "NAME"), Column("role", "ROLE"), Column("created", "CREATED")]))


@user.command("list")
@global_options
def list_() -> None:
    """The users and their roles (never their hashes)."""
    from dcops.web.users import list_users

    rows = list_users(open_state())
    emit(Report("web.user.list", items=[{"name": r["name"], "role": r["role"], "created": r["created_at"]}
                                        for r in rows],
                columns=[Column("name", "NAME"), Column("role", "ROLE"), Column("created", "CREATED")]))


@user.command("remove")
@click.argument("name")
@global_options
def remove(name: str) -> None:
    """Delete a user (their open sessions end when they next load a page)."""
    from dcops.store import audit
    from dcops.web.users import remove_user

    store = open_state()
    if not remove_user(store, name):
        raise UsageError(f"no web user {name!r} (see `dcops web user list`)")
    audit.record(store, "web.user.remove", details=name)
    emit(Report("web.user.remove", summary={"removed": name}))
