"""Console sessions: who opened which host's console, when, for how long, and the recording
(asciicast v2) of what was shown and typed. The audit log names the session; the recording is
kept here, not in the append-only log, so retention can delete old recordings."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, DateTime, Float, Integer, MetaData, String, Table, Text

DESCRIPTION = "console sessions and their recordings"


def apply(conn: Connection) -> None:
    md = MetaData()
    Table(
        "console_sessions", md,
        Column("id", String(40), primary_key=True),
        Column("host", String(255), nullable=False, index=True),
        Column("user", String(200), nullable=False),
        Column("via", String(20), nullable=False),
        Column("transport", String(40), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=False, index=True),
        Column("ended_at", DateTime(timezone=True), nullable=True),
        Column("duration_s", Float, nullable=True),
        Column("bytes_out", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
        Column("bytes_in", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
        Column("audit_open", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
        Column("audit_close", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
        Column("result", String(200), nullable=True),
        Column("sha256", String(64), nullable=True),
        Column("cast", Text, nullable=True),
    )
    md.create_all(conn)
