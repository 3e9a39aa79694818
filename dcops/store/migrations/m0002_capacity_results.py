"""Stored capacity check results."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
)

DESCRIPTION = "capacity results"


def apply(conn: Connection) -> None:
    md = MetaData()
    Table(
        "capacity_results",
        md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("checked_at", DateTime(timezone=True), nullable=False, index=True),
        Column("policy_met", Boolean, nullable=False),
        Column("require", String(100), nullable=False),
        Column("source", String(200), nullable=True),
        Column("result", JSON, nullable=False),
    )
    md.create_all(conn)
