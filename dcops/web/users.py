"""The web UI's local users in the state store (table ``web_users``, migration m0020): name,
role and scrypt hash. The password never reaches the store, a log or the audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert, select, update

from dcops.web.auth import Role, hash_password

metadata = MetaData()
web_users = Table(
    "web_users", metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(400), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def valid_name(name: str) -> str:
    """The name, stripped; ValueError when empty, too long or not printable."""
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable() or any(c.isspace() for c in name):
        raise ValueError(f"user name {name!r}: 1-100 printable characters, no spaces")
    return name


def set_user(store: Any, name: str, role: Role, password: str) -> bool:
    """Create the user or replace their role and password; True when created."""
    name = valid_name(name)
    now = dt.datetime.now(dt.UTC)
    digest = hash_password(password)
    with store.begin() as conn:
        exists = conn.execute(select(web_users.c.name).where(web_users.c.name == name)).first() is not None
        if exists:
            conn.execute(update(web_users).where(web_users.c.name == name)
                         .values(role=str(role), password_hash=digest, updated_at=now))
        else:
            conn.execute(insert(web_users).values(name=name, role=str(role), password_hash=digest,
                                                  created_at=now, updated_at=now))
    return not exists


def remove_user(store: Any, name: str) -> bool:
    with store.begin() as conn:
        return bool(conn.execute(delete(web_users).where(web_users.c.name == name)).rowcount)


def lookup(store: Any, name: str) -> tuple[str, str] | None:
    """(role, password hash) of ``name``, or None."""
    with store.connect() as conn:
        row = conn.execute(select(web_users.c.role, web_users.c.password_hash).where(web_users.c.name == name)).first()
    return (str(row.role), str(row.password_hash)) if row else None


def list_users(store: Any) -> list[dict[str, Any]]:
    with store.connect() as conn:
        rows = conn.execute(select(web_users.c.name, web_users.c.role, web_users.c.created_at,
                                   web_users.c.updated_at).order_by(web_users.c.name)).all()
    out = []
    for r in rows:
        item = dict(r._mapping)
        for key in ("created_at", "updated_at"):  # SQLite drops the zone; they were written in UTC
            if item[key] is not None and item[key].tzinfo is None:
                item[key] = item[key].replace(tzinfo=dt.UTC)
        out.append(item)
    return out
