"""The audit log records whom an action was done for (``$DCOPS_ACTOR``) beside the OS user who
did it (``actor``), instead of letting the variable replace the user."""

from __future__ import annotations

from sqlalchemy import Connection, text

DESCRIPTION = "audit_log.on_behalf_of"


def apply(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE audit_log ADD COLUMN on_behalf_of VARCHAR(200)"))
