"""Silences that start later (issue 20: "silence tonight 22:00-02:00" from the web UI or
``dcops alerts silence --start``): ``starts`` NULL means from its creation, as before."""

from __future__ import annotations

from sqlalchemy import Connection, text

DESCRIPTION = "patrol_silences.starts"


def apply(conn: Connection) -> None:
    stamp = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    conn.execute(text(f"ALTER TABLE patrol_silences ADD COLUMN starts {stamp}"))
