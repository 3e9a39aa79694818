"""Which hosts a command works on: host arguments and ``-l/--limit`` patterns (Ansible's grammar,
docs/inventory.md#selecting-hosts), shared by every command that concerns hosts.

A command declares that it honours ``--limit`` with ``@honours_limit``; every other command
refuses it (exit 2) instead of silently working on more hosts than the operator asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from dcops.errors import UsageError
from dcops.models import Host

F = TypeVar("F", bound=Callable[..., Any])

_HONOURS = "__dcops_honours_limit__"
_REFUSES = "__dcops_refuses_limit__"


def honours_limit(func: F) -> F:
    """Mark a command as one that narrows its hosts by ``--limit``."""
    setattr(func, _HONOURS, True)
    return func


def refuses_limit(reason: str) -> Callable[[F], F]:
    """Mark a command that refuses ``--limit``, with what to use instead (every unmarked command
    refuses it too, with a generic reason)."""

    def mark(func: F) -> F:
        setattr(func, _REFUSES, reason)
        return func

    return mark


def check_limit(ctx: click.Context, _param: click.Parameter, _value: Any) -> None:
    """Refuse ``--limit`` on a command that does not honour it (run once all options are parsed)."""
    if isinstance(ctx.command, click.Group) or ctx.resilient_parsing:
        return
    from dcops.cli.common import raw_settings

    limit = raw_settings(ctx).limit
    if limit and not getattr(ctx.command.callback, _HONOURS, False):
        reason = getattr(ctx.command.callback, _REFUSES, "it does not work on a set of hosts from the inventory")
        raise click.UsageError(f"-l/--limit does not apply to `{ctx.command_path}`: {reason}", ctx)


def limit_selector() -> Any:
    """The parsed ``--limit`` patterns (a falsy Selector when none were given). ``@FILE`` reads
    host names or patterns from FILE, one a line (Ansible's ``--limit @site.retry``).

    Raises UsageError for a malformed pattern or an unreadable file."""
    from dcops.cli.common import settings
    from dcops.inventory import parse_selectors

    return parse_selectors([_expand(text) for text in settings().limit])


def _expand(text: str) -> str:
    if not text.startswith("@"):
        return text
    path = text[1:]
    try:
        with open(path, encoding="utf-8") as stream:
            lines = [line.strip() for line in stream if line.strip() and not line.lstrip().startswith("#")]
    except OSError as exc:
        raise UsageError(f"--limit @{path}: cannot read: {exc.strerror or exc}") from exc
    if not lines:
        raise UsageError(f"--limit @{path}: the file names no host")
    return ",".join(lines)


def _warn(line: str) -> None:
    click.echo(f"dcops: warning: {line}", err=True)


def warn_unmatched(selector: Any, book: Sequence[Host]) -> None:
    """One stderr line per plain host name of ``selector`` that names no host of ``book``."""
    from dcops.inventory.select import unmatched_warnings

    for line in unmatched_warnings(selector, book):
        _warn(line)


def limit_hosts(hosts: Sequence[Host], book: Sequence[Host] | None = None) -> list[Host]:
    """``hosts`` narrowed by ``--limit`` (all of them when none was given), in their order.
    Plain names in the patterns that are not in ``book`` (default: ``hosts``) are warned about."""
    from dcops.inventory.select import narrow

    return narrow(hosts, limit_selector(), hosts if book is None else book, _warn)


def select_hosts(names: Sequence[str]) -> list[Host]:
    """Hosts named on the command line, narrowed by ``--limit`` (``inventory.select.choose_hosts``
    does the choosing; this reads the options and the book)."""
    from dcops.cli.common import settings
    from dcops.inventory import hostindex, load_inventory
    from dcops.inventory.select import choose_hosts

    opts = settings()
    if not names and not opts.limit:
        raise UsageError("name the hosts (or use --limit rack=A01, role=db, ...)")
    plain = [n for n in names if not any(ch in n for ch in "*?[=,:!&~") and n.lower() != "all"]
    if names and len(plain) == len(names) and not opts.limit and opts.inventory:
        # Hosts named one by one: from the index of the book when no file changed since it
        # loaded cleanly (cost independent of the book's size; dcops/inventory/hostindex.py).
        found = hostindex.indexed_hosts(opts.inventory, list(dict.fromkeys(names)))
        if found:
            return found
    inv = load_inventory(opts.inventory)
    if opts.inventory:
        hostindex.remember(opts.inventory, inv)
    return choose_hosts(inv.hosts, names, limit_selector, get=inv.get, warn=_warn)


def record_matcher() -> Callable[[str | None, Mapping[str, Any] | None], bool]:
    """A test for stored records (incidents, audit entries) by host name and location, honouring
    ``--limit``: a host still in the book is judged by all it is there; a host no longer in it,
    or a rack-level record, by its name and the location the record carries."""
    from dcops.cli.common import settings

    selector = limit_selector()
    if not selector:
        def everything(_host: str | None, _location: Mapping[str, Any] | None = None) -> bool:
            return True

        return everything
    book: dict[str, Host] = {}
    if settings().inventory:
        from dcops.inventory import load_inventory

        book = {h.name: h for h in load_inventory(settings().inventory).hosts}

    def matches(host: str | None, location: Mapping[str, Any] | None = None) -> bool:
        if host and host in book:
            return bool(selector.matches(book[host]))
        facts: dict[str, tuple[str, ...]] = {"name": (host,)} if host else {}
        for key in ("site", "room", "rack"):
            if location and location.get(key):
                facts[key] = (str(location[key]),)
        return bool(selector.matches_facts(facts)) if facts else False

    return matches
