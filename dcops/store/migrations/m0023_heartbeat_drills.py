"""Heartbeats (the latest state per host and network) and drill runs (issue 23)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
)

DESCRIPTION = "heartbeat state and drill runs"


def apply(conn: Connection) -> None:
    md = MetaData()
    Table(
        "heartbeat_state", md,
        Column("host", String(255), primary_key=True),
        Column("network", String(100), primary_key=True),
        Column("address", String(255), nullable=False),
        Column("port", Integer, nullable=False),
        Column("grp", String(300), nullable=False),
        Column("az", String(100), nullable=True),
        Column("ok", Boolean, nullable=False),
        Column("error", String(200), nullable=True),
        Column("seconds", Float, nullable=False),
        Column("checked_at", DateTime(timezone=True), nullable=False),
        Column("since", DateTime(timezone=True), nullable=False),  # when ok last changed
    )
    Table(
        "drill_runs", md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("scenario", String(200), nullable=False, index=True),
        Column("mode", String(20), nullable=False),  # sim | live
        Column("started_at", DateTime(timezone=True), nullable=False, index=True),
        Column("finished_at", DateTime(timezone=True), nullable=False),
        Column("passed", Boolean, nullable=False),
        Column("score", Float, nullable=False),
        Column("result", JSON, nullable=False),
    )
    md.create_all(conn)
