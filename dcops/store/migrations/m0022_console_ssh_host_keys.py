"""SSH host keys of BMCs whose serial console dcops reached over SSH, recorded on first use
(trust on first use): a later connection offering another key is refused, never re-recorded."""

from __future__ import annotations

from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, String, Table, Text

DESCRIPTION = "BMC SSH host keys pinned on first use (serial console over SSH)"


def apply(conn: Connection) -> None:
    md = MetaData()
    Table(
        "console_ssh_host_keys", md,
        Column("host", String(255), primary_key=True),
        Column("address", String(255), nullable=False),
        Column("port", Integer, nullable=False),
        Column("key", Text, nullable=False),
        Column("fingerprint", String(100), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
    )
    md.create_all(conn)
