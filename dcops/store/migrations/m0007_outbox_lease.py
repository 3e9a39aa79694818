"""Outbox claims: a deliverer leases a row before sending it.

Before, a row was read, sent, then marked; two deliverers (a second patrol round starting while a
hung receiver held the first, ``assets warranty --remind`` beside ``dcops serve``, two workers)
read the same due rows and both sent them: 94 posts for 32 notifications in the drill. Now a row
is claimed in one atomic UPDATE (``claimed_by``, ``claimed_until``) and sent only by the claimant;
a claim whose deliverer died expires and the row is taken again.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

DESCRIPTION = "outbox claims with a lease"


def apply(conn: Connection) -> None:
    stamp = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    conn.execute(text("ALTER TABLE patrol_outbox ADD COLUMN claimed_by VARCHAR(100)"))
    conn.execute(text(f"ALTER TABLE patrol_outbox ADD COLUMN claimed_until {stamp}"))
