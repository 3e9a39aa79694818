"""Schema migrations, one module each, applied in name order, each exactly once.

A migration is a module ``mNNNN_<name>.py`` in this package with ``DESCRIPTION`` (a string) and
``apply(conn)`` (run inside a transaction). Its id is the module name. Each capability owns its
migration modules, so two capabilities never edit the same file; the number orders them and
need not be contiguous.

Never edit a migration that has shipped: add a new one. A migration defines the tables it creates
locally, so replaying history stays stable while each capability's store module describes the
current shape for its queries.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

_NAME = re.compile(r"^m\d{4}_[a-z0-9_]+$")


@dataclass(frozen=True)
class Migration:
    id: str
    description: str
    apply: Callable[[Connection], None]


def discover() -> tuple[Migration, ...]:
    """Every migration module of this package, in name order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not _NAME.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Migration(info.name, module.DESCRIPTION, module.apply))
    return tuple(sorted(found, key=lambda m: m.id))


MIGRATIONS: tuple[Migration, ...] = discover()
