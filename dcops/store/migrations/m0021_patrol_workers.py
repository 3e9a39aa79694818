"""Patrol workers sharing one PostgreSQL store (issue 21, dcops/workers/).

* ``patrol_workers``: one lease row per ``dcops serve --worker NAME`` (registered, renewed every
  third of an interval, expiring; the sites it reaches; how many hosts it owned in which epoch);
* ``patrol_hosts.worker``, ``patrol_rounds.worker`` and ``patrol_rounds.epoch``: who read a host
  last and which worker ran a round for which epoch (``dcops alerts``/the report show it, the
  exporter exports only its own shard, the tests count reads per epoch);
* on PostgreSQL, a unique index on the key of *open* incidents: two workers can never both have
  an incident open for the same problem, whatever happens to the round lock.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

DESCRIPTION = "patrol worker leases; who patrolled a host and ran a round"


def apply(conn: Connection) -> None:
    pg = conn.dialect.name == "postgresql"
    stamp = "TIMESTAMP WITH TIME ZONE" if pg else "DATETIME"
    json = "JSON"
    conn.execute(text(f"""
        CREATE TABLE patrol_workers (
            name VARCHAR(100) PRIMARY KEY,
            sites {json},
            process VARCHAR(200) NOT NULL,
            interval_seconds FLOAT NOT NULL,
            registered_at {stamp} NOT NULL,
            heartbeat_at {stamp} NOT NULL,
            expires_at {stamp} NOT NULL,
            epoch BIGINT,
            hosts INTEGER NOT NULL DEFAULT 0,
            units INTEGER NOT NULL DEFAULT 0
        )"""))
    conn.execute(text("ALTER TABLE patrol_hosts ADD COLUMN worker VARCHAR(100)"))
    conn.execute(text("ALTER TABLE patrol_rounds ADD COLUMN worker VARCHAR(100)"))
    conn.execute(text("ALTER TABLE patrol_rounds ADD COLUMN epoch BIGINT"))
    if pg:
        conn.execute(text("CREATE UNIQUE INDEX patrol_incidents_open_key ON patrol_incidents (key) "
                          "WHERE status = 'open'"))
