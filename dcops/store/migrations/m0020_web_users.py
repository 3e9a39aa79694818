"""The web UI's local users (issue 20): a name, a role and a password hash (scrypt; never the
password). ``dcops web user add`` writes them; ``dcops serve`` reads them at login."""

from __future__ import annotations

from sqlalchemy import Column, Connection, DateTime, MetaData, String, Table

DESCRIPTION = "web_users"


def apply(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "web_users", metadata,
        Column("name", String(100), primary_key=True),
        Column("role", String(20), nullable=False),
        Column("password_hash", String(400), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    metadata.create_all(conn)
