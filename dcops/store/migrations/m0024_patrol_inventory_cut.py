"""``patrol_rounds.inventory_cut`` (issue 19): hosts due for the inventory whose inventory visit
was cut short by the round's time (read as a minute visit instead, the inventory retried next
round). Kept with the round so the report and the exporter can say how often it happens; NULL for
rounds recorded before this column."""

from __future__ import annotations

from sqlalchemy import Connection, text

DESCRIPTION = "patrol rounds: inventory visits cut short"


def apply(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE patrol_rounds ADD COLUMN inventory_cut INTEGER"))
